//! `connections`: who talks to which service, and which zones talk to which.
//!
//! The unit of history is a minute of activity: an edge (client, server, server port)
//! counts once for each minute in which a flow on it opened, ended or carried a
//! request, so a persistent polling connection weighs as much as one reconnecting every
//! second. Per client, the Good–Turing estimate over its edges says how likely a new
//! service is; per server, over its clients, how likely a new client is. A new edge
//! scores (1 − p_client) × (1 − p_server): high only when both sides were settled.
//!
//! Thresholds by the server's criticality ([`threshold`]): a controller alerts from
//! 0.5, an HMI/SCADA/workstation from 0.7, a historian or network device from 0.9, any
//! other host only from 0.99 (a settled IT host reaching a new web server is ordinary).
//! Independently of the edge score, a zone pair never seen in that direction with an
//! OT side is `it_ot_crossing`, and an admin protocol into an OT zone from a source
//! that never used it there is `lateral_movement`, when the zone history (or the
//! server) was settled (score ≥ 0.5).
//!
//! A new port at or above 1024 that is no known service, on a pair that already talks
//! (in either direction), is an ephemeral channel (FTP data, RPC dynamic ports): it
//! joins the pair's one "ephemeral" service silently. Group destinations and public
//! addresses are left to other models.
//!
//! An edge is learnt when first seen, even when it alerts: the alert stands for it,
//! and the Good–Turing estimates rise with each new edge, so a source fanning out
//! keeps scoring lower rather than repeating itself.

use crate::assets::{is_public, AssetDirectory, Criticality, ZoneKind};
use crate::finding::{Category, Finding};
use crate::input::FlowOpen;
use crate::model::{Cx, Model};
use crate::models::evict::make_room;
use crate::stats::Map;
use crate::stats::{surprise, unseen_probability};
use crate::text::counted;
use dissect::Event;
use records::{FlowRecord, TransportKind};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const MINUTE: i64 = 60_000_000;
/// Most edges remembered.
const MAX_EDGES: usize = 65_536;
/// Most pairs remembered.
const MAX_PAIRS: usize = 32_768;
/// Most hosts (as client or server) remembered.
const MAX_HOSTS: usize = 16_384;
/// Most zone pairs remembered.
const MAX_ZONE_PAIRS: usize = 4096;
/// Most (source, zone, admin port) uses remembered.
const MAX_ADMIN: usize = 8192;
/// Service key of every ephemeral port of a pair.
const EPHEMERAL: u16 = 0;
/// Zone and lateral findings need a settled history at least this much.
const ZONE_THRESHOLD: f64 = 0.5;

/// Ports of services that are never ephemeral channels (industrial and admin
/// protocols above 1023).
const KNOWN_HIGH_PORTS: &[u16] = &[
    1089, 1090, 1091, 1911, 1962, 2222, 2404, 3389, 4000, 4840, 5007, 5094, 5900, 5901, 5902, 5903,
    5985, 5986, 9600, 18245, 18246, 20000, 20547, 34962, 34963, 34964, 44818, 47808, 48898,
];

/// Remote-administration services: port and name.
const ADMIN: &[(u16, &str)] = &[
    (22, "SSH"),
    (23, "Telnet"),
    (445, "SMB"),
    (3389, "RDP"),
    (5900, "VNC"),
    (5901, "VNC"),
    (5902, "VNC"),
    (5903, "VNC"),
    (5985, "WinRM"),
    (5986, "WinRM"),
];

/// Minutes of activity of one edge, pair or zone pair.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Obs {
    minutes: u64,
    first: i64,
    last: i64,
}

impl Obs {
    /// Notes activity at `now`; returns the minutes counted before when `now` starts a
    /// new minute. Flow records arrive when flows end, so time may step back: only a
    /// later minute counts.
    fn tick(&mut self, now: i64) -> Option<u64> {
        let new_minute = self.minutes == 0 || now.div_euclid(MINUTE) > self.last.div_euclid(MINUTE);
        if !new_minute {
            self.last = self.last.max(now);
            return None;
        }
        let before = self.minutes;
        self.minutes += 1;
        self.last = now;
        Some(before)
    }
}

/// Good–Turing tallies of one host's edges (as client) or clients (as server).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Tally {
    total: u64,
    singletons: u64,
    distinct: u64,
    last: i64,
}

impl Tally {
    fn p(&self) -> f64 {
        unseen_probability(self.singletons, self.total)
    }

    /// Accounts for one more minute of an item that had `before` minutes.
    fn add(&mut self, before: u64, now: i64) {
        self.total += 1;
        self.last = now;
        match before {
            0 => {
                self.distinct += 1;
                self.singletons += 1;
            }
            1 => self.singletons = self.singletons.saturating_sub(1),
            _ => {}
        }
    }
}

/// A zone: the /24 (IPv4) or /64 (IPv6) network address.
fn net(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & 0xffff_ff00)),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(
            u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
        )),
    }
}

fn admin_name(port: u16) -> Option<&'static str> {
    ADMIN.iter().find(|(p, _)| *p == port).map(|(_, n)| *n)
}

/// Alert threshold of a new edge's score by the server's criticality.
pub fn threshold(criticality: Criticality) -> f64 {
    match criticality {
        Criticality::Critical => 0.5,
        Criticality::High => 0.7,
        Criticality::Medium => 0.9,
        Criticality::Low => 0.99,
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    edges: Map<(IpAddr, IpAddr, u16), Obs>,
    pairs: Map<(IpAddr, IpAddr), Obs>,
    clients: Map<IpAddr, Tally>,
    servers: Map<IpAddr, Tally>,
    zone_pairs: Map<(IpAddr, IpAddr), Obs>,
    /// Per client zone: Good–Turing over its destination zones.
    zone_out: Map<IpAddr, Tally>,
    admin: Map<(IpAddr, IpAddr, u16), i64>,
    evicted: u64,
}

/// Saved form: maps with tuple keys as lists.
#[derive(Serialize, Deserialize)]
struct Saved {
    edges: Vec<((IpAddr, IpAddr, u16), Obs)>,
    pairs: Vec<((IpAddr, IpAddr), Obs)>,
    clients: Vec<(IpAddr, Tally)>,
    servers: Vec<(IpAddr, Tally)>,
    zone_pairs: Vec<((IpAddr, IpAddr), Obs)>,
    zone_out: Vec<(IpAddr, Tally)>,
    admin: Vec<((IpAddr, IpAddr, u16), i64)>,
    evicted: u64,
}

fn sorted<K: Ord + Copy, V: Copy>(map: &Map<K, V>) -> Vec<(K, V)> {
    let mut v: Vec<(K, V)> = map.iter().map(|(k, v)| (*k, *v)).collect();
    v.sort_by_key(|(k, _)| *k);
    v
}

/// The connections model.
#[derive(Debug, Default)]
pub struct Connections {
    s: State,
}

impl Connections {
    /// A model with nothing learnt.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a minute of activity on a known edge (and its pair, hosts and zones).
    fn observe(&mut self, client: IpAddr, server: IpAddr, port: u16, now: i64) {
        let Some(edge) = self.s.edges.get_mut(&(client, server, port)) else {
            return;
        };
        let Some(before) = edge.tick(now) else {
            return;
        };
        self.s.clients.entry(client).or_default().add(before, now);
        if let Some(before) = self.s.pairs.entry((client, server)).or_default().tick(now) {
            self.s.servers.entry(server).or_default().add(before, now);
        }
        let (cz, sz) = (net(client), net(server));
        if let Some(before) = self.s.zone_pairs.entry((cz, sz)).or_default().tick(now) {
            self.s.zone_out.entry(cz).or_default().add(before, now);
        }
    }

    fn make_room(&mut self) {
        let s = &mut self.s;
        s.evicted += make_room(&mut s.edges, MAX_EDGES, |o| o.last);
        s.evicted += make_room(&mut s.pairs, MAX_PAIRS, |o| o.last);
        s.evicted += make_room(&mut s.clients, MAX_HOSTS, |t| t.last);
        s.evicted += make_room(&mut s.servers, MAX_HOSTS, |t| t.last);
        s.evicted += make_room(&mut s.zone_pairs, MAX_ZONE_PAIRS, |o| o.last);
        s.evicted += make_room(&mut s.zone_out, MAX_ZONE_PAIRS, |t| t.last);
        s.evicted += make_room(&mut s.admin, MAX_ADMIN, |t| *t);
    }

    /// The service key of `port` on a pair: ephemeral ports of a pair that already
    /// talks collapse into one.
    fn service(&self, client: IpAddr, server: IpAddr, port: u16) -> u16 {
        if port >= 1024
            && !KNOWN_HIGH_PORTS.contains(&port)
            && !self.s.edges.contains_key(&(client, server, port))
            && (self.s.pairs.contains_key(&(client, server))
                || self.s.pairs.contains_key(&(server, client)))
        {
            EPHEMERAL
        } else {
            port
        }
    }

    fn judge_new_edge(&mut self, cx: &mut Cx<'_>, flow: &FlowOpen, port: u16) {
        let (client, server) = (flow.client_ip, flow.server_ip);
        let ct = self.s.clients.get(&client).copied().unwrap_or_default();
        let st = self.s.servers.get(&server).copied().unwrap_or_default();
        let (pc, ps) = (ct.p(), st.p());
        let score = surprise(pc) * surprise(ps);
        let (cz, sz) = (net(client), net(server));
        let zone_known = self.s.zone_pairs.contains_key(&(cz, sz));
        let zt = self.s.zone_out.get(&cz).copied().unwrap_or_default();
        let zone_score = surprise(zt.p());
        let admin = admin_name(port).filter(|_| flow.transport == TransportKind::Tcp);
        let admin_known = self.s.admin.contains_key(&(client, sz, port));
        if admin.is_some() {
            self.s.admin.insert((client, sz, port), cx.now.micros());
        }
        if cx.learning {
            return;
        }
        let assets = cx.assets;
        let (client_zone, client_kind) = assets.zone(client);
        let (server_zone, server_kind) = assets.zone(server);
        let ot = client_kind == ZoneKind::Ot || server_kind == ZoneKind::Ot;
        let criticality = assets.criticality(server);
        let transport = match flow.transport {
            TransportKind::Udp => "UDP",
            _ => "TCP",
        };
        let history = format!(
            "Before it, {} had used {} in {} of activity ({:.0}% chance of a new one by Good–Turing), and {} had {} in {} ({:.0}% chance of a new one).",
            assets.label(client),
            counted(ct.distinct, "service"),
            counted(ct.total, "minute"),
            pc * 100.0,
            assets.label(server),
            counted(st.distinct, "client"),
            counted(st.total, "minute"),
            ps * 100.0
        );
        let first = format!(
            "{} connected to {} on {transport} port {} for the first time.",
            assets.label(client),
            assets.label(server),
            flow.server_port
        );
        let (category, score, title, explanation, fuse) = if let (Some(name), false, ZoneKind::Ot) =
            (admin, admin_known, server_kind)
        {
            let s = zone_score.max(surprise(ps));
            if s < ZONE_THRESHOLD {
                return;
            }
            (
                Category::LateralMovement,
                s,
                format!("{name} from {client} into OT zone {server_zone}"),
                format!("{first} {client} never used {name} into {server_zone} before. {history}"),
                format!("admin:{server_zone}"),
            )
        } else if !zone_known && ot {
            if zone_score < ZONE_THRESHOLD {
                return;
            }
            (
                Category::ItOtCrossing,
                zone_score,
                format!("First traffic from zone {client_zone} to zone {server_zone}"),
                format!(
                    "{first} No host of {client_zone} had opened a connection into {server_zone} before; hosts of {client_zone} had reached {} in {} of activity. {history}",
                    counted(zt.distinct, "zone"),
                    counted(zt.total, "minute")
                ),
                format!("zone:{server_zone}"),
            )
        } else {
            if score < threshold(criticality) {
                return;
            }
            (
                Category::NewConnection,
                score,
                format!("New connection {client} → {server}:{}", flow.server_port),
                format!("{first} {history}"),
                String::new(),
            )
        };
        cx.report(
            Finding::new(cx.now, category, "connections", score, title, explanation)
                .between(Some(client), Some(server), Some(flow.server_port))
                .src_mac(flow.client_mac)
                .protocol(transport.to_lowercase())
                .flow(flow.id)
                .fuse_key(fuse),
        );
    }
}

fn skipped(client: IpAddr, server: IpAddr) -> bool {
    is_public(client)
        || is_public(server)
        || client.is_unspecified()
        || server.is_unspecified()
        || client.is_loopback()
        || crate::assets::is_group(server)
}

impl Model for Connections {
    fn name(&self) -> &'static str {
        "connections"
    }

    fn on_flow_open(&mut self, cx: &mut Cx<'_>, flow: &FlowOpen) {
        if flow.to_group
            || !matches!(flow.transport, TransportKind::Tcp | TransportKind::Udp)
            || skipped(flow.client_ip, flow.server_ip)
        {
            return;
        }
        let (client, server) = (flow.client_ip, flow.server_ip);
        let port = self.service(client, server, flow.server_port);
        let now = cx.now.micros();
        if !self.s.edges.contains_key(&(client, server, port)) {
            if port != EPHEMERAL {
                self.judge_new_edge(cx, flow, port);
            }
            self.make_room();
            self.s.edges.insert(
                (client, server, port),
                Obs {
                    minutes: 0,
                    first: now,
                    last: now,
                },
            );
            self.s.pairs.entry((client, server)).or_insert(Obs {
                minutes: 0,
                first: now,
                last: now,
            });
            self.s
                .zone_pairs
                .entry((net(client), net(server)))
                .or_insert(Obs {
                    minutes: 0,
                    first: now,
                    last: now,
                });
        }
        self.observe(client, server, port, now);
    }

    fn on_flow_end(&mut self, cx: &mut Cx<'_>, flow: &FlowRecord) {
        let (client, server) = (flow.src_ip, flow.dst_ip);
        let port = if self.s.edges.contains_key(&(client, server, flow.dst_port)) {
            flow.dst_port
        } else {
            EPHEMERAL
        };
        self.observe(client, server, port, cx.now.micros());
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, event: &Event) {
        if event.is_response {
            return;
        }
        if let (Some(client), Some(server)) = (event.src_ip, event.dst_ip) {
            self.observe(client, server, event.dst_port, cx.now.micros());
        }
    }

    fn save(&self) -> serde_json::Value {
        let s = &self.s;
        serde_json::to_value(Saved {
            edges: sorted(&s.edges),
            pairs: sorted(&s.pairs),
            clients: sorted(&s.clients),
            servers: sorted(&s.servers),
            zone_pairs: sorted(&s.zone_pairs),
            zone_out: sorted(&s.zone_out),
            admin: sorted(&s.admin),
            evicted: s.evicted,
        })
        .unwrap_or_default()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        let v: Saved = serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.s = State {
            edges: v.edges.into_iter().collect(),
            pairs: v.pairs.into_iter().collect(),
            clients: v.clients.into_iter().collect(),
            servers: v.servers.into_iter().collect(),
            zone_pairs: v.zone_pairs.into_iter().collect(),
            zone_out: v.zone_out.into_iter().collect(),
            admin: v.admin.into_iter().collect(),
            evicted: v.evicted,
        };
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        for ((client, server, port), o) in sorted(&self.s.edges) {
            if ip.is_some_and(|i| i != client && i != server) {
                continue;
            }
            let service = if port == EPHEMERAL {
                "ephemeral ports".to_string()
            } else {
                format!("port {port}")
            };
            out.push(format!(
                "connections: {} → {} {service}, active in {}",
                assets.label(client),
                assets.label(server),
                counted(o.minutes, "minute")
            ));
        }
        for (host, t) in sorted(&self.s.clients) {
            if ip.is_none_or(|i| i == host) {
                out.push(format!(
                    "connections: {} uses {} ({}; {:.1}% chance of a new one)",
                    assets.label(host),
                    counted(t.distinct, "service"),
                    counted(t.total, "minute"),
                    t.p() * 100.0
                ));
            }
        }
        for (host, t) in sorted(&self.s.servers) {
            if ip.is_none_or(|i| i == host) {
                out.push(format!(
                    "connections: {} serves {} ({}; {:.1}% chance of a new one)",
                    assets.label(host),
                    counted(t.distinct, "client"),
                    counted(t.total, "minute"),
                    t.p() * 100.0
                ));
            }
        }
        if ip.is_none() {
            for ((from, to), o) in sorted(&self.s.zone_pairs) {
                out.push(format!(
                    "connections: zone {} → zone {}, active in {}",
                    assets.zone(from).0,
                    assets.zone(to).0,
                    counted(o.minutes, "minute")
                ));
            }
        }
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        let Some(ip) = ip else {
            self.s = State::default();
            return;
        };
        let s = &mut self.s;
        s.edges.retain(|(c, v, _), _| *c != ip && *v != ip);
        s.pairs.retain(|(c, v), _| *c != ip && *v != ip);
        s.clients.remove(&ip);
        s.servers.remove(&ip);
        s.admin.retain(|(c, _, _), _| *c != ip);
    }

    fn accept(&mut self, finding: &Finding) {
        // The edge was learnt when it was reported; accepting a crossing also makes
        // the zone pair normal for every host of the source zone.
        if let (Some(client), Some(server)) = (finding.src_ip, finding.dst_ip) {
            let now = finding.ts.micros();
            let key = (net(client), net(server));
            let zp = self.s.zone_pairs.entry(key).or_default();
            if zp.minutes == 0 {
                zp.first = now;
            }
            zp.last = now;
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("edges", self.s.edges.len() as u64),
            ("pairs", self.s.pairs.len() as u64),
            ("zone_pairs", self.s.zone_pairs.len() as u64),
            ("evicted", self.s.evicted),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::{AssetRecord, Role, Timestamp};

    fn ts(secs: i64) -> Timestamp {
        Timestamp(1_795_854_000_000_000 + secs * 1_000_000)
    }

    fn asset(ip: &str, role: Role, name: &str) -> AssetRecord {
        crate::assets::test_asset(ip, role, name)
    }

    fn plant() -> AssetDirectory {
        AssetDirectory::from_assets(&[
            asset("10.10.1.11", Role::Plc, "plc1"),
            asset("10.10.2.10", Role::Hmi, "hmi1"),
            asset("10.10.2.40", Role::EngineeringWorkstation, "ews1"),
            asset("10.10.4.10", Role::ItHost, "itws1"),
            asset("10.10.4.20", Role::ItHost, "web2"),
            asset("10.10.3.20", Role::ItHost, "files1"),
        ])
    }

    fn open(
        m: &mut Connections,
        secs: i64,
        learning: bool,
        c: &str,
        s: &str,
        port: u16,
    ) -> Vec<Finding> {
        let assets = plant();
        let mut out = Vec::new();
        let mut cx = Cx::new(ts(secs), learning, &assets, &mut out);
        let flow = FlowOpen {
            id: secs as u64,
            ts: ts(secs),
            transport: TransportKind::Tcp,
            client_ip: c.parse().unwrap(),
            client_port: 40000,
            client_mac: None,
            server_ip: s.parse().unwrap(),
            server_port: port,
            server_mac: None,
            to_group: false,
        };
        m.on_flow_open(&mut cx, &flow);
        out
    }

    /// Twenty minutes: the HMI polls the PLC over one connection (its requests count a
    /// minute each), the EWS reads the HMI, the IT workstation reconnects to a file
    /// server (SSH, FTP with passive data ports) every minute.
    fn learnt() -> Connections {
        let mut m = Connections::new();
        let assets = plant();
        assert!(open(&mut m, 0, true, "10.10.2.10", "10.10.1.11", 502).is_empty());
        for minute in 0..20 {
            let t = minute * 60;
            let mut out = Vec::new();
            let mut cx = Cx::new(ts(t + 1), true, &assets, &mut out);
            let mut e = Event::new(
                "modbus",
                dissect::OpClass::Read,
                3,
                "read_holding_registers",
                false,
            );
            e.src_ip = "10.10.2.10".parse().ok();
            e.dst_ip = "10.10.1.11".parse().ok();
            e.dst_port = 502;
            m.on_event(&mut cx, &e);
            open(&mut m, t + 2, true, "10.10.2.40", "10.10.2.10", 443);
            open(&mut m, t + 3, true, "10.10.4.10", "10.10.3.20", 22);
            open(&mut m, t + 4, true, "10.10.4.10", "10.10.3.20", 21);
            open(
                &mut m,
                t + 5,
                true,
                "10.10.4.10",
                "10.10.3.20",
                50_000 + minute as u16,
            );
        }
        m
    }

    #[test]
    fn an_it_workstation_reaching_a_plc_crosses_into_ot() {
        let mut m = learnt();
        let f = open(&mut m, 1300, false, "10.10.4.10", "10.10.1.11", 502);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].category, Category::ItOtCrossing);
        assert_eq!(
            f[0].title,
            "First traffic from zone 10.10.4.0/24 to zone 10.10.1.0/24"
        );
        assert_eq!(
            f[0].explanation,
            "10.10.4.10 (IT host itws1) connected to 10.10.1.11 (PLC plc1) on TCP port 502 for the \
             first time. No host of 10.10.4.0/24 had opened a connection into 10.10.1.0/24 before; \
             hosts of 10.10.4.0/24 had reached 1 zone in 20 minutes of activity. Before it, \
             10.10.4.10 (IT host itws1) had used 3 services in 60 minutes of activity (2% chance of \
             a new one by Good–Turing), and 10.10.1.11 (PLC plc1) had 1 client in 20 minutes (5% \
             chance of a new one)."
        );
        // 20 minutes, no singleton zone: 1/21 unseen.
        assert!((f[0].score - 20.0 / 21.0).abs() < 1e-9);
        assert_eq!(f[0].flow_id, Some(1300));
        // The same edge again is known.
        assert!(open(&mut m, 1301, false, "10.10.4.10", "10.10.1.11", 502).is_empty());
    }

    #[test]
    fn ordinary_novelty_and_ephemeral_ports_stay_quiet() {
        let mut m = learnt();
        // A new server in the IT zone: a low-criticality destination.
        assert!(open(&mut m, 1300, false, "10.10.4.10", "10.10.4.20", 80).is_empty());
        // A new passive FTP data port on a pair that already talks, either direction.
        assert!(open(&mut m, 1310, false, "10.10.4.10", "10.10.3.20", 61_234).is_empty());
        assert!(open(&mut m, 1320, false, "10.10.3.20", "10.10.4.10", 45_000).is_empty());
    }

    #[test]
    fn ssh_into_the_control_cell_from_a_new_source_is_lateral_movement() {
        let mut m = learnt();
        let f = open(&mut m, 1300, false, "10.10.2.40", "10.10.1.11", 22);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].category, Category::LateralMovement);
        assert_eq!(f[0].title, "SSH from 10.10.2.40 into OT zone 10.10.1.0/24");
        assert!(f[0].explanation.starts_with(
            "10.10.2.40 (engineering workstation ews1) connected to 10.10.1.11 (PLC plc1) on TCP \
             port 22 for the first time. 10.10.2.40 never used SSH into 10.10.1.0/24 before."
        ));
        // A settled client reaching a settled PLC on a new service: a new connection.
        let f = open(&mut m, 1310, false, "10.10.2.10", "10.10.1.11", 102);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].category, Category::NewConnection);
        assert_eq!(f[0].title, "New connection 10.10.2.10 → 10.10.1.11:102");
    }

    #[test]
    fn state_survives_save_and_restore_and_forget() {
        let m = learnt();
        let mut r = Connections::new();
        r.restore(m.save()).unwrap();
        assert_eq!(r.save(), m.save());
        let mut lines = Vec::new();
        r.baseline(Some("10.10.1.11".parse().unwrap()), &plant(), &mut lines);
        assert_eq!(
            lines,
            vec![
                "connections: 10.10.2.10 (HMI hmi1) → 10.10.1.11 (PLC plc1) port 502, active in 20 minutes",
                "connections: 10.10.1.11 (PLC plc1) serves 1 client (20 minutes; 4.8% chance of a new one)",
            ]
        );
        r.forget(Some("10.10.4.10".parse().unwrap()));
        assert_eq!(r.counters()[0], ("edges", 2));
    }
}
