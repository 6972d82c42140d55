//! Secret hygiene: across sign-ins, refreshes, rotations, sessions, stores and failures,
//! no log message and no error message holds a password, API key secret, refresh token
//! or access token — not even the first five characters of one.

use alfaview_auth::log::{self, Level};
use alfaview_auth::store::{FileStore, Pair, PairStore};
use alfaview_auth::{Client, Error, Session};
use alfaview_mock::MockServer;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PASSWORD: &str = "Pw-Zq7!long-password-for-hygiene";
const API_SECRET: &str = "Ks-Xv3-api-key-secret-for-hygiene";

#[test]
fn no_secret_reaches_a_log_line_or_an_error_message() {
    let logs: Arc<Mutex<Vec<String>>> = Arc::default();
    {
        let logs = logs.clone();
        log::set_sink(
            Some(Arc::new(move |level: Level, message: &str| {
                logs.lock().unwrap().push(format!("{level:?} {message}"));
            })),
            Level::Trace,
        );
    }
    let mock = MockServer::start();
    mock.configure(json!({
        "users": [{"username": "hygiene", "password": PASSWORD, "companies": ["c-7"]}],
        "apiKeys": [{"clientId": "hy-key", "secret": API_SECRET, "companyId": "c-7"}],
        "rotate": true,
        "tokenLifetimeS": 2
    }))
    .unwrap();
    let client = Client::builder()
        .base_url(&mock.base_url())
        .unwrap()
        .timeout(Duration::from_millis(1500))
        .unwrap()
        .build()
        .unwrap();
    let mut secrets: Vec<String> = vec![PASSWORD.into(), API_SECRET.into()];
    let mut errors: Vec<Error> = Vec::new();
    let keep = |t: &alfaview_auth::Tokens, secrets: &mut Vec<String>| {
        secrets.push(t.access_token().expose().to_owned());
        if let Some(r) = t.refresh_token() {
            secrets.push(r.expose().to_owned());
        }
    };

    // Sign-ins, good and bad.
    let t = client
        .login_password("hygiene", PASSWORD, Some("c-7"))
        .unwrap();
    keep(&t, &mut secrets);
    let t2 = client.login_api_key("hy-key", API_SECRET, "c-7").unwrap();
    keep(&t2, &mut secrets);
    errors.push(
        client
            .login_password("hygiene", &format!("{PASSWORD}x"), None)
            .unwrap_err(),
    );
    errors.push(
        client
            .login_api_key("hy-key", &format!("{API_SECRET}x"), "c-7")
            .unwrap_err(),
    );
    // Arguments that are secrets, rejected: the message names the argument, not the value.
    errors.push(
        client
            .login_password("hygiene", &format!("{PASSWORD}\n"), None)
            .unwrap_err(),
    );
    errors.push(
        client
            .refresh("c-7", &format!("{API_SECRET};x"))
            .unwrap_err(),
    );

    // Refreshes, rotation, a rejected (rotated-away) refresh token.
    let first = t.refresh_token().unwrap().expose().to_owned();
    let r = client.refresh("c-7", &first).unwrap();
    keep(&r, &mut secrets);
    errors.push(client.refresh("c-7", &first).unwrap_err());

    // A session through renewals with rotation, a failing renewal served from the cache,
    // and a call with an outdated token.
    let session = Session::new(Some(&client), "c-7", r.refresh_token().unwrap().expose()).unwrap();
    session.on_refresh_token(Some(Arc::new(|_: &str, _: &alfaview_auth::Secret| {})));
    for _ in 0..2 {
        let (token, _) = session.access_token().unwrap();
        secrets.push(token.expose().to_owned());
        secrets.push(session.refresh_token().expose().to_owned());
        std::thread::sleep(Duration::from_millis(1100));
    }
    mock.configure(json!({"fault": {"kind": "status", "status": 503}}))
        .unwrap();
    if let Err(e) = session.access_token() {
        errors.push(e);
    }
    mock.configure(json!({"fault": {"kind": "garbage"}}))
        .unwrap();
    errors.push(
        client
            .refresh("c-7", session.refresh_token().expose())
            .unwrap_err(),
    );
    mock.configure(json!({"fault": null})).unwrap();
    mock.expire_access_tokens();
    session
        .call("roomService/create", Some(r#"{"room": {}}"#))
        .unwrap();
    secrets.push(session.access_token().unwrap().0.expose().to_owned());
    errors.push(
        client
            .call(&secrets[2], "roomService/create", None)
            .unwrap_err(),
    );

    // The store: a corrupt file and an unreadable one.
    let dir = std::env::temp_dir().join(format!("av-hygiene-{}", std::process::id()));
    let store = FileStore::new(&dir, "hy").unwrap();
    store
        .save(&Pair::new("c-7", session.refresh_token().expose()).unwrap())
        .unwrap();
    let path = store.path().to_owned();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() - 3]).unwrap();
    errors.push(store.load().unwrap_err());
    std::fs::remove_dir_all(&dir).unwrap();
    log::set_sink(None, Level::Error);

    // Everything the application could see.
    let mut corpus = logs.lock().unwrap().join("\n");
    for e in &errors {
        corpus.push('\n');
        corpus.push_str(&e.to_string());
        corpus.push_str(&format!("{e:?}"));
    }
    assert!(
        corpus.len() > 500,
        "the flows above produced messages: {corpus}"
    );
    assert!(corpus.contains("rotated"), "{corpus}");
    // Request ids are UUIDs, like some tokens: a whole token in the text is a leak; any
    // other UUID is masked so that a chance five-character match cannot fail the test.
    let masked = mask_uuids(&corpus, &secrets);
    for secret in &secrets {
        assert!(secret.len() >= 8, "{secret:?}");
        assert!(
            !corpus.contains(secret.as_str()),
            "a whole secret leaked:\n{corpus}"
        );
        let prefix: String = secret.chars().take(5).collect();
        assert!(
            !masked.contains(&prefix),
            "the first five characters of a secret ({prefix}) appear in:\n{masked}"
        );
    }
}

/// Replaces every UUID-shaped run of `text` that is not itself a secret by `<uuid>`.
fn mask_uuids(text: &str, secrets: &[String]) -> String {
    let bytes = text.as_bytes();
    let shape = |s: &[u8]| {
        s.len() == 36
            && s.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if i + 36 <= bytes.len() && shape(&bytes[i..i + 36]) {
            let candidate = &text[i..i + 36];
            if !secrets.iter().any(|s| s == candidate) {
                out.push_str("<uuid>");
                i += 36;
                continue;
            }
        }
        let ch = text[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}
