//! What dissectors produce.

use crate::event::{Event, OpClass};
use crate::{Direction, FlowContext};
use std::borrow::Cow;
use std::net::IpAddr;
use std::ops::{Deref, DerefMut};
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
    /// DHCP vendor class identifier (option 60): the client software or device family
    /// (`MSFT 5.0`, `udhcp 1.35.0`, `ciscopnp`); not a manufacturer of its own.
    VendorClass,
    /// DHCP client identifier: DHCPv4 option 61 as colon-separated hex (type byte
    /// first), or `duid ` and the DUID's hex for DUID-based ids (DHCPv4 type 255,
    /// DHCPv6 option 1), which name a host rather than one of its interfaces.
    DhcpClientId,
    /// SSH server host key: `SHA256:<unpadded base64> (<key type>)`, as OpenSSH shows
    /// its fingerprint.
    SshHostKey,
    /// TLS server certificate: lower-case hex SHA-256 of the leaf certificate's DER
    /// (64 digits, as `sha256sum` prints it).
    TlsCertificate,
}

impl IdentityField {
    /// The field's name in the asset record's identity.
    pub fn name(self) -> &'static str {
        match self {
            IdentityField::Vendor => "vendor",
            IdentityField::Product => "product",
            IdentityField::Model => "model",
            IdentityField::Firmware => "firmware",
            IdentityField::Serial => "serial",
            IdentityField::VendorClass => "dhcp_vendor_class",
            IdentityField::DhcpClientId => "dhcp_client_id",
            IdentityField::SshHostKey => "ssh_host_key",
            IdentityField::TlsCertificate => "tls_certificate",
        }
    }

    /// True for the fields that name one host wherever it appears (client id, host
    /// key, certificate) rather than describe the device: the same value at two
    /// interfaces is one host, and a host may hold several (one host key per type).
    pub fn is_host_identity(self) -> bool {
        matches!(
            self,
            IdentityField::DhcpClientId | IdentityField::SshHostKey | IdentityField::TlsCertificate
        )
    }
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
    pub events: Events,
    /// Malformed or unparseable messages since the last drain, as
    /// (protocol, reason) pairs; they become `protocol_anomaly` events.
    pub anomalies: Vec<(&'static str, String)>,
}

/// Most consumed event slots kept for reuse.
const MAX_SPARE_EVENTS: usize = 64;

/// The events emitted since the last drain, read as a slice of [`Event`].
///
/// Consumed events stay in place as slots: the next event is written into one, so a
/// steady stream of events neither moves whole events around nor allocates new target,
/// value or attribute lists.
#[derive(Default)]
pub struct Events {
    /// Live events first (`len` of them), then consumed slots.
    slots: Vec<Event>,
    len: usize,
}

impl Events {
    /// Appends `event`, giving it the lists of a consumed slot when it has none.
    pub fn push(&mut self, event: Event) -> &mut Event {
        let index = self.len;
        self.len += 1;
        if index == self.slots.len() {
            self.slots.push(event);
            return &mut self.slots[index];
        }
        let slot = &mut self.slots[index];
        let targets = std::mem::take(&mut slot.targets);
        let values = std::mem::take(&mut slot.values);
        let attrs = std::mem::take(&mut slot.attrs);
        *slot = event;
        reuse_buffer(&mut slot.targets, targets);
        reuse_buffer(&mut slot.values, values);
        reuse_buffer(&mut slot.attrs, attrs);
        slot
    }

    /// Appends an event with these head fields, written into a consumed slot when there
    /// is one (no move of a whole event, lists keep their buffers). The caller stamps
    /// time and addresses.
    pub(crate) fn begin(
        &mut self,
        protocol: &'static str,
        op: OpClass,
        function: u32,
        function_name: Cow<'static, str>,
        is_response: bool,
    ) -> &mut Event {
        let index = self.len;
        self.len += 1;
        if index == self.slots.len() {
            self.slots.push(Event::new(
                protocol,
                op,
                function,
                function_name,
                is_response,
            ));
            return &mut self.slots[index];
        }
        let slot = &mut self.slots[index];
        slot.reset(protocol, op, function, function_name, is_response);
        slot
    }

    /// Consumes every event, keeping a bounded number of slots for reuse.
    pub fn clear(&mut self) {
        self.len = 0;
        self.slots.truncate(MAX_SPARE_EVENTS);
    }
}

/// Gives `fresh` (a new, never-filled list) the buffer of `old`, emptied.
fn reuse_buffer<T>(fresh: &mut Vec<T>, mut old: Vec<T>) {
    if fresh.capacity() == 0 {
        old.clear();
        *fresh = old;
    }
}

impl Deref for Events {
    type Target = [Event];

    fn deref(&self) -> &[Event] {
        &self.slots[..self.len]
    }
}

impl DerefMut for Events {
    fn deref_mut(&mut self) -> &mut [Event] {
        &mut self.slots[..self.len]
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = &'a Event;
    type IntoIter = std::slice::Iter<'a, Event>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Clone for Events {
    /// A copy of the live events (no spare slots).
    fn clone(&self) -> Self {
        Self {
            slots: self.to_vec(),
            len: self.len,
        }
    }
}

impl PartialEq for Events {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
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

    /// Records an identity field announced outside a flow's sender (DHCP client fields
    /// name the client hardware address, whoever sent the message).
    pub fn identity_of(
        &mut self,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        field: IdentityField,
        value: &str,
        source: &'static str,
    ) {
        let value = value.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if !value.is_empty() {
            self.observations.push(Observation::Identity {
                ip,
                mac,
                field,
                value: value.to_string(),
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
    pub fn event(&mut self, ctx: &FlowContext, dir: Direction, event: Event) -> &mut Event {
        let event = self.events.push(event);
        stamp(event, ctx, dir);
        event
    }

    /// Starts an event sent in `dir` on the flow `ctx`, written in place (cheaper than
    /// [`Emitter::event`] on hot paths): time and addresses come from the flow, the
    /// rest from the arguments. Returns it for the caller to add details to.
    ///
    /// ```
    /// # use dissect::{Emitter, OpClass};
    /// # fn f(out: &mut Emitter, ctx: &dissect::FlowContext) {
    /// let dir = dissect::Direction::ToServer;
    /// out.begin(ctx, dir, "modbus", OpClass::Read, 3, "read_holding_registers", false)
    ///     .target("holding_register", 0, 20);
    /// # }
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn begin(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        protocol: &'static str,
        op: OpClass,
        function: u32,
        function_name: impl Into<Cow<'static, str>>,
        is_response: bool,
    ) -> &mut Event {
        let event = self
            .events
            .begin(protocol, op, function, function_name.into(), is_response);
        stamp(event, ctx, dir);
        event
    }

    /// Empties `events` once the caller has read them, keeping their slots for the
    /// next events.
    pub fn recycle_events(&mut self) {
        self.events.clear();
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

/// Fills an event's time and addresses from the flow it was sent on.
fn stamp(event: &mut Event, ctx: &FlowContext, dir: Direction) {
    let (src, dst) = match dir {
        Direction::ToServer => (
            (ctx.client_ip, ctx.client_port, ctx.client_mac),
            (ctx.server_ip, ctx.server_port, ctx.server_mac),
        ),
        Direction::ToClient => (
            (ctx.server_ip, ctx.server_port, ctx.server_mac),
            (ctx.client_ip, ctx.client_port, ctx.client_mac),
        ),
    };
    event.ts = ctx.ts;
    event.src_ip = Some(src.0);
    event.src_port = src.1;
    event.src_mac = src.2;
    event.dst_ip = Some(dst.0);
    event.dst_port = dst.1;
    event.dst_mac = dst.2;
    event.vlan = ctx.vlan;
}
