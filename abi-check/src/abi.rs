// THE list of the C ABI: every status value, type and function that
// include/alfaview_auth.h declares, written once, in Rust types, with the module of
// `alfaview_auth::ffi` that defines each.
//
// `abi_list!(emit)` hands this list to the macro `emit`. Three macros read it:
// - `emit_decls` (src/decls.rs): the `extern "C"` block, constants and types that ctest
//   compares with the header;
// - `emit_asserts` (src/assertions.rs): compile-time assertions that each definition in
//   `alfaview_auth::ffi` has exactly this type;
// - `emit_table` (src/model.rs): the same list as data, for the C/C++ signature check and
//   the completeness check (tests/abi/).
//
// Adding a function: one `fn` line in the `mod` block of the module that defines it.
// Types are spelled as in the Rust definition: `c_char`, `c_void`, `i32`/`u32`/`i64`/`usize`,
// `av_status`, and the names of the opaque types, typedefs and structs below.
//
// Grammar (in this order):
//   status MODULE::NAME: REPR { CONST = VALUE, ... }
//   opaque MODULE::NAME;                 (a handle: `typedef struct NAME NAME;`)
//   typedef MODULE::NAME = RUST_TYPE;    (e.g. a callback: `Option<unsafe extern "C" fn(..)>`)
//   struct MODULE::NAME { FIELD: TYPE, ... }
//                                        (a `#[repr(C)]` struct with a body, used by value:
//                                        `typedef struct { .. } NAME;`; every field, in the
//                                        order of the definition)
//   mod MODULE { fn NAME(ARG: TYPE, ...) -> TYPE; ... }

macro_rules! abi_list {
    ($emit:ident) => {
        $emit! {
            status error::av_status: i32 {
                AV_OK = 0,
                AV_ERR_INVALID_ARGUMENT = 1,
                AV_ERR_NETWORK = 2,
                AV_ERR_TIMEOUT = 3,
                AV_ERR_TLS = 4,
                AV_ERR_AUTHENTICATION = 5,
                AV_ERR_TOKEN_EXPIRED = 6,
                AV_ERR_API = 7,
                AV_ERR_HTTP = 8,
                AV_ERR_PROTOCOL = 9,
                AV_ERR_NOT_FOUND = 10,
                AV_ERR_STORAGE = 11,
                AV_ERR_INTERNAL = 12,
            }

            opaque client::av_client_builder;
            opaque client::av_client;
            opaque tokens::av_tokens;
            opaque session::av_session;

            typedef session::av_refresh_token_cb = Option<
                unsafe extern "C" fn(
                    user_data: *mut c_void,
                    company_id: *const c_char,
                    new_refresh_token: *const c_char,
                ),
            >;
            typedef log::av_log_cb = Option<
                unsafe extern "C" fn(user_data: *mut c_void, level: i32, message: *const c_char),
            >;

            struct store::av_store_callbacks {
                load: Option<
                    unsafe extern "C" fn(
                        user_data: *mut c_void,
                        company_id: *mut c_char,
                        company_id_size: usize,
                        refresh_token: *mut c_char,
                        refresh_token_size: usize,
                    ) -> i32,
                >,
                save: Option<
                    unsafe extern "C" fn(
                        user_data: *mut c_void,
                        company_id: *const c_char,
                        refresh_token: *const c_char,
                    ) -> i32,
                >,
                lock: Option<unsafe extern "C" fn(user_data: *mut c_void, timeout_ms: u32) -> i32>,
                unlock: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
            }

            mod error {
                fn av_last_error_message() -> *const c_char;
                fn av_last_error_api_status() -> *const c_char;
                fn av_last_error_request_id() -> *const c_char;
                fn av_last_error_http_status() -> i32;
                fn av_status_name(status: i32) -> *const c_char;
                fn av_version() -> *const c_char;
                fn av_string_free(s: *mut c_char);
            }

            mod refresh {
                fn av_refresh(
                    company_id: *const c_char,
                    refresh_token: *const c_char,
                    out_access_token: *mut *mut c_char,
                    out_expires_at: *mut i64,
                ) -> av_status;
            }

            mod client {
                fn av_client_builder_new() -> *mut av_client_builder;
                fn av_client_builder_set_base_url(
                    b: *mut av_client_builder,
                    url: *const c_char,
                ) -> av_status;
                fn av_client_builder_set_timeout_ms(b: *mut av_client_builder, ms: u32) -> av_status;
                fn av_client_builder_set_ca_file(
                    b: *mut av_client_builder,
                    pem_path: *const c_char,
                ) -> av_status;
                fn av_client_builder_set_user_agent(
                    b: *mut av_client_builder,
                    ua: *const c_char,
                ) -> av_status;
                fn av_client_builder_set_max_retries(
                    b: *mut av_client_builder,
                    retries: u32,
                ) -> av_status;
                fn av_client_builder_set_max_reply_bytes(
                    b: *mut av_client_builder,
                    bytes: usize,
                ) -> av_status;
                fn av_client_build(b: *const av_client_builder, out: *mut *mut av_client) -> av_status;
                fn av_client_builder_free(b: *mut av_client_builder);
                fn av_client_free(c: *mut av_client);
            }

            mod tokens {
                fn av_login_password(
                    c: *const av_client,
                    username: *const c_char,
                    password: *const c_char,
                    company_id: *const c_char,
                    out: *mut *mut av_tokens,
                ) -> av_status;
                fn av_login_api_key(
                    c: *const av_client,
                    client_id: *const c_char,
                    api_key_secret: *const c_char,
                    company_id: *const c_char,
                    out: *mut *mut av_tokens,
                ) -> av_status;
                fn av_client_refresh(
                    c: *const av_client,
                    company_id: *const c_char,
                    refresh_token: *const c_char,
                    out: *mut *mut av_tokens,
                ) -> av_status;
                fn av_tokens_access_token(t: *const av_tokens) -> *const c_char;
                fn av_tokens_expires_at(t: *const av_tokens) -> i64;
                fn av_tokens_refresh_token(t: *const av_tokens) -> *const c_char;
                fn av_tokens_refresh_expires_at(t: *const av_tokens) -> i64;
                fn av_tokens_company_id(t: *const av_tokens) -> *const c_char;
                fn av_tokens_user_id(t: *const av_tokens) -> *const c_char;
                fn av_tokens_accessible_company_count(t: *const av_tokens) -> usize;
                fn av_tokens_accessible_company_id(t: *const av_tokens, i: usize) -> *const c_char;
                fn av_tokens_free(t: *mut av_tokens);
            }

            mod call {
                fn av_client_call(
                    c: *const av_client,
                    access_token: *const c_char,
                    service_method: *const c_char,
                    json_body: *const c_char,
                    out_json: *mut *mut c_char,
                ) -> av_status;
            }

            mod session {
                fn av_session_new(
                    c: *const av_client,
                    company_id: *const c_char,
                    refresh_token: *const c_char,
                    out: *mut *mut av_session,
                ) -> av_status;
                fn av_session_access_token(
                    s: *mut av_session,
                    out_access_token: *mut *mut c_char,
                    out_expires_at: *mut i64,
                ) -> av_status;
                fn av_session_refresh_token(
                    s: *mut av_session,
                    out_refresh_token: *mut *mut c_char,
                ) -> av_status;
                fn av_session_set_refresh_margin_s(s: *mut av_session, seconds: u32) -> av_status;
                fn av_session_on_refresh_token(
                    s: *mut av_session,
                    cb: av_refresh_token_cb,
                    user_data: *mut c_void,
                ) -> av_status;
                fn av_session_call(
                    s: *mut av_session,
                    service_method: *const c_char,
                    json_body: *const c_char,
                    out_json: *mut *mut c_char,
                ) -> av_status;
                fn av_session_free(s: *mut av_session);
            }

            mod store {
                fn av_store_save(
                    app_id: *const c_char,
                    company_id: *const c_char,
                    refresh_token: *const c_char,
                ) -> av_status;
                fn av_store_load(
                    app_id: *const c_char,
                    out_company_id: *mut *mut c_char,
                    out_refresh_token: *mut *mut c_char,
                ) -> av_status;
                fn av_store_delete(app_id: *const c_char) -> av_status;
                fn av_session_new_from_store(
                    c: *const av_client,
                    app_id: *const c_char,
                    out: *mut *mut av_session,
                ) -> av_status;
                fn av_session_new_with_store(
                    c: *const av_client,
                    cbs: *const av_store_callbacks,
                    user_data: *mut c_void,
                    out: *mut *mut av_session,
                ) -> av_status;
            }

            mod log {
                fn av_set_log_callback(cb: av_log_cb, user_data: *mut c_void, max_level: i32);
            }
        }
    };
}
