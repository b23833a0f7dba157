//! The air-gap report: per boundary, either "held" with the observation behind that
//! claim, or each violation with its hosts, times and evidence; a coverage statement so
//! that blindness is never read as safety; and a SHA-256 chain over the evidence files
//! it cites, so the report can be checked against them later.
//!
//! Chain: `c0` is 32 zero bytes; for each cited evidence file, in report order,
//! `c = sha256(c_prev || sha256(file) || alert id as 8 bytes big-endian)`; a file that is
//! missing counts as 32 zero bytes in place of its hash. The last `c` is the chain head.

mod html;

use anyhow::{Context, Result};
use learn::Category;
use records::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Component, Path};
use store::{AlertFilter, AlertStatus, FlowFilter, Store, StoredAlert};
use zones::{Placement, ZoneKind, ZonePolicy};

/// Alert categories that mean traffic crossed a boundary.
pub const CROSSING_CATEGORIES: [Category; 8] = [
    Category::ExternalConnection,
    Category::DnsExternal,
    Category::ItOtCrossing,
    Category::RemoteAccess,
    Category::FileTransfer,
    Category::LateralMovement,
    Category::Beaconing,
    Category::Exfiltration,
];

/// Name of the boundary between the plant and everything outside it.
pub const OUTSIDE_BOUNDARY: &str = "inside ↔ outside";

/// Gaps between runs shorter than this are not reported (seconds).
const MIN_GAP_SECS: f64 = 60.0;
/// Most gaps listed; the rest are counted.
const MAX_GAPS: usize = 100;
/// Most flows read to measure one violation's volume.
const MAX_VOLUME_FLOWS: u32 = 10_000;
/// Alerts fuse findings up to 10 minutes apart, so a violation's flows may start that
/// long before its first evidence.
const FUSE_WINDOW_MICROS: i64 = 600_000_000;
/// Most zone pairs listed when held; pairs with violations are always listed.
const MAX_HELD_PAIRS: usize = 256;

/// One boundary's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing crossed while gapwatch was watching.
    Held,
    /// Something crossed.
    Violated,
    /// Nothing was captured in the period, so nothing can be said.
    NotObserved,
}

/// A period of no capture between runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gap {
    /// Last packet time before the gap.
    pub from: Timestamp,
    /// First packet time after it.
    pub to: Timestamp,
    /// Length in seconds.
    pub secs: f64,
}

/// What gapwatch saw in the period, so the verdicts can be weighed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Coverage {
    /// First packet time observed in the period.
    pub observed_from: Option<Timestamp>,
    /// Last packet time observed in the period.
    pub observed_to: Option<Timestamp>,
    /// Time covered by runs, in seconds (overlapping runs counted once).
    pub observed_secs: f64,
    /// Runs overlapping the period.
    pub runs: usize,
    /// Runs that never finished (crash, kill or still going).
    pub unfinished_runs: usize,
    /// Gaps of at least a minute without capture, within the period.
    pub gaps: Vec<Gap>,
    /// Gaps beyond the listed ones.
    pub gaps_not_listed: usize,
    /// Total time without capture between the first and last packet, in seconds.
    pub gap_secs: f64,
    /// Packets read by the runs overlapping the period.
    pub packets: u64,
    /// Packets the kernel dropped before gapwatch read them (live capture).
    pub kernel_drops: u64,
    /// The runs' pipeline counters, summed (evictions, TCP gaps ...).
    pub counters: BTreeMap<String, u64>,
    /// Devices seen in the period.
    pub devices: usize,
    /// Plain-language summary.
    pub statement: String,
}

/// Alerts of one kind from one source across one boundary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// Alert category.
    pub category: Category,
    /// The highest severity among the alerts.
    pub severity: learn::Severity,
    /// Protocol, when known.
    pub protocol: Option<String>,
    /// Source address.
    pub source: Option<IpAddr>,
    /// Other hosts involved.
    pub hosts: Vec<IpAddr>,
    /// First evidence.
    pub first: Timestamp,
    /// Last evidence.
    pub last: Timestamp,
    /// Occurrences (findings fused into the alerts).
    pub count: u64,
    /// The alerts, by id.
    pub alerts: Vec<u64>,
    /// Title of the first alert.
    pub title: String,
    /// Evidence captures, relative to the state folder.
    pub evidence: Vec<String>,
    /// Stored flows between the source and the hosts during the violation.
    pub flows: u64,
    /// Their packets, both directions.
    pub packets: u64,
    /// Their IP bytes, both directions.
    pub bytes: u64,
}

/// One boundary and its verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Boundary {
    /// `inside ↔ outside`, `control-cell ↔ office`, `inside control-cell`.
    pub name: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Plain-language statement of the verdict.
    pub statement: String,
    /// Devices on either side (all devices for the outside boundary).
    pub devices: usize,
    /// The violations, earliest first.
    pub violations: Vec<Violation>,
}

/// One evidence file cited by the report, with its place in the chain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvidenceItem {
    /// The alert it backs.
    pub alert: u64,
    /// Path relative to the state folder.
    pub pcap: String,
    /// SHA-256 of the file (hex); none when the file is missing or unreadable.
    pub sha256: Option<String>,
    /// Chain value after this item (hex).
    pub chain: String,
}

/// The air-gap report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AirgapReport {
    /// Start of the period asked for.
    pub from: Option<Timestamp>,
    /// End of the period asked for.
    pub to: Option<Timestamp>,
    /// `policy` for a zone file, `observed` for zones proposed from the devices seen.
    pub zones_from: &'static str,
    /// Overall verdict: violated if any boundary was, not observed when nothing was
    /// captured, held otherwise.
    pub verdict: Verdict,
    /// What was watched.
    pub coverage: Coverage,
    /// Every boundary.
    pub boundaries: Vec<Boundary>,
    /// Alerts an operator marked expected, left out of the verdicts.
    pub expected_alerts: usize,
    /// Evidence files cited, in chain order.
    pub evidence: Vec<EvidenceItem>,
    /// The last chain value (hex); 64 zeros when nothing is cited.
    pub chain_head: String,
}

/// Alerts of one category, source and protocol are one violation.
type ViolationKey = (Category, Option<IpAddr>, Option<String>);

/// Builds the report from the store for the period `[from, to)` (alerts by first
/// evidence time). Without a policy, zones are proposed from the stored devices.
pub fn report(
    store: &Store,
    policy: Option<&ZonePolicy>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Result<AirgapReport> {
    let assets = store.load_assets().context("loading devices")?;
    let assets: Vec<_> = assets
        .into_iter()
        .filter(|a| !a.is_gateway)
        .filter(|a| from.is_none_or(|f| a.last_seen >= f) && to.is_none_or(|t| a.first_seen < t))
        .collect();
    let proposed;
    let (policy, zones_from) = match policy {
        Some(p) => (p, "policy"),
        None => {
            proposed = zones::suggest_policy(&assets);
            (&proposed, "observed")
        }
    };
    let coverage = coverage(store, from, to, assets.len())?;
    let alerts = store
        .alerts(&AlertFilter {
            from,
            to,
            ..Default::default()
        })
        .context("loading alerts")?;
    let (expected, alerts): (Vec<StoredAlert>, Vec<StoredAlert>) = alerts
        .into_iter()
        .filter(|a| CROSSING_CATEGORIES.contains(&a.alert.category))
        .partition(|a| a.status == AlertStatus::Expected);

    // Devices per side, for the held statements.
    let mut per_side: BTreeMap<String, usize> = BTreeMap::new();
    for asset in &assets {
        let sides: BTreeSet<String> = asset.ips.iter().map(|ip| side(policy, *ip)).collect();
        for s in sides {
            *per_side.entry(s).or_default() += 1;
        }
    }

    let mut grouped: BTreeMap<String, BTreeMap<ViolationKey, Violation>> = BTreeMap::new();
    for stored in &alerts {
        let a = &stored.alert;
        let name = boundary_of(policy, a);
        let key = (a.category, a.src_ip, a.protocol.clone());
        let v = grouped
            .entry(name)
            .or_default()
            .entry(key)
            .or_insert_with(|| Violation {
                category: a.category,
                severity: a.severity,
                protocol: a.protocol.clone(),
                source: a.src_ip,
                hosts: Vec::new(),
                first: a.ts,
                last: a.ts_last,
                count: 0,
                alerts: Vec::new(),
                title: a.title.clone(),
                evidence: Vec::new(),
                flows: 0,
                packets: 0,
                bytes: 0,
            });
        v.severity = v.severity.max(a.severity);
        v.first = v.first.min(a.ts);
        v.last = v.last.max(a.ts_last);
        v.count = v.count.saturating_add(a.count);
        v.alerts.push(a.id);
        for ip in a.dst_ip.iter().chain(&a.hosts) {
            if Some(*ip) != a.src_ip && !v.hosts.contains(ip) {
                v.hosts.push(*ip);
            }
        }
        if let Some(pcap) = &a.evidence.pcap {
            v.evidence.push(pcap.clone());
        }
    }

    let observed = coverage.observed_secs > 0.0 || coverage.packets > 0;
    let mut names: Vec<String> = vec![OUTSIDE_BOUNDARY.to_string()];
    names.extend(ot_boundaries(policy).into_iter().take(MAX_HELD_PAIRS));
    for name in grouped.keys() {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let mut boundaries = Vec::new();
    for name in names {
        let devices = devices_of(&name, &per_side, assets.len());
        let mut violations: Vec<Violation> = grouped
            .remove(&name)
            .map(|m| m.into_values().collect())
            .unwrap_or_default();
        violations.sort_by_key(|v| (v.first, v.alerts.first().copied()));
        for v in &mut violations {
            add_volume(store, v)?;
        }
        let (verdict, statement) = if !violations.is_empty() {
            let n: u64 = violations.iter().map(|v| v.count).sum();
            (
                Verdict::Violated,
                format!(
                    "crossed: {} violation{} ({n} occurrence{})",
                    violations.len(),
                    plural(violations.len() as u64),
                    plural(n)
                ),
            )
        } else if observed {
            (
                Verdict::Held,
                format!(
                    "held: no crossing in {} of observation, {devices} device{}, {} packet{} seen",
                    duration_text(coverage.observed_secs),
                    plural(devices as u64),
                    coverage.packets,
                    plural(coverage.packets)
                ),
            )
        } else {
            (
                Verdict::NotObserved,
                "not observed: nothing was captured in this period".to_string(),
            )
        };
        boundaries.push(Boundary {
            name,
            verdict,
            statement,
            devices,
            violations,
        });
    }
    let verdict = if boundaries.iter().any(|b| b.verdict == Verdict::Violated) {
        Verdict::Violated
    } else if observed {
        Verdict::Held
    } else {
        Verdict::NotObserved
    };

    let state_dir = store.path().parent().unwrap_or(Path::new("."));
    let mut chain = [0u8; 32];
    let mut evidence = Vec::new();
    for boundary in &boundaries {
        for v in &boundary.violations {
            for id in &v.alerts {
                let Some(stored) = alerts.iter().find(|a| a.alert.id == *id) else {
                    continue;
                };
                let Some(pcap) = &stored.alert.evidence.pcap else {
                    continue;
                };
                let file_hash = hash_evidence(state_dir, pcap);
                chain = chain_step(&chain, file_hash.as_ref(), *id);
                evidence.push(EvidenceItem {
                    alert: *id,
                    pcap: pcap.clone(),
                    sha256: file_hash.map(|h| hex(&h)),
                    chain: hex(&chain),
                });
            }
        }
    }
    Ok(AirgapReport {
        from,
        to,
        zones_from,
        verdict,
        coverage,
        boundaries,
        expected_alerts: expected.len(),
        evidence,
        chain_head: hex(&chain),
    })
}

/// Adds the stored flows between a violation's source and its hosts that overlap its
/// time span (flows are found by start time, from one fuse window before the first
/// evidence; at most [`MAX_VOLUME_FLOWS`] per violation).
fn add_volume(store: &Store, v: &mut Violation) -> Result<()> {
    let Some(source) = v.source else {
        return Ok(());
    };
    let flows = store
        .flows(&FlowFilter {
            from: Some(v.first.plus_micros(-FUSE_WINDOW_MICROS)),
            to: Some(v.last.plus_micros(1)),
            ip: Some(source),
            limit: Some(MAX_VOLUME_FLOWS),
            ..Default::default()
        })
        .context("loading flows")?;
    for f in flows.iter().map(|f| &f.record) {
        let peer = if f.src_ip == source {
            f.dst_ip
        } else {
            f.src_ip
        };
        if f.ts_end < v.first || !v.hosts.contains(&peer) {
            continue;
        }
        v.flows += 1;
        v.packets = v
            .packets
            .saturating_add(f.packets_to_server)
            .saturating_add(f.packets_to_client);
        v.bytes = v
            .bytes
            .saturating_add(f.bytes_to_server)
            .saturating_add(f.bytes_to_client);
    }
    Ok(())
}

/// One step of the evidence chain: `sha256(prev || file hash (or 32 zeros) || id)`.
pub fn chain_step(prev: &[u8; 32], file_hash: Option<&[u8; 32]>, alert: u64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(file_hash.unwrap_or(&[0u8; 32]));
    h.update(alert.to_be_bytes());
    to_array(&h.finalize())
}

fn to_array(digest: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let n = digest.len().min(32);
    out[..n].copy_from_slice(&digest[..n]);
    out
}

/// SHA-256 of an evidence file inside the state folder; none when the path leaves the
/// folder or the file cannot be read.
fn hash_evidence(state_dir: &Path, relative: &str) -> Option<[u8; 32]> {
    let rel = Path::new(relative);
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let mut file = std::fs::File::open(state_dir.join(rel)).ok()?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(to_array(&h.finalize()))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The side of an address: its zone's name, or `outside` (public, unzoned, or a zone of
/// kind external).
fn side(policy: &ZonePolicy, ip: IpAddr) -> String {
    match policy.place(ip, None) {
        Placement::Zone(z) if z.kind != ZoneKind::External => z.name.clone(),
        _ => zones::OUTSIDE.to_string(),
    }
}

/// The boundary an alert crossed.
fn boundary_of(policy: &ZonePolicy, alert: &learn::Alert) -> String {
    let dst = alert.dst_ip.or_else(|| alert.hosts.first().copied());
    let src = alert.src_ip.map(|ip| side(policy, ip));
    let dst = dst.map(|ip| side(policy, ip));
    let outside = Some(zones::OUTSIDE.to_string());
    if matches!(
        alert.category,
        Category::ExternalConnection | Category::DnsExternal
    ) || src == outside
        || dst == outside
    {
        return OUTSIDE_BOUNDARY.to_string();
    }
    match (src, dst) {
        (Some(a), Some(b)) if a != b => pair_name(&a, &b),
        (Some(a), _) | (None, Some(a)) => format!("inside {a}"),
        (None, None) => OUTSIDE_BOUNDARY.to_string(),
    }
}

fn pair_name(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a} ↔ {b}")
    } else {
        format!("{b} ↔ {a}")
    }
}

/// Boundaries between OT zones and the others: the ones an air gap is about.
fn ot_boundaries(policy: &ZonePolicy) -> Vec<String> {
    let zones = policy.zones();
    let mut out = Vec::new();
    for (i, a) in zones.iter().enumerate() {
        for b in &zones[i + 1..] {
            let ot = |k| k == ZoneKind::Ot;
            let internal = |k| k != ZoneKind::External;
            if ot(a.kind) != ot(b.kind) && internal(a.kind) && internal(b.kind) {
                out.push(pair_name(&a.name, &b.name));
            }
        }
    }
    out
}

/// Devices on either side of a boundary (every device for the outside boundary).
fn devices_of(name: &str, per_side: &BTreeMap<String, usize>, all: usize) -> usize {
    if name == OUTSIDE_BOUNDARY {
        return all;
    }
    if let Some(zone) = name.strip_prefix("inside ") {
        return per_side.get(zone).copied().unwrap_or(0);
    }
    name.split(" ↔ ")
        .map(|s| per_side.get(s).copied().unwrap_or(0))
        .sum()
}

/// Observation time, gaps, packets and drops from the runs overlapping the period.
fn coverage(
    store: &Store,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    devices: usize,
) -> Result<Coverage> {
    let runs = store.runs().context("loading runs")?;
    let mut spans = Vec::new();
    let mut c = Coverage {
        observed_from: None,
        observed_to: None,
        observed_secs: 0.0,
        runs: 0,
        unfinished_runs: 0,
        gaps: Vec::new(),
        gaps_not_listed: 0,
        gap_secs: 0.0,
        packets: 0,
        kernel_drops: 0,
        counters: BTreeMap::new(),
        devices,
        statement: String::new(),
    };
    for run in &runs {
        let end = run
            .finished_at
            .into_iter()
            .chain(run.progress.last_packet_at)
            .max()
            .unwrap_or(run.started_at)
            .max(run.started_at);
        let start = from.map_or(run.started_at, |f| run.started_at.max(f));
        let end = to.map_or(end, |t| end.min(t));
        if end < start || (end == start && run.progress.packets == 0) {
            continue;
        }
        spans.push((start, end));
        c.runs += 1;
        if !run.finished {
            c.unfinished_runs += 1;
        }
        c.packets = c.packets.saturating_add(run.progress.packets);
        for (name, n) in &run.progress.counters {
            let sum = c.counters.entry(name.clone()).or_default();
            *sum = sum.saturating_add(*n);
        }
    }
    c.kernel_drops = c.counters.get("kernel_drops").copied().unwrap_or(0);
    spans.sort();
    let mut merged: Vec<(Timestamp, Timestamp)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    c.observed_from = merged.first().map(|s| s.0);
    c.observed_to = merged.last().map(|s| s.1);
    let secs = |a: Timestamp, b: Timestamp| b.micros_since(a) as f64 / 1e6;
    c.observed_secs = merged.iter().map(|(s, e)| secs(*s, *e)).sum();
    // Gaps between runs, and before the first / after the last run when the period
    // is bounded.
    let mut edges: Vec<(Timestamp, Timestamp)> =
        merged.windows(2).map(|w| (w[0].1, w[1].0)).collect();
    if let (Some(f), Some(first)) = (from, c.observed_from) {
        edges.insert(0, (f, first));
    }
    if let (Some(t), Some(last)) = (to, c.observed_to) {
        edges.push((last, t));
    }
    if merged.is_empty() {
        if let (Some(f), Some(t)) = (from, to) {
            edges.push((f, t));
        }
    }
    for (a, b) in edges {
        let len = secs(a, b);
        if len < MIN_GAP_SECS {
            continue;
        }
        c.gap_secs += len;
        if c.gaps.len() < MAX_GAPS {
            c.gaps.push(Gap {
                from: a,
                to: b,
                secs: len,
            });
        } else {
            c.gaps_not_listed += 1;
        }
    }
    c.statement = coverage_statement(&c);
    Ok(c)
}

fn duration_text(secs: f64) -> String {
    if secs >= 2.0 * 86_400.0 {
        format!("{:.1} days", secs / 86_400.0)
    } else if secs >= 2.0 * 3_600.0 {
        format!("{:.1} hours", secs / 3_600.0)
    } else if secs >= 120.0 {
        format!("{:.0} minutes", secs / 60.0)
    } else {
        format!("{secs:.0} seconds")
    }
}

fn coverage_statement(c: &Coverage) -> String {
    let (Some(first), Some(last)) = (c.observed_from, c.observed_to) else {
        return "Nothing was captured in this period: no verdict can be given.".to_string();
    };
    let mut s = format!(
        "Watched for {} between {first} and {last} in {} run{}: {} packet{}, {} device{}.",
        duration_text(c.observed_secs),
        c.runs,
        plural(c.runs as u64),
        c.packets,
        plural(c.packets),
        c.devices,
        plural(c.devices as u64),
    );
    let gaps = c.gaps.len() + c.gaps_not_listed;
    if gaps > 0 {
        let _ = write!(
            s,
            " Not watched for {} in {gaps} gap{}: anything in those gaps was not seen.",
            duration_text(c.gap_secs),
            plural(gaps as u64)
        );
    } else {
        s.push_str(" No gaps in capture.");
    }
    if c.kernel_drops > 0 {
        let _ = write!(
            s,
            " {} packet{} were dropped before analysis.",
            c.kernel_drops,
            plural(c.kernel_drops)
        );
    } else {
        s.push_str(" No packets were dropped by the capture.");
    }
    if c.unfinished_runs > 0 {
        let _ = write!(
            s,
            " {} run{} did not finish normally (stopped, killed or still going).",
            c.unfinished_runs,
            plural(c.unfinished_runs as u64)
        );
    }
    s
}

impl AirgapReport {
    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Every field is plain data with string keys, so serialisation cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The report as one self-contained, printable HTML page.
    pub fn to_html(&self) -> String {
        html::render(self)
    }
}
