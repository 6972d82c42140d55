//! Storing the pair (company id + refresh token): the operating system's protected store
//! where there is one, else a file only the user can read; plus the interface a session
//! uses to share one pair between processes (or hosts) without losing a rotated token.
//!
//! `ALFAVIEW_TOKEN_STORE` chooses: `os`, `file` (the default directory) or `file:<dir>`.
//! Unset, the OS store is used where it works and the file store elsewhere; the choice is
//! logged.
//!
//! ```
//! use alfaview_auth::store::{FileStore, Pair, PairStore};
//! use alfaview_auth::{Client, Session};
//! use std::sync::Arc;
//! # let mock = alfaview_mock::MockServer::start();
//! # let dir = std::env::temp_dir().join(format!("av-doc-store-{}", std::process::id()));
//!
//! let client = Client::builder().base_url(&mock.base_url())?.build()?;
//! let tokens = client.login_password("alice", "wonderland", Some("c-100"))?;
//!
//! // Once: keep the pair (here in a file store; `store::save` uses the chosen store).
//! let store = Arc::new(FileStore::new(&dir, "com.example.app")?);
//! store.save(&Pair::new(tokens.company_id(), tokens.refresh_token().unwrap().expose())?)?;
//!
//! // Every later run, in any number of processes: renewals lock the entry, re-read it,
//! // and save a rotated refresh token before unlocking.
//! let session = Session::with_store(Some(&client), store)?;
//! let (access_token, expires_at) = session.access_token()?;
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), alfaview_auth::Error>(())
//! ```

mod file;
mod lock;
mod os;

pub use file::FileStore;
pub use os::OsStore;

use crate::client::{check_refresh_token, check_text};
use crate::error::{Error, ErrorKind, Result};
use crate::log::{self, Level};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The environment variable that chooses the store.
pub const ENV_TOKEN_STORE: &str = "ALFAVIEW_TOKEN_STORE";
/// The longest app id accepted.
pub const MAX_APP_ID_LEN: usize = 64;

/// A company id and the refresh token tied to it.
#[derive(Clone, PartialEq, Eq)]
pub struct Pair {
    pub company_id: String,
    pub refresh_token: Secret,
}

impl Pair {
    /// A pair whose parts pass the same checks as arguments to a refresh.
    pub fn new(company_id: &str, refresh_token: &str) -> Result<Pair> {
        check_text("company_id", company_id)?;
        check_refresh_token(refresh_token)?;
        Ok(Pair {
            company_id: company_id.to_owned(),
            refresh_token: Secret::from(refresh_token),
        })
    }
}

impl fmt::Debug for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pair")
            .field("company_id", &self.company_id)
            .field("refresh_token", &self.refresh_token)
            .finish()
    }
}

/// Held while a process renews with the stored pair; dropping it unlocks.
pub trait StoreLock: Send {}

/// Somewhere a pair is kept. Implementations must make `save` atomic (a reader sees the
/// old pair or the new one, never a torn one) and `lock` exclusive among every process
/// that shares the entry.
pub trait PairStore: Send + Sync {
    /// What and where it is, for messages and the log (no secrets).
    fn describe(&self) -> String;
    /// The stored pair; `None` if there is none.
    fn load(&self) -> Result<Option<Pair>>;
    /// Replaces the stored pair.
    fn save(&self, pair: &Pair) -> Result<()>;
    /// Removes the stored pair (no error if there is none).
    fn delete(&self) -> Result<()>;
    /// Takes the entry's exclusive lock, waiting at most `timeout`.
    fn lock(&self, timeout: Duration) -> Result<Box<dyn StoreLock + '_>>;
}

/// Checks an app id: 1 to 64 characters from `A-Z a-z 0-9 . _ -`, starting with a letter
/// or digit — so it is a safe file name and can never climb out of a directory.
pub fn check_app_id(app_id: &str) -> Result<()> {
    if app_id.is_empty() || app_id.len() > MAX_APP_ID_LEN {
        return Err(Error::invalid_argument(
            "app_id",
            format!("must be 1 to {MAX_APP_ID_LEN} characters long"),
        ));
    }
    let first_ok = app_id.as_bytes()[0].is_ascii_alphanumeric();
    let all_ok = app_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !first_ok || !all_ok {
        return Err(Error::invalid_argument(
            "app_id",
            "may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit",
        ));
    }
    Ok(())
}

/// Which store `ALFAVIEW_TOKEN_STORE` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    /// Unset: the OS store where it works, else the file store in the default directory.
    Auto,
    /// The OS store, or an error where there is none.
    Os,
    /// The file store in this directory.
    File(PathBuf),
}

impl StoreChoice {
    /// Reads `ALFAVIEW_TOKEN_STORE`.
    pub fn from_env() -> Result<StoreChoice> {
        match std::env::var_os(ENV_TOKEN_STORE) {
            None => Ok(StoreChoice::Auto),
            Some(v) if v.is_empty() => Ok(StoreChoice::Auto),
            Some(v) => StoreChoice::parse(&v.to_string_lossy()),
        }
    }

    /// Parses `os`, `file` or `file:<dir>`.
    pub fn parse(value: &str) -> Result<StoreChoice> {
        match value {
            "os" => Ok(StoreChoice::Os),
            "file" => Ok(StoreChoice::File(FileStore::default_dir()?)),
            other => match other.strip_prefix("file:") {
                Some(dir) if !dir.is_empty() => Ok(StoreChoice::File(PathBuf::from(dir))),
                _ => Err(Error::invalid_argument(
                    ENV_TOKEN_STORE,
                    format!(
                        "must be \"os\", \"file\" or \"file:<directory>\", not \"{}\"",
                        other.chars().take(80).collect::<String>()
                    ),
                )),
            },
        }
    }
}

/// The store for `app_id` that `ALFAVIEW_TOKEN_STORE` chooses (see the module docs).
pub fn open(app_id: &str) -> Result<Arc<dyn PairStore>> {
    check_app_id(app_id)?;
    let store: Arc<dyn PairStore> = match StoreChoice::from_env()? {
        StoreChoice::File(dir) => Arc::new(FileStore::new(dir, app_id)?),
        StoreChoice::Os => Arc::new(OsStore::new(app_id)?),
        StoreChoice::Auto => match OsStore::new(app_id) {
            Ok(os) => Arc::new(os),
            Err(why) => {
                let file = FileStore::new(FileStore::default_dir()?, app_id)?;
                log::log(Level::Info, || {
                    format!(
                        "no usable OS credential store ({}); using the file store",
                        why.message()
                    )
                });
                Arc::new(file)
            }
        },
    };
    log::log(Level::Info, || {
        format!("token store for app {app_id}: {}", store.describe())
    });
    Ok(store)
}

/// Saves the pair for `app_id` in the chosen store.
pub fn save(app_id: &str, company_id: &str, refresh_token: &str) -> Result<()> {
    let pair = Pair::new(company_id, refresh_token)?;
    open(app_id)?.save(&pair)
}

/// Loads the pair for `app_id`; [`ErrorKind::NotFound`] if nothing is stored.
pub fn load(app_id: &str) -> Result<Pair> {
    let store = open(app_id)?;
    store.load()?.ok_or_else(|| not_found(app_id, &*store))
}

/// Deletes the pair for `app_id` (no error if there is none).
pub fn delete(app_id: &str) -> Result<()> {
    open(app_id)?.delete()
}

pub(crate) fn not_found(app_id: &str, store: &dyn PairStore) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!(
            "no refresh token is stored for app {app_id} ({})",
            store.describe()
        ),
    )
}

/// The stored form of a pair, the same in a file and in an OS store's secret.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    format: String,
    #[serde(rename = "companyId")]
    company_id: String,
    #[serde(rename = "refreshToken")]
    refresh_token: String,
}

const FORMAT: &str = "alfaview-auth/1";

fn encode(pair: &Pair) -> zeroize::Zeroizing<Vec<u8>> {
    let stored = Stored {
        format: FORMAT.to_owned(),
        company_id: pair.company_id.clone(),
        refresh_token: pair.refresh_token.expose().to_owned(),
    };
    let bytes = serde_json::to_vec(&stored).expect("serialising strings cannot fail");
    let mut stored = stored;
    zeroize::Zeroize::zeroize(&mut stored.refresh_token);
    zeroize::Zeroizing::new(bytes)
}

/// Reads a stored pair; `place` names where it came from for the error message.
fn decode(bytes: &[u8], place: &str) -> Result<Pair> {
    let corrupt = |why: String| {
        Error::new(
            ErrorKind::Storage,
            format!("the stored pair in {place} is corrupt ({why}); delete it (av_store_delete) and sign in again, or save a new pair"),
        )
    };
    let mut stored: Stored = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if stored.format != FORMAT {
        return Err(corrupt(format!(
            "unknown format {:?}",
            stored.format.chars().take(40).collect::<String>()
        )));
    }
    let pair = Pair::new(&stored.company_id, &stored.refresh_token)
        .map_err(|e| corrupt(e.message().replace("invalid argument ", "")));
    zeroize::Zeroize::zeroize(&mut stored.refresh_token);
    pair
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids() {
        for ok in ["myapp", "com.example.app", "a", "App_1-x", &"a".repeat(64)] {
            assert!(check_app_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../x",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "a b",
            "-x",
            "é",
            &"a".repeat(65),
            "a\0b",
        ] {
            let err = check_app_id(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad:?}");
            assert!(err.message().contains("app_id"), "{err}");
        }
    }

    #[test]
    fn choices() {
        assert_eq!(StoreChoice::parse("os").unwrap(), StoreChoice::Os);
        assert_eq!(
            StoreChoice::parse("file:/tmp/x").unwrap(),
            StoreChoice::File(PathBuf::from("/tmp/x"))
        );
        for bad in ["", "file:", "keychain", "OS"] {
            let err = StoreChoice::parse(bad).unwrap_err();
            assert!(err.message().contains(ENV_TOKEN_STORE), "{err}");
        }
    }

    #[test]
    fn encoding_round_trips_and_rejects_garbage() {
        let pair = Pair::new("c-1", "tok-123").unwrap();
        let bytes = encode(&pair);
        assert_eq!(decode(&bytes, "here").unwrap(), pair);
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            br#"{"format":"x","companyId":"c","refreshToken":"t"}"#,
            br#"{"format":"alfaview-auth/1","companyId":"","refreshToken":"t"}"#,
            br#"{"format":"alfaview-auth/1","companyId":"c","refreshToken":"a b"}"#,
            br#"{"format":"alfaview-auth/1","companyId":"c"}"#,
            br#"{"format":"alfaview-auth/1","companyId":"c","refreshToken":"t","x":1}"#,
        ] {
            let err = decode(bad, "the file").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Storage);
            assert!(err.message().contains("corrupt"), "{err}");
            assert!(err.message().contains("the file"), "{err}");
        }
    }
}
