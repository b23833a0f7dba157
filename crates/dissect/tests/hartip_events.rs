//! HART-IP dissector: session messages, pass-through commands, identity, response codes, TCP framing.

mod stream_util;
use dissect::hartip::{HartIpDissector, HartIpFactory};
use dissect::{
    Direction, Dissector, DissectorFactory, Emitter, IdentityField, Observation, OpClass, Status,
    Transport,
};
use stream_util::{assert_split_invariant, ctx};

fn msg(msg_type: u8, id: u8, status: u8, seq: u16, body: &[u8]) -> Vec<u8> {
    let mut m = vec![1, msg_type, id, status];
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&(8 + body.len() as u16).to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// A long-frame HART PDU: delimiter, 5-byte address, command, count, data, check byte.
fn pdu(delimiter: u8, command: u8, data: &[u8]) -> Vec<u8> {
    let mut p = vec![
        delimiter,
        0x80 | 0x26,
        0x4E,
        0x01,
        0x02,
        0x03,
        command,
        data.len() as u8,
    ];
    p.extend_from_slice(data);
    p.push(p.iter().fold(0, |a, b| a ^ b));
    p
}

#[test]
fn session_initiate_and_keep_alive_are_session_events() {
    let c = ctx(Transport::Udp, 5094);
    let mut d = HartIpDissector::new();
    let mut out = Emitter::default();
    d.on_datagram(
        &c,
        Direction::ToServer,
        &msg(0, 0, 0, 1, &[1, 0, 0, 0x75, 0x30]),
        &mut out,
    );
    d.on_datagram(
        &c,
        Direction::ToClient,
        &msg(1, 0, 0, 1, &[1, 0, 0, 0x75, 0x30]),
        &mut out,
    );
    d.on_datagram(&c, Direction::ToServer, &msg(0, 2, 0, 2, &[]), &mut out);
    let got: Vec<(&str, OpClass, bool)> = out
        .events
        .iter()
        .map(|e| (&*e.function_name, e.op, e.is_response))
        .collect();
    assert_eq!(
        got,
        [
            ("session_initiate", OpClass::Session, false),
            ("session_initiate", OpClass::Session, true),
            ("keep_alive", OpClass::Session, false)
        ]
    );
    assert_eq!(out.events[1].status, Status::Ok);
}

#[test]
fn command_0_response_gives_manufacturer_device_type_and_revisions() {
    let c = ctx(Transport::Udp, 5094);
    let mut d = HartIpDissector::new();
    let mut out = Emitter::default();
    d.on_datagram(
        &c,
        Direction::ToServer,
        &msg(0, 3, 0, 3, &pdu(0x82, 0, &[])),
        &mut out,
    );
    // HART 7 identity: expanded device type 0xE1F3, universal rev 7, device rev 4,
    // software rev 2, device id 0x0A0B0C, manufacturer 0x0026 at bytes 17-18.
    let mut id = vec![
        254, 0xE1, 0xF3, 5, 7, 4, 2, 0x08, 0, 0x0A, 0x0B, 0x0C, 5, 4, 0, 1, 0, 0x00, 0x26, 0x00,
        0x26, 1,
    ];
    let mut rsp_data = vec![0, 0x00];
    rsp_data.append(&mut id);
    d.on_datagram(
        &c,
        Direction::ToClient,
        &msg(1, 3, 0, 3, &pdu(0x86, 0, &rsp_data)),
        &mut out,
    );
    assert_eq!(out.events.len(), 2);
    assert_eq!(
        (out.events[0].op, &*out.events[0].function_name),
        (OpClass::Identify, "read_unique_identifier")
    );
    assert_eq!(out.events[1].status, Status::Ok);
    let ids: Vec<(IdentityField, &str)> = out
        .observations
        .iter()
        .filter_map(|o| match o {
            Observation::Identity { field, value, .. } => Some((*field, value.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        ids,
        [
            (IdentityField::Vendor, "hart-manufacturer-38"),
            (IdentityField::Model, "hart-device-type-0xe1f3"),
            (IdentityField::Firmware, "rev4/sw2"),
            (IdentityField::Serial, "0a0b0c"),
        ]
    );
}

#[test]
fn device_reset_is_control_and_a_refusal_is_an_exception() {
    let c = ctx(Transport::Udp, 5094);
    let mut d = HartIpDissector::new();
    let mut out = Emitter::default();
    d.on_datagram(
        &c,
        Direction::ToServer,
        &msg(0, 3, 0, 4, &pdu(0x82, 42, &[])),
        &mut out,
    );
    d.on_datagram(
        &c,
        Direction::ToClient,
        &msg(1, 3, 0, 4, &pdu(0x86, 42, &[7, 0])),
        &mut out,
    );
    assert_eq!(
        (out.events[0].op, &*out.events[0].function_name),
        (OpClass::Control, "perform_device_reset")
    );
    assert_eq!(
        out.events[1].status,
        Status::Exception {
            code: 7,
            name: "in_write_protect_mode".into()
        }
    );
}

#[test]
fn read_dynamic_variables_reports_loop_current_and_four_variables() {
    let c = ctx(Transport::Udp, 5094);
    let mut d = HartIpDissector::new();
    let mut out = Emitter::default();
    let mut data = vec![0, 0];
    data.extend_from_slice(&12.5f32.to_be_bytes());
    for v in [1.0f32, 2.0, 3.0, 4.0] {
        data.push(32);
        data.extend_from_slice(&v.to_be_bytes());
    }
    d.on_datagram(
        &c,
        Direction::ToClient,
        &msg(1, 3, 0, 5, &pdu(0x86, 3, &data)),
        &mut out,
    );
    let values: Vec<(&str, u64, f64)> = out.events[0]
        .values
        .iter()
        .map(|v| (&*v.space, v.address, v.value))
        .collect();
    assert_eq!(
        values,
        [
            ("loop_current", 0, 12.5),
            ("dynamic_variable", 0, 1.0),
            ("dynamic_variable", 1, 2.0),
            ("dynamic_variable", 2, 3.0),
            ("dynamic_variable", 3, 4.0)
        ]
    );
}

#[test]
fn a_write_split_over_tcp_at_every_offset_gives_the_same_events() {
    let c = ctx(Transport::Tcp, 5094);
    let mut stream = msg(0, 3, 0, 6, &pdu(0x82, 6, &[3, 0]));
    stream.extend(msg(0, 1, 0, 7, &[]));
    let (events, _) = assert_split_invariant(
        &|| Box::new(HartIpDissector::new()),
        &c,
        Direction::ToServer,
        &stream,
    );
    let got: Vec<(&str, OpClass)> = events.iter().map(|e| (&*e.function_name, e.op)).collect();
    assert_eq!(
        got,
        [
            ("write_polling_address", OpClass::Write),
            ("session_close", OpClass::Session)
        ]
    );
    assert_eq!(events[0].values[0].value, 3.0);
}

#[test]
fn probe_accepts_an_exact_message_on_another_port_and_rejects_noise() {
    let f = HartIpFactory;
    let m = msg(1, 3, 0, 3, &pdu(0x86, 1, &[0, 0, 32, 0, 0, 0, 0]));
    assert_eq!(
        f.probe(&ctx(Transport::Udp, 5094), Direction::ToServer, &m),
        3
    );
    assert_eq!(
        f.probe(&ctx(Transport::Udp, 5095), Direction::ToClient, &m),
        2
    );
    let mut longer = m.clone();
    longer.push(0);
    assert_eq!(
        f.probe(&ctx(Transport::Udp, 5095), Direction::ToClient, &longer),
        0
    );
    assert_eq!(
        f.probe(
            &ctx(Transport::Udp, 5095),
            Direction::ToClient,
            &[1, 0, 0, 0, 0, 0, 0, 8, 0]
        ),
        0
    );
}
