//! One asset's page: identity and its sources, addresses, peers, protocols, alerts,
//! pattern-of-life charts and the learnt baseline.

use crate::charts;
use crate::fmt;
use crate::load::{AssetContext, ACTIVITY_HOURS};
use learn::ZoneKind;
use maud::{html, Markup};

fn kind_word(kind: ZoneKind) -> &'static str {
    match kind {
        ZoneKind::Ot => "OT",
        ZoneKind::It => "IT",
        ZoneKind::External => "external",
    }
}

/// The asset page's content (the console wraps it in its page shell).
pub fn page(cx: &AssetContext) -> Markup {
    let a = &cx.asset;
    let title = a
        .hostnames
        .iter()
        .next()
        .cloned()
        .or_else(|| a.ips.iter().next().map(ToString::to_string))
        .unwrap_or_else(|| a.id.clone());
    let identity = [
        ("vendor", a.identity.vendor.as_deref()),
        ("product", a.identity.product.as_deref()),
        ("model", a.identity.model.as_deref()),
        ("firmware", a.identity.firmware.as_deref()),
        ("serial", a.identity.serial.as_deref()),
        ("SSH host key", a.identity.ssh_host_key.as_deref()),
        (
            "TLS certificate SHA-256",
            a.identity.tls_certificate.as_deref(),
        ),
    ];
    let activity: Vec<_> = cx
        .activity
        .iter()
        .map(|h| (h.hour, h.flows as f64))
        .collect();
    let activity_bytes: Vec<_> = cx
        .activity
        .iter()
        .map(|h| (h.hour, h.bytes as f64))
        .collect();
    let protocol_mix: Vec<_> = cx
        .protocol_mix
        .iter()
        .map(|s| (s.label.clone(), s.value as f64))
        .collect();
    let operation_mix: Vec<_> = cx
        .operation_mix
        .iter()
        .map(|s| (s.label.clone(), s.value as f64))
        .collect();
    html! {
        article.v-asset {
            header.v-asset-head {
                h1 { (title) }
                p.v-sub {
                    span class={"v-role v-role-" (fmt::role_word(a.role))} { (fmt::role_label(a.role)) }
                    " · zone " (cx.zone) " (" (kind_word(cx.kind)) ")"
                    @if let Some(l) = a.purdue_level { " · Purdue level " (l) }
                    " · " span.v-mono { (a.id) }
                }
            }
            div.v-grid {
                section.v-card {
                    h2 { "Identity" }
                    table.v-kv {
                        tr { th { "MAC vendor (OUI)" } td { (a.vendor.as_deref().unwrap_or("—")) } td.v-src { "IEEE registry" } }
                        @for (field, value) in identity {
                            tr {
                                th { (field) }
                                td { (value.unwrap_or("—")) }
                                td.v-src {
                                    @if let Some(src) = a.identity.sources.get(field) {
                                        (src.protocol) ", " (fmt::time(src.ts))
                                    } @else if value.is_some() {
                                        "protocol data"
                                    }
                                }
                            }
                        }
                    }
                }
                section.v-card {
                    h2 { "Addresses" }
                    table.v-kv {
                        tr { th { "MAC" } td.v-mono { @if let Some(m) = a.mac { (m) } @else { "—" } } }
                        tr { th { "IP" } td.v-mono {
                            @for (i, ip) in a.ips.iter().enumerate() { @if i > 0 { br; } (ip) }
                            @if a.ips.is_empty() { "—" }
                        } }
                        tr { th { "Hostnames" } td {
                            @for (i, h) in a.hostnames.iter().enumerate() { @if i > 0 { br; } (h) }
                            @if a.hostnames.is_empty() { "—" }
                        } }
                        tr { th { "First seen" } td { (fmt::time(a.first_seen)) } }
                        tr { th { "Last seen" } td { (fmt::time(a.last_seen)) } }
                        @if a.is_gateway { tr { th { "Gateway" } td { "routes traffic for other addresses" } } }
                    }
                }
                section.v-card {
                    h2 { "Protocols" }
                    table.v-kv {
                        tr { th { "Serves" } td { (join_or_dash(a.protocols_served.iter())) } }
                        tr { th { "Uses" } td { (join_or_dash(a.protocols_used.iter())) } }
                    }
                }
            }
            section.v-section {
                h2 { "Alerts" }
                @if cx.alerts.is_empty() {
                    p.v-empty { "No alert names this asset." }
                } @else {
                    table.v-table {
                        thead { tr { th { "First" } th { "Severity" } th { "Category" } th { "Title" } th { "Status" } th.v-num { "Count" } } }
                        tbody {
                            @for s in &cx.alerts {
                                @let al = &s.alert;
                                tr {
                                    td.v-time { (fmt::time(al.ts)) }
                                    td { span class={"v-sev v-sev-" (al.severity.name())} { (al.severity.name()) } }
                                    td { (al.category.name()) }
                                    td { a href={"/alerts/" (al.id)} { (al.title) } }
                                    td { (s.status.as_str()) }
                                    td.v-num { (fmt::count(al.count)) }
                                }
                            }
                        }
                    }
                }
            }
            section.v-section {
                h2 { "Peers" }
                @if cx.peers.is_empty() {
                    p.v-empty { "No flows recorded with other devices." }
                } @else {
                    table.v-table.v-peers {
                        thead { tr { th { "Peer" } th { "Role" } th { "This asset uses" } th { "This asset serves" } th.v-num { "Flows" } th.v-num { "Packets" } th.v-num { "Bytes" } th { "Last" } } }
                        tbody {
                            @for p in &cx.peers {
                                tr {
                                    td.v-mono {
                                        @if let Some((id, _)) = &p.asset { a href=(fmt::asset_href(id)) { (p.ip) } }
                                        @else { (p.ip) }
                                    }
                                    td { @if let Some((_, role)) = &p.asset { (fmt::role_label(*role)) } @else { "not in inventory" } }
                                    td { (protocols(&p.used)) }
                                    td { (protocols(&p.served)) }
                                    td.v-num { (fmt::count(p.flows)) }
                                    td.v-num { (fmt::count(p.packets)) }
                                    td.v-num { (fmt::bytes(p.bytes)) }
                                    td.v-time { (fmt::time(p.last)) }
                                }
                            }
                        }
                    }
                }
            }
            section.v-section {
                h2 { "Pattern of life" }
                div.v-charts {
                    (charts::time_series(&format!("Flows per hour (last {} days of activity)", ACTIVITY_HOURS / 24), "flows per hour", &activity))
                    (charts::time_series("Bytes per hour", "bytes per hour", &activity_bytes))
                    (charts::bars("Protocol mix", "bytes", &protocol_mix))
                    (charts::bars("Operation mix (requests per operation)", "requests", &operation_mix))
                }
                h3 { "Polling cycles" }
                @if cx.cycles.is_empty() {
                    p.v-empty { "No polling stream learnt yet." }
                } @else {
                    div.v-charts {
                        @for c in &cx.cycles {
                            (charts::histogram(
                                &format!("{} — every {} ({} messages)", c.label, charts::seconds(c.cycle), fmt::count(c.messages)),
                                "interval between polls (s)",
                                &c.intervals,
                                24,
                            ))
                        }
                    }
                }
            }
            section.v-section {
                h2 { "Learnt baseline" }
                @if cx.baseline.is_empty() {
                    p.v-empty { "Nothing learnt about this asset yet." }
                } @else {
                    ul.v-baseline { @for line in &cx.baseline { li { (line) } } }
                }
            }
        }
    }
}

fn join_or_dash<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = items.map(String::as_str).collect();
    if v.is_empty() {
        "—".into()
    } else {
        v.join(", ")
    }
}

fn protocols(set: &std::collections::BTreeSet<String>) -> String {
    let v: Vec<&str> = set
        .iter()
        .map(|p| if p.is_empty() { "other" } else { p.as_str() })
        .collect();
    v.join(", ")
}
