//! Omron FINS dissector: command families, pairing, end codes, identity, FINS/TCP framing.

mod stream_util;
use dissect::fins::{FinsDissector, FinsFactory};
use dissect::{
    Direction, Dissector, DissectorFactory, Emitter, IdentityField, Observation, OpClass, Status,
    Transport,
};
use stream_util::{assert_split_invariant, ctx};

fn command(sid: u8, code: u16, params: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80, 0, 2, 0, 0x0A, 0, 0, 0x05, 0, sid];
    f.extend_from_slice(&code.to_be_bytes());
    f.extend_from_slice(params);
    f
}

fn response(sid: u8, code: u16, end: u16, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0xC0, 0, 2, 0, 0x05, 0, 0, 0x0A, 0, sid];
    f.extend_from_slice(&code.to_be_bytes());
    f.extend_from_slice(&end.to_be_bytes());
    f.extend_from_slice(data);
    f
}

fn tcp(fins: &[u8]) -> Vec<u8> {
    let mut r = b"FINS".to_vec();
    r.extend_from_slice(&(8 + fins.len() as u32).to_be_bytes());
    r.extend_from_slice(&2u32.to_be_bytes());
    r.extend_from_slice(&0u32.to_be_bytes());
    r.extend_from_slice(fins);
    r
}

#[test]
fn memory_area_read_pairs_the_response_with_the_dm_range_and_its_values() {
    let c = ctx(Transport::Udp, 9600);
    let mut d = FinsDissector::new();
    let mut out = Emitter::default();
    // DM word 100, 3 words.
    d.on_datagram(
        &c,
        Direction::ToServer,
        &command(0x11, 0x0101, &[0x82, 0, 100, 0, 0, 3]),
        &mut out,
    );
    d.on_datagram(
        &c,
        Direction::ToClient,
        &response(0x11, 0x0101, 0, &[0, 1, 0, 2, 0x12, 0x34]),
        &mut out,
    );
    let [req, rsp] = &out.events[..] else {
        panic!("two events: {:?}", out.events)
    };
    assert_eq!(
        (req.op, req.function, &*req.function_name),
        (OpClass::Read, 0x0101, "memory_area_read")
    );
    assert_eq!(req.unit, Some(0x0A));
    assert_eq!(
        (
            &*req.targets[0].space,
            req.targets[0].start,
            req.targets[0].count
        ),
        ("dm", 100, 3)
    );
    assert!(rsp.is_response);
    assert_eq!(rsp.status, Status::Ok);
    assert_eq!(
        rsp.unit,
        Some(0x0A),
        "the unit is the PLC node on both sides"
    );
    assert_eq!(rsp.targets, req.targets);
    let values: Vec<(u64, f64)> = rsp.values.iter().map(|v| (v.address, v.value)).collect();
    assert_eq!(values, [(100, 1.0), (101, 2.0), (102, 4660.0)]);
}

#[test]
fn memory_area_write_of_bits_reports_bit_addresses_and_values() {
    let c = ctx(Transport::Udp, 9600);
    let mut d = FinsDissector::new();
    let mut out = Emitter::default();
    // CIO bit 10.03, two bits: 1, 0.
    d.on_datagram(
        &c,
        Direction::ToServer,
        &command(1, 0x0102, &[0x30, 0, 10, 3, 0, 2, 1, 0]),
        &mut out,
    );
    let e = &out.events[0];
    assert_eq!(e.op, OpClass::Write);
    assert_eq!(
        (&*e.targets[0].space, e.targets[0].start, e.targets[0].count),
        ("cio_bit", 163, 2)
    );
    let values: Vec<(u64, f64)> = e.values.iter().map(|v| (v.address, v.value)).collect();
    assert_eq!(values, [(163, 1.0), (164, 0.0)]);
}

#[test]
fn run_and_stop_are_control_and_an_end_code_is_an_exception() {
    let c = ctx(Transport::Udp, 9600);
    let mut d = FinsDissector::new();
    let mut out = Emitter::default();
    d.on_datagram(
        &c,
        Direction::ToServer,
        &command(2, 0x0401, &[0xFF, 0xFF, 0x04]),
        &mut out,
    );
    d.on_datagram(
        &c,
        Direction::ToServer,
        &command(3, 0x0402, &[0xFF, 0xFF]),
        &mut out,
    );
    // 0x2202: not executable in the current mode.
    d.on_datagram(
        &c,
        Direction::ToClient,
        &response(3, 0x0402, 0x2202, &[]),
        &mut out,
    );
    let names: Vec<(&str, OpClass)> = out
        .events
        .iter()
        .map(|e| (&*e.function_name, e.op))
        .collect();
    assert_eq!(
        names,
        [
            ("run", OpClass::Control),
            ("stop", OpClass::Control),
            ("stop", OpClass::Control)
        ]
    );
    assert_eq!(
        out.events[0]
            .attrs
            .iter()
            .find(|a| a.0 == "mode")
            .map(|a| a.1.clone()),
        Some(dissect::Attr::Text("run".into()))
    );
    assert_eq!(
        out.events[2].status,
        Status::Exception {
            code: 0x2202,
            name: "not_executable_in_current_mode".into()
        }
    );
}

#[test]
fn controller_data_read_response_gives_model_and_version() {
    let c = ctx(Transport::Udp, 9600);
    let mut d = FinsDissector::new();
    let mut out = Emitter::default();
    let mut data = b"CJ2M-CPU31          ".to_vec();
    data.extend_from_slice(b"02.01               ");
    data.extend_from_slice(&[0; 40]);
    d.on_datagram(
        &c,
        Direction::ToClient,
        &response(9, 0x0501, 0, &data),
        &mut out,
    );
    assert_eq!(out.events[0].op, OpClass::Identify);
    let ids: Vec<(IdentityField, &str)> = out
        .observations
        .iter()
        .filter_map(|o| match o {
            Observation::Identity {
                field, value, ip, ..
            } => {
                assert_eq!(*ip, Some(c.server_ip), "the PLC answered");
                Some((*field, value.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        ids,
        [
            (IdentityField::Vendor, "Omron"),
            (IdentityField::Model, "CJ2M-CPU31"),
            (IdentityField::Firmware, "02.01")
        ]
    );
}

#[test]
fn a_stop_split_across_fins_tcp_segments_at_every_offset_is_still_seen() {
    let c = ctx(Transport::Tcp, 9600);
    let mut stream = tcp(&command(4, 0x0402, &[0xFF, 0xFF]));
    stream.extend(tcp(&command(5, 0x0101, &[0x82, 0, 0, 0, 0, 1])));
    let (events, _) = assert_split_invariant(
        &|| Box::new(FinsDissector::new()),
        &c,
        Direction::ToServer,
        &stream,
    );
    let names: Vec<&str> = events.iter().map(|e| &*e.function_name).collect();
    assert_eq!(names, ["stop", "memory_area_read"]);
}

#[test]
fn garbage_before_a_record_is_an_anomaly_and_the_next_record_is_found() {
    let c = ctx(Transport::Tcp, 9600);
    let mut d = FinsDissector::new();
    let mut out = Emitter::default();
    let mut stream = b"xyz".to_vec();
    stream.extend(tcp(&command(6, 0x0402, &[0xFF, 0xFF])));
    let n = d.on_stream(&c, Direction::ToServer, &stream, &mut out);
    assert_eq!(n, stream.len());
    assert_eq!(out.anomalies.len(), 1);
    assert_eq!(out.events.len(), 1);
    assert_eq!(&*out.events[0].function_name, "stop");
}

#[test]
fn probe_needs_the_port_for_bare_udp_but_not_for_fins_tcp() {
    let f = FinsFactory;
    let cmd = command(1, 0x0101, &[0x82, 0, 0, 0, 0, 1]);
    assert_eq!(
        f.probe(&ctx(Transport::Udp, 9600), Direction::ToServer, &cmd),
        3
    );
    assert_eq!(
        f.probe(&ctx(Transport::Udp, 5000), Direction::ToServer, &cmd),
        0
    );
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 5000), Direction::ToServer, &tcp(&cmd)),
        2
    );
    assert_eq!(
        f.probe(
            &ctx(Transport::Tcp, 5000),
            Direction::ToServer,
            b"GET / HTTP/1.1\r\n"
        ),
        0
    );
}

#[test]
fn unanswered_commands_beyond_the_cap_are_reported_once_and_pairing_continues() {
    let c = ctx(Transport::Udp, 9600);
    let mut d = FinsDissector::new();
    let mut out = Emitter::default();
    for sid in 0..100u8 {
        d.on_datagram(
            &c,
            Direction::ToServer,
            &command(sid, 0x0101, &[0x82, 0, sid, 0, 0, 1]),
            &mut out,
        );
    }
    assert_eq!(out.anomalies.len(), 1, "{:?}", out.anomalies);
    d.on_datagram(
        &c,
        Direction::ToClient,
        &response(99, 0x0101, 0, &[0, 7]),
        &mut out,
    );
    let rsp = out.events.last().expect("the response");
    assert_eq!((rsp.targets[0].start, rsp.values[0].value), (99, 7.0));
}
