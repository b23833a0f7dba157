//! The zone file: TOML read into raw tables, then checked into a [`ZonePolicy`] with every
//! problem reported at once, each naming the file, the line and the zone or rule.

use crate::policy::{AllowRule, Zone, ZoneKind, ZonePolicy};
use crate::prefix::Cidr;
use serde::Deserialize;
use std::fmt;
use toml::Spanned;

/// Highest Purdue level a zone may carry (level 5: enterprise network).
pub const MAX_PURDUE: u8 = 5;

/// A zone file that could not be used: every problem found, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneFileError {
    /// The file (or other origin) as the caller named it.
    pub origin: String,
    /// The problems.
    pub problems: Vec<Problem>,
}

/// One problem in a zone file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Line (from 1), when known.
    pub line: Option<usize>,
    /// `zone "office"`, `allow rule 2` ... when the problem is inside one.
    pub item: Option<String>,
    /// What is wrong, in plain words.
    pub reason: String,
}

impl fmt::Display for ZoneFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", self.origin)?;
            if let Some(line) = p.line {
                write!(f, ":{line}")?;
            }
            write!(f, ": ")?;
            if let Some(item) = &p.item {
                write!(f, "{item}: ")?;
            }
            write!(f, "{}", p.reason)?;
        }
        Ok(())
    }
}

impl std::error::Error for ZoneFileError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    zone: Vec<RawZone>,
    #[serde(default)]
    allow: Vec<RawAllow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    name: Spanned<String>,
    #[serde(default)]
    cidrs: Vec<Spanned<String>>,
    #[serde(default)]
    vlans: Vec<Spanned<i64>>,
    purdue: Option<Spanned<i64>>,
    kind: ZoneKind,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    from: Spanned<String>,
    to: Spanned<String>,
    #[serde(default)]
    ports: Vec<Spanned<i64>>,
    #[serde(default)]
    protocols: Vec<String>,
    note: Option<String>,
}

/// Collects problems with their lines.
struct Checker<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn report(&mut self, offset: usize, item: &str, reason: String) {
        self.problems.push(Problem {
            line: Some(self.line_of(offset)),
            item: Some(item.to_string()),
            reason,
        });
    }
}

/// Parses and checks a zone file's text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<ZonePolicy, ZoneFileError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| ZoneFileError {
        origin: origin.to_string(),
        problems: vec![Problem {
            line: e.span().map(|s| line_at(text, s.start)),
            item: None,
            reason: e.message().trim().to_string(),
        }],
    })?;
    let mut c = Checker {
        text,
        problems: Vec::new(),
    };
    let mut zones: Vec<Zone> = Vec::new();
    // (cidr, zone name, offset) and (vlan, zone name) for the cross-zone checks.
    let mut seen_cidrs: Vec<(Cidr, String)> = Vec::new();
    let mut seen_vlans: Vec<(u16, String)> = Vec::new();
    for rz in raw.zone {
        let name = rz.name.get_ref().trim().to_string();
        let at = rz.name.span().start;
        let item = format!("zone {name:?}");
        if name.is_empty() {
            c.report(at, "zone", "the name is empty".into());
            continue;
        }
        if [crate::UNZONED, crate::OUTSIDE, crate::EXTERNAL].contains(&name.as_str()) {
            c.report(
                at,
                &item,
                format!("the name {name:?} is reserved for addresses outside every zone"),
            );
        }
        if zones.iter().any(|z| z.name == name) {
            c.report(at, &item, "another zone has the same name".into());
        }
        let mut cidrs = Vec::new();
        for text in &rz.cidrs {
            match text.get_ref().parse::<Cidr>() {
                Ok(cidr) => {
                    if let Some((other, owner)) = seen_cidrs
                        .iter()
                        .find(|(o, owner)| *owner != name && o.overlaps(&cidr))
                    {
                        c.report(
                            text.span().start,
                            &item,
                            format!("CIDR {cidr} overlaps {other} of zone {owner:?}: an address must belong to one zone"),
                        );
                    }
                    seen_cidrs.push((cidr, name.clone()));
                    cidrs.push(cidr);
                }
                Err(why) => c.report(
                    text.span().start,
                    &item,
                    format!("bad CIDR {:?}: {why}", text.get_ref()),
                ),
            }
        }
        let mut vlans = Vec::new();
        for v in &rz.vlans {
            match u16::try_from(*v.get_ref())
                .ok()
                .filter(|n| (1..=4094).contains(n))
            {
                Some(vlan) => {
                    if let Some((_, owner)) = seen_vlans
                        .iter()
                        .find(|(o, owner)| *o == vlan && *owner != name)
                    {
                        c.report(
                            v.span().start,
                            &item,
                            format!("VLAN {vlan} is already in zone {owner:?}"),
                        );
                    }
                    seen_vlans.push((vlan, name.clone()));
                    vlans.push(vlan);
                }
                None => c.report(
                    v.span().start,
                    &item,
                    format!("VLAN {} is not in 1..=4094", v.get_ref()),
                ),
            }
        }
        if rz.cidrs.is_empty() && rz.vlans.is_empty() {
            c.report(
                at,
                &item,
                "it has neither cidrs nor vlans, so no address can be in it".into(),
            );
        }
        let purdue = match &rz.purdue {
            Some(p) => match u8::try_from(*p.get_ref()).ok().filter(|n| *n <= MAX_PURDUE) {
                Some(level) => Some(level),
                None => {
                    c.report(
                        p.span().start,
                        &item,
                        format!("purdue level {} is not in 0..={MAX_PURDUE}", p.get_ref()),
                    );
                    None
                }
            },
            None => None,
        };
        cidrs.sort();
        cidrs.dedup();
        vlans.sort_unstable();
        vlans.dedup();
        zones.push(Zone {
            name,
            cidrs,
            vlans,
            purdue,
            kind: rz.kind,
            description: rz.description,
        });
    }
    let mut rules = Vec::new();
    for (i, ra) in raw.allow.into_iter().enumerate() {
        let item = format!("allow rule {}", i + 1);
        for end in [&ra.from, &ra.to] {
            if !zones.iter().any(|z| z.name == *end.get_ref()) {
                c.report(
                    end.span().start,
                    &item,
                    format!("unknown zone {:?}", end.get_ref()),
                );
            }
        }
        let mut ports = Vec::new();
        for p in &ra.ports {
            match u16::try_from(*p.get_ref()).ok().filter(|n| *n > 0) {
                Some(port) => ports.push(port),
                None => c.report(
                    p.span().start,
                    &item,
                    format!("port {} is not in 1..=65535", p.get_ref()),
                ),
            }
        }
        ports.sort_unstable();
        ports.dedup();
        let mut protocols: Vec<String> = ra
            .protocols
            .iter()
            .map(|p| p.trim().to_ascii_lowercase())
            .collect();
        protocols.sort();
        protocols.dedup();
        rules.push(AllowRule {
            from: ra.from.into_inner(),
            to: ra.to.into_inner(),
            ports,
            protocols,
            note: ra.note,
        });
    }
    if c.problems.is_empty() {
        Ok(ZonePolicy::new(zones, rules))
    } else {
        Err(ZoneFileError {
            origin: origin.to_string(),
            problems: c.problems,
        })
    }
}

fn line_at(text: &str, offset: usize) -> usize {
    Checker {
        text,
        problems: Vec::new(),
    }
    .line_of(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> String {
        parse(text, "zones.toml").unwrap_err().to_string()
    }

    #[test]
    fn reports_every_problem_with_file_line_and_item() {
        let text = r#"
[[zone]]
name = "cell"
cidrs = ["10.10.1.0/24", "10.10.2.5/24"]
purdue = 7
kind = "ot"

[[zone]]
name = "cell"
cidrs = ["10.10.0.0/16"]
vlans = [5000]
kind = "it"

[[allow]]
from = "cell"
to = "nowhere"
ports = [0]
"#;
        assert_eq!(
            errors(text),
            "zones.toml:4: zone \"cell\": bad CIDR \"10.10.2.5/24\": host bits are set (the network is 10.10.2.0/24)\n\
             zones.toml:5: zone \"cell\": purdue level 7 is not in 0..=5\n\
             zones.toml:9: zone \"cell\": another zone has the same name\n\
             zones.toml:11: zone \"cell\": VLAN 5000 is not in 1..=4094\n\
             zones.toml:16: allow rule 1: unknown zone \"nowhere\"\n\
             zones.toml:17: allow rule 1: port 0 is not in 1..=65535"
        );
    }

    #[test]
    fn overlapping_cidrs_and_shared_vlans_between_zones_are_refused() {
        let text = r#"
[[zone]]
name = "site"
cidrs = ["10.10.0.0/16"]
vlans = [10]
kind = "it"
[[zone]]
name = "cell"
cidrs = ["10.10.1.0/24"]
vlans = [10]
kind = "ot"
[[zone]]
name = "empty"
kind = "ot"
"#;
        assert_eq!(
            errors(text),
            "zones.toml:9: zone \"cell\": CIDR 10.10.1.0/24 overlaps 10.10.0.0/16 of zone \"site\": an address must belong to one zone\n\
             zones.toml:10: zone \"cell\": VLAN 10 is already in zone \"site\"\n\
             zones.toml:13: zone \"empty\": it has neither cidrs nor vlans, so no address can be in it"
        );
    }

    #[test]
    fn syntax_errors_unknown_keys_and_kinds_name_the_line() {
        let e = parse(
            "[[zone]]\nname = \"a\"\ncidr = [\"10.0.0.0/8\"]\nkind = \"ot\"\n",
            "z.toml",
        )
        .unwrap_err();
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].line, Some(3));
        assert!(e.problems[0].reason.contains("unknown field `cidr`"), "{e}");
        let e = parse(
            "[[zone]]\nname = \"a\"\ncidrs = [\"10.0.0.0/8\"]\nkind = \"scada\"\n",
            "z.toml",
        )
        .unwrap_err();
        assert_eq!(e.problems[0].line, Some(4));
        assert!(
            e.problems[0].reason.contains("unknown variant `scada`"),
            "{e}"
        );
        let e = parse("[[zone]\n", "z.toml").unwrap_err();
        assert_eq!(e.problems[0].line, Some(1));
        assert!(e.to_string().starts_with("z.toml:1: "), "{e}");
    }

    #[test]
    fn reserved_names_are_refused() {
        assert_eq!(
            errors("[[zone]]\nname = \"unzoned\"\nvlans = [3]\nkind = \"it\"\n"),
            "zones.toml:2: zone \"unzoned\": the name \"unzoned\" is reserved for addresses outside every zone"
        );
    }
}
