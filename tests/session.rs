//! Sessions against the mock server: caching, single flight, clock skew, rotation,
//! failing refreshes and the TOKEN_OUTDATED retry.

use alfaview_auth::{Client, ErrorKind, Session};
use alfaview_mock::MockServer;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

fn client_for(mock: &MockServer, timeout: Duration) -> Client {
    Client::builder()
        .base_url(&mock.base_url())
        .unwrap()
        .timeout(timeout)
        .unwrap()
        .build()
        .unwrap()
}

fn session(mock: &MockServer, company: &str) -> Session {
    let client = client_for(mock, Duration::from_secs(5));
    let token = mock.mint_refresh_token(company);
    Session::new(Some(&client), company, &token).unwrap()
}

#[test]
fn the_cached_path_makes_no_request() {
    let mock = MockServer::start();
    let s = session(&mock, "c-100");
    let (first, expires) = s.access_token().unwrap();
    for _ in 0..1000 {
        assert_eq!(s.access_token().unwrap().0, first);
    }
    assert_eq!(mock.stats().authenticate, 1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((expires - (now + 3600)).abs() <= 5, "{expires}");
}

#[test]
fn thirty_two_threads_on_an_expired_token_send_one_request() {
    let mock = MockServer::start();
    let s = session(&mock, "c-100");
    // Slow refreshes, so every thread arrives while the one request is in flight.
    mock.configure(json!({"fault": {"kind": "delay", "delayMs": 300, "path": "authenticate"}}))
        .unwrap();
    let barrier = Barrier::new(32);
    let tokens: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..32)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    s.access_token().unwrap().0.expose().to_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(mock.stats().authenticate, 1);
    assert!(tokens.iter().all(|t| t == &tokens[0]));
}

#[test]
fn a_failed_refresh_reaches_every_waiter_and_is_retried_next_time() {
    let mock = MockServer::start();
    let client = client_for(&mock, Duration::from_secs(5));
    let s = Session::new(Some(&client), "c-100", "revoked-or-unknown").unwrap();
    mock.configure(json!({"fault": {"kind": "delay", "delayMs": 300}}))
        .unwrap();
    let barrier = Barrier::new(8);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                barrier.wait();
                let err = s.access_token().unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Authentication, "{err}");
                assert_eq!(err.api_status(), Some("AUTHENTICATION_ERROR"));
            });
        }
    });
    assert_eq!(mock.stats().authenticate, 1);
    // Not cached as a success, and no backoff without a token to serve: tried again.
    assert!(s.access_token().is_err());
    assert_eq!(mock.stats().authenticate, 2);
}

#[test]
fn rotation_calls_back_before_the_token_is_handed_out() {
    let mock = MockServer::start();
    mock.configure(json!({"rotate": true, "tokenLifetimeS": 2}))
        .unwrap();
    let s = session(&mock, "c-200");
    let original = s.refresh_token();
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    {
        let seen = seen.clone();
        let calls = calls.clone();
        s.on_refresh_token(Some(Arc::new(
            move |company: &str, token: &alfaview_auth::Secret| {
                calls.fetch_add(1, Ordering::SeqCst);
                seen.lock()
                    .unwrap()
                    .push((company.to_owned(), token.expose().to_owned()));
            },
        )));
    }
    for round in 1..=3 {
        s.access_token().unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            round,
            "one callback per rotation"
        );
        let (company, token) = seen.lock().unwrap().last().unwrap().clone();
        assert_eq!(company, "c-200");
        assert_eq!(token, s.refresh_token().expose());
        // A 2 s token is renewed half-way.
        std::thread::sleep(Duration::from_millis(1100));
    }
    assert_eq!(mock.stats().refreshes, 3);
    // The first token was rotated away: the mock now rejects it.
    let client = client_for(&mock, Duration::from_secs(5));
    let err = client.refresh("c-200", original.expose()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    let valid: Vec<_> = mock
        .refresh_tokens()
        .into_iter()
        .filter(|t| t.valid)
        .collect();
    assert_eq!(valid.len(), 1);
    assert_eq!(valid[0].token, s.refresh_token().expose());
}

#[test]
fn a_server_clock_an_hour_off_causes_no_storm_and_no_stale_token() {
    for offset in [3600i64, -3600] {
        let mock = MockServer::start();
        mock.configure(json!({"clockOffsetS": offset, "tokenLifetimeS": 600}))
            .unwrap();
        let s = session(&mock, "c-100");
        for _ in 0..100 {
            s.access_token().unwrap();
        }
        assert_eq!(mock.stats().authenticate, 1, "offset {offset}");
        // The token is one the mock accepts.
        s.call("authenticationService/isAuthenticated", None)
            .unwrap();
        assert_eq!(mock.stats().authenticate, 1, "offset {offset}");
    }
}

#[test]
fn short_tokens_are_renewed_half_way() {
    let mock = MockServer::start();
    mock.configure(json!({"tokenLifetimeS": 2})).unwrap();
    let s = session(&mock, "c-100");
    let (a, _) = s.access_token().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(s.access_token().unwrap().0, a);
    std::thread::sleep(Duration::from_millis(700));
    assert_ne!(s.access_token().unwrap().0, a);
    assert_eq!(mock.stats().refreshes, 2);
}

#[test]
fn a_failing_refresh_serves_the_valid_cached_token_and_backs_off() {
    let mock = MockServer::start();
    mock.configure(json!({"tokenLifetimeS": 4})).unwrap();
    // No retries, so each renewal attempt is one request.
    let client = Client::builder()
        .base_url(&mock.base_url())
        .unwrap()
        .max_retries(0)
        .build()
        .unwrap();
    let s = Session::new(Some(&client), "c-100", &mock.mint_refresh_token("c-100")).unwrap();
    s.set_refresh_margin(Duration::from_secs(3));
    let (a, _) = s.access_token().unwrap();
    // Half-way (2 s) the refresh is due; the server is failing.
    mock.configure(json!({"fault": {"kind": "status", "status": 503}}))
        .unwrap();
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(s.access_token().unwrap().0, a, "the cached token is served");
    let attempts = mock.stats().authenticate;
    assert_eq!(attempts, 2);
    for _ in 0..50 {
        assert_eq!(s.access_token().unwrap().0, a);
    }
    assert_eq!(
        mock.stats().authenticate,
        attempts,
        "backing off, not hammering"
    );
    // Once it has expired, the error comes through.
    std::thread::sleep(Duration::from_millis(2100));
    let err = s.access_token().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Http, "{err}");
    // And when the server recovers, so does the session.
    mock.configure(json!({"fault": null})).unwrap();
    assert_ne!(s.access_token().unwrap().0, a);
}

#[test]
fn waiters_give_up_with_the_clients_timeout() {
    let mock = MockServer::start();
    let client = client_for(&mock, Duration::from_millis(400));
    let token = mock.mint_refresh_token("c-100");
    let s = Session::new(Some(&client), "c-100", &token).unwrap();
    mock.configure(json!({"fault": {"kind": "hang"}})).unwrap();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let err = s.access_token().unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
            });
        }
    });
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn token_outdated_is_renewed_and_retried_once() {
    let mock = MockServer::start();
    let s = session(&mock, "c-100");
    s.access_token().unwrap();
    for shape in ["gateway", "reply"] {
        mock.configure(json!({"errorShape": shape})).unwrap();
        mock.expire_access_tokens();
        let before = mock.stats();
        let reply = s
            .call("roomService/create", Some(r#"{"room": {}}"#))
            .unwrap();
        assert!(reply.contains("\"request\""), "{reply}");
        let after = mock.stats();
        assert_eq!(after.refreshes - before.refreshes, 1, "{shape}");
        assert_eq!(after.calls - before.calls, 2, "{shape}");
    }
    // Outdated twice in a row: returned to the caller after one retry.
    mock.configure(json!({"fault": {"kind": "error200", "apiStatus": "TOKEN_OUTDATED", "path": "roomService", "count": 2}}))
        .unwrap();
    let before = mock.stats();
    let err = s.call("roomService/create", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenExpired);
    let after = mock.stats();
    assert_eq!(after.calls - before.calls, 2);
    assert_eq!(after.refreshes - before.refreshes, 1);
}

#[test]
fn the_session_keeps_its_client_alive() {
    let mock = MockServer::start();
    let token = mock.mint_refresh_token("c-100");
    let s = {
        let client = client_for(&mock, Duration::from_secs(5));
        Session::new(Some(&client), "c-100", &token).unwrap()
    };
    s.access_token().unwrap();
    assert!(Session::new(None, "", "x").is_err());
    assert!(Session::new(None, "c", "a b").is_err());
}

#[test]
fn asking_for_a_token_inside_the_rotation_callback_fails_at_once() {
    let mock = MockServer::start();
    mock.configure(json!({"rotate": true})).unwrap();
    let s = session(&mock, "c-100");
    let inner_result: Arc<Mutex<Option<alfaview_auth::Error>>> = Arc::default();
    {
        let s2 = s.clone();
        let inner_result = inner_result.clone();
        s.on_refresh_token(Some(Arc::new(move |_: &str, _: &alfaview_auth::Secret| {
            *inner_result.lock().unwrap() = s2.access_token().err();
        })));
    }
    let start = Instant::now();
    s.access_token().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let err = inner_result
        .lock()
        .unwrap()
        .clone()
        .expect("the inner call failed");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("callback"), "{err}");
    // The callback holds a clone of the session: remove it so both can be dropped.
    s.on_refresh_token(None);
}
