//! NetBIOS name service on synthetic messages: first-level encoding, which messages and
//! names count as host names, malformed messages, selection by content.

use dissect::nbns::parser::{self, NbnsError, NetbiosName};
use dissect::nbns::NbnsDissector;
use dissect::{
    Direction, Dissector, Emitter, FlowContext, NameSource, Observation, Registry, Transport,
};
use std::net::{IpAddr, Ipv4Addr};

fn ctx(client_port: u16, server_port: u16) -> FlowContext {
    FlowContext {
        transport: Transport::Udp,
        vlan: None,
        client_ip: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 150)),
        client_port,
        client_mac: None,
        server_ip: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 255)),
        server_port,
        server_mac: None,
        ts: records::Timestamp(0),
    }
}

/// First-level encoding of `name` padded with spaces, then `suffix`, as a DNS name.
fn encoded(name: &str, suffix: u8) -> Vec<u8> {
    let mut raw = [b' '; 16];
    raw[..name.len()].copy_from_slice(name.as_bytes());
    raw[15] = suffix;
    let mut out = vec![32];
    for b in raw {
        out.push(b'A' + (b >> 4));
        out.push(b'A' + (b & 0x0f));
    }
    out.push(0);
    out
}

/// A registration request (opcode 5): question and an additional NB record (owner
/// compressed to the question name).
fn registration(name: &str, suffix: u8, nb_flags: u16, addr: [u8; 4]) -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1];
    m.extend(encoded(name, suffix));
    m.extend_from_slice(&[0, 0x20, 0, 1]);
    m.extend_from_slice(&[0xc0, 12, 0, 0x20, 0, 1, 0, 0x04, 0x93, 0xe0, 0, 6]);
    m.extend_from_slice(&nb_flags.to_be_bytes());
    m.extend_from_slice(&addr);
    m
}

/// A positive query response (opcode 0, RCODE 0) with one answer.
fn query_response(name: &str, rcode: u8, addr: [u8; 4]) -> Vec<u8> {
    let mut m = vec![0x80, 0x01, 0x85, rcode, 0, 0, 0, 1, 0, 0, 0, 0];
    m.extend(encoded(name, 0));
    m.extend_from_slice(&[0, 0x20, 0, 1, 0, 0, 0, 0, 0, 6, 0x60, 0]);
    m.extend_from_slice(&addr);
    m
}

fn feed(data: &[u8]) -> Emitter {
    let mut out = Emitter::default();
    NbnsDissector::default().on_datagram(&ctx(137, 137), Direction::ToServer, data, &mut out);
    out
}

fn names(out: &Emitter) -> Vec<(String, String)> {
    out.observations
        .iter()
        .map(|o| match o {
            Observation::Hostname {
                ip, name, source, ..
            } => {
                assert_eq!(*source, NameSource::Netbios);
                (name.clone(), ip.map(|i| i.to_string()).unwrap_or_default())
            }
            Observation::Identity { .. } => unreachable!("name dissectors announce no identities"),
        })
        .collect()
}

#[test]
fn first_level_encoding_decodes_name_and_suffix() {
    let e = encoded("DESKTOP-M5C7L14", 0x20);
    let n = NetbiosName::decode(&e[1..33]).unwrap();
    assert_eq!(n.name(), b"DESKTOP-M5C7L14");
    assert_eq!(n.suffix, 0x20);
    let e = encoded("PLC", 0x00);
    let n = NetbiosName::decode(&e[1..33]).unwrap();
    assert_eq!(n.name(), b"PLC");
    assert_eq!(n.suffix, 0);
    assert_eq!(
        NetbiosName::decode(b"short"),
        Err(NbnsError::BadEncodedName)
    );
    let mut bad = e[1..33].to_vec();
    bad[3] = b'Z';
    assert_eq!(NetbiosName::decode(&bad), Err(NbnsError::BadEncodedName));
}

#[test]
fn registration_of_unique_workstation_name_gives_host_name() {
    let data = registration("ENG-WS-07", 0x00, 0x6000, [192, 168, 1, 150]);
    let msg = parser::parse_message(&data).unwrap();
    assert_eq!(msg.opcode(), parser::Opcode::Registration);
    let rec = msg.records().next().unwrap();
    assert_eq!(rec.section, dissect::dns::parser::Section::Additional);
    let entries: Vec<_> = rec.nb_entries().collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0.node_type(), 3);
    assert_eq!(
        names(&feed(&data)),
        vec![("ENG-WS-07".into(), "192.168.1.150".into())]
    );
}

#[test]
fn refresh_and_server_suffix_count_too() {
    let mut data = registration("HMI1", 0x20, 0x0000, [10, 0, 0, 5]);
    data[2] = 0x40; // opcode 8, refresh
    assert_eq!(
        names(&feed(&data)),
        vec![("HMI1".into(), "10.0.0.5".into())]
    );
}

#[test]
fn group_names_and_other_suffixes_are_not_host_names() {
    assert!(feed(&registration("WORKGROUP", 0x00, 0x8000, [10, 0, 0, 5])).is_empty());
    // <03> messenger names are often user names.
    assert!(feed(&registration("OPERATOR", 0x03, 0x0000, [10, 0, 0, 5])).is_empty());
    assert!(feed(&registration("PLANT", 0x1c, 0x0000, [10, 0, 0, 5])).is_empty());
}

#[test]
fn queries_and_negative_responses_give_nothing() {
    let mut q = vec![0x80, 0x02, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0];
    q.extend(encoded("WPAD", 0));
    q.extend_from_slice(&[0, 0x20, 0, 1]);
    assert!(feed(&q).is_empty());
    assert!(feed(&query_response("GONE", 3, [10, 0, 0, 5])).is_empty());
}

#[test]
fn positive_query_response_gives_host_name() {
    assert_eq!(
        names(&feed(&query_response("CX_0D7560", 0, [192, 168, 1, 8]))),
        vec![("CX_0D7560".into(), "192.168.1.8".into())]
    );
}

#[test]
fn malformed_messages_are_anomalies() {
    // NB data not a multiple of 6.
    let mut data = registration("PLC", 0, 0, [10, 0, 0, 1]);
    let n = data.len();
    data[n - 7] = 5;
    data.pop();
    assert_eq!(
        parser::parse_message(&data).unwrap_err(),
        NbnsError::BadNbLength(5)
    );
    // A first label that is not the encoding.
    let mut bad = registration("PLC", 0, 0, [10, 0, 0, 1]);
    bad[12] = 3;
    let out = feed(&bad);
    assert!(out.observations.is_empty());
    assert_eq!(out.anomalies.len(), 1);
    // A compression loop.
    let mut looped = registration("PLC", 0, 0, [10, 0, 0, 1]);
    let at = 12 + 34 + 4;
    looped[at + 1] = at as u8;
    assert!(matches!(
        parser::parse_message(&looped),
        Err(NbnsError::Name(_))
    ));
}

#[test]
fn truncated_at_every_offset_never_panics() {
    let data = registration("ENG-WS-07", 0x00, 0x6000, [192, 168, 1, 150]);
    for cut in 0..data.len() {
        let out = feed(&data[..cut]);
        assert!(out.observations.is_empty(), "cut {cut}");
        assert_eq!(out.anomalies.len(), 1, "cut {cut}");
    }
}

#[test]
fn nbns_is_selected_on_its_port_and_by_content_elsewhere() {
    let reg = Registry::builtin();
    let data = registration("ENG-WS-07", 0x00, 0x6000, [192, 168, 1, 150]);
    let pick = |c: &FlowContext| reg.select(c, Direction::ToServer, &data).map(|d| d.name());
    assert_eq!(pick(&ctx(137, 137)), Some("nbns"));
    // On an odd port NBNS also looks like DNS; the NetBIOS name decides.
    assert_eq!(pick(&ctx(40000, 1137)), Some("nbns"));
}

/// A node status response from the node itself: name table then unit id.
fn node_status(names: &[(&str, u8, u16)], unit_id: [u8; 6]) -> Vec<u8> {
    let mut m = vec![0x0a, 0x34, 0x84, 0x00, 0, 0, 0, 1, 0, 0, 0, 0];
    m.extend(encoded("*", 0));
    let mut rdata = vec![names.len() as u8];
    for (name, suffix, flags) in names {
        let mut raw = [b' '; 15];
        raw[..name.len()].copy_from_slice(name.as_bytes());
        rdata.extend_from_slice(&raw);
        rdata.push(*suffix);
        rdata.extend_from_slice(&flags.to_be_bytes());
    }
    rdata.extend_from_slice(&unit_id);
    rdata.extend_from_slice(&[0; 40]);
    m.extend_from_slice(&[0, 0x21, 0, 1, 0, 0, 0, 0]);
    m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    m.extend(rdata);
    m
}

#[test]
fn node_status_response_names_the_responder_with_its_unit_id() {
    let data = node_status(
        &[
            ("PLC-HMI", 0x00, 0x0400),
            ("PLANT", 0x00, 0x8400),
            ("PLC-HMI", 0x20, 0x0400),
            ("OPERATOR", 0x03, 0x0400),
        ],
        [0x00, 0x1b, 0x1b, 0xaa, 0xbb, 0xcc],
    );
    let msg = parser::parse_message(&data).unwrap();
    let rec = msg.records().next().unwrap();
    assert_eq!(rec.node_names().count(), 4);
    assert_eq!(
        rec.unit_id().map(|m| m.to_string()).as_deref(),
        Some("00:1b:1b:aa:bb:cc")
    );
    let mut out = Emitter::default();
    // The response travels from the node (the server side of the flow) to the asker.
    NbnsDissector::default().on_datagram(&ctx(137, 137), Direction::ToClient, &data, &mut out);
    assert_eq!(
        names(&out),
        vec![
            ("PLC-HMI".into(), "192.168.1.255".into()),
            ("PLC-HMI".into(), "192.168.1.255".into())
        ]
    );
    assert!(out.observations.iter().all(|o| matches!(
        o,
        Observation::Hostname { mac: Some(m), .. } if m.to_string() == "00:1b:1b:aa:bb:cc"
    )));
}

#[test]
fn node_status_shorter_than_its_name_table_is_an_anomaly() {
    let mut data = node_status(&[("PLC-HMI", 0x00, 0x0400)], [0; 6]);
    data.truncate(data.len() - 46 - 10);
    let n = data.len();
    // Fix RDLENGTH to the shortened data so only the name table is short.
    let rdlen = (n - 12 - 34 - 10) as u16;
    data[12 + 34 + 8..12 + 34 + 10].copy_from_slice(&rdlen.to_be_bytes());
    assert!(matches!(
        parser::parse_message(&data),
        Err(NbnsError::BadNodeStatusLength(_))
    ));
}
