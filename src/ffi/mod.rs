//! The C ABI: a thin, uniform shell over the Rust core.
//!
//! Every export runs inside [`panic::boundary`] (a Rust panic becomes `AV_ERR_INTERNAL`,
//! never an unwind into C), clears its out-pointers first, checks each argument with the
//! helpers below (which name the argument in the error), and records failures in the
//! thread-local last error ([`error`]). Handles are `Box`es (`av_client_builder`,
//! `av_client`, `av_tokens`) handed out with `into_handle` and taken back with
//! `free_handle`.
//!
//! # Safety
//! The contract for callers of every `unsafe extern "C"` function in this module is the
//! C ABI's (`include/alfaview_auth.h`, "Conventions"): pointers are NULL or valid for the
//! access the function documents; strings are NUL-terminated; handles come from this
//! library and are not used after being freed.

#![allow(non_camel_case_types, clippy::missing_safety_doc)]

// In the order of the header (cbindgen keeps source order).
pub mod error;
pub mod panic;
pub mod refresh;
pub mod client;
pub mod tokens;
pub mod call;
pub mod session;
pub mod store;
pub mod log;

use crate::error::{Error, ErrorKind, Result};
use std::ffi::{c_char, CStr};
use zeroize::Zeroize;

pub use error::av_status;

/// A required string argument: not NULL, valid UTF-8. (Emptiness, length and control
/// characters are checked by the core, which knows each argument's rules.)
pub(crate) unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(name, "must not be NULL"));
    }
    // SAFETY: the caller passes a NUL-terminated string that outlives this call.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        Error::invalid_argument(
            name,
            format!(
                "is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// An optional string argument: NULL is `None`.
pub(crate) unsafe fn arg_opt_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { arg_str(ptr, name) }.map(Some)
    }
}

/// A required out-pointer, cleared to its zero value at once so that it reads NULL/0
/// whatever happens next.
pub(crate) unsafe fn out_ptr<'a, T: OutZero>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(name, "must not be NULL"));
    }
    // SAFETY: non-NULL, and the caller passes a pointer valid for writing a T.
    let slot = unsafe { &mut *ptr };
    *slot = T::ZERO;
    Ok(slot)
}

/// An optional out-pointer (NULL: the caller does not want the value), cleared at once.
pub(crate) unsafe fn out_opt<'a, T: OutZero>(ptr: *mut T) -> Option<&'a mut T> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: as in `out_ptr`.
    let slot = unsafe { &mut *ptr };
    *slot = T::ZERO;
    Some(slot)
}

/// What an out-pointer reads on failure.
pub(crate) trait OutZero {
    const ZERO: Self;
}
impl<T> OutZero for *mut T {
    const ZERO: Self = std::ptr::null_mut();
}
impl OutZero for i64 {
    const ZERO: Self = 0;
}

/// A borrowed handle argument: not NULL.
pub(crate) unsafe fn handle_ref<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(name, "must not be NULL"));
    }
    // SAFETY: the caller passes a live handle of this type from this library.
    Ok(unsafe { &*ptr })
}

/// A mutably borrowed handle argument (builders: one thread at a time).
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(name, "must not be NULL"));
    }
    // SAFETY: the caller passes a live handle of this type, used by this thread alone.
    Ok(unsafe { &mut *ptr })
}

/// Hands `value` to C as an owned handle.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes back and drops a handle from [`into_handle`]; NULL is a no-op.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: the pointer came from `into_handle::<T>` and is freed once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Copies `s` into a new C string the caller frees with `av_string_free`. The copy is
/// made with the C allocator, so freeing it needs no length and survives a caller that
/// shortened the string.
pub(crate) fn new_c_string(s: &str, what: &str) -> Result<*mut c_char> {
    if s.as_bytes().contains(&0) {
        return Err(Error::protocol(format!("the {what} contains a NUL byte")));
    }
    // SAFETY: malloc of len+1 bytes; checked for NULL before use.
    let p = unsafe { libc::malloc(s.len() + 1) } as *mut u8;
    if p.is_null() {
        return Err(Error::new(ErrorKind::Internal, "out of memory"));
    }
    // SAFETY: `p` has room for len+1 bytes and does not overlap `s`.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
        *p.add(s.len()) = 0;
    }
    Ok(p as *mut c_char)
}

/// Wipes and frees a string from [`new_c_string`].
pub(crate) unsafe fn free_c_string(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    // SAFETY: `s` is a NUL-terminated string from `new_c_string`, owned by the caller
    // who hands it back here once.
    unsafe {
        wipe_c_string(s);
        libc::free(s as *mut libc::c_void);
    }
}

/// Overwrites a NUL-terminated string's bytes with zeros (the NUL stays).
unsafe fn wipe_c_string(s: *mut c_char) {
    // SAFETY: the caller passes a writable NUL-terminated string.
    unsafe {
        let len = libc::strlen(s);
        std::slice::from_raw_parts_mut(s as *mut u8, len).zeroize();
    }
}

/// A C string owned by a handle and borrowed out by its getters; wiped when dropped,
/// because it may be a token.
pub(crate) struct OwnedCStr(Vec<u8>);

impl OwnedCStr {
    pub fn new(s: &str, what: &str) -> Result<OwnedCStr> {
        if s.as_bytes().contains(&0) {
            return Err(Error::protocol(format!("the {what} contains a NUL byte")));
        }
        let mut bytes = Vec::with_capacity(s.len() + 1);
        bytes.extend_from_slice(s.as_bytes());
        bytes.push(0);
        Ok(OwnedCStr(bytes))
    }

    pub fn as_ptr(&self) -> *const c_char {
        self.0.as_ptr() as *const c_char
    }
}

impl Drop for OwnedCStr {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The empty C string, for getters given a NULL handle.
pub(crate) const EMPTY: *const c_char = c"".as_ptr();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_out_are_wiped_before_they_are_freed() {
        let p = new_c_string("secret-token", "test").unwrap();
        // SAFETY: `p` is a live string from new_c_string, 12 bytes plus the NUL.
        unsafe {
            assert_eq!(CStr::from_ptr(p).to_str().unwrap(), "secret-token");
            wipe_c_string(p);
            let bytes = std::slice::from_raw_parts(p as *const u8, 13);
            assert!(bytes.iter().all(|&b| b == 0), "{bytes:?}");
            free_c_string(p);
        }
        assert!(new_c_string("a\0b", "test").is_err());
    }
}
