//! Beckhoff ADS events against tshark, capture by capture: every AMS message by command
//! id and direction (`tshark -Y ams -e ams.cmdid -e ams.state_response`), and the TwinCAT
//! UDP discovery messages tshark leaves undissected.

mod common;

use common::{events, num, ours_by_function, setup, tshark};
use serde_json::Value;
use std::collections::BTreeMap;

/// Function numbers at or above this are TwinCAT UDP discovery services.
const DISCOVERY_BASE: u64 = 0x1_0000;

/// (capture, AMS messages tshark dissects, discovery datagrams). Discovery counts from
/// `tshark -r F -Y 'udp.port==48899 && udp.payload[0:4]==03:66:14:71' | wc -l`.
const CAPTURES: &[(&str, u64, u64)] = &[
    ("iti-ics-security-tools/pcaps/beckoff/addroute.pcapng", 3, 4),
    (
        "iti-ics-security-tools/pcaps/beckoff/addroute1.pcapng",
        5,
        4,
    ),
    (
        "iti-ics-security-tools/pcaps/beckoff/addrouteuse444444444.pcapng",
        110,
        6,
    ),
    (
        "iti-ics-security-tools/pcaps/beckoff/beckoffaddroute.pcapng",
        130,
        6,
    ),
    (
        "iti-ics-security-tools/pcaps/beckoff/beckoffiplink.pcapng",
        4179,
        2,
    ),
    (
        "iti-ics-security-tools/pcaps/beckoff/beckoffiplinktc.pcapng",
        87,
        2,
    ),
    (
        "iti-ics-security-tools/pcaps/beckoff/beckoffiplinktc2.pcapng",
        2,
        2,
    ),
    (
        "iti-ics-security-tools/pcaps/beckoff/beckoffiplinktc3.pcapng",
        182,
        2,
    ),
    (
        "iti-ics-security-tools/pcaps/beckoff/beckofflink.pcapng",
        88,
        2,
    ),
    (
        "iti-ics-security-tools/pcaps/beckoff/invokeid12.pcapng",
        2,
        2,
    ),
];

#[test]
fn ads_messages_equal_tsharks() {
    let Some(dir) = setup() else { return };
    for (name, ams, discovery) in CAPTURES {
        let cap = dir.join(name);
        let evs = events(&cap, "ads");
        let (udp, tcp): (Vec<Value>, Vec<Value>) = evs
            .into_iter()
            .partition(|e| e["function"].as_u64().unwrap_or(0) >= DISCOVERY_BASE);
        let ours = ours_by_function(&tcp);
        let mut theirs: BTreeMap<(u64, bool), u64> = BTreeMap::new();
        let out = tshark(
            &cap,
            &[
                "-Y",
                "ams",
                "-T",
                "fields",
                "-E",
                "occurrence=a",
                "-E",
                "aggregator=,",
                "-e",
                "ams.cmdid",
                "-e",
                "ams.state_response",
            ],
        );
        for line in out.lines() {
            let (ids, rsp) = line.split_once('\t').expect("two fields");
            for (i, r) in ids.split(',').zip(rsp.split(',')) {
                *theirs.entry((num(i), num(r) == 1)).or_default() += 1;
            }
        }
        assert_eq!(ours, theirs, "{name}");
        assert_eq!(tcp.len() as u64, *ams, "{name}");
        let udp_theirs = tshark(
            &cap,
            &["-Y", "udp.port==48899 && udp.payload[0:4]==03:66:14:71"],
        )
        .lines()
        .count() as u64;
        assert_eq!(udp.len() as u64, udp_theirs, "{name}");
        assert_eq!(udp_theirs, *discovery, "{name}");
    }
}

#[test]
fn ads_device_info_names_equal_tsharks_and_errors_are_exceptions() {
    let Some(dir) = setup() else { return };
    let cap = dir.join("iti-ics-security-tools/pcaps/beckoff/beckofflink.pcapng");
    // tshark -r F -Y ams.ads_devicename -T fields -e ams.ads_devicename -e ams.ads_versionversion
    // gives "PLC Server 2" and "I/O Server 2"; the two other device info requests (AMS
    // ports 500 and 900) are answered with AMS error 6, target port not found.
    let out = tshark(
        &cap,
        &[
            "-Y",
            "ams.ads_devicename",
            "-T",
            "fields",
            "-e",
            "ams.ads_devicename",
            "-e",
            "ams.ads_versionversion",
        ],
    );
    let theirs: Vec<(String, String)> = out
        .lines()
        .map(|l| {
            let (n, v) = l.split_once('\t').expect("two fields");
            (n.trim().to_string(), v.trim().to_string())
        })
        .collect();
    let evs = events(&cap, "ads");
    let rsp: Vec<&Value> = evs
        .iter()
        .filter(|e| e["function"] == 1 && e["is_response"] == true)
        .collect();
    let ours: Vec<(String, String)> = rsp
        .iter()
        .filter(|e| e["status"] == "ok")
        .map(|e| {
            let version = e["version"].as_str().unwrap_or("");
            (
                e["device_name"].as_str().unwrap_or("").to_string(),
                version.split('.').next().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(ours.len(), 2);
    let refused: Vec<u64> = rsp
        .iter()
        .filter(|e| e["exception_name"] == "target_port_not_found")
        .map(|e| e["unit"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(refused, [500, 900]);
}
