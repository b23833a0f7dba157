//! Segmented BACnet messages: a real readProperty exchange (lab/captures/smoke.pcap,
//! frames 361 and 365) with its ACK split into segments, reassembled into the event
//! the unsegmented ACK gives; retransmissions, a missing segment, the caps, the idle
//! timeout, aborts and segments of unknown messages.

use dissect::bacnet::segments::{IDLE_MICROS, MAX_FLOW_BYTES, MAX_MESSAGES, MAX_MESSAGE_BYTES};
use dissect::bacnet::BacnetDissector;
use dissect::{Attr, Direction, Dissector, Emitter, Event, FlowContext, Status, Transport};
use std::net::{IpAddr, Ipv4Addr};

/// UDP payload of smoke.pcap frame 361: readProperty (invoke id 0) of analog-value 1,
/// present-value, from 10.10.2.10 to 10.10.1.15.
const RP_REQUEST: &str = "810a001101040244000c0c008000011955";
/// UDP payload of frame 365: its Complex-ACK, present-value REAL 17.952669.
const RP_ACK: &str = "810a0017010030000c0c0080000119553e44418f9f113f";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn ctx(secs: i64) -> FlowContext {
    FlowContext {
        transport: Transport::Udp,
        vlan: None,
        client_ip: IpAddr::V4(Ipv4Addr::new(10, 10, 2, 10)),
        client_port: 47808,
        client_mac: None,
        server_ip: IpAddr::V4(Ipv4Addr::new(10, 10, 1, 15)),
        server_port: 47808,
        server_mac: None,
        ts: records::Timestamp(secs * 1_000_000),
    }
}

/// Original-Unicast-NPDU (local, no reply expected) around an APDU.
fn bvlc(apdu: &[u8]) -> Vec<u8> {
    let mut m = vec![0x81, 0x0A, 0, 0, 0x01, 0x00];
    m.extend_from_slice(apdu);
    let n = m.len() as u16;
    m[2..4].copy_from_slice(&n.to_be_bytes());
    m
}

/// The service data of the real ACK, after its 3-byte APDU header.
fn ack_data() -> Vec<u8> {
    hex(RP_ACK)[6 + 3..].to_vec()
}

/// A segment of a Complex-ACK (invoke id, service) as a datagram.
fn ack_segment(invoke: u8, service: u8, seq: u8, more: bool, data: &[u8]) -> Vec<u8> {
    let first = if more { 0x3C } else { 0x38 };
    let mut a = vec![first, invoke, seq, 3, service];
    a.extend_from_slice(data);
    bvlc(&a)
}

/// A segment of a confirmed request (max APDU 1476, segments accepted) as a datagram.
fn request_segment(invoke: u8, service: u8, seq: u8, more: bool, data: &[u8]) -> Vec<u8> {
    let first = if more { 0x0E } else { 0x0A };
    let mut a = vec![first, 0x05, invoke, seq, 3, service];
    a.extend_from_slice(data);
    bvlc(&a)
}

/// The real ACK's service data as three segments (cut inside tags, as senders do).
fn ack_in_three(invoke: u8) -> [Vec<u8>; 3] {
    let d = ack_data();
    [
        ack_segment(invoke, 12, 0, true, &d[..5]),
        ack_segment(invoke, 12, 1, true, &d[5..8]),
        ack_segment(invoke, 12, 2, false, &d[8..]),
    ]
}

/// Feeds (second, direction, datagram) to one dissector; ends the flow when `end`.
fn run(d: &mut BacnetDissector, msgs: &[(i64, Direction, Vec<u8>)], end: bool) -> Emitter {
    let mut out = Emitter::default();
    for (t, dir, m) in msgs {
        d.on_datagram(&ctx(*t), *dir, m, &mut out);
    }
    if end {
        let last = msgs.last().map_or(0, |m| m.0);
        d.on_end(&ctx(last), &mut out);
    }
    out
}

fn without_segments(e: &Event) -> Event {
    let mut e = e.clone();
    e.attrs.retain(|(n, _)| *n != "segments");
    e
}

fn attr<'a>(e: &'a Event, name: &str) -> Option<&'a Attr> {
    e.attrs.iter().find(|(n, _)| *n == name).map(|(_, a)| a)
}

const TO_S: Direction = Direction::ToServer;
const TO_C: Direction = Direction::ToClient;

#[test]
fn reassembled_ack_equals_the_unsegmented_one() {
    let whole = run(
        &mut BacnetDissector::default(),
        &[(0, TO_S, hex(RP_REQUEST)), (0, TO_C, hex(RP_ACK))],
        true,
    );
    assert!(whole.anomalies.is_empty(), "{:?}", whole.anomalies);
    assert_eq!(whole.events.len(), 2);
    let plain = &whole.events[1];
    assert_eq!(plain.function_name, "read_property");
    assert_eq!(
        (plain.targets[0].space.as_ref(), plain.targets[0].start),
        ("analog_value", 1)
    );
    assert_eq!(plain.values[0].value, f64::from(f32::from_bits(0x418f9f11)));
    assert_eq!(attr(plain, "property"), Some(&Attr::Name("present_value")));

    let mut d = BacnetDissector::default();
    let [s0, s1, s2] = ack_in_three(0);
    let msgs = [
        (0, TO_S, hex(RP_REQUEST)),
        (0, TO_C, s0),
        (0, TO_C, s1),
        (0, TO_C, s2),
    ];
    let seg = run(&mut d, &msgs, true);
    assert!(seg.anomalies.is_empty(), "{:?}", seg.anomalies);
    assert_eq!(
        seg.events.len(),
        2,
        "one event for the request, one for the ACK"
    );
    let got = &seg.events[1];
    assert_eq!(attr(got, "segments"), Some(&Attr::UInt(3)));
    assert_eq!(attr(got, "segment"), None);
    assert_eq!(without_segments(got), *plain);
    assert_eq!(seg.events[0], whole.events[0]);
    let s = d.segment_stats();
    assert_eq!((s.completed, s.segments, s.dropped), (1, 3, 0));
}

#[test]
fn a_segmented_request_is_one_request_and_pairs_with_its_ack() {
    // The real request's service data in two segments, answered by the real ACK.
    let req = hex(RP_REQUEST)[6 + 4..].to_vec();
    let mut d = BacnetDissector::default();
    let out = run(
        &mut d,
        &[
            (0, TO_S, request_segment(0, 12, 0, true, &req[..3])),
            (0, TO_C, bvlc(&[0x40, 0, 0, 3])),
            (0, TO_S, request_segment(0, 12, 1, false, &req[3..])),
            (0, TO_C, hex(RP_ACK)),
        ],
        true,
    );
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let names: Vec<(&str, bool)> = out
        .events
        .iter()
        .map(|e| (e.function_name.as_ref(), e.is_response))
        .collect();
    // The Segment-ACK is named by the message it acknowledges.
    assert_eq!(
        names,
        vec![
            ("read_property", false),
            ("read_property", false),
            ("read_property", true)
        ]
    );
    assert_eq!(
        attr(&out.events[0], "pdu"),
        Some(&Attr::Name("segment_ack"))
    );
    let r = &out.events[1];
    assert_eq!(attr(r, "segments"), Some(&Attr::UInt(2)));
    assert_eq!(
        (r.targets[0].space.as_ref(), r.targets[0].start),
        ("analog_value", 1)
    );
    assert_eq!(attr(r, "property"), Some(&Attr::Name("present_value")));
}

#[test]
fn retransmitted_segments_are_ignored() {
    let mut d = BacnetDissector::default();
    let [s0, s1, s2] = ack_in_three(0);
    let out = run(
        &mut d,
        &[
            (0, TO_C, s0.clone()),
            (0, TO_C, s0),
            (0, TO_C, s1.clone()),
            (0, TO_C, s1),
            (0, TO_C, s2),
        ],
        true,
    );
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    assert_eq!(out.events.len(), 1);
    assert_eq!(attr(&out.events[0], "segments"), Some(&Attr::UInt(3)));
    assert_eq!(out.events[0].values.len(), 1);
    assert_eq!(d.segment_stats().duplicates, 2);
}

#[test]
fn a_missing_segment_repeated_later_completes_the_message() {
    // Segment 1 is lost; the receiver's negative Segment-ACK makes the sender repeat
    // from segment 1.
    let mut d = BacnetDissector::default();
    let [s0, s1, s2] = ack_in_three(0);
    let out = run(
        &mut d,
        &[
            (0, TO_C, s0),
            (0, TO_C, s2.clone()),
            (0, TO_S, bvlc(&[0x42, 0, 0, 3])),
            (1, TO_C, s1),
            (1, TO_C, s2),
        ],
        true,
    );
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    assert_eq!(out.events.len(), 2);
    assert_eq!(attr(&out.events[0], "nak"), Some(&Attr::Bool(true)));
    assert_eq!(attr(&out.events[1], "segments"), Some(&Attr::UInt(3)));
    assert_eq!(d.segment_stats().out_of_order, 1);
}

#[test]
fn a_message_missing_a_segment_gives_its_first_segment_event_when_the_flow_ends() {
    let mut d = BacnetDissector::default();
    let [s0, _, s2] = ack_in_three(7);
    let out = run(&mut d, &[(3, TO_C, s0), (4, TO_C, s2)], false);
    assert!(out.events.is_empty());
    let mut out = Emitter::default();
    d.on_end(&ctx(5), &mut out);
    assert_eq!(out.anomalies.len(), 1);
    assert!(
        out.anomalies[0].1.contains("flow ended"),
        "{:?}",
        out.anomalies
    );
    assert_eq!(out.events.len(), 1);
    let e = &out.events[0];
    // As the first segment alone reads: its object and property, no value yet.
    assert_eq!(e.ts, ctx(3).ts);
    assert_eq!(attr(e, "segment"), Some(&Attr::UInt(0)));
    assert_eq!(attr(e, "more_follows"), Some(&Attr::Bool(true)));
    assert_eq!(attr(e, "invoke_id"), Some(&Attr::UInt(7)));
    assert_eq!(
        (e.targets[0].space.as_ref(), e.targets[0].start),
        ("analog_value", 1)
    );
    assert!(e.values.is_empty());
    assert_eq!(e.status, Status::Ok);
    let s = d.segment_stats();
    assert_eq!((s.dropped, s.completed, s.out_of_order), (1, 0, 1));
}

#[test]
fn an_idle_message_is_dropped_after_the_timeout_of_packet_time() {
    let idle = IDLE_MICROS / 1_000_000;
    let mut d = BacnetDissector::default();
    let [s0, s1, s2] = ack_in_three(1);
    // Segments idle for exactly the timeout still complete.
    let out = run(
        &mut d,
        &[
            (0, TO_C, s0.clone()),
            (idle, TO_C, s1),
            (2 * idle, TO_C, s2),
        ],
        true,
    );
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    assert_eq!(attr(&out.events[0], "segments"), Some(&Attr::UInt(3)));
    // One second more and the message is gone before the next datagram is read.
    let out = run(
        &mut d,
        &[(100, TO_C, s0), (100 + idle + 1, TO_S, hex(RP_REQUEST))],
        true,
    );
    assert_eq!(out.anomalies.len(), 1);
    assert!(out.anomalies[0].1.contains("no segment for 30 s"));
    let names: Vec<(i64, Option<&Attr>)> = out
        .events
        .iter()
        .map(|e| (e.ts.0 / 1_000_000, attr(e, "segment")))
        .collect();
    assert_eq!(names, vec![(100, Some(&Attr::UInt(0))), (131, None)]);
    assert_eq!(d.segment_stats().dropped, 1);
}

#[test]
fn the_number_of_messages_in_reassembly_is_capped() {
    let mut d = BacnetDissector::default();
    let d0 = ack_data();
    let msgs: Vec<(i64, Direction, Vec<u8>)> = (0..=MAX_MESSAGES)
        .map(|i| (0, TO_C, ack_segment(i as u8, 12, 0, true, &d0[..5])))
        .collect();
    let out = run(&mut d, &msgs, false);
    // The least recently active message (the first of equals: invoke id 0) made room
    // for the last one.
    assert_eq!(out.anomalies.len(), 1);
    assert!(out.anomalies[0].1.contains("more than 64"));
    assert_eq!(out.events.len(), 1);
    assert_eq!(attr(&out.events[0], "invoke_id"), Some(&Attr::UInt(0)));
    assert_eq!(d.segment_stats().dropped, 1);
    // Every other message is still there and completes.
    let end = ack_segment(1, 12, 1, false, &d0[5..]);
    let out = run(&mut d, &[(1, TO_C, end)], false);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    assert_eq!(out.events[0].values.len(), 1);
    let mut out = Emitter::default();
    d.on_end(&ctx(2), &mut out);
    assert_eq!(out.anomalies.len(), MAX_MESSAGES - 1);
    assert_eq!(out.events.len(), MAX_MESSAGES - 1);
}

#[test]
fn a_message_over_its_byte_cap_is_dropped_and_its_remaining_segments_ignored() {
    let mut d = BacnetDissector::default();
    let d0 = ack_data();
    let chunk = vec![0u8; 1400];
    let mut msgs = vec![(0, TO_C, ack_segment(2, 12, 0, true, &d0[..5]))];
    let over = MAX_MESSAGE_BYTES / chunk.len() + 1;
    for seq in 1..=over + 3 {
        msgs.push((0, TO_C, ack_segment(2, 12, seq as u8, true, &chunk)));
    }
    msgs.push((0, TO_C, ack_segment(2, 12, over as u8 + 4, false, &chunk)));
    let out = run(&mut d, &msgs, true);
    assert_eq!(out.anomalies.len(), 1, "{:?}", out.anomalies);
    assert!(out.anomalies[0].1.contains("over 64 KiB"));
    assert_eq!(out.events.len(), 1);
    assert_eq!(attr(&out.events[0], "segment"), Some(&Attr::UInt(0)));
    let s = d.segment_stats();
    assert_eq!((s.dropped, s.completed), (1, 0));
}

#[test]
fn the_bytes_held_per_flow_are_capped() {
    let mut d = BacnetDissector::default();
    let d0 = ack_data();
    let chunk = vec![0u8; 1400];
    // Messages of 60 KiB each, in turn: the fifth passes the flow's budget.
    let per = 60 * 1024 / chunk.len();
    let n = MAX_FLOW_BYTES / (per * chunk.len()) + 1;
    let mut msgs = Vec::new();
    for inv in 0..n as u8 {
        msgs.push((0, TO_C, ack_segment(inv, 12, 0, true, &d0[..5])));
    }
    for seq in 1..=per as u8 {
        for inv in 0..n as u8 {
            msgs.push((0, TO_C, ack_segment(inv, 12, seq, true, &chunk)));
        }
    }
    let out = run(&mut d, &msgs, false);
    assert_eq!(out.anomalies.len(), 1, "{:?}", out.anomalies);
    assert!(out.anomalies[0].1.contains("over 256 KiB"));
    assert_eq!(out.events.len(), 1);
    assert_eq!(d.segment_stats().dropped, 1);
}

#[test]
fn an_abort_drops_the_message_and_a_stray_segment_is_an_anomaly() {
    let mut d = BacnetDissector::default();
    let [s0, s1, s2] = ack_in_three(4);
    let out = run(
        &mut d,
        &[(0, TO_C, s0), (0, TO_C, s1), (0, TO_S, bvlc(&[0x70, 4, 0]))],
        false,
    );
    assert_eq!(out.anomalies.len(), 1);
    assert!(out.anomalies[0].1.contains("aborted"));
    let pdus: Vec<Option<&Attr>> = out.events.iter().map(|e| attr(e, "pdu")).collect();
    assert_eq!(
        pdus,
        vec![Some(&Attr::Name("complex_ack")), Some(&Attr::Name("abort"))]
    );
    // The last segment now belongs to no message.
    let out = run(&mut d, &[(0, TO_C, s2)], true);
    assert!(out.events.is_empty());
    assert_eq!(out.anomalies.len(), 1);
    assert!(out.anomalies[0]
        .1
        .contains("without the message's first segment"));
    assert_eq!(d.segment_stats().orphans, 1);
}

#[test]
fn sequence_numbers_wrap_in_long_messages() {
    // 300 segments: the real ACK's data, then padding the decoder stops at.
    let d0 = ack_data();
    let mut d = BacnetDissector::default();
    let mut msgs = vec![(0, TO_C, ack_segment(9, 12, 0, true, &d0))];
    for i in 1..300u32 {
        msgs.push((0, TO_C, ack_segment(9, 12, i as u8, i < 299, &[0])));
    }
    let out = run(&mut d, &msgs, true);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    assert_eq!(out.events.len(), 1);
    assert_eq!(attr(&out.events[0], "segments"), Some(&Attr::UInt(300)));
    assert_eq!(out.events[0].values.len(), 1);
}

#[test]
fn messages_from_two_devices_behind_one_router_stay_apart() {
    // Same invoke id through the same router (one UDP flow), from MS/TP stations 5 and
    // 6 of network 2: two messages, interleaved.
    let routed = |mac: u8, seq: u8, more: bool, data: &[u8]| {
        let first = if more { 0x3C } else { 0x38 };
        let mut m = vec![0x81, 0x0A, 0, 0, 0x01, 0x08, 0x00, 0x02, 0x01, mac];
        m.extend_from_slice(&[first, 3, seq, 3, 12]);
        m.extend_from_slice(data);
        let n = m.len() as u16;
        m[2..4].copy_from_slice(&n.to_be_bytes());
        m
    };
    let d0 = ack_data();
    let mut d = BacnetDissector::default();
    let out = run(
        &mut d,
        &[
            (0, TO_C, routed(5, 0, true, &d0[..5])),
            (0, TO_C, routed(6, 0, true, &d0[..5])),
            (0, TO_C, routed(6, 1, false, &d0[5..])),
            (0, TO_C, routed(5, 1, false, &d0[5..])),
        ],
        true,
    );
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    assert_eq!(out.events.len(), 2);
    assert!(out
        .events
        .iter()
        .all(|e| attr(e, "segments") == Some(&Attr::UInt(2)) && e.values.len() == 1));
    assert_eq!(d.segment_stats().completed, 2);
}
