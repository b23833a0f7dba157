//! Flow records and reassembled streams of real captures, cross-checked with tshark.
//! Skips (saying why) when `../shared/pcaps` is absent.

mod flow_support;

use flow_support::{Collected, RecorderFactory, Seen};
use records::{FlowState, Timestamp, TransportKind};
use sensor::flow::{FlowConfig, FlowProcessor};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use wire::LinkType;

fn capture(rel: &str) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps");
    let path = root.join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipping: {} not found (third-party captures are not in the repository)",
            path.display()
        );
        None
    }
}

/// Runs a classic pcap file through a flow processor whose one dissector accepts every
/// flow and consumes every byte.
fn run(path: &PathBuf) -> (Collected, Seen, sensor::flow::FlowStats) {
    let log = Arc::new(Mutex::new(Seen::default()));
    let catch_all = RecorderFactory {
        log: log.clone(),
        chunk: 1,
        port: None,
        magic: Some(b""),
    };
    let registry = dissect::Registry::with(vec![Box::new(catch_all)]);
    let mut p = FlowProcessor::new(FlowConfig::default(), registry);
    let mut out = Collected::default();
    let file = std::fs::File::open(path).expect("capture opens");
    let mut reader = pcap_file::pcap::PcapReader::new(file).expect("pcap header");
    let link = LinkType::from_linktype(u32::from(reader.header().datalink));
    while let Some(pkt) = reader.next_packet() {
        let pkt = pkt.expect("pcap record");
        let ts =
            Timestamp::from_parts(pkt.timestamp.as_secs() as i64, pkt.timestamp.subsec_nanos());
        p.process(ts, &wire::decode(link, &pkt.data), &mut out);
    }
    p.flush(&mut out);
    let seen = log.lock().unwrap().clone();
    let stats = p.stats();
    (out, seen, stats)
}

#[test]
fn modbus_capture_flows_and_streams_match_tshark() {
    let Some(path) = capture("iti-ics-security-tools/pcaps/ModbusTCP/Modbus/modbus_test.pcap")
    else {
        return;
    };
    let (out, _seen, stats) = run(&path);
    // Per conversation and direction: frames, sum of ip.len, sum of tcp.len. From
    //   tshark -r modbus_test.pcap -T fields -e tcp.stream -e ip.src -e tcp.srcport \
    //     -e ip.dst -e tcp.dstport -e ip.len -e tcp.len   (summed per stream/direction)
    // and `tshark -q -z follow,tcp,raw,N` gives the same stream byte counts (no
    // retransmissions in this capture). All five connections began before the capture.
    // (client port, to-server frames, to-server IP bytes, to-client frames, to-client IP bytes)
    let expect: [(u16, u64, u64, u64, u64); 5] = [
        (53454, 720, 37440, 705, 44873),
        (53842, 62, 3236, 63, 3276),
        (56338, 120, 6240, 119, 7735),
        (51560, 120, 6240, 118, 7670),
        (61614, 119, 6188, 111, 7215),
    ];
    assert_eq!(out.records.len(), 5);
    assert_eq!(stats.packets, 2257); // capinfos -c
    for (client_port, up_p, up_b, down_p, down_b) in expect {
        let r = out
            .records
            .iter()
            .find(|r| r.src_port == client_port)
            .unwrap_or_else(|| panic!("flow from port {client_port}"));
        assert_eq!(r.transport, TransportKind::Tcp);
        assert_eq!(r.dst_port, 502, "the Modbus server is the responder");
        assert_eq!(r.dst_ip.to_string(), "192.168.0.20");
        assert_eq!(r.state, FlowState::Midstream);
        assert_eq!(
            (r.packets_to_server, r.bytes_to_server),
            (up_p, up_b),
            "{client_port}"
        );
        assert_eq!(
            (r.packets_to_client, r.bytes_to_client),
            (down_p, down_b),
            "{client_port}"
        );
        assert_eq!(r.gap_bytes, 0);
        assert_eq!(r.app, Some("recorder"));
    }
    assert_eq!(
        (stats.tcp_gaps, stats.retransmissions, stats.overlaps),
        (0, 0, 0)
    );
}

#[test]
fn modbus_capture_reassembled_bytes_match_tshark_follow() {
    let Some(path) = capture("iti-ics-security-tools/pcaps/ModbusTCP/Modbus/modbus_test.pcap")
    else {
        return;
    };
    let (_out, seen, _stats) = run(&path);
    // Sum over the five streams of `tshark -q -z follow,tcp,raw,N` bytes per side:
    // client→server 8640+756+1440+1440+1428, server→client 16673+756+2975+2950+2775.
    assert_eq!(seen.consumed[0].len(), 8640 + 756 + 1440 + 1440 + 1428);
    assert_eq!(seen.consumed[1].len(), 16673 + 756 + 2975 + 2950 + 2775);
    // Every Modbus/TCP request starts with a 7-byte MBAP header whose protocol id is 0:
    // the first client bytes are a request, not a mid-PDU cut.
    assert_eq!(&seen.consumed[0][2..4], &[0, 0]);
}

#[test]
fn s7comm_capture_with_retransmissions_matches_tshark() {
    let Some(path) = capture("emreekin-ics-pcaps/S7COMM/2-S7comm-VarService-CyclicData-1s.pcap")
    else {
        return;
    };
    let (out, seen, stats) = run(&path);
    assert_eq!(out.records.len(), 1);
    let r = &out.records[0];
    // The handshake is in the capture (frame 1 SYN from 192.168.1.20:1117); frame 571
    // is an RST (tshark -Y "tcp.flags.fin==1 or tcp.flags.reset==1").
    assert_eq!(
        (r.src_ip.to_string(), r.src_port),
        ("192.168.1.20".to_string(), 1117)
    );
    assert_eq!(r.dst_port, 102);
    assert_eq!(r.state, FlowState::Reset);
    // tshark -T fields -e ip.src -e tcp.srcport -e ip.len -e tcp.len, summed per side.
    assert_eq!((r.packets_to_server, r.bytes_to_server), (296, 31186));
    assert_eq!((r.packets_to_client, r.bytes_to_client), (275, 23698));
    // tshark -Y tcp.analysis.retransmission: 14 frames of 7 bytes, all client→server.
    assert_eq!(stats.retransmissions, 14);
    // tshark -q -z follow,tcp,raw,0: 19240 bytes client→server (19338 sent minus the
    // 98 retransmitted), 12690 server→client.
    assert_eq!(seen.consumed[0].len(), 19240);
    assert_eq!(seen.consumed[1].len(), 12690);
    assert_eq!((stats.tcp_gaps, r.gap_bytes), (0, 0));
    // Every S7comm PDU rides in TPKT (version 3, reserved 0).
    assert_eq!(&seen.consumed[0][..2], &[3, 0]);
}

#[test]
fn cip_capture_with_missing_segments_reports_gaps_that_cover_the_holes() {
    let Some(path) = capture("emreekin-ics-pcaps/CIP/specialCIP.pcap") else {
        return;
    };
    let (out, seen, stats) = run(&path);
    // The capture misses most segments (tshark: "Previous segment(s) not captured",
    // "ACKed segment that wasn't captured"). Per direction, from
    //   tshark -r specialCIP.pcap -T fields -e tcp.srcport -e tcp.seq -e tcp.nxtseq -e tcp.len
    // the stream spans from relative seq 1 to max(nxtseq): 171975 (port 63517 side) and
    // 142406 (port 44818 side); sum(tcp.len) is 7360 and 6201. Bytes delivered plus
    // bytes reported missing must cover each span exactly.
    let (span_up, span_down) = (171_975 - 1, 142_406 - 1);
    assert_eq!(seen.consumed[0].len(), 7360);
    assert_eq!(seen.consumed[1].len(), 6201);
    let gap = |d: usize| -> u64 { seen.gaps.iter().filter(|g| g.0 == d).map(|g| g.2).sum() };
    assert_eq!(7360 + gap(0), span_up);
    assert_eq!(6201 + gap(1), span_down);
    assert_eq!(out.records.len(), 1);
    let r = &out.records[0];
    // Port 44818 (EtherNet/IP) is the server; the capture starts mid-connection.
    assert_eq!(
        (r.src_port, r.dst_port, r.state),
        (63517, 44818, FlowState::Midstream)
    );
    // tshark -T fields -e tcp.srcport -e ip.len, summed per side.
    assert_eq!((r.packets_to_server, r.bytes_to_server), (115, 11960));
    assert_eq!((r.packets_to_client, r.bytes_to_client), (117, 10881));
    assert_eq!(r.gap_bytes, (span_up - 7360) + (span_down - 6201));
    assert_eq!(stats.gap_bytes, r.gap_bytes);
    assert!(stats.ack_gaps > 0, "holes closed by acknowledgements");
}
