//! Zero-copy decoding of link, network and transport headers.
//!
//! Purpose: turn one captured frame (`&[u8]` plus its link type) into a [`Decoded`] view
//! of its layers — Ethernet II / 802.3 LLC-SNAP, 802.1Q and 802.1ad VLAN tags, Linux
//! cooked (SLL, SLL2), BSD null/loopback, raw IP; ARP; IPv4 and IPv6 (with extension
//! headers); TCP, UDP, ICMP, ICMPv6; LLDP and CDP payloads; any other EtherType kept raw
//! for layer-2 dissectors.
//!
//! Guarantees: no I/O, no state, no allocation, no panics on any input. A frame cut short
//! (snaplen) keeps every layer that was complete and sets [`Decoded::truncated`]; a layer
//! whose header lies about its length stops decoding there and records why in
//! [`Decoded::error`].
//!
//! Caller's duty: IPv4/IPv6 fragments are reported ([`IpInfo::fragment`]) but not
//! reassembled here; the caller reassembles and calls [`decode_transport`] on the result.
//!
//! Layout: one module per protocol ([`ethernet`], [`llc`], [`vlan`], [`sll`],
//! [`loopback`], [`arp`], [`ipv4`], [`ipv6`], [`tcp`], [`udp`], [`icmp`]), each a checked
//! zero-copy view whose constructor validates every length its getters use, with setters
//! for emitting; [`lldp`] and [`cdp`] parse discovery payloads; [`build`] synthesises
//! frames for tests.
#![forbid(unsafe_code)]

pub mod arp;
pub mod build;
mod bytes;
pub mod cdp;
mod decode;
pub mod ethernet;
pub mod icmp;
pub mod ip;
pub mod ipv4;
pub mod ipv6;
pub mod llc;
pub mod lldp;
pub mod loopback;
mod mac;
pub mod sll;
pub mod tcp;
mod text;
pub mod udp;
pub mod vlan;

pub use decode::TransportDecode;
pub use mac::MacAddr;
pub use text::{AddrList, Text, ADDR_LIST_CAPACITY};

use std::net::IpAddr;

/// Capture link types (libpcap `LINKTYPE_*` values) that gapwatch decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// `LINKTYPE_NULL` (0): BSD loopback, 4-byte host-endian address family.
    Null,
    /// `LINKTYPE_ETHERNET` (1).
    Ethernet,
    /// `LINKTYPE_RAW` (101) and the historical DLT 12/14: bare IPv4 or IPv6.
    RawIp,
    /// `LINKTYPE_LOOP` (108): OpenBSD loopback, 4-byte big-endian address family.
    Loop,
    /// `LINKTYPE_LINUX_SLL` (113): Linux cooked capture v1.
    LinuxSll,
    /// `LINKTYPE_IPV4` (228).
    Ipv4,
    /// `LINKTYPE_IPV6` (229).
    Ipv6,
    /// `LINKTYPE_LINUX_SLL2` (276): Linux cooked capture v2.
    LinuxSll2,
    /// Any other link type; frames of this type are not decoded.
    Unknown(u32),
}

impl LinkType {
    /// Maps a libpcap `LINKTYPE_*` number to a link type.
    pub fn from_linktype(value: u32) -> Self {
        match value {
            0 => Self::Null,
            1 => Self::Ethernet,
            12 | 14 | 101 => Self::RawIp,
            108 => Self::Loop,
            113 => Self::LinuxSll,
            228 => Self::Ipv4,
            229 => Self::Ipv6,
            276 => Self::LinuxSll2,
            other => Self::Unknown(other),
        }
    }

    /// The libpcap `LINKTYPE_*` number of this link type.
    pub fn linktype(self) -> u32 {
        match self {
            Self::Null => 0,
            Self::Ethernet => 1,
            Self::RawIp => 101,
            Self::Loop => 108,
            Self::LinuxSll => 113,
            Self::Ipv4 => 228,
            Self::Ipv6 => 229,
            Self::LinuxSll2 => 276,
            Self::Unknown(other) => other,
        }
    }
}

/// Up to two VLAN tags (802.1ad outer service tag, 802.1Q inner customer tag).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VlanTags {
    /// VLAN ids in wire order (outermost first); unused slots are 0.
    pub ids: [u16; 2],
    /// Number of tags present (0, 1 or 2; deeper stacks keep the first two).
    pub count: u8,
}

impl VlanTags {
    /// The innermost VLAN id, which is the one that scopes IP addresses; `None` untagged.
    pub fn inner(&self) -> Option<u16> {
        match self.count {
            0 => None,
            n => Some(self.ids[usize::from(n.min(2)) - 1]),
        }
    }
}

/// Link-layer addresses and type of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    /// Source MAC (for cooked captures: the sender's link address when it is 6 bytes).
    pub src_mac: Option<MacAddr>,
    /// Destination MAC; cooked captures do not carry one.
    pub dst_mac: Option<MacAddr>,
    /// EtherType after any VLAN tags (for 802.3 LLC/SNAP frames: the SNAP protocol id,
    /// or 0 when the LLC frame has no SNAP header).
    pub ethertype: u16,
    /// VLAN tags.
    pub vlans: VlanTags,
}

/// An ARP packet (Ethernet/IPv4 only; other hardware/protocol types are `Network::Other`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpInfo {
    /// 1 = request, 2 = reply, other values kept as seen.
    pub operation: u16,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: std::net::Ipv4Addr,
    /// Target hardware address.
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: std::net::Ipv4Addr,
}

/// One IP fragment's place in its datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// IPv4 identification (16 bits) or IPv6 fragment header identification (32 bits).
    pub id: u32,
    /// Offset of this fragment's payload in the original datagram, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

/// IPv4 or IPv6 header summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpInfo<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol (IPv6: after extension headers).
    pub protocol: u8,
    /// TTL / hop limit.
    pub ttl: u8,
    /// IPv4 identification (0 for IPv6, whose fragment header carries its own): with the
    /// addresses and length it tells the same packet seen again after a hop.
    pub ident: u16,
    /// Length of the whole IP packet as the header states it (IPv4 total length,
    /// IPv6 40 + payload length), used for byte counters.
    pub total_len: u32,
    /// Set when this packet is a fragment (not the whole datagram).
    pub fragment: Option<Fragment>,
    /// Upper-layer bytes present in the capture (may be shorter than stated if truncated).
    pub payload: &'a [u8],
}

/// The network layer of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network<'a> {
    /// Nothing decodable above the link layer.
    None,
    /// ARP.
    Arp(ArpInfo),
    /// IPv4.
    Ipv4(IpInfo<'a>),
    /// IPv6.
    Ipv6(IpInfo<'a>),
    /// LLDP (EtherType 0x88cc); parse with [`lldp::parse`].
    Lldp(&'a [u8]),
    /// CDP (802.3 LLC/SNAP, OUI 00:00:0c, protocol 0x2000); parse with [`cdp::parse`].
    Cdp(&'a [u8]),
    /// Any other EtherType, payload kept for layer-2 dissectors (Profinet, GOOSE ...).
    Other {
        /// EtherType (or SNAP protocol id).
        ethertype: u16,
        /// Bytes after the link header and VLAN tags.
        payload: &'a [u8],
    },
}

/// TCP flag bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// FIN.
    pub const FIN: u16 = 0x001;
    /// SYN.
    pub const SYN: u16 = 0x002;
    /// RST.
    pub const RST: u16 = 0x004;
    /// PSH.
    pub const PSH: u16 = 0x008;
    /// ACK.
    pub const ACK: u16 = 0x010;
    /// URG.
    pub const URG: u16 = 0x020;
    /// ECE (ECN echo).
    pub const ECE: u16 = 0x040;
    /// CWR (congestion window reduced).
    pub const CWR: u16 = 0x080;
    /// NS (ECN nonce, historic).
    pub const NS: u16 = 0x100;

    /// True when every bit of `mask` is set.
    pub fn has(self, mask: u16) -> bool {
        self.0 & mask == mask
    }
}

/// TCP header summary and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpInfo<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window (unscaled).
    pub window: u16,
    /// Payload present in the capture.
    pub payload: &'a [u8],
    /// Payload length the IP header implies (larger than `payload.len()` if truncated).
    pub payload_len: u32,
}

/// UDP header summary and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpInfo<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload present in the capture.
    pub payload: &'a [u8],
}

/// ICMP / ICMPv6 header summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpInfo<'a> {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Bytes after the 4-byte ICMP header.
    pub payload: &'a [u8],
}

/// The transport layer of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    /// No transport layer (not IP, a non-first fragment, or cut before it).
    None,
    /// TCP.
    Tcp(TcpInfo<'a>),
    /// UDP.
    Udp(UdpInfo<'a>),
    /// ICMP (IPv4).
    Icmp(IcmpInfo<'a>),
    /// ICMPv6.
    Icmpv6(IcmpInfo<'a>),
    /// Another IP protocol.
    Other {
        /// IP protocol number.
        protocol: u8,
        /// Its bytes.
        payload: &'a [u8],
    },
}

/// Why decoding stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The link type is not one gapwatch decodes.
    UnsupportedLinkType(u32),
    /// A header's own length field is impossible (e.g. IPv4 IHL < 5, TCP offset < 5).
    BadHeaderLength(Layer),
    /// A header version/type field has a value that cannot be this protocol.
    BadVersion(Layer),
}

/// A protocol layer, for error reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Link layer.
    Link,
    /// VLAN tag.
    Vlan,
    /// ARP.
    Arp,
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP / ICMPv6.
    Icmp,
}

/// Every decoded layer of one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// Link layer; `None` for raw-IP and loopback captures.
    pub link: Option<LinkInfo>,
    /// Network layer.
    pub network: Network<'a>,
    /// Transport layer.
    pub transport: Transport<'a>,
    /// Some layer was cut short by the capture's snapshot length.
    pub truncated: bool,
    /// Where and why decoding stopped, if it did.
    pub error: Option<DecodeError>,
}

impl<'a> Decoded<'a> {
    /// The IP header summary, IPv4 or IPv6.
    pub fn ip(&self) -> Option<&IpInfo<'a>> {
        match &self.network {
            Network::Ipv4(ip) | Network::Ipv6(ip) => Some(ip),
            _ => None,
        }
    }

    /// The innermost VLAN id, if tagged.
    pub fn vlan(&self) -> Option<u16> {
        self.link.and_then(|l| l.vlans.inner())
    }
}

/// Why a checked header view ([`ipv4::Packet::new_checked`] and friends) refused a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckError {
    /// The buffer is shorter than the header (or the length it states).
    Truncated,
    /// A length field is impossible (below the header minimum).
    BadLength,
    /// A version field does not match the protocol.
    BadVersion,
}

/// Decodes one captured frame.
///
/// Never panics and never allocates. Unknown link types yield
/// [`DecodeError::UnsupportedLinkType`] and no layers.
pub fn decode(link: LinkType, frame: &[u8]) -> Decoded<'_> {
    decode::decode(link, frame)
}

/// Decodes a transport header from an IP payload (used after fragment reassembly).
/// `ipv6` selects ICMPv6 for protocol 58. `stated_len` is the payload length the IP
/// header implies. Returns the layer and whether the payload is shorter than stated.
pub fn decode_transport(
    protocol: u8,
    ipv6: bool,
    payload: &[u8],
    stated_len: u32,
) -> (Transport<'_>, bool) {
    let t = decode::transport(protocol, ipv6, payload, stated_len, true);
    (t.transport, t.truncated)
}

/// Like [`decode_transport`], also reporting a transport header whose length field lies.
pub fn decode_transport_checked(
    protocol: u8,
    ipv6: bool,
    payload: &[u8],
    stated_len: u32,
) -> TransportDecode<'_> {
    decode::transport(protocol, ipv6, payload, stated_len, true)
}
