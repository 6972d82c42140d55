// Raw P/Invoke declarations for libalfaview_auth (include/alfaview_auth.h). Nothing else
// lives here: no checks, no conversions. Handles are passed as SafeHandles so the runtime
// keeps them alive (and refuses closed ones) for the duration of each call; strings go in
// as NUL-terminated UTF-8 byte[] made by Utf8.Encode and come out as IntPtr read by
// Utf8.Decode. Status-returning functions return the raw int32 av_status; the checking
// layer (Native.cs) turns a non-zero value into an exception.
//
// To add functions (e.g. the token store's), add the declaration here in the order of the
// header, then a checked wrapper in Native.cs, then the public API. (test.sh fails when a
// function the header declares has no declaration here; names are matched on the
// `extern` lines and EntryPoints only, not in comments.)

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

        // ---- logging ---------------------------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void av_set_log_callback(LogCallback cb /* null: off */, IntPtr userData,
                                                        int maxLevel);
    }
}
