//! The operating system's credential store: Keychain on macOS, Credential Manager on
//! Windows, the Secret Service (GNOME Keyring, KWallet) on Linux when a session bus
//! offers one. The pair is one secret, service `alfaview-auth`, account = the app id.

use super::lock::lock_file;
use super::{decode, encode, FileStore, Pair, PairStore, StoreLock};
use crate::error::{Error, ErrorKind, Result};
use keyring_core::api::CredentialStore;
use keyring_core::Entry;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The service name entries are filed under.
pub const SERVICE: &str = "alfaview-auth";

/// Windows Credential Manager refuses secrets over 2,560 bytes.
#[cfg(windows)]
const MAX_SECRET_BYTES: usize = 2560;

/// The pair for one app id in the OS store.
pub struct OsStore {
    entry: Entry,
    app_id: String,
    lock_path: PathBuf,
}

impl std::fmt::Debug for OsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsStore")
            .field("app_id", &self.app_id)
            .finish()
    }
}

impl OsStore {
    /// The OS store's entry for `app_id`, or an error saying why there is no usable OS
    /// store here (no session bus, no Secret Service, locked keyring, ...).
    pub fn new(app_id: &str) -> Result<OsStore> {
        super::check_app_id(app_id)?;
        let store = platform_store()?;
        let entry = Entry::new_in_store(&store, SERVICE, app_id)
            .map_err(|e| os_error("open the entry", &e))?;
        // Probe: reading must work (a missing entry is fine).
        match entry.get_secret() {
            Ok(mut s) => zeroize::Zeroize::zeroize(&mut s),
            Err(keyring_core::Error::NoEntry) => {}
            Err(e) => return Err(os_error("read", &e)),
        }
        // Renewals are serialised with a lock file: the OS stores have no locks of their own.
        let lock_dir = FileStore::default_dir()?;
        FileStore::new(&lock_dir, app_id)?;
        Ok(OsStore {
            entry,
            app_id: app_id.to_owned(),
            lock_path: lock_dir.join(format!("{app_id}.lock")),
        })
    }
}

impl PairStore for OsStore {
    fn describe(&self) -> String {
        format!("{} entry {SERVICE}/{}", platform_name(), self.app_id)
    }

    fn load(&self) -> Result<Option<Pair>> {
        match self.entry.get_secret() {
            Ok(bytes) => {
                let bytes = zeroize::Zeroizing::new(bytes);
                decode(&bytes, &self.describe()).map(Some)
            }
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(os_error("read", &e)),
        }
    }

    fn save(&self, pair: &Pair) -> Result<()> {
        let bytes = encode(pair);
        #[cfg(windows)]
        if bytes.len() > MAX_SECRET_BYTES {
            return Err(Error::new(
                ErrorKind::Storage,
                format!("the pair is {} bytes; Windows Credential Manager holds at most {MAX_SECRET_BYTES}: use ALFAVIEW_TOKEN_STORE=file:<directory>", bytes.len()),
            ));
        }
        self.entry
            .set_secret(&bytes)
            .map_err(|e| os_error("write", &e))
    }

    fn delete(&self) -> Result<()> {
        match self.entry.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(os_error("delete", &e)),
        }
    }

    fn lock(&self, timeout: Duration) -> Result<Box<dyn StoreLock + '_>> {
        Ok(Box::new(lock_file(&self.lock_path, timeout)?))
    }
}

/// An OS store error in words, never echoing stored bytes (they may be a secret).
fn os_error(action: &str, e: &keyring_core::Error) -> Error {
    let why = match e {
        keyring_core::Error::BadEncoding(_) | keyring_core::Error::BadDataFormat(..) => {
            "the stored secret is not in a readable form".to_owned()
        }
        other => other.to_string(),
    };
    Error::new(
        ErrorKind::Storage,
        format!(
            "the {} could not {action} the token: {why}",
            platform_name()
        ),
    )
}

fn platform_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "macOS Keychain"
    } else if cfg!(windows) {
        "Windows Credential Manager"
    } else {
        "Secret Service"
    }
}

#[cfg(target_os = "linux")]
fn platform_store() -> Result<Arc<CredentialStore>> {
    // Without a session bus libdbus would try to auto-launch one: not our business.
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|v| v.is_empty()) {
        return Err(Error::new(
            ErrorKind::Storage,
            "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), so no Secret Service",
        ));
    }
    let store = dbus_secret_service_keyring_store::Store::new()
        .map_err(|e| os_error("connect to reach", &e))?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn platform_store() -> Result<Arc<CredentialStore>> {
    let store = apple_native_keyring_store::keychain::Store::new()
        .map_err(|e| os_error("be opened to reach", &e))?;
    Ok(store)
}

#[cfg(windows)]
fn platform_store() -> Result<Arc<CredentialStore>> {
    let store = windows_native_keyring_store::Store::new()
        .map_err(|e| os_error("be opened to reach", &e))?;
    Ok(store)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn platform_store() -> Result<Arc<CredentialStore>> {
    Err(Error::new(
        ErrorKind::Storage,
        "this platform has no supported OS credential store",
    ))
}
