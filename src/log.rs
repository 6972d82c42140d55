//! The library's log: off unless the application installs a sink. Messages never hold a
//! secret (they are built from [`Error`](crate::Error) messages and plain facts).

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, RwLock};

/// How important a message is (the C ABI's 1..5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

/// Where log messages go.
pub type Sink = Arc<dyn Fn(Level, &str) + Send + Sync>;

static MAX_LEVEL: AtomicI32 = AtomicI32::new(0);
static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Sends messages up to `max_level` to `sink`; `None` turns logging off.
pub fn set_sink(sink: Option<Sink>, max_level: Level) {
    let mut slot = SINK.write().unwrap_or_else(|e| e.into_inner());
    let level = if sink.is_some() { max_level as i32 } else { 0 };
    *slot = sink;
    MAX_LEVEL.store(level, Ordering::Release);
}

/// Whether a message at `level` would go anywhere (cheap: one atomic load).
pub fn enabled(level: Level) -> bool {
    (level as i32) <= MAX_LEVEL.load(Ordering::Acquire)
}

/// Logs the message `message()` builds, if `level` is enabled.
pub fn log(level: Level, message: impl FnOnce() -> String) {
    if !enabled(level) {
        return;
    }
    let sink = SINK.read().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(sink) = sink {
        sink(level, &message());
    }
}
