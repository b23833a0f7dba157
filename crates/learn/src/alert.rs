//! Alerts: findings with a severity, fused into incidents.
//!
//! Findings of one category from one source (and the model's fuse key) within the
//! fuse window of each other become one alert with a count, so a scan of 500 ports is
//! one alert, not 500.

use crate::assets::{AssetDirectory, Criticality};
use crate::finding::{Category, Finding};
use records::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::net::IpAddr;
use wire::MacAddr;

/// Alert severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Investigate.
    Medium,
    /// Investigate now.
    High,
    /// Act now: a controller is being changed or the gap is breached.
    Critical,
}

impl Severity {
    /// The record name (`critical` ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    fn from_level(level: i32) -> Self {
        match level {
            i32::MIN..=0 => Self::Low,
            1 => Self::Medium,
            2 => Self::High,
            _ => Self::Critical,
        }
    }

    /// Base level of a category before score and criticality.
    fn base(category: Category) -> i32 {
        match category {
            Category::ProtocolAnomaly => 0,
            Category::NewDevice
            | Category::NewConnection
            | Category::TimingAnomaly
            | Category::VolumeAnomaly
            | Category::DnsExternal => 1,
            _ => 2,
        }
    }

    /// Severity of a finding: the category's base, one lower when the score says it
    /// is only mildly surprising, one higher when a controller is involved.
    pub fn of(finding: &Finding, criticality: Criticality) -> Self {
        let mut level = Self::base(finding.category);
        if finding.score < 0.5 {
            level -= 1;
        }
        if criticality == Criticality::Critical && finding.score >= 0.5 {
            level += 1;
        }
        Self::from_level(level)
    }
}

/// What backs an alert.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Flows the findings came from (first few).
    pub flow_ids: Vec<u64>,
    /// Times of the findings (first few).
    pub packet_times: Vec<Timestamp>,
    /// Evidence capture file, relative to the state folder, once written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcap: Option<String>,
}

/// Most flow ids and times kept in an alert's evidence.
const MAX_EVIDENCE_ITEMS: usize = 16;

/// The `alert` record of DESIGN.md.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Always `alert`.
    pub kind: String,
    /// Sequence number, unique within a state folder.
    pub id: u64,
    /// First evidence.
    pub ts: Timestamp,
    /// Last evidence.
    pub ts_last: Timestamp,
    /// Category.
    pub category: Category,
    /// Severity (the highest of the fused findings).
    pub severity: Severity,
    /// Score (the highest of the fused findings).
    pub score: f64,
    /// Source address.
    pub src_ip: Option<IpAddr>,
    /// Source MAC.
    pub src_mac: Option<MacAddr>,
    /// Destination address (of the first finding).
    pub dst_ip: Option<IpAddr>,
    /// Destination port (of the first finding).
    pub dst_port: Option<u16>,
    /// Protocol.
    pub protocol: Option<String>,
    /// One line.
    pub title: String,
    /// Plain words with the numbers.
    pub explanation: String,
    /// MITRE ATT&CK for ICS technique ids.
    pub attack: Vec<String>,
    /// Flows and times behind it.
    pub evidence: Evidence,
    /// Findings fused into it.
    pub count: u64,
    /// Model that raised it.
    pub model: String,
    /// Other addresses involved (destinations of fused findings), first few.
    pub hosts: Vec<IpAddr>,
    /// The model's fuse key (what distinguishes this alert from others of its source).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fuse_key: String,
}

impl Alert {
    fn open(id: u64, finding: &Finding, severity: Severity) -> Self {
        let mut alert = Self {
            kind: "alert".to_string(),
            id,
            ts: finding.ts,
            ts_last: finding.ts,
            category: finding.category,
            severity,
            score: finding.score,
            src_ip: finding.src_ip,
            src_mac: finding.src_mac,
            dst_ip: finding.dst_ip,
            dst_port: finding.dst_port,
            protocol: finding.protocol.clone(),
            title: finding.title.clone(),
            explanation: finding.explanation.clone(),
            attack: finding
                .category
                .attack()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            evidence: Evidence::default(),
            count: 0,
            model: finding.model.to_string(),
            hosts: Vec::new(),
            fuse_key: finding.fuse_key.clone(),
        };
        alert.absorb(finding, severity);
        alert
    }

    fn absorb(&mut self, finding: &Finding, severity: Severity) {
        self.count += 1;
        self.ts_last = self.ts_last.max(finding.ts);
        if severity > self.severity || finding.score > self.score {
            self.severity = self.severity.max(severity);
            self.score = self.score.max(finding.score);
        }
        if let Some(id) = finding.flow_id {
            if self.evidence.flow_ids.len() < MAX_EVIDENCE_ITEMS
                && !self.evidence.flow_ids.contains(&id)
            {
                self.evidence.flow_ids.push(id);
            }
        }
        if self.evidence.packet_times.len() < MAX_EVIDENCE_ITEMS {
            self.evidence.packet_times.push(finding.ts);
        }
        for ip in [finding.src_ip, finding.dst_ip].into_iter().flatten() {
            if Some(ip) != self.src_ip && !self.hosts.contains(&ip) && self.hosts.len() < 64 {
                self.hosts.push(ip);
            }
        }
    }

    /// The alert as a finding, for folding it into the baselines when an operator marks
    /// it expected ([`crate::Engine::accept`]).
    pub fn as_finding(&self) -> Finding {
        Finding {
            ts: self.ts,
            category: self.category,
            model: "operator",
            score: self.score,
            policy: false,
            src_ip: self.src_ip,
            src_mac: self.src_mac,
            dst_ip: self.dst_ip,
            dst_port: self.dst_port,
            protocol: self.protocol.clone(),
            title: self.title.clone(),
            explanation: self.explanation.clone(),
            flow_id: self.evidence.flow_ids.first().copied(),
            fuse_key: self.fuse_key.clone(),
        }
    }

    /// Every address the alert involves: source first, then the others.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.src_ip.into_iter().chain(self.hosts.iter().copied())
    }
}

/// Writes the key that fuses findings, `category|source|fuse key`, into `key`.
fn write_key(
    key: &mut String,
    category: Category,
    src_ip: Option<IpAddr>,
    src_mac: Option<MacAddr>,
    fuse_key: &str,
) {
    key.clear();
    key.push_str(category.name());
    key.push('|');
    // Writing into a String cannot fail.
    let _ = match (src_ip, src_mac) {
        (Some(ip), _) => write!(key, "{ip}"),
        (None, Some(mac)) => write!(key, "{mac}"),
        (None, None) => Ok(()),
    };
    key.push('|');
    key.push_str(fuse_key);
}

/// Fuses findings into alerts.
#[derive(Debug, Serialize, Deserialize)]
pub struct Alerter {
    next_id: u64,
    window_micros: i64,
    /// Open alerts by `category|source|fuse key` (a text key, so the state is JSON).
    open: BTreeMap<String, Alert>,
    /// Alerts opened since the last [`Alerter::take_opened`].
    #[serde(skip)]
    opened: Vec<u64>,
    /// Keys of open alerts by id (rebuilt by [`Alerter::reindex`] after a restore).
    #[serde(skip)]
    ids: HashMap<u64, String>,
    /// No open alert's last evidence is older than this (micros), so
    /// [`Alerter::close_idle`] has nothing to close until the window passes it. Zero
    /// after a restore: the first call scans.
    #[serde(skip)]
    oldest_last: i64,
    /// Reused buffer for the key of the finding being fused.
    #[serde(skip)]
    key: String,
}

impl Alerter {
    /// An alerter fusing findings that follow each other within `window_micros`.
    pub fn new(window_micros: i64) -> Self {
        Self {
            next_id: 1,
            window_micros,
            open: BTreeMap::new(),
            opened: Vec::new(),
            ids: HashMap::new(),
            oldest_last: i64::MAX,
            key: String::new(),
        }
    }

    /// Rebuilds the index of open alerts by id (after the state was restored).
    pub fn reindex(&mut self) {
        self.ids = self.open.iter().map(|(k, a)| (a.id, k.clone())).collect();
        self.oldest_last = 0;
    }

    /// Takes a finding: fuses it into an open alert or opens a new one.
    pub fn add(&mut self, finding: &Finding, assets: &AssetDirectory) {
        let criticality = [finding.src_ip, finding.dst_ip]
            .into_iter()
            .flatten()
            .map(|ip| assets.criticality(ip))
            .max()
            .unwrap_or(Criticality::Low);
        let severity = Severity::of(finding, criticality);
        let key = &mut self.key;
        write_key(
            key,
            finding.category,
            finding.src_ip,
            finding.src_mac,
            &finding.fuse_key,
        );
        if let Some(alert) = self.open.get_mut(key.as_str()) {
            alert.absorb(finding, severity);
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.opened.push(id);
        let alert = Alert::open(id, finding, severity);
        self.oldest_last = self.oldest_last.min(alert.ts_last.micros());
        self.ids.insert(id, key.clone());
        self.open.insert(key.clone(), alert);
    }

    /// True when an alert of `category` from the source with `fuse_key` is open.
    pub fn is_open(
        &self,
        category: Category,
        src_ip: Option<IpAddr>,
        src_mac: Option<MacAddr>,
        fuse_key: &str,
    ) -> bool {
        let mut key = String::with_capacity(64);
        write_key(&mut key, category, src_ip, src_mac, fuse_key);
        self.open.contains_key(&key)
    }

    /// Changes the fuse window (configuration wins over saved state).
    pub fn set_window(&mut self, window_micros: i64) {
        self.window_micros = window_micros;
    }

    /// Closes alerts whose last evidence is older than the window at `now`, in id order.
    pub fn close_idle(&mut self, now: Timestamp) -> Vec<Alert> {
        let window = self.window_micros;
        if now.micros().saturating_sub(self.oldest_last) <= window {
            return Vec::new();
        }
        let idle: Vec<_> = self
            .open
            .iter()
            .filter(|(_, a)| now.micros_since(a.ts_last) > window)
            .map(|(k, _)| k.clone())
            .collect();
        let mut closed: Vec<Alert> = idle.iter().filter_map(|k| self.open.remove(k)).collect();
        for alert in &closed {
            self.ids.remove(&alert.id);
        }
        self.oldest_last = self
            .open
            .values()
            .map(|a| a.ts_last.micros())
            .min()
            .unwrap_or(i64::MAX);
        closed.sort_by_key(|a| a.id);
        closed
    }

    /// Closes every open alert, in id order.
    pub fn close_all(&mut self) -> Vec<Alert> {
        self.ids.clear();
        self.oldest_last = i64::MAX;
        let mut closed: Vec<Alert> = std::mem::take(&mut self.open).into_values().collect();
        closed.sort_by_key(|a| a.id);
        closed
    }

    /// Open alerts.
    pub fn open_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.open.values()
    }

    /// Ids of alerts opened since the last call.
    pub fn take_opened(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.opened)
    }

    /// An open alert by id.
    pub fn get(&self, id: u64) -> Option<&Alert> {
        self.ids.get(&id).and_then(|k| self.open.get(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_alerts_survive_a_save_and_restore() {
        let mut alerter = Alerter::new(600_000_000);
        let assets = AssetDirectory::default();
        alerter.add(&finding(0, "10.0.0.1"), &assets);
        let json = serde_json::to_string(&alerter).unwrap();
        let mut restored: Alerter = serde_json::from_str(&json).unwrap();
        restored.add(&finding(5_000_000, "10.0.0.2"), &assets);
        let closed = restored.close_all();
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].count, 2);
        assert_eq!(closed[0].ts_last, Timestamp(5_000_000));
    }

    fn finding(ts: i64, dst: &str) -> Finding {
        Finding::new(
            Timestamp(ts),
            Category::Scan,
            "scan",
            0.9,
            "scan",
            "explained",
        )
        .between(
            Some("10.0.0.66".parse().unwrap()),
            Some(dst.parse().unwrap()),
            Some(502),
        )
    }

    #[test]
    fn fuses_a_storm_into_one_alert_and_closes_after_the_window() {
        let mut alerter = Alerter::new(600_000_000);
        let assets = AssetDirectory::default();
        for i in 0..500 {
            alerter.add(
                &finding(i * 1_000_000, &format!("10.0.0.{}", i % 200 + 1)),
                &assets,
            );
        }
        assert_eq!(alerter.take_opened(), vec![1]);
        assert!(alerter.close_idle(Timestamp(600_000_000)).is_empty());
        let closed = alerter.close_idle(Timestamp(499_000_000 + 600_000_001));
        assert_eq!(closed.len(), 1);
        let alert = &closed[0];
        assert_eq!(alert.count, 500);
        assert_eq!(alert.ts, Timestamp(0));
        assert_eq!(alert.ts_last, Timestamp(499_000_000));
        assert_eq!(alert.hosts.len(), 64);
        assert_eq!(alert.severity, Severity::High);
        assert_eq!(alert.attack, vec!["T0846", "T0888"]);
        alerter.add(&finding(2_000_000_000, "10.0.0.1"), &assets);
        assert_eq!(alerter.take_opened(), vec![2]);
    }
}
