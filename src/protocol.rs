//! The alfaview JSON protocol: request bodies, the server's status codes, and a tolerant
//! reader for replies that maps both error shapes onto [`ErrorKind`]s.

use crate::error::{Error, ErrorKind, Result};
use serde::Serialize;
use serde_json::{Map, Value};

/// The path of the sign-in and refresh method, relative to the base URL.
pub const AUTHENTICATE: &str = "authenticationService/authenticate";

/// The server's `statusCode` values: name and number (the JSON may carry either).
pub const STATUS_CODES: &[(&str, i64)] = &[
    ("OK", 0),
    ("INTERNAL_ERROR", 1000),
    ("AUTHENTICATION_ERROR", 1002),
    ("ACCOUNT_STATUS_ERROR", 1003),
    ("PROTOCOL_ERROR", 1004),
    ("ACTION_INVALID", 1005),
    ("INSUFFICIENT_PERMISSIONS", 1006),
    ("REQUEST_ID_INVALID", 1009),
    ("ACCESS_INFO_MISSING", 1040),
    ("REQUEST_EMPTY", 1041),
    ("NOT_FOUND", 1045),
    ("TIMEOUT", 1047),
    ("TOKEN_OUTDATED", 1049),
    ("QUOTA_EXCEEDED", 1060),
];

/// A `statusCode` as its name: `"TOKEN_OUTDATED"`, `1049` and `"1049"` all give
/// `TOKEN_OUTDATED`; an unknown number gives its digits. `None` if it is neither a string
/// nor an integer.
///
/// A name is the server's text, so it is cut to 64 characters of `A-Z a-z 0-9 _ . -`
/// (anything else becomes `?`) before it reaches a message or `api_status`. A number
/// that is not a whole number is kept as written, so it never reads as OK.
pub fn status_name(value: &Value) -> Option<String> {
    let number = match value {
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => return Some(plain_name(s.trim())),
        },
        Value::Number(n) => match n.as_i64() {
            Some(i) => i,
            None => return Some(plain_name(&n.to_string())),
        },
        _ => return None,
    };
    Some(
        STATUS_CODES
            .iter()
            .find(|(_, n)| *n == number)
            .map_or_else(|| number.to_string(), |(name, _)| (*name).to_owned()),
    )
}

/// A server-supplied name made safe to show: at most 64 characters, each one of
/// `A-Z a-z 0-9 _ . -` or else `?`; never empty.
fn plain_name(s: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = s
        .chars()
        .take(MAX)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '?'
            }
        })
        .collect();
    if s.chars().nth(MAX).is_some() {
        out.push('…');
    }
    if out.is_empty() {
        out.push('?');
    }
    out
}

/// How a client treats a server status name.
pub fn kind_for_status(name: &str) -> ErrorKind {
    match name {
        "AUTHENTICATION_ERROR" | "ACCOUNT_STATUS_ERROR" => ErrorKind::Authentication,
        "TOKEN_OUTDATED" => ErrorKind::TokenExpired,
        _ => ErrorKind::Api,
    }
}

/// Which of the three sign-ins a request is.
pub enum Credentials<'a> {
    /// Username and password; the company is optional.
    Password {
        username: &'a str,
        password: &'a str,
        company_id: Option<&'a str>,
    },
    /// API key alias (`clientId`) and secret (`code`).
    ApiKey {
        client_id: &'a str,
        secret: &'a str,
        company_id: &'a str,
    },
    /// A refresh token, sent separately in the `Cookie` header.
    RefreshToken { company_id: &'a str },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthenticateRequest<'a> {
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    username_password_credentials: Option<PasswordBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorization_code_credentials: Option<ApiKeyBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token_credentials: Option<RefreshBody<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PasswordBody<'a> {
    username: &'a str,
    password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiKeyBody<'a> {
    client_id: &'a str,
    code: &'a str,
    company_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefreshBody<'a> {
    company_id: &'a str,
}

/// The JSON body of an `authenticate` request.
pub fn authenticate_body(request_id: &str, credentials: &Credentials<'_>) -> Vec<u8> {
    let mut request = AuthenticateRequest {
        request_id,
        username_password_credentials: None,
        authorization_code_credentials: None,
        refresh_token_credentials: None,
    };
    match *credentials {
        Credentials::Password {
            username,
            password,
            company_id,
        } => {
            request.username_password_credentials = Some(PasswordBody {
                username,
                password,
                company_id,
            })
        }
        Credentials::ApiKey {
            client_id,
            secret,
            company_id,
        } => {
            request.authorization_code_credentials = Some(ApiKeyBody {
                client_id,
                code: secret,
                company_id,
            })
        }
        Credentials::RefreshToken { company_id } => {
            request.refresh_token_credentials = Some(RefreshBody { company_id })
        }
    }
    serde_json::to_vec(&request).expect("serialising plain strings cannot fail")
}

/// The body of an authenticated call: the caller's JSON object (`None`: `{}`) with
/// `accessInfo: {requestId, accessToken}` set, replacing any `accessInfo` it had.
pub fn call_body(request_id: &str, access_token: &str, json_body: Option<&str>) -> Result<Vec<u8>> {
    let mut body = match json_body {
        None => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(Error::invalid_argument(
                    "json_body",
                    "must be a JSON object ({...})",
                ))
            }
            Err(e) => {
                return Err(Error::invalid_argument(
                    "json_body",
                    format!("is not valid JSON ({e})"),
                ))
            }
        },
    };
    let mut access_info = Map::with_capacity(2);
    access_info.insert("requestId".into(), Value::String(request_id.into()));
    access_info.insert("accessToken".into(), Value::String(access_token.into()));
    body.insert("accessInfo".into(), Value::Object(access_info));
    Ok(serde_json::to_vec(&body).expect("serialising a JSON value cannot fail"))
}

/// What the request was, for judging its reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `authenticationService/authenticate`: a 401/403 means the credentials were rejected.
    Authenticate,
    /// Any other method.
    Call,
}

/// Reads a reply: the JSON object on success, or the error it reports in either shape
/// (HTTP 200 with a non-OK `replyInfo`, or an HTTP error status with a gateway body).
/// `request_id` is the id the request was sent with, reported when the reply has none.
pub fn read_reply(
    endpoint: Endpoint,
    http_status: u16,
    body: &[u8],
    request_id: &str,
) -> Result<Map<String, Value>> {
    let parsed = serde_json::from_slice::<Value>(body);
    let with_context = |e: Error| e.with_http_status(http_status).with_request_id(request_id);

    if !(200..300).contains(&http_status) {
        let err = match &parsed {
            Ok(Value::Object(map)) => gateway_error(endpoint, http_status, map),
            _ => None,
        }
        .unwrap_or_else(|| bare_http_error(endpoint, http_status, body));
        return Err(with_context(err));
    }

    let map = match parsed {
        Ok(Value::Object(map)) => map,
        Ok(other) => {
            return Err(with_context(Error::protocol(format!(
                "the reply is JSON but not an object (HTTP {http_status}, starts with {})",
                snippet(other.to_string().as_bytes())
            ))))
        }
        Err(e) => {
            return Err(with_context(Error::protocol(format!(
                "the reply is not JSON ({e}; HTTP {http_status}, body starts with {})",
                snippet(body)
            ))))
        }
    };
    if let Some(Value::Object(info)) = map.get("replyInfo") {
        if let Some(err) = reply_info_error(info) {
            return Err(with_context(err));
        }
    }
    Ok(map)
}

/// The error a `ReplyInfo` object reports, if its status is not OK.
fn reply_info_error(info: &Map<String, Value>) -> Option<Error> {
    let status = info.get("statusCode").and_then(status_name)?;
    if status == "OK" {
        return None;
    }
    let message = info
        .get("statusMessage")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty());
    let text = match message {
        Some(m) => format!("the server reported {status}: {}", clip(m)),
        None => format!("the server reported {status}"),
    };
    let mut err = Error::new(kind_for_status(&status), text).with_api_status(status);
    if let Some(id) = info.get("requestId").and_then(Value::as_str) {
        if !id.is_empty() {
            err = err.with_request_id(plain_name(id));
        }
    }
    Some(err)
}

/// The error in a gateway body `{"code", "message", "details": [ReplyInfo]}`, if it is one.
fn gateway_error(endpoint: Endpoint, http_status: u16, map: &Map<String, Value>) -> Option<Error> {
    if let Some(Value::Array(details)) = map.get("details") {
        for detail in details {
            if let Value::Object(info) = detail {
                if let Some(err) = reply_info_error(info) {
                    return Some(err);
                }
            }
        }
    }
    if let Some(Value::Object(info)) = map.get("replyInfo") {
        if let Some(err) = reply_info_error(info) {
            return Some(err);
        }
    }
    let code = map.get("code").and_then(Value::as_i64)?;
    let message = map.get("message").and_then(Value::as_str).unwrap_or("");
    let kind = if endpoint == Endpoint::Authenticate && matches!(http_status, 401 | 403) {
        ErrorKind::Authentication
    } else {
        ErrorKind::Api
    };
    Some(Error::new(
        kind,
        format!(
            "the server answered HTTP {http_status} with gRPC code {code} ({}): {}",
            grpc_code_name(code),
            clip(message)
        ),
    ))
}

fn bare_http_error(endpoint: Endpoint, http_status: u16, body: &[u8]) -> Error {
    if endpoint == Endpoint::Authenticate && matches!(http_status, 401 | 403) {
        return Error::new(
            ErrorKind::Authentication,
            format!("the server rejected the credentials (HTTP {http_status})"),
        );
    }
    let what = if (300..400).contains(&http_status) {
        "a redirect, which is not followed"
    } else {
        "an error without an API error body"
    };
    Error::new(
        ErrorKind::Http,
        format!(
            "the server answered HTTP {http_status}, {what} (body starts with {})",
            snippet(body)
        ),
    )
}

fn grpc_code_name(code: i64) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "unknown code",
    }
}

/// A server-supplied message, shortened to keep error messages readable.
fn clip(s: &str) -> String {
    const MAX_BYTES: usize = 200;
    let mut out = String::new();
    for c in s.chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > MAX_BYTES {
            out.push('…');
            break;
        }
        out.push(c);
    }
    out
}

/// The start of a body, quoted, printable ASCII only, for error messages.
fn snippet(body: &[u8]) -> String {
    const MAX: usize = 60;
    if body.is_empty() {
        return "nothing (empty body)".into();
    }
    let shown: String = body
        .iter()
        .take(MAX)
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    let more = if body.len() > MAX { "…" } else { "" };
    format!("\"{shown}{more}\"")
}

/// A string field of a reply object, `None` if absent, null, or not a string.
pub fn str_field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    map.get(name).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(endpoint: Endpoint, status: u16, body: Value) -> Result<Map<String, Value>> {
        read_reply(endpoint, status, body.to_string().as_bytes(), "sent-id")
    }

    #[test]
    fn status_names_from_names_and_numbers() {
        assert_eq!(
            status_name(&json!("TOKEN_OUTDATED")).unwrap(),
            "TOKEN_OUTDATED"
        );
        assert_eq!(status_name(&json!(1049)).unwrap(), "TOKEN_OUTDATED");
        assert_eq!(status_name(&json!("1002")).unwrap(), "AUTHENTICATION_ERROR");
        assert_eq!(status_name(&json!(0)).unwrap(), "OK");
        assert_eq!(status_name(&json!(4242)).unwrap(), "4242");
        assert_eq!(status_name(&json!(null)), None);
    }

    #[test]
    fn ok_reply() {
        let map = read(
            Endpoint::Call,
            200,
            json!({"replyInfo": {"statusCode": "OK", "requestId": "r"}, "x": 1}),
        )
        .unwrap();
        assert_eq!(map["x"], 1);
        // Missing replyInfo is tolerated.
        assert!(read(Endpoint::Call, 200, json!({"x": 1})).is_ok());
        assert!(read(Endpoint::Call, 201, json!({"replyInfo": {"statusCode": 0}})).is_ok());
    }

    #[test]
    fn error_in_a_200_reply() {
        let err = read(
            Endpoint::Authenticate,
            200,
            json!({"replyInfo": {"statusCode": "AUTHENTICATION_ERROR", "requestId": "srv-1", "statusMessage": "bad"}}),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert_eq!(err.api_status(), Some("AUTHENTICATION_ERROR"));
        assert_eq!(err.request_id(), Some("srv-1"));
        assert_eq!(err.http_status(), 200);
        assert!(err.message().contains("bad"), "{err}");

        let err = read(
            Endpoint::Call,
            200,
            json!({"replyInfo": {"statusCode": 1049}}),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenExpired);
        assert_eq!(err.request_id(), Some("sent-id"));

        let err = read(
            Endpoint::Call,
            200,
            json!({"replyInfo": {"statusCode": "QUOTA_EXCEEDED"}}),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Api);
        assert_eq!(err.api_status(), Some("QUOTA_EXCEEDED"));

        let err = read(
            Endpoint::Call,
            200,
            json!({"replyInfo": {"statusCode": "ACCOUNT_STATUS_ERROR"}}),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
    }

    #[test]
    fn gateway_error_body() {
        let body = json!({"code": 16, "message": "token expired",
            "details": [{"@type": "type.googleapis.com/common.ReplyInfo",
                         "requestId": "tn5BoQ10239", "statusCode": "TOKEN_OUTDATED",
                         "statusMessage": "token expired"}]});
        let err = read(Endpoint::Call, 401, body).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenExpired);
        assert_eq!(err.api_status(), Some("TOKEN_OUTDATED"));
        assert_eq!(err.request_id(), Some("tn5BoQ10239"));
        assert_eq!(err.http_status(), 401);

        // gRPC code without details.
        let err = read(
            Endpoint::Authenticate,
            401,
            json!({"code": 16, "message": "no"}),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert_eq!(err.api_status(), None);
        let err = read(Endpoint::Call, 503, json!({"code": 14, "message": "down"})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Api);
        assert!(err.message().contains("UNAVAILABLE"), "{err}");
    }

    #[test]
    fn http_error_without_api_body() {
        let err = read_reply(Endpoint::Call, 502, b"<html>bad gateway</html>", "id").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Http);
        assert_eq!(err.http_status(), 502);
        assert_eq!(err.request_id(), Some("id"));
        assert!(err.message().contains("502"), "{err}");
        let err = read_reply(Endpoint::Authenticate, 403, b"", "id").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        let err = read_reply(Endpoint::Call, 302, b"", "id").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Http);
        assert!(err.message().contains("redirect"), "{err}");
        // A JSON body that is not an API error is still an HTTP error.
        let err = read(Endpoint::Call, 500, json!({"hello": "world"})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Http);
    }

    #[test]
    fn not_json() {
        let err = read_reply(Endpoint::Call, 200, b"<html>not json</html>", "id").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(err.message().contains("not JSON"), "{err}");
        let err = read(Endpoint::Call, 200, json!([1, 2])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        let err = read_reply(Endpoint::Call, 200, b"", "id").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
    }

    #[test]
    fn bodies() {
        let body = authenticate_body(
            "r1",
            &Credentials::Password {
                username: "u",
                password: "p",
                company_id: None,
            },
        );
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"requestId": "r1", "usernamePasswordCredentials": {"username": "u", "password": "p"}})
        );
        let body = authenticate_body(
            "r2",
            &Credentials::ApiKey {
                client_id: "k",
                secret: "s",
                company_id: "c",
            },
        );
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"requestId": "r2", "authorizationCodeCredentials": {"clientId": "k", "code": "s", "companyId": "c"}})
        );
        let body = authenticate_body("r3", &Credentials::RefreshToken { company_id: "c" });
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"requestId": "r3", "refreshTokenCredentials": {"companyId": "c"}})
        );

        let body = call_body(
            "r4",
            "tok",
            Some(r#"{"room": {"name": "x"}, "accessInfo": 5}"#),
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"room": {"name": "x"}, "accessInfo": {"requestId": "r4", "accessToken": "tok"}})
        );
        let v: Value = serde_json::from_slice(&call_body("r5", "t", None).unwrap()).unwrap();
        assert_eq!(
            v,
            json!({"accessInfo": {"requestId": "r5", "accessToken": "t"}})
        );
        for bad in ["[1]", "nope", "\"str\"", ""] {
            let err = call_body("r", "t", Some(bad)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
            assert!(err.message().contains("json_body"), "{err}");
        }
    }
}
