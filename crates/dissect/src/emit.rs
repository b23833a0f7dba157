//! What dissectors produce.

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
        }
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
}

/// Collects a dissector's output. Reused across calls: the caller drains it.
#[derive(Debug, Default)]
pub struct Emitter {
    /// Observations since the last drain.
    pub observations: Vec<Observation>,
    /// Malformed or unparseable messages since the last drain, as
    /// (protocol, reason) pairs; they become `protocol_anomaly` events.
    pub anomalies: Vec<(&'static str, String)>,
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

    /// Records a malformed message.
    pub fn anomaly(&mut self, protocol: &'static str, reason: impl Into<String>) {
        self.anomalies.push((protocol, reason.into()));
    }

    /// True when nothing was emitted since the last drain.
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty() && self.anomalies.is_empty()
    }
}
