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
