//! How a failure ends the program: its exit status and what stderr says.

use crate::args::{Topic, UsageError, DEFAULT_APP_ID};
use alfaview_auth::{Error, ErrorKind};
use serde_json::{json, Value};

/// Exit status for a usage error (sysexits EX_USAGE).
pub const EXIT_USAGE: i32 = 64;
/// Exit status when the output cannot be written or stdin not read (EX_IOERR).
pub const EXIT_IO: i32 = 74;

#[derive(Debug)]
pub enum CliError {
    /// The library failed: exit status = its status code.
    Lib(Error),
    /// A bad command line or missing input: 64.
    Usage(UsageError),
    /// Standard output or input failed: 74.
    Io(String),
}

impl From<Error> for CliError {
    fn from(e: Error) -> CliError {
        CliError::Lib(e)
    }
}

impl From<UsageError> for CliError {
    fn from(e: UsageError) -> CliError {
        CliError::Usage(e)
    }
}

/// The library's status code for `kind` (the C ABI's `av_status`).
pub fn status_code(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::InvalidArgument => 1,
        ErrorKind::Network => 2,
        ErrorKind::Timeout => 3,
        ErrorKind::Tls => 4,
        ErrorKind::Authentication => 5,
        ErrorKind::TokenExpired => 6,
        ErrorKind::Api => 7,
        ErrorKind::Http => 8,
        ErrorKind::Protocol => 9,
        ErrorKind::NotFound => 10,
        ErrorKind::Storage => 11,
        ErrorKind::Internal => 12,
        // ErrorKind is non-exhaustive: a kind added later is reported as internal until
        // this table knows it.
        _ => 12,
    }
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Lib(e) => status_code(e.kind()),
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Io(_) => EXIT_IO,
        }
    }
}

/// What the user can do about it, where that is obvious. `command` is the command that
/// failed (`login`, `token`, ...).
pub fn hint(e: &Error, command: Topic, app_id: &str) -> Option<String> {
    let app = if app_id == DEFAULT_APP_ID {
        String::new()
    } else {
        format!(" --app-id {app_id}")
    };
    match e.kind() {
        ErrorKind::Authentication if command == Topic::Login => Some(
            "check the username and password (or the API key id and secret) and the company id"
                .into(),
        ),
        ErrorKind::Authentication => Some(format!(
            "the saved sign-in is no longer valid: run `alfaview-auth{app} login` to sign in again"
        )),
        ErrorKind::NotFound => Some(format!(
            "sign in with `alfaview-auth{app} login`, or save a pair with `alfaview-auth{app} store save --company-id ...`"
        )),
        ErrorKind::Tls => Some(
            "if the server uses a private certificate authority, pass its certificate with --ca-file (or ALFAVIEW_CA_FILE)"
                .into(),
        ),
        ErrorKind::Timeout => {
            Some("the server did not answer in time; --timeout-ms sets a longer limit".into())
        }
        ErrorKind::Network => Some(
            "check the API URL (--api-url or ALFAVIEW_API_URL) and the network connection".into(),
        ),
        _ => None,
    }
}

/// Writes the failure to stderr: plain words, or one JSON object with `--json`.
pub fn report(err: &CliError, command: Topic, app_id: &str, json: bool) {
    let code = err.exit_code();
    let (message, status, api_status, request_id, http_status, hint_text) = match err {
        CliError::Lib(e) => (
            e.message().to_owned(),
            e.kind().name(),
            e.api_status(),
            e.request_id(),
            e.http_status(),
            hint(e, command, app_id),
        ),
        CliError::Usage(u) => {
            let help = match u.topic {
                Topic::Main => "alfaview-auth --help".to_owned(),
                t => format!("alfaview-auth {} --help", t.name()),
            };
            (
                u.message.clone(),
                "USAGE",
                None,
                None,
                0,
                Some(format!("usage: {}\n(see {help})", u.topic.usage())),
            )
        }
        CliError::Io(m) => (m.clone(), "IO", None, None, 0, None),
    };
    if json {
        let mut obj = json!({"code": code, "status": status, "message": message});
        if let Some(s) = api_status {
            obj["apiStatus"] = Value::from(s);
        }
        if let Some(r) = request_id {
            obj["requestId"] = Value::from(r);
        }
        if http_status != 0 {
            obj["httpStatus"] = Value::from(http_status);
        }
        if let Some(h) = &hint_text {
            obj["hint"] = Value::from(h.as_str());
        }
        crate::output::eprint(&format!("{}\n", json!({ "error": obj })));
        return;
    }
    // The library's message often names the server's status already.
    let api_status = api_status.filter(|s| !message.contains(s));
    let detail = match (api_status, request_id) {
        (Some(s), Some(r)) => format!(" ({s}, request {r})"),
        (Some(s), None) => format!(" ({s})"),
        (None, Some(r)) => format!(" (request {r})"),
        (None, None) => String::new(),
    };
    let mut text = format!("error: {message}{detail}\n");
    if let Some(h) = hint_text {
        if matches!(err, CliError::Usage(_)) {
            text.push_str(&h);
        } else {
            text.push_str("hint: ");
            text.push_str(&h);
        }
        text.push('\n');
    }
    crate::output::eprint(&text);
}
