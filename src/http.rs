//! The transport: one HTTPS client per [`Client`](crate::Client), driven on the calling
//! thread, with the base-URL policy, timeouts, no redirects, no cookie jar, and replies
//! read under a size limit.

use crate::clock;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
use crate::timestamp;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, COOKIE, USER_AGENT};
use reqwest::Url;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The longest a connection attempt may take, within the whole-request timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The settings a transport is built from (validated by the client builder).
pub(crate) struct TransportConfig {
    pub base: Url,
    pub timeout: Duration,
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub user_agent: HeaderValue,
    pub max_retries: u32,
}

/// A reply that arrived in full.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    /// Wiped when dropped: it holds the access token (and maybe a refresh token).
    pub body: Zeroizing<Vec<u8>>,
    /// The local wall clock when the reply's head arrived, Unix seconds.
    pub received_unix: i64,
    /// The lifetime clock when the reply's head arrived.
    pub received_at: clock::Instant,
    /// How many attempts it took (more than 1 after retries).
    pub attempts: u32,
}

impl Reply {
    /// `e` with the attempt count, if there was more than one.
    pub fn annotate(&self, e: Error) -> Error {
        if self.attempts > 1 {
            e.with_suffix(&format!(" (after {} attempts)", self.attempts))
        } else {
            e
        }
    }

    /// The reply's `Date` header as Unix seconds, if it has a valid one.
    pub fn server_date(&self) -> Option<i64> {
        let value = self.headers.get(reqwest::header::DATE)?.to_str().ok()?;
        timestamp::parse_http_date(value)
    }
}

pub(crate) struct Transport {
    http: reqwest::Client,
    // Drives `http` on whichever thread calls in; several threads may be inside at once.
    runtime: tokio::runtime::Runtime,
    base: Url,
    /// The sign-in URL, joined once: every refresh uses it.
    authenticate_url: Url,
    timeout: Duration,
    user_agent: HeaderValue,
    max_retries: u32,
}

impl Transport {
    pub fn new(config: TransportConfig) -> Result<Transport> {
        let https = config.base.scheme() == "https";
        let tls = tls_config(config.extra_roots, https)?;
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.timeout.min(MAX_CONNECT_TIMEOUT))
            .tcp_nodelay(true)
            .pool_max_idle_per_host(8);
        if is_loopback(&config.base) {
            // A loopback server is on this machine: never send it (or, in plaintext, the
            // credentials) through a proxy from the environment. Remote https:// honours
            // HTTPS_PROXY/NO_PROXY; the tunnel keeps the proxy from seeing the request.
            builder = builder.no_proxy();
        }
        let http = builder
            .build()
            .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot set up HTTP: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot set up I/O: {e}")))?;
        let authenticate_url = config
            .base
            .join(crate::protocol::AUTHENTICATE)
            .map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("cannot form the sign-in URL: {e}"),
                )
            })?;
        Ok(Transport {
            http,
            runtime,
            authenticate_url,
            base: config.base,
            timeout: config.timeout,
            user_agent: config.user_agent,
            max_retries: config.max_retries,
        })
    }

    /// The base URL requests are made against.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The whole-request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// POSTs a JSON `body` to `path` (relative to the base URL, already validated) and
    /// reads the whole reply, refusing one larger than `max_reply_bytes`. `cookie` is sent
    /// as the `Cookie` header. Transient failures are retried (see [`Retry`]) within the
    /// whole-request timeout, which covers every attempt. Errors carry `request_id`.
    pub fn post(
        &self,
        path: &str,
        body: Vec<u8>,
        cookie: Option<&Secret>,
        request_id: &str,
        max_reply_bytes: usize,
    ) -> Result<Reply> {
        let url = if path == crate::protocol::AUTHENTICATE {
            self.authenticate_url.clone()
        } else {
            self.base
                .join(path)
                .map_err(|e| Error::invalid_argument("service_method", e))?
        };
        // The cookie and the body (which may hold a password or API key secret) are
        // shared by every attempt through buffers that are wiped when the last one drops.
        let cookie = match cookie {
            Some(cookie) => {
                let mut value =
                    HeaderValue::from_maybe_shared(wiped(cookie.expose().as_bytes().to_vec()))
                        .map_err(|_| {
                            Error::invalid_argument("refresh_token", "is not a valid cookie value")
                        })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let body = wiped(body);
        let deadline = std::time::Instant::now() + self.timeout;
        let mut attempt = 1u32;
        loop {
            let mut request = self
                .http
                .post(url.clone())
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .header(ACCEPT, HeaderValue::from_static("application/json"))
                .header(USER_AGENT, self.user_agent.clone())
                .body(body.clone());
            if let Some(cookie) = &cookie {
                request = request.header(COOKIE, cookie.clone());
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let outcome = self.exchange(request, left, max_reply_bytes);
            let retry = match &outcome {
                Ok(reply) => Retry::after_reply(reply),
                Err(e) => Retry::after_error(e),
            };
            let pause = retry.and_then(|wait| {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                let pause = wait.unwrap_or_else(|| backoff(attempt));
                (attempt <= self.max_retries && pause < left).then_some(pause)
            });
            match pause {
                Some(pause) => {
                    std::thread::sleep(pause);
                    attempt += 1;
                }
                None => {
                    return outcome
                        .map(|mut reply| {
                            reply.attempts = attempt;
                            reply
                        })
                        .map_err(|e| {
                            let status = e.http_status();
                            let e = if attempt > 1 {
                                e.with_suffix(&format!(" (after {attempt} attempts)"))
                            } else {
                                e
                            };
                            e.with_request_id(request_id).with_http_status(status)
                        })
                }
            }
        }
    }

    /// One attempt, limited to `time_left`.
    fn exchange(
        &self,
        request: reqwest::RequestBuilder,
        time_left: Duration,
        max_reply_bytes: usize,
    ) -> Result<Reply> {
        let exchange = async {
            let mut response = request.send().await.map_err(|e| self.transport_error(&e))?;
            let received_unix = timestamp::now_unix();
            let received_at = clock::Instant::now();
            let status = response.status().as_u16();
            // A reply's head has arrived: errors from here on carry its status.
            if let Some(len) = response.content_length() {
                if len > max_reply_bytes as u64 {
                    return Err(too_large(len, max_reply_bytes).with_http_status(status));
                }
            }
            let mut body = Zeroizing::new(Vec::with_capacity(
                response
                    .content_length()
                    .map_or(4096, |l| l as usize)
                    .min(max_reply_bytes),
            ));
            loop {
                let chunk = response
                    .chunk()
                    .await
                    .map_err(|e| self.transport_error(&e).with_http_status(status))?;
                let Some(chunk) = chunk else { break };
                if body.len() + chunk.len() > max_reply_bytes {
                    let seen = (body.len() + chunk.len()) as u64;
                    return Err(too_large(seen, max_reply_bytes).with_http_status(status));
                }
                append_wiped(&mut body, &chunk, max_reply_bytes);
            }
            let headers = std::mem::take(response.headers_mut());
            Ok(Reply {
                status,
                headers,
                body,
                received_unix,
                received_at,
                attempts: 1,
            })
        };
        match self
            .runtime
            .block_on(async { tokio::time::timeout(time_left, exchange).await })
        {
            Ok(result) => result,
            Err(_elapsed) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "no complete reply from {} within {} ms",
                    self.host_port(),
                    self.timeout.as_millis()
                ),
            )),
        }
    }

    fn host_port(&self) -> String {
        let host = self.base.host_str().unwrap_or("?");
        match self.base.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    fn transport_error(&self, e: &reqwest::Error) -> Error {
        let cause = root_cause(e);
        let target = self.host_port();
        if e.is_timeout() {
            return Error::new(
                ErrorKind::Timeout,
                format!("timed out talking to {target}: {cause}"),
            );
        }
        if let Some(tls) = find_tls_error(e) {
            return Error::new(ErrorKind::Tls, describe_tls(&tls, &target));
        }
        if e.is_connect() {
            return Error::new(
                ErrorKind::Network,
                format!("could not connect to {target}: {cause}"),
            );
        }
        if e.is_body() || e.is_decode() {
            return Error::new(
                ErrorKind::Network,
                format!("the connection to {target} failed while reading the reply: {cause}"),
            );
        }
        Error::new(
            ErrorKind::Network,
            format!("the request to {target} failed: {cause}"),
        )
    }
}

/// Whether and when to try again. Retried: a connection that could not be made (the
/// request was never sent), and HTTP 502, 503, 504 and 429. Nothing else: a request that
/// reached the server may have been acted on (a refresh may have rotated the token).
struct Retry;

/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

impl Retry {
    /// `Some(None)`: retry after the usual backoff; `Some(Some(d))`: after `d`.
    fn after_reply(reply: &Reply) -> Option<Option<Duration>> {
        match reply.status {
            502..=504 => Some(None),
            429 => Some(Some(
                retry_after(&reply.headers)
                    .unwrap_or(Duration::from_secs(1))
                    .min(MAX_RETRY_AFTER),
            )),
            _ => None,
        }
    }

    fn after_error(e: &Error) -> Option<Option<Duration>> {
        (e.kind() == ErrorKind::Network
            && e.http_status() == 0
            && e.message().starts_with("could not connect"))
        .then_some(None)
    }
}

/// A `Retry-After` header: seconds, or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = timestamp::parse_http_date(value)?;
    Some(Duration::from_secs(
        u64::try_from(at - timestamp::now_unix()).unwrap_or(0),
    ))
}

/// Exponential backoff with jitter: about 100 ms, 200 ms, 400 ms ... (each between half
/// and all of that), at most 5 s.
fn backoff(attempt: u32) -> Duration {
    let full = Duration::from_millis(100u64 << attempt.saturating_sub(1).min(6))
        .min(Duration::from_secs(5));
    full / 2 + full.mul_f64(crate::random::unit_f64() / 2.0)
}

/// Bytes that are overwritten with zeros when the last reference to them drops.
/// Appends `chunk` to `body` (at most `max` bytes in all). When `body` is full, it moves
/// to a larger buffer by hand, so the one left behind is wiped as it drops; a `Vec`
/// growing by itself would hand the old bytes back to the allocator as they are.
fn append_wiped(body: &mut Zeroizing<Vec<u8>>, chunk: &[u8], max: usize) {
    let needed = body.len() + chunk.len();
    if needed > body.capacity() {
        let capacity = needed.max(body.capacity().saturating_mul(2).min(max));
        let mut bigger = Zeroizing::new(Vec::with_capacity(capacity));
        bigger.extend_from_slice(body);
        *body = bigger;
    }
    body.extend_from_slice(chunk);
}

fn wiped(bytes: Vec<u8>) -> bytes::Bytes {
    bytes::Bytes::from_owner(zeroize::Zeroizing::new(bytes))
}

fn too_large(len: u64, limit: usize) -> Error {
    Error::protocol(format!(
        "the reply is larger than the limit of {limit} bytes (at least {len} bytes)"
    ))
}

/// The next error down a chain. `io::Error::source` skips the error it wraps (it
/// returns the wrapped error's source), so a wrapped error is reached through `get_ref`.
fn next_cause<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a (dyn std::error::Error + 'static)> {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        if let Some(inner) = io.get_ref() {
            return Some(inner);
        }
    }
    e.source()
}

/// The innermost error's text, which says what actually went wrong.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = next_cause(current) {
        current = next;
    }
    current.to_string()
}

fn find_tls_error(e: &(dyn std::error::Error + 'static)) -> Option<rustls::Error> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls.clone());
        }
        current = next_cause(err);
    }
    None
}

/// A TLS failure in plain words, with what to do where there is something to do.
fn describe_tls(e: &rustls::Error, target: &str) -> String {
    use rustls::CertificateError as C;
    let detail = e.to_string();
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => format!(
                "the certificate of {target} is not signed by an authority this client trusts; if it is a private CA, trust it with ALFAVIEW_CA_FILE or av_client_builder_set_ca_file ({detail})"
            ),
            C::NotValidForName | C::NotValidForNameContext { .. } => format!(
                "the certificate of {target} is not valid for that host name ({detail})"
            ),
            C::Expired | C::ExpiredContext { .. } => {
                format!("the certificate of {target} has expired ({detail})")
            }
            C::NotValidYet | C::NotValidYetContext { .. } => format!(
                "the certificate of {target} is not valid yet; is this machine's clock right? ({detail})"
            ),
            C::Revoked => format!("the certificate of {target} has been revoked ({detail})"),
            _ => format!("the certificate of {target} was refused ({detail})"),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => format!(
            "{target} did not answer with TLS (is it a plain-HTTP server? {detail})"
        ),
        _ => format!("the TLS handshake with {target} failed ({detail})"),
    }
}

/// Checks a base URL against the policy: `https://`, or `http://` to a loopback host;
/// no credentials, query or fragment. Returns it normalised to end in `/`.
/// `name` is what the error calls it (the argument or the environment variable).
pub(crate) fn check_base_url(url: &str, name: &str) -> Result<Url> {
    let mut parsed = Url::parse(url).map_err(|e| match e {
        // The IDNA back end in Cargo.lock (idna_adapter 1.0) takes ASCII host names only.
        url::ParseError::IdnaError if !url.is_ascii() => Error::invalid_argument(
            name,
            "has a host name that is not ASCII; write it in its ASCII form (xn--...)",
        ),
        e => Error::invalid_argument(name, format!("is not a URL ({e})")),
    })?;
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(&parsed) => {}
        "http" => {
            return Err(Error::invalid_argument(
                name,
                format!(
                    "plaintext http:// is only allowed to loopback hosts (127.0.0.0/8, ::1, localhost), not {}; use https://",
                    parsed.host_str().unwrap_or("")
                ),
            ))
        }
        other => {
            return Err(Error::invalid_argument(
                name,
                format!("scheme {other}:// is not supported; use https://"),
            ))
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_argument(name, "has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid_argument(
            name,
            "must not contain a user name or password",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::invalid_argument(
            name,
            "must not have a query or fragment",
        ));
    }
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    Ok(parsed)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Reads PEM root certificates from `path` for the argument or variable `name`.
pub(crate) fn read_ca_file(path: &Path, name: &str) -> Result<Vec<CertificateDer<'static>>> {
    let shown = path.display();
    let iter = CertificateDer::pem_file_iter(path)
        .map_err(|e| Error::invalid_argument(name, format!("cannot read {shown}: {e}")))?;
    let certs = iter
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid_argument(name, format!("{shown} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid_argument(
            name,
            format!("{shown} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"),
        ));
    }
    Ok(certs)
}

/// TLS with the ring provider: the system's roots plus `extra_roots`, host names
/// verified, HTTP/1.1 offered. For a plaintext (loopback) base URL a machine without
/// root certificates is no error: TLS is never used there.
fn tls_config(
    extra_roots: Vec<CertificateDer<'static>>,
    https: bool,
) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = if !https {
        // TLS is never used: no need to read the system's roots at all.
        Arc::new(NoTls(provider.clone()))
    } else if extra_roots.is_empty() {
        // Reading the system's roots costs milliseconds: once per process.
        static SYSTEM: once_cell::sync::OnceCell<Arc<rustls_platform_verifier::Verifier>> =
            once_cell::sync::OnceCell::new();
        SYSTEM
            .get_or_try_init(|| {
                rustls_platform_verifier::Verifier::new(provider.clone()).map(Arc::new)
            })
            .map_err(no_roots)?
            .clone()
    } else {
        Arc::new(
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider.clone())
                .map_err(no_roots)?,
        )
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn no_roots(e: rustls::Error) -> Error {
    Error::new(
        ErrorKind::Tls,
        format!(
            "no usable root certificates ({e}): install the system's CA certificates (Debian: ca-certificates) or give a CA file"
        ),
    )
}

/// The verifier for a client whose base URL is plaintext: it trusts nothing.
#[derive(Debug)]
struct NoTls(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoTls {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Err(rustls::Error::General(
            "this client has no trusted root certificates".into(),
        ))
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(
            "this client has no trusted root certificates".into(),
        ))
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(
            "this client has no trusted root certificates".into(),
        ))
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_policy() {
        for ok in [
            "https://apis.alfaview.com/json/v1/",
            "https://apis.alfaview.com/json/v1",
            "http://127.0.0.1:8080/json/v1/",
            "http://127.1.2.3/",
            "http://[::1]:9/x/",
            "http://localhost:1234/json/v1/",
            "http://LOCALHOST/",
            // bücher.example in its ASCII form.
            "https://xn--bcher-kva.example/json/v1/",
        ] {
            let url = check_base_url(ok, "url").unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(url.path().ends_with('/'), "{url}");
        }
        for (bad, needle) in [
            ("http://apis.alfaview.com/json/v1/", "loopback"),
            ("http://10.0.0.1/", "loopback"),
            ("http://localhost.evil.com/", "loopback"),
            ("ftp://127.0.0.1/", "scheme"),
            ("not a url", "not a URL"),
            ("https://user:pw@apis.alfaview.com/", "user name"),
            ("https://apis.alfaview.com/?x=1", "query"),
            ("https://apis.alfaview.com/#f", "fragment"),
            // Unicode host names need IDNA tables the library leaves out (Cargo.toml); if
            // this fails after `cargo update`, re-pin idna_adapter to 1.0.0.
            ("https://bücher.example/json/v1/", "xn--"),
        ] {
            let err = check_base_url(bad, "url").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad}");
            assert!(err.message().contains("'url'"), "{err}");
            assert!(err.message().contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn reply_buffer_grows_by_moving() {
        let mut body = Zeroizing::new(Vec::with_capacity(4));
        append_wiped(&mut body, b"abc", 100);
        assert_eq!(body.capacity(), 4, "room left: no move");
        let before = body.as_ptr();
        append_wiped(&mut body, b"defgh", 100);
        assert_eq!(&body[..], b"abcdefgh");
        assert!(body.capacity() >= 8);
        assert_ne!(
            body.as_ptr(),
            before,
            "a full buffer is replaced, not grown in place"
        );
        // Doubling stops at the limit, but never below what the data needs.
        let mut body = Zeroizing::new(Vec::with_capacity(6));
        append_wiped(&mut body, b"123456", 10);
        append_wiped(&mut body, b"7", 10);
        assert_eq!(body.capacity(), 10);
        append_wiped(&mut body, b"890ab", 10);
        assert_eq!(&body[..], b"1234567890ab");
    }

    #[test]
    fn ca_file_errors_name_the_problem() {
        let err = read_ca_file(Path::new("/nonexistent/ca.pem"), "pem_path").unwrap_err();
        assert!(
            err.message().contains("cannot read /nonexistent/ca.pem"),
            "{err}"
        );
        let dir = std::env::temp_dir().join(format!("av-ca-test-{}", std::process::id()));
        std::fs::write(&dir, "hello\n").unwrap();
        let err = read_ca_file(&dir, "pem_path").unwrap_err();
        assert!(err.message().contains("no PEM certificate"), "{err}");
        std::fs::remove_file(&dir).unwrap();
    }
}
