//! Writing results: stdout as one write (a failed write is exit status 74), times in
//! words, tokens shortened.

use crate::cache::{now_unix, wipe};
use crate::error::CliError;
use serde_json::Value;
use std::io::Write;
use zeroize::Zeroizing;

/// Writes `text` to stdout and flushes it.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::Io(format!("cannot write the output: {e}")))
}

/// Writes `text` to stderr; if stderr itself is gone there is nobody left to tell.
pub fn eprint(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Writes `value` as one line of JSON (pretty with `pretty`), then wipes its strings
/// (it may hold tokens).
pub fn print_json(mut value: Value, pretty: bool) -> Result<(), CliError> {
    let text = if pretty {
        serde_json::to_string_pretty(&value)
    } else {
        serde_json::to_string(&value)
    };
    wipe(&mut value);
    let mut text = Zeroizing::new(text.unwrap_or_default());
    text.push('\n');
    print(&text)
}

/// `2026-05-01T12:34:56Z`.
pub fn rfc3339(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2026-05-01 12:34:56 UTC (in 59 min)`.
pub fn when(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!(
        "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC ({})",
        relative(unix - now_unix())
    )
}

fn relative(secs: i64) -> String {
    let (past, n) = (secs < 0, secs.unsigned_abs());
    let amount = match n {
        0..=119 => format!("{n} s"),
        120..=7199 => format!("{} min", n / 60),
        7200..=172_799 => format!("{} h", n / 3600),
        _ => format!("{} days", n / 86_400),
    };
    if past {
        format!("{amount} ago")
    } else {
        format!("in {amount}")
    }
}

/// Year, month, day, hour, minute, second (UTC) of Unix time `t`: the days-from-civil
/// algorithm run backwards (proleptic Gregorian calendar, eras of 400 years).
fn civil(t: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs / 3600, secs / 60 % 60, secs % 60)
}

/// The first characters of a token, for recognising it: never more than 4, and fewer
/// for short tokens (at most a quarter of it).
pub fn prefix(token: &str) -> String {
    let n = (token.chars().count() / 4).min(4);
    let head: String = token.chars().take(n).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn words() {
        assert_eq!(relative(30), "in 30 s");
        assert_eq!(relative(3600), "in 60 min");
        assert_eq!(relative(-7200), "2 h ago");
        assert_eq!(relative(86_400 * 30), "in 30 days");
    }

    #[test]
    fn prefixes_stay_short() {
        assert_eq!(prefix("0123456789abcdef0123"), "0123…");
        assert_eq!(prefix("abcdefgh"), "ab…");
        assert_eq!(prefix("abc"), "…");
    }
}
