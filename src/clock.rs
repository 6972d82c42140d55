//! A clock for token lifetimes: it neither jumps when the wall clock is set nor stops
//! while the machine sleeps, so a token counted on it expires on time after a suspend.
//!
//! Linux and Android: `CLOCK_BOOTTIME`. macOS and iOS: `CLOCK_MONOTONIC`, which there
//! counts sleep. Windows: `std::time::Instant` (QueryPerformanceCounter counts sleep).
//! Elsewhere: `std::time::Instant`, the best the platform offers.

use std::time::Duration;

/// A point on the lifetime clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// Now.
    pub fn now() -> Instant {
        Instant(since_boot())
    }

    /// How long ago `self` was (zero if it is in the future).
    pub fn elapsed(self) -> Duration {
        Instant::now().saturating_duration_since(self)
    }

    /// `self - earlier`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// `self + d`, saturating.
    pub fn saturating_add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d))
    }

    /// Nanoseconds since the clock's origin, for storing in an atomic.
    pub fn as_nanos(self) -> u64 {
        u64::try_from(self.0.as_nanos()).unwrap_or(u64::MAX)
    }

    /// The inverse of [`Instant::as_nanos`].
    pub fn from_nanos(nanos: u64) -> Instant {
        Instant(Duration::from_nanos(nanos))
    }
}

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios"
))]
fn since_boot() -> Duration {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const CLOCK: libc::clockid_t = libc::CLOCK_BOOTTIME;
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is supported on these
    // targets, so the call cannot fail.
    let rc = unsafe { libc::clock_gettime(CLOCK, &mut ts) };
    debug_assert_eq!(rc, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios"
)))]
fn since_boot() -> Duration {
    use once_cell::sync::Lazy;
    static ORIGIN: Lazy<std::time::Instant> = Lazy::new(std::time::Instant::now);
    ORIGIN.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_forward() {
        let a = Instant::now();
        std::thread::sleep(Duration::from_millis(5));
        let b = Instant::now();
        assert!(b.saturating_duration_since(a) >= Duration::from_millis(5));
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
        assert_eq!(Instant::from_nanos(a.as_nanos()), a);
    }
}
