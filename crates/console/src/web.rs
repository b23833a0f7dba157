//! The router, the guard every route passes (authentication, role, CSRF), security
//! headers, and helpers the handlers share.

use crate::accounts::{constant_time_eq, Principal};
use crate::routes;
use crate::{api, pages, AppState};
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use store::Store;

/// Session cookie (`__Host-`: Secure, path /, no domain; the browser enforces it).
pub const SESSION_COOKIE: &str = "__Host-gw_session";
/// Login-form CSRF cookie (double submit: no session exists yet at login).
pub const LOGIN_COOKIE: &str = "__Host-gw_login";
/// Header carrying the CSRF token for API writes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Largest request body read (forms and JSON are small).
const MAX_BODY: usize = 64 * 1024;

/// Builds the router.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/static/{file}", get(pages::static_file))
        .route("/logout", post(pages::logout))
        .route("/", get(pages::overview))
        .route("/assets", get(pages::assets))
        .route("/assets.csv", get(pages::assets_csv))
        .route("/assets/{id}", get(pages::asset))
        .route("/map", get(pages::map))
        .route("/alerts", get(pages::alerts))
        .route("/alerts/{id}", get(pages::alert))
        .route("/alerts/{id}/evidence.pcap", get(pages::evidence))
        .route("/alerts/{id}/triage", post(pages::triage))
        .route("/airgap", get(pages::airgap))
        .route("/airgap/report", get(pages::airgap_report))
        .route("/events", get(pages::events))
        .route("/settings", get(pages::settings))
        .route("/settings/zones", post(pages::set_zones))
        .route("/settings/learning", post(pages::set_learning))
        .route("/settings/users", post(pages::add_user))
        .route("/settings/users/{name}/role", post(pages::set_role))
        .route("/settings/users/{name}/remove", post(pages::remove_user))
        .route("/audit", get(pages::audit))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/health", get(api::health))
        .route("/api/v1/assets", get(api::assets))
        .route("/api/v1/assets/{id}", get(api::asset))
        .route("/api/v1/alerts", get(api::alerts))
        .route("/api/v1/alerts/{id}", get(api::alert))
        .route("/api/v1/alerts/{id}/triage", post(api::triage))
        .route("/api/v1/flows", get(api::flows))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard))
        .fallback(not_found)
        .layer(middleware::map_response(security_headers))
        .with_state(state)
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// Headers on every response.
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        if !h.contains_key(name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(
        h,
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    );
    set(
        h,
        "content-security-policy",
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cache-control", "no-store");
    response
}

/// The value of cookie `name` in the request, if present.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the console's attributes; `None` clears the cookie.
pub(crate) fn set_cookie(name: &str, value: Option<&str>) -> String {
    match value {
        Some(v) => format!("{name}={v}; Path=/; Secure; HttpOnly; SameSite=Strict"),
        None => format!("{name}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"),
    }
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn refuse(status: StatusCode, path: &str, message: &str) -> Response {
    if is_api(path) {
        let body = serde_json::json!({ "error": message });
        (status, axum::Json(body)).into_response()
    } else if status == StatusCode::UNAUTHORIZED {
        Redirect::to("/login").into_response()
    } else {
        (status, message.to_string()).into_response()
    }
}

/// Who sent the request: an API bearer token, else a session cookie.
async fn authenticate(state: &Arc<AppState>, headers: &HeaderMap) -> Option<Principal> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let session = cookie(headers, SESSION_COOKIE).map(str::to_string);
    let accounts = state.accounts.clone();
    let found = blocking(move || match (bearer, session) {
        (Some(token), _) => accounts.token(&token),
        (None, Some(token)) => accounts.session(&token),
        (None, None) => Ok(None),
    })
    .await;
    match found {
        Ok(Ok(principal)) => principal,
        Ok(Err(e)) => {
            eprintln!("gapwatch console: {e}");
            None
        }
        Err(_) => None,
    }
}

/// Every routed request passes here: the route must be in the table, the caller must
/// hold its role, and a state-changing request from a session must carry the CSRF token.
async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    // HEAD is answered as GET (without the body) and needs what GET needs.
    let method = if req.method() == Method::HEAD {
        "GET"
    } else {
        req.method().as_str()
    };
    let Some(spec) = routes::find(method, &path) else {
        return refuse(StatusCode::NOT_FOUND, &path, "not found");
    };
    let Some(min_role) = spec.min_role else {
        return next.run(req).await;
    };
    let Some(principal) = authenticate(&state, req.headers()).await else {
        return refuse(StatusCode::UNAUTHORIZED, &path, "sign in first");
    };
    if principal.role < min_role {
        return refuse(
            StatusCode::FORBIDDEN,
            &path,
            &format!("needs the {min_role} role"),
        );
    }
    let mut req = req;
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        if let Some(expected) = principal.csrf.clone() {
            let (ok, rebuilt) = csrf_ok(req, &expected).await;
            let Some(rebuilt) = rebuilt else {
                return refuse(StatusCode::PAYLOAD_TOO_LARGE, &path, "request too large");
            };
            if !ok {
                return refuse(StatusCode::FORBIDDEN, &path, "missing or wrong CSRF token");
            }
            req = rebuilt;
        }
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// Whether the request carries `expected` in the CSRF header or the `csrf` form field,
/// and the request rebuilt around its (read) body; `None` when the body is too large.
async fn csrf_ok(req: Request, expected: &str) -> (bool, Option<Request>) {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let ok = constant_time_eq(v, expected);
        return (ok, Some(req));
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (false, None);
    };
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let ok = is_form
        && form_field(&bytes, "csrf").is_some_and(|token| constant_time_eq(&token, expected));
    (ok, Some(Request::from_parts(parts, Body::from(bytes))))
}

/// The first value of `name` in an urlencoded body.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Runs blocking work (SQLite, argon2) off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, WebError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(format!("worker failed: {e}")))
}

/// Errors a handler returns.
#[derive(Debug)]
pub(crate) enum WebError {
    /// Nothing with that id.
    NotFound(String),
    /// A bad request (unparsable filter ...).
    BadRequest(String),
    /// Something failed on the server.
    Internal(String),
    /// The store is not there yet (the sensor has not written anything).
    Unavailable(String),
}

impl From<store::StoreError> for WebError {
    fn from(e: store::StoreError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<views::load::LoadError> for WebError {
    fn from(e: views::load::LoadError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<crate::accounts::AccountError> for WebError {
    fn from(e: crate::accounts::AccountError) -> Self {
        match e {
            crate::accounts::AccountError::Invalid(m) => WebError::BadRequest(m),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            WebError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            WebError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            WebError::Internal(m) => {
                eprintln!("gapwatch console: {m}");
                (StatusCode::INTERNAL_SERVER_ERROR, m)
            }
        };
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
    }
}

/// Runs `f` on the read-only store connection (opened on first use) off the async
/// workers.
pub(crate) async fn read_store<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&Store) -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    let state = state.clone();
    blocking(move || {
        let mut guard = state.reader.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let store = Store::open_read_only(&state.state)
                .map_err(|e| WebError::Unavailable(format!("no data yet: {e}")))?;
            *guard = Some(store);
        }
        match guard.as_ref() {
            Some(store) => f(store),
            None => Err(WebError::Unavailable("no data yet".to_string())),
        }
    })
    .await?
}

/// Runs `f` on the read-write store connection off the async workers.
pub(crate) async fn write_store<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&mut Store) -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    let state = state.clone();
    blocking(move || {
        let mut guard = state.writer.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            *guard = Some(Store::open(&state.state)?);
        }
        match guard.as_mut() {
            Some(store) => f(store),
            None => Err(WebError::Unavailable("no data yet".to_string())),
        }
    })
    .await?
}
