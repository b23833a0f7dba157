//! S7comm and S7comm-plus conformance on third-party captures, end to end through the
//! built binary: our events against tshark's S7comm dissection (job/ack-data functions and
//! userdata function groups), against the ICSNPP/Zeek baselines where they exist, and the
//! control, program and identity facts each capture is known to hold.
//!
//! Counting rules, applied to both sides:
//! - requests: our events with `is_response == false` and a job function (< 0x100) equal
//!   tshark's `s7comm.param.func` of ROSCTR 1 PDUs; responses: ours with
//!   `is_response == true` equal tshark's ROSCTR 2 + 3 PDUs (we name an ack without
//!   parameters, ROSCTR 2, by the function of the request it answers; tshark leaves its
//!   function empty).
//! - userdata: ours per (group, subfunction) (function 0x1_0000 + group << 8 + sub),
//!   requests, responses and pushes together, equal tshark's ROSCTR 7 PDUs per
//!   (`s7comm.param.userdata.funcgroup`, `s7comm.param.userdata.subfunc`).

mod common;

use common::{have_tshark, shared_pcaps, tshark};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// `gapwatch analyze --json` event records of a capture.
fn events(capture: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_gapwatch"))
        .args(["analyze", "--json"])
        .arg(capture)
        .output()
        .expect("the gapwatch binary built by cargo can be started");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON record"))
        .filter(|v| v["kind"] == "event")
        // Decoded messages only: malformed ones are protocol_anomaly events.
        .filter(|v| v["function_name"] != "protocol_anomaly")
        .collect()
}

/// Asset records of a capture.
fn assets(capture: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_gapwatch"))
        .args(["analyze", "--json"])
        .arg(capture)
        .output()
        .expect("gapwatch runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON record"))
        .filter(|v| v["kind"] == "asset")
        .collect()
}

type Counts = BTreeMap<String, u64>;

/// Our S7comm events as counts of `req/<func>`, `resp/<func>` and `ud/<group>/<sub>`.
fn our_counts(events: &[Value]) -> Counts {
    let mut c = Counts::new();
    for e in events.iter().filter(|e| e["protocol"] == "s7comm") {
        let f = e["function"].as_u64().unwrap();
        let key = if f >= 0x1_0000 {
            let gs = f - 0x1_0000;
            if gs >> 8 == 0 {
                "ud/0/*".to_string()
            } else {
                format!("ud/{}/{}", gs >> 8, gs & 0xff)
            }
        } else if e["is_response"] == true {
            format!("resp/{f}")
        } else {
            format!("req/{f}")
        };
        *c.entry(key).or_default() += 1;
    }
    c
}

fn parse_hex(s: &str) -> u64 {
    let s = s.trim();
    s.strip_prefix("0x").map_or_else(
        || s.parse().unwrap(),
        |h| u64::from_str_radix(h, 16).unwrap(),
    )
}

/// tshark's S7comm PDUs in the same keys. A frame may hold several PDUs: the fields are
/// comma-separated lists, aligned for job/ack PDUs.
fn tshark_counts(capture: &Path) -> Counts {
    let text = tshark(
        capture,
        &[
            "-Y",
            "s7comm",
            "-T",
            "fields",
            "-e",
            "s7comm.header.rosctr",
            "-e",
            "s7comm.param.func",
            "-e",
            "s7comm.param.userdata.funcgroup",
            "-e",
            "s7comm.param.userdata.subfunc",
        ],
    );
    let mut c = Counts::new();
    for line in text.lines() {
        let cols: Vec<Vec<&str>> = line
            .split('\t')
            .map(|f| f.split(',').filter(|s| !s.is_empty()).collect())
            .collect();
        let get = |i: usize| cols.get(i).cloned().unwrap_or_default();
        let (rosctr, funcs, groups, subs) = (get(0), get(1), get(2), get(3));
        let mut fi = funcs.iter();
        // Mode-transition pushes (group 0) carry the new mode where the subfunction
        // would be; tshark leaves the subfunction empty for them: pad with "*".
        let mut subs = subs.into_iter();
        let mut ui = groups.into_iter().map(move |g| {
            (
                g,
                if g == "0" || g == "0x00" {
                    "*"
                } else {
                    subs.next().unwrap_or("*")
                },
            )
        });
        for r in rosctr {
            match r {
                "1" | "3" => {
                    let dir = if r == "1" { "req" } else { "resp" };
                    let f = fi
                        .next()
                        .map_or("none".to_string(), |f| parse_hex(f).to_string());
                    *c.entry(format!("{dir}/{f}")).or_default() += 1;
                }
                // Ack without parameters: counted under the request's function below.
                "2" => *c.entry("resp/ack".into()).or_default() += 1,
                "7" => {
                    let (g, s) = ui.next().unwrap();
                    let s = if s == "*" {
                        s.to_string()
                    } else {
                        parse_hex(s).to_string()
                    };
                    *c.entry(format!("ud/{}/{s}", parse_hex(g))).or_default() += 1;
                }
                other => panic!("unexpected ROSCTR {other}"),
            }
        }
    }
    c
}

/// Folds tshark's parameterless acks into the response counts of the functions whose
/// responses are short of their requests (the only place they can belong).
fn fold_acks(mut theirs: Counts, ours: &Counts) -> Counts {
    if let Some(mut acks) = theirs.remove("resp/ack") {
        for (k, v) in ours.iter().filter(|(k, _)| k.starts_with("resp/")) {
            let t = theirs.entry(k.clone()).or_default();
            let missing = v.saturating_sub(*t).min(acks);
            *t += missing;
            acks -= missing;
        }
        assert_eq!(acks, 0, "tshark acks that answer no request of ours");
    }
    theirs
}

const CAPTURES: &[&str] = &[
    "gymgit-s7-pcaps/snap7_s300_everything.pcapng",
    "gymgit-s7-pcaps/snap7_s300_stop.pcapng",
    "gymgit-s7-pcaps/snap7_s300_readVar.pcapng",
    "gymgit-s7-pcaps/step7_s300_AuthPassword.pcapng",
    "gymgit-s7-pcaps/step7_s300_copyRamToRom.pcapng",
    "gymgit-s7-pcaps/step7_s300_download.pcapng",
    "gymgit-s7-pcaps/step7_s300_readDiagData.pcapng",
    "gymgit-s7-pcaps/step7_s300_readVarTab.pcapng",
    "gymgit-s7-pcaps/step7_s300_stop.pcapng",
    "gymgit-s7-pcaps/tia_s300_downloadOb1.pcapng",
    "gymgit-s7-pcaps/wincc_s300_setup-alarm-read-write.pcapng",
    "ct-samples/Protocols/S7comm/Plant1_S7comm.pcap",
    "ct-samples/Protocols/S7comm/Other_Captures/OPC_Server.pcap",
    "emreekin-ics-pcaps/S7COMM/icss7.pcap",
    "emreekin-ics-pcaps/S7COMM/2-S7comm-VarService-CyclicData-1s.pcap",
    "icsnpp-s7comm/tests/traces/s7ident.pcap",
    "icsnpp-s7comm/tests/traces/snap7.pcap",
    "icsnpp-s7comm/tests/traces/s7comm_plus.pcap",
];

#[test]
fn functions_equal_tshark_capture_by_capture() {
    let Some(dir) = shared_pcaps() else { return };
    if !have_tshark() {
        return;
    }
    for name in CAPTURES {
        let path = dir.join(name);
        let ours = our_counts(&events(&path));
        let theirs = fold_acks(tshark_counts(&path), &ours);
        assert_eq!(ours, theirs, "{name}: ours (left) vs tshark (right)");
        assert!(!ours.is_empty(), "{name}: no S7comm events");
    }
}

fn find<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["function_name"] == name)
        .collect()
}

#[test]
fn plc_stop_is_seen_in_snap7_s300_stop() {
    let Some(dir) = shared_pcaps() else { return };
    let ev = events(&dir.join("gymgit-s7-pcaps/snap7_s300_stop.pcapng"));
    // tshark -r snap7_s300_stop.pcapng -Y 's7comm.param.func==0x29': frames 1 (job) and
    // 2 (ack-data).
    let stops = find(&ev, "plc_stop");
    assert_eq!(stops.len(), 2);
    assert_eq!(stops[0]["op"], "control");
    assert_eq!(stops[0]["is_response"], false);
    assert_eq!(stops[0]["function"], 0x29);
    assert_eq!(stops[0]["service"], "P_PROGRAM");
    assert_eq!(stops[0]["dst_port"], 102);
    assert_eq!(stops[1]["is_response"], true);
    assert_eq!(stops[1]["status"], "ok");
}

#[test]
fn hard_coded_figures_hold_without_tshark() {
    let Some(dir) = shared_pcaps() else { return };
    // tshark -r Plant1_S7comm.pcap -Y 's7comm.header.rosctr==1' -T fields -e
    // s7comm.param.func | tr , '\n' | sort | uniq -c  →  4672 0x04, 612 0x05.
    let c = our_counts(&events(
        &dir.join("ct-samples/Protocols/S7comm/Plant1_S7comm.pcap"),
    ));
    assert_eq!(c.get("req/4"), Some(&4672));
    assert_eq!(c.get("req/5"), Some(&612));
    assert_eq!(c.get("resp/4"), Some(&4672));
    assert_eq!(c.get("resp/5"), Some(&612));
    // Same command on icss7.pcap: 4466 read, 50 write, 37 setup communication.
    let c = our_counts(&events(&dir.join("emreekin-ics-pcaps/S7COMM/icss7.pcap")));
    assert_eq!((c["req/4"], c["req/5"], c["req/240"]), (4466, 50, 37));
}

#[test]
fn program_and_control_functions_with_blocks() {
    let Some(dir) = shared_pcaps() else { return };
    // step7_s300_download: request download / download block / download ended of
    // _0A00001P (DB1), then PI service _INSE of DB1 (tshark: s7comm.param.func 0x1a,
    // 0x1b, 0x1c, 0x28).
    let ev = events(&dir.join("gymgit-s7-pcaps/step7_s300_download.pcapng"));
    for name in [
        "request_download",
        "download_block",
        "download_ended",
        "insert_block",
    ] {
        let e = find(&ev, name);
        let req = e
            .iter()
            .find(|e| e["is_response"] == false)
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(req["op"], "program", "{name}");
        assert_eq!(req["targets"][0]["space"], "block:DB1", "{name}");
    }
    // snap7_s300_everything: uploads of SDB0 (file names _0B00000A), compress, copy RAM
    // to ROM and a cold start (PI services _GARB, _MODU, P_PROGRAM "C ").
    let ev = events(&dir.join("gymgit-s7-pcaps/snap7_s300_everything.pcapng"));
    let uploads: Vec<_> = find(&ev, "start_upload")
        .into_iter()
        .filter(|e| e["is_response"] == false)
        .map(|e| e["targets"][0]["space"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        uploads,
        [
            "block:SDB0",
            "block:SDB0",
            "block:SDB0",
            "block:SDB0",
            "block:OB0"
        ]
    );
    for (name, op) in [
        ("compress_memory", "program"),
        ("copy_ram_to_rom", "program"),
        ("plc_cold_start", "control"),
        ("plc_stop", "control"),
    ] {
        let e = find(&ev, name);
        assert_eq!(e.len(), 2, "{name}: request and response");
        assert_eq!(e[0]["op"], op, "{name}");
    }
    // Password (security group, subfunction 1) in step7_s300_AuthPassword.
    let ev = events(&dir.join("gymgit-s7-pcaps/step7_s300_AuthPassword.pcapng"));
    let pw = find(&ev, "plc_password");
    assert_eq!(pw.len(), 2);
    assert_eq!(pw[0]["op"], "session");
    assert_eq!(pw[0]["password"], "set");
}

#[test]
fn identity_from_szl_equals_the_snap7_client_and_the_zeek_baseline() {
    let Some(dir) = shared_pcaps() else { return };
    // snap7_s300_events.txt (the client's own log of this capture): order code
    // 6ES7 315-2EH14-0AB0, module type CPU 315-2 PN/DP, serial S C-B1U393142011. The
    // client prints the boot loader's version (32.9.9) as "Version"; the firmware item
    // (SZL 0x0011 index 7) says V3.2.7, as tshark's s7comm.szl.0011.ausbe shows.
    let a = assets(&dir.join("gymgit-s7-pcaps/snap7_s300_everything.pcapng"));
    let plc = a
        .iter()
        .find(|a| a["ips"][0] == "134.217.61.211")
        .expect("the PLC is an asset");
    assert_eq!(plc["identity"]["model"], "6ES7 315-2EH14-0AB0");
    assert_eq!(plc["identity"]["product"], "CPU 315-2 PN/DP");
    assert_eq!(plc["identity"]["serial"], "S C-B1U393142011");
    assert_eq!(plc["identity"]["firmware"], "V3.2.7");
    assert_eq!(plc["identity"]["vendor"], "Siemens");
    assert_eq!(plc["protocols_served"][0], "s7comm");
    // icsnpp-s7comm baseline analyzer.s7ident/s7comm_known_devices.log:
    // automation_system_name SNAP7-SERVER, module_name CPU 315-2 PN/DP, plant (empty).
    let ev = events(&dir.join("icsnpp-s7comm/tests/traces/s7ident.pcap"));
    let szl1c: Vec<_> = ev
        .iter()
        .filter(|e| e["szl_id"] == 0x1c && e["is_response"] == true)
        .collect();
    assert_eq!(szl1c.len(), 1);
    assert_eq!(szl1c[0]["system_name"], "SNAP7-SERVER");
    assert_eq!(szl1c[0]["module_name"], "CPU 315-2 PN/DP");
    assert_eq!(szl1c[0]["plant_id"], "");
    assert_eq!(szl1c[0]["op"], "identify");
}

#[test]
fn s7comm_plus_equals_the_zeek_baseline() {
    let Some(dir) = shared_pcaps() else { return };
    // tshark 4.0 has no S7comm-plus dissector: compare with ICSNPP's s7comm_plus.log,
    // counting (is_orig, opcode, function) per message.
    let base = std::fs::read_to_string(
        dir.join("icsnpp-s7comm/tests/baseline/analyzer.s7comm_plus/s7comm_plus.log"),
    )
    .expect("baseline present beside the trace");
    let mut theirs: BTreeMap<(bool, String, String), u64> = BTreeMap::new();
    for line in base.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let key = (f[6] == "T", f[12].to_string(), f[14].to_string());
        *theirs.entry(key).or_default() += 1;
    }
    let ev = events(&dir.join("icsnpp-s7comm/tests/traces/s7comm_plus.pcap"));
    let mut ours: BTreeMap<(bool, String, String), u64> = BTreeMap::new();
    for e in ev.iter().filter(|e| e["protocol"] == "s7comm-plus") {
        let opcode = format!("0x{:02x}", e["opcode"].as_u64().unwrap());
        let function = if opcode == "0x33" {
            "-".to_string()
        } else {
            format!("0x{:04x}", e["function"].as_u64().unwrap())
        };
        let is_orig = e["dst_port"] == 102;
        *ours.entry((is_orig, opcode, function)).or_default() += 1;
        assert_eq!(e["version"], 3);
        assert_eq!(e["integrity"], true);
    }
    assert_eq!(ours, theirs);
    // 26 SetVariable requests: writes.
    let sets = ev
        .iter()
        .filter(|e| e["function_name"] == "set_variable")
        .count();
    assert_eq!(sets, 26);
}
