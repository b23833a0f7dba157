//! The network map: assets in horizontal Purdue layers (external at the top, levels
//! 0–1 at the bottom), zones as boxes within each layer, client → server edges.
//!
//! The layout is computed here, deterministically (the same data always gives the
//! same picture): layers top to bottom, zones by name left to right (wrapping), nodes
//! by role then label in a grid inside their zone. Beyond [`AGGREGATE_ABOVE`] nodes,
//! each zone with more than [`ZONE_NODES`] nodes is drawn as one group node that links
//! to the map with that zone expanded (`?expand=ZONE`); `?all=1` expands every zone.

use crate::fmt;
use crate::load::{MapData, MapNode, EXTERNAL_LEVEL};
use learn::ZoneKind;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Where the map is served; group nodes link here with `?expand=`.
pub const MAP_PATH: &str = "/map";
/// Maps with more nodes than this aggregate their large zones.
pub const AGGREGATE_ABOVE: usize = 150;
/// Zones with more nodes than this become one group node when aggregating.
pub const ZONE_NODES: usize = 8;
/// Most nodes drawn for one expanded zone; the rest stay in a group node.
pub const EXPANDED_NODES: usize = 600;
/// Most edges drawn (crossing and alerting edges first, then by volume).
pub const MAX_EDGES: usize = 3_000;

const NODE_W: f64 = 150.0;
const NODE_H: f64 = 58.0;
const BOX_W: f64 = 134.0;
const BOX_H: f64 = 42.0;
const PAD: f64 = 12.0;
const HEADER: f64 = 24.0;
const LABEL_W: f64 = 170.0;
const ROW_W: f64 = 1_500.0;
const LAYER_GAP: f64 = 18.0;

/// The map's query string: `expand` (comma-separated zone names to show node by node)
/// and `all` (`1` or `true`: no aggregation). Unreadable values are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MapQuery {
    /// Zones to expand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    /// Expand every zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<String>,
}

impl MapQuery {
    /// Parses a query string (without the `?`); anything unreadable gives the defaults.
    pub fn from_query_str(query: &str) -> Self {
        serde_urlencoded::from_str(query).unwrap_or_default()
    }

    fn expanded(&self) -> BTreeSet<&str> {
        self.expand
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|z| !z.is_empty())
            .collect()
    }

    fn everything(&self) -> bool {
        matches!(
            self.all.as_deref().map(str::trim),
            Some("1" | "true" | "yes")
        )
    }

    /// The map's href with `zone` added to the expanded zones.
    fn expand_href(&self, zone: &str) -> String {
        let mut zones: Vec<&str> = self.expanded().into_iter().collect();
        zones.push(zone);
        let q = MapQuery {
            expand: Some(zones.join(",")),
            all: None,
        };
        format!(
            "{MAP_PATH}?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    }
}

/// The horizontal layers, top to bottom: (title, Purdue levels).
const LAYERS: [(&str, &[u8]); 5] = [
    ("External", &[EXTERNAL_LEVEL]),
    ("Levels 4–5 · enterprise", &[4, 5]),
    ("Level 3 · operations, DMZ", &[3]),
    ("Level 2 · supervisory", &[2]),
    ("Levels 0–1 · control, field", &[0, 1]),
];

fn layer_of(level: u8) -> usize {
    LAYERS
        .iter()
        .position(|(_, levels)| levels.contains(&level))
        .unwrap_or(0)
}

/// What is drawn as one box: a node, or a zone's nodes as a group.
#[derive(Debug)]
enum Item {
    Node(usize),
    Group { zone: String, members: Vec<usize> },
}

/// A placed item.
#[derive(Debug)]
struct Placed {
    item: Item,
    x: f64,
    y: f64,
}

/// A placed zone box.
#[derive(Debug)]
struct ZoneBox {
    name: String,
    kind: ZoneKind,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// The layout: placed items, zone boxes, layer bands (title, y, height).
#[derive(Debug, Default)]
struct Layout {
    items: Vec<Placed>,
    zones: Vec<ZoneBox>,
    layers: Vec<(&'static str, f64, f64)>,
    width: f64,
    height: f64,
}

/// Order within a zone: by role, then address, then label.
fn role_order(node: &MapNode) -> (usize, Option<std::net::IpAddr>, &str) {
    let role = crate::fmt::ROLES
        .iter()
        .position(|r| *r == node.role)
        .unwrap_or(usize::MAX);
    (role, node.ip, node.label.as_str())
}

/// Groups nodes into items per (layer, zone), aggregating as the query says.
fn items(data: &MapData, query: &MapQuery) -> BTreeMap<(usize, String), Vec<Item>> {
    let mut cells: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
    for (i, n) in data.nodes.iter().enumerate() {
        cells
            .entry((layer_of(n.level), n.zone.clone()))
            .or_default()
            .push(i);
    }
    let aggregate = data.nodes.len() > AGGREGATE_ABOVE && !query.everything();
    let expanded = query.expanded();
    cells
        .into_iter()
        .map(|(key, mut members)| {
            members.sort_by(|a, b| {
                role_order(&data.nodes[*a])
                    .cmp(&role_order(&data.nodes[*b]))
                    .then(a.cmp(b))
            });
            let zone = key.1.clone();
            let out = if !aggregate || members.len() <= ZONE_NODES {
                members.into_iter().map(Item::Node).collect()
            } else if expanded.contains(zone.as_str()) {
                let rest = members.split_off(members.len().min(EXPANDED_NODES));
                let mut v: Vec<Item> = members.into_iter().map(Item::Node).collect();
                if !rest.is_empty() {
                    v.push(Item::Group {
                        zone,
                        members: rest,
                    });
                }
                v
            } else {
                vec![Item::Group { zone, members }]
            };
            (key, out)
        })
        .collect()
}

fn layout(data: &MapData, query: &MapQuery) -> Layout {
    let mut cells = items(data, query);
    let mut out = Layout::default();
    let mut y = 0.0;
    for (layer, (title, _)) in LAYERS.iter().enumerate() {
        let keys: Vec<(usize, String)> =
            cells.keys().filter(|(l, _)| *l == layer).cloned().collect();
        let top = y;
        let mut x = LABEL_W;
        let mut row_h: f64 = 0.0;
        let mut ybox = y + LAYER_GAP / 2.0;
        for key in keys {
            let Some(items) = cells.remove(&key) else {
                continue;
            };
            let n = items.len().max(1);
            let max_cols = ((ROW_W - 2.0 * PAD) / NODE_W).floor().max(1.0) as usize;
            let cols = ((n as f64 * 2.0).sqrt().ceil() as usize)
                .clamp(1, max_cols)
                .min(n);
            let rows = n.div_ceil(cols);
            let w = cols as f64 * NODE_W + 2.0 * PAD;
            let h = HEADER + rows as f64 * NODE_H + PAD;
            if x + w > LABEL_W + ROW_W && x > LABEL_W {
                x = LABEL_W;
                ybox += row_h + PAD;
                row_h = 0.0;
            }
            let kind = items
                .iter()
                .find_map(|i| match i {
                    Item::Node(n) => Some(data.nodes[*n].kind),
                    Item::Group { members, .. } => members.first().map(|n| data.nodes[*n].kind),
                })
                .unwrap_or(ZoneKind::It);
            out.zones.push(ZoneBox {
                name: key.1.clone(),
                kind,
                x,
                y: ybox,
                w,
                h,
            });
            for (i, item) in items.into_iter().enumerate() {
                let (c, r) = (i % cols, i / cols);
                out.items.push(Placed {
                    item,
                    x: x + PAD + c as f64 * NODE_W + NODE_W / 2.0,
                    y: ybox + HEADER + r as f64 * NODE_H + NODE_H / 2.0,
                });
            }
            x += w + PAD;
            out.width = out.width.max(x);
            row_h = row_h.max(h);
        }
        let bottom = if row_h > 0.0 {
            ybox + row_h + LAYER_GAP / 2.0
        } else {
            top + 40.0
        };
        out.layers.push((title, top, bottom - top));
        y = bottom;
    }
    out.width = out.width.max(LABEL_W + 400.0);
    out.height = y;
    out
}

fn kind_class(kind: ZoneKind) -> &'static str {
    match kind {
        ZoneKind::Ot => "v-ot",
        ZoneKind::It => "v-it",
        ZoneKind::External => "v-ext",
    }
}

fn kind_word(kind: ZoneKind) -> &'static str {
    match kind {
        ZoneKind::Ot => "OT",
        ZoneKind::It => "IT",
        ZoneKind::External => "external",
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// A merged edge between two placed items.
#[derive(Default)]
struct DrawnEdge {
    protocols: BTreeSet<String>,
    flows: u64,
    bytes: u64,
    crossing: bool,
    it_ot: bool,
    alerting: bool,
}

/// The map: legend, zoom controls and the SVG. Every asset node links to its page.
pub fn render(data: &MapData, query: &MapQuery) -> Markup {
    let lay = layout(data, query);
    // Node index → placed item index.
    let mut at = vec![usize::MAX; data.nodes.len()];
    for (i, p) in lay.items.iter().enumerate() {
        match &p.item {
            Item::Node(n) => at[*n] = i,
            Item::Group { members, .. } => {
                for n in members {
                    at[*n] = i;
                }
            }
        }
    }
    let mut merged: BTreeMap<(usize, usize), DrawnEdge> = BTreeMap::new();
    for e in &data.edges {
        let (Some(&a), Some(&b)) = (at.get(e.from), at.get(e.to)) else {
            continue;
        };
        if a == b || a == usize::MAX || b == usize::MAX {
            continue;
        }
        let d = merged.entry((a, b)).or_default();
        d.protocols.extend(e.protocols.iter().cloned());
        d.flows = d.flows.saturating_add(e.flows);
        d.bytes = d.bytes.saturating_add(e.bytes);
        d.crossing |= e.crossing;
        d.it_ot |= e.it_ot;
        d.alerting |= e.alerting;
    }
    let mut edges: Vec<((usize, usize), DrawnEdge)> = merged.into_iter().collect();
    edges.sort_by(|(ka, a), (kb, b)| {
        (b.alerting, b.it_ot, b.crossing, b.bytes)
            .cmp(&(a.alerting, a.it_ot, a.crossing, a.bytes))
            .then(ka.cmp(kb))
    });
    let edges_hidden = edges.len().saturating_sub(MAX_EDGES);
    edges.truncate(MAX_EDGES);
    // Draw highlighted edges last so they sit on top.
    edges.reverse();

    let crossing = data.edges.iter().filter(|e| e.crossing).count();
    let it_ot = data.edges.iter().filter(|e| e.it_ot).count();
    let assets = data.nodes.iter().filter(|n| n.id.is_some()).count();
    let groups = lay
        .items
        .iter()
        .filter(|p| matches!(p.item, Item::Group { .. }))
        .count();
    let view = format!("0 0 {:.0} {:.0}", lay.width, lay.height);
    html! {
        section.v-mapview {
            div.v-map-bar {
                p.v-count {
                    (fmt::count(assets as u64)) " assets, "
                    (fmt::count((data.nodes.len() - assets) as u64)) " outside addresses, "
                    (fmt::count(data.edges.len() as u64)) " client → server pairs ("
                    (fmt::count(crossing as u64)) " crossing zones or levels, "
                    (fmt::count(it_ot as u64)) " between IT and OT)."
                    @if groups > 0 {
                        " Large zones are grouped: open a group to expand it, or "
                        a href={(MAP_PATH) "?all=1"} { "show every asset" } "."
                    }
                    @if edges_hidden > 0 { " " (fmt::count(edges_hidden as u64)) " smaller edges not drawn." }
                    @if data.pairs_truncated { " Only the largest pairs were read." }
                }
                div.v-map-controls {
                    button type="button" data-map-zoom="in" title="Zoom in" { "+" }
                    button type="button" data-map-zoom="out" title="Zoom out" { "−" }
                    button type="button" data-map-zoom="reset" title="Fit" { "Fit" }
                }
            }
            ul.v-legend {
                li { span.v-swatch.v-ot {} "OT" }
                li { span.v-swatch.v-it {} "IT" }
                li { span.v-swatch.v-ext {} "external" }
                li { span.v-swatch.v-alerting {} "untriaged alerts" }
                li { span.v-line.v-crossing {} "crosses zones or levels" }
                li { span.v-line.v-it-ot {} "between IT and OT" }
                li { span.v-line.v-alert-edge {} "alerting connection" }
                li { "~ level estimated from role" }
            }
            div.v-map-frame {
                svg.v-map xmlns="http://www.w3.org/2000/svg" viewBox=(view) data-viewbox=(view)
                    role="img" aria-label="Network map" preserveAspectRatio="xMidYMin meet" {
                    defs {
                        marker #v-arrow viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse" {
                            path d="M 0 0 L 10 5 L 0 10 z" class="v-arrowhead" {}
                        }
                    }
                    g.v-layers {
                        @for (i, (title, y, h)) in lay.layers.iter().enumerate() {
                            rect class={"v-layer v-layer-" (i)} x="0" y=(fmtf(*y)) width=(fmtf(lay.width)) height=(fmtf(*h)) {}
                            text.v-layer-title x="10" y=(fmtf(y + 22.0)) { (title) }
                        }
                    }
                    g.v-zones {
                        @for z in &lay.zones {
                            rect class={"v-zone " (kind_class(z.kind))} x=(fmtf(z.x)) y=(fmtf(z.y)) width=(fmtf(z.w)) height=(fmtf(z.h)) rx="6" {}
                            text.v-zone-title x=(fmtf(z.x + 8.0)) y=(fmtf(z.y + 16.0)) { (truncate(&z.name, 40)) " · " (kind_word(z.kind)) }
                        }
                    }
                    g.v-edges {
                        @for ((a, b), e) in &edges {
                            @let (pa, pb) = (&lay.items[*a], &lay.items[*b]);
                            path class=(edge_class(e)) d=(curve(pa.x, pa.y, pb.x, pb.y))
                                stroke-width=(fmtf(width_of(e.bytes))) marker-end="url(#v-arrow)" {
                                title { (item_name(data, &pa.item)) " → " (item_name(data, &pb.item)) ": "
                                    (e.protocols.iter().cloned().collect::<Vec<_>>().join(", ")) ", "
                                    (fmt::count(e.flows)) " flows, " (fmt::bytes(e.bytes))
                                    @if e.crossing { ", crosses zones or levels" }
                                    @if e.it_ot { ", between IT and OT" }
                                    @if e.alerting { ", alerting" } }
                            }
                        }
                    }
                    g.v-nodes {
                        @for p in &lay.items { (node(data, query, p)) }
                    }
                }
            }
            script src="/static/map.js" defer {}
        }
    }
}

fn fmtf(v: f64) -> String {
    format!("{v:.1}")
}

fn width_of(bytes: u64) -> f64 {
    (1.0 + (bytes.max(1) as f64).log10() / 2.5).clamp(1.0, 5.0)
}

fn edge_class(e: &DrawnEdge) -> String {
    let mut c = String::from("v-edge");
    if e.crossing {
        c.push_str(" v-crossing");
    }
    if e.it_ot {
        c.push_str(" v-it-ot");
    }
    if e.alerting {
        c.push_str(" v-alert-edge");
    }
    c
}

/// A gentle curve from (x1, y1) to (x2, y2), bent to the right of its direction so
/// the two directions of a pair and edges along a row stay apart; it stops short of
/// the target box so the arrow head shows.
fn curve(x1: f64, y1: f64, x2: f64, y2: f64) -> String {
    let (dx, dy) = (x2 - x1, y2 - y1);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let bend = (len * 0.18).min(80.0);
    let (cx, cy) = (
        (x1 + x2) / 2.0 - dy / len * bend,
        (y1 + y2) / 2.0 + dx / len * bend,
    );
    // Stop at the target box's border along the line from the control point.
    let (ux, uy) = (x2 - cx, y2 - cy);
    let ul = (ux * ux + uy * uy).sqrt().max(1.0);
    let t = ((BOX_W / 2.0) / ux.abs().max(1e-9)).min((BOX_H / 2.0) / uy.abs().max(1e-9));
    let back = (t * ul).min(ul * 0.9);
    let (ex, ey) = (x2 - ux / ul * back, y2 - uy / ul * back);
    let mut d = String::new();
    let _ = write!(d, "M {x1:.1} {y1:.1} Q {cx:.1} {cy:.1} {ex:.1} {ey:.1}");
    d
}

fn item_name(data: &MapData, item: &Item) -> String {
    match item {
        Item::Node(n) => data.nodes[*n].label.clone(),
        Item::Group { zone, members } => format!("{zone} ({} assets)", members.len()),
    }
}

fn node(data: &MapData, query: &MapQuery, p: &Placed) -> Markup {
    let (x, y) = (p.x - BOX_W / 2.0, p.y - BOX_H / 2.0);
    match &p.item {
        Item::Node(i) => {
            let n = &data.nodes[*i];
            let class = format!(
                "v-node {}{}",
                kind_class(n.kind),
                if n.alerts > 0 { " v-alerting" } else { "" }
            );
            let role = format!(
                "{} · L{}{}",
                fmt::role_label(n.role),
                if n.level == EXTERNAL_LEVEL {
                    "ext".to_string()
                } else {
                    n.level.to_string()
                },
                if n.level_estimated { "~" } else { "" }
            );
            let body = html! {
                rect x=(fmtf(x)) y=(fmtf(y)) width=(fmtf(BOX_W)) height=(fmtf(BOX_H)) rx="5" {}
                text.v-node-label x=(fmtf(p.x)) y=(fmtf(p.y - 3.0)) { (truncate(&n.label, 20)) }
                text.v-node-role x=(fmtf(p.x)) y=(fmtf(p.y + 13.0)) { (truncate(&role, 26)) }
                @if n.alerts > 0 {
                    circle.v-alert-dot cx=(fmtf(x + BOX_W - 4.0)) cy=(fmtf(y + 4.0)) r="7" {}
                    text.v-alert-count x=(fmtf(x + BOX_W - 4.0)) y=(fmtf(y + 8.0)) { (n.alerts.min(99)) }
                }
                title {
                    (n.label)
                    @if let Some(ip) = n.ip { " · " (ip) }
                    " · " (fmt::role_label(n.role)) " · zone " (n.zone) " (" (kind_word(n.kind)) ")"
                    @if n.alerts > 0 { " · " (n.alerts) " untriaged alerts" }
                }
            };
            match &n.id {
                Some(id) => {
                    html! { a href=(fmt::asset_href(id)) { g class=(class) data-node=(id) { (body) } } }
                }
                None => html! { g class=(class) { (body) } },
            }
        }
        Item::Group { zone, members } => {
            let alerts: u64 = members.iter().map(|m| data.nodes[*m].alerts).sum();
            let kind = members
                .first()
                .map_or(ZoneKind::It, |m| data.nodes[*m].kind);
            let mut roles: BTreeMap<&str, usize> = BTreeMap::new();
            for m in members {
                *roles
                    .entry(fmt::role_label(data.nodes[*m].role))
                    .or_default() += 1;
            }
            let mut top: Vec<(&str, usize)> = roles.into_iter().collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let summary: Vec<String> = top
                .iter()
                .take(2)
                .map(|(r, n)| format!("{n} {r}"))
                .collect();
            let class = format!(
                "v-node v-group {}{}",
                kind_class(kind),
                if alerts > 0 { " v-alerting" } else { "" }
            );
            html! {
                a href=(query.expand_href(zone)) {
                    g class=(class) {
                        rect x=(fmtf(x)) y=(fmtf(y)) width=(fmtf(BOX_W)) height=(fmtf(BOX_H)) rx="5" {}
                        text.v-node-label x=(fmtf(p.x)) y=(fmtf(p.y - 3.0)) { (fmt::count(members.len() as u64)) " assets" }
                        text.v-node-role x=(fmtf(p.x)) y=(fmtf(p.y + 13.0)) { (truncate(&summary.join(", "), 26)) }
                        title { (zone) ": " (members.len()) " assets (" (summary.join(", ")) "); open to expand"
                            @if alerts > 0 { " · " (alerts) " untriaged alerts" } }
                    }
                }
            }
        }
    }
}
