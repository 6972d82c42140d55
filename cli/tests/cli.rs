//! End to end: the built `alfaview-auth` binary as a subprocess against an in-process
//! mock server, with a file store in a private temporary directory. Every run gets a
//! clean environment (nothing from the developer's shell leaks in) and no terminal,
//! except the prompt tests, which give it a pseudo-terminal.

use alfaview_auth::store::{FileStore, PairStore};
use alfaview_mock::MockServer;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_alfaview-auth");
const APP: &str = "alfaview-cli";

struct World {
    mock: MockServer,
    dir: PathBuf,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", self.stdout))
    }

    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl World {
    fn new(name: &str) -> World {
        let dir =
            std::env::temp_dir().join(format!("alfaview-cli-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        World {
            mock: MockServer::start(),
            dir,
        }
    }

    fn store_dir(&self) -> PathBuf {
        self.dir.join("store")
    }

    /// The command with a clean environment: the mock's URL, the file store, and a
    /// home and cache directory inside the test's directory.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env_clear()
            .env("ALFAVIEW_API_URL", self.mock.base_url())
            .env(
                "ALFAVIEW_TOKEN_STORE",
                format!("file:{}", self.store_dir().display()),
            )
            .env("ALFAVIEW_TIMEOUT_MS", "10000")
            .env("HOME", self.dir.join("home"))
            .env("XDG_CACHE_HOME", self.dir.join("cache"))
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Out {
        self.run_with_stdin(args, env, None)
    }

    fn run_with_stdin(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Out {
        let mut c = self.cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        if stdin.is_some() {
            c.stdin(Stdio::piped());
        }
        let mut child = c.spawn().expect("the binary runs");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    fn login_alice(&self) -> Out {
        let out = self.run(
            &["login", "--username", "alice", "--company-id", "c-100"],
            &[("ALFAVIEW_PASSWORD", "wonderland")],
        );
        assert_eq!(out.code, 0, "{out:?}");
        out
    }

    /// Saves a minted refresh token for `company` through the CLI; returns it.
    fn save_minted(&self, company: &str) -> String {
        let token = self.mock.mint_refresh_token(company);
        let out = self.run(
            &["store", "save", "--company-id", company],
            &[("ALFAVIEW_REFRESH_TOKEN", &token)],
        );
        assert_eq!(out.code, 0, "{out:?}");
        token
    }

    fn stored(&self) -> Option<(String, String)> {
        FileStore::new(self.store_dir(), APP)
            .unwrap()
            .load()
            .unwrap()
            .map(|p| (p.company_id, p.refresh_token.expose().to_owned()))
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn assert_no_secret(out: &Out, secrets: &[&str]) {
    for s in secrets {
        let probe = if s.len() > 5 { &s[..5] } else { s };
        assert!(
            !out.all().contains(probe),
            "output shows (the start of) a secret {probe:?}: {out:?}"
        );
    }
}

#[test]
fn login_with_a_password_saves_the_pair() {
    let w = World::new("login-pw");
    let out = w.run(
        &["login", "--username", "alice"],
        &[("ALFAVIEW_PASSWORD", "wonderland")],
    );
    assert_eq!(out.code, 0, "{out:?}");
    for needle in ["alice", "u-alice", "c-100", "c-200", "expires", APP] {
        assert!(out.stdout.contains(needle), "{needle}: {out:?}");
    }
    assert_eq!(w.mock.stats().logins, 1);
    let (company, refresh) = w.stored().expect("the pair is saved");
    assert_eq!(company, "c-100");
    assert!(w.mock.refresh_tokens().iter().any(|t| t.token == refresh));
    assert_no_secret(&out, &["wonderland", &refresh]);
    assert_eq!(out.stderr, "");
}

#[test]
fn login_with_an_api_key() {
    let w = World::new("login-key");
    let out = w.run(
        &["login", "--company-id", "c-100", "--json"],
        &[
            ("ALFAVIEW_API_KEY_ID", "ak-demo"),
            ("ALFAVIEW_API_KEY_SECRET", "ak-secret"),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["method"], "apiKey");
    assert_eq!(v["apiKeyId"], "ak-demo");
    assert_eq!(v["userId"], "u-apikey");
    assert_eq!(v["companyId"], "c-100");
    assert_eq!(v["saved"], true);
    assert!(v["expiresAt"].as_i64().unwrap() > 1_700_000_000);
    assert!(v.get("accessToken").is_none() && v.get("refreshToken").is_none());
    let (_, refresh) = w.stored().unwrap();
    assert_no_secret(&out, &["ak-secret", &refresh]);

    // An API key needs a company.
    let out = w.run(
        &["login", "--api-key-id", "ak-demo"],
        &[("ALFAVIEW_API_KEY_SECRET", "ak-secret")],
    );
    assert_eq!(out.code, 64, "{out:?}");
    assert!(out.stderr.contains("--company-id"), "{out:?}");
}

#[test]
fn login_with_the_secret_on_stdin_and_without_saving() {
    let w = World::new("login-stdin");
    let out = w.run_with_stdin(
        &[
            "login",
            "-u",
            "bob",
            "--secret-stdin",
            "--no-save",
            "--json",
            "--show-tokens",
        ],
        &[],
        Some("builder\n"),
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["companyId"], "c-300");
    assert_eq!(v["saved"], false);
    // --show-tokens: both tokens, whole.
    assert_eq!(v["accessToken"].as_str().unwrap().len(), 44);
    let refresh = v["refreshToken"].as_str().unwrap();
    assert!(w.mock.refresh_tokens().iter().any(|t| t.token == refresh));
    assert!(w.stored().is_none());
}

#[test]
fn token_prints_one_line_and_reuses_it() {
    let w = World::new("token");
    w.save_minted("c-100");
    let before = w.mock.stats().refreshes;
    let first = w.run(&["token"], &[]);
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(first.stdout.lines().count(), 1, "{first:?}");
    assert!(first.stdout.ends_with('\n'));
    assert_eq!(first.stderr, "");
    let token = first.stdout.trim_end();
    assert_eq!(token.len(), 44, "{first:?}");
    assert_eq!(w.mock.stats().refreshes, before + 1);

    // A second process: the cached token, no new refresh.
    let second = w.run(&["token"], &[]);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(w.mock.stats().refreshes, before + 1);

    // The token works.
    let reply = w.run(&["call", "authenticationService/isAuthenticated"], &[]);
    assert_eq!(reply.code, 0, "{reply:?}");
    assert_eq!(w.mock.stats().refreshes, before + 1);

    // --no-cache renews.
    let third = w.run(&["token", "--no-cache"], &[]);
    assert_eq!(third.code, 0, "{third:?}");
    assert_ne!(third.stdout, first.stdout);
    assert_eq!(w.mock.stats().refreshes, before + 2);

    // --json.
    let j = w.run(&["token", "--json"], &[]);
    assert_eq!(j.code, 0, "{j:?}");
    let v = j.json();
    assert_eq!(v["accessToken"].as_str().unwrap().len(), 44);
    assert!(v["expiresAt"].as_i64().unwrap() > 1_700_000_000);
}

#[test]
fn after_login_the_first_token_needs_no_refresh() {
    let w = World::new("token-after-login");
    w.login_alice();
    let out = w.run(&["token"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(w.mock.stats().refreshes, 0);
}

#[test]
fn a_cached_token_is_not_used_for_another_pair_or_url() {
    let w = World::new("token-binding");
    w.save_minted("c-100");
    let first = w.run(&["token"], &[]);
    assert_eq!(first.code, 0, "{first:?}");
    // Another program replaces the stored pair (same company, another refresh token):
    // the cached token is not reused.
    let other = w.mock.mint_refresh_token("c-100");
    FileStore::new(w.store_dir(), APP)
        .unwrap()
        .save(&alfaview_auth::store::Pair::new("c-100", &other).unwrap())
        .unwrap();
    let before = w.mock.stats().refreshes;
    let second = w.run(&["token"], &[]);
    assert_eq!(second.code, 0, "{second:?}");
    assert_ne!(second.stdout, first.stdout);
    assert_eq!(w.mock.stats().refreshes, before + 1);
    // A cache file that others may read is ignored (and said so with -v).
    let cache_file = w.store_dir().join("cli-cache").join(format!("{APP}.json"));
    assert!(cache_file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::set_permissions(&cache_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let third = w.run(&["token", "-v"], &[]);
        assert_eq!(third.code, 0, "{third:?}");
        assert!(
            third.stderr.contains("ignoring the access-token cache"),
            "{third:?}"
        );
        assert_eq!(w.mock.stats().refreshes, before + 2);
    }
}

#[test]
fn concurrent_token_invocations_refresh_once() {
    let w = World::new("token-concurrent");
    w.mock.configure(json!({"rotate": true})).unwrap();
    w.save_minted("c-100");
    let children: Vec<_> = (0..4)
        .map(|_| {
            w.cmd(&["token"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outputs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(o.stdout, outputs[0].stdout);
    }
    let stats = w.mock.stats();
    assert_eq!(stats.refreshes, 1, "{stats:?}");
    assert_eq!(stats.refresh_failures, 0, "{stats:?}");
}

#[test]
fn refresh_with_rotation_saves_the_new_token() {
    let w = World::new("refresh-rotate");
    w.mock.configure(json!({"rotate": true})).unwrap();
    let old = w.save_minted("c-100");

    let out = w.run(&["refresh"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("rotated"), "{out:?}");
    assert!(out.stdout.contains("c-100"), "{out:?}");
    let (company, new) = w.stored().unwrap();
    assert_eq!(company, "c-100");
    assert_ne!(new, old);
    assert_no_secret(&out, &[&old, &new]);
    let tokens = w.mock.refresh_tokens();
    assert!(!tokens.iter().find(|t| t.token == old).unwrap().valid);
    assert!(tokens.iter().find(|t| t.token == new).unwrap().valid);

    // The old token is rejected now.
    let out = w.run(
        &["refresh", "--company-id", "c-100", "--no-save"],
        &[("ALFAVIEW_REFRESH_TOKEN", &old)],
    );
    assert_eq!(out.code, 5, "{out:?}");
    assert!(out.stderr.contains("AUTHENTICATION_ERROR"), "{out:?}");
    assert_no_secret(&out, &[&old, &new]);
    assert_eq!(
        w.stored().unwrap().1,
        new,
        "a failed refresh changes nothing"
    );

    // --json --show-tokens: the token to keep is the one saved.
    let out = w.run(&["refresh", "--json", "--show-tokens"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["rotated"], true);
    assert_eq!(v["saved"], true);
    assert_eq!(v["refreshToken"].as_str().unwrap(), w.stored().unwrap().1);
    assert_eq!(v["accessToken"].as_str().unwrap().len(), 44);

    // The refreshed access token is what `token` hands out next, without a request.
    let before = w.mock.stats().refreshes;
    let t = w.run(&["token"], &[]);
    assert_eq!(t.stdout.trim_end(), v["accessToken"].as_str().unwrap());
    assert_eq!(w.mock.stats().refreshes, before);
}

#[test]
fn refresh_with_a_given_pair_saves_it() {
    let w = World::new("refresh-given");
    let token = w.mock.mint_refresh_token("c-200");
    let out = w.run(
        &["refresh", "--company-id", "c-200", "--json"],
        &[("ALFAVIEW_REFRESH_TOKEN", &token)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["saved"], true);
    assert_eq!(w.stored().unwrap(), ("c-200".to_owned(), token.clone()));
    assert_no_secret(&out, &[&token]);
}

#[test]
fn call_echoes_the_reply() {
    let w = World::new("call");
    w.login_alice();
    let out = w.run(
        &[
            "call",
            "roomService/create",
            r#"{"room": {"name": "Standup"}}"#,
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.lines().count(), 1, "{out:?}");
    let v = out.json();
    assert_eq!(v["service"], "roomService");
    assert_eq!(v["method"], "create");
    assert_eq!(v["companyId"], "c-100");
    assert_eq!(v["request"], json!({"room": {"name": "Standup"}}));

    // The body from stdin, pretty.
    let out = w.run_with_stdin(
        &["call", "roomService/list", "-", "--pretty"],
        &[],
        Some(r#"{"filter": {"archived": false}}"#),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.lines().count() > 3, "{out:?}");
    assert_eq!(
        out.json()["request"],
        json!({"filter": {"archived": false}})
    );

    // Without a body: {}.
    let out = w.run(&["call", "userService/get"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["request"], json!({}));

    // The server expired every token: renewed once, retried, succeeds.
    let before = w.mock.stats().refreshes;
    w.mock.expire_access_tokens();
    let out = w.run(&["call", "userService/get", "{}"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(w.mock.stats().refreshes, before + 1);

    // A body that is not a JSON object: invalid argument.
    let out = w.run(&["call", "userService/get", "[1]"], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("JSON object"), "{out:?}");
}

#[test]
fn store_save_load_delete() {
    let w = World::new("store");
    let token = w.save_minted("c-200");
    assert_eq!(w.stored().unwrap(), ("c-200".to_owned(), token.clone()));

    let out = w.run(&["store", "load"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("c-200"), "{out:?}");
    assert!(out.stdout.contains(&token[..4]), "a short prefix: {out:?}");
    assert_no_secret(&out, &[&token]);

    let out = w.run(&["store", "load", "--json"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["companyId"], "c-200");
    assert_eq!(v["refreshTokenLength"], token.len());
    assert!(v.get("refreshToken").is_none());

    let out = w.run(&["store", "load", "--show-tokens"], &[]);
    assert!(out.stdout.contains(&token), "{out:?}");

    // The refresh token can come from stdin too.
    let other = w.mock.mint_refresh_token("c-100");
    let out = w.run_with_stdin(
        &[
            "store",
            "save",
            "--company-id",
            "c-100",
            "--secret-stdin",
            "--json",
        ],
        &[],
        Some(&format!("{other}\n")),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["saved"], true);
    assert_eq!(w.stored().unwrap(), ("c-100".to_owned(), other.clone()));
    assert_no_secret(&out, &[&other]);

    let out = w.run(&["store", "delete"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Deleted"), "{out:?}");
    assert!(w.stored().is_none());

    let out = w.run(&["store", "load"], &[]);
    assert_eq!(out.code, 10, "{out:?}");

    let out = w.run(&["store", "delete", "--json"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["deleted"], false);

    // No refresh token given, no terminal: a usage error, nothing read from stdin.
    let out = w.run(&["store", "save", "--company-id", "c-1"], &[]);
    assert_eq!(out.code, 64, "{out:?}");
    assert!(out.stderr.contains("ALFAVIEW_REFRESH_TOKEN"), "{out:?}");
}

#[test]
fn a_wrong_password_is_exit_5_with_the_servers_status_and_request_id() {
    let w = World::new("wrong-pw");
    let out = w.run(
        &["login", "-u", "alice"],
        &[("ALFAVIEW_PASSWORD", "not-the-password")],
    );
    assert_eq!(out.code, 5, "{out:?}");
    assert!(out.stderr.starts_with("error: "), "{out:?}");
    assert!(out.stderr.contains("AUTHENTICATION_ERROR"), "{out:?}");
    let request_id = out
        .stderr
        .split("request ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or_else(|| panic!("no request id: {out:?}"));
    assert_eq!(request_id.len(), 36, "a UUID: {out:?}");
    assert!(out.stderr.contains("hint:"), "{out:?}");
    assert_eq!(out.stdout, "");
    assert_no_secret(&out, &["not-the-password"]);
    assert!(w.stored().is_none());

    // --json: the same facts as JSON on stderr.
    let out = w.run(
        &["login", "-u", "alice", "--json"],
        &[("ALFAVIEW_PASSWORD", "not-the-password")],
    );
    assert_eq!(out.code, 5, "{out:?}");
    let e: Value = serde_json::from_str(out.stderr.trim()).unwrap();
    assert_eq!(e["error"]["code"], 5);
    assert_eq!(e["error"]["status"], "AV_ERR_AUTHENTICATION");
    assert_eq!(e["error"]["apiStatus"], "AUTHENTICATION_ERROR");
    assert_eq!(e["error"]["requestId"].as_str().unwrap().len(), 36);
}

#[test]
fn a_rejected_saved_token_says_to_log_in_again() {
    let w = World::new("rejected");
    w.mock.configure(json!({"rotate": true})).unwrap();
    let old = w.save_minted("c-100");
    // Someone else rotates it away.
    let out = w.run(
        &["refresh", "--company-id", "c-100", "--no-save"],
        &[("ALFAVIEW_REFRESH_TOKEN", &old)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("warning: the server rotated"),
        "{out:?}"
    );
    let out = w.run(&["token"], &[]);
    assert_eq!(out.code, 5, "{out:?}");
    assert!(out.stderr.contains("AUTHENTICATION_ERROR"), "{out:?}");
    assert!(out.stderr.contains("alfaview-auth login"), "{out:?}");
}

#[test]
fn nothing_stored_is_exit_10_with_a_hint() {
    let w = World::new("nothing");
    for args in [&["token"][..], &["refresh"], &["call", "userService/get"]] {
        let out = w.run(args, &[]);
        assert_eq!(out.code, 10, "{args:?}: {out:?}");
        assert!(out.stderr.contains("alfaview-auth login"), "{out:?}");
        assert!(out.stderr.contains("store save"), "{out:?}");
        assert_eq!(out.stdout, "");
    }
    // The hint names a non-default app id.
    let out = w.run(&["token", "--app-id", "other.app"], &[]);
    assert_eq!(out.code, 10, "{out:?}");
    assert!(
        out.stderr
            .contains("alfaview-auth --app-id other.app login"),
        "{out:?}"
    );
    assert_eq!(w.mock.stats().requests, 0);
}

#[test]
fn bad_usage_is_exit_64() {
    let w = World::new("usage");
    for args in [
        &[][..],
        &["frobnicate"],
        &["token", "--username", "alice"],
        &["token", "extra"],
        &["login", "--password", "wonderland"],
        &["login", "--password=wonderland"],
        &["call"],
        &["store"],
        &["store", "list"],
        &["token", "--timeout-ms", "soon"],
        &["token", "--api-url"],
        &["login"],
    ] {
        let out = w.run(args, &[]);
        assert_eq!(out.code, 64, "{args:?}: {out:?}");
        assert!(out.stderr.starts_with("error: "), "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("usage: alfaview-auth"),
            "{args:?}: {out:?}"
        );
        assert_eq!(out.stdout, "");
        assert_no_secret(&out, &["wonderland"]);
    }
    // A password with no terminal and no variable: not read from the pipe.
    let out = w.run_with_stdin(&["login", "-u", "alice"], &[], Some("wonderland\n"));
    assert_eq!(out.code, 64, "{out:?}");
    assert!(out.stderr.contains("ALFAVIEW_PASSWORD"), "{out:?}");
    assert!(out.stderr.contains("not a terminal"), "{out:?}");
    assert_eq!(w.mock.stats().requests, 0);
}

#[test]
fn help_and_version() {
    let w = World::new("help");
    let out = w.run(&["--help"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    for needle in [
        "login",
        "refresh",
        "token",
        "call",
        "store",
        "64  usage error",
        "10  nothing",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {out:?}");
    }
    for (args, needle) in [
        (&["login", "--help"][..], "--api-key-id"),
        (&["help", "token"], "accessInfo.accessToken"),
        (&["store", "save", "-h"], "store delete"),
        (&["call", "--help"], "--pretty"),
        (&["refresh", "--help"], "--no-save"),
    ] {
        let out = w.run(args, &[]);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert!(out.stdout.contains(needle), "{args:?}: {out:?}");
    }
    let out = w.run(&["--version"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("alfaview-auth 0."), "{out:?}");
}

#[test]
fn plain_http_to_a_remote_host_is_exit_1() {
    let w = World::new("http");
    w.save_minted("c-100");
    let out = w.run(
        &["--api-url", "http://api.example.com/json/v1/", "token"],
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("--api-url"), "{out:?}");
    assert!(out.stderr.contains("loopback"), "{out:?}");
    let mut c = w.cmd(&["login", "-u", "alice"]);
    c.env("ALFAVIEW_API_URL", "http://192.0.2.1/json/v1/")
        .env("ALFAVIEW_PASSWORD", "wonderland");
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ALFAVIEW_API_URL"));
}

#[test]
fn secrets_stay_out_of_every_output_even_when_verbose() {
    let w = World::new("secrets");
    w.mock.configure(json!({"rotate": true})).unwrap();
    let mut outs = vec![w.run(
        &["-vvvv", "login", "-u", "alice"],
        &[("ALFAVIEW_PASSWORD", "wonderland")],
    )];
    let (_, first_refresh) = w.stored().unwrap();
    // `token` prints the access token by design; its stderr is checked.
    let token = w.run(&["-vvvv", "token"], &[]);
    let access = token.stdout.trim_end().to_owned();
    outs.push(Out {
        stdout: String::new(),
        ..token
    });
    outs.push(w.run(&["-vvvv", "refresh"], &[]));
    outs.push(w.run(&["-vvvv", "refresh", "--json"], &[]));
    outs.push(w.run(&["-vvvv", "call", "userService/get"], &[]));
    outs.push(w.run(&["-vvvv", "store", "load"], &[]));
    outs.push(w.run(&["-vvvv", "store", "load", "--json"], &[]));
    outs.push(w.run(
        &["-vvvv", "refresh", "--company-id", "c-100", "--no-save"],
        &[("ALFAVIEW_REFRESH_TOKEN", &first_refresh)],
    ));
    let (_, last_refresh) = w.stored().unwrap();
    for out in &outs {
        assert_no_secret(out, &["wonderland", &first_refresh, &last_refresh, &access]);
    }
}

#[test]
fn json_outputs_parse() {
    let w = World::new("json");
    let mut outs = vec![w.run(
        &["login", "-u", "alice", "--json"],
        &[("ALFAVIEW_PASSWORD", "wonderland")],
    )];
    outs.push(w.run(&["token", "--json"], &[]));
    outs.push(w.run(&["refresh", "--json"], &[]));
    outs.push(w.run(&["call", "userService/get", "--json"], &[]));
    outs.push(w.run(&["store", "load", "--json"], &[]));
    outs.push(w.run(&["store", "delete", "--json"], &[]));
    for out in &outs {
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.json().is_object(), "{out:?}");
        assert_eq!(out.stdout.lines().count(), 1, "{out:?}");
    }
    let out = w.run(&["token", "--json"], &[]);
    assert_eq!(out.code, 10, "{out:?}");
    let e: Value = serde_json::from_str(out.stderr.trim()).unwrap();
    assert_eq!(e["error"]["code"], 10);
    assert!(e["error"]["hint"].as_str().unwrap().contains("login"));
}

#[test]
fn verbose_shows_the_librarys_log() {
    let w = World::new("verbose");
    w.save_minted("c-100");
    let quiet = w.run(&["token", "--no-cache"], &[]);
    assert_eq!(quiet.stderr, "", "{quiet:?}");
    let info = w.run(&["-vv", "token", "--no-cache"], &[]);
    assert_eq!(info.code, 0, "{info:?}");
    assert!(
        info.stderr
            .contains("alfaview-auth: info: token store for app alfaview-cli"),
        "{info:?}"
    );
    assert!(!info.stderr.contains("debug:"), "{info:?}");
    let debug = w.run(&["-vvv", "token", "--no-cache"], &[]);
    assert!(
        debug
            .stderr
            .contains("alfaview-auth: debug: renewing the access token"),
        "{debug:?}"
    );
    assert_eq!(debug.stdout.lines().count(), 1, "{debug:?}");
}

/// The no-echo prompt on a pseudo-terminal: the password typed is not echoed, the
/// terminal is restored afterwards, and also when the process is interrupted.
#[cfg(target_os = "linux")]
mod prompt {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    struct Pty {
        master: std::fs::File,
        slave: OwnedFd,
    }

    fn open_pty() -> Pty {
        let (mut master, mut slave) = (-1, -1);
        // SAFETY: out-pointers to two ints; NULL name, termios and window size.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened and are owned here only.
        unsafe {
            Pty {
                master: std::fs::File::from_raw_fd(master),
                slave: OwnedFd::from_raw_fd(slave),
            }
        }
    }

    fn echo_is_on(fd: &OwnedFd) -> bool {
        // SAFETY: termios is plain data; tcgetattr fills it.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) }, 0);
        t.c_lflag & libc::ECHO != 0
    }

    /// Reads whatever the terminal has shown so far, without blocking.
    fn drain(master: &mut std::fs::File) -> String {
        // SAFETY: sets O_NONBLOCK on a descriptor we own.
        unsafe {
            let flags = libc::fcntl(master.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(master.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&all).into_owned()
    }

    /// Starts `args` with the pty as stdin and waits for `prompt` on stderr.
    fn start_at_prompt(
        w: &World,
        pty: &Pty,
        args: &[&str],
        prompt: &str,
    ) -> (std::process::Child, std::sync::mpsc::Receiver<Vec<u8>>) {
        let mut child = w
            .cmd(args)
            .stdin(Stdio::from(pty.slave.try_clone().unwrap()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while !String::from_utf8_lossy(&seen).contains(prompt) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(chunk) => seen.extend(chunk),
                Err(_) => {
                    let _ = child.kill();
                    panic!("no prompt; stderr: {}", String::from_utf8_lossy(&seen));
                }
            }
        }
        (child, rx)
    }

    fn wait(mut child: std::process::Child) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the command did not finish");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn the_password_prompt_does_not_echo() {
        let w = World::new("prompt");
        let mut pty = open_pty();
        assert!(echo_is_on(&pty.slave));
        let (mut child, _stderr) =
            start_at_prompt(&w, &pty, &["login", "-u", "alice", "--json"], "Password: ");
        assert!(!echo_is_on(&pty.slave), "echo is off while prompting");
        pty.master.write_all(b"wonderland\n").unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let status = wait(child);
        let mut out = String::new();
        stdout.read_to_string(&mut out).unwrap();
        assert!(status.success(), "{status:?} {out}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["userId"], "u-alice");
        assert!(w.stored().is_some());
        let shown = drain(&mut pty.master);
        assert!(
            !shown.contains("wonderland"),
            "the password was echoed: {shown:?}"
        );
        assert!(shown.contains('\n'), "the newline is echoed: {shown:?}");
        assert!(echo_is_on(&pty.slave), "echo is back on");
    }

    #[test]
    fn an_interrupted_prompt_restores_the_terminal() {
        let w = World::new("prompt-int");
        let pty = open_pty();
        let token = w.mock.mint_refresh_token("c-100");
        let (child, _stderr) = start_at_prompt(
            &w,
            &pty,
            &["store", "save", "--company-id", "c-100"],
            "Refresh token: ",
        );
        assert!(!echo_is_on(&pty.slave));
        // SAFETY: signals our own child.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
        let status = wait(child);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
        assert!(echo_is_on(&pty.slave), "echo restored after Ctrl-C");
        assert!(w.stored().is_none());
        drop(token);
    }
}
