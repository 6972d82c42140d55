//! Property tests of the three parsers that read what the server sends: the reply reader
//! (`protocol::read_reply`, `protocol::status_name`), the refresh-token cookie extractor
//! (`cookies::refresh_cookie`) and the timestamp parsers (`timestamp::parse_expires_at`,
//! `timestamp::parse_http_date`). Case counts are kept small enough for a debug build to
//! run the whole file in a few seconds; `fuzz/` has the long-running counterparts.

use alfaview_auth::cookies::refresh_cookie;
use alfaview_auth::protocol::{read_reply, status_name, Endpoint, STATUS_CODES};
use alfaview_auth::timestamp::{parse_expires_at, parse_http_date};
use alfaview_auth::ErrorKind;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Map, Value};
use time::{OffsetDateTime, UtcOffset};

/// 9999-12-31T23:59:59Z: the latest `expiresAt` accepted (the earliest is 1).
const MAX_UNIX_SECONDS: i64 = 253_402_300_799;
const NOW: i64 = 1_700_000_000;
const SENT_ID: &str = "sent-request-id";

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Shrunk failures are printed; no regression files are written into tests/.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------
// Generators

/// A Unix second the parsers must accept.
fn unix_seconds() -> impl Strategy<Value = i64> {
    prop_oneof![
        1 => Just(1i64),
        1 => Just(MAX_UNIX_SECONDS),
        8 => 1..=MAX_UNIX_SECONDS,
    ]
}

/// `s` with each ASCII letter in upper or lower case as the bits of `mask` say.
fn with_case(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if (mask >> (i % 64)) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// `t` as an RFC 3339 string in the offset `offset_minutes`, with the first `digits`
/// digits of `nanos` as fractional seconds and `T`/`Z` in either case; `None` when the
/// local date is outside the four-digit years RFC 3339 can write.
fn rfc3339(
    unix: i64,
    offset_minutes: i32,
    nanos: u32,
    digits: usize,
    lower: bool,
) -> Option<String> {
    let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).ok()?;
    let utc = OffsetDateTime::from_unix_timestamp(unix).ok()?;
    let local = utc
        .replace_nanosecond(nanos)
        .ok()?
        .checked_to_offset(offset)
        .filter(|t| (0..=9999).contains(&t.year()))?;
    let fraction = if digits == 0 {
        String::new()
    } else {
        format!(".{}", &format!("{:09}", local.nanosecond())[..digits])
    };
    let zone = if offset_minutes == 0 {
        "Z".to_owned()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let m = offset_minutes.unsigned_abs();
        format!("{sign}{:02}:{:02}", m / 60, m % 60)
    };
    let text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}{zone}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second(),
    );
    Some(if lower {
        text.to_ascii_lowercase()
    } else {
        text
    })
}

/// `unix` as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the `Expires` and `Date`
/// format.
fn http_date(unix: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix).expect("in range");
    let weekday = &format!("{:?}", t.weekday())[..3];
    let month = &format!("{:?}", t.month())[..3];
    format!(
        "{weekday}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object's other fields, never `replyInfo`.
fn other_fields() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("[a-z][a-zA-Z]{0,10}", json_value(), 0..4)
        .prop_map(|m| m.into_iter().filter(|(k, _)| k != "replyInfo").collect())
}

/// The three ways a `statusCode` may be written: name, number, digits in a string.
fn status_forms(name: &'static str, number: i64) -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::from(name)),
        Just(Value::from(number)),
        Just(Value::from(number.to_string())),
    ]
}

/// A known status other than OK, in any of its forms, with its name.
fn failing_status() -> impl Strategy<Value = (&'static str, Value)> {
    let failing: Vec<(&'static str, i64)> = STATUS_CODES
        .iter()
        .copied()
        .filter(|&(name, _)| name != "OK")
        .collect();
    prop::sample::select(failing)
        .prop_flat_map(|(name, number)| (Just(name), status_forms(name, number)))
}

/// What the documentation promises for a server status name.
fn documented_kind(name: &str) -> ErrorKind {
    match name {
        "AUTHENTICATION_ERROR" | "ACCOUNT_STATUS_ERROR" => ErrorKind::Authentication,
        "TOKEN_OUTDATED" => ErrorKind::TokenExpired,
        _ => ErrorKind::Api,
    }
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    prop_oneof![Just(Endpoint::Authenticate), Just(Endpoint::Call)]
}

/// A cookie that is not the refresh token.
fn other_cookie() -> impl Strategy<Value = String> {
    (
        "[a-zA-Z0-9_]{1,10}".prop_filter("not auth", |n| n != "auth"),
        "[a-zA-Z0-9._~+/=-]{0,16}",
        prop::collection::vec(attribute(), 0..3),
    )
        .prop_map(|(name, value, attrs)| format!("{name}={value}{}", attrs.concat()))
}

/// An attribute that says nothing about expiry, `; ` included, in any case.
fn attribute() -> impl Strategy<Value = String> {
    const ATTRIBUTES: &[&str] = &[
        "Path=/",
        "Domain=app.alfaview.com",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
    ];
    (prop::sample::select(ATTRIBUTES), any::<u64>())
        .prop_map(|(a, mask)| format!("; {}", with_case(a, mask)))
}

/// The refresh cookie: its header, token and the expiry the extractor must report.
#[derive(Debug, Clone)]
struct AuthCookie {
    header: String,
    token: String,
    expires_at: Option<i64>,
}

fn auth_cookie() -> impl Strategy<Value = AuthCookie> {
    (
        "[a-zA-Z0-9._~+/=-]{1,40}",
        any::<bool>(),
        prop::option::of(1i64..=400 * 86_400),
        // In the future: an Expires in the past deletes the cookie (tested elsewhere).
        prop::option::of(NOW + 1..=MAX_UNIX_SECONDS),
        prop::collection::vec(attribute(), 0..4),
        any::<u64>(),
        any::<Index>(),
        any::<Index>(),
    )
        .prop_map(
            |(token, quoted, max_age, expires, mut attrs, mask, at_m, at_e)| {
                // Max-Age and Expires go anywhere among the other attributes.
                if let Some(s) = max_age {
                    let i = at_m.index(attrs.len() + 1);
                    attrs.insert(i, format!("; {}={s}", with_case("max-age", mask)));
                }
                if let Some(t) = expires {
                    let i = at_e.index(attrs.len() + 1);
                    let name = with_case("expires", mask >> 7);
                    attrs.insert(i, format!("; {name}={}", http_date(t)));
                }
                let value = if quoted {
                    format!("\"{token}\"")
                } else {
                    token.clone()
                };
                AuthCookie {
                    header: format!("auth={value}{}", attrs.concat()),
                    token,
                    // Max-Age takes precedence over Expires (RFC 6265 5.3).
                    expires_at: max_age.map(|s| NOW + s).or(expires),
                }
            },
        )
}

// ---------------------------------------------------------------------------------
// Timestamps

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn expires_at_as_number_or_numeric_string(n in unix_seconds(), pad in "[ \t\n]{0,2}") {
        prop_assert_eq!(parse_expires_at(&json!(n)), Ok(n));
        prop_assert_eq!(parse_expires_at(&json!(n.to_string())), Ok(n));
        prop_assert_eq!(parse_expires_at(&json!(format!("{pad}{n}{pad}"))), Ok(n));
        prop_assert_eq!(parse_expires_at(&json!(format!("{n:015}"))), Ok(n));
    }

    #[test]
    fn expires_at_as_fractional_number(n in 1..MAX_UNIX_SECONDS, fraction in 0.0f64..1.0) {
        let f = n as f64 + fraction;
        prop_assert_eq!(parse_expires_at(&json!(f)), Ok(f.floor() as i64), "{}", f);
    }

    #[test]
    fn expires_at_as_rfc3339(
        n in unix_seconds(),
        offset_minutes in prop_oneof![Just(0), -23 * 60 - 59..=23 * 60 + 59],
        nanos in 0u32..1_000_000_000,
        digits in 0usize..=9,
        lower in any::<bool>(),
    ) {
        let text = rfc3339(n, offset_minutes, nanos, digits, lower);
        prop_assume!(text.is_some(), "a local year outside 0000..=9999");
        let text = text.unwrap();
        prop_assert_eq!(parse_expires_at(&json!(text)), Ok(n), "{}", text);
    }

    #[test]
    fn out_of_range_numbers_are_errors(n in prop_oneof![
        i64::MIN..=0,
        MAX_UNIX_SECONDS + 1..=i64::MAX,
    ]) {
        prop_assert!(parse_expires_at(&json!(n)).is_err());
        prop_assert!(parse_expires_at(&json!(n.to_string())).is_err());
    }

    #[test]
    fn any_expires_at_is_in_range_or_an_error(
        v in prop_oneof![
            json_value(),
            "[0-9TtZz:.+ -]{0,32}".prop_map(Value::from),
            ".{0,40}".prop_map(Value::from),
        ]
    ) {
        match parse_expires_at(&v) {
            Ok(n) => prop_assert!((1..=MAX_UNIX_SECONDS).contains(&n), "{} -> {}", v, n),
            Err(e) => {
                prop_assert!(!e.is_empty());
                prop_assert!(e.len() <= 300, "{}", e);
            }
        }
    }

    #[test]
    fn http_dates(n in 0..=MAX_UNIX_SECONDS, junk in ".{0,30}") {
        prop_assert_eq!(parse_http_date(&http_date(n)), Some(n));
        if let Some(t) = parse_http_date(&junk) {
            prop_assert!((0..=MAX_UNIX_SECONDS).contains(&t));
        }
    }
}

// ---------------------------------------------------------------------------------
// The refresh-token cookie

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn finds_the_auth_cookie_among_others(
        auth in auth_cookie(),
        others in prop::collection::vec(other_cookie(), 0..5),
        at in any::<Index>(),
        deletion_after in any::<bool>(),
    ) {
        let mut headers = others;
        headers.insert(at.index(headers.len() + 1), auth.header.clone());
        if deletion_after {
            // A later deletion in the same reply does not unset the token.
            headers.push("auth=; Max-Age=0".to_owned());
        }
        let found = refresh_cookie(headers.iter().map(|h| h.as_bytes()), NOW);
        let found = found.expect("the auth cookie is there");
        prop_assert_eq!(found.token.expose(), auth.token.as_str(), "{:?}", headers);
        prop_assert_eq!(found.expires_at, auth.expires_at, "{:?}", headers);
    }

    #[test]
    fn the_last_refresh_cookie_wins(first in auth_cookie(), second in auth_cookie()) {
        let found = refresh_cookie([first.header.as_bytes(), second.header.as_bytes()], NOW);
        let found = found.expect("two refresh cookies");
        prop_assert_eq!(found.token.expose(), second.token.as_str());
    }

    #[test]
    fn no_auth_cookie_no_token(others in prop::collection::vec(other_cookie(), 0..6)) {
        prop_assert!(refresh_cookie(others.iter().map(|h| h.as_bytes()), NOW).is_none());
    }

    #[test]
    fn never_panics_on_any_header(
        headers in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 0..4),
        now in any::<i64>(),
    ) {
        if let Some(found) = refresh_cookie(headers.iter().map(Vec::as_slice), now) {
            prop_assert!(!found.token.is_empty());
        }
    }
}

// ---------------------------------------------------------------------------------
// The reply reader

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn never_panics_on_any_body(
        endpoint in endpoint(),
        status in any::<u16>(),
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            json_value().prop_map(|v| v.to_string().into_bytes()),
        ],
    ) {
        match read_reply(endpoint, status, &body, SENT_ID) {
            Ok(map) => {
                prop_assert!((200..300).contains(&status));
                let parsed: Value = serde_json::from_slice(&body).unwrap();
                prop_assert_eq!(parsed, Value::Object(map));
            }
            Err(err) => {
                prop_assert!(!err.message().is_empty());
                prop_assert_eq!(err.http_status(), status);
                prop_assert!(err.request_id().is_some());
            }
        }
    }

    #[test]
    fn an_ok_reply_is_its_object(
        status in 200u16..300,
        endpoint in endpoint(),
        ok in prop_oneof![Just(json!("OK")), Just(json!(0)), Just(json!("0")), Just(json!(" OK "))],
        with_info in any::<bool>(),
        request_id in "[a-zA-Z0-9]{0,12}",
        fields in other_fields(),
    ) {
        let mut body = fields;
        if with_info {
            body.insert(
                "replyInfo".into(),
                json!({"requestId": request_id, "statusCode": ok, "statusMessage": "OK"}),
            );
        }
        let bytes = Value::Object(body).to_string();
        // As serde_json reads it back (its float printing does not always round-trip).
        let expected: Value = serde_json::from_str(&bytes).unwrap();
        let map = read_reply(endpoint, status, bytes.as_bytes(), SENT_ID);
        prop_assert_eq!(map.map(Value::Object), Ok(expected));
    }

    #[test]
    fn a_failing_status_in_a_200_reply(
        status in 200u16..300,
        endpoint in endpoint(),
        (name, code) in failing_status(),
        message in "[ -~]{0,40}",
        request_id in "[a-zA-Z0-9]{0,12}",
        fields in other_fields(),
    ) {
        let mut body = fields;
        body.insert(
            "replyInfo".into(),
            json!({"requestId": request_id, "statusCode": code, "statusMessage": message}),
        );
        let bytes = Value::Object(body).to_string();
        let err = read_reply(endpoint, status, bytes.as_bytes(), SENT_ID).unwrap_err();
        prop_assert_eq!(err.kind(), documented_kind(name), "{}", bytes);
        prop_assert_eq!(err.api_status(), Some(name));
        prop_assert_eq!(err.http_status(), status);
        let expected_id = if request_id.is_empty() { SENT_ID } else { request_id.as_str() };
        prop_assert_eq!(err.request_id(), Some(expected_id));
    }

    #[test]
    fn a_failing_status_in_a_gateway_body(
        status in prop::sample::select(&[400u16, 401, 403, 404, 409, 429, 500, 502, 503, 504][..]),
        endpoint in endpoint(),
        (name, code) in failing_status(),
        grpc in 0i64..=16,
        message in "[ -~]{0,40}",
        request_id in "[a-zA-Z0-9]{0,12}",
    ) {
        let body = json!({
            "code": grpc,
            "message": message,
            "details": [{
                "@type": "type.googleapis.com/common.ReplyInfo",
                "requestId": request_id,
                "statusCode": code,
                "statusMessage": message,
            }],
        });
        let bytes = body.to_string();
        let err = read_reply(endpoint, status, bytes.as_bytes(), SENT_ID).unwrap_err();
        prop_assert_eq!(err.kind(), documented_kind(name), "{}", bytes);
        prop_assert_eq!(err.api_status(), Some(name));
        prop_assert_eq!(err.http_status(), status);
        let expected_id = if request_id.is_empty() { SENT_ID } else { request_id.as_str() };
        prop_assert_eq!(err.request_id(), Some(expected_id));
    }

    #[test]
    fn an_unknown_status_name_is_an_api_error(
        name in "[A-Z][A-Z_]{2,20}".prop_filter("unknown", |n| {
            !STATUS_CODES.iter().any(|(known, _)| known == n)
        }),
        gateway in any::<bool>(),
    ) {
        let info = json!({"statusCode": name});
        let (status, body) = if gateway {
            (500, json!({"code": 13, "message": "m", "details": [info]}))
        } else {
            (200, json!({"replyInfo": info}))
        };
        let bytes = body.to_string();
        let err = read_reply(Endpoint::Call, status, bytes.as_bytes(), SENT_ID).unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::Api);
        prop_assert_eq!(err.api_status(), Some(name.as_str()));
    }

    #[test]
    fn status_names_from_any_form((name, number) in prop::sample::select(STATUS_CODES)) {
        for form in [json!(name), json!(number), json!(number.to_string()), json!(format!(" {number} "))] {
            prop_assert_eq!(status_name(&form), Some(name.to_owned()), "{}", form);
        }
    }

    #[test]
    fn status_name_of_unknown_numbers(n in any::<i64>()) {
        prop_assume!(!STATUS_CODES.iter().any(|&(_, known)| known == n));
        prop_assert_eq!(status_name(&json!(n)), Some(n.to_string()));
        prop_assert_eq!(status_name(&json!(n.to_string())), Some(n.to_string()));
    }
}

// ---------------------------------------------------------------------------------
// Bugs found by fuzz/ and fixed: each test states the expected behaviour.

/// The longest error message a reply may produce: ~300 bytes quoted from the reply and
/// the library's own words around them.
const MAX_MESSAGE_BYTES: usize = 460;

#[test]
fn fixed_status_code_is_quoted_whole() {
    let forged = "EVIL\r\nX-Forged: yes\u{1b}[2J".to_owned();
    let long = "E".repeat(100_000);
    for status in [forged, long] {
        for (http, body) in [
            (200, json!({"replyInfo": {"statusCode": status}})),
            (
                500,
                json!({"code": 13, "message": "m", "details": [{"statusCode": status}]}),
            ),
        ] {
            let bytes = body.to_string();
            let err = read_reply(Endpoint::Call, http, bytes.as_bytes(), SENT_ID).unwrap_err();
            let message = err.message();
            assert!(!message.chars().any(char::is_control), "{message:?}");
            assert!(
                message.len() <= MAX_MESSAGE_BYTES,
                "{} bytes",
                message.len()
            );
        }
    }
}

#[test]
fn fixed_status_message_is_cut_by_characters() {
    let body =
        json!({"replyInfo": {"statusCode": "QUOTA_EXCEEDED", "statusMessage": "😀".repeat(300)}});
    let bytes = body.to_string();
    let err = read_reply(Endpoint::Call, 200, bytes.as_bytes(), SENT_ID).unwrap_err();
    assert!(
        err.message().len() <= MAX_MESSAGE_BYTES,
        "{} bytes",
        err.message().len()
    );
}

#[test]
fn fixed_fraction_of_the_last_second() {
    assert_eq!(
        parse_expires_at(&json!(253_402_300_799.5)),
        Ok(MAX_UNIX_SECONDS),
        "as the RFC 3339 form reads it"
    );
    assert_eq!(
        parse_expires_at(&json!("9999-12-31T23:59:59.5Z")),
        Ok(MAX_UNIX_SECONDS)
    );
}

#[test]
fn fixed_empty_max_age() {
    // RFC 6265 5.2.2: a Max-Age value that does not start with a digit or '-' is ignored,
    // so Expires applies (Sat, 19 Nov 2022 15:18:15 GMT).
    let header = "auth=tok; Max-Age=; Expires=Sat, 19 Nov 2022 15:18:15 GMT";
    // (An Expires in the past is a deletion: read it from before then.)
    let found = refresh_cookie([header.as_bytes()], 1_600_000_000).unwrap();
    assert_eq!(found.expires_at, Some(1_668_871_095));
}

#[test]
fn fixed_expires_at_error_quotes_control_characters() {
    let err = parse_expires_at(&json!("2022-11-19\u{1b}[2J\r\nforged")).unwrap_err();
    assert!(!err.chars().any(char::is_control), "{err:?}");
}

#[test]
fn fixed_doubly_quoted_value() {
    // The documentation promises the token without surrounding quotes; `""x""` is no
    // valid cookie value (RFC 6265 4.1.1), so no token at all would also do.
    let found = refresh_cookie([&b"auth=\"\"tok\"\"; Path=/"[..]], NOW);
    if let Some(found) = found {
        let token = found.token.expose();
        assert!(
            !(token.starts_with('"') && token.ends_with('"')),
            "{token:?}"
        );
    }
}
