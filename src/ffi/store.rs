//! `av_store_*` and store-backed sessions: the pair (company id + refresh token) in the
//! OS store or a private file, or in a store the application provides with callbacks.

use super::client::av_client;
use super::error::av_status;
use super::session::av_session;
use super::{arg_str, handle_ref, into_handle, new_c_string, out_ptr, panic, OwnedCStr};
use crate::client::MAX_ARGUMENT_BYTES;
use crate::error::{Error, ErrorKind, Result};
use crate::store::{self, Pair, PairStore, StoreLock};
use crate::Session;
use std::ffi::{c_char, c_void, CStr};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroize;

/// Saves the pair for `app_id` (1 to 64 characters: letters, digits, '.', '_', '-';
/// starting with a letter or digit) in the store `ALFAVIEW_TOKEN_STORE` chooses: `os`,
/// `file:<directory>`, or unset for the OS store where it works, else a file readable by
/// the user alone (`$XDG_DATA_HOME/alfaview-auth/<app_id>.json`). Atomic: a crash leaves
/// the old pair or the new one.
#[no_mangle]
pub unsafe extern "C" fn av_store_save(
    app_id: *const c_char,
    company_id: *const c_char,
    refresh_token: *const c_char,
) -> av_status {
    panic::status("av_store_save", || {
        // SAFETY (all unsafe calls in this module): the ABI contract, see `ffi`.
        let app_id = unsafe { arg_str(app_id, "app_id") }?;
        let company_id = unsafe { arg_str(company_id, "company_id") }?;
        let refresh_token = unsafe { arg_str(refresh_token, "refresh_token") }?;
        store::save(app_id, company_id, refresh_token)
    })
}

/// Loads the pair stored for `app_id` into `*out_company_id` and `*out_refresh_token`
/// (free both with `av_string_free`). `AV_ERR_NOT_FOUND` if nothing is stored;
/// `AV_ERR_STORAGE` if the store failed, the entry is corrupt, or the file is readable by
/// other users (the message names the file and the fix).
#[no_mangle]
pub unsafe extern "C" fn av_store_load(
    app_id: *const c_char,
    out_company_id: *mut *mut c_char,
    out_refresh_token: *mut *mut c_char,
) -> av_status {
    panic::status("av_store_load", || {
        let out_company = unsafe { out_ptr(out_company_id, "out_company_id") }?;
        let out_token = unsafe { out_ptr(out_refresh_token, "out_refresh_token") }?;
        let app_id = unsafe { arg_str(app_id, "app_id") }?;
        let pair = store::load(app_id)?;
        let company = new_c_string(&pair.company_id, "company id")?;
        match new_c_string(pair.refresh_token.expose(), "refresh token") {
            Ok(token) => {
                *out_company = company;
                *out_token = token;
                Ok(())
            }
            Err(e) => {
                unsafe { super::free_c_string(company) };
                Err(e)
            }
        }
    })
}

/// Deletes the pair stored for `app_id`. Deleting what is not there is not an error.
#[no_mangle]
pub unsafe extern "C" fn av_store_delete(app_id: *const c_char) -> av_status {
    panic::status("av_store_delete", || {
        let app_id = unsafe { arg_str(app_id, "app_id") }?;
        store::delete(app_id)
    })
}

/// Creates a session on the pair stored for `app_id` (`AV_ERR_NOT_FOUND` if none), on
/// client `c` (NULL: the default client). Every renewal takes the entry's exclusive lock,
/// re-reads the stored pair (another process may have rotated it), and saves a rotated
/// refresh token before releasing the lock: processes sharing an app id never refresh
/// with a stale token nor lose a new one.
#[no_mangle]
pub unsafe extern "C" fn av_session_new_from_store(
    c: *const av_client,
    app_id: *const c_char,
    out: *mut *mut av_session,
) -> av_status {
    panic::status("av_session_new_from_store", || {
        let out = unsafe { out_ptr(out, "out") }?;
        let client = if c.is_null() {
            None
        } else {
            Some(&unsafe { handle_ref(c, "c") }?.0)
        };
        let app_id = unsafe { arg_str(app_id, "app_id") }?;
        *out = into_handle(av_session(Session::from_store(client, app_id)?));
        Ok(())
    })
}

/// A store the application provides, e.g. on Redis, Vault or a database shared by a
/// fleet of hosts. Every callback gets the `user_data` given with it, first. Called on
/// the thread that renews the token, never two at once for one session.
#[repr(C)]
pub struct av_store_callbacks {
    /// Required. Writes the stored pair as NUL-terminated strings into `company_id`
    /// (`company_id_size` bytes) and `refresh_token` (`refresh_token_size` bytes; both
    /// sizes are at least 65537) and returns `AV_OK`; `AV_ERR_NOT_FOUND` if nothing is
    /// stored; any other status if the store failed. (Every callback returns an
    /// `av_status` value, as an int32_t.)
    pub load: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            company_id: *mut c_char,
            company_id_size: usize,
            refresh_token: *mut c_char,
            refresh_token_size: usize,
        ) -> i32,
    >,
    /// Required. Replaces the stored pair atomically; returns `AV_OK` or a failure status.
    pub save: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            company_id: *const c_char,
            refresh_token: *const c_char,
        ) -> i32,
    >,
    /// Optional (NULL: no locking). Takes the entry's exclusive lock, shared by every
    /// process and host using it, waiting at most `timeout_ms`; returns `AV_OK`, or a
    /// failure status if the lock could not be had.
    pub lock: Option<unsafe extern "C" fn(user_data: *mut c_void, timeout_ms: u32) -> i32>,
    /// Optional (NULL when `lock` is NULL). Releases the lock `lock` took.
    pub unlock: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

// The callbacks return an `av_status` value as a plain int32_t: a value from C that is
// not one of the enum's must not be read as the Rust enum.
type LoadFn = unsafe extern "C" fn(*mut c_void, *mut c_char, usize, *mut c_char, usize) -> i32;
type SaveFn = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char) -> i32;
type LockFn = unsafe extern "C" fn(*mut c_void, u32) -> i32;
type UnlockFn = unsafe extern "C" fn(*mut c_void);

/// The application's store, as a [`PairStore`].
struct CallbackStore {
    load: LoadFn,
    save: SaveFn,
    lock: Option<(LockFn, UnlockFn)>,
    user_data: *mut c_void,
}

// SAFETY: the application promises its callbacks and user_data may be used from any
// thread that renews the session's token (documented on av_session_new_with_store).
unsafe impl Send for CallbackStore {}
unsafe impl Sync for CallbackStore {}

const OK: i32 = av_status::AV_OK as i32;
const NOT_FOUND: i32 = av_status::AV_ERR_NOT_FOUND as i32;

fn callback_failed(what: &str, status: i32) -> Error {
    // SAFETY: av_status_name accepts any value and returns a static string.
    let name = unsafe { CStr::from_ptr(super::error::av_status_name(status)) };
    Error::new(
        ErrorKind::Storage,
        format!(
            "the application's store {what} callback failed with {} ({status})",
            name.to_string_lossy()
        ),
    )
}

/// Reads a NUL-terminated string the application wrote into `buf`.
fn from_buffer(buf: &[u8], what: &str) -> Result<String> {
    let text = CStr::from_bytes_until_nul(buf).map_err(|_| {
        Error::new(
            ErrorKind::Storage,
            format!(
                "the application's store load callback left the {what} without a terminating NUL"
            ),
        )
    })?;
    text.to_str().map(str::to_owned).map_err(|_| {
        Error::new(
            ErrorKind::Storage,
            format!("the application's store load callback returned a {what} that is not UTF-8"),
        )
    })
}

impl PairStore for CallbackStore {
    fn describe(&self) -> String {
        "application's store (av_store_callbacks)".into()
    }

    fn load(&self) -> Result<Option<Pair>> {
        let size = MAX_ARGUMENT_BYTES + 1;
        let mut company = vec![0u8; size];
        let mut token = zeroize::Zeroizing::new(vec![0u8; size]);
        // SAFETY: the application's callback, with two writable buffers of `size` bytes.
        let status = unsafe {
            (self.load)(
                self.user_data,
                company.as_mut_ptr() as *mut c_char,
                size,
                token.as_mut_ptr() as *mut c_char,
                size,
            )
        };
        match status {
            OK => {}
            NOT_FOUND => return Ok(None),
            other => return Err(callback_failed("load", other)),
        }
        let company = from_buffer(&company, "company id")?;
        let mut token = from_buffer(&token, "refresh token")?;
        let pair = Pair::new(&company, &token).map_err(|e| {
            Error::new(
                ErrorKind::Storage,
                format!(
                    "the application's store holds an unusable pair: {}",
                    e.message()
                ),
            )
        });
        token.zeroize();
        pair.map(Some)
    }

    fn save(&self, pair: &Pair) -> Result<()> {
        let company = OwnedCStr::new(&pair.company_id, "company id")?;
        let token = OwnedCStr::new(pair.refresh_token.expose(), "refresh token")?;
        // SAFETY: the application's callback, with two NUL-terminated strings valid for the call.
        match unsafe { (self.save)(self.user_data, company.as_ptr(), token.as_ptr()) } {
            OK => Ok(()),
            other => Err(callback_failed("save", other)),
        }
    }

    fn delete(&self) -> Result<()> {
        Err(Error::new(
            ErrorKind::Storage,
            "the application's store has no delete callback",
        ))
    }

    fn lock(&self, timeout: Duration) -> Result<Box<dyn StoreLock + '_>> {
        let Some((lock, unlock)) = self.lock else {
            return Ok(Box::new(NoLock));
        };
        let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        // SAFETY: the application's callback.
        match unsafe { lock(self.user_data, ms) } {
            OK => Ok(Box::new(CallbackLock {
                unlock,
                user_data: self.user_data,
            })),
            other => Err(callback_failed("lock", other)),
        }
    }
}

struct NoLock;
impl StoreLock for NoLock {}

struct CallbackLock {
    unlock: UnlockFn,
    user_data: *mut c_void,
}
// SAFETY: as for CallbackStore.
unsafe impl Send for CallbackLock {}
impl StoreLock for CallbackLock {}

impl Drop for CallbackLock {
    fn drop(&mut self) {
        // SAFETY: the application's callback, releasing the lock its lock callback took.
        unsafe { (self.unlock)(self.user_data) }
    }
}

/// Creates a session on the pair held by the application's store `cbs` (copied: it need
/// not outlive the call; `user_data` must outlive the session). The pair is loaded now
/// (`AV_ERR_NOT_FOUND` if the store has none). Each renewal then calls `lock`, `load`
/// (another host may have rotated the token), and after a rotation `save`, then `unlock`.
/// The callbacks may be called from any thread that uses the session.
#[no_mangle]
pub unsafe extern "C" fn av_session_new_with_store(
    c: *const av_client,
    cbs: *const av_store_callbacks,
    user_data: *mut c_void,
    out: *mut *mut av_session,
) -> av_status {
    panic::status("av_session_new_with_store", || {
        let out = unsafe { out_ptr(out, "out") }?;
        let client = if c.is_null() {
            None
        } else {
            Some(&unsafe { handle_ref(c, "c") }?.0)
        };
        let cbs = unsafe { handle_ref(cbs, "cbs") }?;
        let (Some(load), Some(save)) = (cbs.load, cbs.save) else {
            return Err(Error::invalid_argument("cbs", "load and save are required"));
        };
        let lock = match (cbs.lock, cbs.unlock) {
            (Some(l), Some(u)) => Some((l, u)),
            (None, None) => None,
            _ => {
                return Err(Error::invalid_argument(
                    "cbs",
                    "lock and unlock must be given together (or both NULL)",
                ))
            }
        };
        let store = Arc::new(CallbackStore {
            load,
            save,
            lock,
            user_data,
        });
        *out = into_handle(av_session(Session::with_store(client, store)?));
        Ok(())
    })
}
