//! The OS credential store against a real Secret Service. `tests/os-store.sh` runs this
//! inside a private D-Bus session with an unlocked GNOME Keyring; without a session bus
//! the test says it was skipped, and why.

use alfaview_auth::store::{self, OsStore, Pair, PairStore};
use alfaview_auth::{Client, Session};
use alfaview_mock::MockServer;
use serde_json::json;
use std::time::Duration;

#[test]
fn the_secret_service_keeps_the_pair() {
    // Never touch a developer's own keyring (it may be locked and prompt): only the
    // private session that tests/os-store.sh sets up.
    if std::env::var_os("ALFAVIEW_TEST_OS_STORE").is_none() {
        println!("SKIPPED: the OS store test runs only in the private keyring session of tests/os-store.sh (make test runs it)");
        return;
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        println!("SKIPPED: no D-Bus session bus here, so no Secret Service");
        return;
    }
    let app_id = format!("av-os-test-{}", std::process::id());
    let os = match OsStore::new(&app_id) {
        Ok(os) => os,
        Err(e) => panic!("a session bus is here but the Secret Service is not usable: {e}"),
    };
    assert!(
        os.describe().contains("Secret Service"),
        "{}",
        os.describe()
    );
    assert!(os.load().unwrap().is_none());
    let a = Pair::new("c-100", "token-a").unwrap();
    os.save(&a).unwrap();
    assert_eq!(os.load().unwrap().unwrap(), a);
    let b = Pair::new("c-200", "token-b").unwrap();
    os.save(&b).unwrap();
    assert_eq!(os.load().unwrap().unwrap(), b);
    os.delete().unwrap();
    assert!(os.load().unwrap().is_none());
    os.delete().unwrap();

    // Unset ALFAVIEW_TOKEN_STORE: the OS store is chosen, and a session renews through it,
    // saving the rotated token there.
    assert!(std::env::var_os(store::ENV_TOKEN_STORE).is_none());
    let mock = MockServer::start();
    mock.configure(json!({"rotate": true})).unwrap();
    let first = mock.mint_refresh_token("c-100");
    store::save(&app_id, "c-100", &first).unwrap();
    assert!(store::open(&app_id)
        .unwrap()
        .describe()
        .contains("Secret Service"));
    let client = Client::builder()
        .base_url(&mock.base_url())
        .unwrap()
        .timeout(Duration::from_secs(5))
        .unwrap()
        .build()
        .unwrap();
    let s = Session::from_store(Some(&client), &app_id).unwrap();
    s.access_token().unwrap();
    let saved = store::load(&app_id).unwrap();
    assert_ne!(saved.refresh_token.expose(), first);
    assert_eq!(saved.refresh_token, s.refresh_token());
    store::delete(&app_id).unwrap();
    println!("the Secret Service store passed: round trip, overwrite, delete, session rotation");
}
