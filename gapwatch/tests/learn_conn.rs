//! The novelty, connections and scan models on the lab captures, end to end: the rogue
//! device's ICS scan gives `new_device` and `scan`, the IT workstation reaching the
//! control cell gives `it_ot_crossing`, and normal operation after learning gives none
//! of their alerts.

mod common;

use serde_json::Value;

const MODELS: &[&str] = &["novelty", "connections", "scan"];

fn alerts(learn: &str, capture: &str) -> Vec<Value> {
    let path = common::root().join("lab/captures").join(capture);
    let out = common::gapwatch(&[
        "analyze",
        "--learn",
        learn,
        "--json",
        &path.display().to_string(),
    ]);
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

/// Seconds since the epoch of an RFC 3339 time.
fn secs(v: &Value) -> f64 {
    let ts: records::Timestamp = serde_json::from_value(v.clone()).unwrap();
    ts.as_secs_f64()
}

#[test]
fn incidents_give_the_scan_the_new_device_and_the_zone_crossing_and_nothing_else() {
    let all = alerts("9m", "incidents.pcap.gz");
    let labels: Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("lab/captures/incidents.labels.json"))
            .unwrap(),
    )
    .unwrap();
    let phase = |name: &str| {
        labels["phases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| {
                (
                    p["start"].as_f64().unwrap(),
                    p["end"].as_f64().unwrap() + 60.0,
                )
            })
            .unwrap()
    };
    let find = |category: &str, src: &str| {
        all.iter()
            .find(|a| a["category"] == category && a["src_ip"] == src)
            .unwrap_or_else(|| panic!("no {category} alert from {src} in {all:#?}"))
    };
    let scan = phase("rogue device ICS scan");
    let crossing = phase("new connection from IT workstation into control cell");
    let in_phase = |a: &Value, (start, end): (f64, f64)| (start..=end).contains(&secs(&a["ts"]));

    let s = find("scan", "10.10.1.66");
    assert!(in_phase(s, scan));
    assert_eq!(s["model"], "scan");
    assert!(s["explanation"].as_str().unwrap().starts_with("10.10.1.66"));
    let d = find("new_device", "10.10.1.66");
    assert!(in_phase(d, scan));
    assert_eq!(d["src_mac"], "b8:27:eb:66:66:66");
    assert_eq!(d["title"], "New device 10.10.1.66");
    let c = find("it_ot_crossing", "10.10.4.10");
    assert!(in_phase(c, crossing));
    assert_eq!(c["dst_ip"], "10.10.1.11");
    assert_eq!(
        c["title"],
        "First traffic from zone 10.10.4.0/24 to zone 10.10.1.0/24"
    );
    for a in &all {
        assert!(
            in_phase(a, scan) || in_phase(a, crossing),
            "alert outside the scan and crossing phases: {a:#}"
        );
    }
}

#[test]
fn normal_operation_after_learning_gives_none_of_these_alerts() {
    let all = alerts("15m", "normal.pcap.gz");
    assert!(all.is_empty(), "{all:#?}");
}
