//! `av_client_builder` and `av_client`: how to reach the API.

use super::{arg_str, free_handle, handle_mut, handle_ref, into_handle, out_ptr, panic};
use crate::error::Error;
use crate::{Client, ClientBuilder};
use std::ffi::c_char;
use std::time::Duration;

/// Settings for a client. Create with `av_client_builder_new`, free with
/// `av_client_builder_free`. For one thread at a time.
pub struct av_client_builder(ClientBuilder);

/// A connection to the alfaview API. Create with `av_client_build`, free with
/// `av_client_free`. Safe to use from many threads at once; keeps its connections alive
/// between calls.
pub struct av_client(pub(crate) Client);

/// A new builder with the defaults: base URL `ALFAVIEW_API_URL` (default
/// `https://apis.alfaview.com/json/v1/`), timeout `ALFAVIEW_TIMEOUT_MS` (default 30000),
/// extra root certificates from `ALFAVIEW_CA_FILE`. A problem with one of those variables
/// is reported by `av_client_build`, naming the variable. NULL only if out of memory.
#[no_mangle]
pub extern "C" fn av_client_builder_new() -> *mut av_client_builder {
    panic::boundary("av_client_builder_new", || {
        into_handle(av_client_builder(ClientBuilder::new()))
    })
}

/// Sets the API's base URL. It must be `https://`, except that `http://` is allowed to
/// loopback hosts (127.0.0.0/8, ::1, localhost), and its host name must be ASCII (an
/// internationalized name in its `xn--` form). Anything else is
/// `AV_ERR_INVALID_ARGUMENT` and leaves the builder unchanged.
#[no_mangle]
pub unsafe extern "C" fn av_client_builder_set_base_url(
    b: *mut av_client_builder,
    url: *const c_char,
) -> super::av_status {
    panic::status("av_client_builder_set_base_url", || {
        // SAFETY (all unsafe calls in this module): the ABI contract, see `ffi`.
        let b = unsafe { handle_mut(b, "b") }?;
        let url = unsafe { arg_str(url, "url") }?;
        b.0.base_url(url)?;
        Ok(())
    })
}

/// Sets the whole-request timeout in milliseconds (connecting, sending, reading the
/// reply); at least 1. Connecting alone is limited to the smaller of this and 10 s.
#[no_mangle]
pub unsafe extern "C" fn av_client_builder_set_timeout_ms(
    b: *mut av_client_builder,
    ms: u32,
) -> super::av_status {
    panic::status("av_client_builder_set_timeout_ms", || {
        let b = unsafe { handle_mut(b, "b") }?;
        b.0.timeout(Duration::from_millis(ms.into()))?;
        Ok(())
    })
}

/// Trusts the PEM root certificates in the file at `pem_path` in addition to the
/// system's. The file is read now: an unreadable file or one without a certificate is
/// `AV_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn av_client_builder_set_ca_file(
    b: *mut av_client_builder,
    pem_path: *const c_char,
) -> super::av_status {
    panic::status("av_client_builder_set_ca_file", || {
        let b = unsafe { handle_mut(b, "b") }?;
        let path = unsafe { arg_str(pem_path, "pem_path") }?;
        if path.is_empty() {
            return Err(Error::invalid_argument("pem_path", "must not be empty"));
        }
        b.0.ca_file(path)?;
        Ok(())
    })
}

/// Sets the `User-Agent` header (default `alfaview-auth/<version>`).
#[no_mangle]
pub unsafe extern "C" fn av_client_builder_set_user_agent(
    b: *mut av_client_builder,
    ua: *const c_char,
) -> super::av_status {
    panic::status("av_client_builder_set_user_agent", || {
        let b = unsafe { handle_mut(b, "b") }?;
        let ua = unsafe { arg_str(ua, "ua") }?;
        b.0.user_agent(ua)?;
        Ok(())
    })
}

/// How many times a transient failure is retried (default 2; 0 turns retries off): a
/// connection that could not be made (the request was never sent), HTTP 502, 503 and 504,
/// and 429 (after its `Retry-After`, up to 30 s). Retries back off exponentially with
/// jitter and stay within the whole-request timeout; the last error is reported, with the
/// number of attempts in its message. Nothing else is retried.
#[no_mangle]
pub unsafe extern "C" fn av_client_builder_set_max_retries(
    b: *mut av_client_builder,
    retries: u32,
) -> super::av_status {
    panic::status("av_client_builder_set_max_retries", || {
        let b = unsafe { handle_mut(b, "b") }?;
        b.0.max_retries(retries);
        Ok(())
    })
}

/// The largest reply to an API call (`av_client_call`, `av_session_call`) accepted, in
/// bytes (default 16 MiB; at least 1). A larger reply fails with `AV_ERR_PROTOCOL` without
/// being read whole. Sign-in and refresh replies are always limited to 1 MiB.
#[no_mangle]
pub unsafe extern "C" fn av_client_builder_set_max_reply_bytes(
    b: *mut av_client_builder,
    bytes: usize,
) -> super::av_status {
    panic::status("av_client_builder_set_max_reply_bytes", || {
        let b = unsafe { handle_mut(b, "b") }?;
        b.0.max_reply_bytes(bytes)?;
        Ok(())
    })
}

/// Builds a client from the builder's settings into `*out` (free it with
/// `av_client_free`). The builder stays valid and may build more clients.
#[no_mangle]
pub unsafe extern "C" fn av_client_build(
    b: *const av_client_builder,
    out: *mut *mut av_client,
) -> super::av_status {
    panic::status("av_client_build", || {
        let out = unsafe { out_ptr(out, "out") }?;
        let b = unsafe { handle_ref(b, "b") }?;
        *out = into_handle(av_client(b.0.build()?));
        Ok(())
    })
}

/// Frees a builder. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn av_client_builder_free(b: *mut av_client_builder) {
    panic::boundary("av_client_builder_free", || unsafe { free_handle(b) })
}

/// Frees a client and closes its idle connections. NULL is a no-op. Sessions made from
/// it keep working: they hold their own reference to the connection.
#[no_mangle]
pub unsafe extern "C" fn av_client_free(c: *mut av_client) {
    panic::boundary("av_client_free", || unsafe { free_handle(c) })
}
