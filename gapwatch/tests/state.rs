//! `--state DIR`: assets and flow summaries kept in SQLite; a run killed with SIGKILL at
//! any moment leaves a store that opens cleanly and takes the next run.

mod common;

use common::{analyze_json, gapwatch, smoke};
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;
use store::{FlowFilter, Store};

#[test]
fn the_store_holds_the_same_assets_and_flows_as_the_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (flows, assets) = analyze_json(&["--state", state.to_str().unwrap()], &[&smoke()]);
    let store = Store::open(&state).expect("the state folder opens");
    let stored = store.load_assets().unwrap();
    let ids = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();
    assert_eq!(
        ids(stored.iter().map(|a| a.id.clone()).collect()),
        ids(assets
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect())
    );
    // Each stored asset serialises exactly as the JSON record did.
    for asset in &stored {
        let json = serde_json::to_value(asset).unwrap();
        assert!(assets.contains(&json), "{json}");
    }
    assert_eq!(store.count_flows().unwrap(), flows.len() as u64);
    let stored_flows = store.flows(&FlowFilter::default()).unwrap();
    let first = serde_json::to_value(&stored_flows[0].record).unwrap();
    assert!(flows.contains(&first), "{first}");
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].finished);
    assert_eq!(runs[0].progress.packets, 4_115);
}

#[test]
fn a_run_killed_at_any_moment_leaves_a_store_that_reopens_and_continues() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let smoke = smoke();
    let many: Vec<&std::path::Path> = std::iter::repeat_n(smoke.as_path(), 300).collect();
    // Kill at growing delays until three runs were caught mid-way (a run is recorded at
    // its first packet; earlier kills hit start-up, which must be harmless too).
    let interrupted_runs = |state: &std::path::Path| {
        Store::open(state)
            .map(|s| s.runs().unwrap().iter().filter(|r| !r.finished).count())
            .unwrap_or(0)
    };
    for delay_ms in (1..=40u64).map(|n| n * 15) {
        if interrupted_runs(&state) >= 3 {
            break;
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_gapwatch"))
            .arg("analyze")
            .arg("--state")
            .arg(&state)
            .args(&many)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gapwatch starts");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let store = Store::open(&state).expect("a killed run leaves a store that opens");
        assert_eq!(
            store.integrity_check().unwrap(),
            Ok(()),
            "after a kill at {delay_ms} ms"
        );
        drop(store);
    }
    let interrupted = interrupted_runs(&state);
    assert!(
        interrupted >= 3,
        "only {interrupted} runs were killed mid-way: use a longer input"
    );
    // A clean run on top of the killed ones completes and is recorded as finished.
    let out = gapwatch(&[
        "analyze",
        "--state",
        state.to_str().unwrap(),
        smoke.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::open(&state).unwrap();
    let runs = store.runs().unwrap();
    let last = runs.last().expect("runs are recorded");
    assert!(last.finished);
    assert_eq!(last.progress.packets, 4_115);
    assert_eq!(store.load_assets().unwrap().len(), 19);
}

#[test]
fn the_event_log_counts_every_message_once_and_finds_them_again() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let out = gapwatch(&[
        "analyze",
        "--json",
        "--state",
        state.to_str().unwrap(),
        smoke().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    // Every event record of the JSON output, protocol anomalies included, per protocol.
    let mut emitted: std::collections::BTreeMap<String, u64> = Default::default();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["kind"] == "event" {
            *emitted
                .entry(v["protocol"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    let events = |extra: &[&str]| -> Vec<serde_json::Value> {
        let mut args = vec!["events", "--json", "--limit", "1000000", "--state"];
        args.push(state.to_str().unwrap());
        args.extend_from_slice(extra);
        let out = gapwatch(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let mut logged: std::collections::BTreeMap<String, u64> = Default::default();
    let lines = events(&[]);
    for line in &lines {
        *logged
            .entry(line["protocol"].as_str().unwrap().to_string())
            .or_default() += line["count"].as_u64().unwrap();
    }
    assert_eq!(logged, emitted);
    assert_eq!(emitted["modbus"], 308);
    // Folding per minute: far fewer lines than messages.
    let messages: u64 = emitted.values().sum();
    assert!(lines.len() as u64 * 3 < messages, "{} lines", lines.len());
    // Searches: by protocol and operation, and by address.
    let reads = events(&["--protocol", "modbus", "--op", "read"]);
    assert!(!reads.is_empty());
    for line in &reads {
        assert_eq!(line["protocol"], "modbus");
        assert_eq!(line["op"], "read");
    }
    let plc = events(&["--ip", "10.10.1.11", "--text", "read_holding_registers"]);
    let pairs: BTreeSet<(String, String)> = plc
        .iter()
        .filter(|l| l["is_response"] == false)
        .map(|l| {
            (
                l["src_ip"].as_str().unwrap().to_string(),
                l["dst_ip"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The HMI, the SCADA server and the historian poll the Modbus PLC.
    let pollers: BTreeSet<&str> = pairs.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        pollers,
        BTreeSet::from(["10.10.2.10", "10.10.2.20", "10.10.2.30"])
    );
    assert!(pairs.iter().all(|(_, d)| d == "10.10.1.11"));
}
