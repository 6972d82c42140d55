//! The commands, on the library's Rust API.

use crate::args::{Body, Global, Login, Refresh, Topic, UsageError};
use crate::cache::{now_unix, Cache, CacheLock};
use crate::error::CliError;
use crate::output::{prefix, print, print_json, rfc3339, when};
use crate::secret_input::{read_secret, Wanted};
use alfaview_auth::store::{self, Pair, PairStore};
use alfaview_auth::{Client, Error, ErrorKind, Secret, Session, Tokens, MAX_CALL_REPLY_BYTES};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

const ENV_USERNAME: &str = "ALFAVIEW_USERNAME";
const ENV_PASSWORD: &str = "ALFAVIEW_PASSWORD";
const ENV_API_KEY_ID: &str = "ALFAVIEW_API_KEY_ID";
const ENV_API_KEY_SECRET: &str = "ALFAVIEW_API_KEY_SECRET";
const ENV_COMPANY_ID: &str = "ALFAVIEW_COMPANY_ID";
const ENV_REFRESH_TOKEN: &str = "ALFAVIEW_REFRESH_TOKEN";

/// A non-empty environment variable (not a secret: those go through `read_secret`).
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Whether a secret's environment variable is set, without keeping an unwiped copy.
fn secret_env_is_set(name: &str) -> bool {
    match std::env::var_os(name) {
        Some(v) => {
            let mut bytes = v.into_encoded_bytes();
            let set = !bytes.is_empty();
            zeroize::Zeroize::zeroize(&mut bytes);
            set
        }
        None => false,
    }
}

/// What every command shares: the global options, and the client and cache made from them.
pub struct Ctx<'a> {
    pub global: &'a Global,
}

impl Ctx<'_> {
    fn app_id(&self) -> &str {
        &self.global.app_id
    }

    /// A client from the environment with the command line's settings on top.
    fn client(&self) -> Result<Client, CliError> {
        let g = self.global;
        let mut b = Client::builder();
        // The library names its own parameters; here they are command-line options.
        let rename = |e: Error, param: &str, option: &str| {
            Error::new(
                e.kind(),
                e.message().replace(
                    &format!("invalid argument '{param}'"),
                    &format!("invalid {option}"),
                ),
            )
        };
        if let Some(url) = &g.api_url {
            b.base_url(url).map_err(|e| rename(e, "url", "--api-url"))?;
        }
        if let Some(pem) = &g.ca_file {
            b.ca_file(pem)
                .map_err(|e| rename(e, "pem_path", "--ca-file"))?;
        }
        if let Some(ms) = g.timeout_ms {
            b.timeout(Duration::from_millis(ms.into()))?;
        }
        b.user_agent(concat!(
            "alfaview-auth-cli/",
            env!("CARGO_PKG_VERSION"),
            " alfaview-auth/",
            env!("CARGO_PKG_VERSION")
        ))?;
        Ok(b.build()?)
    }

    fn cache(&self) -> Option<Cache> {
        if self.global.no_cache {
            None
        } else {
            Cache::open(self.app_id())
        }
    }

    fn not_found(&self, store: &dyn PairStore) -> Error {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "no refresh token is saved for app {} ({})",
                self.app_id(),
                store.describe()
            ),
        )
    }
}

/// How long to wait for a lock another process holds while it renews.
fn lock_timeout(client: Option<&Client>) -> Duration {
    client.map_or(alfaview_auth::DEFAULT_TIMEOUT, Client::timeout) + Duration::from_secs(2)
}

fn lock_cache(cache: &Option<Cache>, client: Option<&Client>) -> Option<CacheLock> {
    cache.as_ref().and_then(|c| c.lock(lock_timeout(client)))
}

/// When `tokens`' access token expires on the local clock: arrival plus the lifetime
/// the server intended (what a session uses too).
fn local_expiry(tokens: &Tokens) -> i64 {
    now_unix() - tokens.received_at().elapsed().as_secs() as i64
        + tokens.lifetime().as_secs() as i64
}

/// Saves `pair` under the store's lock, and puts the new access token in the cache.
fn save_pair(
    ctx: &Ctx<'_>,
    client: &Client,
    store: &dyn PairStore,
    pair: &Pair,
    access: Option<(&Secret, i64)>,
) -> Result<(), CliError> {
    let cache = ctx.cache();
    let _cache_lock = lock_cache(&cache, Some(client));
    {
        let _store_lock = store.lock(lock_timeout(Some(client)))?;
        store.save(pair)?;
    }
    if let Some(cache) = &cache {
        match access {
            Some((token, expires)) => cache.write(
                client.base_url(),
                &pair.company_id,
                &pair.refresh_token,
                token,
                expires,
            ),
            None => cache.remove(),
        }
    }
    Ok(())
}

/// A valid access token for the stored pair: from the cache if it holds one for this
/// pair, else from a store-backed session (which renews under the store's lock and
/// saves a rotated refresh token). `force` skips the cache.
fn access_token(ctx: &Ctx<'_>, client: &Client, force: bool) -> Result<(Secret, i64), CliError> {
    let store = store::open(ctx.app_id())?;
    let cache = ctx.cache();
    let _cache_lock = lock_cache(&cache, Some(client));
    if let (Some(cache), false) = (&cache, force) {
        let pair = store.load()?.ok_or_else(|| ctx.not_found(&*store))?;
        if let Some(hit) = cache.read(client.base_url(), &pair) {
            return Ok(hit);
        }
    }
    let session = session_for(ctx, client, store)?;
    let (token, expires) = session.access_token()?;
    if let Some(cache) = &cache {
        cache.write(
            client.base_url(),
            session.company_id(),
            &session.refresh_token(),
            &token,
            expires,
        );
    }
    Ok((token, expires))
}

/// A session on the stored pair (as `Session::from_store`, with the store already open).
fn session_for(
    ctx: &Ctx<'_>,
    client: &Client,
    store: Arc<dyn PairStore>,
) -> Result<Session, CliError> {
    Session::with_store(Some(client), store.clone()).map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            ctx.not_found(&*store).into()
        } else {
            e.into()
        }
    })
}

enum LoginWith {
    Password(String),
    ApiKey(String),
}

pub fn login(ctx: &Ctx<'_>, a: &Login) -> Result<(), CliError> {
    let usage = |m: &str| CliError::from(UsageError::new(Topic::Login, m));
    let with = if let Some(u) = &a.username {
        LoginWith::Password(u.clone())
    } else if let Some(k) = &a.api_key_id {
        LoginWith::ApiKey(k.clone())
    } else {
        match (env(ENV_USERNAME), env(ENV_API_KEY_ID)) {
            (Some(_), Some(_)) => {
                return Err(usage(
                    "both ALFAVIEW_USERNAME and ALFAVIEW_API_KEY_ID are set: choose with --username or --api-key-id",
                ))
            }
            (Some(u), None) => LoginWith::Password(u),
            (None, Some(k)) => LoginWith::ApiKey(k),
            (None, None) => {
                return Err(usage(
                    "login needs --username (or ALFAVIEW_USERNAME) or --api-key-id (or ALFAVIEW_API_KEY_ID)",
                ))
            }
        }
    };
    let company = a.company_id.clone().or_else(|| env(ENV_COMPANY_ID));
    if matches!(with, LoginWith::ApiKey(_)) && company.is_none() {
        return Err(usage(
            "signing in with an API key needs --company-id (or ALFAVIEW_COMPANY_ID)",
        ));
    }
    // Settings and the store are checked before asking for the secret.
    let client = ctx.client()?;
    let store = if a.no_save {
        None
    } else {
        Some(store::open(ctx.app_id())?)
    };
    let (what, env_secret) = match with {
        LoginWith::Password(_) => ("password", ENV_PASSWORD),
        LoginWith::ApiKey(_) => ("API key secret", ENV_API_KEY_SECRET),
    };
    let secret = read_secret(&Wanted {
        what,
        env: env_secret,
        from_stdin: a.secret_stdin,
        topic: Topic::Login,
    })?;
    let tokens = match &with {
        LoginWith::Password(u) => client.login_password(u, secret.expose(), company.as_deref()),
        LoginWith::ApiKey(k) => {
            client.login_api_key(k, secret.expose(), company.as_deref().unwrap_or_default())
        }
    }?;
    drop(secret);

    if let Some(store) = &store {
        let refresh = tokens.refresh_token().ok_or_else(|| {
            Error::new(
                ErrorKind::Protocol,
                "the server issued no refresh token, so there is nothing to save (--no-save signs in without saving)",
            )
        })?;
        let pair = Pair::new(tokens.company_id(), refresh.expose())?;
        save_pair(
            ctx,
            &client,
            &**store,
            &pair,
            Some((tokens.access_token(), local_expiry(&tokens))),
        )?;
    }

    let (method, who) = match &with {
        LoginWith::Password(u) => ("password", u.as_str()),
        LoginWith::ApiKey(k) => ("apiKey", k.as_str()),
    };
    let store_name = store.as_ref().map(|s| s.describe());
    if ctx.global.json {
        let mut v = json!({
            "method": method,
            "userId": tokens.user_id(),
            "companyId": tokens.company_id(),
            "accessibleCompanyIds": tokens.accessible_company_ids(),
            "expiresAt": tokens.expires_at(),
            "expires": rfc3339(tokens.expires_at()),
            "refreshExpiresAt": tokens.refresh_expires_at(),
            "saved": store.is_some(),
            "appId": ctx.app_id(),
            "store": store_name,
        });
        v[if method == "password" {
            "username"
        } else {
            "apiKeyId"
        }] = Value::from(who);
        if a.show_tokens {
            v["accessToken"] = Value::from(tokens.access_token().expose());
            v["refreshToken"] = tokens
                .refresh_token()
                .map_or(Value::Null, |t| Value::from(t.expose()));
        }
        return print_json(v, false);
    }
    let mut text = Zeroizing::new(String::new());
    let user = tokens
        .user_id()
        .map(|u| format!(" (user {u})"))
        .unwrap_or_default();
    text.push_str(&match &with {
        LoginWith::Password(u) => format!(
            "Signed in as {u}{user} to company {}.\n",
            tokens.company_id()
        ),
        LoginWith::ApiKey(k) => format!(
            "Signed in with API key {k}{user} to company {}.\n",
            tokens.company_id()
        ),
    });
    if !tokens.accessible_company_ids().is_empty() {
        text.push_str(&format!(
            "Companies you can reach: {}\n",
            tokens.accessible_company_ids().join(", ")
        ));
    }
    text.push_str(&format!(
        "The access token expires {}.\n",
        when(tokens.expires_at())
    ));
    match (&store_name, tokens.refresh_token()) {
        (Some(s), _) => text.push_str(&format!(
            "The refresh token is saved for app {} ({s}).\n",
            ctx.app_id()
        )),
        (None, Some(_)) if !a.show_tokens => text.push_str(
            "The refresh token was not saved (--no-save); add --show-tokens to see it.\n",
        ),
        (None, Some(_)) => text.push_str("The refresh token was not saved (--no-save).\n"),
        (None, None) => text.push_str("The server issued no refresh token.\n"),
    }
    if a.show_tokens {
        text.push_str(&format!(
            "access token: {}\n",
            tokens.access_token().expose()
        ));
        if let Some(r) = tokens.refresh_token() {
            text.push_str(&format!("refresh token: {}\n", r.expose()));
        }
    }
    print(&text)
}

pub fn refresh(ctx: &Ctx<'_>, a: &Refresh) -> Result<(), CliError> {
    let explicit = a.company_id.is_some() || a.secret_stdin || secret_env_is_set(ENV_REFRESH_TOKEN);
    if !explicit {
        if a.no_save {
            return Err(UsageError::new(
                Topic::Refresh,
                "--no-save applies to a pair given with --company-id; the saved pair is always kept up to date",
            )
            .into());
        }
        return refresh_stored(ctx, a);
    }
    let company = a.company_id.clone().or_else(|| env(ENV_COMPANY_ID)).ok_or_else(|| {
        UsageError::new(
            Topic::Refresh,
            "refreshing a refresh token from ALFAVIEW_REFRESH_TOKEN or --secret-stdin needs --company-id (or ALFAVIEW_COMPANY_ID)",
        )
    })?;
    let client = ctx.client()?;
    let store = if a.no_save {
        None
    } else {
        Some(store::open(ctx.app_id())?)
    };
    let token = read_secret(&Wanted {
        what: "refresh token",
        env: ENV_REFRESH_TOKEN,
        from_stdin: a.secret_stdin,
        topic: Topic::Refresh,
    })?;
    let tokens = client.refresh(&company, token.expose())?;
    drop(token);
    let keep = tokens.refresh_token().ok_or_else(|| {
        Error::new(
            ErrorKind::Internal,
            "a refresh returned no refresh token to keep",
        )
    })?;
    if let Some(store) = &store {
        let pair = Pair::new(tokens.company_id(), keep.expose())?;
        save_pair(
            ctx,
            &client,
            &**store,
            &pair,
            Some((tokens.access_token(), local_expiry(&tokens))),
        )?;
    } else if tokens.refresh_token_rotated() && !a.show_tokens {
        crate::output::eprint(
            "warning: the server rotated the refresh token, so the one given no longer works; with --no-save the new one is neither saved nor shown (add --show-tokens)\n",
        );
    }
    report_refresh(
        ctx,
        a,
        tokens.company_id(),
        tokens.expires_at(),
        tokens.refresh_token_rotated(),
        store.as_ref().map(|s| s.describe()),
        tokens.access_token(),
        keep,
    )
}

/// One refresh with the stored pair: a fresh store-backed session has no token yet, so
/// asking it for one renews exactly once, under the store's lock, saving a rotated
/// refresh token before the lock is released.
fn refresh_stored(ctx: &Ctx<'_>, a: &Refresh) -> Result<(), CliError> {
    let client = ctx.client()?;
    let store = store::open(ctx.app_id())?;
    let store_name = store.describe();
    let cache = ctx.cache();
    let _cache_lock = lock_cache(&cache, Some(&client));
    let session = session_for(ctx, &client, store)?;
    let before = session.refresh_token();
    let (access, expires) = session.access_token()?;
    let now = session.refresh_token();
    if let Some(cache) = &cache {
        cache.write(
            client.base_url(),
            session.company_id(),
            &now,
            &access,
            expires,
        );
    }
    report_refresh(
        ctx,
        a,
        session.company_id(),
        expires,
        before != now,
        Some(store_name),
        &access,
        &now,
    )
}

#[allow(clippy::too_many_arguments)]
fn report_refresh(
    ctx: &Ctx<'_>,
    a: &Refresh,
    company: &str,
    expires: i64,
    rotated: bool,
    saved_in: Option<String>,
    access: &Secret,
    refresh: &Secret,
) -> Result<(), CliError> {
    if ctx.global.json {
        let mut v = json!({
            "companyId": company,
            "expiresAt": expires,
            "expires": rfc3339(expires),
            "rotated": rotated,
            "saved": saved_in.is_some(),
            "appId": ctx.app_id(),
            "store": saved_in,
        });
        if a.show_tokens {
            v["accessToken"] = Value::from(access.expose());
            v["refreshToken"] = Value::from(refresh.expose());
        }
        return print_json(v, false);
    }
    let mut text = Zeroizing::new(format!(
        "Renewed the access token for company {company}; it expires {}.\n",
        when(expires)
    ));
    text.push_str(match (rotated, saved_in.is_some()) {
        (true, true) => "The server rotated the refresh token; the new one is saved.\n",
        (true, false) => {
            "The server rotated the refresh token; the new one is not saved (--no-save).\n"
        }
        (false, true) => "The refresh token is unchanged and saved.\n",
        (false, false) => "The refresh token is unchanged.\n",
    });
    if let Some(s) = &saved_in {
        text.push_str(&format!("App {}: {s}.\n", ctx.app_id()));
    }
    if a.show_tokens {
        text.push_str(&format!("access token: {}\n", access.expose()));
        text.push_str(&format!("refresh token: {}\n", refresh.expose()));
    }
    print(&text)
}

pub fn token(ctx: &Ctx<'_>) -> Result<(), CliError> {
    let client = ctx.client()?;
    let (token, expires) = access_token(ctx, &client, false)?;
    if ctx.global.json {
        return print_json(
            json!({"accessToken": token.expose(), "expiresAt": expires, "expires": rfc3339(expires)}),
            false,
        );
    }
    let line = Zeroizing::new(format!("{}\n", token.expose()));
    print(&line)
}

pub fn call(
    ctx: &Ctx<'_>,
    method: &str,
    body: Option<&Body>,
    pretty: bool,
) -> Result<(), CliError> {
    let body: Option<Zeroizing<String>> = match body {
        None => None,
        Some(Body::Arg(s)) => Some(Zeroizing::new(s.clone())),
        Some(Body::Stdin) => Some(read_stdin_body()?),
    };
    let client = ctx.client()?;
    let (token, _) = access_token(ctx, &client, false)?;
    let reply = match client.call(token.expose(), method, body.as_deref().map(String::as_str)) {
        Err(e) if e.kind() == ErrorKind::TokenExpired => {
            alfaview_auth::log::log(alfaview_auth::log::Level::Info, || {
                format!("{method}: the server says the access token has expired; renewing it and retrying once")
            });
            let (token, _) = access_token(ctx, &client, true)?;
            client.call(token.expose(), method, body.as_deref().map(String::as_str))
        }
        other => other,
    }?;
    if pretty {
        match serde_json::from_str::<Value>(&reply) {
            Ok(v) => return print_json(v, true),
            Err(_) => {
                return Err(Error::new(ErrorKind::Protocol, "the reply is not valid JSON").into())
            }
        }
    }
    let mut text = reply;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    print(&text)
}

fn read_stdin_body() -> Result<Zeroizing<String>, CliError> {
    use std::io::Read;
    let mut bytes = Zeroizing::new(Vec::new());
    std::io::stdin()
        .lock()
        .take(MAX_CALL_REPLY_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            CliError::Io(format!(
                "cannot read the request body from standard input: {e}"
            ))
        })?;
    if bytes.len() > MAX_CALL_REPLY_BYTES {
        return Err(Error::invalid_argument(
            "json_body",
            format!("is longer than {MAX_CALL_REPLY_BYTES} bytes"),
        )
        .into());
    }
    String::from_utf8(std::mem::take(&mut *bytes))
        .map(Zeroizing::new)
        .map_err(|_| Error::invalid_argument("json_body", "is not valid UTF-8").into())
}

pub fn store_save(
    ctx: &Ctx<'_>,
    company: Option<&str>,
    secret_stdin: bool,
) -> Result<(), CliError> {
    let company = company
        .map(str::to_owned)
        .or_else(|| env(ENV_COMPANY_ID))
        .ok_or_else(|| {
            UsageError::new(
                Topic::Store,
                "store save needs --company-id (or ALFAVIEW_COMPANY_ID)",
            )
        })?;
    let store = store::open(ctx.app_id())?;
    let token = read_secret(&Wanted {
        what: "refresh token",
        env: ENV_REFRESH_TOKEN,
        from_stdin: secret_stdin,
        topic: Topic::Store,
    })?;
    let pair = Pair::new(&company, token.expose())?;
    drop(token);
    // No client is needed; the lock waits as long as a renewal may take by default.
    let cache = ctx.cache();
    let _cache_lock = lock_cache(&cache, None);
    {
        let _store_lock = store.lock(lock_timeout(None))?;
        store.save(&pair)?;
    }
    if let Some(c) = &cache {
        c.remove();
    }
    if ctx.global.json {
        return print_json(
            json!({"saved": true, "appId": ctx.app_id(), "companyId": company, "store": store.describe()}),
            false,
        );
    }
    print(&format!(
        "Saved the refresh token for company {company} as app {} ({}).\n",
        ctx.app_id(),
        store.describe()
    ))
}

pub fn store_load(ctx: &Ctx<'_>, show_tokens: bool) -> Result<(), CliError> {
    let store = store::open(ctx.app_id())?;
    let pair = store.load()?.ok_or_else(|| ctx.not_found(&*store))?;
    let token = pair.refresh_token.expose();
    if ctx.global.json {
        let mut v = json!({
            "appId": ctx.app_id(),
            "companyId": pair.company_id,
            "refreshTokenPrefix": prefix(token),
            "refreshTokenLength": token.chars().count(),
            "store": store.describe(),
        });
        if show_tokens {
            v["refreshToken"] = Value::from(token);
        }
        return print_json(v, false);
    }
    let mut text = Zeroizing::new(format!(
        "app: {}\nstore: {}\ncompany id: {}\n",
        ctx.app_id(),
        store.describe(),
        pair.company_id
    ));
    if show_tokens {
        text.push_str(&format!("refresh token: {token}\n"));
    } else {
        text.push_str(&format!(
            "refresh token: {} ({} characters; --show-tokens shows it)\n",
            prefix(token),
            token.chars().count()
        ));
    }
    print(&text)
}

pub fn store_delete(ctx: &Ctx<'_>) -> Result<(), CliError> {
    let store = store::open(ctx.app_id())?;
    let cache = ctx.cache();
    let _cache_lock = lock_cache(&cache, None);
    let existed = {
        let _store_lock = store.lock(lock_timeout(None))?;
        // A pair that cannot be read (corrupt) is deleted all the same.
        let existed = !matches!(store.load(), Ok(None));
        store.delete()?;
        existed
    };
    if let Some(c) = &cache {
        c.remove();
    }
    if ctx.global.json {
        return print_json(
            json!({"deleted": existed, "appId": ctx.app_id(), "store": store.describe()}),
            false,
        );
    }
    if existed {
        print(&format!(
            "Deleted the saved pair of app {} ({}).\n",
            ctx.app_id(),
            store.describe()
        ))
    } else {
        print(&format!(
            "Nothing was saved for app {} ({}).\n",
            ctx.app_id(),
            store.describe()
        ))
    }
}
