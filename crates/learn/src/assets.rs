//! What the models know about devices: role, name and zone of an address, so findings
//! speak in plant terms ("10.10.1.11 (PLC plc1)") and severities weigh criticality.

use records::{AssetRecord, Role};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use zones::{Placement, ZonePolicy};

/// How much harm a finding about a device can mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Criticality {
    /// IT hosts, unknown devices.
    Low,
    /// Network devices, gateways, historians.
    Medium,
    /// HMIs, SCADA servers, engineering workstations.
    High,
    /// Controllers: PLCs, RTUs, IEDs.
    Critical,
}

impl Criticality {
    /// Criticality of a role.
    pub fn of_role(role: Role) -> Self {
        match role {
            Role::Plc | Role::Rtu | Role::Ied => Self::Critical,
            Role::Hmi | Role::ScadaServer | Role::EngineeringWorkstation => Self::High,
            Role::Historian | Role::Network | Role::Gateway => Self::Medium,
            Role::ItHost | Role::Unknown => Self::Low,
        }
    }
}

/// The kind of a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ZoneKind {
    /// Holds industrial devices (controllers, HMIs, SCADA, historians, workstations).
    Ot,
    /// Office and server networks.
    It,
    /// Outside every internal zone: a public address.
    External,
}

/// One device as the models see it.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetBrief {
    /// Role.
    pub role: Role,
    /// First host name, if any.
    pub name: Option<String>,
}

/// Address → device facts, refreshed from the inventory as it grows.
#[derive(Clone, Debug, Default)]
pub struct AssetDirectory {
    by_ip: HashMap<IpAddr, AssetBrief>,
    /// Zone name → kind, for the learnt (subnet) zones.
    zone_kinds: HashMap<String, ZoneKind>,
    /// The operator's zone file, when given: it names the zones instead of subnets.
    policy: Option<Arc<ZonePolicy>>,
}

impl AssetDirectory {
    /// Builds the directory from inventory records.
    pub fn from_assets(assets: &[AssetRecord]) -> Self {
        let mut dir = Self::default();
        for asset in assets.iter().filter(|a| !a.is_gateway) {
            let brief = AssetBrief {
                role: asset.role,
                name: asset.hostnames.iter().next().cloned(),
            };
            for ip in &asset.ips {
                dir.by_ip.insert(*ip, brief.clone());
            }
        }
        for (ip, brief) in &dir.by_ip {
            let zone = subnet_zone(*ip);
            let kind = if is_ot_role(brief.role) {
                ZoneKind::Ot
            } else {
                ZoneKind::It
            };
            let entry = dir.zone_kinds.entry(zone).or_insert(kind);
            *entry = (*entry).min(kind);
        }
        dir
    }

    /// Facts about `ip`, when it is a known device.
    pub fn get(&self, ip: IpAddr) -> Option<&AssetBrief> {
        self.by_ip.get(&ip)
    }

    /// Role of `ip` (unknown when not in the inventory).
    pub fn role(&self, ip: IpAddr) -> Role {
        self.get(ip).map_or(Role::Unknown, |b| b.role)
    }

    /// Criticality of `ip`.
    pub fn criticality(&self, ip: IpAddr) -> Criticality {
        Criticality::of_role(self.role(ip))
    }

    /// `10.10.1.11 (PLC plc1)`: the address with its role and name, for explanations.
    pub fn label(&self, ip: IpAddr) -> String {
        match self.get(ip) {
            Some(b) => match (&b.name, role_label(b.role)) {
                (Some(name), Some(role)) => format!("{ip} ({role} {name})"),
                (Some(name), None) => format!("{ip} ({name})"),
                (None, Some(role)) => format!("{ip} ({role})"),
                (None, None) => ip.to_string(),
            },
            None if is_public(ip) => format!("{ip} (outside address)"),
            None => ip.to_string(),
        }
    }

    /// Uses the operator's zone file for zones (see [`AssetDirectory::zone`]).
    pub fn set_policy(&mut self, policy: Option<Arc<ZonePolicy>>) {
        self.policy = policy;
    }

    /// The operator's zone file, when given.
    pub fn policy(&self) -> Option<&ZonePolicy> {
        self.policy.as_deref()
    }

    /// The zone `ip` belongs to: the zone file's zone when one holds it, else its /24
    /// (IPv4) or /64 (IPv6) subnet, or `external` for public addresses.
    pub fn zone(&self, ip: IpAddr) -> (String, ZoneKind) {
        if let Some(Placement::Zone(zone)) = self.policy.as_deref().map(|p| p.place(ip, None)) {
            let kind = match zone.kind {
                zones::ZoneKind::Ot => ZoneKind::Ot,
                zones::ZoneKind::Dmz | zones::ZoneKind::It => ZoneKind::It,
                zones::ZoneKind::External => ZoneKind::External,
            };
            return (zone.name.clone(), kind);
        }
        if is_public(ip) {
            return ("external".to_string(), ZoneKind::External);
        }
        let zone = subnet_zone(ip);
        let kind = self.zone_kinds.get(&zone).copied().unwrap_or(ZoneKind::It);
        (zone, kind)
    }
}

/// True for roles that belong to the industrial side.
pub fn is_ot_role(role: Role) -> bool {
    matches!(
        role,
        Role::Plc
            | Role::Rtu
            | Role::Ied
            | Role::Hmi
            | Role::ScadaServer
            | Role::EngineeringWorkstation
            | Role::Historian
    )
}

/// Short human name of a role (`PLC`, `HMI` ...); none for unknown.
pub fn role_label(role: Role) -> Option<&'static str> {
    Some(match role {
        Role::Plc => "PLC",
        Role::Rtu => "RTU",
        Role::Ied => "IED",
        Role::Hmi => "HMI",
        Role::ScadaServer => "SCADA server",
        Role::EngineeringWorkstation => "engineering workstation",
        Role::Historian => "historian",
        Role::ItHost => "IT host",
        Role::Network => "network device",
        Role::Gateway => "gateway",
        Role::Unknown => return None,
    })
}

/// The /24 (IPv4) or /64 (IPv6) subnet of `ip`, as text.
pub fn subnet_zone(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// True for globally routable unicast addresses: anything that is not private,
/// loopback, link-local, multicast, broadcast, unspecified, CGNAT or unique-local.
/// Documentation ranges count as public (they stand for internet hosts in tests).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            let s0 = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s0 & 0xfe00) == 0xfc00
                || (s0 & 0xffc0) == 0xfe80)
        }
    }
}

/// True for broadcast and multicast destinations (never a peer).
pub fn is_group(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_multicast() || v4.is_broadcast() || v4.octets()[3] == 255,
        IpAddr::V6(v6) => v6.is_multicast(),
    }
}

/// A device record for tests: one address, one host name, a role.
#[cfg(test)]
pub(crate) fn test_asset(ip: &str, role: Role, name: &str) -> AssetRecord {
    AssetRecord {
        kind: "asset",
        id: format!("ip:{ip}"),
        mac: None,
        ips: [ip.parse().expect("a test address")].into(),
        vendor: None,
        hostnames: [name.to_string()].into(),
        identity: Default::default(),
        role,
        zone: None,
        purdue_level: None,
        first_seen: Default::default(),
        last_seen: Default::default(),
        protocols_served: Default::default(),
        protocols_used: Default::default(),
        peers: Default::default(),
        is_gateway: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_private_addresses() {
        for ip in [
            "10.1.1.1",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.1.1",
            "100.64.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["203.0.113.50", "8.8.8.8", "2001:db8::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(!is_public("fd00::1".parse().unwrap()));
    }

    #[test]
    fn zones_are_subnets_with_a_kind_from_roles() {
        let mut plc = AssetRecord {
            kind: "asset",
            id: "ip:10.10.1.11".into(),
            mac: None,
            ips: ["10.10.1.11".parse().unwrap()].into(),
            vendor: None,
            hostnames: ["plc1".to_string()].into(),
            identity: Default::default(),
            role: Role::Plc,
            zone: None,
            purdue_level: None,
            first_seen: Default::default(),
            last_seen: Default::default(),
            protocols_served: Default::default(),
            protocols_used: Default::default(),
            peers: Default::default(),
            is_gateway: false,
        };
        let mut pc = plc.clone();
        pc.ips = ["10.10.4.10".parse().unwrap()].into();
        pc.role = Role::ItHost;
        pc.hostnames.clear();
        plc.id = "x".into();
        let dir = AssetDirectory::from_assets(&[plc, pc]);
        assert_eq!(
            dir.label("10.10.1.11".parse().unwrap()),
            "10.10.1.11 (PLC plc1)"
        );
        assert_eq!(dir.zone("10.10.1.99".parse().unwrap()).1, ZoneKind::Ot);
        assert_eq!(dir.zone("10.10.4.10".parse().unwrap()).1, ZoneKind::It);
        assert_eq!(
            dir.zone("203.0.113.50".parse().unwrap()),
            ("external".to_string(), ZoneKind::External)
        );
    }
}
