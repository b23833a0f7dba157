//! A starting zone file from what was observed: one zone per /24 (IPv4) or /64 (IPv6)
//! holding devices, named and levelled from the roles of its devices, and allow rules
//! for the zone pairs seen talking.

use crate::addr::is_public;
use crate::policy::{AllowRule, Zone, ZoneKind, ZonePolicy};
use crate::prefix::Cidr;
use records::{AssetRecord, Role};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// What most devices of a subnet do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Control,
    Supervisory,
    It,
    Unknown,
}

fn class_of(role: Role) -> Class {
    match role {
        Role::Plc | Role::Rtu | Role::Ied => Class::Control,
        Role::Hmi | Role::ScadaServer | Role::EngineeringWorkstation | Role::Historian => {
            Class::Supervisory
        }
        Role::ItHost => Class::It,
        Role::Network | Role::Gateway | Role::Unknown => Class::Unknown,
    }
}

/// Purdue level a role sits at, when it says one.
fn level_of(role: Role) -> Option<u8> {
    match role {
        Role::Plc | Role::Rtu | Role::Ied => Some(1),
        Role::Hmi | Role::ScadaServer | Role::EngineeringWorkstation => Some(2),
        Role::Historian => Some(3),
        Role::ItHost => Some(4),
        Role::Network | Role::Gateway | Role::Unknown => None,
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
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
        Role::Unknown => "unknown",
    }
}

/// Devices of one subnet.
#[derive(Default)]
struct Group {
    roles: BTreeMap<Role, usize>,
    devices: usize,
}

impl Group {
    fn count(&self, class: Class) -> usize {
        self.roles
            .iter()
            .filter(|(r, _)| class_of(**r) == class)
            .map(|(_, n)| n)
            .sum()
    }

    fn has_ot(&self) -> bool {
        self.count(Class::Control) + self.count(Class::Supervisory) > 0
    }

    /// The class with the most devices; ties go to the more critical class.
    fn dominant(&self) -> Class {
        [Class::Control, Class::Supervisory, Class::It]
            .into_iter()
            .map(|c| (self.count(c), c))
            .filter(|(n, _)| *n > 0)
            // Max count; among equals the earliest (most critical) class.
            .min_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)))
            .map_or(Class::Unknown, |(_, c)| c)
    }

    fn description(&self) -> String {
        let parts: Vec<String> = self
            .roles
            .iter()
            .map(|(role, n)| format!("{n} {}", role_name(*role)))
            .collect();
        let noun = if self.devices == 1 {
            "device"
        } else {
            "devices"
        };
        format!("{} {noun} observed: {}", self.devices, parts.join(", "))
    }
}

/// Addresses that can be devices of a zone: unicast, not public, not loopback or
/// link-local.
fn zonable(ip: IpAddr) -> bool {
    if is_public(ip) || ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() {
        return false;
    }
    match ip {
        IpAddr::V4(v4) => !v4.is_link_local() && !v4.is_broadcast(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
    }
}

/// `10-10-1` for 10.10.1.0/24, `fd00-1-2-3` for fd00:1:2:3::/64.
fn subnet_label(subnet: &Cidr) -> String {
    match subnet.addr() {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}-{}-{}", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}-{:x}-{:x}-{:x}", s[0], s[1], s[2], s[3])
        }
    }
}

/// Protocols seen from one zone to another; `None` when some traffic had no known
/// protocol, so the rule must allow any.
type Crossing = (Option<BTreeSet<String>>, BTreeSet<(IpAddr, IpAddr)>);

fn add_crossing(
    edges: &mut BTreeMap<(usize, usize), Crossing>,
    from: usize,
    to: usize,
    protocols: Option<BTreeSet<String>>,
    pair: (IpAddr, IpAddr),
) {
    let entry = edges
        .entry((from, to))
        .or_insert_with(|| (Some(BTreeSet::new()), BTreeSet::new()));
    match (&mut entry.0, protocols) {
        (Some(have), Some(more)) => have.extend(more),
        (have, _) => *have = None,
    }
    entry.1.insert(pair);
}

fn common(used: &BTreeSet<String>, served: &BTreeSet<String>) -> BTreeSet<String> {
    used.intersection(served)
        .map(|p| p.to_ascii_lowercase())
        .collect()
}

/// The proposed policy for these assets (gateways and public addresses are left out).
pub fn suggest_policy(assets: &[AssetRecord]) -> ZonePolicy {
    let devices: Vec<&AssetRecord> = assets.iter().filter(|a| !a.is_gateway).collect();
    let mut groups: BTreeMap<Cidr, Group> = BTreeMap::new();
    let mut by_ip: HashMap<IpAddr, usize> = HashMap::new();
    for (i, asset) in devices.iter().enumerate() {
        let subnets: BTreeSet<Cidr> = asset
            .ips
            .iter()
            .filter(|ip| zonable(**ip))
            .map(|ip| Cidr::subnet_of(*ip))
            .collect();
        for subnet in subnets {
            let group = groups.entry(subnet).or_default();
            group.devices += 1;
            *group.roles.entry(asset.role).or_default() += 1;
        }
        for ip in &asset.ips {
            by_ip.entry(*ip).or_insert(i);
        }
    }
    let index: BTreeMap<Cidr, usize> = groups.keys().enumerate().map(|(i, c)| (*c, i)).collect();
    let zone_index = |ip: IpAddr| -> Option<usize> {
        zonable(ip)
            .then(|| index.get(&Cidr::subnet_of(ip)).copied())
            .flatten()
    };

    let mut edges: BTreeMap<(usize, usize), Crossing> = BTreeMap::new();
    for asset in &devices {
        for ip in &asset.ips {
            let Some(za) = zone_index(*ip) else { continue };
            for peer in &asset.peers {
                let Some(zp) = zone_index(*peer) else {
                    continue;
                };
                if za == zp {
                    continue;
                }
                let other = by_ip.get(peer).and_then(|i| devices.get(*i));
                let (out, back) = match other {
                    Some(p) => (
                        common(&asset.protocols_used, &p.protocols_served),
                        common(&p.protocols_used, &asset.protocols_served),
                    ),
                    None => (BTreeSet::new(), BTreeSet::new()),
                };
                // Each side of a pair is visited from both assets; the client→server
                // direction is found from whichever side has the protocols.
                let unknown = out.is_empty() && back.is_empty();
                if !out.is_empty() {
                    add_crossing(&mut edges, za, zp, Some(out), (*ip, *peer));
                }
                if !back.is_empty() {
                    add_crossing(&mut edges, zp, za, Some(back), (*peer, *ip));
                }
                if unknown {
                    add_crossing(&mut edges, za, zp, None, (*ip, *peer));
                    add_crossing(&mut edges, zp, za, None, (*peer, *ip));
                }
            }
        }
    }

    let subnets: Vec<(&Cidr, &Group)> = groups.iter().collect();
    let neighbours = |z: usize| -> BTreeSet<usize> {
        edges
            .keys()
            .filter_map(|(a, b)| {
                if *a == z {
                    Some(*b)
                } else if *b == z {
                    Some(*a)
                } else {
                    None
                }
            })
            .collect()
    };
    let mut zones = Vec::new();
    for (i, (subnet, group)) in subnets.iter().enumerate() {
        let near = neighbours(i);
        let is_dmz = !group.has_ot()
            && near.iter().any(|n| subnets[*n].1.has_ot())
            && near.iter().any(|n| !subnets[*n].1.has_ot());
        let (prefix, kind, purdue) = if group.has_ot() {
            let level = group
                .roles
                .keys()
                .filter(|r| class_of(**r) != Class::It)
                .filter_map(|r| level_of(*r))
                .min();
            let prefix = match group.dominant() {
                Class::Control => "control",
                Class::Supervisory => "supervisory",
                _ => "mixed",
            };
            (prefix, ZoneKind::Ot, level)
        } else if is_dmz {
            ("dmz", ZoneKind::Dmz, Some(3))
        } else if group.dominant() == Class::It {
            ("it", ZoneKind::It, Some(4))
        } else {
            ("net", ZoneKind::It, None)
        };
        zones.push(Zone {
            name: format!("{prefix}-{}", subnet_label(subnet)),
            cidrs: vec![**subnet],
            vlans: Vec::new(),
            purdue,
            kind,
            description: Some(group.description()),
        });
    }
    let rules = edges
        .into_iter()
        .filter_map(|((from, to), (protocols, pairs))| {
            let n = pairs.len();
            let noun = if n == 1 { "pair" } else { "pairs" };
            Some(AllowRule {
                from: zones.get(from)?.name.clone(),
                to: zones.get(to)?.name.clone(),
                ports: Vec::new(),
                protocols: protocols
                    .map(|p| p.into_iter().collect())
                    .unwrap_or_default(),
                note: Some(format!("observed between {n} address {noun}")),
            })
        })
        .collect();
    ZonePolicy::new(zones, rules)
}

/// A starting zone file for these assets: the proposed policy with a header saying how
/// it was made. It parses back with [`ZonePolicy::parse`].
pub fn suggest(assets: &[AssetRecord]) -> String {
    let policy = suggest_policy(assets);
    let devices = assets.iter().filter(|a| !a.is_gateway).count();
    let mut out = String::new();
    out.push_str("# Zones proposed by gapwatch from observed traffic: review before use.\n");
    out.push_str(&format!(
        "# {devices} devices grouped by /24 (IPv4) or /64 (IPv6) subnet; names, kinds and\n\
         # Purdue levels follow the roles seen (controllers: level 1; HMI, SCADA,\n\
         # engineering: 2; historian: 3; IT: 4; a non-OT subnet talking to OT and IT: DMZ).\n\
         # Allow rules list the crossings observed, client zone first; protocols are the\n\
         # ones both sides were seen using (no protocol list: any protocol).\n\n"
    ));
    out.push_str(&policy.to_toml());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::Timestamp;

    fn asset(ip: &str, role: Role, served: &[&str], used: &[&str], peers: &[&str]) -> AssetRecord {
        AssetRecord {
            kind: "asset",
            id: format!("ip:{ip}"),
            mac: None,
            ips: [ip.parse().unwrap()].into(),
            vendor: None,
            hostnames: BTreeSet::new(),
            identity: Default::default(),
            role,
            zone: None,
            purdue_level: None,
            first_seen: Timestamp(0),
            last_seen: Timestamp(0),
            protocols_served: served.iter().map(|s| s.to_string()).collect(),
            protocols_used: used.iter().map(|s| s.to_string()).collect(),
            peers: peers.iter().map(|s| s.parse().unwrap()).collect(),
            is_gateway: false,
        }
    }

    #[test]
    fn zones_and_rules_follow_roles_and_peers() {
        let mut gw = asset("10.1.1.1", Role::Gateway, &[], &[], &[]);
        gw.is_gateway = true;
        let assets = vec![
            asset("10.1.1.10", Role::Plc, &["modbus"], &[], &["10.1.2.10"]),
            asset("10.1.1.11", Role::Plc, &["modbus"], &[], &["10.1.2.10"]),
            asset(
                "10.1.2.10",
                Role::Hmi,
                &[],
                &["modbus"],
                &["10.1.1.10", "10.1.1.11"],
            ),
            asset(
                "10.1.3.10",
                Role::ItHost,
                &[],
                &["rdp"],
                &["10.1.9.9", "8.8.8.8"],
            ),
            asset("10.1.9.9", Role::Unknown, &[], &[], &["10.1.3.10"]),
            gw,
        ];
        let text = suggest(&assets);
        let policy = ZonePolicy::parse(&text, "suggested").unwrap();
        let zones: Vec<(&str, ZoneKind, Option<u8>, String)> = policy
            .zones()
            .iter()
            .map(|z| (z.name.as_str(), z.kind, z.purdue, z.cidrs[0].to_string()))
            .collect();
        assert_eq!(
            zones,
            vec![
                (
                    "control-10-1-1",
                    ZoneKind::Ot,
                    Some(1),
                    "10.1.1.0/24".into()
                ),
                (
                    "supervisory-10-1-2",
                    ZoneKind::Ot,
                    Some(2),
                    "10.1.2.0/24".into()
                ),
                ("it-10-1-3", ZoneKind::It, Some(4), "10.1.3.0/24".into()),
                ("net-10-1-9", ZoneKind::It, None, "10.1.9.0/24".into()),
            ]
        );
        assert_eq!(
            policy.zones()[0].description.as_deref(),
            Some("2 devices observed: 2 PLC")
        );
        let rules: Vec<(&str, &str, Vec<String>, Option<&str>)> = policy
            .rules()
            .iter()
            .map(|r| {
                (
                    r.from.as_str(),
                    r.to.as_str(),
                    r.protocols.clone(),
                    r.note.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            rules,
            vec![
                (
                    "supervisory-10-1-2",
                    "control-10-1-1",
                    vec!["modbus".to_string()],
                    Some("observed between 2 address pairs")
                ),
                (
                    "it-10-1-3",
                    "net-10-1-9",
                    vec![],
                    Some("observed between 1 address pair")
                ),
                (
                    "net-10-1-9",
                    "it-10-1-3",
                    vec![],
                    Some("observed between 1 address pair")
                ),
            ]
        );
        assert!(policy.allows(
            "supervisory-10-1-2",
            "control-10-1-1",
            Some(502),
            Some("modbus")
        ));
        assert!(!policy.allows(
            "control-10-1-1",
            "supervisory-10-1-2",
            Some(502),
            Some("modbus")
        ));
    }

    #[test]
    fn ties_go_to_the_more_critical_class_and_ipv6_gets_a_64() {
        let assets = vec![
            asset("fd00:1:2:3::10", Role::Rtu, &["dnp3"], &[], &[]),
            asset("fd00:1:2:3::11", Role::Historian, &[], &["opcua"], &[]),
            asset("fd00:1:2:3::12", Role::ItHost, &[], &[], &[]),
            asset("fd00:1:2:3::13", Role::ItHost, &[], &[], &[]),
        ];
        let policy = suggest_policy(&assets);
        let zone = &policy.zones()[0];
        assert_eq!(zone.name, "mixed-fd00-1-2-3");
        assert_eq!(zone.kind, ZoneKind::Ot);
        assert_eq!(zone.purdue, Some(1));
        assert_eq!(zone.cidrs[0].to_string(), "fd00:1:2:3::/64");
        let tie = vec![
            asset("10.0.0.1", Role::Plc, &[], &[], &[]),
            asset("10.0.0.2", Role::Hmi, &[], &[], &[]),
        ];
        assert_eq!(suggest_policy(&tie).zones()[0].name, "control-10-0-0");
        assert!(suggest_policy(&[]).zones().is_empty());
        assert!(ZonePolicy::parse(&suggest(&[]), "empty").is_ok());
    }
}
