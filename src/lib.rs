//! # alfaview-auth
//!
//! Sign in to alfaview and keep an access token fresh: the three sign-ins of the
//! alfaview JSON API (username/password, API key, refresh token), the refresh token taken
//! out of its `Set-Cookie` header, a tolerant reply reader, authenticated calls, a
//! [`Session`] that renews its access token once however many threads ask, and a
//! [`store`] for the company id + refresh token pair.
//!
//! The same library is exported as a C ABI (`include/alfaview_auth.h`) for C, C++, C#
//! and Python; this crate's Rust API is the core underneath it, usable directly.
//!
//! (The examples run against the bundled mock server, started by hidden lines; against
//! the real API, leave out `base_url`: it defaults to `ALFAVIEW_API_URL`, else
//! `https://apis.alfaview.com/json/v1/`.)
//!
//! ```
//! use alfaview_auth::{Client, Session};
//! # let mock = alfaview_mock::MockServer::start();
//!
//! let client = Client::builder().base_url(&mock.base_url())?.build()?;
//! let tokens = client.login_password("alice", "wonderland", Some("c-100"))?;
//! let refresh = tokens.refresh_token().expect("the server issued a refresh token");
//!
//! // Keep `refresh` with its company id (see `store`); later, a session renews the
//! // access token whenever it needs to.
//! let session = Session::new(Some(&client), tokens.company_id(), refresh.expose())?;
//! let reply = session.call("roomService/create", Some(r#"{"room": {"name": "Standup"}}"#))?;
//! assert!(reply.contains("Standup"));
//! # Ok::<(), alfaview_auth::Error>(())
//! ```
//!
//! Errors carry a kind (the C ABI's status), a message in plain words, and what the
//! server said:
//!
//! ```
//! use alfaview_auth::{Client, ErrorKind};
//! # let mock = alfaview_mock::MockServer::start();
//!
//! let client = Client::builder().base_url(&mock.base_url())?.build()?;
//! match client.refresh("c-100", "a-revoked-token") {
//!     Err(e) if e.kind() == ErrorKind::Authentication => {
//!         assert_eq!(e.api_status(), Some("AUTHENTICATION_ERROR"));
//!         assert!(e.request_id().is_some()); // quote it to support
//!     }
//!     other => panic!("unexpected: {other:?}"),
//! }
//! # Ok::<(), alfaview_auth::Error>(())
//! ```

#![deny(unsafe_op_in_unsafe_fn)]

mod callback;
mod client;
pub mod clock;
pub mod cookies;
mod error;
pub mod ffi;
mod http;
pub mod log;
pub mod protocol;
mod random;
mod secret;
mod session;
pub mod store;
pub mod timestamp;
mod tokens;

pub use client::{
    Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, ENV_API_URL,
    ENV_CA_FILE, ENV_TIMEOUT_MS, MAX_ARGUMENT_BYTES, MAX_AUTH_REPLY_BYTES, MAX_CALL_REPLY_BYTES,
};
pub use error::{Error, ErrorKind, Result};
pub use secret::Secret;
pub use session::{RefreshTokenCallback, Session, DEFAULT_REFRESH_MARGIN};
pub use tokens::Tokens;

/// This library's version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
