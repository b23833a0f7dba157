//! Inputs the models receive besides protocol events and flow records.

use records::{Timestamp, TransportKind};
use std::net::IpAddr;
use wire::MacAddr;

/// A new flow: who opened a connection (or sent the first datagram) to whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowOpen {
    /// Flow id, as in the flow's record.
    pub id: u64,
    /// Time of its first packet.
    pub ts: Timestamp,
    /// Transport.
    pub transport: TransportKind,
    /// Initiator address.
    pub client_ip: IpAddr,
    /// Initiator port.
    pub client_port: u16,
    /// Initiator MAC, when known.
    pub client_mac: Option<MacAddr>,
    /// Responder address.
    pub server_ip: IpAddr,
    /// Responder port.
    pub server_port: u16,
    /// Responder MAC, when known.
    pub server_mac: Option<MacAddr>,
    /// True when the responder is a broadcast or multicast address.
    pub to_group: bool,
}

/// One IP packet as a link layer carried it: enough to tell which MAC sent which
/// addresses, and the same packet seen again after a hop (same addresses, IPv4
/// identification and length, lower TTL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpFrame {
    /// Capture time.
    pub ts: Timestamp,
    /// Source MAC of the frame.
    pub src_mac: MacAddr,
    /// Source address of the packet.
    pub src_ip: IpAddr,
    /// Destination address.
    pub dst_ip: IpAddr,
    /// IPv4 identification (0 for IPv6).
    pub ident: u16,
    /// Stated length of the IP packet.
    pub len: u32,
    /// TTL / hop limit.
    pub ttl: u8,
    /// Innermost 802.1Q VLAN id, when tagged.
    pub vlan: Option<u16>,
}
