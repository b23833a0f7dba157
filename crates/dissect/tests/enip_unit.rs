//! EtherNet/IP and CIP on synthetic messages: encapsulation commands, unconnected and
//! connected CIP with pairing, Unconnected Send unwrapping, Multiple Service Packets,
//! symbolic tags and their values, ListIdentity identities, I/O datagrams, stream
//! splitting at every offset, resynchronisation and selection.

use dissect::enip::{parser, EnipDissector};
use dissect::{
    Direction, Dissector, Emitter, Event, FlowContext, IdentityField, Observation, OpClass,
    Registry, Status, Transport,
};
use std::net::{IpAddr, Ipv4Addr};

fn ctx(transport: Transport, client_port: u16, server_port: u16) -> FlowContext {
    FlowContext {
        transport,
        vlan: None,
        client_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        client_port,
        client_mac: None,
        server_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        server_port,
        server_mac: None,
        ts: records::Timestamp(0),
    }
}

fn tcp() -> FlowContext {
    ctx(Transport::Tcp, 50000, 44818)
}

fn encap(cmd: u16, session: u32, status: u32, context: u64, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&cmd.to_le_bytes());
    m.extend_from_slice(&(body.len() as u16).to_le_bytes());
    m.extend_from_slice(&session.to_le_bytes());
    m.extend_from_slice(&status.to_le_bytes());
    m.extend_from_slice(&context.to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes());
    m.extend_from_slice(body);
    m
}

fn item(t: u16, data: &[u8]) -> Vec<u8> {
    let mut m = t.to_le_bytes().to_vec();
    m.extend_from_slice(&(data.len() as u16).to_le_bytes());
    m.extend_from_slice(data);
    m
}

/// SendRRData body around an unconnected CIP message.
fn rr(cip: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend(item(0x0000, &[]));
    b.extend(item(0x00B2, cip));
    b
}

/// SendUnitData body around a connected CIP message.
fn unit(conn: u32, seq: u16, cip: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend(item(0x00A1, &conn.to_le_bytes()));
    let mut d = seq.to_le_bytes().to_vec();
    d.extend_from_slice(cip);
    b.extend(item(0x00B1, &d));
    b
}

fn request(service: u8, path: &[u8], data: &[u8]) -> Vec<u8> {
    assert_eq!(path.len() % 2, 0);
    let mut m = vec![service, (path.len() / 2) as u8];
    m.extend_from_slice(path);
    m.extend_from_slice(data);
    m
}

fn reply(service: u8, status: u8, ext: &[u16], data: &[u8]) -> Vec<u8> {
    let mut m = vec![service | 0x80, 0, status, ext.len() as u8];
    for e in ext {
        m.extend_from_slice(&e.to_le_bytes());
    }
    m.extend_from_slice(data);
    m
}

/// ANSI extended symbolic segment(s) for a dotted tag, with an optional element index.
fn symbol(tag: &str, index: Option<u8>) -> Vec<u8> {
    let mut p = Vec::new();
    for part in tag.split('.') {
        p.push(0x91);
        p.push(part.len() as u8);
        p.extend_from_slice(part.as_bytes());
        if part.len() % 2 == 1 {
            p.push(0);
        }
    }
    if let Some(i) = index {
        p.extend_from_slice(&[0x28, i]);
    }
    p
}

fn feed(d: &mut EnipDissector, c: &FlowContext, msgs: &[(Direction, Vec<u8>)]) -> Emitter {
    let mut out = Emitter::default();
    for (dir, m) in msgs {
        let used = d.on_stream(c, *dir, m, &mut out);
        assert_eq!(used, m.len(), "whole messages are consumed");
    }
    out
}

fn names(out: &Emitter) -> Vec<(&'static str, String, bool)> {
    out.events
        .iter()
        .map(|e| (e.protocol, e.function_name.to_string(), e.is_response))
        .collect()
}

#[test]
fn register_session_and_unregister_are_session_events() {
    let c = tcp();
    let mut d = EnipDissector::default();
    let out = feed(
        &mut d,
        &c,
        &[
            (Direction::ToServer, encap(0x65, 0, 0, 1, &[1, 0, 0, 0])),
            (
                Direction::ToClient,
                encap(0x65, 0x1234, 0, 1, &[1, 0, 0, 0]),
            ),
            (Direction::ToServer, encap(0x66, 0x1234, 0, 2, &[])),
        ],
    );
    assert_eq!(
        names(&out),
        vec![
            ("enip", "register_session".into(), false),
            ("enip", "register_session".into(), true),
            ("enip", "unregister_session".into(), false),
        ]
    );
    assert!(out.events.iter().all(|e| e.op == OpClass::Session));
    assert_eq!(out.events[1].status, Status::Ok);
    assert!(out.events[1]
        .attrs
        .iter()
        .any(|(n, v)| *n == "session_handle" && *v == dissect::Attr::UInt(0x1234)));
}

#[test]
fn unconnected_get_attribute_single_pairs_by_sender_context() {
    let c = tcp();
    let mut d = EnipDissector::default();
    // Identity object (class 1) instance 1 attribute 7, then the reply.
    let path = [0x20, 0x01, 0x24, 0x01, 0x30, 0x07];
    let out = feed(
        &mut d,
        &c,
        &[
            (
                Direction::ToServer,
                encap(0x6F, 9, 0, 0xAA, &rr(&request(0x0E, &path, &[]))),
            ),
            (
                Direction::ToServer,
                encap(0x6F, 9, 0, 0xBB, &rr(&request(0x10, &path, &[5]))),
            ),
            // Replies out of order: the context finds each request.
            (
                Direction::ToClient,
                encap(0x6F, 9, 0, 0xBB, &rr(&reply(0x10, 0x0E, &[], &[]))),
            ),
            (
                Direction::ToClient,
                encap(0x6F, 9, 0, 0xAA, &rr(&reply(0x0E, 0, &[], b"\x05PLC-7"))),
            ),
        ],
    );
    let e: &[Event] = &out.events;
    assert_eq!(e.len(), 4);
    assert_eq!(e[0].function_name, "get_attribute_single");
    assert_eq!(e[0].op, OpClass::Read);
    assert_eq!(e[0].targets[0].space, "class1/instance1/attribute7");
    assert_eq!(e[1].op, OpClass::Write);
    assert_eq!(e[2].function_name, "set_attribute_single");
    assert_eq!(
        e[2].status,
        Status::Exception {
            code: 0x0E,
            name: "attribute_not_settable".into()
        }
    );
    assert_eq!(e[2].targets[0].space, "class1/instance1/attribute7");
    assert_eq!(e[3].status, Status::Ok);
    assert!(e[3].is_response);
    assert_eq!(e[3].targets[0].space, "class1/instance1/attribute7");
}

#[test]
fn unconnected_send_is_unwrapped_to_the_embedded_read_tag() {
    let c = tcp();
    let mut d = EnipDissector::default();
    let inner = request(
        0x4C,
        &symbol("Program:Main.Level", Some(3)),
        &2u16.to_le_bytes(),
    );
    let mut data = vec![0x0A, 0xF0];
    data.extend_from_slice(&(inner.len() as u16).to_le_bytes());
    data.extend_from_slice(&inner);
    if inner.len() % 2 == 1 {
        data.push(0);
    }
    data.extend_from_slice(&[1, 0, 0x01, 0x00]); // route: backplane, slot 0
    let wrapped = request(0x52, &[0x20, 0x06, 0x24, 0x01], &data);
    // The reply to an Unconnected Send is the embedded service's reply: two REALs.
    let mut values = 0xCAu16.to_le_bytes().to_vec();
    values.extend_from_slice(&1.5f32.to_le_bytes());
    values.extend_from_slice(&(-2.0f32).to_le_bytes());
    let out = feed(
        &mut d,
        &c,
        &[
            (Direction::ToServer, encap(0x6F, 1, 0, 7, &rr(&wrapped))),
            (
                Direction::ToClient,
                encap(0x6F, 1, 0, 7, &rr(&reply(0x4C, 0, &[], &values))),
            ),
        ],
    );
    assert_eq!(out.events.len(), 2, "{:?}", out.events);
    let req = &out.events[0];
    assert_eq!(req.function, 0x4C);
    assert_eq!(req.function_name, "read_tag");
    assert_eq!(req.targets[0].space, "tag:Program:Main.Level[3]");
    assert_eq!(req.targets[0].count, 2);
    let resp = &out.events[1];
    assert_eq!(resp.targets[0].space, "tag:Program:Main.Level[3]");
    let v: Vec<f64> = resp.values.iter().map(|p| p.value).collect();
    assert_eq!(v, vec![1.5, -2.0]);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
}

#[test]
fn write_tag_carries_its_values_and_is_a_write() {
    let c = tcp();
    let mut d = EnipDissector::default();
    let mut data = 0xC4u16.to_le_bytes().to_vec(); // DINT
    data.extend_from_slice(&2u16.to_le_bytes());
    data.extend_from_slice(&1500i32.to_le_bytes());
    data.extend_from_slice(&(-7i32).to_le_bytes());
    let out = feed(
        &mut d,
        &c,
        &[(
            Direction::ToServer,
            encap(
                0x6F,
                1,
                0,
                1,
                &rr(&request(0x4D, &symbol("Setpoint", None), &data)),
            ),
        )],
    );
    let e = &out.events[0];
    assert_eq!(e.op, OpClass::Write);
    assert_eq!(e.targets[0].space, "tag:Setpoint");
    assert_eq!(e.values.len(), 2);
    assert_eq!((e.values[0].address, e.values[0].value), (0, 1500.0));
    assert_eq!((e.values[1].address, e.values[1].value), (1, -7.0));
}

fn msp(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut b = (parts.len() as u16).to_le_bytes().to_vec();
    let mut off = 2 + 2 * parts.len();
    for p in parts {
        b.extend_from_slice(&(off as u16).to_le_bytes());
        off += p.len();
    }
    for p in parts {
        b.extend_from_slice(p);
    }
    b
}

#[test]
fn multiple_service_packet_gives_one_event_per_embedded_request_and_reply() {
    let c = tcp();
    let mut d = EnipDissector::default();
    let a = request(0x4C, &symbol("A", None), &1u16.to_le_bytes());
    let b = request(0x07, &[0x20, 0x8E, 0x24, 0x01], &[]);
    let req = request(0x0A, &[0x20, 0x02, 0x24, 0x01], &msp(&[a, b]));
    let ra = reply(0x4C, 0, &[], &[0xC1, 0, 1]);
    let rb = reply(0x07, 0x10, &[], &[]);
    let resp = reply(0x0A, 0x1E, &[], &msp(&[ra, rb]));
    let out = feed(
        &mut d,
        &c,
        &[
            (
                Direction::ToServer,
                encap(0x70, 1, 0, 0, &unit(0x100, 5, &req)),
            ),
            (
                Direction::ToClient,
                encap(0x70, 1, 0, 0, &unit(0x200, 5, &resp)),
            ),
        ],
    );
    let got: Vec<(String, bool, OpClass)> = out
        .events
        .iter()
        .map(|e| (e.function_name.to_string(), e.is_response, e.op))
        .collect();
    assert_eq!(
        got,
        vec![
            ("multiple_service_packet".into(), false, OpClass::Other),
            ("read_tag".into(), false, OpClass::Read),
            ("stop".into(), false, OpClass::Control),
            ("multiple_service_packet".into(), true, OpClass::Other),
            ("read_tag".into(), true, OpClass::Read),
            ("stop".into(), true, OpClass::Control),
        ]
    );
    // The embedded reply to the stop pairs with its request's target and says why it
    // failed; the read's reply carries the BOOL it read.
    assert_eq!(out.events[5].targets[0].space, "class142/instance1");
    assert_eq!(
        out.events[5].status,
        Status::Exception {
            code: 0x10,
            name: "device_state_conflict".into()
        }
    );
    assert_eq!(out.events[4].values[0].value, 1.0);
}

#[test]
fn forward_open_ids_pair_connected_replies() {
    let c = tcp();
    let mut d = EnipDissector::default();
    // Forward Open to the Message Router (class 2 instance 1), transport class 3.
    let mut fo = vec![0x0A, 0xF0];
    fo.extend_from_slice(&0u32.to_le_bytes()); // O->T proposed
    fo.extend_from_slice(&0x2222u32.to_le_bytes()); // T->O
    fo.extend_from_slice(&0x77u16.to_le_bytes()); // serial
    fo.extend_from_slice(&1u16.to_le_bytes()); // vendor
    fo.extend_from_slice(&0xDEADu32.to_le_bytes()); // originator serial
    fo.extend_from_slice(&[1, 0, 0, 0]); // multiplier, reserved
    fo.extend_from_slice(&500_000u32.to_le_bytes());
    fo.extend_from_slice(&0x43F4u16.to_le_bytes());
    fo.extend_from_slice(&500_000u32.to_le_bytes());
    fo.extend_from_slice(&0x43F4u16.to_le_bytes());
    fo.push(0xA3);
    fo.push(2);
    fo.extend_from_slice(&[0x20, 0x02, 0x24, 0x01]);
    let req = request(0x54, &[0x20, 0x06, 0x24, 0x01], &fo);
    let mut ok = 0x1111u32.to_le_bytes().to_vec();
    ok.extend_from_slice(&0x2222u32.to_le_bytes());
    ok.extend_from_slice(&[0; 18]);
    let get = request(0x0E, &[0x20, 0x01, 0x24, 0x01, 0x30, 0x01], &[]);
    let out = feed(
        &mut d,
        &c,
        &[
            (Direction::ToServer, encap(0x6F, 1, 0, 3, &rr(&req))),
            (
                Direction::ToClient,
                encap(0x6F, 1, 0, 3, &rr(&reply(0x54, 0, &[], &ok))),
            ),
            // Two connected requests with different sequence counts, replies reversed.
            (
                Direction::ToServer,
                encap(0x70, 1, 0, 0, &unit(0x1111, 1, &get)),
            ),
            (
                Direction::ToServer,
                encap(
                    0x70,
                    1,
                    0,
                    0,
                    &unit(0x1111, 2, &request(0x01, &[0x20, 0xF5, 0x24, 0x01], &[])),
                ),
            ),
            (
                Direction::ToClient,
                encap(0x70, 1, 0, 0, &unit(0x2222, 2, &reply(0x01, 0, &[], &[]))),
            ),
            (
                Direction::ToClient,
                encap(
                    0x70,
                    1,
                    0,
                    0,
                    &unit(0x2222, 1, &reply(0x0E, 0, &[], &[1, 0])),
                ),
            ),
        ],
    );
    let e = &out.events;
    assert_eq!(e[0].function_name, "forward_open");
    assert_eq!(e[0].op, OpClass::Session);
    assert_eq!(e[0].targets[0].space, "class2/instance1");
    assert_eq!(e[4].targets[0].space, "class245/instance1");
    assert_eq!(e[5].targets[0].space, "class1/instance1/attribute1");
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
}

fn list_identity_reply() -> Vec<u8> {
    let mut id = Vec::new();
    id.extend_from_slice(&1u16.to_le_bytes()); // encapsulation version
    id.extend_from_slice(&[0, 2, 0xAF, 0x12, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    id.extend_from_slice(&1u16.to_le_bytes()); // Rockwell
    id.extend_from_slice(&14u16.to_le_bytes()); // PLC
    id.extend_from_slice(&95u16.to_le_bytes());
    id.extend_from_slice(&[32, 11]);
    id.extend_from_slice(&0x0030u16.to_le_bytes());
    id.extend_from_slice(&0x00C0_FFEEu32.to_le_bytes());
    let name = b"1756-L83E/B";
    id.push(name.len() as u8);
    id.extend_from_slice(name);
    id.push(3);
    let mut body = 1u16.to_le_bytes().to_vec();
    body.extend(item(0x000C, &id));
    encap(0x63, 0, 0, 0, &body)
}

#[test]
fn list_identity_over_udp_reports_the_responder_identity() {
    let c = ctx(Transport::Udp, 50001, 44818);
    let mut d = EnipDissector::default();
    let mut out = Emitter::default();
    d.on_datagram(
        &c,
        Direction::ToServer,
        &encap(0x63, 0, 0, 0, &[]),
        &mut out,
    );
    d.on_datagram(&c, Direction::ToClient, &list_identity_reply(), &mut out);
    assert_eq!(out.events.len(), 2);
    assert!(!out.events[0].is_response);
    assert!(out.events[1].is_response);
    assert_eq!(out.events[1].op, OpClass::Identify);
    let ids: Vec<(IdentityField, String, Option<IpAddr>)> = out
        .observations
        .iter()
        .filter_map(|o| match o {
            Observation::Identity {
                ip, field, value, ..
            } => Some((*field, value.clone(), *ip)),
            _ => None,
        })
        .collect();
    let server = Some(c.server_ip);
    assert_eq!(
        ids,
        vec![
            (
                IdentityField::Vendor,
                "Rockwell Automation/Allen-Bradley".into(),
                server
            ),
            (IdentityField::Product, "1756-L83E/B".into(), server),
            (IdentityField::Firmware, "32.11".into(), server),
            (IdentityField::Serial, "0x00c0ffee".into(), server),
        ]
    );
}

#[test]
fn unknown_vendor_is_named_by_number() {
    let mut m = list_identity_reply();
    // Vendor id sits after header (24), item count (2), item header (4), version and
    // socket address (18).
    m[24 + 2 + 4 + 18] = 0x39;
    m[24 + 2 + 4 + 19] = 0x30;
    let c = ctx(Transport::Udp, 50001, 44818);
    let mut out = Emitter::default();
    EnipDissector::default().on_datagram(&c, Direction::ToClient, &m, &mut out);
    assert!(out.observations.iter().any(|o| matches!(o,
        Observation::Identity { field: IdentityField::Vendor, value, .. } if value == "vendor-12345")));
}

#[test]
fn io_datagram_gives_one_cheap_event() {
    let c = ctx(Transport::Udp, 2222, 2222);
    let mut b = 2u16.to_le_bytes().to_vec();
    let mut sai = 0x1234_5678u32.to_le_bytes().to_vec();
    sai.extend_from_slice(&42u32.to_le_bytes());
    b.extend(item(0x8002, &sai));
    b.extend(item(0x00B1, &[1, 0, 0, 0, 9, 9]));
    assert!(parser::looks_like_io(&b));
    let mut out = Emitter::default();
    EnipDissector::default().on_datagram(&c, Direction::ToServer, &b, &mut out);
    assert_eq!(out.events.len(), 1);
    let e = &out.events[0];
    assert_eq!(e.function_name, "io_data");
    assert!(e
        .attrs
        .contains(&("connection_id", dissect::Attr::UInt(0x1234_5678))));
    assert!(e.attrs.contains(&("sequence", dissect::Attr::UInt(42))));
}

/// A request stream of several messages, including a PLC stop.
fn request_stream() -> Vec<u8> {
    let mut s = encap(0x65, 0, 0, 1, &[1, 0, 0, 0]);
    s.extend(encap(
        0x6F,
        5,
        0,
        2,
        &rr(&request(0x07, &[0x20, 0x8E, 0x24, 0x01], &[])),
    ));
    let mut data = 0xCAu16.to_le_bytes().to_vec();
    data.extend_from_slice(&1u16.to_le_bytes());
    data.extend_from_slice(&42.5f32.to_le_bytes());
    s.extend(encap(
        0x70,
        5,
        0,
        0,
        &unit(9, 1, &request(0x4D, &symbol("Speed", None), &data)),
    ));
    s.extend(encap(0x66, 5, 0, 3, &[]));
    s
}

fn run_chunks(chunks: &[&[u8]]) -> Vec<Event> {
    let c = tcp();
    let mut d = EnipDissector::default();
    let mut out = Emitter::default();
    let mut buf: Vec<u8> = Vec::new();
    for ch in chunks {
        buf.extend_from_slice(ch);
        let used = d.on_stream(&c, Direction::ToServer, &buf, &mut out);
        buf.drain(..used);
    }
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    out.events.to_vec()
}

#[test]
fn split_at_every_offset_and_byte_by_byte_give_the_same_events() {
    let s = request_stream();
    let whole = run_chunks(&[&s]);
    assert_eq!(whole.len(), 4);
    assert_eq!(whole[1].function_name, "stop");
    assert_eq!(whole[2].values[0].value, 42.5);
    for cut in 0..=s.len() {
        assert_eq!(run_chunks(&[&s[..cut], &s[cut..]]), whole, "cut at {cut}");
    }
    let bytes: Vec<&[u8]> = s.chunks(1).collect();
    assert_eq!(run_chunks(&bytes), whole);
}

#[test]
fn after_a_gap_the_stream_resynchronises_on_the_next_header() {
    let c = tcp();
    let mut d = EnipDissector::default();
    let mut out = Emitter::default();
    let s = request_stream();
    // Lose the first 10 bytes: the stream now starts inside a header.
    d.on_gap(&c, Direction::ToServer, 10, &mut out);
    let used = d.on_stream(&c, Direction::ToServer, &s[10..], &mut out);
    assert_eq!(used, s.len() - 10);
    let n: Vec<String> = out
        .events
        .iter()
        .map(|e| e.function_name.to_string())
        .collect();
    assert_eq!(n, vec!["stop", "write_tag", "unregister_session"]);
}

#[test]
fn garbage_in_the_stream_is_an_anomaly_then_parsing_resumes() {
    let c = tcp();
    let mut d = EnipDissector::default();
    let mut out = Emitter::default();
    let mut s = encap(0x65, 0, 0, 1, &[1, 0, 0, 0]);
    // A header with options set is not EtherNet/IP.
    let mut bad = encap(0x6F, 0, 0, 0, &[]);
    bad[20] = 1;
    s.extend(bad);
    s.extend(encap(0x66, 5, 0, 3, &[]));
    let used = d.on_stream(&c, Direction::ToServer, &s, &mut out);
    assert_eq!(used, s.len());
    assert_eq!(out.anomalies.len(), 1);
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.events[1].function_name, "unregister_session");
}

#[test]
fn malformed_cip_is_an_anomaly_not_a_panic() {
    let c = tcp();
    let mut d = EnipDissector::default();
    let mut out = Emitter::default();
    // Path size says 10 words but only 2 bytes follow.
    let m = encap(0x6F, 1, 0, 1, &rr(&[0x0E, 10, 0x20, 0x01]));
    d.on_stream(&c, Direction::ToServer, &m, &mut out);
    assert_eq!(out.anomalies.len(), 1);
    assert!(out.events.is_empty());
}

#[test]
fn selection_needs_a_consistent_header_off_port() {
    let reg = Registry::builtin();
    let off = ctx(Transport::Tcp, 50000, 12345);
    let m = encap(0x65, 0, 0, 1, &[1, 0, 0, 0]);
    assert_eq!(
        reg.select(&off, Direction::ToServer, &m).map(|d| d.name()),
        Some("enip")
    );
    // Same bytes with a wrong length (RegisterSession carries 4 bytes).
    let bad = encap(0x65, 0, 0, 1, &[1, 0, 0, 0, 0, 0]);
    let f = dissect::enip::EnipFactory;
    use dissect::DissectorFactory;
    assert_eq!(f.probe(&off, Direction::ToServer, &bad), 0);
    assert_eq!(f.probe(&tcp(), Direction::ToServer, &bad), 1);
    assert_eq!(f.probe(&tcp(), Direction::ToServer, &m), 3);
    assert_eq!(
        f.probe(&off, Direction::ToServer, b"GET / HTTP/1.1\r\n\r\n"),
        0
    );
}

#[test]
fn zero_filled_payloads_are_not_taken_for_nop_messages() {
    use dissect::DissectorFactory;
    let f = dissect::enip::EnipFactory;
    let off = ctx(Transport::Tcp, 50000, 12345);
    assert_eq!(f.probe(&off, Direction::ToServer, &[0u8; 64]), 0);
    assert!(!dissect::enip::looks_like_enip(&[0u8; 24]));
    // A real first message on any port is still recognised.
    let m = encap(
        0x6F,
        5,
        0,
        2,
        &rr(&request(0x0E, &[0x20, 0x01, 0x24, 0x01, 0x30, 0x07], &[])),
    );
    assert_eq!(f.probe(&off, Direction::ToServer, &m), 2);
    let mut udp_io = 2u16.to_le_bytes().to_vec();
    udp_io.extend(item(0x8002, &[0; 8]));
    udp_io.extend(item(0x00B1, &[0, 0]));
    let io_off = ctx(Transport::Udp, 40000, 40001);
    assert_eq!(f.probe(&io_off, Direction::ToServer, &udp_io), 2);
}

#[test]
fn unanswered_requests_are_capped_and_stale_ones_forgotten() {
    let mut c = tcp();
    let mut d = EnipDissector::default();
    let mut out = Emitter::default();
    let get = |ctxv: u64| {
        encap(
            0x6F,
            1,
            0,
            ctxv,
            &rr(&request(0x0E, &[0x20, 0x01, 0x24, 0x01, 0x30, 0x01], &[])),
        )
    };
    for i in 0..66u64 {
        d.on_stream(&c, Direction::ToServer, &get(i), &mut out);
    }
    // 64 are remembered; the 65th and 66th each push out the oldest, with an anomaly.
    assert_eq!(out.anomalies.len(), 2);
    out.anomalies.clear();
    // Forty seconds later the old entries are stale and make room without complaint.
    c.ts = records::Timestamp(40_000_000);
    for i in 100..130u64 {
        d.on_stream(&c, Direction::ToServer, &get(i), &mut out);
    }
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
}
