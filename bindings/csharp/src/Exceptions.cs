// The library's failures as exceptions. Every exception thrown for a non-OK av_status is
// an AlfaviewException (or a subclass chosen by the status) carrying the status, the
// library's message and the server's details of the failed request; Native.Check is the
// one place that builds them.

using System;

namespace Alfaview.Auth
{
    /// <summary>The av_status values (the numbers are the C ABI's).</summary>
    public enum AlfaviewStatus
    {
        /// <summary>AV_OK: success (never carried by an exception).</summary>
        Ok = 0,
        /// <summary>AV_ERR_INVALID_ARGUMENT: an argument the library rejected, or http:// to a non-loopback host.</summary>
        InvalidArgument = 1,
        /// <summary>AV_ERR_NETWORK: DNS, connect, reset, I/O.</summary>
        Network = 2,
        /// <summary>AV_ERR_TIMEOUT: connect or whole-request timeout.</summary>
        Timeout = 3,
        /// <summary>AV_ERR_TLS: certificate or handshake failure.</summary>
        Tls = 4,
        /// <summary>AV_ERR_AUTHENTICATION: credentials or refresh token rejected.</summary>
        Authentication = 5,
        /// <summary>AV_ERR_TOKEN_EXPIRED: the server said TOKEN_OUTDATED.</summary>
        TokenExpired = 6,
        /// <summary>AV_ERR_API: any other error the server reported.</summary>
        Api = 7,
        /// <summary>AV_ERR_HTTP: an unexpected HTTP status without an API error body.</summary>
        Http = 8,
        /// <summary>AV_ERR_PROTOCOL: a reply that is not JSON, lacks a field, or is too large.</summary>
        Protocol = 9,
        /// <summary>AV_ERR_NOT_FOUND: the token store has no entry.</summary>
        NotFound = 10,
        /// <summary>AV_ERR_STORAGE: the token store failed.</summary>
        Storage = 11,
        /// <summary>AV_ERR_INTERNAL: a bug in the library.</summary>
        Internal = 12,
    }

    /// <summary>
    /// A call into alfaview-auth failed. Catch this to handle every library failure; catch a
    /// subclass to handle one kind.
    /// </summary>
    public class AlfaviewException : Exception
    {
        /// <summary>Creates an exception with the details of a failed call.</summary>
        public AlfaviewException(AlfaviewStatus status, string message, string apiStatus = null,
                                 string requestId = null, int? httpStatus = null)
            : base(message)
        {
            Status = status;
            ApiStatus = string.IsNullOrEmpty(apiStatus) ? null : apiStatus;
            RequestId = string.IsNullOrEmpty(requestId) ? null : requestId;
            HttpStatus = httpStatus.HasValue && httpStatus.Value != 0 ? httpStatus : null;
        }

        /// <summary>What kind of failure (the av_status).</summary>
        public AlfaviewStatus Status { get; }

        /// <summary>The C name of <see cref="Status"/>, e.g. "AV_ERR_TIMEOUT".</summary>
        public string StatusName
        {
            get { return Native.StatusName((int)Status); }
        }

        /// <summary>The server's statusCode name (e.g. "TOKEN_OUTDATED"); null if the server reported none.</summary>
        public string ApiStatus { get; }

        /// <summary>The requestId of the failed request (quote it to support); null if no request was made.</summary>
        public string RequestId { get; }

        /// <summary>The HTTP status of the failed request; null if there was no reply.</summary>
        public int? HttpStatus { get; }
    }

    /// <summary>
    /// AV_ERR_INVALID_ARGUMENT: the library rejected an argument (empty, control characters,
    /// malformed, out of range), or an http:// base URL to a non-loopback host. The message
    /// names the argument. (Problems the binding detects itself before calling — null for a
    /// required argument, an embedded NUL — are ordinary ArgumentExceptions instead.)
    /// </summary>
    public class InvalidArgumentException : AlfaviewException
    {
        /// <summary>Creates the exception.</summary>
        public InvalidArgumentException(string message, string apiStatus = null, string requestId = null, int? httpStatus = null)
            : base(AlfaviewStatus.InvalidArgument, message, apiStatus, requestId, httpStatus) { }
    }

    /// <summary>AV_ERR_NETWORK: DNS, connect, connection reset, I/O.</summary>
    public class NetworkException : AlfaviewException
    {
        /// <summary>Creates the exception.</summary>
        public NetworkException(string message, string apiStatus = null, string requestId = null, int? httpStatus = null)
            : base(AlfaviewStatus.Network, message, apiStatus, requestId, httpStatus) { }
    }

    /// <summary>
    /// AV_ERR_TIMEOUT: connecting or the whole request took longer than the client's
    /// timeout. (Named so as not to clash with System.TimeoutException.)
    /// </summary>
    public class AlfaviewTimeoutException : AlfaviewException
    {
        /// <summary>Creates the exception.</summary>
        public AlfaviewTimeoutException(string message, string apiStatus = null, string requestId = null, int? httpStatus = null)
            : base(AlfaviewStatus.Timeout, message, apiStatus, requestId, httpStatus) { }
    }

    /// <summary>AV_ERR_TLS: certificate or TLS handshake failure.</summary>
    public class TlsException : AlfaviewException
    {
        /// <summary>Creates the exception.</summary>
        public TlsException(string message, string apiStatus = null, string requestId = null, int? httpStatus = null)
            : base(AlfaviewStatus.Tls, message, apiStatus, requestId, httpStatus) { }
    }

    /// <summary>
    /// AV_ERR_AUTHENTICATION: the credentials or the refresh token were rejected
    /// (AUTHENTICATION_ERROR, ACCOUNT_STATUS_ERROR, 401/403 from authenticate). Sign in again.
    /// </summary>
    public class AuthenticationException : AlfaviewException
    {
        /// <summary>Creates the exception.</summary>
        public AuthenticationException(string message, string apiStatus = null, string requestId = null, int? httpStatus = null)
            : base(AlfaviewStatus.Authentication, message, apiStatus, requestId, httpStatus) { }
    }

    /// <summary>AV_ERR_TOKEN_EXPIRED: the server said the access token has expired (TOKEN_OUTDATED).</summary>
    public class TokenExpiredException : AlfaviewException
    {
        /// <summary>Creates the exception.</summary>
        public TokenExpiredException(string message, string apiStatus = null, string requestId = null, int? httpStatus = null)
            : base(AlfaviewStatus.TokenExpired, message, apiStatus, requestId, httpStatus) { }
    }

    /// <summary>AV_ERR_API: any other error the server reported; <see cref="AlfaviewException.ApiStatus"/> names it.</summary>
    public class ApiException : AlfaviewException
    {
        /// <summary>Creates the exception.</summary>
        public ApiException(string message, string apiStatus = null, string requestId = null, int? httpStatus = null)
            : base(AlfaviewStatus.Api, message, apiStatus, requestId, httpStatus) { }
    }

    /// <summary>AV_ERR_HTTP: an unexpected HTTP status (or a redirect) without an API error body.</summary>
    public class HttpStatusException : AlfaviewException
    {
        /// <summary>Creates the exception.</summary>
        public HttpStatusException(string message, string apiStatus = null, string requestId = null, int? httpStatus = null)
            : base(AlfaviewStatus.Http, message, apiStatus, requestId, httpStatus) { }
    }

    /// <summary>AV_ERR_PROTOCOL: a reply that is not JSON, lacks a required field, or is over the size limit.</summary>
    public class ProtocolException : AlfaviewException
    {
        /// <summary>Creates the exception.</summary>
        public ProtocolException(string message, string apiStatus = null, string requestId = null, int? httpStatus = null)
            : base(AlfaviewStatus.Protocol, message, apiStatus, requestId, httpStatus) { }
    }

    /// <summary>AV_ERR_NOT_FOUND: the token store has no entry.</summary>
    public class NotFoundException : AlfaviewException
    {
        /// <summary>Creates the exception.</summary>
        public NotFoundException(string message, string apiStatus = null, string requestId = null, int? httpStatus = null)
            : base(AlfaviewStatus.NotFound, message, apiStatus, requestId, httpStatus) { }
    }

    /// <summary>AV_ERR_STORAGE: the token store failed.</summary>
    public class StorageException : AlfaviewException
    {
        /// <summary>Creates the exception.</summary>
        public StorageException(string message, string apiStatus = null, string requestId = null, int? httpStatus = null)
            : base(AlfaviewStatus.Storage, message, apiStatus, requestId, httpStatus) { }
    }

    /// <summary>AV_ERR_INTERNAL: a bug in the library (please report it with the message).</summary>
    public class InternalException : AlfaviewException
    {
        /// <summary>Creates the exception.</summary>
        public InternalException(string message, string apiStatus = null, string requestId = null, int? httpStatus = null)
            : base(AlfaviewStatus.Internal, message, apiStatus, requestId, httpStatus) { }
    }
}
