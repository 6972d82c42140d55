//! The server's configuration: defaults, the JSON form, and merging of patches.

use std::sync::Arc;

use serde_json::{json, Map, Value};

/// One alfaview `statusCode`, with the gRPC code and HTTP status of its gateway form.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ApiStatus {
    pub name: &'static str,
    pub number: u32,
    pub grpc: u32,
    pub http: u16,
    pub message: &'static str,
}

macro_rules! statuses {
    ($($id:ident = $name:literal, $num:literal, $grpc:literal, $http:literal, $msg:literal;)*) => {
        $(pub(crate) static $id: ApiStatus = ApiStatus {
            name: $name, number: $num, grpc: $grpc, http: $http, message: $msg,
        };)*
        pub(crate) static ALL_STATUSES: &[&ApiStatus] = &[$(&$id),*];
    };
}

statuses! {
    INTERNAL_ERROR = "INTERNAL_ERROR", 1000, 13, 500, "internal error";
    AUTHENTICATION_ERROR = "AUTHENTICATION_ERROR", 1002, 16, 401, "authentication failed";
    ACCOUNT_STATUS_ERROR = "ACCOUNT_STATUS_ERROR", 1003, 7, 403, "account is locked";
    PROTOCOL_ERROR = "PROTOCOL_ERROR", 1004, 3, 400, "malformed request";
    ACTION_INVALID = "ACTION_INVALID", 1005, 3, 400, "action invalid";
    INSUFFICIENT_PERMISSIONS = "INSUFFICIENT_PERMISSIONS", 1006, 7, 403, "insufficient permissions";
    REQUEST_ID_INVALID = "REQUEST_ID_INVALID", 1009, 3, 400, "requestId missing or invalid";
    ACCESS_INFO_MISSING = "ACCESS_INFO_MISSING", 1040, 3, 400, "accessInfo missing";
    REQUEST_EMPTY = "REQUEST_EMPTY", 1041, 3, 400, "request empty";
    NOT_FOUND = "NOT_FOUND", 1045, 5, 404, "not found";
    TIMEOUT = "TIMEOUT", 1047, 4, 504, "timeout";
    TOKEN_OUTDATED = "TOKEN_OUTDATED", 1049, 16, 401, "token expired";
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED", 1060, 8, 429, "quota exceeded";
}

fn status_from_json(v: &Value, key: &str) -> Result<&'static ApiStatus, String> {
    let found = match v {
        Value::String(s) => ALL_STATUSES.iter().find(|st| st.name == s),
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| ALL_STATUSES.iter().find(|st| u64::from(st.number) == n)),
        _ => None,
    };
    found.copied().ok_or_else(|| {
        let names: Vec<&str> = ALL_STATUSES.iter().map(|s| s.name).collect();
        format!("{key}: expected an error statusCode name or number, one of {names:?}")
    })
}

macro_rules! named_enum {
    ($ty:ident { $($var:ident = $name:literal),* $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum $ty { $($var),* }
        impl $ty {
            pub(crate) fn name(self) -> &'static str {
                match self { $($ty::$var => $name),* }
            }
            fn from_json(v: &Value, key: &str) -> Result<Self, String> {
                match v.as_str() {
                    $(Some($name) => Ok($ty::$var),)*
                    _ => Err(format!("{key}: expected one of {:?}", [$($name),*])),
                }
            }
        }
    };
}

named_enum!(ExpiresAtForm {
    String = "string",
    Number = "number",
    Rfc3339 = "rfc3339",
    Rfc3339Z = "rfc3339z",
});

named_enum!(CookieStyle {
    Expires = "expires",
    MaxAge = "maxage",
    Both = "both",
    Quoted = "quoted",
    Multi = "multi",
    None = "none",
});

named_enum!(ErrorShape {
    Gateway = "gateway",
    Reply = "reply",
    Numeric = "numeric",
});

named_enum!(FaultKind {
    Delay = "delay",
    Hang = "hang",
    Status = "status",
    Error200 = "error200",
    Garbage = "garbage",
    Truncated = "truncated",
    Oversized = "oversized",
    Close = "close",
    Redirect = "redirect",
    RetryAfter = "retryAfter",
});

/// An injected fault, applied to matching /json/v1/ requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub kind: FaultKind,
    /// Remaining number of requests to fault; `None` = every one until cleared.
    pub count: Option<u64>,
    /// Only requests whose path contains this substring.
    pub path: Option<String>,
    pub delay_ms: u64,
    pub status: u16,
    pub api_status: Option<&'static ApiStatus>,
    pub size_bytes: u64,
    pub retry_after_s: u64,
}

pub(crate) const DEFAULT_DELAY_MS: u64 = 1000;
pub(crate) const DEFAULT_FAULT_STATUS: u16 = 503;
pub(crate) const DEFAULT_SIZE_BYTES: u64 = 10 * 1024 * 1024;
pub(crate) const DEFAULT_RETRY_AFTER_S: u64 = 1;

impl Fault {
    fn from_json(v: &Value) -> Result<Fault, String> {
        let obj = v
            .as_object()
            .ok_or("fault: expected an object with \"kind\", or null")?;
        let kind =
            FaultKind::from_json(obj.get("kind").ok_or("fault.kind: missing")?, "fault.kind")?;
        let mut f = Fault {
            kind,
            count: None,
            path: None,
            delay_ms: DEFAULT_DELAY_MS,
            status: DEFAULT_FAULT_STATUS,
            api_status: None,
            size_bytes: DEFAULT_SIZE_BYTES,
            retry_after_s: DEFAULT_RETRY_AFTER_S,
        };
        if kind == FaultKind::Error200 {
            f.api_status = Some(&INTERNAL_ERROR);
        }
        for (key, val) in obj {
            let name = format!("fault.{key}");
            match key.as_str() {
                "kind" => {}
                "count" => {
                    if !val.is_null() {
                        f.count = Some(uint(val, &name, 1, u64::MAX)?);
                    }
                }
                "path" => {
                    f.path = match val {
                        Value::Null => None,
                        Value::String(s) => Some(s.clone()),
                        _ => return Err(format!("{name}: expected a string")),
                    }
                }
                "delayMs" => f.delay_ms = uint(val, &name, 0, 86_400_000)?,
                "status" => f.status = uint(val, &name, 200, 599)? as u16,
                "apiStatus" => f.api_status = Some(status_from_json(val, &name)?),
                "sizeBytes" => f.size_bytes = uint(val, &name, 0, 1 << 40)?,
                "retryAfterS" => f.retry_after_s = uint(val, &name, 0, 86_400 * 365)?,
                _ => return Err(format!("{name}: unknown key")),
            }
        }
        Ok(f)
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("kind".into(), self.kind.name().into());
        if let Some(c) = self.count {
            m.insert("count".into(), c.into());
        }
        if let Some(p) = &self.path {
            m.insert("path".into(), p.clone().into());
        }
        match self.kind {
            FaultKind::Delay => {
                m.insert("delayMs".into(), self.delay_ms.into());
            }
            FaultKind::Status => {
                m.insert("status".into(), self.status.into());
                if let Some(s) = self.api_status {
                    m.insert("apiStatus".into(), s.name.into());
                }
            }
            FaultKind::Error200 => {
                let s = self.api_status.unwrap_or(&INTERNAL_ERROR);
                m.insert("apiStatus".into(), s.name.into());
            }
            FaultKind::Oversized => {
                m.insert("sizeBytes".into(), self.size_bytes.into());
            }
            FaultKind::RetryAfter => {
                m.insert("retryAfterS".into(), self.retry_after_s.into());
            }
            _ => {}
        }
        Value::Object(m)
    }
}

/// A user who can sign in with username and password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct User {
    pub username: String,
    pub password: String,
    pub user_id: Arc<str>,
    pub companies: Arc<[String]>,
    pub locked: bool,
}

impl User {
    fn new(
        username: &str,
        password: &str,
        user_id: &str,
        companies: &[&str],
        locked: bool,
    ) -> User {
        User {
            username: username.into(),
            password: password.into(),
            user_id: user_id.into(),
            companies: companies.iter().map(|c| c.to_string()).collect(),
            locked,
        }
    }

    fn from_json(v: &Value, key: &str) -> Result<User, String> {
        let obj = v
            .as_object()
            .ok_or_else(|| format!("{key}: expected an object"))?;
        for k in obj.keys() {
            if !["username", "password", "userId", "companies", "locked"].contains(&k.as_str()) {
                return Err(format!("{key}.{k}: unknown key"));
            }
        }
        let username = req_str(obj, "username", key)?;
        if username.is_empty() {
            return Err(format!("{key}.username: must not be empty"));
        }
        let password = req_str(obj, "password", key)?;
        let user_id = match obj.get("userId") {
            None | Some(Value::Null) => format!("u-{username}"),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => return Err(format!("{key}.userId: expected a non-empty string")),
        };
        let companies: Vec<String> = match obj.get("companies") {
            Some(Value::Array(a)) if !a.is_empty() => a
                .iter()
                .map(|c| match c {
                    Value::String(s) if !s.is_empty() => Ok(s.clone()),
                    _ => Err(format!("{key}.companies: expected non-empty strings")),
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(format!(
                    "{key}.companies: expected a non-empty array of strings"
                ))
            }
        };
        let locked = match obj.get("locked") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(format!("{key}.locked: expected a boolean")),
        };
        Ok(User {
            username,
            password,
            user_id: user_id.into(),
            companies: companies.into(),
            locked,
        })
    }

    fn to_json(&self) -> Value {
        json!({
            "username": self.username,
            "password": self.password,
            "userId": &*self.user_id,
            "companies": &*self.companies,
            "locked": self.locked,
        })
    }
}

/// An API key (authorizationCodeCredentials: clientId + code = secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiKey {
    pub client_id: String,
    pub secret: String,
    pub company_id: String,
    pub user_id: Arc<str>,
}

impl ApiKey {
    fn from_json(v: &Value, key: &str) -> Result<ApiKey, String> {
        let obj = v
            .as_object()
            .ok_or_else(|| format!("{key}: expected an object"))?;
        for k in obj.keys() {
            if !["clientId", "secret", "companyId", "userId"].contains(&k.as_str()) {
                return Err(format!("{key}.{k}: unknown key"));
            }
        }
        let client_id = req_str(obj, "clientId", key)?;
        let secret = req_str(obj, "secret", key)?;
        let company_id = req_str(obj, "companyId", key)?;
        if client_id.is_empty() || company_id.is_empty() {
            return Err(format!("{key}: clientId and companyId must not be empty"));
        }
        let user_id = match obj.get("userId") {
            None | Some(Value::Null) => format!("u-{client_id}"),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => return Err(format!("{key}.userId: expected a non-empty string")),
        };
        Ok(ApiKey {
            client_id,
            secret,
            company_id,
            user_id: user_id.into(),
        })
    }

    fn to_json(&self) -> Value {
        json!({
            "clientId": self.client_id,
            "secret": self.secret,
            "companyId": self.company_id,
            "userId": &*self.user_id,
        })
    }
}

/// The accounts every server knows, before any configured ones.
pub(crate) fn builtin_users() -> Vec<User> {
    vec![
        User::new("alice", "wonderland", "u-alice", &["c-100", "c-200"], false),
        User::new("bob", "builder", "u-bob", &["c-300"], false),
        User::new("locked", "locked", "u-locked", &["c-100"], true),
    ]
}

pub(crate) fn builtin_api_keys() -> Vec<ApiKey> {
    vec![ApiKey {
        client_id: "ak-demo".into(),
        secret: "ak-secret".into(),
        company_id: "c-100".into(),
        user_id: "u-apikey".into(),
    }]
}

/// The small, copyable part of the config that every request needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Knobs {
    pub token_lifetime_s: i64,
    pub refresh_lifetime_s: i64,
    pub expires_at_form: ExpiresAtForm,
    pub clock_offset_s: i64,
    pub rotate: bool,
    pub cookie_style: CookieStyle,
    pub refresh_token_in_body: bool,
    pub error_shape: ErrorShape,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            token_lifetime_s: 3600,
            refresh_lifetime_s: 30 * 86_400,
            expires_at_form: ExpiresAtForm::String,
            clock_offset_s: 0,
            rotate: false,
            cookie_style: CookieStyle::Expires,
            refresh_token_in_body: false,
            error_shape: ErrorShape::Gateway,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Config {
    pub knobs: Knobs,
    pub fault: Option<Fault>,
    /// Configured users; looked up before the built-in ones.
    pub users: Vec<User>,
    /// Configured API keys; looked up before the built-in ones.
    pub api_keys: Vec<ApiKey>,
}

/// ±100 years in seconds: the range accepted for lifetimes and the clock offset.
const MAX_SECONDS: i64 = 100 * 366 * 86_400;

impl Config {
    pub(crate) fn to_json(&self) -> Value {
        let k = &self.knobs;
        json!({
            "tokenLifetimeS": k.token_lifetime_s,
            "refreshLifetimeS": k.refresh_lifetime_s,
            "expiresAtForm": k.expires_at_form.name(),
            "clockOffsetS": k.clock_offset_s,
            "rotate": k.rotate,
            "cookieStyle": k.cookie_style.name(),
            "refreshTokenInBody": k.refresh_token_in_body,
            "errorShape": k.error_shape.name(),
            "fault": self.fault.as_ref().map(Fault::to_json),
            "users": self.users.iter().map(User::to_json).collect::<Vec<_>>(),
            "apiKeys": self.api_keys.iter().map(ApiKey::to_json).collect::<Vec<_>>(),
        })
    }

    /// Merge `patch` (a JSON object) into `self`. A `null` value resets that key to
    /// its default. On error `self` may be partly changed: apply to a copy.
    pub(crate) fn apply_patch(&mut self, patch: &Value) -> Result<(), String> {
        let obj = patch
            .as_object()
            .ok_or("config patch: expected a JSON object")?;
        let defaults = Knobs::default();
        let k = &mut self.knobs;
        for (key, val) in obj {
            let key = key.as_str();
            let reset = val.is_null();
            match key {
                "tokenLifetimeS" => {
                    k.token_lifetime_s = if reset {
                        defaults.token_lifetime_s
                    } else {
                        int(val, key)?
                    }
                }
                "refreshLifetimeS" => {
                    k.refresh_lifetime_s = if reset {
                        defaults.refresh_lifetime_s
                    } else {
                        int(val, key)?
                    }
                }
                "clockOffsetS" => {
                    k.clock_offset_s = if reset {
                        defaults.clock_offset_s
                    } else {
                        int(val, key)?
                    }
                }
                "expiresAtForm" => {
                    k.expires_at_form = if reset {
                        defaults.expires_at_form
                    } else {
                        ExpiresAtForm::from_json(val, key)?
                    }
                }
                "cookieStyle" => {
                    k.cookie_style = if reset {
                        defaults.cookie_style
                    } else {
                        CookieStyle::from_json(val, key)?
                    }
                }
                "errorShape" => {
                    k.error_shape = if reset {
                        defaults.error_shape
                    } else {
                        ErrorShape::from_json(val, key)?
                    }
                }
                "rotate" => {
                    k.rotate = if reset {
                        defaults.rotate
                    } else {
                        boolean(val, key)?
                    }
                }
                "refreshTokenInBody" => {
                    k.refresh_token_in_body = if reset {
                        defaults.refresh_token_in_body
                    } else {
                        boolean(val, key)?
                    }
                }
                "fault" => {
                    self.fault = if reset {
                        None
                    } else {
                        Some(Fault::from_json(val)?)
                    }
                }
                "users" => {
                    self.users = match val {
                        Value::Null => Vec::new(),
                        Value::Array(a) => a
                            .iter()
                            .enumerate()
                            .map(|(i, u)| User::from_json(u, &format!("users[{i}]")))
                            .collect::<Result<_, _>>()?,
                        _ => return Err("users: expected an array".into()),
                    }
                }
                "apiKeys" => {
                    self.api_keys = match val {
                        Value::Null => Vec::new(),
                        Value::Array(a) => a
                            .iter()
                            .enumerate()
                            .map(|(i, u)| ApiKey::from_json(u, &format!("apiKeys[{i}]")))
                            .collect::<Result<_, _>>()?,
                        _ => return Err("apiKeys: expected an array".into()),
                    }
                }
                _ => return Err(format!("{key}: unknown config key")),
            }
        }
        Ok(())
    }
}

fn int(v: &Value, key: &str) -> Result<i64, String> {
    match v.as_i64() {
        Some(n) if (-MAX_SECONDS..=MAX_SECONDS).contains(&n) => Ok(n),
        _ => Err(format!(
            "{key}: expected an integer number of seconds within ±{MAX_SECONDS}"
        )),
    }
}

fn uint(v: &Value, key: &str, min: u64, max: u64) -> Result<u64, String> {
    match v.as_u64() {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("{key}: expected an integer from {min} to {max}")),
    }
}

fn boolean(v: &Value, key: &str) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| format!("{key}: expected true or false"))
}

fn req_str(obj: &Map<String, Value>, field: &str, key: &str) -> Result<String, String> {
    match obj.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(format!("{key}.{field}: expected a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip() {
        let c = Config::default();
        let j = c.to_json();
        assert_eq!(j["tokenLifetimeS"], 3600);
        assert_eq!(j["refreshLifetimeS"], 2_592_000);
        assert_eq!(j["fault"], Value::Null);
        let mut d = Config::default();
        let mut patch = j.clone();
        patch["fault"] = json!({"kind": "delay", "delayMs": 5, "count": 2, "path": "auth"});
        d.apply_patch(&patch).unwrap();
        assert_eq!(d.to_json()["fault"], patch["fault"]);
    }

    #[test]
    fn errors_name_the_key() {
        let mut c = Config::default();
        for (patch, key) in [
            (json!({"nope": 1}), "nope"),
            (json!({"rotate": "yes"}), "rotate"),
            (json!({"cookieStyle": "weird"}), "cookieStyle"),
            (json!({"fault": {"kind": "explode"}}), "fault.kind"),
            (
                json!({"fault": {"kind": "status", "status": 99}}),
                "fault.status",
            ),
            (
                json!({"fault": {"kind": "status", "bogus": 1}}),
                "fault.bogus",
            ),
            (json!({"users": [{"username": "x"}]}), "users[0].password"),
            (json!({"tokenLifetimeS": 1.5}), "tokenLifetimeS"),
        ] {
            let err = c.apply_patch(&patch).unwrap_err();
            assert!(err.contains(key), "{err} should name {key}");
        }
    }

    #[test]
    fn api_status_by_name_or_number() {
        assert_eq!(
            status_from_json(&json!("TOKEN_OUTDATED"), "k")
                .unwrap()
                .number,
            1049
        );
        assert_eq!(
            status_from_json(&json!(1002), "k").unwrap().name,
            "AUTHENTICATION_ERROR"
        );
        assert!(status_from_json(&json!("OK"), "k").is_err());
    }
}
