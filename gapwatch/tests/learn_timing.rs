//! The timing, volume and beaconing models on the lab captures: each labelled incident
//! of theirs alerts, and normal plant operation raises nothing from them.

mod common;

use common::{gapwatch, root};
use serde_json::Value;

const MODELS: [&str; 3] = ["timing", "volume", "beaconing"];

/// Alert records of these models from `gapwatch analyze --learn LEARN --json CAPTURE`.
fn alerts(learn: &str, capture: &str) -> Vec<Value> {
    let path = root().join("lab/captures").join(capture);
    let path = path.display().to_string();
    let out = gapwatch(&["analyze", "--learn", learn, "--json", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "alert" && MODELS.contains(&v["model"].as_str().unwrap_or("")))
        .collect()
}

fn brief(a: &Value) -> [String; 6] {
    ["ts", "category", "src_ip", "dst_ip", "title", "severity"].map(|k| match &a[k] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

#[test]
fn incidents_beaconing_exfiltration_cycle_change_and_silence_alert() {
    let found: Vec<[String; 6]> = alerts("9m", "incidents.pcap.gz")
        .iter()
        .map(brief)
        .collect();
    let expect = [
        [
            "2026-11-28T08:39:25.911540Z",
            "beaconing",
            "10.10.2.30",
            "203.0.113.50",
            "10.10.2.30 beacons to 203.0.113.50 port 8080 (http) every 15.0 s",
            "high",
        ],
        [
            "2026-11-28T08:42:41.029405Z",
            "exfiltration",
            "10.10.3.20",
            "203.0.113.50",
            "10.10.3.20 uploaded 6.8 MiB to 203.0.113.50",
            "high",
        ],
        [
            "2026-11-28T08:44:13.879716Z",
            "timing_anomaly",
            "10.10.2.10",
            "10.10.1.11",
            "Polling cycle of 10.10.1.11 by 10.10.2.10 changed from 1.00 s to 0.20 s",
            "high",
        ],
        [
            "2026-11-28T08:44:45.879702Z",
            "volume_anomaly",
            "10.10.2.10",
            "10.10.1.11",
            "10.10.2.10 made 184 modbus requests in 60 s to 10.10.1.11",
            "high",
        ],
        [
            "2026-11-28T08:50:06.079739Z",
            "timing_anomaly",
            "10.10.1.13",
            "10.10.2.10",
            "10.10.1.13 went silent",
            "high",
        ],
    ]
    .map(|a| a.map(String::from));
    assert_eq!(found, expect);
}

#[test]
fn normal_operation_raises_nothing_after_learning() {
    for learn in ["5m", "15m"] {
        let found = alerts(learn, "normal.pcap.gz");
        assert!(found.is_empty(), "learning {learn}: {found:#?}");
    }
}
