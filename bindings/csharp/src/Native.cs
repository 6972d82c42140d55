// The checking layer between NativeMethods and the public API: one method per native
// function (or small group), converting arguments (Utf8), calling, and turning a non-OK
// status into an exception in exactly one place (Check), which reads the thread-local
// av_last_error_* right after the failing call, on the same thread, before anything else
// can call into the library. Secrets passed in are wiped from the managed byte[] copies
// afterwards; strings the library allocated are always released with av_string_free.

using System;
using System.Collections.Generic;

namespace Alfaview.Auth
{
    internal static class Native
    {
        /// <summary>
        /// Throws the exception for <paramref name="status"/> unless it is AV_OK. Must be
        /// called immediately after the native call that returned it, on the same thread.
        /// </summary>
        internal static void Check(int status)
        {
            if (status != 0)
            {
                throw LastError(status);
            }
        }

        private static AlfaviewException LastError(int status)
        {
            // All four fields first: they are thread-local and describe the last failure.
            string message = Utf8.Decode(NativeMethods.av_last_error_message());
            string apiStatus = Utf8.Decode(NativeMethods.av_last_error_api_status());
            string requestId = Utf8.Decode(NativeMethods.av_last_error_request_id());
            int httpStatus = NativeMethods.av_last_error_http_status();
            if (string.IsNullOrEmpty(message))
            {
                message = StatusName(status);
            }
            switch ((AlfaviewStatus)status)
            {
                case AlfaviewStatus.InvalidArgument: return new InvalidArgumentException(message, apiStatus, requestId, httpStatus);
                case AlfaviewStatus.Network: return new NetworkException(message, apiStatus, requestId, httpStatus);
                case AlfaviewStatus.Timeout: return new AlfaviewTimeoutException(message, apiStatus, requestId, httpStatus);
                case AlfaviewStatus.Tls: return new TlsException(message, apiStatus, requestId, httpStatus);
                case AlfaviewStatus.Authentication: return new AuthenticationException(message, apiStatus, requestId, httpStatus);
                case AlfaviewStatus.TokenExpired: return new TokenExpiredException(message, apiStatus, requestId, httpStatus);
                case AlfaviewStatus.Api: return new ApiException(message, apiStatus, requestId, httpStatus);
                case AlfaviewStatus.Http: return new HttpStatusException(message, apiStatus, requestId, httpStatus);
                case AlfaviewStatus.Protocol: return new ProtocolException(message, apiStatus, requestId, httpStatus);
                case AlfaviewStatus.NotFound: return new NotFoundException(message, apiStatus, requestId, httpStatus);
                case AlfaviewStatus.Storage: return new StorageException(message, apiStatus, requestId, httpStatus);
                case AlfaviewStatus.Internal: return new InternalException(message, apiStatus, requestId, httpStatus);
                default: return new AlfaviewException((AlfaviewStatus)status, message, apiStatus, requestId, httpStatus);
            }
        }

        // ---- errors, version -------------------------------------------------------------

        internal static string StatusName(int status)
        {
            return Utf8.Decode(NativeMethods.av_status_name(status)); // static
        }

        internal static string Version()
        {
            return Utf8.Decode(NativeMethods.av_version()); // static
        }

        // ---- one-shot refresh ------------------------------------------------------------

        internal static AccessToken Refresh(string companyId, string refreshToken)
        {
            byte[] company = Utf8.EncodeRequired(companyId, "companyId");
            byte[] secret = Utf8.EncodeRequired(refreshToken, "refreshToken");
            IntPtr token = IntPtr.Zero;
            try
            {
                long expiresAt;
                Check(NativeMethods.av_refresh(company, secret, out token, out expiresAt));
                return new AccessToken(Utf8.Decode(token), expiresAt);
            }
            finally
            {
                NativeMethods.av_string_free(token);
                Utf8.Wipe(secret);
            }
        }

        // ---- client ----------------------------------------------------------------------

        internal static ClientHandle BuildClient(AlfaviewClientOptions options)
        {
            using (ClientBuilderHandle b = NativeMethods.av_client_builder_new())
            {
                if (b.IsInvalid)
                {
                    throw new OutOfMemoryException("av_client_builder_new returned NULL");
                }
                if (options.BaseUrl != null)
                {
                    Check(NativeMethods.av_client_builder_set_base_url(b, Utf8.Encode(options.BaseUrl, "BaseUrl")));
                }
                if (options.Timeout.HasValue)
                {
                    Check(NativeMethods.av_client_builder_set_timeout_ms(b, TimeoutMs(options.Timeout.Value)));
                }
                if (options.CaFile != null)
                {
                    Check(NativeMethods.av_client_builder_set_ca_file(b, Utf8.Encode(options.CaFile, "CaFile")));
                }
                if (options.UserAgent != null)
                {
                    Check(NativeMethods.av_client_builder_set_user_agent(b, Utf8.Encode(options.UserAgent, "UserAgent")));
                }
                if (options.MaxRetries.HasValue)
                {
                    if (options.MaxRetries.Value < 0)
                    {
                        throw new ArgumentOutOfRangeException("MaxRetries", options.MaxRetries.Value, "must not be negative");
                    }
                    Check(NativeMethods.av_client_builder_set_max_retries(b, (uint)options.MaxRetries.Value));
                }
                if (options.MaxReplyBytes.HasValue)
                {
                    long bytes = options.MaxReplyBytes.Value;
                    if (bytes < 0 || (UIntPtr.Size == 4 && bytes > uint.MaxValue))
                    {
                        throw new ArgumentOutOfRangeException("MaxReplyBytes", bytes,
                            "must be between 1 and " + (UIntPtr.Size == 4 ? uint.MaxValue.ToString() : long.MaxValue.ToString()));
                    }
                    // Zero is passed on for the library to reject ("at least 1").
                    Check(NativeMethods.av_client_builder_set_max_reply_bytes(b, new UIntPtr((ulong)bytes)));
                }
                ClientHandle client;
                Check(NativeMethods.av_client_build(b, out client));
                return client;
            }
        }

        private static uint TimeoutMs(TimeSpan timeout)
        {
            // Whole milliseconds, rounded up so that 0.5 ms does not become 0; zero itself
            // is passed on for the library to reject ("at least 1").
            double ms = Math.Ceiling(timeout.TotalMilliseconds);
            if (ms < 0 || ms > uint.MaxValue)
            {
                throw new ArgumentOutOfRangeException("Timeout", timeout,
                    "must be between 1 ms and " + uint.MaxValue + " ms");
            }
            return (uint)ms;
        }

        // ---- signing in, tokens ----------------------------------------------------------

        internal static Tokens LoginPassword(ClientHandle c, string username, string password, string companyId)
        {
            byte[] user = Utf8.EncodeRequired(username, "username");
            byte[] secret = Utf8.EncodeRequired(password, "password");
            byte[] company = Utf8.Encode(companyId, "companyId");
            try
            {
                TokensHandle t;
                Check(NativeMethods.av_login_password(c, user, secret, company, out t));
                return ReadTokens(t);
            }
            finally
            {
                Utf8.Wipe(secret);
            }
        }

        internal static Tokens LoginApiKey(ClientHandle c, string clientId, string apiKeySecret, string companyId)
        {
            byte[] id = Utf8.EncodeRequired(clientId, "clientId");
            byte[] secret = Utf8.EncodeRequired(apiKeySecret, "apiKeySecret");
            byte[] company = Utf8.EncodeRequired(companyId, "companyId");
            try
            {
                TokensHandle t;
                Check(NativeMethods.av_login_api_key(c, id, secret, company, out t));
                return ReadTokens(t);
            }
            finally
            {
                Utf8.Wipe(secret);
            }
        }

        internal static Tokens ClientRefresh(ClientHandle c, string companyId, string refreshToken)
        {
            byte[] company = Utf8.EncodeRequired(companyId, "companyId");
            byte[] secret = Utf8.EncodeRequired(refreshToken, "refreshToken");
            try
            {
                TokensHandle t;
                Check(NativeMethods.av_client_refresh(c, company, secret, out t));
                return ReadTokens(t);
            }
            finally
            {
                Utf8.Wipe(secret);
            }
        }

        /// <summary>Copies everything out of <paramref name="t"/> and frees it.</summary>
        private static Tokens ReadTokens(TokensHandle t)
        {
            using (t)
            {
                ulong count = NativeMethods.av_tokens_accessible_company_count(t).ToUInt64();
                var companies = new List<string>(checked((int)count));
                for (ulong i = 0; i < count; i++)
                {
                    string id = Utf8.Decode(NativeMethods.av_tokens_accessible_company_id(t, new UIntPtr(i)));
                    if (id != null)
                    {
                        companies.Add(id);
                    }
                }
                return new Tokens(
                    Utf8.Decode(NativeMethods.av_tokens_access_token(t)),
                    NativeMethods.av_tokens_expires_at(t),
                    Utf8.Decode(NativeMethods.av_tokens_refresh_token(t)),
                    NativeMethods.av_tokens_refresh_expires_at(t),
                    Utf8.Decode(NativeMethods.av_tokens_company_id(t)),
                    Utf8.Decode(NativeMethods.av_tokens_user_id(t)),
                    companies);
            }
        }

        // ---- calls -----------------------------------------------------------------------

        internal static string ClientCall(ClientHandle c, string accessToken, string serviceMethod, string jsonBody)
        {
            byte[] token = Utf8.EncodeRequired(accessToken, "accessToken");
            byte[] method = Utf8.EncodeRequired(serviceMethod, "serviceMethod");
            byte[] body = Utf8.Encode(jsonBody, "jsonBody");
            IntPtr reply = IntPtr.Zero;
            try
            {
                Check(NativeMethods.av_client_call(c, token, method, body, out reply));
                return Utf8.Decode(reply);
            }
            finally
            {
                NativeMethods.av_string_free(reply);
                Utf8.Wipe(token);
            }
        }

        // ---- sessions --------------------------------------------------------------------

        /// <summary>A new session on <paramref name="c"/>, or on the default client if null.</summary>
        internal static SessionHandle NewSession(ClientHandle c, string companyId, string refreshToken)
        {
            byte[] company = Utf8.EncodeRequired(companyId, "companyId");
            byte[] secret = Utf8.EncodeRequired(refreshToken, "refreshToken");
            try
            {
                SessionHandle s;
                if (c == null)
                {
                    Check(NativeMethods.av_session_new_on_default_client(IntPtr.Zero, company, secret, out s));
                }
                else
                {
                    Check(NativeMethods.av_session_new(c, company, secret, out s));
                }
                return s;
            }
            finally
            {
                Utf8.Wipe(secret);
            }
        }

        internal static AccessToken SessionAccessToken(SessionHandle s)
        {
            IntPtr token = IntPtr.Zero;
            try
            {
                long expiresAt;
                Check(NativeMethods.av_session_access_token(s, out token, out expiresAt));
                return new AccessToken(Utf8.Decode(token), expiresAt);
            }
            finally
            {
                NativeMethods.av_string_free(token);
            }
        }

        internal static string SessionRefreshToken(SessionHandle s)
        {
            IntPtr token = IntPtr.Zero;
            try
            {
                Check(NativeMethods.av_session_refresh_token(s, out token));
                return Utf8.Decode(token);
            }
            finally
            {
                NativeMethods.av_string_free(token);
            }
        }

        internal static void SessionSetRefreshMargin(SessionHandle s, TimeSpan margin)
        {
            double seconds = Math.Ceiling(margin.TotalSeconds);
            if (seconds < 0 || seconds > uint.MaxValue)
            {
                throw new ArgumentOutOfRangeException("margin", margin, "must be between 0 and " + uint.MaxValue + " s");
            }
            Check(NativeMethods.av_session_set_refresh_margin_s(s, (uint)seconds));
        }

        /// <summary>
        /// Registers <paramref name="cb"/> as the session's rotation callback. The handle
        /// keeps the delegate alive until the native session is freed.
        /// </summary>
        internal static void SessionOnRefreshToken(SessionHandle s, NativeMethods.RefreshTokenCallback cb)
        {
            s.KeepAlive(cb);
            Check(NativeMethods.av_session_on_refresh_token(s, cb, IntPtr.Zero));
        }

        internal static string SessionCall(SessionHandle s, string serviceMethod, string jsonBody)
        {
            byte[] method = Utf8.EncodeRequired(serviceMethod, "serviceMethod");
            byte[] body = Utf8.Encode(jsonBody, "jsonBody");
            IntPtr reply = IntPtr.Zero;
            try
            {
                Check(NativeMethods.av_session_call(s, method, body, out reply));
                return Utf8.Decode(reply);
            }
            finally
            {
                NativeMethods.av_string_free(reply);
            }
        }

        // ---- the token store -------------------------------------------------------------

        internal static void StoreSave(string appId, string companyId, string refreshToken)
        {
            byte[] app = Utf8.EncodeRequired(appId, "appId");
            byte[] company = Utf8.EncodeRequired(companyId, "companyId");
            byte[] secret = Utf8.EncodeRequired(refreshToken, "refreshToken");
            try
            {
                Check(NativeMethods.av_store_save(app, company, secret));
            }
            finally
            {
                Utf8.Wipe(secret);
            }
        }

        internal static StoredPair StoreLoad(string appId)
        {
            byte[] app = Utf8.EncodeRequired(appId, "appId");
            IntPtr company = IntPtr.Zero;
            IntPtr token = IntPtr.Zero;
            try
            {
                Check(NativeMethods.av_store_load(app, out company, out token));
                return new StoredPair(Utf8.Decode(company), Utf8.Decode(token));
            }
            finally
            {
                NativeMethods.av_string_free(company);
                NativeMethods.av_string_free(token); // wipes it
            }
        }

        /// <summary>The company id stored for <paramref name="appId"/>; the token is never copied into managed memory.</summary>
        internal static string StoreLoadCompanyId(string appId)
        {
            byte[] app = Utf8.EncodeRequired(appId, "appId");
            IntPtr company = IntPtr.Zero;
            IntPtr token = IntPtr.Zero;
            try
            {
                Check(NativeMethods.av_store_load(app, out company, out token));
                return Utf8.Decode(company);
            }
            finally
            {
                NativeMethods.av_string_free(company);
                NativeMethods.av_string_free(token);
            }
        }

        internal static void StoreDelete(string appId)
        {
            Check(NativeMethods.av_store_delete(Utf8.EncodeRequired(appId, "appId")));
        }

        /// <summary>A session on the pair stored for <paramref name="appId"/>, on <paramref name="c"/> or the default client if null.</summary>
        internal static SessionHandle NewSessionFromStore(ClientHandle c, string appId)
        {
            byte[] app = Utf8.EncodeRequired(appId, "appId");
            SessionHandle s;
            if (c == null)
            {
                Check(NativeMethods.av_session_new_from_store_on_default_client(IntPtr.Zero, app, out s));
            }
            else
            {
                Check(NativeMethods.av_session_new_from_store(c, app, out s));
            }
            return s;
        }

        /// <summary>
        /// A session on the application's store behind <paramref name="bridge"/>, on
        /// <paramref name="c"/> or the default client if null. The library loads the pair
        /// during this call (through the bridge, on this thread); the returned handle keeps
        /// the bridge and its delegates alive until the native session is freed.
        /// </summary>
        internal static SessionHandle NewSessionWithStore(ClientHandle c, PairStoreBridge bridge)
        {
            NativeMethods.StoreCallbacks cbs = bridge.Callbacks(); // copied by the library
            SessionHandle s = null;
            try
            {
                if (c == null)
                {
                    Check(NativeMethods.av_session_new_with_store_on_default_client(IntPtr.Zero, ref cbs, IntPtr.Zero, out s));
                }
                else
                {
                    Check(NativeMethods.av_session_new_with_store(c, ref cbs, IntPtr.Zero, out s));
                }
                s.KeepStoreAlive(bridge);
                return s;
            }
            catch
            {
                if (s != null)
                {
                    s.Dispose();
                }
                throw;
            }
            finally
            {
                GC.KeepAlive(bridge); // until here no handle references it yet
            }
        }

        // ---- logging ---------------------------------------------------------------------

        /// <summary><paramref name="cb"/> must stay referenced while installed (AlfaviewLog keeps it in a static field).</summary>
        internal static void SetLogCallback(NativeMethods.LogCallback cb, int maxLevel)
        {
            NativeMethods.av_set_log_callback(cb, IntPtr.Zero, maxLevel);
        }
    }
}
