//! `activity`: the hours of the week each device starts connections.
//!
//! Operators, engineering workstations and maintenance laptops keep office hours; a
//! historian's export runs at night; a PLC polls around the clock. Per device, the model
//! counts in how many weeks it started a connection in each of the 168 hours of the week
//! (UTC), and the capture's own coverage of each hour (hours in capture gaps are not
//! counted). It judges only with at least [`MIN_WEEKS`] weeks of coverage of the hour in
//! question and a device known for as long; shorter captures cannot show a weekly
//! pattern, so the model stays silent on them.
//!
//! Score: Good–Turing over the device's active hours — the share of its active
//! hour-slots seen in only one week estimates how likely it is to turn up in a new one.
//! A workstation used Monday to Friday, 08:00–17:00, for three weeks has none: a session
//! on Sunday at 03:00 scores near 1. A laptop used at random hours scores low.

use super::evict::make_room;
use crate::assets::{is_group, is_public, AssetDirectory};
use crate::finding::{Category, Finding};
use crate::input::FlowOpen;
use crate::model::{Cx, Model};
use crate::stats::{surprise, unseen_probability, Map};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Hours in a week.
const HOURS: usize = 168;
const HOUR_MICROS: i64 = 3_600_000_000;
/// Weeks of coverage of an hour (and of the device's history) before judging it.
pub const MIN_WEEKS: u16 = 2;
/// Least score reported.
const MIN_SCORE: f64 = 0.6;
/// Devices tracked.
pub const MAX_DEVICES: usize = 8192;

const MODEL: &str = "activity";
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The hour of the week (0 = Monday 00:00–01:00 UTC) of an absolute hour number. The
/// Unix epoch fell on a Thursday, 72 hours after a Monday midnight.
fn slot(hour: i64) -> usize {
    (hour + 72).rem_euclid(HOURS as i64) as usize
}

/// `Sunday 03:00–04:00 UTC`.
fn slot_name(slot: usize) -> String {
    let (day, hour) = (slot / 24, slot % 24);
    format!("{} {hour:02}:00–{:02}:00 UTC", DAYS[day], (hour + 1) % 24)
}

/// One device's weekly pattern.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Device {
    /// Absolute hour of its first connection.
    first_hour: i64,
    /// Absolute hour of its latest counted connection.
    last_hour: i64,
    /// Per hour of the week: weeks in which it started a connection then.
    active: Vec<u16>,
}

impl Device {
    fn new(hour: i64) -> Self {
        Self {
            first_hour: hour,
            last_hour: i64::MIN,
            active: vec![0; HOURS],
        }
    }

    /// (hour-slots seen in one week only, active hours in all).
    fn counts(&self) -> (u64, u64) {
        let singletons = self.active.iter().filter(|&&n| n == 1).count() as u64;
        let total = self.active.iter().map(|&n| u64::from(n)).sum();
        (singletons, total)
    }

    /// `Monday–Friday 08:00–17:00, Saturday 10:00–11:00` (UTC).
    fn describe(&self) -> String {
        let mut days: Vec<(Vec<usize>, String)> = Vec::new();
        for (d, name) in DAYS.iter().enumerate() {
            let hours: Vec<usize> = (0..24).filter(|h| self.active[d * 24 + h] > 0).collect();
            if !hours.is_empty() {
                days.push((hours, name.to_string()));
            }
        }
        // Consecutive days with the same hours read as one range of days.
        let mut parts: Vec<String> = Vec::new();
        let mut i = 0;
        while i < days.len() {
            let mut j = i;
            while j + 1 < days.len()
                && days[j + 1].0 == days[i].0
                && day_index(&days[j + 1].1) == day_index(&days[j].1) + 1
            {
                j += 1;
            }
            let name = if j > i {
                format!("{}–{}", days[i].1, days[j].1)
            } else {
                days[i].1.clone()
            };
            parts.push(format!("{name} {}", hour_ranges(&days[i].0)));
            i = j + 1;
        }
        parts.join(", ")
    }
}

fn day_index(name: &str) -> usize {
    DAYS.iter().position(|d| *d == name).unwrap_or(0)
}

/// `08:00–12:00 and 13:00–17:00` for hours 8..=11 and 13..=16.
fn hour_ranges(hours: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < hours.len() {
        let mut j = i;
        while j + 1 < hours.len() && hours[j + 1] == hours[j] + 1 {
            j += 1;
        }
        out.push(format!("{:02}:00–{:02}:00", hours[i], (hours[j] + 1) % 24));
        i = j + 1;
    }
    out.join(" and ")
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    coverage: Vec<u16>,
    hour: Option<i64>,
    devices: Vec<(IpAddr, Device)>,
    evicted: u64,
}

/// The `activity` model.
#[derive(Debug)]
pub struct Activity {
    /// Per hour of the week: weeks the capture covered it.
    coverage: Vec<u16>,
    /// The absolute hour packet time is in.
    hour: Option<i64>,
    devices: Map<IpAddr, Device>,
    evicted: u64,
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            coverage: vec![0; HOURS],
            hour: None,
            devices: Map::default(),
            evicted: 0,
        }
    }
}

impl Activity {
    /// A model with nothing learnt.
    pub fn new() -> Self {
        Self::default()
    }

    /// Judges a device's first connection in `hour`, then counts it.
    fn judge(&self, cx: &mut Cx<'_>, flow: &FlowOpen, device: &Device, hour: i64) {
        let s = slot(hour);
        let weeks = self.coverage[s];
        let known_weeks = (hour - device.first_hour) / (HOURS as i64);
        if cx.learning || device.active[s] > 0 || weeks < MIN_WEEKS {
            return;
        }
        if known_weeks < i64::from(MIN_WEEKS) {
            return;
        }
        let (singletons, total) = device.counts();
        let score = surprise(unseen_probability(singletons, total));
        if score < MIN_SCORE {
            return;
        }
        let ip = flow.client_ip;
        let active_hours = device.active.iter().filter(|&&n| n > 0).count();
        let explanation = format!(
            "{} started a connection to {} on port {} at {}, on {}. In the {} weeks this \
             hour of the week was observed, it never started one then; it is active in {} \
             of the 168 hours of the week: {}.",
            cx.assets.label(ip),
            cx.assets.label(flow.server_ip),
            flow.server_port,
            super::routine::clock(flow.ts),
            slot_name(s),
            weeks,
            active_hours,
            device.describe(),
        );
        let finding = Finding::new(
            flow.ts,
            Category::TimingAnomaly,
            MODEL,
            score,
            format!(
                "{} active at an unusual hour ({})",
                cx.assets.label(ip),
                slot_name(s)
            ),
            explanation,
        )
        .between(Some(ip), Some(flow.server_ip), Some(flow.server_port))
        .src_mac(flow.client_mac)
        .flow(flow.id)
        .fuse_key(format!("hour {s}"));
        cx.report(finding);
    }
}

impl Model for Activity {
    fn name(&self) -> &'static str {
        MODEL
    }

    fn on_flow_open(&mut self, cx: &mut Cx<'_>, flow: &FlowOpen) {
        let ip = flow.client_ip;
        if flow.to_group || is_public(ip) || is_group(ip) {
            return;
        }
        let hour = flow.ts.micros().div_euclid(HOUR_MICROS);
        if !self.devices.contains_key(&ip) {
            self.evicted += make_room(&mut self.devices, MAX_DEVICES, |d| d.last_hour);
            self.devices.insert(ip, Device::new(hour));
        }
        let Some(device) = self.devices.get(&ip) else {
            return;
        };
        if device.last_hour == hour {
            return;
        }
        self.judge(cx, flow, device, hour);
        if let Some(device) = self.devices.get_mut(&ip) {
            device.last_hour = hour;
            let n = &mut device.active[slot(hour)];
            *n = n.saturating_add(1);
        }
    }

    fn tick(&mut self, cx: &mut Cx<'_>) {
        let hour = cx.now.micros().div_euclid(HOUR_MICROS);
        match self.hour {
            Some(h) if h == hour => {}
            Some(h) => {
                // The hour packet time leaves was observed; hours skipped in a capture
                // gap were not.
                let n = &mut self.coverage[slot(h)];
                *n = n.saturating_add(1);
                self.hour = Some(hour);
            }
            None => self.hour = Some(hour),
        }
    }

    fn save(&self) -> serde_json::Value {
        let mut devices: Vec<(IpAddr, Device)> = self
            .devices
            .iter()
            .map(|(ip, d)| (*ip, d.clone()))
            .collect();
        devices.sort_by_key(|(ip, _)| *ip);
        serde_json::to_value(State {
            coverage: self.coverage.clone(),
            hour: self.hour,
            devices,
            evicted: self.evicted,
        })
        .unwrap_or_default()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        let s: State = serde_json::from_value(state).map_err(|e| e.to_string())?;
        let valid = |v: &Vec<u16>| v.len() == HOURS;
        if !valid(&s.coverage) || !s.devices.iter().all(|(_, d)| valid(&d.active)) {
            return Err(format!("hour-of-week tables must have {HOURS} entries"));
        }
        self.coverage = s.coverage;
        self.hour = s.hour;
        self.devices = s.devices.into_iter().collect();
        self.evicted = s.evicted;
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        let weeks = self.coverage.iter().copied().min().unwrap_or(0);
        let mut ips: Vec<IpAddr> = match ip {
            Some(ip) => vec![ip],
            None => self.devices.keys().copied().collect(),
        };
        ips.sort();
        for ip in ips {
            let Some(d) = self.devices.get(&ip) else {
                continue;
            };
            let active = d.active.iter().filter(|&&n| n > 0).count();
            if active == 0 {
                continue;
            }
            let judged = if weeks >= MIN_WEEKS {
                String::new()
            } else {
                format!(" (judged once every hour of the week is observed {MIN_WEEKS} weeks)")
            };
            out.push(format!(
                "{} starts connections in {active} of the 168 hours of the week (UTC): {}{judged}",
                assets.label(ip),
                d.describe()
            ));
        }
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        match ip {
            Some(ip) => {
                self.devices.remove(&ip);
            }
            None => *self = Self::default(),
        }
    }

    fn accept(&mut self, finding: &Finding) {
        let Some(ip) = finding.src_ip else {
            return;
        };
        let s = slot(finding.ts.micros().div_euclid(HOUR_MICROS));
        if let Some(d) = self.devices.get_mut(&ip) {
            d.active[s] = d.active[s].max(MIN_WEEKS);
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![("devices evicted", self.evicted)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::{Timestamp, TransportKind};

    /// Monday 2026-11-02 00:00 UTC, in hours since the epoch.
    const MONDAY: i64 = 1_793_577_600 / 3600;

    fn open(hour: i64, minute: i64, client: &str) -> FlowOpen {
        FlowOpen {
            id: 1,
            ts: Timestamp((hour * 3600 + minute * 60) * 1_000_000),
            transport: TransportKind::Tcp,
            client_ip: client.parse().unwrap(),
            client_port: 50000,
            client_mac: None,
            server_ip: "10.10.1.12".parse().unwrap(),
            server_port: 102,
            server_mac: None,
            to_group: false,
        }
    }

    /// Runs `weeks` weeks of packet time (a tick a minute) with the workstation
    /// connecting on weekdays 08:00–17:00, then `last` with `learning` off.
    fn run(weeks: i64, last: FlowOpen) -> Vec<Finding> {
        let mut model = Activity::new();
        let assets = AssetDirectory::default();
        let mut findings = Vec::new();
        for hour in MONDAY..MONDAY + weeks * 168 {
            for minute in [0, 30] {
                let ts = Timestamp((hour * 3600 + minute * 60) * 1_000_000);
                let mut cx = Cx::new(ts, true, &assets, &mut findings);
                model.tick(&mut cx);
                let (day, h) = ((hour - MONDAY) % 168 / 24, (hour - MONDAY) % 24);
                if day < 5 && (8..17).contains(&h) {
                    model.on_flow_open(&mut cx, &open(hour, minute, "10.10.2.40"));
                }
            }
        }
        let mut cx = Cx::new(last.ts, false, &assets, &mut findings);
        model.tick(&mut cx);
        model.on_flow_open(&mut cx, &last);
        findings
    }

    #[test]
    fn slots_start_on_monday_midnight_utc() {
        assert_eq!(slot(MONDAY), 0);
        assert_eq!(slot(MONDAY + 6 * 24 + 3), 147);
        assert_eq!(slot_name(147), "Sunday 03:00–04:00 UTC");
    }

    #[test]
    fn a_sunday_night_session_of_an_office_hours_workstation_is_reported() {
        let sunday_3am = MONDAY + 3 * 168 + 6 * 24 + 3;
        let findings = run(3, open(sunday_3am, 10, "10.10.2.40"));
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(f.category, Category::TimingAnomaly);
        assert!(f.score > 0.9, "{}", f.score);
        assert!(
            f.explanation
                .contains("on Sunday 03:00–04:00 UTC. In the 3 weeks"),
            "{}",
            f.explanation
        );
        assert!(
            f.explanation
                .contains("active in 45 of the 168 hours of the week: Monday–Friday 08:00–17:00."),
            "{}",
            f.explanation
        );
    }

    #[test]
    fn office_hours_raise_nothing_and_short_histories_are_not_judged() {
        let tuesday_10am = MONDAY + 3 * 168 + 24 + 10;
        assert!(run(3, open(tuesday_10am, 5, "10.10.2.40")).is_empty());
        // One week of history: a weekly pattern cannot be known yet.
        let sunday_3am = MONDAY + 168 + 6 * 24 + 3;
        assert!(run(1, open(sunday_3am, 10, "10.10.2.40")).is_empty());
        // A device new this week has no pattern of its own.
        let late = MONDAY + 3 * 168 + 6 * 24 + 3;
        assert!(run(3, open(late, 10, "10.10.2.99")).is_empty());
    }

    #[test]
    fn state_round_trips() {
        let mut model = Activity::new();
        let assets = AssetDirectory::default();
        let mut findings = Vec::new();
        let mut cx = Cx::new(
            Timestamp(MONDAY * 3_600_000_000),
            true,
            &assets,
            &mut findings,
        );
        model.tick(&mut cx);
        model.on_flow_open(&mut cx, &open(MONDAY + 9, 0, "10.10.2.40"));
        let saved = model.save();
        let mut back = Activity::new();
        back.restore(saved.clone()).unwrap();
        assert_eq!(back.save(), saved);
        let mut bad = saved;
        bad["coverage"] = serde_json::json!([1, 2]);
        assert!(Activity::new().restore(bad).is_err());
    }
}
