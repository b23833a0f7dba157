//! IEC 60870-5-104 conformance on third-party captures, end to end through the built
//! binary, against tshark's dissection of the same files:
//! - ASDUs per type identification (`iec60870_asdu.typeid`) equal our I-frame events per
//!   function;
//! - APCI frames per format (`iec60870_104.type`: 0 I, 1 S, 3 U) equal our I, S and U
//!   events;
//! - the information object addresses (`iec60870_asdu.ioa`, as a multiset) equal our
//!   `ioa` targets (a sequence target of count n expanded to n addresses);
//! - short float values (`iec60870_asdu.float`) equal our values of M_ME_NC_1/M_ME_TF_1
//!   and C_SE_NC_1/C_SE_TC_1 events.

mod common;

use common::{have_tshark, shared_pcaps, tshark};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn events(capture: &Path) -> Vec<Value> {
    common::events(capture, "iec104")
}

/// Every comma-separated value of one tshark field over the frames matching `filter`.
fn field(capture: &Path, filter: &str, name: &str) -> Vec<String> {
    tshark(capture, &["-Y", filter, "-T", "fields", "-e", name])
        .lines()
        .flat_map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect()
}

fn count<I: IntoIterator<Item = String>>(it: I) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for k in it {
        *m.entry(k).or_default() += 1;
    }
    m
}

const CAPTURES: &[&str] = &[
    "emreekin-ics-pcaps/IEC60870-104/iec104.pcap",
    "emreekin-ics-pcaps/IEC60870-104/iec104_baselines.pcap",
    "emreekin-ics-pcaps/IEC60870-104/104deneme.pcap",
    "emreekin-ics-pcaps/IEC60870-104/104deneme2.pcap",
    "emreekin-ics-pcaps/IEC60870-104/104IPValue.pcap",
    "emreekin-ics-pcaps/IEC60870-104/104LocalValue.pcap",
    "emreekin-ics-pcaps/IEC60870-104/58_59.pcap",
    "emreekin-ics-pcaps/IEC60870-104/62.pcap",
    "emreekin-ics-pcaps/IEC60870-104/64.pcap",
    "emreekin-ics-pcaps/IEC60870-104/IEC1044.pcap",
    "emreekin-ics-pcaps/LocalPCAP/vinci104.pcap",
    "emreekin-ics-pcaps/LocalPCAP/similator.pcap",
];

#[test]
fn types_frames_addresses_and_floats_equal_tshark() {
    let Some(dir) = shared_pcaps() else { return };
    if !have_tshark() {
        return;
    }
    for name in CAPTURES {
        let path = dir.join(name);
        let ev = events(&path);
        assert!(!ev.is_empty(), "{name}: no events");
        // Type ids.
        let ours = count(
            ev.iter()
                .filter(|e| e["function"].as_u64().unwrap() < 256)
                .map(|e| e["function"].to_string()),
        );
        let theirs = count(field(&path, "iec60870_asdu", "iec60870_asdu.typeid"));
        assert_eq!(
            ours, theirs,
            "{name}: type ids, ours (left) vs tshark (right)"
        );
        // Frame formats.
        let ours = count(ev.iter().map(|e| match e["apci"].as_str() {
            Some("S") => "0x00000001".to_string(),
            Some("U") => "0x00000003".to_string(),
            _ => "0x00000000".to_string(),
        }));
        let theirs = count(field(&path, "iec60870_104", "iec60870_104.type"));
        assert_eq!(ours, theirs, "{name}: APCI formats");
        // Information object addresses.
        let mut ours = Vec::new();
        for e in &ev {
            for t in e["targets"].as_array().unwrap() {
                let (start, n) = (t["start"].as_u64().unwrap(), t["count"].as_u64().unwrap());
                ours.extend((start..start + n).map(|a| a.to_string()));
            }
        }
        let ours = count(ours);
        let theirs = count(field(&path, "iec60870_asdu", "iec60870_asdu.ioa"));
        assert_eq!(ours, theirs, "{name}: information object addresses");
        // Short floats: tshark prints six significant digits, so compare with that
        // relative precision after sorting.
        let mut ours: Vec<f64> = ev
            .iter()
            .filter(|e| matches!(e["function"].as_u64(), Some(13 | 36 | 50 | 63 | 112)))
            .flat_map(|e| e["values"].as_array().unwrap().clone())
            .map(|v| v["value"].as_f64().unwrap())
            .collect();
        let mut theirs: Vec<f64> = field(&path, "iec60870_asdu", "iec60870_asdu.float")
            .iter()
            .map(|s| s.parse::<f64>().unwrap())
            .collect();
        ours.sort_by(f64::total_cmp);
        theirs.sort_by(f64::total_cmp);
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{name}: float values {ours:?} {theirs:?}"
        );
        for (a, b) in ours.iter().zip(&theirs) {
            assert!(
                (a - b).abs() <= 1e-5 * a.abs().max(b.abs()),
                "{name}: float {a} vs {b}"
            );
        }
    }
}

#[test]
fn commands_and_hard_coded_figures() {
    let Some(dir) = shared_pcaps() else { return };
    // tshark -r iec104.pcap -Y iec60870_asdu -T fields -e iec60870_asdu.typeid | tr , '\n'
    // | sort -n | uniq -c: 6 each of C_SC_NA_1 (45) ... C_BO_NA_1 (51), 6 C_IC_NA_1 (100),
    // 1 M_EI_NA_1 (70); iec60870_104.type: 91 I, 14 S, 10 U.
    let ev = events(&dir.join("emreekin-ics-pcaps/IEC60870-104/iec104.pcap"));
    let by = |f: u64| ev.iter().filter(|e| e["function"] == f).count();
    for f in 45..=51 {
        assert_eq!(by(f), 6, "type {f}");
    }
    assert_eq!((by(100), by(70)), (6, 1));
    assert_eq!(ev.iter().filter(|e| e["apci"] == "S").count(), 14);
    assert_eq!(ev.iter().filter(|e| e["apci"] == "U").count(), 10);
    let sc: Vec<_> = ev.iter().filter(|e| e["function"] == 45).collect();
    assert_eq!(sc[0]["op"], "write");
    assert_eq!(sc[0]["function_name"], "single_command");
    assert_eq!(sc[0]["type"], "C_SC_NA_1");
    assert_eq!(sc[0]["values"].as_array().unwrap().len(), 1);
    assert!(sc[0]["unit"].is_u64());
    let gi = ev.iter().find(|e| e["function"] == 100).unwrap();
    assert_eq!(
        (gi["op"].as_str(), gi["cot"].as_str()),
        (Some("read"), Some("activation"))
    );
    let u = ev
        .iter()
        .find(|e| e["function_name"] == "startdt_act")
        .unwrap();
    assert_eq!(
        (u["op"].as_str(), u["function"].as_u64()),
        (Some("session"), Some(0x107))
    );
}
