//! Fuzzes `cookies::refresh_cookie` and `cookies::is_valid_cookie_value`.
//!
//! Input: `Set-Cookie` header values, one per line (bytes, not necessarily UTF-8), e.g.
//! `lang=en; Path=/\nauth="tok"; mAx-AgE=60; Expires=Sat, 19 Nov 2022 15:18:15 GMT`.
//!
//! Each header is checked alone against a small independent reading of RFC 6265 (name,
//! value, the last valid `Max-Age`, an `Expires` in the past as a deletion), and the
//! headers together against "the last `auth` cookie that is a refresh token wins".
#![no_main]

use alfaview_auth::cookies::{is_valid_cookie_value, refresh_cookie, RefreshCookie};
use alfaview_auth::timestamp::parse_http_date;
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000;
/// Other clocks the extractor is run with: a Max-Age expiry depends on `now`, and so
/// does whether an `Expires` lies in the past.
const OTHER_NOWS: [i64; 3] = [i64::MAX, i64::MIN, -1];
/// The latest expiry the library reports (9999-12-31T23:59:59Z).
const MAX_EXPIRY: i64 = 253_402_300_799;
const MAX_HEADERS: usize = 16;

fuzz_target!(|data: &[u8]| {
    let headers: Vec<&[u8]> = data.split(|&b| b == b'\n').take(MAX_HEADERS).collect();

    let mut last_single = None;
    for header in &headers {
        let single = refresh_cookie([*header], NOW);
        check_one(header, single.as_ref());
        if single.is_some() {
            last_single = single;
        }
    }

    let found = refresh_cookie(headers.iter().copied(), NOW);
    assert_eq!(found, last_single, "the last refresh cookie must win");

    for now in OTHER_NOWS {
        let other = refresh_cookie(headers.iter().copied(), now);
        let last = headers.iter().rev().find_map(|h| refresh_cookie([*h], now));
        assert_eq!(
            other, last,
            "the last refresh cookie must win at every clock"
        );
        if let Some(other) = &other {
            let header = headers
                .iter()
                .rev()
                .find(|h| refresh_cookie([**h], now).as_ref() == Some(other))
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(seconds) = header.and_then(max_age) {
                assert_eq!(
                    other.expires_at,
                    Some(now.saturating_add(seconds).min(MAX_EXPIRY))
                );
            }
        }
    }
});

/// Checks what one header gave against the independent reading of it.
fn check_one(header: &[u8], found: Option<&RefreshCookie>) {
    let Some(text) = std::str::from_utf8(header).ok() else {
        assert!(found.is_none(), "a token from a header that is not UTF-8");
        return;
    };
    check_cookie_value(text);
    let Some(value) = auth_value(text) else {
        assert!(
            found.is_none(),
            "a token from a header without an auth cookie: {text:?}"
        );
        return;
    };
    let unquoted = unquote(value);
    let max_age = max_age(text);
    // Empty, still quoted after one pair is removed (no cookie value), or deleted.
    let deleted = unquoted.is_empty() || unquoted.contains('"') || max_age.is_some_and(|s| s <= 0);
    // Without Max-Age, an Expires in the past deletes it too (its date is the cookie
    // parser's to read; checked below where the date is a plain IMF-fixdate).
    let may_have_expired = max_age.is_none() && last_attribute(text, "expires").is_some();
    let Some(found) = found else {
        assert!(
            deleted || may_have_expired,
            "missed the refresh token in {text:?}"
        );
        return;
    };
    assert!(
        !deleted,
        "a deleted or empty cookie read as a token: {text:?}"
    );

    let token = found.token.expose();
    assert!(!token.is_empty());
    assert!(!token.contains('"'), "token still quoted: {text:?}");
    assert_eq!(
        token, unquoted,
        "token differs from the cookie's value in {text:?}"
    );
    check_cookie_value(token);

    match max_age {
        Some(seconds) => assert_eq!(
            found.expires_at,
            Some(NOW.saturating_add(seconds).min(MAX_EXPIRY)),
            "expiry is not now + Max-Age in {text:?}"
        ),
        None => {
            if let Some(at) = found.expires_at {
                let expires = last_attribute(text, "expires");
                assert!(
                    expires.is_some(),
                    "an expiry without Max-Age or Expires: {text:?}"
                );
                // Cross-check the cookie parser's date against the library's HTTP-date
                // parser when the last Expires is a plain IMF-fixdate both read.
                assert!(at > NOW && at <= MAX_EXPIRY, "expiry {at} in {text:?}");
                if let Some(date) = expires.filter(|d| looks_like_imf_fixdate(d)) {
                    if let Some(t) = parse_http_date(date) {
                        assert_eq!(at, t.min(MAX_EXPIRY), "Expires={date:?} read two ways");
                    }
                }
            }
        }
    }
}

/// `is_valid_cookie_value` accepts only RFC 6265 cookie-octets, never an empty string.
fn check_cookie_value(value: &str) {
    let octets = value
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && !b"\";,\\".contains(&b));
    assert_eq!(
        is_valid_cookie_value(value),
        octets && !value.is_empty(),
        "{value:?}"
    );
}

/// The value of the cookie if the header sets one named `auth`.
fn auth_value(header: &str) -> Option<&str> {
    let pair = header.split(';').next()?;
    let (name, value) = pair.split_once('=')?;
    (name.trim() == "auth").then(|| value.trim())
}

/// A cookie value without one pair of surrounding double quotes (RFC 6265 4.1.1).
fn unquote(value: &str) -> &str {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => inner,
        None => value,
    }
}

/// The value of the last attribute named `name` (any case) that has a value.
fn last_attribute<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .skip(1)
        .filter_map(|attr| attr.split_once('='))
        .filter(|(key, _)| key.trim().eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
        .last()
}

/// The last valid `Max-Age` in seconds (RFC 6265 5.2.2: an optional `-`, then digits;
/// anything else is ignored; an overflowing number saturates, a negative one is zero).
fn max_age(header: &str) -> Option<i64> {
    header
        .split(';')
        .skip(1)
        .filter_map(|attr| attr.split_once('='))
        .filter(|(key, _)| key.trim().eq_ignore_ascii_case("max-age"))
        .filter_map(|(_, value)| {
            let value = value.trim();
            let (negative, digits) = match value.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, value),
            };
            // A lone "-" has no number to convert: ignored, like any non-number.
            if !value.starts_with(|c: char| c.is_ascii_digit() || c == '-')
                || digits.is_empty()
                || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            Some(if negative {
                0
            } else {
                digits.parse::<i64>().unwrap_or(i64::MAX)
            })
        })
        .last()
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`: the preferred HTTP date format, which every cookie
/// date parser reads the same way.
fn looks_like_imf_fixdate(date: &str) -> bool {
    let b = date.as_bytes();
    b.len() == 29 && b[3] == b',' && date.ends_with(" GMT")
}
