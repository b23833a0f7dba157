//! The air-gap models end to end on the lab captures (lab/captures/README.md):
//! `gapwatch analyze --learn` raises the internet look-ups and outside connections of the
//! incident capture as alerts with the numbers, and nothing at all on normal operation.
//! One SSH host key served in two zones (the dissector tests' loopback capture replayed
//! at two addresses) is one bridging alert, and both servers' assets carry the key.

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

/// The loopback SSH capture of the dissector tests replayed twice, as if one server
/// answered at 10.10.1.5 (MAC 00:0c:29:5e:10:05) and, later, at 192.168.5.5 (MAC
/// 00:0c:29:5e:50:05), each to a client in its own subnet; a lone SYN at `t0` starts
/// the learning period, another 10 s after the second connection gives the engine the
/// tick on which it judges identities. Written to `path`.
fn dual_homed_ssh_server(path: &std::path::Path) {
    use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};
    let src = common::root().join("crates/dissect/tests/data/ssh-ed25519-loopback.pcap");
    let bytes = std::fs::read(src).expect("the SSH test capture");
    let mut reader = PcapReader::new(&bytes[..]).expect("a pcap file");
    let header = reader.header();
    let mut frames = Vec::new();
    while let Some(pkt) = reader.next_packet() {
        frames.push(pkt.expect("a pcap record").data.into_owned());
    }
    let t0 = std::time::Duration::from_secs(1_795_854_985);
    let copy = |frame: &[u8], net: [u8; 3], mac: [u8; 6]| -> Vec<u8> {
        let mut f = frame.to_vec();
        // Packets from port 2222 are the server's.
        let from_server = f[34..36] == 2222u16.to_be_bytes();
        let client_mac = [0x00, 0x0c, 0x29, 0x77, net[2], 0x32];
        let (src_mac, dst_mac) = if from_server {
            (mac, client_mac)
        } else {
            (client_mac, mac)
        };
        f[0..6].copy_from_slice(&dst_mac);
        f[6..12].copy_from_slice(&src_mac);
        let (server, client) = ([net[0], net[1], net[2], 5], [net[0], net[1], net[2], 50]);
        let (s, d) = if from_server {
            (server, client)
        } else {
            (client, server)
        };
        f[26..30].copy_from_slice(&s);
        f[30..34].copy_from_slice(&d);
        // IPv4 header checksum over the rewritten header.
        f[24..26].copy_from_slice(&[0, 0]);
        let sum: u32 = f[14..34]
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        let sum = (sum & 0xffff) + (sum >> 16);
        let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
        f[24..26].copy_from_slice(&sum.to_be_bytes());
        f
    };
    let cell = ([10, 10, 1], [0x00, 0x0c, 0x29, 0x5e, 0x10, 0x05]);
    let office = ([192, 168, 5], [0x00, 0x0c, 0x29, 0x5e, 0x50, 0x05]);
    let mut out = PcapWriter::with_header(std::fs::File::create(path).unwrap(), header).unwrap();
    let mut write = |at: std::time::Duration, data: Vec<u8>| {
        let len = data.len() as u32;
        out.write_packet(&PcapPacket::new(at, len, &data)).unwrap();
    };
    write(t0, copy(&frames[0], cell.0, cell.1));
    for (start, (net, mac)) in [(60, cell), (120, office)] {
        for (i, f) in frames.iter().enumerate() {
            let at = t0 + std::time::Duration::from_millis(start * 1000 + i as u64);
            write(at, copy(f, net, mac));
        }
    }
    write(
        t0 + std::time::Duration::from_secs(130),
        copy(&frames[0], cell.0, cell.1),
    );
}

#[test]
fn one_ssh_host_key_at_two_addresses_in_two_zones_is_one_alert_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dual-homed-ssh.pcap");
    dual_homed_ssh_server(&path);
    let p = path.display().to_string();
    let out = common::gapwatch(&["analyze", "--json", "--learn", "30s", &p]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON record"))
        .collect();
    let key = "SHA256:vCSl/5gRIUfYySNBd3G2ySbO6ILYDiqYUdXSNtWC3mw (ssh-ed25519)";
    let bridging: Vec<&Value> = records
        .iter()
        .filter(|r| r["kind"] == "alert" && r["title"].as_str().unwrap().contains("host key"))
        .collect();
    assert_eq!(bridging.len(), 1, "{bridging:#?}");
    let a = bridging[0];
    assert_eq!(a["category"], "it_ot_crossing");
    assert_eq!(
        a["title"],
        "SSH host key in two zones: 10.10.1.0/24 and 192.168.5.0/24"
    );
    assert_eq!(
        a["explanation"],
        format!(
            "SSH host key {key} is served by 10.10.1.5 (MAC 00:0c:29:5e:10:05, zone \
             10.10.1.0/24) and 192.168.5.5 (MAC 00:0c:29:5e:50:05, zone 192.168.5.0/24): \
             one host with interfaces in two zones, a bridge between 10.10.1.0/24 and \
             192.168.5.0/24 (or a host key copied to another host)."
        )
    );
    // Both server assets carry the key in their identity.
    let keys: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r["kind"] == "asset" && !r["identity"]["ssh_host_key"].is_null())
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["identity"]["ssh_host_key"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("mac:00:0c:29:5e:10:05", key),
            ("mac:00:0c:29:5e:50:05", key)
        ]
    );
}
