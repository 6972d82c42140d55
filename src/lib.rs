//! # alfaview-auth
//!
//! Sign in to alfaview and keep an access token fresh: the three sign-ins of the
//! alfaview JSON API (username/password, API key, refresh token), the refresh token taken
//! out of its `Set-Cookie` header, a tolerant reply reader, and authenticated calls.
//!
//! The same library is exported as a C ABI (`include/alfaview_auth.h`) for C, C++, C#
//! and Python; this crate's Rust API is the core underneath it.
//!
//! ```no_run
//! use alfaview_auth::Client;
//!
//! let client = Client::builder().build()?;
//! let tokens = client.login_password("alice", "wonderland", Some("c-100"))?;
//! let refresh = tokens.refresh_token().expect("the server issued a refresh token");
//! // ... keep `refresh` with its company id; later:
//! let fresh = client.refresh(tokens.company_id(), refresh.expose())?;
//! let reply = client.call(fresh.access_token().expose(), "authenticationService/isAuthenticated", None)?;
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
