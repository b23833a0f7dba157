//! Application-protocol dissectors.
//!
//! Purpose: turn reassembled TCP byte streams and UDP datagrams into what gapwatch
//! learns from: observations about devices (names, identities) now, protocol events
//! later. Each protocol is one module with a pure parser, a small per-stream state and a
//! mapping to outputs.
//!
//! Guarantees: no I/O, no panics on any input; a dissector that meets bytes it cannot
//! parse says so through [`Emitter`] and keeps going.
//!
//! Caller's duty: the stream layer (the sensor) delivers each direction's bytes in order,
//! reports gaps with [`Dissector::on_gap`], and keeps the bytes a dissector did not
//! consume, presenting them again with the next data.
#![forbid(unsafe_code)]

pub mod ads;
pub mod bacnet;
pub mod c37118;
pub mod dhcp;
pub mod dnp3;
pub mod dns;
mod emit;
pub mod enip;
pub mod event;
pub mod fins;
pub mod fox;
pub mod ftp;
pub mod hartip;
pub mod http;
pub mod iec104;
pub mod intern;
pub mod l2;
pub mod mms;
pub mod modbus;
pub mod mqtt;
pub mod nbns;
pub mod ntp;
pub mod opcua;
mod pending;
pub mod rdp;
mod registry;
pub mod s7comm;
pub mod smb;
pub mod smtp;
pub mod snmp;
pub mod ssh;
pub mod telnet;
pub mod tls;

pub use emit::{Emitter, Events, IdentityField, NameSource, Observation};
pub use event::{Attr, Event, OpClass, PointValue, Status, Target};
pub use registry::{DissectorFactory, Registry};

use std::net::IpAddr;
use wire::MacAddr;

/// Direction of data within a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Initiator (client) to responder (server).
    ToServer,
    /// Responder (server) to initiator (client).
    ToClient,
}

/// Transport carrying a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// A reassembled TCP stream.
    Tcp,
    /// UDP datagrams.
    Udp,
}

/// What a dissector knows about the flow it is attached to. `client` is the initiator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowContext {
    /// Transport.
    pub transport: Transport,
    /// Innermost VLAN id.
    pub vlan: Option<u16>,
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
    /// Time of the packet that carried the data being delivered.
    pub ts: records::Timestamp,
}

impl FlowContext {
    /// Source address and MAC of data travelling in `dir`.
    pub fn sender(&self, dir: Direction) -> (IpAddr, Option<MacAddr>) {
        match dir {
            Direction::ToServer => (self.client_ip, self.client_mac),
            Direction::ToClient => (self.server_ip, self.server_mac),
        }
    }
}

/// A per-flow protocol parser. One instance serves one flow, both directions.
pub trait Dissector: Send {
    /// Protocol name, as used in records (`"dns"`, `"modbus"` ...).
    fn name(&self) -> &'static str;

    /// New in-order stream bytes in `dir` (TCP). Returns how many bytes were consumed;
    /// the caller keeps the rest and presents them again, followed by new data. A
    /// dissector that needs more input to make progress returns 0.
    fn on_stream(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter,
    ) -> usize;

    /// One UDP datagram in `dir`.
    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter);

    /// `len` bytes are missing from the stream in `dir`; drop partial messages and
    /// resynchronise on what follows.
    fn on_gap(&mut self, ctx: &FlowContext, dir: Direction, len: u64, out: &mut Emitter) {
        let _ = (ctx, dir, len, out);
    }

    /// The flow ended (closed, idle, evicted or at the end of input): report what is
    /// still held, such as messages whose remaining fragments never came.
    fn on_end(&mut self, ctx: &FlowContext, out: &mut Emitter) {
        let _ = (ctx, out);
    }
}
