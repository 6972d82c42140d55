//! The time formats of the protocol: `expiresAt` in any of its three forms, and the
//! HTTP `Date` header.

use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The latest instant accepted: 9999-12-31T23:59:59Z. Anything later is not a time.
const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

/// Reads `expiresAt` as Unix seconds (UTC) from a JSON number (`1668870495`), a numeric
/// string (`"1668870495"`, proto3's int64 mapping) or an RFC 3339 string
/// (`"2022-11-19T15:08:15.123+01:00"`). Fractions of a second are dropped.
///
/// The error says what was wrong, without echoing long input.
pub fn parse_expires_at(value: &Value) -> Result<i64, String> {
    let seconds = match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i
            } else if let Some(f) = n.as_f64().filter(|f| f.is_finite()) {
                // Fractions are dropped first: 253402300799.5 is still the last second.
                let whole = f.floor();
                if whole.abs() > MAX_UNIX_SECONDS as f64 {
                    return Err(out_of_range());
                }
                whole as i64
            } else {
                return Err(out_of_range());
            }
        }
        Value::String(s) => parse_timestamp_str(s)?,
        Value::Null => return Err("expiresAt is null".into()),
        other => {
            return Err(format!(
                "expiresAt is a JSON {}, expected a number or a string",
                json_type(other)
            ))
        }
    };
    if !(1..=MAX_UNIX_SECONDS).contains(&seconds) {
        return Err(out_of_range());
    }
    Ok(seconds)
}

fn out_of_range() -> String {
    "expiresAt is out of range (expected Unix seconds between 1970 and 9999)".into()
}

fn parse_timestamp_str(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("expiresAt is an empty string".into());
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().map_err(|_| out_of_range());
    }
    // RFC 3339 allows lower-case 't' and 'z'; the parser wants upper case.
    let upper;
    let s = if s.bytes().any(|b| b == b't' || b == b'z') {
        upper = s.to_ascii_uppercase();
        upper.as_str()
    } else {
        s
    };
    OffsetDateTime::parse(s, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| {
            let shown: String = s.chars().filter(|c| !c.is_control()).take(40).collect();
            format!("expiresAt \"{shown}\" is neither Unix seconds nor an RFC 3339 time ({e})")
        })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Reads an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT` and the two obsolete forms) as Unix
/// seconds; `None` if it is not one.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let t = httpdate::parse_http_date(s.trim()).ok()?;
    Some(unix_seconds(t))
}

/// `t` as Unix seconds (negative before 1970).
pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The local wall clock as Unix seconds.
pub fn now_unix() -> i64 {
    unix_seconds(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn all_three_forms() {
        assert_eq!(parse_expires_at(&json!(1668870495)), Ok(1668870495));
        assert_eq!(parse_expires_at(&json!(1668870495.75)), Ok(1668870495));
        assert_eq!(parse_expires_at(&json!("1668870495")), Ok(1668870495));
        assert_eq!(parse_expires_at(&json!(" 1668870495 ")), Ok(1668870495));
        assert_eq!(
            parse_expires_at(&json!("2022-11-19T15:08:15Z")),
            Ok(1668870495)
        );
        assert_eq!(
            parse_expires_at(&json!("2022-11-19T16:08:15.123456789+01:00")),
            Ok(1668870495)
        );
        assert_eq!(
            parse_expires_at(&json!("2022-11-19t15:08:15.5z")),
            Ok(1668870495)
        );
        assert_eq!(
            parse_expires_at(&json!("2022-11-19T10:08:15-05:00")),
            Ok(1668870495)
        );
    }

    #[test]
    fn rejects_with_reasons() {
        for (v, needle) in [
            (json!(null), "null"),
            (json!(true), "boolean"),
            (json!({}), "object"),
            (json!(""), "empty"),
            (json!("tomorrow"), "neither"),
            (json!("2022-13-19T15:08:15Z"), "neither"),
            (json!(0), "out of range"),
            (json!(-5), "out of range"),
            (json!("-5"), "out of range"),
            (json!(1668870495000i64), "out of range"),
            (json!("99999999999999999999999"), "out of range"),
            (json!(1e300), "out of range"),
        ] {
            let err = parse_expires_at(&v).unwrap_err();
            assert!(err.contains(needle), "{v}: {err}");
        }
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784111777)
        );
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(784111777)
        );
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(784111777));
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
