//! DNP3 on synthetic frames: CRCs, transport reassembly, application functions and
//! their operation classes, object headers as targets, control and analog output values,
//! IIN flags, pairing, framing across TCP segments, resynchronisation, selection.

use dissect::dnp3::parser::{self, encode_link_frame, Dnp3Error, ObjectHeaders, Range};
use dissect::dnp3::Dnp3Dissector;
use dissect::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, Event, FlowContext, OpClass, Registry,
    Status, Transport,
};
use std::net::{IpAddr, Ipv4Addr};

const MASTER: u16 = 1;
const OUTSTATION: u16 = 10;

fn ctx(transport: Transport, server_port: u16) -> FlowContext {
    FlowContext {
        transport,
        vlan: None,
        client_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        client_port: 40000,
        client_mac: None,
        server_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        server_port,
        server_mac: None,
        ts: records::Timestamp(0),
    }
}

/// A request from the master: one link frame, one transport segment (FIR|FIN).
fn request(seq: u8, fc: u8, objects: &[u8]) -> Vec<u8> {
    let mut user = vec![0xC0, 0xC0 | seq, fc];
    user.extend_from_slice(objects);
    encode_link_frame(0xC4, OUTSTATION, MASTER, &user)
}

/// A response from the outstation with IIN `iin`.
fn response(seq: u8, fc: u8, iin: u16, objects: &[u8]) -> Vec<u8> {
    let mut user = vec![0xC0, 0xC0 | seq, fc];
    user.extend_from_slice(&iin.to_be_bytes());
    user.extend_from_slice(objects);
    encode_link_frame(0x44, MASTER, OUTSTATION, &user)
}

fn feed(
    d: &mut Dnp3Dissector,
    c: &FlowContext,
    dir: Direction,
    chunks: &[&[u8]],
    out: &mut Emitter,
) {
    let mut buf = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        let n = d.on_stream(c, dir, &buf, out);
        assert!(n <= buf.len());
        buf.drain(..n);
    }
}

fn exchange(req: &[u8], resp: &[u8]) -> Emitter {
    let c = ctx(Transport::Tcp, 20000);
    let mut d = Dnp3Dissector::new();
    let mut out = Emitter::default();
    feed(&mut d, &c, Direction::ToServer, &[req], &mut out);
    feed(&mut d, &c, Direction::ToClient, &[resp], &mut out);
    out
}

fn targets(e: &Event) -> Vec<(String, u64, u32)> {
    e.targets
        .iter()
        .map(|t| (t.space.to_string(), t.start, t.count))
        .collect()
}

fn values(e: &Event) -> Vec<(String, u64, f64)> {
    e.values
        .iter()
        .map(|v| (v.space.to_string(), v.address, v.value))
        .collect()
}

fn attr<'a>(e: &'a Event, name: &str) -> Option<&'a Attr> {
    e.attrs.iter().find(|(n, _)| *n == name).map(|(_, a)| a)
}

#[test]
fn crc_of_a_real_link_header() {
    // 0564 0a44 0100 0a00 6e25 from emreekin DNP3 dataset frame 21846: CRC 0x256e.
    assert_eq!(
        parser::crc(&[0x05, 0x64, 0x0a, 0x44, 0x01, 0x00, 0x0a, 0x00]),
        0x256e
    );
    let mut frame = encode_link_frame(0x44, 1, 10, &[0xC0, 0xC0, 0x81, 0, 0]);
    let mut user = [0u8; parser::MAX_USER_DATA];
    assert!(parser::parse_link_frame(&frame, &mut user).is_ok());
    frame[8] ^= 1;
    assert!(matches!(
        parser::parse_link_frame(&frame, &mut user),
        Err(Dnp3Error::HeaderCrc { .. })
    ));
}

#[test]
fn class_read_and_analog_response_are_paired_with_values_and_iin() {
    // Read class 0 (g60v1, all points); response: g30v1 points 3..=4, IIN device_restart.
    let out = exchange(
        &request(5, 1, &[60, 1, 0x06]),
        &response(
            5,
            129,
            0x8000,
            &[
                30, 1, 0x00, 3, 4, 0x01, 0xE8, 0x03, 0, 0, 0x01, 0xFF, 0xFF, 0xFF, 0xFF,
            ],
        ),
    );
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let [req, resp] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (req.function, &*req.function_name, req.op),
        (1, "read", OpClass::Read)
    );
    assert_eq!(req.unit, Some(u32::from(OUTSTATION)));
    assert_eq!(targets(req), [("g60v1".into(), 0, 0)]);
    assert!(resp.is_response);
    assert_eq!(
        (resp.function, resp.op, &resp.status),
        (1, OpClass::Read, &Status::Ok)
    );
    assert_eq!(resp.unit, Some(u32::from(OUTSTATION)));
    assert_eq!(attr(resp, "response_function"), Some(&Attr::UInt(129)));
    assert_eq!(
        attr(resp, "iin"),
        Some(&Attr::List(vec!["device_restart".into()]))
    );
    assert_eq!(targets(resp), [("g30v1".into(), 3, 2)]);
    assert_eq!(
        values(resp),
        [("g30v1".into(), 3, 1000.0), ("g30v1".into(), 4, -1.0)]
    );
}

#[test]
fn direct_operate_crob_and_analog_output_carry_values() {
    // g12v1, qualifier 0x28 (2-octet count, 2-octet index), index 7, latch on.
    let crob = [
        12, 1, 0x28, 1, 0, 7, 0, 0x03, 1, 100, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let out = exchange(&request(1, 5, &crob), &response(1, 129, 0, &crob));
    let [req, resp] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (req.function, &*req.function_name, req.op),
        (5, "direct_operate", OpClass::Write)
    );
    assert_eq!(targets(req), [("g12v1".into(), 7, 1)]);
    assert_eq!(values(req), [("g12v1".into(), 7, 1.0)]);
    assert_eq!(
        attr(req, "control_codes"),
        Some(&Attr::List(vec!["latch_on".into()]))
    );
    assert_eq!(values(resp), [("g12v1".into(), 7, 1.0)]);
    // Trip code.
    let mut trip = crob;
    trip[7] = 0x81;
    let out = exchange(&request(2, 3, &trip), &[]);
    assert_eq!(
        (out.events[0].function, out.events[0].op),
        (3, OpClass::Write)
    );
    assert_eq!(values(&out.events[0]), [("g12v1".into(), 7, 0.0)]);
    // g41v2 (16-bit analog output), qualifier 0x17, index 2, value -5.
    let out = exchange(&request(3, 6, &[41, 2, 0x17, 1, 2, 0xFB, 0xFF, 0]), &[]);
    assert_eq!(
        (&*out.events[0].function_name, out.events[0].op),
        ("direct_operate_no_ack", OpClass::Write)
    );
    assert_eq!(values(&out.events[0]), [("g41v2".into(), 2, -5.0)]);
}

#[test]
fn function_families_have_their_operation_classes() {
    for (fc, name, op) in [
        (13, "cold_restart", OpClass::Control),
        (14, "warm_restart", OpClass::Control),
        (18, "stop_application", OpClass::Control),
        (15, "initialize_data", OpClass::Control),
        (20, "enable_unsolicited", OpClass::Control),
        (22, "assign_class", OpClass::Control),
        (23, "delay_measure", OpClass::Other),
        (24, "record_current_time", OpClass::Other),
        (27, "delete_file", OpClass::Program),
        (32, "authenticate_request", OpClass::Session),
        (100, "unknown-100", OpClass::Other),
    ] {
        let out = exchange(&request(0, fc, &[]), &[]);
        assert_eq!(
            (&*out.events[0].function_name, out.events[0].op),
            (name, op),
            "function {fc}"
        );
    }
    // Enable unsolicited for classes 1-3 names g60v2..v4.
    let out = exchange(&request(0, 20, &[60, 2, 6, 60, 3, 6, 60, 4, 6]), &[]);
    assert_eq!(
        targets(&out.events[0]),
        [
            ("g60v2".into(), 0, 0),
            ("g60v3".into(), 0, 0),
            ("g60v4".into(), 0, 0)
        ]
    );
}

#[test]
fn unsolicited_response_and_iin_errors() {
    let c = ctx(Transport::Tcp, 20000);
    let mut d = Dnp3Dissector::new();
    let mut out = Emitter::default();
    let mut unsol = vec![0xC0, 0xF3, 130, 0x00, 0x00];
    // g2v1 binary input event, qualifier 0x17, index 4, state on.
    unsol.extend_from_slice(&[2, 1, 0x17, 1, 4, 0x81]);
    let frame = encode_link_frame(0x44, MASTER, OUTSTATION, &unsol);
    feed(&mut d, &c, Direction::ToClient, &[&frame], &mut out);
    let e = &out.events[0];
    assert_eq!(
        (e.function, &*e.function_name, e.is_response),
        (130, "unsolicited_response", true)
    );
    assert_eq!(attr(e, "unsolicited"), Some(&Attr::Bool(true)));
    assert_eq!(values(e), [("g2v1".into(), 4, 1.0)]);
    let out = exchange(&request(9, 1, &[110, 0, 6]), &response(9, 129, 0x0002, &[]));
    assert_eq!(
        out.events[1].status,
        Status::Exception {
            code: 2,
            name: "object_unknown".into()
        }
    );
    assert_eq!(
        attr(&out.events[1], "iin"),
        Some(&Attr::List(vec!["object_unknown".into()]))
    );
}

/// A response fragment of 40 analog values split over several link frames.
fn multi_frame_response(seq: u8) -> Vec<u8> {
    let mut apdu = vec![0xC0 | seq, 129, 0, 0, 30, 2, 0x01, 0, 0, 39, 0];
    for i in 0..40u16 {
        apdu.push(0x01);
        apdu.extend_from_slice(&(i * 10).to_le_bytes());
    }
    let mut out = Vec::new();
    let chunks: Vec<&[u8]> = apdu.chunks(100).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut th = (i as u8 + 62) & 0x3F; // the sequence wraps from 63 to 0
        if i == 0 {
            th |= 0x40;
        }
        if i == chunks.len() - 1 {
            th |= 0x80;
        }
        let mut user = vec![th];
        user.extend_from_slice(chunk);
        out.extend(encode_link_frame(0x44, MASTER, OUTSTATION, &user));
    }
    out
}

#[test]
fn transport_segments_are_reassembled_across_the_sequence_wrap() {
    let out = exchange(
        &request(4, 1, &[30, 2, 0x01, 0, 0, 39, 0]),
        &multi_frame_response(4),
    );
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let resp = &out.events[1];
    assert_eq!(targets(resp), [("g30v2".into(), 0, 40)]);
    assert_eq!(resp.values.len(), 40);
    assert_eq!(values(resp)[39], ("g30v2".into(), 39, 390.0));
}

#[test]
fn out_of_sequence_segment_drops_the_fragment() {
    let mut stream = multi_frame_response(4);
    // Second frame's transport header: change its sequence.
    let second = 10 + 100 + 1 + 2 * 7 + 2; // first frame length: 101 user octets
    let first_len = parser::LINK_HEADER_LEN + 101 + 2 * 7;
    assert_eq!(&stream[first_len..first_len + 2], &parser::START);
    let _ = second;
    let mut user = [0u8; parser::MAX_USER_DATA];
    let parser::LinkFrame::Complete {
        header, user_len, ..
    } = parser::parse_link_frame(&stream[first_len..], &mut user).unwrap()
    else {
        panic!()
    };
    user[0] = (user[0] & 0xC0) | 5;
    let rebuilt = encode_link_frame(
        header.control,
        header.destination,
        header.source,
        &user[..user_len],
    );
    stream.splice(first_len..first_len + rebuilt.len(), rebuilt);
    let out = exchange(&[], &stream);
    assert!(out.events.is_empty());
    assert!(!out.anomalies.is_empty());
}

#[test]
fn bad_crcs_are_anomalies_and_the_stream_recovers() {
    let good = request(1, 13, &[]);
    // Block CRC broken: the frame is skipped by its length.
    let mut bad_block = request(2, 1, &[60, 1, 6]);
    let last = bad_block.len() - 1;
    bad_block[last] ^= 0xFF;
    // Garbage and a bad header CRC: resynchronise on the next valid header.
    let mut bad_header = request(3, 1, &[60, 1, 6]);
    bad_header[8] ^= 0xFF;
    let mut s = bad_block;
    s.extend(b"junk");
    s.extend(bad_header);
    s.extend(&good);
    let c = ctx(Transport::Tcp, 20000);
    let mut d = Dnp3Dissector::new();
    let mut out = Emitter::default();
    feed(&mut d, &c, Direction::ToServer, &[&s], &mut out);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].function_name, "cold_restart");
    assert_eq!(out.anomalies.len(), 2, "{:?}", out.anomalies);
    assert!(out.anomalies[0]
        .1
        .contains("CRC mismatch in user data block"));
}

fn script() -> Vec<u8> {
    let mut s = request(1, 1, &[60, 2, 6, 60, 3, 6]);
    s.extend(request(
        2,
        5,
        &[
            12, 1, 0x28, 1, 0, 7, 0, 0x03, 1, 100, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    ));
    s.extend(request(3, 18, &[]));
    s
}

fn run_split(chunks: &[&[u8]]) -> Vec<Event> {
    let c = ctx(Transport::Tcp, 20000);
    let mut d = Dnp3Dissector::new();
    let mut out = Emitter::default();
    feed(&mut d, &c, Direction::ToServer, chunks, &mut out);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    out.events.to_vec()
}

#[test]
fn frames_split_at_every_offset_and_byte_by_byte_give_the_same_events() {
    let s = script();
    let whole = run_split(&[&s]);
    assert_eq!(whole.len(), 3);
    assert_eq!(whole[2].function_name, "stop_application");
    for at in 0..=s.len() {
        assert_eq!(run_split(&[&s[..at], &s[at..]]), whole, "split at {at}");
    }
    let bytes: Vec<&[u8]> = s.chunks(1).collect();
    assert_eq!(run_split(&bytes), whole);
    // A response fragment spread over link frames, split everywhere, too.
    let r = multi_frame_response(0);
    let c = ctx(Transport::Tcp, 20000);
    let once = |chunks: &[&[u8]]| {
        let mut d = Dnp3Dissector::new();
        let mut out = Emitter::default();
        feed(&mut d, &c, Direction::ToClient, chunks, &mut out);
        out.events
    };
    let whole = once(&[&r]);
    assert_eq!(whole.len(), 1);
    for at in 0..=r.len() {
        assert_eq!(once(&[&r[..at], &r[at..]]), whole, "split at {at}");
    }
}

#[test]
fn udp_datagrams_are_dissected() {
    let c = ctx(Transport::Udp, 20000);
    let mut d = Dnp3Dissector::new();
    let mut out = Emitter::default();
    d.on_datagram(
        &c,
        Direction::ToServer,
        &request(1, 2, &[80, 1, 0x00, 7, 7, 0x00]),
        &mut out,
    );
    assert_eq!(
        (out.events[0].function, out.events[0].op),
        (2, OpClass::Write)
    );
    assert_eq!(targets(&out.events[0]), [("g80v1".into(), 7, 1)]);
}

#[test]
fn object_headers_parse_ranges_and_counts() {
    let objects = [
        1, 2, 0x00, 0, 2, 0x81, 0x01, 0x81, 50, 1, 0x07, 1, 1, 2, 3, 4, 5, 6,
    ];
    let headers: Vec<_> = ObjectHeaders::new(&objects, true)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(headers[0].range, Range::StartStop { start: 0, stop: 2 });
    assert_eq!(headers[0].data, &[0x81, 0x01, 0x81]);
    assert_eq!(headers[1].range, Range::Count(1));
    assert_eq!(headers[1].data.len(), 6);
    // Stop below start.
    let bad: Vec<_> = ObjectHeaders::new(&[1, 2, 0x00, 5, 2], true).collect();
    assert_eq!(bad, [Err(Dnp3Error::BadRange)]);
    // Data shorter than the range implies.
    let short: Vec<_> = ObjectHeaders::new(&[30, 1, 0x00, 0, 9, 1, 2], true).collect();
    assert_eq!(short.len(), 2);
    assert_eq!(short[0].as_ref().map(|h| h.group), Ok(30));
    assert_eq!(short[1], Err(Dnp3Error::Truncated));
}

#[test]
fn selected_by_content_on_any_port() {
    let reg = Registry::builtin();
    let c = ctx(Transport::Tcp, 31000);
    let d = reg.select(&c, Direction::ToServer, &request(1, 1, &[60, 1, 6]));
    assert_eq!(d.map(|d| d.name()), Some("dnp3"));
    let f = dissect::dnp3::Dnp3Factory;
    let mut bad = request(1, 1, &[60, 1, 6]);
    bad[9] ^= 1;
    assert_eq!(f.probe(&c, Direction::ToServer, &bad), 0);
    assert_eq!(
        f.probe(
            &ctx(Transport::Udp, 20000),
            Direction::ToServer,
            &request(1, 1, &[])
        ),
        3
    );
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 20000), Direction::ToServer, b"hello"),
        1
    );
}

#[test]
fn fragment_over_the_cap_is_one_anomaly_and_its_function_is_still_reported() {
    // A write of 2000 g41v3 objects (index-prefixed) is about 18 kB, over the 4096 cap.
    let mut apdu = vec![0xC1, 2, 41, 3, 0x28, 0xD0, 0x07];
    for i in 0..2000u16 {
        apdu.extend_from_slice(&i.to_le_bytes());
        apdu.extend_from_slice(&1.5f32.to_le_bytes());
        apdu.push(0);
    }
    let mut stream = Vec::new();
    let chunks: Vec<&[u8]> = apdu.chunks(249).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut th = i as u8 & 0x3F;
        if i == 0 {
            th |= 0x40;
        }
        if i == chunks.len() - 1 {
            th |= 0x80;
        }
        let mut user = vec![th];
        user.extend_from_slice(chunk);
        stream.extend(encode_link_frame(0xC4, OUTSTATION, MASTER, &user));
    }
    let out = exchange(&stream, &[]);
    assert_eq!(out.anomalies.len(), 1, "{:?}", out.anomalies);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].function_name, "write");
    assert_eq!(
        attr(&out.events[0], "fragment_truncated"),
        Some(&Attr::Bool(true))
    );
    // Kept objects are reported up to the cap on targets and values.
    assert!(!out.events[0].values.is_empty());
    assert!(out.events[0].targets.len() <= dissect::dnp3::MAX_TARGETS);
}
