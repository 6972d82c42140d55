//! Retries: transient failures are retried with backoff within the timeout; nothing else.

use alfaview_auth::{Client, ErrorKind};
use alfaview_mock::MockServer;
use serde_json::json;
use std::time::{Duration, Instant};

fn client(mock: &MockServer, retries: u32, timeout: Duration) -> Client {
    Client::builder()
        .base_url(&mock.base_url())
        .unwrap()
        .timeout(timeout)
        .unwrap()
        .max_retries(retries)
        .build()
        .unwrap()
}

#[test]
fn gateway_errors_are_retried_then_reported_with_the_attempt_count() {
    let mock = MockServer::start();
    let c = client(&mock, 2, Duration::from_secs(10));
    for status in [502, 503, 504] {
        mock.reset();
        mock.configure(json!({"fault": {"kind": "status", "status": status, "count": 2}}))
            .unwrap();
        c.login_password("bob", "builder", None).unwrap();
        assert_eq!(mock.stats().authenticate, 3, "{status}");

        mock.reset();
        mock.configure(json!({"fault": {"kind": "status", "status": status, "count": 3}}))
            .unwrap();
        let err = c.login_password("bob", "builder", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Http);
        assert_eq!(err.http_status(), status);
        assert!(err.message().contains("after 3 attempts"), "{err}");
        assert_eq!(mock.stats().authenticate, 3);
    }
}

#[test]
fn zero_turns_retries_off() {
    let mock = MockServer::start();
    let c = client(&mock, 0, Duration::from_secs(10));
    mock.configure(json!({"fault": {"kind": "status", "status": 503, "count": 1}}))
        .unwrap();
    let err = c.login_password("bob", "builder", None).unwrap_err();
    assert!(!err.message().contains("attempts"), "{err}");
    assert_eq!(mock.stats().authenticate, 1);
}

#[test]
fn final_answers_are_not_retried() {
    let mock = MockServer::start();
    let c = client(&mock, 3, Duration::from_secs(10));
    // A rejected refresh token, a bad request, a server error with an API body, a
    // dropped connection after the request was sent (a refresh may have rotated).
    c.refresh("c-100", "unknown-token").unwrap_err();
    mock.configure(
        json!({"fault": {"kind": "status", "status": 400, "apiStatus": "PROTOCOL_ERROR"}}),
    )
    .unwrap();
    c.login_password("bob", "builder", None).unwrap_err();
    mock.configure(json!({"fault": {"kind": "status", "status": 500}}))
        .unwrap();
    c.login_password("bob", "builder", None).unwrap_err();
    mock.configure(json!({"fault": {"kind": "close"}})).unwrap();
    c.login_password("bob", "builder", None).unwrap_err();
    assert_eq!(mock.stats().authenticate, 4);
}

#[test]
fn too_many_requests_waits_for_retry_after() {
    let mock = MockServer::start();
    let c = client(&mock, 2, Duration::from_secs(10));
    mock.configure(json!({"fault": {"kind": "retryAfter", "retryAfterS": 1, "count": 1}}))
        .unwrap();
    let start = Instant::now();
    c.login_password("bob", "builder", None).unwrap();
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(950), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(mock.stats().authenticate, 2);
}

#[test]
fn retries_stay_within_the_timeout() {
    let mock = MockServer::start();
    // Retry-After longer than the time left: not waited for, the 429 is reported.
    let c = client(&mock, 5, Duration::from_millis(800));
    mock.configure(json!({"fault": {"kind": "retryAfter", "retryAfterS": 5}}))
        .unwrap();
    let start = Instant::now();
    let err = c.login_password("bob", "builder", None).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_millis(700),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(err.http_status(), 429);
    assert_eq!(err.api_status(), Some("QUOTA_EXCEEDED"));
    // Slow 503s: the whole budget, not per attempt.
    mock.configure(json!({"fault": {"kind": "delay", "delayMs": 300}}))
        .unwrap();
    mock.configure(json!({"fault": {"kind": "status", "status": 503}}))
        .unwrap();
    let start = Instant::now();
    c.login_password("bob", "builder", None).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn connection_refused_is_retried() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = Client::builder()
        .base_url(&format!("http://127.0.0.1:{port}/json/v1/"))
        .unwrap()
        .max_retries(2)
        .build()
        .unwrap();
    let start = Instant::now();
    let err = c.refresh("c-100", "abc").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.message().contains("after 3 attempts"), "{err}");
    // Two backoffs: at least 50 + 100 ms.
    assert!(
        start.elapsed() >= Duration::from_millis(150),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn the_call_reply_limit_is_settable() {
    let mock = MockServer::start();
    let c = Client::builder()
        .base_url(&mock.base_url())
        .unwrap()
        .max_reply_bytes(64)
        .unwrap()
        .build()
        .unwrap();
    let t = c.login_password("bob", "builder", None).unwrap();
    let err = c
        .call(
            t.access_token().expose(),
            "roomService/create",
            Some(r#"{"x": "a long enough body to pass 64 bytes in the echo"}"#),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.message().contains("limit of 64 bytes"), "{err}");
    assert!(Client::builder().max_reply_bytes(0).is_err());
}
