//! The Rust core against the mock alfaview server over real loopback sockets.

use alfaview_auth::{Client, ErrorKind};
use alfaview_mock::MockServer;
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn client_for(mock: &MockServer) -> Client {
    Client::builder()
        .base_url(&mock.base_url())
        .unwrap()
        .timeout(Duration::from_secs(5))
        .unwrap()
        .build()
        .unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn password_login_issues_a_refresh_token_that_refreshes() {
    let mock = MockServer::start();
    let client = client_for(&mock);
    let tokens = client
        .login_password("alice", "wonderland", Some("c-100"))
        .unwrap();
    assert!(!tokens.access_token().is_empty());
    assert_eq!(tokens.company_id(), "c-100");
    assert_eq!(tokens.user_id(), Some("u-alice"));
    assert!((tokens.expires_at() - (now() + 3600)).abs() <= 5);
    let refresh = tokens
        .refresh_token()
        .expect("a refresh token was issued")
        .clone();
    assert!(tokens.refresh_expires_at().unwrap() > now() + 86_400);

    // The request the mock saw: JSON, our User-Agent, a requestId.
    let seen = mock.last_request().unwrap();
    assert_eq!(seen.headers["content-type"], "application/json");
    assert!(seen.headers["user-agent"].starts_with("alfaview-auth/"));
    assert!(!seen.headers.contains_key("cookie"));
    let first_id = seen.body["requestId"].as_str().unwrap().to_owned();

    let fresh = client.refresh("c-100", refresh.expose()).unwrap();
    assert_ne!(fresh.access_token(), tokens.access_token());
    assert_eq!(
        fresh.refresh_token(),
        Some(&refresh),
        "kept when not rotated"
    );
    assert!(!fresh.refresh_token_rotated());
    let seen = mock.last_request().unwrap();
    assert_eq!(seen.headers["cookie"], format!("auth={}", refresh.expose()));
    assert_eq!(
        seen.body["refreshTokenCredentials"],
        json!({"companyId": "c-100"})
    );
    assert_ne!(seen.body["requestId"].as_str().unwrap(), first_id);
    assert_eq!(mock.stats().refreshes, 1);
}

#[test]
fn login_without_company_lists_accessible_companies() {
    let mock = MockServer::start();
    let tokens = client_for(&mock)
        .login_password("alice", "wonderland", None)
        .unwrap();
    assert_eq!(tokens.accessible_company_ids(), ["c-100", "c-200"]);
    assert!(!tokens.company_id().is_empty());
}

#[test]
fn api_key_login() {
    let mock = MockServer::start();
    let client = client_for(&mock);
    let tokens = client
        .login_api_key("ak-demo", "ak-secret", "c-100")
        .unwrap();
    assert_eq!(tokens.user_id(), Some("u-apikey"));
    let err = client
        .login_api_key("ak-demo", "wrong", "c-100")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
}

#[test]
fn rejected_credentials_and_refresh_tokens() {
    let mock = MockServer::start();
    let client = client_for(&mock);
    for shape in ["gateway", "reply", "numeric"] {
        mock.configure(json!({"errorShape": shape})).unwrap();
        let err = client.refresh("c-100", "not-a-real-token").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication, "{shape}: {err}");
        assert_eq!(err.api_status(), Some("AUTHENTICATION_ERROR"), "{shape}");
        assert!(!err.request_id().unwrap().is_empty());
        assert_eq!(
            err.http_status(),
            if shape == "gateway" { 401 } else { 200 }
        );
        assert!(!err.to_string().contains("not-a-real-token"), "{err}");

        let err = client
            .login_password("alice", "wrong-password", None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert!(!err.to_string().contains("wrong-password"), "{err}");
        let err = client.login_password("locked", "locked", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert_eq!(err.api_status(), Some("ACCOUNT_STATUS_ERROR"));
    }
}

#[test]
fn rotation_replaces_the_refresh_token() {
    let mock = MockServer::start();
    mock.configure(json!({"rotate": true})).unwrap();
    let client = client_for(&mock);
    let first = mock.mint_refresh_token("c-200");
    let t1 = client.refresh("c-200", &first).unwrap();
    assert!(t1.refresh_token_rotated());
    let second = t1.refresh_token().unwrap().expose().to_owned();
    assert_ne!(second, first);
    // The old one is now rejected; the new one works.
    let err = client.refresh("c-200", &first).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(client.refresh("c-200", &second).is_ok());
}

#[test]
fn every_expires_at_form_and_cookie_style() {
    let mock = MockServer::start();
    let client = client_for(&mock);
    for form in ["string", "number", "rfc3339", "rfc3339z"] {
        mock.configure(json!({"expiresAtForm": form, "tokenLifetimeS": 900}))
            .unwrap();
        let t = client.login_password("bob", "builder", None).unwrap();
        assert!(
            (t.expires_at() - (now() + 900)).abs() <= 5,
            "{form}: {}",
            t.expires_at()
        );
        assert!(
            t.lifetime() <= Duration::from_secs(901) && t.lifetime() >= Duration::from_secs(895)
        );
    }
    mock.configure(json!({"expiresAtForm": "string", "refreshLifetimeS": 7200}))
        .unwrap();
    for style in ["expires", "maxage", "both", "quoted", "multi"] {
        mock.configure(json!({"cookieStyle": style})).unwrap();
        let t = client.login_password("bob", "builder", None).unwrap();
        let token = t
            .refresh_token()
            .unwrap_or_else(|| panic!("{style}: no token"));
        assert!(!token.expose().contains('"'), "{style}");
        let exp = t.refresh_expires_at().unwrap();
        assert!((exp - (now() + 7200)).abs() <= 5, "{style}: {exp}");
        client.refresh("c-300", token.expose()).unwrap();
    }
    mock.configure(json!({"cookieStyle": "none", "refreshTokenInBody": true}))
        .unwrap();
    let t = client.login_password("bob", "builder", None).unwrap();
    let token = t.refresh_token().expect("taken from the body");
    assert_eq!(t.refresh_expires_at(), None);
    client.refresh("c-300", token.expose()).unwrap();
    mock.configure(json!({"refreshTokenInBody": false}))
        .unwrap();
    let t = client.login_password("bob", "builder", None).unwrap();
    assert!(t.refresh_token().is_none());
}

#[test]
fn lifetime_follows_the_servers_clock_not_ours() {
    let mock = MockServer::start();
    let client = client_for(&mock);
    for offset in [3600i64, -3600] {
        mock.configure(json!({"clockOffsetS": offset, "tokenLifetimeS": 600}))
            .unwrap();
        let t = client.login_password("bob", "builder", None).unwrap();
        // expiresAt is on the server's clock ...
        assert!((t.expires_at() - (now() + offset + 600)).abs() <= 5);
        // ... but the lifetime is what the server intended.
        let secs = t.lifetime().as_secs();
        assert!((595..=600).contains(&secs), "offset {offset}: {secs}");
    }
}

#[test]
fn calls_add_access_info_and_report_expired_tokens() {
    let mock = MockServer::start();
    let client = client_for(&mock);
    let t = client
        .login_password("alice", "wonderland", Some("c-200"))
        .unwrap();
    let token = t.access_token().expose();
    let reply = client
        .call(
            token,
            "roomService/create",
            Some(r#"{"room": {"name": "Standup"}}"#),
        )
        .unwrap();
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["request"], json!({"room": {"name": "Standup"}}));
    assert_eq!(reply["companyId"], "c-200");
    let seen = mock.last_request().unwrap();
    assert_eq!(seen.body["accessInfo"]["accessToken"], token);
    assert!(seen.body["accessInfo"]["requestId"].as_str().unwrap().len() >= 16);
    client
        .call(token, "authenticationService/isAuthenticated", None)
        .unwrap();

    mock.expire_access_tokens();
    for shape in ["gateway", "reply", "numeric"] {
        mock.configure(json!({"errorShape": shape})).unwrap();
        let err = client.call(token, "roomService/create", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenExpired, "{shape}: {err}");
        assert_eq!(err.api_status(), Some("TOKEN_OUTDATED"));
    }
}

#[test]
fn faults_map_to_defined_errors() {
    let mock = MockServer::start();
    // No retries: each fault's own error is what is checked here (tests/retry.rs has those).
    let client = Client::builder()
        .base_url(&mock.base_url())
        .unwrap()
        .max_retries(0)
        .build()
        .unwrap();
    let cases: &[(Value, ErrorKind)] = &[
        (json!({"kind": "status", "status": 503}), ErrorKind::Http),
        (
            json!({"kind": "status", "status": 503, "apiStatus": "INTERNAL_ERROR"}),
            ErrorKind::Api,
        ),
        (
            json!({"kind": "error200", "apiStatus": "QUOTA_EXCEEDED"}),
            ErrorKind::Api,
        ),
        (json!({"kind": "garbage"}), ErrorKind::Protocol),
        (json!({"kind": "truncated"}), ErrorKind::Network),
        (json!({"kind": "close"}), ErrorKind::Network),
        (json!({"kind": "redirect"}), ErrorKind::Http),
        (
            json!({"kind": "oversized", "sizeBytes": 2 << 20}),
            ErrorKind::Protocol,
        ),
    ];
    for (fault, kind) in cases {
        let mut f = fault.clone();
        f["count"] = json!(1);
        mock.configure(json!({"fault": f})).unwrap();
        let err = client.login_password("bob", "builder", None).unwrap_err();
        assert_eq!(err.kind(), *kind, "{fault}: {err}");
        assert!(!err.message().is_empty());
        // The fault was used up: the next request works.
        client.login_password("bob", "builder", None).unwrap();
    }
    assert_eq!(mock.stats().faults, cases.len() as u64);
}

#[test]
fn a_server_that_never_answers_times_out_on_time() {
    let mock = MockServer::start();
    mock.configure(json!({"fault": {"kind": "hang"}})).unwrap();
    let client = Client::builder()
        .base_url(&mock.base_url())
        .unwrap()
        .timeout(Duration::from_millis(300))
        .unwrap()
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.login_password("bob", "builder", None).unwrap_err();
    let took = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(!err.request_id().unwrap().is_empty());
}

#[test]
fn nothing_listening_is_a_network_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .base_url(&format!("http://127.0.0.1:{port}/json/v1/"))
        .unwrap()
        .build()
        .unwrap();
    let err = client.refresh("c-100", "abc").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert!(err.message().contains(&port.to_string()), "{err}");
}

#[test]
fn https_to_a_plaintext_server_is_a_tls_error() {
    let mock = MockServer::start();
    let client = Client::builder()
        .base_url(&format!("https://127.0.0.1:{}/json/v1/", mock.port()))
        .unwrap()
        .timeout(Duration::from_secs(5))
        .unwrap()
        .build()
        .unwrap();
    let err = client.refresh("c-100", "abc").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
}

#[test]
fn huge_reply_is_refused_without_reading_it_whole() {
    let mock = MockServer::start();
    mock.configure(json!({"fault": {"kind": "oversized", "sizeBytes": 50 << 20}}))
        .unwrap();
    let client = client_for(&mock);
    let err = client.login_password("bob", "builder", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.message().contains("limit"), "{err}");
    assert_eq!(err.http_status(), 200, "a reply did arrive");
    // Calls have a larger limit, but 50 MiB is over it too.
    mock.configure(json!({"fault": null})).unwrap();
    let t = client.login_password("bob", "builder", None).unwrap();
    mock.configure(json!({"fault": {"kind": "oversized", "sizeBytes": 50 << 20}}))
        .unwrap();
    let err = client
        .call(t.access_token().expose(), "roomService/list", None)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
}

#[test]
fn arguments_are_checked_before_anything_is_sent() {
    let mock = MockServer::start();
    let client = client_for(&mock);
    let cases: Vec<(alfaview_auth::Error, &str)> = vec![
        (client.refresh("", "tok").unwrap_err(), "company_id"),
        (client.refresh("c-100", "").unwrap_err(), "refresh_token"),
        (
            client.refresh("c-100", "a;b=c").unwrap_err(),
            "refresh_token",
        ),
        (
            client.refresh("c-100", "tok\r\nX-Evil: 1").unwrap_err(),
            "refresh_token",
        ),
        (
            client.login_password("a\nb", "p", None).unwrap_err(),
            "username",
        ),
        (
            client.login_password("a", "", None).unwrap_err(),
            "password",
        ),
        (
            client.login_api_key("k", "s", "").unwrap_err(),
            "company_id",
        ),
        (
            client.call("tok", "../x/y", None).unwrap_err(),
            "service_method",
        ),
        (
            client.call("tok", "a/b", Some("[1]")).unwrap_err(),
            "json_body",
        ),
    ];
    for (err, name) in cases {
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        assert!(err.message().contains(name), "{err}");
    }
    assert_eq!(mock.stats().requests, 0);
}

#[test]
fn builder_rejects_plaintext_to_remote_hosts_and_bad_environment() {
    let mut b = Client::builder();
    let err = b.base_url("http://apis.alfaview.com/json/v1/").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("loopback"), "{err}");
    assert!(b.timeout(Duration::ZERO).is_err());
    let err = b.ca_file("/nonexistent.pem").unwrap_err();
    assert!(err.message().contains("pem_path"), "{err}");
    assert!(b.user_agent("bad\nua").is_err());
}

#[test]
fn many_threads_share_one_client() {
    let mock = MockServer::start();
    let client = client_for(&mock);
    let token = mock.mint_refresh_token("c-100");
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..20 {
                    client.refresh("c-100", &token).unwrap();
                }
            });
        }
    });
    assert_eq!(mock.stats().refreshes, 160);
    // Keep-alive: far fewer connections than requests.
    assert!(mock.stats().connections <= 16, "{:?}", mock.stats());
}
