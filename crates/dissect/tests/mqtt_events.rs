//! MQTT dissector: CONNECT without secrets, PUBLISH topics, SUBSCRIBE filters, acks, framing.

mod stream_util;
use dissect::mqtt::{MqttDissector, MqttFactory};
use dissect::{Attr, Direction, Dissector, DissectorFactory, Emitter, OpClass, Status, Transport};
use stream_util::{assert_split_invariant, ctx};

fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![first];
    let mut len = body.len();
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        p.push(b);
        if len == 0 {
            break;
        }
    }
    p.extend_from_slice(body);
    p
}

fn s(text: &str) -> Vec<u8> {
    let mut v = (text.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(text.as_bytes());
    v
}

fn connect() -> Vec<u8> {
    let mut b = s("MQTT");
    b.extend_from_slice(&[4, 0xC2, 0, 60]);
    b.extend(s("plc-gw-1"));
    b.extend(s("operator"));
    b.extend(s("hunter2"));
    packet(0x10, &b)
}

#[test]
fn connect_reports_client_and_flags_but_never_the_password() {
    let c = ctx(Transport::Tcp, 1883);
    let mut d = MqttDissector::new();
    let mut out = Emitter::default();
    d.on_stream(&c, Direction::ToServer, &connect(), &mut out);
    d.on_stream(&c, Direction::ToClient, &packet(0x20, &[0, 5]), &mut out);
    let e = &out.events[0];
    assert_eq!((e.op, &*e.function_name), (OpClass::Session, "connect"));
    for (k, v) in [
        ("client_id", Attr::Text("plc-gw-1".into())),
        ("protocol_level", Attr::UInt(4)),
        ("clean_session", Attr::Bool(true)),
        ("user_name_present", Attr::Bool(true)),
        ("password_present", Attr::Bool(true)),
    ] {
        assert!(e.attrs.contains(&(k, v.clone())), "{k}: {:?}", e.attrs);
    }
    let text = format!("{:?}", out.events);
    assert!(
        !text.contains("hunter2") && !text.contains("operator"),
        "no secrets in events"
    );
    assert_eq!(
        out.events[1].status,
        Status::Exception {
            code: 5,
            name: "not_authorized".into()
        }
    );
}

#[test]
fn publish_is_a_write_to_its_topic_and_subscribe_reads_its_filters() {
    let c = ctx(Transport::Tcp, 1883);
    let mut d = MqttDissector::new();
    let mut out = Emitter::default();
    let mut publ = s("plant/line1/setpoint");
    publ.extend_from_slice(&[0, 9]);
    publ.extend_from_slice(b"42.5");
    let mut sub = vec![0, 10];
    sub.extend(s("plant/+/alarm"));
    sub.push(1);
    sub.extend(s("plant/#"));
    sub.push(0);
    let mut stream = packet(0x32, &publ);
    stream.extend(packet(0x82, &sub));
    stream.extend(packet(0xC0, &[]));
    d.on_stream(&c, Direction::ToServer, &stream, &mut out);
    let got: Vec<(&str, OpClass)> = out
        .events
        .iter()
        .map(|e| (&*e.function_name, e.op))
        .collect();
    assert_eq!(
        got,
        [
            ("publish", OpClass::Write),
            ("subscribe", OpClass::Read),
            ("pingreq", OpClass::Session)
        ]
    );
    assert_eq!(
        &*out.events[0].targets[0].space,
        "topic:plant/line1/setpoint"
    );
    assert!(out.events[0]
        .attrs
        .contains(&("payload_len", Attr::UInt(4))));
    assert!(out.events[0].attrs.contains(&("qos", Attr::UInt(1))));
    let spaces: Vec<&str> = out.events[1].targets.iter().map(|t| &*t.space).collect();
    assert_eq!(spaces, ["topic:plant/+/alarm", "topic:plant/#"]);
}

#[test]
fn a_publish_split_at_every_offset_gives_the_same_events() {
    let c = ctx(Transport::Tcp, 1883);
    let mut stream = connect();
    let mut publ = s("a/b");
    publ.extend_from_slice(&[1; 200]);
    stream.extend(packet(0x30, &publ));
    stream.extend(packet(0xE0, &[]));
    let (events, _) = assert_split_invariant(
        &|| Box::new(MqttDissector::new()),
        &c,
        Direction::ToServer,
        &stream,
    );
    let got: Vec<&str> = events.iter().map(|e| &*e.function_name).collect();
    assert_eq!(got, ["connect", "publish", "disconnect"]);
}

#[test]
fn a_huge_publish_is_reported_from_its_prefix_and_the_payload_skipped() {
    let c = ctx(Transport::Tcp, 1883);
    let mut d = MqttDissector::new();
    let mut out = Emitter::default();
    let mut publ = s("big/blob");
    publ.extend(vec![7; 200_000]);
    let mut stream = packet(0x30, &publ);
    stream.extend(packet(0xC0, &[]));
    let mut buf = Vec::new();
    for chunk in stream.chunks(1460) {
        buf.extend_from_slice(chunk);
        let n = d.on_stream(&c, Direction::ToServer, &buf, &mut out);
        buf.drain(..n);
        assert!(buf.len() <= 72_000, "bounded buffering");
    }
    let got: Vec<&str> = out.events.iter().map(|e| &*e.function_name).collect();
    assert_eq!(got, ["publish", "pingreq"]);
    assert!(out.events[0]
        .attrs
        .contains(&("payload_len", Attr::UInt(200_000))));
}

#[test]
fn probe_wants_a_connect_with_the_mqtt_protocol_name() {
    let f = MqttFactory;
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 1883), Direction::ToServer, &connect()),
        3
    );
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 9999), Direction::ToServer, &connect()),
        2
    );
    assert_eq!(
        f.probe(
            &ctx(Transport::Tcp, 9999),
            Direction::ToServer,
            &[0x10, 4, 0, 2, b'H', b'I']
        ),
        0
    );
    assert_eq!(
        f.probe(&ctx(Transport::Udp, 1883), Direction::ToServer, &connect()),
        0
    );
}
