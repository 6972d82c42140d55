//! Status codes and the thread-local last error: `av_status`, `av_last_error_*`,
//! `av_status_name`, `av_version`, `av_string_free`.

use super::panic;
use crate::error::{Error, ErrorKind};
use std::cell::RefCell;
use std::ffi::{c_char, CString};

/// The result of every fallible function. Values are fixed by the ABI contract.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum av_status {
    /// Success.
    AV_OK = 0,
    /// A bad argument (NULL, empty, invalid UTF-8, control character, malformed), or a
    /// plaintext `http://` base URL to a non-loopback host. The message names the argument.
    AV_ERR_INVALID_ARGUMENT = 1,
    /// DNS, connect, reset, I/O.
    AV_ERR_NETWORK = 2,
    /// Connect or whole-request timeout.
    AV_ERR_TIMEOUT = 3,
    /// Certificate or handshake failure.
    AV_ERR_TLS = 4,
    /// Credentials or refresh token rejected (AUTHENTICATION_ERROR, ACCOUNT_STATUS_ERROR,
    /// 401/403 from authenticate).
    AV_ERR_AUTHENTICATION = 5,
    /// The access token has expired (TOKEN_OUTDATED).
    AV_ERR_TOKEN_EXPIRED = 6,
    /// Any other error the server reports (replyInfo or gateway error body).
    AV_ERR_API = 7,
    /// An unexpected HTTP status with no API error body.
    AV_ERR_HTTP = 8,
    /// Reply not JSON, a required field missing or unparseable, no refresh token where one
    /// is required, or a reply larger than the limit.
    AV_ERR_PROTOCOL = 9,
    /// The token store has no entry.
    AV_ERR_NOT_FOUND = 10,
    /// The token store failed.
    AV_ERR_STORAGE = 11,
    /// A bug in the library (a caught panic).
    AV_ERR_INTERNAL = 12,
}

impl From<ErrorKind> for av_status {
    fn from(kind: ErrorKind) -> av_status {
        match kind {
            ErrorKind::InvalidArgument => av_status::AV_ERR_INVALID_ARGUMENT,
            ErrorKind::Network => av_status::AV_ERR_NETWORK,
            ErrorKind::Timeout => av_status::AV_ERR_TIMEOUT,
            ErrorKind::Tls => av_status::AV_ERR_TLS,
            ErrorKind::Authentication => av_status::AV_ERR_AUTHENTICATION,
            ErrorKind::TokenExpired => av_status::AV_ERR_TOKEN_EXPIRED,
            ErrorKind::Api => av_status::AV_ERR_API,
            ErrorKind::Http => av_status::AV_ERR_HTTP,
            ErrorKind::Protocol => av_status::AV_ERR_PROTOCOL,
            ErrorKind::NotFound => av_status::AV_ERR_NOT_FOUND,
            ErrorKind::Storage => av_status::AV_ERR_STORAGE,
            ErrorKind::Internal => av_status::AV_ERR_INTERNAL,
        }
    }
}

struct LastError {
    message: CString,
    api_status: CString,
    request_id: CString,
    http_status: i32,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError {
        message: CString::default(),
        api_status: CString::default(),
        request_id: CString::default(),
        http_status: 0,
    });
}

fn c_text(s: &str) -> CString {
    CString::new(s.replace('\0', "?")).unwrap_or_default()
}

/// Records `e` as this thread's last error and returns its status.
pub(crate) fn set_last_error(e: &Error) -> av_status {
    LAST_ERROR.with(|last| {
        let mut last = last.borrow_mut();
        last.message = c_text(e.message());
        last.api_status = c_text(e.api_status().unwrap_or(""));
        last.request_id = c_text(e.request_id().unwrap_or(""));
        last.http_status = i32::from(e.http_status());
    });
    e.kind().into()
}

#[cfg(test)]
pub(crate) fn last_error_message() -> String {
    LAST_ERROR.with(|l| l.borrow().message.to_string_lossy().into_owned())
}

fn last_error_field(pick: fn(&LastError) -> *const c_char) -> *const c_char {
    // The CStrings live in this thread's storage until the next failure on this thread.
    LAST_ERROR.with(|l| pick(&l.borrow()))
}

/// The message of the last failed call on this thread, in plain words (it names the
/// argument for `AV_ERR_INVALID_ARGUMENT`); the server's status and the request id are
/// in `av_last_error_api_status` and `av_last_error_request_id`. Never NULL; "" when
/// none. Valid until the next failing call on this thread. Never contains a secret.
#[no_mangle]
pub extern "C" fn av_last_error_message() -> *const c_char {
    panic::boundary("av_last_error_message", || {
        last_error_field(|l| l.message.as_ptr())
    })
}

/// The server's statusCode name for the last failed call on this thread (e.g.
/// "TOKEN_OUTDATED"); "" when the server reported none. Never NULL.
#[no_mangle]
pub extern "C" fn av_last_error_api_status() -> *const c_char {
    panic::boundary("av_last_error_api_status", || {
        last_error_field(|l| l.api_status.as_ptr())
    })
}

/// The requestId of the last failed request on this thread (the server's, or the one
/// the library sent); "" when no request was made. Never NULL.
#[no_mangle]
pub extern "C" fn av_last_error_request_id() -> *const c_char {
    panic::boundary("av_last_error_request_id", || {
        last_error_field(|l| l.request_id.as_ptr())
    })
}

/// The HTTP status of the last failed request on this thread; 0 when there was no reply.
#[no_mangle]
pub extern "C" fn av_last_error_http_status() -> i32 {
    panic::boundary("av_last_error_http_status", || {
        LAST_ERROR.with(|l| l.borrow().http_status)
    })
}

/// The name of a status value, e.g. "AV_ERR_TIMEOUT"; "AV_UNKNOWN_STATUS" for a value
/// that is not one. Static: never freed.
#[no_mangle]
pub extern "C" fn av_status_name(status: i32) -> *const c_char {
    panic::boundary("av_status_name", || {
        let name: &'static std::ffi::CStr = match status {
            0 => c"AV_OK",
            1 => c"AV_ERR_INVALID_ARGUMENT",
            2 => c"AV_ERR_NETWORK",
            3 => c"AV_ERR_TIMEOUT",
            4 => c"AV_ERR_TLS",
            5 => c"AV_ERR_AUTHENTICATION",
            6 => c"AV_ERR_TOKEN_EXPIRED",
            7 => c"AV_ERR_API",
            8 => c"AV_ERR_HTTP",
            9 => c"AV_ERR_PROTOCOL",
            10 => c"AV_ERR_NOT_FOUND",
            11 => c"AV_ERR_STORAGE",
            12 => c"AV_ERR_INTERNAL",
            _ => c"AV_UNKNOWN_STATUS",
        };
        name.as_ptr()
    })
}

/// The library's version, e.g. "1.2.3". Static: never freed.
#[no_mangle]
pub extern "C" fn av_version() -> *const c_char {
    const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(v) => v,
        Err(_) => panic!("the version has no NUL inside"),
    };
    panic::boundary("av_version", || VERSION.as_ptr())
}

/// Frees a string the library returned through a `char **` out-parameter, overwriting
/// its bytes with zeros first (tokens are secrets). NULL is a no-op. Never pass a
/// borrowed `const char *` from a getter.
#[no_mangle]
pub unsafe extern "C" fn av_string_free(s: *mut c_char) {
    panic::boundary("av_string_free", || {
        // SAFETY: per the contract, `s` is NULL or a string from this library's out-params.
        unsafe { super::free_c_string(s) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn names_match_the_core() {
        for kind in [
            ErrorKind::InvalidArgument,
            ErrorKind::Network,
            ErrorKind::Timeout,
            ErrorKind::Tls,
            ErrorKind::Authentication,
            ErrorKind::TokenExpired,
            ErrorKind::Api,
            ErrorKind::Http,
            ErrorKind::Protocol,
            ErrorKind::NotFound,
            ErrorKind::Storage,
            ErrorKind::Internal,
        ] {
            let status = av_status::from(kind);
            assert_eq!(status as i32, kind as i32);
            let name = unsafe { CStr::from_ptr(av_status_name(status as i32)) };
            assert_eq!(name.to_str().unwrap(), kind.name());
        }
        let name = unsafe { CStr::from_ptr(av_status_name(99)) };
        assert_eq!(name.to_str().unwrap(), "AV_UNKNOWN_STATUS");
    }
}
