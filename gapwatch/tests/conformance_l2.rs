//! Layer-2 events against tshark, capture by capture: Profinet DCP by service and
//! direction, Profinet alarms, and GOOSE events (one per publisher first seen and per
//! state-number change) against the stNum sequence tshark decodes. gapwatch hands
//! frames to the layer-2 dissector only for Ethernet captures; all of these are.

mod common;

use common::{events, num, ours_by_function, setup, tshark};
use std::collections::BTreeMap;

/// (capture, DCP frames).
const DCP: &[(&str, u64)] = &[
    (
        "iti-ics-security-tools/pcaps/profinet/PROFINET-RT-DCP/ChangeIPUsingDCP.pcap",
        4,
    ),
    (
        "iti-ics-security-tools/pcaps/profinet/PROFINET-RT-DCP/PROFINET-RT.pcap",
        14,
    ),
    (
        "iti-ics-security-tools/pcaps/profinet/profinet-wireshark-bug.pcap",
        4,
    ),
    (
        "icsnpp-profinet-io-cm/testing/traces/profinet_io_cm_mixed_1.pcap",
        19,
    ),
];

#[test]
fn profinet_dcp_services_equal_tsharks() {
    let Some(dir) = setup() else { return };
    for (name, total) in DCP {
        let cap = dir.join(name);
        let evs = events(&cap, "profinet_dcp");
        let ours = ours_by_function(&evs);
        let mut theirs: BTreeMap<(u64, bool), u64> = BTreeMap::new();
        for line in tshark(
            &cap,
            &[
                "-Y",
                "pn_dcp",
                "-T",
                "fields",
                "-e",
                "pn_dcp.service_id",
                "-e",
                "pn_dcp.service_type",
            ],
        )
        .lines()
        {
            let (id, ty) = line.split_once('\t').expect("two fields");
            *theirs.entry((num(id), num(ty) & 1 == 1)).or_default() += 1;
        }
        assert_eq!(ours, theirs, "{name}");
        assert_eq!(evs.len() as u64, *total, "{name}");
    }
}

#[test]
fn profinet_dcp_set_ip_is_control_and_the_identify_response_names_the_station() {
    let Some(dir) = setup() else { return };
    let cap =
        dir.join("iti-ics-security-tools/pcaps/profinet/PROFINET-RT-DCP/ChangeIPUsingDCP.pcap");
    let evs = events(&cap, "profinet_dcp");
    // tshark -r F -Y 'pn_dcp.service_id==5 && pn_dcp.service_type==1' -T fields
    //   -e pn_dcp.suboption_device_nameofstation -e pn_dcp.suboption_vendor_id -e pn_dcp.suboption_device_id
    let out = tshark(
        &cap,
        &[
            "-Y",
            "pn_dcp.service_id==5 && pn_dcp.service_type==1",
            "-T",
            "fields",
            "-e",
            "pn_dcp.suboption_device_nameofstation",
            "-e",
            "pn_dcp.suboption_vendor_id",
            "-e",
            "pn_dcp.suboption_device_id",
        ],
    );
    let f: Vec<&str> = out
        .lines()
        .next()
        .expect("an identify response")
        .split('\t')
        .collect();
    let rsp = evs
        .iter()
        .find(|e| e["function"] == 5 && e["is_response"] == true)
        .expect("ours");
    assert_eq!(rsp["name_of_station"].as_str(), Some(f[0]));
    assert_eq!(rsp["vendor_id"].as_u64(), Some(num(f[1])));
    assert_eq!(rsp["device_id"].as_u64(), Some(num(f[2])));
    // tshark -r F -Y 'pn_dcp.service_id==4 && pn_dcp.service_type==0' -T fields -e pn_dcp.suboption_ip_ip
    let ip = tshark(
        &cap,
        &[
            "-Y",
            "pn_dcp.service_id==4 && pn_dcp.service_type==0",
            "-T",
            "fields",
            "-e",
            "pn_dcp.suboption_ip_ip",
        ],
    );
    let set = evs
        .iter()
        .find(|e| e["function"] == 4 && e["is_response"] == false)
        .expect("a set request");
    assert_eq!(set["op"], "control");
    assert_eq!(set["ip"].as_str(), Some(ip.trim()));
    assert_eq!(set["ip"], "192.168.0.10");
}

#[test]
fn profinet_alarms_are_one_event_each() {
    let Some(dir) = setup() else { return };
    let cap = dir.join("icsnpp-profinet-io-cm/testing/traces/profinet_io_cm_mixed_1.pcap");
    let theirs = tshark(
        &cap,
        &["-Y", "pn_rt.frame_id==0xfc01 || pn_rt.frame_id==0xfe01"],
    )
    .lines()
    .count();
    assert_eq!(events(&cap, "profinet_alarm").len(), theirs);
    assert_eq!(theirs, 2);
    // The 102 cyclic frames (tshark: pn_rt.frame_id in 0x0100..0xfbff) make no event.
    let cyclic = tshark(
        &cap,
        &["-Y", "pn_rt.frame_id >= 0x0100 && pn_rt.frame_id <= 0xfbff"],
    )
    .lines()
    .count();
    assert_eq!(cyclic, 102);
}

/// (capture, GOOSE events). Events: the first frame of each (source MAC, APPID) and each
/// frame whose stNum differs from that publisher's previous frame.
const GOOSE: &[(&str, u64)] = &[
    ("ct-samples/Protocols/IEC61850/GOOSE/GE_-_Multilin_UR_-_Digital_Protection_Relay/GOOSE_and_MMS.pcapng", 12),
    ("emreekin-ics-pcaps/IEC61850/GOOSE.pcap", 1),
    ("emreekin-ics-pcaps/IEC61850/gooseind1_7.pcap", 5),
    ("emreekin-ics-pcaps/IEC61850/iedscout.pcap", 5),
    ("emreekin-ics-pcaps/IEC61850/mmsy.pcap", 1),
    ("emreekin-ics-pcaps/IEC61850/pres1.pcap", 1),
    ("icsnpp-iec61850-goose-haolipeng/testing/Traces/GOOSE.pcap", 1),
    ("icsnpp-iec61850-goose-haolipeng/testing/Traces/GOOSE_all_data_primitives_fallbacks.pcap", 1),
    ("icsnpp-iec61850-goose-haolipeng/testing/Traces/GOOSE_missing_gocb_ref.pcap", 1),
    ("icsnpp-iec61850-goose-haolipeng/testing/Traces/GOOSE_unsupported_tlv.pcap", 1),
    ("iti-ics-security-tools/pcaps/IEC61850/GOOSE/Sample_File_GOOSE.pcap", 253),
    ("iti-ics-security-tools/pcaps/IEC61850/Sample_File_MMS_and_GOOSE.pcap", 10),
];

#[test]
fn goose_state_changes_equal_tsharks_stnum_sequence() {
    let Some(dir) = setup() else { return };
    for (name, total) in GOOSE {
        let cap = dir.join(name);
        let ours: Vec<(String, u64, u64, u64)> = events(&cap, "goose")
            .iter()
            .map(|e| {
                let mac = e["src_mac"].as_str().unwrap_or("").to_string();
                (
                    mac,
                    e["unit"].as_u64().unwrap_or(0),
                    e["st_num"].as_u64().unwrap_or(0),
                    e["sq_num"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        let mut last: BTreeMap<(String, u64), u64> = BTreeMap::new();
        let mut theirs = Vec::new();
        let out = tshark(
            &cap,
            &[
                "-Y",
                "goose.stNum",
                "-T",
                "fields",
                "-e",
                "eth.src",
                "-e",
                "goose.appid",
                "-e",
                "goose.stNum",
                "-e",
                "goose.sqNum",
            ],
        );
        for line in out.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let key = (f[0].to_string(), num(f[1]));
            let st = num(f[2]);
            if last.insert(key.clone(), st) != Some(st) {
                theirs.push((key.0, key.1, st, num(f[3])));
            }
        }
        assert_eq!(ours, theirs, "{name}");
        assert_eq!(ours.len() as u64, *total, "{name}");
    }
}

#[test]
fn goose_deliberate_differences_from_tshark() {
    let Some(dir) = setup() else { return };
    let traces = dir.join("icsnpp-iec61850-goose-haolipeng/testing/Traces");
    // A goosePdu without its t field: tshark's decoder stops at the missing element and
    // shows no stNum; the remaining fields are intact and we report the publisher.
    let cap = traces.join("GOOSE_missing_timestamp.pcap");
    assert_eq!(tshark(&cap, &["-Y", "goose.stNum"]).lines().count(), 0);
    let evs = events(&cap, "goose");
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0]["gocb_ref"], "GEDeviceF650/LLN0$GO$gcb01");
    // A goosePdu cut short: tshark shows the fields before the cut; we do not trust a
    // truncated PDU's state and report it as an anomaly instead.
    let cap = traces.join("GOOSE_truncated.pcap");
    assert_eq!(tshark(&cap, &["-Y", "goose.stNum"]).lines().count(), 1);
    assert!(events(&cap, "goose").is_empty());
}
