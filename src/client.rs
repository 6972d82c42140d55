//! The client: how to reach the API (base URL, timeouts, trust, user agent), and the
//! requests of the protocol — the three sign-ins and authenticated calls.

use crate::cookies;
use crate::error::{Error, Result};
use crate::http::{self, Transport, TransportConfig};
use crate::protocol::{self, Credentials, Endpoint};
use crate::secret::Secret;
use crate::tokens::{ReplyMeta, Tokens};
use once_cell::sync::OnceCell;
use reqwest::header::{HeaderValue, SET_COOKIE};
use rustls::pki_types::CertificateDer;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroize;

/// The production API.
pub const DEFAULT_BASE_URL: &str = "https://apis.alfaview.com/json/v1/";
/// The whole-request timeout unless set otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(30_000);
/// The largest sign-in or refresh reply accepted.
pub const MAX_AUTH_REPLY_BYTES: usize = 1 << 20;
/// The largest reply to an API call accepted unless set otherwise (also the largest
/// request body accepted).
pub const MAX_CALL_REPLY_BYTES: usize = 16 << 20;
/// How many times a transient failure is retried unless set otherwise.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The longest string argument accepted.
pub const MAX_ARGUMENT_BYTES: usize = 64 << 10;

/// The environment variable naming the base URL.
pub const ENV_API_URL: &str = "ALFAVIEW_API_URL";
/// The environment variable naming a PEM file of extra root certificates.
pub const ENV_CA_FILE: &str = "ALFAVIEW_CA_FILE";
/// The environment variable giving the timeout in milliseconds.
pub const ENV_TIMEOUT_MS: &str = "ALFAVIEW_TIMEOUT_MS";

/// Settings for a [`Client`]. [`ClientBuilder::new`] starts from the defaults and the
/// environment (`ALFAVIEW_API_URL`, `ALFAVIEW_CA_FILE`, `ALFAVIEW_TIMEOUT_MS`); setters
/// override them and check their argument at once. A problem in the environment is
/// reported by [`ClientBuilder::build`], naming the variable.
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    base_url: (String, &'static str),
    timeout: std::result::Result<Duration, Error>,
    ca_roots: std::result::Result<Vec<CertificateDer<'static>>, Error>,
    user_agent: Option<HeaderValue>,
    max_retries: u32,
    max_call_reply_bytes: usize,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl ClientBuilder {
    /// The defaults, with the environment applied.
    pub fn new() -> ClientBuilder {
        let env = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        let base_url = match env(ENV_API_URL) {
            Some(v) => (v.to_string_lossy().into_owned(), ENV_API_URL),
            None => (DEFAULT_BASE_URL.to_owned(), "base_url"),
        };
        let timeout = match env(ENV_TIMEOUT_MS) {
            None => Ok(DEFAULT_TIMEOUT),
            Some(v) => match v.to_str().and_then(|s| s.trim().parse::<u32>().ok()) {
                Some(ms) if ms > 0 => Ok(Duration::from_millis(ms.into())),
                _ => Err(Error::invalid_argument(
                    ENV_TIMEOUT_MS,
                    "must be a whole number of milliseconds from 1 to 4294967295",
                )),
            },
        };
        let ca_roots = match env(ENV_CA_FILE) {
            None => Ok(Vec::new()),
            Some(path) => http::read_ca_file(Path::new(&path), ENV_CA_FILE),
        };
        ClientBuilder {
            base_url,
            timeout,
            ca_roots,
            user_agent: None,
            max_retries: DEFAULT_MAX_RETRIES,
            max_call_reply_bytes: MAX_CALL_REPLY_BYTES,
        }
    }

    /// The API's base URL: `https://`, or `http://` to a loopback host.
    pub fn base_url(&mut self, url: &str) -> Result<&mut Self> {
        check_text("url", url)?;
        http::check_base_url(url, "url")?;
        self.base_url = (url.to_owned(), "url");
        Ok(self)
    }

    /// The whole-request timeout (connecting, sending, and reading the reply).
    pub fn timeout(&mut self, timeout: Duration) -> Result<&mut Self> {
        if timeout.is_zero() {
            return Err(Error::invalid_argument("ms", "must be at least 1"));
        }
        self.timeout = Ok(timeout);
        Ok(self)
    }

    /// Extra root certificates (PEM) to trust besides the system's.
    pub fn ca_file(&mut self, pem_path: impl AsRef<Path>) -> Result<&mut Self> {
        let roots = http::read_ca_file(pem_path.as_ref(), "pem_path")?;
        self.ca_roots = Ok(roots);
        Ok(self)
    }

    /// The `User-Agent` header (default `alfaview-auth/<version>`).
    pub fn user_agent(&mut self, ua: &str) -> Result<&mut Self> {
        check_text("ua", ua)?;
        let value = HeaderValue::from_str(ua)
            .map_err(|_| Error::invalid_argument("ua", "is not a valid header value"))?;
        self.user_agent = Some(value);
        Ok(self)
    }

    /// How many times a transient failure is retried (default 2; 0 turns retries off):
    /// a connection that could not be made, HTTP 502/503/504, and 429 (after its
    /// `Retry-After`, up to 30 s). Retries back off exponentially with jitter and stay
    /// within the whole-request timeout. Nothing else is retried.
    pub fn max_retries(&mut self, retries: u32) -> &mut Self {
        self.max_retries = retries;
        self
    }

    /// The largest reply to an API call accepted (default 16 MiB); larger replies fail
    /// with [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) without being read whole.
    /// Sign-in and refresh replies are always limited to 1 MiB.
    pub fn max_reply_bytes(&mut self, bytes: usize) -> Result<&mut Self> {
        if bytes == 0 {
            return Err(Error::invalid_argument("bytes", "must be at least 1"));
        }
        self.max_call_reply_bytes = bytes;
        Ok(self)
    }

    /// A client with these settings. The builder stays usable.
    pub fn build(&self) -> Result<Client> {
        let (url, name) = &self.base_url;
        let base = http::check_base_url(url, name)?;
        let timeout = self.timeout.clone()?;
        let extra_roots = self.ca_roots.clone()?;
        let user_agent = self.user_agent.clone().unwrap_or_else(|| {
            HeaderValue::from_static(concat!("alfaview-auth/", env!("CARGO_PKG_VERSION")))
        });
        let transport = Transport::new(TransportConfig {
            base,
            timeout,
            extra_roots,
            user_agent,
            max_retries: self.max_retries,
        })?;
        Ok(Client {
            transport: Arc::new(transport),
            max_call_reply_bytes: self.max_call_reply_bytes,
        })
    }
}

/// A connection to the alfaview API. Cheap to clone (clones share connections) and safe
/// to use from many threads at once.
///
/// ```
/// use alfaview_auth::Client;
/// use std::time::Duration;
/// # let mock = alfaview_mock::MockServer::start();
///
/// let client = Client::builder()
///     .base_url(&mock.base_url())?        // default: ALFAVIEW_API_URL, else the real API
///     .timeout(Duration::from_secs(10))?  // the whole request, retries included
///     .build()?;
/// let tokens = client.login_api_key("ak-demo", "ak-secret", "c-100")?;
/// let reply = client.call(tokens.access_token().expose(), "authenticationService/isAuthenticated", None)?;
/// assert!(reply.contains("\"OK\""));
/// # Ok::<(), alfaview_auth::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    transport: Arc<Transport>,
    max_call_reply_bytes: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.transport.base().as_str())
            .finish()
    }
}

static DEFAULT_CLIENT: OnceCell<Client> = OnceCell::new();

impl Client {
    /// A builder starting from the defaults and the environment.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// The process-wide default client, created on first use from the defaults and the
    /// environment; it keeps its connections alive between calls. If creating it fails,
    /// the next call tries again.
    pub fn shared() -> Result<Client> {
        DEFAULT_CLIENT
            .get_or_try_init(|| ClientBuilder::new().build())
            .cloned()
    }

    /// The base URL this client talks to.
    pub fn base_url(&self) -> &str {
        self.transport.base().as_str()
    }

    /// The whole-request timeout.
    pub fn timeout(&self) -> Duration {
        self.transport.timeout()
    }

    /// Signs in with a username and password. Without a company id the server picks one
    /// and lists the others in [`Tokens::accessible_company_ids`].
    pub fn login_password(
        &self,
        username: &str,
        password: &str,
        company_id: Option<&str>,
    ) -> Result<Tokens> {
        check_text("username", username)?;
        check_text("password", password)?;
        if let Some(c) = company_id {
            check_text("company_id", c)?;
        }
        self.authenticate(
            &Credentials::Password {
                username,
                password,
                company_id,
            },
            company_id,
            None,
        )
    }

    /// Signs in with an API key: its alias (`client_id`) and secret.
    pub fn login_api_key(
        &self,
        client_id: &str,
        api_key_secret: &str,
        company_id: &str,
    ) -> Result<Tokens> {
        check_text("client_id", client_id)?;
        check_text("api_key_secret", api_key_secret)?;
        check_text("company_id", company_id)?;
        self.authenticate(
            &Credentials::ApiKey {
                client_id,
                secret: api_key_secret,
                company_id,
            },
            Some(company_id),
            None,
        )
    }

    /// Exchanges a refresh token for a new access token. If the server rotates the refresh
    /// token, [`Tokens::refresh_token`] is the new one; keep it.
    pub fn refresh(&self, company_id: &str, refresh_token: &str) -> Result<Tokens> {
        check_text("company_id", company_id)?;
        check_refresh_token(refresh_token)?;
        let token = Secret::from(refresh_token);
        self.authenticate(
            &Credentials::RefreshToken { company_id },
            Some(company_id),
            Some(&token),
        )
    }

    fn authenticate(
        &self,
        credentials: &Credentials<'_>,
        company_id: Option<&str>,
        refresh_token: Option<&Secret>,
    ) -> Result<Tokens> {
        let request_id = new_request_id();
        let body = protocol::authenticate_body(&request_id, credentials);
        let cookie = refresh_token.map(cookies::cookie_header);
        let reply = self.transport.post(
            protocol::AUTHENTICATE,
            body,
            cookie.as_ref(),
            &request_id,
            MAX_AUTH_REPLY_BYTES,
        )?;
        let parsed = protocol::read_reply(
            Endpoint::Authenticate,
            reply.status,
            &reply.body,
            &request_id,
        )
        .map_err(|e| reply.annotate(e))?;
        let meta = ReplyMeta {
            set_cookies: reply
                .headers
                .get_all(SET_COOKIE)
                .iter()
                .map(HeaderValue::as_bytes)
                .collect(),
            server_date: reply.server_date(),
            received_unix: reply.received_unix,
            received_at: reply.received_at,
        };
        Tokens::from_reply(&parsed, &meta, company_id, refresh_token).map_err(|e| {
            e.with_http_status(reply.status)
                .with_request_id(reply_request_id(&parsed).unwrap_or(&request_id))
        })
    }

    /// Calls `service_method` (e.g. `roomService/create`) with `access_token`: adds
    /// `accessInfo` to `json_body` (a JSON object; `None` for `{}`) and returns the reply's
    /// JSON text. Errors in either of the server's shapes become an [`Error`];
    /// `TOKEN_OUTDATED` is [`ErrorKind::TokenExpired`](crate::ErrorKind::TokenExpired).
    pub fn call(
        &self,
        access_token: &str,
        service_method: &str,
        json_body: Option<&str>,
    ) -> Result<String> {
        check_text("access_token", access_token)?;
        check_service_method(service_method)?;
        if let Some(body) = json_body {
            if body.len() > MAX_CALL_REPLY_BYTES {
                return Err(Error::invalid_argument(
                    "json_body",
                    format!("is longer than {MAX_CALL_REPLY_BYTES} bytes"),
                ));
            }
        }
        let request_id = new_request_id();
        let body = protocol::call_body(&request_id, access_token, json_body)?;
        let mut reply = self.transport.post(
            service_method,
            body,
            None,
            &request_id,
            self.max_call_reply_bytes,
        )?;
        // Only the verdict is needed: the caller gets the reply's text.
        protocol::read_reply(Endpoint::Call, reply.status, &reply.body, &request_id)
            .map_err(|e| reply.annotate(e))?;
        // The reply's bytes become the caller's string; if they cannot, they are wiped.
        String::from_utf8(std::mem::take(&mut *reply.body)).map_err(|e| {
            e.into_bytes().zeroize();
            Error::protocol("the reply is not valid UTF-8")
                .with_http_status(reply.status)
                .with_request_id(request_id)
        })
    }
}

/// The reply's `replyInfo.requestId`, if it is fit to quote in an error.
fn reply_request_id<'a>(parsed: &'a protocol::Reply<'_>) -> Option<&'a str> {
    parsed
        .request_id()
        .filter(|s| !s.is_empty() && s.len() <= 64 && !s.contains(|c: char| c.is_control()))
}

/// A fresh, unique `requestId`: a version-4 UUID from a fast per-thread generator (no
/// system call per request; request ids are not secrets).
pub(crate) fn new_request_id() -> String {
    uuid::Builder::from_random_bytes(crate::random::bytes16())
        .into_uuid()
        .to_string()
}

/// The checks every string argument gets: not empty, not over the length limit, no
/// control characters.
pub(crate) fn check_text(name: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid_argument(name, "must not be empty"));
    }
    if value.len() > MAX_ARGUMENT_BYTES {
        return Err(Error::invalid_argument(
            name,
            format!("is longer than {MAX_ARGUMENT_BYTES} bytes"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_argument(
            name,
            "contains a control character",
        ));
    }
    Ok(())
}

/// A refresh token must also be sendable as a cookie value unchanged.
pub(crate) fn check_refresh_token(token: &str) -> Result<()> {
    check_text("refresh_token", token)?;
    if !cookies::is_valid_cookie_value(token) {
        return Err(Error::invalid_argument(
            "refresh_token",
            "contains characters a cookie cannot carry (space, quote, comma, semicolon, backslash or non-ASCII)",
        ));
    }
    Ok(())
}

/// `service/method`: letters, digits, `.`, `_`, `-`, one or more `/`-separated
/// segments, relative (so a call can never leave the configured base URL).
pub(crate) fn check_service_method(path: &str) -> Result<()> {
    check_text("service_method", path)?;
    let ok_chars = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'));
    let segments_ok = path
        .split('/')
        .all(|s| !s.is_empty() && s != "." && s != "..");
    if !ok_chars || !segments_ok || !path.contains('/') {
        return Err(Error::invalid_argument(
            "service_method",
            "must look like \"roomService/create\" (letters, digits, '.', '_', '-', separated by '/')",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn argument_checks_name_the_argument() {
        for (value, needle) in [
            ("", "must not be empty"),
            ("a\nb", "control character"),
            ("a\u{7f}", "control character"),
        ] {
            let err = check_text("company_id", value).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
            assert!(err.message().contains("'company_id'"), "{err}");
            assert!(err.message().contains(needle), "{err}");
        }
        let long = "x".repeat(MAX_ARGUMENT_BYTES + 1);
        assert!(check_text("x", &long)
            .unwrap_err()
            .message()
            .contains("longer"));
        assert!(check_text("x", "ok é ü").is_ok());
        assert!(check_refresh_token("a;b").is_err());
        assert!(check_refresh_token("0b3f1c2e-1111").is_ok());
    }

    #[test]
    fn service_methods() {
        for ok in [
            "roomService/create",
            "guestService.v2/list",
            "a/b/c",
            "x_y/z-1",
        ] {
            assert!(check_service_method(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "room",
            "/roomService/create",
            "a//b",
            "../x/y",
            "a/./b",
            "a/b?x=1",
            "http://evil/x",
            "a/b#f",
            "a b/c",
        ] {
            let err = check_service_method(bad).unwrap_err();
            assert!(err.message().contains("'service_method'"), "{bad}: {err}");
        }
    }

    #[test]
    fn request_ids_are_unique() {
        let a = new_request_id();
        assert_ne!(a, new_request_id());
        assert_eq!(a.len(), 36);
    }
}
