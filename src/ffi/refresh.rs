//! `av_refresh`: the one-shot flow on the process-wide default client.

use super::{arg_str, new_c_string, out_opt, out_ptr, panic};
use crate::Client;
use std::ffi::c_char;

/// Exchanges a refresh token for an access token on the process-wide default client
/// (created once, lazily, from `ALFAVIEW_API_URL`, `ALFAVIEW_CA_FILE` and
/// `ALFAVIEW_TIMEOUT_MS`; it keeps its connections alive between calls). On success
/// `*out_access_token` holds the token (free with `av_string_free`) and
/// `*out_expires_at` its expiry in Unix seconds, UTC (`out_expires_at` may be NULL).
///
/// If the server rotates the refresh token, this function cannot hand the new one back:
/// use `av_client_refresh` or a session when the server rotates.
#[no_mangle]
pub unsafe extern "C" fn av_refresh(
    company_id: *const c_char,
    refresh_token: *const c_char,
    out_access_token: *mut *mut c_char,
    out_expires_at: *mut i64,
) -> super::av_status {
    panic::status("av_refresh", || {
        // SAFETY (all unsafe calls here): the ABI contract, see `ffi`.
        let out_token = unsafe { out_ptr(out_access_token, "out_access_token") }?;
        let out_expires = unsafe { out_opt(out_expires_at) };
        let company_id = unsafe { arg_str(company_id, "company_id") }?;
        let refresh_token = unsafe { arg_str(refresh_token, "refresh_token") }?;
        let tokens = Client::shared()?.refresh(company_id, refresh_token)?;
        if tokens.refresh_token_rotated() {
            crate::log::log(crate::log::Level::Warn, || {
                format!("the server rotated the refresh token for company {company_id}; av_refresh cannot return the new one and the old one may no longer work: use av_client_refresh or a session")
            });
        }
        *out_token = new_c_string(tokens.access_token().expose(), "access token")?;
        if let Some(e) = out_expires {
            *e = tokens.expires_at();
        }
        Ok(())
    })
}
