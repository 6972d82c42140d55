//! A mock of the alfaview JSON API (`/json/v1/…`) for tests and benchmarks.
//!
//! The server runs on its own small tokio runtime (two worker threads), so it can be
//! used from ordinary synchronous tests:
//!
//! ```no_run
//! let server = alfaview_mock::MockServer::start();
//! let base = server.base_url(); // "http://127.0.0.1:PORT/json/v1/"
//! server.configure(serde_json::json!({"rotate": true})).unwrap();
//! # let _ = base;
//! ```
//!
//! The same behaviour is reachable over HTTP through the control endpoints under
//! `/_mock/` (see README.md); both paths share one implementation.

mod body;
mod config;
mod http;
mod state;

use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::runtime::Runtime;

use crate::state::Shared;

/// Paths of a PEM certificate chain and its PEM private key.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How to start a [`MockServer`].
#[derive(Clone, Debug)]
pub struct Options {
    /// Address to bind, an IP literal or a host name ("127.0.0.1" by default).
    pub host: String,
    /// Port to bind; 0 lets the OS pick one.
    pub port: u16,
    /// Serve HTTPS with this certificate and key.
    pub tls: Option<TlsFiles>,
    /// A config patch applied at start, as with [`MockServer::configure`].
    pub config: Option<Value>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            host: "127.0.0.1".to_string(),
            port: 0,
            tls: None,
            config: None,
        }
    }
}

/// Counters, as reported by `GET /_mock/stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every request under /json/v1/ (faulted ones included).
    pub requests: u64,
    /// Requests to authenticationService/authenticate (faulted ones included).
    pub authenticate: u64,
    /// Successful username/password and API-key authentications.
    pub logins: u64,
    /// Successful refresh-token authentications.
    pub refreshes: u64,
    /// Refresh-token authentications that were answered with an error.
    pub refresh_failures: u64,
    /// Requests to any other `{service}/{method}` (faulted ones included).
    pub calls: u64,
    /// Requests answered by a fault.
    pub faults: u64,
    /// Accepted TCP connections.
    pub connections: u64,
}

impl Stats {
    /// The JSON form served by `GET /_mock/stats`.
    pub fn to_json(&self) -> Value {
        json!({
            "requests": self.requests,
            "authenticate": self.authenticate,
            "logins": self.logins,
            "refreshes": self.refreshes,
            "refreshFailures": self.refresh_failures,
            "calls": self.calls,
            "faults": self.faults,
            "connections": self.connections,
        })
    }
}

/// The last request under /json/v1/, as reported by `GET /_mock/last`.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    /// HTTP method, e.g. "POST".
    pub method: String,
    /// Request path without the query, e.g. "/json/v1/authenticationService/authenticate".
    pub path: String,
    /// Header names in lower case; repeated headers joined by ", ".
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON, or the raw body as a string if it is not JSON.
    pub body: Value,
}

impl RecordedRequest {
    /// The JSON form served by `GET /_mock/last`.
    pub fn to_json(&self) -> Value {
        json!({
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
        })
    }
}

/// One refresh token the server has issued, as listed by `GET /_mock/tokens`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshTokenInfo {
    pub token: String,
    pub company_id: String,
    /// Not revoked (by rotation) and not expired.
    pub valid: bool,
}

/// A running mock server. Dropping it shuts it down.
pub struct MockServer {
    shared: Arc<Shared>,
    runtime: Option<Runtime>,
    port: u16,
    base_url: String,
}

impl MockServer {
    /// Plain HTTP on 127.0.0.1 with an OS-chosen port. Panics if that fails.
    pub fn start() -> MockServer {
        MockServer::start_with(Options::default()).expect("start alfaview mock server")
    }

    /// Start with the given options. A bad `config` patch gives an `InvalidInput` error.
    pub fn start_with(opts: Options) -> io::Result<MockServer> {
        let shared = Arc::new(Shared::new());
        if let Some(cfg) = &opts.config {
            shared
                .configure(cfg)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
        let tls = match &opts.tls {
            Some(files) => Some(http::tls_acceptor(files)?),
            None => None,
        };
        let addr = resolve(&opts.host, opts.port)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("alfaview-mock")
            .enable_all()
            .build()?;
        let listener = {
            let _guard = runtime.enter();
            let socket = if addr.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(1024)?
        };
        let port = listener.local_addr()?.port();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let host = if opts.host.contains(':') && !opts.host.starts_with('[') {
            format!("[{}]", opts.host)
        } else {
            opts.host.clone()
        };
        let base_url = format!("{scheme}://{host}:{port}/json/v1/");
        runtime.spawn(http::accept_loop(listener, shared.clone(), tls));
        Ok(MockServer {
            shared,
            runtime: Some(runtime),
            port,
            base_url,
        })
    }

    /// The API base URL, e.g. "http://127.0.0.1:41234/json/v1/".
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Merge a config patch, as `POST /_mock/config` does. All or nothing: on an
    /// error (naming the offending key) the config is unchanged.
    pub fn configure(&self, patch: Value) -> Result<(), String> {
        self.shared.configure(&patch).map(|_| ())
    }

    /// The current config, as `GET /_mock/config` shows it.
    pub fn config(&self) -> Value {
        self.shared.config_json()
    }

    /// Default config, no fault, counters zero, all tokens and the last request
    /// forgotten; as `POST /_mock/reset`.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// The counters, as `GET /_mock/stats`.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// The last request under /json/v1/, as `GET /_mock/last`.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared.last_request()
    }

    /// A fresh valid refresh token for `company_id`, as if alice had logged in;
    /// as `POST /_mock/mint`.
    pub fn mint_refresh_token(&self, company_id: &str) -> String {
        self.shared.mint(company_id)
    }

    /// Make every access token issued so far count as expired; as `POST /_mock/expire`.
    pub fn expire_access_tokens(&self) {
        self.shared.expire_access_tokens();
    }

    /// Every refresh token issued since the last reset, oldest first; as `GET /_mock/tokens`.
    pub fn refresh_tokens(&self) -> Vec<RefreshTokenInfo> {
        self.shared.refresh_tokens()
    }

    /// For the binary: install SIGTERM/SIGINT handlers, call `ready` (which announces
    /// the server), then block until one of those signals arrives.
    #[doc(hidden)]
    pub fn run_until_signal(&self, ready: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        let rt = self.runtime.as_ref().expect("runtime is running");
        rt.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = signal(SignalKind::terminate())?;
            let mut int = signal(SignalKind::interrupt())?;
            ready()?;
            std::future::poll_fn(|cx| {
                if term.poll_recv(cx).is_ready() || int.poll_recv(cx).is_ready() {
                    std::task::Poll::Ready(())
                } else {
                    std::task::Poll::Pending
                }
            })
            .await;
            Ok(())
        })
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            // Waiting is not allowed inside another runtime's async context.
            if tokio::runtime::Handle::try_current().is_ok() {
                rt.shutdown_background();
            } else {
                rt.shutdown_timeout(Duration::from_secs(2));
            }
        }
    }
}

fn resolve(host: &str, port: u16) -> io::Result<SocketAddr> {
    let trimmed = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = trimmed.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    (trimmed, port).to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("host {host:?} resolves to no address"),
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn handles_are_shareable() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<super::MockServer>();
        send_sync::<super::Stats>();
        send_sync::<super::RecordedRequest>();
    }
}
