//! Timing: OT traffic is cyclic. Every message stream (sender, receiver, protocol,
//! function, first target) learns its cycle as the median inter-arrival time and its
//! jitter as the median absolute deviation (MAD) over a sliding window. Streams whose
//! MAD is small against the median are periodic; only those are judged:
//!
//! - a request stream whose median over the last [`RECENT`] intervals departs from the
//!   learnt cycle by more than 30 % and by more than [`MIN_Z`] robust deviations, while
//!   those intervals are regular themselves, changed its polling cycle
//!   (`timing_anomaly`);
//! - a periodic stream with nothing for max(5 cycles + 5 s, twice its longest learnt
//!   gap, 30 s) went silent. It is reported when the device that answers or reports in
//!   it sent nothing at all for 30 s while its peer kept trying to reach it (requests
//!   or connection attempts after the device's last message): the loss of view that
//!   matters. A poller that stops, or one stream that stops while both devices carry
//!   on, is an HMI view closed or a reconfiguration as often as an attack: not judged.
//! - a request between two polls of a periodic request stream — the two intervals
//!   around it add up to one cycle, and one of them falls short of it by more than
//!   30 % and [`MIN_Z`] robust deviations — is an unscheduled extra message; the
//!   [`OFF_CYCLE_MIN`]th within [`OFF_CYCLE_WINDOW_US`] alerts (`timing_anomaly`):
//!   another program or host sends the poller's request between its polls. Jitter
//!   moves polls but keeps their count, so it never pairs up into a cycle. Streams that
//!   had such requests while learning (an operator refreshing a screen) are not judged
//!   for them.
//!
//! Keying on function and first target keeps several requests per poll apart; arrivals
//! within [`DUPLICATE_US`] of each other are one message (copies of a routed datagram
//! seen on two SPAN segments, retransmissions), and once the cycle is known, arrivals
//! within a tenth of it after a poll belong to that poll (repeated requests). Ports are
//! not in the key, so TCP reconnects keep the stream.
//!
//! Learning continues after the learning period, but intervals of a changed cycle are
//! not folded into the baseline: the change alerts once at its onset and the old cycle
//! stays the reference until the new one has lasted [`RELEARN_US`] (an hour of packet
//! time) or the operator accepts it. Gaps of an outage are never folded in either.

use crate::assets::AssetDirectory;
use crate::finding::{Category, Finding};
use crate::input::FlowOpen;
use crate::model::{Cx, Model};
use crate::models::evict::evict_eighth;
use crate::stats::Map;
use crate::text;
use dissect::Event;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::IpAddr;

/// Model name.
const NAME: &str = "timing";
/// Arrivals closer than this are one message.
const DUPLICATE_US: i64 = 2_000;
/// Once the cycle is known, arrivals within this fraction of it after a poll belong to
/// that poll (retries and repeated requests of one cycle).
const BURST_FRACTION: f64 = 0.1;
/// Intervals in the recent window judged against the learnt cycle.
const RECENT: usize = 20;
/// Intervals in the baseline window.
const BASE: usize = 96;
/// Intervals before a stream's cycle is trusted.
const MIN_BASE: usize = 20;
/// A stream is trusted only after this long: a burst of reads by an operator's tool
/// is not a cycle.
const MIN_SETTLE_US: i64 = 300 * 1_000_000;
/// A stream is periodic when its MAD is at most this fraction of its median.
const MAX_SPREAD: f64 = 0.1;
/// The recent intervals form a cycle when their MAD is at most this fraction of their
/// median.
const MAX_RECENT_SPREAD: f64 = 0.25;
/// A changed cycle departs from the learnt one by more than this fraction ...
const MIN_REL_CHANGE: f64 = 0.3;
/// ... and by more than this many robust standard deviations.
const MIN_Z: f64 = 10.0;
/// Silence is judged after at least this many seconds.
const SILENCE_FLOOR_S: f64 = 30.0;
/// Silence is judged after this many cycles ...
const SILENCE_CYCLES: f64 = 5.0;
/// ... plus this many seconds.
const SILENCE_SLACK_S: f64 = 5.0;
/// Extra requests between polls within [`OFF_CYCLE_WINDOW_US`] before they alert: a
/// single one is as often an operator's refresh as anything else.
const OFF_CYCLE_MIN: u32 = 2;
/// Window in which extra requests are counted.
const OFF_CYCLE_WINDOW_US: i64 = 600 * 1_000_000;
/// Two intervals around an extra request add up to the cycle within this fraction of
/// it (or [`MIN_Z`]/2 robust deviations, when larger).
const PAIR_TOLERANCE: f64 = 0.1;
/// A changed cycle that lasts this long becomes the baseline.
const RELEARN_US: i64 = 3_600 * 1_000_000;
/// A pause in all input longer than this blinds the model: silence is measured from
/// the end of the pause.
const INPUT_PAUSE_US: i64 = 10 * 1_000_000;
/// Most streams kept.
const MAX_CHANNELS: usize = 4_096;
/// Most senders whose last message time is kept, and most (asker, device) pairs.
const MAX_SENDERS: usize = 8_192;

/// A message stream: fixed-size, so look-ups allocate nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
struct Key {
    sender: IpAddr,
    receiver: IpAddr,
    /// FNV-1a of protocol and first target's address space.
    kind: u64,
    function: u32,
    start: u64,
    response: bool,
}

/// What one stream learnt.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Channel {
    /// Names as the dissector gave them (static or interned: a new stream copies no
    /// text).
    protocol: Cow<'static, str>,
    function_name: Cow<'static, str>,
    /// First target's address space (empty without targets).
    space: Cow<'static, str>,
    first_us: i64,
    /// Start of the last poll (first message of its burst).
    last_us: i64,
    /// Last message.
    seen_us: i64,
    messages: u64,
    /// Last intervals, seconds.
    recent: VecDeque<f32>,
    /// Baseline intervals, seconds.
    base: VecDeque<f32>,
    /// Median, MAD and maximum of `base`, refreshed every few intervals.
    cycle: f64,
    mad: f64,
    longest: f64,
    since_fit: u32,
    /// When the current cycle change began.
    changed_us: Option<i64>,
    /// Silence reported (or seen while learning) and not yet ended.
    silent: bool,
    /// Requests off the cycle were seen while learning (or accepted): they are normal
    /// for this stream.
    #[serde(default)]
    off_cycle_normal: bool,
    /// Extra requests between polls in the current window, and when it began.
    #[serde(default)]
    off_cycle: u32,
    #[serde(default)]
    off_cycle_since_us: i64,
}

impl Channel {
    fn new(event: &Event, now: i64) -> Self {
        Self {
            protocol: Cow::Borrowed(event.protocol),
            function_name: event.function_name.clone(),
            space: event
                .targets
                .first()
                .map_or(Cow::Borrowed(""), |t| t.space.clone()),
            first_us: now,
            last_us: now,
            seen_us: now,
            messages: 1,
            recent: VecDeque::with_capacity(RECENT),
            // Sized once: growing to the full window would reallocate several times.
            base: VecDeque::with_capacity(BASE),
            cycle: 0.0,
            mad: 0.0,
            longest: 0.0,
            since_fit: 0,
            changed_us: None,
            silent: false,
            off_cycle_normal: false,
            off_cycle: 0,
            off_cycle_since_us: 0,
        }
    }

    fn periodic(&self) -> bool {
        self.base.len() >= MIN_BASE
            && self.last_us - self.first_us >= MIN_SETTLE_US
            && self.cycle > 0.0
            && self.mad <= MAX_SPREAD * self.cycle
    }

    /// Robust standard deviation of the cycle, floored so a perfect cycle still
    /// tolerates clock noise.
    fn sigma(&self) -> f64 {
        (1.4826 * self.mad).max(0.01 * self.cycle).max(0.001)
    }

    /// How much sooner than the cycle a message may come and still be on schedule:
    /// the margin a changed cycle must exceed too.
    fn early_margin(&self) -> f64 {
        (MIN_REL_CHANGE * self.cycle).max(MIN_Z * self.sigma())
    }

    fn silence_after(&self) -> f64 {
        (SILENCE_CYCLES * self.cycle + SILENCE_SLACK_S)
            .max(2.0 * self.longest)
            .max(SILENCE_FLOOR_S)
    }

    fn fold(&mut self, gap: f32) {
        if self.base.len() == BASE {
            self.base.pop_front();
        }
        self.base.push_back(gap);
        self.since_fit += 1;
        // The cycle is read only once the baseline is long enough to be trusted: fit
        // when it gets there, then every few intervals.
        let n = self.base.len();
        if n == MIN_BASE || (n > MIN_BASE && self.since_fit >= 8) {
            self.fit();
        }
    }

    fn fit(&mut self) {
        self.since_fit = 0;
        let mut buf = [0f32; BASE];
        let n = self.base.len().min(BASE);
        for (slot, v) in buf.iter_mut().zip(self.base.iter()) {
            *slot = *v;
        }
        let (cycle, mad) = median_mad(&mut buf[..n]);
        self.cycle = cycle;
        self.mad = mad;
        self.longest = self.base.iter().fold(0f32, |m, v| m.max(*v)) as f64;
    }

    /// "Modbus read_holding_registers (function 3, holding_register 0)".
    fn what(&self, start: u64, function: u32) -> String {
        if self.space.is_empty() {
            format!(
                "{} {} (function {function})",
                self.protocol, self.function_name
            )
        } else {
            format!(
                "{} {} (function {function}, {} {start})",
                self.protocol, self.function_name, self.space
            )
        }
    }

    /// "every 1.00 s ± 10 ms".
    fn every(&self) -> String {
        format!("every {} ± {}", seconds(self.cycle), seconds(self.sigma()))
    }

    fn history(&self) -> String {
        text::span((self.last_us - self.first_us).max(0) as f64 / 1e6)
    }
}

/// Median and MAD of `values` (reordered), in seconds.
pub(crate) fn median_mad(values: &mut [f32]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let mid = values.len() / 2;
    let median = *values.select_nth_unstable_by(mid, f32::total_cmp).1;
    for v in values.iter_mut() {
        *v = (*v - median).abs();
    }
    let mad = *values.select_nth_unstable_by(mid, f32::total_cmp).1;
    (median as f64, mad as f64)
}

/// A duration of a cycle: `2 ms`, `0.20 s`, `5.0 s`, `60 s`.
pub(crate) fn seconds(s: f64) -> String {
    if s < 0.1 {
        format!("{:.0} ms", s * 1e3)
    } else if s < 2.0 {
        format!("{s:.2} s")
    } else if s < 20.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}

/// FNV-1a over the protocol and address-space names.
fn kind_hash(protocol: &str, space: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in protocol.bytes().chain([0u8]).chain(space.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The timing model.
#[derive(Debug, Default)]
pub struct Timing {
    channels: Map<Key, Channel>,
    /// Last time each address sent any message.
    senders: Map<IpAddr, i64>,
    /// Last time an asker sent a request to, or opened a connection to, a device.
    asks: Map<(IpAddr, IpAddr), i64>,
    /// Silence is measured from here at the earliest (end of the last input pause).
    watch_from_us: i64,
    /// Packet time of the next silence scan (not saved: a restart scans at once).
    next_scan_us: i64,
    last_tick_us: i64,
    channels_evicted: u64,
    senders_evicted: u64,
    asks_evicted: u64,
}

/// State as saved (JSON maps need string keys).
#[derive(Serialize, Deserialize)]
struct Saved {
    channels: Vec<(Key, Channel)>,
    senders: Vec<(IpAddr, i64)>,
    asks: Vec<((IpAddr, IpAddr), i64)>,
    watch_from_us: i64,
    last_tick_us: i64,
    channels_evicted: u64,
    senders_evicted: u64,
    asks_evicted: u64,
}

impl Timing {
    /// A model with nothing learnt.
    pub fn new() -> Self {
        Self::default()
    }

    fn note_sender(&mut self, ip: IpAddr, now: i64) {
        if let Some(last) = self.senders.get_mut(&ip) {
            *last = (*last).max(now);
            return;
        }
        if self.senders.len() >= MAX_SENDERS {
            self.senders_evicted += evict_eighth(&mut self.senders, |t| *t);
        }
        self.senders.insert(ip, now);
    }

    fn note_ask(&mut self, asker: IpAddr, device: IpAddr, now: i64) {
        if let Some(last) = self.asks.get_mut(&(asker, device)) {
            *last = (*last).max(now);
            return;
        }
        if self.asks.len() >= MAX_SENDERS {
            self.asks_evicted += evict_eighth(&mut self.asks, |t| *t);
        }
        self.asks.insert((asker, device), now);
    }

    /// A request `gap` seconds after the previous one. With the interval before it, it
    /// makes up one cycle while one of the two is far too short for the cycle: the
    /// request before this one was an extra, sent between two polls.
    fn judge_schedule(ch: &mut Channel, key: &Key, gap: f64, cx: &mut Cx<'_>) {
        if ch.off_cycle_normal || !ch.periodic() {
            return;
        }
        let Some(&before) = ch.recent.back() else {
            return;
        };
        let before = f64::from(before);
        let short = before.min(gap) < ch.cycle - ch.early_margin();
        let tolerance = (PAIR_TOLERANCE * ch.cycle).max(MIN_Z / 2.0 * ch.sigma());
        if !short || (before + gap - ch.cycle).abs() > tolerance {
            return;
        }
        if cx.learning {
            ch.off_cycle_normal = true;
            return;
        }
        let now = cx.now.micros();
        if now - ch.off_cycle_since_us > OFF_CYCLE_WINDOW_US {
            ch.off_cycle = 0;
            ch.off_cycle_since_us = now;
        }
        ch.off_cycle += 1;
        if ch.off_cycle >= OFF_CYCLE_MIN {
            cx.report(off_cycle_finding(ch, key, before, gap, cx));
        }
    }

    fn judge_cycle(ch: &mut Channel, key: &Key, cx: &mut Cx<'_>) {
        if !ch.periodic() || ch.recent.len() < RECENT {
            return;
        }
        let now = cx.now.micros();
        let mut buf = [0f32; RECENT];
        for (slot, v) in buf.iter_mut().zip(ch.recent.iter()) {
            *slot = *v;
        }
        let (recent, recent_mad) = median_mad(&mut buf);
        let diff = (recent - ch.cycle).abs();
        let z = diff / ch.sigma();
        // A new cycle must be a cycle: a stream that turned irregular (a client
        // re-subscribing, an operator browsing) has no rate to compare.
        let regular = recent_mad <= MAX_RECENT_SPREAD * recent;
        let changed = diff > MIN_REL_CHANGE * ch.cycle && z > MIN_Z && regular;
        match (changed, ch.changed_us) {
            (true, None) => {
                ch.changed_us = Some(now);
                cx.report(cycle_finding(ch, key, recent, z, cx));
            }
            (true, Some(since)) if now - since > RELEARN_US => {
                ch.base = ch.recent.clone();
                ch.fit();
                ch.changed_us = None;
            }
            (false, Some(_)) => ch.changed_us = None,
            _ => {}
        }
    }
}

fn off_cycle_finding(ch: &Channel, key: &Key, before: f64, gap: f64, cx: &Cx<'_>) -> Finding {
    let fuse_key = format!(
        "offcycle:{}:{}:{}:{}",
        ch.protocol, key.function, ch.space, key.start
    );
    let z = (ch.cycle - before.min(gap)) / ch.sigma();
    let settled = ch.messages as f64 / (ch.messages as f64 + MIN_BASE as f64);
    let score = settled * (1.0 - (-z / MIN_Z).exp());
    let mut finding = Finding::new(cx.now, Category::TimingAnomaly, NAME, score, "", "")
        .between(Some(key.sender), Some(key.receiver), None)
        .protocol(ch.protocol.clone());
    if cx.fuses(Category::TimingAnomaly, Some(key.sender), &fuse_key) {
        return finding.fuse_key(fuse_key);
    }
    let client = cx.assets.label(key.sender);
    let server = cx.assets.label(key.receiver);
    finding.title = format!(
        "Extra requests from {} to {} between its {} polls",
        key.sender,
        key.receiver,
        seconds(ch.cycle)
    );
    finding.explanation = format!(
        "{client} sent {} to {server} between two of its polls: {} after one and {} \
         before the next, against a learnt cycle of {}: {} such requests within {}, where {} of polling \
         ({} requests) had none. Another program or host may be sending the poller's \
         request.",
        ch.what(key.start, key.function),
        seconds(before),
        seconds(gap),
        ch.every(),
        ch.off_cycle,
        text::span((cx.now.micros() - ch.off_cycle_since_us).max(0) as f64 / 1e6),
        ch.history(),
        text::thousands(ch.messages),
    );
    finding.fuse_key(fuse_key)
}

fn cycle_finding(ch: &Channel, key: &Key, recent: f64, z: f64, cx: &Cx<'_>) -> Finding {
    let client = cx.assets.label(key.sender);
    let server = cx.assets.label(key.receiver);
    let settled = ch.messages as f64 / (ch.messages as f64 + MIN_BASE as f64);
    let score = settled * (1.0 - (-z / MIN_Z).exp());
    let title = format!(
        "Polling cycle of {} by {} changed from {} to {}",
        key.receiver,
        key.sender,
        seconds(ch.cycle),
        seconds(recent)
    );
    let explanation = format!(
        "Polling of {server} by {client} with {} changed from {} to every {} \
         (median of the last {RECENT} requests, {z:.0} deviations from the learnt cycle). \
         The cycle had been steady for {} ({} requests).",
        ch.what(key.start, key.function),
        ch.every(),
        seconds(recent),
        ch.history(),
        text::thousands(ch.messages),
    );
    Finding::new(
        cx.now,
        Category::TimingAnomaly,
        NAME,
        score,
        title,
        explanation,
    )
    .between(Some(key.sender), Some(key.receiver), None)
    .protocol(ch.protocol.clone())
    .fuse_key(format!(
        "cycle:{}:{}:{}:{}",
        ch.protocol, key.function, ch.space, key.start
    ))
}

impl Model for Timing {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, event: &Event) {
        let (Some(sender), Some(receiver)) = (event.src_ip, event.dst_ip) else {
            return;
        };
        let now = cx.now.micros();
        self.note_sender(sender, now);
        if !event.is_response {
            self.note_ask(sender, receiver, now);
        }
        let (space, start) = event
            .targets
            .first()
            .map_or(("", 0), |t| (&*t.space, t.start));
        let key = Key {
            sender,
            receiver,
            kind: kind_hash(event.protocol, space),
            function: event.function,
            start,
            response: event.is_response,
        };
        let Some(ch) = self.channels.get_mut(&key) else {
            if self.channels.len() >= MAX_CHANNELS {
                self.channels_evicted += evict_eighth(&mut self.channels, |c| c.last_us);
            }
            self.channels.insert(key, Channel::new(event, now));
            return;
        };
        let gap_us = now - ch.last_us;
        let burst_us = if ch.periodic() {
            DUPLICATE_US.max((BURST_FRACTION * ch.cycle * 1e6) as i64)
        } else {
            DUPLICATE_US
        };
        ch.seen_us = ch.seen_us.max(now);
        if gap_us < burst_us {
            return;
        }
        let outage = ch.silent || (ch.periodic() && gap_us as f64 / 1e6 > ch.silence_after());
        ch.last_us = now;
        ch.messages += 1;
        ch.silent = false;
        let gap = (gap_us as f64 / 1e6) as f32;
        if !event.is_response && !outage && ch.changed_us.is_none() {
            Self::judge_schedule(ch, &key, gap_us as f64 / 1e6, cx);
        }
        if ch.recent.len() == RECENT {
            ch.recent.pop_front();
        }
        ch.recent.push_back(gap);
        if !outage && (cx.learning || ch.changed_us.is_none()) {
            ch.fold(gap);
        }
        if !event.is_response && !cx.learning {
            Self::judge_cycle(ch, &key, cx);
        }
    }

    fn on_flow_open(&mut self, cx: &mut Cx<'_>, flow: &FlowOpen) {
        self.note_ask(flow.client_ip, flow.server_ip, cx.now.micros());
    }

    fn tick(&mut self, cx: &mut Cx<'_>) {
        let now = cx.now.micros();
        if now - self.last_tick_us > INPUT_PAUSE_US {
            self.watch_from_us = now;
        }
        self.last_tick_us = now;
        // Scanning every stream each second costs in proportion to the streams; on a
        // large network scan less often (one pass per 250 streams per second), which
        // delays a silence verdict by at most that much.
        let every_us = (self.channels.len() as i64 / 250).max(1) * 1_000_000;
        if now < self.next_scan_us {
            return;
        }
        self.next_scan_us = now + every_us;
        let mut found = Vec::new();
        for (key, ch) in &self.channels {
            if ch.silent || !ch.periodic() {
                continue;
            }
            let idle = (now - ch.seen_us.max(self.watch_from_us)) as f64 / 1e6;
            if idle > ch.silence_after() {
                found.push((*key, idle));
            }
        }
        // Map order must not decide which stream explains a fused alert.
        found.sort_by_key(|(key, _)| *key);
        // The device of a stream went silent when it sent nothing at all for the
        // silence floor while its asker kept trying to reach it.
        let quiet_before = now - (SILENCE_FLOOR_S * 1e6) as i64;
        for (key, _) in found {
            let (asker, device) = if key.response {
                (key.receiver, key.sender)
            } else {
                (key.sender, key.receiver)
            };
            let device_last = self.senders.get(&device).copied();
            let asked = self.asks.get(&(asker, device)).copied();
            let lost = match (device_last, asked) {
                (Some(last), Some(asked)) => last <= quiet_before && asked > last,
                _ => false,
            };
            let Some(ch) = self.channels.get_mut(&key) else {
                continue;
            };
            ch.silent = true;
            if lost && !cx.learning {
                let quiet = (now - device_last.unwrap_or(now).max(self.watch_from_us)) as f64 / 1e6;
                let finding = silence_finding(ch, &key, asker, device, quiet, cx);
                cx.report(finding);
            }
        }
    }

    fn save(&self) -> serde_json::Value {
        let mut channels: Vec<(Key, Channel)> =
            self.channels.iter().map(|(k, c)| (*k, c.clone())).collect();
        channels.sort_by_key(|(k, _)| *k);
        let mut senders: Vec<(IpAddr, i64)> = self.senders.iter().map(|(k, v)| (*k, *v)).collect();
        senders.sort();
        let mut asks: Vec<_> = self.asks.iter().map(|(k, v)| (*k, *v)).collect();
        asks.sort();
        serde_json::to_value(Saved {
            channels,
            senders,
            asks,
            watch_from_us: self.watch_from_us,
            last_tick_us: self.last_tick_us,
            channels_evicted: self.channels_evicted,
            senders_evicted: self.senders_evicted,
            asks_evicted: self.asks_evicted,
        })
        .unwrap_or_default()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        let saved: Saved = serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.channels = saved
            .channels
            .into_iter()
            .take(MAX_CHANNELS)
            .map(|(k, mut c)| {
                c.recent.truncate(RECENT);
                c.base.truncate(BASE);
                (k, c)
            })
            .collect();
        self.senders = saved.senders.into_iter().take(MAX_SENDERS).collect();
        self.watch_from_us = saved.watch_from_us;
        self.last_tick_us = saved.last_tick_us;
        self.channels_evicted = saved.channels_evicted;
        self.senders_evicted = saved.senders_evicted;
        self.asks = saved.asks.into_iter().take(MAX_SENDERS).collect();
        self.asks_evicted = saved.asks_evicted;
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        let mut lines: Vec<(Key, String)> = self
            .channels
            .iter()
            .filter(|(k, c)| c.periodic() && ip.is_none_or(|ip| k.sender == ip || k.receiver == ip))
            .map(|(k, c)| {
                let state = if c.changed_us.is_some() {
                    "cycle currently changed"
                } else {
                    "settled"
                };
                let line = if k.response {
                    format!(
                        "{} sends {} to {} {} (learning for {}, {} messages, {state})",
                        assets.label(k.sender),
                        c.what(k.start, k.function),
                        assets.label(k.receiver),
                        c.every(),
                        c.history(),
                        text::thousands(c.messages),
                    )
                } else {
                    format!(
                        "{} is polled by {} {} with {} (learning for {}, {} requests, {state})",
                        assets.label(k.receiver),
                        assets.label(k.sender),
                        c.every(),
                        c.what(k.start, k.function),
                        c.history(),
                        text::thousands(c.messages),
                    )
                };
                (*k, line)
            })
            .collect();
        lines.sort();
        out.extend(lines.into_iter().map(|(_, l)| l));
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        match ip {
            None => *self = Self::default(),
            Some(ip) => {
                self.channels
                    .retain(|k, _| k.sender != ip && k.receiver != ip);
                self.senders.remove(&ip);
                self.asks.retain(|(a, d), _| *a != ip && *d != ip);
            }
        }
    }

    fn accept(&mut self, finding: &Finding) {
        if finding.model != NAME {
            return;
        }
        let (Some(src), dst) = (finding.src_ip, finding.dst_ip) else {
            return;
        };
        if finding.fuse_key.starts_with("offcycle:") {
            // Requests off the cycle are normal for the stream from now on.
            for (_, c) in self
                .channels
                .iter_mut()
                .filter(|(k, _)| k.sender == src && Some(k.receiver) == dst && !k.response)
            {
                c.off_cycle_normal = true;
            }
        } else if finding.fuse_key.starts_with("cycle:") {
            // The new cycle becomes the baseline.
            for (_, c) in self.channels.iter_mut().filter(|(k, c)| {
                k.sender == src && Some(k.receiver) == dst && c.changed_us.is_some()
            }) {
                c.base = c.recent.clone();
                c.fit();
                c.changed_us = None;
            }
        } else {
            // Streams that stop are not taken for periodic any more: learn them afresh.
            self.channels
                .retain(|k, c| !(c.silent && (k.sender == src || k.receiver == src)));
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("channels", self.channels.len() as u64),
            ("channels_evicted", self.channels_evicted),
            ("senders", self.senders.len() as u64),
            ("senders_evicted", self.senders_evicted),
            ("asks", self.asks.len() as u64),
            ("asks_evicted", self.asks_evicted),
        ]
    }
}

fn silence_finding(
    ch: &Channel,
    key: &Key,
    asker: IpAddr,
    device: IpAddr,
    quiet: f64,
    cx: &Cx<'_>,
) -> Finding {
    let settled = ch.messages as f64 / (ch.messages as f64 + MIN_BASE as f64);
    let score = settled * (1.0 - ch.longest / quiet).clamp(0.0, 1.0);
    let device_label = cx.assets.label(device);
    let asker_label = cx.assets.label(asker);
    let what = ch.what(key.start, key.function);
    let history = format!(
        "{} for {} ({} messages, longest gap {})",
        ch.every(),
        ch.history(),
        text::thousands(ch.messages),
        seconds(ch.longest)
    );
    let before = if key.response {
        format!("It had sent {what} to {asker_label} {history}.")
    } else {
        format!("{asker_label} had polled it with {what} {history}.")
    };
    let explanation = format!(
        "{device_label} went silent: nothing from it for {}, while {asker_label} kept \
         trying to reach it. {before}",
        seconds(quiet)
    );
    Finding::new(
        cx.now,
        Category::TimingAnomaly,
        NAME,
        score,
        format!("{device} went silent"),
        explanation,
    )
    .between(Some(device), Some(asker), None)
    .protocol(ch.protocol.clone())
    .fuse_key("silent")
}

#[cfg(test)]
mod tests {
    use super::*;
    use dissect::OpClass;
    use records::Timestamp;

    const HMI: &str = "10.10.2.10";
    const PLC: &str = "10.10.1.11";
    const S: i64 = 1_000_000;

    fn request(ts: i64) -> Event {
        let mut e = Event::new("modbus", OpClass::Read, 3, "read_holding_registers", false);
        e.ts = Timestamp(ts);
        e.src_ip = HMI.parse().ok();
        e.dst_ip = PLC.parse().ok();
        e.target("holding_register", 0, 10);
        e
    }

    fn report(ts: i64) -> Event {
        let mut e = Event::new(
            "iec104",
            OpClass::Read,
            13,
            "measured_value_short_float",
            true,
        );
        e.ts = Timestamp(ts);
        e.src_ip = "10.10.1.13".parse().ok();
        e.dst_ip = HMI.parse().ok();
        e.target("ioa", 1000, 1);
        e
    }

    /// The HMI tries to connect to the RTU.
    fn attempt(model: &mut Timing, ts: i64) {
        let assets = AssetDirectory::default();
        let mut findings = Vec::new();
        let mut cx = Cx::new(Timestamp(ts), false, &assets, &mut findings);
        let flow = FlowOpen {
            id: 1,
            ts: Timestamp(ts),
            transport: records::TransportKind::Tcp,
            client_ip: HMI.parse().unwrap(),
            client_port: 40_000,
            client_mac: None,
            server_ip: "10.10.1.13".parse().unwrap(),
            server_port: 2404,
            server_mac: None,
            to_group: false,
        };
        model.on_flow_open(&mut cx, &flow);
        assert!(findings.is_empty());
    }

    /// Feeds an event (and a tick, as the engine does) and returns the findings.
    fn feed(model: &mut Timing, event: Option<&Event>, now: i64, learning: bool) -> Vec<Finding> {
        let assets = AssetDirectory::default();
        let mut findings = Vec::new();
        let mut cx = Cx::new(Timestamp(now), learning, &assets, &mut findings);
        model.tick(&mut cx);
        if let Some(e) = event {
            model.on_event(&mut cx, e);
        }
        findings
    }

    /// 30 minutes of polling every second (with ±10 ms jitter), learning.
    fn learnt() -> Timing {
        let mut model = Timing::new();
        for i in 0..1800 {
            let jitter = [0, 10_000, -10_000][i as usize % 3];
            assert!(feed(&mut model, Some(&request(i * S + jitter)), i * S, true).is_empty());
        }
        model
    }

    #[test]
    fn a_faster_polling_cycle_alerts_once_with_the_numbers() {
        let mut model = learnt();
        let start = 1800 * S;
        let mut found = Vec::new();
        for i in 0..100 {
            let ts = start + i * S / 5;
            found.extend(feed(&mut model, Some(&request(ts)), ts, false));
        }
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!(f.category, Category::TimingAnomaly);
        assert_eq!(
            f.title,
            "Polling cycle of 10.10.1.11 by 10.10.2.10 changed from 1.00 s to 0.20 s"
        );
        assert_eq!(
            f.explanation,
            "Polling of 10.10.1.11 by 10.10.2.10 with modbus read_holding_registers \
             (function 3, holding_register 0) changed from every 1.00 s ± 10 ms to every \
             0.20 s (median of the last 20 requests, 80 deviations from the learnt cycle). \
             The cycle had been steady for 30 min (1,812 requests)."
        );
        // Eleven of the last twenty intervals had to be fast: a sustained change.
        assert_eq!(f.ts, Timestamp(start + 11 * S / 5));
        assert!(f.score > 0.98, "{}", f.score);
        assert_eq!(f.src_ip, HMI.parse().ok());
        assert_eq!(f.dst_ip, PLC.parse().ok());
        // Back to the learnt cycle: no finding, and the old cycle is still the baseline.
        let back = start + 100 * S / 5;
        for i in 0..30 {
            let ts = back + i * S;
            assert!(feed(&mut model, Some(&request(ts)), ts, false).is_empty());
        }
        let mut lines = Vec::new();
        model.baseline(PLC.parse().ok(), &AssetDirectory::default(), &mut lines);
        assert_eq!(
            lines,
            vec![
                "10.10.1.11 is polled by 10.10.2.10 every 1.00 s ± 10 ms with modbus \
                  read_holding_registers (function 3, holding_register 0) (learning for 31 min, \
                  1,930 requests, settled)"
            ]
        );
    }

    /// Polls every second from `start` for `n` seconds, with an extra request 0.4 s after
    /// the polls at the given seconds; returns the findings.
    fn polls_with_extras(
        model: &mut Timing,
        start: i64,
        n: i64,
        extras: &[i64],
        learning: bool,
    ) -> Vec<Finding> {
        let mut found = Vec::new();
        for i in 0..n {
            let ts = start + i * S;
            found.extend(feed(model, Some(&request(ts)), ts, learning));
            if extras.contains(&i) {
                let t = ts + 400_000;
                found.extend(feed(model, Some(&request(t)), t, learning));
            }
        }
        found
    }

    #[test]
    fn extra_requests_between_polls_alert_from_the_second() {
        let mut model = learnt();
        let start = 1800 * S;
        let found = polls_with_extras(&mut model, start, 60, &[10, 30], false);
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!(f.category, Category::TimingAnomaly);
        // Reported with the poll after the second extra, which closes the pair of
        // intervals (0.40 s + 0.60 s) around it.
        assert_eq!(f.ts, Timestamp(start + 31 * S));
        assert_eq!(
            f.title,
            "Extra requests from 10.10.2.10 to 10.10.1.11 between its 1.00 s polls"
        );
        assert_eq!(
            f.explanation,
            "10.10.2.10 sent modbus read_holding_registers (function 3, holding_register 0) \
             to 10.10.1.11 between two of its polls: 0.40 s after one and 0.60 s before the \
             next, against a learnt cycle of every 1.00 s ± 10 ms: 2 such requests within \
             20 s, where 31 min of polling (1,834 requests) had none. Another program or \
             host may be sending the poller's request."
        );
        assert_eq!(f.fuse_key, "offcycle:modbus:3:holding_register:0");
        assert!(f.score > 0.98, "{}", f.score);
        // An operator accepts it: extras are normal for the stream from then on.
        model.accept(f);
        assert!(polls_with_extras(&mut model, start + 60 * S, 60, &[5, 6, 7], false).is_empty());
    }

    #[test]
    fn extra_requests_seen_while_learning_are_normal() {
        let mut model = learnt();
        let start = 1800 * S;
        assert!(polls_with_extras(&mut model, start, 60, &[10], true).is_empty());
        assert!(polls_with_extras(&mut model, start + 60 * S, 60, &[5, 20, 40], false).is_empty());
        // Saved and restored, the stream keeps that.
        let mut restored = Timing::new();
        restored.restore(model.save()).unwrap();
        assert!(polls_with_extras(&mut restored, start + 120 * S, 60, &[5, 20], false).is_empty());
    }

    #[test]
    fn jitter_duplicates_and_reconnect_gaps_do_not_alert() {
        let mut model = learnt();
        let start = 1800 * S;
        for i in 0..600 {
            // Jitter of ±40 %, a copy of every request 100 µs later, and a 5 s
            // reconnect pause every 100 s.
            let jitter = [0, 400_000, -400_000, 0, 0][i as usize % 5];
            let pause = (i / 100) * 5 * S;
            let ts = start + i * S + jitter + pause;
            assert!(feed(&mut model, Some(&request(ts)), ts, false).is_empty());
            assert!(feed(&mut model, Some(&request(ts + 100)), ts + 100, false).is_empty());
        }
    }

    #[test]
    fn repeated_requests_within_a_poll_are_one_poll() {
        let mut model = learnt();
        // From now on every other poll is sent three times, 40 ms apart.
        for i in 1800..2400 {
            let ts = i * S;
            for k in 0..if i % 2 == 0 { 3 } else { 1 } {
                let t = ts + k * 40_000;
                assert!(feed(&mut model, Some(&request(t)), t, false).is_empty());
            }
        }
    }

    #[test]
    fn a_cycle_that_turns_irregular_is_not_a_new_cycle() {
        let mut model = learnt();
        let mut ts = 1800 * S;
        for i in 0..200 {
            ts += [100_000, 600_000, 2_500_000, 20_000, 300_000][i % 5];
            assert!(feed(&mut model, Some(&request(ts)), ts, false).is_empty());
        }
    }

    #[test]
    fn irregular_streams_are_not_judged() {
        let mut model = Timing::new();
        let mut ts = 0;
        for i in 0..400 {
            ts += [100_000, 3 * S, 700_000, 12 * S][i % 4];
            assert!(feed(&mut model, Some(&request(ts)), ts, i < 200).is_empty());
        }
        for i in 1..120 {
            assert!(feed(&mut model, None, ts + i * S, false).is_empty());
        }
    }

    #[test]
    fn a_device_that_stops_reporting_went_silent_once() {
        let mut model = Timing::new();
        for i in 0..400 {
            let ts = i * 5 * S;
            assert!(feed(&mut model, Some(&report(ts)), ts, true).is_empty());
        }
        let last = 399 * 5 * S;
        let mut found = Vec::new();
        for i in 1..=120 {
            if i % 5 == 0 {
                attempt(&mut model, last + i * S);
            }
            found.extend(feed(&mut model, None, last + i * S, false));
        }
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!(f.title, "10.10.1.13 went silent");
        assert_eq!(
            f.explanation,
            "10.10.1.13 went silent: nothing from it for 31 s, while 10.10.2.10 kept trying \
             to reach it. It had sent iec104 measured_value_short_float (function 13, ioa \
             1000) to 10.10.2.10 every 5.0 s ± 50 ms for 33 min (400 messages, longest gap \
             5.0 s)."
        );
        assert_eq!(f.ts, Timestamp(last + 31 * S));
        assert_eq!(f.src_ip, "10.10.1.13".parse().ok());
        assert!((f.score - 0.79).abs() < 0.01, "{}", f.score);
        // It comes back: the outage gap is not learnt, and a second outage alerts again.
        let back = last + 121 * S;
        for i in 0..10 {
            let ts = back + i * 5 * S;
            assert!(feed(&mut model, Some(&report(ts)), ts, false).is_empty());
        }
        let mut again = Vec::new();
        for i in 1..=40 {
            attempt(&mut model, back + 45 * S + i * S);
            again.extend(feed(&mut model, None, back + 45 * S + i * S, false));
        }
        assert_eq!(again.len(), 1);
    }

    #[test]
    fn a_poller_that_stops_or_a_device_nobody_asks_is_not_judged() {
        let mut model = Timing::new();
        let answer = |ts: i64| {
            let mut e = request(ts);
            std::mem::swap(&mut e.src_ip, &mut e.dst_ip);
            e.is_response = true;
            e
        };
        for i in 0..100 {
            let ts = i * S;
            feed(&mut model, Some(&request(ts)), ts, true);
            feed(&mut model, Some(&answer(ts + 5_000)), ts + 5_000, true);
        }
        // The HMI stops polling: the PLC stops answering; nobody is trying.
        for i in 100..400 {
            assert!(feed(&mut model, None, i * S, false).is_empty());
        }
        // The RTU stops reporting while nobody tries to reach it.
        let mut model = Timing::new();
        for i in 0..400 {
            feed(&mut model, Some(&report(i * 5 * S)), i * 5 * S, true);
        }
        for i in 1..=120 {
            assert!(feed(&mut model, None, 1995 * S + i * S, false).is_empty());
        }
    }

    #[test]
    fn a_pause_in_all_input_is_not_silence() {
        let mut model = Timing::new();
        for i in 0..400 {
            let ts = i * 5 * S;
            feed(&mut model, Some(&report(ts)), ts, true);
        }
        // The sensor saw nothing for 10 min, then input resumes without the RTU.
        let resume = 399 * 5 * S + 600 * S;
        for i in 0..25 {
            assert!(feed(&mut model, None, resume + i * S, false).is_empty());
        }
    }

    #[test]
    fn saves_restores_accepts_and_forgets() {
        let mut model = learnt();
        let start = 1800 * S;
        let mut found = Vec::new();
        for i in 0..40 {
            let ts = start + i * S / 5;
            found.extend(feed(&mut model, Some(&request(ts)), ts, false));
        }
        assert_eq!(found.len(), 1);
        let mut restored = Timing::new();
        restored.restore(model.save()).unwrap();
        assert_eq!(restored.save(), model.save());
        restored.accept(&found[0]);
        let mut lines = Vec::new();
        restored.baseline(None, &AssetDirectory::default(), &mut lines);
        assert!(lines[0].contains("every 0.20 s ± 2 ms"), "{lines:?}");
        restored.forget(PLC.parse().ok());
        assert_eq!(restored.counters()[0], ("channels", 0));
    }
}
