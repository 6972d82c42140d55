//! The library's log: off unless the application installs a sink. Messages never hold a
//! secret (they are built from [`Error`](crate::Error) messages and plain facts).

use crate::callback::CallbackSlot;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

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
pub type Sink = Arc<SinkFn>;
/// The function behind a [`Sink`].
pub type SinkFn = dyn Fn(Level, &str) + Send + Sync;

static MAX_LEVEL: AtomicI32 = AtomicI32::new(0);
static SINK: CallbackSlot<SinkFn> = CallbackSlot::new();

/// Sends messages up to `max_level` to `sink`; `None` turns logging off. Returns once no
/// call of the previous sink is under way (on another thread).
pub fn set_sink(sink: Option<Sink>, max_level: Level) {
    let level = if sink.is_some() { max_level as i32 } else { 0 };
    MAX_LEVEL.store(0, Ordering::Release);
    SINK.set(sink);
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
    SINK.call(|sink| sink(level, &message()));
}
