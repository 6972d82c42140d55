//! The file store: one file per app id in a directory only the user can enter, written
//! atomically (temporary file, fsync, rename, fsync of the directory).

use super::lock::lock_file;
use super::{decode, encode, Pair, PairStore, StoreLock};
use crate::error::{Error, ErrorKind, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Pairs kept as `<dir>/<app_id>.json`, mode 0600 in a mode-0700 directory.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
    path: PathBuf,
    lock_path: PathBuf,
}

impl FileStore {
    /// The store for `app_id` (checked) in `dir`, which is created (mode 0700) if missing.
    pub fn new(dir: impl Into<PathBuf>, app_id: &str) -> Result<FileStore> {
        super::check_app_id(app_id)?;
        let dir = dir.into();
        create_private_dir(&dir)?;
        Ok(FileStore {
            path: dir.join(format!("{app_id}.json")),
            lock_path: dir.join(format!("{app_id}.lock")),
            dir,
        })
    }

    /// `$XDG_DATA_HOME/alfaview-auth`, else `~/.local/share/alfaview-auth` (on Windows
    /// `%APPDATA%\alfaview-auth`; on macOS `~/Library/Application Support/alfaview-auth`).
    pub fn default_dir() -> Result<PathBuf> {
        let env = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let base = if cfg!(windows) {
            env("APPDATA")
        } else if cfg!(target_os = "macos") {
            env("HOME").map(|h| h.join("Library/Application Support"))
        } else {
            env("XDG_DATA_HOME")
                .filter(|p| p.is_absolute())
                .or_else(|| env("HOME").map(|h| h.join(".local/share")))
        };
        base.map(|b| b.join("alfaview-auth")).ok_or_else(|| {
            Error::new(
                ErrorKind::Storage,
                "cannot find a directory for the token file: set HOME (or XDG_DATA_HOME), or ALFAVIEW_TOKEN_STORE=file:<directory>",
            )
        })
    }

    /// The file the pair is kept in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn storage_error(&self, action: &str, e: std::io::Error) -> Error {
        Error::new(
            ErrorKind::Storage,
            format!("cannot {action} {}: {e}", self.path.display()),
        )
    }

    fn write_atomically(&self, bytes: &[u8]) -> std::io::Result<()> {
        let tmp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            self.path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("pair"),
            std::process::id(),
            uuid::Builder::from_random_bytes(crate::random::bytes16())
                .into_uuid()
                .simple()
        ));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let result = (|| {
            let mut file = options.open(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&tmp, &self.path)?;
            sync_dir(&self.dir)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

impl PairStore for FileStore {
    fn describe(&self) -> String {
        format!("file store {}", self.path.display())
    }

    fn load(&self) -> Result<Option<Pair>> {
        let file = match fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.storage_error("read", e)),
        };
        check_private_file(&self.path, &file)?;
        let bytes =
            zeroize::Zeroizing::new(read_limited(file).map_err(|e| self.storage_error("read", e))?);
        decode(&bytes, &self.path.display().to_string()).map(Some)
    }

    fn save(&self, pair: &Pair) -> Result<()> {
        let bytes = encode(pair);
        self.write_atomically(&bytes)
            .map_err(|e| self.storage_error("write", e))
    }

    fn delete(&self) -> Result<()> {
        match fs::remove_file(&self.path) {
            Ok(()) => sync_dir(&self.dir).map_err(|e| self.storage_error("delete", e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.storage_error("delete", e)),
        }
    }

    fn lock(&self, timeout: Duration) -> Result<Box<dyn StoreLock + '_>> {
        Ok(Box::new(lock_file(&self.lock_path, timeout)?))
    }
}

/// A pair file is small; anything over this is not one.
const MAX_FILE_BYTES: u64 = 256 << 10;

fn read_limited(file: fs::File) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| {
        Error::new(
            ErrorKind::Storage,
            format!("cannot create the token directory {}: {e}", dir.display()),
        )
    })
}

/// Refuses a file other users could read or that belongs to someone else.
#[cfg(unix)]
fn check_private_file(path: &Path, file: &fs::File) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().map_err(|e| {
        Error::new(
            ErrorKind::Storage,
            format!("cannot inspect {}: {e}", path.display()),
        )
    })?;
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::new(
            ErrorKind::Storage,
            format!(
                "refusing to read {}: other users can access it (mode {mode:04o}); make it private with: chmod 600 {}",
                path.display(),
                path.display()
            ),
        ));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(Error::new(
            ErrorKind::Storage,
            format!(
                "refusing to read {}: it belongs to user {}, not to this user ({me})",
                path.display(),
                meta.uid()
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_file(_path: &Path, _file: &fs::File) -> Result<()> {
    // The per-user profile directory's ACL is what protects the file on Windows.
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "av-store-{name}-{}-{}",
            std::process::id(),
            uuid::Builder::from_random_bytes(crate::random::bytes16())
                .into_uuid()
                .simple()
        ));
        dir.join("nested")
    }

    #[test]
    fn round_trip_overwrite_delete_not_found() {
        let dir = temp_dir("rt");
        let store = FileStore::new(&dir, "app").unwrap();
        assert!(store.load().unwrap().is_none());
        let a = Pair::new("c-1", "tok-a").unwrap();
        store.save(&a).unwrap();
        assert_eq!(store.load().unwrap().unwrap(), a);
        let b = Pair::new("c-2", "tok-b").unwrap();
        store.save(&b).unwrap();
        assert_eq!(store.load().unwrap().unwrap(), b);
        store.delete().unwrap();
        assert!(store.load().unwrap().is_none());
        store.delete().unwrap();
        // No temporary files left behind.
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn private_modes_and_refusal_of_readable_files() {
        let dir = temp_dir("modes");
        let store = FileStore::new(&dir, "app").unwrap();
        store.save(&Pair::new("c-1", "tok").unwrap()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(store.path()), 0o600);
        fs::set_permissions(store.path(), fs::Permissions::from_mode(0o644)).unwrap();
        let err = store.load().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage);
        assert!(err.message().contains("chmod 600"), "{err}");
        assert!(
            err.message().contains(&store.path().display().to_string()),
            "{err}"
        );
        fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn corrupt_files_are_reported_not_replaced() {
        let dir = temp_dir("corrupt");
        let store = FileStore::new(&dir, "app").unwrap();
        store.save(&Pair::new("c-1", "tok").unwrap()).unwrap();
        fs::write(store.path(), b"{\"format\": \"alfaview-auth/1\", \"compa").unwrap();
        let err = store.load().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage);
        assert!(err.message().contains("corrupt"), "{err}");
        assert!(fs::read(store.path()).unwrap().starts_with(b"{\"format\""));
        fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn path_traversal_is_impossible() {
        let dir = temp_dir("trav");
        for bad in ["../evil", "a/../../b", "..", "/etc/passwd"] {
            assert_eq!(
                FileStore::new(&dir, bad).unwrap_err().kind(),
                ErrorKind::InvalidArgument
            );
        }
        let _ = fs::remove_dir_all(dir.parent().unwrap());
    }

    #[test]
    fn the_lock_is_exclusive_and_times_out() {
        let dir = temp_dir("lock");
        let store = FileStore::new(&dir, "app").unwrap();
        let other = FileStore::new(&dir, "app").unwrap();
        let held = store.lock(Duration::from_secs(1)).unwrap();
        let start = std::time::Instant::now();
        let err = other.lock(Duration::from_millis(100)).err().unwrap();
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert_eq!(err.kind(), ErrorKind::Storage);
        assert!(err.message().contains("waited"), "{err}");
        drop(held);
        other.lock(Duration::from_millis(100)).unwrap();
        fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }
}
