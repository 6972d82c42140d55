//! Accepting connections, routing, the API endpoints, faults and control endpoints.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::header::{
    HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, DATE, LOCATION, RETRY_AFTER,
    SET_COOKIE,
};
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::body::MockBody;
use crate::config::{
    ApiStatus, CookieStyle, ErrorShape, ExpiresAtForm, Fault, FaultKind, Knobs,
    ACCESS_INFO_MISSING, INTERNAL_ERROR, PROTOCOL_ERROR, QUOTA_EXCEEDED, REQUEST_ID_INVALID,
    TOKEN_OUTDATED,
};
use crate::state::{bump, protocol_error, Identity, Recorded, Shared};
use crate::TlsFiles;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Resp = Response<MockBody>;

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const COOKIE_DOMAIN: &str = "app.alfaview.com";

// ---------------------------------------------------------------------------------
// Connections

pub(crate) fn tls_acceptor(files: &TlsFiles) -> io::Result<TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let bad = |what: &std::path::Path, e: &dyn std::fmt::Display| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", what.display()),
        )
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| bad(&files.cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&files.cert, &e))?;
    if certs.is_empty() {
        return Err(bad(&files.cert, &"no CERTIFICATE in PEM file"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| bad(&files.key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad(&files.key, &e))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}

pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of file descriptors and the like: back off, keep serving.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        bump(&shared.counters.connections);
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve(TokioIo::new(stream), shared).await,
                Some(acceptor) => {
                    if let Ok(s) = acceptor.accept(stream).await {
                        serve(TokioIo::new(s), shared).await;
                    }
                }
            }
        });
    }
}

async fn serve<I>(io: I, shared: Arc<Shared>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| handle(shared.clone(), req));
    // No header-read timeout: idle keep-alive connections stay open.
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, svc)
        .await;
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Resp, BoxError> {
    let path = req.uri().path();
    if path.starts_with("/json/v1/") {
        api(&shared, req).await
    } else if path.starts_with("/_mock/") {
        control(&shared, req).await
    } else {
        let date = http_date(server_time(shared.knobs().clock_offset_s));
        Ok(gateway_bare(StatusCode::NOT_FOUND, 5, "Not Found", date))
    }
}

// ---------------------------------------------------------------------------------
// Time

/// Real time shifted by the configured clock offset.
fn server_time(offset_s: i64) -> SystemTime {
    shift(SystemTime::now(), offset_s)
}

fn shift(t: SystemTime, secs: i64) -> SystemTime {
    let d = Duration::from_secs(secs.unsigned_abs());
    let shifted = if secs >= 0 {
        t.checked_add(d)
    } else {
        t.checked_sub(d)
    };
    shifted.unwrap_or(t)
}

/// IMF-fixdate; times before 1970 are clamped (httpdate cannot show them).
fn http_date(t: SystemTime) -> HeaderValue {
    let t = t.max(UNIX_EPOCH);
    HeaderValue::from_str(&httpdate::fmt_http_date(t)).expect("dates are ASCII")
}

/// Whole Unix seconds (floored) and the nanoseconds past them.
fn unix_parts(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            if d.subsec_nanos() == 0 {
                (-(d.as_secs() as i64), 0)
            } else {
                (-(d.as_secs() as i64) - 1, 1_000_000_000 - d.subsec_nanos())
            }
        }
    }
}

/// `expiresAt` in the configured form.
fn expires_at(knobs: &Knobs, server_now: SystemTime) -> Value {
    let (secs, nanos) = unix_parts(server_now);
    let exp = secs + knobs.token_lifetime_s;
    let millis = nanos / 1_000_000;
    match knobs.expires_at_form {
        ExpiresAtForm::String => Value::String(exp.to_string()),
        ExpiresAtForm::Number => exp.into(),
        // A non-UTC offset and fractional seconds, to exercise clients' parsers.
        ExpiresAtForm::Rfc3339 => rfc3339(exp, millis, 3600),
        ExpiresAtForm::Rfc3339Z => rfc3339(exp, millis, 0),
    }
}

fn rfc3339(unix: i64, millis: u32, offset_s: i64) -> Value {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix + offset_s) else {
        return unix.into();
    };
    let zone = if offset_s == 0 {
        "Z".to_string()
    } else {
        let sign = if offset_s < 0 { '-' } else { '+' };
        let a = offset_s.abs();
        format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
    };
    Value::String(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{zone}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        millis
    ))
}

// ---------------------------------------------------------------------------------
// Responses

fn respond(status: StatusCode, body: MockBody, date: HeaderValue) -> Resp {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(DATE, date);
    r
}

fn json_resp(status: StatusCode, v: &Value, date: HeaderValue) -> Resp {
    let bytes = serde_json::to_vec(v).expect("JSON values serialize");
    let mut r = respond(status, MockBody::full(bytes), date);
    r.headers_mut().insert(CONTENT_TYPE, JSON);
    r
}

fn reply_info(request_id: &str, status: Value, message: &str) -> Value {
    json!({"requestId": request_id, "statusCode": status, "statusMessage": message})
}

fn ok_info(request_id: &str) -> Value {
    reply_info(request_id, "OK".into(), "OK")
}

fn gateway_body(st: &ApiStatus, msg: &str, request_id: &str) -> Value {
    json!({
        "code": st.grpc,
        "message": msg,
        "details": [{
            "@type": "type.googleapis.com/common.ReplyInfo",
            "requestId": request_id,
            "statusCode": st.name,
            "statusMessage": msg,
        }],
    })
}

/// A gateway error with no ReplyInfo detail (unknown route, wrong method).
fn gateway_bare(status: StatusCode, code: u32, msg: &str, date: HeaderValue) -> Resp {
    json_resp(
        status,
        &json!({"code": code, "message": msg, "details": []}),
        date,
    )
}

/// An API error in the configured shape.
fn api_error(
    shape: ErrorShape,
    st: &ApiStatus,
    msg: &str,
    request_id: &str,
    date: HeaderValue,
) -> Resp {
    match shape {
        ErrorShape::Gateway => json_resp(
            StatusCode::from_u16(st.http).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &gateway_body(st, msg, request_id),
            date,
        ),
        ErrorShape::Reply => json_resp(
            StatusCode::OK,
            &json!({"replyInfo": reply_info(request_id, st.name.into(), msg)}),
            date,
        ),
        ErrorShape::Numeric => json_resp(
            StatusCode::OK,
            &json!({"replyInfo": reply_info(request_id, st.number.into(), msg)}),
            date,
        ),
    }
}

fn new_request_id() -> String {
    format!("mock-{}", uuid::Uuid::new_v4().simple())
}

// ---------------------------------------------------------------------------------
// The API under /json/v1/

enum Route<'a> {
    Authenticate,
    Call(&'a str, &'a str),
    Unknown,
}

fn route(path: &str) -> Route<'_> {
    let Some(rest) = path.strip_prefix("/json/v1/") else {
        return Route::Unknown;
    };
    match rest.split_once('/') {
        Some((s, m)) if !s.is_empty() && !m.is_empty() && !m.contains('/') => {
            if s == "authenticationService" && m == "authenticate" {
                Route::Authenticate
            } else {
                Route::Call(s, m)
            }
        }
        _ => Route::Unknown,
    }
}

async fn api(shared: &Shared, req: Request<Incoming>) -> Result<Resp, BoxError> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts.uri.path();
    let counters = &shared.counters;
    bump(&counters.requests);
    shared.record(Recorded {
        method: parts.method.clone(),
        path: path.to_string(),
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    let route = route(path);
    match route {
        Route::Authenticate => bump(&counters.authenticate),
        Route::Call(..) => bump(&counters.calls),
        Route::Unknown => {}
    }
    let (knobs, fault) = shared.begin_request(path);
    if let Some(fault) = fault {
        match fault.kind {
            FaultKind::Delay => tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await,
            FaultKind::Hang => return std::future::pending().await,
            _ => return fault_response(&fault, &knobs, &body),
        }
    }
    if parts.method != Method::POST {
        let date = http_date(server_time(knobs.clock_offset_s));
        let mut r = gateway_bare(
            StatusCode::METHOD_NOT_ALLOWED,
            12,
            "Method Not Allowed",
            date,
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return Ok(r);
    }
    Ok(match route {
        Route::Unknown => {
            let date = http_date(server_time(knobs.clock_offset_s));
            gateway_bare(StatusCode::NOT_FOUND, 5, "Not Found", date)
        }
        Route::Authenticate => authenticate(shared, &knobs, &parts.headers, &body),
        Route::Call(service, method) => call(shared, &knobs, service, method, &body),
    })
}

/// The body as a JSON object, or the PROTOCOL_ERROR message.
fn parse_object(body: &[u8]) -> Result<Map<String, Value>, &'static str> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("missing request body");
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("request body must be a JSON object"),
        Err(_) => Err("request body is not valid JSON"),
    }
}

fn non_empty_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// A string field as the protobuf JSON mapping reads it: absent or null = "",
/// any other non-string is a protocol error.
fn str_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a str, (&'static ApiStatus, &'static str)> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(protocol_error("credential fields must be strings")),
    }
}

/// The value of the `auth` cookie in the request's Cookie header(s).
fn auth_cookie(headers: &HeaderMap) -> Option<&str> {
    for value in headers.get_all(COOKIE) {
        let Ok(s) = value.to_str() else { continue };
        for pair in s.split(';') {
            let Some((name, val)) = pair.split_once('=') else {
                continue;
            };
            if name.trim() == "auth" {
                let val = val.trim();
                let val = val
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(val);
                return Some(val);
            }
        }
    }
    None
}

fn random_token() -> [u8; 32] {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the OS random number generator works");
    b
}

fn decode_token(s: &str) -> Option<[u8; 32]> {
    if s.len() > 64 {
        return None;
    }
    let mut buf = [0u8; 48];
    let n = B64.decode_slice(s.as_bytes(), &mut buf).ok()?;
    buf[..n].try_into().ok()
}

const CREDENTIAL_KINDS: [&str; 3] = [
    "usernamePasswordCredentials",
    "authorizationCodeCredentials",
    "refreshTokenCredentials",
];

fn authenticate(shared: &Shared, knobs: &Knobs, headers: &HeaderMap, body: &[u8]) -> Resp {
    let now = Instant::now();
    let server_now = server_time(knobs.clock_offset_s);
    let date = http_date(server_now);
    let fail = |st: &ApiStatus, msg: &str, rid: &str| {
        api_error(knobs.error_shape, st, msg, rid, date.clone())
    };

    let obj = match parse_object(body) {
        Ok(o) => o,
        Err(msg) => return fail(&PROTOCOL_ERROR, msg, &new_request_id()),
    };
    let Some(request_id) = non_empty_str(&obj, "requestId") else {
        return fail(
            &REQUEST_ID_INVALID,
            "requestId must be a non-empty string",
            &new_request_id(),
        );
    };
    let present: Vec<&str> = CREDENTIAL_KINDS
        .into_iter()
        .filter(|k| obj.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    let [kind] = present[..] else {
        return fail(
            &PROTOCOL_ERROR,
            "exactly one of usernamePasswordCredentials, authorizationCodeCredentials, \
             refreshTokenCredentials is required",
            request_id,
        );
    };
    let is_refresh = kind == "refreshTokenCredentials";
    let outcome = match obj[kind].as_object() {
        None => Err(protocol_error("credentials must be a JSON object")),
        Some(creds) => match kind {
            "usernamePasswordCredentials" => login_password(shared, creds, now),
            "authorizationCodeCredentials" => login_api_key(shared, creds, now),
            _ => refresh(shared, knobs, creds, auth_cookie(headers), now),
        },
    };
    let counters = &shared.counters;
    match outcome {
        Ok((access, identity, refresh_token)) => {
            bump(if is_refresh {
                &counters.refreshes
            } else {
                &counters.logins
            });
            auth_success(
                knobs,
                server_now,
                date.clone(),
                request_id,
                &access,
                &identity,
                refresh_token,
            )
        }
        Err((st, msg)) => {
            if is_refresh {
                bump(&counters.refresh_failures);
            }
            fail(st, msg, request_id)
        }
    }
}

type AuthOutcome = Result<([u8; 32], Identity, Option<String>), (&'static ApiStatus, &'static str)>;

fn login_password(shared: &Shared, creds: &Map<String, Value>, now: Instant) -> AuthOutcome {
    let username = str_field(creds, "username")?;
    let password = str_field(creds, "password")?;
    let company = Some(str_field(creds, "companyId")?).filter(|c| !c.is_empty());
    let access = random_token();
    let refresh = uuid::Uuid::new_v4().to_string();
    let mut st = shared.state();
    let identity = st.check_password(username, password, company)?;
    st.add_access(access, &identity, now);
    st.add_refresh(refresh.clone(), &identity, now);
    Ok((access, identity, Some(refresh)))
}

fn login_api_key(shared: &Shared, creds: &Map<String, Value>, now: Instant) -> AuthOutcome {
    let client_id = str_field(creds, "clientId")?;
    let code = str_field(creds, "code")?;
    let company = str_field(creds, "companyId")?;
    if company.is_empty() {
        return Err(protocol_error(
            "authorizationCodeCredentials.companyId is required",
        ));
    }
    let access = random_token();
    let refresh = uuid::Uuid::new_v4().to_string();
    let mut st = shared.state();
    let identity = st.check_api_key(client_id, code, company)?;
    st.add_access(access, &identity, now);
    st.add_refresh(refresh.clone(), &identity, now);
    Ok((access, identity, Some(refresh)))
}

fn refresh(
    shared: &Shared,
    knobs: &Knobs,
    creds: &Map<String, Value>,
    cookie: Option<&str>,
    now: Instant,
) -> AuthOutcome {
    let company = str_field(creds, "companyId")?;
    if company.is_empty() {
        return Err(protocol_error(
            "refreshTokenCredentials.companyId is required",
        ));
    }
    let access = random_token();
    let rotated = knobs.rotate.then(|| uuid::Uuid::new_v4().to_string());
    let mut st = shared.state();
    let (idx, identity) = st.check_refresh(cookie, company, now)?;
    st.add_access(access, &identity, now);
    if let Some(new) = &rotated {
        st.revoke_refresh(idx);
        st.add_refresh(new.clone(), &identity, now);
    }
    Ok((access, identity, rotated))
}

fn auth_success(
    knobs: &Knobs,
    server_now: SystemTime,
    date: HeaderValue,
    request_id: &str,
    access: &[u8; 32],
    identity: &Identity,
    refresh_token: Option<String>,
) -> Resp {
    let accounts: Vec<Value> = identity
        .accounts
        .iter()
        .map(|c| json!({ "companyId": c }))
        .collect();
    let mut body = json!({
        "replyInfo": ok_info(request_id),
        "accessToken": B64.encode(access),
        "expiresAt": expires_at(knobs, server_now),
        "userId": &*identity.user_id,
        "companyId": &*identity.company_id,
        "accessibleAccounts": accounts,
        "permissions": {},
        "accountStatus": "ACTIVE",
    });
    if knobs.refresh_token_in_body {
        if let Some(t) = &refresh_token {
            body["refreshToken"] = Value::String(t.clone());
        }
    }
    let mut resp = json_resp(StatusCode::OK, &body, date);
    if let Some(t) = refresh_token {
        for c in set_cookies(knobs, server_now, &t) {
            let v = HeaderValue::from_str(&c).expect("cookies are ASCII");
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    resp
}

/// The Set-Cookie header values for a new refresh token, in the configured style.
fn set_cookies(knobs: &Knobs, server_now: SystemTime, token: &str) -> Vec<String> {
    let life = knobs.refresh_lifetime_s;
    let expires = || {
        let d = http_date(shift(server_now, life));
        d.to_str().unwrap_or_default().to_string()
    };
    let standard = || {
        format!(
            "auth={token}; Path=/; Domain={COOKIE_DOMAIN}; Expires={}; HttpOnly; Secure",
            expires()
        )
    };
    match knobs.cookie_style {
        CookieStyle::Expires => vec![standard()],
        CookieStyle::MaxAge => vec![format!(
            "auth={token}; Path=/; Max-Age={life}; HttpOnly; Secure"
        )],
        CookieStyle::Both => {
            // Expires one day later than Max-Age implies: Max-Age must win.
            let later = http_date(shift(server_now, life.saturating_add(86_400)));
            vec![format!(
                "auth={token}; Path=/; Domain={COOKIE_DOMAIN}; Expires={}; Max-Age={life}; \
                 HttpOnly; Secure",
                later.to_str().unwrap_or_default()
            )]
        }
        CookieStyle::Quoted => vec![format!(
            "auth=\"{token}\"; path=/; DOMAIN={COOKIE_DOMAIN}; EXPIRES={}; httponly; SECURE",
            expires()
        )],
        CookieStyle::Multi => vec![
            "lang=en; Path=/".to_string(),
            standard(),
            "tracking=abc; Path=/".to_string(),
        ],
        CookieStyle::None => Vec::new(),
    }
}

fn call(shared: &Shared, knobs: &Knobs, service: &str, method: &str, body: &[u8]) -> Resp {
    let date = http_date(server_time(knobs.clock_offset_s));
    let fail = |st: &ApiStatus, msg: &str, rid: &str| {
        api_error(knobs.error_shape, st, msg, rid, date.clone())
    };
    let mut obj = match parse_object(body) {
        Ok(o) => o,
        Err(msg) => return fail(&PROTOCOL_ERROR, msg, &new_request_id()),
    };
    let top_rid = non_empty_str(&obj, "requestId").map(str::to_string);
    let Some(Value::Object(access_info)) = obj.remove("accessInfo") else {
        let rid = top_rid.unwrap_or_else(new_request_id);
        return fail(&ACCESS_INFO_MISSING, "accessInfo missing", &rid);
    };
    let rid = non_empty_str(&access_info, "requestId")
        .map(str::to_string)
        .or(top_rid)
        .unwrap_or_else(new_request_id);
    let Some(token) = non_empty_str(&access_info, "accessToken") else {
        return fail(&ACCESS_INFO_MISSING, "accessInfo.accessToken missing", &rid);
    };
    let company = decode_token(token).and_then(|t| shared.state().check_access(&t, Instant::now()));
    let Some(company) = company else {
        return fail(&TOKEN_OUTDATED, TOKEN_OUTDATED.message, &rid);
    };
    let reply = if service == "authenticationService" && method == "isAuthenticated" {
        json!({ "replyInfo": ok_info(&rid) })
    } else {
        json!({
            "replyInfo": ok_info(&rid),
            "service": service,
            "method": method,
            "companyId": &*company,
            "request": obj,
        })
    };
    json_resp(StatusCode::OK, &reply, date)
}

// ---------------------------------------------------------------------------------
// Faults

/// The requestId of a request body, if it has one (top level or in accessInfo).
fn request_id_of(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    non_empty_str(obj, "requestId")
        .or_else(|| non_empty_str(obj.get("accessInfo")?.as_object()?, "requestId"))
        .map(str::to_string)
}

fn fault_response(fault: &Fault, knobs: &Knobs, body: &[u8]) -> Result<Resp, BoxError> {
    let date = http_date(server_time(knobs.clock_offset_s));
    let rid = request_id_of(body).unwrap_or_else(new_request_id);
    let status = |code: u16| StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
    let ok_prefix = |field: &str| {
        format!(
            "{{\"replyInfo\":{{\"requestId\":{},\"statusCode\":\"OK\",\"statusMessage\":\"OK\"}},\"{field}\":\"",
            Value::String(rid.clone())
        )
    };
    Ok(match fault.kind {
        FaultKind::Close => return Err("close fault: connection dropped without a reply".into()),
        FaultKind::Delay | FaultKind::Hang => unreachable!("handled by the caller"),
        FaultKind::Status => match fault.api_status {
            Some(st) => json_resp(
                status(fault.status),
                &gateway_body(st, st.message, &rid),
                date,
            ),
            None => {
                let mut r = respond(
                    status(fault.status),
                    MockBody::full(&b"upstream error"[..]),
                    date,
                );
                r.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
                r
            }
        },
        FaultKind::Error200 => {
            let st = fault.api_status.unwrap_or(&INTERNAL_ERROR);
            let shape = if knobs.error_shape == ErrorShape::Numeric {
                ErrorShape::Numeric
            } else {
                ErrorShape::Reply
            };
            api_error(shape, st, st.message, &rid, date)
        }
        FaultKind::Garbage => {
            let mut r = respond(
                StatusCode::OK,
                MockBody::full(&b"<html>not json</html>"[..]),
                date,
            );
            r.headers_mut().insert(CONTENT_TYPE, JSON);
            r
        }
        FaultKind::Truncated => {
            let mut text = ok_prefix("accessToken").into_bytes();
            text.resize(text.len().max(100), b'A');
            text.truncate(100);
            let mut r = respond(StatusCode::OK, MockBody::truncated(Bytes::from(text)), date);
            r.headers_mut().insert(CONTENT_TYPE, JSON);
            r.headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from_static("1000"));
            r
        }
        FaultKind::Oversized => {
            let body = MockBody::padded(
                Bytes::from(ok_prefix("pad")),
                Bytes::from_static(b"\"}"),
                fault.size_bytes,
            );
            let mut r = respond(StatusCode::OK, body, date);
            r.headers_mut().insert(CONTENT_TYPE, JSON);
            r
        }
        FaultKind::Redirect => {
            let mut r = respond(StatusCode::FOUND, MockBody::empty(), date);
            r.headers_mut().insert(
                LOCATION,
                HeaderValue::from_static("http://127.0.0.1:1/elsewhere"),
            );
            r
        }
        FaultKind::RetryAfter => {
            let mut r = json_resp(
                StatusCode::TOO_MANY_REQUESTS,
                &gateway_body(&QUOTA_EXCEEDED, QUOTA_EXCEEDED.message, &rid),
                date,
            );
            r.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(fault.retry_after_s));
            r
        }
    })
}

// ---------------------------------------------------------------------------------
// Control endpoints under /_mock/

fn control_error(status: StatusCode, msg: &str, date: HeaderValue) -> Resp {
    json_resp(status, &json!({ "error": msg }), date)
}

async fn control(shared: &Shared, req: Request<Incoming>) -> Result<Resp, BoxError> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let date = http_date(server_time(shared.knobs().clock_offset_s));
    let path = parts.uri.path();
    let allowed: &[Method] = match path {
        "/_mock/config" => &[Method::GET, Method::POST],
        "/_mock/stats" | "/_mock/last" | "/_mock/tokens" => &[Method::GET],
        "/_mock/reset" | "/_mock/mint" | "/_mock/expire" => &[Method::POST],
        _ => {
            return Ok(control_error(
                StatusCode::NOT_FOUND,
                "unknown control endpoint",
                date,
            ))
        }
    };
    if !allowed.contains(&parts.method) {
        let mut r = control_error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed", date);
        let list: Vec<&str> = allowed.iter().map(Method::as_str).collect();
        let allow = HeaderValue::from_str(&list.join(", ")).expect("ASCII");
        r.headers_mut().insert(ALLOW, allow);
        return Ok(r);
    }
    let ok = |v: &Value| json_resp(StatusCode::OK, v, date.clone());
    let bad = |msg: &str| control_error(StatusCode::BAD_REQUEST, msg, date.clone());
    let json_body = || -> Result<Value, String> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Map::new()));
        }
        serde_json::from_slice(&body).map_err(|e| format!("request body is not valid JSON: {e}"))
    };
    Ok(match (path, parts.method == Method::GET) {
        ("/_mock/config", true) => ok(&shared.config_json()),
        ("/_mock/config", false) => match json_body().and_then(|p| shared.configure(&p)) {
            Ok(cfg) => ok(&cfg),
            Err(e) => bad(&e),
        },
        ("/_mock/reset", _) => {
            shared.reset();
            ok(&json!({"ok": true}))
        }
        ("/_mock/stats", _) => ok(&shared.stats().to_json()),
        ("/_mock/last", _) => match shared.last_request() {
            Some(r) => ok(&r.to_json()),
            None => control_error(StatusCode::NOT_FOUND, "no request recorded yet", date),
        },
        ("/_mock/mint", _) => {
            let company = match json_body() {
                Err(e) => return Ok(bad(&e)),
                Ok(v) => match v.get("companyId") {
                    None | Some(Value::Null) => "c-100".to_string(),
                    Some(Value::String(s)) if !s.is_empty() => s.clone(),
                    Some(_) => return Ok(bad("companyId: expected a non-empty string")),
                },
            };
            let token = shared.mint(&company);
            ok(&json!({"refreshToken": token, "companyId": company}))
        }
        ("/_mock/expire", _) => {
            let n = shared.expire_access_tokens();
            ok(&json!({"ok": true, "expired": n}))
        }
        ("/_mock/tokens", _) => ok(&shared.refresh_tokens_json()),
        _ => unreachable!("paths are matched above"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_forms() {
        // 2022-11-19T14:08:15Z
        assert_eq!(
            rfc3339(1_668_866_895, 123, 3600),
            Value::String("2022-11-19T15:08:15.123+01:00".into())
        );
        assert_eq!(
            rfc3339(1_668_866_895, 7, 0),
            Value::String("2022-11-19T14:08:15.007Z".into())
        );
    }

    #[test]
    fn cookie_parsing() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("a=1; auth=\"tok\"; b=2"));
        assert_eq!(auth_cookie(&h), Some("tok"));
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("x=1"));
        h.append(COOKIE, HeaderValue::from_static("y; auth = t2 "));
        assert_eq!(auth_cookie(&h), Some("t2"));
        assert_eq!(auth_cookie(&HeaderMap::new()), None);
    }

    #[test]
    fn pre_epoch_parts() {
        let t = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(unix_parts(t), (-2, 500_000_000));
    }

    #[test]
    fn token_round_trip() {
        let t = random_token();
        assert_eq!(decode_token(&B64.encode(t)), Some(t));
        assert_eq!(decode_token("short"), None);
    }
}
