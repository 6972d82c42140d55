using System.Threading.Tasks;

namespace Alfaview.Auth
{
    /// <summary>
    /// Library-wide functions: the version and the one-shot refresh on the process-wide
    /// default client. (Named AlfaviewAuth rather than Alfaview: a type called Alfaview
    /// would be hidden by the namespace Alfaview in code outside it.)
    /// </summary>
    public static class AlfaviewAuth
    {
        /// <summary>The native library's version, e.g. "0.1.0".</summary>
        public static string Version
        {
            get { return Native.Version(); }
        }

        /// <summary>
        /// Exchanges a refresh token for an access token on the process-wide default client
        /// (created once, on first use, from ALFAVIEW_API_URL, ALFAVIEW_CA_FILE and
        /// ALFAVIEW_TIMEOUT_MS in the process environment; it keeps its connections alive).
        /// If the server rotates refresh tokens, use <see cref="AlfaviewClient.Refresh"/> or an
        /// <see cref="AlfaviewSession"/> instead: this cannot hand the new refresh token back.
        /// </summary>
        /// <exception cref="AuthenticationException">The refresh token was rejected.</exception>
        public static AccessToken Refresh(string companyId, string refreshToken)
        {
            return Native.Refresh(companyId, refreshToken);
        }

        /// <summary><see cref="Refresh"/> on a thread-pool thread.</summary>
        public static Task<AccessToken> RefreshAsync(string companyId, string refreshToken)
        {
            return Task.Run(() => Native.Refresh(companyId, refreshToken));
        }

        /// <summary>The C name of a status, e.g. "AV_ERR_TIMEOUT".</summary>
        public static string StatusName(AlfaviewStatus status)
        {
            return Native.StatusName((int)status);
        }
    }
}
