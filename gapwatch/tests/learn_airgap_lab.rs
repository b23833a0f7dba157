//! The air-gap scenario of the plant lab (lab/captures/airgap.pcap.gz, lab/README.md
//! "Air-gap scenario"): every phase is detected with its category and nothing else
//! alerts; the bridging findings carry the packets' numbers; the air-gap report lists
//! exactly the expected violations per boundary of the lab's zone file, and on normal
//! operation every boundary holds.

mod common;

use serde_json::Value;
use std::path::PathBuf;

fn lab(name: &str) -> PathBuf {
    common::root().join("lab").join(name)
}

fn run_ok(args: &[&str]) -> String {
    let out = common::gapwatch(args);
    assert!(
        out.status.success(),
        "gapwatch {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn capture() -> String {
    lab("captures/airgap.pcap.gz").display().to_string()
}

#[test]
fn every_air_gap_phase_is_detected_with_its_category_and_nothing_else_alerts() {
    let labels = lab("captures/airgap.labels.json").display().to_string();
    let eval: Value = serde_json::from_str(&run_ok(&[
        "eval",
        "--json",
        "--labels",
        &labels,
        "--learn",
        "9m",
        &capture(),
    ]))
    .unwrap();
    let phases: Vec<(&str, bool, bool)> = eval["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["category"].as_str().unwrap(),
                p["detected"].as_bool().unwrap(),
                p["category_agrees"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        phases,
        vec![
            ("external_connection", true, true),
            ("dns_external", true, true),
            ("it_ot_crossing", true, true),
            ("it_ot_crossing", true, true),
            ("it_ot_crossing", true, true),
            ("remote_access", true, true),
            ("file_transfer", true, true),
            ("file_transfer", true, true),
        ],
        "{eval:#}"
    );
    assert_eq!(eval["false_alerts"], serde_json::json!([]), "{eval:#}");
    assert_eq!(eval["alerts"], 21, "{eval:#}");
}

#[test]
fn the_dual_homed_laptop_and_the_cellular_router_are_bridging_alerts() {
    let out = run_ok(&["analyze", "--json", "--learn", "9m", &capture()]);
    let found: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["kind"] == "alert" && r["model"] == "bridging")
        .collect();
    let summary: Vec<(&str, &str, &str, &str)> = found
        .iter()
        .map(|a| {
            (
                a["category"].as_str().unwrap(),
                a["src_ip"].as_str().unwrap(),
                a["src_mac"].as_str().unwrap(),
                a["title"].as_str().unwrap(),
            )
        })
        .collect();
    // tshark on the capture: eng-laptop7's DHCP DISCOVERs from 00:1b:21:77:01:4d (cell
    // leg, unanswered) and 00:1b:21:77:04:4d (IT leg, lease 10.10.4.108); its pings from
    // 10.10.1.77; itws1 (10.10.4.10) and itdns (10.10.4.2) reaching plc1 with the
    // laptop's MAC and TTL 63 on the cell segment; cell1's DHCP with option 60 ciscopnp.
    let laptop = "00:1b:21:77:01:4d";
    assert_eq!(
        summary,
        vec![
            (
                "it_ot_crossing",
                "10.10.1.77",
                laptop,
                "Host eng-laptop7 in two zones: 10.10.1.0/24 and 10.10.4.0/24"
            ),
            (
                "it_ot_crossing",
                "10.10.1.77",
                laptop,
                "Dual-homed host: MAC 00:1b:21:77:01:4d in 10.10.1.0/24 and 10.10.4.0/24"
            ),
            (
                "it_ot_crossing",
                "10.10.4.10",
                laptop,
                "Host forwarding from 10.10.4.0/24 to 10.10.1.0/24: MAC 00:1b:21:77:01:4d"
            ),
            (
                "it_ot_crossing",
                "10.10.1.77",
                laptop,
                "New gateway: MAC 00:1b:21:77:01:4d carries 2 addresses it never claimed"
            ),
            (
                "it_ot_crossing",
                "10.10.1.99",
                "00:1b:0d:99:01:63",
                "Router or modem inside: DHCP vendor class \"ciscopnp\" (Cisco Plug-and-Play \
                 router)"
            ),
        ]
    );
    assert_eq!(
        found[0]["explanation"],
        "The host name eng-laptop7 was announced from 2 MACs: MAC 00:1b:21:77:01:4d with \
         10.10.1.77 in 10.10.1.0/24; MAC 00:1b:21:77:04:4d with 10.10.4.108 in 10.10.4.0/24. \
         One machine with interfaces in 10.10.1.0/24 and 10.10.4.0/24 is a bridge between them."
    );
    assert_eq!(found[2]["ts"], "2026-11-28T13:55:49.293356Z");
    assert_eq!(
        found[2]["explanation"],
        "A packet from 10.10.4.10 (IT host itws1) to 10.10.1.11 (PLC) (IPv4 id 1343, 60 \
         bytes) was sent by MAC 00:0f:ea:01:04:0a with TTL 64 and seen again 13 µs later from \
         MAC 00:1b:21:77:01:4d (10.10.1.77) with TTL 63: that MAC routed it from \
         10.10.4.0/24 into 10.10.1.0/24. It relayed nothing while learning."
    );
    assert_eq!(found[2]["severity"], "critical");
    assert!(
        found[3]["explanation"]
            .as_str()
            .unwrap()
            .contains("never claimed in ARP: 10.10.4.10, 10.10.4.2."),
        "{:#}",
        found[3]
    );
    assert_eq!(found[4]["protocol"], "dhcp");
}

/// (category, protocol, source, hosts) of each violation of one boundary.
type Violations = Vec<(String, String, String, Vec<String>)>;

fn boundaries(report: &Value) -> Vec<(String, String, Violations)> {
    let text = |v: &Value| v.as_str().unwrap_or("-").to_string();
    report["boundaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let violations = b["violations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    let hosts = v["hosts"].as_array().unwrap().iter().map(text).collect();
                    (
                        text(&v["category"]),
                        text(&v["protocol"]),
                        text(&v["source"]),
                        hosts,
                    )
                })
                .collect();
            (text(&b["name"]), text(&b["verdict"]), violations)
        })
        .collect()
}

fn report(learn: &str, capture: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().display().to_string();
    run_ok(&["analyze", "--learn", learn, "--state", &state, capture]);
    let zones = lab("zones.toml").display().to_string();
    let json = run_ok(&[
        "report", "airgap", "--state", &state, "--zones", &zones, "--format", "json",
    ]);
    serde_json::from_str(&json).unwrap()
}

fn v(
    category: &str,
    protocol: &str,
    source: &str,
    hosts: &[&str],
) -> (String, String, String, Vec<String>) {
    (
        category.to_string(),
        protocol.to_string(),
        source.to_string(),
        hosts.iter().map(|h| h.to_string()).collect(),
    )
}

#[test]
fn the_airgap_report_lists_exactly_the_crossings_per_boundary() {
    let report = report("9m", &capture());
    assert_eq!(report["verdict"], "violated");
    assert_eq!(report["coverage"]["packets"], 34013);
    let held = |name: &str| (name.to_string(), "held".to_string(), Vec::new());
    assert_eq!(
        boundaries(&report),
        vec![
            (
                "inside ↔ outside".to_string(),
                "violated".to_string(),
                vec![
                    v(
                        "external_connection",
                        "tcp",
                        "10.10.2.20",
                        &["203.0.113.50", "203.0.113.77"]
                    ),
                    v("dns_external", "dns", "10.10.2.20", &["203.0.113.77"]),
                    // ICMP port unreachable for the TFTP and NTP attempts.
                    v(
                        "external_connection",
                        "icmp",
                        "203.0.113.50",
                        &["10.10.2.20", "10.10.2.40"]
                    ),
                    v("dns_external", "dns", "10.10.2.40", &["10.10.2.2"]),
                    v(
                        "external_connection",
                        "udp",
                        "10.10.2.40",
                        &["203.0.113.50"]
                    ),
                ]
            ),
            held("control ↔ dmz"),
            (
                "control ↔ office".to_string(),
                "violated".to_string(),
                vec![
                    v("it_ot_crossing", "tcp", "10.10.4.10", &["10.10.1.11"]),
                    v(
                        "it_ot_crossing",
                        "-",
                        "10.10.1.77",
                        &["10.10.4.108", "10.10.4.10"]
                    ),
                    v("it_ot_crossing", "-", "10.10.4.10", &["10.10.1.11"]),
                ]
            ),
            (
                "dmz ↔ supervisory".to_string(),
                "violated".to_string(),
                vec![
                    v("file_transfer", "ftp", "10.10.3.20", &["10.10.2.20"]),
                    v("file_transfer", "http", "10.10.3.10", &["10.10.2.40"]),
                ]
            ),
            (
                "office ↔ supervisory".to_string(),
                "violated".to_string(),
                vec![
                    v("lateral_movement", "tcp", "10.10.4.10", &["10.10.2.10"]),
                    v("remote_access", "vnc", "10.10.4.10", &["10.10.2.10"]),
                ]
            ),
            (
                "inside control".to_string(),
                "violated".to_string(),
                vec![v("it_ot_crossing", "dhcp", "10.10.1.99", &[])],
            ),
        ]
    );
    // The laptop's three findings (name, dual-homed, new gateway) are one violation.
    let control_office = &report["boundaries"][2]["violations"][1];
    assert_eq!(control_office["count"], 3);
    assert_eq!(
        control_office["title"],
        "Host eng-laptop7 in two zones: 10.10.1.0/24 and 10.10.4.0/24"
    );
}

#[test]
fn on_normal_operation_every_boundary_holds() {
    let normal = lab("captures/normal.pcap.gz").display().to_string();
    let report = report("15m", &normal);
    assert_eq!(report["verdict"], "held");
    let names: Vec<(String, String)> = boundaries(&report)
        .into_iter()
        .map(|(name, verdict, violations)| {
            assert!(violations.is_empty());
            (name, verdict)
        })
        .collect();
    let held = |n: &str| (n.to_string(), "held".to_string());
    assert_eq!(
        names,
        vec![
            held("inside ↔ outside"),
            held("control ↔ dmz"),
            held("control ↔ office"),
            held("dmz ↔ supervisory"),
            held("office ↔ supervisory"),
        ]
    );
    let statement = report["boundaries"][0]["statement"].as_str().unwrap();
    assert_eq!(
        statement,
        "held: no crossing in 45 minutes of observation, 15 devices, 83297 packets seen"
    );
}
