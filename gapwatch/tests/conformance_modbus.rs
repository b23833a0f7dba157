//! Modbus/TCP events from real captures, end to end through the built binary, compared
//! with tshark's dissection of the same captures and with the ICSNPP (Zeek) baseline.
//!
//! Skips, saying why, when `../shared/pcaps` or tshark is missing.

mod common;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// `gapwatch analyze --json` on one capture: the `modbus` event records.
fn modbus_events(capture: &Path) -> Vec<Value> {
    let out = common::gapwatch(&["analyze", "--json", &capture.display().to_string()]);
    assert!(
        out.status.success(),
        "gapwatch failed on {}: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("every stdout line is JSON"))
        .filter(|v| v["kind"] == "event" && v["protocol"] == "modbus")
        // Decoded messages only: malformed ones are protocol_anomaly events.
        .filter(|v| v["function_name"] != "protocol_anomaly")
        .collect()
}

/// Our events per function code, requests or responses.
fn ours(events: &[Value], responses: bool) -> BTreeMap<u64, u64> {
    let mut m = BTreeMap::new();
    for e in events.iter().filter(|e| e["is_response"] == responses) {
        *m.entry(e["function"].as_u64().expect("function is a number"))
            .or_default() += 1;
    }
    m
}

/// tshark's PDUs per function code (exception bit cleared) on one side of port 502.
/// Several PDUs in one segment are listed comma-separated in one line.
fn tshark_functions(capture: &Path, responses: bool) -> BTreeMap<u64, u64> {
    let filter = if responses {
        "modbus && tcp.srcport == 502"
    } else {
        "modbus && tcp.dstport == 502"
    };
    let text = common::tshark(
        capture,
        &["-Y", filter, "-T", "fields", "-e", "modbus.func_code"],
    );
    let mut m = BTreeMap::new();
    for code in text.split([',', '\n']).filter(|s| !s.trim().is_empty()) {
        let fc: u64 = code
            .trim()
            .parse()
            .expect("tshark prints numeric function codes");
        *m.entry(fc & 0x7F).or_default() += 1;
    }
    m
}

/// tshark's exception responses as (function, exception code) counts.
fn tshark_exceptions(capture: &Path) -> BTreeMap<(u64, u64), u64> {
    let text = common::tshark(
        capture,
        &[
            "-Y",
            "modbus.exception_code",
            "-T",
            "fields",
            "-e",
            "modbus.func_code",
            "-e",
            "modbus.exception_code",
        ],
    );
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let mut f = line.split('\t');
        let (Some(fc), Some(code)) = (f.next(), f.next()) else {
            continue;
        };
        let fc: u64 = fc.trim().parse().expect("numeric");
        *m.entry((fc & 0x7F, code.trim().parse().expect("numeric")))
            .or_default() += 1;
    }
    m
}

fn our_exceptions(events: &[Value]) -> BTreeMap<(u64, u64), u64> {
    let mut m = BTreeMap::new();
    for e in events.iter().filter(|e| e["status"] == "exception") {
        let key = (
            e["function"].as_u64().unwrap_or(0),
            e["exception"].as_u64().unwrap_or(0),
        );
        *m.entry(key).or_default() += 1;
    }
    m
}

fn counts(pairs: &[(u64, u64)]) -> BTreeMap<u64, u64> {
    pairs.iter().copied().collect()
}

/// Captures, with the per-function counts tshark gives for them, hard-coded so the test
/// also fails when tshark and we drift together. Produced by
/// `tshark -r F -Y 'modbus && tcp.dstport == 502' -T fields -e modbus.func_code`
/// (and `tcp.srcport == 502` for responses), comma lists split, `sort | uniq -c`.
#[allow(clippy::type_complexity)]
const CAPTURES: &[(&str, &[(u64, u64)], &[(u64, u64)])] = &[
    (
        "icsnpp-modbus/testing/traces/modbus_example.pcap",
        &[
            (1, 2),
            (2, 2),
            (3, 3),
            (4, 2),
            (5, 1),
            (6, 1),
            (7, 1),
            (8, 1),
            (15, 1),
            (16, 1),
            (17, 1),
            (20, 1),
            (21, 1),
            (22, 2),
            (23, 2),
            (24, 1),
            (43, 1),
        ],
        &[
            (1, 2),
            (2, 2),
            (3, 3),
            (4, 2),
            (5, 1),
            (6, 1),
            (7, 1),
            (8, 1),
            (15, 1),
            (16, 1),
            (17, 1),
            (20, 1),
            (21, 1),
            (22, 2),
            (23, 2),
            (24, 1),
            (43, 1),
        ],
    ),
    (
        "iti-ics-security-tools/pcaps/ModbusTCP/ModbusTCP.pcap",
        &[(1, 1519), (2, 1574), (4, 2768), (15, 2115), (16, 14)],
        &[(1, 1519), (2, 1572), (4, 2768), (15, 2113), (16, 14)],
    ),
    (
        "iti-ics-security-tools/pcaps/ModbusTCP/Modbus/modbus_test.pcap",
        &[(4, 1079), (6, 63)],
        &[(4, 1053), (6, 63)],
    ),
    (
        "iti-ics-security-tools/pcaps/ModbusTCP/Modbus/modbus_test_2.pcap",
        &[(3, 43), (4, 2339)],
        &[(3, 43), (4, 1550)],
    ),
    (
        "emreekin-ics-pcaps/LocalPCAP/IllegalFunction.pcap",
        &[(3, 20), (5, 1)],
        &[(3, 20), (5, 1)],
    ),
    (
        "emreekin-ics-pcaps/LocalPCAP/WriteMultipleCoil.pcap",
        &[(1, 9), (15, 1)],
        &[(1, 8), (15, 1)],
    ),
    (
        "emreekin-ics-pcaps/LocalPCAP/modbusAnalog.pcap",
        &[(3, 62), (6, 2)],
        &[(3, 61), (6, 2)],
    ),
    (
        "emreekin-ics-pcaps/MODBUS/modbus-mask-write-register.pcap",
        &[(22, 1)],
        &[(22, 1)],
    ),
    (
        "emreekin-ics-pcaps/MODBUS/modbus-read-write-multiple-registers.pcap",
        &[(23, 1)],
        &[(23, 1)],
    ),
    // tshark marks the response malformed (its device identification objects overrun the
    // PDU); we report it as an anomaly and still emit the response event.
    (
        "emreekin-ics-pcaps/MODBUS/modbus-encapsulated-transport.pcap",
        &[(43, 1)],
        &[(43, 1)],
    ),
];

#[test]
fn function_codes_per_direction_equal_tshark() {
    let Some(pcaps) = common::shared_pcaps() else {
        return;
    };
    let tshark = common::have_tshark();
    for (file, requests, responses) in CAPTURES {
        let capture = pcaps.join(file);
        let events = modbus_events(&capture);
        assert_eq!(ours(&events, false), counts(requests), "requests in {file}");
        assert_eq!(
            ours(&events, true),
            counts(responses),
            "responses in {file}"
        );
        if tshark {
            assert_eq!(
                ours(&events, false),
                tshark_functions(&capture, false),
                "tshark requests in {file}"
            );
            assert_eq!(
                ours(&events, true),
                tshark_functions(&capture, true),
                "tshark responses in {file}"
            );
            assert_eq!(
                our_exceptions(&events),
                tshark_exceptions(&capture),
                "exceptions in {file}"
            );
        }
    }
}

#[test]
fn exceptions_are_named() {
    let Some(pcaps) = common::shared_pcaps() else {
        return;
    };
    // tshark -r IllegalFunction.pcap -Y modbus.exception_code -T fields -e modbus.exception_code
    // | sort | uniq -c  →  20 × code 1 (function 3).
    let events = modbus_events(&pcaps.join("emreekin-ics-pcaps/LocalPCAP/IllegalFunction.pcap"));
    let names: Vec<&str> = events
        .iter()
        .filter_map(|e| e["exception_name"].as_str())
        .collect();
    assert_eq!(
        names.iter().filter(|n| **n == "illegal_function").count(),
        20
    );
    assert_eq!(names.len(), 20);
}

/// The ICSNPP `modbus_detailed.log` baseline of modbus_example.pcap: per transaction
/// (tid, unit, function): address, quantity, request values, response values. Rows copied
/// from icsnpp-modbus/testing/baseline/analyzer.basic/modbus_detailed.log (columns
/// tid, unit, func, address, quantity, request_values, response_values).
const ICSNPP_DETAILED: &[(u64, u64, u64, u64, u64, &str, &str)] = &[
    (1, 4, 1, 1, 1, "", "1"),
    (2, 5, 1, 1, 8, "", "1,0,0,1,0,1,1,1"),
    (3, 4, 2, 1, 1, "", "0"),
    (4, 5, 2, 1, 8, "", "0,0,1,1,0,1,0,0"),
    (5, 4, 3, 1, 1, "", "170"),
    (6, 5, 3, 1, 8, "", "170,170,187,204,61316,58347,40843,58561"),
    (7, 4, 4, 1, 1, "", "36395"),
    (
        8,
        5,
        4,
        1,
        8,
        "",
        "36395,8059,39755,33361,7162,56207,619,44695",
    ),
    (9, 6, 5, 1, 1, "1", "1"),
    (10, 7, 6, 1, 1, "43981", "43981"),
    (13, 7, 15, 1, 4, "1,0,0,1", ""),
    (14, 7, 16, 1, 4, "170,187,204,221", ""),
];

fn joined_values(e: &Value) -> String {
    e["values"]
        .as_array()
        .map(|vs| {
            vs.iter()
                .map(|v| format!("{}", v["value"].as_f64().unwrap_or(f64::NAN)))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

#[test]
fn addresses_and_values_equal_the_icsnpp_baseline() {
    let Some(pcaps) = common::shared_pcaps() else {
        return;
    };
    let events = modbus_events(&pcaps.join("icsnpp-modbus/testing/traces/modbus_example.pcap"));
    for &(tid, unit, fc, address, quantity, req_values, resp_values) in ICSNPP_DETAILED {
        let find = |response: bool| {
            events
                .iter()
                .find(|e| {
                    e["transaction_id"] == tid
                        && e["unit"] == unit
                        && e["function"] == fc
                        && e["is_response"] == response
                })
                .unwrap_or_else(|| panic!("no event for tid {tid} unit {unit} fc {fc}"))
        };
        let (req, resp) = (find(false), find(true));
        assert_eq!(req["targets"][0]["start"], address, "tid {tid}");
        assert_eq!(req["targets"][0]["count"], quantity, "tid {tid}");
        assert_eq!(
            joined_values(req),
            req_values,
            "request values of tid {tid}"
        );
        if !resp_values.is_empty() {
            assert_eq!(
                joined_values(resp),
                resp_values,
                "response values of tid {tid}"
            );
        }
    }
    // The baseline's one exception: tid 1, unit 0, read holding registers 600 (10),
    // ILLEGAL_DATA_ADDRESS.
    let exc = events
        .iter()
        .find(|e| e["status"] == "exception")
        .expect("one exception response");
    assert_eq!(
        (
            &exc["function"],
            &exc["exception_name"],
            &exc["targets"][0]["start"],
            &exc["targets"][0]["count"]
        ),
        (
            &Value::from(3),
            &Value::from("illegal_data_address"),
            &Value::from(600),
            &Value::from(10)
        )
    );
}
