//! The hour-of-week activity model through the whole pipeline: three weeks of a plant
//! where an HMI polls a PLC around the clock and an engineering workstation connects on
//! weekdays in office hours, then one workstation session on a Sunday at 03:10 UTC.

mod common;

use common::gapwatch;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use serde_json::Value;
use std::time::Duration;
use wire::build::FrameBuilder;
use wire::{MacAddr, TcpFlags};

/// Monday 2026-11-02 00:00 UTC.
const MONDAY: u64 = 1_793_577_600;

const HMI: ([u8; 4], MacAddr) = ([10, 10, 2, 10], MacAddr([0, 0x14, 0x22, 1, 2, 10]));
const EWS: ([u8; 4], MacAddr) = ([10, 10, 2, 40], MacAddr([0, 0x1a, 0xa0, 1, 2, 40]));
const PLC: ([u8; 4], MacAddr) = ([10, 10, 2, 12], MacAddr([0, 0x1b, 0x1b, 1, 2, 12]));

/// A short TCP connection from `client` to the PLC's port 102 at `secs`.
fn session(out: &mut Vec<(u64, Vec<u8>)>, secs: u64, client: ([u8; 4], MacAddr), port: u16) {
    let frame = |from: ([u8; 4], MacAddr), to: ([u8; 4], MacAddr), sport, dport, flags| {
        FrameBuilder::new()
            .eth(from.1, to.1)
            .ipv4(from.0, to.0)
            .tcp(sport, dport, 1000, 1000, flags, b"")
            .build()
    };
    let ack = TcpFlags::ACK;
    out.push((secs, frame(client, PLC, port, 102, TcpFlags::SYN)));
    out.push((secs, frame(PLC, client, 102, port, TcpFlags::SYN | ack)));
    out.push((secs, frame(client, PLC, port, 102, ack)));
    out.push((secs + 1, frame(client, PLC, port, 102, TcpFlags::FIN | ack)));
    out.push((secs + 1, frame(PLC, client, 102, port, TcpFlags::FIN | ack)));
    out.push((secs + 1, frame(client, PLC, port, 102, ack)));
}

#[test]
fn a_sunday_night_session_of_an_office_hours_workstation_alerts_once() {
    let mut packets = Vec::new();
    let mut port = 40_000u16;
    let mut next_port = || {
        port = if port == 60_000 { 40_000 } else { port + 1 };
        port
    };
    for minute in (0..3 * 7 * 24 * 60).step_by(10) {
        let t = MONDAY + minute * 60;
        session(&mut packets, t, HMI, next_port());
        let (day, hour) = (minute / (24 * 60), minute / 60 % 24);
        if day % 7 < 5 && (8..17).contains(&hour) && minute % 30 == 0 {
            session(&mut packets, t + 5, EWS, next_port());
        }
    }
    // Week 4: the HMI polls on through Sunday night; the workstation connects at 03:10.
    let sunday = MONDAY + (3 * 7 + 6) * 86_400;
    for minute in (0..4 * 60).step_by(10) {
        session(&mut packets, sunday + minute * 60, HMI, next_port());
    }
    session(&mut packets, sunday + 3 * 3600 + 600 + 5, EWS, next_port());
    packets.sort_by_key(|(t, _)| *t);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weeks.pcap");
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ..PcapHeader::default()
    };
    let mut writer =
        PcapWriter::with_header(std::fs::File::create(&path).unwrap(), header).unwrap();
    for (secs, frame) in &packets {
        let packet = PcapPacket::new(Duration::from_secs(*secs), frame.len() as u32, frame);
        writer.write_packet(&packet).unwrap();
    }
    drop(writer);

    let out = gapwatch(&["analyze", "--learn", "1d", "--json", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "alert")
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let alert = &alerts[0];
    assert_eq!(alert["category"], "timing_anomaly");
    assert_eq!(alert["src_ip"], "10.10.2.40");
    assert_eq!(alert["ts"], "2026-11-29T03:10:05.000000Z");
    let text = alert["explanation"].as_str().unwrap();
    assert!(
        text.contains("on Sunday 03:00–04:00 UTC. In the 3 weeks"),
        "{text}"
    );
    assert!(
        text.contains("active in 45 of the 168 hours of the week: Monday–Friday 08:00–17:00."),
        "{text}"
    );
}
