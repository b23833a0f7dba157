//! What dissectors produce.

use crate::event::Event;
use crate::{Direction, FlowContext};
use std::net::IpAddr;
use wire::MacAddr;

/// Where a host name came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameSource {
    /// DHCP host name option (12) or FQDN option (81).
    Dhcp,
    /// A DNS answer (A/AAAA record, or PTR).
    Dns,
    /// NetBIOS name service registration or answer.
    Netbios,
    /// mDNS / LLMNR answers.
    Multicast,
    /// LLDP system name.
    Lldp,
    /// CDP device id.
    Cdp,
    /// Profinet DCP name of station, announced by the device.
    Profinet,
    /// SNMP sysName of the responding agent.
    Snmp,
}

impl NameSource {
    /// Lower-case label used in records.
    pub fn label(self) -> &'static str {
        match self {
            Self::Dhcp => "dhcp",
            Self::Dns => "dns",
            Self::Netbios => "netbios",
            Self::Multicast => "mdns",
            Self::Lldp => "lldp",
            Self::Cdp => "cdp",
            Self::Profinet => "profinet",
            Self::Snmp => "snmp",
        }
    }
}

/// An identity field a device announced about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentityField {
    /// Manufacturer.
    Vendor,
    /// Product name.
    Product,
    /// Model or order number.
    Model,
    /// Firmware or software version.
    Firmware,
    /// Serial number.
    Serial,
}

/// A fact about a device learnt from protocol data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    /// `name` belongs to the device at `ip` and/or `mac`.
    Hostname {
        /// Address the name belongs to, when known.
        ip: Option<IpAddr>,
        /// MAC the name belongs to, when known (DHCP client hardware address).
        mac: Option<MacAddr>,
        /// The name, as announced (trimmed, lower-case not forced).
        name: String,
        /// Protocol it came from.
        source: NameSource,
    },
    /// The device at `ip` (and/or `mac`) announced an identity field.
    Identity {
        /// Address of the device, when known.
        ip: Option<IpAddr>,
        /// MAC of the device, when known.
        mac: Option<MacAddr>,
        /// Which field.
        field: IdentityField,
        /// Its value, trimmed.
        value: String,
        /// Protocol it came from (`modbus`, `enip`, `s7comm`, `lldp` ...).
        source: &'static str,
    },
}

/// Collects a dissector's output. Reused across calls: the caller drains it.
#[derive(Debug, Default)]
pub struct Emitter {
    /// Observations since the last drain.
    pub observations: Vec<Observation>,
    /// Protocol events since the last drain.
    pub events: Vec<Event>,
    /// Malformed or unparseable messages since the last drain, as
    /// (protocol, reason) pairs; they become `protocol_anomaly` events.
    pub anomalies: Vec<(&'static str, String)>,
    /// Consumed events kept for their buffers (see [`Emitter::recycle_events`]), so a
    /// steady stream of events allocates no new target, value or attribute lists.
    spare: Vec<Event>,
}

/// Most consumed events kept for reuse.
const MAX_SPARE_EVENTS: usize = 64;

/// Gives `fresh` (a new, never-filled list) the buffer of `old`, emptied.
fn reuse_buffer<T>(fresh: &mut Vec<T>, old: &mut Vec<T>) {
    if fresh.capacity() == 0 {
        old.clear();
        std::mem::swap(fresh, old);
    }
}

impl Emitter {
    /// Records a host name.
    pub fn hostname(
        &mut self,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        name: &str,
        source: NameSource,
    ) {
        let name = name.trim().trim_end_matches('.');
        if !name.is_empty() {
            self.observations.push(Observation::Hostname {
                ip,
                mac,
                name: name.to_string(),
                source,
            });
        }
    }

    /// Records an identity field announced by the device that sent in `dir`.
    pub fn identity(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        field: IdentityField,
        value: &str,
        source: &'static str,
    ) {
        let value = value.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if !value.is_empty() {
            let (ip, mac) = ctx.sender(dir);
            self.observations.push(Observation::Identity {
                ip: Some(ip),
                mac,
                field,
                value: value.to_string(),
                source,
            });
        }
    }

    /// Records `event`, a message sent in `dir` on the flow `ctx`: its time and
    /// addresses come from the flow. Returns it for the caller to add details to.
    ///
    /// ```
    /// # use dissect::{Emitter, Event, OpClass};
    /// # fn f(out: &mut Emitter, ctx: &dissect::FlowContext) {
    /// out.event(ctx, dissect::Direction::ToServer, Event::new("modbus", OpClass::Read, 3, "read_holding_registers", false))
    ///     .target("holding_register", 0, 20);
    /// # }
    /// ```
    pub fn event(&mut self, ctx: &FlowContext, dir: Direction, mut event: Event) -> &mut Event {
        let (src_ip, src_port, dst_ip, dst_port) = match dir {
            Direction::ToServer => (
                ctx.client_ip,
                ctx.client_port,
                ctx.server_ip,
                ctx.server_port,
            ),
            Direction::ToClient => (
                ctx.server_ip,
                ctx.server_port,
                ctx.client_ip,
                ctx.client_port,
            ),
        };
        let (src_mac, dst_mac) = match dir {
            Direction::ToServer => (ctx.client_mac, ctx.server_mac),
            Direction::ToClient => (ctx.server_mac, ctx.client_mac),
        };
        event.ts = ctx.ts;
        event.src_ip = Some(src_ip);
        event.src_port = src_port;
        event.dst_ip = Some(dst_ip);
        event.dst_port = dst_port;
        event.src_mac = src_mac;
        event.dst_mac = dst_mac;
        event.vlan = ctx.vlan;
        if let Some(mut old) = self.spare.pop() {
            reuse_buffer(&mut event.targets, &mut old.targets);
            reuse_buffer(&mut event.values, &mut old.values);
            reuse_buffer(&mut event.attrs, &mut old.attrs);
        }
        self.events.push(event);
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    /// Empties `events` once the caller has read them, keeping their buffers for the
    /// next events.
    pub fn recycle_events(&mut self) {
        while let Some(event) = self.events.pop() {
            if self.spare.len() < MAX_SPARE_EVENTS {
                self.spare.push(event);
            }
        }
    }

    /// Records a malformed message.
    pub fn anomaly(&mut self, protocol: &'static str, reason: impl Into<String>) {
        self.anomalies.push((protocol, reason.into()));
    }

    /// True when nothing was emitted since the last drain.
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty() && self.anomalies.is_empty() && self.events.is_empty()
    }
}
