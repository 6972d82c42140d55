//! The /json/v1/ API through real sockets: sign-in, refresh, calls, errors, cookies,
//! expiresAt forms, the server clock, keep-alive and TLS.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alfaview_mock::{MockServer, Options, TlsFiles};
use common::*;
use serde_json::{json, Value};

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn date_of(r: &Reply) -> i64 {
    let d = httpdate::parse_http_date(r.header("date").expect("Date header")).unwrap();
    d.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn status_code(r: &Reply) -> Value {
    let j = r.json();
    if let Some(details) = j.get("details") {
        details[0]["statusCode"].clone()
    } else {
        j["replyInfo"]["statusCode"].clone()
    }
}

#[test]
fn password_login_issues_tokens() {
    let s = MockServer::start();
    let r = post(
        s.port(),
        AUTH,
        &password_login("alice", "wonderland", None),
        &[],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let j = r.json();
    assert_eq!(
        j["replyInfo"],
        json!({"requestId": "req-login", "statusCode": "OK", "statusMessage": "OK"})
    );
    assert_eq!(j["userId"], "u-alice");
    assert_eq!(j["companyId"], "c-100");
    assert_eq!(
        j["accessibleAccounts"],
        json!([{"companyId": "c-100"}, {"companyId": "c-200"}])
    );
    assert_eq!(j["permissions"], json!({}));
    assert_eq!(j["accountStatus"], "ACTIVE");
    assert!(j.get("refreshToken").is_none());
    let access = j["accessToken"].as_str().unwrap();
    assert_eq!(access.len(), 44, "base64 of 32 bytes");
    let exp: i64 = j["expiresAt"].as_str().unwrap().parse().unwrap();
    assert!((exp - (date_of(&r) + 3600)).abs() <= 1);

    let cookies = r.all("set-cookie");
    assert_eq!(cookies.len(), 1);
    let token = r.auth_cookie().unwrap();
    assert_eq!(token.len(), 36, "a UUID");
    assert!(cookies[0].starts_with(&format!(
        "auth={token}; Path=/; Domain=app.alfaview.com; Expires="
    )));
    assert!(cookies[0].ends_with("; HttpOnly; Secure"));

    let tokens = s.refresh_tokens();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].token, token);
    assert_eq!(tokens[0].company_id, "c-100");
    assert!(tokens[0].valid);
    let st = s.stats();
    assert_eq!((st.requests, st.authenticate, st.logins), (1, 1, 1));
}

#[test]
fn password_login_errors() {
    let s = MockServer::start();
    let p = s.port();
    let cases = [
        (
            password_login("alice", "nope", None),
            401,
            16,
            "AUTHENTICATION_ERROR",
        ),
        (
            password_login("nobody", "x", None),
            401,
            16,
            "AUTHENTICATION_ERROR",
        ),
        (
            password_login("locked", "locked", None),
            403,
            7,
            "ACCOUNT_STATUS_ERROR",
        ),
        (
            password_login("alice", "wonderland", Some("c-300")),
            401,
            16,
            "AUTHENTICATION_ERROR",
        ),
        (
            json!({"requestId": "x", "usernamePasswordCredentials": {"username": 5}}),
            400,
            3,
            "PROTOCOL_ERROR",
        ),
    ];
    for (body, http, grpc, name) in cases {
        let r = post(p, AUTH, &body, &[]);
        assert_eq!(r.status, http, "{body}");
        let j = r.json();
        assert_eq!(j["code"], grpc);
        assert_eq!(
            j["details"][0]["@type"],
            "type.googleapis.com/common.ReplyInfo"
        );
        assert_eq!(j["details"][0]["statusCode"], name);
        assert_eq!(j["details"][0]["requestId"], body["requestId"]);
        assert_eq!(j["message"], j["details"][0]["statusMessage"]);
        assert!(r.all("set-cookie").is_empty());
    }
    // Explicit second company.
    let r = post(
        p,
        AUTH,
        &password_login("alice", "wonderland", Some("c-200")),
        &[],
    );
    assert_eq!(r.json()["companyId"], "c-200");
    assert_eq!(s.refresh_tokens()[0].company_id, "c-200");
    assert_eq!(s.stats().logins, 1);
}

#[test]
fn malformed_authenticate_requests() {
    let s = MockServer::start();
    let mut c = Conn::connect(s.port());
    let r = c.request("POST", AUTH, &[], b"").unwrap();
    assert_eq!((r.status, status_code(&r)), (400, json!("PROTOCOL_ERROR")));
    assert!(r.json()["details"][0]["requestId"].as_str().unwrap().len() > 5);
    let r = c.request("POST", AUTH, &[], b"{not json").unwrap();
    assert_eq!((r.status, status_code(&r)), (400, json!("PROTOCOL_ERROR")));
    let r = c.request("POST", AUTH, &[], b"[1,2]").unwrap();
    assert_eq!((r.status, status_code(&r)), (400, json!("PROTOCOL_ERROR")));
    for body in [
        json!({"usernamePasswordCredentials": {"username": "alice", "password": "wonderland"}}),
        json!({"requestId": "", "usernamePasswordCredentials": {}}),
        json!({"requestId": 7, "usernamePasswordCredentials": {}}),
    ] {
        let r = c.post(AUTH, &body, &[]);
        assert_eq!(
            (r.status, status_code(&r)),
            (400, json!("REQUEST_ID_INVALID"))
        );
    }
    let both = json!({"requestId": "r", "usernamePasswordCredentials": {}, "refreshTokenCredentials": {"companyId": "c-100"}});
    let none = json!({"requestId": "r"});
    let not_obj = json!({"requestId": "r", "refreshTokenCredentials": "c-100"});
    for body in [both, none, not_obj] {
        let r = c.post(AUTH, &body, &[]);
        assert_eq!(
            (r.status, status_code(&r)),
            (400, json!("PROTOCOL_ERROR")),
            "{body}"
        );
        assert_eq!(r.json()["details"][0]["requestId"], "r");
    }
}

#[test]
fn api_key_login() {
    let s = MockServer::start();
    let p = s.port();
    let body = |client: &str, code: &str, company: Option<&str>| {
        let mut creds = json!({"clientId": client, "code": code});
        if let Some(c) = company {
            creds["companyId"] = c.into();
        }
        json!({"requestId": "ak", "authorizationCodeCredentials": creds})
    };
    let r = post(p, AUTH, &body("ak-demo", "ak-secret", Some("c-100")), &[]);
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["userId"], "u-apikey");
    assert_eq!(j["companyId"], "c-100");
    assert_eq!(j["accessibleAccounts"], json!([{"companyId": "c-100"}]));
    assert!(r.auth_cookie().is_some());

    let r = post(p, AUTH, &body("ak-demo", "wrong", Some("c-100")), &[]);
    assert_eq!(
        (r.status, status_code(&r)),
        (401, json!("AUTHENTICATION_ERROR"))
    );
    let r = post(p, AUTH, &body("ak-demo", "ak-secret", Some("c-200")), &[]);
    assert_eq!(
        (r.status, status_code(&r)),
        (401, json!("AUTHENTICATION_ERROR"))
    );
    let r = post(p, AUTH, &body("ak-demo", "ak-secret", None), &[]);
    assert_eq!((r.status, status_code(&r)), (400, json!("PROTOCOL_ERROR")));
    assert_eq!(s.stats().logins, 1);
}

#[test]
fn configured_users_and_api_keys() {
    let s = MockServer::start();
    s.configure(json!({
        "users": [{"username": "carol", "password": "pw", "companies": ["c-9", "c-8"]},
                  {"username": "dave", "password": "pw", "userId": "u-d", "companies": ["c-9"], "locked": true}],
        "apiKeys": [{"clientId": "k2", "secret": "s2", "companyId": "c-9", "userId": "u-k2"}],
    }))
    .unwrap();
    let p = s.port();
    let r = post(p, AUTH, &password_login("carol", "pw", Some("c-8")), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["userId"], "u-carol");
    assert_eq!(r.json()["companyId"], "c-8");
    let r = post(p, AUTH, &password_login("dave", "pw", None), &[]);
    assert_eq!(status_code(&r), "ACCOUNT_STATUS_ERROR");
    let body = json!({"requestId": "x", "authorizationCodeCredentials": {"clientId": "k2", "code": "s2", "companyId": "c-9"}});
    let r = post(p, AUTH, &body, &[]);
    assert_eq!(r.json()["userId"], "u-k2");
    // Built-ins still work.
    let r = post(p, AUTH, &password_login("bob", "builder", None), &[]);
    assert_eq!(r.json()["companyId"], "c-300");
    assert_eq!(s.config()["users"].as_array().unwrap().len(), 2);
}

#[test]
fn refresh_without_rotation() {
    let s = MockServer::start();
    let p = s.port();
    let (access, token) = login_alice(p);
    let r = refresh(p, &token, "c-100");
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["replyInfo"]["requestId"], "req-refresh");
    assert_ne!(j["accessToken"].as_str().unwrap(), access);
    assert_eq!(j["companyId"], "c-100");
    assert_eq!(j["userId"], "u-alice");
    assert!(r.all("set-cookie").is_empty(), "no rotation, no cookie");
    // The old refresh token stays valid; cookies among others are found.
    let cookie = format!("lang=en; auth={token}; tracking=1");
    let r = post(p, AUTH, &refresh_body("c-100"), &[("Cookie", &cookie)]);
    assert_eq!(r.status, 200);

    // Wrong company, unknown token, no cookie, missing companyId.
    let r = refresh(p, &token, "c-200");
    assert_eq!(
        (r.status, status_code(&r)),
        (401, json!("AUTHENTICATION_ERROR"))
    );
    let r = refresh(p, "00000000-0000-0000-0000-000000000000", "c-100");
    assert_eq!(
        (r.status, status_code(&r)),
        (401, json!("AUTHENTICATION_ERROR"))
    );
    let r = post(p, AUTH, &refresh_body("c-100"), &[("Cookie", "other=1")]);
    assert_eq!(
        (r.status, status_code(&r)),
        (401, json!("AUTHENTICATION_ERROR"))
    );
    let body = json!({"requestId": "x", "refreshTokenCredentials": {}});
    let r = post(p, AUTH, &body, &[("Cookie", &format!("auth={token}"))]);
    assert_eq!((r.status, status_code(&r)), (400, json!("PROTOCOL_ERROR")));

    let st = s.stats();
    assert_eq!((st.logins, st.refreshes, st.refresh_failures), (1, 2, 4));
    assert_eq!(st.authenticate, 7);
}

#[test]
fn refresh_with_rotation() {
    let s = MockServer::start();
    s.configure(json!({"rotate": true})).unwrap();
    let p = s.port();
    let (_, t1) = login_alice(p);
    let r = refresh(p, &t1, "c-100");
    assert_eq!(r.status, 200);
    let t2 = r.auth_cookie().expect("rotated cookie");
    assert_ne!(t1, t2);
    // The old one is revoked, the new one works and rotates again.
    let r = refresh(p, &t1, "c-100");
    assert_eq!(status_code(&r), "AUTHENTICATION_ERROR");
    let r = refresh(p, &t2, "c-100");
    let t3 = r.auth_cookie().unwrap();
    let tokens = s.refresh_tokens();
    let valid: Vec<(&str, bool)> = tokens.iter().map(|t| (t.token.as_str(), t.valid)).collect();
    assert_eq!(valid, [(&*t1, false), (&*t2, false), (&*t3, true)]);
    let j = get(p, "/_mock/tokens").json();
    assert_eq!(
        j["refreshTokens"][2],
        json!({"token": t3, "companyId": "c-100", "valid": true})
    );
}

#[test]
fn refresh_token_in_body() {
    let s = MockServer::start();
    s.configure(json!({"refreshTokenInBody": true, "rotate": true}))
        .unwrap();
    let p = s.port();
    let r = post(p, AUTH, &password_login("bob", "builder", None), &[]);
    let t1 = r.json()["refreshToken"].as_str().unwrap().to_string();
    assert_eq!(Some(t1.clone()), r.auth_cookie());
    let r = refresh(p, &t1, "c-300");
    let t2 = r.json()["refreshToken"].as_str().unwrap().to_string();
    assert_eq!(Some(t2), r.auth_cookie());
    // Without rotation nothing is issued on refresh, so no body field either.
    s.configure(json!({"rotate": false, "cookieStyle": "none"}))
        .unwrap();
    let r = refresh(p, &r.auth_cookie().unwrap(), "c-300");
    assert_eq!(r.status, 200);
    assert!(r.json().get("refreshToken").is_none());
    let r = post(p, AUTH, &password_login("bob", "builder", None), &[]);
    assert!(r.all("set-cookie").is_empty());
    assert!(r.json()["refreshToken"].is_string());
}

#[test]
fn calls_with_valid_and_expired_tokens() {
    let s = MockServer::start();
    let p = s.port();
    let (access, _) = login_alice(p);
    let r = call(p, "/json/v1/roomService/create", &access);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({
            "replyInfo": {"requestId": "req-call", "statusCode": "OK", "statusMessage": "OK"},
            "service": "roomService", "method": "create", "companyId": "c-100",
            "request": {"room": {"name": "r"}},
        })
    );
    let r = call(p, "/json/v1/authenticationService/isAuthenticated", &access);
    assert_eq!(
        r.json(),
        json!({"replyInfo": {"requestId": "req-call", "statusCode": "OK", "statusMessage": "OK"}})
    );
    let r = call(p, "/json/v1/roomService/create", "bm9wZQ==");
    assert_eq!(r.status, 401);
    let j = r.json();
    assert_eq!(
        (j["code"].clone(), j["message"].clone()),
        (json!(16), json!("token expired"))
    );
    assert_eq!(j["details"][0]["statusCode"], "TOKEN_OUTDATED");
    assert_eq!(j["details"][0]["requestId"], "req-call");

    let r = post(
        p,
        "/json/v1/roomService/create",
        &json!({"requestId": "top"}),
        &[],
    );
    assert_eq!(
        (r.status, status_code(&r)),
        (400, json!("ACCESS_INFO_MISSING"))
    );
    assert_eq!(r.json()["details"][0]["requestId"], "top");
    let r = post(
        p,
        "/json/v1/roomService/create",
        &json!({"accessInfo": {"requestId": "q"}}),
        &[],
    );
    assert_eq!(
        (r.status, status_code(&r)),
        (400, json!("ACCESS_INFO_MISSING"))
    );

    // Force-expiry, over HTTP this time.
    let r = post(p, "/_mock/expire", &json!({}), &[]);
    assert_eq!(r.json()["ok"], true);
    let r = call(p, "/json/v1/authenticationService/isAuthenticated", &access);
    assert_eq!((r.status, status_code(&r)), (401, json!("TOKEN_OUTDATED")));
    assert_eq!(s.stats().calls, 6);
}

#[test]
fn access_tokens_expire_in_real_time() {
    let s = MockServer::start();
    // The server clock is far off, but validity is judged on real time.
    s.configure(json!({"tokenLifetimeS": 1, "clockOffsetS": -7200}))
        .unwrap();
    let p = s.port();
    let (access, token) = login_alice(p);
    assert_eq!(call(p, "/json/v1/roomService/list", &access).status, 200);
    std::thread::sleep(Duration::from_millis(1100));
    let r = call(p, "/json/v1/roomService/list", &access);
    assert_eq!(status_code(&r), "TOKEN_OUTDATED");
    // A refresh gives a working token again.
    let fresh = refresh(p, &token, "c-100").json()["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(call(p, "/json/v1/roomService/list", &fresh).status, 200);
    s.configure(json!({"tokenLifetimeS": 0})).unwrap();
    let (access, _) = login_alice(p);
    assert_eq!(
        status_code(&call(p, "/json/v1/x/y", &access)),
        "TOKEN_OUTDATED"
    );
}

#[test]
fn refresh_tokens_expire() {
    let s = MockServer::start();
    s.configure(json!({"refreshLifetimeS": 1})).unwrap();
    let p = s.port();
    let (_, token) = login_alice(p);
    assert_eq!(refresh(p, &token, "c-100").status, 200);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(refresh(p, &token, "c-100").status, 401);
    assert!(!s.refresh_tokens()[0].valid);
}

#[test]
fn error_shapes() {
    let s = MockServer::start();
    let p = s.port();
    s.configure(json!({"errorShape": "reply"})).unwrap();
    let r = post(p, AUTH, &password_login("alice", "bad", None), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"replyInfo": {"requestId": "req-login", "statusCode": "AUTHENTICATION_ERROR",
                             "statusMessage": "wrong username or password"}})
    );
    s.configure(json!({"errorShape": "numeric"})).unwrap();
    let r = call(p, "/json/v1/roomService/create", "AAAA");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["replyInfo"]["statusCode"], 1049);
    assert_eq!(r.json()["replyInfo"]["statusMessage"], "token expired");
}

#[test]
fn wrong_method_and_unknown_paths() {
    let s = MockServer::start();
    let mut c = Conn::connect(s.port());
    let r = c.get(AUTH);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    assert_eq!(
        r.json(),
        json!({"code": 12, "message": "Method Not Allowed", "details": []})
    );
    let r = c.get("/elsewhere");
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"code": 5, "message": "Not Found", "details": []})
    );
    let r = c.post("/json/v1/onlyone", &json!({}), &[]);
    assert_eq!(r.status, 404);
    let r = c.post("/json/v1/a/b/c", &json!({}), &[]);
    assert_eq!(r.status, 404);
    assert_eq!(s.stats().requests, 3, "/elsewhere is not an API request");
}

#[test]
fn cookie_styles() {
    let s = MockServer::start();
    s.configure(json!({"refreshLifetimeS": 1000})).unwrap();
    let p = s.port();
    let login = || post(p, AUTH, &password_login("alice", "wonderland", None), &[]);
    let exp_of = |cookie: &str, attr: &str| -> i64 {
        let v = cookie
            .split(';')
            .find_map(|a| {
                let (n, v) = a.trim().split_once('=')?;
                n.eq_ignore_ascii_case(attr).then_some(v)
            })
            .unwrap();
        httpdate::parse_http_date(v)
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };

    let r = login();
    let c = r.all("set-cookie")[0];
    assert!((exp_of(c, "Expires") - date_of(&r) - 1000).abs() <= 1);

    s.configure(json!({"cookieStyle": "maxage"})).unwrap();
    let r = login();
    let t = r.auth_cookie().unwrap();
    assert_eq!(
        r.all("set-cookie"),
        [format!("auth={t}; Path=/; Max-Age=1000; HttpOnly; Secure")]
    );

    s.configure(json!({"cookieStyle": "both"})).unwrap();
    let r = login();
    let c = r.all("set-cookie")[0];
    assert!(c.contains("; Max-Age=1000;"));
    assert!((exp_of(c, "Expires") - date_of(&r) - 1000 - 86_400).abs() <= 1);

    s.configure(json!({"cookieStyle": "quoted"})).unwrap();
    let r = login();
    let c = r.all("set-cookie")[0];
    let t = r.auth_cookie().unwrap();
    assert!(c.starts_with(&format!("auth=\"{t}\"; path=/;")), "{c}");
    assert!(c.contains("EXPIRES=") && c.contains("httponly"));
    assert!(
        s.refresh_tokens().iter().any(|x| x.token == t),
        "quotes are not part of the token"
    );

    s.configure(json!({"cookieStyle": "multi"})).unwrap();
    let r = login();
    let all = r.all("set-cookie");
    assert_eq!(all.len(), 3);
    assert_eq!(all[0], "lang=en; Path=/");
    assert!(all[1].starts_with("auth="));
    assert_eq!(all[2], "tracking=abc; Path=/");

    s.configure(json!({"cookieStyle": "none"})).unwrap();
    let r = login();
    assert!(r.all("set-cookie").is_empty());
    assert_eq!(r.status, 200);
}

#[test]
fn expires_at_forms_and_server_clock() {
    let s = MockServer::start();
    s.configure(json!({"clockOffsetS": 86_400, "tokenLifetimeS": 600}))
        .unwrap();
    let p = s.port();
    let login = || post(p, AUTH, &password_login("alice", "wonderland", None), &[]);

    let r = login();
    let date = date_of(&r);
    assert!(
        (date - unix_now() - 86_400).abs() <= 2,
        "Date shows server time"
    );
    let exp: i64 = r.json()["expiresAt"].as_str().unwrap().parse().unwrap();
    assert!((exp - date - 600).abs() <= 1);
    let cookie = r.all("set-cookie")[0].to_string();
    assert!(cookie.contains("Expires="));

    s.configure(json!({"expiresAtForm": "number"})).unwrap();
    let r = login();
    let exp = r.json()["expiresAt"].as_i64().unwrap();
    assert!((exp - date_of(&r) - 600).abs() <= 1);

    let parse = |v: &Value| {
        let s = v.as_str().unwrap();
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    };
    s.configure(json!({"expiresAtForm": "rfc3339"})).unwrap();
    let r = login();
    let v = r.json()["expiresAt"].clone();
    let text = v.as_str().unwrap();
    assert!(text.ends_with("+01:00") && text.len() == 29, "{text}");
    assert_eq!(&text[19..20], ".");
    assert!((parse(&v).unix_timestamp() - date_of(&r) - 600).abs() <= 1);

    s.configure(json!({"expiresAtForm": "rfc3339z"})).unwrap();
    let r = login();
    let v = r.json()["expiresAt"].clone();
    let text = v.as_str().unwrap();
    assert!(text.ends_with('Z') && text.len() == 24, "{text}");
    assert!((parse(&v).unix_timestamp() - date_of(&r) - 600).abs() <= 1);

    // Control replies carry the server's Date too.
    let r = get(p, "/_mock/stats");
    assert!((date_of(&r) - unix_now() - 86_400).abs() <= 2);
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let s = MockServer::start();
    let p = s.port();
    let mut c = Conn::connect(p);
    let r = c.post(AUTH, &password_login("alice", "wonderland", None), &[]);
    let token = r.auth_cookie().unwrap();
    let cookie = format!("auth={token}");
    for _ in 0..20 {
        let r = c.post(AUTH, &refresh_body("c-100"), &[("Cookie", &cookie)]);
        assert_eq!(r.status, 200);
        assert_ne!(r.header("connection"), Some("close"));
        let access = r.json()["accessToken"].as_str().unwrap().to_string();
        let body = json!({"accessInfo": {"requestId": "k", "accessToken": access}});
        assert_eq!(c.post("/json/v1/userService/get", &body, &[]).status, 200);
    }
    // An error reply does not close the connection either.
    let r = c.post(AUTH, &json!({"requestId": "x"}), &[]);
    assert_eq!(r.status, 400);
    assert_eq!(c.get("/_mock/stats").json()["requests"], 42);
    let st = s.stats();
    assert_eq!((st.connections, st.refreshes, st.calls), (1, 20, 20));
}

#[test]
fn tls() {
    let s = MockServer::start_with(Options {
        tls: Some(TlsFiles {
            cert: data_file("cert.pem"),
            key: data_file("key.pem"),
        }),
        ..Options::default()
    })
    .unwrap();
    assert_eq!(
        s.base_url(),
        format!("https://127.0.0.1:{}/json/v1/", s.port())
    );
    let mut c = Conn::connect_tls(s.port());
    let r = c.post(AUTH, &password_login("alice", "wonderland", None), &[]);
    assert_eq!(r.status, 200);
    let cookie = format!("auth={}", r.auth_cookie().unwrap());
    let r = c.post(AUTH, &refresh_body("c-100"), &[("Cookie", &cookie)]);
    assert_eq!(r.status, 200);
    assert_eq!(s.stats().connections, 1);
}

#[test]
fn bad_tls_files_are_reported() {
    let err = MockServer::start_with(Options {
        tls: Some(TlsFiles {
            cert: data_file("missing.pem"),
            key: data_file("key.pem"),
        }),
        ..Options::default()
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("missing.pem"), "{err}");
    // A key file given as the certificate has no CERTIFICATE section.
    let err = MockServer::start_with(Options {
        tls: Some(TlsFiles {
            cert: data_file("key.pem"),
            key: data_file("key.pem"),
        }),
        ..Options::default()
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("CERTIFICATE"), "{err}");
}

#[test]
fn start_options() {
    let s = MockServer::start_with(Options {
        config: Some(json!({"rotate": true})),
        ..Options::default()
    })
    .unwrap();
    assert_eq!(s.config()["rotate"], true);
    assert!(MockServer::start_with(Options {
        config: Some(json!({"rotate": 3})),
        ..Options::default()
    })
    .is_err());
    // Dropping shuts the server down and frees the port.
    let port = s.port();
    drop(s);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    let again = MockServer::start_with(Options {
        port,
        ..Options::default()
    })
    .unwrap();
    assert_eq!(again.port(), port);
}

#[test]
fn usable_from_inside_another_tokio_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = MockServer::start();
        let (access, _) = login_alice(s.port());
        assert_eq!(call(s.port(), "/json/v1/a/b", &access).status, 200);
        drop(s);
    });
}
