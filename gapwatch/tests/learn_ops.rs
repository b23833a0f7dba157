//! The operations and values models end to end on the lab captures: the unauthorised
//! write, the PLC stop/upload and the out-of-range setpoint of the incidents capture are
//! found (the PLC stop even while learning), and 30 min of normal plant operation after
//! 15 min of learning give no finding from either model.

mod common;

use common::{gapwatch, root};
use records::Timestamp;
use serde_json::Value;

/// `analyze --json --learn LEARN CAPTURE`: the alerts from the operations and values
/// models.
fn alerts(capture: &str, learn: &str) -> Vec<Value> {
    let path = root().join("lab/captures").join(capture);
    let path = path.display().to_string();
    let out = gapwatch(&["analyze", "--json", "--learn", learn, &path]);
    assert!(
        out.status.success(),
        "gapwatch analyze failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "alert" && (v["model"] == "operations" || v["model"] == "values"))
        .collect()
}

/// The labelled phase `name` of the incidents capture: (start, end + 60 s) in micros.
fn phase(name: &str) -> (i64, i64) {
    let text = std::fs::read_to_string(root().join("lab/captures/incidents.labels.json"))
        .expect("the incidents labels are bundled");
    let labels: Value = serde_json::from_str(&text).expect("labels are JSON");
    let phase = labels["phases"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no phase {name:?}"));
    let at = |k: &str| (phase[k].as_f64().expect("epoch seconds") * 1e6) as i64;
    (at("start"), at("end") + 60_000_000)
}

fn ts(alert: &Value) -> i64 {
    serde_json::from_value::<Timestamp>(alert["ts"].clone())
        .expect("alert time")
        .micros()
}

/// The one alert of `category` from `src` to `dst`.
fn find<'a>(alerts: &'a [Value], category: &str, src: &str, dst: &str) -> Vec<&'a Value> {
    alerts
        .iter()
        .filter(|a| a["category"] == category && a["src_ip"] == src && a["dst_ip"] == dst)
        .collect()
}

#[test]
fn incidents_after_nine_minutes_of_learning() {
    let alerts = alerts("incidents.pcap.gz", "9m");

    let writes = find(&alerts, "unusual_operation", "10.10.2.30", "10.10.1.11");
    assert_eq!(writes.len(), 2, "{writes:#?}"); // FC 6 and FC 5
    let (start, end) = phase("unauthorised Modbus write from historian");
    for a in &writes {
        assert!((start..=end).contains(&ts(a)));
        assert!(a["score"].as_f64().unwrap() > 0.95);
        assert_eq!(a["severity"], "critical");
        assert_eq!(a["count"], 3);
    }
    let fc6 = writes
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap()
                .contains("write_single_register")
        })
        .expect("the register write");
    let text = fc6["explanation"].as_str().unwrap();
    assert!(
        text.starts_with("10.10.2.30 (historian) wrote holding register 20 on 10.10.1.11 (PLC"),
        "{text}"
    );
    assert!(
        text.contains("all reads (function 3 read_holding_registers ×"),
        "{text}"
    );

    let (start, end) = phase("S7 PLC stop/start and block upload from EWS");
    let control = find(&alerts, "plc_control", "10.10.2.40", "10.10.1.12");
    assert_eq!(control.len(), 2, "{control:#?}"); // run state, program transfer
    assert!(control.iter().all(|a| (start..=end).contains(&ts(a))));
    assert!(control.iter().all(|a| a["severity"] == "critical"));
    let titles: Vec<(&str, u64)> = control
        .iter()
        .map(|a| (a["title"].as_str().unwrap(), a["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        titles,
        vec![
            // Stop, then hot start.
            (
                "Controller state change: s7comm plc_stop from 10.10.2.40 to 10.10.1.12",
                2
            ),
            // Upload (start, block, end), download request and the blocks the PLC pulls.
            (
                "Program transfer: s7comm start_upload from 10.10.2.40 to 10.10.1.12",
                6
            ),
        ]
    );

    let (start, end) = phase("out-of-range setpoint write from HMI");
    let values = find(&alerts, "value_anomaly", "10.10.2.10", "10.10.1.11");
    assert_eq!(values.len(), 1, "{values:#?}");
    assert!((start..=end).contains(&ts(values[0])));
    assert_eq!(values[0]["count"], 2);
    let text = values[0]["explanation"].as_str().unwrap();
    assert!(
        text.contains("wrote 950 to holding register 10 of 10.10.1.11 (PLC"),
        "{text}"
    );
    assert!(text.contains("with values 480–5"), "{text}");

    // Nothing else from these models.
    let known = writes.len()
        + values.len()
        + alerts
            .iter()
            .filter(|a| a["category"] == "plc_control")
            .count();
    assert_eq!(alerts.len(), known, "{alerts:#?}");
}

#[test]
fn plc_control_is_reported_even_while_learning() {
    let alerts = alerts("incidents.pcap.gz", "2h");
    let control = find(&alerts, "plc_control", "10.10.2.40", "10.10.1.12");
    assert_eq!(control.len(), 2, "{control:#?}");
    assert!(
        alerts.iter().all(|a| a["category"] == "plc_control"),
        "{alerts:#?}"
    );
}

#[test]
fn normal_operation_after_learning_gives_no_finding() {
    let alerts = alerts("normal.pcap.gz", "15m");
    assert!(alerts.is_empty(), "{alerts:#?}");
}
