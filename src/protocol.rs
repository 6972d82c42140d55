//! The alfaview JSON protocol: request bodies, the server's status codes, and a tolerant
//! reader for replies that maps both error shapes onto [`ErrorKind`]s and reads the fields
//! of a successful reply without building a [`Value`] tree.

use crate::error::{Error, ErrorKind, Result};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

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

/// Reads a reply: the fields the library uses on success, or the error it reports in
/// either shape (HTTP 200 with a non-OK `replyInfo`, or an HTTP error status with a gateway
/// body). `request_id` is the id the request was sent with, reported when the reply has
/// none.
///
/// A 2xx body is accepted exactly when it is a JSON object (as strictly as `serde_json`
/// reads a [`Value`]) whose `replyInfo`, if it is an object, does not report a failing
/// `statusCode`. It is read in one pass without building a [`Value`] tree: the fields of
/// [`Reply`] are kept, borrowing from `body` where they can, and everything else is
/// checked and skipped.
pub fn read_reply<'a>(
    endpoint: Endpoint,
    http_status: u16,
    body: &'a [u8],
    request_id: &str,
) -> Result<Reply<'a>> {
    let with_context = |e: Error| e.with_http_status(http_status).with_request_id(request_id);

    if !(200..300).contains(&http_status) {
        let err = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => gateway_error(endpoint, http_status, &map),
            _ => None,
        }
        .unwrap_or_else(|| bare_http_error(endpoint, http_status, body));
        return Err(with_context(err));
    }

    let reply = parse_reply(body).map_err(|e| with_context(unreadable(http_status, body, &e)))?;
    if let Some(err) = reply.info.as_ref().and_then(ReplyInfo::error) {
        return Err(with_context(err));
    }
    Ok(reply)
}

/// Why a 2xx body could not be read. The typed read fails where reading the body as a
/// [`Value`] fails or gives something other than an object, so the body is read again as a
/// [`Value`] (on this error path only) for the words of the error.
fn unreadable(http_status: u16, body: &[u8], typed: &serde_json::Error) -> Error {
    match serde_json::from_slice::<Value>(body) {
        Err(e) => Error::protocol(format!(
            "the reply is not JSON ({e}; HTTP {http_status}, body starts with {})",
            snippet(body)
        )),
        Ok(Value::Object(_)) => Error::protocol(format!(
            "the reply could not be read ({typed}; HTTP {http_status}, body starts with {})",
            snippet(body)
        )),
        Ok(other) => Error::protocol(format!(
            "the reply is JSON but not an object (HTTP {http_status}, starts with {})",
            snippet(other.to_string().as_bytes())
        )),
    }
}

/// The fields of a successful reply that the library reads, taken from the body by
/// [`read_reply`].
///
/// Strings borrow from the body unless they contain escapes. A field of another JSON type
/// than the one the library expects reads as absent, and when a field appears more than
/// once the last one counts, as when the body is read as a [`Value`]. `Debug` shows the
/// tokens as `[redacted]`.
pub struct Reply<'a> {
    info: Option<ReplyInfo<'a>>,
    access_token: Option<Cow<'a, str>>,
    expires_at: Option<Value>,
    refresh_token: Option<Cow<'a, str>>,
    company_id: Option<Cow<'a, str>>,
    user_id: Option<Cow<'a, str>>,
    accessible_company_ids: Vec<Cow<'a, str>>,
}

impl Reply<'_> {
    /// `replyInfo.requestId`: the id the server reports for the request, if `replyInfo`
    /// is an object and `requestId` a string.
    pub fn request_id(&self) -> Option<&str> {
        self.info.as_ref()?.request_id.as_deref()
    }

    /// `accessToken`, if it is a string.
    pub fn access_token(&self) -> Option<&str> {
        self.access_token.as_deref()
    }

    /// `expiresAt` as sent, for [`crate::timestamp::parse_expires_at`]: `None` if the
    /// field is absent, `Some(Value::Null)` if it is `null`.
    pub fn expires_at(&self) -> Option<&Value> {
        self.expires_at.as_ref()
    }

    /// `refreshToken`, if it is a string.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref()
    }

    /// `companyId`, if it is a string.
    pub fn company_id(&self) -> Option<&str> {
        self.company_id.as_deref()
    }

    /// `userId`, if it is a string.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The `companyId` strings of the objects in `accessibleAccounts`, in order. Entries
    /// that are not objects or have no string `companyId` are skipped, and an
    /// `accessibleAccounts` that is not an array gives none.
    pub fn accessible_company_ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.accessible_company_ids.iter().map(|c| &**c)
    }
}

impl fmt::Debug for Reply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |t: &Option<Cow<'_, str>>| t.as_ref().map(|_| "[redacted]");
        f.debug_struct("Reply")
            .field("request_id", &self.request_id())
            .field("access_token", &redacted(&self.access_token))
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &redacted(&self.refresh_token))
            .field("company_id", &self.company_id)
            .field("user_id", &self.user_id)
            .field("accessible_company_ids", &self.accessible_company_ids)
            .finish()
    }
}

/// The `replyInfo` object of a reply: the fields that judge it.
#[derive(Default)]
struct ReplyInfo<'a> {
    status_code: Option<Value>,
    status_message: Option<Cow<'a, str>>,
    request_id: Option<Cow<'a, str>>,
}

impl ReplyInfo<'_> {
    /// The error this `replyInfo` reports, if its status is not OK.
    fn error(&self) -> Option<Error> {
        reply_info_error(
            self.status_code.as_ref(),
            self.status_message.as_deref(),
            self.request_id.as_deref(),
        )
    }
}

/// Reads a body as a [`Reply`]: a JSON object, or an error.
fn parse_reply(body: &[u8]) -> serde_json::Result<Reply<'_>> {
    let mut reader = serde_json::Deserializer::from_slice(body);
    // `deserialize_map` fails on anything but an object, so the reply is always there.
    let reply = (&mut reader)
        .deserialize_map(ShapeVisitor::<Reply<'_>>(PhantomData))?
        .0
        .ok_or_else(|| de::Error::custom("expected a JSON object"))?;
    reader.end()?;
    Ok(reply)
}

// The reader behind `parse_reply`. Every value goes through `deserialize_any` on the one
// `serde_json` deserializer, so it is checked exactly as when it is read as a `Value`
// (numbers that fit an f64, strings of valid UTF-8 with valid escapes, at most 128 levels
// of nesting); serde's `IgnoredAny` and `RawValue` skip values without some of these
// checks, which would accept bodies that a `Value` read rejects.

/// A value that the reader takes in one JSON shape (a string, an object or an array). A
/// value of any other shape is checked and dropped, and reads as `None`.
trait Shape<'de>: Sized {
    /// Whether [`Shape::string`] takes strings, so that a string with escapes is copied
    /// out of the deserializer's scratch space only when it is kept.
    const STRING: bool = false;

    fn string(_s: Cow<'de, str>) -> Option<Self> {
        None
    }

    fn object<A: MapAccess<'de>>(mut map: A) -> std::result::Result<Option<Self>, A::Error> {
        while map
            .next_entry::<Tolerant<Skip>, Tolerant<Skip>>()?
            .is_some()
        {}
        Ok(None)
    }

    fn array<A: SeqAccess<'de>>(mut seq: A) -> std::result::Result<Option<Self>, A::Error> {
        while seq.next_element::<Tolerant<Skip>>()?.is_some() {}
        Ok(None)
    }
}

/// A JSON value read as `T` if it has `T`'s shape, else `None`.
struct Tolerant<T>(Option<T>);

impl<'de, T: Shape<'de>> Deserialize<'de> for Tolerant<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(ShapeVisitor(PhantomData))
    }
}

/// Reads a value as `T` if it has `T`'s shape (see [`Shape`]).
struct ShapeVisitor<T>(PhantomData<T>);

impl<'de, T: Shape<'de>> Visitor<'de> for ShapeVisitor<T> {
    type Value = Tolerant<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Self::Value, E> {
        Ok(Tolerant(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Ok(Tolerant(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Ok(Tolerant(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Ok(Tolerant(None))
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(Tolerant(None))
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> std::result::Result<Self::Value, E> {
        Ok(Tolerant(T::string(Cow::Borrowed(s))))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Self::Value, E> {
        Ok(Tolerant(if T::STRING {
            T::string(Cow::Owned(s.to_owned()))
        } else {
            None
        }))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<Self::Value, A::Error> {
        T::array(seq).map(Tolerant)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Self::Value, A::Error> {
        T::object(map).map(Tolerant)
    }
}

/// Any JSON value, checked and dropped.
enum Skip {}

impl Shape<'_> for Skip {}

/// A string field.
impl<'de> Shape<'de> for Cow<'de, str> {
    const STRING: bool = true;

    fn string(s: Cow<'de, str>) -> Option<Self> {
        Some(s)
    }
}

/// The next value of `map` if it is a string.
fn next_str<'de, A: MapAccess<'de>>(
    map: &mut A,
) -> std::result::Result<Option<Cow<'de, str>>, A::Error> {
    Ok(map.next_value::<Tolerant<Cow<'de, str>>>()?.0)
}

/// The next key of `map`.
fn next_key<'de, A: MapAccess<'de>>(
    map: &mut A,
) -> std::result::Result<Option<Cow<'de, str>>, A::Error> {
    // Keys are always strings; `Some(None)` cannot happen.
    Ok(map
        .next_key::<Tolerant<Cow<'de, str>>>()?
        .map(|k| k.0.unwrap_or_default()))
}

/// Drops the next value of `map` after checking it.
fn skip_value<'de, A: MapAccess<'de>>(map: &mut A) -> std::result::Result<(), A::Error> {
    map.next_value::<Tolerant<Skip>>().map(drop)
}

impl<'de> Shape<'de> for Reply<'de> {
    fn object<A: MapAccess<'de>>(mut map: A) -> std::result::Result<Option<Self>, A::Error> {
        let mut reply = Reply {
            info: None,
            access_token: None,
            expires_at: None,
            refresh_token: None,
            company_id: None,
            user_id: None,
            accessible_company_ids: Vec::new(),
        };
        while let Some(key) = next_key(&mut map)? {
            match &*key {
                "replyInfo" => reply.info = map.next_value::<Tolerant<ReplyInfo<'de>>>()?.0,
                "accessToken" => reply.access_token = next_str(&mut map)?,
                // Any JSON value: `parse_expires_at` says what is wrong with it.
                "expiresAt" => reply.expires_at = Some(map.next_value()?),
                "refreshToken" => reply.refresh_token = next_str(&mut map)?,
                "companyId" => reply.company_id = next_str(&mut map)?,
                "userId" => reply.user_id = next_str(&mut map)?,
                "accessibleAccounts" => {
                    reply.accessible_company_ids = map
                        .next_value::<Tolerant<AccessibleAccounts<'de>>>()?
                        .0
                        .map_or_else(Vec::new, |a| a.0)
                }
                _ => skip_value(&mut map)?,
            }
        }
        Ok(Some(reply))
    }
}

impl<'de> Shape<'de> for ReplyInfo<'de> {
    fn object<A: MapAccess<'de>>(mut map: A) -> std::result::Result<Option<Self>, A::Error> {
        let mut info = ReplyInfo::default();
        while let Some(key) = next_key(&mut map)? {
            match &*key {
                // A name or a number (`status_name` reads either); tiny.
                "statusCode" => info.status_code = Some(map.next_value()?),
                "statusMessage" => info.status_message = next_str(&mut map)?,
                "requestId" => info.request_id = next_str(&mut map)?,
                _ => skip_value(&mut map)?,
            }
        }
        Ok(Some(info))
    }
}

/// `accessibleAccounts`: the `companyId` strings of its object entries.
struct AccessibleAccounts<'a>(Vec<Cow<'a, str>>);

impl<'de> Shape<'de> for AccessibleAccounts<'de> {
    fn array<A: SeqAccess<'de>>(mut seq: A) -> std::result::Result<Option<Self>, A::Error> {
        let mut ids = Vec::new();
        while let Some(account) = seq.next_element::<Tolerant<Account<'de>>>()? {
            if let Some(Account(Some(id))) = account.0 {
                ids.push(id);
            }
        }
        Ok(Some(AccessibleAccounts(ids)))
    }
}

/// An entry of `accessibleAccounts`: its `companyId`, if that is a string.
struct Account<'a>(Option<Cow<'a, str>>);

impl<'de> Shape<'de> for Account<'de> {
    fn object<A: MapAccess<'de>>(mut map: A) -> std::result::Result<Option<Self>, A::Error> {
        let mut company_id = None;
        while let Some(key) = next_key(&mut map)? {
            match &*key {
                "companyId" => company_id = next_str(&mut map)?,
                _ => skip_value(&mut map)?,
            }
        }
        Ok(Some(Account(company_id)))
    }
}

/// The error a `ReplyInfo` reports, if its status is not OK.
fn reply_info_error(
    status_code: Option<&Value>,
    status_message: Option<&str>,
    request_id: Option<&str>,
) -> Option<Error> {
    let status = status_code.and_then(status_name)?;
    if status == "OK" {
        return None;
    }
    let message = status_message.filter(|m| !m.is_empty());
    let text = match message {
        Some(m) => format!("the server reported {status}: {}", clip(m)),
        None => format!("the server reported {status}"),
    };
    let mut err = Error::new(kind_for_status(&status), text).with_api_status(status);
    if let Some(id) = request_id {
        if !id.is_empty() {
            err = err.with_request_id(plain_name(id));
        }
    }
    Some(err)
}

/// The error a `ReplyInfo` object of a gateway body reports, if its status is not OK.
fn map_info_error(info: &Map<String, Value>) -> Option<Error> {
    reply_info_error(
        info.get("statusCode"),
        info.get("statusMessage").and_then(Value::as_str),
        info.get("requestId").and_then(Value::as_str),
    )
}

/// The error in a gateway body `{"code", "message", "details": [ReplyInfo]}`, if it is one.
fn gateway_error(endpoint: Endpoint, http_status: u16, map: &Map<String, Value>) -> Option<Error> {
    if let Some(Value::Array(details)) = map.get("details") {
        for detail in details {
            if let Value::Object(info) = detail {
                if let Some(err) = map_info_error(info) {
                    return Some(err);
                }
            }
        }
    }
    if let Some(Value::Object(info)) = map.get("replyInfo") {
        if let Some(err) = map_info_error(info) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(endpoint: Endpoint, status: u16, body: Value) -> Result<()> {
        read_reply(endpoint, status, body.to_string().as_bytes(), "sent-id").map(drop)
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
        let body = json!({"replyInfo": {"statusCode": "OK", "requestId": "r"}, "x": 1,
            "accessToken": "AT", "expiresAt": 1_700_000_000, "refreshToken": "RT",
            "companyId": "c1", "userId": "u1",
            "accessibleAccounts": [{"companyId": "c1"}, {"companyId": "c2"}]})
        .to_string();
        let reply = read_reply(Endpoint::Authenticate, 200, body.as_bytes(), "id").unwrap();
        assert_eq!(reply.request_id(), Some("r"));
        assert_eq!(reply.access_token(), Some("AT"));
        assert_eq!(reply.expires_at(), Some(&json!(1_700_000_000)));
        assert_eq!(reply.refresh_token(), Some("RT"));
        assert_eq!(reply.company_id(), Some("c1"));
        assert_eq!(reply.user_id(), Some("u1"));
        assert!(reply.accessible_company_ids().eq(["c1", "c2"]));
        // The tokens stay out of Debug.
        let shown = format!("{reply:?}");
        assert!(
            !shown.contains("AT\"") && !shown.contains("RT\""),
            "{shown}"
        );
        assert!(shown.contains("c2"), "{shown}");

        // Missing replyInfo is tolerated, and so are missing fields.
        let reply = read_reply(Endpoint::Call, 200, br#"{"x": 1}"#, "id").unwrap();
        assert_eq!(reply.request_id(), None);
        assert_eq!(reply.access_token(), None);
        assert_eq!(reply.expires_at(), None);
        assert_eq!(reply.accessible_company_ids().count(), 0);
        assert!(read(Endpoint::Call, 201, json!({"replyInfo": {"statusCode": 0}})).is_ok());
        assert!(read(Endpoint::Call, 200, json!({})).is_ok());
    }

    #[test]
    fn fields_of_other_types_read_as_absent() {
        let body = br#"{"replyInfo": 5, "accessToken": 5, "refreshToken": ["x"],
            "companyId": {"companyId": "c"}, "userId": null, "expiresAt": null,
            "accessibleAccounts": [{"companyId": "c1"}, 5, "c3", [{"companyId": "c4"}],
                {"companyId": 6}, {"x": 1}, {"companyId": "c2", "x": {"companyId": "c5"}}]}"#;
        let reply = read_reply(Endpoint::Authenticate, 200, body, "id").unwrap();
        assert_eq!(reply.request_id(), None);
        assert_eq!(reply.access_token(), None);
        assert_eq!(reply.refresh_token(), None);
        assert_eq!(reply.company_id(), None);
        assert_eq!(reply.user_id(), None);
        // Null is kept apart from absent.
        assert_eq!(reply.expires_at(), Some(&Value::Null));
        assert!(reply.accessible_company_ids().eq(["c1", "c2"]));

        let reply = read_reply(
            Endpoint::Call,
            200,
            br#"{"accessibleAccounts": {"companyId": "c"}}"#,
            "id",
        )
        .unwrap();
        assert_eq!(reply.accessible_company_ids().count(), 0);
        // A replyInfo that is not an object is ignored, whatever it holds.
        for info in [
            r#""AUTHENTICATION_ERROR""#,
            "1002",
            r#"[{"statusCode": 1002}]"#,
        ] {
            let body = format!(r#"{{"replyInfo": {info}}}"#);
            assert!(
                read_reply(Endpoint::Call, 200, body.as_bytes(), "id").is_ok(),
                "{body}"
            );
        }
        // A requestId that is not a string is not the server's id.
        let body = br#"{"replyInfo": {"statusCode": "QUOTA_EXCEEDED", "requestId": 7, "statusMessage": 8}}"#;
        let err = read_reply(Endpoint::Call, 200, body, "id").unwrap_err();
        assert_eq!(err.request_id(), Some("id"));
        assert_eq!(err.message(), "the server reported QUOTA_EXCEEDED");
    }

    #[test]
    fn strings_with_escapes() {
        let body = br#"{"replyInfo": {"requestId": "r\u00e9"}, "access\u0054oken": "a\"b\\c\u00e9\n\ud83d\ude00/\/",
            "userId": "\u0000", "accessibleAccounts": [{"company\u0049d": "\tc"}]}"#;
        let reply = read_reply(Endpoint::Authenticate, 200, body, "id").unwrap();
        assert_eq!(reply.request_id(), Some("r\u{e9}"));
        assert_eq!(reply.access_token(), Some("a\"b\\c\u{e9}\n\u{1f600}//"));
        assert_eq!(reply.user_id(), Some("\0"));
        assert!(reply.accessible_company_ids().eq(["\tc"]));
    }

    #[test]
    fn the_last_of_a_repeated_field_counts() {
        let body = br#"{"accessToken": "a", "accessToken": "b", "userId": "u", "userId": 5,
            "accessibleAccounts": [{"companyId": "c1", "companyId": 2}, {"companyId": "c3"}],
            "replyInfo": {"statusCode": "QUOTA_EXCEEDED"}, "replyInfo": {"statusCode": "OK"}}"#;
        let reply = read_reply(Endpoint::Authenticate, 200, body, "id").unwrap();
        assert_eq!(reply.access_token(), Some("b"));
        assert_eq!(reply.user_id(), None);
        assert!(reply.accessible_company_ids().eq(["c3"]));

        let body = br#"{"replyInfo": {"statusCode": "OK", "statusCode": "QUOTA_EXCEEDED"}}"#;
        let err = read_reply(Endpoint::Call, 200, body, "id").unwrap_err();
        assert_eq!(err.api_status(), Some("QUOTA_EXCEEDED"));
        let body = br#"{"replyInfo": {"statusCode": "OK"}, "replyInfo": {"statusCode": 1049}}"#;
        let err = read_reply(Endpoint::Call, 200, body, "id").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenExpired);
    }

    #[test]
    fn skipped_fields_are_checked_as_strictly_as_a_value() {
        let read = |body: &[u8]| read_reply(Endpoint::Call, 200, body, "id").map(drop);
        let deep = format!(r#"{{"x": {}{}}}"#, "[".repeat(200), "]".repeat(200));
        let mut bad_utf8 = br#"{"x": "a"#.to_vec();
        bad_utf8.extend_from_slice(b"\xff\"}");
        for body in [
            br#"{"x": 1e400}"#.to_vec(),
            br#"{"replyInfo": {"x": -1e400}}"#.to_vec(),
            br#"{"x": "\ud800"}"#.to_vec(),
            br#"{"x": {"\udc00": 1}}"#.to_vec(),
            br#"{"accessibleAccounts": [{"companyId": "c", "y": "\ud800"}]}"#.to_vec(),
            br#"{"x": "\q"}"#.to_vec(),
            br#"{"x": [1,]}"#.to_vec(),
            br#"{"x": 1} x"#.to_vec(),
            deep.into_bytes(),
            bad_utf8,
        ] {
            let expected = serde_json::from_slice::<Value>(&body).unwrap_err();
            let err = read(&body).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol);
            assert!(err.message().contains("not JSON"), "{err}");
            assert!(err.message().contains(&expected.to_string()), "{err}");
        }
        // The nesting limit is where a `Value` read has it: 128 levels, the object's own
        // included.
        for (levels, ok) in [(126, true), (127, false)] {
            let deep = format!(r#"{{"x": {}{}}}"#, "[".repeat(levels), "]".repeat(levels));
            assert_eq!(serde_json::from_str::<Value>(&deep).is_ok(), ok, "{levels}");
            assert_eq!(read(deep.as_bytes()).is_ok(), ok, "{levels}");
        }
    }

    #[test]
    fn error_in_a_200_reply() {
        let err = read(
            Endpoint::Authenticate,
            200,
            json!({"replyInfo": {"statusCode": "AUTHENTICATION_ERROR", "requestId": "srv-1", "statusMessage": "bad"},
                "accessToken": "AT", "expiresAt": 1_700_000_000}),
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
        assert_eq!(err.http_status(), 200);
        assert_eq!(err.request_id(), Some("id"));
        let err = read_reply(Endpoint::Call, 200, b"", "id").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(err.message().contains("not JSON"), "{err}");
        // JSON but not an object; an array long enough to fill a struct's fields is no
        // exception.
        for body in [
            json!([1, 2]),
            json!([null, null, null, null, null, null, null]),
            json!("x"),
            json!(null),
        ] {
            let err = read(Endpoint::Call, 200, body.clone()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol);
            assert!(err.message().contains("not an object"), "{body}: {err}");
            assert!(err.message().contains(&body.to_string()), "{body}: {err}");
            assert_eq!(err.request_id(), Some("sent-id"));
        }
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
