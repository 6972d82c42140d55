//! Shared server state: config, tokens, counters, the last request. Every control
//! operation (HTTP endpoint or lib API) goes through the methods here.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::{HeaderMap, Method};
use serde_json::{json, Value};

use crate::config::{
    builtin_api_keys, builtin_users, ApiStatus, Config, Fault, Knobs, ACCOUNT_STATUS_ERROR,
    AUTHENTICATION_ERROR, PROTOCOL_ERROR,
};
use crate::{RecordedRequest, RefreshTokenInfo, Stats};

/// Who a token was issued to.
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub user_id: Arc<str>,
    pub company_id: Arc<str>,
    pub accounts: Arc<[String]>,
}

struct AccessRec {
    company_id: Arc<str>,
    valid_until: Instant,
}

struct RefreshRec {
    token: String,
    identity: Identity,
    valid_until: Instant,
    revoked: bool,
}

impl RefreshRec {
    fn valid(&self, now: Instant) -> bool {
        !self.revoked && now < self.valid_until
    }
}

/// Config and tokens, behind one mutex held only briefly (never across an await).
pub(crate) struct State {
    pub config: Config,
    builtin_users: Vec<crate::config::User>,
    builtin_keys: Vec<crate::config::ApiKey>,
    /// Access tokens in two generations, so that memory stays bounded under load:
    /// when `access` reaches [`ACCESS_GENERATION`] entries it becomes `access_old`
    /// and the previous old generation is forgotten.
    access: HashMap<[u8; 32], AccessRec>,
    access_old: HashMap<[u8; 32], AccessRec>,
    refresh_index: HashMap<String, usize>,
    refresh: Vec<RefreshRec>,
    /// When `refresh` reaches this length, revoked and expired tokens are pruned.
    prune_at: usize,
}

/// Access tokens per generation: at least this many of the newest are always kept.
#[cfg(not(test))]
const ACCESS_GENERATION: usize = 1 << 19;
#[cfg(test)]
const ACCESS_GENERATION: usize = 4;
/// Refresh tokens kept before revoked and expired ones are pruned from the list.
#[cfg(not(test))]
const MIN_PRUNE: usize = 100_000;
#[cfg(test)]
const MIN_PRUNE: usize = 4;

impl State {
    fn new() -> State {
        State {
            config: Config::default(),
            builtin_users: builtin_users(),
            builtin_keys: builtin_api_keys(),
            access: HashMap::new(),
            access_old: HashMap::new(),
            refresh_index: HashMap::new(),
            refresh: Vec::new(),
            prune_at: MIN_PRUNE,
        }
    }

    fn deadline(now: Instant, lifetime_s: i64) -> Instant {
        if lifetime_s <= 0 {
            now
        } else {
            now.checked_add(Duration::from_secs(lifetime_s as u64))
                .unwrap_or(now + Duration::from_secs(100 * 366 * 86_400))
        }
    }

    /// Username/password sign-in: the identity, or the error to reply with.
    pub(crate) fn check_password(
        &self,
        username: &str,
        password: &str,
        company: Option<&str>,
    ) -> Result<Identity, (&'static ApiStatus, &'static str)> {
        let user = self
            .config
            .users
            .iter()
            .chain(self.builtin_users.iter())
            .find(|u| u.username == username);
        let user = match user {
            Some(u) if u.password == password => u,
            _ => return Err((&AUTHENTICATION_ERROR, "wrong username or password")),
        };
        if user.locked {
            return Err((&ACCOUNT_STATUS_ERROR, "account is locked"));
        }
        let company = match company {
            None => user.companies[0].as_str(),
            Some(c) if user.companies.iter().any(|uc| uc == c) => c,
            Some(_) => {
                return Err((
                    &AUTHENTICATION_ERROR,
                    "user is not a member of that company",
                ))
            }
        };
        Ok(Identity {
            user_id: user.user_id.clone(),
            company_id: company.into(),
            accounts: user.companies.clone(),
        })
    }

    /// API-key sign-in.
    pub(crate) fn check_api_key(
        &self,
        client_id: &str,
        code: &str,
        company: &str,
    ) -> Result<Identity, (&'static ApiStatus, &'static str)> {
        let key = self
            .config
            .api_keys
            .iter()
            .chain(self.builtin_keys.iter())
            .find(|k| k.client_id == client_id);
        let key = match key {
            Some(k) if k.secret == code => k,
            _ => return Err((&AUTHENTICATION_ERROR, "wrong API key or secret")),
        };
        if key.company_id != company {
            return Err((
                &AUTHENTICATION_ERROR,
                "API key does not belong to that company",
            ));
        }
        Ok(Identity {
            user_id: key.user_id.clone(),
            company_id: company.into(),
            accounts: Arc::from(vec![company.to_string()]),
        })
    }

    /// Refresh-token sign-in: the identity of a valid token for `company`.
    pub(crate) fn check_refresh(
        &self,
        token: Option<&str>,
        company: &str,
        now: Instant,
    ) -> Result<(usize, Identity), (&'static ApiStatus, &'static str)> {
        let Some(token) = token else {
            return Err((&AUTHENTICATION_ERROR, "no auth cookie"));
        };
        let Some(&idx) = self.refresh_index.get(token) else {
            return Err((&AUTHENTICATION_ERROR, "unknown refresh token"));
        };
        let rec = &self.refresh[idx];
        if !rec.valid(now) {
            return Err((&AUTHENTICATION_ERROR, "refresh token expired or revoked"));
        }
        if &*rec.identity.company_id != company {
            return Err((
                &AUTHENTICATION_ERROR,
                "refresh token belongs to another company",
            ));
        }
        Ok((idx, rec.identity.clone()))
    }

    pub(crate) fn revoke_refresh(&mut self, idx: usize) {
        self.refresh[idx].revoked = true;
    }

    pub(crate) fn add_access(&mut self, token: [u8; 32], identity: &Identity, now: Instant) {
        if self.access.len() >= ACCESS_GENERATION {
            let next = HashMap::with_capacity(ACCESS_GENERATION);
            self.access_old = std::mem::replace(&mut self.access, next);
        }
        let valid_until = State::deadline(now, self.config.knobs.token_lifetime_s);
        self.access.insert(
            token,
            AccessRec {
                company_id: identity.company_id.clone(),
                valid_until,
            },
        );
    }

    pub(crate) fn add_refresh(&mut self, token: String, identity: &Identity, now: Instant) {
        if self.refresh.len() >= self.prune_at {
            self.refresh.retain(|r| r.valid(now));
            self.refresh_index = (self.refresh.iter().enumerate())
                .map(|(i, r)| (r.token.clone(), i))
                .collect();
            self.prune_at = (self.refresh.len() * 2).max(MIN_PRUNE);
        }
        let valid_until = State::deadline(now, self.config.knobs.refresh_lifetime_s);
        self.refresh_index.insert(token.clone(), self.refresh.len());
        self.refresh.push(RefreshRec {
            token,
            identity: identity.clone(),
            valid_until,
            revoked: false,
        });
    }

    /// The company of a valid access token.
    pub(crate) fn check_access(&self, token: &[u8; 32], now: Instant) -> Option<Arc<str>> {
        match self
            .access
            .get(token)
            .or_else(|| self.access_old.get(token))
        {
            Some(rec) if now < rec.valid_until => Some(rec.company_id.clone()),
            _ => None,
        }
    }

    /// If the config has a fault for `path`, take one use of it.
    fn take_fault(&mut self, path: &str) -> Option<Fault> {
        let fault = self.config.fault.as_mut()?;
        if let Some(p) = &fault.path {
            if !path.contains(p.as_str()) {
                return None;
            }
        }
        let taken = fault.clone();
        match &mut fault.count {
            Some(1) => self.config.fault = None,
            Some(n) => *n -= 1,
            None => {}
        }
        Some(taken)
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub authenticate: AtomicU64,
    pub logins: AtomicU64,
    pub refreshes: AtomicU64,
    pub refresh_failures: AtomicU64,
    pub calls: AtomicU64,
    pub faults: AtomicU64,
    pub connections: AtomicU64,
}

impl Counters {
    fn all(&self) -> [&AtomicU64; 8] {
        [
            &self.requests,
            &self.authenticate,
            &self.logins,
            &self.refreshes,
            &self.refresh_failures,
            &self.calls,
            &self.faults,
            &self.connections,
        ]
    }
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

/// A raw request under /json/v1/, turned into a [`RecordedRequest`] only on demand.
pub(crate) struct Recorded {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    pub counters: Counters,
    last: Mutex<Option<Recorded>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not wedge the mock: the state stays usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn new() -> Shared {
        Shared {
            state: Mutex::new(State::new()),
            counters: Counters::default(),
            last: Mutex::new(None),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub(crate) fn knobs(&self) -> Knobs {
        self.state().config.knobs
    }

    /// The knobs for a /json/v1/ request, and the fault to apply to it, if any.
    pub(crate) fn begin_request(&self, path: &str) -> (Knobs, Option<Fault>) {
        let mut st = self.state();
        let fault = st.take_fault(path);
        if fault.is_some() {
            bump(&self.counters.faults);
        }
        (st.config.knobs, fault)
    }

    pub(crate) fn record(&self, rec: Recorded) {
        *lock(&self.last) = Some(rec);
    }

    pub(crate) fn configure(&self, patch: &Value) -> Result<Value, String> {
        let mut st = self.state();
        let mut cfg = st.config.clone();
        cfg.apply_patch(patch)?;
        st.config = cfg;
        Ok(st.config.to_json())
    }

    pub(crate) fn config_json(&self) -> Value {
        self.state().config.to_json()
    }

    pub(crate) fn reset(&self) {
        *self.state() = State::new();
        for c in self.counters.all() {
            c.store(0, Relaxed);
        }
        *lock(&self.last) = None;
    }

    pub(crate) fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            requests: c.requests.load(Relaxed),
            authenticate: c.authenticate.load(Relaxed),
            logins: c.logins.load(Relaxed),
            refreshes: c.refreshes.load(Relaxed),
            refresh_failures: c.refresh_failures.load(Relaxed),
            calls: c.calls.load(Relaxed),
            faults: c.faults.load(Relaxed),
            connections: c.connections.load(Relaxed),
        }
    }

    pub(crate) fn last_request(&self) -> Option<RecordedRequest> {
        let last = lock(&self.last);
        let rec = last.as_ref()?;
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in &rec.headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            headers
                .entry(name.as_str().to_string())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert_with(|| value.into_owned());
        }
        let body = serde_json::from_slice(&rec.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&rec.body).into_owned()));
        Some(RecordedRequest {
            method: rec.method.as_str().to_string(),
            path: rec.path.clone(),
            headers,
            body,
        })
    }

    pub(crate) fn mint(&self, company_id: &str) -> String {
        let token = uuid::Uuid::new_v4().to_string();
        let mut st = self.state();
        let alice = st
            .builtin_users
            .iter()
            .find(|u| u.username == "alice")
            .expect("alice is built in");
        let accounts = if alice.companies.iter().any(|c| c == company_id) {
            alice.companies.clone()
        } else {
            Arc::from(vec![company_id.to_string()])
        };
        let identity = Identity {
            user_id: alice.user_id.clone(),
            company_id: company_id.into(),
            accounts,
        };
        st.add_refresh(token.clone(), &identity, Instant::now());
        token
    }

    /// Forget every access token (unknown and expired tokens get the same answer).
    pub(crate) fn expire_access_tokens(&self) -> usize {
        let mut st = self.state();
        let n = st.access.len() + st.access_old.len();
        st.access = HashMap::new();
        st.access_old = HashMap::new();
        n
    }

    pub(crate) fn refresh_tokens(&self) -> Vec<RefreshTokenInfo> {
        let now = Instant::now();
        self.state()
            .refresh
            .iter()
            .map(|r| RefreshTokenInfo {
                token: r.token.clone(),
                company_id: r.identity.company_id.to_string(),
                valid: r.valid(now),
            })
            .collect()
    }

    pub(crate) fn refresh_tokens_json(&self) -> Value {
        let list: Vec<Value> = self
            .refresh_tokens()
            .into_iter()
            .map(|t| json!({"token": t.token, "companyId": t.company_id, "valid": t.valid}))
            .collect();
        json!({ "refreshTokens": list })
    }
}

/// A protocol error that is not a credential check.
pub(crate) fn protocol_error(msg: &'static str) -> (&'static ApiStatus, &'static str) {
    (&PROTOCOL_ERROR, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident() -> Identity {
        Identity {
            user_id: "u".into(),
            company_id: "c".into(),
            accounts: Arc::from(vec!["c".to_string()]),
        }
    }

    #[test]
    fn access_tokens_are_kept_for_two_generations() {
        let mut st = State::new();
        let now = Instant::now();
        for i in 0..8u8 {
            st.add_access([i; 32], &ident(), now);
        }
        // Generations: [0..4) old, [4..8) current; one more drops [0..4).
        assert!(st.check_access(&[0; 32], now).is_some());
        st.add_access([8; 32], &ident(), now);
        assert!(st.check_access(&[0; 32], now).is_none());
        assert!(st.check_access(&[4; 32], now).is_some());
        assert!(st.check_access(&[8; 32], now).is_some());
    }

    #[test]
    fn revoked_refresh_tokens_are_pruned() {
        let mut st = State::new();
        let now = Instant::now();
        for i in 0..4 {
            st.add_refresh(format!("t{i}"), &ident(), now);
        }
        st.revoke_refresh(0);
        st.revoke_refresh(2);
        st.add_refresh("t4".into(), &ident(), now);
        let left: Vec<&str> = st.refresh.iter().map(|r| r.token.as_str()).collect();
        assert_eq!(left, ["t1", "t3", "t4"]);
        let (idx, _) = st.check_refresh(Some("t4"), "c", now).unwrap();
        assert_eq!(idx, 2);
        assert!(st.check_refresh(Some("t0"), "c", now).is_err());
    }
}
