//! The learning engine end to end on the lab's captures: every labelled incident phase
//! is detected with its category by `gapwatch eval`, normal operation raises nothing
//! after learning, learnt state and alerts survive a restart (one run or two runs with
//! the same state give the same alerts), every alert has an evidence capture, and the
//! baseline and triage commands work on the state folder.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};

fn lab(name: &str) -> PathBuf {
    common::root().join("lab/captures").join(name)
}

fn run_ok(args: &[&str]) -> String {
    let out = common::gapwatch(args);
    assert!(
        out.status.success(),
        "gapwatch {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn eval_json(labels: &Path, learn: &str, capture: &Path) -> Value {
    let out = run_ok(&[
        "eval",
        "--json",
        "--labels",
        &labels.display().to_string(),
        "--learn",
        learn,
        &capture.display().to_string(),
    ]);
    serde_json::from_str(&out).expect("eval --json prints one JSON object")
}

#[test]
fn every_incident_phase_is_detected_with_its_category_and_nothing_else_alerts() {
    let eval = eval_json(
        &lab("incidents.labels.json"),
        "9m",
        &lab("incidents.pcap.gz"),
    );
    let phases = eval["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 11);
    for p in phases {
        assert_eq!(p["detected"], true, "phase not detected: {p}");
        assert_eq!(p["category_agrees"], true, "wrong category: {p}");
        let ttd = p["time_to_detect_s"].as_f64().unwrap();
        assert!(ttd <= 60.0, "detected late: {p}");
    }
    assert_eq!(eval["false_alerts"], serde_json::json!([]), "{eval:#}");
}

#[test]
fn normal_operation_raises_no_alert_after_learning() {
    let empty = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(empty.path(), r#"{"phases": []}"#).unwrap();
    let eval = eval_json(empty.path(), "15m", &lab("normal.pcap.gz"));
    assert_eq!(eval["alerts"], 0, "{eval:#}");
    assert!(eval["normal_hours"].as_f64().unwrap() > 0.49);
}

/// Writes the packets of `capture` (pcap, gzip) before and from `split_ts` (epoch
/// seconds) into two pcap files.
fn split_capture(capture: &Path, split_ts: u64, dir: &Path) -> (PathBuf, PathBuf) {
    use pcap_file::pcap::{PcapReader, PcapWriter};
    let file = std::fs::File::open(capture).unwrap();
    let mut reader = PcapReader::new(flate2::read::GzDecoder::new(file)).unwrap();
    let header = reader.header();
    let paths = (dir.join("part1.pcap"), dir.join("part2.pcap"));
    let mut first =
        PcapWriter::with_header(std::fs::File::create(&paths.0).unwrap(), header).unwrap();
    let mut second =
        PcapWriter::with_header(std::fs::File::create(&paths.1).unwrap(), header).unwrap();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.unwrap();
        if packet.timestamp.as_secs() < split_ts {
            first.write_packet(&packet).unwrap();
        } else {
            second.write_packet(&packet).unwrap();
        }
    }
    paths
}

/// The stored alerts of a state folder.
fn stored_alerts(state: &Path) -> Vec<Value> {
    run_ok(&["alerts", "--json", "--state", &state.display().to_string()])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// An alert without what legitimately differs between one run and two: flows open at
/// the split end with the first run and reopen under new ids, the evidence file is per state folder, and the title and
/// explanation name devices by the role this run's inventory has given them so far
/// (the inventory is rebuilt from the packets of each run).
fn substance(alert: &Value) -> Value {
    let mut v = alert.clone();
    let map = v.as_object_mut().unwrap();
    map.remove("explanation");
    map.remove("title");
    map["evidence"]["flow_ids"] = Value::Null;
    map["evidence"]["pcap"] = Value::Null;
    v
}

#[test]
fn one_run_or_two_runs_with_the_same_state_give_the_same_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let capture = lab("incidents.pcap.gz");
    let whole = dir.path().join("whole");
    let split = dir.path().join("split");
    let w = whole.display().to_string();
    let s = split.display().to_string();
    run_ok(&[
        "analyze",
        "--learn",
        "9m",
        "--state",
        &w,
        &capture.display().to_string(),
    ]);
    // Split in the middle of the incidents, between two phases.
    let (part1, part2) = split_capture(&capture, 1_795_854_750, dir.path());
    run_ok(&[
        "analyze",
        "--learn",
        "9m",
        "--state",
        &s,
        &part1.display().to_string(),
    ]);
    run_ok(&[
        "analyze",
        "--learn",
        "9m",
        "--state",
        &s,
        &part2.display().to_string(),
    ]);
    let a: Vec<Value> = stored_alerts(&whole).iter().map(substance).collect();
    let b: Vec<Value> = stored_alerts(&split).iter().map(substance).collect();
    assert!(a.len() >= 11, "{a:#?}");
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    // The inventory carries over too: the second run never sees the Modbus device
    // identification of 08:28, yet the PLC keeps it, with its source, and its first
    // sighting from the first run.
    let whole_store = store::Store::open(&whole).unwrap();
    let split_store = store::Store::open(&split).unwrap();
    let plc = "mac:00:80:f4:01:01:0b";
    let one = whole_store.asset(plc).unwrap().unwrap();
    let two = split_store.asset(plc).unwrap().unwrap();
    assert_eq!(two.identity.model.as_deref(), Some("TM221CE16R"));
    assert_eq!(two.identity.firmware.as_deref(), Some("1.6.2"));
    let source = &two.identity.sources["model"];
    assert_eq!(source.protocol, "modbus");
    assert_eq!(source.ts.to_string(), "2026-11-28T08:28:01.928143Z");
    assert_eq!(two.identity, one.identity);
    assert_eq!(
        (two.first_seen, two.last_seen),
        (one.first_seen, one.last_seen)
    );
    assert_eq!(two.role, one.role);
    // Flow ids go on counting in the second run: each names one stored flow.
    let flows = split_store.flows(&store::FlowFilter::default()).unwrap();
    let runs: std::collections::BTreeSet<_> = flows.iter().map(|f| f.run).collect();
    assert_eq!(runs.len(), 2);
    let ids: std::collections::BTreeSet<u64> = flows.iter().map(|f| f.record.id).collect();
    assert_eq!(ids.len(), flows.len());
}

#[test]
fn alerts_carry_evidence_and_the_state_explains_and_accepts_them() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().display().to_string();
    run_ok(&[
        "analyze",
        "--learn",
        "9m",
        "--state",
        &state,
        &lab("incidents.pcap.gz").display().to_string(),
    ]);
    let alerts = stored_alerts(dir.path());
    // Every alert with an address has its evidence capture, holding its packets.
    for alert in &alerts {
        let id = alert["id"].as_u64().unwrap();
        let pcap = dir.path().join(format!("evidence/alert-{id}.pcap"));
        assert!(pcap.is_file(), "no evidence for alert {id}: {alert}");
        if let (Some(src), true) = (alert["src_ip"].as_str(), common::have_tshark()) {
            let filter = format!("ip.addr == {src}");
            let shown = common::tshark(&pcap, &["-Y", &filter]);
            assert!(!shown.trim().is_empty(), "alert {id}: no packet of {src}");
        }
    }
    // The baseline speaks of the HMI's polling of PLC 1.
    let baseline = run_ok(&["baseline", "--state", &state, "10.10.1.11"]);
    assert!(baseline.starts_with("learning since "), "{baseline}");
    assert!(baseline.contains("10.10.2.10"), "{baseline}");

    // Triage: marking the setpoint alert expected folds it into the baseline and is
    // listed with the alert.
    let value = alerts
        .iter()
        .find(|a| a["category"] == "value_anomaly")
        .expect("a value_anomaly alert");
    let id = value["id"].as_u64().unwrap().to_string();
    let said = run_ok(&[
        "alerts", "--state", &state, "--id", &id, "--set", "expected",
    ]);
    assert!(said.contains("baseline"), "{said}");
    let listed = run_ok(&["alerts", "--state", &state]);
    assert!(listed.contains(&format!("#{id} ")) && listed.contains("expected"));
}

#[test]
fn the_airgap_report_names_the_outside_crossings_and_zones_are_suggested() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().display().to_string();
    run_ok(&[
        "analyze",
        "--learn",
        "9m",
        "--state",
        &state,
        &lab("incidents.pcap.gz").display().to_string(),
    ]);
    let report: Value = serde_json::from_str(&run_ok(&[
        "report", "airgap", "--state", &state, "--format", "json",
    ]))
    .unwrap();
    let outside = report["boundaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "inside ↔ outside")
        .expect("the inside ↔ outside boundary");
    assert_eq!(outside["verdict"], "violated", "{outside:#}");
    assert!(!report["verdict"].is_null());
    assert_eq!(report["chain_head"].as_str().map(str::len), Some(64));
    let html = run_ok(&["report", "airgap", "--state", &state]);
    assert!(html.starts_with("<!DOCTYPE html>") || html.starts_with("<!doctype html>"));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));

    let zones = run_ok(&["zones", "suggest", "--state", &state]);
    assert!(zones.contains("cidrs = [\"10.10.1.0/24\"]"), "{zones}");
    let file = dir.path().join("zones.toml");
    std::fs::write(&file, &zones).unwrap();
    run_ok(&[
        "report",
        "airgap",
        "--state",
        &state,
        "--zones",
        &file.display().to_string(),
        "--format",
        "json",
    ]);
}

#[test]
fn a_zone_file_from_normal_operation_flags_the_it_workstation_from_its_first_packet() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("normal").display().to_string();
    run_ok(&[
        "analyze",
        "--state",
        &state,
        &lab("normal.pcap.gz").display().to_string(),
    ]);
    let zones = dir.path().join("zones.toml");
    std::fs::write(&zones, run_ok(&["zones", "suggest", "--state", &state])).unwrap();
    let zones = zones.display().to_string();
    // All phases still detected, nothing false, with the zone file in force.
    let eval: Value = serde_json::from_str(&run_ok(&[
        "eval",
        "--json",
        "--labels",
        &lab("incidents.labels.json").display().to_string(),
        "--learn",
        "9m",
        "--zones",
        &zones,
        &lab("incidents.pcap.gz").display().to_string(),
    ]))
    .unwrap();
    assert_eq!(eval["false_alerts"], serde_json::json!([]), "{eval:#}");
    // The zone policy reports the IT workstation reaching the control cell even when
    // the whole capture is learning time.
    let out = run_ok(&[
        "analyze",
        "--json",
        "--zones",
        &zones,
        &lab("incidents.pcap.gz").display().to_string(),
    ]);
    let crossing = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["kind"] == "alert" && v["model"] == "zone_policy")
        .expect("a zone-policy alert");
    assert_eq!(crossing["category"], "it_ot_crossing");
    assert_eq!(crossing["src_ip"], "10.10.4.10");
    assert_eq!(crossing["dst_ip"], "10.10.1.11");
    assert!(
        crossing["explanation"]
            .as_str()
            .unwrap()
            .contains("The zone file allows no such traffic from it-10-10-4 to control-10-10-1"),
        "{crossing}"
    );
}
