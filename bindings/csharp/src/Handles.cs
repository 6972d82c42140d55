// One SafeHandle per native handle type. Each ReleaseHandle calls the matching *_free
// exactly once (SafeHandle guarantees it, after the last in-flight P/Invoke that uses the
// handle has returned), so disposing an object while another thread is still inside a
// call on it is safe: the free waits for that call.

using System;
using Microsoft.Win32.SafeHandles;

namespace Alfaview.Auth
{
    /// <summary>av_client_builder*; freed with av_client_builder_free.</summary>
    internal sealed class ClientBuilderHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public ClientBuilderHandle() : base(true) { }

        protected override bool ReleaseHandle()
        {
            NativeMethods.av_client_builder_free(handle);
            return true;
        }
    }

    /// <summary>av_client*; freed with av_client_free.</summary>
    internal sealed class ClientHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public ClientHandle() : base(true) { }

        protected override bool ReleaseHandle()
        {
            NativeMethods.av_client_free(handle);
            return true;
        }
    }

    /// <summary>av_tokens*; freed with av_tokens_free (which wipes the secrets).</summary>
    internal sealed class TokensHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public TokensHandle() : base(true) { }

        protected override bool ReleaseHandle()
        {
            NativeMethods.av_tokens_free(handle);
            return true;
        }
    }

    /// <summary>
    /// av_session*; freed with av_session_free. It also owns what native code may call
    /// back into: the delegate registered with av_session_on_refresh_token and, for a
    /// session on an application's store, the object holding the store and the delegates
    /// behind its av_store_callbacks. They are reachable from the handle until the native
    /// session is gone, so native code can never call a collected delegate (even when the
    /// session is finalized instead of disposed).
    /// </summary>
    internal sealed class SessionHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private NativeMethods.RefreshTokenCallback callback;
        private object store;

        public SessionHandle() : base(true) { }

        /// <summary>Keeps <paramref name="cb"/> alive for as long as the native session.</summary>
        internal void KeepAlive(NativeMethods.RefreshTokenCallback cb)
        {
            callback = cb;
        }

        /// <summary>Keeps the store bridge (and through it its delegates) alive for as long as the native session.</summary>
        internal void KeepStoreAlive(object storeBridge)
        {
            store = storeBridge;
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.av_session_free(handle);
            // Only now may the delegates go: the native session that could call them is freed.
            GC.KeepAlive(callback);
            GC.KeepAlive(store);
            callback = null;
            store = null;
            return true;
        }
    }
}
