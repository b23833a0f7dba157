//! `external`: traffic to or from a public address.
//!
//! An air-gapped network has no public addresses, so every flow with one on either side
//! is a policy finding (reported while learning too), dated at the flow's first packet.
//! A flow that ends within [`HOLD_MICROS`] of opening (most do: an attempt, a request)
//! is reported once, with its packets, bytes and whether anything came back; a flow
//! still open then is reported as opened, and again when it ends, so a long session is
//! not hidden until it closes. Findings of one pair fuse into one alert. Nothing is
//! learnt away: only an operator's accept silences a pair.
//!
//! Score: 1.0 for a flow that was answered (the gap is open both ways), 0.9 for a flow
//! just opened (answer not known yet), 0.8 for attempts that got no answer (something
//! on the path probably blocked them, yet a host inside tried).

use super::routine::{clock, evict_oldest};
use crate::assets::{is_public, AssetDirectory};
use crate::finding::{Category, Finding};
use crate::input::FlowOpen;
use crate::model::{Cx, Model};
use crate::text::{bytes, thousands};
use records::{FlowRecord, Timestamp, TransportKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use wire::MacAddr;

/// Pairs (initiator, responder) tracked.
pub const MAX_PAIRS: usize = 4096;
/// Pairs the operator accepted.
pub const MAX_ACCEPTED: usize = 1024;
/// Flows held back between opening and judgement.
pub const MAX_HELD: usize = 1024;
/// How long a flow's opening is held back for its end to report it with its numbers
/// (longer than the flow table's 10 s linger after a close).
pub const HOLD_MICROS: i64 = 15_000_000;
/// Ports and protocols listed per pair.
const MAX_LISTED: usize = 8;

/// An opened flow's finding, held back until its end or [`HOLD_MICROS`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Held {
    ts: i64,
    client: IpAddr,
    server: IpAddr,
    port: u16,
    protocol: String,
    mac: Option<MacAddr>,
    title: String,
    explanation: String,
}

impl Held {
    fn finding(self, id: u64) -> Finding {
        Finding::new(
            Timestamp(self.ts),
            Category::ExternalConnection,
            "external",
            0.9,
            self.title,
            self.explanation,
        )
        .between(Some(self.client), Some(self.server), Some(self.port))
        .protocol(self.protocol)
        .src_mac(self.mac)
        .flow(id)
        .fuse_key(fuse_key(self.server))
        .policy()
    }
}

/// What passed between one inside host and one outside address.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Pair {
    first: i64,
    last: i64,
    flows: u64,
    answered: u64,
    unanswered: u64,
    packets: u64,
    bytes: u64,
    ports: BTreeSet<u16>,
    protocols: BTreeSet<String>,
}

impl Pair {
    /// `3 flows since 08:30:01 UTC (2 answered, 1 with no answer), 45 packets, 12.3 KiB,
    /// to ports 443, 8443 (tls)`.
    fn summary(&self) -> String {
        let ports: Vec<String> = self.ports.iter().map(u16::to_string).collect();
        let protocols: Vec<&str> = self.protocols.iter().map(String::as_str).collect();
        // Flows count when they open, answers when they end: the rest are still open.
        let open = self
            .flows
            .saturating_sub(self.answered.saturating_add(self.unanswered));
        format!(
            "{} flow{} since {} ({} answered, {} with no answer{}), {} packets, {}, to port{} {}{}",
            thousands(self.flows),
            if self.flows == 1 { "" } else { "s" },
            clock(Timestamp(self.first)),
            thousands(self.answered),
            thousands(self.unanswered),
            if open > 0 {
                format!(", {} still open", thousands(open))
            } else {
                String::new()
            },
            thousands(self.packets),
            bytes(self.bytes),
            if ports.len() == 1 { "" } else { "s" },
            ports.join(", "),
            if protocols.is_empty() {
                String::new()
            } else {
                format!(" ({})", protocols.join(", "))
            }
        )
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    pairs: Vec<((IpAddr, IpAddr), Pair)>,
    accepted: Vec<(IpAddr, IpAddr)>,
    held: Vec<(u64, Held)>,
    pairs_evicted: u64,
    accepted_evicted: u64,
    held_full: u64,
}

/// The `external` model.
#[derive(Debug, Default)]
pub struct External {
    pairs: BTreeMap<(IpAddr, IpAddr), Pair>,
    accepted: BTreeSet<(IpAddr, IpAddr)>,
    /// Flow id → its opening, awaiting the flow's end.
    held: BTreeMap<u64, Held>,
    pairs_evicted: u64,
    accepted_evicted: u64,
    /// Openings reported at once because the hold was full.
    held_full: u64,
}

fn transport_name(t: TransportKind) -> &'static str {
    match t {
        TransportKind::Tcp => "TCP",
        TransportKind::Udp => "UDP",
        TransportKind::Icmp => "ICMP",
        TransportKind::Icmpv6 => "ICMPv6",
        TransportKind::Other => "IP",
    }
}

/// `TCP port 443` or `ICMP`.
fn service(t: TransportKind, port: u16) -> String {
    match t {
        TransportKind::Tcp | TransportKind::Udp => format!("{} port {port}", transport_name(t)),
        _ => transport_name(t).to_string(),
    }
}

/// Title and the sentence on who talked to whom.
fn title(client: IpAddr, server: IpAddr, assets: &AssetDirectory) -> String {
    if is_public(client) && !is_public(server) {
        format!(
            "Connection from outside address {client} to {}",
            assets.label(server)
        )
    } else {
        format!(
            "Connection to outside address {server} from {}",
            assets.label(client)
        )
    }
}

impl External {
    /// A model with nothing seen.
    pub fn new() -> Self {
        Self::default()
    }

    fn pair(&mut self, key: (IpAddr, IpAddr), now: Timestamp) -> &mut Pair {
        if !self.pairs.contains_key(&key) {
            self.pairs_evicted += evict_oldest(&mut self.pairs, MAX_PAIRS, |p: &Pair| p.last);
        }
        self.pairs.entry(key).or_insert_with(|| Pair {
            first: now.micros(),
            last: now.micros(),
            ..Pair::default()
        })
    }
}

/// What fuses the findings of one pair (the alerter keys on the source too).
fn fuse_key(server: IpAddr) -> String {
    format!("external {server}")
}

fn is_external(a: IpAddr, b: IpAddr) -> bool {
    is_public(a) || is_public(b)
}

/// Title and explanation of an ended flow's finding; `pair` already counts it.
fn end_text(flow: &FlowRecord, pair: &Pair, assets: &AssetDirectory) -> (String, String) {
    let answered = flow.packets_to_client > 0;
    let outcome = if answered {
        format!(
            "answered: {} packets ({}) out, {} packets ({}) back",
            thousands(flow.packets_to_server),
            bytes(flow.bytes_to_server),
            thousands(flow.packets_to_client),
            bytes(flow.bytes_to_client)
        )
    } else {
        format!(
            "no answer: {} packet{} ({}) sent, nothing came back",
            thousands(flow.packets_to_server),
            if flow.packets_to_server == 1 { "" } else { "s" },
            bytes(flow.bytes_to_server)
        )
    };
    let app = flow.app.map(|a| format!(" ({a})")).unwrap_or_default();
    let explanation = format!(
        "{} ↔ {}: {}{app} from {} to {}, {outcome}. In all between them: {}.",
        assets.label(flow.src_ip),
        assets.label(flow.dst_ip),
        service(flow.transport, flow.dst_port),
        clock(flow.ts_start),
        clock(flow.ts_end),
        pair.summary()
    );
    let title = format!(
        "{} ({})",
        title(flow.src_ip, flow.dst_ip, assets),
        if answered { "answered" } else { "no answer" }
    );
    (title, explanation)
}

impl Model for External {
    fn name(&self) -> &'static str {
        "external"
    }

    fn on_flow_open(&mut self, cx: &mut Cx<'_>, flow: &FlowOpen) {
        if flow.to_group || !is_external(flow.client_ip, flow.server_ip) {
            return;
        }
        let key = (flow.client_ip, flow.server_ip);
        let accepted = self.accepted.contains(&key);
        // Text is written only for a finding that may open an alert: one reported now
        // that an open alert of the pair would absorb needs none.
        let held_full = self.held.len() >= MAX_HELD;
        let pair = self.pair(key, flow.ts);
        let silent = accepted
            || (held_full
                && cx.fuses(
                    Category::ExternalConnection,
                    Some(flow.client_ip),
                    &fuse_key(flow.server_ip),
                ));
        let history = if silent {
            String::new()
        } else if pair.flows == 0 {
            "This is the first traffic between them.".to_string()
        } else {
            format!("Before this: {}.", pair.summary())
        };
        pair.flows += 1;
        pair.last = pair.last.max(flow.ts.micros());
        if pair.ports.len() < MAX_LISTED {
            pair.ports.insert(flow.server_port);
        }
        if accepted {
            return;
        }
        let (title, explanation) = if silent {
            (String::new(), String::new())
        } else {
            let outside = if is_public(flow.server_ip) {
                flow.server_ip
            } else {
                flow.client_ip
            };
            let explanation = format!(
                "{} opened a connection to {} on {} at {}. {outside} is a public address: an \
                 air-gapped network has no traffic to or from the internet. {history}",
                cx.assets.label(flow.client_ip),
                cx.assets.label(flow.server_ip),
                service(flow.transport, flow.server_port),
                clock(flow.ts),
            );
            (
                title(flow.client_ip, flow.server_ip, cx.assets),
                explanation,
            )
        };
        let held = Held {
            ts: flow.ts.micros(),
            client: flow.client_ip,
            server: flow.server_ip,
            port: flow.server_port,
            protocol: transport_name(flow.transport).to_ascii_lowercase(),
            mac: flow.client_mac,
            title,
            explanation,
        };
        if held_full {
            self.held_full += 1;
            cx.report(held.finding(flow.id));
        } else {
            self.held.insert(flow.id, held);
        }
    }

    fn tick(&mut self, cx: &mut Cx<'_>) {
        if self.held.is_empty() {
            return;
        }
        let due: Vec<u64> = self
            .held
            .iter()
            .filter(|(_, h)| cx.now.micros() - h.ts >= HOLD_MICROS)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(held) = self.held.remove(&id) {
                cx.report(held.finding(id));
            }
        }
    }

    fn on_flow_end(&mut self, cx: &mut Cx<'_>, flow: &FlowRecord) {
        if !is_external(flow.src_ip, flow.dst_ip) {
            return;
        }
        self.held.remove(&flow.id);
        let key = (flow.src_ip, flow.dst_ip);
        let accepted = self.accepted.contains(&key);
        let answered = flow.packets_to_client > 0;
        let pair = self.pair(key, flow.ts_start);
        // A flow whose open was not seen (state restored mid-flow) still counts once.
        if pair.flows == 0 {
            pair.flows = 1;
        }
        pair.last = pair.last.max(flow.ts_end.micros());
        pair.packets += flow.packets_to_server + flow.packets_to_client;
        pair.bytes += flow.bytes_to_server + flow.bytes_to_client;
        if answered {
            pair.answered += 1;
        } else {
            pair.unanswered += 1;
        }
        if pair.ports.len() < MAX_LISTED {
            pair.ports.insert(flow.dst_port);
        }
        if let Some(app) = flow.app {
            if pair.protocols.len() < MAX_LISTED {
                pair.protocols.insert(app.to_string());
            }
        }
        if accepted {
            return;
        }
        let key = fuse_key(flow.dst_ip);
        let (title, explanation) =
            if cx.fuses(Category::ExternalConnection, Some(flow.src_ip), &key) {
                (String::new(), String::new())
            } else {
                end_text(flow, pair, cx.assets)
            };
        let finding = Finding::new(
            flow.ts_start,
            Category::ExternalConnection,
            "external",
            if answered { 1.0 } else { 0.8 },
            title,
            explanation,
        )
        .between(Some(flow.src_ip), Some(flow.dst_ip), Some(flow.dst_port))
        .protocol(flow.app.map_or_else(
            || transport_name(flow.transport).to_ascii_lowercase(),
            str::to_string,
        ))
        .src_mac(flow.src_mac)
        .flow(flow.id)
        .fuse_key(key)
        .policy();
        cx.report(finding);
    }

    fn save(&self) -> serde_json::Value {
        let state = State {
            pairs: self.pairs.iter().map(|(k, v)| (*k, v.clone())).collect(),
            accepted: self.accepted.iter().copied().collect(),
            held: self.held.iter().map(|(id, h)| (*id, h.clone())).collect(),
            pairs_evicted: self.pairs_evicted,
            accepted_evicted: self.accepted_evicted,
            held_full: self.held_full,
        };
        serde_json::to_value(state).unwrap_or_default()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        let state: State = serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.pairs = state.pairs.into_iter().take(MAX_PAIRS).collect();
        self.accepted = state.accepted.into_iter().take(MAX_ACCEPTED).collect();
        self.held = state.held.into_iter().take(MAX_HELD).collect();
        self.pairs_evicted = state.pairs_evicted;
        self.accepted_evicted = state.accepted_evicted;
        self.held_full = state.held_full;
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        for ((client, server), pair) in &self.pairs {
            if ip.is_some_and(|ip| ip != *client && ip != *server) {
                continue;
            }
            let accepted = if self.accepted.contains(&(*client, *server)) {
                " (accepted as expected)"
            } else {
                ""
            };
            out.push(format!(
                "{} → {} (outside traffic): {}, last at {}{accepted}",
                assets.label(*client),
                assets.label(*server),
                pair.summary(),
                clock(Timestamp(pair.last))
            ));
        }
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        match ip {
            None => {
                self.pairs.clear();
                self.accepted.clear();
                self.held.clear();
            }
            Some(ip) => {
                self.held.retain(|_, h| h.client != ip && h.server != ip);
                self.pairs.retain(|(a, b), _| *a != ip && *b != ip);
                self.accepted.retain(|(a, b)| *a != ip && *b != ip);
            }
        }
    }

    /// Silences the finding's pair (also from an alert the operator marked expected,
    /// whose model reads `operator`).
    fn accept(&mut self, finding: &Finding) {
        if finding.category != Category::ExternalConnection
            || (finding.model != "external" && finding.model != "operator")
            || !finding.fuse_key.starts_with("external ")
        {
            return;
        }
        if let (Some(src), Some(dst)) = (finding.src_ip, finding.dst_ip) {
            if !self.accepted.contains(&(src, dst)) && self.accepted.len() >= MAX_ACCEPTED {
                if let Some(first) = self.accepted.iter().next().copied() {
                    self.accepted.remove(&first);
                    self.accepted_evicted += 1;
                }
            }
            self.accepted.insert((src, dst));
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("pairs_evicted", self.pairs_evicted),
            ("accepted_evicted", self.accepted_evicted),
            ("held_full", self.held_full),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::FlowState;

    const T0: i64 = 1_795_854_985_673_000;

    fn open(id: u64, ts: i64, client: &str, server: &str, port: u16) -> FlowOpen {
        FlowOpen {
            id,
            ts: Timestamp(ts),
            transport: TransportKind::Tcp,
            client_ip: client.parse().unwrap(),
            client_port: 40000,
            client_mac: None,
            server_ip: server.parse().unwrap(),
            server_port: port,
            server_mac: None,
            to_group: false,
        }
    }

    fn end(id: u64, ts: i64, server: &str, port: u16, back: u64) -> FlowRecord {
        FlowRecord {
            kind: "flow",
            id,
            ts_start: Timestamp(ts),
            ts_end: Timestamp(ts + 3_000_000),
            transport: TransportKind::Tcp,
            vlan: None,
            src_ip: "10.10.2.40".parse().unwrap(),
            src_port: 40000,
            dst_ip: server.parse().unwrap(),
            dst_port: port,
            src_mac: None,
            dst_mac: None,
            packets_to_server: 3,
            packets_to_client: back,
            bytes_to_server: 180,
            bytes_to_client: back * 60,
            app: None,
            state: if back == 0 {
                FlowState::SynSent
            } else {
                FlowState::Closed
            },
            gap_bytes: 0,
        }
    }

    #[test]
    fn public_traffic_is_a_policy_finding_even_while_learning() {
        let assets = AssetDirectory::default();
        let mut findings = Vec::new();
        let mut model = External::new();
        let mut cx = Cx::new(Timestamp(T0), true, &assets, &mut findings);
        model.on_flow_open(&mut cx, &open(7, T0, "10.10.2.40", "10.10.1.11", 502));
        // A flow that ends within the hold is reported once, with its numbers.
        model.on_flow_open(&mut cx, &open(8, T0, "10.10.2.40", "203.0.113.50", 3389));
        model.on_flow_end(&mut cx, &end(8, T0, "203.0.113.50", 3389, 0));
        // A flow still open after the hold is reported as opened.
        model.on_flow_open(
            &mut cx,
            &open(9, T0 + 5_000_000, "10.10.2.40", "203.0.113.50", 443),
        );
        for now in [T0 + 10_000_000, T0 + 20_000_000] {
            let mut cx = Cx::new(Timestamp(now), true, &assets, &mut findings);
            model.tick(&mut cx);
        }
        assert_eq!(findings.len(), 2);
        let f = &findings[0];
        assert!(f.policy);
        assert_eq!((f.score, f.flow_id), (0.8, Some(8)));
        assert_eq!(
            f.title,
            "Connection to outside address 203.0.113.50 from 10.10.2.40 (no answer)"
        );
        assert_eq!(
            f.explanation,
            "10.10.2.40 ↔ 203.0.113.50 (outside address): TCP port 3389 from 08:36:25 UTC \
             to 08:36:28 UTC, no answer: 3 packets (180 B) sent, nothing came back. In all \
             between them: 1 flow since 08:36:25 UTC (0 answered, 1 with no answer), 3 \
             packets, 180 B, to port 3389."
        );
        let f = &findings[1];
        assert!(f.policy);
        assert_eq!((f.score, f.flow_id), (0.9, Some(9)));
        assert_eq!(f.ts, Timestamp(T0 + 5_000_000));
        assert_eq!(
            f.title,
            "Connection to outside address 203.0.113.50 from 10.10.2.40"
        );
        assert_eq!(
            f.explanation,
            "10.10.2.40 opened a connection to 203.0.113.50 (outside address) on TCP port \
             443 at 08:36:30 UTC. 203.0.113.50 is a public address: an air-gapped network \
             has no traffic to or from the internet. Before this: 1 flow since 08:36:25 UTC \
             (0 answered, 1 with no answer), 3 packets, 180 B, to port 3389."
        );
        assert_eq!(f.fuse_key, findings[0].fuse_key);
    }

    #[test]
    fn accepted_pairs_stay_silent_and_state_round_trips() {
        let assets = AssetDirectory::default();
        let mut findings = Vec::new();
        let mut model = External::new();
        let mut cx = Cx::new(Timestamp(T0), false, &assets, &mut findings);
        model.on_flow_end(&mut cx, &end(1, T0, "203.0.113.50", 443, 5));
        assert_eq!(findings[0].score, 1.0);
        let mut accepted = findings.remove(0);
        accepted.model = "operator";
        let mut restored = External::new();
        restored.restore(model.save()).unwrap();
        restored.accept(&accepted);
        let mut cx = Cx::new(Timestamp(T0), false, &assets, &mut findings);
        restored.on_flow_open(
            &mut cx,
            &open(2, T0 + 60_000_000, "10.10.2.40", "203.0.113.50", 443),
        );
        assert!(findings.is_empty());
        let mut lines = Vec::new();
        restored.baseline(Some("10.10.2.40".parse().unwrap()), &assets, &mut lines);
        assert_eq!(
            lines,
            vec![
                "10.10.2.40 → 203.0.113.50 (outside address) (outside traffic): 2 flows since \
                 08:36:25 UTC (1 answered, 0 with no answer, 1 still open), 8 packets, 480 B, \
                 to port 443, last at 08:37:25 UTC (accepted as expected)"
            ]
        );
        restored.forget(Some("203.0.113.50".parse().unwrap()));
        assert!(restored.save()["pairs"].as_array().unwrap().is_empty());
    }
}
