//! BACnet/IP events on third-party captures, end to end through the sensor, compared
//! with tshark's dissection (per APDU type and service, network-layer message and BVLC
//! function) and with the ICSNPP (Zeek) baseline of device-control services.

mod common;

use common::{gapwatch, have_tshark, shared_pcaps, tshark};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn events(capture: &Path) -> Vec<Value> {
    let path = capture.display().to_string();
    let out = gapwatch(&["analyze", "--json", &path]);
    assert!(out.status.success(), "gapwatch failed on {path}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "event" && v["protocol"] == "bacnet")
        .collect()
}

/// Key of an APDU: its type number and, for types that name one, its service. Segment
/// ACKs, rejects and aborts carry no service on the wire.
type Key = (u8, Option<u64>);

fn pdu_type(name: &str) -> Option<u8> {
    Some(match name {
        "confirmed_request" => 0,
        "unconfirmed_request" => 1,
        "simple_ack" => 2,
        "complex_ack" => 3,
        "segment_ack" => 4,
        "error" => 5,
        "reject" => 6,
        "abort" => 7,
        _ => return None,
    })
}

/// Counts of ours: APDUs by key, network messages and BVLC-only functions by code.
#[derive(Debug, Default, PartialEq)]
struct Counts {
    apdu: BTreeMap<Key, u64>,
    network: BTreeMap<u64, u64>,
    bvlc: BTreeMap<u64, u64>,
}

fn ours(evs: &[Value]) -> Counts {
    let mut c = Counts::default();
    for e in evs
        .iter()
        .filter(|e| e["function_name"] != "protocol_anomaly")
    {
        let f = e["function"].as_u64().unwrap_or(u64::MAX);
        match e["pdu"].as_str().unwrap_or("") {
            "network" => *c.network.entry(f).or_insert(0) += 1,
            "bvlc" => *c.bvlc.entry(f).or_insert(0) += 1,
            p => {
                let t = pdu_type(p).expect("known pdu type");
                let s = (!matches!(t, 4 | 6 | 7)).then_some(f);
                *c.apdu.entry((t, s)).or_insert(0) += 1;
            }
        }
    }
    c
}

fn num(s: &str) -> u64 {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).expect("hex"),
        None => s.parse().expect("number"),
    }
}

/// tshark's view of the BACnet/IP frames (`udp`: BACnet over raw Ethernet/LLC is not
/// BACnet/IP and is not ours).
fn theirs(capture: &Path) -> Counts {
    let mut c = Counts::default();
    let fields = [
        "-Y",
        "udp",
        "-T",
        "fields",
        "-e",
        "bacapp.type",
        "-e",
        "bacapp.confirmed_service",
        "-e",
        "bacapp.unconfirmed_service",
        "-e",
        "bacnet.mesgtyp",
        "-e",
        "bvlc.function",
        "-e",
        "bacapp.segmented_request",
        "-e",
        "bacapp.more_segments",
    ];
    for line in tshark(capture, &fields).lines() {
        let p: Vec<&str> = line.split('\t').collect();
        let col = |i: usize| p.get(i).copied().unwrap_or("");
        if col(5) == "1" && col(6) == "1" {
            // A segment with more to follow: the message is one event, at its last segment.
            continue;
        }
        if !col(0).is_empty() {
            let t = num(col(0)) as u8;
            let s = if col(1).is_empty() { col(2) } else { col(1) };
            let s = (!matches!(t, 4 | 6 | 7)).then(|| num(s));
            *c.apdu.entry((t, s)).or_insert(0) += 1;
        } else if !col(3).is_empty() {
            *c.network.entry(num(col(3))).or_insert(0) += 1;
        } else if !col(4).is_empty() && !matches!(num(col(4)), 0x04 | 0x09 | 0x0A | 0x0B) {
            *c.bvlc.entry(num(col(4))).or_insert(0) += 1;
        }
    }
    c
}

/// A reassembled message: PDU type, invoke id, service, segments, objects (type,
/// instance), properties and REAL present values.
type Reassembled = (u64, u64, u64, u64, Vec<(u64, u64)>, Vec<u64>, Vec<f32>);

/// The messages tshark reassembled (its last segment carries the whole message). For
/// readProperty only the first object is the one read (the rest are the value, an
/// object list); objects and properties are distinct and at most 32, as ours.
fn their_reassembled(capture: &Path) -> Vec<Reassembled> {
    let fields = [
        "-Y",
        "udp && bacapp.segmented_request == 1 && bacapp.more_segments == 0",
        "-T",
        "fields",
        "-e",
        "bacapp.type",
        "-e",
        "bacapp.invoke_id",
        "-e",
        "bacapp.confirmed_service",
        "-e",
        "bacapp.fragment.count",
        "-e",
        "bacapp.objectType",
        "-e",
        "bacapp.instance_number",
        "-e",
        "bacapp.property_identifier",
        "-e",
        "bacapp.present_value.real",
    ];
    let list = |s: &str| -> Vec<u64> { s.split(',').filter(|v| !v.is_empty()).map(num).collect() };
    tshark(capture, &fields)
        .lines()
        .map(|line| {
            let p: Vec<&str> = line.split('\t').collect();
            let col = |i: usize| p.get(i).copied().unwrap_or("");
            let service = num(col(2));
            let mut objects: Vec<(u64, u64)> = Vec::new();
            for o in list(col(4)).into_iter().zip(list(col(5))) {
                if objects.len() < 32 && !objects.contains(&o) {
                    objects.push(o);
                }
            }
            if service == 12 {
                objects.truncate(1);
            }
            let mut properties: Vec<u64> = Vec::new();
            for pr in list(col(6)) {
                if properties.len() < 32 && !properties.contains(&pr) {
                    properties.push(pr);
                }
            }
            let values = col(7)
                .split(',')
                .filter(|v| !v.is_empty())
                .map(|v| v.parse::<f32>().expect("real"))
                .collect();
            (
                num(col(0)),
                num(col(1)),
                service,
                num(col(3)),
                objects,
                properties,
                values,
            )
        })
        .collect()
}

/// Our reassembled messages, read as [`their_reassembled`] reads tshark's.
fn our_reassembled(evs: &[Value], capture: &Path) -> Vec<Reassembled> {
    // The standard's numbers (ASHRAE 135) of the names that occur in these captures.
    let object_type = |s: &str| -> u64 {
        match s {
            "analog_input" => 0,
            "device" => 8,
            other => panic!("object type {other} not in this test's table ({capture:?})"),
        }
    };
    let property = |s: &str| -> u64 {
        match s {
            "object_list" => 76,
            "present_value" => 85,
            other => panic!("property {other} not in this test's table ({capture:?})"),
        }
    };
    evs.iter()
        .filter(|e| e["segments"].is_u64())
        .map(|e| {
            let objects = e["targets"]
                .as_array()
                .map(|ts| {
                    ts.iter()
                        .map(|t| {
                            (
                                object_type(t["space"].as_str().unwrap_or("")),
                                t["start"].as_u64().unwrap_or(u64::MAX),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let properties = match &e["property"] {
                Value::String(p) => vec![property(p)],
                Value::Array(ps) => ps
                    .iter()
                    .map(|p| property(p.as_str().unwrap_or("")))
                    .collect(),
                _ => Vec::new(),
            };
            let values = e["values"]
                .as_array()
                .map(|vs| {
                    vs.iter()
                        .filter_map(|v| v["value"].as_f64())
                        .map(|v| v as f32)
                        .collect()
                })
                .unwrap_or_default();
            (
                u64::from(pdu_type(e["pdu"].as_str().unwrap_or("")).unwrap_or(u8::MAX)),
                e["invoke_id"].as_u64().unwrap_or(u64::MAX),
                e["function"].as_u64().unwrap_or(u64::MAX),
                e["segments"].as_u64().unwrap_or(0),
                objects,
                properties,
                values,
            )
        })
        .collect()
}

/// Our decoded BACnet messages of `rel`, checked against tshark. Malformed messages
/// (`protocol_anomaly` events) are left out: tshark decodes those datagrams too.
fn compare(rel: &str) -> Option<Vec<Value>> {
    let capture = shared_pcaps()?.join(rel);
    let evs: Vec<Value> = events(&capture)
        .into_iter()
        .filter(|e| e["function_name"] != "protocol_anomaly")
        .collect();
    if have_tshark() {
        assert_eq!(ours(&evs), theirs(&capture), "{rel}: ours vs tshark");
    }
    Some(evs)
}

fn count(evs: &[Value], name: &str, response: bool) -> usize {
    evs.iter()
        .filter(|e| e["function_name"] == name && e["is_response"] == response)
        .count()
}

#[test]
fn services_capture_matches_tshark_and_the_zeek_device_control_log() {
    let Some(evs) = compare("icsnpp-bacnet/testing/traces/bacnet_services.pcap") else {
        return;
    };
    // tshark -r bacnet_services.pcap -Y udp -T fields -e bacapp.type -e
    // bacapp.confirmed_service: readProperty 3265 requests and 3263 complex ACKs,
    // 7045 APDUs in all (101 more frames are BACnet over 802.2 LLC, not UDP), of which
    // two are the segments of one readPropertyMultiple ACK. Two readProperty requests
    // are answered by Error PDUs, also responses.
    assert_eq!(count(&evs, "read_property", false), 3265);
    assert_eq!(count(&evs, "read_property", true), 3265);
    let acks = evs
        .iter()
        .filter(|e| e["function_name"] == "read_property" && e["pdu"] == "complex_ack")
        .count();
    assert_eq!(acks, 3263);
    assert_eq!(evs.iter().filter(|e| e["pdu"] != "network").count(), 7044);
    // The ICSNPP baseline (analyzer.services/bacnet_device_control.log) lists, in order,
    // (invoke id, service, state | result).
    let baseline = [
        (132, "device_communication_control", "disable"),
        (132, "device_communication_control", "password_failure"),
        (133, "device_communication_control", "disable"),
        (133, "device_communication_control", "ok"),
        (134, "device_communication_control", "enable"),
        (134, "device_communication_control", "password_failure"),
        (135, "device_communication_control", "enable"),
        (135, "device_communication_control", "ok"),
        (137, "reinitialize_device", "coldstart"),
        (137, "reinitialize_device", "password_failure"),
        (138, "reinitialize_device", "warmstart"),
        (138, "reinitialize_device", "password_failure"),
        (139, "reinitialize_device", "warmstart"),
        (139, "reinitialize_device", "ok"),
        (140, "reinitialize_device", "coldstart"),
        (140, "reinitialize_device", "ok"),
    ];
    let got: Vec<(u64, String, String)> = evs
        .iter()
        .filter(|e| e["op"] == "control" && e["pdu"] != "unconfirmed_request")
        .map(|e| {
            let what = if e["is_response"] == true {
                e["exception_name"]
                    .as_str()
                    .or(e["status"].as_str())
                    .unwrap_or("")
            } else {
                e["state"].as_str().unwrap_or("")
            };
            (
                e["invoke_id"].as_u64().unwrap_or(0),
                e["function_name"].as_str().unwrap_or("").to_string(),
                what.to_string(),
            )
        })
        .collect();
    let want: Vec<(u64, String, String)> = baseline
        .iter()
        .map(|(i, s, w)| (*i, s.to_string(), w.to_string()))
        .collect();
    assert_eq!(got, want);
    // The Zeek log's duration column: 1 minute on invoke 133 only.
    let d: Vec<u64> = evs
        .iter()
        .filter_map(|e| e["duration_minutes"].as_u64())
        .collect();
    assert_eq!(d, vec![1]);
    // File transfers are program operations: 64 atomicReadFile, 63 atomicWriteFile.
    assert_eq!(count(&evs, "atomic_read_file", false), 64);
    assert_eq!(count(&evs, "atomic_write_file", false), 63);
    assert!(evs
        .iter()
        .filter(|e| e["function_name"] == "atomic_write_file")
        .all(|e| e["op"] == "program" && e["targets"][0]["space"] == "file"));
}

#[test]
fn example_capture_matches_tshark_despite_wrong_bvlc_lengths() {
    // 240 reinitializeDevice frames carry a BVLC length that differs from the datagram
    // (17 for 25 or 14 bytes); like tshark we decode the datagram (and report the
    // length as an anomaly).
    let Some(evs) = compare("icsnpp-bacnet/testing/traces/bacnet_example.pcap") else {
        return;
    };
    assert_eq!(evs.len(), 3257);
    assert_eq!(count(&evs, "reinitialize_device", false), 120);
}

#[test]
fn error_reject_abort_capture_matches_tshark() {
    let Some(evs) = compare("icsnpp-bacnet/testing/traces/bacnet_error_reject_abort.pcap") else {
        return;
    };
    assert_eq!(evs.len(), 45);
    // tshark -Y udp -T fields -e bacapp.type -e bacapp.error_code -e
    // bacapp.reject_reason -e bacapp.abort_reason: one Error (code 26), one Reject
    // (reason 9), one Abort (reason 0).
    let mut failures: Vec<(String, u64, String)> = evs
        .iter()
        .filter(|e| e["status"] == "exception")
        .map(|e| {
            (
                e["pdu"].as_str().unwrap_or("").to_string(),
                e["exception"].as_u64().unwrap_or(u64::MAX),
                e["exception_name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    failures.sort();
    assert_eq!(
        failures,
        vec![
            ("abort".to_string(), 0, "other".to_string()),
            ("error".to_string(), 26, "password_failure".to_string()),
            ("reject".to_string(), 9, "unrecognized_service".to_string()),
        ]
    );
}

#[test]
fn segmented_messages_are_reassembled_as_tshark_does() {
    let Some(dir) = shared_pcaps() else {
        return;
    };
    // bacnet_segmented_data.pcap: the object list of device 254 in a readProperty ACK
    // of 3 segments (frames 15, 17, 18; invoke id 94). bacnet_services.pcap: a
    // readPropertyMultiple ACK of 2 segments (frames 279, 281; invoke id 136) with the
    // present value of 32 analog inputs, 10 of them REAL and 22 errors.
    let cases = [
        (
            "icsnpp-bacnet/testing/traces/bacnet_segmented_data.pcap",
            18,
        ),
        ("icsnpp-bacnet/testing/traces/bacnet_services.pcap", 7048),
    ];
    for (rel, total) in cases {
        let Some(evs) = compare(rel) else {
            return;
        };
        // One event per message: the segments before the last give none.
        assert_eq!(evs.len(), total, "{rel}");
        assert!(
            evs.iter()
                .all(|e| e["pdu"] == "segment_ack" || !e["segment"].is_u64()),
            "{rel}"
        );
        let ours = our_reassembled(&evs, &dir.join(rel));
        assert_eq!(ours.len(), 1, "{rel}");
        if have_tshark() {
            assert_eq!(ours, their_reassembled(&dir.join(rel)), "{rel}");
        }
    }
    let evs = events(&dir.join("icsnpp-bacnet/testing/traces/bacnet_segmented_data.pcap"));
    let m = evs
        .iter()
        .find(|e| e["segments"].is_u64())
        .expect("a reassembled message");
    assert_eq!(
        (
            m["invoke_id"].as_u64(),
            m["segments"].as_u64(),
            m["property"].as_str(),
            m["targets"][0]["space"].as_str(),
            m["targets"][0]["start"].as_u64(),
        ),
        (
            Some(94),
            Some(3),
            Some("object_list"),
            Some("device"),
            Some(254)
        )
    );
    let evs = events(&dir.join("icsnpp-bacnet/testing/traces/bacnet_services.pcap"));
    let m = evs
        .iter()
        .find(|e| e["segments"].is_u64())
        .expect("a reassembled message");
    assert_eq!(m["function_name"], "read_property_multiple");
    assert_eq!(m["targets"].as_array().map(Vec::len), Some(32));
    assert_eq!(m["targets"][31]["start"].as_u64(), Some(2132));
    assert!(evs
        .iter()
        .all(|e| e["function_name"] != "protocol_anomaly" || !e.to_string().contains("segment")));
}

#[test]
fn ct_samples_bacnet_ip_and_bbmd_match_tshark() {
    let Some(evs) = compare("ct-samples/Protocols/BACnet/bacnet-ip.cap") else {
        return;
    };
    assert_eq!(evs.len(), 833);
    let Some(evs) = compare("ct-samples/Protocols/BACnet/BACnet-BBMD-on-same-subnet.cap") else {
        return;
    };
    // Register-Foreign-Device and its BVLC-Result, plus 12 APDUs.
    assert_eq!(evs.len(), 14);
    assert!(evs
        .iter()
        .any(|e| e["function_name"] == "register_foreign_device"));
    let Some(evs) = compare("ct-samples/Protocols/BACnet/BACnetIP-MSTP-Mix.cap") else {
        return;
    };
    assert_eq!(evs.len(), 72);
}

#[test]
fn i_am_announces_device_vendor() {
    let Some(evs) = compare("icsnpp-bacnet/testing/traces/bacnet_services.pcap") else {
        return;
    };
    let i_am: Vec<&Value> = evs
        .iter()
        .filter(|e| e["function_name"] == "i_am")
        .collect();
    assert!(!i_am.is_empty());
    assert!(i_am
        .iter()
        .all(|e| e["op"] == "identify" && e["device_instance"].is_u64()));
    // tshark -Y 'bacapp.unconfirmed_service == 0' -T fields -e
    // bacapp.vendor_identifier: every I-Am has a vendor identifier.
    assert!(i_am.iter().all(|e| e["vendor_id"].is_u64()));
}
