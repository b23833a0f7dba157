//! Values: the learnt range of every written or reported process point (server,
//! protocol, unit, address space, address), and values far outside it.
//!
//! A point keeps two distributions: values written to it (requests) and values it
//! reported (read responses, spontaneous reports). Each has min/max, mean and spread
//! (Welford), the largest step between consecutive values, how often it rose and fell,
//! and up to [`MAX_DISTINCT`] distinct values.
//!
//! The judgement scales the distance beyond the learnt range by the larger of the
//! range's width, three standard deviations and a tenth of the typical magnitude:
//! `z = excess / scale`. Writes alert from `z ≥ 2` once [`MIN_WRITES`] were learnt;
//! reports, noisier, from `z ≥ 3` once [`MIN_REPORTS`] spanning [`MIN_REPORT_SPAN`]
//! were learnt, and never for on/off or few-valued points or for counters and clocks
//! that only rise. Score: `z / (1 + z)` weighted by how much history backs the range.
//!
//! After learning, values less than one scale outside the range keep refining it;
//! values further out are never folded in (a sustained out-of-range setpoint keeps alerting) unless the
//! operator accepts the finding.

use super::points::{is_industrial, target_words, unit_words};
use crate::assets::AssetDirectory;
use crate::finding::{Category, Finding};
use crate::model::{Cx, Model};
use crate::models::evict::remove_oldest;
use crate::stats::Map;
use crate::stats::Welford;
use crate::text::{span, thousands};
use dissect::{Event, OpClass, PointValue};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::IpAddr;

/// Most points kept; when full the least recently seen eighth is evicted.
const MAX_POINTS: usize = 50_000;
/// Distinct values remembered per distribution (to tell on/off and enumerations).
pub const MAX_DISTINCT: usize = 8;
/// Writes learnt before a written value is judged.
pub const MIN_WRITES: u64 = 5;
/// Reports learnt before a reported value is judged.
pub const MIN_REPORTS: u64 = 200;
/// Time the learnt reports must span before they are judged (micros).
pub const MIN_REPORT_SPAN: i64 = 10 * 60 * 1_000_000;
/// Points seen fewer times than this are summed up in one baseline line.
const MIN_BASELINE_OBSERVATIONS: u64 = 5;
/// Margin (in scales) beyond the learnt range for a written value.
const WRITE_Z: f64 = 2.0;
/// Values closer than this (in scales) to the learnt range keep refining it after
/// learning.
const FOLD_Z: f64 = 1.0;
/// Margin (in scales) beyond the learnt range for a reported value.
const REPORT_Z: f64 = 3.0;
/// Fewer distinct reported values than this: an enumeration, not a measurement.
const MIN_DISTINCT_REPORTED: usize = 5;

/// The first [`MAX_DISTINCT`] distinct values of a distribution, kept inline so a
/// point costs no allocation; saved as a plain list.
#[derive(Clone, Copy, Debug, Default)]
struct Distinct {
    len: u8,
    slots: [f64; MAX_DISTINCT],
}

impl Distinct {
    fn values(&self) -> &[f64] {
        &self.slots[..usize::from(self.len)]
    }

    /// Remembers `v` if it is new and there is room.
    fn note(&mut self, v: f64) {
        let n = usize::from(self.len);
        if n < MAX_DISTINCT && !self.slots[..n].contains(&v) {
            self.slots[n] = v;
            self.len += 1;
        }
    }
}

impl Serialize for Distinct {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.values().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Distinct {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = Self::default();
        for v in Vec::<f64>::deserialize(d)? {
            out.note(v);
        }
        Ok(out)
    }
}

/// One distribution of a point's values.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Dist {
    n: u64,
    min: f64,
    max: f64,
    w: Welford,
    last: f64,
    ups: u64,
    downs: u64,
    max_step: f64,
    distinct: Distinct,
    first_us: i64,
    last_us: i64,
}

impl Dist {
    fn add(&mut self, v: f64, now: i64) {
        if self.n == 0 {
            self.min = v;
            self.max = v;
            self.first_us = now;
        } else {
            let step = v - self.last;
            if step > 0.0 {
                self.ups += 1;
            } else if step < 0.0 {
                self.downs += 1;
            }
            self.max_step = self.max_step.max(step.abs());
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.n += 1;
        self.w.add(v);
        self.last = v;
        self.last_us = now;
        self.distinct.note(v);
    }

    /// Only 0 and 1 ever: a flag.
    fn is_flag(&self) -> bool {
        self.distinct.values().iter().all(|&d| d == 0.0 || d == 1.0)
    }

    /// Rises (or falls) nearly always: a counter or a clock.
    fn is_monotonic(&self) -> bool {
        let moves = self.ups + self.downs;
        moves >= 10 && self.ups.min(self.downs) * 20 < moves
    }

    /// The distance unit: range width, three deviations or a tenth of the magnitude.
    fn scale(&self) -> f64 {
        let width = self.max - self.min;
        let magnitude = self.w.mean.abs().max(self.min.abs()).max(self.max.abs());
        width.max(3.0 * self.w.std()).max(0.1 * magnitude).max(1e-9)
    }

    /// How far `v` lies beyond the range, in scales (0 inside).
    fn z(&self, v: f64) -> (f64, f64) {
        let excess = (self.min - v).max(v - self.max).max(0.0);
        (excess, excess / self.scale())
    }

    fn describe(&self) -> String {
        if self.n == 1 {
            return format!("once, {}", num(self.min));
        }
        if self.min == self.max {
            return format!("{} times, always {}", thousands(self.n), num(self.min));
        }
        format!(
            "{} times with values {}–{} (mean {} ± {}, largest step {})",
            thousands(self.n),
            num(self.min),
            num(self.max),
            num(self.w.mean),
            num(self.w.std()),
            num(self.max_step)
        )
    }
}

/// One process point.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Point {
    server: IpAddr,
    /// Protocol and address space: the dissectors' static or interned names, so a new
    /// point copies no text.
    protocol: Cow<'static, str>,
    unit: Option<u32>,
    space: Cow<'static, str>,
    address: u64,
    written: Dist,
    reported: Dist,
    /// Last value judged out of range, folded in if the operator accepts it.
    rejected: Option<f64>,
    last_us: i64,
}

/// Look-up key: server, unit, address and a stable hash of protocol and space (no
/// allocation per value; the strings live in the [`Point`]).
type Key = (IpAddr, Option<u32>, u64, u64);

/// FNV-1a over protocol and space: stable across runs, so saved state restores.
fn tag(protocol: &str, space: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in protocol.bytes().chain([0u8]).chain(space.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `950`, `230.41`, `0.9453`.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let s = if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    };
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Saved state.
#[derive(Default, Serialize, Deserialize)]
struct State {
    points: Vec<Point>,
    evicted: u64,
}

/// The values model.
#[derive(Default)]
pub struct Values {
    points: Map<Key, Point>,
    evicted: u64,
}

impl Values {
    /// Nothing learnt.
    pub fn new() -> Self {
        Self::default()
    }

    fn evict_if_full(&mut self) {
        if self.points.len() >= MAX_POINTS {
            self.evicted += remove_oldest(&mut self.points, MAX_POINTS / 8, |p| p.last_us);
        }
    }
}

fn fuse_key(p: &Point) -> String {
    format!(
        "value {} {} {:?} {} {}",
        p.server, p.protocol, p.unit, p.space, p.address
    )
}

impl Model for Values {
    fn name(&self) -> &'static str {
        "values"
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, event: &Event) {
        if event.values.is_empty() || !is_industrial(event.protocol) {
            return;
        }
        // Writes are requests; reports are what reads return or devices push. Echoes of
        // writes and control commands carry no news about the process.
        let written = match (event.op, event.is_response) {
            (OpClass::Write, false) => true,
            (OpClass::Read, _) => false,
            _ => return,
        };
        let (server, client) = if event.is_response {
            (event.src_ip, event.dst_ip)
        } else {
            (event.dst_ip, event.src_ip)
        };
        let Some(server) = server else {
            return;
        };
        // Values of one message nearly always share one address space: hash it once.
        let mut space_tag: Option<(&str, u64)> = None;
        for pv in &event.values {
            if !pv.value.is_finite() {
                continue;
            }
            let hash = match space_tag {
                Some((space, hash)) if space == pv.space => hash,
                _ => {
                    let hash = tag(event.protocol, &pv.space);
                    space_tag = Some((&pv.space, hash));
                    hash
                }
            };
            let key = (server, event.unit, pv.address, hash);
            self.observe(cx, event, key, client, pv, written);
        }
    }

    fn save(&self) -> serde_json::Value {
        let mut points: Vec<Point> = self.points.values().cloned().collect();
        points.sort_by(|a, b| {
            (a.server, &a.protocol, a.unit, &a.space, a.address).cmp(&(
                b.server,
                &b.protocol,
                b.unit,
                &b.space,
                b.address,
            ))
        });
        serde_json::to_value(State {
            points,
            evicted: self.evicted,
        })
        .unwrap_or(serde_json::Value::Null)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        let state: State = serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.points = state
            .points
            .into_iter()
            .map(|p| ((p.server, p.unit, p.address, tag(&p.protocol, &p.space)), p))
            .collect();
        self.evicted = state.evicted;
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        let mut points: Vec<&Point> = self
            .points
            .values()
            .filter(|p| ip.is_none_or(|ip| p.server == ip))
            .collect();
        points.sort_by(|a, b| {
            (a.server, &a.protocol, a.unit, &a.space, a.address).cmp(&(
                b.server,
                &b.protocol,
                b.unit,
                &b.space,
                b.address,
            ))
        });
        let mut rare = 0;
        for p in points {
            if p.written.n + p.reported.n < MIN_BASELINE_OBSERVATIONS {
                rare += 1;
                continue;
            }
            let mut parts = Vec::new();
            if p.written.n > 0 {
                parts.push(format!("written {}", p.written.describe()));
            }
            if p.reported.n > 0 {
                let kind = if p.reported.is_monotonic() {
                    " (a counter or clock: only rises)"
                } else {
                    ""
                };
                parts.push(format!("reported {}{kind}", p.reported.describe()));
            }
            out.push(format!(
                "{} of {}{}: {}",
                target_words(&p.space, p.address, 1),
                assets.label(p.server),
                unit_words(&p.protocol, p.unit),
                parts.join("; ")
            ));
        }
        if rare > 0 {
            out.push(format!(
                "{} more points seen fewer than {MIN_BASELINE_OBSERVATIONS} times",
                thousands(rare)
            ));
        }
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        match ip {
            None => self.points.clear(),
            Some(ip) => self.points.retain(|_, p| p.server != ip),
        }
    }

    fn accept(&mut self, finding: &Finding) {
        // Accepted alerts come back as the operator's findings: match the fuse key.
        if finding.category != Category::ValueAnomaly {
            return;
        }
        for p in self.points.values_mut() {
            if fuse_key(p) != finding.fuse_key {
                continue;
            }
            if let Some(v) = p.rejected.take() {
                let dist = if finding.title.starts_with("Out-of-range write") {
                    &mut p.written
                } else {
                    &mut p.reported
                };
                dist.add(v, p.last_us);
            }
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("points", self.points.len() as u64),
            ("points_evicted", self.evicted),
        ]
    }
}

impl Values {
    fn observe(
        &mut self,
        cx: &mut Cx<'_>,
        event: &Event,
        key: Key,
        client: Option<IpAddr>,
        pv: &PointValue,
        written: bool,
    ) {
        // One look-up for a known point; the eviction check only when the map is full.
        if self.points.len() >= MAX_POINTS && !self.points.contains_key(&key) {
            self.evict_if_full();
        }
        let point = self.points.entry(key).or_insert_with(|| Point {
            server: key.0,
            protocol: Cow::Borrowed(event.protocol),
            unit: event.unit,
            space: pv.space.clone(),
            address: pv.address,
            written: Dist::default(),
            reported: Dist::default(),
            rejected: None,
            last_us: 0,
        });
        let now = cx.now.micros();
        point.last_us = now;
        let v = pv.value;
        let dist = if written {
            &point.written
        } else {
            &point.reported
        };
        if !cx.learning {
            if let Some((excess, z)) = judge(dist, v, written) {
                point.rejected = Some(v);
                let f = finding(cx, event, point, client, v, excess, z, written);
                cx.report(f);
                return;
            }
            // Between the learnt range and the alert margin: neither news nor baseline,
            // so a slow creep cannot drag the range along.
            if dist.n > 0 && dist.z(v).1 >= FOLD_Z {
                return;
            }
        }
        let dist = if written {
            &mut point.written
        } else {
            &mut point.reported
        };
        dist.add(v, now);
    }
}

/// `Some((excess, z))` when `v` is far enough outside the settled distribution.
fn judge(d: &Dist, v: f64, written: bool) -> Option<(f64, f64)> {
    // Flags, and points only ever zero (no scale to measure a distance with), are
    // commands or states: their new values are operations, not magnitudes.
    if (d.is_flag() && (v == 0.0 || v == 1.0)) || d.scale() <= 1e-9 {
        return None;
    }
    let threshold = if written {
        if d.n < MIN_WRITES {
            return None;
        }
        WRITE_Z
    } else {
        if d.n < MIN_REPORTS
            || d.last_us - d.first_us < MIN_REPORT_SPAN
            || d.distinct.values().len() < MIN_DISTINCT_REPORTED
            || d.is_monotonic()
        {
            return None;
        }
        REPORT_Z
    };
    let (excess, z) = d.z(v);
    (z >= threshold).then_some((excess, z))
}

#[allow(clippy::too_many_arguments)]
fn finding(
    cx: &Cx<'_>,
    event: &Event,
    p: &Point,
    client: Option<IpAddr>,
    v: f64,
    excess: f64,
    z: f64,
    written: bool,
) -> Finding {
    let a = cx.assets;
    let d = if written { &p.written } else { &p.reported };
    let point = target_words(&p.space, p.address, 1);
    let device = format!("{}{}", a.label(p.server), unit_words(&p.protocol, p.unit));
    let side = if v > d.max {
        "above the highest"
    } else {
        "below the lowest"
    };
    let lead = match (written, client) {
        (true, Some(c)) => format!("{} wrote {} to {point} of {device}", a.label(c), num(v)),
        (true, None) => format!("{} was written to {point} of {device}", num(v)),
        (false, _) => format!("{device} reported {} for {point}", num(v)),
    };
    let verb = if written { "written" } else { "reported" };
    let explanation = format!(
        "{lead}; in {} it was {verb} {}. {} is {} {side} value learnt ({:.1}× the learnt spread of {}).",
        span((d.last_us - d.first_us) as f64 / 1e6),
        d.describe(),
        num(v),
        num(excess),
        z,
        num(d.scale()),
    );
    let title = if written {
        format!("Out-of-range write: {} to {point} of {}", num(v), p.server)
    } else {
        format!("Out-of-range value: {} for {point} of {}", num(v), p.server)
    };
    let history = d.n as f64 / (d.n as f64 + 1.0);
    let score = z / (1.0 + z) * history;
    let (src, dst) = if written {
        (client, Some(p.server))
    } else {
        (Some(p.server), client)
    };
    let port = if written {
        event.dst_port
    } else {
        event.src_port
    };
    Finding::new(
        cx.now,
        Category::ValueAnomaly,
        "values",
        score,
        title,
        explanation,
    )
    .between(src, dst, Some(port))
    .protocol(p.protocol.clone())
    .src_mac(event.src_mac)
    .fuse_key(fuse_key(p))
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
            asset("10.10.2.10", Role::Hmi, "hmi1"),
        ])
    }

    fn write(secs: i64, value: f64) -> Event {
        let mut e = Event::new("modbus", OpClass::Write, 6, "write_single_register", false);
        e.ts = Timestamp(T0 + secs * 1_000_000);
        e.src_ip = Some("10.10.2.10".parse().unwrap());
        e.dst_ip = Some("10.10.1.11".parse().unwrap());
        e.dst_port = 502;
        e.unit = Some(1);
        e.target("holding_register", 10, 1)
            .value("holding_register", 10, value);
        e
    }

    /// A read response from the PLC reporting register 0.
    fn report(secs: i64, value: f64) -> Event {
        let mut e = Event::new("modbus", OpClass::Read, 3, "read_holding_registers", true);
        e.ts = Timestamp(T0 + secs * 1_000_000);
        e.src_ip = Some("10.10.1.11".parse().unwrap());
        e.dst_ip = Some("10.10.2.10".parse().unwrap());
        e.src_port = 502;
        e.unit = Some(1);
        e.value("holding_register", 0, value);
        e
    }

    fn feed(m: &mut Values, dir: &AssetDirectory, e: &Event, learning: bool) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut cx = Cx::new(e.ts, learning, dir, &mut out);
        m.on_event(&mut cx, e);
        out
    }

    #[test]
    fn an_out_of_range_setpoint_write_is_explained_with_the_learnt_range() {
        let dir = assets();
        let mut m = Values::new();
        for i in 0..41 {
            let v = 480.0 + ((i * 7) % 41) as f64;
            assert!(feed(&mut m, &dir, &write(i * 60, v), true).is_empty());
        }
        // Within the margin after learning: learnt, no finding.
        assert!(feed(&mut m, &dir, &write(2500, 530.0), false).is_empty());
        // 1.7 scales out: below the alert margin, and not learnt either.
        assert!(feed(&mut m, &dir, &write(2530, 620.0), false).is_empty());
        let f = feed(&mut m, &dir, &write(2560, 950.0), false);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.category, Category::ValueAnomaly);
        assert_eq!(
            f.title,
            "Out-of-range write: 950 to holding register 10 of 10.10.1.11"
        );
        assert_eq!(
            f.explanation,
            "10.10.2.10 (HMI hmi1) wrote 950 to holding register 10 of 10.10.1.11 (PLC plc1), \
             modbus unit 1; in 42 min it was written 42 times with values 480–530 (mean 500.7 ± \
             12.71, largest step 34). 950 is 420 above the highest value learnt (7.9× the \
             learnt spread of 53)."
        );
        let z = 420.0 / 53.0;
        assert!(
            (f.score - z / (1.0 + z) * 42.0 / 43.0).abs() < 1e-9,
            "{}",
            f.score
        );
        assert_eq!(f.src_ip, Some("10.10.2.10".parse().unwrap()));
        assert_eq!(f.dst_port, Some(502));
        // Not folded in: the same write alerts again until accepted.
        assert_eq!(feed(&mut m, &dir, &write(2570, 950.0), false).len(), 1);
        let mut accepted = f.clone();
        accepted.model = "operator";
        m.accept(&accepted);
        assert!(feed(&mut m, &dir, &write(2580, 950.0), false).is_empty());
    }

    #[test]
    fn flags_young_points_and_counters_never_alert() {
        let dir = assets();
        let mut m = Values::new();
        for i in 0..3 {
            feed(&mut m, &dir, &write(i, 500.0), true);
        }
        assert!(feed(&mut m, &dir, &write(10, 5000.0), false).is_empty());
        // A coil-like point written 0/1 only.
        let mut m = Values::new();
        for i in 0..20 {
            feed(
                &mut m,
                &dir,
                &write(i, f64::from(i32::from(i % 2 == 0))),
                true,
            );
        }
        assert!(feed(&mut m, &dir, &write(30, 1.0), false).is_empty());
        // A counter reported for an hour, then a big jump: no finding.
        let mut m = Values::new();
        for i in 0..3600 {
            feed(&mut m, &dir, &report(i, i as f64), true);
        }
        assert!(feed(&mut m, &dir, &report(3601, 1e6), false).is_empty());
    }

    #[test]
    fn points_are_capped_with_batch_eviction_of_the_oldest() {
        let dir = assets();
        let mut m = Values::new();
        for i in 0..=MAX_POINTS as u64 {
            let mut e = report(i as i64, 1.0);
            e.values[0].address = i;
            feed(&mut m, &dir, &e, true);
        }
        assert_eq!(
            m.counters(),
            vec![
                ("points", (MAX_POINTS - MAX_POINTS / 8 + 1) as u64),
                ("points_evicted", (MAX_POINTS / 8) as u64)
            ]
        );
        assert!(!m.points.values().any(|p| p.address == 0));
    }

    #[test]
    fn baseline_lines_say_constant_points_plainly_and_sum_up_rare_ones() {
        let dir = assets();
        let mut m = Values::new();
        for i in 0..10 {
            feed(&mut m, &dir, &report(i, 1.0), true);
        }
        feed(&mut m, &dir, &write(0, 500.0), true);
        let mut lines = Vec::new();
        m.baseline(None, &dir, &mut lines);
        assert_eq!(
            lines,
            vec![
                "holding register 0 of 10.10.1.11 (PLC plc1), modbus unit 1: reported 10 \
                 times, always 1",
                "1 more points seen fewer than 5 times",
            ]
        );
    }

    #[test]
    fn reports_need_a_wider_margin() {
        let dir = assets();
        let mut m = Values::new();
        for i in 0..1200 {
            let v = 466.0 + f64::from((i * 13) % 63);
            feed(&mut m, &dir, &report(i64::from(i), v), true);
        }
        // 466–528 (scale 62.8): 650 is 1.9 scales out, 800 is 4.3.
        assert!(feed(&mut m, &dir, &report(1300, 650.0), false).is_empty());
        let f = feed(&mut m, &dir, &report(1301, 800.0), false);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].title,
            "Out-of-range value: 800 for holding register 0 of 10.10.1.11"
        );
        assert_eq!(f[0].src_ip, Some("10.10.1.11".parse().unwrap()));
        let mut lines = Vec::new();
        let mut restored = Values::new();
        restored.restore(m.save()).unwrap();
        restored.baseline(Some("10.10.1.11".parse().unwrap()), &dir, &mut lines);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].starts_with(
                "holding register 0 of 10.10.1.11 (PLC plc1), modbus unit 1: reported 1,200 \
                 times with values 466–528"
            ),
            "{}",
            lines[0]
        );
    }
}
