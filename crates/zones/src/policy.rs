//! The checked zone policy: where an address belongs and which crossings are allowed.

use crate::addr::is_public;
use crate::prefix::{Cidr, PrefixMap};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

/// What a zone holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ZoneKind {
    /// Industrial devices: controllers, HMIs, SCADA, historians, engineering stations.
    Ot,
    /// The demilitarised zone between OT and IT (Purdue 3.5): relays, jump hosts, mirrors.
    Dmz,
    /// Office and enterprise networks.
    It,
    /// Networks outside the plant that are known by name (a vendor's support network).
    External,
}

impl ZoneKind {
    /// The name used in zone files and reports (`ot`, `dmz` ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Ot => "ot",
            Self::Dmz => "dmz",
            Self::It => "it",
            Self::External => "external",
        }
    }
}

/// One zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Zone {
    /// Unique name.
    pub name: String,
    /// Networks in the zone.
    pub cidrs: Vec<Cidr>,
    /// VLANs whose addresses belong to the zone when no CIDR of any zone holds them.
    pub vlans: Vec<u16>,
    /// Purdue level (0–5), when given.
    pub purdue: Option<u8>,
    /// Kind.
    pub kind: ZoneKind,
    /// Free text for people.
    pub description: Option<String>,
}

/// Traffic allowed from one zone to another. Every condition given must hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AllowRule {
    /// Zone of the initiator.
    pub from: String,
    /// Zone of the responder.
    pub to: String,
    /// Responder ports; empty means any.
    pub ports: Vec<u16>,
    /// Application protocols (dissector names such as `modbus`, lower case); empty means any.
    pub protocols: Vec<String>,
    /// Free text for people.
    pub note: Option<String>,
}

impl AllowRule {
    fn matches(&self, from: &str, to: &str, port: Option<u16>, protocol: Option<&str>) -> bool {
        self.from == from
            && self.to == to
            && (self.ports.is_empty() || port.is_some_and(|p| self.ports.contains(&p)))
            && (self.protocols.is_empty()
                || protocol.is_some_and(|p| {
                    self.protocols
                        .iter()
                        .any(|allowed| allowed.eq_ignore_ascii_case(p))
                }))
    }
}

/// Where an address stands with respect to the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement<'a> {
    /// Inside a configured zone.
    Zone(&'a Zone),
    /// A public address outside every zone.
    External,
    /// A private address outside every zone.
    Unzoned,
}

impl Placement<'_> {
    /// The zone name, or `external` / `unzoned`.
    pub fn name(&self) -> &str {
        match self {
            Self::Zone(z) => &z.name,
            Self::External => crate::EXTERNAL,
            Self::Unzoned => crate::UNZONED,
        }
    }
}

/// A checked zone policy.
#[derive(Clone, Debug, Default)]
pub struct ZonePolicy {
    zones: Vec<Zone>,
    rules: Vec<AllowRule>,
    prefixes: PrefixMap<usize>,
    vlans: BTreeMap<u16, usize>,
}

impl ZonePolicy {
    /// Builds the lookup tables; `zones` and `rules` are already checked.
    pub(crate) fn new(zones: Vec<Zone>, rules: Vec<AllowRule>) -> Self {
        let mut prefixes = PrefixMap::default();
        let mut vlans = BTreeMap::new();
        for (i, zone) in zones.iter().enumerate() {
            for cidr in &zone.cidrs {
                prefixes.insert(*cidr, i);
            }
            for vlan in &zone.vlans {
                vlans.entry(*vlan).or_insert(i);
            }
        }
        Self {
            zones,
            rules,
            prefixes,
            vlans,
        }
    }

    /// Parses and checks zone file text; `origin` (usually the path) names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, crate::ZoneFileError> {
        crate::file::parse(text, origin)
    }

    /// Reads and checks a zone file.
    pub fn load(path: &std::path::Path) -> Result<Self, crate::ZoneFileError> {
        let origin = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &origin),
            Err(e) => Err(crate::ZoneFileError {
                origin,
                problems: vec![crate::Problem {
                    line: None,
                    item: None,
                    reason: format!("cannot read the file: {e}"),
                }],
            }),
        }
    }

    /// The zones, in file order.
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// The allow rules, in file order.
    pub fn rules(&self) -> &[AllowRule] {
        &self.rules
    }

    /// The zone called `name`.
    pub fn zone(&self, name: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.name == name)
    }

    /// The zone holding `ip`: the zone of the most specific CIDR containing it, else the
    /// zone of its VLAN (when seen tagged).
    pub fn zone_of(&self, ip: IpAddr, vlan: Option<u16>) -> Option<&Zone> {
        self.prefixes
            .lookup(ip)
            .or_else(|| vlan.and_then(|v| self.vlans.get(&v)))
            .and_then(|i| self.zones.get(*i))
    }

    /// Where `ip` stands: in a zone, or outside every zone (public: external; private:
    /// unzoned).
    pub fn place(&self, ip: IpAddr, vlan: Option<u16>) -> Placement<'_> {
        match self.zone_of(ip, vlan) {
            Some(zone) => Placement::Zone(zone),
            None if is_public(ip) => Placement::External,
            None => Placement::Unzoned,
        }
    }

    /// Kind of the zone called `name`.
    pub fn kind(&self, name: &str) -> Option<ZoneKind> {
        self.zone(name).map(|z| z.kind)
    }

    /// Purdue level of the zone called `name`, when it has one.
    pub fn purdue(&self, name: &str) -> Option<u8> {
        self.zone(name).and_then(|z| z.purdue)
    }

    /// True when traffic initiated in zone `from` to zone `to` on `port` with `protocol`
    /// is allowed: always within one zone, otherwise when an allow rule matches.
    pub fn allows(&self, from: &str, to: &str, port: Option<u16>, protocol: Option<&str>) -> bool {
        from == to
            || self
                .rules
                .iter()
                .any(|r| r.matches(from, to, port, protocol))
    }

    /// The policy as zone file text that parses back to an equal policy.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        for zone in &self.zones {
            out.push_str("[[zone]]\n");
            let _ = writeln!(out, "name = {}", quote(&zone.name));
            if !zone.cidrs.is_empty() {
                let list: Vec<String> = zone.cidrs.iter().map(|c| quote(&c.to_string())).collect();
                let _ = writeln!(out, "cidrs = [{}]", list.join(", "));
            }
            if !zone.vlans.is_empty() {
                let list: Vec<String> = zone.vlans.iter().map(u16::to_string).collect();
                let _ = writeln!(out, "vlans = [{}]", list.join(", "));
            }
            let _ = writeln!(out, "kind = {}", quote(zone.kind.name()));
            if let Some(level) = zone.purdue {
                let _ = writeln!(out, "purdue = {level}");
            }
            if let Some(text) = &zone.description {
                let _ = writeln!(out, "description = {}", quote(text));
            }
            out.push('\n');
        }
        for rule in &self.rules {
            out.push_str("[[allow]]\n");
            let _ = writeln!(out, "from = {}", quote(&rule.from));
            let _ = writeln!(out, "to = {}", quote(&rule.to));
            if !rule.ports.is_empty() {
                let list: Vec<String> = rule.ports.iter().map(u16::to_string).collect();
                let _ = writeln!(out, "ports = [{}]", list.join(", "));
            }
            if !rule.protocols.is_empty() {
                let list: Vec<String> = rule.protocols.iter().map(|p| quote(p)).collect();
                let _ = writeln!(out, "protocols = [{}]", list.join(", "));
            }
            if let Some(text) = &rule.note {
                let _ = writeln!(out, "note = {}", quote(text));
            }
            out.push('\n');
        }
        out
    }
}

/// A TOML basic string.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLANT: &str = r#"
[[zone]]
name = "control-cell"
cidrs = ["10.10.1.0/24", "fd00:10:1::/64"]
vlans = [10]
purdue = 1
kind = "ot"

[[zone]]
name = "supervisory"
cidrs = ["10.10.2.0/24"]
purdue = 2
kind = "ot"

[[zone]]
name = "historian"
cidrs = ["10.10.5.0/24"]
kind = "ot"
purdue = 3

[[zone]]
name = "office"
cidrs = ["10.10.4.0/24"]
purdue = 4
kind = "it"
description = "Office \"LAN\""

[[zone]]
name = "vendor"
cidrs = ["198.51.100.0/24"]
kind = "external"

[[allow]]
from = "supervisory"
to = "control-cell"
ports = [502, 102]
protocols = ["Modbus", "s7comm"]

[[allow]]
from = "office"
to = "historian"
note = "reports"
"#;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn plant() -> ZonePolicy {
        ZonePolicy::parse(PLANT, "plant.toml").unwrap()
    }

    #[test]
    fn addresses_fall_in_the_zone_of_their_cidr_then_of_their_vlan() {
        let p = plant();
        let name = |ip_text: &str, vlan| p.place(ip(ip_text), vlan).name().to_string();
        assert_eq!(name("10.10.1.11", None), "control-cell");
        assert_eq!(name("fd00:10:1::11", None), "control-cell");
        assert_eq!(name("10.10.2.10", None), "supervisory");
        assert_eq!(name("10.10.2.30", None), "supervisory");
        assert_eq!(name("10.10.5.30", None), "historian");
        assert_eq!(name("10.10.4.10", Some(10)), "office");
        assert_eq!(name("192.168.7.7", Some(10)), "control-cell");
        assert_eq!(name("192.168.7.7", Some(11)), "unzoned");
        assert_eq!(name("192.168.7.7", None), "unzoned");
        assert_eq!(name("8.8.8.8", None), "external");
        assert_eq!(name("198.51.100.7", None), "vendor");
        assert_eq!(p.kind("vendor"), Some(ZoneKind::External));
        assert_eq!(p.kind("office"), Some(ZoneKind::It));
        assert_eq!(p.purdue("control-cell"), Some(1));
        assert_eq!(p.purdue("vendor"), None);
        assert_eq!(p.kind("nowhere"), None);
    }

    #[test]
    fn crossings_need_a_rule_whose_every_condition_holds() {
        let p = plant();
        assert!(p.allows("supervisory", "control-cell", Some(502), Some("modbus")));
        assert!(p.allows("supervisory", "control-cell", Some(102), Some("S7COMM")));
        assert!(!p.allows("supervisory", "control-cell", Some(503), Some("modbus")));
        assert!(!p.allows("supervisory", "control-cell", Some(502), Some("http")));
        assert!(!p.allows("supervisory", "control-cell", Some(502), None));
        assert!(!p.allows("control-cell", "supervisory", Some(502), Some("modbus")));
        assert!(p.allows("office", "historian", Some(443), None));
        assert!(p.allows("office", "historian", None, Some("tls")));
        assert!(!p.allows("office", "control-cell", Some(502), Some("modbus")));
        assert!(p.allows("office", "office", None, None));
    }

    #[test]
    fn every_truncation_of_a_file_is_refused_or_accepted_without_panicking() {
        let mut accepted = 0;
        for end in (0..=PLANT.len()).filter(|i| PLANT.is_char_boundary(*i)) {
            match ZonePolicy::parse(&PLANT[..end], "cut.toml") {
                Ok(_) => accepted += 1,
                Err(e) => assert!(!e.problems.is_empty() && e.to_string().starts_with("cut.toml")),
            }
        }
        // The empty file and cuts just after a complete table (or inside its trailing
        // blank lines and comments) parse; everything else is a reported error.
        assert_eq!(accepted, 32);
    }

    #[test]
    fn written_policies_parse_back_equal() {
        let p = plant();
        let text = p.to_toml();
        let again = ZonePolicy::parse(&text, "rewritten").unwrap();
        assert_eq!(again.zones(), p.zones());
        assert_eq!(again.rules(), p.rules());
        assert_eq!(p.rules()[0].ports, vec![102, 502]);
        assert_eq!(p.rules()[0].protocols, vec!["modbus", "s7comm"]);
        assert_eq!(
            p.zone("office").unwrap().description.as_deref(),
            Some("Office \"LAN\"")
        );
    }
}
