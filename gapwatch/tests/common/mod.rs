//! Helpers shared by the command-line tests.
#![allow(dead_code)] // each test file uses a different subset

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The bundled lab capture every test can rely on.
pub fn smoke() -> PathBuf {
    root().join("lab/captures/smoke.pcap")
}

/// `../shared/pcaps`, when present.
pub fn shared_pcaps() -> Option<PathBuf> {
    let dir = root().join("../shared/pcaps");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: {} is not present (it is only beside CI checkouts)",
            dir.display()
        );
        None
    }
}

/// True when tshark can be run; prints why not otherwise.
pub fn have_tshark() -> bool {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "skipping the tshark cross-check: tshark is not installed (apt-get install tshark)"
        );
    }
    ok
}

/// Runs the gapwatch binary.
pub fn gapwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gapwatch"))
        .args(args)
        .output()
        .expect("the gapwatch binary built by cargo can be started")
}

/// Runs `gapwatch analyze --json` and returns its flow and asset records (events are
/// checked by the per-protocol conformance tests).
pub fn analyze_json(extra: &[&str], captures: &[&Path]) -> (Vec<Value>, Vec<Value>) {
    let mut args = vec!["analyze", "--json"];
    args.extend_from_slice(extra);
    let paths: Vec<String> = captures.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let out = gapwatch(&args);
    assert!(
        out.status.success(),
        "gapwatch {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut flows = Vec::new();
    let mut assets = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: Value = serde_json::from_str(line).expect("every stdout line is a JSON record");
        match v["kind"].as_str() {
            Some("flow") => flows.push(v),
            Some("asset") => assets.push(v),
            Some("event") | Some("alert") => {}
            other => panic!("unexpected record kind {other:?}"),
        }
    }
    (flows, assets)
}

/// Runs tshark with `args` on `capture` and returns stdout.
pub fn tshark(capture: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(capture)
        .args(args)
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `event` records of `protocol` that `gapwatch analyze --json` writes for `capture`,
/// decoded messages only (not `protocol_anomaly` events).
pub fn events(capture: &Path, protocol: &str) -> Vec<Value> {
    let path = capture.display().to_string();
    let out = gapwatch(&["analyze", "--json", &path]);
    assert!(
        out.status.success(),
        "gapwatch failed on {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("every stdout line is JSON"))
        .filter(|v| v["kind"] == "event" && v["protocol"] == protocol)
        .filter(|v| v["function_name"] != "protocol_anomaly")
        .collect()
}

/// The shared captures directory and tshark, or `None` (with the reason printed).
pub fn setup() -> Option<PathBuf> {
    let dir = shared_pcaps()?;
    have_tshark().then_some(dir)
}

/// Parses a tshark number field (decimal or 0x-hex).
pub fn num(s: &str) -> u64 {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    }
    .unwrap_or_else(|_| panic!("tshark number {s:?}"))
}

/// Counts by (function, is_response) of our events.
pub fn ours_by_function(evs: &[Value]) -> BTreeMap<(u64, bool), u64> {
    let mut m = BTreeMap::new();
    for e in evs {
        let k = (
            e["function"].as_u64().expect("function"),
            e["is_response"].as_bool().expect("is_response"),
        );
        *m.entry(k).or_default() += 1;
    }
    m
}
