//! The `flow` record.

use crate::Timestamp;
use serde::Serialize;
use std::net::IpAddr;
use wire::MacAddr;

/// Transport of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// ICMPv6.
    Icmpv6,
    /// Any other IP protocol.
    Other,
}

/// How a flow stands when its record is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowState {
    /// TCP: SYN seen, no SYN-ACK.
    SynSent,
    /// TCP: handshake seen (or data seen both ways).
    Established,
    /// TCP: capture began mid-stream; no handshake seen.
    Midstream,
    /// TCP: FIN seen from both sides.
    Closed,
    /// TCP: RST seen.
    Reset,
    /// Connectionless (UDP/ICMP/other) traffic.
    Active,
    /// Removed under memory pressure before it ended.
    Evicted,
}

/// A finished (or flushed) bidirectional flow. `src` is the initiator (client).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowRecord {
    /// Always `"flow"`.
    pub kind: &'static str,
    /// Sequence number of the flow within this run, from 1.
    pub id: u64,
    /// First packet.
    pub ts_start: Timestamp,
    /// Last packet.
    pub ts_end: Timestamp,
    /// Transport.
    pub transport: TransportKind,
    /// Innermost VLAN id, if tagged.
    pub vlan: Option<u16>,
    /// Initiator address.
    pub src_ip: IpAddr,
    /// Initiator port (0 for ICMP/other).
    pub src_port: u16,
    /// Responder address.
    pub dst_ip: IpAddr,
    /// Responder port (0 for ICMP/other).
    pub dst_port: u16,
    /// Initiator's MAC, when the link layer carries one.
    pub src_mac: Option<MacAddr>,
    /// Responder's MAC, when the link layer carries one.
    pub dst_mac: Option<MacAddr>,
    /// Packets initiator → responder.
    pub packets_to_server: u64,
    /// Packets responder → initiator.
    pub packets_to_client: u64,
    /// IP bytes initiator → responder.
    pub bytes_to_server: u64,
    /// IP bytes responder → initiator.
    pub bytes_to_client: u64,
    /// Application protocol (dissector name), if one was recognised.
    pub app: Option<&'static str>,
    /// Final state.
    pub state: FlowState,
    /// Bytes lost to gaps in TCP reassembly (both directions).
    pub gap_bytes: u64,
}
