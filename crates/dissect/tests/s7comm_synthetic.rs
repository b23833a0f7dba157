//! S7comm, S7comm-plus and the TPKT/COTP layer on synthetic and captured messages:
//! every function family, pairing, identity, reassembly, resynchronisation, selection, and
//! the same events whatever the TCP segmentation.

use dissect::s7comm::{IsoTransportDissector, IsoTransportFactory, Upper};
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
        client_port: 49152,
        client_mac: None,
        server_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        server_port,
        server_mac: None,
        ts: records::Timestamp(0),
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// TPKT + COTP DT (EOT) around `payload`.
fn dt(payload: &[u8]) -> Vec<u8> {
    dt_eot(payload, true)
}

fn dt_eot(payload: &[u8], eot: bool) -> Vec<u8> {
    let len = 7 + payload.len();
    let mut v = vec![
        3,
        0,
        (len >> 8) as u8,
        len as u8,
        2,
        0xf0,
        if eot { 0x80 } else { 0 },
    ];
    v.extend_from_slice(payload);
    v
}

/// A connection request to rack 0 slot 2 with TSAPs 0100 → 0102.
fn cr() -> Vec<u8> {
    hex("0300001611e00000000100c0010ac1020100c2020102")
}

fn cc() -> Vec<u8> {
    hex("0300001611d00001000100c0010ac1020100c2020102")
}

/// S7 job header.
fn job(pdu_ref: u16, param: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0x32, 1, 0, 0];
    v.extend_from_slice(&pdu_ref.to_be_bytes());
    v.extend_from_slice(&(param.len() as u16).to_be_bytes());
    v.extend_from_slice(&(data.len() as u16).to_be_bytes());
    v.extend_from_slice(param);
    v.extend_from_slice(data);
    v
}

fn ack_data(pdu_ref: u16, error: [u8; 2], param: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0x32, 3, 0, 0];
    v.extend_from_slice(&pdu_ref.to_be_bytes());
    v.extend_from_slice(&(param.len() as u16).to_be_bytes());
    v.extend_from_slice(&(data.len() as u16).to_be_bytes());
    v.extend_from_slice(&error);
    v.extend_from_slice(param);
    v.extend_from_slice(data);
    v
}

/// Feeds a stream in the given chunks, keeping unconsumed bytes as the sensor does.
fn feed(d: &mut dyn Dissector, dir: Direction, chunks: &[&[u8]], out: &mut Emitter) {
    let c = ctx(102);
    let mut buf = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        let n = d.on_stream(&c, dir, &buf, out);
        assert!(n <= buf.len());
        buf.drain(..n);
    }
}

/// Runs a conversation (direction, bytes) through a fresh dissector, whole.
fn run(messages: &[(Direction, Vec<u8>)]) -> Emitter {
    let mut d = IsoTransportDissector::new();
    let mut out = Emitter::default();
    for (dir, bytes) in messages {
        feed(&mut d, *dir, &[bytes], &mut out);
    }
    out
}

fn events_of<'a>(out: &'a Emitter, protocol: &str) -> Vec<&'a Event> {
    out.events
        .iter()
        .filter(|e| e.protocol == protocol)
        .collect()
}

fn attr<'a>(e: &'a Event, name: &str) -> Option<&'a Attr> {
    e.attrs.iter().find(|(n, _)| *n == name).map(|(_, a)| a)
}

const S: Direction = Direction::ToServer;
const C: Direction = Direction::ToClient;

/// The PLC stop request and its acknowledgement from gymgit/s7-pcaps snap7_s300_stop.
fn plc_stop_conversation() -> Vec<(Direction, Vec<u8>)> {
    vec![
        (S, cr()),
        (C, cc()),
        (
            S,
            hex("0300002102f0803201000000020010000029000000000009505f50524f4752414d"),
        ),
        (C, hex("0300001402f08032030000000200010000000029")),
    ]
}

#[test]
fn plc_stop_is_a_control_request_with_its_acknowledgement() {
    let out = run(&plc_stop_conversation());
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let s7 = events_of(&out, "s7comm");
    assert_eq!(s7.len(), 2);
    assert_eq!((s7[0].function, &*s7[0].function_name), (0x29, "plc_stop"));
    assert_eq!(s7[0].op, OpClass::Control);
    assert!(!s7[0].is_response);
    assert_eq!(
        attr(s7[0], "service"),
        Some(&Attr::Text("P_PROGRAM".into()))
    );
    // Rack 0, slot 2 from the called TSAP 0102.
    assert_eq!(s7[0].unit, Some(2));
    assert!(s7[1].is_response);
    assert_eq!(s7[1].function_name, "plc_stop");
    assert_eq!(s7[1].status, Status::Ok);
    let cotp = events_of(&out, "cotp");
    assert_eq!(cotp.len(), 2);
    assert_eq!(cotp[0].function_name, "connect_request");
    assert_eq!(attr(cotp[0], "slot"), Some(&Attr::UInt(2)));
    assert_eq!(
        attr(cotp[0], "called_tsap"),
        Some(&Attr::Text("0102".into()))
    );
}

#[test]
fn plc_stop_split_at_every_offset_gives_the_same_events() {
    let conv = plc_stop_conversation();
    let whole = run(&conv);
    for (i, (dir, bytes)) in conv.iter().enumerate() {
        for cut in 1..bytes.len() {
            let mut d = IsoTransportDissector::new();
            let mut out = Emitter::default();
            for (j, (dj, bj)) in conv.iter().enumerate() {
                if i == j {
                    feed(&mut d, *dir, &[&bj[..cut], &bj[cut..]], &mut out);
                } else {
                    feed(&mut d, *dj, &[bj], &mut out);
                }
            }
            assert_eq!(out.events, whole.events, "message {i} split at {cut}");
            assert!(out.anomalies.is_empty());
        }
    }
    // Byte by byte, and everything in one segment per direction.
    let mut d = IsoTransportDissector::new();
    let mut out = Emitter::default();
    for (dir, bytes) in &conv {
        let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
        feed(&mut d, *dir, &chunks, &mut out);
    }
    assert_eq!(out.events, whole.events);
}

#[test]
fn two_pdus_in_one_segment() {
    let mut both = dt(&job(1, &hex("f0000001000103c0"), &[]));
    both.extend(dt(&job(2, &hex("29000000000009505f50524f4752414d"), &[])));
    let out = run(&[(S, cr()), (S, both)]);
    let names: Vec<_> = out
        .events
        .iter()
        .map(|e| e.function_name.to_string())
        .collect();
    assert_eq!(
        names,
        ["connect_request", "setup_communication", "plc_stop"]
    );
    assert_eq!(attr(&out.events[1], "pdu_size"), Some(&Attr::UInt(960)));
}

#[test]
fn read_var_targets_and_response_values_are_paired() {
    // Read DB1.DBB0, 4 bytes, and M10.0 as one bit.
    let param = hex("04021 20a10020004000184000000120a100100010000830000 50"
        .replace(' ', "")
        .as_str());
    let req = job(7, &param, &[]);
    let resp = ack_data(
        7,
        [0, 0],
        &hex("0402"),
        &hex("ff0400200a0b0c0dff030001 01".replace(' ', "").as_str()),
    );
    let out = run(&[(S, dt(&req)), (C, dt(&resp))]);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let [r, a] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(r.op, OpClass::Read);
    assert_eq!(r.targets.len(), 2);
    assert_eq!(
        (&*r.targets[0].space, r.targets[0].start, r.targets[0].count),
        ("db1", 0, 4)
    );
    assert_eq!(
        (&*r.targets[1].space, r.targets[1].start, r.targets[1].count),
        ("flags", 10, 1)
    );
    assert!(a.is_response);
    assert_eq!(a.status, Status::Ok);
    assert_eq!(a.targets, r.targets);
    let vals: Vec<_> = a
        .values
        .iter()
        .map(|v| (v.space.to_string(), v.address, v.value))
        .collect();
    assert_eq!(
        vals,
        [
            ("db1".into(), 0, 10.0),
            ("db1".into(), 1, 11.0),
            ("db1".into(), 2, 12.0),
            ("db1".into(), 3, 13.0),
            ("flags".into(), 10, 1.0)
        ]
    );
}

#[test]
fn read_var_item_error_is_an_exception() {
    // From snap7_s300_readVar: DB1 does not exist (return code 0x0a).
    let out = run(&[
        (
            S,
            hex("0300001f02f080320100000000000e00000401120a10020040000184000000"),
        ),
        (C, hex("0300001902f08032030000000000020004000004010a000000")),
    ]);
    assert_eq!(out.events[0].targets[0].space, "db1");
    assert_eq!(out.events[0].targets[0].count, 64);
    assert_eq!(
        out.events[1].status,
        Status::Exception {
            code: 10,
            name: "object_does_not_exist".into()
        }
    );
}

#[test]
fn write_var_carries_its_values() {
    // Write DB5.DBW4 = 1500 (one word) and Q0.1 = true.
    let param = hex("05021 20a10040001000584000020120a10010001000082000001"
        .replace(' ', "")
        .as_str());
    let data = hex("000400 1005dc0003000101".replace(' ', "").as_str());
    let out = run(&[
        (S, dt(&job(9, &param, &data))),
        (C, dt(&ack_data(9, [0, 0], &hex("0502"), &hex("ff0a")))),
    ]);
    let w = &out.events[0];
    assert_eq!(w.op, OpClass::Write);
    assert_eq!((&*w.targets[0].space, w.targets[0].start), ("db5", 4));
    assert_eq!((&*w.targets[1].space, w.targets[1].start), ("outputs", 0));
    let vals: Vec<_> = w
        .values
        .iter()
        .map(|v| (v.space.to_string(), v.address, v.value))
        .collect();
    assert_eq!(
        vals,
        [("db5".into(), 4, 1500.0), ("outputs".into(), 0, 1.0)]
    );
    assert_eq!(
        out.events[1].status,
        Status::Exception {
            code: 0x0a,
            name: "object_does_not_exist".into()
        }
    );
}

#[test]
fn block_download_and_upload_name_their_blocks() {
    let fname = b"_0A00100P";
    let mut p = hex("1a0000000000000009");
    p[8] = fname.len() as u8;
    p.extend_from_slice(fname);
    let mut up = hex("1d0000000000000009");
    up.extend_from_slice(b"_0800001A");
    let out = run(&[
        (S, dt(&job(1, &p, &[]))),
        (S, dt(&job(2, &up, &[]))),
        (S, dt(&job(3, &hex("1e0000000000000007"), &[]))),
    ]);
    let e: Vec<_> = out
        .events
        .iter()
        .map(|e| {
            (
                e.function_name.to_string(),
                e.op,
                e.targets[0].space.to_string(),
            )
        })
        .collect();
    assert_eq!(
        e,
        [
            (
                "request_download".into(),
                OpClass::Program,
                "block:DB100".into()
            ),
            ("start_upload".into(), OpClass::Program, "block:OB1".into()),
            ("upload".into(), OpClass::Program, "block:OB1".into()),
        ]
    );
}

fn pi(param_block: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = hex("28000000000000fd");
    p.extend_from_slice(&(param_block.len() as u16).to_be_bytes());
    p.extend_from_slice(param_block);
    p.push(name.len() as u8);
    p.extend_from_slice(name);
    p
}

#[test]
fn pi_services_by_name() {
    let mut dele = vec![1, 0];
    dele.extend_from_slice(b"0C00012P");
    let out = run(&[
        (S, dt(&job(1, &pi(&[], b"P_PROGRAM"), &[]))),
        (S, dt(&job(2, &pi(b"C ", b"P_PROGRAM"), &[]))),
        (S, dt(&job(3, &pi(&dele, b"_DELE"), &[]))),
        (S, dt(&job(4, &pi(&[], b"_GARB"), &[]))),
        (S, dt(&job(5, &pi(&[], b"_MODU"), &[]))),
    ]);
    let e: Vec<_> = out
        .events
        .iter()
        .map(|e| (e.function, e.function_name.to_string(), e.op))
        .collect();
    assert_eq!(
        e,
        [
            (0x28, "plc_hot_start".into(), OpClass::Control),
            (0x28, "plc_cold_start".into(), OpClass::Control),
            (0x28, "delete_block".into(), OpClass::Program),
            (0x28, "compress_memory".into(), OpClass::Program),
            (0x28, "copy_ram_to_rom".into(), OpClass::Program),
        ]
    );
    assert_eq!(out.events[2].targets[0].space, "block:FC12");
}

/// SZL reads from snap7_s300_everything (frames 3–8): module identification, then
/// component identification split into two data units.
#[test]
fn szl_identity_from_the_plc_with_data_unit_reassembly() {
    let out = run(&[
        (S, hex("0300002102f080320700000100000800080001120411440100ff09000400110000")),
        (C, hex("0300009902f080320700000100000c007c000112081284010200000000ff09007800110000001c0004000136455337203331352d32454831342d304142302000c000030001000636455337203331352d32454831342d304142302000c0000300010007202020202020202020202020202020202020202000c0560302070081426f6f74204c6f61646572202020202020202020000041200909")),
        (S, hex("0300002102f080320700000200000800080001120411440100ff090004001c0000")),
        (C, hex("030000f702f080320700000200000c00da0001120812840102d5010000ff0900d6001c00000022000a000153373330302f45543230304d2073746174696f6e5f31000000000000000000000002504c435f310000000000000000000000000000000000000000000000000000000003000000000000000000000000000000000000000000000000000000000000000000044f726967696e616c205369656d656e732045717569706d656e7400000000000000055320432d423155333933313432303131000000000000000000000000000000000007435055203331352d3220504e2f445000000000000000000000000000000000000008")),
        (S, hex("0300002102f080320700000300000c00040001120812440102000000000a000000")),
        (C, hex("030000a702f080320700000300000c008a0001120812840102d5000000ff0900864d4d4320344131414330313900000000000000000000000000000000000000000009002af60000010000000000000000000000000000000000000000000000000000000a0000000000000000000000000000000000000000000000000000000000000000000b0000000000000000000000000000000000000000000000000000000000000000")),
    ]);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let ids: Vec<_> = out
        .observations
        .iter()
        .map(|o| match o {
            Observation::Identity {
                ip, field, value, ..
            } => {
                assert_eq!(*ip, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
                (*field, value.clone())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        ids,
        [
            (IdentityField::Vendor, "Siemens".to_string()),
            (IdentityField::Model, "6ES7 315-2EH14-0AB0".to_string()),
            (IdentityField::Firmware, "V3.2.7".to_string()),
            (IdentityField::Serial, "S C-B1U393142011".to_string()),
            (IdentityField::Product, "CPU 315-2 PN/DP".to_string()),
        ]
    );
    let first = &out.events[0];
    assert_eq!(
        (first.function, &*first.function_name, first.op),
        (0x10401, "read_szl", OpClass::Identify)
    );
    assert_eq!(attr(first, "szl_id"), Some(&Attr::UInt(0x11)));
    let last = out.events.last().unwrap();
    assert_eq!(
        attr(last, "system_name"),
        Some(&Attr::Text("S7300/ET200M station_1".into()))
    );
    assert_eq!(attr(last, "module_name"), Some(&Attr::Text("PLC_1".into())));
    assert_eq!(attr(last, "reassembled"), Some(&Attr::Bool(true)));
}

#[test]
fn password_functions_are_session_events() {
    let set = {
        let mut v = vec![0x32, 7, 0, 0, 0, 5, 0, 8, 0, 12];
        v.extend_from_slice(&hex("0001120411450100"));
        v.extend_from_slice(&hex("ff0900080102030405060708"));
        v
    };
    let out = run(&[(S, dt(&set))]);
    let e = &out.events[0];
    assert_eq!(
        (&*e.function_name, e.op),
        ("plc_password", OpClass::Session)
    );
    assert_eq!(attr(e, "password"), Some(&Attr::Text("set".into())));
}

#[test]
fn header_error_class_is_the_status() {
    let out = run(&[
        (
            S,
            dt(&job(3, &hex("29000000000009505f50524f4752414d"), &[])),
        ),
        (C, dt(&ack_data(3, [0x85, 0x00], &hex("29"), &[]))),
    ]);
    assert_eq!(
        out.events[1].status,
        Status::Exception {
            code: 0x8500,
            name: "supplies".into()
        }
    );
}

#[test]
fn cotp_segments_are_reassembled_into_one_pdu() {
    let stop = job(4, &hex("29000000000009505f50524f4752414d"), &[]);
    let mut stream = dt_eot(&stop[..5], false);
    stream.extend(dt_eot(&stop[5..], true));
    let out = run(&[(S, stream)]);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].function_name, "plc_stop");
}

#[test]
fn garbage_then_gap_resynchronises_on_the_next_frame() {
    let mut d = IsoTransportDissector::new();
    let mut out = Emitter::default();
    let mut s = vec![9, 9, 9];
    s.extend(dt(&job(1, &hex("29000000000009505f50524f4752414d"), &[])));
    feed(&mut d, S, &[&s], &mut out);
    assert_eq!(out.anomalies.len(), 1);
    assert_eq!(out.events.len(), 1);
    d.on_gap(&ctx(102), S, 100, &mut out);
    let stop = dt(&job(2, &hex("29000000000009505f50524f4752414d"), &[]));
    let mut tail = stop[10..].to_vec();
    tail.extend(&stop);
    feed(&mut d, S, &[&tail], &mut out);
    assert_eq!(out.events.len(), 2);
    assert_eq!(attr(&out.events[1], "pdu_ref"), Some(&Attr::UInt(2)));
}

#[test]
fn too_many_open_requests_is_an_anomaly() {
    let mut msgs = Vec::new();
    for r in 0..70u16 {
        msgs.push((S, dt(&job(r, &hex("f0000001000103c0"), &[]))));
    }
    let out = run(&msgs);
    assert_eq!(out.anomalies.len(), 6);
}

#[test]
fn s7comm_plus_request_from_a_capture() {
    // icsnpp-s7comm s7comm_plus.pcap frame 7: V3 SetVariable with integrity digest.
    let out = run(&[
        (S, cr()),
        (S, hex("0300006802f0807203005920e969a95a852ab0e288480ccecb618e48779f4b68a1ce9a9c42cd6aa53680068331000004f20000831a70000e4d7470000e5101881d000700ce000004e88969001200000000896a001300896b000400000084eb270000000072030000")),
    ]);
    let e = events_of(&out, "s7comm-plus");
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0].function, &*e[0].function_name, e[0].op),
        (0x04f2, "set_variable", OpClass::Write)
    );
    assert_eq!(attr(e[0], "integrity"), Some(&Attr::Bool(true)));
    assert_eq!(attr(e[0], "version"), Some(&Attr::UInt(3)));
    assert_eq!(attr(e[0], "seq"), Some(&Attr::UInt(0x831a)));
    assert_eq!(attr(e[0], "object_id"), Some(&Attr::UInt(0x7000_0e51)));
}

#[test]
fn selection_by_port_and_strict_content() {
    let f = IsoTransportFactory;
    assert_eq!(f.probe(&ctx(102), S, &cr()), 3);
    assert_eq!(f.probe(&ctx(1102), S, &cr()), 2);
    // An RDP connection request (cookie, no TSAPs) on its own port is not ours.
    let rdp = hex(
        "0300002722e00000000000436f6f6b69653a206d737473686173683d75736572310d0a0100080003000000",
    );
    assert_eq!(f.probe(&ctx(3389), S, &rdp), 0);
    assert_eq!(f.probe(&ctx(1102), S, b"GET / HTTP/1.1\r\n"), 0);
    assert_eq!(f.probe(&ctx(102), S, b"GET / HTTP/1.1\r\n"), 1);
    let mut d = IsoTransportDissector::new();
    let mut out = Emitter::default();
    feed(
        &mut d,
        S,
        &[&cr(), &dt(&job(1, &hex("f0000001000103c0"), &[]))],
        &mut out,
    );
    assert_eq!(d.upper(), Upper::S7);
}
