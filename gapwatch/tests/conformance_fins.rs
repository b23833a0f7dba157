//! Omron FINS events against tshark, capture by capture: every command and response,
//! by command code and direction (`tshark -Y omron.command -e omron.command -e omron.icf.dtb`).

mod common;

use common::{events, gapwatch, num, ours_by_function, setup, tshark};
use std::collections::BTreeMap;

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
