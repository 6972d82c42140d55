//! Fuzzes `timestamp::parse_expires_at` and `timestamp::parse_http_date`.
//!
//! Input: any bytes. They are read three ways: as a JSON document (any JSON value for
//! `expiresAt`), as a string (`expiresAt` as a JSON string, and an HTTP date), and, for
//! the round trip, their first 8 bytes as a number of Unix seconds.
#![no_main]

use alfaview_auth::timestamp::{parse_expires_at, parse_http_date};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// 9999-12-31T23:59:59Z, the latest instant the documentation accepts (1970 is the first).
const MAX_UNIX_SECONDS: i64 = 253_402_300_799;
/// An error message quotes at most 40 characters of the input, with its own words around.
const MAX_ERROR_BYTES: usize = 300;

fuzz_target!(|data: &[u8]| {
    round_trip(data);

    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        let result = checked(&value);
        match &value {
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => assert_eq!(result.ok(), in_range(i).then_some(i), "{n}"),
                (None, Some(f)) if f.is_finite() && f.floor() >= 1.0 => {
                    // Fractions are dropped: the floor, when it is in range.
                    let floor = f.floor();
                    if floor <= MAX_UNIX_SECONDS as f64 {
                        assert_eq!(result, Ok(floor as i64), "{n}");
                    } else {
                        assert!(result.is_err(), "{n}");
                    }
                }
                _ => assert!(result.is_err(), "{n}"),
            },
            Value::String(_) => {}
            _ => assert!(result.is_err(), "{value}"),
        }
    }

    if let Ok(text) = std::str::from_utf8(data) {
        let result = checked(&Value::from(text));
        if let Ok(seconds) = result {
            // Surrounding whitespace and the case of `T`/`Z` do not matter.
            let padded = format!(" \t{text}\n ");
            assert_eq!(checked(&Value::from(padded)), Ok(seconds), "{text:?}");
            let lower = text.to_ascii_lowercase();
            assert_eq!(checked(&Value::from(lower)), Ok(seconds), "{text:?}");
            let upper = text.to_ascii_uppercase();
            assert_eq!(checked(&Value::from(upper)), Ok(seconds), "{text:?}");
        }
        if let Some(seconds) = parse_http_date(text) {
            // HTTP dates run from 1970 to 9999.
            assert!(
                (0..=MAX_UNIX_SECONDS).contains(&seconds),
                "{text:?} -> {seconds}"
            );
        }
    }
});

/// `parse_expires_at` with the invariants of every result checked.
fn checked(value: &Value) -> Result<i64, String> {
    let result = parse_expires_at(value);
    match &result {
        Ok(seconds) => assert!(in_range(*seconds), "{value} -> {seconds}"),
        Err(message) => {
            assert!(!message.is_empty());
            assert!(
                message.len() <= MAX_ERROR_BYTES,
                "{} bytes: {message}",
                message.len()
            );
            assert!(!message.chars().any(char::is_control), "{message:?}");
        }
    }
    result
}

fn in_range(seconds: i64) -> bool {
    (1..=MAX_UNIX_SECONDS).contains(&seconds)
}

/// Any in-range second, as a number and as a numeric string, parses back to itself.
fn round_trip(data: &[u8]) {
    let mut bytes = [0u8; 8];
    let n = data.len().min(8);
    bytes[..n].copy_from_slice(&data[..n]);
    let seconds = 1 + (u64::from_le_bytes(bytes) % MAX_UNIX_SECONDS as u64) as i64;
    assert_eq!(parse_expires_at(&Value::from(seconds)), Ok(seconds));
    assert_eq!(
        parse_expires_at(&Value::from(seconds.to_string())),
        Ok(seconds)
    );
    assert_eq!(
        parse_expires_at(&Value::from(format!("{seconds:012}"))),
        Ok(seconds)
    );
}
