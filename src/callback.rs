//! A slot for an application's callback that can be replaced while other threads may be
//! calling it. Replacing (or clearing) waits until every call of the old callback that is
//! already under way has returned, so the application may free what the old callback
//! uses as soon as the setter returns. A callback that replaces itself from inside a
//! call does not wait for its own call.

use std::cell::Cell;
use std::sync::{Arc, RwLock};
use std::time::Duration;

thread_local! {
    /// How many callback calls are under way on this thread (callbacks may nest).
    static CALLS_ON_THIS_THREAD: Cell<usize> = const { Cell::new(0) };
}

/// Holds an optional callback `T` (e.g. `dyn Fn(..) + Send + Sync`).
pub(crate) struct CallbackSlot<T: ?Sized> {
    current: RwLock<Option<Arc<T>>>,
}

impl<T: ?Sized> CallbackSlot<T> {
    pub const fn new() -> Self {
        CallbackSlot {
            current: RwLock::new(None),
        }
    }

    /// Whether a callback is set.
    #[cfg(test)]
    pub fn is_set(&self) -> bool {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Replaces the callback, then waits until calls of the old one have returned.
    pub fn set(&self, new: Option<Arc<T>>) {
        let old = std::mem::replace(
            &mut *self.current.write().unwrap_or_else(|e| e.into_inner()),
            new,
        );
        let Some(old) = old else { return };
        // Each call under way holds one clone. Calls on this thread (a callback replacing
        // callbacks) cannot finish while we wait, so they are not waited for.
        let own = CALLS_ON_THIS_THREAD.with(Cell::get);
        let mut pause = Duration::from_micros(50);
        while Arc::strong_count(&old) > 1 + own {
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(5));
        }
    }

    /// Calls the callback, if one is set, with `call`; returns whether one was called.
    pub fn call(&self, call: impl FnOnce(&T)) -> bool {
        let Some(callback) = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        else {
            return false;
        };
        struct Depth;
        impl Drop for Depth {
            fn drop(&mut self) {
                CALLS_ON_THIS_THREAD.with(|c| c.set(c.get() - 1));
            }
        }
        CALLS_ON_THIS_THREAD.with(|c| c.set(c.get() + 1));
        let _depth = Depth;
        call(&callback);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    type Cb = dyn Fn() + Send + Sync;

    #[test]
    fn clearing_waits_for_calls_under_way() {
        let slot: Arc<CallbackSlot<Cb>> = Arc::new(CallbackSlot::new());
        let finished = Arc::new(AtomicBool::new(false));
        let f = finished.clone();
        slot.set(Some(Arc::new(move || {
            std::thread::sleep(Duration::from_millis(200));
            f.store(true, Ordering::SeqCst);
        })));
        let s = slot.clone();
        let caller = std::thread::spawn(move || s.call(|cb| cb()));
        std::thread::sleep(Duration::from_millis(50));
        let start = Instant::now();
        slot.set(None);
        assert!(
            finished.load(Ordering::SeqCst),
            "set(None) returned during a call"
        );
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert!(caller.join().unwrap());
        assert!(!slot.call(|cb| cb()));
    }

    #[test]
    fn a_callback_may_clear_itself() {
        let slot: Arc<CallbackSlot<Cb>> = Arc::new(CallbackSlot::new());
        let s = slot.clone();
        slot.set(Some(Arc::new(move || s.set(None))));
        assert!(slot.call(|cb| cb()));
        assert!(!slot.is_set());
    }
}
