//! `av_set_log_callback`: the library's log, handed to the application.

use super::panic;
use crate::log::{self, Level};
use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

/// Receives log messages: `level` is 1 (error) .. 5 (trace); `message` is valid only
/// during the call. Called from whichever thread logs, so it must be thread-safe.
pub type av_log_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: i32, message: *const c_char)>;

struct UserData(*mut c_void);
// SAFETY: the application promises its callback and user_data may be used from any thread.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

/// Sends the library's log messages up to `max_level` (1 error, 2 warn, 3 info,
/// 4 debug, 5 trace) to `cb`. `cb` NULL or `max_level` below 1 turns logging off.
/// Messages never contain a secret. The callback may be called from any thread. When this
/// function returns, no call of the previous callback is still under way on another
/// thread, so its `user_data` may be freed.
#[no_mangle]
pub extern "C" fn av_set_log_callback(cb: av_log_cb, user_data: *mut c_void, max_level: i32) {
    panic::boundary("av_set_log_callback", || {
        let level = match max_level {
            i32::MIN..=0 => {
                log::set_sink(None, Level::Error);
                return;
            }
            1 => Level::Error,
            2 => Level::Warn,
            3 => Level::Info,
            4 => Level::Debug,
            _ => Level::Trace,
        };
        let Some(cb) = cb else {
            log::set_sink(None, level);
            return;
        };
        let data = UserData(user_data);
        let sink: log::Sink = Arc::new(move |level: Level, message: &str| {
            let text = CString::new(message.replace('\0', "?")).unwrap_or_default();
            let data = &data;
            // SAFETY: the application's callback, with its own user_data and a string
            // valid for the call.
            unsafe { cb(data.0, level as i32, text.as_ptr()) };
        });
        log::set_sink(Some(sink), level);
    })
}
