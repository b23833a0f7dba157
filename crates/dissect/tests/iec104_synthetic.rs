//! IEC 60870-5-104 on synthetic APDUs: APCI frames, ASDU types with values and commands,
//! sequence checks, several APDUs per segment, split APDUs, resynchronisation, selection.

use dissect::iec104::parser::{parse_frame, Apci, Asdu, Frame, Iec104Error};
use dissect::iec104::{Iec104Dissector, Iec104Factory};
use dissect::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, Event, FlowContext, OpClass, Status,
    Transport,
};
use std::net::{IpAddr, Ipv4Addr};

fn ctx(server_port: u16) -> FlowContext {
    FlowContext {
        transport: Transport::Tcp,
        vlan: None,
        client_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        client_port: 50000,
        client_mac: None,
        server_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        server_port,
        server_mac: None,
        ts: records::Timestamp(0),
    }
}

const S: Direction = Direction::ToServer;
const C: Direction = Direction::ToClient;

fn u(code: u8) -> Vec<u8> {
    vec![0x68, 4, code, 0, 0, 0]
}

/// An I frame with N(S) `send`, N(R) 0, and the given ASDU.
fn i_frame(send: u16, asdu: &[u8]) -> Vec<u8> {
    let mut v = vec![0x68, (4 + asdu.len()) as u8];
    v.extend_from_slice(&(send << 1).to_le_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(asdu);
    v
}

fn asdu(type_id: u8, vsq: u8, cot: u8, ca: u16, objects: &[u8]) -> Vec<u8> {
    let mut v = vec![type_id, vsq, cot, 0];
    v.extend_from_slice(&ca.to_le_bytes());
    v.extend_from_slice(objects);
    v
}

fn feed(d: &mut dyn Dissector, dir: Direction, chunks: &[&[u8]], out: &mut Emitter) {
    let c = ctx(2404);
    let mut buf = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        let n = d.on_stream(&c, dir, &buf, out);
        assert!(n <= buf.len());
        buf.drain(..n);
    }
}

fn run(msgs: &[(Direction, Vec<u8>)]) -> Emitter {
    let mut d = Iec104Dissector::new();
    let mut out = Emitter::default();
    for (dir, m) in msgs {
        feed(&mut d, *dir, &[m], &mut out);
    }
    out
}

fn attr<'a>(e: &'a Event, name: &str) -> Option<&'a Attr> {
    e.attrs.iter().find(|(n, _)| *n == name).map(|(_, a)| a)
}

fn conversation() -> Vec<(Direction, Vec<u8>)> {
    vec![
        (S, u(0x07)),
        (C, u(0x0b)),
        // General interrogation, CA 1, IOA 0, QOI 20.
        (S, i_frame(0, &asdu(100, 1, 6, 1, &[0, 0, 0, 20]))),
        (C, i_frame(0, &asdu(100, 1, 7, 1, &[0, 0, 0, 20]))),
        // Two floats, SQ=0: IOA 1001 = 12.5, IOA 1002 = -1.0; interrogated.
        (C, {
            let mut o = vec![0xe9, 0x03, 0];
            o.extend_from_slice(&12.5f32.to_le_bytes());
            o.push(0);
            o.extend_from_slice(&[0xea, 0x03, 0]);
            o.extend_from_slice(&(-1.0f32).to_le_bytes());
            o.push(0);
            i_frame(1, &asdu(13, 2, 20, 1, &o))
        }),
        // Single command ON, select, IOA 5000.
        (S, i_frame(1, &asdu(45, 1, 6, 1, &[0x88, 0x13, 0, 0x81]))),
        // Scaled set point -300 at IOA 6000, execute.
        (
            S,
            i_frame(2, &asdu(49, 1, 6, 1, &[0x70, 0x17, 0, 0xd4, 0xfe, 0x00])),
        ),
        (C, vec![0x68, 4, 1, 0, 6, 0]),
        (S, u(0x43)),
        (C, u(0x83)),
    ]
}

#[test]
fn frames_types_values_and_commands() {
    let out = run(&conversation());
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let names: Vec<_> = out
        .events
        .iter()
        .map(|e| e.function_name.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "startdt_act",
            "startdt_con",
            "interrogation",
            "interrogation",
            "measured_value_short_float",
            "single_command",
            "set_point_scaled",
            "supervisory_ack",
            "testfr_act",
            "testfr_con"
        ]
    );
    let e = &out.events;
    assert_eq!((e[0].function, e[0].op), (0x107, OpClass::Session));
    assert_eq!(
        (e[2].function, e[2].op, e[2].unit, e[2].is_response),
        (100, OpClass::Read, Some(1), false)
    );
    assert_eq!(attr(&e[2], "type"), Some(&Attr::Text("C_IC_NA_1".into())));
    assert_eq!(
        attr(&e[3], "cot"),
        Some(&Attr::Text("activation_con".into()))
    );
    assert!(e[3].is_response);
    assert_eq!(e[3].status, Status::Ok);
    let m = &e[4];
    assert!(m.is_response);
    assert_eq!(
        m.targets
            .iter()
            .map(|t| (t.start, t.count))
            .collect::<Vec<_>>(),
        [(1001, 1), (1002, 1)]
    );
    assert_eq!(
        m.values
            .iter()
            .map(|v| (v.address, v.value))
            .collect::<Vec<_>>(),
        [(1001, 12.5), (1002, -1.0)]
    );
    let c = &e[5];
    assert_eq!((c.op, c.targets[0].start), (OpClass::Write, 5000));
    assert_eq!(c.values[0].value, 1.0);
    assert_eq!(attr(c, "select"), Some(&Attr::Bool(true)));
    let sp = &e[6];
    assert_eq!(sp.values[0].value, -300.0);
    assert_eq!(attr(sp, "select"), Some(&Attr::Bool(false)));
}

#[test]
fn split_at_every_offset_and_byte_by_byte_gives_the_same_events() {
    let conv = conversation();
    let whole = run(&conv);
    for (i, (dir, bytes)) in conv.iter().enumerate() {
        for cut in 1..bytes.len() {
            let mut d = Iec104Dissector::new();
            let mut out = Emitter::default();
            for (j, (dj, bj)) in conv.iter().enumerate() {
                if i == j {
                    feed(&mut d, *dir, &[&bj[..cut], &bj[cut..]], &mut out);
                } else {
                    feed(&mut d, *dj, &[bj], &mut out);
                }
            }
            assert_eq!(out.events, whole.events, "message {i} split at {cut}");
        }
    }
    let mut d = Iec104Dissector::new();
    let mut out = Emitter::default();
    for (dir, bytes) in &conv {
        let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
        feed(&mut d, *dir, &chunks, &mut out);
    }
    assert_eq!(out.events, whole.events);
}

#[test]
fn several_apdus_in_one_segment() {
    let mut seg = u(0x07);
    seg.extend(i_frame(
        0,
        &asdu(103, 1, 6, 7, &[0, 0, 0, 1, 2, 3, 4, 5, 6, 7]),
    ));
    seg.extend(i_frame(1, &asdu(105, 1, 6, 7, &[0, 0, 0, 1])));
    let out = run(&[(S, seg)]);
    let e: Vec<_> = out
        .events
        .iter()
        .map(|e| (e.function_name.to_string(), e.op))
        .collect();
    assert_eq!(
        e,
        [
            ("startdt_act".into(), OpClass::Session),
            ("clock_synchronisation".into(), OpClass::Control),
            ("reset_process".into(), OpClass::Control)
        ]
    );
}

#[test]
fn sequence_gaps_and_repeats_are_anomalies() {
    let ic = asdu(100, 1, 6, 1, &[0, 0, 0, 20]);
    let out = run(&[
        (S, i_frame(0, &ic)),
        (S, i_frame(1, &ic)),
        (S, i_frame(5, &ic)),
        (S, i_frame(5, &ic)),
    ]);
    assert_eq!(out.anomalies.len(), 2, "{:?}", out.anomalies);
    assert!(out.anomalies[0].1.contains("gap"));
    assert!(out.anomalies[1].1.contains("repeated"));
}

#[test]
fn sequence_bit_spans_consecutive_addresses() {
    // Three single points from IOA 100, SQ=1.
    let out = run(&[(C, i_frame(0, &asdu(1, 0x83, 3, 2, &[100, 0, 0, 1, 0, 1])))]);
    let e = &out.events[0];
    assert_eq!((e.targets[0].start, e.targets[0].count), (100, 3));
    assert_eq!(
        e.values
            .iter()
            .map(|v| (v.address, v.value))
            .collect::<Vec<_>>(),
        [(100, 1.0), (101, 0.0), (102, 1.0)]
    );
}

#[test]
fn negative_confirmation_is_an_exception() {
    let out = run(&[(C, i_frame(0, &asdu(45, 1, 0x47, 1, &[0x88, 0x13, 0, 0x01])))]);
    assert_eq!(
        out.events[0].status,
        Status::Exception {
            code: 7,
            name: "negative_confirmation".into()
        }
    );
}

#[test]
fn objects_that_do_not_fit_are_anomalies() {
    assert_eq!(
        Asdu::parse(&asdu(13, 2, 3, 1, &[1, 0, 0, 0, 0, 0, 0, 0])),
        Err(Iec104Error::ObjectsDoNotFit {
            needed: 16,
            present: 8
        })
    );
    let out = run(&[(C, i_frame(0, &asdu(13, 2, 3, 1, &[1, 0, 0, 0, 0, 0, 0, 0])))]);
    assert_eq!(out.anomalies.len(), 1);
}

#[test]
fn garbage_and_gaps_resynchronise() {
    assert_eq!(parse_frame(&[0x69]), Err(Iec104Error::BadStart(0x69)));
    assert!(matches!(
        parse_frame(&u(7)),
        Ok(Frame::Complete {
            apci: Apci::U(_),
            ..
        })
    ));
    let mut d = Iec104Dissector::new();
    let mut out = Emitter::default();
    let mut s = vec![1, 2, 3];
    s.extend(u(0x43));
    feed(&mut d, S, &[&s], &mut out);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.anomalies.len(), 1);
    d.on_gap(&ctx(2404), S, 10, &mut out);
    let mut s = vec![0x00, 0x00];
    s.extend(u(0x43));
    feed(&mut d, S, &[&s], &mut out);
    assert_eq!(out.events.len(), 2);
}

#[test]
fn selection_by_port_and_content() {
    let f = Iec104Factory;
    assert_eq!(f.probe(&ctx(2404), S, &u(7)), 3);
    assert_eq!(
        f.probe(
            &ctx(2405),
            S,
            &i_frame(0, &asdu(100, 1, 6, 1, &[0, 0, 0, 20]))
        ),
        2
    );
    assert_eq!(f.probe(&ctx(2405), S, b"hello world"), 0);
    // A lone U frame is trusted on the port only; trailing junk spoils the content.
    assert_eq!(f.probe(&ctx(2405), S, &u(7)), 0);
    let mut junk = u(7);
    junk.extend_from_slice(b"xyz");
    assert_eq!(f.probe(&ctx(2404), S, &junk), 1);
    assert_eq!(f.probe(&ctx(2404), S, b"hello world"), 1);
}
