//! The refresh token's cookie: taken out of `Set-Cookie` headers by hand (the cookie's
//! `Domain` is not the API host, so a cookie jar would never send it back) and sent back
//! as an explicit `Cookie: auth=...` header.

use crate::secret::Secret;
use cookie::Cookie;

/// The name of the cookie that carries the refresh token.
pub const REFRESH_COOKIE: &str = "auth";

/// A refresh token found in a `Set-Cookie` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshCookie {
    /// The token, without surrounding quotes.
    pub token: Secret,
    /// When the cookie expires, Unix seconds (UTC): from `Max-Age` (counted from `now`)
    /// when present, which takes precedence, else from `Expires`; `None` if neither.
    pub expires_at: Option<i64>,
}

/// Finds the `auth` cookie among the `Set-Cookie` header values of one reply.
///
/// Handles several headers, attributes in any case, quoted values, and `Max-Age` before
/// `Expires` (RFC 6265 5.3). Headers that are not valid UTF-8 or not cookies are skipped;
/// an `auth` cookie with an empty value or a `Max-Age` of zero or less (a deletion) is not a
/// refresh token. If several `auth` cookies are set, the last one wins, as in a browser.
pub fn refresh_cookie<'a>(
    set_cookie_values: impl IntoIterator<Item = &'a [u8]>,
    now_unix: i64,
) -> Option<RefreshCookie> {
    let mut found = None;
    for raw in set_cookie_values {
        let Ok(text) = std::str::from_utf8(raw) else {
            continue;
        };
        let Ok(cookie) = Cookie::parse(text) else {
            continue;
        };
        if cookie.name() != REFRESH_COOKIE {
            continue;
        }
        let token = cookie.value_trimmed();
        // A value still in quotes after one pair is stripped is no cookie value.
        if token.is_empty() || token.contains('"') {
            continue;
        }
        let max_age = max_age(text);
        if max_age.is_some_and(|s| s <= 0) {
            continue;
        }
        let expires_at = match max_age {
            Some(s) => Some(now_unix.saturating_add(s)),
            None => match cookie.expires_datetime().map(|t| t.unix_timestamp()) {
                // An Expires in the past deletes the cookie: not a token to keep.
                Some(t) if t <= now_unix => continue,
                other => other,
            },
        }
        .map(|t| t.min(MAX_EXPIRY));
        found = Some(RefreshCookie {
            token: Secret::from(token),
            expires_at,
        });
    }
    found
}

/// The latest expiry reported: 9999-12-31T23:59:59Z.
const MAX_EXPIRY: i64 = 253_402_300_799;

/// The `Max-Age` attribute's seconds, read as RFC 6265 5.2.2 says: the last one present
/// wins, and one whose value is not `-`? followed by digits is ignored. (The cookie crate
/// reads an empty value as the longest duration.)
fn max_age(set_cookie: &str) -> Option<i64> {
    let mut found = None;
    for attribute in set_cookie.split(';').skip(1) {
        let (name, value) = attribute.split_once('=').unwrap_or((attribute, ""));
        if !name.trim().eq_ignore_ascii_case("max-age") {
            continue;
        }
        let value = value.trim();
        let digits = value.strip_prefix('-').unwrap_or(value);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        found = Some(value.parse::<i64>().unwrap_or(if value.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        }));
    }
    found
}

/// Whether `token` can be sent as a cookie value unchanged: RFC 6265 cookie-octets only
/// (no whitespace, control characters, `"`, `,`, `;` or `\`), so it cannot smuggle another
/// cookie or header into the request.
pub fn is_valid_cookie_value(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E))
}

/// The `Cookie` request header that presents `token` as the refresh token. The caller
/// has checked the value with [`is_valid_cookie_value`].
pub fn cookie_header(token: &Secret) -> Secret {
    Secret::new(format!("{REFRESH_COOKIE}={}", token.expose()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Before the documented header's Expires (2022-11-19), so that one is in the future.
    const NOW: i64 = 1_600_000_000;

    fn find(headers: &[&str]) -> Option<RefreshCookie> {
        refresh_cookie(headers.iter().map(|h| h.as_bytes()), NOW)
    }

    #[test]
    fn documented_header() {
        let c = find(&["auth=0b3f1c2e-1111-2222-3333-444455556666; Path=/; Domain=app.alfaview.com; Expires=Sat, 19 Nov 2022 15:18:15 GMT; HttpOnly; Secure"]).unwrap();
        assert_eq!(c.token.expose(), "0b3f1c2e-1111-2222-3333-444455556666");
        assert_eq!(c.expires_at, Some(1668871095));
    }

    #[test]
    fn among_several_headers() {
        let c = find(&["lang=en; Path=/", "auth=tok1; Path=/", "tracking=abc"]).unwrap();
        assert_eq!(c.token.expose(), "tok1");
        assert_eq!(c.expires_at, None);
        assert!(find(&["lang=en", "authx=nope", "xauth=nope"]).is_none());
        assert!(find(&[]).is_none());
    }

    #[test]
    fn any_attribute_case_and_quotes() {
        let c = find(&[
            "auth=\"tok2\"; path=/; EXPIRES=Sat, 19 Nov 2022 15:18:15 GMT; httponly; SECURE",
        ])
        .unwrap();
        assert_eq!(c.token.expose(), "tok2");
        assert_eq!(c.expires_at, Some(1668871095));
        let c = find(&["auth=tok3; mAx-AgE=60"]).unwrap();
        assert_eq!(c.expires_at, Some(NOW + 60));
    }

    #[test]
    fn max_age_wins_over_expires_in_either_order() {
        for h in [
            "auth=t; Expires=Sat, 19 Nov 2022 15:18:15 GMT; Max-Age=3600",
            "auth=t; Max-Age=3600; Expires=Sat, 19 Nov 2022 15:18:15 GMT",
        ] {
            assert_eq!(find(&[h]).unwrap().expires_at, Some(NOW + 3600), "{h}");
        }
    }

    #[test]
    fn deletions_and_empty_values_are_not_tokens() {
        assert!(find(&["auth=; Path=/"]).is_none());
        assert!(find(&["auth=\"\"; Path=/"]).is_none());
        assert!(find(&["auth=old; Max-Age=0"]).is_none());
        assert!(find(&["auth=old; Max-Age=-1"]).is_none());
        // A later deletion does not erase an earlier valid cookie in the same reply.
        assert_eq!(
            find(&["auth=new", "auth=; Max-Age=0"])
                .unwrap()
                .token
                .expose(),
            "new"
        );
        // The last valid one wins.
        assert_eq!(find(&["auth=a", "auth=b"]).unwrap().token.expose(), "b");
    }

    #[test]
    fn an_expires_in_the_past_deletes_and_bad_max_age_is_ignored() {
        assert!(find(&["auth=old; Expires=Thu, 01 Jan 1970 00:00:01 GMT"]).is_none());
        let c = find(&["auth=t; Max-Age=; Expires=Sat, 19 Nov 2022 15:18:15 GMT"]).unwrap();
        assert_eq!(c.expires_at, Some(1668871095));
        let c = find(&["auth=t; Max-Age=12abc"]).unwrap();
        assert_eq!(c.expires_at, None);
        let c = find(&["auth=t; Max-Age=99999999999999999999999"]).unwrap();
        assert_eq!(c.expires_at, Some(MAX_EXPIRY));
        assert!(find(&["auth=\"\"tok\"\""]).is_none());
    }

    #[test]
    fn garbage_is_skipped() {
        assert!(find(&["", ";;;", "=novalue", "auth"]).is_none());
        let bad_utf8: &[u8] = b"auth=\xff\xfe";
        assert!(refresh_cookie([bad_utf8], NOW).is_none());
        assert_eq!(
            find(&["auth=ok; Expires=not a date"]).unwrap().expires_at,
            None
        );
    }

    #[test]
    fn cookie_values() {
        assert!(is_valid_cookie_value(
            "0b3f1c2e-1111-2222-3333-444455556666"
        ));
        assert!(is_valid_cookie_value("abc+/=_.~!"));
        for bad in [
            "",
            "a b",
            "a;b",
            "a,b",
            "a\"b",
            "a\\b",
            "a\r\nX: y",
            "a\0",
            "é",
        ] {
            assert!(!is_valid_cookie_value(bad), "{bad:?}");
        }
        assert_eq!(cookie_header(&Secret::from("xyz")).expose(), "auth=xyz");
    }
}
