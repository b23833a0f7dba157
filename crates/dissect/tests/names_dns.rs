//! DNS, mDNS and LLMNR on synthetic messages: name compression and its caps, truncation,
//! TCP framing across segments, reverse names, selection.

use dissect::dns::parser::{self, DnsError, RData, RecordType};
use dissect::dns::{DnsDissector, Flavor};
use dissect::{
    Direction, Dissector, Emitter, FlowContext, NameSource, Observation, Registry, Transport,
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

/// Encodes a dotted name without compression.
fn name(dotted: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in dotted.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        out.extend_from_slice(&c.to_be_bytes());
    }
    out
}

fn rr(owner: &[u8], rtype: u16, rdata: &[u8]) -> Vec<u8> {
    let mut out = owner.to_vec();
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&300u32.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
    out
}

/// A response to `plc1.plant.example A?` with a CNAME, two A records (owner compressed
/// to the CNAME target) and an AAAA in the additional section.
fn response() -> Vec<u8> {
    let mut m = header(0x1234, 0x8180, [1, 3, 0, 1]);
    // Question name at offset 12.
    m.extend(name("plc1.plant.example"));
    m.extend_from_slice(&[0, 1, 0, 1]);
    // CNAME plc1.plant.example -> ctrl.plant.example; owner is a pointer to 12.
    let cname_rdata_at = m.len() + 2 + 10;
    let mut target = vec![4];
    target.extend_from_slice(b"ctrl");
    target.extend_from_slice(&[0xc0, 12 + 5]); // ".plant.example" of the question
    m.extend(rr(&[0xc0, 12], 5, &target));
    let target_ptr = [0xc0, cname_rdata_at as u8];
    m.extend(rr(&target_ptr, 1, &[10, 1, 2, 3]));
    m.extend(rr(&target_ptr, 1, &[10, 1, 2, 4]));
    m.extend(rr(
        &target_ptr,
        28,
        &[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    ));
    m
}

fn names(out: &Emitter) -> Vec<(String, String, NameSource)> {
    out.observations
        .iter()
        .map(|o| match o {
            Observation::Hostname {
                ip, name, source, ..
            } => (
                name.clone(),
                ip.map(|i| i.to_string()).unwrap_or_default(),
                *source,
            ),
            Observation::Identity { .. } => unreachable!("name dissectors announce no identities"),
        })
        .collect()
}

fn feed_udp(flavor: Flavor, data: &[u8]) -> Emitter {
    let mut d = DnsDissector::new(flavor);
    let mut out = Emitter::default();
    d.on_datagram(
        &ctx(Transport::Udp, 40000, 53),
        Direction::ToClient,
        data,
        &mut out,
    );
    out
}

#[test]
fn response_with_compressed_cname_target_names_its_addresses() {
    let out = feed_udp(Flavor::Dns, &response());
    assert_eq!(
        names(&out),
        vec![
            (
                "ctrl.plant.example".into(),
                "10.1.2.3".into(),
                NameSource::Dns
            ),
            (
                "ctrl.plant.example".into(),
                "10.1.2.4".into(),
                NameSource::Dns
            ),
            (
                "ctrl.plant.example".into(),
                "fe80::1".into(),
                NameSource::Dns
            ),
        ]
    );
    assert!(out.anomalies.is_empty());
}

#[test]
fn parsed_message_exposes_questions_and_typed_records() {
    let data = response();
    let msg = parser::parse_message(&data).unwrap();
    assert!(msg.header.is_response());
    assert_eq!(msg.header.id, 0x1234);
    assert_eq!(msg.len(), data.len());
    let q: Vec<_> = msg.questions().collect();
    assert_eq!(q.len(), 1);
    let mut text = String::new();
    q[0].name.write_text(&mut text);
    assert_eq!(text, "plc1.plant.example");
    assert_eq!(q[0].qtype, RecordType::A);
    let types: Vec<_> = msg.records().map(|r| r.rtype).collect();
    assert_eq!(
        types,
        [
            RecordType::Cname,
            RecordType::A,
            RecordType::A,
            RecordType::Aaaa
        ]
    );
    let RData::Cname(target) = msg.records().next().unwrap().rdata else {
        panic!("first record is a CNAME");
    };
    text.clear();
    target.write_text(&mut text);
    assert_eq!(text, "ctrl.plant.example");
    assert_eq!(RecordType::from(999), RecordType::Unknown(999));
    assert_eq!(u16::from(RecordType::Unknown(999)), 999);
    assert_eq!(RecordType::Unknown(999).to_string(), "unknown-999");
}

#[test]
fn mdns_and_llmnr_report_multicast_source() {
    for flavor in [Flavor::Mdns, Flavor::Llmnr] {
        let out = feed_udp(flavor, &response());
        assert_eq!(out.observations.len(), 3);
        assert!(names(&out)
            .iter()
            .all(|(_, _, s)| *s == NameSource::Multicast));
    }
}

#[test]
fn query_with_records_gives_no_names() {
    let mut data = response();
    data[2] &= 0x7f; // clear QR
    let out = feed_udp(Flavor::Dns, &data);
    assert!(out.observations.is_empty());
    assert!(out.anomalies.is_empty());
    // The query itself is a look-up event, without answers.
    assert_eq!(out.events.len(), 1);
    assert!(!out.events[0].is_response);
    assert!(out.events[0].attrs.iter().all(|(k, _)| *k != "answers"));
}

#[test]
fn reverse_ptr_answers_name_the_encoded_address() {
    let mut m = header(1, 0x8180, [1, 2, 0, 0]);
    m.extend(name("4.3.2.10.in-addr.arpa"));
    m.extend_from_slice(&[0, 12, 0, 1]);
    m.extend(rr(&[0xc0, 12], 12, &name("hmi-2.plant")));
    let v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.E.F.ip6.arpa";
    m.extend(rr(&name(v6), 12, &name("hmi-2.plant")));
    let out = feed_udp(Flavor::Dns, &m);
    assert_eq!(
        names(&out),
        vec![
            ("hmi-2.plant".into(), "10.2.3.4".into(), NameSource::Dns),
            ("hmi-2.plant".into(), "fe80::1".into(), NameSource::Dns),
        ]
    );
}

#[test]
fn partial_reverse_zone_ptr_is_not_an_address() {
    let data = name("2.10.in-addr.arpa");
    let n = parser::Name::new(&data, 0);
    assert_eq!(parser::reverse_name_ip(&n), None);
    let data = name("300.3.2.10.in-addr.arpa");
    assert_eq!(parser::reverse_name_ip(&parser::Name::new(&data, 0)), None);
    let data = name("4.3.2.10.IN-ADDR.ARPA");
    assert_eq!(
        parser::reverse_name_ip(&parser::Name::new(&data, 0)),
        Some(IpAddr::V4(Ipv4Addr::new(10, 2, 3, 4)))
    );
}

#[test]
fn compression_pointer_to_itself_is_a_loop() {
    let mut m = header(1, 0x8180, [1, 0, 0, 0]);
    m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(
        parser::parse_message(&m).unwrap_err(),
        DnsError::PointerLoop { target: 12 }
    );
    let out = feed_udp(Flavor::Dns, &m);
    assert_eq!(out.anomalies.len(), 1);
    assert!(
        out.anomalies[0].1.contains("does not point backwards"),
        "{:?}",
        out.anomalies
    );
}

#[test]
fn two_names_pointing_at_each_other_are_a_loop() {
    // Question name at 12: "a" then a pointer to 20; record owner at 20: "b" then a
    // pointer back to 12. Following either name would cycle.
    let mut m = header(1, 0x8180, [1, 0, 0, 0]);
    m.extend_from_slice(&[1, b'a', 0xc0, 20, 0, 1, 0, 1]);
    m.extend_from_slice(&[1, b'b', 0xc0, 12]);
    assert!(matches!(
        parser::parse_message(&m),
        Err(DnsError::PointerLoop { .. })
    ));
    let mut labels = parser::Name::new(&m, 20).labels();
    // The walk terminates: "b", "a", then the pointer to 20 is refused.
    assert_eq!(labels.next_label(), Ok(Some(&b"b"[..])));
    assert_eq!(labels.next_label(), Ok(Some(&b"a"[..])));
    assert_eq!(
        labels.next_label(),
        Err(DnsError::PointerLoop { target: 20 })
    );
    assert_eq!(labels.next_label(), Ok(None));
}

#[test]
fn compression_pointer_beyond_end_is_rejected() {
    let mut m = header(1, 0x8180, [1, 0, 0, 0]);
    m.extend_from_slice(&[0xc1, 0x00, 0, 1, 0, 1]);
    assert_eq!(
        parser::parse_message(&m).unwrap_err(),
        DnsError::PointerOutOfRange { target: 0x100 }
    );
}

#[test]
fn long_pointer_chain_hits_the_hop_cap() {
    // Offsets 12, 14, 16 ...: a root name, then pointers each to the previous one.
    let mut m = header(1, 0x8180, [1, 0, 0, 0]);
    m.extend_from_slice(&[0, 0]);
    for i in 0..parser::MAX_POINTER_HOPS + 1 {
        let target = 12 + 2 * i;
        m.extend_from_slice(&[0xc0 | (target >> 8) as u8, target as u8]);
    }
    let last = m.len() - 2;
    assert_eq!(
        parser::Name::new(&m, last).validate(),
        Err(DnsError::TooManyPointers)
    );
    // One hop fewer is fine.
    assert!(parser::Name::new(&m, last - 2).validate().is_ok());
}

#[test]
fn label_length_above_63_is_rejected() {
    let mut m = header(1, 0x8180, [1, 0, 0, 0]);
    m.push(64);
    m.extend_from_slice(&[b'x'; 64]);
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    assert_eq!(
        parser::parse_message(&m).unwrap_err(),
        DnsError::LabelTooLong(64)
    );
}

#[test]
fn name_longer_than_255_bytes_is_rejected() {
    let long = ["abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"; 4].join(".");
    let mut m = header(1, 0x8180, [1, 0, 0, 0]);
    m.extend(name(&long));
    m.extend_from_slice(&[0, 1, 0, 1]);
    assert_eq!(
        parser::parse_message(&m).unwrap_err(),
        DnsError::NameTooLong
    );
    // 3 labels of 63 fit.
    let ok = ["abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"; 3].join(".");
    let mut m = header(1, 0x8180, [1, 0, 0, 0]);
    m.extend(name(&ok));
    m.extend_from_slice(&[0, 1, 0, 1]);
    assert!(parser::parse_message(&m).is_ok());
}

#[test]
fn a_record_with_wrong_length_is_an_anomaly() {
    let mut m = header(1, 0x8180, [0, 1, 0, 0]);
    m.extend(rr(&name("x"), 1, &[10, 0, 0]));
    assert_eq!(
        parser::parse_message(&m).unwrap_err(),
        DnsError::BadRdataLength {
            rtype: RecordType::A,
            len: 3
        }
    );
    let out = feed_udp(Flavor::Dns, &m);
    assert_eq!(out.anomalies.len(), 1);
    assert!(out.observations.is_empty());
}

#[test]
fn truncated_at_every_offset_never_panics_and_is_reported() {
    let data = response();
    for cut in 0..data.len() {
        let prefix = &data[..cut];
        assert!(
            parser::parse_message(prefix).is_err(),
            "prefix of {cut} bytes parsed"
        );
        let out = feed_udp(Flavor::Dns, prefix);
        assert!(out.observations.is_empty());
        assert_eq!(out.anomalies.len(), 1, "cut at {cut}");
    }
}

#[test]
fn unknown_types_are_skipped_by_rdlength() {
    let mut m = header(1, 0x8400, [0, 2, 0, 0]);
    m.extend(rr(&name("plc.local"), 16, b"\x05hello"));
    m.extend(rr(&name("plc.local"), 1, &[192, 168, 0, 5]));
    let out = feed_udp(Flavor::Mdns, &m);
    assert_eq!(
        names(&out),
        vec![(
            "plc.local".into(),
            "192.168.0.5".into(),
            NameSource::Multicast
        )]
    );
}

#[test]
fn unprintable_label_bytes_are_escaped() {
    let mut m = header(1, 0x8400, [0, 1, 0, 0]);
    m.extend(rr(&[4, b'a', 0x07, b'.', b'b', 0], 1, &[192, 168, 0, 5]));
    let out = feed_udp(Flavor::Mdns, &m);
    assert_eq!(names(&out)[0].0, "a\\007\\.b");
}

// TCP framing.

fn framed(msg: &[u8]) -> Vec<u8> {
    let mut out = (msg.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(msg);
    out
}

/// Plays the stream layer: appends each chunk to what the dissector left, removes what it
/// consumed.
fn feed_stream(d: &mut DnsDissector, chunks: &[&[u8]], out: &mut Emitter) -> Vec<u8> {
    let c = ctx(Transport::Tcp, 40000, 53);
    let mut buf = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        let n = d.on_stream(&c, Direction::ToClient, &buf, out);
        assert!(n <= buf.len());
        buf.drain(..n);
    }
    buf
}

#[test]
fn two_messages_in_one_segment() {
    let mut seg = framed(&response());
    seg.extend(framed(&response()));
    let mut d = DnsDissector::new(Flavor::Dns);
    let mut out = Emitter::default();
    let left = feed_stream(&mut d, &[&seg], &mut out);
    assert!(left.is_empty());
    assert_eq!(out.observations.len(), 6);
    assert!(out.anomalies.is_empty());
}

#[test]
fn one_message_split_across_two_segments() {
    let seg = framed(&response());
    let mut d = DnsDissector::new(Flavor::Dns);
    let mut out = Emitter::default();
    let c = ctx(Transport::Tcp, 40000, 53);
    assert_eq!(
        d.on_stream(&c, Direction::ToClient, &seg[..20], &mut out),
        0
    );
    assert!(out.is_empty());
    assert_eq!(
        d.on_stream(&c, Direction::ToClient, &seg, &mut out),
        seg.len()
    );
    assert_eq!(out.observations.len(), 3);
}

#[test]
fn tcp_message_split_at_every_byte_offset_gives_the_same_names_as_whole() {
    let mut stream = framed(&response());
    stream.extend(framed(&response()));
    let mut whole = Emitter::default();
    feed_stream(&mut DnsDissector::new(Flavor::Dns), &[&stream], &mut whole);
    assert_eq!(whole.observations.len(), 6);
    for cut in 0..=stream.len() {
        let mut out = Emitter::default();
        let left = feed_stream(
            &mut DnsDissector::new(Flavor::Dns),
            &[&stream[..cut], &stream[cut..]],
            &mut out,
        );
        assert!(left.is_empty(), "cut {cut}");
        assert_eq!(out.observations, whole.observations, "cut {cut}");
        assert!(out.anomalies.is_empty(), "cut {cut}");
    }
    // Byte by byte.
    let chunks: Vec<&[u8]> = stream.chunks(1).collect();
    let mut out = Emitter::default();
    feed_stream(&mut DnsDissector::new(Flavor::Dns), &chunks, &mut out);
    assert_eq!(out.observations, whole.observations);
}

#[test]
fn after_a_gap_the_stream_resynchronises_on_the_next_message() {
    let full = framed(&response());
    let mut d = DnsDissector::new(Flavor::Dns);
    let mut out = Emitter::default();
    let c = ctx(Transport::Tcp, 40000, 53);
    // The tail of a message whose start was lost, then a whole message.
    d.on_gap(&c, Direction::ToClient, 30, &mut out);
    let mut data = full[30..].to_vec();
    data.extend_from_slice(&full);
    let left = feed_stream(&mut d, &[&data], &mut out);
    assert!(left.is_empty());
    assert_eq!(out.observations.len(), 3);
}

#[test]
fn garbage_length_prefix_is_an_anomaly_and_the_stream_recovers() {
    let mut data = vec![0, 3, 0xde, 0xad, 0xbe];
    data.extend(framed(&response()));
    let mut d = DnsDissector::new(Flavor::Dns);
    let mut out = Emitter::default();
    let left = feed_stream(&mut d, &[&data], &mut out);
    assert!(left.is_empty());
    assert_eq!(out.anomalies.len(), 1);
    assert!(out.anomalies[0].1.contains("TCP length prefix 3"));
    assert_eq!(out.observations.len(), 3);
}

#[test]
fn tcp_frame_parser_reports_incomplete_and_complete() {
    assert_eq!(
        parser::parse_tcp_frame(&[0]),
        Ok(parser::Frame::Incomplete { needed: 1 })
    );
    assert_eq!(
        parser::parse_tcp_frame(&[0, 12, 1]),
        Ok(parser::Frame::Incomplete { needed: 11 })
    );
    let f = framed(&response());
    assert!(matches!(
        parser::parse_tcp_frame(&f),
        Ok(parser::Frame::Complete { consumed, .. }) if consumed == f.len()
    ));
    assert_eq!(
        parser::parse_tcp_frame(&[0, 11]),
        Err(DnsError::TcpLengthTooShort(11))
    );
}

// Selection.

fn query() -> Vec<u8> {
    let mut m = header(7, 0x0100, [1, 0, 0, 0]);
    m.extend(name("historian.plant"));
    m.extend_from_slice(&[0, 1, 0, 1]);
    m
}

#[test]
fn dns_is_selected_by_port_and_by_content() {
    let reg = Registry::builtin();
    let pick =
        |c: &FlowContext, data: &[u8]| reg.select(c, Direction::ToServer, data).map(|d| d.name());
    assert_eq!(pick(&ctx(Transport::Udp, 40000, 53), &query()), Some("dns"));
    assert_eq!(
        pick(&ctx(Transport::Udp, 40000, 5353), &query()),
        Some("mdns")
    );
    assert_eq!(
        pick(&ctx(Transport::Udp, 40000, 5355), &query()),
        Some("llmnr")
    );
    // Content alone, on an odd port.
    assert_eq!(
        pick(&ctx(Transport::Udp, 40000, 10053), &query()),
        Some("dns")
    );
    assert_eq!(
        pick(&ctx(Transport::Tcp, 40000, 10053), &framed(&query())),
        Some("dns")
    );
    // First segment holding only part of the message: the header decides.
    assert_eq!(
        pick(&ctx(Transport::Tcp, 40000, 10053), &framed(&query())[..16]),
        Some("dns")
    );
    // Not DNS on an odd port: nothing.
    assert_eq!(
        pick(
            &ctx(Transport::Udp, 40000, 10053),
            b"GET / HTTP/1.1\r\n\r\n"
        ),
        None
    );
}

#[test]
fn dns_factory_confidence_levels() {
    use dissect::DissectorFactory;
    let f = dissect::dns::DnsFactory::dns();
    assert_eq!(
        f.probe(
            &ctx(Transport::Udp, 40000, 53),
            Direction::ToServer,
            &query()
        ),
        3
    );
    assert_eq!(
        f.probe(
            &ctx(Transport::Udp, 40000, 9999),
            Direction::ToServer,
            &query()
        ),
        2
    );
    assert_eq!(
        f.probe(
            &ctx(Transport::Udp, 40000, 53),
            Direction::ToServer,
            b"junk"
        ),
        1
    );
    assert_eq!(
        f.probe(
            &ctx(Transport::Udp, 40000, 9999),
            Direction::ToServer,
            b"junk"
        ),
        0
    );
    // 17 questions is not plausible.
    let mut many = query();
    many[5] = 17;
    assert_eq!(
        f.probe(
            &ctx(Transport::Udp, 40000, 9999),
            Direction::ToServer,
            &many
        ),
        0
    );
    let mdns = dissect::dns::DnsFactory::mdns();
    assert_eq!(
        mdns.probe(
            &ctx(Transport::Udp, 40000, 9999),
            Direction::ToServer,
            &query()
        ),
        0
    );
}

#[test]
fn pseudo_random_input_never_panics() {
    // A fixed linear congruential generator: reproducible, no dependency.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u8
    };
    let base = response();
    for _ in 0..20_000 {
        let mut data = base.clone();
        for _ in 0..(next() % 8) {
            let i = usize::from(next()) % data.len();
            data[i] = next();
        }
        let out = feed_udp(Flavor::Dns, &data);
        assert!(out.observations.len() + out.anomalies.len() <= 4);
        let mut d = DnsDissector::new(Flavor::Dns);
        let mut out = Emitter::default();
        feed_stream(
            &mut d,
            &[&data[..data.len() / 2], &data[data.len() / 2..]],
            &mut out,
        );
    }
}
