//! The token store with sessions: rotated tokens saved under the lock, shared between
//! sessions that stand for separate processes, surviving a restart.

use alfaview_auth::store::{FileStore, Pair, PairStore};
use alfaview_auth::{Client, ErrorKind, Session};
use alfaview_mock::MockServer;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("av-store-it-{name}-{}", std::process::id()))
}

fn client_for(mock: &MockServer) -> Client {
    Client::builder()
        .base_url(&mock.base_url())
        .unwrap()
        .timeout(Duration::from_secs(5))
        .unwrap()
        .build()
        .unwrap()
}

#[test]
fn a_rotated_token_is_saved_and_survives_a_restart() {
    let mock = MockServer::start();
    mock.configure(json!({"rotate": true})).unwrap();
    let dir = temp_dir("restart");
    let store = Arc::new(FileStore::new(&dir, "app").unwrap());
    let first = mock.mint_refresh_token("c-100");
    store.save(&Pair::new("c-100", &first).unwrap()).unwrap();
    let client = client_for(&mock);
    {
        let s = Session::with_store(Some(&client), store.clone()).unwrap();
        s.access_token().unwrap();
        let saved = store.load().unwrap().unwrap();
        assert_ne!(saved.refresh_token.expose(), first);
        assert_eq!(saved.refresh_token, s.refresh_token());
    }
    // "Restart": a new session from the store works with the saved token.
    let s = Session::with_store(Some(&client), store.clone()).unwrap();
    s.access_token().unwrap();
    assert_eq!(mock.stats().refresh_failures, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nothing_stored_is_not_found() {
    let dir = temp_dir("empty");
    let store = Arc::new(FileStore::new(&dir, "nothing-here").unwrap());
    let err = Session::with_store(None, store).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Four sessions, each with its own store object and connection, as four processes
/// would have, share one entry through several expiries with rotation on.
#[test]
fn sessions_sharing_an_entry_never_use_a_stale_token() {
    let mock = MockServer::start();
    mock.configure(json!({"rotate": true, "tokenLifetimeS": 1}))
        .unwrap();
    let dir = temp_dir("shared");
    let first = mock.mint_refresh_token("c-200");
    FileStore::new(&dir, "shared")
        .unwrap()
        .save(&Pair::new("c-200", &first).unwrap())
        .unwrap();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let store = Arc::new(FileStore::new(&dir, "shared").unwrap());
                let s = Session::with_store(Some(&client_for(&mock)), store).unwrap();
                let end = Instant::now() + Duration::from_millis(3500);
                while Instant::now() < end {
                    s.access_token().unwrap();
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        }
    });
    let stats = mock.stats();
    assert_eq!(stats.refresh_failures, 0, "{stats:?}");
    assert!(stats.refreshes >= 8, "several expiries: {stats:?}");
    let valid: Vec<_> = mock
        .refresh_tokens()
        .into_iter()
        .filter(|t| t.valid)
        .collect();
    assert_eq!(valid.len(), 1);
    let stored = FileStore::new(&dir, "shared")
        .unwrap()
        .load()
        .unwrap()
        .unwrap();
    assert_eq!(stored.refresh_token.expose(), valid[0].token);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_deleted_entry_stops_renewal_with_not_found() {
    let mock = MockServer::start();
    mock.configure(json!({"tokenLifetimeS": 1})).unwrap();
    let dir = temp_dir("deleted");
    let store = Arc::new(FileStore::new(&dir, "app").unwrap());
    store
        .save(&Pair::new("c-100", &mock.mint_refresh_token("c-100")).unwrap())
        .unwrap();
    let s = Session::with_store(Some(&client_for(&mock)), store.clone()).unwrap();
    s.access_token().unwrap();
    store.delete().unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let err = s.access_token().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
