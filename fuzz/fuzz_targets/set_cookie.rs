//! Fuzzes `cookies::refresh_cookie` and `cookies::is_valid_cookie_value`.
//!
//! Input: `Set-Cookie` header values, one per line (bytes, not necessarily UTF-8), e.g.
//! `lang=en; Path=/\nauth="tok"; mAx-AgE=60; Expires=Sat, 19 Nov 2022 15:18:15 GMT`.
//!
//! Each header is checked alone against a small independent reading of RFC 6265 (name,
//! value, the last valid `Max-Age`), and the headers together against "the last `auth`
//! cookie that is a refresh token wins".
#![no_main]

use alfaview_auth::cookies::{is_valid_cookie_value, refresh_cookie, RefreshCookie};
use alfaview_auth::timestamp::parse_http_date;
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000;
/// Other clocks the extractor is run with: only a Max-Age expiry may depend on `now`.
const OTHER_NOWS: [i64; 3] = [i64::MAX, i64::MIN, -1];
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
        assert_eq!(
            other.as_ref().map(|c| c.token.expose()),
            found.as_ref().map(|c| c.token.expose()),
            "the clock changed which token was found"
        );
        if let (Some(other), Some(found)) = (&other, &found) {
            let header = last_auth_header(&headers, found);
            match header.and_then(max_age) {
                Some(seconds) => assert_eq!(other.expires_at, Some(now.saturating_add(seconds))),
                None => assert_eq!(other.expires_at, found.expires_at),
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
    let deleted = unquoted.is_empty() || max_age.is_some_and(|s| s <= 0);
    let Some(found) = found else {
        assert!(deleted, "missed the refresh token in {text:?}");
        return;
    };
    assert!(
        !deleted,
        "a deleted or empty cookie read as a token: {text:?}"
    );

    let token = found.token.expose();
    assert!(!token.is_empty());
    // Known bug (reported, `known-bugs` steps over it): of a value in two pairs of quotes,
    // `auth=""x""`, one pair is left on the token.
    let doubly_quoted = cfg!(feature = "known-bugs") && unquote(unquoted) != unquoted;
    assert!(
        doubly_quoted || !(token.len() >= 2 && token.starts_with('"') && token.ends_with('"')),
        "token still quoted: {text:?}"
    );
    assert_eq!(
        token, unquoted,
        "token differs from the cookie's value in {text:?}"
    );
    check_cookie_value(token);

    match max_age {
        Some(seconds) => assert_eq!(
            found.expires_at,
            Some(NOW.saturating_add(seconds)),
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
                if let Some(date) = expires.filter(|d| looks_like_imf_fixdate(d)) {
                    if let Some(t) = parse_http_date(date) {
                        assert_eq!(at, t, "Expires={date:?} read two ways");
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

/// The header (among those that give a token) that produced `found`.
fn last_auth_header<'a>(headers: &[&'a [u8]], found: &RefreshCookie) -> Option<&'a str> {
    headers
        .iter()
        .rev()
        .filter(|h| refresh_cookie([**h], NOW).as_ref() == Some(found))
        .find_map(|h| std::str::from_utf8(h).ok())
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
            if value.is_empty() && cfg!(feature = "known-bugs") {
                // Known bug (reported): `Max-Age=` with no value reads as the longest
                // Max-Age instead of being ignored (RFC 6265 5.2.2).
                return Some(i64::MAX);
            }
            let (negative, digits) = match value.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, value),
            };
            if !value.starts_with(|c: char| c.is_ascii_digit() || c == '-')
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
