//! Beckhoff ADS dissector: command families, invoke-id pairing, error codes, identity, AMS/TCP framing.

mod stream_util;
use dissect::ads::{AdsDissector, AdsFactory};
use dissect::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, IdentityField, Observation, OpClass,
    Status, Transport,
};
use stream_util::{assert_split_invariant, ctx};

const PLC: [u8; 6] = [5, 13, 117, 96, 1, 1];
const HMI: [u8; 6] = [192, 168, 1, 99, 1, 1];

fn ams(command: u16, response: bool, invoke: u32, error: u32, data: &[u8]) -> Vec<u8> {
    let (target, tport, source, sport) = if response {
        (HMI, 33000u16, PLC, 851u16)
    } else {
        (PLC, 851, HMI, 33000)
    };
    let mut m = vec![0, 0];
    m.extend_from_slice(&(32 + data.len() as u32).to_le_bytes());
    m.extend_from_slice(&target);
    m.extend_from_slice(&tport.to_le_bytes());
    m.extend_from_slice(&source);
    m.extend_from_slice(&sport.to_le_bytes());
    m.extend_from_slice(&command.to_le_bytes());
    m.extend_from_slice(&(if response { 5u16 } else { 4 }).to_le_bytes());
    m.extend_from_slice(&(data.len() as u32).to_le_bytes());
    m.extend_from_slice(&error.to_le_bytes());
    m.extend_from_slice(&invoke.to_le_bytes());
    m.extend_from_slice(data);
    m
}

fn le(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn run(stream_to_server: &[u8], stream_to_client: &[u8]) -> Emitter {
    let c = ctx(Transport::Tcp, 48898);
    let mut d = AdsDissector::new();
    let mut out = Emitter::default();
    assert_eq!(
        d.on_stream(&c, Direction::ToServer, stream_to_server, &mut out),
        stream_to_server.len()
    );
    assert_eq!(
        d.on_stream(&c, Direction::ToClient, stream_to_client, &mut out),
        stream_to_client.len()
    );
    out
}

#[test]
fn read_request_and_response_share_the_index_group_target_and_value() {
    let out = run(
        &ams(2, false, 7, 0, &le(&[0x4020, 16, 2])),
        &ams(2, true, 7, 0, &[le(&[0, 2]), vec![0x34, 0x12]].concat()),
    );
    let [req, rsp] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (req.op, &*req.function_name, req.unit),
        (OpClass::Read, "read", Some(851))
    );
    assert_eq!(
        (
            &*req.targets[0].space,
            req.targets[0].start,
            req.targets[0].count
        ),
        ("ig16416", 16, 2)
    );
    assert!(rsp.is_response);
    assert_eq!(rsp.status, Status::Ok);
    assert_eq!(rsp.targets, req.targets);
    assert_eq!(rsp.values[0].value, 4660.0);
    assert_eq!(rsp.unit, Some(851));
}

#[test]
fn write_control_to_stop_is_control_with_the_ads_state() {
    let out = run(
        &ams(5, false, 8, 0, &[6, 0, 0, 0, 0, 0, 0, 0]),
        &ams(5, true, 8, 0, &le(&[0])),
    );
    assert_eq!(out.events[0].op, OpClass::Control);
    assert_eq!(&*out.events[0].function_name, "write_control");
    assert!(out.events[0]
        .attrs
        .contains(&("ads_state", Attr::Text("stop".into()))));
    assert_eq!(out.events[1].status, Status::Ok);
}

#[test]
fn an_ads_error_result_is_an_exception() {
    let out = run(
        &ams(3, false, 9, 0, &[le(&[0x4020, 0, 2]), vec![1, 0]].concat()),
        &ams(3, true, 9, 0, &le(&[0x702])),
    );
    assert_eq!(out.events[0].values[0].value, 1.0, "the written value");
    assert_eq!(
        out.events[1].status,
        Status::Exception {
            code: 0x702,
            name: "invalid_index_group".into()
        }
    );
    // An AMS-level error (target port not found) wins over the data.
    let out = run(
        &ams(2, false, 10, 0, &le(&[1, 2, 3])),
        &ams(2, true, 10, 6, &[]),
    );
    assert_eq!(
        out.events[1].status,
        Status::Exception {
            code: 6,
            name: "target_port_not_found".into()
        }
    );
}

#[test]
fn read_device_info_response_gives_name_and_version() {
    let mut info = le(&[0]);
    info.extend_from_slice(&[3, 1, 0x34, 0x10]);
    info.extend_from_slice(b"Plc30 App\0garbag");
    let out = run(&ams(1, false, 11, 0, &[]), &ams(1, true, 11, 0, &info));
    assert_eq!(out.events[0].op, OpClass::Identify);
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
            (IdentityField::Vendor, "Beckhoff"),
            (IdentityField::Product, "Plc30 App"),
            (IdentityField::Firmware, "3.1.4148")
        ]
    );
}

#[test]
fn symbol_lookup_read_write_is_a_read_with_the_symbol_name() {
    let name = b"MAIN.bStart\0";
    let mut d = le(&[0xF003, 0, 4, name.len() as u32]);
    d.extend_from_slice(name);
    let out = run(&ams(9, false, 12, 0, &d), &[]);
    assert_eq!(out.events[0].op, OpClass::Read);
    assert!(out.events[0]
        .attrs
        .contains(&("symbol", Attr::Text("MAIN.bStart".into()))));
}

#[test]
fn a_write_control_split_at_every_offset_is_still_seen() {
    let c = ctx(Transport::Tcp, 48898);
    let mut stream = ams(5, false, 1, 0, &[2, 0, 0, 0, 0, 0, 0, 0]);
    stream.extend(ams(2, false, 2, 0, &le(&[0x4020, 0, 4])));
    let (events, _) = assert_split_invariant(
        &|| Box::new(AdsDissector::new()),
        &c,
        Direction::ToServer,
        &stream,
    );
    let names: Vec<&str> = events.iter().map(|e| &*e.function_name).collect();
    assert_eq!(names, ["write_control", "read"]);
    assert!(events[0]
        .attrs
        .contains(&("ads_state", Attr::Text("reset".into()))));
}

#[test]
fn after_a_gap_the_next_consistent_record_is_found() {
    let c = ctx(Transport::Tcp, 48898);
    let mut d = AdsDissector::new();
    let mut out = Emitter::default();
    d.on_gap(&c, Direction::ToServer, 100, &mut out);
    let mut stream = vec![0x55; 7];
    stream.extend(ams(5, false, 1, 0, &[6, 0, 0, 0, 0, 0, 0, 0]));
    let n = d.on_stream(&c, Direction::ToServer, &stream, &mut out);
    assert_eq!(n, stream.len());
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].op, OpClass::Control);
}

#[test]
fn probe_recognises_ams_on_any_tcp_port_and_rejects_text() {
    let f = AdsFactory;
    let m = ams(2, false, 1, 0, &le(&[1, 2, 3]));
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 48898), Direction::ToServer, &m),
        3
    );
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 1234), Direction::ToServer, &m),
        2
    );
    assert_eq!(
        f.probe(
            &ctx(Transport::Tcp, 1234),
            Direction::ToServer,
            b"SSH-2.0-OpenSSH_9.6 and some more bytes here!"
        ),
        0
    );
}
