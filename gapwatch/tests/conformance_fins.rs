//! Omron FINS events against tshark, capture by capture: every command and response,
//! by command code and direction (`tshark -Y omron.command -e omron.command -e omron.icf.dtb`).

mod common;

use common::{gapwatch, have_tshark, shared_pcaps, tshark};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `event` records of `protocol` that `gapwatch analyze --json` writes for `capture`.
fn events(capture: &Path, protocol: &str) -> Vec<Value> {
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
        .collect()
}

/// The shared captures directory and tshark, or `None` (with the reason printed).
fn setup() -> Option<PathBuf> {
    let dir = shared_pcaps()?;
    have_tshark().then_some(dir)
}

/// Parses a tshark number field (decimal or 0x-hex).
fn num(s: &str) -> u64 {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    }
    .unwrap_or_else(|_| panic!("tshark number {s:?}"))
}

/// Counts by (function, is_response) of our events.
fn ours_by_function(evs: &[Value]) -> BTreeMap<(u64, bool), u64> {
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

/// (capture, messages tshark dissects). Totals from
/// `tshark -r F -Y omron.command -T fields -e omron.command | tr , '\n' | grep -c .`.
const CAPTURES: &[(&str, u64)] = &[
    ("emreekin-ics-pcaps/OMRON/omron.pcap", 245),
    ("emreekin-ics-pcaps/OMRON/omron1.pcap", 100),
    ("emreekin-ics-pcaps/OMRON/omron2.pcap", 100),
    ("icsnpp-omron-fins/testing/traces/omron_test.pcap", 4),
    (
        "icsnpp-omron-fins/testing/traces/omron_fins_tcp_commands_responses.pcap",
        16,
    ),
    ("malcolm-test-artifacts/pcap/protocols/OmronFINS.pcap", 265),
    ("ndpi/tests/cfgs/default/pcap/fins.pcap", 249),
];

#[test]
fn fins_commands_and_responses_equal_tsharks() {
    let Some(dir) = setup() else { return };
    for (name, total) in CAPTURES {
        let cap = dir.join(name);
        let evs = events(&cap, "fins");
        let ours = ours_by_function(&evs);
        let mut theirs: BTreeMap<(u64, bool), u64> = BTreeMap::new();
        // ICF bit 6 (tshark's "data type bit") marks responses.
        let out = tshark(
            &cap,
            &[
                "-Y",
                "omron.command",
                "-T",
                "fields",
                "-E",
                "occurrence=a",
                "-E",
                "aggregator=,",
                "-e",
                "omron.command",
                "-e",
                "omron.icf.dtb",
            ],
        );
        for line in out.lines() {
            let (cmds, dtbs) = line.split_once('\t').expect("two fields");
            for (c, d) in cmds.split(',').zip(dtbs.split(',')) {
                *theirs.entry((num(c), num(d) == 1)).or_default() += 1;
            }
        }
        assert_eq!(ours, theirs, "{name}");
        assert_eq!(evs.len() as u64, *total, "{name}");
    }
}

#[test]
fn fins_plc_stop_run_and_identity_on_the_tcp_capture() {
    let Some(dir) = setup() else { return };
    let cap = dir.join("icsnpp-omron-fins/testing/traces/omron_fins_tcp_commands_responses.pcap");
    let evs = events(&cap, "fins");
    let control: Vec<(&str, bool)> = evs
        .iter()
        .filter(|e| e["op"] == "control")
        .map(|e| {
            (
                e["function_name"].as_str().unwrap_or(""),
                e["is_response"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        control,
        [
            ("run", false),
            ("run", true),
            ("stop", false),
            ("stop", true)
        ]
    );
    // tshark -r F -Y 'omron.command==0x0501 && omron.icf.dtb==1' -T fields -e omron.controller.model
    let models = tshark(
        &cap,
        &[
            "-Y",
            "omron.command==0x0501 && omron.icf.dtb==1",
            "-T",
            "fields",
            "-e",
            "omron.controller.model",
        ],
    );
    let model = models
        .lines()
        .next()
        .expect("a controller data read response")
        .trim()
        .to_string();
    let out = gapwatch(&["analyze", "--json", &cap.display().to_string()]);
    let assets = String::from_utf8_lossy(&out.stdout);
    assert!(
        assets
            .lines()
            .any(|l| l.contains("\"kind\":\"asset\"")
                && l.contains(&format!("\"model\":\"{model}\""))),
        "an asset with model {model}"
    );
}
