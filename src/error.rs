//! The library's error: a status (the C ABI's `av_status` without the FFI type), a message
//! in plain words, and what the server said about the failed request.

use std::fmt;

/// What kind of failure happened. The numeric values are the C ABI's `av_status` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A bad argument, or a plaintext `http://` base URL to a non-loopback host.
    InvalidArgument = 1,
    /// DNS, connect, reset, I/O.
    Network = 2,
    /// Connect or whole-request timeout.
    Timeout = 3,
    /// Certificate or handshake failure.
    Tls = 4,
    /// Credentials or refresh token rejected.
    Authentication = 5,
    /// The access token has expired (`TOKEN_OUTDATED`).
    TokenExpired = 6,
    /// Any other error the server reported.
    Api = 7,
    /// An unexpected HTTP status with no API error body.
    Http = 8,
    /// A reply the library could not use: not JSON, a field missing, too large.
    Protocol = 9,
    /// The token store has no entry.
    NotFound = 10,
    /// The token store failed.
    Storage = 11,
    /// A bug in the library.
    Internal = 12,
}

impl ErrorKind {
    /// The C ABI's name for this status, e.g. `AV_ERR_TIMEOUT`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "AV_ERR_INVALID_ARGUMENT",
            ErrorKind::Network => "AV_ERR_NETWORK",
            ErrorKind::Timeout => "AV_ERR_TIMEOUT",
            ErrorKind::Tls => "AV_ERR_TLS",
            ErrorKind::Authentication => "AV_ERR_AUTHENTICATION",
            ErrorKind::TokenExpired => "AV_ERR_TOKEN_EXPIRED",
            ErrorKind::Api => "AV_ERR_API",
            ErrorKind::Http => "AV_ERR_HTTP",
            ErrorKind::Protocol => "AV_ERR_PROTOCOL",
            ErrorKind::NotFound => "AV_ERR_NOT_FOUND",
            ErrorKind::Storage => "AV_ERR_STORAGE",
            ErrorKind::Internal => "AV_ERR_INTERNAL",
        }
    }
}

/// A failed operation: its kind, a message in plain words, and (for failures the server
/// reported) the server's `statusCode` name, the request id and the HTTP status.
///
/// Messages never contain a secret (password, API key secret, refresh or access token).
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    api_status: Option<String>,
    request_id: Option<String>,
    http_status: u16,
}

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            api_status: None,
            request_id: None,
            http_status: 0,
        }
    }

    /// An invalid argument, naming it: `invalid argument 'company_id': must not be empty`.
    pub fn invalid_argument(name: &str, problem: impl fmt::Display) -> Error {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("invalid argument '{name}': {problem}"),
        )
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Protocol, message)
    }

    pub(crate) fn with_api_status(mut self, status: impl Into<String>) -> Error {
        self.api_status = Some(status.into());
        self
    }

    pub(crate) fn with_request_id(mut self, request_id: impl Into<String>) -> Error {
        if self.request_id.is_none() {
            self.request_id = Some(request_id.into());
        }
        self
    }

    pub(crate) fn with_suffix(mut self, suffix: &str) -> Error {
        self.message.push_str(suffix);
        self
    }

    pub(crate) fn with_http_status(mut self, status: u16) -> Error {
        self.http_status = status;
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message in plain words.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The server's `statusCode` name (e.g. `TOKEN_OUTDATED`), if the server reported one.
    pub fn api_status(&self) -> Option<&str> {
        self.api_status.as_deref()
    }

    /// The `requestId` of the failed request, if a request was made.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The HTTP status of the reply, or 0 if there was none.
    pub fn http_status(&self) -> u16 {
        self.http_status
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("api_status", &self.api_status)
            .field("request_id", &self.request_id)
            .field("http_status", &self.http_status)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(status) = &self.api_status {
            write!(f, " (server status {status})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this library.
pub type Result<T> = std::result::Result<T, Error>;
