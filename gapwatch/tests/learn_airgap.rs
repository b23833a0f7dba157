//! The air-gap models end to end on the lab captures (lab/captures/README.md):
//! `gapwatch analyze --learn` raises the internet look-ups and outside connections of the
//! incident capture as alerts with the numbers, and nothing at all on normal operation.

mod common;

use serde_json::Value;

fn alerts(learn: &str, capture: &str) -> Vec<Value> {
    let path = common::root().join("lab/captures").join(capture);
    let path = path.display().to_string();
    let out = common::gapwatch(&["analyze", "--json", "--learn", learn, &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON record"))
        .filter(|r| r["kind"] == "alert")
        .collect()
}

fn airgap_model(alert: &Value) -> bool {
    matches!(
        alert["model"].as_str(),
        Some("external" | "dns_external" | "remote_access" | "file_transfer")
    )
}

#[test]
fn normal_operation_raises_no_air_gap_alert() {
    let found: Vec<Value> = alerts("15m", "normal.pcap.gz")
        .into_iter()
        .filter(airgap_model)
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn internet_look_ups_and_outside_connections_are_alerts() {
    let found: Vec<Value> = alerts("9m", "incidents.pcap.gz")
        .into_iter()
        .filter(airgap_model)
        .collect();
    let summary: Vec<(&str, &str, &str, u64)> = found
        .iter()
        .map(|a| {
            (
                a["category"].as_str().unwrap(),
                a["src_ip"].as_str().unwrap(),
                a["dst_ip"].as_str().unwrap(),
                a["count"].as_u64().unwrap(),
            )
        })
        .collect();
    // tshark -Y dns on the capture: 10.10.2.40 asks 10.10.2.2 for update.vendor-cloud.com
    // (A → 203.0.113.50, AAAA NXDOMAIN), telemetry.remote-support.net (→ 203.0.113.50),
    // www.google.com, pastebin.com, api.github.com (NXDOMAIN); then the outside host is
    // reached from the EWS (443 ×3, 22, 3389, 8443), the historian (8080 ×12) and the
    // file server (80 ×1), each flow reported once with its numbers as it ended quickly.
    assert_eq!(
        summary,
        vec![
            ("remote_access", "10.10.2.40", "10.10.2.2", 1),
            ("dns_external", "10.10.2.40", "10.10.2.2", 7),
            ("external_connection", "10.10.2.40", "203.0.113.50", 6),
            ("external_connection", "10.10.2.30", "203.0.113.50", 12),
            ("external_connection", "10.10.3.20", "203.0.113.50", 1),
        ]
    );
    let dns = &found[1];
    assert_eq!(dns["ts"], "2026-11-28T08:34:50.652976Z");
    assert_eq!(
        dns["title"],
        "DNS look-up of internet name update.vendor-cloud.com from 10.10.2.40 \
         (engineering workstation ews1)"
    );
    let text = dns["explanation"].as_str().unwrap();
    assert!(
        text.contains("it resolved to the public address 203.0.113.50"),
        "{text}"
    );
    assert!(text.contains("internal names end in plant.lan"), "{text}");
    let upload = &found[4];
    assert_eq!(
        upload["explanation"],
        "10.10.3.20 (IT host) ↔ 203.0.113.50 (IT host telemetry.remote-support.net): TCP \
         port 80 (http) from 08:42:41 UTC to 08:42:41 UTC, answered: 142 packets (6.8 MiB) \
         out, 120 packets (6.3 KiB) back. In all between them: 1 flow since 08:42:41 UTC (1 \
         answered, 0 with no answer), 262 packets, 6.8 MiB, to port 80 (http)."
    );
    assert_eq!(upload["severity"], "high");
}

#[test]
fn alerts_marked_expected_no_longer_alert() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().display().to_string();
    let capture = common::root().join("lab/captures/incidents.pcap.gz");
    let capture = capture.display().to_string();
    let run = || {
        let out = common::gapwatch(&[
            "analyze", "--json", "--learn", "9m", "--state", &state, &capture,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| r["kind"] == "alert" && airgap_model(r))
            .map(|a| {
                (
                    a["id"].as_u64().unwrap(),
                    a["model"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let first = run();
    // The internet look-ups, the remote-support name and the first of the three outside
    // connection alerts are marked expected; the other two are not.
    for (id, _) in first
        .iter()
        .filter(|(_, m)| m != "external")
        .chain(first.iter().filter(|(_, m)| m == "external").take(1))
    {
        let id = id.to_string();
        let out = common::gapwatch(&[
            "alerts", "--state", &state, "--id", &id, "--set", "expected",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let again: Vec<String> = run().into_iter().map(|(_, m)| m).collect();
    assert_eq!(again, vec!["external", "external"]);
    let out = common::gapwatch(&["baseline", "--state", &state, "10.10.2.40"]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("uses the internet name pastebin.com: 1 time from 08:34:53 UTC to 08:34:53 UTC (accepted as expected)"),
        "{text}"
    );
}
