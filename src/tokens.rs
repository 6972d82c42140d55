//! What a successful sign-in or refresh gives: the access token and its expiry, the
//! refresh token to keep, and who the token is for.

use crate::clock;
use crate::cookies::{self, RefreshCookie};
use crate::error::{Error, Result};
use crate::protocol::Reply;
use crate::secret::Secret;
use crate::timestamp;
use std::fmt;
use std::time::Duration;

/// The result of a sign-in or refresh. Immutable; cheap to read from many threads.
#[derive(Clone)]
pub struct Tokens {
    access_token: Secret,
    expires_at: i64,
    refresh_token: Option<Secret>,
    refresh_expires_at: Option<i64>,
    rotated: bool,
    company_id: String,
    user_id: Option<String>,
    accessible_company_ids: Vec<String>,
    lifetime: Duration,
    received_at: clock::Instant,
}

/// What the transport knows about the reply besides its body.
pub(crate) struct ReplyMeta<'a> {
    /// The `Set-Cookie` header values.
    pub set_cookies: Vec<&'a [u8]>,
    /// The reply's `Date` header as Unix seconds, if present and valid.
    pub server_date: Option<i64>,
    /// The local wall clock when the reply arrived, Unix seconds.
    pub received_unix: i64,
    /// The lifetime clock when the reply arrived.
    pub received_at: clock::Instant,
}

impl Tokens {
    /// Reads a successful `authenticate` reply. `company_id` is the company the request
    /// named (used when the reply does not say); `used_refresh_token` is the refresh token
    /// the request presented, kept when the server does not issue a new one.
    pub(crate) fn from_reply(
        body: &Reply<'_>,
        meta: &ReplyMeta<'_>,
        company_id: Option<&str>,
        used_refresh_token: Option<&Secret>,
    ) -> Result<Tokens> {
        let access_token = match body.access_token() {
            Some(t) if !t.is_empty() => t,
            Some(_) => return Err(Error::protocol("the reply's accessToken is empty")),
            None => return Err(Error::protocol("the reply has no accessToken")),
        };
        if access_token.contains('\0') {
            return Err(Error::protocol(
                "the reply's accessToken contains a NUL byte",
            ));
        }
        let expires_at = match body.expires_at() {
            Some(v) => timestamp::parse_expires_at(v).map_err(Error::protocol)?,
            None => return Err(Error::protocol("the reply has no expiresAt")),
        };

        let issued =
            match cookies::refresh_cookie(meta.set_cookies.iter().copied(), meta.received_unix) {
                Some(cookie) => Some(cookie),
                None => match body.refresh_token() {
                    Some(t) if !t.is_empty() => Some(RefreshCookie {
                        token: Secret::from(t),
                        expires_at: None,
                    }),
                    _ => None,
                },
            };
        if let Some(c) = &issued {
            if !cookies::is_valid_cookie_value(c.token.expose()) {
                return Err(Error::protocol(
                    "the refresh token in the reply has characters a cookie cannot carry",
                ));
            }
        }
        let rotated = issued
            .as_ref()
            .is_some_and(|c| Some(c.token.expose()) != used_refresh_token.map(Secret::expose));
        let (refresh_token, refresh_expires_at) = match issued {
            Some(c) => (Some(c.token), c.expires_at),
            None => (used_refresh_token.cloned(), None),
        };

        let company_id = body
            .company_id()
            .filter(|c| !c.is_empty())
            .or(company_id)
            .unwrap_or_default();
        let user_id = body.user_id().filter(|u| !u.is_empty());
        let accessible_company_ids: Vec<String> = body
            .accessible_company_ids()
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        for (name, value) in [("companyId", Some(company_id)), ("userId", user_id)]
            .into_iter()
            .chain(
                accessible_company_ids
                    .iter()
                    .map(|c| ("accessibleAccounts", Some(c.as_str()))),
            )
        {
            if value.is_some_and(|v| v.contains('\0')) {
                return Err(Error::protocol(format!(
                    "the reply's {name} contains a NUL byte"
                )));
            }
        }

        // The lifetime the server intended, immune to a wrong local clock.
        let server_now = meta.server_date.unwrap_or(meta.received_unix);
        let lifetime = Duration::from_secs(u64::try_from(expires_at - server_now).unwrap_or(0));

        Ok(Tokens {
            access_token: Secret::from(access_token),
            expires_at,
            refresh_token,
            refresh_expires_at,
            rotated,
            company_id: company_id.to_owned(),
            user_id: user_id.map(str::to_owned),
            accessible_company_ids,
            lifetime,
            received_at: meta.received_at,
        })
    }

    /// The access token, to be sent in `accessInfo`.
    pub fn access_token(&self) -> &Secret {
        &self.access_token
    }

    /// When the access token expires, Unix seconds (UTC), as the server said.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// The refresh token to keep: after a sign-in, the one issued (`None` if the server
    /// issued none); after a refresh, the new one if the server rotated it, otherwise the
    /// one that was used.
    pub fn refresh_token(&self) -> Option<&Secret> {
        self.refresh_token.as_ref()
    }

    /// When the refresh token's cookie expires, Unix seconds (UTC), if the cookie said.
    pub fn refresh_expires_at(&self) -> Option<i64> {
        self.refresh_expires_at
    }

    /// Whether the reply carried a refresh token different from the one presented.
    pub fn refresh_token_rotated(&self) -> bool {
        self.rotated
    }

    /// The company the token is for.
    pub fn company_id(&self) -> &str {
        &self.company_id
    }

    /// The user the token is for, if the reply said.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The companies the user can reach (from a sign-in without a company id).
    pub fn accessible_company_ids(&self) -> &[String] {
        &self.accessible_company_ids
    }

    /// The access token's lifetime as the server intended it (`expiresAt` minus the
    /// server's `Date`), counted from when the reply arrived.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// When the reply arrived, on the lifetime clock.
    pub fn received_at(&self) -> clock::Instant {
        self.received_at
    }

    /// When the access token expires on the lifetime clock.
    pub fn expires_at_instant(&self) -> clock::Instant {
        self.received_at.saturating_add(self.lifetime)
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &self.access_token)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("company_id", &self.company_id)
            .field("user_id", &self.user_id)
            .field("accessible_company_ids", &self.accessible_company_ids)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{read_reply, Endpoint};
    use serde_json::{json, Value};

    fn meta<'a>(cookies: &[&'a str], server_date: Option<i64>) -> ReplyMeta<'a> {
        ReplyMeta {
            set_cookies: cookies.iter().map(|c| c.as_bytes()).collect(),
            server_date,
            received_unix: 1_700_000_000,
            received_at: clock::Instant::now(),
        }
    }

    /// The tokens in `body`, read from its JSON text as a 200 reply.
    fn from_json(
        body: &Value,
        meta: &ReplyMeta<'_>,
        company_id: Option<&str>,
        used_refresh_token: Option<&Secret>,
    ) -> Result<Tokens> {
        let text = body.to_string();
        let reply = read_reply(Endpoint::Authenticate, 200, text.as_bytes(), "id").unwrap();
        Tokens::from_reply(&reply, meta, company_id, used_refresh_token)
    }

    #[test]
    fn login_reply() {
        let b = json!({"accessToken": "AT", "expiresAt": "1700003600", "userId": "u1",
            "companyId": "c1", "accessibleAccounts": [{"companyId": "c1"}, {"companyId": "c2"}, {"x": 1}, 5]});
        let t = from_json(&b, &meta(&["auth=RT; Max-Age=100"], None), None, None).unwrap();
        assert_eq!(t.access_token().expose(), "AT");
        assert_eq!(t.expires_at(), 1_700_003_600);
        assert_eq!(t.refresh_token().unwrap().expose(), "RT");
        assert_eq!(t.refresh_expires_at(), Some(1_700_000_100));
        assert!(t.refresh_token_rotated());
        assert_eq!(t.company_id(), "c1");
        assert_eq!(t.user_id(), Some("u1"));
        assert_eq!(t.accessible_company_ids(), ["c1", "c2"]);
        assert_eq!(t.lifetime(), Duration::from_secs(3600));
        assert!(!format!("{t:?}").contains("AT\""));
    }

    #[test]
    fn lifetime_from_the_servers_clock() {
        let b = json!({"accessToken": "AT", "expiresAt": 1_700_003_600 + 7200});
        // The server is two hours ahead of us: its Date header says so.
        let t = from_json(&b, &meta(&[], Some(1_700_007_200)), Some("c"), None).unwrap();
        assert_eq!(t.lifetime(), Duration::from_secs(3600));
        // Without a Date header, local time is all there is.
        let t = from_json(&b, &meta(&[], None), Some("c"), None).unwrap();
        assert_eq!(t.lifetime(), Duration::from_secs(3600 + 7200));
        // Already expired by the server's clock: zero, not negative.
        let t = from_json(&b, &meta(&[], Some(1_800_000_000)), Some("c"), None).unwrap();
        assert_eq!(t.lifetime(), Duration::ZERO);
    }

    #[test]
    fn refresh_keeps_or_rotates() {
        let old = Secret::from("OLD");
        let b = json!({"accessToken": "AT", "expiresAt": 1_700_003_600});
        let t = from_json(&b, &meta(&[], None), Some("c9"), Some(&old)).unwrap();
        assert_eq!(t.refresh_token().unwrap().expose(), "OLD");
        assert!(!t.refresh_token_rotated());
        assert_eq!(t.company_id(), "c9");
        assert_eq!(t.user_id(), None);

        let t = from_json(&b, &meta(&["auth=NEW"], None), Some("c9"), Some(&old)).unwrap();
        assert_eq!(t.refresh_token().unwrap().expose(), "NEW");
        assert!(t.refresh_token_rotated());

        // The body field is the fallback.
        let b2 = json!({"accessToken": "AT", "expiresAt": 1_700_003_600, "refreshToken": "BODY"});
        let t = from_json(&b2, &meta(&[], None), Some("c9"), Some(&old)).unwrap();
        assert_eq!(t.refresh_token().unwrap().expose(), "BODY");
        // ... and the cookie wins over it.
        let t = from_json(&b2, &meta(&["auth=COOKIE"], None), Some("c9"), Some(&old)).unwrap();
        assert_eq!(t.refresh_token().unwrap().expose(), "COOKIE");
    }

    #[test]
    fn escaped_strings_are_read_unescaped() {
        let b = json!({"accessToken": "A\"B\\C\u{e9}", "expiresAt": "1700003600",
            "userId": "u\u{e9}", "companyId": "c\"1",
            "accessibleAccounts": [{"companyId": "c\n2"}]});
        let t = from_json(&b, &meta(&[], None), None, None).unwrap();
        assert_eq!(t.access_token().expose(), "A\"B\\C\u{e9}");
        assert_eq!(t.user_id(), Some("u\u{e9}"));
        assert_eq!(t.company_id(), "c\"1");
        assert_eq!(t.accessible_company_ids(), ["c\n2"]);
        // Written with \u escapes, as some servers do.
        let text = r#"{"accessToken": "\u0041\u00e9", "refreshToken": "R\/\u0054",
            "expiresAt": "\u0031\u0037\u0030\u0030\u0030\u0030\u0033\u0036\u0030\u0030"}"#;
        let reply = read_reply(Endpoint::Authenticate, 200, text.as_bytes(), "id").unwrap();
        let t = Tokens::from_reply(&reply, &meta(&[], None), Some("c"), None).unwrap();
        assert_eq!(t.access_token().expose(), "A\u{e9}");
        assert_eq!(t.refresh_token().unwrap().expose(), "R/T");
        assert_eq!(t.expires_at(), 1_700_003_600);
    }

    #[test]
    fn missing_or_bad_fields() {
        for (b, needle) in [
            (json!({"expiresAt": 1}), "no accessToken"),
            (json!({"accessToken": "", "expiresAt": 1}), "empty"),
            (json!({"accessToken": 5, "expiresAt": 1}), "no accessToken"),
            (json!({"accessToken": "A"}), "no expiresAt"),
            (json!({"accessToken": "A", "expiresAt": "soon"}), "neither"),
            (json!({"accessToken": "A", "expiresAt": null}), "null"),
            (json!({"accessToken": "A", "expiresAt": [1]}), "array"),
            (json!({"accessToken": "A\u{0}B", "expiresAt": 5}), "NUL"),
            (
                json!({"accessToken": "A", "expiresAt": 5, "refreshToken": "a;b"}),
                "cookie",
            ),
            (
                json!({"accessToken": "A", "expiresAt": 5, "companyId": "x\u{0}"}),
                "NUL",
            ),
        ] {
            let err = from_json(&b, &meta(&[], None), Some("c"), None).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Protocol);
            assert!(err.message().contains(needle), "{b}: {err}");
        }
    }
}
