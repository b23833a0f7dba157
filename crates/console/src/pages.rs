//! The pages, rendered on the server with maud inside one shell (navigation, the user
//! and role, a logout form). No inline script or style: the CSS and JS are files
//! embedded in the binary and served under `/static/`.

use crate::accounts::{generate_password, random_token, LoginOutcome, Principal, Role};
use crate::triage::{triage as do_triage, TriageRequest};
use crate::web::{
    blocking, cookie, read_store, set_cookie, WebError, LOGIN_COOKIE, SESSION_COOKIE,
};
use crate::AppState;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use learn::{Category, Severity};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use records::Timestamp;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use store::{AlertFilter, AlertStatus, AssetGroup, EventFilter};

const CSS: &str = include_str!("../static/console.css");
const JS: &str = include_str!("../static/console.js");
/// Alerts per page.
const ALERTS_PER_PAGE: u32 = 50;

type Page = Result<Response, WebError>;

fn html_response(markup: Markup) -> Response {
    Html(markup.into_string()).into_response()
}

/// The shared shell.
fn shell(who: &Principal, title: &str, body: Markup) -> Markup {
    let nav: &[(&str, &str, Role)] = &[
        ("/", "Overview", Role::Viewer),
        ("/assets", "Assets", Role::Viewer),
        ("/map", "Map", Role::Viewer),
        ("/alerts", "Alerts", Role::Viewer),
        ("/airgap", "Air gap", Role::Viewer),
        ("/events", "Events", Role::Viewer),
        ("/settings", "Settings", Role::Admin),
        ("/audit", "Audit", Role::Admin),
    ];
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · gapwatch" }
                link rel="stylesheet" href="/static/console.css";
                link rel="stylesheet" href="/static/views.css";
                script src="/static/console.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "gapwatch" }
                    nav {
                        @for (href, label, role) in nav {
                            @if who.role >= *role { a href=(href) { (label) } }
                        }
                    }
                    div.user {
                        span { (who.user) " (" (who.role) ")" }
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(who.csrf.clone().unwrap_or_default());
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

fn csrf_field(who: &Principal) -> Markup {
    html! { input type="hidden" name="csrf" value=(who.csrf.clone().unwrap_or_default()); }
}

/// Static files embedded in the binary.
pub(crate) async fn static_file(Path(file): Path<String>) -> Response {
    let (body, mime) = match file.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        other => match views::static_files()
            .iter()
            .find(|(name, ..)| *name == other)
        {
            Some((_, mime, body)) => (*body, *mime),
            None => return (StatusCode::NOT_FOUND, "not found").into_response(),
        },
    };
    ([(header::CONTENT_TYPE, mime)], body).into_response()
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    e: Option<String>,
}

/// The login form, with a fresh double-submit CSRF token.
pub(crate) async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    let token = random_token();
    let message = match q.e.as_deref() {
        Some("failed") => Some("Wrong user name or password."),
        Some("locked") => Some("Too many failed attempts: this user is locked for 15 minutes."),
        Some("throttled") => Some("Too many failed attempts from this address; try later."),
        Some("expired") => Some("The form expired; please try again."),
        _ => None,
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Sign in · gapwatch" }
                link rel="stylesheet" href="/static/console.css";
            }
            body.login {
                form.login method="post" action="/login" {
                    h1 { "gapwatch" }
                    @if let Some(m) = message { p.error { (m) } }
                    input type="hidden" name="csrf" value=(token);
                    label { "User" input name="name" autocomplete="username" required autofocus; }
                    label { "Password" input name="password" type="password" autocomplete="current-password" required; }
                    button type="submit" { "Sign in" }
                }
            }
        }
    };
    let mut response = html_response(page);
    if let Ok(v) = HeaderValue::from_str(&set_cookie(LOGIN_COOKIE, Some(&token))) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    name: String,
    password: String,
    csrf: String,
}

/// Checks the credentials; on success sets the session cookie.
pub(crate) async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Page {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !crate::accounts::constant_time_eq(expected, &form.csrf) {
        return Ok((StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response());
    }
    let accounts = state.accounts.clone();
    let outcome =
        blocking(move || accounts.login(&form.name, &form.password, Some(peer.ip()))).await??;
    let mut response = match &outcome {
        LoginOutcome::Ok { .. } => Redirect::to("/").into_response(),
        LoginOutcome::Failed => Redirect::to("/login?e=failed").into_response(),
        LoginOutcome::Locked(_) => Redirect::to("/login?e=locked").into_response(),
        LoginOutcome::Throttled => Redirect::to("/login?e=throttled").into_response(),
    };
    let h = response.headers_mut();
    if let LoginOutcome::Ok { token, .. } = &outcome {
        if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, Some(token))) {
            h.append(header::SET_COOKIE, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&set_cookie(LOGIN_COOKIE, None)) {
        h.append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// Ends the session.
pub(crate) async fn logout(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Page {
    let token = cookie(&headers, SESSION_COOKIE).unwrap_or("").to_string();
    let accounts = state.accounts.clone();
    blocking(move || {
        accounts.logout(&token)?;
        accounts.audit(&who.user, Some(&peer.ip().to_string()), "logout", "")
    })
    .await??;
    let mut response = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, None)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// What the overview shows from the store.
struct OverviewData {
    roles: Vec<(Option<String>, u64)>,
    zones: Vec<(Option<String>, u64)>,
    buckets: Vec<store::AlertBucket>,
    alerts_total: u64,
    open_total: u64,
}

/// Hours of alert history the overview charts.
const OVERVIEW_HOURS: i64 = 24;

/// Overview: assets by role and zone, alerts by severity per hour, the air-gap verdict
/// and sensor health.
pub(crate) async fn overview(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
) -> Page {
    let data = read_store(&state, |store| {
        let hour = 3_600_000_000i64;
        let buckets = match store.alert_time_range()? {
            Some((_, last)) => {
                let to = Timestamp((last.micros() / hour + 1) * hour);
                store.alert_histogram(to.plus_micros(-OVERVIEW_HOURS * hour), to, hour)?
            }
            None => Vec::new(),
        };
        Ok(OverviewData {
            roles: store.count_assets_by(AssetGroup::Role)?,
            zones: store.count_assets_by(AssetGroup::Zone)?,
            buckets,
            alerts_total: store.count_alerts()?,
            open_total: store.count_alerts_matching(&AlertFilter {
                status: Some(AlertStatus::Open),
                ..AlertFilter::default()
            })?,
        })
    })
    .await;
    let backend = state.backend.clone();
    let airgap = blocking(move || backend.airgap(None, None)).await?;
    let health = state.backend.health();
    let body = html! {
        section.cards {
            div.card {
                h2 { "Air gap" }
                @match &airgap {
                    Ok(a) => {
                        p.verdict { (a.summary) " " a href="/airgap" { "details" } }
                        (as_of_line(a))
                    },
                    Err(e) => p { "Not available: " (e) },
                }
            }
            div.card #health {
                h2 { "Sensor" }
                (health_table(&health))
            }
        }
        @match &data {
            Err(e) => p.notice { (no_data_message(e)) },
            Ok(d) => {
                section.cards {
                    div.card { h2 { "Assets by role" } (count_table("Role", &d.roles)) }
                    div.card { h2 { "Assets by zone" } (count_table("Zone", &d.zones)) }
                }
                section {
                    h2 { "Alerts by severity per hour" }
                    p { (d.alerts_total) " alerts, " a href="/alerts?status=open" { (d.open_total) " open" } "." }
                    (histogram(&d.buckets))
                }
            }
        }
    };
    Ok(html_response(shell(&who, "Overview", body)))
}

fn no_data_message(e: &WebError) -> String {
    match e {
        WebError::Unavailable(_) => "No data yet: the sensor has not stored anything.".into(),
        WebError::NotFound(m) | WebError::BadRequest(m) | WebError::Internal(m) => m.clone(),
    }
}

fn health_table(h: &crate::Health) -> Markup {
    html! {
        table.kv {
            tr { th { "State" } td { @if h.running { "running" } @else { "stopped" } } }
            tr { th { "Source" } td { (h.source) } }
            tr { th { "Packets" } td { (h.packets) } }
            tr { th { "Packets/s" } td { (format!("{:.0}", h.packets_per_sec)) } }
            tr { th { "Drops" } td { (h.drops) } }
            @for i in &h.interfaces {
                tr.iface { th { "Interface " (i.name) } td { (i.packets) " packets, " (i.drops) " dropped" } }
            }
            tr { th { "Flow evictions" } td { (h.evictions) } }
            tr { th { "Last packet" } td { (opt_ts(h.last_packet)) } }
            tr { th { "Learning" } td { (learning_state(h)) } }
        }
    }
}

/// Learning progress: a bar and the end while learning, else when it ended.
fn learning_state(h: &crate::Health) -> Markup {
    html! {
        @match (h.learning_progress, h.learning_until) {
            (Some(p), Some(until)) if p < 1.0 => {
                progress max="100" value=(format!("{:.0}", p * 100.0)) {}
                " " (format!("{:.0} %", p * 100.0)) ", until " (until)
            }
            (Some(_), Some(until)) => { "done (ended " (until) ")" }
            _ => { "not started" }
        }
    }
}

/// When the verdict was built, and whether a newer one is on its way.
fn as_of_line(a: &crate::Airgap) -> Markup {
    html! {
        @if let Some(at) = a.as_of {
            p.as-of {
                "As of " (wall_time(at)) " UTC"
                @if a.updating { " — new alerts arrived; an updated verdict is being built" }
            }
        }
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS`.
fn wall_time(secs: i64) -> String {
    let text = Timestamp(secs.saturating_mul(1_000_000)).to_string();
    text.get(..19).unwrap_or(&text).replace('T', " ")
}

fn opt_ts(ts: Option<Timestamp>) -> String {
    ts.map_or_else(|| "-".to_string(), |t| t.to_string())
}

fn count_table(what: &str, rows: &[(Option<String>, u64)]) -> Markup {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    html! {
        table.bars {
            tr { th { (what) } th { "Assets" } th {} }
            @for (name, n) in rows {
                tr {
                    td { (name.as_deref().unwrap_or("(none)")) }
                    td.num { (n) }
                    td { meter min="0" max=(max) value=(n) {} }
                }
            }
        }
    }
}

fn histogram(buckets: &[store::AlertBucket]) -> Markup {
    let mut hours: Vec<(Timestamp, [u64; 4])> = Vec::new();
    for b in buckets {
        let i = match b.severity.as_str() {
            "critical" => 0,
            "high" => 1,
            "medium" => 2,
            _ => 3,
        };
        match hours.last_mut() {
            Some((start, counts)) if *start == b.start => counts[i] += b.count,
            _ => {
                let mut counts = [0; 4];
                counts[i] = b.count;
                hours.push((b.start, counts));
            }
        }
    }
    let max = hours
        .iter()
        .map(|(_, c)| c.iter().sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1);
    html! {
        @if hours.is_empty() { p { "No alerts." } }
        @else {
            table.hist {
                tr { th { "Hour (UTC)" } th { "critical" } th { "high" } th { "medium" } th { "low" } th {} }
                @for (start, c) in &hours {
                    tr {
                        td { (start.to_string().get(..13).unwrap_or("")) ":00" }
                        @for n in c { td.num { (n) } }
                        td { meter min="0" max=(max) value=(c.iter().sum::<u64>()) {} }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct AlertQuery {
    severity: Option<String>,
    category: Option<String>,
    ip: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u32>,
}

/// The query string of a filtered list's `page`: the filters that are set, then the
/// page number.
fn page_query(filters: &[(&str, &Option<String>)], page: u32) -> String {
    let mut out: Vec<(String, String)> = filters
        .iter()
        .filter_map(|(k, v)| nonempty(v).map(|v| (k.to_string(), v.to_string())))
        .collect();
    out.push(("page".to_string(), page.to_string()));
    serde_urlencoded::to_string(out).unwrap_or_default()
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The store filter for the query's fields; errors name the field.
pub(crate) fn alert_filter(
    severity: &Option<String>,
    category: &Option<String>,
    ip: &Option<String>,
    status: &Option<String>,
    from: &Option<String>,
    to: &Option<String>,
) -> Result<AlertFilter, WebError> {
    let bad = |field: &str, v: &str| WebError::BadRequest(format!("{field}: cannot read {v:?}"));
    Ok(AlertFilter {
        min_severity: nonempty(severity)
            .map(|v| parse_severity(v).ok_or_else(|| bad("severity", v)))
            .transpose()?,
        category: nonempty(category)
            .map(|v| {
                serde_json::from_value::<Category>(serde_json::Value::String(v.to_string()))
                    .map_err(|_| bad("category", v))
            })
            .transpose()?,
        ip: nonempty(ip)
            .map(|v| v.parse().map_err(|_| bad("ip", v)))
            .transpose()?,
        status: nonempty(status)
            .map(|v| v.parse().map_err(|_| bad("status", v)))
            .transpose()?,
        from: nonempty(from)
            .map(|v| v.parse().map_err(|_| bad("from", v)))
            .transpose()?,
        to: nonempty(to)
            .map(|v| v.parse().map_err(|_| bad("to", v)))
            .transpose()?,
        newest_first: true,
        limit: None,
    })
}

/// Every alert category name (as in the `alert` record).
const CATEGORIES: [&str; 17] = [
    "new_device",
    "new_connection",
    "scan",
    "unusual_operation",
    "plc_control",
    "value_anomaly",
    "timing_anomaly",
    "volume_anomaly",
    "external_connection",
    "dns_external",
    "it_ot_crossing",
    "beaconing",
    "exfiltration",
    "lateral_movement",
    "remote_access",
    "file_transfer",
    "protocol_anomaly",
];

fn parse_severity(v: &str) -> Option<Severity> {
    [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ]
    .into_iter()
    .find(|s| s.name() == v)
}

/// The alert list with filters and paging.
pub(crate) async fn alerts(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Query(q): Query<AlertQuery>,
) -> Page {
    let mut filter = alert_filter(&q.severity, &q.category, &q.ip, &q.status, &q.from, &q.to)?;
    filter.limit = Some(ALERTS_PER_PAGE);
    let page = q.page.unwrap_or(0).min(100_000);
    let offset = page.saturating_mul(ALERTS_PER_PAGE);
    let f = filter.clone();
    let result = read_store(&state, move |store| {
        Ok((
            store.count_alerts_matching(&f)?,
            store.alerts_page(&f, offset)?,
        ))
    })
    .await;
    let query_string = |page: u32| {
        page_query(
            &[
                ("severity", &q.severity),
                ("category", &q.category),
                ("ip", &q.ip),
                ("status", &q.status),
                ("from", &q.from),
                ("to", &q.to),
            ],
            page,
        )
    };
    let sel = |v: &Option<String>, option: &str| nonempty(v) == Some(option);
    let body = html! {
        form.filters method="get" action="/alerts" {
            label { "Severity ≥ " select name="severity" {
                option value="" { "any" }
                @for s in ["low", "medium", "high", "critical"] {
                    option value=(s) selected[sel(&q.severity, s)] { (s) }
                }
            } }
            label { "Category " select name="category" {
                option value="" { "any" }
                @for c in CATEGORIES {
                    option value=(c) selected[sel(&q.category, c)] { (c) }
                }
            } }
            label { "Status " select name="status" {
                option value="" { "any" }
                @for s in AlertStatus::ALL {
                    option value=(s.as_str()) selected[sel(&q.status, s.as_str())] { (s.as_str()) }
                }
            } }
            label { "Asset IP " input name="ip" value=(nonempty(&q.ip).unwrap_or("")) size="15"; }
            label { "From " input name="from" value=(nonempty(&q.from).unwrap_or("")) placeholder="2026-11-28T00:00:00Z" size="22"; }
            label { "To " input name="to" value=(nonempty(&q.to).unwrap_or("")) size="22"; }
            button type="submit" { "Filter" }
        }
        @match &result {
            Err(e) => p.notice { (no_data_message(e)) },
            Ok((total, rows)) => {
                p { (total) " alerts match; page " (page + 1) " of " ((total.div_ceil(u64::from(ALERTS_PER_PAGE))).max(1)) "." }
                table.list {
                    tr { th { "#" } th { "First seen" } th { "Severity" } th { "Category" } th { "Title" } th { "Count" } th { "Status" } }
                    @for s in rows {
                        tr {
                            td { a href=(format!("/alerts/{}", s.alert.id)) { (s.alert.id) } }
                            td { (s.alert.ts) }
                            td { span class=(format!("sev sev-{}", s.alert.severity.name())) { (s.alert.severity.name()) } }
                            td { (s.alert.category.name()) }
                            td { a href=(format!("/alerts/{}", s.alert.id)) { (s.alert.title) } }
                            td.num { (s.alert.count) }
                            td { (s.status) }
                        }
                    }
                }
                nav.pager {
                    @if page > 0 { a href=(format!("/alerts?{}", query_string(page - 1))) { "← newer" } }
                    @if u64::from(offset) + (rows.len() as u64) < *total {
                        a href=(format!("/alerts?{}", query_string(page + 1))) { "older →" }
                    }
                }
            }
        }
    };
    Ok(html_response(shell(&who, "Alerts", body)))
}

/// One alert: explanation, hosts, ATT&CK, evidence, triage.
pub(crate) async fn alert(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<u64>,
) -> Page {
    let stored = read_store(&state, move |store| Ok(store.alert(id)?))
        .await?
        .ok_or_else(|| WebError::NotFound(format!("no alert {id}")))?;
    let evidence = state
        .state
        .join("evidence")
        .join(format!("alert-{id}.pcap"));
    let has_pcap = evidence.is_file();
    let a = &stored.alert;
    let body = html! {
        p.lead { span class=(format!("sev sev-{}", a.severity.name())) { (a.severity.name()) } " " (a.title) }
        table.kv {
            tr { th { "Category" } td { (a.category.name()) } }
            tr { th { "Score" } td { (format!("{:.2}", a.score)) } }
            tr { th { "First / last" } td { (a.ts) " – " (a.ts_last) } }
            tr { th { "Occurrences" } td { (a.count) } }
            tr { th { "Source" } td { (a.src_ip.map(|i| i.to_string()).unwrap_or_default()) " " (a.src_mac.map(|m| m.to_string()).unwrap_or_default()) } }
            tr { th { "Destination" } td { (a.dst_ip.map(|i| i.to_string()).unwrap_or_default()) (a.dst_port.map(|p| format!(":{p}")).unwrap_or_default()) } }
            tr { th { "Protocol" } td { (a.protocol.clone().unwrap_or_default()) } }
            tr { th { "Hosts" } td {
                @for h in &a.hosts { a href=(format!("/alerts?ip={h}")) { (h) } " " }
            } }
            tr { th { "ATT&CK for ICS" } td { (a.attack.join(", ")) } }
            tr { th { "Model" } td { (a.model) } }
            tr { th { "Status" } td { (stored.status) @if let Some(c) = &stored.comment { " — " (c) } } }
            tr { th { "Evidence" } td {
                @if has_pcap { a href=(format!("/alerts/{id}/evidence.pcap")) { "alert-" (id) ".pcap" } }
                @else { "no capture file" }
                " · flows " (a.evidence.flow_ids.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))
            } }
        }
        h2 { "Explanation" }
        p.explanation { (a.explanation) }
        @if who.role >= Role::Analyst {
            h2 { "Triage" }
            form.triage method="post" action=(format!("/alerts/{id}/triage")) {
                (csrf_field(&who))
                label { "Comment " input name="comment" size="60" value=(stored.comment.clone().unwrap_or_default()); }
                button name="status" value="acknowledged" type="submit" { "Acknowledge" }
                button name="status" value="resolved" type="submit" { "Resolve" }
                button name="status" value="expected" type="submit" title="Fold this behaviour into the baseline" { "Mark expected" }
                button name="status" value="open" type="submit" { "Reopen" }
            }
        }
    };
    Ok(html_response(shell(&who, &format!("Alert #{id}"), body)))
}

/// The evidence capture of an alert.
pub(crate) async fn evidence(State(state): State<Arc<AppState>>, Path(id): Path<u64>) -> Page {
    // The file name is built from the number alone: no path from the request is used.
    let path = state
        .state
        .join("evidence")
        .join(format!("alert-{id}.pcap"));
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| WebError::NotFound(format!("no evidence capture for alert {id}")))?;
    let disposition = format!("attachment; filename=\"alert-{id}.pcap\"");
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.tcpdump.pcap"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// The triage form's target.
pub(crate) async fn triage(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<u64>,
    Form(form): Form<TriageRequest>,
) -> Page {
    let status: AlertStatus = form.status.parse().map_err(WebError::BadRequest)?;
    do_triage(
        &state,
        &who,
        Some(peer.ip().to_string()),
        id,
        status,
        form.comment,
    )
    .await?;
    Ok(Redirect::to(&format!("/alerts/{id}")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

fn range(q: &RangeQuery) -> Result<(Option<Timestamp>, Option<Timestamp>), WebError> {
    let parse = |field: &str, v: &Option<String>| {
        nonempty(v)
            .map(|s| {
                s.parse()
                    .map_err(|_| WebError::BadRequest(format!("{field}: cannot read {s:?}")))
            })
            .transpose()
    };
    Ok((parse("from", &q.from)?, parse("to", &q.to)?))
}

/// The air-gap verdict inside the console.
pub(crate) async fn airgap(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Query(q): Query<RangeQuery>,
) -> Page {
    let (from, to) = range(&q)?;
    let backend = state.backend.clone();
    let report = blocking(move || backend.airgap(from, to)).await?;
    let report_link = format!(
        "/airgap/report?{}",
        serde_urlencoded::to_string([
            ("from", nonempty(&q.from).unwrap_or("")),
            ("to", nonempty(&q.to).unwrap_or(""))
        ])
        .unwrap_or_default()
    );
    let body = html! {
        form.filters method="get" action="/airgap" {
            label { "From " input name="from" value=(nonempty(&q.from).unwrap_or("")) size="22"; }
            label { "To " input name="to" value=(nonempty(&q.to).unwrap_or("")) size="22"; }
            button type="submit" { "Show" }
            " " a href=(report_link) { "Printable report" }
        }
        @match &report {
            Ok(r) => {
                p.verdict { (r.summary) }
                (as_of_line(r))
                div.report { (PreEscaped(body_of(&r.html))) }
            }
            Err(e) => p.notice { "Not available: " (e) },
        }
    };
    Ok(html_response(shell(&who, "Air-gap verdict", body)))
}

/// The inside of a document's `<body>` (the report's own styles stay out: the console's
/// CSS styles it).
fn body_of(document: &str) -> &str {
    let start = document
        .find("<body")
        .and_then(|i| document[i..].find('>').map(|j| i + j + 1))
        .unwrap_or(0);
    let end = document.rfind("</body>").unwrap_or(document.len());
    document.get(start..end.max(start)).unwrap_or("")
}

/// The standalone report, with its own style block allowed by hash.
pub(crate) async fn airgap_report(
    State(state): State<Arc<AppState>>,
    Query(q): Query<RangeQuery>,
) -> Page {
    use base64::Engine as _;
    use sha2::Digest as _;
    let (from, to) = range(&q)?;
    let backend = state.backend.clone();
    let report = blocking(move || backend.airgap(from, to))
        .await?
        .map_err(WebError::Unavailable)?;
    let mut csp = String::from("default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
    if let (Some(a), Some(b)) = (report.html.find("<style>"), report.html.find("</style>")) {
        if let Some(style) = report.html.get(a + 7..b) {
            let digest = sha2::Sha256::digest(style.as_bytes());
            let hash = base64::engine::general_purpose::STANDARD.encode(digest);
            csp.push_str(&format!("; style-src 'self' 'sha256-{hash}'"));
        }
    }
    let mut response = Html(report.html).into_response();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(response)
}

/// Lines of the protocol event log per page.
const EVENTS_PER_PAGE: u32 = 100;

/// The event search form's fields.
#[derive(Deserialize)]
pub(crate) struct EventQuery {
    ip: Option<String>,
    protocol: Option<String>,
    op: Option<String>,
    text: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u32>,
}

/// Protocol event log search: one line per kind of message per minute, newest first.
pub(crate) async fn events(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Query(q): Query<EventQuery>,
) -> Page {
    let bad = |field: &str, v: &str| WebError::BadRequest(format!("{field}: cannot read {v:?}"));
    let page = q.page.unwrap_or(0).min(100_000);
    let offset = page.saturating_mul(EVENTS_PER_PAGE);
    let filter = EventFilter {
        ip: nonempty(&q.ip)
            .map(|v| v.parse().map_err(|_| bad("ip", v)))
            .transpose()?,
        from: nonempty(&q.from)
            .map(|v| v.parse().map_err(|_| bad("from", v)))
            .transpose()?,
        to: nonempty(&q.to)
            .map(|v| v.parse().map_err(|_| bad("to", v)))
            .transpose()?,
        protocol: nonempty(&q.protocol).map(str::to_string),
        op: nonempty(&q.op).map(str::to_string),
        text: nonempty(&q.text).map(str::to_string),
        newest_first: true,
        // One more than a page tells whether there is a next one.
        limit: Some(EVENTS_PER_PAGE + 1),
        offset: Some(offset),
    };
    let result = read_store(&state, move |store| Ok(store.event_lines(&filter)?)).await;
    let query_string = |page: u32| {
        page_query(
            &[
                ("ip", &q.ip),
                ("protocol", &q.protocol),
                ("op", &q.op),
                ("text", &q.text),
                ("from", &q.from),
                ("to", &q.to),
            ],
            page,
        )
    };
    let value = |v: &Option<String>| nonempty(v).unwrap_or("").to_string();
    let addr =
        |ip: Option<std::net::IpAddr>| ip.map_or_else(|| "-".to_string(), |ip| ip.to_string());
    let body = html! {
        p { "Protocol messages, folded per minute: one line for each sender, receiver, protocol, function, direction, status and unit, with how many messages it stands for." }
        form.filters method="get" action="/events" {
            label { "Address " input name="ip" value=(value(&q.ip)) size="15"; }
            label { "Protocol " input name="protocol" value=(value(&q.protocol)) placeholder="modbus" size="10"; }
            label { "Operation " select name="op" {
                option value="" { "any" }
                @for op in ["read", "write", "control", "program", "diagnostic", "identify", "session", "other"] {
                    option value=(op) selected[nonempty(&q.op) == Some(op)] { (op) }
                }
            } }
            label { "Function or point " input name="text" value=(value(&q.text)) placeholder="write_single_register" size="22"; }
            label { "From " input name="from" value=(value(&q.from)) placeholder="2026-11-28T00:00:00Z" size="22"; }
            label { "To " input name="to" value=(value(&q.to)) size="22"; }
            button type="submit" { "Search" }
        }
        @match &result {
            Err(e) => p.notice { (no_data_message(e)) },
            Ok(lines) if lines.is_empty() => p.notice { "No protocol messages match." },
            Ok(lines) => {
                table.list {
                    tr { th { "First" } th { "Last" } th { "From" } th { "To" } th { "Protocol" } th { "Function" } th { "Operation" } th { "Unit" } th { "Points" } th { "Status" } th { "Messages" } }
                    @for l in lines.iter().take(EVENTS_PER_PAGE as usize) {
                        tr {
                            td { (l.ts_first) }
                            td { (l.ts_last) }
                            td { (addr(l.src_ip)) }
                            td { (addr(l.dst_ip)) }
                            td { (l.protocol) }
                            td { (l.function_name) @if l.is_response { " (response)" } }
                            td { (l.op) }
                            td { @if let Some(u) = l.unit { (u) } }
                            td { (l.targets) }
                            td { (l.status) }
                            td.num { (l.count) }
                        }
                    }
                }
                nav.pager {
                    @if page > 0 { a href=(format!("/events?{}", query_string(page - 1))) { "← newer" } }
                    @if lines.len() > EVENTS_PER_PAGE as usize {
                        a href=(format!("/events?{}", query_string(page + 1))) { "older →" }
                    }
                }
            }
        }
    };
    Ok(html_response(shell(&who, "Events", body)))
}

/// The asset inventory: sort, filter, search, paging (rendered by `views`).
pub(crate) async fn assets(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Query(q): Query<views::assets::AssetQuery>,
) -> Page {
    let result = read_store(&state, |store| Ok(views::load::asset_list(store)?)).await;
    let body = match &result {
        Ok(list) => views::assets::list(list, &q),
        Err(e) => html! { p.notice { (no_data_message(e)) } },
    };
    Ok(html_response(shell(&who, "Assets", body)))
}

/// The inventory as CSV, with the page's filter and sort.
pub(crate) async fn assets_csv(
    State(state): State<Arc<AppState>>,
    Query(q): Query<views::assets::AssetQuery>,
) -> Page {
    let list = read_store(&state, |store| Ok(views::load::asset_list(store)?)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"gapwatch-assets.csv\"",
            ),
        ],
        views::assets::csv(&list, &q),
    )
        .into_response())
}

/// One asset: identity and its sources, addresses, peers, alerts and its pattern of
/// life (rendered by `views`).
pub(crate) async fn asset(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Page {
    let key = id.clone();
    let shared = state.clone();
    let cx = read_store(&state, move |store| {
        // The learnt state is restored once per save of the sensor, not per page.
        let saved_at = store.model_state_saved_at()?;
        let mut cache = shared.learnt.lock().unwrap_or_else(|e| e.into_inner());
        if cache.as_ref().map(|l| l.saved_at) != Some(saved_at) {
            *cache = views::load::learnt(store)?;
        }
        Ok(views::load::asset(store, &key, cache.as_ref())?)
    })
    .await?
    .ok_or_else(|| WebError::NotFound(format!("no asset {id}")))?;
    let title = format!("Asset {}", cx.asset.id);
    Ok(html_response(shell(&who, &title, views::asset::page(&cx))))
}

/// The network map: Purdue levels as layers, zones within them (rendered by `views`).
pub(crate) async fn map(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Query(q): Query<views::map::MapQuery>,
) -> Page {
    let result = read_store(&state, |store| Ok(views::load::map(store)?)).await;
    let body = match &result {
        Ok(data) => views::map::render(data, &q),
        Err(e) => html! { p.notice { (no_data_message(e)) } },
    };
    Ok(html_response(shell(&who, "Network map", body)))
}

/// Settings: users, learning period, zone file.
pub(crate) async fn settings(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
) -> Page {
    settings_page(&state, &who, None, None).await
}

/// The settings page; `created`: a user just added and their generated password, shown
/// once in this response (never in a URL, so it stays out of history and logs);
/// `notice`: the outcome of a zone file change.
async fn settings_page(
    state: &Arc<AppState>,
    who: &Principal,
    created: Option<(String, String)>,
    notice: Option<(bool, String)>,
) -> Page {
    let accounts = state.accounts.clone();
    let users = blocking(move || accounts.users()).await??;
    let lines = state.backend.settings();
    let health = state.backend.health();
    let backend = state.backend.clone();
    let zone_text = blocking(move || backend.zone_file()).await?;
    let body = html! {
        @if let Some((user, password)) = &created {
            p.notice { "Password for " strong { (user) } ": " code { (password) } " — shown once; hand it over now." }
        }
        @if let Some((ok, text)) = &notice {
            p class=(if *ok { "notice" } else { "notice error" }) { (text) }
        }
        h2 { "Sensor" }
        table.kv { @for (k, v) in &lines { tr { th { (k) } td { (v) } } } }
        h2 { "Learning" }
        p { "While learning, gapwatch builds each model's baseline and raises only policy alerts (PLC stop, program download, crossings the zone file forbids). "
            "The period counts from the first packet this state folder ever saw. A change takes effect from the sensor's next packet: "
            "a longer period resumes learning until its new end, even when learning had ended; a shorter one ends it. "
            "It is kept for the next start (" code { "--learn" } " overrides it)." }
        table.kv #learning {
            tr { th { "Period" } td { (learn::text::span(health.learning_period_secs as f64)) } }
            tr { th { "Progress" } td { (learning_state(&health)) } }
        }
        form.filters method="post" action="/settings/learning" {
            (csrf_field(who))
            label { "Learning period " input name="period" value=(period_text(health.learning_period_secs)) placeholder="7d" size="8" required; }
            span { "a number with s, m, h, d or w (90s, 15m, 7d)" }
            button type="submit" { "Set learning period" }
        }
        h2 { "Zones" }
        p { "The zone file names the network's zones (CIDR and/or VLAN, kind, Purdue level) and the crossings allowed between them; "
            code { "gapwatch zones suggest" } " prints a starting file. A saved file takes effect from the sensor's next packet." }
        form method="post" action="/settings/zones" {
            (csrf_field(who))
            textarea name="zones" rows="16" cols="90" spellcheck="false" { (zone_text.as_deref().unwrap_or("")) }
            div { button type="submit" { "Save zone file" } }
        }
        h2 { "Users" }
        table.list {
            tr { th { "User" } th { "Role" } th { "Change role" } th {} }
            @for u in &users {
                tr {
                    td { (u.name) }
                    td { (u.role) }
                    td {
                        form.inline method="post" action=(format!("/settings/users/{}/role", u.name)) {
                            (csrf_field(who))
                            select name="role" { @for r in Role::ALL { option value=(r.as_str()) selected[r == u.role] { (r) } } }
                            button type="submit" { "Set" }
                        }
                    }
                    td {
                        @if u.name != who.user {
                            form.inline method="post" action=(format!("/settings/users/{}/remove", u.name)) {
                                (csrf_field(who))
                                button.danger type="submit" { "Remove" }
                            }
                        }
                    }
                }
            }
        }
        h3 { "Add a user" }
        form.filters method="post" action="/settings/users" {
            (csrf_field(who))
            label { "Name " input name="name" required; }
            label { "Role " select name="role" { @for r in Role::ALL { option value=(r.as_str()) { (r) } } } }
            span { "A password is generated and shown once." }
            button type="submit" { "Add" }
        }
    };
    Ok(html_response(shell(who, "Settings", body)))
}

#[derive(Deserialize)]
pub(crate) struct AddUserForm {
    name: String,
    role: String,
}

/// Adds a user with a generated password, shown once on the settings page.
pub(crate) async fn add_user(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<AddUserForm>,
) -> Page {
    let role: Role = form.role.parse().map_err(WebError::BadRequest)?;
    let password = generate_password();
    let accounts = state.accounts.clone();
    let (name, pw) = (form.name.clone(), password.clone());
    let actor = who.clone();
    blocking(move || {
        accounts.add_user(&name, role, &pw)?;
        accounts.audit(
            &actor.user,
            Some(&peer.ip().to_string()),
            "user_add",
            &format!("added {name} as {role}"),
        )
    })
    .await??;
    settings_page(&state, &who, Some((form.name, password)), None).await
}

#[derive(Deserialize)]
pub(crate) struct ZonesForm {
    zones: String,
}

/// Replaces the zone file: validated, kept in the state folder, applied by the running
/// sensor from its next packet, and audited.
pub(crate) async fn set_zones(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<ZonesForm>,
) -> Page {
    let backend = state.backend.clone();
    let outcome = blocking(move || backend.set_zone_file(&form.zones)).await?;
    if let Ok(summary) = &outcome {
        let accounts = state.accounts.clone();
        let (actor, detail) = (who.user.clone(), summary.clone());
        blocking(move || {
            accounts.audit(
                &actor,
                Some(&peer.ip().to_string()),
                "zones_set",
                &format!("zone file replaced: {detail}"),
            )
        })
        .await??;
    }
    let notice = match outcome {
        Ok(summary) => (true, format!("Zone file saved and applied: {summary}.")),
        Err(e) => (false, format!("Zone file not saved: {e}")),
    };
    settings_page(&state, &who, None, Some(notice)).await
}

/// A period in seconds as the form's text, in the largest unit that divides it.
fn period_text(secs: u64) -> String {
    let units = [(604_800, "w"), (86_400, "d"), (3_600, "h"), (60, "m")];
    units
        .iter()
        .find(|(size, _)| secs > 0 && secs % size == 0)
        .map_or_else(
            || format!("{secs}s"),
            |(size, u)| format!("{}{u}", secs / size),
        )
}

/// The longest learning period accepted (a typo like `700d` is refused).
const MAX_LEARNING_DAYS: i64 = 366;

#[derive(Deserialize)]
pub(crate) struct LearningForm {
    period: String,
}

/// Sets the learning period: validated, kept in the state folder, applied by the
/// running sensor from its next packet, and audited.
pub(crate) async fn set_learning(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<LearningForm>,
) -> Page {
    let text = form.period.trim().to_string();
    let before = state.backend.health().learning_period_secs;
    let parsed = learn::parse_duration(&text).and_then(|micros| {
        if micros > MAX_LEARNING_DAYS * 86_400_000_000 {
            Err(format!(
                "duration {text:?}: at most {MAX_LEARNING_DAYS} days"
            ))
        } else {
            Ok(micros)
        }
    });
    let outcome = match parsed {
        Ok(micros) => {
            let backend = state.backend.clone();
            blocking(move || backend.set_learning_period(micros)).await?
        }
        Err(e) => Err(e),
    };
    if outcome.is_ok() {
        let accounts = state.accounts.clone();
        let detail = format!(
            "learning period set to {text} (was {})",
            period_text(before)
        );
        let actor = who.user.clone();
        blocking(move || {
            accounts.audit(
                &actor,
                Some(&peer.ip().to_string()),
                "learning_set",
                &detail,
            )
        })
        .await??;
    }
    let notice = match outcome {
        Ok(summary) => (true, format!("Learning period set: {summary}.")),
        Err(e) => (false, format!("Learning period not changed: {e}")),
    };
    settings_page(&state, &who, None, Some(notice)).await
}

#[derive(Deserialize)]
pub(crate) struct RoleForm {
    role: String,
}

/// Changes a user's role.
pub(crate) async fn set_role(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    Form(form): Form<RoleForm>,
) -> Page {
    let role: Role = form.role.parse().map_err(WebError::BadRequest)?;
    let detail = format!("{name} is now {role}");
    change_user(&state, who, peer, "user_role", detail, move |accounts| {
        accounts.set_role(&name, role)
    })
    .await
}

/// Removes a user (not oneself).
pub(crate) async fn remove_user(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
) -> Page {
    if name == who.user {
        return Err(WebError::BadRequest(
            "you cannot remove yourself".to_string(),
        ));
    }
    let detail = format!("removed {name}");
    change_user(&state, who, peer, "user_remove", detail, move |accounts| {
        accounts.remove_user(&name)
    })
    .await
}

/// Applies an account change (true: a user was changed), audits it as `action` with
/// `detail`, and goes back to the settings; no such user is a 404.
async fn change_user(
    state: &Arc<AppState>,
    who: Principal,
    peer: SocketAddr,
    action: &'static str,
    detail: String,
    change: impl FnOnce(&crate::Accounts) -> Result<bool, crate::accounts::AccountError>
        + Send
        + 'static,
) -> Page {
    let accounts = state.accounts.clone();
    let changed = blocking(move || {
        let changed = change(&accounts)?;
        if changed {
            accounts.audit(&who.user, Some(&peer.ip().to_string()), action, &detail)?;
        }
        Ok::<_, crate::accounts::AccountError>(changed)
    })
    .await??;
    if !changed {
        return Err(WebError::NotFound("no such user".to_string()));
    }
    Ok(Redirect::to("/settings").into_response())
}

/// The audit log.
pub(crate) async fn audit(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
) -> Page {
    let accounts = state.accounts.clone();
    let entries = blocking(move || accounts.audit_log(500)).await??;
    let body = html! {
        p { "The latest " (entries.len()) " entries, newest first." }
        table.list {
            tr { th { "Time (UTC)" } th { "User" } th { "Address" } th { "Action" } th { "Detail" } }
            @for e in &entries {
                tr {
                    td { (Timestamp(e.ts.saturating_mul(1_000_000)).to_string().get(..19).unwrap_or("")) }
                    td { (e.user) }
                    td { (e.ip.clone().unwrap_or_default()) }
                    td { (e.action) }
                    td { (e.detail) }
                }
            }
        }
    };
    Ok(html_response(shell(&who, "Audit log", body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_name_is_one_the_engine_knows() {
        for name in CATEGORIES {
            let parsed: Category =
                serde_json::from_value(serde_json::Value::String(name.to_string()))
                    .unwrap_or_else(|_| panic!("unknown category {name}"));
            assert_eq!(parsed.name(), name);
        }
    }

    #[test]
    fn the_report_body_is_cut_out_of_its_document() {
        assert_eq!(
            body_of("<html><body class=\"x\"><p>a</p></body></html>"),
            "<p>a</p>"
        );
        assert_eq!(body_of("no body"), "no body");
        assert_eq!(body_of("</body><body>"), "");
    }
}
