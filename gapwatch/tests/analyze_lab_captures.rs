//! `gapwatch analyze` on the lab's bundled normal-operation and incident captures (real OT
//! software; lab/captures/README.md): the plant's devices with the roles the lab gave
//! them, and the incidents' operations seen as events in their labelled phases.

mod common;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn capture(name: &str) -> PathBuf {
    common::root().join("lab/captures").join(name)
}

fn records(name: &str) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_gapwatch"))
        .args(["analyze", "--json"])
        .arg(capture(name))
        .output()
        .expect("gapwatch runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn roles_by_ip(records: &[Value]) -> BTreeMap<String, String> {
    records
        .iter()
        .filter(|r| r["kind"] == "asset")
        .flat_map(|a| {
            let role = a["role"].as_str().unwrap().to_string();
            a["ips"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |ip| (ip.as_str().unwrap().to_string(), role.clone()))
        })
        .collect()
}

fn phase(name: &str) -> (f64, f64) {
    let labels: Value =
        serde_json::from_str(&std::fs::read_to_string(capture("incidents.labels.json")).unwrap())
            .unwrap();
    let p = labels["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .expect("phase exists");
    (p["start"].as_f64().unwrap(), p["end"].as_f64().unwrap())
}

fn epoch(ts: &Value) -> f64 {
    let text = ts.as_str().unwrap();
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap();
    t.unix_timestamp_nanos() as f64 / 1e9
}

#[test]
fn normal_operation_shows_every_device_with_its_role_and_no_control_of_controllers() {
    let records = records("normal.pcap.gz");
    let roles = roles_by_ip(&records);
    // Roles from behaviour in the industrial protocols (lab/captures/README.md host table).
    for (ip, role) in [
        ("10.10.1.11", "plc"),          // Modbus server
        ("10.10.1.12", "plc"),          // S7 server
        ("10.10.1.13", "rtu"),          // IEC 104 outstation
        ("10.10.1.14", "plc"),          // EtherNet/IP adapter
        ("10.10.1.15", "plc"),          // BACnet device
        ("10.10.1.16", "rtu"),          // DNP3 outstation
        ("10.10.2.10", "hmi"),          // polls all six field devices
        ("10.10.2.20", "scada_server"), // OPC UA server polling the Modbus PLC
        ("10.10.2.30", "historian"),    // OPC UA reads
        ("10.10.4.10", "it_host"),
        ("10.10.2.1", "gateway"),
    ] {
        assert_eq!(roles.get(ip).map(String::as_str), Some(role), "{ip}");
    }
    // In normal operation nothing stops, restarts or reprograms a controller. (IEC 104
    // clock synchronisation is a control-class command the HMI sends by design.)
    let control: Vec<&Value> = records
        .iter()
        .filter(|r| r["kind"] == "event" && matches!(r["op"].as_str(), Some("control" | "program")))
        .filter(|r| r["function_name"] != "clock_synchronisation")
        .collect();
    assert!(control.is_empty(), "{control:#?}");
}

#[test]
fn incidents_are_seen_as_events_in_their_labelled_phases() {
    let records = records("incidents.pcap.gz");
    let events: Vec<&Value> = records.iter().filter(|r| r["kind"] == "event").collect();
    let within =
        |e: &Value, (start, end): (f64, f64)| (start..=end + 60.0).contains(&epoch(&e["ts"]));

    // The rogue device of the scan phase is a new asset with its vendor prefix.
    let rogue = records
        .iter()
        .find(|r| r["kind"] == "asset" && r["mac"] == "b8:27:eb:66:66:66")
        .expect("rogue asset");
    assert_eq!(rogue["ips"], serde_json::json!(["10.10.1.66"]));
    assert!(
        rogue["vendor"].as_str().unwrap_or("").contains("Raspberry"),
        "{rogue}"
    );

    // The unauthorised write: Modbus function 6 on holding register 20 from the historian.
    let window = phase("unauthorised Modbus write from historian");
    let write = events
        .iter()
        .find(|e| {
            e["protocol"] == "modbus"
                && e["function"] == 6
                && e["src_ip"] == "10.10.2.30"
                && !e["is_response"].as_bool().unwrap()
        })
        .expect("the Modbus write is an event");
    assert_eq!(write["dst_ip"], "10.10.1.11");
    assert_eq!(
        write["targets"],
        serde_json::json!([{"space": "holding_register", "start": 20, "count": 1}])
    );
    assert!(within(write, window));

    // The PLC stop, block upload/download and hot start from the engineering workstation.
    let window = phase("S7 PLC stop/start and block upload from EWS");
    let s7: Vec<&str> = events
        .iter()
        .filter(|e| {
            e["protocol"] == "s7comm"
                && e["src_ip"] == "10.10.2.40"
                && !e["is_response"].as_bool().unwrap()
        })
        .filter(|e| matches!(e["op"].as_str(), Some("control" | "program")))
        .inspect(|e| assert!(within(e, window), "{e}"))
        .map(|e| e["function_name"].as_str().unwrap())
        .collect();
    for f in [
        "plc_stop",
        "start_upload",
        "request_download",
        "plc_hot_start",
    ] {
        assert!(s7.contains(&f), "{f} missing from {s7:?}");
    }
}

#[test]
fn the_lab_checks_of_its_own_captures_pass() {
    // lab/test_lab.py checks the bundled captures against the topology and the labels'
    // format (Python 3 and tshark; it skips its tshark parts without tshark).
    let Ok(out) = Command::new("python3")
        .args(["-m", "unittest", "lab/test_lab.py"])
        .current_dir(common::root())
        .output()
    else {
        eprintln!("skipping: python3 is not installed");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
