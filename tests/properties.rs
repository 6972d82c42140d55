//! Property tests of the three parsers that read what the server sends: the reply reader
//! (`protocol::read_reply`, `protocol::status_name`), the refresh-token cookie extractor
//! (`cookies::refresh_cookie`) and the timestamp parsers (`timestamp::parse_expires_at`,
//! `timestamp::parse_http_date`). Case counts are kept small enough for a debug build to
//! run the whole file in a few seconds; `fuzz/` has the long-running counterparts.

use alfaview_auth::cookies::refresh_cookie;
use alfaview_auth::protocol::{read_reply, status_name, Endpoint, Reply, STATUS_CODES};
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

/// `s` as a JSON string literal, each character that may be written plainly written so
/// or escaped as the bits of `mask` say, in the short form (`\n`, `\"`, `\/`) where
/// there is one and else as `\uXXXX` (a surrogate pair above U+FFFF); characters that
/// must be escaped always are.
fn json_string(s: &str, mask: u64) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        let escape = (mask >> (i % 64)) & 1 == 1;
        let short = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\t' => Some("\\t"),
            '/' if escape => Some("\\/"),
            _ => None,
        };
        if let Some(e) = short {
            out.push_str(e);
        } else if escape || c < ' ' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// A string for a field the library reads: plain or full of what needs escaping.
fn field_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9._-]{0,20}",
        prop::collection::vec(
            prop_oneof![
                prop::sample::select(
                    &[
                        "\"",
                        "\\",
                        "\u{e9}",
                        "\n",
                        "/",
                        "\u{1f600}",
                        "\u{0}",
                        "\t",
                        "\u{7f}"
                    ][..]
                )
                .prop_map(str::to_owned),
                ".{0,4}",
            ],
            0..8,
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// A field the library reads, as JSON text and as the value it holds: usually a string
/// (escaped as `mask` says), sometimes any JSON value.
fn field() -> impl Strategy<Value = (String, Value)> {
    prop_oneof![
        3 => (field_text(), any::<u64>()).prop_map(|(s, mask)| (json_string(&s, mask), Value::from(s))),
        // As serde_json reads it back (its float printing does not always round-trip).
        1 => json_value().prop_map(|v| {
            let text = v.to_string();
            let v = serde_json::from_str(&text).unwrap();
            (text, v)
        }),
    ]
}

/// An object's JSON text from its fields' JSON texts, in order.
fn object_text(fields: &[(String, String)]) -> String {
    let members: Vec<String> = fields
        .iter()
        .map(|(name, value)| format!("{}: {value}", Value::from(name.as_str())))
        .collect();
    format!("{{{}}}", members.join(", "))
}

/// What `Reply`'s accessors return, or must return.
#[derive(Debug, PartialEq)]
struct Fields {
    request_id: Option<String>,
    access_token: Option<String>,
    expires_at: Option<Value>,
    refresh_token: Option<String>,
    company_id: Option<String>,
    user_id: Option<String>,
    accessible_company_ids: Vec<String>,
}

/// What the accessors of a reply return.
fn fields_read(reply: &Reply<'_>) -> Fields {
    Fields {
        request_id: reply.request_id().map(str::to_owned),
        access_token: reply.access_token().map(str::to_owned),
        expires_at: reply.expires_at().cloned(),
        refresh_token: reply.refresh_token().map(str::to_owned),
        company_id: reply.company_id().map(str::to_owned),
        user_id: reply.user_id().map(str::to_owned),
        accessible_company_ids: reply.accessible_company_ids().map(str::to_owned).collect(),
    }
}

/// What the accessors must return for a body that reads as the `Value` object `map`: a
/// string field that is absent or of another type is `None`, `expiresAt` is any value.
fn fields_held(map: &Map<String, Value>) -> Fields {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let accounts = match map.get("accessibleAccounts") {
        Some(Value::Array(accounts)) => accounts
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|a| text(a.get("companyId")))
            .collect(),
        _ => Vec::new(),
    };
    Fields {
        request_id: match map.get("replyInfo") {
            Some(Value::Object(info)) => text(info.get("requestId")),
            _ => None,
        },
        access_token: text(map.get("accessToken")),
        expires_at: map.get("expiresAt").cloned(),
        refresh_token: text(map.get("refreshToken")),
        company_id: text(map.get("companyId")),
        user_id: text(map.get("userId")),
        accessible_company_ids: accounts,
    }
}

/// The failing status a reply object's `replyInfo` reports, if it is an object that does.
fn failing_status_of(map: &Map<String, Value>) -> Option<String> {
    let Some(Value::Object(info)) = map.get("replyInfo") else {
        return None;
    };
    info.get("statusCode")
        .and_then(status_name)
        .filter(|s| s != "OK")
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
/// `err` is what a reply of HTTP `status` reporting the status `name` for `request_id`
/// (empty: none, so the id the request was sent with) must give.
fn reports_status(
    err: &alfaview_auth::Error,
    name: &str,
    status: u16,
    request_id: &str,
    bytes: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(err.kind(), documented_kind(name), "{}", bytes);
    prop_assert_eq!(err.api_status(), Some(name));
    prop_assert_eq!(err.http_status(), status);
    let expected_id = if request_id.is_empty() {
        SENT_ID
    } else {
        request_id
    };
    prop_assert_eq!(err.request_id(), Some(expected_id));
    Ok(())
}

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
        let parsed = serde_json::from_slice::<Value>(&body).ok();
        match read_reply(endpoint, status, &body, SENT_ID) {
            Ok(reply) => {
                // Ok only for a 2xx JSON object whose replyInfo (if an object) reports OK,
                // and the accessors give what the object holds.
                prop_assert!((200..300).contains(&status));
                let Some(Value::Object(map)) = parsed else {
                    return Err(TestCaseError::fail("Ok for a body that is no JSON object"));
                };
                prop_assert_eq!(failing_status_of(&map), None);
                prop_assert_eq!(fields_read(&reply), fields_held(&map));
            }
            Err(err) => {
                prop_assert!(!err.message().is_empty());
                prop_assert_eq!(err.http_status(), status);
                prop_assert!(err.request_id().is_some());
                if (200..300).contains(&status) {
                    // A 2xx reply fails only when it is no object or reports a failure.
                    match &parsed {
                        Some(Value::Object(map)) => {
                            let failing = failing_status_of(map);
                            prop_assert!(failing.is_some(), "a 2xx object with OK status failed: {}", err);
                            prop_assert_eq!(err.api_status(), failing.as_deref());
                        }
                        _ => prop_assert_eq!(err.kind(), ErrorKind::Protocol),
                    }
                }
            }
        }
    }

    #[test]
    fn an_ok_reply_reads_its_fields(
        status in 200u16..300,
        endpoint in endpoint(),
        ok in prop_oneof![Just(json!("OK")), Just(json!(0)), Just(json!("0")), Just(json!(" OK "))],
        with_info in any::<bool>(),
        request_id in field(),
        read in prop::collection::vec(
            (
                prop::sample::select(&["accessToken", "expiresAt", "refreshToken", "companyId", "userId"][..]),
                field(),
            ),
            0..5,
        ),
        accounts in prop::option::of(prop::collection::vec(
            prop_oneof![
                3 => field().prop_map(|(text, _)| format!(r#"{{"x": 1, "companyId": {text}}}"#)),
                1 => json_value().prop_map(|v| v.to_string()),
            ],
            0..4,
        )),
        others in other_fields(),
        at in any::<Index>(),
    ) {
        let mut fields: Vec<(String, String)> =
            others.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
        let mut expected: Vec<(&str, Value)> = Vec::new();
        for (name, (text, value)) in read {
            // The last of a repeated field counts; only the last one is checked below.
            expected.retain(|(n, _)| *n != name);
            fields.push((name.to_owned(), text));
            expected.push((name, value));
        }
        if with_info {
            let info = object_text(&[
                ("statusMessage".into(), "\"OK\"".into()),
                ("requestId".into(), request_id.0.clone()),
                ("statusCode".into(), ok.to_string()),
            ]);
            fields.insert(at.index(fields.len() + 1), ("replyInfo".into(), info));
        }
        if let Some(accounts) = &accounts {
            fields.push(("accessibleAccounts".into(), format!("[{}]", accounts.join(", "))));
        }
        let text = object_text(&fields);
        let reply = read_reply(endpoint, status, text.as_bytes(), SENT_ID);
        let reply = match reply {
            Ok(reply) => reply,
            Err(err) => return Err(TestCaseError::fail(format!("{text}: {err}"))),
        };
        // Everything read is what the object holds ...
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&text) else {
            return Err(TestCaseError::fail(format!("not an object: {text}")));
        };
        let got = fields_read(&reply);
        prop_assert_eq!(&got, &fields_held(&map), "{}", text);
        // ... and each generated field is read back exactly, escapes undone.
        for (name, value) in &expected {
            let back = match *name {
                "accessToken" => got.access_token.clone().map(Value::from),
                "refreshToken" => got.refresh_token.clone().map(Value::from),
                "companyId" => got.company_id.clone().map(Value::from),
                "userId" => got.user_id.clone().map(Value::from),
                _ => got.expires_at.clone(),
            };
            if name == &"expiresAt" || value.is_string() {
                prop_assert_eq!(back.as_ref(), Some(value), "{}: {}", name, text);
            } else {
                prop_assert_eq!(back, None, "{}: {}", name, text);
            }
        }
        if with_info {
            prop_assert_eq!(got.request_id.as_deref(), request_id.1.as_str(), "{}", text);
        }
    }

    #[test]
    fn escaped_strings_read_back_exactly(tail in field_text(), mask in any::<u64>()) {
        // Always each of these escapes first; `mask` picks how the tail is written.
        let s = format!("\"\\\u{e9}\n{tail}");
        let literal = format!(r#""\"\\\u00e9\n{}"#, &json_string(&tail, mask)[1..]);
        let decoded = serde_json::from_str::<String>(&literal).ok();
        prop_assert_eq!(decoded.as_ref(), Some(&s), "{}", literal);
        let text = object_text(&[
            ("replyInfo".into(), object_text(&[("requestId".into(), literal.clone())])),
            ("accessToken".into(), literal.clone()),
            ("expiresAt".into(), literal.clone()),
            ("refreshToken".into(), literal.clone()),
            ("companyId".into(), literal.clone()),
            ("userId".into(), literal.clone()),
            ("accessibleAccounts".into(), format!(r#"[{{"companyId": {literal}}}]"#)),
        ]);
        let reply = read_reply(Endpoint::Authenticate, 200, text.as_bytes(), SENT_ID).unwrap();
        let s = s.as_str();
        prop_assert_eq!(reply.request_id(), Some(s));
        prop_assert_eq!(reply.access_token(), Some(s));
        prop_assert_eq!(reply.expires_at(), Some(&Value::from(s)));
        prop_assert_eq!(reply.refresh_token(), Some(s));
        prop_assert_eq!(reply.company_id(), Some(s));
        prop_assert_eq!(reply.user_id(), Some(s));
        prop_assert!(reply.accessible_company_ids().eq([s]));
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
        reports_status(&err, name, status, &request_id, &bytes)?;
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
        reports_status(&err, name, status, &request_id, &bytes)?;
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
