//! Decoder scenarios on frames synthesised with `wire::build`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use wire::build::{CdpBuilder, FrameBuilder, LldpBuilder};
use wire::{
    decode, decode_transport, decode_transport_checked, DecodeError, Fragment, Layer, LinkType,
    MacAddr, Network, TcpFlags, Transport,
};

const A: MacAddr = MacAddr([0x00, 0x1b, 0x1b, 0x00, 0x00, 0x01]);
const B: MacAddr = MacAddr([0x00, 0x0e, 0x8c, 0x00, 0x00, 0x02]);

fn v6(s: &str) -> Ipv6Addr {
    s.parse().expect("literal IPv6 address")
}

fn modbus_syn() -> FrameBuilder {
    FrameBuilder::new()
        .eth(A, B)
        .vlan(10)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
        .tcp(
            49152,
            502,
            1000,
            0,
            TcpFlags::SYN,
            b"\x00\x01\x00\x00\x00\x06\x01\x03",
        )
}

#[test]
fn ethernet_vlan_ipv4_tcp_fields() {
    let builder = modbus_syn();
    let frame = builder.build();
    let d = decode(LinkType::Ethernet, &frame);
    assert!(!d.truncated);
    assert_eq!(d.error, None);
    let link = d.link.expect("Ethernet link");
    assert_eq!(link.src_mac, Some(A));
    assert_eq!(link.dst_mac, Some(B));
    assert_eq!(link.ethertype, 0x0800);
    assert_eq!(link.vlans.count, 1);
    assert_eq!(d.vlan(), Some(10));
    let ip = d.ip().expect("IPv4");
    assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(ip.dst, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
    assert_eq!(ip.protocol, 6);
    assert_eq!(ip.ttl, 64);
    assert_eq!(ip.total_len, 20 + 20 + 8);
    assert_eq!(ip.fragment, None);
    let Transport::Tcp(tcp) = d.transport else {
        panic!("expected TCP, got {:?}", d.transport)
    };
    assert_eq!((tcp.src_port, tcp.dst_port), (49152, 502));
    assert_eq!((tcp.seq, tcp.ack), (1000, 0));
    assert!(tcp.flags.has(TcpFlags::SYN));
    assert!(!tcp.flags.has(TcpFlags::ACK));
    assert_eq!(tcp.window, 65535);
    assert_eq!(tcp.payload, b"\x00\x01\x00\x00\x00\x06\x01\x03");
    assert_eq!(tcp.payload_len, 8);
}

#[test]
fn emitted_checksums_verify() {
    let frame = modbus_syn().build();
    let ip = wire::ipv4::Packet::new_checked(&frame[18..]).expect("IPv4 header");
    assert!(ip.verify_checksum());
    // The TCP checksum over pseudo-header + segment sums to zero when correct.
    let seg = ip.payload();
    let mut sum: u32 = 0;
    for pair in [&[10u8, 0, 0, 1][..], &[10, 0, 0, 2]] {
        sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
        sum += u32::from(u16::from_be_bytes([pair[2], pair[3]]));
    }
    sum += 6 + seg.len() as u32;
    for chunk in seg.chunks(2) {
        let hi = u32::from(chunk[0]) << 8;
        sum += hi | chunk.get(1).map_or(0, |&b| u32::from(b));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    assert_eq!(sum, 0xffff);
}

#[test]
fn every_truncation_keeps_complete_layers_and_never_panics() {
    let frame = modbus_syn().build();
    let (eth, tag, ip, tcp) = (14, 4, 20, 20);
    for cut in 0..frame.len() {
        let d = decode(LinkType::Ethernet, &frame[..cut]);
        assert!(d.truncated, "cut at {cut} must be truncated");
        assert_eq!(d.error, None, "cut at {cut} is not a lie");
        assert_eq!(d.link.is_some(), cut >= eth, "link at cut {cut}");
        assert_eq!(
            matches!(d.network, Network::Ipv4(_)),
            cut >= eth + tag + ip,
            "network at cut {cut}"
        );
        match d.transport {
            Transport::Tcp(t) => {
                assert!(cut >= eth + tag + ip + tcp, "tcp at cut {cut}");
                assert_eq!(t.payload_len, 8);
                assert_eq!(t.payload.len(), cut - (eth + tag + ip + tcp));
            }
            other => assert!(cut < eth + tag + ip + tcp, "{other:?} at cut {cut}"),
        }
    }
    let d = decode(LinkType::Ethernet, &frame);
    assert!(!d.truncated);
}

#[test]
fn short_frame_padding_is_not_payload() {
    let frame = FrameBuilder::new()
        .eth(A, B)
        .ipv4([192, 168, 0, 1], [192, 168, 0, 255])
        .udp(137, 137, b"ab")
        .min_len(60)
        .build();
    assert_eq!(frame.len(), 60);
    let d = decode(LinkType::Ethernet, &frame);
    assert!(!d.truncated);
    assert_eq!(d.error, None);
    let Transport::Udp(udp) = d.transport else {
        panic!("expected UDP")
    };
    assert_eq!(udp.payload, b"ab");
    assert_eq!(d.ip().expect("IPv4").payload.len(), 10);
}

#[test]
fn qinq_keeps_outer_and_inner_ids() {
    let frame = FrameBuilder::new()
        .eth(A, B)
        .vlan_tpid(0x88a8, 100)
        .vlan(200)
        .ipv4([10, 1, 0, 1], [10, 1, 0, 2])
        .udp(1, 2, b"x")
        .build();
    let d = decode(LinkType::Ethernet, &frame);
    let vlans = d.link.expect("link").vlans;
    assert_eq!((vlans.ids, vlans.count), ([100, 200], 2));
    assert_eq!(d.vlan(), Some(200));
    assert!(matches!(d.transport, Transport::Udp(_)));
}

#[test]
fn three_tags_keep_first_two_and_still_decode() {
    let frame = FrameBuilder::new()
        .eth(A, B)
        .vlan_tpid(0x9100, 1)
        .vlan_tpid(0x88a8, 2)
        .vlan(3)
        .ipv4([10, 1, 0, 1], [10, 1, 0, 2])
        .udp(1, 2, b"x")
        .build();
    let d = decode(LinkType::Ethernet, &frame);
    let vlans = d.link.expect("link").vlans;
    assert_eq!((vlans.ids, vlans.count), ([1, 2], 2));
    assert!(matches!(d.transport, Transport::Udp(_)));
}

#[test]
fn ipv6_extension_headers_are_walked() {
    let frame = FrameBuilder::new()
        .eth(A, B)
        .ipv6(v6("fe80::1"), v6("ff02::1:2"))
        .ipv6_extension(0)
        .ipv6_extension(60)
        .ipv6_extension(43)
        .udp(546, 547, b"dhcp")
        .build();
    let d = decode(LinkType::Ethernet, &frame);
    assert_eq!(d.error, None);
    assert!(!d.truncated);
    let Network::Ipv6(ip) = d.network else {
        panic!("expected IPv6")
    };
    assert_eq!(ip.protocol, 17);
    assert_eq!(ip.total_len, 40 + 24 + 8 + 4);
    assert_eq!(ip.payload.len(), 12);
    assert!(matches!(d.transport, Transport::Udp(u) if u.dst_port == 547 && u.payload == b"dhcp"));
}

#[test]
fn icmp_and_icmpv6() {
    let v4 = FrameBuilder::new()
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
        .icmp(8, 0, b"ping");
    let bytes = v4.build();
    let d = decode(LinkType::RawIp, &bytes);
    assert!(matches!(d.transport, Transport::Icmp(i) if i.icmp_type == 8 && i.payload == b"ping"));
    let v6b = FrameBuilder::new()
        .ipv6(v6("::1"), v6("::2"))
        .icmp(135, 0, &[0; 20]);
    let bytes = v6b.build();
    let d = decode(LinkType::RawIp, &bytes);
    assert!(matches!(d.transport, Transport::Icmpv6(i) if i.icmp_type == 135));
}

#[test]
fn ipv4_first_fragment_has_transport_later_ones_do_not() {
    let first = FrameBuilder::new()
        .eth(A, B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
        .ip_id(0x4242)
        .fragment(0, true)
        .udp(5000, 5001, &[7u8; 32])
        .build();
    let d = decode(LinkType::Ethernet, &first);
    assert_eq!(
        d.error, None,
        "a first fragment's UDP length covers the datagram"
    );
    let ip = d.ip().expect("IPv4");
    assert_eq!(
        ip.fragment,
        Some(Fragment {
            id: 0x4242,
            offset: 0,
            more: true
        })
    );
    assert!(matches!(d.transport, Transport::Udp(u) if u.dst_port == 5001));

    let later = FrameBuilder::new()
        .eth(A, B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
        .ip_id(0x4242)
        .fragment(40, false)
        .ip_payload(17, &[9u8; 24])
        .build();
    let d = decode(LinkType::Ethernet, &later);
    let ip = d.ip().expect("IPv4");
    assert_eq!(
        ip.fragment,
        Some(Fragment {
            id: 0x4242,
            offset: 40,
            more: false
        })
    );
    assert_eq!(ip.payload, &[9u8; 24]);
    assert_eq!(d.transport, Transport::None);
    assert!(!d.truncated);
}

#[test]
fn ipv6_fragment_header_is_reported() {
    let later = FrameBuilder::new()
        .ipv6(v6("2001:db8::1"), v6("2001:db8::2"))
        .ip_id(77)
        .ipv6_extension(0)
        .fragment(1232, true)
        .ip_payload(6, &[1u8; 16])
        .build();
    let d = decode(LinkType::Ipv6, &later);
    let ip = d.ip().expect("IPv6");
    assert_eq!(
        ip.fragment,
        Some(Fragment {
            id: 77,
            offset: 1232,
            more: true
        })
    );
    assert_eq!(ip.protocol, 6);
    assert_eq!(ip.payload.len(), 16);
    assert_eq!(d.transport, Transport::None);
}

#[test]
fn reassembled_payload_decodes_with_decode_transport() {
    let seg = FrameBuilder::new()
        .ipv4([1, 1, 1, 1], [2, 2, 2, 2])
        .udp(53, 40000, &[0xab; 3000])
        .build();
    let payload = &seg[20..];
    let (t, truncated) = decode_transport(17, false, payload, payload.len() as u32);
    assert!(!truncated);
    assert!(matches!(t, Transport::Udp(u) if u.payload.len() == 3000));
    let (t, truncated) = decode_transport(17, false, &payload[..100], payload.len() as u32);
    assert!(truncated);
    assert!(matches!(t, Transport::Udp(u) if u.src_port == 53));
    let checked = decode_transport_checked(6, false, &payload[..10], 10);
    assert_eq!(
        checked.error,
        Some(DecodeError::BadHeaderLength(Layer::Tcp))
    );
}

#[test]
fn arp_request() {
    let frame = FrameBuilder::new()
        .eth(A, MacAddr::BROADCAST)
        .arp(1, A, [10, 0, 0, 1], MacAddr::default(), [10, 0, 0, 9])
        .min_len(60)
        .build();
    let d = decode(LinkType::Ethernet, &frame);
    let Network::Arp(arp) = d.network else {
        panic!("expected ARP, got {:?}", d.network)
    };
    assert_eq!(arp.operation, 1);
    assert_eq!(arp.sender_mac, A);
    assert_eq!(arp.target_ip, Ipv4Addr::new(10, 0, 0, 9));
    assert_eq!(d.link.expect("link").ethertype, 0x0806);
}

#[test]
fn lldp_and_other_ethertypes_keep_payload() {
    let lldp = LldpBuilder::new()
        .chassis_mac(A)
        .port_name("eth0")
        .ttl(120)
        .build();
    let frame = FrameBuilder::new()
        .eth(A, MacAddr([0x01, 0x80, 0xc2, 0, 0, 0x0e]))
        .ethertype(0x88cc, &lldp)
        .build();
    let d = decode(LinkType::Ethernet, &frame);
    assert_eq!(d.network, Network::Lldp(&lldp[..]));
    let frame = FrameBuilder::new()
        .eth(A, B)
        .vlan(5)
        .ethertype(0x8892, b"\xfe\xfe")
        .build();
    let d = decode(LinkType::Ethernet, &frame);
    assert_eq!(
        d.network,
        Network::Other {
            ethertype: 0x8892,
            payload: b"\xfe\xfe"
        }
    );
    assert_eq!(d.vlan(), Some(5));
}

#[test]
fn cdp_over_llc_snap() {
    let cdp = CdpBuilder::new().device_id("switch-1").build();
    let frame = FrameBuilder::new()
        .eth(A, MacAddr([0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc]))
        .cdp(&cdp)
        .min_len(60)
        .build();
    let d = decode(LinkType::Ethernet, &frame);
    assert_eq!(
        d.network,
        Network::Cdp(&cdp[..]),
        "padding trimmed by 802.3 length"
    );
    assert_eq!(d.link.expect("link").ethertype, 0x2000);
}

#[test]
fn llc_without_snap_keeps_llc_header() {
    let stp = [0x42u8, 0x42, 0x03, 0x00, 0x00, 0x00, 0x00];
    let mut frame = FrameBuilder::new().eth(A, B).build();
    frame.truncate(12);
    frame.extend_from_slice(&(stp.len() as u16).to_be_bytes());
    frame.extend_from_slice(&stp);
    frame.resize(60, 0);
    let d = decode(LinkType::Ethernet, &frame);
    assert_eq!(
        d.network,
        Network::Other {
            ethertype: 0,
            payload: &stp[..]
        }
    );
    assert_eq!(d.link.expect("link").ethertype, 0);
}

#[test]
fn rfc1042_snap_carries_ipv4() {
    let inner = FrameBuilder::new()
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
        .udp(1, 2, b"")
        .build();
    let frame = FrameBuilder::new()
        .eth(A, B)
        .snap([0, 0, 0], 0x0800, &inner)
        .build();
    let d = decode(LinkType::Ethernet, &frame);
    assert!(matches!(d.transport, Transport::Udp(_)));
}

#[test]
fn cooked_and_loopback_link_types() {
    for builder in [
        FrameBuilder::new().linux_sll(A),
        FrameBuilder::new().linux_sll2(A),
        FrameBuilder::new().null(),
        FrameBuilder::new().loopback(),
        FrameBuilder::new(),
    ] {
        for ipv6 in [false, true] {
            let b = if ipv6 {
                builder.clone().ipv6(v6("::1"), v6("::1"))
            } else {
                builder.clone().ipv4([127, 0, 0, 1], [127, 0, 0, 1])
            };
            let b = b.tcp(1, 2, 3, 4, TcpFlags::ACK, b"data");
            let link = b.link_type();
            let bytes = b.build();
            let d = decode(link, &bytes);
            assert_eq!(d.error, None, "{link:?}");
            assert!(!d.truncated, "{link:?}");
            assert_eq!(matches!(d.network, Network::Ipv6(_)), ipv6, "{link:?}");
            assert!(
                matches!(d.transport, Transport::Tcp(t) if t.payload == b"data"),
                "{link:?}"
            );
            match link {
                LinkType::LinuxSll | LinkType::LinuxSll2 => {
                    let l = d.link.expect("cooked link info");
                    assert_eq!((l.src_mac, l.dst_mac), (Some(A), None));
                }
                _ => assert_eq!(d.link, None, "{link:?}"),
            }
        }
    }
}

#[test]
fn null_header_in_big_endian_host_order() {
    let mut frame = FrameBuilder::new()
        .null()
        .ipv4([1, 2, 3, 4], [5, 6, 7, 8])
        .build();
    frame[..4].copy_from_slice(&2u32.to_be_bytes());
    assert!(matches!(
        decode(LinkType::Null, &frame).network,
        Network::Ipv4(_)
    ));
    for af in [24u32, 28, 30] {
        let mut frame = FrameBuilder::new()
            .null()
            .ipv6(v6("::1"), v6("::2"))
            .build();
        frame[..4].copy_from_slice(&af.to_le_bytes());
        assert!(
            matches!(decode(LinkType::Null, &frame).network, Network::Ipv6(_)),
            "AF {af}"
        );
    }
}

#[test]
fn dedicated_ipv4_and_ipv6_link_types() {
    let v4 = FrameBuilder::new()
        .ipv4([1, 2, 3, 4], [5, 6, 7, 8])
        .udp(1, 2, b"")
        .build();
    assert!(matches!(
        decode(LinkType::Ipv4, &v4).transport,
        Transport::Udp(_)
    ));
    let v6f = FrameBuilder::new()
        .ipv6(v6("::1"), v6("::2"))
        .udp(1, 2, b"")
        .build();
    assert!(matches!(
        decode(LinkType::Ipv6, &v6f).transport,
        Transport::Udp(_)
    ));
}

#[test]
fn unsupported_link_type_is_an_error() {
    let d = decode(LinkType::from_linktype(147), &[0u8; 64]);
    assert_eq!(d.error, Some(DecodeError::UnsupportedLinkType(147)));
    assert_eq!(d.network, Network::None);
}

#[test]
fn raw_ip_with_bad_version() {
    let d = decode(LinkType::RawIp, &[0x50u8; 40]);
    assert_eq!(d.error, Some(DecodeError::BadVersion(Layer::Link)));
}

#[test]
fn lying_ipv4_header_length_stops_with_link_kept() {
    let mut frame = modbus_syn().build();
    frame[18] = 0x44;
    let d = decode(LinkType::Ethernet, &frame);
    assert_eq!(d.error, Some(DecodeError::BadHeaderLength(Layer::Ipv4)));
    assert!(d.link.is_some());
    assert_eq!(d.network, Network::None);
}

#[test]
fn wrong_version_under_ipv4_ethertype() {
    let mut frame = modbus_syn().build();
    frame[18] = 0x65;
    let d = decode(LinkType::Ethernet, &frame);
    assert_eq!(d.error, Some(DecodeError::BadVersion(Layer::Ipv4)));
}

#[test]
fn total_length_shorter_than_header_is_a_lie() {
    let mut frame = modbus_syn().build();
    frame[20..22].copy_from_slice(&10u16.to_be_bytes());
    let d = decode(LinkType::Ethernet, &frame);
    assert_eq!(d.error, Some(DecodeError::BadHeaderLength(Layer::Ipv4)));
}

#[test]
fn lying_tcp_data_offset_keeps_ip() {
    let mut frame = modbus_syn().build();
    frame[18 + 20 + 12] = 0x30;
    let d = decode(LinkType::Ethernet, &frame);
    assert_eq!(d.error, Some(DecodeError::BadHeaderLength(Layer::Tcp)));
    assert!(matches!(d.network, Network::Ipv4(_)));
    assert_eq!(d.transport, Transport::None);
    // An offset pointing past the IP payload is also a lie, not a truncation.
    frame[18 + 20 + 12] = 0xf0;
    let d = decode(LinkType::Ethernet, &frame);
    assert_eq!(d.error, Some(DecodeError::BadHeaderLength(Layer::Tcp)));
}

#[test]
fn udp_length_beyond_ip_payload_is_a_lie() {
    let mut frame = FrameBuilder::new()
        .ipv4([1, 2, 3, 4], [5, 6, 7, 8])
        .udp(1, 2, b"abc")
        .build();
    frame[24..26].copy_from_slice(&200u16.to_be_bytes());
    let d = decode(LinkType::RawIp, &frame);
    assert_eq!(d.error, Some(DecodeError::BadHeaderLength(Layer::Udp)));
    assert!(matches!(d.transport, Transport::Udp(u) if u.payload == b"abc"));
}

#[test]
fn segmentation_offload_zero_total_length() {
    let mut frame = FrameBuilder::new()
        .ipv4([1, 2, 3, 4], [5, 6, 7, 8])
        .tcp(1, 2, 3, 4, TcpFlags::ACK, &[0u8; 3000])
        .build();
    frame[2..4].copy_from_slice(&0u16.to_be_bytes());
    let d = decode(LinkType::RawIp, &frame);
    assert_eq!(d.error, None);
    assert!(matches!(d.transport, Transport::Tcp(t) if t.payload_len == 3000));
}

#[test]
fn snaplen_cut_tcp_reports_stated_payload_len() {
    let frame = FrameBuilder::new()
        .eth(A, B)
        .ipv4([1, 2, 3, 4], [5, 6, 7, 8])
        .tcp(1, 2, 3, 4, TcpFlags::ACK | TcpFlags::PSH, &[0u8; 1400])
        .build();
    let d = decode(LinkType::Ethernet, &frame[..96]);
    assert!(d.truncated);
    let Transport::Tcp(t) = d.transport else {
        panic!("expected TCP")
    };
    assert_eq!(t.payload_len, 1400);
    assert_eq!(t.payload.len(), 96 - 54);
    assert_eq!(d.ip().expect("IPv4").total_len, 1440);
}

#[test]
fn zero_length_8023_frame_is_a_lie_not_a_truncation() {
    let d = decode(LinkType::Ethernet, &[0u8; 60]);
    assert!(!d.truncated);
    assert_eq!(d.error, Some(DecodeError::BadHeaderLength(Layer::Link)));
    assert_eq!(d.link.map(|l| l.ethertype), Some(0));
}

#[test]
fn cut_8023_frame_is_truncated() {
    let cdp = CdpBuilder::new().device_id("switch-1").build();
    let frame = FrameBuilder::new().eth(A, B).cdp(&cdp).build();
    let d = decode(LinkType::Ethernet, &frame[..16]);
    assert!(d.truncated);
    assert_eq!(d.error, None);
}

#[test]
fn tagged_8023_cdp_frame() {
    let cdp = CdpBuilder::new().device_id("switch-1").build();
    let frame = FrameBuilder::new()
        .eth(A, B)
        .vlan(30)
        .cdp(&cdp)
        .min_len(64)
        .build();
    let d = decode(LinkType::Ethernet, &frame);
    assert_eq!(d.network, Network::Cdp(&cdp[..]));
    assert_eq!(d.vlan(), Some(30));
}

#[test]
fn cooked_llc_frame_carries_cdp() {
    let cdp = CdpBuilder::new().device_id("switch-1").build();
    // An SLL header whose protocol 0x0004 says "802.2 LLC follows".
    let mut frame = FrameBuilder::new().linux_sll(A).build();
    frame[14..16].copy_from_slice(&4u16.to_be_bytes());
    frame.extend_from_slice(&[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00]);
    frame.extend_from_slice(&cdp);
    let d = decode(LinkType::LinuxSll, &frame);
    assert_eq!(d.network, Network::Cdp(&cdp[..]));
    assert_eq!(d.link.expect("cooked link").src_mac, Some(A));
}

#[test]
fn extension_header_longer_than_ipv6_payload_is_a_lie() {
    let mut frame = FrameBuilder::new()
        .ipv6(v6("::1"), v6("::2"))
        .ipv6_extension(60)
        .udp(1, 2, b"abcd")
        .build();
    // Destination options claiming 8 * (1 + 4) bytes inside a 20-byte payload.
    frame[41] = 4;
    let d = decode(LinkType::RawIp, &frame);
    assert_eq!(d.error, Some(DecodeError::BadHeaderLength(Layer::Ipv6)));
    assert!(!d.truncated);
    // The same header cut by the capture is a truncation instead.
    frame[4..6].copy_from_slice(&100u16.to_be_bytes());
    let d = decode(LinkType::RawIp, &frame);
    assert_eq!(d.error, None);
    assert!(d.truncated);
}
