// Raw P/Invoke declarations for libalfaview_auth (include/alfaview_auth.h). Nothing else
// lives here: no checks, no conversions. Handles are passed as SafeHandles so the runtime
// keeps them alive (and refuses closed ones) for the duration of each call; strings go in
// as NUL-terminated UTF-8 byte[] made by Utf8.Encode and come out as IntPtr read by
// Utf8.Decode. Status-returning functions return the raw int32 av_status; the checking
// layer (Native.cs) turns a non-zero value into an exception.
//
// To add functions, add the declaration here in the order of the header, then a checked
// wrapper in Native.cs, then the public API. (test.sh fails when a function the header
// declares has no declaration here; names are matched on the `extern` lines and
// EntryPoints only, not in comments.)

using System;
using System.Runtime.InteropServices;

namespace Alfaview.Auth
{
    internal static class NativeMethods
    {
        // Resolved as libalfaview_auth.so / libalfaview_auth.dylib / alfaview_auth.dll.
        // .NET: from runtimes/<rid>/native/ of the package (see Alfaview.Auth.csproj).
        // Mono: through Alfaview.Auth.dll.config (dllmap) and the usual dlopen search path.
        internal const string Library = "alfaview_auth";

        /// <summary>av_refresh_token_cb</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void RefreshTokenCallback(IntPtr userData, IntPtr companyId, IntPtr newRefreshToken);

        // ---- av_store_callbacks: the application's store ---------------------------------
        // Each returns an av_status value as int32_t (unlock returns nothing). user_data
        // comes first; the binding passes IntPtr.Zero and binds each delegate to its store.

        /// <summary>av_store_callbacks.load: write the pair NUL-terminated into the two buffers.</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int StoreLoadCallback(IntPtr userData, IntPtr companyId, UIntPtr companyIdSize,
                                                IntPtr refreshToken, UIntPtr refreshTokenSize);

        /// <summary>av_store_callbacks.save</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int StoreSaveCallback(IntPtr userData, IntPtr companyId, IntPtr refreshToken);

        /// <summary>av_store_callbacks.lock</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int StoreLockCallback(IntPtr userData, uint timeoutMs);

        /// <summary>av_store_callbacks.unlock</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void StoreUnlockCallback(IntPtr userData);

        /// <summary>
        /// av_store_callbacks: four C function pointers in the header's order, each from
        /// Marshal.GetFunctionPointerForDelegate (IntPtr.Zero for NULL). All fields are
        /// IntPtr, so the struct is blittable and passed by reference without copying.
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct StoreCallbacks
        {
            internal IntPtr Load;
            internal IntPtr Save;
            internal IntPtr Lock;   // may be IntPtr.Zero (no locking) ...
            internal IntPtr Unlock; // ... and then this is IntPtr.Zero too
        }

        /// <summary>av_log_cb</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void LogCallback(IntPtr userData, int level, IntPtr message);

        // ---- errors, version, strings ----------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr av_last_error_message();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr av_last_error_api_status();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr av_last_error_request_id();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_last_error_http_status();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr av_status_name(int status);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr av_version();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void av_string_free(IntPtr s);

        // ---- one-shot refresh on the default client --------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_refresh(byte[] companyId, byte[] refreshToken,
                                              out IntPtr outAccessToken, out long outExpiresAt);

        // ---- client builder and client ---------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern ClientBuilderHandle av_client_builder_new();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_client_builder_set_base_url(ClientBuilderHandle b, byte[] url);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_client_builder_set_timeout_ms(ClientBuilderHandle b, uint ms);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_client_builder_set_ca_file(ClientBuilderHandle b, byte[] pemPath);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_client_builder_set_user_agent(ClientBuilderHandle b, byte[] ua);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_client_builder_set_max_retries(ClientBuilderHandle b, uint retries);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_client_builder_set_max_reply_bytes(ClientBuilderHandle b, UIntPtr bytes);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_client_build(ClientBuilderHandle b, out ClientHandle outClient);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void av_client_builder_free(IntPtr b);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void av_client_free(IntPtr c);

        // ---- signing in, tokens ----------------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_login_password(ClientHandle c, byte[] username, byte[] password,
                                                     byte[] companyId /* may be null */, out TokensHandle outTokens);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_login_api_key(ClientHandle c, byte[] clientId, byte[] apiKeySecret,
                                                    byte[] companyId, out TokensHandle outTokens);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_client_refresh(ClientHandle c, byte[] companyId, byte[] refreshToken,
                                                     out TokensHandle outTokens);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr av_tokens_access_token(TokensHandle t);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern long av_tokens_expires_at(TokensHandle t);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr av_tokens_refresh_token(TokensHandle t);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern long av_tokens_refresh_expires_at(TokensHandle t);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr av_tokens_company_id(TokensHandle t);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr av_tokens_user_id(TokensHandle t);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr av_tokens_accessible_company_count(TokensHandle t);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr av_tokens_accessible_company_id(TokensHandle t, UIntPtr i);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void av_tokens_free(IntPtr t);

        // ---- calls -----------------------------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_client_call(ClientHandle c, byte[] accessToken, byte[] serviceMethod,
                                                  byte[] jsonBody /* may be null */, out IntPtr outJson);

        // ---- sessions --------------------------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_session_new(ClientHandle c, byte[] companyId, byte[] refreshToken,
                                                  out SessionHandle outSession);

        /// <summary>av_session_new with a NULL client: the process-wide default client.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, EntryPoint = "av_session_new")]
        internal static extern int av_session_new_on_default_client(IntPtr nullClient, byte[] companyId,
                                                                    byte[] refreshToken, out SessionHandle outSession);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_session_access_token(SessionHandle s, out IntPtr outAccessToken,
                                                           out long outExpiresAt);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_session_refresh_token(SessionHandle s, out IntPtr outRefreshToken);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_session_set_refresh_margin_s(SessionHandle s, uint seconds);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_session_on_refresh_token(SessionHandle s, RefreshTokenCallback cb,
                                                               IntPtr userData);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_session_call(SessionHandle s, byte[] serviceMethod,
                                                   byte[] jsonBody /* may be null */, out IntPtr outJson);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void av_session_free(IntPtr s);

        // ---- the token store -------------------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_store_save(byte[] appId, byte[] companyId, byte[] refreshToken);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_store_load(byte[] appId, out IntPtr outCompanyId, out IntPtr outRefreshToken);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_store_delete(byte[] appId);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_session_new_from_store(ClientHandle c, byte[] appId, out SessionHandle outSession);

        /// <summary>av_session_new_from_store with a NULL client: the process-wide default client.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, EntryPoint = "av_session_new_from_store")]
        internal static extern int av_session_new_from_store_on_default_client(IntPtr nullClient, byte[] appId,
                                                                               out SessionHandle outSession);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int av_session_new_with_store(ClientHandle c, ref StoreCallbacks cbs, IntPtr userData,
                                                             out SessionHandle outSession);

        /// <summary>av_session_new_with_store with a NULL client: the process-wide default client.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, EntryPoint = "av_session_new_with_store")]
        internal static extern int av_session_new_with_store_on_default_client(IntPtr nullClient, ref StoreCallbacks cbs,
                                                                               IntPtr userData, out SessionHandle outSession);

        // ---- logging ---------------------------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void av_set_log_callback(LogCallback cb /* null: off */, IntPtr userData,
                                                        int maxLevel);
    }
}
