//! `scan`: a source fanning out far beyond its own habit, or sending ICS discovery
//! commands it never sent.
//!
//! Fan-out is counted per source over a sliding minute (the current 60-second window
//! plus the previous one pro rata, so a sweep straddling a boundary is not cut in
//! two): distinct (destination, port, transport) attempts from flow opens, plus each
//! distinct one again when an attempt to it ends unanswered (TCP left at SYN or
//! refused with a reset, UDP without a reply), so probes weigh more than
//! conversations, and a client retrying one dead peer stays at two. Distinct
//! counts use fixed bitmaps (linear counting), so a window costs no allocation per
//! input. The source alerts when its fan-out exceeds max(2 × its learnt maximum,
//! learnt maximum + 10, 20); the learnt maximum is the highest sliding fan-out while
//! learning, and afterwards closes a tenth of the gap to each higher window that did
//! not alert, so a scan is never folded into the baseline. Score: excess / (excess + 1) with excess = (fan-out − max) /
//! max(max, 5).
//!
//! Discovery: a request with op `identify` in a protocol the source never identified
//! in, reported once per source and protocol (then learnt). Fan-out is reported at
//! most once per source and incident (10 minutes without an over-limit window end
//! it). The two carry different fuse keys, so the analyst sees both the sweep's counts
//! and the discovery commands; alert fusion joins the rest.

use crate::assets::{is_group, AssetDirectory};
use crate::finding::{Category, Finding};
use crate::input::FlowOpen;
use crate::model::{Cx, Model};
use crate::models::evict::make_room;
use crate::stats::Map;
use crate::stats::{surprise, unseen_probability};
use crate::text::{counted, thousands};
use dissect::{Event, OpClass};
use records::{FlowRecord, FlowState, TransportKind};
use serde::{Deserialize, Serialize};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;

const WINDOW: i64 = 60_000_000;
const MINUTE: i64 = 60_000_000;
/// An incident of one source ends after this long without a new trigger.
const INCIDENT: i64 = 600_000_000;
/// Most sources remembered.
const MAX_SOURCES: usize = 4096;
/// Most protocols remembered per source for discovery.
const MAX_PROTOCOLS: usize = 16;
/// Minutes of requests after which a source's own habit judges its discovery requests.
const OWN_HISTORY_MINUTES: u64 = 10;
/// Share of the gap to a higher quiet minute the learnt maximum closes after learning.
const GROWTH: f64 = 0.1;
/// Discovery is reported when at least this surprising (where most sources discover,
/// one more is ordinary).
const MIN_SCORE: f64 = 0.5;
/// Fan-out a source with no history may reach in a window.
const FLOOR: f64 = 20.0;
/// Bits of the (destination, port) bitmap; hosts and ports have a quarter each.
const TARGET_BITS: usize = 4096;
const SMALL_BITS: usize = 1024;

/// Distinct-count bitmap (linear counting).
#[derive(Clone, Debug, Default)]
struct Bitmap {
    words: Vec<u64>,
    set: u32,
}

impl Bitmap {
    fn insert(&mut self, bits: usize, h: u64) {
        if self.words.len() != bits / 64 {
            self.words = vec![0; bits / 64];
        }
        let i = (h % bits as u64) as usize;
        let (w, b) = (i / 64, 1u64 << (i % 64));
        if let Some(word) = self.words.get_mut(w) {
            if *word & b == 0 {
                *word |= b;
                self.set += 1;
            }
        }
    }

    /// Estimated distinct items.
    fn estimate(&self, bits: usize) -> f64 {
        let m = bits as f64;
        let set = f64::from(self.set);
        if self.set == 0 {
            return 0.0;
        }
        if set >= m {
            return m * m.ln();
        }
        (-m * (1.0 - set / m).ln()).round()
    }

    fn clear(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
        self.set = 0;
    }
}

/// The current window of one source.
#[derive(Clone, Debug, Default)]
struct Window {
    start: i64,
    targets: Bitmap,
    hosts: Bitmap,
    ports: Bitmap,
    tcp: u32,
    udp: u32,
    /// Distinct targets whose attempts went unanswered.
    unanswered: Bitmap,
    alerted: bool,
    /// Fan-out of the window just before, when adjacent.
    prev: f64,
    /// Highest sliding fan-out seen in this window.
    peak: f64,
}

/// One source.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Source {
    /// Largest fan-out of a window that did not alert.
    max_fanout: f64,
    /// Fan-out of the last window that alerted (folded in when accepted).
    alert_fanout: f64,
    windows: u64,
    last: i64,
    /// End of the current fan-out incident (0: none).
    incident_until: i64,
    /// Protocols it sent identify requests in.
    identify: Vec<String>,
    /// Minutes in which it sent requests.
    request_minutes: u64,
    last_request_minute: i64,
    #[serde(skip)]
    window: Window,
}

impl Source {
    /// Fan-out of the current window alone.
    fn current(&self) -> f64 {
        self.window.targets.estimate(TARGET_BITS) + self.window.unanswered.estimate(SMALL_BITS)
    }

    /// The previous window's share of a sliding minute ending at `now`.
    fn carried(&self, now: i64) -> f64 {
        let elapsed = now.saturating_sub(self.window.start) as f64 / WINDOW as f64;
        self.window.prev * (1.0 - elapsed).clamp(0.0, 1.0)
    }

    /// Fan-out over the minute ending at `now`: the current window plus the previous
    /// one pro rata, so a sweep straddling a window boundary is not cut in two.
    fn fanout(&self, now: i64) -> f64 {
        self.current() + self.carried(now)
    }

    fn limit(&self) -> f64 {
        (2.0 * self.max_fanout)
            .max(self.max_fanout + 10.0)
            .max(FLOOR)
    }

    /// Closes the window when `now` is past it, folding a quiet window into the habit.
    fn roll(&mut self, now: i64, learning: bool) {
        if now.saturating_sub(self.window.start) < WINDOW {
            return;
        }
        let current = self.current();
        if self.window.start != 0 {
            let peak = self.window.peak.max(current);
            if learning {
                self.max_fanout = self.max_fanout.max(peak);
            } else if !self.window.alerted && peak > self.max_fanout {
                // After learning the habit grows a tenth of the way per quiet minute,
                // so a sweep ramping up cannot lift its own limit.
                self.max_fanout += (peak - self.max_fanout) * GROWTH;
            }
            self.windows += 1;
        }
        let w = &mut self.window;
        let start = now - now.rem_euclid(WINDOW);
        w.prev = if start == w.start.saturating_add(WINDOW) {
            current
        } else {
            0.0
        };
        w.start = start;
        w.targets.clear();
        w.hosts.clear();
        w.ports.clear();
        w.tcp = 0;
        w.udp = 0;
        w.unanswered.clear();
        w.alerted = false;
        w.peak = 0.0;
    }
}

fn hash(parts: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    sources: Map<IpAddr, Source>,
    evicted: u64,
}

/// The scan model.
#[derive(Debug, Default)]
pub struct Scan {
    s: State,
}

impl Scan {
    /// A model with nothing learnt.
    pub fn new() -> Self {
        Self::default()
    }

    fn source(&mut self, ip: IpAddr, now: i64, learning: bool) -> &mut Source {
        if !self.s.sources.contains_key(&ip) {
            self.s.evicted += make_room(&mut self.s.sources, MAX_SOURCES, |s| s.last);
        }
        let s = self.s.sources.entry(ip).or_default();
        s.last = now;
        s.roll(now, learning);
        s
    }

    /// Reports a fan-out finding when the window just went over the limit.
    fn check(&mut self, cx: &mut Cx<'_>, ip: IpAddr, flow_id: u64) {
        let now = cx.now.micros();
        let Some(s) = self.s.sources.get_mut(&ip) else {
            return;
        };
        let f = s.fanout(now);
        s.window.peak = s.window.peak.max(f);
        if cx.learning || s.window.alerted || f <= s.limit() {
            return;
        }
        let carried = s.carried(now);
        s.window.alerted = true;
        s.alert_fanout = f;
        let fresh = now > s.incident_until;
        s.incident_until = now.saturating_add(INCIDENT);
        if !fresh {
            return;
        }
        let excess = (f - s.max_fanout) / s.max_fanout.max(5.0);
        let score = excess / (excess + 1.0);
        let w = &s.window;
        let habit = if s.windows == 0 {
            format!("{} had no history of connections", ip)
        } else {
            format!(
                "its largest minute in {} minutes of history reached {:.0}",
                thousands(s.windows),
                s.max_fanout
            )
        };
        let explanation = format!(
            "{} tried {:.0} distinct destination/port pairs ({:.0} hosts, {:.0} ports; {} TCP and {} UDP attempts, {:.0} of the pairs unanswered) within one minute{}; {habit}.",
            cx.assets.label(ip),
            w.targets.estimate(TARGET_BITS),
            w.hosts.estimate(SMALL_BITS),
            w.ports.estimate(SMALL_BITS),
            w.tcp,
            w.udp,
            w.unanswered.estimate(SMALL_BITS),
            if carried >= 0.5 {
                format!(" (and {carried:.0} more in the minute before, pro rata)")
            } else {
                String::new()
            }
        );
        cx.report(
            Finding::new(
                cx.now,
                Category::Scan,
                "scan",
                score,
                format!("Scan from {ip}: {f:.0} targets in a minute"),
                explanation,
            )
            .between(Some(ip), None, None)
            .flow(flow_id)
            .fuse_key("fanout"),
        );
    }
}

impl Model for Scan {
    fn name(&self) -> &'static str {
        "scan"
    }

    fn on_flow_open(&mut self, cx: &mut Cx<'_>, flow: &FlowOpen) {
        if flow.to_group || is_group(flow.server_ip) {
            return;
        }
        let now = cx.now.micros();
        let s = self.source(flow.client_ip, now, cx.learning);
        let w = &mut s.window;
        w.targets.insert(
            TARGET_BITS,
            hash((flow.server_ip, flow.server_port, flow.transport)),
        );
        w.hosts.insert(SMALL_BITS, hash(flow.server_ip));
        w.ports
            .insert(SMALL_BITS, hash((flow.server_port, flow.transport)));
        match flow.transport {
            TransportKind::Udp => w.udp += 1,
            _ => w.tcp += 1,
        }
        self.check(cx, flow.client_ip, flow.id);
    }

    fn on_flow_end(&mut self, cx: &mut Cx<'_>, flow: &FlowRecord) {
        let unanswered = match flow.transport {
            TransportKind::Tcp => {
                flow.state == FlowState::SynSent
                    || (flow.state == FlowState::Reset
                        && flow.packets_to_server <= 2
                        && flow.packets_to_client <= 1)
            }
            TransportKind::Udp => flow.packets_to_client == 0 && !is_group(flow.dst_ip),
            _ => false,
        };
        if !unanswered {
            return;
        }
        let now = cx.now.micros();
        let s = self.source(flow.src_ip, now, cx.learning);
        // Distinct targets: a client retrying one dead peer is no sweep.
        s.window.unanswered.insert(
            SMALL_BITS,
            hash((flow.dst_ip, flow.dst_port, flow.transport)),
        );
        self.check(cx, flow.src_ip, flow.id);
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, event: &Event) {
        if event.is_response {
            return;
        }
        let Some(ip) = event.src_ip else { return };
        let now = cx.now.micros();
        let learning = cx.learning;
        let s = self.source(ip, now, learning);
        let minute = now.div_euclid(MINUTE);
        let minutes_before = s.request_minutes;
        if minute > s.last_request_minute || s.request_minutes == 0 {
            s.last_request_minute = minute;
            s.request_minutes += 1;
        }
        // BACnet's I-Am and I-Have are classed identify but announce the sender
        // (answers to Who-Is/Who-Has): no discovery.
        let announcement =
            event.function_name.starts_with("i_am") || event.function_name.starts_with("i_have");
        if event.op != OpClass::Identify
            || announcement
            || s.identify.iter().any(|p| p == event.protocol)
            || s.identify.len() >= MAX_PROTOCOLS
        {
            return;
        }
        let known: Vec<String> = s.identify.clone();
        s.identify.push(event.protocol.to_string());
        if learning {
            return;
        }
        // How unusual discovery is: for a source with a history of requests, its own
        // identify protocols against its request minutes; for a source too new to
        // have a habit, the share of sources that ever sent discovery requests.
        let score = if minutes_before >= OWN_HISTORY_MINUTES {
            surprise(unseen_probability(known.len() as u64, minutes_before))
        } else {
            let requesters = self.s.sources.values().filter(|s| s.request_minutes > 0);
            let (mut n, mut identifying) = (0u64, 0u64);
            for s in requesters {
                n += 1;
                identifying += u64::from(!s.identify.is_empty());
            }
            // The source itself is among both; judge the others.
            surprise(unseen_probability(
                identifying.saturating_sub(1),
                n.saturating_sub(1),
            ))
        };
        if score < MIN_SCORE {
            return;
        }
        let before = if known.is_empty() {
            "had never sent a discovery request".to_string()
        } else {
            format!("had sent discovery requests only in {}", known.join(", "))
        };
        let target = event
            .dst_ip
            .map_or_else(|| "the network".to_string(), |d| cx.assets.label(d));
        let explanation = format!(
            "{} sent {} {} ({}) to {target}; in {} of requests it {before}.",
            cx.assets.label(ip),
            event.protocol,
            event.function_name,
            event.function,
            counted(minutes_before, "minute")
        );
        cx.report(
            Finding::new(
                cx.now,
                Category::Scan,
                "scan",
                score,
                format!(
                    "ICS discovery from {ip}: {} {}",
                    event.protocol, event.function_name
                ),
                explanation,
            )
            .between(Some(ip), event.dst_ip, Some(event.dst_port))
            .protocol(event.protocol)
            .fuse_key("discovery"),
        );
    }

    fn save(&self) -> serde_json::Value {
        let mut v: Vec<(&IpAddr, &Source)> = self.s.sources.iter().collect();
        v.sort_by_key(|(k, _)| **k);
        serde_json::json!({ "sources": v, "evicted": self.s.evicted })
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        #[derive(Deserialize)]
        struct Saved {
            sources: Vec<(IpAddr, Source)>,
            evicted: u64,
        }
        let v: Saved = serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.s = State {
            sources: v.sources.into_iter().collect(),
            evicted: v.evicted,
        };
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        let mut v: Vec<(&IpAddr, &Source)> = self
            .s
            .sources
            .iter()
            .filter(|(k, _)| ip.is_none_or(|i| i == **k))
            .collect();
        v.sort_by_key(|(k, _)| **k);
        for (k, s) in v {
            let identify = if s.identify.is_empty() {
                "no discovery requests".to_string()
            } else {
                format!("discovery requests in {}", s.identify.join(", "))
            };
            out.push(format!(
                "scan: {} reaches at most {:.0} destination/port pairs a minute over {} minutes (alerts above {:.0}); {identify}",
                assets.label(*k),
                s.max_fanout,
                thousands(s.windows),
                s.limit()
            ));
        }
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        match ip {
            Some(ip) => {
                self.s.sources.remove(&ip);
            }
            None => self.s = State::default(),
        }
    }

    fn accept(&mut self, finding: &Finding) {
        // An accepted scan source (a vulnerability scanner, an asset-discovery tool)
        // keeps its fan-out as its habit, and its discovery protocol.
        if let Some(s) = finding.src_ip.and_then(|ip| self.s.sources.get_mut(&ip)) {
            s.max_fanout = s.max_fanout.max(s.alert_fanout);
            if let Some(p) = &finding.protocol {
                if !s.identify.contains(p) && s.identify.len() < MAX_PROTOCOLS {
                    s.identify.push(p.clone());
                }
            }
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("sources", self.s.sources.len() as u64),
            ("evicted", self.s.evicted),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::Timestamp;

    fn ts(secs: i64) -> Timestamp {
        Timestamp(1_795_854_000_000_000 + secs * 1_000_000)
    }

    fn flow(
        secs: i64,
        client: &str,
        server: String,
        port: u16,
        transport: TransportKind,
    ) -> FlowOpen {
        FlowOpen {
            id: 1,
            ts: ts(secs),
            transport,
            client_ip: client.parse().unwrap(),
            client_port: 40000,
            client_mac: None,
            server_ip: server.parse().unwrap(),
            server_port: port,
            server_mac: None,
            to_group: false,
        }
    }

    fn run(
        m: &mut Scan,
        secs: i64,
        learning: bool,
        f: impl FnOnce(&mut Scan, &mut Cx<'_>),
    ) -> Vec<Finding> {
        let assets = AssetDirectory::default();
        let mut out = Vec::new();
        let mut cx = Cx::new(ts(secs), learning, &assets, &mut out);
        f(m, &mut cx);
        out
    }

    /// Ten minutes of an HMI polling six controllers each minute.
    fn learnt() -> Scan {
        let mut m = Scan::new();
        for minute in 0..10 {
            for plc in 11..17 {
                let fl = flow(
                    minute * 60 + plc,
                    "10.10.2.10",
                    format!("10.10.1.{plc}"),
                    502,
                    TransportKind::Tcp,
                );
                assert!(run(&mut m, minute * 60 + plc, true, |m, cx| m
                    .on_flow_open(cx, &fl))
                .is_empty());
            }
        }
        m
    }

    #[test]
    fn a_sweep_far_above_the_habit_is_one_scan_finding() {
        let mut m = learnt();
        let mut found = Vec::new();
        for host in 1..=30 {
            for port in [502, 102] {
                let fl = flow(
                    700,
                    "10.10.1.66",
                    format!("10.10.1.{host}"),
                    port,
                    TransportKind::Tcp,
                );
                found.extend(run(&mut m, 700, false, |m, cx| m.on_flow_open(cx, &fl)));
            }
        }
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.category, Category::Scan);
        assert_eq!(f.title, "Scan from 10.10.1.66: 21 targets in a minute");
        assert_eq!(
            f.explanation,
            "10.10.1.66 tried 21 distinct destination/port pairs (11 hosts, 2 ports; 21 TCP and 0 \
             UDP attempts, 0 of the pairs unanswered) within one minute; 10.10.1.66 had no history of connections."
        );
        // (21 − 0) / 5 = 4.2 → 4.2 / 5.2.
        assert!((f.score - 4.2 / 5.2).abs() < 1e-9);
        // The HMI's habit: six targets a minute; twelve stays below max(12, 16, 20).
        for plc in 1..=12 {
            let fl = flow(
                720,
                "10.10.2.10",
                format!("10.10.1.{plc}"),
                502,
                TransportKind::Tcp,
            );
            assert!(run(&mut m, 720, false, |m, cx| m.on_flow_open(cx, &fl)).is_empty());
        }
    }

    #[test]
    fn a_sweep_straddling_a_window_boundary_is_one_minute() {
        let mut m = learnt();
        let mut found = Vec::new();
        // Sixteen targets at 14:28:55 and sixteen at 14:29:05: no window holds 20.
        for (secs, first) in [(655, 1), (665, 101)] {
            for host in first..first + 16 {
                let fl = flow(
                    secs,
                    "10.10.1.66",
                    format!("10.10.1.{host}"),
                    502,
                    TransportKind::Tcp,
                );
                found.extend(run(&mut m, secs, false, |m, cx| m.on_flow_open(cx, &fl)));
            }
        }
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].title,
            "Scan from 10.10.1.66: 21 targets in a minute"
        );
        assert!(found[0]
            .explanation
            .contains("(and 15 more in the minute before, pro rata)"));
    }

    #[test]
    fn discovery_in_a_new_protocol_is_a_scan_once_per_protocol() {
        let mut m = learnt();
        let mut e = Event::new(
            "modbus",
            OpClass::Identify,
            43,
            "read_device_identification",
            false,
        );
        e.src_ip = "10.10.2.10".parse().ok();
        e.dst_ip = "10.10.1.11".parse().ok();
        e.dst_port = 502;
        // Identify once a minute for twenty minutes: a settled habit.
        for minute in 0..20 {
            assert!(run(&mut m, minute * 60, true, |m, cx| m.on_event(cx, &e)).is_empty());
        }
        assert!(run(&mut m, 1260, false, |m, cx| m.on_event(cx, &e)).is_empty());
        let mut s7 = e.clone();
        s7.protocol = "s7comm";
        s7.function_name = "read_szl".into();
        s7.function = 4;
        let f = run(&mut m, 1270, false, |m, cx| m.on_event(cx, &s7));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].title, "ICS discovery from 10.10.2.10: s7comm read_szl");
        assert_eq!(
            f[0].explanation,
            "10.10.2.10 sent s7comm read_szl (4) to 10.10.1.11; in 21 minutes of requests it had \
             sent discovery requests only in modbus."
        );
        // One protocol in 21 minutes: (1 + 1) / (21 + 1).
        assert!((f[0].score - 20.0 / 22.0).abs() < 1e-9);
        // Once per protocol: S7 again is known, a third protocol is news again.
        assert!(run(&mut m, 1275, false, |m, cx| m.on_event(cx, &s7)).is_empty());
        let mut enip = e.clone();
        enip.protocol = "enip";
        let f = run(&mut m, 1280, false, |m, cx| m.on_event(cx, &enip));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].fuse_key, "discovery");
    }

    #[test]
    fn discovery_from_a_new_source_is_judged_by_how_many_sources_ever_discover() {
        let mut m = Scan::new();
        let mut read = Event::new("modbus", OpClass::Read, 3, "read_holding_registers", false);
        read.dst_ip = "10.10.1.11".parse().ok();
        for host in 10..14 {
            read.src_ip = format!("10.10.2.{host}").parse().ok();
            run(&mut m, 60, true, |m, cx| m.on_event(cx, &read));
        }
        let mut e = Event::new("enip", OpClass::Identify, 99, "list_identity", false);
        e.src_ip = "10.10.1.66".parse().ok();
        e.dst_ip = "10.10.1.14".parse().ok();
        let f = run(&mut m, 700, false, |m, cx| m.on_event(cx, &e));
        assert_eq!(f.len(), 1);
        // None of the 4 other requesting sources ever sent discovery: 1 − 1/5.
        assert!((f[0].score - 0.8).abs() < 1e-9, "{}", f[0].score);
        assert_eq!(
            f[0].explanation,
            "10.10.1.66 sent enip list_identity (99) to 10.10.1.14; in 0 minutes of requests it \
             had never sent a discovery request."
        );
    }

    /// A UDP attempt from the rogue that got no reply.
    fn record(secs: i64, server: &str, port: u16) -> FlowRecord {
        FlowRecord {
            kind: "flow",
            id: u64::from(port),
            ts_start: ts(secs),
            ts_end: ts(secs + 1),
            transport: TransportKind::Udp,
            vlan: None,
            src_ip: "10.10.1.66".parse().unwrap(),
            src_port: 40000,
            dst_ip: server.parse().unwrap(),
            dst_port: port,
            src_mac: None,
            dst_mac: None,
            packets_to_server: 1,
            packets_to_client: 0,
            bytes_to_server: 40,
            bytes_to_client: 0,
            app: None,
            state: FlowState::Active,
            gap_bytes: 0,
        }
    }

    #[test]
    fn unanswered_probes_weigh_double_retries_do_not_and_state_round_trips() {
        let mut m = learnt();
        let mut found = Vec::new();
        for port in 1..=12u16 {
            let fl = flow(
                700,
                "10.10.1.66",
                "10.10.1.11".into(),
                port,
                TransportKind::Udp,
            );
            found.extend(run(&mut m, 700, false, |m, cx| m.on_flow_open(cx, &fl)));
            let record = record(700, "10.10.1.11", port);
            found.extend(run(&mut m, 701, false, |m, cx| m.on_flow_end(cx, &record)));
        }
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].title,
            "Scan from 10.10.1.66: 21 targets in a minute"
        );
        // The HMI retrying one silent controller thirty times is no sweep.
        for _ in 0..30 {
            let mut rec = record(720, "10.10.1.13", 2404);
            rec.src_ip = "10.10.2.10".parse().unwrap();
            rec.transport = TransportKind::Tcp;
            rec.state = FlowState::SynSent;
            let fl = flow(
                720,
                "10.10.2.10",
                "10.10.1.13".into(),
                2404,
                TransportKind::Tcp,
            );
            assert!(run(&mut m, 720, false, |m, cx| m.on_flow_open(cx, &fl)).is_empty());
            assert!(run(&mut m, 721, false, |m, cx| m.on_flow_end(cx, &rec)).is_empty());
        }
        let mut r = Scan::new();
        r.restore(m.save()).unwrap();
        let mut lines = Vec::new();
        r.baseline(
            Some("10.10.2.10".parse().unwrap()),
            &AssetDirectory::default(),
            &mut lines,
        );
        assert_eq!(
            lines,
            vec!["scan: 10.10.2.10 reaches at most 10 destination/port pairs a minute over 10 minutes (alerts above 21); no discovery requests"]
        );
    }
}
