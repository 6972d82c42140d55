//! The panic boundary every export runs inside: a Rust panic is caught, recorded as the
//! thread's last error (`AV_ERR_INTERNAL`), and turned into the function's failure
//! value. Nothing unwinds into C, nothing aborts the host, nothing is printed.

use super::error::{self, av_status};
use crate::error::{Error, ErrorKind, Result};
use std::cell::{Cell, RefCell};
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

/// What an export returns when its body panicked.
pub trait Failure {
    fn failure() -> Self;
}

impl Failure for av_status {
    fn failure() -> Self {
        av_status::AV_ERR_INTERNAL
    }
}
impl<T> Failure for *const T {
    fn failure() -> Self {
        std::ptr::null()
    }
}
impl<T> Failure for *mut T {
    fn failure() -> Self {
        std::ptr::null_mut()
    }
}
impl Failure for i64 {
    fn failure() -> Self {
        0
    }
}
impl Failure for i32 {
    fn failure() -> Self {
        0
    }
}
impl Failure for usize {
    fn failure() -> Self {
        0
    }
}
impl Failure for () {
    fn failure() -> Self {}
}

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Keeps panics inside the library quiet (the host's stderr is not ours), while panics
/// elsewhere in a Rust host that links this crate still reach its own hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) > 0 {
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let payload = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(format!("{payload}{location}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs an export's body `f`; if it panics, records the panic as the last error and
/// returns `T::failure()`.
pub fn boundary<T: Failure>(function: &'static str, f: impl FnOnce() -> T) -> T {
    install_hook();
    DEPTH.with(|d| d.set(d.get() + 1));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    match outcome {
        Ok(value) => value,
        Err(_) => {
            let detail = PANIC_MESSAGE
                .with(|m| m.borrow_mut().take())
                .unwrap_or_else(|| "unknown panic".into());
            error::set_last_error(&Error::new(
                ErrorKind::Internal,
                format!("internal error in {function} (please report it): {detail}"),
            ));
            T::failure()
        }
    }
}

/// [`boundary`] for an export that returns a status: `Ok` is `AV_OK`; an error is
/// recorded as the last error and returned as its status.
pub fn status(function: &'static str, f: impl FnOnce() -> Result<()>) -> av_status {
    boundary(function, || match f() {
        Ok(()) => av_status::AV_OK,
        Err(e) => error::set_last_error(&e),
    })
}

/// [`boundary`] for a getter: an error (a NULL handle) is recorded and `failure` returned.
pub fn getter<T: Failure>(function: &'static str, failure: T, f: impl FnOnce() -> Result<T>) -> T {
    boundary(function, || match f() {
        Ok(v) => v,
        Err(e) => {
            error::set_last_error(&e);
            failure
        }
    })
}

/// The empty string as a getter's answer for a NULL handle.
pub fn empty() -> *const c_char {
    super::EMPTY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_internal_errors() {
        let s = status("test_fn", || panic!("boom"));
        assert_eq!(s, av_status::AV_ERR_INTERNAL);
        let msg = error::last_error_message();
        assert!(msg.contains("test_fn") && msg.contains("boom"), "{msg}");
        let p: *mut u8 = boundary("test_fn", || panic!("again"));
        assert!(p.is_null());
        // And an ordinary result passes through.
        assert_eq!(status("ok_fn", || Ok(())), av_status::AV_OK);
    }
}
