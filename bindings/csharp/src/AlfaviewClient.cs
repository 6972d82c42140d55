using System;
using System.Threading.Tasks;

namespace Alfaview.Auth
{
    /// <summary>
    /// Settings for an <see cref="AlfaviewClient"/>. Anything left null keeps the library's
    /// default, which comes from the environment (ALFAVIEW_API_URL, ALFAVIEW_TIMEOUT_MS,
    /// ALFAVIEW_CA_FILE) or else the built-in value.
    /// </summary>
    public sealed class AlfaviewClientOptions
    {
        /// <summary>The API's base URL: https://, or http:// to a loopback host only. Default https://apis.alfaview.com/json/v1/.</summary>
        public string BaseUrl { get; set; }

        /// <summary>The whole-request timeout (connect, send, read), at least 1 ms. Default 30 s.</summary>
        public TimeSpan? Timeout { get; set; }

        /// <summary>A PEM file of extra root certificates to trust (read when the client is built).</summary>
        public string CaFile { get; set; }

        /// <summary>The User-Agent header. Default alfaview-auth/&lt;version&gt;.</summary>
        public string UserAgent { get; set; }

        /// <summary>
        /// How many times a transient failure is retried (default 2; 0 turns retries off): a
        /// connection that could not be made, HTTP 502, 503, 504 and 429 (after its
        /// Retry-After, up to 30 s), with exponential backoff within <see cref="Timeout"/>.
        /// Nothing else is retried.
        /// </summary>
        public int? MaxRetries { get; set; }

        /// <summary>
        /// The largest reply to an API call (<see cref="AlfaviewClient.Call"/>,
        /// <see cref="AlfaviewSession.Call"/>) accepted, in bytes (default 16 MiB; at least
        /// 1); a larger one is a <see cref="ProtocolException"/>. Sign-in and refresh replies
        /// are always limited to 1 MiB.
        /// </summary>
        public long? MaxReplyBytes { get; set; }
    }

    /// <summary>
    /// A connection to the alfaview API: signs in, refreshes and calls. Safe to use from
    /// many threads at once; keeps its connections alive between calls. Dispose it when
    /// done (sessions made from it keep working).
    /// </summary>
    public sealed class AlfaviewClient : IDisposable
    {
        private readonly ClientHandle handle;

        /// <summary>A client with the defaults (environment included).</summary>
        public AlfaviewClient() : this(new AlfaviewClientOptions()) { }

        /// <summary>A client with <paramref name="options"/>.</summary>
        /// <exception cref="InvalidArgumentException">A setting the library rejects (e.g. http:// to a remote host).</exception>
        public AlfaviewClient(AlfaviewClientOptions options)
        {
            if (options == null)
            {
                throw new ArgumentNullException("options");
            }
            handle = Native.BuildClient(options);
        }

        internal ClientHandle Handle
        {
            get
            {
                if (handle.IsClosed)
                {
                    throw new ObjectDisposedException(GetType().FullName);
                }
                return handle;
            }
        }

        /// <summary>Signs in with a username and password; <paramref name="companyId"/> null lets the server pick.</summary>
        /// <exception cref="AuthenticationException">Wrong credentials, a company the user cannot reach, a locked account.</exception>
        public Tokens LoginPassword(string username, string password, string companyId = null)
        {
            return Native.LoginPassword(Handle, username, password, companyId);
        }

        /// <summary>Signs in with an API key: its client id (alias) and secret, for <paramref name="companyId"/>.</summary>
        public Tokens LoginApiKey(string clientId, string apiKeySecret, string companyId)
        {
            return Native.LoginApiKey(Handle, clientId, apiKeySecret, companyId);
        }

        /// <summary>
        /// Exchanges a refresh token for a new access token. If the server rotates the
        /// refresh token, <see cref="Tokens.RefreshToken"/> is the new one: keep it.
        /// </summary>
        /// <exception cref="AuthenticationException">The refresh token was rejected.</exception>
        public Tokens Refresh(string companyId, string refreshToken)
        {
            return Native.ClientRefresh(Handle, companyId, refreshToken);
        }

        /// <summary>
        /// Calls <paramref name="serviceMethod"/> (e.g. "roomService/create") with
        /// <paramref name="accessToken"/>; <paramref name="jsonBody"/> is a JSON object (null: {}).
        /// Returns the reply's JSON.
        /// </summary>
        /// <exception cref="TokenExpiredException">The server said TOKEN_OUTDATED.</exception>
        /// <exception cref="ApiException">Any other error the server reported (see ApiStatus).</exception>
        public string Call(string accessToken, string serviceMethod, string jsonBody = null)
        {
            return Native.ClientCall(Handle, accessToken, serviceMethod, jsonBody);
        }

        /// <summary>A session on this client that keeps <paramref name="refreshToken"/>'s access token fresh.</summary>
        public AlfaviewSession CreateSession(string companyId, string refreshToken)
        {
            return new AlfaviewSession(this, companyId, refreshToken);
        }

        /// <summary><see cref="LoginPassword"/> on a thread-pool thread.</summary>
        public Task<Tokens> LoginPasswordAsync(string username, string password, string companyId = null)
        {
            ClientHandle h = Handle;
            return Task.Run(() => Native.LoginPassword(h, username, password, companyId));
        }

        /// <summary><see cref="LoginApiKey"/> on a thread-pool thread.</summary>
        public Task<Tokens> LoginApiKeyAsync(string clientId, string apiKeySecret, string companyId)
        {
            ClientHandle h = Handle;
            return Task.Run(() => Native.LoginApiKey(h, clientId, apiKeySecret, companyId));
        }

        /// <summary><see cref="Refresh"/> on a thread-pool thread.</summary>
        public Task<Tokens> RefreshAsync(string companyId, string refreshToken)
        {
            ClientHandle h = Handle;
            return Task.Run(() => Native.ClientRefresh(h, companyId, refreshToken));
        }

        /// <summary><see cref="Call"/> on a thread-pool thread.</summary>
        public Task<string> CallAsync(string accessToken, string serviceMethod, string jsonBody = null)
        {
            ClientHandle h = Handle;
            return Task.Run(() => Native.ClientCall(h, accessToken, serviceMethod, jsonBody));
        }

        /// <summary>Frees the native client (after any call still running on it returns). Safe to call twice.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }
    }
}
