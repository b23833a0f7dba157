//! OPC UA binary on synthetic messages: UA TCP messages, secure channels with policy
//! None, services paired by request handle with node ids and values, ServiceFault and
//! error statuses, chunk reassembly and abort, encrypted channels, stream splitting at
//! every offset, resynchronisation and selection.

use dissect::opcua::{parser, OpcuaDissector, OpcuaFactory};
use dissect::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, Event, FlowContext, IdentityField,
    Observation, OpClass, Status, Transport,
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

fn s(v: &str) -> Vec<u8> {
    let mut m = (v.len() as i32).to_le_bytes().to_vec();
    m.extend_from_slice(v.as_bytes());
    m
}

fn msg(kind: &[u8; 3], chunk: u8, body: &[u8]) -> Vec<u8> {
    let mut m = kind.to_vec();
    m.push(chunk);
    m.extend_from_slice(&((body.len() + 8) as u32).to_le_bytes());
    m.extend_from_slice(body);
    m
}

fn hello(url: &str) -> Vec<u8> {
    let mut b = 0u32.to_le_bytes().to_vec();
    for v in [65535u32, 65535, 0, 0] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend(s(url));
    msg(b"HEL", b'F', &b)
}

fn type_id(id: u16) -> Vec<u8> {
    let mut m = vec![0x01, 0x00];
    m.extend_from_slice(&id.to_le_bytes());
    m
}

fn req_header(handle: u32) -> Vec<u8> {
    let mut m = vec![0x00, 0x00];
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(&handle.to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes());
    m.extend_from_slice(&(-1i32).to_le_bytes());
    m.extend_from_slice(&10000u32.to_le_bytes());
    m.extend_from_slice(&[0x00, 0x00, 0x00]);
    m
}

fn resp_header(handle: u32, result: u32) -> Vec<u8> {
    let mut m = vec![0; 8];
    m.extend_from_slice(&handle.to_le_bytes());
    m.extend_from_slice(&result.to_le_bytes());
    m.push(0x00);
    m.extend_from_slice(&(-1i32).to_le_bytes());
    m.extend_from_slice(&[0x00, 0x00, 0x00]);
    m
}

fn opn(policy: &str, body: &[u8]) -> Vec<u8> {
    let mut b = 0u32.to_le_bytes().to_vec();
    b.extend(s(policy));
    b.extend_from_slice(&(-1i32).to_le_bytes());
    b.extend_from_slice(&(-1i32).to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(body);
    msg(b"OPN", b'F', &b)
}

fn secure(kind: &[u8; 3], chunk: u8, request_id: u32, body: &[u8]) -> Vec<u8> {
    let mut b = 7u32.to_le_bytes().to_vec();
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&request_id.to_le_bytes());
    b.extend_from_slice(&request_id.to_le_bytes());
    b.extend_from_slice(body);
    msg(kind, chunk, &b)
}

const NONE: &str = "http://opcfoundation.org/UA/SecurityPolicy#None";

fn open_none() -> Vec<u8> {
    let mut body = type_id(446);
    body.extend(req_header(1));
    for v in [0u32, 0, 1] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    body.extend_from_slice(&(-1i32).to_le_bytes());
    body.extend_from_slice(&600000u32.to_le_bytes());
    opn(NONE, &body)
}

/// Read of ns=2;s=Tank.Level (Value) and i=2258 (Value).
fn read_request(handle: u32) -> Vec<u8> {
    let mut b = type_id(631);
    b.extend(req_header(handle));
    b.extend_from_slice(&0f64.to_le_bytes());
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&2i32.to_le_bytes());
    b.extend_from_slice(&[0x03, 0x02, 0x00]);
    b.extend(s("Tank.Level"));
    b.extend_from_slice(&13u32.to_le_bytes());
    b.extend_from_slice(&(-1i32).to_le_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&(-1i32).to_le_bytes());
    b.extend_from_slice(&[0x01, 0x00, 0xD2, 0x08]);
    b.extend_from_slice(&13u32.to_le_bytes());
    b.extend_from_slice(&(-1i32).to_le_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&(-1i32).to_le_bytes());
    b
}

fn read_response(handle: u32) -> Vec<u8> {
    let mut b = type_id(634);
    b.extend(resp_header(handle, 0));
    b.extend_from_slice(&2i32.to_le_bytes());
    b.extend_from_slice(&[0x01, 11]);
    b.extend_from_slice(&3.25f64.to_le_bytes());
    b.extend_from_slice(&[0x01, 13]);
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&(-1i32).to_le_bytes());
    b
}

fn write_request(handle: u32) -> Vec<u8> {
    let mut b = type_id(673);
    b.extend(req_header(handle));
    b.extend_from_slice(&1i32.to_le_bytes());
    b.extend_from_slice(&[0x01, 0x01, 0x10, 0x27]); // ns=1;i=10000
    b.extend_from_slice(&13u32.to_le_bytes());
    b.extend_from_slice(&(-1i32).to_le_bytes());
    b.extend_from_slice(&[0x01, 6]);
    b.extend_from_slice(&(-40i32).to_le_bytes());
    b
}

fn run(msgs: &[(Direction, Vec<u8>)]) -> Emitter {
    let c = ctx(4840);
    let mut d = OpcuaDissector::default();
    let mut out = Emitter::default();
    for (dir, m) in msgs {
        assert_eq!(d.on_stream(&c, *dir, m, &mut out), m.len());
    }
    out
}

#[test]
fn hello_acknowledge_and_open_secure_channel() {
    let mut ack = 0u32.to_le_bytes().to_vec();
    for v in [65535u32, 65535, 0, 0] {
        ack.extend_from_slice(&v.to_le_bytes());
    }
    let mut osr = type_id(449);
    osr.extend(resp_header(1, 0));
    osr.extend_from_slice(&0u32.to_le_bytes());
    osr.extend_from_slice(&7u32.to_le_bytes());
    osr.extend_from_slice(&3u32.to_le_bytes());
    let out = run(&[
        (Direction::ToServer, hello("opc.tcp://plc:4840")),
        (Direction::ToClient, msg(b"ACK", b'F', &ack)),
        (Direction::ToServer, open_none()),
        (Direction::ToClient, opn(NONE, &osr)),
    ]);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let e = &out.events;
    assert_eq!(e[0].function_name, "hello");
    assert_eq!(e[0].function, 0x48454C);
    assert!(e[0]
        .attrs
        .contains(&("endpoint_url", Attr::Text("opc.tcp://plc:4840".into()))));
    assert_eq!(e[1].status, Status::Ok);
    assert_eq!(e[2].function_name, "open_secure_channel");
    assert!(e[2]
        .attrs
        .contains(&("security_mode", Attr::Text("none".into()))));
    assert!(e[2]
        .attrs
        .contains(&("security_policy", Attr::Text(NONE.into()))));
    assert!(e[3].is_response);
    assert!(e[3].attrs.contains(&("channel_id", Attr::UInt(7))));
}

#[test]
fn read_pairs_by_handle_with_node_targets_and_values() {
    let out = run(&[
        (Direction::ToServer, open_none()),
        (
            Direction::ToServer,
            secure(b"MSG", b'F', 2, &read_request(42)),
        ),
        (
            Direction::ToClient,
            secure(b"MSG", b'F', 2, &read_response(42)),
        ),
    ]);
    let req = &out.events[1];
    assert_eq!(req.function, 631);
    assert_eq!(req.op, OpClass::Read);
    let t: Vec<(&str, u64)> = req
        .targets
        .iter()
        .map(|t| (t.space.as_ref(), t.start))
        .collect();
    assert_eq!(t, vec![("node:ns=2;s=Tank.Level", 13), ("node:i=2258", 13)]);
    let resp = &out.events[2];
    assert!(resp.is_response);
    assert_eq!(resp.function, 631);
    assert_eq!(resp.targets.len(), 2);
    assert_eq!(resp.values.len(), 1);
    assert_eq!(resp.values[0].space, "node:ns=2;s=Tank.Level");
    assert_eq!(resp.values[0].value, 3.25);
}

#[test]
fn write_values_and_service_fault_status() {
    let mut fault = type_id(397);
    fault.extend(resp_header(5, 0x801F_0000));
    let out = run(&[
        (Direction::ToServer, open_none()),
        (
            Direction::ToServer,
            secure(b"MSG", b'F', 3, &write_request(5)),
        ),
        (Direction::ToClient, secure(b"MSG", b'F', 3, &fault)),
    ]);
    let w = &out.events[1];
    assert_eq!(w.op, OpClass::Write);
    assert_eq!(w.targets[0].space, "node:ns=1;i=10000");
    assert_eq!(w.values[0].value, -40.0);
    let f = &out.events[2];
    assert_eq!(f.function_name, "write");
    assert!(f.is_response);
    assert_eq!(
        f.status,
        Status::Exception {
            code: 0x801F_0000,
            name: "bad_user_access_denied".into()
        }
    );
    assert!(f.attrs.contains(&("service_fault", Attr::Bool(true))));
}

#[test]
fn chunks_are_reassembled_and_abort_drops_them() {
    let body = read_request(9);
    let (a, b) = body.split_at(20);
    let mut abort = 0x800A_0000u32.to_le_bytes().to_vec();
    abort.extend(s("timeout"));
    let out = run(&[
        (Direction::ToServer, open_none()),
        (Direction::ToServer, secure(b"MSG", b'C', 4, a)),
        (Direction::ToServer, secure(b"MSG", b'F', 4, b)),
        (Direction::ToServer, secure(b"MSG", b'C', 5, a)),
        (Direction::ToServer, secure(b"MSG", b'A', 5, &abort)),
    ]);
    let n: Vec<String> = out
        .events
        .iter()
        .map(|e| e.function_name.to_string())
        .collect();
    assert_eq!(n, vec!["open_secure_channel", "read", "abort"]);
    assert_eq!(out.events[1].targets.len(), 2);
    assert_eq!(
        out.events[2].status,
        Status::Exception {
            code: 0x800A_0000,
            name: "bad_timeout".into()
        }
    );
}

#[test]
fn error_message_gives_its_status() {
    let mut b = 0x8013_0000u32.to_le_bytes().to_vec();
    b.extend(s("security checks failed"));
    let out = run(&[(Direction::ToClient, msg(b"ERR", b'F', &b))]);
    assert_eq!(out.events[0].function_name, "error");
    assert_eq!(
        out.events[0].status,
        Status::Exception {
            code: 0x8013_0000,
            name: "bad_security_checks_failed".into()
        }
    );
}

#[test]
fn encrypted_channel_reports_chunks_with_the_policy_only() {
    let policy = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";
    let noise: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37) ^ 0xA5).collect();
    let out = run(&[
        (Direction::ToServer, opn(policy, &noise)),
        (Direction::ToServer, secure(b"MSG", b'F', 2, &noise)),
    ]);
    assert_eq!(out.events.len(), 2);
    for e in &out.events {
        assert!(e.attrs.contains(&("encrypted", Attr::Bool(true))));
        assert!(e
            .attrs
            .contains(&("security_policy", Attr::Text(policy.into()))));
        assert!(e.targets.is_empty());
    }
    assert_eq!(out.events[1].function_name, "secure_message");
}

#[test]
fn get_endpoints_response_names_the_server_application() {
    let mut b = type_id(431);
    b.extend(resp_header(3, 0));
    b.extend_from_slice(&1i32.to_le_bytes());
    b.extend(s("opc.tcp://plc:4840"));
    b.extend(s("urn:acme:plc"));
    b.extend(s("urn:acme:product"));
    b.push(0x02);
    b.extend(s("ACME PLC Server"));
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&(-1i32).to_le_bytes());
    b.extend_from_slice(&(-1i32).to_le_bytes());
    b.extend_from_slice(&0i32.to_le_bytes());
    let mut req = type_id(428);
    req.extend(req_header(3));
    req.extend(s("opc.tcp://plc:4840"));
    let out = run(&[
        (Direction::ToServer, open_none()),
        (Direction::ToServer, secure(b"MSG", b'F', 2, &req)),
        (Direction::ToClient, secure(b"MSG", b'F', 2, &b)),
    ]);
    assert_eq!(out.events[1].op, OpClass::Identify);
    assert!(out.observations.iter().any(|o| matches!(o,
        Observation::Identity { field: IdentityField::Product, value, ip, .. }
            if value == "ACME PLC Server" && *ip == Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))))));
}

fn stream() -> Vec<u8> {
    let mut s = hello("opc.tcp://plc:4840");
    s.extend(open_none());
    s.extend(secure(b"MSG", b'F', 2, &read_request(1)));
    s.extend(secure(b"MSG", b'F', 3, &write_request(2)));
    s.extend(secure(b"CLO", b'F', 4, &{
        let mut b = type_id(452);
        b.extend(req_header(3));
        b
    }));
    s
}

fn run_chunks(chunks: &[&[u8]]) -> Vec<Event> {
    let c = ctx(4840);
    let mut d = OpcuaDissector::default();
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
    let s = stream();
    let whole = run_chunks(&[&s]);
    let n: Vec<String> = whole.iter().map(|e| e.function_name.to_string()).collect();
    assert_eq!(
        n,
        vec![
            "hello",
            "open_secure_channel",
            "read",
            "write",
            "close_secure_channel"
        ]
    );
    for cut in 0..=s.len() {
        assert_eq!(run_chunks(&[&s[..cut], &s[cut..]]), whole, "cut at {cut}");
    }
    let bytes: Vec<&[u8]> = s.chunks(1).collect();
    assert_eq!(run_chunks(&bytes), whole);
}

#[test]
fn after_a_gap_parsing_resumes_at_the_next_message() {
    let c = ctx(4840);
    let mut d = OpcuaDissector::default();
    let mut out = Emitter::default();
    let s = stream();
    let skip = hello("opc.tcp://plc:4840").len() + 5;
    d.on_gap(&c, Direction::ToServer, 5, &mut out);
    let used = d.on_stream(&c, Direction::ToServer, &s[skip..], &mut out);
    assert_eq!(used, s.len() - skip);
    let n: Vec<String> = out
        .events
        .iter()
        .map(|e| e.function_name.to_string())
        .collect();
    assert_eq!(n, vec!["read", "write", "close_secure_channel"]);
}

#[test]
fn bad_header_is_an_anomaly() {
    let c = ctx(4840);
    let mut d = OpcuaDissector::default();
    let mut out = Emitter::default();
    let mut m = b"XYZF\x10\x00\x00\x00".to_vec();
    m.extend_from_slice(&[0; 8]);
    m.extend(hello("opc.tcp://x"));
    let used = d.on_stream(&c, Direction::ToServer, &m, &mut out);
    assert_eq!(used, m.len());
    assert_eq!(out.anomalies.len(), 1);
    assert_eq!(out.events.len(), 1);
}

#[test]
fn probe_accepts_a_consistent_hello_on_any_port() {
    let f = OpcuaFactory;
    let h = hello("opc.tcp://plc:48010");
    assert_eq!(f.probe(&ctx(48010), Direction::ToServer, &h), 2);
    assert_eq!(f.probe(&ctx(4840), Direction::ToServer, &h), 3);
    let mut bad = h.clone();
    bad[8] = 1; // protocol version 1
    assert_eq!(f.probe(&ctx(48010), Direction::ToServer, &bad), 0);
    assert_eq!(
        f.probe(&ctx(48010), Direction::ToServer, b"HELF\xff\xff\xff\x7f"),
        0
    );
    assert!(parser::parse_header(b"MSGC\x18\x00\x00\x00").is_ok());
    assert!(parser::parse_header(b"HELC\x20\x00\x00\x00").is_err());
}
