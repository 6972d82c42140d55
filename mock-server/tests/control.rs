//! The /_mock/ control endpoints, and that the lib API gives the same answers.

mod common;

use alfaview_mock::MockServer;
use common::*;
use serde_json::{json, Value};

#[test]
fn config_get_post_and_errors() {
    let s = MockServer::start();
    let p = s.port();
    let defaults = json!({
        "tokenLifetimeS": 3600, "refreshLifetimeS": 2_592_000, "expiresAtForm": "string",
        "clockOffsetS": 0, "rotate": false, "cookieStyle": "expires", "refreshTokenInBody": false,
        "errorShape": "gateway", "fault": null, "users": [], "apiKeys": [],
    });
    assert_eq!(get(p, "/_mock/config").json(), defaults);
    assert_eq!(s.config(), defaults);

    let r = post(
        p,
        "/_mock/config",
        &json!({"rotate": true, "tokenLifetimeS": 5, "fault": {"kind": "hang", "path": "room"}}),
        &[],
    );
    assert_eq!(r.status, 200);
    let cfg = r.json();
    assert_eq!(cfg["rotate"], true);
    assert_eq!(cfg["tokenLifetimeS"], 5);
    assert_eq!(cfg["fault"], json!({"kind": "hang", "path": "room"}));
    assert_eq!(
        cfg["cookieStyle"], "expires",
        "unpatched keys keep their values"
    );

    // Unknown key or bad value: 400 naming the key, nothing changed (all or nothing).
    for (patch, key) in [
        (json!({"rotate": false, "bogus": 1}), "bogus"),
        (
            json!({"rotate": false, "expiresAtForm": "iso"}),
            "expiresAtForm",
        ),
        (
            json!({"rotate": false, "fault": {"kind": "delay", "delayMs": -1}}),
            "fault.delayMs",
        ),
        (
            json!({"rotate": false, "fault": {"kind": "error200", "apiStatus": "NOPE"}}),
            "fault.apiStatus",
        ),
        (
            json!({"rotate": false, "apiKeys": [{"clientId": "x"}]}),
            "apiKeys[0]",
        ),
        (
            json!({"rotate": false, "clockOffsetS": "1"}),
            "clockOffsetS",
        ),
    ] {
        let r = post(p, "/_mock/config", &patch, &[]);
        assert_eq!(r.status, 400, "{patch}");
        let msg = r.json()["error"].as_str().unwrap().to_string();
        assert!(msg.contains(key), "{msg} names {key}");
        assert!(s.configure(patch).unwrap_err().contains(key));
    }
    assert_eq!(s.config()["rotate"], true);
    let mut c = Conn::connect(p);
    let r = c.request("POST", "/_mock/config", &[], b"{oops").unwrap();
    assert_eq!(r.status, 400);
    let r = c.request("POST", "/_mock/config", &[], b"[]").unwrap();
    assert_eq!(r.status, 400);

    // null resets a key to its default.
    s.configure(json!({"tokenLifetimeS": null, "fault": null}))
        .unwrap();
    assert_eq!(s.config()["tokenLifetimeS"], 3600);
    assert_eq!(s.config()["fault"], Value::Null);
}

#[test]
fn reset_forgets_everything() {
    let s = MockServer::start();
    let p = s.port();
    s.configure(
        json!({"rotate": true, "fault": {"kind": "delay", "delayMs": 1, "path": "nomatch"}}),
    )
    .unwrap();
    let (access, _) = login_alice(p);
    assert_eq!(s.refresh_tokens().len(), 1);
    let r = post(p, "/_mock/reset", &json!({}), &[]);
    assert_eq!(r.json(), json!({"ok": true}));
    assert_eq!(s.config()["rotate"], false);
    assert_eq!(s.config()["fault"], Value::Null);
    assert!(s.refresh_tokens().is_empty());
    assert_eq!(s.stats(), alfaview_mock::Stats::default());
    assert!(s.last_request().is_none());
    assert_eq!(
        status_code_of(&call(p, "/json/v1/a/b", &access)),
        "TOKEN_OUTDATED"
    );
    // Lib reset too.
    login_alice(p);
    s.reset();
    assert!(s.refresh_tokens().is_empty());
    assert_eq!(s.stats().requests, 0);
}

fn status_code_of(r: &Reply) -> Value {
    r.json()["details"][0]["statusCode"].clone()
}

#[test]
fn stats_match_the_lib_api() {
    let s = MockServer::start();
    let p = s.port();
    let (access, token) = login_alice(p);
    refresh(p, &token, "c-100");
    refresh(p, &token, "c-999");
    call(p, "/json/v1/roomService/create", &access);
    let r = get(p, "/_mock/stats");
    let st = s.stats();
    assert_eq!(r.json(), st.to_json());
    assert_eq!(
        r.json(),
        json!({"requests": 4, "authenticate": 3, "logins": 1, "refreshes": 1,
               "refreshFailures": 1, "calls": 1, "faults": 0, "connections": 5})
    );
}

#[test]
fn last_request() {
    let s = MockServer::start();
    let p = s.port();
    let r = get(p, "/_mock/last");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    assert!(s.last_request().is_none());

    let mut c = Conn::connect(p);
    let raw = b"POST /json/v1/roomService/create?x=1 HTTP/1.1\r\nHost: h\r\nX-Multi: a\r\nX-Multi: b\r\nCookie: auth=zzz\r\nContent-Length: 12\r\n\r\n{\"a\":[1,2]}\n";
    c.send_raw(raw).unwrap();
    let last = c.get("/_mock/last").json();
    assert_eq!(last["method"], "POST");
    assert_eq!(last["path"], "/json/v1/roomService/create");
    assert_eq!(last["headers"]["x-multi"], "a, b");
    assert_eq!(last["headers"]["cookie"], "auth=zzz");
    assert_eq!(last["headers"]["host"], "h");
    assert_eq!(last["body"], json!({"a": [1, 2]}));
    assert_eq!(s.last_request().unwrap().to_json(), last);

    // Control requests are not recorded; non-JSON bodies come back as a string.
    c.request("PUT", "/json/v1/a/b", &[], b"plain text")
        .unwrap();
    let last = s.last_request().unwrap();
    assert_eq!(last.method, "PUT");
    assert_eq!(last.body, json!("plain text"));
}

#[test]
fn mint_expire_tokens() {
    let s = MockServer::start();
    let p = s.port();
    let r = post(p, "/_mock/mint", &json!({"companyId": "c-200"}), &[]);
    assert_eq!(r.status, 200);
    let minted = r.json()["refreshToken"].as_str().unwrap().to_string();
    let r = refresh(p, &minted, "c-200");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["userId"], "u-alice");
    let access = r.json()["accessToken"].as_str().unwrap().to_string();

    let lib_minted = s.mint_refresh_token("c-777");
    assert_eq!(
        refresh(p, &lib_minted, "c-777").json()["companyId"],
        "c-777"
    );
    // Default company: c-100.
    let mut c = Conn::connect(p);
    let r = c.request("POST", "/_mock/mint", &[], b"").unwrap();
    assert_eq!(r.json()["companyId"], "c-100");
    let r = c.post("/_mock/mint", &json!({"companyId": 5}), &[]);
    assert_eq!(r.status, 400);

    assert_eq!(call(p, "/json/v1/a/b", &access).status, 200);
    s.expire_access_tokens();
    assert_eq!(call(p, "/json/v1/a/b", &access).status, 401);

    let tokens = get(p, "/_mock/tokens").json();
    let list = tokens["refreshTokens"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(
        list[0],
        json!({"token": minted, "companyId": "c-200", "valid": true})
    );
}

#[test]
fn control_routing_errors() {
    let s = MockServer::start();
    let mut c = Conn::connect(s.port());
    let r = c.get("/_mock/nothing");
    assert_eq!(r.status, 404);
    let r = c.get("/_mock/reset");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = c.post("/_mock/stats", &json!({}), &[]);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET"));
    let r = c.request("DELETE", "/_mock/config", &[], b"").unwrap();
    assert_eq!(r.header("allow"), Some("GET, POST"));
    assert_eq!(
        s.stats().requests,
        0,
        "control requests are not API requests"
    );
}
