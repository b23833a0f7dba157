//! IEEE C37.118 dissector: commands, configuration frames, data-stream counting, CRC, TCP framing.

mod stream_util;
use dissect::c37118::parser::crc_ccitt;
use dissect::c37118::{C37118Dissector, C37118Factory};
use dissect::{Attr, Direction, Dissector, DissectorFactory, Emitter, OpClass, Status, Transport};
use stream_util::{assert_split_invariant, ctx};

fn frame(frame_type: u8, idcode: u16, body: &[u8]) -> Vec<u8> {
    let size = 14 + body.len() + 2;
    let mut f = vec![0xAA, frame_type << 4 | 1];
    f.extend_from_slice(&(size as u16).to_be_bytes());
    f.extend_from_slice(&idcode.to_be_bytes());
    f.extend_from_slice(&1_500_000_000u32.to_be_bytes());
    f.extend_from_slice(&0u32.to_be_bytes());
    f.extend_from_slice(body);
    let crc = crc_ccitt(&f);
    f.extend_from_slice(&crc.to_be_bytes());
    f
}

fn config2(stations: &[(&str, u16)]) -> Vec<u8> {
    let mut b = 1_000_000u32.to_be_bytes().to_vec();
    b.extend_from_slice(&(stations.len() as u16).to_be_bytes());
    for (name, id) in stations {
        let mut n = name.as_bytes().to_vec();
        n.resize(16, b' ');
        b.extend(n);
        b.extend_from_slice(&id.to_be_bytes());
        b.extend_from_slice(&[0, 0]); // format
        b.extend_from_slice(&[0, 1, 0, 0, 0, 0]); // one phasor, no analog, no digital
        b.extend_from_slice(b"VA              "); // channel name
        b.extend_from_slice(&[0, 0, 0, 1]); // phasor unit
        b.extend_from_slice(&[0, 0, 0, 1]); // nominal frequency, configuration count
    }
    b.extend_from_slice(&30i16.to_be_bytes());
    b
}

#[test]
fn commands_turn_transmission_on_and_off_as_control_and_ask_for_config_as_read() {
    let c = ctx(Transport::Tcp, 4712);
    let mut d = C37118Dissector::new();
    let mut out = Emitter::default();
    let mut s = frame(4, 7, &[0, 5]);
    s.extend(frame(4, 7, &[0, 2]));
    s.extend(frame(4, 7, &[0, 1]));
    assert_eq!(d.on_stream(&c, Direction::ToServer, &s, &mut out), s.len());
    let got: Vec<(&str, OpClass, Option<u32>)> = out
        .events
        .iter()
        .map(|e| (&*e.function_name, e.op, e.unit))
        .collect();
    assert_eq!(
        got,
        [
            ("send_config2", OpClass::Read, Some(7)),
            ("turn_on_transmission", OpClass::Control, Some(7)),
            ("turn_off_transmission", OpClass::Control, Some(7))
        ]
    );
}

#[test]
fn configuration_frame_names_its_stations() {
    let c = ctx(Transport::Tcp, 4712);
    let mut d = C37118Dissector::new();
    let mut out = Emitter::default();
    let f = frame(3, 7, &config2(&[("SUB A PMU", 1), ("SUB B PMU", 2)]));
    d.on_stream(&c, Direction::ToClient, &f, &mut out);
    let e = &out.events[0];
    assert_eq!(
        (&*e.function_name, e.is_response, &e.status),
        ("config2", true, &Status::Ok)
    );
    assert!(e.attrs.contains(&(
        "stations",
        Attr::List(vec!["SUB A PMU".into(), "SUB B PMU".into()])
    )));
    assert!(e.attrs.contains(&("data_rate", Attr::Int(30))));
    assert!(e.attrs.contains(&("phasors", Attr::UInt(2))));
}

#[test]
fn data_frames_are_counted_with_one_event_per_stream_start() {
    let c = ctx(Transport::Udp, 4713);
    let mut d = C37118Dissector::new();
    let mut out = Emitter::default();
    for _ in 0..50 {
        d.on_datagram(&c, Direction::ToClient, &frame(0, 7, &[0; 20]), &mut out);
    }
    d.on_datagram(&c, Direction::ToServer, &frame(4, 7, &[0, 1]), &mut out);
    for _ in 0..5 {
        d.on_datagram(&c, Direction::ToClient, &frame(0, 7, &[0; 20]), &mut out);
    }
    let got: Vec<&str> = out.events.iter().map(|e| &*e.function_name).collect();
    assert_eq!(got, ["data", "turn_off_transmission", "data"]);
    assert_eq!(d.data_frames, [0, 55]);
}

#[test]
fn a_bad_check_word_is_an_anomaly_not_an_event() {
    let c = ctx(Transport::Udp, 4713);
    let mut d = C37118Dissector::new();
    let mut out = Emitter::default();
    let mut f = frame(4, 7, &[0, 2]);
    let last = f.len() - 1;
    f[last] ^= 0xFF;
    d.on_datagram(&c, Direction::ToServer, &f, &mut out);
    assert!(out.events.is_empty());
    assert_eq!(out.anomalies.len(), 1);
}

#[test]
fn a_turn_off_split_at_every_offset_is_still_seen() {
    let c = ctx(Transport::Tcp, 4712);
    let mut s = frame(4, 9, &[0, 1]);
    s.extend(frame(4, 9, &[0, 3]));
    let (events, _) = assert_split_invariant(
        &|| Box::new(C37118Dissector::new()),
        &c,
        Direction::ToServer,
        &s,
    );
    let got: Vec<&str> = events.iter().map(|e| &*e.function_name).collect();
    assert_eq!(got, ["turn_off_transmission", "send_header"]);
}

#[test]
fn probe_trusts_a_frame_with_a_correct_check_word_on_any_port() {
    let f = C37118Factory;
    let good = frame(4, 1, &[0, 2]);
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 4712), Direction::ToServer, &good),
        3
    );
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 4000), Direction::ToServer, &good),
        2
    );
    let mut bad = good.clone();
    bad[15] ^= 1;
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 4000), Direction::ToServer, &bad),
        0
    );
}
