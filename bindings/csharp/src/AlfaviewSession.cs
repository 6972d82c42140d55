using System;
using System.Threading.Tasks;

namespace Alfaview.Auth
{
    /// <summary>Tells <see cref="AlfaviewSession.RefreshTokenRotated"/> handlers the new refresh token.</summary>
    public sealed class RefreshTokenRotatedEventArgs : EventArgs
    {
        internal RefreshTokenRotatedEventArgs(string companyId, string newRefreshToken)
        {
            CompanyId = companyId;
            NewRefreshToken = newRefreshToken;
        }

        /// <summary>The session's company.</summary>
        public string CompanyId { get; }

        /// <summary>The new refresh token (a secret): persist it; the old one may no longer work.</summary>
        public string NewRefreshToken { get; }

        /// <summary>A description without the token.</summary>
        public override string ToString()
        {
            return "RefreshTokenRotated { CompanyId = " + CompanyId + ", NewRefreshToken = [redacted] }";
        }
    }

    /// <summary>
    /// A company id and refresh token (given, or kept in a token store: <see cref="FromStore(string)"/>,
    /// <see cref="WithStore(AlfaviewClient, IPairStore)"/>) that hand out a valid access token whenever asked:
    /// the token is cached and renewed shortly before it expires, once however many
    /// threads ask at the same time. Safe to use from many threads at once. Dispose it when
    /// done (it waits for calls still running on other threads).
    /// </summary>
    public sealed class AlfaviewSession : IDisposable
    {
        private readonly SessionHandle handle;

        /// <summary>A session on <paramref name="client"/> (which may be disposed afterwards: the session keeps its own reference).</summary>
        public AlfaviewSession(AlfaviewClient client, string companyId, string refreshToken)
            : this(Native.NewSession(RequireClient(client).Handle, companyId, refreshToken), companyId)
        {
        }

        /// <summary>
        /// A session on the process-wide default client, which reads ALFAVIEW_API_URL,
        /// ALFAVIEW_CA_FILE and ALFAVIEW_TIMEOUT_MS from the process environment once, when
        /// first used (set them before the process starts).
        /// </summary>
        public AlfaviewSession(string companyId, string refreshToken)
            : this(Native.NewSession(null, companyId, refreshToken), companyId)
        {
        }

        private AlfaviewSession(SessionHandle handle, string companyId)
        {
            this.handle = handle;
            CompanyId = companyId;
            // Registered once, always; the handle keeps the delegate alive as long as the
            // native session exists, whatever happens to this object.
            try
            {
                Native.SessionOnRefreshToken(handle, OnNativeRefreshTokenRotated);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>
        /// A session on the pair the library's <see cref="TokenStore"/> holds for
        /// <paramref name="appId"/>, on the process-wide default client (see
        /// <see cref="AlfaviewSession(string, string)"/>).
        /// </summary>
        /// <remarks>
        /// Every renewal takes the entry's exclusive lock, re-reads the stored pair (another
        /// process may have rotated it), and saves a rotated refresh token before releasing
        /// the lock: processes sharing an app id never refresh with a stale token nor lose a
        /// new one. A rotated token that could not be saved makes that call fail with
        /// <see cref="StorageException"/> (the session keeps it and saves it at the next renewal).
        /// </remarks>
        /// <exception cref="NotFoundException">Nothing is stored for <paramref name="appId"/>.</exception>
        /// <exception cref="StorageException">The store failed.</exception>
        /// <exception cref="InvalidArgumentException">A bad app id.</exception>
        public static AlfaviewSession FromStore(string appId)
        {
            return FromStoreOn(null, appId);
        }

        /// <summary>
        /// A session on <paramref name="client"/> on the pair the library's
        /// <see cref="TokenStore"/> holds for <paramref name="appId"/> (see <see cref="FromStore(string)"/>).
        /// </summary>
        public static AlfaviewSession FromStore(AlfaviewClient client, string appId)
        {
            return FromStoreOn(RequireClient(client).Handle, appId);
        }

        private static AlfaviewSession FromStoreOn(ClientHandle client, string appId)
        {
            SessionHandle h = Native.NewSessionFromStore(client, appId);
            string companyId;
            try
            {
                // The native session does not tell its company: read it from the entry the
                // session was just made from (without copying the token).
                companyId = Native.StoreLoadCompanyId(appId);
            }
            catch
            {
                h.Dispose();
                throw;
            }
            return new AlfaviewSession(h, companyId);
        }

        /// <summary>
        /// A session on <paramref name="client"/> on the pair the application's
        /// <paramref name="store"/> holds: loaded now, re-loaded at every renewal (under the
        /// store's lock if it is an <see cref="ILockingPairStore"/>), and saved after each
        /// rotation. The session keeps <paramref name="store"/> referenced while it exists.
        /// </summary>
        /// <exception cref="NotFoundException">The store holds no pair.</exception>
        /// <exception cref="StorageException">The store failed (an exception it threw is reported through <see cref="AlfaviewLog.Message"/>).</exception>
        public static AlfaviewSession WithStore(AlfaviewClient client, IPairStore store)
        {
            return WithStoreOn(RequireClient(client).Handle, store);
        }

        /// <summary><see cref="WithStore(AlfaviewClient, IPairStore)"/> on the process-wide default client.</summary>
        public static AlfaviewSession WithStore(IPairStore store)
        {
            return WithStoreOn(null, store);
        }

        private static AlfaviewSession WithStoreOn(ClientHandle client, IPairStore store)
        {
            var bridge = new PairStoreBridge(store);
            SessionHandle h = Native.NewSessionWithStore(client, bridge);
            return new AlfaviewSession(h, bridge.FirstCompanyId);
        }

        private static AlfaviewClient RequireClient(AlfaviewClient client)
        {
            if (client == null)
            {
                throw new ArgumentNullException("client");
            }
            return client;
        }

        /// <summary>
        /// Raised when the server rotates the refresh token, on the thread that refreshed,
        /// before the new access token is handed out: persist
        /// <see cref="RefreshTokenRotatedEventArgs.NewRefreshToken"/> here. Exceptions thrown
        /// by a handler are caught (they cannot cross into native code) and reported through
        /// <see cref="AlfaviewLog.Message"/> at level Error; the other handlers still run.
        /// Do not dispose the session from a handler.
        /// </summary>
        public event EventHandler<RefreshTokenRotatedEventArgs> RefreshTokenRotated;

        /// <summary>The company this session is for (for a session on a store: of the pair stored when it was created).</summary>
        public string CompanyId { get; }

        private SessionHandle Handle
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

        /// <summary>
        /// A valid access token: the cached one while it has more than the margin left,
        /// otherwise a renewed one. Its <see cref="AccessToken.ExpiresAt"/> is on the local
        /// clock (when the reply arrived plus the lifetime the server intended).
        /// </summary>
        public AccessToken AccessToken()
        {
            return Native.SessionAccessToken(Handle);
        }

        /// <summary>The refresh token to keep: the newest the server issued (a secret).</summary>
        public string RefreshToken
        {
            get { return Native.SessionRefreshToken(Handle); }
        }

        /// <summary>Renew the access token this long before it expires (whole seconds, rounded up; default 60 s).</summary>
        public void SetRefreshMargin(TimeSpan margin)
        {
            Native.SessionSetRefreshMargin(Handle, margin);
        }

        /// <summary>
        /// Like <see cref="AlfaviewClient.Call"/> with the session's access token; on
        /// TOKEN_OUTDATED the token is renewed and the call retried once.
        /// </summary>
        public string Call(string serviceMethod, string jsonBody = null)
        {
            return Native.SessionCall(Handle, serviceMethod, jsonBody);
        }

        /// <summary>AccessToken() on a thread-pool thread.</summary>
        public Task<AccessToken> AccessTokenAsync()
        {
            SessionHandle h = Handle;
            return Task.Run(() => Native.SessionAccessToken(h));
        }

        /// <summary><see cref="Call"/> on a thread-pool thread.</summary>
        public Task<string> CallAsync(string serviceMethod, string jsonBody = null)
        {
            SessionHandle h = Handle;
            return Task.Run(() => Native.SessionCall(h, serviceMethod, jsonBody));
        }

        /// <summary>Frees the native session (after any call still running on it returns). Safe to call twice.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        // Called by native code, on the thread inside av_session_access_token/av_session_call.
        // Nothing may escape from here into native code.
        private void OnNativeRefreshTokenRotated(IntPtr userData, IntPtr companyId, IntPtr newRefreshToken)
        {
            try
            {
                EventHandler<RefreshTokenRotatedEventArgs> handlers = RefreshTokenRotated;
                if (handlers == null)
                {
                    return;
                }
                var args = new RefreshTokenRotatedEventArgs(Utf8.Decode(companyId), Utf8.Decode(newRefreshToken));
                foreach (Delegate d in handlers.GetInvocationList())
                {
                    try
                    {
                        ((EventHandler<RefreshTokenRotatedEventArgs>)d)(this, args);
                    }
                    catch (Exception e)
                    {
                        AlfaviewLog.ReportHandlerException("RefreshTokenRotated", e);
                    }
                }
            }
            catch (Exception e)
            {
                AlfaviewLog.ReportHandlerException("RefreshTokenRotated", e);
            }
        }
    }
}
