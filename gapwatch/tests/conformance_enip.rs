//! EtherNet/IP and CIP events on third-party captures, end to end through the sensor,
//! compared with tshark's dissection of the same files.
//!
//! For every capture: our `cip` events per (service code, request/response) equal
//! tshark's `cip.sc` occurrences split by `cip.rr` (tshark lists the services embedded in
//! Multiple Service Packets and Unconnected Sends too, as we do), and our `enip` events
//! equal tshark's encapsulation commands that carry no CIP. Deliberate differences are
//! corrected for and explained where they occur. Totals are also hard-coded so a
//! regression shows even where tshark is missing.

mod common;

use common::{gapwatch, have_tshark, shared_pcaps, tshark};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Event records of `gapwatch analyze --json` on one capture.
fn events(capture: &Path) -> Vec<Value> {
    let path = capture.display().to_string();
    let out = gapwatch(&["analyze", "--json", &path]);
    assert!(out.status.success(), "gapwatch failed on {path}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "event")
        // Decoded messages only: malformed ones are protocol_anomaly events.
        .filter(|v| v["function_name"] != "protocol_anomaly")
        .collect()
}

/// Our CIP events per (service, is_response).
fn ours_cip(evs: &[Value]) -> BTreeMap<(u64, bool), u64> {
    let mut m = BTreeMap::new();
    for e in evs.iter().filter(|e| e["protocol"] == "cip") {
        let k = (
            e["function"].as_u64().unwrap_or(u64::MAX),
            e["is_response"].as_bool().unwrap_or(false),
        );
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

/// tshark's CIP services per (service, is_response), every occurrence in a frame.
fn tshark_cip(capture: &Path) -> BTreeMap<(u64, bool), u64> {
    let mut m = BTreeMap::new();
    for line in tshark(capture, &["-T", "fields", "-e", "cip.sc", "-e", "cip.rr"]).lines() {
        let mut cols = line.split('\t');
        let sc: Vec<&str> = cols
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .collect();
        let rr: Vec<&str> = cols
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .collect();
        for (i, s) in sc.iter().enumerate() {
            let code = u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex service");
            let resp = rr.get(i).is_some_and(|r| *r == "0x01");
            *m.entry((code, resp)).or_insert(0) += 1;
        }
    }
    m
}

/// tshark's Unconnected Send requests, which we unwrap: the embedded request is our
/// event, the wrapper is not. tshark lists the wrapper as `cip.sc` 0x52 and also as
/// Connection Manager service `cip.cm.sc` 0x52; it shows `cip.cm.sc` 0x52 on the reply
/// too, but there `cip.sc` is only the embedded reply's service. So per frame, the
/// wrappers are the 0x52 values present in both columns (Read Tag Fragmented, also
/// 0x52, has no Connection Manager column).
fn tshark_unconnected_sends(capture: &Path) -> u64 {
    tshark(
        capture,
        &["-T", "fields", "-e", "cip.cm.sc", "-e", "cip.sc"],
    )
    .lines()
    .map(|l| {
        let mut cols = l.split('\t');
        let n = |c: Option<&str>| c.unwrap_or("").split(',').filter(|s| *s == "0x52").count();
        let cm = n(cols.next());
        let sc = n(cols.next());
        cm.min(sc) as u64
    })
    .sum()
}

fn compare(rel: &str, retransmitted_responses: &[(u64, u64)]) -> Option<Vec<Value>> {
    let dir = shared_pcaps()?;
    let capture = dir.join(rel);
    let evs = events(&capture);
    if !have_tshark() {
        return Some(evs);
    }
    let ours = ours_cip(&evs);
    let mut theirs = tshark_cip(&capture);
    let sends = tshark_unconnected_sends(&capture);
    if sends > 0 {
        let e = theirs.entry((0x52, false)).or_insert(0);
        *e -= sends;
        if *e == 0 {
            theirs.remove(&(0x52, false));
        }
    }
    for &(service, n) in retransmitted_responses {
        *theirs.entry((service, true)).or_insert(0) += n;
    }
    assert_eq!(ours, theirs, "{rel}: CIP services (ours vs tshark)");
    Some(evs)
}

fn count(evs: &[Value], protocol: &str, response: bool) -> usize {
    evs.iter()
        .filter(|e| e["protocol"] == protocol && e["is_response"] == response)
        .count()
}

#[test]
fn enip_cip_example_matches_tshark_services_and_io() {
    let Some(evs) = compare("icsnpp-enip/tests/traces/enip_cip_example.pcap", &[]) else {
        return;
    };
    // tshark -r enip_cip_example.pcap -T fields -e cip.sc -e cip.rr: 585 request and 573
    // response occurrences (Get_Attribute_List 543/532, Multiple Service Packet 41/40,
    // Set_Attribute_List 1/1).
    assert_eq!(count(&evs, "cip", false), 585);
    assert_eq!(count(&evs, "cip", true), 573);
    // tshark -r enip_cip_example.pcap -Y enip.cpf.sai.seq | wc -l → 398 I/O datagrams.
    let io = evs
        .iter()
        .filter(|e| e["function_name"] == "io_data")
        .count();
    assert_eq!(io, 398);
    // One ListIdentity request and its reply (tshark -Y 'enip.command==0x63': 2 frames).
    let li: Vec<&Value> = evs
        .iter()
        .filter(|e| e["function_name"] == "list_identity")
        .collect();
    assert_eq!(li.len(), 2);
}

#[test]
fn logix5000_download_upload_matches_tshark_and_unwraps_unconnected_send() {
    let Some(evs) = compare(
        "emreekin-ics-pcaps/Ethernet_IP/ControlLogix_Logix5000_download_upload_run.pcap",
        &[],
    ) else {
        return;
    };
    assert_eq!(count(&evs, "cip", false), 814);
    assert_eq!(count(&evs, "cip", true), 814);
    // No Unconnected Send wrapper survives as an event: tshark -Y 'cip.cm.sc == 0x52'
    // counts 13, all unwrapped into their embedded requests.
    assert!(!evs
        .iter()
        .any(|e| e["protocol"] == "cip" && e["function_name"] == "unconnected_send"));
    // Encapsulation commands without CIP: tshark -Y 'enip.command in {0x1 0x4 0x64 0x65}'
    // gives 8 frames (a legacy 0x0001 command, ListServices, ListInterfaces,
    // RegisterSession, each request and reply).
    assert_eq!(count(&evs, "enip", false), 4);
    assert_eq!(count(&evs, "enip", true), 4);
    // Forward Open requests name the connection and its serial; the reply pairs.
    let fo = evs
        .iter()
        .find(|e| e["function_name"] == "forward_open" && e["is_response"] == false)
        .expect("a forward open");
    assert_eq!(fo["op"], "session");
    assert!(fo["connection_serial"].is_u64());
    // Write Tag requests carry their targets.
    let wt = evs
        .iter()
        .find(|e| e["function_name"] == "write_tag" && e["is_response"] == false)
        .expect("a write tag");
    assert_eq!(wt["op"], "write");
    assert_eq!(wt["targets"][0]["space"], "class172/instance1");
}

#[test]
fn factorytalk_hmi_matches_tshark() {
    let Some(evs) = compare(
        "emreekin-ics-pcaps/Ethernet_IP/ControlLogix_FactoryTalk_HMI.pcap",
        &[],
    ) else {
        return;
    };
    assert_eq!(count(&evs, "cip", false), 232);
    assert_eq!(count(&evs, "cip", true), 232);
}

#[test]
fn special_cip_matches_tshark_except_two_frames_it_calls_retransmissions() {
    // tshark flags frames 229 and 232 as retransmissions and leaves them undissected:
    // the bytes they carry were acknowledged by segments missing from this capture.
    // In sequence-number order they are new data, so the sensor delivers them and we
    // see two more Read Tag replies (service 0x4C).
    let Some(evs) = compare("emreekin-ics-pcaps/CIP/specialCIP.pcap", &[(0x4C, 2)]) else {
        return;
    };
    assert_eq!(count(&evs, "cip", false), 115);
    assert_eq!(count(&evs, "cip", true), 117);
}

#[test]
fn ethernetip_cip_symbolic_tags_match_tshark() {
    let Some(evs) = compare(
        "iti-ics-security-tools/pcaps/EthernetIP/EthernetIP-CIP.pcap",
        &[],
    ) else {
        return;
    };
    assert_eq!(count(&evs, "cip", false), 36912);
    assert_eq!(count(&evs, "cip", true), 36915);
    // Symbolic paths become tag targets: tshark -Y 'cip.symbol == "LMS_ALIVEBIT" &&
    // cip.sc == 0x4e' counts 129 Read-Modify-Write requests on that tag.
    let alive = evs
        .iter()
        .filter(|e| {
            e["function"] == 0x4E
                && e["is_response"] == false
                && e["targets"][0]["space"] == "tag:LMS_ALIVEBIT"
        })
        .count();
    assert_eq!(alive, 129);
}

#[test]
fn reboot_capture_sees_stop_start_and_reset_as_control() {
    let Some(evs) = compare(
        "iti-ics-security-tools/pcaps/openics/EIP-RebootorRestart.pcap",
        &[],
    ) else {
        return;
    };
    let control: Vec<(String, String)> = evs
        .iter()
        .filter(|e| e["op"] == "control" && e["is_response"] == false)
        .map(|e| {
            (
                e["function_name"].as_str().unwrap_or("").to_string(),
                e["targets"][0]["space"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    // tshark -Y 'cip.sc in {5 6 7} && cip.rr == 0' -T fields -e cip.sc -e cip.class:
    // Stop (7) and Start (6) to class 0x8E, Reset (5) to class 0x72.
    let mut sorted = control.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec![
            ("reset".to_string(), "class114/instance1".to_string()),
            ("start".to_string(), "class142/instance1".to_string()),
            ("stop".to_string(), "class142/instance1".to_string()),
        ]
    );
}

#[test]
fn stop_plc_single_packet() {
    let Some(evs) = compare(
        "iti-ics-security-tools/pcaps/EthernetIP/cip_stop_plc.pcap",
        &[],
    ) else {
        return;
    };
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0]["function_name"], "stop");
    assert_eq!(evs[0]["op"], "control");
}

#[test]
fn multiple_service_packet_is_unpacked() {
    let Some(evs) = compare(
        "icsnpp-enip/tests/traces/multiple_service_packet_cip.pcapng",
        &[],
    ) else {
        return;
    };
    // tshark -T fields -e cip.sc: 0x0a and eleven embedded services.
    assert_eq!(evs.len(), 12);
    assert_eq!(evs[0]["function_name"], "multiple_service_packet");
    assert_eq!(evs[0]["services"], 11);
    assert!(evs[1..].iter().all(|e| e["embedded"] == true));
}

#[test]
fn list_identity_reply_gives_the_device_identity() {
    let Some(dir) = shared_pcaps() else {
        return;
    };
    let capture = dir.join("suricata-verify/tests/enip-alert/enip_test1.pcap");
    let evs = events(&capture);
    let reply = evs
        .iter()
        .find(|e| e["function_name"] == "list_identity" && e["is_response"] == true)
        .expect("a list identity reply");
    // tshark -Y 'enip.command==0x63' -V: Vendor ID Rockwell Automation/Allen-Bradley
    // (0x0001), Device Type Communications Adapter (12), Product Code 58, Revision 4.03,
    // Serial Number 0x00524d8e, Product Name 1756-ENBT/A.
    assert_eq!(reply["vendor_id"], 1);
    assert_eq!(reply["device_type"], "communications_adapter");
    assert_eq!(reply["product_code"], 58);
    assert_eq!(reply["revision"], "4.03");
    assert_eq!(reply["serial"], "0x00524d8e");
    assert_eq!(reply["product_name"], "1756-ENBT/A");
    // The identity lands on the responder's asset.
    let path = capture.display().to_string();
    let out = gapwatch(&["analyze", "--json", &path]);
    let asset = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["kind"] == "asset" && v["ips"][0] == "172.25.23.2")
        .expect("the adapter's asset");
    assert_eq!(
        asset["identity"]["vendor"],
        "Rockwell Automation/Allen-Bradley"
    );
    assert_eq!(asset["identity"]["product"], "1756-ENBT/A");
    assert_eq!(asset["identity"]["firmware"], "4.03");
    assert_eq!(asset["identity"]["serial"], "0x00524d8e");
}
