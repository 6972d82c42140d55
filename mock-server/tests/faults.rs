//! Every fault kind, their count and path filters, and that /_mock/ is never faulted.

mod common;

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use alfaview_mock::MockServer;
use common::*;
use serde_json::json;

fn login_body() -> serde_json::Value {
    password_login("alice", "wonderland", None)
}

#[test]
fn delay() {
    let s = MockServer::start();
    s.configure(json!({"fault": {"kind": "delay", "delayMs": 300, "count": 1}}))
        .unwrap();
    let t = Instant::now();
    let r = post(s.port(), AUTH, &login_body(), &[]);
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, 200, "answered normally after the delay");
    let t = Instant::now();
    assert_eq!(post(s.port(), AUTH, &login_body(), &[]).status, 200);
    assert!(t.elapsed() < Duration::from_millis(300), "count 1 used up");
    assert_eq!(s.config()["fault"], serde_json::Value::Null);
    let st = s.stats();
    assert_eq!((st.faults, st.logins), (1, 2));
}

#[test]
fn hang() {
    let s = MockServer::start();
    s.configure(json!({"fault": {"kind": "hang", "count": 1}}))
        .unwrap();
    let mut c = Conn::connect_timeout(s.port(), Duration::from_millis(400));
    let err = c.post_raw_err(AUTH, &login_body());
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err:?}"
    );
    // Control endpoints still answer, and the next request is normal.
    assert_eq!(get(s.port(), "/_mock/stats").json()["faults"], 1);
    assert_eq!(post(s.port(), AUTH, &login_body(), &[]).status, 200);
}

#[test]
fn status_with_and_without_api_status() {
    let s = MockServer::start();
    let p = s.port();
    s.configure(json!({"fault": {"kind": "status", "status": 502}}))
        .unwrap();
    let r = post(p, AUTH, &login_body(), &[]);
    assert_eq!(r.status, 502);
    assert_eq!(r.body, b"upstream error");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    // Every request, until cleared.
    assert_eq!(
        post(p, "/json/v1/roomService/create", &json!({}), &[]).status,
        502
    );

    s.configure(json!({"fault": {"kind": "status", "status": 503, "apiStatus": "TOKEN_OUTDATED"}}))
        .unwrap();
    let r = post(p, AUTH, &login_body(), &[]);
    assert_eq!(r.status, 503);
    let j = r.json();
    assert_eq!(j["code"], 16);
    assert_eq!(j["details"][0]["statusCode"], "TOKEN_OUTDATED");
    assert_eq!(j["details"][0]["requestId"], "req-login");

    s.configure(json!({"fault": null})).unwrap();
    assert_eq!(post(p, AUTH, &login_body(), &[]).status, 200);
    assert_eq!(s.stats().faults, 3);
}

#[test]
fn error200() {
    let s = MockServer::start();
    let p = s.port();
    s.configure(json!({"fault": {"kind": "error200", "apiStatus": "INTERNAL_ERROR"}}))
        .unwrap();
    let r = post(p, AUTH, &login_body(), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["replyInfo"],
        json!({"requestId": "req-login", "statusCode": "INTERNAL_ERROR", "statusMessage": "internal error"})
    );
    s.configure(json!({"fault": {"kind": "error200", "apiStatus": 1060}, "errorShape": "numeric"}))
        .unwrap();
    let r = post(p, AUTH, &login_body(), &[]);
    assert_eq!(r.json()["replyInfo"]["statusCode"], 1060);
}

#[test]
fn garbage() {
    let s = MockServer::start();
    s.configure(json!({"fault": {"kind": "garbage"}})).unwrap();
    let r = post(s.port(), AUTH, &login_body(), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.body, b"<html>not json</html>");
}

#[test]
fn truncated() {
    let s = MockServer::start();
    s.configure(json!({"fault": {"kind": "truncated"}}))
        .unwrap();
    let r = post(s.port(), AUTH, &login_body(), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("1000"));
    assert!(!r.complete);
    assert_eq!(r.body.len(), 100);
    assert!(r
        .body
        .starts_with(b"{\"replyInfo\":{\"requestId\":\"req-login\""));
}

#[test]
fn oversized() {
    let s = MockServer::start();
    let size = 3 * 1024 * 1024 + 17;
    s.configure(json!({"fault": {"kind": "oversized", "sizeBytes": size}}))
        .unwrap();
    let r = post(s.port(), AUTH, &login_body(), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(&*size.to_string()));
    assert!(r.complete);
    assert_eq!(r.body.len(), size);
    let j = r.json();
    assert_eq!(j["replyInfo"]["statusCode"], "OK");
    assert!(j["pad"].as_str().unwrap().bytes().all(|b| b == b'x'));
}

#[test]
fn close() {
    let s = MockServer::start();
    s.configure(json!({"fault": {"kind": "close", "count": 2}}))
        .unwrap();
    let mut c = Conn::connect(s.port());
    let err = c.post_raw_err(AUTH, &login_body());
    assert!(
        matches!(
            err.kind(),
            ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
        ),
        "{err:?}"
    );
    let err = Conn::connect(s.port()).post_raw_err("/json/v1/roomService/create", &json!({}));
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert_eq!(post(s.port(), AUTH, &login_body(), &[]).status, 200);
}

#[test]
fn redirect() {
    let s = MockServer::start();
    s.configure(json!({"fault": {"kind": "redirect"}})).unwrap();
    let r = post(s.port(), AUTH, &login_body(), &[]);
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("http://127.0.0.1:1/elsewhere"));
}

#[test]
fn retry_after() {
    let s = MockServer::start();
    s.configure(json!({"fault": {"kind": "retryAfter", "retryAfterS": 7}}))
        .unwrap();
    let r = post(s.port(), AUTH, &login_body(), &[]);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
    let j = r.json();
    assert_eq!(j["code"], 8);
    assert_eq!(j["details"][0]["statusCode"], "QUOTA_EXCEEDED");
}

#[test]
fn path_filter_and_count() {
    let s = MockServer::start();
    let p = s.port();
    let (access, _) = login_alice(p);
    s.configure(
        json!({"fault": {"kind": "status", "status": 500, "path": "roomService", "count": 2}}),
    )
    .unwrap();
    // Not matching: untouched, count unchanged.
    assert_eq!(post(p, AUTH, &login_body(), &[]).status, 200);
    assert_eq!(call(p, "/json/v1/userService/get", &access).status, 200);
    assert_eq!(s.config()["fault"]["count"], 2);
    assert_eq!(call(p, "/json/v1/roomService/create", &access).status, 500);
    assert_eq!(s.config()["fault"]["count"], 1);
    assert_eq!(call(p, "/json/v1/roomService/create", &access).status, 500);
    assert_eq!(call(p, "/json/v1/roomService/create", &access).status, 200);
    let st = s.stats();
    assert_eq!((st.faults, st.calls, st.requests), (2, 4, 6));
}

#[test]
fn control_endpoints_are_never_faulted() {
    let s = MockServer::start();
    s.configure(json!({"fault": {"kind": "close"}})).unwrap();
    let p = s.port();
    let mut c = Conn::connect(p);
    assert_eq!(c.get("/_mock/config").json()["fault"]["kind"], "close");
    assert_eq!(c.get("/_mock/stats").status, 200);
    assert_eq!(c.post("/_mock/reset", &json!({}), &[]).status, 200);
    assert_eq!(post(p, AUTH, &login_body(), &[]).status, 200);
}
