//! The frame decoder: link header → VLAN/LLC → network → transport.
//!
//! Each step wraps its bytes in a checked view; a view that refuses its bytes either marks
//! the frame truncated (fewer bytes than the header needs) or records a [`DecodeError`]
//! (a header that lies), and decoding stops there with every earlier layer kept.

use crate::ethernet::{self, EtherType};
use crate::{
    arp, icmp, ipv4, ipv6, llc, loopback, sll, tcp, udp, vlan, CheckError, DecodeError, Decoded,
    IcmpInfo, IpInfo, Layer, LinkInfo, LinkType, Network, TcpInfo, Transport, UdpInfo, VlanTags,
};

/// Deepest VLAN tag stack walked; the first two ids are kept.
const MAX_VLAN_TAGS: usize = 8;

/// VLAN ids recorded in [`VlanTags`].
const KEPT_VLAN_IDS: usize = 2;

/// IP protocol numbers the transport decoder knows.
mod protocol {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMPV6: u8 = 58;
}

/// Linux ARPHRD_NETLINK: the cooked protocol field is a netlink family, not an EtherType.
const ARPHRD_NETLINK: u16 = 824;

/// Result of decoding a transport header: the layer, whether it was cut short, and why
/// decoding stopped if a header lied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransportDecode<'a> {
    /// The transport layer.
    pub transport: Transport<'a>,
    /// Fewer bytes were present than the IP header implies.
    pub truncated: bool,
    /// A transport header's length field was impossible.
    pub error: Option<DecodeError>,
}

pub(crate) fn decode(link: LinkType, frame: &[u8]) -> Decoded<'_> {
    let mut d = Decoded {
        link: None,
        network: Network::None,
        transport: Transport::None,
        truncated: false,
        error: None,
    };
    match link {
        LinkType::Ethernet => decode_ethernet(frame, &mut d),
        LinkType::LinuxSll => match sll::Header::new_checked_v1(frame) {
            Ok(header) => decode_cooked(&header, &mut d),
            Err(e) => record(e, Layer::Link, &mut d),
        },
        LinkType::LinuxSll2 => match sll::Header::new_checked_v2(frame) {
            Ok(header) => decode_cooked(&header, &mut d),
            Err(e) => record(e, Layer::Link, &mut d),
        },
        LinkType::Null | LinkType::Loop => match loopback::Header::new_checked(frame) {
            Ok(header) => {
                let family = if link == LinkType::Null {
                    header.family_host_order()
                } else {
                    header.family_big_endian()
                };
                match family {
                    loopback::Family::Ipv4 => decode_ipv4(header.payload(), &mut d),
                    loopback::Family::Ipv6 => decode_ipv6(header.payload(), &mut d),
                    loopback::Family::Unknown(_) => {}
                }
            }
            Err(e) => record(e, Layer::Link, &mut d),
        },
        LinkType::RawIp => decode_ip_by_version(frame, &mut d),
        LinkType::Ipv4 => decode_ipv4(frame, &mut d),
        LinkType::Ipv6 => decode_ipv6(frame, &mut d),
        LinkType::Unknown(value) => d.error = Some(DecodeError::UnsupportedLinkType(value)),
    }
    d
}

/// Turns a view's refusal into the frame's truncation flag or error.
fn record(error: CheckError, layer: Layer, d: &mut Decoded<'_>) {
    match error {
        CheckError::Truncated => d.truncated = true,
        CheckError::BadLength => d.error = Some(DecodeError::BadHeaderLength(layer)),
        CheckError::BadVersion => d.error = Some(DecodeError::BadVersion(layer)),
    }
}

fn decode_ethernet<'a>(frame: &'a [u8], d: &mut Decoded<'a>) {
    let eth = match ethernet::Frame::new_checked(frame) {
        Ok(eth) => eth,
        Err(e) => return record(e, Layer::Link, d),
    };
    let mut link = LinkInfo {
        src_mac: Some(eth.src_addr()),
        dst_mac: Some(eth.dst_addr()),
        ethertype: eth.type_or_length(),
        vlans: VlanTags::default(),
    };
    decode_after_link(eth.type_or_length(), eth.payload(), true, &mut link, d);
}

fn decode_cooked<'a>(header: &sll::Header<&'a [u8]>, d: &mut Decoded<'a>) {
    let mut link = LinkInfo {
        src_mac: header.src_mac(),
        dst_mac: None,
        ethertype: header.protocol(),
        vlans: VlanTags::default(),
    };
    let payload = header.payload();
    match header.protocol() {
        _ if header.arphrd() == ARPHRD_NETLINK => {
            d.link = Some(link);
            d.network = Network::Other {
                ethertype: header.protocol(),
                payload,
            };
        }
        sll::PROTOCOL_8022 => {
            link.ethertype = 0;
            decode_llc(payload, true, &mut link, d);
        }
        protocol => decode_after_link(protocol, payload, false, &mut link, d),
    }
}

/// Walks VLAN tags, then 802.3/LLC framing (when `lengths_allowed`), then dispatches on
/// the EtherType. Stores the link info in `d` whatever happens.
fn decode_after_link<'a>(
    mut type_or_length: u16,
    mut payload: &'a [u8],
    lengths_allowed: bool,
    link: &mut LinkInfo,
    d: &mut Decoded<'a>,
) {
    let mut depth = 0;
    while EtherType::from(type_or_length).is_vlan() && depth < MAX_VLAN_TAGS {
        let tag = match vlan::Tag::new_checked(payload) {
            Ok(tag) => tag,
            Err(e) => {
                link.ethertype = type_or_length;
                d.link = Some(*link);
                return record(e, Layer::Vlan, d);
            }
        };
        let slot = usize::from(link.vlans.count);
        if slot < KEPT_VLAN_IDS {
            link.vlans.ids[slot] = tag.vlan_id();
            link.vlans.count += 1;
        }
        type_or_length = tag.type_or_length();
        payload = tag.payload();
        depth += 1;
    }
    link.ethertype = type_or_length;

    if lengths_allowed && type_or_length <= ethernet::MAX_8023_LENGTH {
        let length = usize::from(type_or_length);
        let cut = payload.len() < length;
        if cut {
            d.truncated = true;
        } else {
            // Frames shorter than the Ethernet minimum carry padding after the length.
            payload = &payload[..length];
        }
        link.ethertype = 0;
        return decode_llc(payload, cut, link, d);
    }
    d.link = Some(*link);
    decode_ethertype(type_or_length, payload, d);
}

/// Decodes an LLC (and SNAP) header and what it carries. `cut` says whether the capture
/// ended before the 802.3 length did; if it did not, an LLC header that does not fit is a
/// lying length rather than a truncation.
fn decode_llc<'a>(payload: &'a [u8], cut: bool, link: &mut LinkInfo, d: &mut Decoded<'a>) {
    let llc = match llc::Packet::new_checked(payload) {
        Ok(llc) => llc,
        Err(e) => {
            d.link = Some(*link);
            let e = match e {
                CheckError::Truncated if !cut => CheckError::BadLength,
                other => other,
            };
            return record(e, Layer::Link, d);
        }
    };
    let (Some(oui), Some(protocol)) = (llc.snap_oui(), llc.snap_protocol()) else {
        // Plain LLC (STP, ISO CLNS ...): keep the LLC header for layer-2 dissectors.
        d.link = Some(*link);
        d.network = Network::Other {
            ethertype: 0,
            payload,
        };
        return;
    };
    link.ethertype = protocol;
    d.link = Some(*link);
    match oui {
        llc::OUI_CISCO if protocol == llc::CISCO_PROTOCOL_CDP => {
            d.network = Network::Cdp(llc.payload());
        }
        llc::OUI_ENCAPSULATED_ETHERNET | llc::OUI_BRIDGE_TUNNEL => {
            decode_ethertype(protocol, llc.payload(), d);
        }
        _ => {
            d.network = Network::Other {
                ethertype: protocol,
                payload: llc.payload(),
            };
        }
    }
}

fn decode_ethertype<'a>(ethertype: u16, payload: &'a [u8], d: &mut Decoded<'a>) {
    match EtherType::from(ethertype) {
        EtherType::Ipv4 => decode_ipv4(payload, d),
        EtherType::Ipv6 => decode_ipv6(payload, d),
        EtherType::Arp => decode_arp(payload, d),
        EtherType::Lldp => d.network = Network::Lldp(payload),
        _ => d.network = Network::Other { ethertype, payload },
    }
}

fn decode_arp<'a>(payload: &'a [u8], d: &mut Decoded<'a>) {
    match arp::Packet::new_checked(payload) {
        Ok(packet) => match packet.ethernet_ipv4() {
            Some(info) => d.network = Network::Arp(info),
            None => {
                d.network = Network::Other {
                    ethertype: u16::from(EtherType::Arp),
                    payload,
                }
            }
        },
        Err(e) => record(e, Layer::Arp, d),
    }
}

fn decode_ip_by_version<'a>(bytes: &'a [u8], d: &mut Decoded<'a>) {
    match bytes.first().map(|b| b >> 4) {
        None => d.truncated = true,
        Some(4) => decode_ipv4(bytes, d),
        Some(6) => decode_ipv6(bytes, d),
        Some(_) => d.error = Some(DecodeError::BadVersion(Layer::Link)),
    }
}

fn decode_ipv4<'a>(bytes: &'a [u8], d: &mut Decoded<'a>) {
    let packet = match ipv4::Packet::new_checked(bytes) {
        Ok(packet) => packet,
        Err(e) => return record(e, Layer::Ipv4, d),
    };
    if packet.is_truncated() {
        d.truncated = true;
    }
    let payload = packet.payload();
    let fragment = packet.fragment();
    let stated_len = packet.stated_len();
    let info = IpInfo {
        src: packet.src_addr().into(),
        dst: packet.dst_addr().into(),
        protocol: packet.protocol(),
        ttl: packet.ttl(),
        ident: packet.ident(),
        total_len: stated_len as u32,
        fragment,
        payload,
    };
    d.network = Network::Ipv4(info);
    if fragment.is_some_and(|f| f.offset != 0) {
        // Only the first fragment carries the transport header.
        return;
    }
    let stated_payload = stated_len.saturating_sub(packet.header_len()) as u32;
    let t = transport(
        info.protocol,
        false,
        payload,
        stated_payload,
        fragment.is_none(),
    );
    apply_transport(t, d);
}

fn decode_ipv6<'a>(bytes: &'a [u8], d: &mut Decoded<'a>) {
    let packet = match ipv6::Packet::new_checked(bytes) {
        Ok(packet) => packet,
        Err(e) => return record(e, Layer::Ipv6, d),
    };
    if packet.is_truncated() {
        d.truncated = true;
    }
    let payload = packet.payload();
    let walk = ipv6::walk_extensions(packet.next_header(), payload);
    let upper = payload.get(walk.headers_len..).unwrap_or(&[]);
    let stated_payload = packet.stated_payload_len();
    let info = IpInfo {
        src: packet.src_addr().into(),
        dst: packet.dst_addr().into(),
        protocol: walk.protocol,
        ttl: packet.hop_limit(),
        ident: 0,
        total_len: (ipv6::HEADER_LEN + stated_payload) as u32,
        fragment: walk.fragment,
        payload: upper,
    };
    d.network = Network::Ipv6(info);
    if walk.truncated {
        // Extension headers that run past a completely captured payload are a lie.
        if packet.is_truncated() {
            d.truncated = true;
        } else {
            d.error = Some(DecodeError::BadHeaderLength(Layer::Ipv6));
        }
        return;
    }
    if walk.fragment.is_some_and(|f| f.offset != 0) {
        return;
    }
    let stated_upper = stated_payload.saturating_sub(walk.headers_len) as u32;
    let t = transport(
        walk.protocol,
        true,
        upper,
        stated_upper,
        walk.fragment.is_none(),
    );
    apply_transport(t, d);
}

fn apply_transport<'a>(t: TransportDecode<'a>, d: &mut Decoded<'a>) {
    d.transport = t.transport;
    d.truncated |= t.truncated;
    if t.error.is_some() {
        d.error = t.error;
    }
}

/// Decodes the transport header in `payload`. `stated_len` is the length the IP header
/// implies; `whole` is false for a first fragment, whose transport length fields describe
/// the reassembled datagram rather than this packet.
pub(crate) fn transport(
    protocol: u8,
    ipv6: bool,
    payload: &[u8],
    stated_len: u32,
    whole: bool,
) -> TransportDecode<'_> {
    let cut_short = (payload.len() as u64) < u64::from(stated_len);
    let mut out = TransportDecode {
        transport: Transport::None,
        truncated: false,
        error: None,
    };
    // A header that does not fit is a capture cut short when the IP length promised more
    // bytes, and a lie when it did not.
    let refused = |e: CheckError, layer: Layer, out: &mut TransportDecode<'_>| match e {
        CheckError::Truncated if cut_short => out.truncated = true,
        _ => out.error = Some(DecodeError::BadHeaderLength(layer)),
    };
    match protocol {
        protocol::TCP => match tcp::Packet::new_checked(payload) {
            Ok(tcp) => {
                let payload_len = stated_len.saturating_sub(tcp.header_len() as u32);
                let data = tcp.payload();
                out.truncated = (data.len() as u64) < u64::from(payload_len);
                out.transport = Transport::Tcp(TcpInfo {
                    src_port: tcp.src_port(),
                    dst_port: tcp.dst_port(),
                    seq: tcp.seq_number(),
                    ack: tcp.ack_number(),
                    flags: tcp.flags(),
                    window: tcp.window(),
                    payload: data,
                    payload_len,
                });
            }
            Err(e) => refused(e, Layer::Tcp, &mut out),
        },
        protocol::UDP => match udp::Packet::new_checked(payload) {
            Ok(udp) => {
                let length = u32::from(udp.length());
                // Zero is legal only in IPv6 jumbograms; treat it as "use the IP length".
                if whole && length != 0 && (length < udp::HEADER_LEN as u32 || length > stated_len)
                {
                    out.error = Some(DecodeError::BadHeaderLength(Layer::Udp));
                }
                out.truncated = cut_short;
                out.transport = Transport::Udp(UdpInfo {
                    src_port: udp.src_port(),
                    dst_port: udp.dst_port(),
                    payload: udp.payload(),
                });
            }
            Err(e) => refused(e, Layer::Udp, &mut out),
        },
        protocol::ICMP if !ipv6 => match icmp::Packet::new_checked(payload) {
            Ok(icmp) => {
                out.truncated = cut_short;
                out.transport = Transport::Icmp(IcmpInfo {
                    icmp_type: icmp.msg_type(),
                    code: icmp.code(),
                    payload: icmp.body(),
                });
            }
            Err(e) => refused(e, Layer::Icmp, &mut out),
        },
        protocol::ICMPV6 if ipv6 => match icmp::Packet::new_checked(payload) {
            Ok(icmp) => {
                out.truncated = cut_short;
                out.transport = Transport::Icmpv6(IcmpInfo {
                    icmp_type: icmp.msg_type(),
                    code: icmp.code(),
                    payload: icmp.body(),
                });
            }
            Err(e) => refused(e, Layer::Icmp, &mut out),
        },
        other => {
            out.truncated = cut_short;
            out.transport = Transport::Other {
                protocol: other,
                payload,
            };
        }
    }
    out
}
