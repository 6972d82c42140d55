//! Fuzzes `protocol::read_reply` (both error shapes) and `protocol::status_name`.
//!
//! Input: an optional first line `<http status> [A]` (digits, then `A` for the
//! authenticate endpoint, anything else for an ordinary call) and the reply body after it,
//! e.g. `401 A\n{"code": 16, "message": "no"}`. An input whose first line is not such a
//! header is all body, read as an HTTP 200 reply to a call.
#![no_main]

use alfaview_auth::protocol::{
    kind_for_status, read_reply, status_name, Endpoint, Reply, STATUS_CODES,
};
use alfaview_auth::ErrorKind;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

const REQUEST_ID: &str = "fuzz-request-id";

/// The most of the reply that an error message may quote, in bytes (~300), plus room for
/// the library's own words around it (HTTP status, gRPC code and name, serde's reason).
const MAX_QUOTED_BYTES: usize = 300;
const MAX_OWN_WORDS_BYTES: usize = 160;

/// How many JSON values of the body are also fed to `status_name`.
const MAX_STATUS_PROBES: usize = 64;

fuzz_target!(|data: &[u8]| {
    let (endpoint, http_status, body) = split(data);
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let result = read_reply(endpoint, http_status, body, REQUEST_ID);
    let ok_2xx = (200..300).contains(&http_status);

    match result {
        Ok(reply) => {
            assert!(ok_2xx, "HTTP {http_status} read as success");
            // Ok only for a JSON object (as serde_json reads a Value) whose replyInfo reports
            // no failure, and the accessors give what the object holds.
            let Some(Value::Object(map)) = &parsed else {
                panic!("Ok for a body that is no JSON object");
            };
            assert_eq!(reply_status(map), None, "Ok despite a non-OK replyInfo");
            assert_eq!(fields_read(&reply), fields_held(map), "accessors differ from the body");
        }
        Err(err) => {
            assert!(!err.message().is_empty(), "empty message: {err:?}");
            let message = err.message();
            let size = message.len();
            assert!(
                size <= MAX_QUOTED_BYTES + MAX_OWN_WORDS_BYTES,
                "message of {size} bytes quotes too much of the reply: {err:?}"
            );
            assert!(
                !message.chars().any(char::is_control),
                "control character in message: {err:?}"
            );
            assert_eq!(err.http_status(), http_status);
            assert!(err.request_id().is_some_and(|id| !id.is_empty()));
            let allowed: &[ErrorKind] = if ok_2xx {
                &[
                    ErrorKind::Protocol,
                    ErrorKind::Authentication,
                    ErrorKind::TokenExpired,
                    ErrorKind::Api,
                ]
            } else {
                &[
                    ErrorKind::Http,
                    ErrorKind::Authentication,
                    ErrorKind::TokenExpired,
                    ErrorKind::Api,
                ]
            };
            assert!(allowed.contains(&err.kind()), "kind: {err:?}");
            if let Some(status) = err.api_status() {
                assert_ne!(status, "OK");
                assert_eq!(err.kind(), kind_for_status(status), "{err:?}");
            }
            if ok_2xx {
                // A 2xx reply fails only when it is not an object or reports a non-OK status.
                match &parsed {
                    Some(Value::Object(map)) => {
                        let status = reply_status(map).expect("a 2xx object with OK status failed");
                        assert_eq!(err.api_status(), Some(status.as_str()));
                    }
                    _ => assert_eq!(err.kind(), ErrorKind::Protocol, "{err:?}"),
                }
            }
        }
    }

    if let Some(value) = &parsed {
        let mut budget = MAX_STATUS_PROBES;
        probe_status_names(value, &mut budget);
    }
});

/// Splits the input into endpoint, HTTP status and body (see the module comment).
fn split(data: &[u8]) -> (Endpoint, u16, &[u8]) {
    let Some(newline) = data.iter().take(12).position(|&b| b == b'\n') else {
        return (Endpoint::Call, 200, data);
    };
    let header = &data[..newline];
    let digits = header.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return (Endpoint::Call, 200, data);
    }
    let status = header[..digits].iter().fold(0u32, |n, &d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    });
    let endpoint = if header[digits..]
        .iter()
        .any(|b| b.eq_ignore_ascii_case(&b'a'))
    {
        Endpoint::Authenticate
    } else {
        Endpoint::Call
    };
    (endpoint, (status % 65_536) as u16, &data[newline + 1..])
}

/// What `Reply`'s accessors return, or must return.
#[derive(Debug, PartialEq)]
struct Fields<'a> {
    request_id: Option<&'a str>,
    access_token: Option<&'a str>,
    expires_at: Option<&'a Value>,
    refresh_token: Option<&'a str>,
    company_id: Option<&'a str>,
    user_id: Option<&'a str>,
    accessible_company_ids: Vec<&'a str>,
}

/// What the accessors of a reply return.
fn fields_read<'a>(reply: &'a Reply<'_>) -> Fields<'a> {
    Fields {
        request_id: reply.request_id(),
        access_token: reply.access_token(),
        expires_at: reply.expires_at(),
        refresh_token: reply.refresh_token(),
        company_id: reply.company_id(),
        user_id: reply.user_id(),
        accessible_company_ids: reply.accessible_company_ids().collect(),
    }
}

/// What the accessors must return for a body that reads as the `Value` object `map`: a
/// string field that is absent or of another type is `None`, `expiresAt` is any value.
fn fields_held(map: &Map<String, Value>) -> Fields<'_> {
    let text = |name| map.get(name).and_then(Value::as_str);
    let accessible_company_ids = match map.get("accessibleAccounts") {
        Some(Value::Array(accounts)) => accounts
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|a| a.get("companyId")?.as_str())
            .collect(),
        _ => Vec::new(),
    };
    Fields {
        request_id: match map.get("replyInfo") {
            Some(Value::Object(info)) => info.get("requestId").and_then(Value::as_str),
            _ => None,
        },
        access_token: text("accessToken"),
        expires_at: map.get("expiresAt"),
        refresh_token: text("refreshToken"),
        company_id: text("companyId"),
        user_id: text("userId"),
        accessible_company_ids,
    }
}

/// The non-OK status a reply object's `replyInfo` reports, if any (the oracle for Ok).
fn reply_status(map: &Map<String, Value>) -> Option<String> {
    let Some(Value::Object(info)) = map.get("replyInfo") else {
        return None;
    };
    info.get("statusCode")
        .and_then(status_name)
        .filter(|s| s != "OK")
}

/// Checks `status_name` on the body's values, depth first, at most `budget` of them.
fn probe_status_names(value: &Value, budget: &mut usize) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    check_status_name(value);
    match value {
        Value::Array(items) => items.iter().for_each(|v| probe_status_names(v, budget)),
        Value::Object(map) => map.values().for_each(|v| probe_status_names(v, budget)),
        _ => {}
    }
}

/// A server-supplied name as the library may show it: at most 64 characters of
/// `A-Z a-z 0-9 _ . -`, others replaced by `?`, `…` when cut, never empty.
fn plain(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                c
            } else {
                '?'
            }
        })
        .collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    if out.is_empty() {
        out.push('?');
    }
    out
}

fn check_status_name(value: &Value) {
    let name = status_name(value);
    match value {
        Value::String(s) => {
            let name = name.expect("a string always has a status name");
            assert_eq!(name.trim(), name, "untrimmed status name");
            if let Ok(n) = s.trim().parse::<i64>() {
                // "1049" reads like 1049.
                assert_eq!(Some(name), status_name(&Value::from(n)));
            } else {
                assert_eq!(name, plain(s.trim()));
            }
        }
        Value::Number(n) => match n.as_i64() {
            Some(i) => {
                let name = name.expect("an integer always has a status name");
                match STATUS_CODES.iter().find(|(_, code)| *code == i) {
                    Some((known, _)) => assert_eq!(name, *known),
                    None => assert_eq!(name, i.to_string()),
                }
            }
            // Not a whole number: kept as written (never OK).
            None => assert_eq!(name, Some(plain(&n.to_string())), "{n} is not an i64"),
        },
        _ => assert_eq!(name, None),
    }
}
