//! The REST API under `/api/v1`: the same records as the command line's `--json`
//! (assets, alerts with their triage, flows), alert triage, and sensor health. The
//! OpenAPI document `openapi.json` describes it and is served with it.

use crate::accounts::Principal;
use crate::pages::alert_filter;
use crate::triage::{triage as do_triage, TriageRequest};
use crate::web::{read_store, WebError};
use crate::AppState;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use store::{AlertStatus, FlowFilter, StoredAlert};

/// The OpenAPI document.
pub const OPENAPI: &str = include_str!("../openapi.json");
/// Largest page the API returns.
const MAX_LIMIT: u32 = 1000;
/// Page size when none is asked for.
const DEFAULT_LIMIT: u32 = 100;

type ApiResult = Result<Response, WebError>;

/// `GET /api/v1/openapi.json`.
pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// `GET /api/v1/health`.
pub(crate) async fn health(State(state): State<Arc<AppState>>) -> ApiResult {
    Ok(Json(state.backend.health()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct Paging {
    limit: Option<u32>,
    offset: Option<u32>,
}

fn limit(l: Option<u32>) -> u32 {
    l.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

/// `GET /api/v1/assets`.
pub(crate) async fn assets(
    State(state): State<Arc<AppState>>,
    Query(p): Query<Paging>,
) -> ApiResult {
    let (limit, offset) = (limit(p.limit), p.offset.unwrap_or(0));
    let (total, rows) = read_store(&state, move |store| {
        Ok((store.count_assets()?, store.assets_page(limit, offset)?))
    })
    .await?;
    Ok(Json(json!({ "total": total, "offset": offset, "items": rows })).into_response())
}

/// `GET /api/v1/assets/{id}`.
pub(crate) async fn asset(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    let key = id.clone();
    let found = read_store(&state, move |store| Ok(store.asset(&key)?)).await?;
    match found {
        Some(a) => Ok(Json(a).into_response()),
        None => Err(WebError::NotFound(format!("no asset {id}"))),
    }
}

/// An alert record with its triage fields added.
fn alert_json(stored: &StoredAlert) -> Value {
    let mut v = serde_json::to_value(&stored.alert).unwrap_or(Value::Null);
    if let Some(map) = v.as_object_mut() {
        map.insert("status".into(), json!(stored.status.as_str()));
        map.insert("comment".into(), json!(stored.comment));
        map.insert(
            "triaged_at".into(),
            json!(stored.updated_at.map(|t| t.to_string())),
        );
    }
    v
}

#[derive(Deserialize)]
pub(crate) struct AlertQuery {
    severity: Option<String>,
    category: Option<String>,
    ip: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// `GET /api/v1/alerts`: newest first.
pub(crate) async fn alerts(
    State(state): State<Arc<AppState>>,
    Query(q): Query<AlertQuery>,
) -> ApiResult {
    let mut filter = alert_filter(&q.severity, &q.category, &q.ip, &q.status, &q.from, &q.to)?;
    filter.limit = Some(limit(q.limit));
    let offset = q.offset.unwrap_or(0);
    let (total, rows) = read_store(&state, move |store| {
        Ok((
            store.count_alerts_matching(&filter)?,
            store.alerts_page(&filter, offset)?,
        ))
    })
    .await?;
    let items: Vec<Value> = rows.iter().map(alert_json).collect();
    Ok(Json(json!({ "total": total, "offset": offset, "items": items })).into_response())
}

/// `GET /api/v1/alerts/{id}`.
pub(crate) async fn alert(State(state): State<Arc<AppState>>, Path(id): Path<u64>) -> ApiResult {
    let found = read_store(&state, move |store| Ok(store.alert(id)?)).await?;
    match found {
        Some(a) => Ok(Json(alert_json(&a)).into_response()),
        None => Err(WebError::NotFound(format!("no alert {id}"))),
    }
}

/// `POST /api/v1/alerts/{id}/triage`: returns the alert as now stored.
pub(crate) async fn triage(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<u64>,
    Json(body): Json<TriageRequest>,
) -> ApiResult {
    let status: AlertStatus = body.status.parse().map_err(WebError::BadRequest)?;
    do_triage(
        &state,
        &who,
        Some(peer.ip().to_string()),
        id,
        status,
        body.comment,
    )
    .await?;
    let stored = read_store(&state, move |store| Ok(store.alert(id)?))
        .await?
        .ok_or_else(|| WebError::NotFound(format!("no alert {id}")))?;
    Ok(Json(alert_json(&stored)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct FlowQuery {
    ip: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/flows`: earliest first.
pub(crate) async fn flows(
    State(state): State<Arc<AppState>>,
    Query(q): Query<FlowQuery>,
) -> ApiResult {
    let bad = |field: &str, v: &str| WebError::BadRequest(format!("{field}: cannot read {v:?}"));
    let pick = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let filter = FlowFilter {
        run: None,
        ip: pick(&q.ip)
            .map(|v| v.parse().map_err(|_| bad("ip", &v)))
            .transpose()?,
        from: pick(&q.from)
            .map(|v| v.parse().map_err(|_| bad("from", &v)))
            .transpose()?,
        to: pick(&q.to)
            .map(|v| v.parse().map_err(|_| bad("to", &v)))
            .transpose()?,
        limit: Some(limit(q.limit)),
    };
    let rows = read_store(&state, move |store| Ok(store.flows(&filter)?)).await?;
    let items: Vec<&records::FlowRecord> = rows.iter().map(|f| &f.record).collect();
    Ok(Json(json!({ "items": items })).into_response())
}
