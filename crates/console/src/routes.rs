//! The route table: every route the console serves, with the lowest role allowed.
//! The guard refuses any request whose route is not in this table, so a route cannot be
//! added without deciding who may use it; the tests iterate the table.

use crate::accounts::Role;

/// One route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: &'static str,
    /// Path pattern as the router matches it (`{id}` for parameters).
    pub path: &'static str,
    /// Lowest role allowed; `None` for the public login page and static files.
    pub min_role: Option<Role>,
    /// A concrete path for this route (for tests and documentation).
    pub sample: &'static str,
}

const fn route(
    method: &'static str,
    path: &'static str,
    min_role: Option<Role>,
    sample: &'static str,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        min_role,
        sample,
    }
}

const V: Option<Role> = Some(Role::Viewer);
const AN: Option<Role> = Some(Role::Analyst);
const AD: Option<Role> = Some(Role::Admin);

/// Every route.
pub const ROUTES: &[RouteSpec] = &[
    route("GET", "/login", None, "/login"),
    route("POST", "/login", None, "/login"),
    route("GET", "/static/{file}", None, "/static/console.css"),
    route("POST", "/logout", V, "/logout"),
    route("GET", "/", V, "/"),
    route("GET", "/assets", V, "/assets"),
    route("GET", "/assets.csv", V, "/assets.csv"),
    route("GET", "/assets/{id}", V, "/assets/mac:00:00:00:00:00:01"),
    route("GET", "/map", V, "/map"),
    route("GET", "/alerts", V, "/alerts"),
    route("GET", "/alerts/{id}", V, "/alerts/1"),
    route(
        "GET",
        "/alerts/{id}/evidence.pcap",
        V,
        "/alerts/1/evidence.pcap",
    ),
    route("POST", "/alerts/{id}/triage", AN, "/alerts/1/triage"),
    route("GET", "/airgap", V, "/airgap"),
    route("GET", "/airgap/report", V, "/airgap/report"),
    route("GET", "/events", V, "/events"),
    route("GET", "/settings", AD, "/settings"),
    route("POST", "/settings/zones", AD, "/settings/zones"),
    route("POST", "/settings/learning", AD, "/settings/learning"),
    route("POST", "/settings/users", AD, "/settings/users"),
    route(
        "POST",
        "/settings/users/{name}/role",
        AD,
        "/settings/users/x/role",
    ),
    route(
        "POST",
        "/settings/users/{name}/remove",
        AD,
        "/settings/users/x/remove",
    ),
    route("GET", "/audit", AD, "/audit"),
    route("GET", "/api/v1/openapi.json", V, "/api/v1/openapi.json"),
    route("GET", "/api/v1/health", V, "/api/v1/health"),
    route("GET", "/api/v1/assets", V, "/api/v1/assets"),
    route(
        "GET",
        "/api/v1/assets/{id}",
        V,
        "/api/v1/assets/mac:00:00:00:00:00:01",
    ),
    route("GET", "/api/v1/alerts", V, "/api/v1/alerts"),
    route("GET", "/api/v1/alerts/{id}", V, "/api/v1/alerts/1"),
    route(
        "POST",
        "/api/v1/alerts/{id}/triage",
        AN,
        "/api/v1/alerts/1/triage",
    ),
    route("GET", "/api/v1/flows", V, "/api/v1/flows"),
];

/// The table entry for a method and matched path pattern.
pub fn find(method: &str, path: &str) -> Option<&'static RouteSpec> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}
