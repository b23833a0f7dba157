//! Volume: how much each channel and device usually does per minute and per quarter
//! hour, and uploads far larger than a host ever made.
//!
//! Rates are counted in fixed buckets of packet time (1 min and 15 min): requests and
//! data points addressed per channel (client, server, protocol), connections opened per
//! client. Each rate learns an exponentially weighted mean and variance of its buckets
//! and a slowly decaying peak (half-life a day of buckets). A bucket that passes
//! max(3 × peak, mean + 10 sd, a floor) is a `volume_anomaly` (flood, bulk read), said
//! as soon as the count passes the line. The standard deviation is floored at the Poisson
//! deviation √mean, so a perfectly steady poll does not make every extra request an
//! anomaly. After learning, anomalous buckets are not folded in: a sustained flood stays
//! anomalous until the operator accepts it.
//!
//! Exfiltration is judged per finished flow: an internal client that sends at least
//! 1 MiB, and ten times more than the largest upload it made before, at 1 KiB/s or more
//! on average, to a public address or to a server it never talked to while learning.

use crate::assets::{is_public, AssetDirectory};
use crate::finding::{Category, Finding};
use crate::input::FlowOpen;
use crate::model::{Cx, Model};
use crate::models::evict::evict_eighth;
use crate::stats::Map;
use crate::text;
use dissect::Event;
use records::FlowRecord;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Model name.
const NAME: &str = "volume";
/// Bucket widths, seconds.
const SCALES: [i64; 2] = [60, 900];
/// Complete buckets needed before a rate is judged, per scale.
const MIN_BUCKETS: [u32; 2] = [15, 4];
/// Weight of a new bucket in the running mean and variance.
const ALPHA: f64 = 0.05;
/// A bucket above this many times the learnt peak is anomalous ...
const PEAK_FACTOR: f64 = 3.0;
/// ... and above the mean by this many standard deviations.
const MIN_Z: f64 = 10.0;
/// Empty buckets folded in at most after a pause (the rest add nothing new).
const MAX_EMPTY_FOLD: i64 = 64;
/// Smallest upload judged as exfiltration.
const MIN_EXFIL_BYTES: u64 = 1 << 20;
/// An upload this many times the host's largest is exfiltration.
const EXFIL_FACTOR: f64 = 10.0;
/// Least average upload rate (bytes/s) of an exfiltration: a tunnel that carried
/// megabytes over days is not one.
const MIN_EXFIL_RATE: f64 = 1_024.0;
/// Most channels, clients and learnt pairs kept.
const MAX_CHANNELS: usize = 4_096;
const MAX_CLIENTS: usize = 8_192;
const MAX_PAIRS: usize = 16_384;

/// What a rate counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Metric {
    Requests,
    Points,
    Connections,
}

impl Metric {
    fn noun(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::Points => "data points addressed",
            Self::Connections => "connections opened",
        }
    }

    /// Counts below this per bucket are never anomalous, per scale.
    fn floor(self, scale: usize) -> f64 {
        let per_min = match self {
            Self::Requests => 120.0,
            Self::Points => 1_000.0,
            Self::Connections => 60.0,
        };
        per_min * (SCALES[scale] / 60) as f64
    }
}

/// One count in fixed buckets, with what its buckets usually hold.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Rate {
    bucket: i64,
    current: u64,
    buckets: u32,
    mean: f64,
    var: f64,
    peak: f64,
    /// The current bucket was reported.
    reported: bool,
    /// The current bucket went over the line (not folded in after learning).
    over: bool,
}

impl Rate {
    fn threshold(&self, metric: Metric, scale: usize) -> f64 {
        let sd = self.var.sqrt().max(self.mean.sqrt());
        (PEAK_FACTOR * self.peak)
            .max(self.mean + MIN_Z * sd)
            .max(metric.floor(scale))
    }

    /// Closes buckets up to `now`; folds them unless they were anomalous after learning.
    fn roll(&mut self, now: i64, scale: usize, learning: bool) {
        let width = SCALES[scale] * 1_000_000;
        let bucket = now.div_euclid(width);
        if self.buckets == 0 && self.current == 0 && self.bucket == 0 {
            self.bucket = bucket;
            return;
        }
        if bucket <= self.bucket {
            return;
        }
        if !self.over || learning {
            self.fold(self.current as f64, scale);
        }
        let empty = (bucket - self.bucket - 1).min(MAX_EMPTY_FOLD);
        for _ in 0..empty {
            self.fold(0.0, scale);
        }
        self.bucket = bucket;
        self.current = 0;
        self.reported = false;
        self.over = false;
    }

    fn fold(&mut self, x: f64, scale: usize) {
        // Peak half-life: a day of buckets.
        let decay = 0.5f64.powf(SCALES[scale] as f64 / 86_400.0);
        if self.buckets == 0 {
            self.mean = x;
            self.var = 0.0;
        } else {
            let d = x - self.mean;
            self.mean += ALPHA * d;
            self.var = (1.0 - ALPHA) * (self.var + ALPHA * d * d);
        }
        self.peak = (self.peak * decay).max(x);
        self.buckets = self.buckets.saturating_add(1);
    }

    /// Adds `n`; returns the threshold when the bucket has just passed it.
    fn add(&mut self, n: u64, metric: Metric, scale: usize) -> Option<f64> {
        self.current += n;
        if self.buckets < MIN_BUCKETS[scale] || self.reported {
            return None;
        }
        let threshold = self.threshold(metric, scale);
        if self.current as f64 > threshold {
            self.over = true;
            self.reported = true;
            return Some(threshold);
        }
        None
    }
}

/// A channel: client, server and protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
struct ChannelKey {
    client: IpAddr,
    server: IpAddr,
    /// FNV-1a of the protocol name.
    protocol: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Channel {
    protocol: String,
    first_us: i64,
    last_us: i64,
    /// Requests and points, per scale.
    requests: [Rate; 2],
    points: [Rate; 2],
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Client {
    first_us: i64,
    last_us: i64,
    connections: [Rate; 2],
    /// Largest upload of one flow (bytes to the server) that was not judged
    /// exfiltration.
    max_upload: u64,
    /// Size of the last upload reported as exfiltration.
    reported_upload: u64,
}

/// The volume model.
#[derive(Debug, Default)]
pub struct Volume {
    channels: Map<ChannelKey, Channel>,
    clients: Map<IpAddr, Client>,
    /// (client, server) pairs seen while learning, with the last time.
    pairs: Map<(IpAddr, IpAddr), i64>,
    channels_evicted: u64,
    clients_evicted: u64,
    pairs_evicted: u64,
}

/// State as saved (JSON maps need string keys).
#[derive(Serialize, Deserialize)]
struct Saved {
    channels: Vec<(ChannelKey, Channel)>,
    clients: Vec<(IpAddr, Client)>,
    pairs: Vec<((IpAddr, IpAddr), i64)>,
    channels_evicted: u64,
    clients_evicted: u64,
    pairs_evicted: u64,
}

/// Seconds from a flow's first to its last packet.
fn duration_s(flow: &FlowRecord) -> f64 {
    flow.ts_end.micros_since(flow.ts_start).max(0) as f64 / 1e6
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// "1 min" / "15 min".
fn scale_name(scale: usize) -> String {
    text::span(SCALES[scale] as f64)
}

/// What a rate usually is, for explanations.
fn usual(rate: &Rate, scale: usize, first_us: i64, now: i64) -> String {
    format!(
        "usually {:.0} ± {:.0} per {}, at most {:.0} in {} of history",
        rate.mean,
        rate.var.sqrt(),
        scale_name(scale),
        rate.peak,
        text::span((now - first_us).max(0) as f64 / 1e6)
    )
}

impl Volume {
    /// A model with nothing learnt.
    pub fn new() -> Self {
        Self::default()
    }

    fn client(&mut self, ip: IpAddr, now: i64) -> &mut Client {
        if !self.clients.contains_key(&ip) && self.clients.len() >= MAX_CLIENTS {
            self.clients_evicted += evict_eighth(&mut self.clients, |c| c.last_us);
        }
        let c = self.clients.entry(ip).or_insert_with(|| Client {
            first_us: now,
            ..Client::default()
        });
        c.last_us = now;
        c
    }

    fn note_pair(&mut self, client: IpAddr, server: IpAddr, now: i64) {
        if let Some(t) = self.pairs.get_mut(&(client, server)) {
            *t = now;
            return;
        }
        if self.pairs.len() >= MAX_PAIRS {
            self.pairs_evicted += evict_eighth(&mut self.pairs, |t| *t);
        }
        self.pairs.insert((client, server), now);
    }
}

/// A `volume_anomaly` finding.
#[allow(clippy::too_many_arguments)]
fn rate_finding(
    cx: &Cx<'_>,
    client: IpAddr,
    server: Option<IpAddr>,
    protocol: Option<&str>,
    metric: Metric,
    scale: usize,
    rate: &Rate,
    threshold: f64,
    first_us: i64,
) -> Finding {
    let now = cx.now.micros();
    let what = match protocol {
        Some(p) => format!("{p} {}", metric.noun()),
        None => metric.noun().to_string(),
    };
    let towards = server.map_or(String::new(), |s| format!(" to {}", cx.assets.label(s)));
    let score = 1.0 - (threshold / PEAK_FACTOR).max(1.0) / rate.current as f64;
    let title = format!(
        "{client} made {} {what} in {}{}",
        text::thousands(rate.current),
        scale_name(scale),
        server.map_or(String::new(), |s| format!(" to {s}"))
    );
    let explanation = format!(
        "{} made {} {what}{towards} within {} (so far), {}; the alert line is {:.0}.",
        cx.assets.label(client),
        text::thousands(rate.current),
        scale_name(scale),
        usual(rate, scale, first_us, now),
        threshold
    );
    let mut finding = Finding::new(
        cx.now,
        Category::VolumeAnomaly,
        NAME,
        score,
        title,
        explanation,
    )
    .between(Some(client), server, None)
    .fuse_key(format!(
        "{}:{}",
        server.map_or(String::new(), |s| s.to_string()),
        protocol.unwrap_or("")
    ));
    if let Some(p) = protocol {
        finding = finding.protocol(p);
    }
    finding
}

impl Model for Volume {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, event: &Event) {
        if event.is_response {
            return;
        }
        let (Some(client), Some(server)) = (event.src_ip, event.dst_ip) else {
            return;
        };
        let now = cx.now.micros();
        let key = ChannelKey {
            client,
            server,
            protocol: fnv(event.protocol),
        };
        if !self.channels.contains_key(&key) {
            if self.channels.len() >= MAX_CHANNELS {
                self.channels_evicted += evict_eighth(&mut self.channels, |c| c.last_us);
            }
            self.channels.insert(
                key,
                Channel {
                    protocol: event.protocol.to_string(),
                    first_us: now,
                    last_us: now,
                    requests: Default::default(),
                    points: Default::default(),
                },
            );
        }
        let Some(ch) = self.channels.get_mut(&key) else {
            return;
        };
        ch.last_us = now;
        let points: u64 = event.targets.iter().map(|t| u64::from(t.count)).sum();
        for scale in 0..SCALES.len() {
            for (metric, n) in [(Metric::Requests, 1), (Metric::Points, points)] {
                let rate = match metric {
                    Metric::Points => &mut ch.points[scale],
                    _ => &mut ch.requests[scale],
                };
                rate.roll(now, scale, cx.learning);
                if n == 0 {
                    continue;
                }
                if let Some(threshold) = rate.add(n, metric, scale) {
                    if !cx.learning {
                        let finding = rate_finding(
                            cx,
                            client,
                            Some(server),
                            Some(&ch.protocol),
                            metric,
                            scale,
                            rate,
                            threshold,
                            ch.first_us,
                        );
                        cx.report(finding);
                    }
                }
            }
        }
    }

    fn on_flow_open(&mut self, cx: &mut Cx<'_>, flow: &FlowOpen) {
        let now = cx.now.micros();
        if cx.learning {
            self.note_pair(flow.client_ip, flow.server_ip, now);
        }
        let learning = cx.learning;
        let c = self.client(flow.client_ip, now);
        for scale in 0..SCALES.len() {
            let rate = &mut c.connections[scale];
            rate.roll(now, scale, learning);
            if let Some(threshold) = rate.add(1, Metric::Connections, scale) {
                if !learning {
                    let (rate, first) = (rate.clone(), c.first_us);
                    let finding = rate_finding(
                        cx,
                        flow.client_ip,
                        None,
                        None,
                        Metric::Connections,
                        scale,
                        &rate,
                        threshold,
                        first,
                    );
                    cx.report(finding);
                }
            }
        }
    }

    fn on_flow_end(&mut self, cx: &mut Cx<'_>, flow: &FlowRecord) {
        let now = cx.now.micros();
        if cx.learning {
            self.note_pair(flow.src_ip, flow.dst_ip, now);
        }
        let known_pair = self.pairs.contains_key(&(flow.src_ip, flow.dst_ip));
        let learning = cx.learning;
        let c = self.client(flow.src_ip, now);
        let up = flow.bytes_to_server;
        let before = c.max_upload;
        let history = now - c.first_us;
        let public = is_public(flow.dst_ip);
        let exfil = !learning
            && !is_public(flow.src_ip)
            && (public || !known_pair)
            && up >= MIN_EXFIL_BYTES
            && up as f64 >= EXFIL_FACTOR * before as f64
            && up as f64 / duration_s(flow).max(1.0) >= MIN_EXFIL_RATE;
        if !exfil {
            c.max_upload = c.max_upload.max(up);
            return;
        }
        c.reported_upload = up;
        let ratio = up as f64 / before.max(MIN_EXFIL_BYTES / 16) as f64;
        let score = (1.0 - 1.0 / ratio).clamp(0.0, 1.0) * if public { 1.0 } else { 0.8 };
        let service = match flow.app {
            Some(app) => format!("port {} ({app})", flow.dst_port),
            None => format!("port {}", flow.dst_port),
        };
        let secs = duration_s(flow);
        let duration = if secs < 1.0 {
            format!("{secs:.2} s")
        } else {
            text::span(secs)
        };
        let whereto = if public {
            "a public address outside every internal zone"
        } else {
            "a server it never talked to while learning"
        };
        let title = format!(
            "{} uploaded {} to {}",
            flow.src_ip,
            text::bytes(up),
            flow.dst_ip
        );
        let past = if before == 0 {
            "It had never uploaded data as a client before.".to_string()
        } else {
            format!(
                "The largest upload it made before was {} (in {} of history).",
                text::bytes(before),
                text::span(history.max(0) as f64 / 1e6)
            )
        };
        let explanation = format!(
            "{} sent {} to {} {service} in {duration} (and received {}), to {whereto}. {past}",
            cx.assets.label(flow.src_ip),
            text::bytes(up),
            cx.assets.label(flow.dst_ip),
            text::bytes(flow.bytes_to_client),
        );
        let mut finding = Finding::new(
            cx.now,
            Category::Exfiltration,
            NAME,
            score,
            title,
            explanation,
        )
        .between(Some(flow.src_ip), Some(flow.dst_ip), Some(flow.dst_port))
        .src_mac(flow.src_mac)
        .flow(flow.id)
        .fuse_key(flow.dst_ip.to_string());
        if let Some(app) = flow.app {
            finding = finding.protocol(app);
        }
        cx.report(finding);
    }

    fn save(&self) -> serde_json::Value {
        let mut channels: Vec<_> = self.channels.iter().map(|(k, c)| (*k, c.clone())).collect();
        channels.sort_by_key(|(k, _)| *k);
        let mut clients: Vec<_> = self.clients.iter().map(|(k, c)| (*k, c.clone())).collect();
        clients.sort_by_key(|(k, _)| *k);
        let mut pairs: Vec<_> = self.pairs.iter().map(|(k, t)| (*k, *t)).collect();
        pairs.sort();
        serde_json::to_value(Saved {
            channels,
            clients,
            pairs,
            channels_evicted: self.channels_evicted,
            clients_evicted: self.clients_evicted,
            pairs_evicted: self.pairs_evicted,
        })
        .unwrap_or_default()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        let saved: Saved = serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.channels = saved.channels.into_iter().take(MAX_CHANNELS).collect();
        self.clients = saved.clients.into_iter().take(MAX_CLIENTS).collect();
        self.pairs = saved.pairs.into_iter().take(MAX_PAIRS).collect();
        self.channels_evicted = saved.channels_evicted;
        self.clients_evicted = saved.clients_evicted;
        self.pairs_evicted = saved.pairs_evicted;
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        let mut lines: Vec<(ChannelKey, String)> = self
            .channels
            .iter()
            .filter(|(k, c)| {
                c.requests[0].buckets >= MIN_BUCKETS[0]
                    && ip.is_none_or(|ip| k.client == ip || k.server == ip)
            })
            .map(|(k, c)| {
                (
                    *k,
                    format!(
                        "{} sends {} requests to {}: {:.0} ± {:.0} per min (at most {:.0}), \
                         {:.0} data points per min (at most {:.0})",
                        assets.label(k.client),
                        c.protocol,
                        assets.label(k.server),
                        c.requests[0].mean,
                        c.requests[0].var.sqrt(),
                        c.requests[0].peak,
                        c.points[0].mean,
                        c.points[0].peak,
                    ),
                )
            })
            .collect();
        lines.sort();
        out.extend(lines.into_iter().map(|(_, l)| l));
        let mut uploads: Vec<(IpAddr, String)> = self
            .clients
            .iter()
            .filter(|(k, c)| c.max_upload > 0 && ip.is_none_or(|ip| **k == ip))
            .map(|(k, c)| {
                (
                    *k,
                    format!(
                        "{} uploads at most {} in one flow",
                        assets.label(*k),
                        text::bytes(c.max_upload)
                    ),
                )
            })
            .collect();
        uploads.sort();
        out.extend(uploads.into_iter().map(|(_, l)| l));
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        match ip {
            None => *self = Self::default(),
            Some(ip) => {
                self.channels
                    .retain(|k, _| k.client != ip && k.server != ip);
                self.clients.remove(&ip);
                self.pairs.retain(|(c, s), _| *c != ip && *s != ip);
            }
        }
    }

    fn accept(&mut self, finding: &Finding) {
        let Some(src) = finding.src_ip else {
            return;
        };
        match finding.category {
            Category::Exfiltration => {
                if let Some(dst) = finding.dst_ip {
                    self.note_pair(src, dst, finding.ts.micros());
                }
                if let Some(c) = self.clients.get_mut(&src) {
                    // The accepted upload size becomes this host's normal.
                    c.max_upload = c.max_upload.max(c.reported_upload);
                }
            }
            Category::VolumeAnomaly => {
                // The anomalous bucket becomes the peak.
                let raise = |r: &mut Rate| {
                    if r.over {
                        r.peak = r.peak.max(r.current as f64);
                        r.over = false;
                    }
                };
                for (k, c) in self.channels.iter_mut() {
                    if k.client == src && Some(k.server) == finding.dst_ip {
                        c.requests
                            .iter_mut()
                            .chain(c.points.iter_mut())
                            .for_each(raise);
                    }
                }
                if finding.dst_ip.is_none() {
                    if let Some(c) = self.clients.get_mut(&src) {
                        c.connections.iter_mut().for_each(raise);
                    }
                }
            }
            _ => {}
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("channels", self.channels.len() as u64),
            ("channels_evicted", self.channels_evicted),
            ("clients", self.clients.len() as u64),
            ("clients_evicted", self.clients_evicted),
            ("pairs", self.pairs.len() as u64),
            ("pairs_evicted", self.pairs_evicted),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dissect::OpClass;
    use records::{FlowState, Timestamp, TransportKind};

    const S: i64 = 1_000_000;
    const HMI: &str = "10.10.2.10";
    const PLC: &str = "10.10.1.11";

    fn request(ts: i64) -> Event {
        let mut e = Event::new("modbus", OpClass::Read, 3, "read_holding_registers", false);
        e.ts = Timestamp(ts);
        e.src_ip = HMI.parse().ok();
        e.dst_ip = PLC.parse().ok();
        e.target("holding_register", 0, 4);
        e
    }

    fn event(model: &mut Volume, ts: i64, learning: bool) -> Vec<Finding> {
        let assets = AssetDirectory::default();
        let mut findings = Vec::new();
        let mut cx = Cx::new(Timestamp(ts), learning, &assets, &mut findings);
        model.on_event(&mut cx, &request(ts));
        findings
    }

    fn flow(
        model: &mut Volume,
        client: &str,
        server: &str,
        up: u64,
        ts: i64,
        learning: bool,
    ) -> Vec<Finding> {
        flow_lasting(model, client, server, up, ts, 500_000, learning)
    }

    fn flow_lasting(
        model: &mut Volume,
        client: &str,
        server: &str,
        up: u64,
        ts: i64,
        duration: i64,
        learning: bool,
    ) -> Vec<Finding> {
        let record = FlowRecord {
            kind: "flow",
            id: 7,
            ts_start: Timestamp(ts - duration),
            ts_end: Timestamp(ts),
            transport: TransportKind::Tcp,
            vlan: None,
            src_ip: client.parse().unwrap(),
            src_port: 50_332,
            dst_ip: server.parse().unwrap(),
            dst_port: 80,
            src_mac: None,
            dst_mac: None,
            packets_to_server: 100,
            packets_to_client: 50,
            bytes_to_server: up,
            bytes_to_client: 6_432,
            app: Some("http"),
            state: FlowState::Closed,
            gap_bytes: 0,
        };
        let assets = AssetDirectory::default();
        let mut findings = Vec::new();
        let mut cx = Cx::new(Timestamp(ts), learning, &assets, &mut findings);
        model.on_flow_end(&mut cx, &record);
        findings
    }

    /// Twenty minutes of one request a second (learning).
    fn learnt() -> Volume {
        let mut model = Volume::new();
        for i in 0..1200 {
            assert!(event(&mut model, i * S, true).is_empty());
        }
        model
    }

    #[test]
    fn a_flood_of_requests_alerts_once_per_bucket() {
        let mut model = learnt();
        let mut found = Vec::new();
        // Steady polling goes on without a finding, then five requests a second.
        for i in 1200..1500 {
            found.extend(event(&mut model, i * S, false));
        }
        assert!(found.is_empty(), "{found:?}");
        for i in 0..300 {
            found.extend(event(&mut model, 1500 * S + i * S / 5, false));
        }
        // Requests pass 180 (3 × the peak of 60) in the minute; points (4 per request)
        // pass 1,000 (the floor).
        let titles: Vec<&str> = found.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(
            titles,
            vec![
                "10.10.2.10 made 181 modbus requests in 60 s to 10.10.1.11",
                "10.10.2.10 made 1,004 modbus data points addressed in 60 s to 10.10.1.11"
            ]
        );
        assert_eq!(
            found[0].explanation,
            "10.10.2.10 made 181 modbus requests to 10.10.1.11 within 60 s (so far), \
             usually 60 ± 0 per 60 s, at most 60 in 26 min of history; the alert line is 180."
        );
        assert_eq!(found[0].ts, Timestamp(1500 * S + 180 * S / 5));
        assert_eq!(found[0].category, Category::VolumeAnomaly);
        assert!((found[0].score - 0.67).abs() < 0.01, "{}", found[0].score);
        assert_eq!(found[0].fuse_key, found[1].fuse_key);
    }

    #[test]
    fn uploads_far_above_a_hosts_largest_to_public_or_new_servers_are_exfiltration() {
        let mut model = Volume::new();
        for i in 0..10 {
            let f = flow(
                &mut model,
                "10.10.2.30",
                "10.10.3.10",
                200_000,
                i * 60 * S,
                true,
            );
            assert!(f.is_empty());
        }
        let big = 5 << 20;
        // The usual server: a learnt pair.
        assert!(flow(&mut model, "10.10.2.30", "10.10.3.10", big, 700 * S, false).is_empty());
        // Too small to matter.
        assert!(flow(
            &mut model,
            "10.10.2.30",
            "203.0.113.50",
            900_000,
            710 * S,
            false
        )
        .is_empty());
        let found = flow(
            &mut model,
            "10.10.2.30",
            "203.0.113.50",
            60 << 20,
            720 * S,
            false,
        );
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.category, Category::Exfiltration);
        assert_eq!(f.title, "10.10.2.30 uploaded 60.0 MiB to 203.0.113.50");
        assert_eq!(
            f.explanation,
            "10.10.2.30 sent 60.0 MiB to 203.0.113.50 (outside address) port 80 (http) in \
             0.50 s (and received 6.3 KiB), to a public address outside every internal zone. \
             The largest upload it made before was 5.0 MiB (in 12 min of history)."
        );
        assert!((f.score - 0.92).abs() < 0.01, "{}", f.score);
        assert_eq!(f.flow_id, Some(7));
        assert_eq!(f.dst_port, Some(80));
        // A tunnel that carried 200 MiB over three days is not an exfiltration.
        let days = 3 * 86_400 * S;
        let tunnel = flow_lasting(
            &mut model,
            "10.10.2.30",
            "203.0.113.60",
            200 << 20,
            days,
            days,
            false,
        );
        assert!(tunnel.is_empty());
        // Accepted: the same upload no longer alerts.
        model.accept(f);
        assert!(flow(
            &mut model,
            "10.10.2.30",
            "203.0.113.50",
            60 << 20,
            800 * S,
            false
        )
        .is_empty());
    }

    #[test]
    fn saves_restores_and_forgets() {
        let model = learnt();
        let mut restored = Volume::new();
        restored.restore(model.save()).unwrap();
        assert_eq!(restored.save(), model.save());
        let mut lines = Vec::new();
        restored.baseline(PLC.parse().ok(), &AssetDirectory::default(), &mut lines);
        assert_eq!(
            lines,
            vec![
                "10.10.2.10 sends modbus requests to 10.10.1.11: 60 ± 0 per min (at most 60), \
                  240 data points per min (at most 240)"
            ]
        );
        restored.forget(HMI.parse().ok());
        assert_eq!(restored.counters()[0], ("channels", 0));
    }
}
