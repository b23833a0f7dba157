//! What each address does in industrial protocols, and the role that follows from it.
//!
//! Roles are inferred from behaviour, not from ports or vendors: a device that answers a
//! field protocol is a controller; one that programs controllers is an engineering
//! workstation; one that polls many controllers is an HMI; one that serves a supervisory
//! protocol (OPC UA) while polling controllers is a SCADA server.

use dissect::{Event, OpClass};
use records::Role;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// Protocols spoken by controllers, RTUs and IEDs.
const FIELD: &[&str] = &[
    "modbus",
    "dnp3",
    "s7comm",
    "s7comm-plus",
    "enip",
    "cip",
    "bacnet",
    "iec104",
    "fins",
    "hartip",
    "ads",
    "mms",
    "c37118",
    "profinet",
    "goose",
];
/// Protocols of the supervisory layer.
const SUPERVISORY: &[&str] = &["opcua", "fox", "mqtt"];
/// Field protocols whose servers are usually RTUs.
const RTU: &[&str] = &["iec104", "dnp3"];
/// Field protocols whose servers are usually substation IEDs or PMUs.
const IED: &[&str] = &["mms", "goose", "c37118"];
/// Most field servers remembered per client.
const MAX_FIELD_SERVERS: usize = 256;

/// Industrial-protocol behaviour of one address.
#[derive(Clone, Debug, Default)]
pub(crate) struct Behaviour {
    /// Industrial protocols this address answered.
    pub served: BTreeSet<&'static str>,
    /// Industrial protocols this address sent requests in.
    pub used: BTreeSet<&'static str>,
    /// Field devices this address sent requests to.
    pub field_servers: BTreeSet<IpAddr>,
    /// Whether requests of each operation class were sent. A flag, not a count: taking
    /// the same event twice changes nothing, which lets the inventory skip repeats.
    pub asked: [bool; 8],
}

/// True for industrial (field or supervisory) protocols.
pub(crate) fn is_ot(protocol: &str) -> bool {
    FIELD.contains(&protocol) || SUPERVISORY.contains(&protocol)
}

fn op_index(op: OpClass) -> usize {
    match op {
        OpClass::Read => 0,
        OpClass::Write => 1,
        OpClass::Control => 2,
        OpClass::Program => 3,
        OpClass::Diagnostic => 4,
        OpClass::Identify => 5,
        OpClass::Session => 6,
        OpClass::Other => 7,
    }
}

/// What [`Behaviour::sent`] takes from an event and its sender. `sent` is idempotent,
/// so an event with the same key as one already taken can be skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SentKey {
    sender: IpAddr,
    /// Protocol names are `'static` dissector constants: compared by address and length.
    protocol: (usize, usize),
    op: OpClass,
    as_server: bool,
    is_response: bool,
    dst: Option<IpAddr>,
}

impl SentKey {
    /// The key of `event` sent by `sender`.
    pub(crate) fn new(sender: IpAddr, event: &Event, as_server: bool) -> Self {
        Self {
            sender,
            protocol: (event.protocol.as_ptr() as usize, event.protocol.len()),
            op: event.op,
            as_server,
            is_response: event.is_response,
            dst: event.dst_ip,
        }
    }

    /// A slot in a table of `2^bits` entries (a cheap mix of the fields, not a full hash).
    pub(crate) fn slot(&self, bits: u32) -> usize {
        let ip = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => u64::from(u32::from(v4)),
            IpAddr::V6(v6) => {
                let n = u128::from(v6);
                (n as u64) ^ (n >> 64) as u64
            }
        };
        let mut x = ip(self.sender)
            ^ self.dst.map_or(0, ip).rotate_left(29)
            ^ (self.protocol.0 as u64).rotate_left(13)
            ^ (u64::from(self.as_server) << 62 | u64::from(self.is_response) << 61)
            ^ (self.op as u64) << 56;
        x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (x >> (64 - bits)) as usize
    }
}

impl Behaviour {
    /// Takes one event in which this address is the sender; `as_server`: it sent it as
    /// the flow's responder (the side that was connected to), which is what serving a
    /// protocol means — whatever the protocol calls its messages (IEC 104 and DNP3
    /// outstations send unsolicited data; masters send confirmations).
    pub fn sent(&mut self, event: &Event, as_server: bool) {
        if !is_ot(event.protocol) {
            return;
        }
        if as_server {
            self.served.insert(event.protocol);
        } else if !event.is_response {
            self.used.insert(event.protocol);
            self.asked[op_index(event.op)] = true;
            if FIELD.contains(&event.protocol) && self.field_servers.len() < MAX_FIELD_SERVERS {
                if let Some(dst) = event.dst_ip {
                    self.field_servers.insert(dst);
                }
            }
        }
    }

    /// Adds another address's behaviour (a device with several addresses).
    pub fn merge(&mut self, other: &Behaviour) {
        self.served.extend(other.served.iter().copied());
        self.used.extend(other.used.iter().copied());
        self.field_servers
            .extend(other.field_servers.iter().copied());
        for (a, b) in self.asked.iter_mut().zip(other.asked) {
            *a |= b;
        }
    }

    /// The role this behaviour shows, if any.
    pub fn role(&self) -> Option<Role> {
        let serves = |set: &[&str]| self.served.iter().any(|p| set.contains(p));
        let uses = |set: &[&str]| self.used.iter().any(|p| set.contains(p));
        let asked = |op: OpClass| self.asked[op_index(op)];
        let role = if serves(FIELD) {
            if serves(RTU) {
                Role::Rtu
            } else if serves(IED) {
                Role::Ied
            } else {
                Role::Plc
            }
        } else if asked(OpClass::Program) {
            Role::EngineeringWorkstation
        } else if serves(SUPERVISORY) {
            Role::ScadaServer
        } else if self.field_servers.len() >= 2 {
            Role::Hmi
        } else if uses(SUPERVISORY) && !asked(OpClass::Write) && !asked(OpClass::Control) {
            Role::Historian
        } else if uses(FIELD) && (asked(OpClass::Diagnostic) || asked(OpClass::Identify)) {
            Role::EngineeringWorkstation
        } else if uses(FIELD) {
            Role::Hmi
        } else {
            return None;
        };
        Some(role)
    }
}
