//! `gapwatch eval`: scores alerts against labelled attack phases (DESIGN.md, "Labels for
//! evaluation").
//!
//! An alert detects a phase when its time falls in [start, end + 60 s] and one of its
//! addresses is among the phase's hosts. An alert that detects no phase is a false alert;
//! false alerts are counted per hour of normal traffic (the observed time after learning,
//! outside every phase window).

use anyhow::{Context, Result};
use learn::Alert;
use records::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

/// Grace after a phase ends within which an alert still counts as detecting it.
const GRACE_MICROS: i64 = 60_000_000;

/// The labels file.
#[derive(Debug, Deserialize)]
pub struct Labels {
    /// Labelled phases.
    pub phases: Vec<Phase>,
}

/// One labelled phase.
#[derive(Debug, Deserialize)]
pub struct Phase {
    /// Name.
    pub name: String,
    /// Expected alert category.
    pub category: String,
    /// Start (epoch seconds or RFC 3339).
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// Addresses involved.
    pub hosts: Vec<IpAddr>,
}

impl Labels {
    /// Reads and checks a labels file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading labels {}", path.display()))?;
        let labels: Labels = serde_json::from_str(&text)
            .with_context(|| format!("labels {}: not the expected JSON", path.display()))?;
        for (i, phase) in labels.phases.iter().enumerate() {
            if phase.end < phase.start {
                anyhow::bail!(
                    "labels {}: phase {} ({:?}) ends before it starts",
                    path.display(),
                    i + 1,
                    phase.name
                );
            }
        }
        Ok(labels)
    }
}

/// How one phase was detected.
#[derive(Debug, Serialize)]
pub struct PhaseResult {
    /// Phase name.
    pub name: String,
    /// Expected category.
    pub category: String,
    /// Some alert detected it.
    pub detected: bool,
    /// Seconds from the phase start to the first detecting alert.
    pub time_to_detect_s: Option<f64>,
    /// A detecting alert has the expected category.
    pub category_agrees: bool,
    /// Categories of the detecting alerts.
    pub categories: Vec<String>,
}

/// The evaluation's outcome.
#[derive(Debug, Serialize)]
pub struct Evaluation {
    /// Per phase.
    pub phases: Vec<PhaseResult>,
    /// Alerts that detect no phase.
    pub false_alerts: Vec<u64>,
    /// Hours of normal traffic after learning (outside every phase window).
    pub normal_hours: f64,
    /// False alerts per hour of normal traffic.
    pub false_alerts_per_hour: f64,
    /// Alerts in all.
    pub alerts: usize,
}

/// Scores `alerts` against `labels`. `observed`: first and last packet time;
/// `learn_end`: when learning ended.
pub fn evaluate(
    labels: &Labels,
    alerts: &[Alert],
    observed: (Timestamp, Timestamp),
    learn_end: Timestamp,
) -> Evaluation {
    let detects = |alert: &Alert, phase: &Phase| {
        alert.ts >= phase.start
            && alert.ts <= phase.end.plus_micros(GRACE_MICROS)
            && alert.addresses().any(|ip| phase.hosts.contains(&ip))
    };
    let phases = labels
        .phases
        .iter()
        .map(|phase| {
            let hits: Vec<&Alert> = alerts.iter().filter(|a| detects(a, phase)).collect();
            let mut categories: Vec<String> =
                hits.iter().map(|a| a.category.name().to_string()).collect();
            categories.sort();
            categories.dedup();
            PhaseResult {
                name: phase.name.clone(),
                category: phase.category.clone(),
                detected: !hits.is_empty(),
                time_to_detect_s: hits
                    .iter()
                    .map(|a| a.ts.micros_since(phase.start) as f64 / 1e6)
                    .reduce(f64::min),
                category_agrees: categories.contains(&phase.category),
                categories,
            }
        })
        .collect();
    let false_alerts: Vec<u64> = alerts
        .iter()
        .filter(|a| !labels.phases.iter().any(|p| detects(a, p)))
        .map(|a| a.id)
        .collect();
    let normal_hours = normal_time(labels, observed, learn_end) / 3.6e9;
    Evaluation {
        phases,
        false_alerts_per_hour: if normal_hours > 0.0 {
            false_alerts.len() as f64 / normal_hours
        } else {
            0.0
        },
        false_alerts,
        normal_hours,
        alerts: alerts.len(),
    }
}

/// Microseconds of observed time after learning that no phase window covers.
fn normal_time(
    labels: &Labels,
    (first, last): (Timestamp, Timestamp),
    learn_end: Timestamp,
) -> f64 {
    let start = first.max(learn_end);
    if last <= start {
        return 0.0;
    }
    let mut windows: Vec<(i64, i64)> = labels
        .phases
        .iter()
        .map(|p| (p.start.micros(), p.end.plus_micros(GRACE_MICROS).micros()))
        .collect();
    windows.sort_unstable();
    let mut covered = 0i64;
    let mut cursor = start.micros();
    for (a, b) in windows {
        let a = a.max(cursor);
        let b = b.min(last.micros());
        if b > a {
            covered += b - a;
            cursor = b;
        }
    }
    (last.micros() - start.micros() - covered) as f64
}

impl Evaluation {
    /// The human table.
    pub fn render(&self, alerts: &[Alert]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<58} {:<20} {:<8} {:>9}  {:<9} alert categories",
            "phase", "expected", "detected", "detect s", "category"
        );
        for p in &self.phases {
            let _ = writeln!(
                out,
                "{:<58} {:<20} {:<8} {:>9}  {:<9} {}",
                truncate(&p.name, 58),
                p.category,
                if p.detected { "yes" } else { "NO" },
                p.time_to_detect_s
                    .map_or_else(|| "-".to_string(), |s| format!("{s:.1}")),
                if p.category_agrees {
                    "agrees"
                } else {
                    "differs"
                },
                p.categories.join(",")
            );
        }
        let detected = self.phases.iter().filter(|p| p.detected).count();
        let agree = self.phases.iter().filter(|p| p.category_agrees).count();
        let _ = writeln!(
            out,
            "\nphases detected {detected}/{n}, category agrees {agree}/{n}; alerts {a}; false alerts {f} in {h:.2} h of normal traffic after learning ({r:.2} per hour)",
            n = self.phases.len(),
            a = self.alerts,
            f = self.false_alerts.len(),
            h = self.normal_hours,
            r = self.false_alerts_per_hour
        );
        for id in &self.false_alerts {
            if let Some(a) = alerts.iter().find(|a| a.id == *id) {
                let _ = writeln!(
                    out,
                    "  false alert {}: {} {} {} {}",
                    a.id,
                    a.ts,
                    a.category.name(),
                    a.src_ip.map_or_else(String::new, |ip| ip.to_string()),
                    a.title
                );
            }
        }
        out
    }
}

fn truncate(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        let cut: String = text.chars().take(n - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use learn::{Category, Finding};

    fn alert(id: u64, ts_s: i64, category: Category, src: &str, dst: &str) -> Alert {
        let finding = Finding::new(Timestamp(ts_s * 1_000_000), category, "t", 0.9, "t", "e")
            .between(Some(src.parse().unwrap()), Some(dst.parse().unwrap()), None);
        let mut alerter = learn::alert::Alerter::new(1);
        alerter.add(&finding, &Default::default());
        let mut alert = alerter.close_all().remove(0);
        alert.id = id;
        alert
    }

    #[test]
    fn scores_detection_category_and_false_alerts_per_normal_hour() {
        let labels: Labels = serde_json::from_str(
            r#"{"phases": [
              {"name": "scan", "category": "scan", "start": 1000.0, "end": 1060.0, "hosts": ["10.0.0.66"]},
              {"name": "stop", "category": "plc_control", "start": 2000.0, "end": 2010.0, "hosts": ["10.0.0.5"]}
            ]}"#,
        )
        .unwrap();
        let alerts = vec![
            alert(1, 1100, Category::NewDevice, "10.0.0.66", "10.0.0.5"),
            alert(2, 1010, Category::Scan, "10.0.0.66", "10.0.0.7"),
            alert(3, 1500, Category::NewConnection, "10.0.0.9", "10.0.0.8"),
            alert(4, 2100, Category::PlcControl, "10.0.0.40", "10.0.0.5"),
        ];
        let eval = evaluate(
            &labels,
            &alerts,
            (Timestamp(0), Timestamp(4_600_000_000)),
            Timestamp(1_000_000_000),
        );
        assert!(eval.phases[0].detected && eval.phases[0].category_agrees);
        assert_eq!(eval.phases[0].time_to_detect_s, Some(10.0));
        assert_eq!(eval.phases[0].categories, vec!["new_device", "scan"]);
        assert!(!eval.phases[1].detected, "alert 4 is 90 s after the end");
        assert_eq!(eval.false_alerts, vec![3, 4]);
        // 3600 s after learning, minus the windows 1000–1120 and 2000–2070.
        assert!((eval.normal_hours - (3600.0 - 120.0 - 70.0) / 3600.0).abs() < 1e-9);
        assert!(eval.render(&alerts).contains("phases detected 1/2"));
    }
}
