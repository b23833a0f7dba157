//! DHCP and DHCPv6 on synthetic messages: options kept in the typed message, the address
//! chosen for a name, option overload, FQDN encodings, malformed options, relays.

use dissect::dhcp::{v4, v6, DhcpDissector, Dhcpv6Dissector};
use dissect::{
    Direction, Dissector, DissectorFactory, Emitter, FlowContext, Observation, Registry, Transport,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wire::MacAddr;

const MAC: [u8; 6] = [0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56];

fn ctx(client: IpAddr, client_port: u16, server: IpAddr, server_port: u16) -> FlowContext {
    FlowContext {
        transport: Transport::Udp,
        vlan: None,
        client_ip: client,
        client_port,
        client_mac: Some(MacAddr(MAC)),
        server_ip: server,
        server_port,
        server_mac: None,
        ts: records::Timestamp(0),
    }
}

fn v4ctx() -> FlowContext {
    ctx(
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        68,
        IpAddr::V4(Ipv4Addr::BROADCAST),
        67,
    )
}

/// A BOOTP request with the given address fields and option bytes (END appended).
fn bootp(op: u8, ciaddr: [u8; 4], yiaddr: [u8; 4], options: &[u8]) -> Vec<u8> {
    let mut m = vec![op, 1, 6, 0];
    m.extend_from_slice(&0xdead_beefu32.to_be_bytes());
    m.extend_from_slice(&[0, 3, 0x80, 0]);
    m.extend_from_slice(&ciaddr);
    m.extend_from_slice(&yiaddr);
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(&MAC);
    m.extend_from_slice(&[0; 10 + 64 + 128]);
    m.extend_from_slice(&v4::MAGIC_COOKIE.to_be_bytes());
    m.extend_from_slice(options);
    m.push(255);
    m
}

fn opt(code: u8, value: &[u8]) -> Vec<u8> {
    let mut o = vec![code, value.len() as u8];
    o.extend_from_slice(value);
    o
}

fn request_options(name: &str) -> Vec<u8> {
    [
        opt(53, &[3]),
        opt(61, &[1, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56]),
        opt(50, &[10, 20, 0, 15]),
        opt(12, name.as_bytes()),
        opt(60, b"MSFT 5.0"),
        opt(
            55,
            &[1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252],
        ),
    ]
    .concat()
}

fn triples(out: &Emitter) -> Vec<(Option<String>, Option<String>, String)> {
    out.observations
        .iter()
        .filter_map(|o| match o {
            Observation::Hostname { ip, mac, name, .. } => Some((
                mac.map(|m| m.to_string()),
                ip.map(|i| i.to_string()),
                name.clone(),
            )),
            Observation::Identity { .. } => None,
        })
        .collect()
}

/// The DHCP vendor classes announced: (MAC, address, class).
fn vendor_classes(out: &Emitter) -> Vec<(Option<String>, Option<String>, String)> {
    out.observations
        .iter()
        .filter_map(|o| match o {
            Observation::Identity {
                ip,
                mac,
                field: dissect::IdentityField::VendorClass,
                value,
                source: "dhcp",
            } => Some((
                mac.map(|m| m.to_string()),
                ip.map(|i| i.to_string()),
                value.clone(),
            )),
            _ => None,
        })
        .collect()
}

/// The DHCP client identifiers announced: (MAC, address, id).
fn client_ids(out: &Emitter) -> Vec<(Option<String>, Option<String>, String)> {
    out.observations
        .iter()
        .filter_map(|o| match o {
            Observation::Identity {
                ip,
                mac,
                field: dissect::IdentityField::DhcpClientId,
                value,
                ..
            } => Some((
                mac.map(|m| m.to_string()),
                ip.map(|i| i.to_string()),
                value.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn client_identifiers_are_identities_duids_written_alone() {
    // Type 1 (hardware address): the whole option.
    let out = feed_v4(&bootp(1, [0; 4], [0; 4], &request_options("eng-ws-07")));
    assert_eq!(
        client_ids(&out),
        vec![(
            Some("00:1b:1b:12:34:56".into()),
            Some("10.20.0.15".into()),
            "01:00:1b:1b:12:34:56".into()
        )]
    );
    // Type 255 (RFC 4361): the IAID (per interface) is left out, the DUID kept.
    let mut id = vec![255, 0x6c, 0x3b, 0x9a, 0x01];
    id.extend(duid_llt());
    let discover = [opt(53, &[1]), opt(61, &id)].concat();
    let out = feed_v4(&bootp(1, [0; 4], [0; 4], &discover));
    let duid = "duid 00:01:00:01:2a:2b:2c:2d:00:1b:1b:12:34:56";
    assert_eq!(
        client_ids(&out),
        vec![(Some("00:1b:1b:12:34:56".into()), None, duid.into())]
    );
    // DHCPv6: the same DUID reads the same, with the IA address when there is one.
    let out = feed_v6(&solicit(
        b"\x04plc9\x00",
        Some("2001:db8::15".parse().unwrap()),
    ));
    assert_eq!(
        client_ids(&out),
        vec![(
            Some("00:1b:1b:12:34:56".into()),
            Some("2001:db8::15".into()),
            duid.into()
        )]
    );
    // A server's copy of the option, a bare type byte and an empty DUID name nobody.
    let ack = [opt(53, &[5]), opt(61, &id)].concat();
    assert!(client_ids(&feed_v4(&bootp(2, [0; 4], [10, 20, 0, 15], &ack))).is_empty());
    for id in [&[1][..], &[255, 1, 2, 3, 4]] {
        let out = feed_v4(&bootp(1, [0; 4], [0; 4], &opt(61, id)));
        assert!(client_ids(&out).is_empty(), "{id:?}");
    }
}

#[test]
fn client_vendor_class_is_an_identity_of_the_client_mac() {
    let out = feed_v4(&bootp(1, [0; 4], [0; 4], &request_options("eng-ws-07")));
    assert_eq!(
        vendor_classes(&out),
        vec![(
            Some("00:1b:1b:12:34:56".into()),
            Some("10.20.0.15".into()),
            "MSFT 5.0".into()
        )]
    );
    // A class without a host name still counts (routers often send no name).
    let discover = [opt(53, &[1]), opt(60, b"ciscopnp")].concat();
    let out = feed_v4(&bootp(1, [0; 4], [0; 4], &discover));
    assert_eq!(
        vendor_classes(&out),
        vec![(Some("00:1b:1b:12:34:56".into()), None, "ciscopnp".into())]
    );
    assert!(triples(&out).is_empty());
    // A server's option 60 names the server, not the client.
    let offer = [opt(53, &[2]), opt(60, b"dnsmasq")].concat();
    let out = feed_v4(&bootp(2, [0; 4], [10, 20, 0, 15], &offer));
    assert!(vendor_classes(&out).is_empty());
}

fn feed_v4(data: &[u8]) -> Emitter {
    let mut out = Emitter::default();
    DhcpDissector::default().on_datagram(&v4ctx(), Direction::ToServer, data, &mut out);
    out
}

#[test]
fn request_keeps_typed_options_and_names_the_requested_address() {
    let data = bootp(1, [0; 4], [0; 4], &request_options("eng-ws-07"));
    let msg = v4::parse(&data).unwrap();
    assert_eq!(msg.op, v4::BootpOp::Request);
    assert_eq!(msg.xid, 0xdead_beef);
    assert_eq!(msg.flags, 0x8000);
    assert_eq!(msg.client_mac(), Some(MacAddr(MAC)));
    assert_eq!(msg.options.message_type, Some(v4::MessageType::Request));
    assert_eq!(v4::MessageType::Request.to_string(), "request");
    assert_eq!(v4::MessageType::from(77).to_string(), "unknown-77");
    assert_eq!(u8::from(v4::MessageType::from(77)), 77);
    assert_eq!(msg.options.host_name, Some(&b"eng-ws-07"[..]));
    assert_eq!(msg.options.requested_ip, Some(Ipv4Addr::new(10, 20, 0, 15)));
    assert_eq!(msg.options.vendor_class, Some(&b"MSFT 5.0"[..]));
    assert_eq!(
        msg.options.parameter_request_list,
        Some(&[1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252][..])
    );
    assert_eq!(
        msg.options.client_id,
        Some(&[1, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56][..])
    );
    assert_eq!(msg.options.count, 6);
    assert_eq!(msg.option_error, None);
    let out = feed_v4(&data);
    assert_eq!(
        triples(&out),
        vec![(
            Some("00:1b:1b:12:34:56".into()),
            Some("10.20.0.15".into()),
            "eng-ws-07".into()
        )]
    );
    assert!(out.anomalies.is_empty());
}

#[test]
fn yiaddr_wins_over_ciaddr_and_requested_address() {
    let data = bootp(
        2,
        [10, 0, 0, 9],
        [10, 0, 0, 7],
        &[opt(53, &[5]), opt(12, b"rtu-3"), opt(50, &[10, 0, 0, 8])].concat(),
    );
    assert_eq!(triples(&feed_v4(&data))[0].1.as_deref(), Some("10.0.0.7"));
    let data = bootp(
        1,
        [10, 0, 0, 9],
        [0; 4],
        &[opt(53, &[8]), opt(12, b"rtu-3")].concat(),
    );
    assert_eq!(triples(&feed_v4(&data))[0].1.as_deref(), Some("10.0.0.9"));
}

#[test]
fn decline_names_no_address() {
    let data = bootp(
        1,
        [0; 4],
        [0; 4],
        &[opt(53, &[4]), opt(12, b"rtu-3"), opt(50, &[10, 0, 0, 8])].concat(),
    );
    assert_eq!(
        triples(&feed_v4(&data)),
        vec![(Some("00:1b:1b:12:34:56".into()), None, "rtu-3".into())]
    );
}

#[test]
fn host_name_with_trailing_nul_is_trimmed() {
    let data = bootp(1, [0; 4], [0; 4], &opt(12, b"plc-12\0"));
    assert_eq!(triples(&feed_v4(&data))[0].2, "plc-12");
}

#[test]
fn client_fqdn_in_wire_and_ascii_form() {
    // E bit set: DNS wire format.
    let mut wire = vec![0x05, 0, 0];
    wire.extend_from_slice(b"\x06hmi-01\x05plant\x05local\x00");
    let data = bootp(1, [0; 4], [0; 4], &opt(81, &wire));
    let msg = v4::parse(&data).unwrap();
    assert_eq!(msg.options.client_fqdn.unwrap().flags, 0x05);
    assert_eq!(triples(&feed_v4(&data))[0].2, "hmi-01.plant.local");
    // E bit clear: ASCII.
    let mut ascii = vec![0x01, 0, 0];
    ascii.extend_from_slice(b"hmi-02.plant.local");
    let data = bootp(1, [0; 4], [0; 4], &opt(81, &ascii));
    assert_eq!(triples(&feed_v4(&data))[0].2, "hmi-02.plant.local");
    // Both a host name and an FQDN: two names.
    let data = bootp(
        1,
        [0; 4],
        [0; 4],
        &[opt(12, b"hmi-01"), opt(81, &wire)].concat(),
    );
    assert_eq!(feed_v4(&data).observations.len(), 2);
}

#[test]
fn malformed_wire_fqdn_is_an_anomaly() {
    let data = bootp(1, [0; 4], [0; 4], &opt(81, &[0x04, 0, 0, 9, b'a']));
    let out = feed_v4(&data);
    assert!(out.observations.is_empty());
    assert_eq!(out.anomalies.len(), 1);
}

#[test]
fn options_in_overloaded_file_field_are_read() {
    let mut data = bootp(1, [0; 4], [0; 4], &opt(52, &[1]));
    // The file field starts at 108.
    let hn = opt(12, b"in-file");
    data[108..108 + hn.len()].copy_from_slice(&hn);
    data[108 + hn.len()] = 255;
    let msg = v4::parse(&data).unwrap();
    assert_eq!(msg.options.overload, 1);
    assert_eq!(msg.options.host_name, Some(&b"in-file"[..]));
}

#[test]
fn truncated_option_keeps_earlier_options_and_reports() {
    let mut data = bootp(1, [0; 4], [0; 4], &opt(12, b"kept"));
    data.pop(); // END
    data.extend_from_slice(&[60, 40, b'x']);
    let msg = v4::parse(&data).unwrap();
    assert_eq!(
        msg.option_error,
        Some(v4::DhcpError::OptionTruncated { code: 60 })
    );
    let out = feed_v4(&data);
    assert_eq!(triples(&out)[0].2, "kept");
    assert_eq!(out.anomalies.len(), 1);
}

#[test]
fn bad_option_lengths_are_errors() {
    let data = bootp(1, [0; 4], [0; 4], &opt(50, &[10, 0, 0]));
    assert_eq!(
        v4::parse(&data).unwrap().option_error,
        Some(v4::DhcpError::BadOptionLength { code: 50, len: 3 })
    );
    let data = bootp(1, [0; 4], [0; 4], &opt(53, &[]));
    assert!(v4::parse(&data).unwrap().option_error.is_some());
}

#[test]
fn bootp_without_magic_cookie_is_rejected() {
    let mut data = bootp(1, [0; 4], [0; 4], &opt(12, b"x"));
    data[236] = 0;
    assert_eq!(
        v4::parse(&data).unwrap_err(),
        v4::DhcpError::BadMagic(0x0082_5363)
    );
    assert_eq!(feed_v4(&data).anomalies.len(), 1);
}

#[test]
fn truncated_at_every_offset_never_panics() {
    let data = bootp(1, [0; 4], [0; 4], &request_options("eng-ws-07"));
    for cut in 0..data.len() {
        let out = feed_v4(&data[..cut]);
        if cut < v4::FIXED_LEN {
            assert_eq!(out.anomalies.len(), 1, "cut {cut}");
        }
        // At most the host name, the vendor class and the client identifier.
        assert!(out.observations.len() <= 3);
    }
}

#[test]
fn dhcp_is_selected_by_port_and_by_magic_cookie() {
    let reg = Registry::builtin();
    let data = bootp(1, [0; 4], [0; 4], &request_options("x"));
    let pick = |c: &FlowContext, d: &[u8]| reg.select(c, Direction::ToServer, d).map(|d| d.name());
    assert_eq!(pick(&v4ctx(), &data), Some("dhcp"));
    let odd = ctx(
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        5000,
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        6000,
    );
    assert_eq!(pick(&odd, &data), Some("dhcp"));
    assert_eq!(
        dissect::dhcp::DhcpFactory.probe(&v4ctx(), Direction::ToServer, b"nope"),
        1
    );
    assert_eq!(
        dissect::dhcp::DhcpFactory.probe(&odd, Direction::ToServer, b"nope"),
        0
    );
}

// DHCPv6.

fn v6opt(code: u16, value: &[u8]) -> Vec<u8> {
    let mut o = code.to_be_bytes().to_vec();
    o.extend_from_slice(&(value.len() as u16).to_be_bytes());
    o.extend_from_slice(value);
    o
}

fn duid_llt() -> Vec<u8> {
    let mut d = vec![0, 1, 0, 1, 0x2a, 0x2b, 0x2c, 0x2d];
    d.extend_from_slice(&MAC);
    d
}

fn solicit(fqdn: &[u8], ia_addr: Option<Ipv6Addr>) -> Vec<u8> {
    let mut m = vec![1, 0xab, 0xcd, 0xef];
    m.extend(v6opt(1, &duid_llt()));
    m.extend(v6opt(6, &[0, 23, 0, 24, 0, 39]));
    m.extend(v6opt(
        16,
        &[
            0, 0, 1, 0x37, 0, 8, b'M', b'S', b'F', b'T', b' ', b'5', b'.', b'0',
        ],
    ));
    let mut f = vec![0x01];
    f.extend_from_slice(fqdn);
    m.extend(v6opt(39, &f));
    if let Some(a) = ia_addr {
        let mut iaaddr = a.octets().to_vec();
        iaaddr.extend_from_slice(&[0; 8]);
        let mut ia = vec![0; 12];
        ia.extend(v6opt(5, &iaaddr));
        m.extend(v6opt(3, &ia));
    }
    m
}

fn v6ctx() -> FlowContext {
    ctx(
        IpAddr::V6("fe80::21b:1bff:fe12:3456".parse().unwrap()),
        546,
        IpAddr::V6("ff02::1:2".parse().unwrap()),
        547,
    )
}

fn feed_v6(data: &[u8]) -> Emitter {
    let mut out = Emitter::default();
    Dhcpv6Dissector::default().on_datagram(&v6ctx(), Direction::ToServer, data, &mut out);
    out
}

#[test]
fn dhcpv6_solicit_fqdn_names_sender_and_duid_mac() {
    let data = solicit(b"\x0aeng-ws-07a", None);
    let msg = v6::parse(&data).unwrap();
    assert_eq!(msg.msg_type, v6::MessageType::Solicit);
    assert_eq!(msg.transaction_id, 0xabcdef);
    assert_eq!(msg.options.option_request, Some(&[0, 23, 0, 24, 0, 39][..]));
    assert!(msg.options.vendor_class.is_some());
    assert_eq!(
        v6::duid_mac(msg.options.client_id.unwrap()),
        Some(MacAddr(MAC))
    );
    assert_eq!(
        triples(&feed_v6(&data)),
        vec![(
            Some("00:1b:1b:12:34:56".into()),
            Some("fe80::21b:1bff:fe12:3456".into()),
            "eng-ws-07a".into()
        )]
    );
}

#[test]
fn dhcpv6_ia_address_wins_over_sender() {
    let a: Ipv6Addr = "2001:db8::15".parse().unwrap();
    let data = solicit(b"\x04plc9\x05plant\x00", Some(a));
    assert_eq!(v6::parse(&data).unwrap().options.ia_address, Some(a));
    assert_eq!(
        triples(&feed_v6(&data)),
        vec![(
            Some("00:1b:1b:12:34:56".into()),
            Some("2001:db8::15".into()),
            "plc9.plant".into()
        )]
    );
}

#[test]
fn dhcpv6_relayed_message_is_unwrapped_without_sender_address() {
    let inner = solicit(b"\x04plc9", None);
    let mut relay = vec![12, 0];
    relay.extend_from_slice(&[0; 32]);
    relay.extend(v6opt(9, &inner));
    let msg = v6::parse(&relay).unwrap();
    assert_eq!(msg.relay_depth, 1);
    assert_eq!(
        triples(&feed_v6(&relay)),
        vec![(Some("00:1b:1b:12:34:56".into()), None, "plc9".into())]
    );
    // Nested deeper than the cap.
    let mut msg = inner;
    for _ in 0..=v6::MAX_RELAY_DEPTH {
        let mut r = vec![12, 0];
        r.extend_from_slice(&[0; 32]);
        r.extend(v6opt(9, &msg));
        msg = r;
    }
    assert_eq!(v6::parse(&msg).unwrap_err(), v6::Dhcpv6Error::BadRelay);
    assert_eq!(feed_v6(&msg).anomalies.len(), 1);
}

#[test]
fn dhcpv6_truncated_at_every_offset_never_panics() {
    let data = solicit(
        b"\x04plc9\x05plant\x00",
        Some("2001:db8::15".parse().unwrap()),
    );
    for cut in 0..data.len() {
        let out = feed_v6(&data[..cut]);
        // At most the client identifier, and the name or an anomaly.
        assert!(
            out.observations.len() + out.anomalies.len() <= 2,
            "cut {cut}"
        );
    }
}

#[test]
fn dhcpv6_is_selected_by_port() {
    let reg = Registry::builtin();
    let data = solicit(b"\x04plc9", None);
    assert_eq!(
        reg.select(&v6ctx(), Direction::ToServer, &data)
            .map(|d| d.name()),
        Some("dhcpv6")
    );
}
