//! OPC UA binary events on third-party captures, end to end through the sensor,
//! compared with tshark's dissection (transport message types and service encoding ids)
//! and with the ICSNPP (Zeek) baseline of services.

mod common;

use common::{have_tshark, shared_pcaps, tshark};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn events(capture: &Path) -> Vec<Value> {
    common::events(capture, "opcua")
}

/// Our events keyed as tshark shows them: the service encoding id (request id, or the
/// response id = request id + 3, or 397 for a ServiceFault), transport messages by name,
/// and encrypted chunks as `encrypted-<message>`.
fn ours(evs: &[Value]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for e in evs {
        let f = e["function"].as_u64().unwrap_or(0);
        let name = e["function_name"].as_str().unwrap_or("");
        let key = if e["encrypted"] == true {
            format!("encrypted-{name}")
        } else if e["service_fault"] == true {
            "397".to_string()
        } else if f > 0xFFFF {
            name.to_string()
        } else if e["is_response"] == true {
            (f + 3).to_string()
        } else {
            f.to_string()
        };
        *m.entry(key).or_insert(0) += 1;
    }
    m
}

/// tshark's messages: every service id, and HEL/ACK/ERR/RHE by name; OPN/MSG/CLO
/// chunks without a service id (encrypted) as `encrypted-<our name>`.
fn theirs(capture: &Path, extra: &[&str]) -> BTreeMap<String, u64> {
    let mut args: Vec<&str> = extra.to_vec();
    args.extend([
        "-T",
        "fields",
        "-e",
        "opcua.transport.type",
        "-e",
        "opcua.servicenodeid.numeric",
    ]);
    let mut m = BTreeMap::new();
    for line in tshark(capture, &args).lines() {
        let mut cols = line.split('\t');
        let types: Vec<&str> = cols
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .collect();
        let ids: Vec<&str> = cols
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .collect();
        for t in &types {
            let name = match *t {
                "HEL" => "hello",
                "ACK" => "acknowledge",
                "ERR" => "error",
                "RHE" => "reverse_hello",
                _ => continue,
            };
            *m.entry(name.to_string()).or_insert(0) += 1;
        }
        for id in &ids {
            *m.entry(id.to_string()).or_insert(0) += 1;
        }
        let secure = types
            .iter()
            .filter(|t| matches!(**t, "OPN" | "MSG" | "CLO"))
            .count();
        if ids.is_empty() && secure == 1 {
            let name = match types.iter().find(|t| matches!(**t, "OPN" | "MSG" | "CLO")) {
                Some(&"OPN") => "open_secure_channel",
                Some(&"CLO") => "close_secure_channel",
                _ => "secure_message",
            };
            *m.entry(format!("encrypted-{name}")).or_insert(0) += 1;
        }
    }
    m
}

fn compare(rel: &str, extra: &[&str], adjust: &[(&str, i64)]) -> Option<Vec<Value>> {
    let capture = shared_pcaps()?.join(rel);
    let evs = events(&capture);
    if have_tshark() {
        let mut want = theirs(&capture, extra);
        for (k, d) in adjust {
            let e = want.entry(k.to_string()).or_insert(0);
            *e = e.checked_add_signed(*d).expect("adjustment within count");
            if *e == 0 {
                want.remove(*k);
            }
        }
        assert_eq!(ours(&evs), want, "{rel}: ours vs tshark");
    }
    Some(evs)
}

#[test]
fn open62541_captures_match_tshark_exactly() {
    // (capture, events) — totals from the same tshark fields.
    let captures = [
        ("icsnpp-opcua-binary/pcaps/open62541_client-server_mainloop.pcap", 68),
        ("icsnpp-opcua-binary/pcaps/open62541_client-server_minimal.pcap", 68),
        ("icsnpp-opcua-binary/pcaps/open62541_client-server_mainloop-no-handshake.pcap", 56),
        ("icsnpp-opcua-binary/pcaps/open62541_client-server_mainloop-ActivateSession-diagInfo.pcap", 88),
        ("icsnpp-opcua-binary/pcaps/open62541_client-server_mainloop-hasInnerDiagInfohasAddlInfo.pcap", 68),
        ("icsnpp-opcua-binary/pcaps/open62541_client-server_mainloop-withStringTable.pcap", 68),
        ("icsnpp-opcua-binary/pcaps/open62541_browse_request_with_results.pcap", 106),
        ("icsnpp-opcua-binary/pcaps/open62541_browse_next.pcap", 40),
        ("icsnpp-opcua-binary/pcaps/open62541_create_monitored_items.pcap", 28),
        ("icsnpp-opcua-binary/pcaps/open62541_discover_getendpoints_discover_urls.pcap", 30),
        ("icsnpp-opcua-binary/tests/traces/pending_overflow.pcap", 24),
        ("emreekin-ics-pcaps/OPC-UA/opycua_share.pcap", 6),
    ];
    for (rel, n) in captures {
        let Some(evs) = compare(rel, &[], &[]) else {
            return;
        };
        assert_eq!(evs.len(), n, "{rel}");
    }
}

#[test]
fn gap_capture_matches_tshark_plus_a_response_it_does_not_reassemble() {
    // tshark leaves the segments carrying the CreateSession response (frames 12 onwards,
    // 1460-byte segments of a message with certificates) unreassembled and shows no OPC
    // UA in them; the sensor reassembles them and we decode the response (464).
    let Some(evs) = compare(
        "icsnpp-opcua-binary/pcaps/opcua_with-gap.pcap",
        &[],
        &[("464", 1)],
    ) else {
        return;
    };
    assert_eq!(evs.len(), 172);
    let Some(evs) = compare(
        "icsnpp-opcua-binary/pcaps/opcua_with-gap_with-handshake.pcap",
        &[],
        &[("464", 1)],
    ) else {
        return;
    };
    assert_eq!(evs.len(), 240);
    // Publish responses: 49 good, 10 with a bad service result.
    let bad = evs
        .iter()
        .filter(|e| e["function_name"] == "publish" && e["status"] == "exception")
        .count();
    assert_eq!(bad, 10);
}

#[test]
fn non_standard_port_is_found_by_content() {
    // tshark needs `-d tcp.port==48010,opcua` to dissect this capture at all; we select
    // the dissector from the Hello's content.
    let Some(evs) = compare(
        "icsnpp-opcua-binary/pcaps/open62541_client-server_mainloop-not-localhost-non-standard-port.pcap",
        &["-d", "tcp.port==48010,opcua"],
        &[],
    ) else {
        return;
    };
    assert_eq!(evs.len(), 68);
    assert!(evs
        .iter()
        .all(|e| e["src_port"] == 48010 || e["dst_port"] == 48010));
}

#[test]
fn encrypted_channel_gives_one_event_per_chunk_with_the_policy() {
    let Some(evs) = compare(
        "icsnpp-opcua-binary/pcaps/open62541_client-server_encrypted.pcap",
        &[],
        &[],
    ) else {
        return;
    };
    // tshark -T fields -e opcua.transport.type -e opcua.servicenodeid.numeric: 8 MSG, 2
    // OPN and 1 CLO chunks without a readable service on the Basic128Rsa15 channel.
    let enc: Vec<&Value> = evs.iter().filter(|e| e["encrypted"] == true).collect();
    assert_eq!(enc.len(), 11);
    assert!(enc.iter().all(|e| e["security_policy"]
        == "http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15"
        && e["targets"].as_array().is_some_and(|t| t.is_empty())));
}

#[test]
fn mainloop_matches_the_zeek_baseline_services_values_and_identity() {
    let Some(dir) = shared_pcaps() else {
        return;
    };
    let evs =
        events(&dir.join("icsnpp-opcua-binary/tests/traces/open62541_client-server_mainloop.pcap"));
    // Services in the ICSNPP baseline analyzer.basic/opcua_binary.log, by name.
    let log = std::fs::read_to_string(
        dir.join("icsnpp-opcua-binary/tests/baseline/analyzer.basic/opcua_binary.log"),
    )
    .expect("baseline log");
    let mut zeek: BTreeMap<String, u64> = BTreeMap::new();
    for field in log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.split('\t'))
    {
        if field.ends_with("Request") || field.ends_with("Response") {
            *zeek.entry(field.to_string()).or_insert(0) += 1;
        }
    }
    let mut ours: BTreeMap<String, u64> = BTreeMap::new();
    for e in evs
        .iter()
        .filter(|e| e["function"].as_u64().is_some_and(|f| f < 0xFFFF))
    {
        let camel: String = e["function_name"]
            .as_str()
            .unwrap_or("")
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next().map_or(String::new(), |f| {
                    f.to_ascii_uppercase().to_string() + c.as_str()
                })
            })
            .collect();
        let suffix = if e["is_response"] == true {
            "Response"
        } else {
            "Request"
        };
        *ours.entry(camel + suffix).or_insert(0) += 1;
    }
    assert_eq!(ours, zeek);
    // opcua_binary_write.log: two writes to ns=1;s=the.answer, attribute 13 (Value).
    let writes: Vec<&Value> = evs
        .iter()
        .filter(|e| e["function_name"] == "write" && e["is_response"] == false)
        .collect();
    assert_eq!(writes.len(), 2);
    for w in &writes {
        assert_eq!(w["op"], "write");
        assert_eq!(w["targets"][0]["space"], "node:ns=1;s=the.answer");
        assert_eq!(w["targets"][0]["start"], 13);
    }
    let values: Vec<f64> = writes
        .iter()
        .filter_map(|w| w["values"][0]["value"].as_f64())
        .collect();
    assert_eq!(values, vec![1.0, 2.0]);
    // opcua_binary_get_endpoints_description.log: application name of the server.
    let ge = evs
        .iter()
        .find(|e| e["function_name"] == "get_endpoints" && e["is_response"] == true)
        .expect("a GetEndpoints response");
    assert_eq!(ge["application_name"], "open62541-based OPC UA Application");
    assert_eq!(ge["op"], "identify");
}
