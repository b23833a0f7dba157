//! Operations: which functions each channel (client, server, protocol, unit) uses, on
//! which address ranges; and commands that change a controller's program or state.
//!
//! - A function a settled channel never used → `unusual_operation`, scored by the
//!   Good–Turing probability that this channel does something new at all (a historian
//!   that sent 2,000 reads and nothing else scores ~1).
//! - A known function on addresses far outside its learnt ranges → `unusual_operation`
//!   with at most half that score: new addresses are less alarming than new verbs.
//! - Program transfers (upload, download, firmware ...) and controller state changes
//!   (stop, start, restart, reset, mode change ...) → `plc_control`, a policy finding
//!   reported even while learning, unless the operator accepted it on this channel.
//!
//! - A minute of exceptions on a channel that rarely gets any → `protocol_anomaly`
//!   ([`super::exceptions`]).
//!
//! Learning after the learning period: a new function or address range seen after it
//! is kept on probation and reports on every use (fused into one open alert) for
//! [`PROBATION_MICROS`] (one hour) or until the operator accepts it. Folding at once
//! would let a sustained unauthorised write read as one event; keeping it out for days
//! would re-open the same alert every time the behaviour recurs. Address ranges far
//! outside the learnt ones also lose score as they recur (Good–Turing over the requests
//! that reached new addresses).

use super::exceptions::Answers;
use super::points::{
    is_industrial, space_words, target_words, unit_words, ChannelKey, IntervalSet, Op,
};
use crate::assets::AssetDirectory;
use crate::finding::{Category, Finding};
use crate::model::{Cx, Model};
use crate::models::evict::remove_oldest;
use crate::stats::Map;
use crate::stats::{surprise, unseen_probability};
use crate::text::{span, thousands};
use dissect::{Attr, Event, OpClass};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::IpAddr;

/// Most channels kept; when full the least recently seen eighth is evicted.
const MAX_CHANNELS: usize = 4096;
/// Most distinct functions kept per channel.
const MAX_OPS: usize = 64;
/// Most address spaces kept per function.
const MAX_SPACES: usize = 32;
/// Requests a channel must have sent before a new function on it is judged.
const MIN_REQUESTS: u64 = 20;
/// Time a channel must have been seen before a new function on it is judged: a burst
/// from a channel that just appeared is the new-connection models' news.
const MIN_CHANNEL_AGE_MICROS: i64 = 5 * 60 * 1_000_000;
/// Uses of a function before its address ranges are judged.
const MIN_FUNCTION_USES: u64 = 100;
/// A new function alerts when the channel's Good–Turing surprise is at least this.
const MIN_NEW_FUNCTION_SCORE: f64 = 0.8;
/// An out-of-range request alerts when its score is at least this.
const MIN_RANGE_SCORE: f64 = 0.45;
/// Addresses count as far when this much beyond the learnt ranges (or their span).
const MIN_FAR: u64 = 32;
/// A deviation seen after learning joins the baseline after persisting this long.
pub const PROBATION_MICROS: i64 = 3600 * 1_000_000;

/// What a request does to a controller, for the `plc_control` policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An ordinary operation, learnt per channel.
    Ordinary,
    /// Starts, stops, restarts, resets or changes the mode of the device.
    StateChange,
    /// Moves or changes logic, configuration or firmware.
    ProgramTransfer,
}

/// Words in a control function's name that mean a state change.
const STATE_WORDS: &[&str] = &[
    "stop",
    "start",
    "restart",
    "reset",
    "reinitialize",
    "initialize",
    "kill",
    "resume",
    "run",
    "cold",
    "warm",
    "hot",
    "shutdown",
    "reboot",
    "halt",
    "mode",
    "lock",
    "program",
];
/// Whole control function names that change state without a state word.
const STATE_NAMES: &[&str] = &["device_communication_control", "write_control"];
/// Words in a program-class function's name that only identify or monitor.
const MONITORING: &[&str] = &[
    "read_id",
    "_info",
    "keep_alive",
    "variables",
    "coils_registers",
    "repeat",
    "init_comm",
    "reservation",
    "monitor",
    "check_plc",
    "get_status",
    "io_object",
    "data_dictionary",
    "ethernet_master",
];

/// Acknowledgements (`segment_ack`, `simple_ack` ...) confirm a transport step; they
/// are no operation on the device.
fn is_acknowledgement(name: &str) -> bool {
    name.split(['_', '-']).any(|w| w == "ack")
}

/// The name of a sub-function the event carries (Modbus diagnostics), if any.
fn sub_function(event: &Event) -> Option<&str> {
    event.attrs.iter().find_map(|(k, v)| match (k, v) {
        (&"sub_function_name", Attr::Text(t)) => Some(t.as_str()),
        _ => None,
    })
}

/// [`classify`] on the function's name, or on its sub-function's when that says more.
fn classify_event(event: &Event) -> Kind {
    let kind = classify(event.op, &event.function_name);
    match (kind, event.op) {
        (Kind::Ordinary, OpClass::Control | OpClass::Program) => {
            sub_function(event).map_or(kind, |sub| classify(event.op, sub))
        }
        _ => kind,
    }
}

/// `diagnostics` or `diagnostics/force_listen_only_mode`.
fn display_name(event: &Event) -> Cow<'_, str> {
    match sub_function(event) {
        Some(sub) => Cow::Owned(format!("{}/{sub}", event.function_name)),
        None => Cow::Borrowed(&event.function_name),
    }
}

/// Classifies a request by its operation class and function name, for any protocol.
pub fn classify(op: OpClass, name: &str) -> Kind {
    match op {
        OpClass::Program if !MONITORING.iter().any(|m| name.contains(m)) => Kind::ProgramTransfer,
        OpClass::Control
            if STATE_NAMES.contains(&name)
                || name.split(['_', '-']).any(|w| STATE_WORDS.contains(&w)) =>
        {
            Kind::StateChange
        }
        _ => Kind::Ordinary,
    }
}

/// [`classify`] for a learnt function.
fn classify_stat(stat: &OpStat) -> Kind {
    let op = match stat.op {
        Op::Program => OpClass::Program,
        Op::Control => OpClass::Control,
        _ => OpClass::Other,
    };
    classify(op, &stat.name)
}

/// Addresses one function touched in one space.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct SpaceRanges {
    space: String,
    learnt: IntervalSet,
    /// Ranges seen after learning, on probation: (start, end, first seen).
    pending: Vec<(u64, u64, i64)>,
}

/// Most pending ranges per space.
const MAX_PENDING: usize = 8;

/// One function a channel used.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct OpStat {
    op: Op,
    function: u32,
    name: String,
    count: u64,
    first_us: i64,
    last_us: i64,
    /// Part of the baseline (false: seen after learning, on probation).
    confirmed: bool,
    /// The operator accepted it (quiets `plc_control` too).
    accepted: bool,
    /// Score it had when first seen, reused while on probation.
    novelty: f64,
    /// Requests that reached addresses outside the learnt ranges.
    expansions: u64,
    spaces: Vec<SpaceRanges>,
}

/// One channel's history.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Channel {
    first_us: i64,
    last_us: i64,
    requests: u64,
    ops: Vec<OpStat>,
    #[serde(default)]
    answers: Answers,
    /// The server also sends requests to the client.
    #[serde(default)]
    two_way: bool,
}

/// Saved state.
#[derive(Default, Serialize, Deserialize)]
struct State {
    channels: Vec<(ChannelKey, Channel)>,
    counters: Counters,
}

/// Cap and eviction counters.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Counters {
    channels_evicted: u64,
    ops_cap_hits: u64,
    spaces_cap_hits: u64,
    intervals_merged: u64,
    pending_cap_hits: u64,
}

/// The operations model.
#[derive(Default)]
pub struct Operations {
    channels: Map<ChannelKey, Channel>,
    counters: Counters,
}

impl Operations {
    /// Nothing learnt.
    pub fn new() -> Self {
        Self::default()
    }

    /// A response teaches the channel's exception rate (responses of a channel never
    /// requested are ignored).
    fn on_response(&mut self, cx: &mut Cx<'_>, event: &Event) {
        if !is_industrial(event.protocol) {
            return;
        }
        let (Some(server), Some(client)) = (event.src_ip, event.dst_ip) else {
            return;
        };
        let key = ChannelKey {
            client,
            server,
            protocol: Cow::Borrowed(event.protocol),
            unit: event.unit,
        };
        let Some(ch) = self.channels.get_mut(&key) else {
            return;
        };
        if let Some(f) = ch.answers.on_response(cx, &key, event) {
            cx.report(f.src_mac(event.dst_mac));
        }
    }

    fn evict_if_full(&mut self) {
        // Evict the least recently seen eighth at once: a sweep over many devices costs
        // one pass per batch, not a scan per new channel.
        if self.channels.len() >= MAX_CHANNELS {
            self.counters.channels_evicted +=
                remove_oldest(&mut self.channels, MAX_CHANNELS / 8, |c| c.last_us);
        }
    }
}

/// `reads (function 3 read_holding_registers ×2,520 on holding registers 0–9)`.
fn summary(ch: &Channel, skip: usize) -> String {
    let mut ops: Vec<&OpStat> = ch
        .ops
        .iter()
        .enumerate()
        .filter(|(i, o)| *i != skip && o.confirmed)
        .map(|(_, o)| o)
        .collect();
    if ops.is_empty() {
        return "nothing else".to_string();
    }
    ops.sort_by_key(|o| (o.op, std::cmp::Reverse(o.count)));
    let all_one = ops.iter().all(|o| o.op == ops[0].op);
    let mut groups: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ops.len() {
        let op = ops[i].op;
        let items: Vec<String> = ops[i..]
            .iter()
            .take_while(|o| o.op == op)
            .take(3)
            .map(|o| {
                let on: Vec<String> = o
                    .spaces
                    .iter()
                    .take(2)
                    .map(|s| match s.learnt.span() {
                        0 => space_words(&s.space, false),
                        _ => format!(
                            "{} {}",
                            space_words(&s.space, s.learnt.span() > 1),
                            s.learnt.describe(3)
                        ),
                    })
                    .collect();
                let on = if on.is_empty() {
                    String::new()
                } else {
                    format!(" on {}", on.join(" and "))
                };
                format!(
                    "function {} {} ×{}{on}",
                    o.function,
                    o.name,
                    thousands(o.count)
                )
            })
            .collect();
        let prefix = if all_one { "all " } else { "" };
        groups.push(format!("{prefix}{} ({})", op.plural(), items.join("; ")));
        i += ops[i..].iter().take_while(|o| o.op == op).count();
    }
    groups.join(", ")
}

impl Model for Operations {
    fn name(&self) -> &'static str {
        "operations"
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, event: &Event) {
        if event.is_response {
            self.on_response(cx, event);
            return;
        }
        if matches!(event.op, OpClass::Session)
            || event.function_name == "protocol_anomaly"
            || !is_industrial(event.protocol)
            || is_acknowledgement(&event.function_name)
        {
            return;
        }
        let (Some(client), Some(server)) = (event.src_ip, event.dst_ip) else {
            return;
        };
        let key = ChannelKey {
            client,
            server,
            protocol: Cow::Borrowed(event.protocol),
            unit: event.unit,
        };
        let now = cx.now.micros();
        if !self.channels.contains_key(&key) {
            self.evict_if_full();
            let reverse = self.channels.get_mut(&ChannelKey {
                client: server,
                server: client,
                protocol: Cow::Borrowed(event.protocol),
                unit: event.unit,
            });
            let two_way = reverse.is_some();
            if let Some(reverse) = reverse {
                reverse.two_way = true;
            }
            self.channels.insert(
                key.clone(),
                Channel {
                    first_us: now,
                    last_us: now,
                    requests: 0,
                    ops: Vec::new(),
                    answers: Answers::default(),
                    two_way,
                },
            );
        }
        let kind = classify_event(event);
        // A device sending transfer requests to a peer that itself sends it requests is
        // pulling the blocks of a transfer the peer started (S7 download, for one).
        let pulled = kind == Kind::ProgramTransfer
            && self
                .channels
                .get(&ChannelKey {
                    client: server,
                    server: client,
                    protocol: Cow::Borrowed(event.protocol),
                    unit: event.unit,
                })
                .is_some_and(|c| c.requests > 0);
        let Some(ch) = self.channels.get_mut(&key) else {
            return;
        };
        let name: &str = &event.function_name;
        let idx = ch
            .ops
            .iter()
            .position(|o| o.function == event.function && o.name == name);
        let prior_requests = ch.requests;
        let idx = match idx {
            Some(i) => i,
            None => {
                if ch.ops.len() >= MAX_OPS {
                    // Drop the least used function to make room.
                    if let Some(min) =
                        (0..ch.ops.len()).min_by_key(|&i| (ch.ops[i].count, ch.ops[i].last_us))
                    {
                        ch.ops.remove(min);
                    }
                    self.counters.ops_cap_hits += 1;
                }
                let singletons = ch.ops.iter().filter(|o| o.count == 1).count() as u64;
                let novelty = surprise(unseen_probability(singletons, ch.requests));
                // A device pushing reports, alarms or notifications to its master over
                // the master's own connection (it sends from the service port) tells
                // news about the process, not an operation on a device.
                let push = ch.two_way
                    && event.src_port < event.dst_port
                    && !matches!(event.op, OpClass::Write | OpClass::Control);
                let judged = !cx.learning
                    && !push
                    && ch.requests >= MIN_REQUESTS
                    && now - ch.first_us >= MIN_CHANNEL_AGE_MICROS;
                ch.ops.push(OpStat {
                    op: event.op.into(),
                    function: event.function,
                    name: name.to_string(),
                    count: 0,
                    first_us: now,
                    last_us: now,
                    confirmed: !judged || novelty < MIN_NEW_FUNCTION_SCORE,
                    accepted: false,
                    novelty,
                    expansions: 0,
                    spaces: Vec::new(),
                });
                ch.ops.len() - 1
            }
        };
        ch.requests += 1;
        ch.last_us = now;
        let stat = &mut ch.ops[idx];
        let seen_before = stat.count;
        stat.count += 1;
        stat.last_us = now;
        if !stat.confirmed && (cx.learning || now - stat.first_us >= PROBATION_MICROS) {
            stat.confirmed = true;
        }

        if kind != Kind::Ordinary {
            if !stat.accepted {
                let history = History {
                    seen_before,
                    prior_requests,
                    pulled,
                };
                let f = control_finding(cx, event, &key, kind, ch, idx, history);
                cx.report(f);
            }
            learn_targets(&mut self.counters, &mut ch.ops[idx], event, true, now);
            return;
        }
        if !ch.ops[idx].confirmed {
            let f = new_function_finding(cx, event, &key, ch, idx, prior_requests);
            cx.report(f);
            learn_targets(&mut self.counters, &mut ch.ops[idx], event, true, now);
            return;
        }
        let settled = !cx.learning && ch.ops[idx].count > MIN_FUNCTION_USES;
        if let Some(f) = range_check(cx, event, &key, &mut ch.ops[idx], settled) {
            cx.report(f);
        }
        let learn_now = cx.learning;
        learn_targets(&mut self.counters, &mut ch.ops[idx], event, learn_now, now);
    }

    fn save(&self) -> serde_json::Value {
        let mut channels: Vec<(ChannelKey, Channel)> = self
            .channels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        channels.sort_by(|a, b| a.0.cmp(&b.0));
        serde_json::to_value(State {
            channels,
            counters: self.counters,
        })
        .unwrap_or(serde_json::Value::Null)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        let state: State = serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.channels = state.channels.into_iter().collect();
        self.counters = state.counters;
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        let mut keys: Vec<&ChannelKey> = self
            .channels
            .keys()
            .filter(|k| ip.is_none_or(|ip| k.client == ip || k.server == ip))
            .collect();
        keys.sort();
        for key in keys {
            let Some(ch) = self.channels.get(key) else {
                continue;
            };
            out.push(format!(
                "{} sends {} {} requests to {}{}: {} (learning for {})",
                assets.label(key.client),
                thousands(ch.requests),
                key.protocol,
                assets.label(key.server),
                unit_words(&key.protocol, key.unit),
                summary(ch, usize::MAX),
                span((ch.last_us - ch.first_us) as f64 / 1e6),
            ));
        }
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        match ip {
            None => self.channels.clear(),
            Some(ip) => self
                .channels
                .retain(|k, _| k.client != ip && k.server != ip),
        }
    }

    fn accept(&mut self, finding: &Finding) {
        // Accepted alerts come back as findings of the operator, so match on what they
        // say: category, source, protocol and the fuse key naming the function.
        let control = match finding.category {
            Category::PlcControl => true,
            Category::UnusualOperation => false,
            _ => return,
        };
        let Some(src) = finding.src_ip else {
            return;
        };
        for (key, ch) in self.channels.iter_mut() {
            let ours = if control {
                // Every device the source controlled (the alert fuses them), and the
                // blocks its peers pulled.
                key.client == src || key.server == src
            } else {
                key.client == src && Some(key.server) == finding.dst_ip
            };
            if !ours || finding.protocol.as_deref() != Some(&key.protocol) {
                continue;
            }
            for stat in ch.ops.iter_mut() {
                let matches = if control {
                    let kind = classify_stat(stat);
                    kind != Kind::Ordinary && finding.fuse_key == control_fuse_key(key, kind)
                } else {
                    let own = fuse_key(key, stat);
                    finding.fuse_key == own || finding.fuse_key.starts_with(&format!("{own} "))
                };
                if !matches {
                    continue;
                }
                stat.confirmed = true;
                stat.accepted |= control;
                for s in stat.spaces.iter_mut() {
                    for (a, b, _) in s.pending.drain(..) {
                        s.learnt.insert(a, b);
                    }
                }
            }
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        let c = &self.counters;
        vec![
            ("channels", self.channels.len() as u64),
            ("channels_evicted", c.channels_evicted),
            ("ops_cap_hits", c.ops_cap_hits),
            ("spaces_cap_hits", c.spaces_cap_hits),
            ("intervals_merged", c.intervals_merged),
            ("pending_cap_hits", c.pending_cap_hits),
        ]
    }
}

/// What fuses findings about one function of one channel.
fn fuse_key(key: &ChannelKey, stat: &OpStat) -> String {
    format!(
        "{} {} {:?} {} {}",
        key.server, key.protocol, key.unit, stat.function, stat.name
    )
}

/// What fuses `plc_control` findings from one source (the alerter keys on the source):
/// its kind and protocol, so a stop and a restart read as one incident, an upload as
/// another, and one workstation reinitialising twenty controllers as one, not twenty.
fn control_fuse_key(key: &ChannelKey, kind: Kind) -> String {
    format!("{kind:?} {}", key.protocol)
}

/// Records the event's targets into the function's ranges: straight into the learnt set
/// when `learn`, else into the pending list (folded after probation).
fn learn_targets(counters: &mut Counters, stat: &mut OpStat, event: &Event, learn: bool, now: i64) {
    for t in &event.targets {
        let pos = match stat.spaces.iter().position(|s| s.space == t.space) {
            Some(p) => p,
            None => {
                if stat.spaces.len() >= MAX_SPACES {
                    counters.spaces_cap_hits += 1;
                    continue;
                }
                stat.spaces.push(SpaceRanges {
                    space: t.space.to_string(),
                    ..Default::default()
                });
                stat.spaces.len() - 1
            }
        };
        let s = &mut stat.spaces[pos];
        let end = t.start.saturating_add(u64::from(t.count));
        if s.learnt.covers(t.start, end) {
            continue;
        }
        if learn || (s.learnt.span() == 0 && t.count == 0) {
            counters.intervals_merged += u64::from(s.learnt.insert(t.start, end));
            continue;
        }
        // On probation: fold once the range has been in use long enough.
        match s
            .pending
            .iter()
            .position(|&(a, b, _)| a <= t.start && end <= b)
        {
            Some(p) if now - s.pending[p].2 >= PROBATION_MICROS => {
                let (a, b, _) = s.pending.remove(p);
                counters.intervals_merged += u64::from(s.learnt.insert(a, b));
            }
            Some(_) => {}
            None if s.pending.len() < MAX_PENDING => s.pending.push((t.start, end, now)),
            None => counters.pending_cap_hits += 1,
        }
    }
}

/// A known function on addresses far outside what it learnt.
fn range_check(
    cx: &Cx<'_>,
    event: &Event,
    key: &ChannelKey,
    stat: &mut OpStat,
    settled: bool,
) -> Option<Finding> {
    let mut worst: Option<(u64, &dissect::Target, u64)> = None;
    for t in event.targets.iter().filter(|t| t.count > 0) {
        let end = t.start.saturating_add(u64::from(t.count));
        let Some(s) = stat.spaces.iter().find(|s| s.space == t.space) else {
            continue;
        };
        let Some(d) = s.learnt.distance(t.start, end) else {
            continue;
        };
        if d == 0 && s.learnt.covers(t.start, end) {
            continue;
        }
        let far = d > s.learnt.span().max(MIN_FAR);
        if far && worst.is_none_or(|w| d > w.0) {
            worst = Some((d, t, s.learnt.span()));
        }
    }
    let (_, t, _) = worst?;
    let before = stat.expansions;
    stat.expansions += 1;
    if !settled {
        return None;
    }
    let score = 0.5 * surprise(unseen_probability(before, stat.count - 1));
    if score < MIN_RANGE_SCORE {
        return None;
    }
    let learnt = stat
        .spaces
        .iter()
        .find(|s| s.space == t.space)
        .map(|s| {
            format!(
                "{} {}",
                space_words(&s.space, s.learnt.span() > 1),
                s.learnt.describe(4)
            )
        })
        .unwrap_or_default();
    let a = cx.assets;
    let explanation = format!(
        "{} used {} function {} ({}) on {} of {}{}, far outside the addresses it used before. \
         In {} it sent this function {} times, only on {}.",
        a.label(key.client),
        key.protocol,
        stat.function,
        stat.name,
        target_words(&t.space, t.start, t.count),
        a.label(key.server),
        unit_words(&key.protocol, key.unit),
        span((stat.last_us - stat.first_us) as f64 / 1e6),
        thousands(stat.count - 1),
        learnt,
    );
    let title = format!(
        "{} {} on new addresses ({}) from {} to {}",
        key.protocol,
        stat.name,
        target_words(&t.space, t.start, t.count),
        key.client,
        key.server
    );
    Some(
        Finding::new(
            cx.now,
            Category::UnusualOperation,
            "operations",
            score,
            title,
            explanation,
        )
        .between(Some(key.client), Some(key.server), Some(event.dst_port))
        .protocol(key.protocol.to_string())
        .src_mac(event.src_mac)
        .fuse_key(format!("{} {}", fuse_key(key, stat), t.space)),
    )
}

/// What the event did, in words: `wrote holding register 20 on 10.10.1.11 (PLC plc1)`.
fn action_words(event: &Event, server: &str, unit: &str) -> String {
    let targets: Vec<String> = event
        .targets
        .iter()
        .take(3)
        .map(|t| target_words(&t.space, t.start, t.count))
        .collect();
    let targets = targets.join(" and ");
    let f = format!("function {} ({})", event.function, event.function_name);
    // `, modbus unit 1,` reads as an apposition before what follows.
    let comma = if unit.is_empty() { "" } else { "," };
    match (event.op, targets.is_empty()) {
        (OpClass::Write, false) => format!("wrote {targets} on {server}{unit}{comma} with {f}"),
        (OpClass::Read, false) => format!("read {targets} of {server}{unit}{comma} with {f}"),
        (_, false) => format!("sent {f} on {targets} to {server}{unit}"),
        (_, true) => format!("sent {f} to {server}{unit}"),
    }
}

/// A function the channel never used, on a settled channel.
fn new_function_finding(
    cx: &Cx<'_>,
    event: &Event,
    key: &ChannelKey,
    ch: &Channel,
    idx: usize,
    prior_requests: u64,
) -> Finding {
    let stat = &ch.ops[idx];
    let a = cx.assets;
    let only_reads = ch
        .ops
        .iter()
        .enumerate()
        .all(|(i, o)| i == idx || !o.confirmed || o.op == Op::Read);
    let writes = matches!(
        event.op,
        OpClass::Write | OpClass::Control | OpClass::Program
    );
    let lead = format!(
        "{} {} for the first time{}.",
        a.label(key.client),
        action_words(
            event,
            &a.label(key.server),
            &unit_words(&key.protocol, key.unit)
        ),
        if stat.count > 1 {
            format!(
                " (on probation: {} uses since {} ago)",
                thousands(stat.count),
                span((stat.last_us - stat.first_us) as f64 / 1e6)
            )
        } else {
            String::new()
        }
    );
    let history = format!(
        "In the {} before, it sent {} {} requests to this device, {}.",
        span((stat.first_us - ch.first_us) as f64 / 1e6),
        thousands(prior_requests),
        key.protocol,
        summary(ch, idx)
    );
    let title = if only_reads && writes {
        format!(
            "{} write on a read-only channel: {} from {} to {}",
            key.protocol, event.function_name, key.client, key.server
        )
    } else {
        format!(
            "New {} operation {} from {} to {}",
            key.protocol, event.function_name, key.client, key.server
        )
    };
    Finding::new(
        cx.now,
        Category::UnusualOperation,
        "operations",
        stat.novelty,
        title,
        format!("{lead} {history}"),
    )
    .between(Some(key.client), Some(key.server), Some(event.dst_port))
    .protocol(key.protocol.to_string())
    .src_mac(event.src_mac)
    .fuse_key(fuse_key(key, stat))
}

/// What the channel did before a program transfer or state change.
struct History {
    /// Times it sent this function before.
    seen_before: u64,
    /// Requests it sent before.
    prior_requests: u64,
    /// The sender pulls a transfer its peer started.
    pulled: bool,
}

/// A program transfer or state change: policy.
fn control_finding(
    cx: &Cx<'_>,
    event: &Event,
    key: &ChannelKey,
    kind: Kind,
    ch: &Channel,
    idx: usize,
    h: History,
) -> Finding {
    let stat = &ch.ops[idx];
    let a = cx.assets;
    let unit = unit_words(&key.protocol, key.unit);
    let name = display_name(event);
    let label = match kind {
        Kind::ProgramTransfer => "Program transfer",
        _ => "Controller state change",
    };
    // Never seen on this channel: as surprising as it gets; routine: still policy.
    let score = if h.seen_before == 0 { 0.95 } else { 0.7 };
    if h.pulled {
        let targets: Vec<String> = event
            .targets
            .iter()
            .take(3)
            .map(|t| target_words(&t.space, t.start, t.count))
            .collect();
        let targets = if targets.is_empty() {
            "data".to_string()
        } else {
            targets.join(" and ")
        };
        let explanation = format!(
            "{} requested {targets} from {}{unit}{} with function {} ({}): a device pulls the \
             blocks of a transfer its peer started, so {} is moving logic, configuration or \
             firmware into {}.",
            a.label(key.client),
            a.label(key.server),
            if unit.is_empty() { "" } else { "," },
            event.function,
            event.function_name,
            key.server,
            key.client,
        );
        let title = format!(
            "{label}: {} {} from {} to {}",
            key.protocol, name, key.server, key.client
        );
        return Finding::new(
            cx.now,
            Category::PlcControl,
            "operations",
            score,
            title,
            explanation,
        )
        .between(Some(key.server), Some(key.client), Some(event.src_port))
        .protocol(key.protocol.to_string())
        .src_mac(event.dst_mac)
        .policy()
        .fuse_key(control_fuse_key(key, kind));
    }
    let what = match kind {
        Kind::ProgramTransfer => "moves logic, configuration or firmware",
        _ => "changes the controller's run state",
    };
    let history = if h.prior_requests == 0 {
        format!(
            "It is the first {} request seen from {} to {}.",
            key.protocol, key.client, key.server
        )
    } else if h.seen_before == 0 {
        format!(
            "This channel never sent it before; in {} it sent {} {} requests: {}.",
            span((cx.now.micros() - ch.first_us) as f64 / 1e6),
            thousands(h.prior_requests),
            key.protocol,
            summary(ch, idx)
        )
    } else {
        format!(
            "This channel sent it {} times before, first {} ago.",
            thousands(h.seen_before),
            span((cx.now.micros() - stat.first_us) as f64 / 1e6)
        )
    };
    let explanation = format!(
        "{} {}: {} {what}. {history}",
        a.label(key.client),
        action_words(event, &a.label(key.server), &unit),
        name,
    );
    let title = format!(
        "{label}: {} {} from {} to {}",
        key.protocol, name, key.client, key.server
    );
    Finding::new(
        cx.now,
        Category::PlcControl,
        "operations",
        score,
        title,
        explanation,
    )
    .between(Some(key.client), Some(key.server), Some(event.dst_port))
    .protocol(key.protocol.to_string())
    .src_mac(event.src_mac)
    .policy()
    .fuse_key(control_fuse_key(key, kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::{Role, Timestamp};

    const T0: i64 = 1_795_854_000_000_000;

    fn assets() -> AssetDirectory {
        let asset = crate::assets::test_asset;
        AssetDirectory::from_assets(&[
            asset("10.10.1.11", Role::Plc, "plc1"),
            asset("10.10.2.30", Role::Historian, "hist1"),
        ])
    }

    fn request(secs: i64, op: OpClass, function: u32, name: &'static str) -> Event {
        let mut e = Event::new("modbus", op, function, name, false);
        e.ts = Timestamp(T0 + secs * 1_000_000);
        e.src_ip = Some("10.10.2.30".parse().unwrap());
        e.dst_ip = Some("10.10.1.11".parse().unwrap());
        e.src_port = 50000;
        e.dst_port = 502;
        e.unit = Some(1);
        e
    }

    fn read(secs: i64, start: u64) -> Event {
        let mut e = request(secs, OpClass::Read, 3, "read_holding_registers");
        e.target("holding_register", start, 10);
        e
    }

    fn feed(
        model: &mut Operations,
        dir: &AssetDirectory,
        e: &Event,
        learning: bool,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut cx = Cx::new(e.ts, learning, dir, &mut out);
        model.on_event(&mut cx, e);
        out
    }

    /// 100 reads of registers 0–9 every 10 s, learning throughout.
    fn learnt() -> Operations {
        let dir = assets();
        let mut m = Operations::new();
        for i in 0..100 {
            assert!(feed(&mut m, &dir, &read(i * 10, 0), true).is_empty());
        }
        m
    }

    #[test]
    fn a_write_on_a_read_only_channel_is_the_headline() {
        let dir = assets();
        let mut m = learnt();
        let mut w = request(1000, OpClass::Write, 6, "write_single_register");
        w.target("holding_register", 20, 1)
            .value("holding_register", 20, 1.0);
        let f = feed(&mut m, &dir, &w, false);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.category, Category::UnusualOperation);
        assert!(!f.policy);
        assert!((f.score - (1.0 - 1.0 / 101.0)).abs() < 1e-9, "{}", f.score);
        assert_eq!(
            f.title,
            "modbus write on a read-only channel: write_single_register from 10.10.2.30 to 10.10.1.11"
        );
        assert_eq!(
            f.explanation,
            "10.10.2.30 (historian hist1) wrote holding register 20 on 10.10.1.11 (PLC plc1), \
             modbus unit 1, with function 6 (write_single_register) for the first time. In the \
             17 min before, it sent 100 modbus requests to this device, all reads (function 3 \
             read_holding_registers ×100 on holding registers 0–9)."
        );
        assert_eq!(f.dst_port, Some(502));
        // On probation: the next write reports again (fused into the same alert) ...
        let again = feed(&mut m, &dir, &w.clone(), false);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].fuse_key, f.fuse_key);
        // ... until the operator accepts it (the alert comes back as the operator's).
        let mut accepted = f.clone();
        accepted.model = "operator";
        m.accept(&accepted);
        assert!(feed(&mut m, &dir, &w, false).is_empty());
    }

    #[test]
    fn a_new_function_while_learning_or_on_a_young_channel_is_learnt_quietly() {
        let dir = assets();
        let mut m = Operations::new();
        for i in 0..5 {
            feed(&mut m, &dir, &read(i, 0), false);
        }
        let w = request(10, OpClass::Write, 6, "write_single_register");
        assert!(feed(&mut m, &dir, &w, false).is_empty());
        // Many requests, but all within the last minute.
        let mut m = Operations::new();
        for i in 0..50 {
            feed(&mut m, &dir, &read(i, 0), false);
        }
        let w = request(60, OpClass::Write, 6, "write_single_register");
        assert!(feed(&mut m, &dir, &w, false).is_empty());
        let mut m = learnt();
        assert!(feed(&mut m, &dir, &w, true).is_empty());
        assert!(feed(&mut m, &dir, &w, false).is_empty());
    }

    #[test]
    fn a_new_notification_pushed_from_the_service_port_is_not_an_operation() {
        let dir = assets();
        let mut m = Operations::new();
        let push = |secs: i64, f: u32, name: &'static str| {
            let mut e = request(secs, OpClass::Diagnostic, f, name);
            e.src_ip = Some("10.10.1.11".parse().unwrap());
            e.dst_ip = Some("10.10.2.30".parse().unwrap());
            e.src_port = 502;
            e.dst_port = 50000;
            e
        };
        for i in 0..100 {
            feed(&mut m, &dir, &read(i * 10, 0), true);
            feed(&mut m, &dir, &push(i * 10, 1, "cyclic_data"), true);
        }
        assert!(feed(&mut m, &dir, &push(1000, 2, "alarm_indication"), false).is_empty());
        // The client's own new functions are still judged.
        let w = request(1000, OpClass::Diagnostic, 8, "diagnostics");
        assert_eq!(feed(&mut m, &dir, &w, false).len(), 1);
    }

    #[test]
    fn a_new_function_joins_the_baseline_after_an_hour_of_probation() {
        let dir = assets();
        let mut m = learnt();
        let w = |secs| request(secs, OpClass::Write, 6, "write_single_register");
        assert_eq!(feed(&mut m, &dir, &w(1000), false).len(), 1);
        assert_eq!(feed(&mut m, &dir, &w(1000 + 3599), false).len(), 1);
        assert!(feed(&mut m, &dir, &w(1000 + 3600), false).is_empty());
        assert!(feed(&mut m, &dir, &w(9000), false).is_empty());
    }

    #[test]
    fn far_addresses_score_lower_and_near_ones_not_at_all() {
        let dir = assets();
        let mut m = learnt();
        assert!(feed(&mut m, &dir, &read(1000, 12), false).is_empty());
        let f = feed(&mut m, &dir, &read(1010, 5000), false);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].category, Category::UnusualOperation);
        assert!(f[0].score > 0.4 && f[0].score < 0.5, "{}", f[0].score);
        assert_eq!(
            f[0].explanation,
            "10.10.2.30 (historian hist1) used modbus function 3 (read_holding_registers) on \
             holding registers 5000–5009 of 10.10.1.11 (PLC plc1), modbus unit 1, far outside \
             the addresses it used before. In 17 min it sent this function 101 times, only on \
             holding registers 0–9."
        );
    }

    #[test]
    fn plc_stop_is_policy_even_while_learning() {
        let dir = assets();
        let mut m = Operations::new();
        let mut stop = request(0, OpClass::Control, 41, "plc_stop");
        stop.protocol = "s7comm";
        let f = feed(&mut m, &dir, &stop, true);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].category, Category::PlcControl);
        assert!(f[0].policy);
        assert_eq!(f[0].score, 0.95);
        assert_eq!(
            f[0].title,
            "Controller state change: s7comm plc_stop from 10.10.2.30 to 10.10.1.11"
        );
        assert_eq!(
            f[0].explanation,
            "10.10.2.30 (historian hist1) sent function 41 (plc_stop) to 10.10.1.11 (PLC plc1), \
             s7comm unit 1: plc_stop changes the controller's run state. It is the first s7comm \
             request seen from 10.10.2.30 to 10.10.1.11."
        );
        // Seen before: still reported, with a lower score, until accepted.
        let mut later = stop.clone();
        later.ts = Timestamp(T0 + 60_000_000);
        let g = feed(&mut m, &dir, &later, false);
        assert_eq!(g[0].score, 0.7);
        let mut accepted = g[0].clone();
        accepted.model = "operator";
        m.accept(&accepted);
        assert!(feed(&mut m, &dir, &later, false).is_empty());
    }

    #[test]
    fn channels_are_capped_with_batch_eviction_of_the_oldest() {
        let dir = assets();
        let mut m = Operations::new();
        for i in 0..=MAX_CHANNELS as u32 {
            let mut e = read(i64::from(i), 0);
            e.dst_ip = Some(std::net::Ipv4Addr::from(0x0a00_0000 + i).into());
            feed(&mut m, &dir, &e, true);
        }
        let counters = m.counters();
        assert_eq!(
            counters[0],
            ("channels", (MAX_CHANNELS - MAX_CHANNELS / 8 + 1) as u64)
        );
        assert_eq!(counters[1], ("channels_evicted", (MAX_CHANNELS / 8) as u64));
        // The oldest went first.
        assert!(!m
            .channels
            .keys()
            .any(|k| k.server == "10.0.0.0".parse::<IpAddr>().unwrap()));
    }

    #[test]
    fn an_exception_burst_on_a_channel_that_never_failed_is_a_protocol_anomaly() {
        let dir = assets();
        let mut m = Operations::new();
        let answer = |secs: i64, exception: bool| {
            let mut e = Event::new("modbus", OpClass::Read, 3, "read_holding_registers", true);
            e.ts = Timestamp(T0 + secs * 1_000_000);
            e.src_ip = Some("10.10.1.11".parse().unwrap());
            e.dst_ip = Some("10.10.2.30".parse().unwrap());
            e.src_port = 502;
            e.unit = Some(1);
            if exception {
                e.status = dissect::Status::Exception {
                    code: 2,
                    name: "illegal_data_address".into(),
                };
            }
            e
        };
        for i in 0..150 {
            feed(&mut m, &dir, &read(i * 10, 0), true);
            feed(&mut m, &dir, &answer(i * 10, false), true);
        }
        let mut found = Vec::new();
        for i in 0..6 {
            feed(&mut m, &dir, &read(2000 + i, 900), false);
            found.extend(feed(&mut m, &dir, &answer(2000 + i, true), false));
        }
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.category, Category::ProtocolAnomaly);
        assert!(f.score > 0.99, "{}", f.score);
        assert_eq!(f.src_ip, Some("10.10.2.30".parse().unwrap()));
        assert_eq!(
            f.explanation,
            "10.10.1.11 (PLC plc1), modbus unit 1 answered 5 of the last 5 modbus requests from \
             10.10.2.30 (historian hist1) with exceptions within 4 s (last: illegal_data_address). \
             In the 33 min before, it answered 150 requests with 0 exceptions."
        );
    }

    #[test]
    fn blocks_a_controller_pulls_are_the_peers_download() {
        let dir = assets();
        let mut m = Operations::new();
        let s7 = |secs: i64, from: &str, to: &str, op: OpClass, f: u32, name: &'static str| {
            let mut e = request(secs, op, f, name);
            e.protocol = "s7comm";
            e.src_ip = Some(from.parse().unwrap());
            e.dst_ip = Some(to.parse().unwrap());
            e.src_port = if from == "10.10.1.11" { 102 } else { 50000 };
            e.dst_port = if to == "10.10.1.11" { 102 } else { 50000 };
            e
        };
        let (ews, plc) = ("10.10.2.30", "10.10.1.11");
        let start = s7(0, ews, plc, OpClass::Program, 26, "request_download");
        let first = feed(&mut m, &dir, &start, true);
        let mut block = s7(1, plc, ews, OpClass::Program, 27, "download_block");
        block.target("block:DB1", 1, 1);
        let pulled = feed(&mut m, &dir, &block, true);
        assert_eq!(pulled.len(), 1);
        let f = &pulled[0];
        assert_eq!(f.src_ip, first[0].src_ip);
        assert_eq!(f.fuse_key, first[0].fuse_key);
        assert_eq!(f.dst_port, Some(102));
        assert_eq!(
            f.title,
            "Program transfer: s7comm download_block from 10.10.2.30 to 10.10.1.11"
        );
        assert_eq!(
            f.explanation,
            "10.10.1.11 (PLC plc1) requested block:DB1 1 from 10.10.2.30 (historian hist1), \
             s7comm unit 1, with function 27 (download_block): a device pulls the blocks of a \
             transfer its peer started, so 10.10.2.30 is moving logic, configuration or \
             firmware into 10.10.1.11."
        );
    }

    #[test]
    fn a_sub_function_that_silences_the_device_is_a_state_change() {
        let dir = assets();
        let mut m = learnt();
        let mut e = request(1000, OpClass::Control, 8, "diagnostics");
        e.attr(
            "sub_function_name",
            Attr::Text("force_listen_only_mode".into()),
        );
        let f = feed(&mut m, &dir, &e, false);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].category, Category::PlcControl);
        assert_eq!(
            f[0].title,
            "Controller state change: modbus diagnostics/force_listen_only_mode from 10.10.2.30 \
             to 10.10.1.11"
        );
    }

    #[test]
    fn classification_is_generic_over_protocols() {
        use Kind::*;
        for (op, name, kind) in [
            (OpClass::Control, "plc_stop", StateChange),
            (OpClass::Control, "plc_hot_start", StateChange),
            (OpClass::Control, "cold_restart", StateChange),
            (OpClass::Control, "reinitialize_device", StateChange),
            (
                OpClass::Control,
                "device_communication_control",
                StateChange,
            ),
            (OpClass::Control, "reset_process", StateChange),
            (OpClass::Control, "umas_stop_plc", StateChange),
            (OpClass::Control, "run", StateChange),
            (OpClass::Control, "clock_synchronisation", Ordinary),
            (OpClass::Control, "select", Ordinary),
            (OpClass::Control, "direct_operate", Ordinary),
            (OpClass::Control, "take_control", Ordinary),
            (OpClass::Control, "time_synchronization", Ordinary),
            (OpClass::Program, "download_block", ProgramTransfer),
            (OpClass::Program, "start_upload", ProgramTransfer),
            (OpClass::Program, "firmware_replacement", ProgramTransfer),
            (OpClass::Program, "umas_read_id", Ordinary),
            (OpClass::Program, "umas_keep_alive", Ordinary),
            (OpClass::Write, "write_var", Ordinary),
        ] {
            assert_eq!(classify(op, name), kind, "{name}");
        }
        assert!(is_acknowledgement("segment_ack"));
        assert!(!is_acknowledgement("acknowledge_alarm"));
    }

    #[test]
    fn state_round_trips_and_forget_clears() {
        let dir = assets();
        let m = learnt();
        let mut restored = Operations::new();
        restored.restore(m.save()).unwrap();
        let mut lines = Vec::new();
        restored.baseline(None, &dir, &mut lines);
        assert_eq!(
            lines,
            vec![
                "10.10.2.30 (historian hist1) sends 100 modbus requests to 10.10.1.11 (PLC plc1), \
                 modbus unit 1: all reads (function 3 read_holding_registers ×100 on holding \
                 registers 0–9) (learning for 16 min)"
            ]
        );
        let mut w = request(1000, OpClass::Write, 6, "write_single_register");
        w.target("holding_register", 20, 1);
        assert_eq!(feed(&mut restored, &dir, &w, false).len(), 1);
        restored.forget(Some("10.10.1.11".parse().unwrap()));
        assert_eq!(restored.counters()[0], ("channels", 0));
    }
}
