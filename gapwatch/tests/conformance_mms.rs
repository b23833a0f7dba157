//! MMS conformance on third-party IEC 61850 captures, end to end through the built binary
//! (TPKT → COTP → session → presentation → MMS), against tshark's dissection:
//! - confirmed requests per service (`mms.confirmedServiceRequest`) and confirmed
//!   responses per service (`mms.confirmedServiceResponse`) equal our request and
//!   response events per function;
//! - initiate request/response PDUs (frames with `mms.initiate_RequestPDU_element` /
//!   `mms.initiate_ResponsePDU_element`) equal our `initiate_request`/`initiate_response`
//!   events;
//! - the item names of read requests (`mms.itemId` in frames with
//!   `mms.confirmedServiceRequest == 4`) equal the items of our `var:<domain>/<item>`
//!   read targets.

mod common;

use common::{have_tshark, shared_pcaps, tshark};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn events(capture: &Path) -> Vec<Value> {
    common::events(capture, "mms")
}

fn field(capture: &Path, filter: &str, name: &str) -> Vec<String> {
    tshark(capture, &["-Y", filter, "-T", "fields", "-e", name])
        .lines()
        .flat_map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect()
}

fn frames(capture: &Path, filter: &str) -> usize {
    tshark(
        capture,
        &["-Y", filter, "-T", "fields", "-e", "frame.number"],
    )
    .lines()
    .count()
}

fn count<I: IntoIterator<Item = String>>(it: I) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for k in it {
        *m.entry(k).or_default() += 1;
    }
    m
}

const CAPTURES: &[&str] = &[
    "emreekin-ics-pcaps/IEC61850/Substation/ABB1.pcap",
    "emreekin-ics-pcaps/IEC61850/Substation/circuit.pcap",
    "emreekin-ics-pcaps/IEC61850/Substation/simens.pcap",
    "emreekin-ics-pcaps/IEC61850/Substation/wamp.pcap",
    "emreekin-ics-pcaps/IEC61850/mms1.pcap",
    "emreekin-ics-pcaps/IEC61850/mmsy.pcap",
    "emreekin-ics-pcaps/IEC61850/mmsy1.pcap",
    "emreekin-ics-pcaps/IEC61850/setvalue.pcap",
    "ct-samples/Protocols/IEC61850/GOOSE/GE_-_Multilin_UR_-_Digital_Protection_Relay/GOOSE_and_MMS.pcapng",
];

#[test]
fn services_initiates_and_read_items_equal_tshark() {
    let Some(dir) = shared_pcaps() else { return };
    if !have_tshark() {
        return;
    }
    for name in CAPTURES {
        let path = dir.join(name);
        let ev = events(&path);
        assert!(!ev.is_empty(), "{name}: no MMS events");
        let confirmed = |resp: bool| {
            count(
                ev.iter()
                    .filter(|e| e["is_response"] == resp && e["function"].as_u64().unwrap() < 0x100)
                    .map(|e| e["function"].to_string()),
            )
        };
        let theirs = count(field(&path, "mms", "mms.confirmedServiceRequest"));
        assert_eq!(
            confirmed(false),
            theirs,
            "{name}: requests, ours (left) vs tshark"
        );
        let theirs = count(field(&path, "mms", "mms.confirmedServiceResponse"));
        assert_eq!(
            confirmed(true),
            theirs,
            "{name}: responses, ours (left) vs tshark"
        );
        let named = |n: &str| ev.iter().filter(|e| e["function_name"] == n).count();
        assert_eq!(
            named("initiate_request"),
            frames(&path, "mms.initiate_RequestPDU_element"),
            "{name}: initiate requests"
        );
        assert_eq!(
            named("initiate_response"),
            frames(&path, "mms.initiate_ResponsePDU_element"),
            "{name}: initiate responses"
        );
        let ours = count(
            ev.iter()
                .filter(|e| e["function"] == 4 && e["is_response"] == false)
                .flat_map(|e| e["targets"].as_array().unwrap().clone())
                .filter_map(|t| {
                    let s = t["space"].as_str()?.strip_prefix("var:")?;
                    Some(s.rsplit_once('/').map_or(s, |(_, item)| item).to_string())
                }),
        );
        let theirs = count(field(
            &path,
            "mms.confirmedServiceRequest == 4",
            "mms.itemId",
        ));
        assert_eq!(ours, theirs, "{name}: read request items");
    }
}

#[test]
fn hard_coded_figures_and_pairing() {
    let Some(dir) = shared_pcaps() else { return };
    // tshark -r ABB1.pcap -Y mms -T fields -e mms.confirmedServiceRequest | tr , '\n' |
    // sort -n | uniq -c: 227 getNameList (1), 221 read (4), 192
    // getVariableAccessAttributes (6), 2 getNamedVariableListAttributes (12); responses
    // the same except 220 read.
    let ev = events(&dir.join("emreekin-ics-pcaps/IEC61850/Substation/ABB1.pcap"));
    let n = |f: u64, resp: bool| {
        ev.iter()
            .filter(|e| e["function"] == f && e["is_response"] == resp)
            .count()
    };
    assert_eq!(
        (n(1, false), n(4, false), n(6, false), n(12, false)),
        (227, 221, 192, 2)
    );
    assert_eq!(
        (n(1, true), n(4, true), n(6, true), n(12, true)),
        (227, 220, 192, 2)
    );
    // Every response found its request (invoke ids), and carries its targets.
    assert!(ev.iter().all(|e| e.get("unpaired").is_none()));
    let read = ev
        .iter()
        .find(|e| e["function"] == 4 && e["is_response"] == true)
        .unwrap();
    assert_eq!(read["op"], "read");
    assert_eq!(read["status"], "ok");
    assert!(read["targets"][0]["space"]
        .as_str()
        .unwrap()
        .starts_with("var"));
    let gva = ev.iter().find(|e| e["function"] == 6).unwrap();
    assert_eq!(gva["function_name"], "get_variable_access_attributes");
    assert!(gva["targets"][0]["space"]
        .as_str()
        .unwrap()
        .starts_with("var:"));
    // setvalue.pcap: a read of the named variable list $MU1$$$ (frame 12).
    let ev = events(&dir.join("emreekin-ics-pcaps/IEC61850/setvalue.pcap"));
    let read = ev.iter().find(|e| e["function"] == 4).unwrap();
    assert_eq!(read["targets"][0]["space"], "varlist:$MU1$$$");
    assert_eq!(
        ev.iter()
            .filter(|e| e["function_name"] == "conclude_request")
            .count(),
        1
    );
}
