//! The asset inventory: a sortable, filterable, searchable, paged table, and its CSV.

use crate::fmt;
use crate::load::{AssetList, AssetRow};
use maud::{html, Markup};
use records::Role;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// Where the inventory page is served; its links (sort, pages) point here.
pub const LIST_PATH: &str = "/assets";
/// Where the CSV export is served.
pub const CSV_PATH: &str = "/assets.csv";

/// Rows per page when the query names none.
pub const DEFAULT_PER_PAGE: usize = 50;
/// Most rows per page.
pub const MAX_PER_PAGE: usize = 500;

/// The inventory's query string: every field optional, values that do not parse are
/// ignored (the default applies), unknown fields are ignored.
///
/// `sort` = `name|ip|mac|vendor|model|role|zone|level|first_seen|last_seen|alerts`,
/// `dir` = `asc|desc`, `role` (e.g. `plc`), `zone`, `vendor` (exact, any case), `q`
/// (substring of an address, MAC, name, vendor, product or model, any case), `page`
/// (from 1), `per_page`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AssetQuery {
    /// Column to sort by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// `asc` or `desc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// Only this role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Only this zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Only this vendor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Search text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Page number, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Rows per page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<String>,
}

/// A sortable column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// First hostname, else first address.
    Name,
    /// First address.
    Ip,
    /// MAC address.
    Mac,
    /// Vendor (from protocol data, else the OUI registry).
    Vendor,
    /// Product and model from protocol data.
    Model,
    /// Role.
    Role,
    /// Zone.
    Zone,
    /// Purdue level.
    Level,
    /// First seen.
    FirstSeen,
    /// Last seen.
    LastSeen,
    /// Untriaged alerts.
    Alerts,
}

impl Column {
    /// Every column, in table order.
    pub const ALL: [Column; 11] = [
        Self::Name,
        Self::Ip,
        Self::Mac,
        Self::Vendor,
        Self::Model,
        Self::Role,
        Self::Zone,
        Self::Level,
        Self::FirstSeen,
        Self::LastSeen,
        Self::Alerts,
    ];

    /// The query-string word.
    pub fn key(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Ip => "ip",
            Self::Mac => "mac",
            Self::Vendor => "vendor",
            Self::Model => "model",
            Self::Role => "role",
            Self::Zone => "zone",
            Self::Level => "level",
            Self::FirstSeen => "first_seen",
            Self::LastSeen => "last_seen",
            Self::Alerts => "alerts",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Name => "Name",
            Self::Ip => "Address",
            Self::Mac => "MAC",
            Self::Vendor => "Vendor",
            Self::Model => "Product / model",
            Self::Role => "Role",
            Self::Zone => "Zone",
            Self::Level => "Level",
            Self::FirstSeen => "First seen",
            Self::LastSeen => "Last seen",
            Self::Alerts => "Alerts",
        }
    }
}

impl AssetQuery {
    /// Parses a query string (without the `?`); anything unreadable gives the defaults.
    pub fn from_query_str(query: &str) -> Self {
        serde_urlencoded::from_str(query).unwrap_or_default()
    }

    /// The query string for this query (empty fields left out).
    pub fn to_query_string(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }

    /// The sort column (default: name).
    pub fn column(&self) -> Column {
        let key = self.sort.as_deref().unwrap_or("");
        Column::ALL
            .into_iter()
            .find(|c| c.key() == key)
            .unwrap_or(Column::Name)
    }

    /// True for a descending sort.
    pub fn descending(&self) -> bool {
        self.dir.as_deref() == Some("desc")
    }

    /// The role filter, when it names a role.
    pub fn role_filter(&self) -> Option<Role> {
        let word = self.role.as_deref()?.trim();
        fmt::ROLES.into_iter().find(|r| fmt::role_word(*r) == word)
    }

    /// Page number, from 1.
    pub fn page_number(&self) -> usize {
        self.page
            .as_deref()
            .and_then(|p| p.trim().parse::<usize>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    }

    /// Rows per page, within 1..=[`MAX_PER_PAGE`].
    pub fn rows_per_page(&self) -> usize {
        self.per_page
            .as_deref()
            .and_then(|p| p.trim().parse::<usize>().ok())
            .filter(|p| *p >= 1)
            .map_or(DEFAULT_PER_PAGE, |p| p.min(MAX_PER_PAGE))
    }

    fn text(field: &Option<String>) -> Option<&str> {
        field.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    /// True when `row` passes the filters and the search.
    pub fn matches(&self, row: &AssetRow) -> bool {
        let a = &row.asset;
        if self.role_filter().is_some_and(|role| role != a.role) {
            return false;
        }
        if let Some(zone) = Self::text(&self.zone) {
            if row.zone != zone {
                return false;
            }
        }
        if let Some(vendor) = Self::text(&self.vendor) {
            if !vendor_of(row).eq_ignore_ascii_case(vendor) {
                return false;
            }
        }
        if let Some(q) = Self::text(&self.q) {
            let q = q.to_lowercase();
            let hit = |s: &str| s.to_lowercase().contains(&q);
            let found = a.id.contains(&q)
                || a.ips.iter().any(|ip| ip.to_string().contains(&q))
                || a.mac.is_some_and(|m| m.to_string().contains(&q))
                || a.hostnames.iter().any(|h| hit(h))
                || a.vendor.as_deref().is_some_and(hit)
                || a.identity.vendor.as_deref().is_some_and(hit)
                || a.identity.product.as_deref().is_some_and(hit)
                || a.identity.model.as_deref().is_some_and(hit);
            if !found {
                return false;
            }
        }
        true
    }

    /// The rows that pass, in the query's order.
    pub fn select<'a>(&self, list: &'a AssetList) -> Vec<&'a AssetRow> {
        let mut rows: Vec<&AssetRow> = list.rows.iter().filter(|r| self.matches(r)).collect();
        let column = self.column();
        let descending = self.descending();
        rows.sort_by(|a, b| {
            let o = compare(column, a, b);
            let o = if descending { o.reverse() } else { o };
            // Ties in id order either way, so pages never shuffle.
            o.then_with(|| a.asset.id.cmp(&b.asset.id))
        });
        rows
    }

    fn with(&self, change: impl FnOnce(&mut AssetQuery)) -> String {
        let mut q = self.clone();
        change(&mut q);
        let s = q.to_query_string();
        if s.is_empty() {
            LIST_PATH.to_string()
        } else {
            format!("{LIST_PATH}?{s}")
        }
    }
}

/// The vendor shown: from protocol data, else from the OUI registry.
fn vendor_of(row: &AssetRow) -> &str {
    let a = &row.asset;
    a.identity
        .vendor
        .as_deref()
        .or(a.vendor.as_deref())
        .unwrap_or("")
}

/// Product and model from protocol data.
fn model_of(row: &AssetRow) -> String {
    let id = &row.asset.identity;
    match (&id.product, &id.model) {
        (Some(p), Some(m)) => format!("{p} {m}"),
        (Some(x), None) | (None, Some(x)) => x.clone(),
        (None, None) => String::new(),
    }
}

fn name_of(row: &AssetRow) -> String {
    let a = &row.asset;
    a.hostnames
        .iter()
        .next()
        .cloned()
        .or_else(|| a.ips.iter().next().map(ToString::to_string))
        .unwrap_or_else(|| a.id.clone())
}

/// The record's Purdue level, else the map's estimate from role and zone kind.
fn level_of(row: &AssetRow) -> (u8, bool) {
    match row.asset.purdue_level {
        Some(l) => (l, false),
        None => (crate::load::estimated_level(row.asset.role, row.kind), true),
    }
}

fn level_text(row: &AssetRow) -> String {
    match level_of(row) {
        (crate::load::EXTERNAL_LEVEL, _) => "ext".into(),
        (l, true) => format!("{l}~"),
        (l, false) => l.to_string(),
    }
}

/// Sort key of the name: addresses in address order before hostnames in text order.
fn name_key(row: &AssetRow) -> (Option<std::net::IpAddr>, String) {
    let name = name_of(row);
    match name.parse() {
        Ok(ip) => (Some(ip), String::new()),
        Err(_) => (None, name.to_lowercase()),
    }
}

fn compare(column: Column, a: &AssetRow, b: &AssetRow) -> Ordering {
    let (x, y) = (&a.asset, &b.asset);
    match column {
        Column::Name => {
            let (ka, kb) = (name_key(a), name_key(b));
            // Addresses (Some) first, then names.
            (ka.0.is_none(), ka).cmp(&(kb.0.is_none(), kb))
        }
        Column::Ip => x.ips.iter().next().cmp(&y.ips.iter().next()),
        Column::Mac => x.mac.map(|m| m.0).cmp(&y.mac.map(|m| m.0)),
        Column::Vendor => vendor_of(a)
            .to_lowercase()
            .cmp(&vendor_of(b).to_lowercase()),
        Column::Model => model_of(a).cmp(&model_of(b)),
        Column::Role => fmt::role_word(x.role).cmp(fmt::role_word(y.role)),
        Column::Zone => a.zone.cmp(&b.zone),
        Column::Level => level_of(a).cmp(&level_of(b)),
        Column::FirstSeen => x.first_seen.cmp(&y.first_seen),
        Column::LastSeen => x.last_seen.cmp(&y.last_seen),
        Column::Alerts => a.alerts.cmp(&b.alerts),
    }
}

/// The inventory page's content (the console wraps it in its page shell).
pub fn list(data: &AssetList, query: &AssetQuery) -> Markup {
    let rows = query.select(data);
    let per_page = query.rows_per_page();
    let pages = rows.len().div_ceil(per_page).max(1);
    let page = query.page_number().min(pages);
    let start = (page - 1) * per_page;
    let shown = rows.get(start..).unwrap_or(&[]);
    let shown = &shown[..shown.len().min(per_page)];
    let zones: BTreeSet<&str> = data.rows.iter().map(|r| r.zone.as_str()).collect();
    let vendors: BTreeSet<&str> = data
        .rows
        .iter()
        .map(vendor_of)
        .filter(|v| !v.is_empty())
        .collect();
    let csv_href = {
        let mut q = query.clone();
        q.page = None;
        q.per_page = None;
        let s = q.to_query_string();
        if s.is_empty() {
            CSV_PATH.to_string()
        } else {
            format!("{CSV_PATH}?{s}")
        }
    };
    let selected = |field: &Option<String>, value: &str| field.as_deref() == Some(value);
    html! {
        section.v-assets {
            form.v-filters method="get" action=(LIST_PATH) {
                label { "Search " input type="search" name="q" value=[query.q.as_deref()]
                    placeholder="address, MAC, name, vendor, model"; }
                label { "Role "
                    select name="role" {
                        option value="" { "any" }
                        @for role in fmt::ROLES {
                            option value=(fmt::role_word(role))
                                selected[selected(&query.role, fmt::role_word(role))] {
                                (fmt::role_label(role))
                            }
                        }
                    }
                }
                label { "Zone "
                    select name="zone" {
                        option value="" { "any" }
                        @for zone in &zones {
                            option value=(zone) selected[selected(&query.zone, zone)] { (zone) }
                        }
                    }
                }
                label { "Vendor "
                    select name="vendor" {
                        option value="" { "any" }
                        @for vendor in &vendors {
                            option value=(vendor) selected[selected(&query.vendor, vendor)] {
                                (vendor)
                            }
                        }
                    }
                }
                @if let Some(sort) = &query.sort { input type="hidden" name="sort" value=(sort); }
                @if let Some(dir) = &query.dir { input type="hidden" name="dir" value=(dir); }
                button type="submit" { "Apply" }
                a.v-button href=(LIST_PATH) { "Clear" }
                a.v-button href=(csv_href) download="assets.csv" { "Export CSV" }
            }
            p.v-count {
                @if rows.is_empty() {
                    "No asset matches."
                } @else {
                    "Assets " (fmt::count((start + 1) as u64)) "–"
                    (fmt::count((start + shown.len()) as u64)) " of " (fmt::count(rows.len() as u64))
                    @if rows.len() != data.rows.len() {
                        " (" (fmt::count(data.rows.len() as u64)) " in the inventory)"
                    }
                }
            }
            table.v-table.v-asset-table {
                thead { tr {
                    @for column in Column::ALL {
                        @let active = query.column() == column;
                        @let next_desc = active && !query.descending();
                        th class=[active.then_some("v-sorted")]
                            aria-sort=(if !active { "none" } else if query.descending() { "descending" } else { "ascending" }) {
                            a href=(query.with(|q| {
                                q.sort = Some(column.key().into());
                                q.dir = next_desc.then(|| "desc".into());
                                q.page = None;
                            })) {
                                (column.title())
                                @if active { span.v-arrow { (if query.descending() { " ▼" } else { " ▲" }) } }
                            }
                        }
                    }
                } }
                tbody {
                    @for row in shown {
                        @let a = &row.asset;
                        tr class=(if row.alerts > 0 { "v-row-alerting" } else { "" }) {
                            td { a href=(fmt::asset_href(&a.id)) { (name_of(row)) } }
                            td.v-mono {
                                @for (i, ip) in a.ips.iter().enumerate() {
                                    @if i > 0 { br; }
                                    (ip)
                                }
                            }
                            td.v-mono { @if let Some(m) = a.mac { (m) } }
                            td { (vendor_of(row)) }
                            td { (model_of(row)) }
                            td { span class={"v-role v-role-" (fmt::role_word(a.role))} { (fmt::role_label(a.role)) } }
                            td { (row.zone) }
                            td.v-num { (level_text(row)) }
                            td.v-time { (fmt::time(a.first_seen)) }
                            td.v-time { (fmt::time(a.last_seen)) }
                            td.v-num { @if row.alerts > 0 { span.v-badge-alert { (fmt::count(row.alerts)) } } }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.v-pager aria-label="pages" {
                    @if page > 1 {
                        a href=(query.with(|q| q.page = Some((page - 1).to_string()))) rel="prev" { "← Previous" }
                    }
                    span { "Page " (page) " of " (pages) }
                    @if page < pages {
                        a href=(query.with(|q| q.page = Some((page + 1).to_string()))) rel="next" { "Next →" }
                    }
                }
            }
        }
    }
}

/// The CSV header row.
pub const CSV_HEADER: [&str; 18] = [
    "id",
    "name",
    "ips",
    "mac",
    "oui_vendor",
    "vendor",
    "product",
    "model",
    "firmware",
    "serial",
    "role",
    "zone",
    "purdue_level",
    "purdue_level_estimated",
    "first_seen",
    "last_seen",
    "protocols_served",
    "alerts",
];

/// The rows that pass `query`'s filters and search, sorted as the page sorts them but
/// not paged, as CSV with [`CSV_HEADER`]. Multi-valued fields are joined with spaces;
/// times are RFC 3339 UTC; the Purdue level is the record's, else estimated from the
/// role and zone (`purdue_level_estimated` says which; 6 is external).
pub fn csv(data: &AssetList, query: &AssetQuery) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writes to a Vec cannot fail; a failed row would only be missing from the export.
    let _ = w.write_record(CSV_HEADER);
    for row in query.select(data) {
        let a = &row.asset;
        let join = |items: Vec<String>| items.join(" ");
        let _ = w.write_record([
            a.id.clone(),
            name_of(row),
            join(a.ips.iter().map(ToString::to_string).collect()),
            a.mac.map(|m| m.to_string()).unwrap_or_default(),
            a.vendor.clone().unwrap_or_default(),
            a.identity.vendor.clone().unwrap_or_default(),
            a.identity.product.clone().unwrap_or_default(),
            a.identity.model.clone().unwrap_or_default(),
            a.identity.firmware.clone().unwrap_or_default(),
            a.identity.serial.clone().unwrap_or_default(),
            fmt::role_word(a.role).to_string(),
            row.zone.clone(),
            level_of(row).0.to_string(),
            level_of(row).1.to_string(),
            a.first_seen.to_string(),
            a.last_seen.to_string(),
            join(a.protocols_served.iter().cloned().collect()),
            row.alerts.to_string(),
        ]);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_leniently() {
        let q = AssetQuery::from_query_str("sort=ip&dir=desc&page=3&per_page=20&role=plc&x=1");
        assert_eq!(q.column(), Column::Ip);
        assert!(q.descending());
        assert_eq!(q.page_number(), 3);
        assert_eq!(q.rows_per_page(), 20);
        assert_eq!(q.role_filter(), Some(Role::Plc));
        let bad =
            AssetQuery::from_query_str("sort=%FF%FE&page=-1&per_page=99999999999999999999&dir=up");
        assert_eq!(bad.column(), Column::Name);
        assert!(!bad.descending());
        assert_eq!(bad.page_number(), 1);
        assert_eq!(bad.rows_per_page(), DEFAULT_PER_PAGE);
        assert_eq!(
            AssetQuery::from_query_str("%%%&&==="),
            AssetQuery::default()
        );
        assert_eq!(
            AssetQuery::from_query_str("per_page=100000").rows_per_page(),
            MAX_PER_PAGE
        );
    }
}
