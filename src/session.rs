//! A session: a company id and a refresh token that hand out a valid access token
//! whenever asked, renewing it only when needed — once, however many threads ask.
//!
//! - The cached path is a lock-free read of the published token (`arc-swap`: no lock, no
//!   shared counter written, so threads do not slow each other down), allocates nothing
//!   but the copy it returns, and makes no request.
//! - A due refresh runs on one thread (the "flight"); the others wait on a condition
//!   variable, bounded by the client's timeout, and all get the flight's result.
//! - Expiry is judged on the lifetime clock ([`crate::clock`]) from the lifetime the
//!   server intended, so neither a wrong local clock nor a suspend serves a stale token.
//! - A failed refresh while the cached token is still valid serves the cached token and
//!   backs off before the next attempt; once it has expired, the error is returned.
//! - A rotated refresh token is switched to, and the callback told, before the new access
//!   token is handed out, outside every internal lock.

use crate::callback::CallbackSlot;
use crate::client::{self, Client};
use crate::clock::Instant;
use crate::error::{Error, ErrorKind, Result};
use crate::log::{self, Level};
use crate::secret::Secret;
use crate::store::{self, Pair, PairStore};
use crate::timestamp;
use arc_swap::ArcSwapOption;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long before expiry a token is renewed, unless set otherwise.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// The longest pause between attempts while a still-valid token is served.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How much longer than the client's timeout a waiter waits for another thread's refresh.
const WAIT_SLACK: Duration = Duration::from_secs(1);

/// Told `(company_id, new_refresh_token)` when the server rotates the refresh token, on
/// the thread that refreshed, before the new access token is handed out.
pub type RefreshTokenCallback = Arc<RefreshTokenFn>;
/// The function behind a [`RefreshTokenCallback`].
pub type RefreshTokenFn = dyn Fn(&str, &Secret) + Send + Sync;

/// An access token that keeps itself fresh. Cheap to clone (clones share the token),
/// safe to use from many threads at once.
///
/// ```
/// use alfaview_auth::{Client, Session};
/// use std::sync::Arc;
/// # let mock = alfaview_mock::MockServer::start();
/// # mock.configure(serde_json::json!({"rotate": true})).unwrap();
/// # let refresh_token = mock.mint_refresh_token("c-100");
///
/// let client = Client::builder().base_url(&mock.base_url())?.build()?;
/// let session = Session::new(Some(&client), "c-100", &refresh_token)?;
/// session.on_refresh_token(Some(Arc::new(|company_id: &str, new_token: &alfaview_auth::Secret| {
///     // The server rotated the refresh token: persist `new_token` now.
/// })));
/// let (token, expires_at) = session.access_token()?;   // one request
/// let (again, _) = session.access_token()?;            // from the cache, no request
/// assert_eq!(token, again);
/// # Ok::<(), alfaview_auth::Error>(())
/// ```
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    company_id: String,
    refresh_token: Mutex<Secret>,
    margin_s: AtomicU32,
    cache: ArcSwapOption<Cached>,
    flight: Mutex<Flight>,
    flight_done: Condvar,
    on_rotate: CallbackSlot<RefreshTokenFn>,
    /// Where the pair is shared with other processes, if anywhere.
    store: Option<Arc<dyn PairStore>>,
    /// A rotated refresh token that the store failed to save: newer than the stored one,
    /// so it is saved before anything is read from the store again.
    unsaved: std::sync::atomic::AtomicBool,
}

struct Cached {
    access_token: Secret,
    received_at: Instant,
    lifetime: Duration,
    /// The expiry on the local wall clock: arrival time plus the intended lifetime.
    expires_unix: i64,
}

impl Cached {
    fn expires(&self) -> Instant {
        self.received_at.saturating_add(self.lifetime)
    }

    /// When to renew: `margin` before expiry, or half-way for tokens living less than
    /// twice the margin.
    fn refresh_due(&self, margin: Duration) -> Instant {
        let margin = if self.lifetime < margin * 2 {
            self.lifetime / 2
        } else {
            margin
        };
        self.received_at.saturating_add(self.lifetime - margin)
    }
}

#[derive(Default)]
struct Flight {
    running: bool,
    /// Completed flights so far.
    generation: u64,
    /// The error of the last completed flight, `None` if it succeeded.
    last_error: Option<Error>,
    /// Failures in a row, for the backoff.
    failures: u32,
    /// No new attempt before this while a valid token can be served.
    retry_after: Option<Instant>,
}

impl Session {
    /// A session for `company_id` with `refresh_token` on `client` (`None`: the
    /// process-wide default client). Nothing is sent until a token is asked for.
    pub fn new(client: Option<&Client>, company_id: &str, refresh_token: &str) -> Result<Session> {
        let pair = Pair::new(company_id, refresh_token)?;
        Session::build(client, pair, None)
    }

    /// A session on the pair stored for `app_id` (see [`crate::store`]). Each renewal
    /// takes the entry's lock, re-reads the stored pair (another process may have rotated
    /// it), and saves a rotated refresh token before releasing the lock, so processes
    /// sharing the app id never use a stale refresh token or lose a new one.
    pub fn from_store(client: Option<&Client>, app_id: &str) -> Result<Session> {
        Session::with_store(client, store::open(app_id)?)
    }

    /// Like [`Session::from_store`] with any [`PairStore`] (e.g. one shared by a fleet).
    pub fn with_store(client: Option<&Client>, store: Arc<dyn PairStore>) -> Result<Session> {
        let pair = store.load()?.ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("no refresh token is stored in the {}", store.describe()),
            )
        })?;
        Session::build(client, pair, Some(store))
    }

    fn build(
        client: Option<&Client>,
        pair: Pair,
        store: Option<Arc<dyn PairStore>>,
    ) -> Result<Session> {
        let client = match client {
            Some(c) => c.clone(),
            None => Client::shared()?,
        };
        let Pair {
            company_id,
            refresh_token,
        } = pair;
        Ok(Session {
            inner: Arc::new(Inner {
                client,
                company_id,
                refresh_token: Mutex::new(refresh_token),
                margin_s: AtomicU32::new(DEFAULT_REFRESH_MARGIN.as_secs() as u32),
                cache: ArcSwapOption::const_empty(),
                flight: Mutex::new(Flight::default()),
                flight_done: Condvar::new(),
                on_rotate: CallbackSlot::new(),
                store,
                unsaved: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    /// The company this session is for.
    pub fn company_id(&self) -> &str {
        &self.inner.company_id
    }

    /// The refresh token to keep: the newest the server issued.
    pub fn refresh_token(&self) -> Secret {
        lock(&self.inner.refresh_token).clone()
    }

    /// Renew tokens this long before they expire (default 60 s; tokens living less than
    /// twice the margin are renewed half-way).
    pub fn set_refresh_margin(&self, margin: Duration) {
        let secs = u32::try_from(margin.as_secs()).unwrap_or(u32::MAX);
        self.inner.margin_s.store(secs, Ordering::Relaxed);
    }

    /// Calls `callback(company_id, new_refresh_token)` whenever the server rotates the
    /// refresh token (`None` removes it). Returns once no call of the previous callback is
    /// under way on another thread. Keep it quick: other threads wait for the renewal
    /// (at most the client's timeout plus a second) while it runs.
    pub fn on_refresh_token(&self, callback: Option<RefreshTokenCallback>) {
        self.inner.on_rotate.set(callback);
    }

    /// A valid access token and its expiry (Unix seconds on the local clock: when the
    /// reply arrived plus the lifetime the server intended).
    pub fn access_token(&self) -> Result<(Secret, i64)> {
        self.with_access_token(|token, expires| (Secret::from(token), expires))
    }

    /// Hands a valid access token and its expiry to `f` without copying it.
    pub fn with_access_token<R>(&self, f: impl FnOnce(&str, i64) -> R) -> Result<R> {
        {
            let cache = self.inner.cache.load();
            if let Some(c) = cache.as_ref() {
                if Instant::now() < c.refresh_due(self.margin()) {
                    return Ok(f(c.access_token.expose(), c.expires_unix));
                }
            }
        }
        let cached = self.refresh_or_wait()?;
        Ok(f(cached.access_token.expose(), cached.expires_unix))
    }

    /// Calls `service_method` with the session's access token, like [`Client::call`]. On
    /// `TOKEN_OUTDATED` the token is dropped, renewed once and the call retried once; a
    /// second `TOKEN_OUTDATED` is returned.
    pub fn call(&self, service_method: &str, json_body: Option<&str>) -> Result<String> {
        client::check_service_method(service_method)?;
        let (token, _) = self.access_token()?;
        match self
            .inner
            .client
            .call(token.expose(), service_method, json_body)
        {
            Err(e) if e.kind() == ErrorKind::TokenExpired => {
                log::log(Level::Info, || {
                    format!("{service_method}: the server says the access token has expired; renewing it and retrying once")
                });
                self.drop_token(&token);
                let (token, _) = self.access_token()?;
                self.inner
                    .client
                    .call(token.expose(), service_method, json_body)
            }
            other => other,
        }
    }

    /// Identifies the session among those this thread is renewing.
    fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    fn margin(&self) -> Duration {
        Duration::from_secs(self.inner.margin_s.load(Ordering::Relaxed).into())
    }

    /// Forgets `used` if it is still the cached token (the server rejected it).
    fn drop_token(&self, used: &Secret) {
        self.inner.cache.rcu(|cache| match cache {
            Some(c) if &c.access_token == used => None,
            other => other.clone(),
        });
    }

    fn cached(&self) -> Option<Arc<Cached>> {
        self.inner.cache.load_full()
    }

    /// The slow path: renew the token, or wait for the thread that is renewing it.
    fn refresh_or_wait(&self) -> Result<Arc<Cached>> {
        let inner = &*self.inner;
        let mut flight = lock(&inner.flight);
        loop {
            let now = Instant::now();
            let cached = self.cached();
            if let Some(c) = &cached {
                if now < c.refresh_due(self.margin()) {
                    return Ok(c.clone());
                }
                if flight.retry_after.is_some_and(|t| now < t) && now < c.expires() {
                    return Ok(c.clone());
                }
            }
            if !flight.running {
                break;
            }
            if RENEWING.with(|r| r.borrow().contains(&self.id())) {
                return Err(Error::invalid_argument(
                    "s",
                    "a token was asked for from inside this session's refresh-token callback; the new token is handed out when the callback returns",
                ));
            }
            // Another thread is renewing: wait for its result, within the timeout.
            let generation = flight.generation;
            let deadline = now.saturating_add(inner.client.timeout() + WAIT_SLACK);
            while flight.running && flight.generation == generation {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "waited {} ms for another thread's refresh of the access token",
                            (inner.client.timeout() + WAIT_SLACK).as_millis()
                        ),
                    ));
                }
                flight = inner
                    .flight_done
                    .wait_timeout(flight, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            if let Some(err) = &flight.last_error {
                // The flight failed: its error, unless a valid token can still be served.
                return match self.cached() {
                    Some(c) if Instant::now() < c.expires() => Ok(c),
                    _ => Err(err.clone()),
                };
            }
            // It succeeded: loop to pick up the new token.
        }

        flight.running = true;
        drop(flight);
        RENEWING.with(|r| r.borrow_mut().push(self.id()));
        let mut guard = FlightGuard {
            inner,
            id: self.id(),
            result: None,
        };
        let outcome = self.renew();
        guard.result = Some(match &outcome {
            Ok(renewed) => renewed.save_error.clone().map_or(Ok(()), Err),
            Err(e) => Err(e.clone()),
        });
        drop(guard);

        match outcome {
            // The access token is good (and cached), but the rotated refresh token is not
            // persisted: the caller must know.
            Ok(Renewed {
                save_error: Some(e),
                ..
            }) => Err(e),
            Ok(renewed) => Ok(renewed.cached),
            Err(err) => match self.cached() {
                Some(c) if Instant::now() < c.expires() => {
                    log::log(Level::Warn, || {
                        format!(
                            "renewing the access token for company {} failed ({err}); using the cached one, valid for {} s more",
                            inner.company_id,
                            c.expires().saturating_duration_since(Instant::now()).as_secs()
                        )
                    });
                    Ok(c)
                }
                _ => Err(err),
            },
        }
    }

    /// One refresh: switch to a rotated refresh token (saving it to the store, if any,
    /// under the store's lock) and tell the callback, then publish the new access token.
    fn renew(&self) -> Result<Renewed> {
        let inner = &*self.inner;
        let _store_lock = match &inner.store {
            Some(store) => Some(store.lock(inner.client.timeout() + WAIT_SLACK)?),
            None => None,
        };
        if let Some(store) = &inner.store {
            if inner.unsaved.load(Ordering::Acquire) {
                store.save(&self.current_pair())?;
                inner.unsaved.store(false, Ordering::Release);
            } else {
                self.adopt_stored_pair(&**store)?;
            }
        }
        let used = lock(&inner.refresh_token).clone();
        log::log(Level::Debug, || {
            format!("renewing the access token for company {}", inner.company_id)
        });
        let tokens = inner.client.refresh(&inner.company_id, used.expose())?;
        let mut save_error = None;
        if tokens.refresh_token_rotated() {
            if let Some(new) = tokens.refresh_token() {
                *lock(&inner.refresh_token) = new.clone();
                log::log(Level::Info, || {
                    format!(
                        "the server rotated the refresh token for company {}",
                        inner.company_id
                    )
                });
                if let Some(store) = &inner.store {
                    if let Err(e) = store.save(&self.current_pair()) {
                        log::log(Level::Error, || {
                            format!("the rotated refresh token could not be saved (it is kept in memory and saved at the next renewal): {e}")
                        });
                        inner.unsaved.store(true, Ordering::Release);
                        save_error = Some(e);
                    }
                }
                inner
                    .on_rotate
                    .call(|callback| callback(&inner.company_id, new));
            }
        }
        let received_unix = timestamp::now_unix() - tokens.received_at().elapsed().as_secs() as i64;
        let cached = Arc::new(Cached {
            access_token: tokens.access_token().clone(),
            received_at: tokens.received_at(),
            lifetime: tokens.lifetime(),
            expires_unix: received_unix + tokens.lifetime().as_secs() as i64,
        });
        inner.cache.store(Some(cached.clone()));
        Ok(Renewed { cached, save_error })
    }

    fn current_pair(&self) -> Pair {
        Pair {
            company_id: self.inner.company_id.clone(),
            refresh_token: lock(&self.inner.refresh_token).clone(),
        }
    }

    /// Under the store's lock: takes the stored refresh token if another process has
    /// rotated it since.
    fn adopt_stored_pair(&self, store: &dyn PairStore) -> Result<()> {
        let inner = &*self.inner;
        let Some(pair) = store.load()? else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "the stored refresh token was deleted from the {}",
                    store.describe()
                ),
            ));
        };
        if pair.company_id != inner.company_id {
            return Err(Error::new(
                ErrorKind::Storage,
                format!(
                    "the {} now holds a refresh token for company {}, not {}",
                    store.describe(),
                    pair.company_id,
                    inner.company_id
                ),
            ));
        }
        let mut current = lock(&inner.refresh_token);
        if *current != pair.refresh_token {
            log::log(Level::Info, || {
                format!(
                    "another process rotated the refresh token for company {}; using the stored one",
                    inner.company_id
                )
            });
            *current = pair.refresh_token;
        }
        Ok(())
    }
}

/// A successful refresh, and whether saving a rotated refresh token failed.
struct Renewed {
    cached: Arc<Cached>,
    save_error: Option<Error>,
}

/// Ends a flight, even if the refresh panicked: records its outcome, sets the backoff,
/// and wakes the waiters.
struct FlightGuard<'a> {
    inner: &'a Inner,
    id: usize,
    result: Option<Result<()>>,
}

thread_local! {
    /// The sessions this thread is renewing right now (a refresh-token callback runs
    /// during a renewal and must not wait for it).
    static RENEWING: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        RENEWING.with(|r| {
            let mut r = r.borrow_mut();
            if let Some(i) = r.iter().rposition(|id| *id == self.id) {
                r.remove(i);
            }
        });
        let result = self.result.take().unwrap_or_else(|| {
            Err(Error::new(
                ErrorKind::Internal,
                "the refresh was interrupted by a panic",
            ))
        });
        let mut flight = lock(&self.inner.flight);
        flight.running = false;
        flight.generation += 1;
        match result {
            Ok(()) => {
                flight.last_error = None;
                flight.failures = 0;
                flight.retry_after = None;
            }
            Err(e) => {
                flight.failures = flight.failures.saturating_add(1);
                let backoff = Duration::from_secs(1u64 << flight.failures.min(6).saturating_sub(1))
                    .min(MAX_BACKOFF);
                flight.retry_after = Some(Instant::now().saturating_add(backoff));
                flight.last_error = Some(e);
            }
        }
        drop(flight);
        self.inner.flight_done.notify_all();
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("company_id", &self.inner.company_id)
            .field("client", &self.inner.client)
            .finish_non_exhaustive()
    }
}

// A panic while a lock was held leaves the data consistent here (every critical section
// is a plain read or assignment), so poisoning is ignored.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(lifetime_s: u64) -> Cached {
        Cached {
            access_token: Secret::from("t"),
            received_at: Instant::from_nanos(1_000_000_000_000),
            lifetime: Duration::from_secs(lifetime_s),
            expires_unix: 0,
        }
    }

    #[test]
    fn refresh_is_due_a_margin_before_expiry_or_half_way() {
        let start = Instant::from_nanos(1_000_000_000_000);
        let margin = Duration::from_secs(60);
        let c = cached(3600);
        assert_eq!(
            c.refresh_due(margin),
            start.saturating_add(Duration::from_secs(3540))
        );
        let c = cached(100);
        assert_eq!(
            c.refresh_due(margin),
            start.saturating_add(Duration::from_secs(50))
        );
        let c = cached(0);
        assert_eq!(c.refresh_due(margin), start);
        assert_eq!(c.expires(), start);
    }
}
