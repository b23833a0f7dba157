//! Modbus/TCP on synthetic ADUs: every function family, request/response pairing,
//! exceptions, device identification, UMAS, framing across segments, resynchronisation
//! after garbage, and selection by content.

use dissect::modbus::parser::{self, ModbusError, Request};
use dissect::modbus::ModbusDissector;
use dissect::{
    Attr, Direction, Dissector, Emitter, Event, FlowContext, IdentityField, Observation, OpClass,
    Registry, Status, Target, Transport,
};
use std::net::{IpAddr, Ipv4Addr};

fn ctx(client_port: u16, server_port: u16) -> FlowContext {
    FlowContext {
        transport: Transport::Tcp,
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

/// An ADU: MBAP header around `pdu`.
fn adu(tid: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut v = tid.to_be_bytes().to_vec();
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&((pdu.len() + 1) as u16).to_be_bytes());
    v.push(unit);
    v.extend_from_slice(pdu);
    v
}

/// Feeds `chunks` in `dir` as the stream layer does (keeping what was not consumed).
fn feed(
    d: &mut ModbusDissector,
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

/// Runs a request stream then a response stream, each whole.
fn exchange(req: &[u8], resp: &[u8]) -> Emitter {
    let c = ctx(40000, 502);
    let mut d = ModbusDissector::new();
    let mut out = Emitter::default();
    feed(&mut d, &c, Direction::ToServer, &[req], &mut out);
    feed(&mut d, &c, Direction::ToClient, &[resp], &mut out);
    out
}

fn targets(e: &Event) -> Vec<(String, u64, u32)> {
    e.targets
        .iter()
        .map(
            |Target {
                 space,
                 start,
                 count,
             }| (space.to_string(), *start, *count),
        )
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
fn read_holding_registers_response_carries_values_at_request_addresses() {
    let out = exchange(
        &adu(7, 1, &[3, 0x00, 0x0A, 0x00, 0x03]),
        &adu(7, 1, &[3, 6, 0x00, 0x01, 0x05, 0xDC, 0xFF, 0xFF]),
    );
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let [req, resp] = &out.events[..] else {
        panic!("two events expected: {:?}", out.events)
    };
    assert_eq!(
        (req.function, &*req.function_name, req.op),
        (3, "read_holding_registers", OpClass::Read)
    );
    assert!(!req.is_response);
    assert_eq!(req.unit, Some(1));
    assert_eq!(targets(req), [("holding_register".into(), 10, 3)]);
    assert!(resp.is_response);
    assert_eq!(resp.status, Status::Ok);
    assert_eq!(targets(resp), [("holding_register".into(), 10, 3)]);
    assert_eq!(
        values(resp),
        [
            ("holding_register".into(), 10, 1.0),
            ("holding_register".into(), 11, 1500.0),
            ("holding_register".into(), 12, 65535.0)
        ]
    );
    assert_eq!(attr(resp, "transaction_id"), Some(&Attr::UInt(7)));
}

#[test]
fn read_coils_and_inputs_response_bits_are_lsb_first() {
    let out = exchange(
        &adu(1, 3, &[1, 0, 19, 0, 10]),
        &adu(1, 3, &[1, 2, 0b1100_1101, 0b01]),
    );
    let resp = &out.events[1];
    assert_eq!(targets(resp), [("coil".into(), 19, 10)]);
    let bits: Vec<f64> = resp.values.iter().map(|v| v.value).collect();
    assert_eq!(bits, [1., 0., 1., 1., 0., 0., 1., 1., 1., 0.]);
    assert_eq!(resp.values[9].address, 28);

    let out = exchange(&adu(2, 3, &[2, 0, 0, 0, 3]), &adu(2, 3, &[2, 1, 0b101]));
    assert_eq!(targets(&out.events[0]), [("discrete_input".into(), 0, 3)]);
    assert_eq!(out.events[1].values[2].space, "discrete_input");

    let out = exchange(&adu(3, 3, &[4, 0, 5, 0, 1]), &adu(3, 3, &[4, 2, 0, 42]));
    assert_eq!(values(&out.events[1]), [("input_register".into(), 5, 42.0)]);
}

#[test]
fn single_and_multiple_writes_carry_their_values() {
    let out = exchange(
        &adu(1, 1, &[5, 0, 0xAC, 0xFF, 0]),
        &adu(1, 1, &[5, 0, 0xAC, 0xFF, 0]),
    );
    assert_eq!(out.events[0].op, OpClass::Write);
    assert_eq!(values(&out.events[0]), [("coil".into(), 172, 1.0)]);
    assert_eq!(values(&out.events[1]), [("coil".into(), 172, 1.0)]);

    let out = exchange(&adu(2, 1, &[6, 0, 1, 0, 3]), &adu(2, 1, &[6, 0, 1, 0, 3]));
    assert_eq!(
        values(&out.events[0]),
        [("holding_register".into(), 1, 3.0)]
    );

    let out = exchange(
        &adu(3, 1, &[15, 0, 0x13, 0, 10, 2, 0xCD, 0x01]),
        &adu(3, 1, &[15, 0, 0x13, 0, 10]),
    );
    assert_eq!(targets(&out.events[0]), [("coil".into(), 19, 10)]);
    assert_eq!(out.events[0].values.len(), 10);
    assert_eq!(out.events[0].values[8].value, 1.0);
    assert_eq!(targets(&out.events[1]), [("coil".into(), 19, 10)]);

    let out = exchange(
        &adu(4, 1, &[16, 0, 1, 0, 2, 4, 0, 10, 1, 2]),
        &adu(4, 1, &[16, 0, 1, 0, 2]),
    );
    assert_eq!(
        values(&out.events[0]),
        [
            ("holding_register".into(), 1, 10.0),
            ("holding_register".into(), 2, 258.0)
        ]
    );
}

#[test]
fn mask_write_and_read_write_multiple_registers() {
    let out = exchange(
        &adu(1, 1, &[22, 0, 4, 0, 0xF2, 0, 0x25]),
        &adu(1, 1, &[22, 0, 4, 0, 0xF2, 0, 0x25]),
    );
    assert_eq!(out.events[0].op, OpClass::Write);
    assert_eq!(targets(&out.events[0]), [("holding_register".into(), 4, 1)]);
    assert_eq!(attr(&out.events[0], "and_mask"), Some(&Attr::UInt(0xF2)));

    let out = exchange(
        &adu(2, 1, &[23, 0, 3, 0, 2, 0, 14, 0, 1, 2, 0, 0xFF]),
        &adu(2, 1, &[23, 4, 0, 1, 0, 2]),
    );
    assert_eq!(
        targets(&out.events[0]),
        [
            ("holding_register".into(), 3, 2),
            ("holding_register".into(), 14, 1)
        ]
    );
    assert_eq!(
        values(&out.events[0]),
        [("holding_register".into(), 14, 255.0)]
    );
    assert_eq!(
        values(&out.events[1]),
        [
            ("holding_register".into(), 3, 1.0),
            ("holding_register".into(), 4, 2.0)
        ]
    );
}

#[test]
fn exception_response_is_named_and_keeps_the_request_range() {
    let out = exchange(&adu(9, 2, &[3, 0, 100, 0, 2]), &adu(9, 2, &[0x83, 2]));
    let resp = &out.events[1];
    assert_eq!(resp.function, 3);
    assert_eq!(
        resp.status,
        Status::Exception {
            code: 2,
            name: "illegal_data_address".into()
        }
    );
    assert_eq!(targets(resp), [("holding_register".into(), 100, 2)]);
    let out = exchange(&adu(9, 2, &[0x41]), &adu(9, 2, &[0xC1, 1]));
    assert_eq!(out.events[0].function_name, "unknown-65");
    assert_eq!(
        out.events[1].status,
        Status::Exception {
            code: 1,
            name: "illegal_function".into()
        }
    );
}

#[test]
fn read_device_identification_reports_the_server_identity() {
    let mut objects = vec![];
    for (id, text) in [
        (0u8, "Schneider Electric"),
        (1, "BMX P34 2020"),
        (2, "v2.70"),
    ] {
        objects.extend_from_slice(&[id, text.len() as u8]);
        objects.extend_from_slice(text.as_bytes());
    }
    let mut pdu = vec![43, 14, 1, 1, 0, 0, 3];
    pdu.extend(objects);
    let out = exchange(&adu(5, 0xFF, &[43, 14, 1, 0]), &adu(5, 0xFF, &pdu));
    assert_eq!(out.events[0].op, OpClass::Identify);
    assert_eq!(out.events[1].op, OpClass::Identify);
    assert_eq!(
        attr(&out.events[1], "vendor_name"),
        Some(&Attr::Text("Schneider Electric".into()))
    );
    let ids: Vec<(IpAddr, IdentityField, String)> = out
        .observations
        .iter()
        .map(|o| match o {
            Observation::Identity {
                ip, field, value, ..
            } => (ip.unwrap(), *field, value.clone()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let server = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(
        ids,
        [
            (server, IdentityField::Vendor, "Schneider Electric".into()),
            (server, IdentityField::Model, "BMX P34 2020".into()),
            (server, IdentityField::Firmware, "v2.70".into())
        ]
    );
}

#[test]
fn diagnostics_restart_and_listen_only_are_control() {
    let out = exchange(&adu(1, 1, &[8, 0, 1, 0, 0]), &adu(1, 1, &[8, 0, 1, 0, 0]));
    assert_eq!(out.events[0].op, OpClass::Control);
    assert_eq!(out.events[1].op, OpClass::Control);
    assert_eq!(
        attr(&out.events[0], "sub_function_name"),
        Some(&Attr::Text("restart_communications_option".into()))
    );
    let out = exchange(&adu(1, 1, &[8, 0, 4, 0, 0]), &[]);
    assert_eq!(out.events[0].op, OpClass::Control);
    let out = exchange(
        &adu(1, 1, &[8, 0, 0, 0xA5, 0x37]),
        &adu(1, 1, &[8, 0, 0, 0xA5, 0x37]),
    );
    assert_eq!(out.events[0].op, OpClass::Diagnostic);
    assert_eq!(
        attr(&out.events[1], "sub_function_name"),
        Some(&Attr::Text("return_query_data".into()))
    );
    for fc in [7u8, 11, 12] {
        let out = exchange(&adu(1, 1, &[fc]), &[]);
        assert_eq!(out.events[0].op, OpClass::Diagnostic, "function {fc}");
    }
    let out = exchange(&adu(1, 1, &[17]), &adu(1, 1, &[17, 2, 0x42, 0xFF]));
    assert_eq!(out.events[0].op, OpClass::Identify);
}

#[test]
fn umas_stop_plc_is_control_and_downloads_are_program() {
    let out = exchange(
        &adu(1, 0, &[90, 0x12, 0x41, 0xFF, 0x00]),
        &adu(1, 0, &[90, 0x12, 0xFE]),
    );
    let [req, resp] = &out.events[..] else {
        panic!()
    };
    assert_eq!(
        (req.function, &*req.function_name, req.op),
        (90, "umas_stop_plc", OpClass::Control)
    );
    assert_eq!(
        (&*resp.function_name, resp.op, &resp.status),
        ("umas_stop_plc", OpClass::Control, &Status::Ok)
    );
    let out = exchange(
        &adu(2, 0, &[90, 0x12, 0x34, 1, 2, 3]),
        &adu(2, 0, &[90, 0x12, 0xFD, 0x80]),
    );
    assert_eq!(
        (&*out.events[0].function_name, out.events[0].op),
        ("umas_download_block", OpClass::Program)
    );
    assert!(matches!(
        out.events[1].status,
        Status::Exception { code: 0xFD, .. }
    ));
    let out = exchange(&adu(3, 0, &[90, 0, 0x10]), &[]);
    assert_eq!(
        (&*out.events[0].function_name, out.events[0].op),
        ("umas_take_plc_reservation", OpClass::Program)
    );
    let out = exchange(&adu(4, 0, &[126, 1, 2]), &[]);
    assert_eq!(out.events[0].op, OpClass::Program);
}

#[test]
fn file_record_and_fifo() {
    let out = exchange(&adu(1, 1, &[20, 7, 6, 0, 4, 0, 1, 0, 2]), &[]);
    assert_eq!(targets(&out.events[0]), [("file4".into(), 1, 2)]);
    assert_eq!(out.events[0].op, OpClass::Read);
    let out = exchange(&adu(1, 1, &[21, 11, 6, 0, 4, 0, 7, 0, 2, 0, 1, 0, 2]), &[]);
    assert_eq!(out.events[0].op, OpClass::Write);
    assert!(out.anomalies.is_empty());
    let out = exchange(
        &adu(1, 1, &[24, 4, 0xDE]),
        &adu(1, 1, &[24, 0, 6, 0, 2, 1, 0xB8, 0x12, 0x84]),
    );
    assert_eq!(
        targets(&out.events[1]),
        [("holding_register".into(), 0x4DE, 1)]
    );
    assert_eq!(attr(&out.events[1], "fifo_count"), Some(&Attr::UInt(2)));
}

#[test]
fn responses_pair_by_transaction_and_unit_out_of_order() {
    let c = ctx(40000, 502);
    let mut d = ModbusDissector::new();
    let mut out = Emitter::default();
    let mut reqs = adu(1, 1, &[3, 0, 0, 0, 1]);
    reqs.extend(adu(1, 2, &[4, 0, 50, 0, 1]));
    feed(&mut d, &c, Direction::ToServer, &[&reqs], &mut out);
    let mut resps = adu(1, 2, &[4, 2, 0, 9]);
    resps.extend(adu(1, 1, &[3, 2, 0, 8]));
    feed(&mut d, &c, Direction::ToClient, &[&resps], &mut out);
    assert_eq!(values(&out.events[2]), [("input_register".into(), 50, 9.0)]);
    assert_eq!(
        values(&out.events[3]),
        [("holding_register".into(), 0, 8.0)]
    );
}

#[test]
fn response_without_request_has_no_addresses() {
    let out = exchange(&[], &adu(77, 1, &[3, 2, 0, 8]));
    assert_eq!(out.events.len(), 1);
    assert!(out.events[0].targets.is_empty() && out.events[0].values.is_empty());
    assert_eq!(attr(&out.events[0], "unpaired"), Some(&Attr::Bool(true)));
}

#[test]
fn too_many_open_requests_is_an_anomaly() {
    let c = ctx(40000, 502);
    let mut d = ModbusDissector::new();
    let mut out = Emitter::default();
    for tid in 0..=dissect::modbus::MAX_OPEN_REQUESTS as u16 {
        feed(
            &mut d,
            &c,
            Direction::ToServer,
            &[&adu(tid, 1, &[3, 0, 0, 0, 1])],
            &mut out,
        );
    }
    assert_eq!(out.anomalies.len(), 1);
    // The oldest was dropped: its response is unpaired, the newest still pairs.
    feed(
        &mut d,
        &c,
        Direction::ToClient,
        &[&adu(0, 1, &[3, 2, 0, 1])],
        &mut out,
    );
    assert!(out.events.last().unwrap().values.is_empty());
    feed(
        &mut d,
        &c,
        Direction::ToClient,
        &[&adu(64, 1, &[3, 2, 0, 1])],
        &mut out,
    );
    assert_eq!(out.events.last().unwrap().values.len(), 1);
}

/// A request stream with several functions, including a UMAS stop.
fn script() -> Vec<u8> {
    let mut s = adu(1, 1, &[3, 0, 10, 0, 3]);
    s.extend(adu(2, 1, &[16, 0, 1, 0, 2, 4, 0, 10, 1, 2]));
    s.extend(adu(3, 0, &[90, 0x12, 0x41, 0xFF, 0x00]));
    s.extend(adu(4, 1, &[5, 0, 3, 0xFF, 0]));
    s
}

fn run_split(chunks: &[&[u8]]) -> Vec<Event> {
    let c = ctx(40000, 502);
    let mut d = ModbusDissector::new();
    let mut out = Emitter::default();
    feed(&mut d, &c, Direction::ToServer, chunks, &mut out);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    out.events.to_vec()
}

#[test]
fn two_pdus_in_one_segment_and_split_at_every_offset_give_the_same_events() {
    let s = script();
    let whole = run_split(&[&s]);
    assert_eq!(whole.len(), 4);
    assert_eq!(whole[2].function_name, "umas_stop_plc");
    for at in 0..=s.len() {
        assert_eq!(run_split(&[&s[..at], &s[at..]]), whole, "split at {at}");
    }
    let bytes: Vec<&[u8]> = s.chunks(1).collect();
    assert_eq!(run_split(&bytes), whole, "byte by byte");
}

#[test]
fn garbage_is_an_anomaly_and_the_stream_resynchronises() {
    let c = ctx(40000, 502);
    let mut d = ModbusDissector::new();
    let mut out = Emitter::default();
    let mut s = b"\x13\x37GARBAGE that is not modbus at all".to_vec();
    s.extend(adu(9, 1, &[6, 0, 1, 0, 3]));
    feed(&mut d, &c, Direction::ToServer, &[&s], &mut out);
    assert_eq!(out.anomalies.len(), 1, "{:?}", out.anomalies);
    assert_eq!(out.events.len(), 1);
    assert_eq!(
        values(&out.events[0]),
        [("holding_register".into(), 1, 3.0)]
    );
    // After a gap, a partial ADU is skipped and the next whole one is found.
    let mut out = Emitter::default();
    d.on_gap(&c, Direction::ToServer, 10, &mut out);
    let mut s = adu(10, 1, &[6, 0, 1, 0, 3])[4..].to_vec();
    s.extend(adu(11, 1, &[6, 0, 2, 0, 4]));
    feed(&mut d, &c, Direction::ToServer, &[&s], &mut out);
    assert_eq!(out.events.len(), 1);
    assert_eq!(
        values(&out.events[0]),
        [("holding_register".into(), 2, 4.0)]
    );
}

#[test]
fn malformed_pdu_is_an_anomaly_but_the_function_is_still_reported() {
    // Byte count 5 for 2 registers.
    let out = exchange(&adu(1, 1, &[16, 0, 1, 0, 2, 5, 0, 10, 1, 2, 3]), &[]);
    assert_eq!(out.anomalies.len(), 1);
    assert_eq!(out.events[0].function, 16);
    assert_eq!(
        parser::parse_request(&[16, 0, 1, 0, 2, 5, 0, 10, 1, 2, 3]),
        Err(ModbusError::ByteCountMismatch {
            stated: 5,
            expected: 4
        })
    );
    assert_eq!(
        parser::parse_request(&[3, 0, 1, 0, 0]),
        Err(ModbusError::QuantityOutOfRange(0))
    );
    assert_eq!(
        parser::parse_request(&[3, 0, 1, 0, 2]),
        Ok(Request::Read {
            fc: 3,
            address: 1,
            quantity: 2
        })
    );
}

#[test]
fn selected_by_content_on_any_port_and_not_for_other_bytes() {
    let reg = Registry::builtin();
    let c = ctx(40000, 5020);
    let d = reg.select(&c, Direction::ToServer, &adu(1, 1, &[3, 0, 0, 0, 10]));
    assert_eq!(d.map(|d| d.name()), Some("modbus"));
    // Length field that disagrees with the bytes present.
    let mut bad = adu(1, 1, &[3, 0, 0, 0, 10]);
    bad[5] += 1;
    let f = dissect::modbus::ModbusFactory;
    use dissect::DissectorFactory;
    assert_eq!(f.probe(&c, Direction::ToServer, &bad), 0);
    assert_eq!(
        f.probe(&c, Direction::ToServer, b"GET / HTTP/1.1\r\n\r\n"),
        0
    );
    assert_eq!(f.probe(&ctx(40000, 502), Direction::ToServer, b"hello"), 1);
    assert_eq!(
        f.probe(
            &ctx(40000, 502),
            Direction::ToServer,
            &adu(1, 1, &[3, 0, 0, 0, 10])
        ),
        3
    );
}
