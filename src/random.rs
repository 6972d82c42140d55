//! Fast non-cryptographic randomness for request ids and retry jitter: a per-thread
//! xorshift128+ generator seeded from the standard library's per-process random keys.
//! Nothing secret is ever drawn from it.

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    static STATE: Cell<(u64, u64)> = Cell::new(seed());
}

fn seed() -> (u64, u64) {
    // RandomState's keys come from the OS once per process (and differ per thread);
    // the time and the thread make each generator's start distinct.
    let mut words = [0u64; 2];
    for (i, w) in words.iter_mut().enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.write(format!("{:?}", std::thread::current().id()).as_bytes());
        *w = h.finish();
    }
    (words[0] | 1, words[1])
}

/// 64 random bits.
pub(crate) fn next_u64() -> u64 {
    STATE.with(|s| {
        let (mut a, b) = s.get();
        let result = a.wrapping_add(b);
        a ^= a << 23;
        let next = a ^ b ^ (a >> 17) ^ (b >> 26);
        s.set((b, next));
        result
    })
}

/// A number in [0, 1).
pub(crate) fn unit_f64() -> f64 {
    (next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// 16 random bytes.
pub(crate) fn bytes16() -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&next_u64().to_le_bytes());
    out[8..].copy_from_slice(&next_u64().to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn distinct_values_across_threads() {
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            assert!(seen.insert(bytes16()));
        }
        let other: Vec<[u8; 16]> = std::thread::spawn(|| (0..10_000).map(|_| bytes16()).collect())
            .join()
            .unwrap();
        for b in other {
            assert!(seen.insert(b));
        }
        for _ in 0..1000 {
            let x = unit_f64();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
