//! `av_session`: an access token that keeps itself fresh.

use super::client::av_client;
use super::{
    arg_opt_str, arg_str, free_handle, handle_ref, into_handle, new_c_string, out_opt, out_ptr,
    panic, OwnedCStr,
};
use crate::session::RefreshTokenCallback;
use crate::Session;
use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

/// A company id and refresh token that hand out a valid access token whenever asked.
/// Create with `av_session_new`, free with `av_session_free`. Safe to use from many
/// threads at once; freeing it while another thread is inside a call on it is a caller
/// error.
pub struct av_session(pub(crate) Session);

/// Told `(user_data, company_id, new_refresh_token)` when the server rotates the refresh
/// token: persist the new token here. Called on the thread that refreshed, before the new
/// access token is handed out, with no internal lock held; the strings are valid only
/// during the call. Do not free the session from inside the callback.
pub type av_refresh_token_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        company_id: *const c_char,
        new_refresh_token: *const c_char,
    ),
>;

/// Creates a session for `company_id` with `refresh_token` on client `c` (NULL: the
/// process-wide default client, as `av_refresh` uses). The session keeps its client alive:
/// `c` may be freed afterwards. Nothing is sent until a token is asked for.
#[no_mangle]
pub unsafe extern "C" fn av_session_new(
    c: *const av_client,
    company_id: *const c_char,
    refresh_token: *const c_char,
    out: *mut *mut av_session,
) -> super::av_status {
    panic::status("av_session_new", || {
        // SAFETY (all unsafe calls in this module): the ABI contract, see `ffi`.
        let out = unsafe { out_ptr(out, "out") }?;
        let client = if c.is_null() {
            None
        } else {
            Some(&unsafe { handle_ref(c, "c") }?.0)
        };
        let company_id = unsafe { arg_str(company_id, "company_id") }?;
        let refresh_token = unsafe { arg_str(refresh_token, "refresh_token") }?;
        *out = into_handle(av_session(Session::new(client, company_id, refresh_token)?));
        Ok(())
    })
}

/// A valid access token in `*out_access_token` (free with `av_string_free`) and its expiry
/// in `*out_expires_at` (Unix seconds on the local clock: when the reply arrived plus the
/// lifetime the server intended; may be NULL). Returns the cached token while it has more
/// than the margin left; otherwise renews it — once, however many threads ask: the others
/// wait for that one request and get its result. If renewing fails while the cached token
/// is still valid, the cached token is returned (and the failure logged).
#[no_mangle]
pub unsafe extern "C" fn av_session_access_token(
    s: *mut av_session,
    out_access_token: *mut *mut c_char,
    out_expires_at: *mut i64,
) -> super::av_status {
    panic::status("av_session_access_token", || {
        let out = unsafe { out_ptr(out_access_token, "out_access_token") }?;
        let out_expires = unsafe { out_opt(out_expires_at) };
        let s = unsafe { handle_ref(s, "s") }?;
        let (token, expires) =
            s.0.with_access_token(|token, expires| (new_c_string(token, "access token"), expires))?;
        *out = token?;
        if let Some(e) = out_expires {
            *e = expires;
        }
        Ok(())
    })
}

/// The refresh token to keep (the newest the server issued) in `*out_refresh_token`
/// (free with `av_string_free`).
#[no_mangle]
pub unsafe extern "C" fn av_session_refresh_token(
    s: *mut av_session,
    out_refresh_token: *mut *mut c_char,
) -> super::av_status {
    panic::status("av_session_refresh_token", || {
        let out = unsafe { out_ptr(out_refresh_token, "out_refresh_token") }?;
        let s = unsafe { handle_ref(s, "s") }?;
        *out = new_c_string(s.0.refresh_token().expose(), "refresh token")?;
        Ok(())
    })
}

/// Renew the access token this many seconds before it expires (default 60; tokens living
/// less than twice the margin are renewed half-way through their life).
#[no_mangle]
pub unsafe extern "C" fn av_session_set_refresh_margin_s(
    s: *mut av_session,
    seconds: u32,
) -> super::av_status {
    panic::status("av_session_set_refresh_margin_s", || {
        let s = unsafe { handle_ref(s, "s") }?;
        s.0.set_refresh_margin(Duration::from_secs(seconds.into()));
        Ok(())
    })
}

struct UserData(*mut c_void);
// SAFETY: the application promises its callback and user_data may be used from the
// thread that refreshes.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

/// Calls `cb(user_data, company_id, new_refresh_token)` whenever the server rotates the
/// refresh token (NULL `cb` removes the callback). Persist the new token there: it
/// replaces the old one, which the server may no longer accept. When this function
/// returns, no call of the previous callback is under way on another thread. Keep the
/// callback quick: other threads asking for a token wait for it (at most the client's
/// timeout plus one second). Asking this session for a token from inside the callback
/// fails at once with `AV_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn av_session_on_refresh_token(
    s: *mut av_session,
    cb: av_refresh_token_cb,
    user_data: *mut c_void,
) -> super::av_status {
    panic::status("av_session_on_refresh_token", || {
        let s = unsafe { handle_ref(s, "s") }?;
        let callback: Option<RefreshTokenCallback> = cb.map(|cb| {
            let data = UserData(user_data);
            Arc::new(move |company_id: &str, token: &crate::Secret| {
                let data = &data;
                // Both were checked for NUL bytes when they entered the library.
                let (Ok(company), Ok(token)) = (
                    OwnedCStr::new(company_id, "company id"),
                    OwnedCStr::new(token.expose(), "refresh token"),
                ) else {
                    return;
                };
                // SAFETY: the application's callback with its own user_data and strings
                // valid for the call.
                unsafe { cb(data.0, company.as_ptr(), token.as_ptr()) };
            }) as RefreshTokenCallback
        });
        s.0.on_refresh_token(callback);
        Ok(())
    })
}

/// Like `av_client_call`, with the session's access token. If the server answers
/// TOKEN_OUTDATED, the token is dropped, renewed once and the call retried once; a second
/// TOKEN_OUTDATED is returned (`AV_ERR_TOKEN_EXPIRED`).
#[no_mangle]
pub unsafe extern "C" fn av_session_call(
    s: *mut av_session,
    service_method: *const c_char,
    json_body: *const c_char,
    out_json: *mut *mut c_char,
) -> super::av_status {
    panic::status("av_session_call", || {
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let s = unsafe { handle_ref(s, "s") }?;
        let service_method = unsafe { arg_str(service_method, "service_method") }?;
        let json_body = unsafe { arg_opt_str(json_body, "json_body") }?;
        let reply = s.0.call(service_method, json_body)?;
        *out = new_c_string(&reply, "reply")?;
        Ok(())
    })
}

/// Frees a session, wiping its tokens. NULL is a no-op. No other thread may be inside a
/// call on it.
#[no_mangle]
pub unsafe extern "C" fn av_session_free(s: *mut av_session) {
    panic::boundary("av_session_free", || unsafe { free_handle(s) })
}
