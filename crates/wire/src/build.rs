//! Frame emitters for tests: synthesise frames byte-exactly, with valid checksums.
//!
//! Not for the hot path (these allocate). Every frame [`FrameBuilder`] writes decodes back
//! with [`crate::decode`] to what was put in, which this crate's tests assert.
//!
//! ```
//! use wire::build::FrameBuilder;
//! use wire::{decode, MacAddr, TcpFlags, Transport};
//!
//! let builder = FrameBuilder::new()
//!     .eth(MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2]))
//!     .vlan(10)
//!     .ipv4([10, 0, 0, 1], [10, 0, 0, 2])
//!     .tcp(49152, 502, 1000, 0, TcpFlags::SYN, b"");
//! let frame = builder.build();
//! let decoded = decode(builder.link_type(), &frame);
//! assert_eq!(decoded.vlan(), Some(10));
//! assert!(matches!(decoded.transport, Transport::Tcp(t) if t.dst_port == 502));
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::bytes::{checksum_add, checksum_finish};
use crate::ethernet::{self, EtherType};
use crate::{arp, icmp, ipv4, ipv6, llc, sll, tcp, udp, vlan};
use crate::{ArpInfo, Fragment, LinkType, MacAddr, TcpFlags};

/// The link layer a [`FrameBuilder`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// No link header (`LinkType::RawIp`).
    Raw,
    Ethernet {
        src: MacAddr,
        dst: MacAddr,
    },
    Sll {
        src: MacAddr,
    },
    Sll2 {
        src: MacAddr,
    },
    /// BSD null, written little-endian as by an x86 host.
    Null,
    /// OpenBSD loop, big-endian.
    Loop,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Net {
    None,
    Ipv4 {
        src: Ipv4Addr,
        dst: Ipv4Addr,
    },
    Ipv6 {
        src: Ipv6Addr,
        dst: Ipv6Addr,
    },
    Arp(ArpInfo),
    /// A raw EtherType payload (LLDP, Profinet, GOOSE ...).
    EtherType {
        ethertype: u16,
        payload: Vec<u8>,
    },
    /// An 802.3 length frame with LLC/SNAP carrying `payload`.
    Snap {
        oui: [u8; 3],
        protocol: u16,
        payload: Vec<u8>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Trans {
    None,
    Tcp {
        src: u16,
        dst: u16,
        seq: u32,
        ack: u32,
        flags: u16,
        payload: Vec<u8>,
    },
    Udp {
        src: u16,
        dst: u16,
        payload: Vec<u8>,
    },
    Icmp {
        icmp_type: u8,
        code: u8,
        body: Vec<u8>,
    },
    Raw {
        protocol: u8,
        payload: Vec<u8>,
    },
}

/// Builds one frame layer by layer; see the module example.
///
/// Layers not set are omitted: without [`FrameBuilder::eth`] (or another link method)
/// the frame is raw IP; without a transport method the IP payload is empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameBuilder {
    link: Link,
    vlans: Vec<(u16, u16)>,
    net: Net,
    trans: Trans,
    ttl: u8,
    ip_id: u16,
    dont_fragment: bool,
    fragment: Option<(u32, bool)>,
    ipv6_extensions: Vec<u8>,
    min_len: usize,
}

impl Default for FrameBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameBuilder {
    /// An empty builder: raw IP link, no layers, TTL 64, IP id 1.
    pub fn new() -> Self {
        Self {
            link: Link::Raw,
            vlans: Vec::new(),
            net: Net::None,
            trans: Trans::None,
            ttl: 64,
            ip_id: 1,
            dont_fragment: false,
            fragment: None,
            ipv6_extensions: Vec::new(),
            min_len: 0,
        }
    }

    /// Ethernet II header (or 802.3 with [`FrameBuilder::snap`]).
    pub fn eth(mut self, src: MacAddr, dst: MacAddr) -> Self {
        self.link = Link::Ethernet { src, dst };
        self
    }

    /// Linux cooked v1 header with the sender's MAC (`LinkType::LinuxSll`).
    pub fn linux_sll(mut self, src: MacAddr) -> Self {
        self.link = Link::Sll { src };
        self
    }

    /// Linux cooked v2 header with the sender's MAC (`LinkType::LinuxSll2`).
    pub fn linux_sll2(mut self, src: MacAddr) -> Self {
        self.link = Link::Sll2 { src };
        self
    }

    /// BSD null header, little-endian family (`LinkType::Null`).
    pub fn null(mut self) -> Self {
        self.link = Link::Null;
        self
    }

    /// OpenBSD loop header, big-endian family (`LinkType::Loop`).
    pub fn loopback(mut self) -> Self {
        self.link = Link::Loop;
        self
    }

    /// Adds an 802.1Q tag (outermost first when called repeatedly).
    pub fn vlan(self, id: u16) -> Self {
        self.vlan_tpid(u16::from(EtherType::Vlan), id)
    }

    /// Adds a VLAN tag with the given tag protocol id (0x8100, 0x88a8, 0x9100).
    pub fn vlan_tpid(mut self, tpid: u16, id: u16) -> Self {
        self.vlans.push((tpid, id & 0x0fff));
        self
    }

    /// IPv4 header.
    pub fn ipv4(mut self, src: impl Into<Ipv4Addr>, dst: impl Into<Ipv4Addr>) -> Self {
        self.net = Net::Ipv4 {
            src: src.into(),
            dst: dst.into(),
        };
        self
    }

    /// IPv6 header.
    pub fn ipv6(mut self, src: impl Into<Ipv6Addr>, dst: impl Into<Ipv6Addr>) -> Self {
        self.net = Net::Ipv6 {
            src: src.into(),
            dst: dst.into(),
        };
        self
    }

    /// IPv4 TTL or IPv6 hop limit (default 64).
    pub fn ttl(mut self, ttl: u8) -> Self {
        self.ttl = ttl;
        self
    }

    /// IPv4 identification, also the IPv6 fragment header id (default 1).
    pub fn ip_id(mut self, id: u16) -> Self {
        self.ip_id = id;
        self
    }

    /// Sets the IPv4 don't-fragment flag.
    pub fn dont_fragment(mut self) -> Self {
        self.dont_fragment = true;
        self
    }

    /// Marks the packet as a fragment at `offset` bytes (a multiple of 8); IPv6 gets a
    /// fragment extension header (after any [`FrameBuilder::ipv6_extension`] headers).
    /// The transport set afterwards is this fragment's payload.
    pub fn fragment(mut self, offset: u32, more: bool) -> Self {
        self.fragment = Some((offset, more));
        self
    }

    /// Adds an 8-byte IPv6 extension header of type `kind` (hop-by-hop 0, routing 43,
    /// destination options 60), in call order.
    pub fn ipv6_extension(mut self, kind: u8) -> Self {
        self.ipv6_extensions.push(kind);
        self
    }

    /// ARP packet (Ethernet/IPv4).
    pub fn arp(
        mut self,
        operation: u16,
        sender_mac: MacAddr,
        sender_ip: impl Into<Ipv4Addr>,
        target_mac: MacAddr,
        target_ip: impl Into<Ipv4Addr>,
    ) -> Self {
        self.net = Net::Arp(ArpInfo {
            operation,
            sender_mac,
            sender_ip: sender_ip.into(),
            target_mac,
            target_ip: target_ip.into(),
        });
        self
    }

    /// A raw payload after the link header under `ethertype` (LLDP 0x88cc, Profinet ...).
    pub fn ethertype(mut self, ethertype: u16, payload: &[u8]) -> Self {
        self.net = Net::EtherType {
            ethertype,
            payload: payload.to_vec(),
        };
        self
    }

    /// An 802.3 length frame with an LLC/SNAP header (Ethernet link only).
    pub fn snap(mut self, oui: [u8; 3], protocol: u16, payload: &[u8]) -> Self {
        self.net = Net::Snap {
            oui,
            protocol,
            payload: payload.to_vec(),
        };
        self
    }

    /// A CDP frame: 802.3 + SNAP (OUI 00:00:0c, protocol 0x2000) carrying `payload`,
    /// e.g. the output of [`CdpBuilder::build`].
    pub fn cdp(self, payload: &[u8]) -> Self {
        self.snap(llc::OUI_CISCO, llc::CISCO_PROTOCOL_CDP, payload)
    }

    /// TCP segment; `flags` is a mask of [`TcpFlags`] constants.
    pub fn tcp(
        mut self,
        src: u16,
        dst: u16,
        seq: u32,
        ack: u32,
        flags: u16,
        payload: &[u8],
    ) -> Self {
        self.trans = Trans::Tcp {
            src,
            dst,
            seq,
            ack,
            flags,
            payload: payload.to_vec(),
        };
        self
    }

    /// UDP datagram.
    pub fn udp(mut self, src: u16, dst: u16, payload: &[u8]) -> Self {
        self.trans = Trans::Udp {
            src,
            dst,
            payload: payload.to_vec(),
        };
        self
    }

    /// ICMP (over IPv4) or ICMPv6 (over IPv6) message; `body` follows the 4-byte header.
    pub fn icmp(mut self, icmp_type: u8, code: u8, body: &[u8]) -> Self {
        self.trans = Trans::Icmp {
            icmp_type,
            code,
            body: body.to_vec(),
        };
        self
    }

    /// Raw IP payload under `protocol` (also how to write a non-first fragment's bytes).
    pub fn ip_payload(mut self, protocol: u8, payload: &[u8]) -> Self {
        self.trans = Trans::Raw {
            protocol,
            payload: payload.to_vec(),
        };
        self
    }

    /// Pads the frame with zeros to at least `len` bytes (60 for minimal Ethernet).
    pub fn min_len(mut self, len: usize) -> Self {
        self.min_len = len;
        self
    }

    /// The link type of the frames this builder writes.
    pub fn link_type(&self) -> LinkType {
        match self.link {
            Link::Raw => LinkType::RawIp,
            Link::Ethernet { .. } => LinkType::Ethernet,
            Link::Sll { .. } => LinkType::LinuxSll,
            Link::Sll2 { .. } => LinkType::LinuxSll2,
            Link::Null => LinkType::Null,
            Link::Loop => LinkType::Loop,
        }
    }

    /// Writes the frame.
    pub fn build(&self) -> Vec<u8> {
        let (network_type, network) = self.network_bytes();
        let mut frame = Vec::with_capacity(64 + network.len());
        // The type that follows the link header: the first VLAN tag's TPID if any.
        let first_type = self.vlans.first().map_or(network_type, |&(tpid, _)| tpid);
        match self.link {
            Link::Raw => {}
            Link::Ethernet { src, dst } => {
                let mut header = [0u8; ethernet::HEADER_LEN];
                let mut eth = ethernet::Frame::new_unchecked(&mut header[..]);
                eth.set_dst_addr(dst);
                eth.set_src_addr(src);
                eth.set_type_or_length(first_type);
                frame.extend_from_slice(&header);
            }
            Link::Sll { src } => {
                let mut header = [0u8; sll::SLL_HEADER_LEN];
                header[2..4].copy_from_slice(&1u16.to_be_bytes());
                header[4..6].copy_from_slice(&6u16.to_be_bytes());
                header[6..12].copy_from_slice(&src.0);
                header[14..16].copy_from_slice(&first_type.to_be_bytes());
                frame.extend_from_slice(&header);
            }
            Link::Sll2 { src } => {
                let mut header = [0u8; sll::SLL2_HEADER_LEN];
                header[0..2].copy_from_slice(&first_type.to_be_bytes());
                header[4..8].copy_from_slice(&1u32.to_be_bytes());
                header[8..10].copy_from_slice(&1u16.to_be_bytes());
                header[11] = 6;
                header[12..18].copy_from_slice(&src.0);
                frame.extend_from_slice(&header);
            }
            Link::Null | Link::Loop => {
                let family = match self.net {
                    Net::Ipv6 { .. } => crate::loopback::AF_INET6_BSD,
                    _ => crate::loopback::AF_INET,
                };
                if self.link == Link::Null {
                    frame.extend_from_slice(&family.to_le_bytes());
                } else {
                    frame.extend_from_slice(&family.to_be_bytes());
                }
            }
        }
        if self.link != Link::Raw && !matches!(self.link, Link::Null | Link::Loop) {
            for (i, &(_, id)) in self.vlans.iter().enumerate() {
                let next = self
                    .vlans
                    .get(i + 1)
                    .map_or(network_type, |&(tpid, _)| tpid);
                let mut tag = [0u8; vlan::HEADER_LEN];
                let mut view = vlan::Tag::new_unchecked(&mut tag[..]);
                view.set_tci(id);
                view.set_ethertype(next);
                frame.extend_from_slice(&tag);
            }
        }
        frame.extend_from_slice(&network);
        if frame.len() < self.min_len {
            frame.resize(self.min_len, 0);
        }
        frame
    }

    /// The network layer bytes and the type/length value that announces them.
    fn network_bytes(&self) -> (u16, Vec<u8>) {
        match &self.net {
            Net::None => (0, Vec::new()),
            Net::Arp(info) => {
                let mut out = vec![0u8; arp::ETHERNET_IPV4_LEN];
                arp::emit_ethernet_ipv4(info, &mut out);
                (u16::from(EtherType::Arp), out)
            }
            Net::EtherType { ethertype, payload } => (*ethertype, payload.clone()),
            Net::Snap {
                oui,
                protocol,
                payload,
            } => {
                let mut out = vec![llc::SAP_SNAP, llc::SAP_SNAP, llc::CONTROL_UI];
                out.extend_from_slice(oui);
                out.extend_from_slice(&protocol.to_be_bytes());
                out.extend_from_slice(payload);
                (out.len() as u16, out)
            }
            Net::Ipv4 { src, dst } => {
                let (protocol, mut upper) = self.transport_bytes();
                fill_transport_checksum(
                    &mut upper,
                    protocol,
                    |len| ipv4::pseudo_header_sum(*src, *dst, protocol, len),
                    self.fragment.is_none(),
                );
                let total = ipv4::MIN_HEADER_LEN + upper.len();
                let mut out = vec![0u8; total];
                let mut p = ipv4::Packet::new_unchecked(&mut out[..]);
                p.set_version_and_header_len(ipv4::MIN_HEADER_LEN);
                p.set_total_len(total as u16);
                p.set_ident(self.ip_id);
                let (offset, more) = self.fragment.unwrap_or((0, false));
                p.set_fragment(self.dont_fragment, more, offset);
                p.set_ttl(self.ttl);
                p.set_protocol(protocol);
                p.set_src_addr(*src);
                p.set_dst_addr(*dst);
                p.fill_checksum();
                out[ipv4::MIN_HEADER_LEN..].copy_from_slice(&upper);
                (u16::from(EtherType::Ipv4), out)
            }
            Net::Ipv6 { src, dst } => {
                let (protocol, mut upper) = self.transport_bytes();
                fill_transport_checksum(
                    &mut upper,
                    protocol,
                    |len| ipv6::pseudo_header_sum(*src, *dst, protocol, len),
                    self.fragment.is_none(),
                );
                // Extension headers in call order, then the fragment header, each naming
                // the next one.
                let mut kinds: Vec<u8> = self.ipv6_extensions.clone();
                if self.fragment.is_some() {
                    kinds.push(ipv6::FRAGMENT);
                }
                let mut ext = Vec::new();
                for (i, &kind) in kinds.iter().enumerate() {
                    let next = kinds.get(i + 1).copied().unwrap_or(protocol);
                    let mut header = [0u8; 8];
                    if kind == ipv6::FRAGMENT {
                        let (offset, more) = self.fragment.unwrap_or((0, false));
                        let frag = Fragment {
                            id: u32::from(self.ip_id),
                            offset,
                            more,
                        };
                        ipv6::emit_fragment_header(next, &frag, &mut header);
                    } else {
                        ipv6::emit_options_header(next, 8, &mut header);
                    }
                    ext.extend_from_slice(&header);
                }
                let first = kinds.first().copied().unwrap_or(protocol);
                let payload_len = ext.len() + upper.len();
                let mut out = vec![0u8; ipv6::HEADER_LEN];
                let mut p = ipv6::Packet::new_unchecked(&mut out[..]);
                p.set_version_class_flow(0, 0);
                p.set_payload_len(payload_len as u16);
                p.set_next_header(first);
                p.set_hop_limit(self.ttl);
                p.set_src_addr(*src);
                p.set_dst_addr(*dst);
                out.extend_from_slice(&ext);
                out.extend_from_slice(&upper);
                (u16::from(EtherType::Ipv6), out)
            }
        }
    }

    /// The transport bytes (checksum not yet filled) and their IP protocol number.
    fn transport_bytes(&self) -> (u8, Vec<u8>) {
        let ipv6 = matches!(self.net, Net::Ipv6 { .. });
        match &self.trans {
            Trans::None => (ipv6::NO_NEXT_HEADER, Vec::new()),
            Trans::Raw { protocol, payload } => (*protocol, payload.clone()),
            Trans::Tcp {
                src,
                dst,
                seq,
                ack,
                flags,
                payload,
            } => {
                let mut out = vec![0u8; tcp::MIN_HEADER_LEN + payload.len()];
                let mut p = tcp::Packet::new_unchecked(&mut out[..]);
                p.set_src_port(*src);
                p.set_dst_port(*dst);
                p.set_seq_number(*seq);
                p.set_ack_number(*ack);
                p.set_header_len_and_flags(tcp::MIN_HEADER_LEN, TcpFlags(*flags));
                p.set_window(65535);
                out[tcp::MIN_HEADER_LEN..].copy_from_slice(payload);
                (6, out)
            }
            Trans::Udp { src, dst, payload } => {
                let mut out = vec![0u8; udp::HEADER_LEN + payload.len()];
                let mut p = udp::Packet::new_unchecked(&mut out[..]);
                p.set_src_port(*src);
                p.set_dst_port(*dst);
                p.set_length((udp::HEADER_LEN + payload.len()) as u16);
                out[udp::HEADER_LEN..].copy_from_slice(payload);
                (17, out)
            }
            Trans::Icmp {
                icmp_type,
                code,
                body,
            } => {
                let mut out = vec![0u8; icmp::HEADER_LEN + body.len()];
                icmp::Packet::new_unchecked(&mut out[..]).set_type_code(*icmp_type, *code);
                out[icmp::HEADER_LEN..].copy_from_slice(body);
                (if ipv6 { 58 } else { 1 }, out)
            }
        }
    }
}

/// Fills the checksum of a TCP, UDP or ICMP payload; fragments keep a zero checksum
/// because theirs covers the reassembled datagram.
fn fill_transport_checksum(
    upper: &mut [u8],
    protocol: u8,
    pseudo: impl Fn(u32) -> u32,
    whole: bool,
) {
    if !whole {
        return;
    }
    let len = upper.len() as u32;
    match protocol {
        6 if upper.len() >= tcp::MIN_HEADER_LEN => {
            tcp::Packet::new_unchecked(upper).fill_checksum(pseudo(len));
        }
        17 if upper.len() >= udp::HEADER_LEN => {
            udp::Packet::new_unchecked(upper).fill_checksum(pseudo(len));
        }
        1 if upper.len() >= icmp::HEADER_LEN => {
            icmp::Packet::new_unchecked(upper).fill_checksum(0);
        }
        58 if upper.len() >= icmp::HEADER_LEN => {
            icmp::Packet::new_unchecked(upper).fill_checksum(pseudo(len));
        }
        _ => {}
    }
}

/// Builds an LLDP payload (the bytes after EtherType 0x88cc) TLV by TLV.
///
/// Call the mandatory chassis id, port id and TTL methods first, as LLDP requires;
/// [`LldpBuilder::build`] appends the End TLV.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LldpBuilder {
    bytes: Vec<u8>,
}

impl LldpBuilder {
    /// An empty LLDPDU.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends any TLV (type 0..=127, value up to 511 bytes).
    pub fn tlv(mut self, tlv_type: u8, value: &[u8]) -> Self {
        let header = (u16::from(tlv_type & 0x7f) << 9) | (value.len() as u16 & 0x01ff);
        self.bytes.extend_from_slice(&header.to_be_bytes());
        self.bytes.extend_from_slice(value);
        self
    }

    fn subtyped(self, tlv_type: u8, subtype: u8, value: &[u8]) -> Self {
        let mut v = vec![subtype];
        v.extend_from_slice(value);
        self.tlv(tlv_type, &v)
    }

    /// Chassis id TLV with an explicit subtype.
    pub fn chassis(self, subtype: u8, id: &[u8]) -> Self {
        self.subtyped(1, subtype, id)
    }

    /// Chassis id TLV of subtype MAC address (4).
    pub fn chassis_mac(self, mac: MacAddr) -> Self {
        self.chassis(4, &mac.0)
    }

    /// Port id TLV with an explicit subtype.
    pub fn port(self, subtype: u8, id: &[u8]) -> Self {
        self.subtyped(2, subtype, id)
    }

    /// Port id TLV of subtype interface name (5).
    pub fn port_name(self, name: &str) -> Self {
        self.port(5, name.as_bytes())
    }

    /// Time-to-live TLV.
    pub fn ttl(self, seconds: u16) -> Self {
        self.tlv(3, &seconds.to_be_bytes())
    }

    /// Port description TLV.
    pub fn port_description(self, text: &str) -> Self {
        self.tlv(4, text.as_bytes())
    }

    /// System name TLV.
    pub fn system_name(self, text: &str) -> Self {
        self.tlv(5, text.as_bytes())
    }

    /// System description TLV.
    pub fn system_description(self, text: &str) -> Self {
        self.tlv(6, text.as_bytes())
    }

    /// System capabilities TLV.
    pub fn capabilities(self, supported: u16, enabled: u16) -> Self {
        let mut v = supported.to_be_bytes().to_vec();
        v.extend_from_slice(&enabled.to_be_bytes());
        self.tlv(7, &v)
    }

    /// Management address TLV (interface numbering subtype 2, interface 1, no OID).
    pub fn management_address(self, addr: IpAddr) -> Self {
        let (subtype, bytes): (u8, Vec<u8>) = match addr {
            IpAddr::V4(a) => (1, a.octets().to_vec()),
            IpAddr::V6(a) => (2, a.octets().to_vec()),
        };
        let mut v = vec![(bytes.len() + 1) as u8, subtype];
        v.extend_from_slice(&bytes);
        v.push(2);
        v.extend_from_slice(&1u32.to_be_bytes());
        v.push(0);
        self.tlv(8, &v)
    }

    /// The LLDPDU with its End TLV.
    pub fn build(self) -> Vec<u8> {
        self.tlv(0, &[]).bytes
    }
}

/// Builds a CDP payload (the bytes after the SNAP header) with a valid checksum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdpBuilder {
    version: u8,
    ttl: u8,
    tlvs: Vec<u8>,
}

impl Default for CdpBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl CdpBuilder {
    /// An empty CDPv2 message with TTL 180.
    pub fn new() -> Self {
        Self {
            version: 2,
            ttl: 180,
            tlvs: Vec::new(),
        }
    }

    /// Appends any TLV.
    pub fn tlv(mut self, tlv_type: u16, value: &[u8]) -> Self {
        self.tlvs.extend_from_slice(&tlv_type.to_be_bytes());
        self.tlvs
            .extend_from_slice(&((value.len() + 4) as u16).to_be_bytes());
        self.tlvs.extend_from_slice(value);
        self
    }

    /// Device id TLV.
    pub fn device_id(self, text: &str) -> Self {
        self.tlv(0x0001, text.as_bytes())
    }

    /// Addresses TLV (IPv4 as NLPID 0xcc, IPv6 as 802.2 with the IPv6 EtherType).
    pub fn addresses(self, addrs: &[IpAddr]) -> Self {
        let v = encode_cdp_addresses(addrs);
        self.tlv(0x0002, &v)
    }

    /// Port id TLV.
    pub fn port_id(self, text: &str) -> Self {
        self.tlv(0x0003, text.as_bytes())
    }

    /// Capabilities TLV.
    pub fn capabilities(self, bits: u32) -> Self {
        self.tlv(0x0004, &bits.to_be_bytes())
    }

    /// Software version TLV.
    pub fn software_version(self, text: &str) -> Self {
        self.tlv(0x0005, text.as_bytes())
    }

    /// Platform TLV.
    pub fn platform(self, text: &str) -> Self {
        self.tlv(0x0006, text.as_bytes())
    }

    /// Native VLAN TLV.
    pub fn native_vlan(self, vlan: u16) -> Self {
        self.tlv(0x000a, &vlan.to_be_bytes())
    }

    /// Management addresses TLV.
    pub fn management_addresses(self, addrs: &[IpAddr]) -> Self {
        let v = encode_cdp_addresses(addrs);
        self.tlv(0x0016, &v)
    }

    /// The CDP message with its checksum.
    pub fn build(self) -> Vec<u8> {
        let mut out = vec![self.version, self.ttl, 0, 0];
        out.extend_from_slice(&self.tlvs);
        let sum = checksum_finish(checksum_add(0, &out));
        out[2..4].copy_from_slice(&sum.to_be_bytes());
        out
    }
}

fn encode_cdp_addresses(addrs: &[IpAddr]) -> Vec<u8> {
    let mut v = (addrs.len() as u32).to_be_bytes().to_vec();
    for addr in addrs {
        match addr {
            IpAddr::V4(a) => {
                v.extend_from_slice(&[1, 1, 0xcc]);
                v.extend_from_slice(&4u16.to_be_bytes());
                v.extend_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                v.extend_from_slice(&[2, 8, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd]);
                v.extend_from_slice(&16u16.to_be_bytes());
                v.extend_from_slice(&a.octets());
            }
        }
    }
    v
}
