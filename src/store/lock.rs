//! An exclusive lock between processes: an OS file lock (flock on Unix, LockFileEx on
//! Windows) on a lock file beside the entry. The OS releases it if the holder dies.

use super::StoreLock;
use crate::error::{Error, ErrorKind, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

/// The lock, held until dropped.
pub(crate) struct FileLock {
    _file: File,
}

impl StoreLock for FileLock {}

/// Takes the exclusive lock on `path` (created if missing, mode 0600), waiting at most
/// `timeout` for another holder.
pub(crate) fn lock_file(path: &Path, timeout: Duration) -> Result<FileLock> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(|e| {
        Error::new(
            ErrorKind::Storage,
            format!("cannot open the lock file {}: {e}", path.display()),
        )
    })?;
    let start = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(FileLock { _file: file }),
            Err(TryLockError::WouldBlock) => {
                if start.elapsed() >= timeout {
                    return Err(Error::new(
                        ErrorKind::Storage,
                        format!(
                            "waited {} ms for the lock on {} (another process is renewing the token and has not finished)",
                            timeout.as_millis(),
                            path.display()
                        ),
                    ));
                }
                std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(TryLockError::Error(e)) => {
                return Err(Error::new(
                    ErrorKind::Storage,
                    format!("cannot lock {}: {e}", path.display()),
                ))
            }
        }
    }
}
