//! Beaconing: implants call home on a timer. A client that keeps opening connections to
//! a rare destination (address and port) at regular intervals, with similar sizes, is
//! beaconing.
//!
//! A series is one (client, server, port, transport). Its intervals between flow
//! opens are judged robustly: the coefficient of variation is 1.4826 × MAD / median over
//! the last [`WINDOW`] intervals, so one missed beat does not hide a beacon and uniform
//! jitter of ±20 % still reads as regular. Rare means the series was not seen while
//! learning, nobody used the destination while learning, and at most [`RARE_SOURCES`]
//! clients ever talked to it: the periodic connections a plant makes every minute to
//! its usual servers, and new clients of its usual services, never alert. A series alerts once; a series the operator accepts is learnt.

use crate::assets::{is_group, AssetDirectory};
use crate::finding::{Category, Finding};
use crate::input::FlowOpen;
use crate::model::{Cx, Model};
use crate::models::evict::evict_eighth;
use crate::models::timing::{median_mad, seconds};
use crate::stats::Map;
use crate::text;
use records::{FlowRecord, TransportKind};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::net::IpAddr;

/// Model name.
const NAME: &str = "beaconing";
/// Intervals kept per series.
const WINDOW: usize = 12;
/// Intervals needed before a series is judged (six connections).
const MIN_INTERVALS: usize = 5;
/// Largest robust coefficient of variation of the intervals that is regular.
const MAX_CV: f64 = 0.25;
/// Largest coefficient of variation of the sizes that is similar.
const MAX_SIZE_CV: f64 = 0.5;
/// Shortest period judged: faster repeats are retries and bursts, not beacons.
const MIN_PERIOD_S: f64 = 2.0;
/// Opens closer than this are one connection attempt.
const DUPLICATE_US: i64 = 2_000;
/// A destination with at most this many clients is rare.
const RARE_SOURCES: usize = 2;
/// Clients remembered per destination (enough to tell rare from common).
const MAX_SOURCES: usize = 4;
/// Most series kept.
const MAX_SERIES: usize = 8_192;
/// Most destinations kept.
const MAX_DESTINATIONS: usize = 8_192;

/// (client, server, port, transport): fixed-size, so look-ups allocate nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
struct Key {
    client: IpAddr,
    server: IpAddr,
    port: u16,
    udp: bool,
}

/// A server address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
struct Dest {
    server: IpAddr,
    port: u16,
    udp: bool,
}

/// Who talked to a destination.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct DestState {
    /// First few clients.
    sources: Vec<IpAddr>,
    last_us: i64,
    /// Used while learning (or accepted).
    learnt: bool,
}

/// One client's connections to one destination.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Series {
    first_us: i64,
    last_us: i64,
    opens: u64,
    /// Seconds between opens.
    intervals: VecDeque<f32>,
    /// Bytes both ways of finished flows.
    sizes: VecDeque<(u64, u64)>,
    /// Seen while learning (or accepted).
    learnt: bool,
    reported: bool,
    app: Option<String>,
}

/// The beaconing model.
#[derive(Debug, Default)]
pub struct Beaconing {
    series: Map<Key, Series>,
    dests: Map<Dest, DestState>,
    series_evicted: u64,
    dests_evicted: u64,
}

/// State as saved (JSON maps need string keys).
#[derive(Serialize, Deserialize)]
struct Saved {
    series: Vec<(Key, Series)>,
    dests: Vec<(Dest, DestState)>,
    series_evicted: u64,
    dests_evicted: u64,
}

/// Mean and coefficient of variation.
fn mean_cv(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let mut w = crate::stats::Welford::default();
    values.for_each(|v| w.add(v));
    if w.mean > 0.0 {
        (w.mean, w.std() / w.mean)
    } else {
        (0.0, 0.0)
    }
}

impl Beaconing {
    /// A model with nothing learnt.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes the client of a destination; returns whether it is rare.
    fn note_dest(&mut self, dest: Dest, client: IpAddr, now: i64, learning: bool) -> bool {
        if !self.dests.contains_key(&dest) && self.dests.len() >= MAX_DESTINATIONS {
            self.dests_evicted += evict_eighth(&mut self.dests, |d| d.last_us);
        }
        let state = self.dests.entry(dest).or_default();
        state.last_us = now;
        state.learnt |= learning;
        if !state.sources.contains(&client) && state.sources.len() < MAX_SOURCES {
            state.sources.push(client);
        }
        !state.learnt && state.sources.len() <= RARE_SOURCES
    }

    fn judge(key: &Key, s: &mut Series, rare: Option<usize>, cx: &mut Cx<'_>) {
        let Some(sources) = rare else {
            return;
        };
        if s.learnt || s.reported || s.intervals.len() < MIN_INTERVALS {
            return;
        }
        let mut buf = [0f32; WINDOW];
        let n = s.intervals.len().min(WINDOW);
        for (slot, v) in buf.iter_mut().zip(s.intervals.iter()) {
            *slot = *v;
        }
        let (period, mad) = median_mad(&mut buf[..n]);
        if period < MIN_PERIOD_S {
            return;
        }
        let cv = 1.4826 * mad / period;
        if cv > MAX_CV {
            return;
        }
        let (sent, sent_cv) = mean_cv(s.sizes.iter().map(|(up, _)| *up as f64));
        let (received, received_cv) = mean_cv(s.sizes.iter().map(|(_, down)| *down as f64));
        if s.sizes.len() >= 3 && (sent_cv > MAX_SIZE_CV || received_cv > MAX_SIZE_CV) {
            return;
        }
        s.reported = true;
        let regular = 1.0 - cv / MAX_CV;
        let persistent = 1.0 - 0.5f64.powi(n as i32 - 1);
        let score = regular * persistent;
        let client = cx.assets.label(key.client);
        let server = cx.assets.label(key.server);
        let service = match &s.app {
            Some(app) => format!("port {} ({app})", key.port),
            None => format!("port {}", key.port),
        };
        let sizes = if s.sizes.is_empty() {
            String::new()
        } else {
            format!(
                ", each time sending about {} and receiving about {}",
                text::bytes(sent as u64),
                text::bytes(received as u64)
            )
        };
        let who = if sources <= 1 {
            "no other host has ever talked to it".to_string()
        } else {
            format!("only {sources} hosts have ever talked to it, none while learning")
        };
        let title = format!(
            "{} beacons to {} {} every {}",
            key.client,
            key.server,
            service,
            seconds(period)
        );
        let explanation = format!(
            "{client} connected to {server} {service} {} times in {}, every {} ± {} \
             (variation {:.0} %){sizes}. The pair was not seen while learning and {who}.",
            s.opens,
            text::span((s.last_us - s.first_us) as f64 / 1e6),
            seconds(period),
            seconds((1.4826 * mad).max(0.001)),
            cv * 100.0,
        );
        let mut finding =
            Finding::new(cx.now, Category::Beaconing, NAME, score, title, explanation)
                .between(Some(key.client), Some(key.server), Some(key.port))
                .fuse_key(format!("{}:{}", key.server, key.port));
        if let Some(app) = &s.app {
            finding = finding.protocol(app.clone());
        }
        cx.report(finding);
    }
}

impl Model for Beaconing {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_flow_open(&mut self, cx: &mut Cx<'_>, flow: &FlowOpen) {
        let udp = match flow.transport {
            TransportKind::Tcp => false,
            TransportKind::Udp => true,
            _ => return,
        };
        if flow.to_group || is_group(flow.server_ip) {
            return;
        }
        let now = cx.now.micros();
        let dest = Dest {
            server: flow.server_ip,
            port: flow.server_port,
            udp,
        };
        let rare = self
            .note_dest(dest, flow.client_ip, now, cx.learning)
            .then(|| self.dests.get(&dest).map_or(1, |d| d.sources.len()));
        let key = Key {
            client: flow.client_ip,
            server: flow.server_ip,
            port: flow.server_port,
            udp,
        };
        let Some(s) = self.series.get_mut(&key) else {
            if self.series.len() >= MAX_SERIES {
                self.series_evicted += evict_eighth(&mut self.series, |s| s.last_us);
            }
            self.series.insert(
                key,
                Series {
                    first_us: now,
                    last_us: now,
                    opens: 1,
                    intervals: VecDeque::with_capacity(WINDOW),
                    sizes: VecDeque::new(),
                    learnt: cx.learning,
                    reported: false,
                    app: None,
                },
            );
            return;
        };
        let gap = now - s.last_us;
        if gap < DUPLICATE_US {
            return;
        }
        s.last_us = now;
        s.opens += 1;
        s.learnt |= cx.learning;
        if s.intervals.len() == WINDOW {
            s.intervals.pop_front();
        }
        s.intervals.push_back((gap as f64 / 1e6) as f32);
        Self::judge(&key, s, rare, cx);
    }

    fn on_flow_end(&mut self, _cx: &mut Cx<'_>, flow: &FlowRecord) {
        let udp = match flow.transport {
            TransportKind::Tcp => false,
            TransportKind::Udp => true,
            _ => return,
        };
        let key = Key {
            client: flow.src_ip,
            server: flow.dst_ip,
            port: flow.dst_port,
            udp,
        };
        if let Some(s) = self.series.get_mut(&key) {
            if s.sizes.len() == WINDOW {
                s.sizes.pop_front();
            }
            s.sizes
                .push_back((flow.bytes_to_server, flow.bytes_to_client));
            if s.app.is_none() {
                s.app = flow.app.map(str::to_string);
            }
        }
    }

    fn save(&self) -> serde_json::Value {
        let mut series: Vec<(Key, Series)> =
            self.series.iter().map(|(k, s)| (*k, s.clone())).collect();
        series.sort_by_key(|(k, _)| *k);
        let mut dests: Vec<(Dest, DestState)> =
            self.dests.iter().map(|(k, d)| (*k, d.clone())).collect();
        dests.sort_by_key(|(k, _)| *k);
        serde_json::to_value(Saved {
            series,
            dests,
            series_evicted: self.series_evicted,
            dests_evicted: self.dests_evicted,
        })
        .unwrap_or_default()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        let saved: Saved = serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.series = saved
            .series
            .into_iter()
            .take(MAX_SERIES)
            .map(|(k, mut s)| {
                s.intervals.truncate(WINDOW);
                s.sizes.truncate(WINDOW);
                (k, s)
            })
            .collect();
        self.dests = saved
            .dests
            .into_iter()
            .take(MAX_DESTINATIONS)
            .map(|(k, mut d)| {
                d.sources.truncate(MAX_SOURCES);
                (k, d)
            })
            .collect();
        self.series_evicted = saved.series_evicted;
        self.dests_evicted = saved.dests_evicted;
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        let mut lines: Vec<(Key, String)> = Vec::new();
        for (k, s) in &self.series {
            if !s.learnt
                || s.intervals.len() < MIN_INTERVALS
                || ip.is_some_and(|ip| k.client != ip && k.server != ip)
            {
                continue;
            }
            let mut buf = [0f32; WINDOW];
            let n = s.intervals.len().min(WINDOW);
            for (slot, v) in buf.iter_mut().zip(s.intervals.iter()) {
                *slot = *v;
            }
            let (period, mad) = median_mad(&mut buf[..n]);
            if period < MIN_PERIOD_S || 1.4826 * mad / period > MAX_CV {
                continue;
            }
            lines.push((
                *k,
                format!(
                    "{} connects to {} port {} every {period:.1} s ({} connections, learnt)",
                    assets.label(k.client),
                    assets.label(k.server),
                    k.port,
                    s.opens
                ),
            ));
        }
        lines.sort();
        out.extend(lines.into_iter().map(|(_, l)| l));
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        match ip {
            None => *self = Self::default(),
            Some(ip) => {
                self.series.retain(|k, _| k.client != ip && k.server != ip);
                self.dests.retain(|k, _| k.server != ip);
            }
        }
    }

    fn accept(&mut self, finding: &Finding) {
        if finding.category != Category::Beaconing {
            return;
        }
        for (k, s) in self.series.iter_mut() {
            if Some(k.client) == finding.src_ip
                && Some(k.server) == finding.dst_ip
                && Some(k.port) == finding.dst_port
            {
                s.learnt = true;
            }
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("series", self.series.len() as u64),
            ("series_evicted", self.series_evicted),
            ("destinations", self.dests.len() as u64),
            ("destinations_evicted", self.dests_evicted),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::{FlowState, Timestamp};

    const S: i64 = 1_000_000;

    fn open(id: u64, client: &str, server: &str, port: u16, ts: i64) -> FlowOpen {
        FlowOpen {
            id,
            ts: Timestamp(ts),
            transport: TransportKind::Tcp,
            client_ip: client.parse().unwrap(),
            client_port: 40_000,
            client_mac: None,
            server_ip: server.parse().unwrap(),
            server_port: port,
            server_mac: None,
            to_group: false,
        }
    }

    fn end(o: &FlowOpen, up: u64, down: u64) -> FlowRecord {
        FlowRecord {
            kind: "flow",
            id: o.id,
            ts_start: o.ts,
            ts_end: o.ts.plus_micros(50_000),
            transport: o.transport,
            vlan: None,
            src_ip: o.client_ip,
            src_port: o.client_port,
            dst_ip: o.server_ip,
            dst_port: o.server_port,
            src_mac: None,
            dst_mac: None,
            packets_to_server: 6,
            packets_to_client: 6,
            bytes_to_server: up,
            bytes_to_client: down,
            app: Some("http"),
            state: FlowState::Closed,
            gap_bytes: 0,
        }
    }

    /// Runs a series of connections; returns the findings.
    fn run(
        model: &mut Beaconing,
        client: &str,
        server: &str,
        port: u16,
        times: &[i64],
        learning: bool,
    ) -> Vec<Finding> {
        let assets = AssetDirectory::default();
        let mut findings = Vec::new();
        for (i, ts) in times.iter().enumerate() {
            let o = open(i as u64, client, server, port, *ts);
            let mut cx = Cx::new(o.ts, learning, &assets, &mut findings);
            model.on_flow_open(&mut cx, &o);
            let f = end(&o, 912 + (i as u64 % 2) * 2, 1_032);
            let mut cx = Cx::new(f.ts_end, learning, &assets, &mut findings);
            model.on_flow_end(&mut cx, &f);
        }
        findings
    }

    fn every(start: i64, period: i64, n: i64) -> Vec<i64> {
        (0..n).map(|i| start + i * period).collect()
    }

    #[test]
    fn regular_connections_to_a_rare_destination_beacon_once() {
        let mut model = Beaconing::new();
        // Learnt: the historian uploads to its web server every minute.
        let learnt = every(0, 60 * S, 10);
        assert!(run(&mut model, "10.10.2.30", "10.10.3.10", 80, &learnt, true).is_empty());
        assert!(run(
            &mut model,
            "10.10.2.30",
            "10.10.3.10",
            80,
            &every(600 * S, 60 * S, 20),
            false
        )
        .is_empty());
        let times: Vec<i64> = every(2_000 * S, 15 * S, 12)
            .iter()
            .enumerate()
            .map(|(i, t)| t + [0, 3_000, -2_000][i % 3])
            .collect();
        let found = run(
            &mut model,
            "10.10.2.30",
            "203.0.113.50",
            8080,
            &times,
            false,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!(f.category, Category::Beaconing);
        assert_eq!(f.ts, Timestamp(times[5]));
        assert_eq!(
            f.title,
            "10.10.2.30 beacons to 203.0.113.50 port 8080 (http) every 15.0 s"
        );
        assert_eq!(
            f.explanation,
            "10.10.2.30 connected to 203.0.113.50 (outside address) port 8080 (http) 6 times \
             in 75 s, every 15.0 s ± 1 ms (variation 0 %), each time sending about 912 B \
             and receiving about 1.0 KiB. The pair was not seen while learning and no other \
             host has ever talked to it."
        );
        assert!(f.score > 0.9, "{}", f.score);
        assert_eq!(f.dst_port, Some(8080));
        assert_eq!(f.protocol.as_deref(), Some("http"));
    }

    #[test]
    fn irregular_or_common_destinations_do_not_beacon() {
        let mut model = Beaconing::new();
        let irregular = [0, 15, 17, 60, 61, 90, 200, 203, 260].map(|s| s * S);
        assert!(run(
            &mut model,
            "10.10.2.40",
            "203.0.113.50",
            443,
            &irregular,
            false
        )
        .is_empty());
        // Three clients already use the server: it is not rare.
        for client in ["10.10.4.10", "10.10.4.11"] {
            run(&mut model, client, "10.10.3.10", 80, &[0], false);
        }
        let regular = every(1_000 * S, 30 * S, 10);
        assert!(run(&mut model, "10.10.4.12", "10.10.3.10", 80, &regular, false).is_empty());
        // A service used while learning is not rare, even for a new client.
        run(&mut model, "10.10.2.40", "10.10.2.2", 53, &[0], true);
        let polls = every(2_000 * S, 10 * S, 10);
        assert!(run(&mut model, "10.10.2.30", "10.10.2.2", 53, &polls, false).is_empty());
        // Retries a second apart are not beacons.
        assert!(run(
            &mut model,
            "10.10.4.12",
            "10.10.1.11",
            502,
            &every(0, S, 10),
            false
        )
        .is_empty());
    }

    #[test]
    fn saves_restores_accepts_and_forgets() {
        let mut model = Beaconing::new();
        let found = run(
            &mut model,
            "10.10.2.30",
            "203.0.113.50",
            8080,
            &every(0, 15 * S, 6),
            false,
        );
        assert_eq!(found.len(), 1);
        let mut restored = Beaconing::new();
        restored.restore(model.save()).unwrap();
        assert_eq!(restored.save(), model.save());
        restored.accept(&found[0]);
        let mut lines = Vec::new();
        restored.baseline(None, &AssetDirectory::default(), &mut lines);
        assert_eq!(
            lines,
            vec![
                "10.10.2.30 connects to 203.0.113.50 (outside address) port 8080 every 15.0 s \
                  (6 connections, learnt)"
            ]
        );
        restored.forget("203.0.113.50".parse().ok());
        assert_eq!(restored.counters()[0], ("series", 0));
    }
}
