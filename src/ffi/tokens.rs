//! `av_tokens`: signing in and refreshing on a client, and reading the result.

use super::client::av_client;
use super::{
    arg_opt_str, arg_str, free_handle, handle_ref, into_handle, out_ptr, panic, OwnedCStr,
};
use crate::error::Result;
use crate::Tokens;
use std::ffi::c_char;

/// The result of a sign-in or refresh: immutable, readable from many threads. Free with
/// `av_tokens_free`; the strings its getters return live as long as it does.
pub struct av_tokens {
    tokens: Tokens,
    access_token: OwnedCStr,
    refresh_token: OwnedCStr,
    company_id: OwnedCStr,
    user_id: OwnedCStr,
    accessible: Vec<OwnedCStr>,
}

impl av_tokens {
    fn new(tokens: Tokens) -> Result<av_tokens> {
        Ok(av_tokens {
            access_token: OwnedCStr::new(tokens.access_token().expose(), "access token")?,
            refresh_token: OwnedCStr::new(
                tokens.refresh_token().map_or("", |t| t.expose()),
                "refresh token",
            )?,
            company_id: OwnedCStr::new(tokens.company_id(), "company id")?,
            user_id: OwnedCStr::new(tokens.user_id().unwrap_or(""), "user id")?,
            accessible: tokens
                .accessible_company_ids()
                .iter()
                .map(|c| OwnedCStr::new(c, "company id"))
                .collect::<Result<_>>()?,
            tokens,
        })
    }
}

unsafe fn finish(out: &mut *mut av_tokens, tokens: Tokens) -> Result<()> {
    *out = into_handle(av_tokens::new(tokens)?);
    Ok(())
}

/// Signs in with a username and password. `company_id` may be NULL: the server then
/// picks the company, and `av_tokens_accessible_company_*` list the ones the user can
/// reach. On success `*out` holds the tokens (free with `av_tokens_free`); wrong
/// credentials give `AV_ERR_AUTHENTICATION`.
#[no_mangle]
pub unsafe extern "C" fn av_login_password(
    c: *const av_client,
    username: *const c_char,
    password: *const c_char,
    company_id: *const c_char,
    out: *mut *mut av_tokens,
) -> super::av_status {
    panic::status("av_login_password", || {
        // SAFETY (all unsafe calls in this module): the ABI contract, see `ffi`.
        let out = unsafe { out_ptr(out, "out") }?;
        let c = unsafe { handle_ref(c, "c") }?;
        let username = unsafe { arg_str(username, "username") }?;
        let password = unsafe { arg_str(password, "password") }?;
        let company_id = unsafe { arg_opt_str(company_id, "company_id") }?;
        let tokens = c.0.login_password(username, password, company_id)?;
        unsafe { finish(out, tokens) }
    })
}

/// Signs in with an API key: `client_id` is the key's alias, `api_key_secret` its secret.
#[no_mangle]
pub unsafe extern "C" fn av_login_api_key(
    c: *const av_client,
    client_id: *const c_char,
    api_key_secret: *const c_char,
    company_id: *const c_char,
    out: *mut *mut av_tokens,
) -> super::av_status {
    panic::status("av_login_api_key", || {
        let out = unsafe { out_ptr(out, "out") }?;
        let c = unsafe { handle_ref(c, "c") }?;
        let client_id = unsafe { arg_str(client_id, "client_id") }?;
        let secret = unsafe { arg_str(api_key_secret, "api_key_secret") }?;
        let company_id = unsafe { arg_str(company_id, "company_id") }?;
        let tokens = c.0.login_api_key(client_id, secret, company_id)?;
        unsafe { finish(out, tokens) }
    })
}

/// Exchanges a refresh token (sent as `Cookie: auth=...`, with its company id) for a new
/// access token. If the server rotates the refresh token, `av_tokens_refresh_token` is
/// the new one: keep it. A rejected refresh token gives `AV_ERR_AUTHENTICATION`.
#[no_mangle]
pub unsafe extern "C" fn av_client_refresh(
    c: *const av_client,
    company_id: *const c_char,
    refresh_token: *const c_char,
    out: *mut *mut av_tokens,
) -> super::av_status {
    panic::status("av_client_refresh", || {
        let out = unsafe { out_ptr(out, "out") }?;
        let c = unsafe { handle_ref(c, "c") }?;
        let company_id = unsafe { arg_str(company_id, "company_id") }?;
        let refresh_token = unsafe { arg_str(refresh_token, "refresh_token") }?;
        let tokens = c.0.refresh(company_id, refresh_token)?;
        unsafe { finish(out, tokens) }
    })
}

fn with_tokens<T: panic::Failure>(
    function: &'static str,
    t: *const av_tokens,
    failure: T,
    f: impl FnOnce(&av_tokens) -> T,
) -> T {
    // SAFETY: `t` is NULL or a live av_tokens (the ABI contract).
    panic::getter(function, failure, || Ok(f(unsafe { handle_ref(t, "t") }?)))
}

/// The access token (borrowed: lives as long as `t`). "" if `t` is NULL.
#[no_mangle]
pub unsafe extern "C" fn av_tokens_access_token(t: *const av_tokens) -> *const c_char {
    with_tokens("av_tokens_access_token", t, panic::empty(), |t| {
        t.access_token.as_ptr()
    })
}

/// When the access token expires: Unix seconds, UTC, as the server said. 0 if `t` is NULL.
#[no_mangle]
pub unsafe extern "C" fn av_tokens_expires_at(t: *const av_tokens) -> i64 {
    with_tokens("av_tokens_expires_at", t, 0, |t| t.tokens.expires_at())
}

/// The refresh token to keep (borrowed). After a sign-in: the one issued ("" if the
/// server issued none). After a refresh: the new one if the server rotated it, otherwise
/// the one that was used.
#[no_mangle]
pub unsafe extern "C" fn av_tokens_refresh_token(t: *const av_tokens) -> *const c_char {
    with_tokens("av_tokens_refresh_token", t, panic::empty(), |t| {
        t.refresh_token.as_ptr()
    })
}

/// When the refresh token's cookie expires (Max-Age, else Expires): Unix seconds, UTC;
/// 0 if unknown.
#[no_mangle]
pub unsafe extern "C" fn av_tokens_refresh_expires_at(t: *const av_tokens) -> i64 {
    with_tokens("av_tokens_refresh_expires_at", t, 0, |t| {
        t.tokens.refresh_expires_at().unwrap_or(0)
    })
}

/// The company the access token is for (borrowed).
#[no_mangle]
pub unsafe extern "C" fn av_tokens_company_id(t: *const av_tokens) -> *const c_char {
    with_tokens("av_tokens_company_id", t, panic::empty(), |t| {
        t.company_id.as_ptr()
    })
}

/// The user the access token is for (borrowed); "" if the reply did not say.
#[no_mangle]
pub unsafe extern "C" fn av_tokens_user_id(t: *const av_tokens) -> *const c_char {
    with_tokens("av_tokens_user_id", t, panic::empty(), |t| {
        t.user_id.as_ptr()
    })
}

/// How many companies the user can reach (from the reply's accessibleAccounts).
#[no_mangle]
pub unsafe extern "C" fn av_tokens_accessible_company_count(t: *const av_tokens) -> usize {
    with_tokens("av_tokens_accessible_company_count", t, 0, |t| {
        t.accessible.len()
    })
}

/// The `i`-th company the user can reach (borrowed); NULL if `i` is out of range.
#[no_mangle]
pub unsafe extern "C" fn av_tokens_accessible_company_id(
    t: *const av_tokens,
    i: usize,
) -> *const c_char {
    with_tokens(
        "av_tokens_accessible_company_id",
        t,
        std::ptr::null(),
        |t| {
            t.accessible
                .get(i)
                .map_or(std::ptr::null(), OwnedCStr::as_ptr)
        },
    )
}

/// Frees tokens, wiping the secrets they hold. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn av_tokens_free(t: *mut av_tokens) {
    panic::boundary("av_tokens_free", || unsafe { free_handle(t) })
}
