//! The command line: global options anywhere, one command, its own options; the help
//! texts. Secrets are never accepted here (see [`refuse_secret_option`]).

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// The app id the pair is saved under unless `--app-id` says otherwise.
pub const DEFAULT_APP_ID: &str = "alfaview-cli";

/// Options every command takes.
#[derive(Debug, Clone)]
pub struct Global {
    pub api_url: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub timeout_ms: Option<u32>,
    pub app_id: String,
    pub json: bool,
    pub verbose: u8,
    pub no_cache: bool,
}

/// Where `call` takes its JSON body from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Arg(String),
    Stdin,
}

#[derive(Debug, Clone, Default)]
pub struct Login {
    pub username: Option<String>,
    pub api_key_id: Option<String>,
    pub company_id: Option<String>,
    pub no_save: bool,
    pub show_tokens: bool,
    pub secret_stdin: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Refresh {
    pub company_id: Option<String>,
    pub no_save: bool,
    pub show_tokens: bool,
    pub secret_stdin: bool,
}

#[derive(Debug, Clone)]
pub enum Command {
    Login(Login),
    Refresh(Refresh),
    Token,
    Call {
        method: String,
        body: Option<Body>,
        pretty: bool,
    },
    StoreSave {
        company_id: Option<String>,
        secret_stdin: bool,
    },
    StoreLoad {
        show_tokens: bool,
    },
    StoreDelete,
    Help(Topic),
    Version,
}

/// A command's help page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Main,
    Login,
    Refresh,
    Token,
    Call,
    Store,
}

impl Topic {
    fn from_name(name: &str) -> Option<Topic> {
        Some(match name {
            "login" => Topic::Login,
            "refresh" => Topic::Refresh,
            "token" => Topic::Token,
            "call" => Topic::Call,
            "store" => Topic::Store,
            _ => return None,
        })
    }

    /// The command's name as typed, e.g. `store`.
    pub fn name(self) -> &'static str {
        match self {
            Topic::Main => "",
            Topic::Login => "login",
            Topic::Refresh => "refresh",
            Topic::Token => "token",
            Topic::Call => "call",
            Topic::Store => "store",
        }
    }

    /// The usage line(s).
    pub fn usage(self) -> &'static str {
        match self {
            Topic::Main => "alfaview-auth [global options] <login|refresh|token|call|store|help> [options]",
            Topic::Login => "alfaview-auth login (--username U | --api-key-id ID) [--company-id C] [--no-save] [--show-tokens] [--secret-stdin]",
            Topic::Refresh => "alfaview-auth refresh [--company-id C [--secret-stdin]] [--no-save] [--show-tokens]",
            Topic::Token => "alfaview-auth token",
            Topic::Call => "alfaview-auth call <service/method> [JSON | -] [--pretty]",
            Topic::Store => "alfaview-auth store save --company-id C [--secret-stdin]\n       alfaview-auth store load [--show-tokens]\n       alfaview-auth store delete",
        }
    }

    /// The whole help page.
    pub fn help(self) -> String {
        let body = match self {
            Topic::Main => MAIN_HELP,
            Topic::Login => LOGIN_HELP,
            Topic::Refresh => REFRESH_HELP,
            Topic::Token => TOKEN_HELP,
            Topic::Call => CALL_HELP,
            Topic::Store => STORE_HELP,
        };
        let mut text = format!("Usage: {}\n\n{body}", self.usage());
        if self == Topic::Main {
            text.push_str(GLOBAL_OPTIONS);
            text.push_str(EXIT_STATUS);
            text.push_str(ENVIRONMENT);
        } else {
            text.push_str(
                "\nGlobal options (--api-url, --ca-file, --timeout-ms, --app-id, --json, --no-cache, -v)\nand exit status: alfaview-auth --help\n",
            );
        }
        text
    }
}

/// A bad command line: exit status 64 (EX_USAGE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    pub message: String,
    /// The help page that explains the command in question.
    pub topic: Topic,
}

impl UsageError {
    pub fn new(topic: Topic, message: impl Into<String>) -> UsageError {
        UsageError {
            message: message.into(),
            topic,
        }
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The parsed command line.
#[derive(Debug, Clone)]
pub struct Args {
    pub global: Global,
    pub command: Command,
}

/// Options that belong to one command or another; checked against the command once it
/// is known (options may come before the command name).
#[derive(Default)]
struct CommandOptions {
    seen: Vec<&'static str>,
    username: Option<String>,
    api_key_id: Option<String>,
    company_id: Option<String>,
    no_save: bool,
    show_tokens: bool,
    secret_stdin: bool,
    pretty: bool,
}

/// Parses the arguments after the program name.
pub fn parse<I>(args: I) -> Result<Args, UsageError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;

    let mut global = Global {
        api_url: None,
        ca_file: None,
        timeout_ms: None,
        app_id: DEFAULT_APP_ID.to_owned(),
        json: false,
        verbose: 0,
        no_cache: false,
    };
    let mut opts = CommandOptions::default();
    let mut positionals: Vec<String> = Vec::new();
    let mut help = false;
    let mut version = false;

    let mut parser = lexopt::Parser::from_args(args);
    loop {
        // Errors are explained by the page of the command seen so far, if any.
        let topic = positionals
            .first()
            .and_then(|c| Topic::from_name(c))
            .unwrap_or(Topic::Main);
        let err = |e: lexopt::Error| UsageError::new(topic, e.to_string());
        let arg = match parser.next() {
            Ok(Some(arg)) => arg,
            Ok(None) => break,
            Err(e) => return Err(UsageError::new(topic, e.to_string())),
        };
        let text = |v: OsString, name: &str| -> Result<String, UsageError> {
            v.into_string().map_err(|_| {
                UsageError::new(topic, format!("the value of {name} is not valid UTF-8"))
            })
        };
        match arg {
            Long("api-url") => {
                global.api_url = Some(text(parser.value().map_err(err)?, "--api-url")?)
            }
            Long("ca-file") => global.ca_file = Some(PathBuf::from(parser.value().map_err(err)?)),
            Long("timeout-ms") => {
                let v = text(parser.value().map_err(err)?, "--timeout-ms")?;
                match v.trim().parse::<u32>() {
                    Ok(ms) if ms > 0 => global.timeout_ms = Some(ms),
                    _ => {
                        return Err(UsageError::new(
                            topic,
                            format!("--timeout-ms must be a whole number of milliseconds from 1 to 4294967295, not {v:?}"),
                        ))
                    }
                }
            }
            Long("app-id") => global.app_id = text(parser.value().map_err(err)?, "--app-id")?,
            Long("json") => global.json = true,
            Long("no-cache") => global.no_cache = true,
            Short('v') | Long("verbose") => global.verbose = global.verbose.saturating_add(1),
            Short('h') | Long("help") => help = true,
            Short('V') | Long("version") => version = true,
            Short('u') | Long("username") => {
                opts.seen.push("--username");
                opts.username = Some(text(parser.value().map_err(err)?, "--username")?);
            }
            Long("api-key-id") => {
                opts.seen.push("--api-key-id");
                opts.api_key_id = Some(text(parser.value().map_err(err)?, "--api-key-id")?);
            }
            Short('c') | Long("company-id") => {
                opts.seen.push("--company-id");
                opts.company_id = Some(text(parser.value().map_err(err)?, "--company-id")?);
            }
            Long("no-save") => {
                opts.seen.push("--no-save");
                opts.no_save = true;
            }
            Long("show-tokens") => {
                opts.seen.push("--show-tokens");
                opts.show_tokens = true;
            }
            Long("secret-stdin") => {
                opts.seen.push("--secret-stdin");
                opts.secret_stdin = true;
            }
            Long("pretty") => {
                opts.seen.push("--pretty");
                opts.pretty = true;
            }
            Long(name) if refuse_secret_option(name).is_some() => {
                let env = refuse_secret_option(name).unwrap_or_default();
                return Err(UsageError::new(
                    topic,
                    format!(
                        "--{name}: secrets are never taken as arguments (other users can read a command line); set {env}, use --secret-stdin, or type it at the prompt"
                    ),
                ));
            }
            Value(v) => positionals.push(text(v, "an argument")?),
            other => return Err(UsageError::new(topic, other.unexpected().to_string())),
        }
    }

    let Some(name) = positionals.first().cloned() else {
        if help {
            return Ok(Args {
                global,
                command: Command::Help(Topic::Main),
            });
        }
        if version {
            return Ok(Args {
                global,
                command: Command::Version,
            });
        }
        return Err(UsageError::new(Topic::Main, "no command given"));
    };
    if name == "help" {
        let topic = match positionals.get(1) {
            None => Topic::Main,
            Some(t) => Topic::from_name(t).ok_or_else(|| {
                UsageError::new(Topic::Main, format!("there is no command {t:?}"))
            })?,
        };
        return Ok(Args {
            global,
            command: Command::Help(topic),
        });
    }
    let topic = Topic::from_name(&name).ok_or_else(|| {
        UsageError::new(
            Topic::Main,
            format!(
                "there is no command {name:?} (commands: login, refresh, token, call, store, help)"
            ),
        )
    })?;
    if help {
        return Ok(Args {
            global,
            command: Command::Help(topic),
        });
    }
    if version {
        return Err(UsageError::new(topic, "--version takes no command"));
    }

    let rest = &positionals[1..];
    let extra = |allowed: usize| -> Result<(), UsageError> {
        match rest.get(allowed) {
            Some(arg) => Err(UsageError::new(
                topic,
                format!("unexpected argument {arg:?}"),
            )),
            None => Ok(()),
        }
    };
    let only = |allowed: &[&str], what: &str| -> Result<(), UsageError> {
        match opts.seen.iter().find(|o| !allowed.contains(o)) {
            Some(o) => Err(UsageError::new(
                topic,
                format!("{o} is not an option of `{what}`"),
            )),
            None => Ok(()),
        }
    };

    let command = match topic {
        Topic::Login => {
            extra(0)?;
            only(
                &[
                    "--username",
                    "--api-key-id",
                    "--company-id",
                    "--no-save",
                    "--show-tokens",
                    "--secret-stdin",
                ],
                "login",
            )?;
            if opts.username.is_some() && opts.api_key_id.is_some() {
                return Err(UsageError::new(
                    topic,
                    "give --username or --api-key-id, not both",
                ));
            }
            Command::Login(Login {
                username: opts.username,
                api_key_id: opts.api_key_id,
                company_id: opts.company_id,
                no_save: opts.no_save,
                show_tokens: opts.show_tokens,
                secret_stdin: opts.secret_stdin,
            })
        }
        Topic::Refresh => {
            extra(0)?;
            only(
                &[
                    "--company-id",
                    "--no-save",
                    "--show-tokens",
                    "--secret-stdin",
                ],
                "refresh",
            )?;
            Command::Refresh(Refresh {
                company_id: opts.company_id,
                no_save: opts.no_save,
                show_tokens: opts.show_tokens,
                secret_stdin: opts.secret_stdin,
            })
        }
        Topic::Token => {
            extra(0)?;
            only(&[], "token")?;
            Command::Token
        }
        Topic::Call => {
            extra(2)?;
            only(&["--pretty"], "call")?;
            let method = rest.first().cloned().ok_or_else(|| {
                UsageError::new(topic, "call needs a service/method, e.g. roomService/list")
            })?;
            let body = rest.get(1).map(|b| {
                if b == "-" {
                    Body::Stdin
                } else {
                    Body::Arg(b.clone())
                }
            });
            Command::Call {
                method,
                body,
                pretty: opts.pretty,
            }
        }
        Topic::Store => {
            extra(1)?;
            match rest.first().map(String::as_str) {
                Some("save") => {
                    only(&["--company-id", "--secret-stdin"], "store save")?;
                    Command::StoreSave {
                        company_id: opts.company_id,
                        secret_stdin: opts.secret_stdin,
                    }
                }
                Some("load") => {
                    only(&["--show-tokens"], "store load")?;
                    Command::StoreLoad {
                        show_tokens: opts.show_tokens,
                    }
                }
                Some("delete") => {
                    only(&[], "store delete")?;
                    Command::StoreDelete
                }
                Some(other) => {
                    return Err(UsageError::new(
                        topic,
                        format!("store has no subcommand {other:?} (save, load or delete)"),
                    ))
                }
                None => {
                    return Err(UsageError::new(
                        topic,
                        "store needs a subcommand: save, load or delete",
                    ))
                }
            }
        }
        Topic::Main => unreachable!("no command is called Main"),
    };
    Ok(Args { global, command })
}

/// If `--name` looks like an attempt to pass a secret, the environment variable to use
/// instead.
fn refuse_secret_option(name: &str) -> Option<&'static str> {
    match name {
        "password" | "pass" | "passwd" => Some("ALFAVIEW_PASSWORD"),
        "api-key-secret" | "secret" | "client-secret" | "code" => Some("ALFAVIEW_API_KEY_SECRET"),
        "refresh-token" | "token" => Some("ALFAVIEW_REFRESH_TOKEN"),
        _ => None,
    }
}

const MAIN_HELP: &str = "\
Sign in to alfaview's JSON API, keep the refresh token in the OS credential store (or a
private file), and print or use a fresh access token.

Commands:
  login             sign in with a username and password or an API key; save the pair
                    (company id + refresh token) in the token store
  refresh           renew the access token once with the saved pair (saving a rotated
                    refresh token), or with a pair you give
  token             print a valid access token and nothing else (renewed only when needed)
  call <service/method> [JSON | -]
                    call the API with the saved pair and print the reply
  store save|load|delete
                    manage the saved pair directly
  help [command]    this help, or a command's (also: alfaview-auth <command> --help)

Secrets (passwords, API key secrets, refresh tokens) are never taken as arguments: they
come from environment variables, from a prompt that does not echo when standard input is
a terminal, or from standard input with --secret-stdin. Without a terminal and without
the variable, a command that needs a secret fails (status 64) instead of reading a pipe
on its own. Output never shows a whole token unless you add --show-tokens (`token`
prints the access token: that is what it is for).

Example:
  export ALFAVIEW_PASSWORD=...           # or be prompted
  alfaview-auth login --username alice --company-id c-100
  alfaview-auth call roomService/list '{}' --pretty
  alfaview-auth token    # for your own requests: the accessInfo.accessToken
";

const GLOBAL_OPTIONS: &str = "
Global options (before or after the command):
      --api-url URL     API base URL: https://, or http:// to a loopback host
                        [env ALFAVIEW_API_URL; default https://apis.alfaview.com/json/v1/]
      --ca-file PEM     extra root certificates to trust [env ALFAVIEW_CA_FILE]
      --timeout-ms MS   whole-request timeout [env ALFAVIEW_TIMEOUT_MS; default 30000]
      --app-id ID       the name the pair is saved under [default alfaview-cli]
      --json            output (and errors, on stderr) as JSON
      --no-cache        neither use nor update the cached access token (see `token`)
  -v, --verbose         the library's log on stderr: -v warnings, -vv information,
                        -vvv debugging, -vvvv tracing (errors are always shown)
  -h, --help            help; per command: alfaview-auth <command> --help
  -V, --version         the version
";

const EXIT_STATUS: &str = "
Exit status (1-12 are the library's status codes, as in its C API):
   0  success
   1  invalid argument (also an http:// API URL to a host that is not loopback)
   2  network error (DNS, connect, reset)
   3  timeout
   4  TLS error (certificate or handshake)
   5  authentication failed: credentials or refresh token rejected
   6  the access token expired (TOKEN_OUTDATED) even after a renewal
   7  the API reported another error
   8  unexpected HTTP status
   9  unusable reply from the server
  10  nothing is stored for the app id (run `login` or `store save`)
  11  the token store failed
  12  internal error (a bug)
  64  usage error: bad command line, or a needed secret not given (EX_USAGE)
  74  the output could not be written, or standard input not read (EX_IOERR)
";

const ENVIRONMENT: &str = "
Environment:
  ALFAVIEW_USERNAME, ALFAVIEW_PASSWORD       login with a password
  ALFAVIEW_API_KEY_ID, ALFAVIEW_API_KEY_SECRET
                                             login with an API key
  ALFAVIEW_COMPANY_ID                        the company (login, refresh, store save)
  ALFAVIEW_REFRESH_TOKEN                     a refresh token (refresh, store save)
  ALFAVIEW_API_URL, ALFAVIEW_CA_FILE, ALFAVIEW_TIMEOUT_MS
                                             as the options above
  ALFAVIEW_TOKEN_STORE                       os, file, or file:<directory>
                                             [default: the OS store where it works]
";

const LOGIN_HELP: &str = "\
Signs in and saves the pair (company id + refresh token) under --app-id, then prints
who signed in, the company, the companies the user can reach, and when the access token
expires.

Options:
  -u, --username U      sign in with a password [env ALFAVIEW_USERNAME]; the password
                        comes from ALFAVIEW_PASSWORD or a prompt
      --api-key-id ID   sign in with an API key [env ALFAVIEW_API_KEY_ID]; its secret
                        comes from ALFAVIEW_API_KEY_SECRET or a prompt
  -c, --company-id C    the company [env ALFAVIEW_COMPANY_ID]; required with an API key;
                        with a password the server picks one if it is not given
      --no-save         do not save the pair (nor the access token)
      --show-tokens     also print the access and refresh tokens
      --secret-stdin    read the password or API key secret from standard input (its
                        first line) instead of the environment or a prompt
";

const REFRESH_HELP: &str = "\
Renews the access token once. Without --company-id, with the saved pair (under the
store's lock, so other processes using it are safe); a refresh token the server rotates
is saved. With --company-id (or ALFAVIEW_REFRESH_TOKEN set), with that company and the
refresh token from ALFAVIEW_REFRESH_TOKEN, a prompt, or --secret-stdin; the resulting
pair is then saved unless --no-save.

Options:
  -c, --company-id C    refresh this company's token given on the side (see above)
                        [env ALFAVIEW_COMPANY_ID when ALFAVIEW_REFRESH_TOKEN is set]
      --no-save         with a pair given on the side: do not save the result
      --show-tokens     also print the access token and the refresh token to keep
      --secret-stdin    read the refresh token from standard input (its first line)
";

const TOKEN_HELP: &str = "\
Prints a valid access token for the saved pair, and nothing else, on standard output
(with --json: {\"accessToken\", \"expiresAt\", \"expires\"}), for requests of your own,
which carry it as accessInfo.accessToken (piped, so it never shows in a process list):

  alfaview-auth token | jq -Rc '{accessInfo: {requestId: \"r-1\", accessToken: .}}' |
    curl -sS --data @- https://apis.alfaview.com/json/v1/authenticationService/isAuthenticated

The token is renewed only when it has less than a minute left. The last one is cached
next to the saved pair (a file only you can read: <store directory>/cli-cache/ for the
file store, else $XDG_CACHE_HOME/alfaview-auth/), bound to the API URL, the company and
the refresh token, so repeated calls send no request; --no-cache turns that off.
Renewals take the store's lock, so any number of concurrent invocations (and other
programs sharing the app id) are safe, and a rotated refresh token is saved.
";

const CALL_HELP: &str = "\
Calls <service/method> (e.g. roomService/list) with the saved pair's access token and
prints the reply JSON. The body is the JSON object given as the argument, or read from
standard input for `-`, or {} without one; accessInfo is added. If the server says the
token has expired, it is renewed and the call made once more.

Options:
      --pretty          indent the reply
";

const STORE_HELP: &str = "\
Manages the pair saved under --app-id in the token store (ALFAVIEW_TOKEN_STORE: the OS
credential store, or a file only you can read).

  save     saves --company-id (or ALFAVIEW_COMPANY_ID) with the refresh token from
           ALFAVIEW_REFRESH_TOKEN, a prompt, or standard input with --secret-stdin
  load     shows the company id and the refresh token's first characters
           (--show-tokens: the whole token)
  delete   deletes the pair (and the cached access token)
";

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Args, UsageError> {
        parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn global_options_anywhere() {
        let a = p(&["-vv", "token", "--app-id", "x", "--json", "-v"]).unwrap();
        assert_eq!(a.global.verbose, 3);
        assert_eq!(a.global.app_id, "x");
        assert!(a.global.json);
        assert!(matches!(a.command, Command::Token));
    }

    #[test]
    fn commands() {
        let a = p(&["login", "-u", "alice", "--company-id=c-1", "--no-save"]).unwrap();
        match a.command {
            Command::Login(l) => {
                assert_eq!(l.username.as_deref(), Some("alice"));
                assert_eq!(l.company_id.as_deref(), Some("c-1"));
                assert!(l.no_save);
            }
            other => panic!("{other:?}"),
        }
        match p(&["call", "a/b", "-", "--pretty"]).unwrap().command {
            Command::Call {
                method,
                body,
                pretty,
            } => {
                assert_eq!(method, "a/b");
                assert_eq!(body, Some(Body::Stdin));
                assert!(pretty);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            p(&["store", "load", "--show-tokens"]).unwrap().command,
            Command::StoreLoad { show_tokens: true }
        ));
        assert!(matches!(
            p(&["help", "store"]).unwrap().command,
            Command::Help(Topic::Store)
        ));
        assert!(matches!(
            p(&["refresh", "--help"]).unwrap().command,
            Command::Help(Topic::Refresh)
        ));
        assert!(matches!(
            p(&["--version"]).unwrap().command,
            Command::Version
        ));
    }

    #[test]
    fn usage_errors() {
        for (args, needle) in [
            (&[][..], "no command"),
            (&["frobnicate"], "no command \"frobnicate\""),
            (
                &["token", "--username", "x"],
                "--username is not an option of `token`",
            ),
            (&["login", "--password", "pw"], "never taken as arguments"),
            (&["login", "--password=pw"], "never taken as arguments"),
            (&["store"], "subcommand"),
            (&["store", "list"], "no subcommand"),
            (&["call"], "service/method"),
            (&["call", "a/b", "{}", "x"], "unexpected argument"),
            (&["token", "--timeout-ms", "0"], "--timeout-ms"),
            (&["token", "--bogus"], "--bogus"),
            (&["login", "-u", "a", "--api-key-id", "k"], "not both"),
        ] {
            let e = p(args).unwrap_err();
            assert!(e.message.contains(needle), "{args:?}: {}", e.message);
            assert!(!e.message.contains("pw\""), "{}", e.message);
        }
    }

    #[test]
    fn help_pages_name_their_usage() {
        for t in [
            Topic::Main,
            Topic::Login,
            Topic::Refresh,
            Topic::Token,
            Topic::Call,
            Topic::Store,
        ] {
            let h = t.help();
            assert!(h.starts_with("Usage: alfaview-auth"), "{h}");
            assert!(h.contains(t.name()));
        }
        assert!(Topic::Main.help().contains("64  usage error"));
    }
}
