//! The access-token cache: the last access token, so that `token` and `call` in a new
//! process do not refresh every time (a process cannot share the library session's
//! in-memory cache).
//!
//! One small JSON file per app id, `<dir>/<app_id>.json`, mode 0600 in a mode-0700
//! directory (files that others could read, or that are not ours, are ignored), written
//! atomically. `<dir>` is `<file store directory>/cli-cache` when ALFAVIEW_TOKEN_STORE
//! names the file store, else the user's cache directory (`$XDG_CACHE_HOME/alfaview-auth`).
//!
//! An entry is used only for the same API URL, the same company and the same refresh
//! token (by its SHA-256: another program that rotated or replaced the stored pair
//! invalidates it), and only while the token has more than the session's margin left.
//! The cache is a convenience: any problem with it is logged and the token renewed.
//!
//! Readers and writers take `<dir>/<app_id>.lock` first (before the store's own lock,
//! never after), so concurrent invocations renew once and the others use the result.

use alfaview_auth::log::{self, Level};
use alfaview_auth::store::{self, Pair, StoreChoice};
use alfaview_auth::{Secret, DEFAULT_REFRESH_MARGIN};
use serde_json::{json, Value};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use zeroize::{Zeroize, Zeroizing};

const FORMAT: &str = "alfaview-auth-cli/access-token/1";
const MAX_FILE_BYTES: u64 = 64 << 10;

pub struct Cache {
    dir: PathBuf,
    path: PathBuf,
    lock_path: PathBuf,
}

/// The cache lock, released when dropped (closing the file releases the OS lock).
pub struct CacheLock(#[allow(dead_code)] fs::File);

fn warn(message: String) {
    log::log(Level::Warn, || message);
}

impl Cache {
    /// The cache for `app_id`, or `None` (logged) where there is no private place for it.
    pub fn open(app_id: &str) -> Option<Cache> {
        store::check_app_id(app_id).ok()?;
        let dir = match cache_dir() {
            Ok(d) => d,
            Err(why) => {
                log::log(Level::Info, || format!("no access-token cache: {why}"));
                return None;
            }
        };
        if let Err(e) = private_dir(&dir) {
            warn(format!(
                "not using the access-token cache in {}: {e}",
                dir.display()
            ));
            return None;
        }
        Some(Cache {
            path: dir.join(format!("{app_id}.json")),
            lock_path: dir.join(format!("{app_id}.lock")),
            dir,
        })
    }

    /// Takes the cache's lock, waiting at most `timeout`; `None` (logged) if that fails:
    /// the caller goes on without it (the store's own lock still keeps the pair safe).
    pub fn lock(&self, timeout: Duration) -> Option<CacheLock> {
        let mut options = fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = match options.open(&self.lock_path) {
            Ok(f) => f,
            Err(e) => {
                warn(format!(
                    "cannot open the cache lock {}: {e}",
                    self.lock_path.display()
                ));
                return None;
            }
        };
        let deadline = Instant::now() + timeout;
        loop {
            match file.try_lock() {
                Ok(()) => return Some(CacheLock(file)),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => {
                    warn(format!(
                        "cannot lock {}: {e}; going on without the lock",
                        self.lock_path.display()
                    ));
                    return None;
                }
            }
        }
    }

    /// The cached access token and its expiry (Unix seconds), if it belongs to
    /// `base_url` and `pair` and has more than the margin left.
    pub fn read(&self, base_url: &str, pair: &Pair) -> Option<(Secret, i64)> {
        let bytes = match self.read_file() {
            Ok(Some(b)) => b,
            Ok(None) => return None,
            Err(e) => {
                warn(format!(
                    "ignoring the access-token cache {}: {e}",
                    self.path.display()
                ));
                return None;
            }
        };
        let mut value: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) => {
                warn(format!(
                    "ignoring the access-token cache {}: not valid JSON",
                    self.path.display()
                ));
                return None;
            }
        };
        let result = entry_if_valid(&mut value, base_url, pair, now_unix());
        wipe(&mut value);
        match &result {
            Some((_, expires)) => log::log(Level::Debug, || {
                format!(
                    "access token from the cache {} (valid {} s more)",
                    self.path.display(),
                    expires - now_unix()
                )
            }),
            None => log::log(Level::Debug, || {
                format!(
                    "the cached access token in {} is not usable (expiring, or for another pair); renewing",
                    self.path.display()
                )
            }),
        }
        result
    }

    /// Caches `access_token` (expiring at `expires_at`, Unix seconds on the local clock)
    /// for `base_url`, `company_id` and `refresh_token`.
    pub fn write(
        &self,
        base_url: &str,
        company_id: &str,
        refresh_token: &Secret,
        access_token: &Secret,
        expires_at: i64,
    ) {
        let mut value = json!({
            "format": FORMAT,
            "baseUrl": base_url,
            "companyId": company_id,
            "refreshTokenSha256": fingerprint(refresh_token),
            "accessToken": access_token.expose(),
            "expiresAt": expires_at,
            "savedAt": now_unix(),
        });
        let bytes = Zeroizing::new(serde_json::to_vec(&value).unwrap_or_default());
        wipe(&mut value);
        if let Err(e) = self.write_atomically(&bytes) {
            warn(format!(
                "cannot write the access-token cache {}: {e}",
                self.path.display()
            ));
        }
    }

    /// Forgets the cached token (after the pair changed).
    pub fn remove(&self) {
        match fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => warn(format!(
                "cannot delete the access-token cache {}: {e}",
                self.path.display()
            )),
        }
    }

    fn read_file(&self) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
        let mut options = fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
        let file = match options.open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(std::io::Error::other("not a regular file"));
        }
        check_private(&meta, 0o077)?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(std::io::Error::other("too large"));
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len() as usize + 1));
        file.take(MAX_FILE_BYTES).read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    }

    fn write_atomically(&self, bytes: &[u8]) -> std::io::Result<()> {
        let stem = self
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("cache");
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let tmp = self
            .dir
            .join(format!(".{stem}.{}.{nanos}.tmp", std::process::id()));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let result = (|| {
            let mut file = options.open(&tmp)?;
            file.write_all(bytes)?;
            drop(file);
            fs::rename(&tmp, &self.path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

/// The entry in `value`, if it is for this URL and pair and not about to expire.
fn entry_if_valid(
    value: &mut Value,
    base_url: &str,
    pair: &Pair,
    now: i64,
) -> Option<(Secret, i64)> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    if text(value, "format").as_deref() != Some(FORMAT)
        || text(value, "baseUrl").as_deref() != Some(base_url)
        || text(value, "companyId").as_deref() != Some(pair.company_id.as_str())
        || text(value, "refreshTokenSha256") != Some(fingerprint(&pair.refresh_token))
    {
        return None;
    }
    let expires = value.get("expiresAt")?.as_i64()?;
    let saved = value.get("savedAt")?.as_i64()?;
    // The wall clock went back since: the entry's times mean nothing.
    if now < saved {
        return None;
    }
    // Renew as a session would: a margin before expiry, half-way for short lifetimes.
    let lifetime = expires.saturating_sub(saved);
    let margin = (DEFAULT_REFRESH_MARGIN.as_secs() as i64).min(lifetime / 2);
    if now >= expires.saturating_sub(margin) {
        return None;
    }
    match value.get_mut("accessToken")?.take() {
        Value::String(s) if !s.is_empty() => Some((Secret::new(s), expires)),
        mut other => {
            wipe(&mut other);
            None
        }
    }
}

/// SHA-256 of the token, hex: identifies it without keeping it.
fn fingerprint(token: &Secret) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.expose().as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Overwrites every string in `value` (it may hold a token).
pub fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(a) => a.iter_mut().for_each(wipe),
        Value::Object(o) => o.values_mut().for_each(wipe),
        _ => {}
    }
}

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Where the cache lives (see the module docs).
fn cache_dir() -> Result<PathBuf, String> {
    match StoreChoice::from_env().map_err(|e| e.message().to_owned())? {
        StoreChoice::File(dir) => Ok(dir.join("cli-cache")),
        _ => user_cache_dir()
            .ok_or_else(|| "no cache directory (set HOME or XDG_CACHE_HOME)".to_owned()),
    }
}

fn user_cache_dir() -> Option<PathBuf> {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        env("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Caches"))
    } else {
        env("XDG_CACHE_HOME")
            .filter(|p| p.is_absolute())
            .or_else(|| env("HOME").map(|h| h.join(".cache")))
    };
    base.map(|b| b.join("alfaview-auth"))
}

/// Creates `dir` (mode 0700) if missing; fails if it is not a directory only we can use.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let meta = fs::symlink_metadata(dir)?;
    if !meta.is_dir() {
        return Err(std::io::Error::other("not a directory"));
    }
    check_private(&meta, 0o077)
}

#[cfg(unix)]
fn check_private(meta: &fs::Metadata, forbidden: u32) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(std::io::Error::other(format!(
            "owned by uid {}, not by this user",
            meta.uid()
        )));
    }
    if meta.mode() & forbidden != 0 {
        return Err(std::io::Error::other(format!(
            "others may use it (mode {:o})",
            meta.mode() & 0o777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_meta: &fs::Metadata, _forbidden: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pair: &Pair, expires: i64, saved: i64) -> Value {
        json!({"format": FORMAT, "baseUrl": "u", "companyId": pair.company_id,
               "refreshTokenSha256": fingerprint(&pair.refresh_token),
               "accessToken": "AT", "expiresAt": expires, "savedAt": saved})
    }

    #[test]
    fn valid_only_for_the_same_pair_and_with_time_left() {
        let pair = Pair::new("c-1", "rt-1").unwrap();
        let other = Pair::new("c-1", "rt-2").unwrap();
        let now = 1_000_000;
        let ok = |v: &mut Value, p: &Pair, url: &str, now| {
            entry_if_valid(v, url, p, now).map(|(t, e)| (t.expose().to_owned(), e))
        };
        assert_eq!(
            ok(&mut entry(&pair, now + 3600, now), &pair, "u", now),
            Some(("AT".to_owned(), now + 3600))
        );
        assert_eq!(
            ok(&mut entry(&pair, now + 3600, now), &other, "u", now),
            None
        );
        assert_eq!(
            ok(&mut entry(&pair, now + 3600, now), &pair, "v", now),
            None
        );
        // Within the margin, or the clock went back.
        assert_eq!(
            ok(&mut entry(&pair, now + 59, now - 3541), &pair, "u", now),
            None
        );
        assert_eq!(
            ok(&mut entry(&pair, now + 3600, now + 10), &pair, "u", now),
            None
        );
        // Short lifetimes: half-way.
        assert!(ok(&mut entry(&pair, now + 40, now - 10), &pair, "u", now).is_some());
        assert_eq!(
            ok(&mut entry(&pair, now + 10, now - 40), &pair, "u", now),
            None
        );
    }

    #[test]
    fn wipe_clears_every_string() {
        let mut v = json!({"a": "secret", "b": ["x", {"c": "y"}], "n": 1});
        wipe(&mut v);
        assert_eq!(v, json!({"a": "", "b": ["", {"c": ""}], "n": 1}));
    }
}
