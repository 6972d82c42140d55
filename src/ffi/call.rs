//! `av_client_call`: an API call with an access token.

use super::client::av_client;
use super::{arg_opt_str, arg_str, handle_ref, new_c_string, out_ptr, panic};
use std::ffi::c_char;

/// Calls `service_method` (e.g. "roomService/create") with `access_token`: adds
/// `accessInfo: {requestId, accessToken}` to `json_body` (a JSON object, or NULL for
/// `{}`) and on success returns the reply's JSON in `*out_json` (free with
/// `av_string_free`). An expired token gives `AV_ERR_TOKEN_EXPIRED`; any other error the
/// server reports gives `AV_ERR_API` with `av_last_error_api_status()` naming it.
#[no_mangle]
pub unsafe extern "C" fn av_client_call(
    c: *const av_client,
    access_token: *const c_char,
    service_method: *const c_char,
    json_body: *const c_char,
    out_json: *mut *mut c_char,
) -> super::av_status {
    panic::status("av_client_call", || {
        // SAFETY (all unsafe calls here): the ABI contract, see `ffi`.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let c = unsafe { handle_ref(c, "c") }?;
        let access_token = unsafe { arg_str(access_token, "access_token") }?;
        let service_method = unsafe { arg_str(service_method, "service_method") }?;
        let json_body = unsafe { arg_opt_str(json_body, "json_body") }?;
        let reply = c.0.call(access_token, service_method, json_body)?;
        *out = new_c_string(&reply, "reply")?;
        Ok(())
    })
}
