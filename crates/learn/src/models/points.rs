//! Shared pieces of the operations and values models: channel keys, a bounded set of
//! address intervals, the serialisable operation class, and phrasing of address spaces.

use dissect::OpClass;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::IpAddr;

/// True for protocols that carry operations on industrial devices. IT protocols have
/// their own models (file transfer, remote access ...), and their verbs are no
/// statement about the process. (A `match`: asked for every event by several models.)
pub fn is_industrial(protocol: &str) -> bool {
    matches!(
        protocol,
        "modbus"
            | "dnp3"
            | "s7comm"
            | "s7comm-plus"
            | "iec104"
            | "mms"
            | "bacnet"
            | "enip"
            | "cip"
            | "c37118"
            | "profinet_dcp"
            | "goose"
            | "fox"
            | "opcua"
            | "fins"
            | "ads"
            | "hartip"
    )
}

/// A channel or a point owner: client, server, protocol, unit. The protocol is
/// borrowed from the event on look-up and owned only after a restore.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChannelKey {
    /// Requesting side.
    pub client: IpAddr,
    /// Device addressed.
    pub server: IpAddr,
    /// Protocol (dissector name).
    pub protocol: Cow<'static, str>,
    /// Unit (Modbus unit, DNP3 address, IEC 104 common address ...).
    pub unit: Option<u32>,
}

/// [`OpClass`] with serde support for saved state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Reads data.
    Read,
    /// Writes data.
    Write,
    /// Changes device state or operates a point.
    Control,
    /// Moves logic or firmware.
    Program,
    /// Diagnostics.
    Diagnostic,
    /// Identification.
    Identify,
    /// Session management.
    Session,
    /// Anything else.
    Other,
}

impl From<OpClass> for Op {
    fn from(op: OpClass) -> Self {
        match op {
            OpClass::Read => Self::Read,
            OpClass::Write => Self::Write,
            OpClass::Control => Self::Control,
            OpClass::Program => Self::Program,
            OpClass::Diagnostic => Self::Diagnostic,
            OpClass::Identify => Self::Identify,
            OpClass::Session => Self::Session,
            OpClass::Other => Self::Other,
        }
    }
}

impl Op {
    /// Plural noun for summaries (`reads`, `writes` ...).
    pub fn plural(self) -> &'static str {
        match self {
            Self::Read => "reads",
            Self::Write => "writes",
            Self::Control => "control commands",
            Self::Program => "program commands",
            Self::Diagnostic => "diagnostics",
            Self::Identify => "identification requests",
            Self::Session => "session messages",
            Self::Other => "other requests",
        }
    }
}

/// Most intervals kept per address space; beyond it the two closest merge.
pub const MAX_INTERVALS: usize = 32;

/// Sorted, disjoint, non-adjacent half-open address intervals `[start, end)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalSet(Vec<(u64, u64)>);

impl IntervalSet {
    /// Adds `[start, end)`, merging overlapping and adjacent intervals. Returns true when
    /// the cap forced two intervals to merge.
    pub fn insert(&mut self, start: u64, end: u64) -> bool {
        let end = end.max(start.saturating_add(1));
        let v = &mut self.0;
        let at = v.partition_point(|&(_, e)| e < start);
        let mut new = (start, end);
        let mut last = at;
        while last < v.len() && v[last].0 <= new.1 {
            new.0 = new.0.min(v[last].0);
            new.1 = new.1.max(v[last].1);
            last += 1;
        }
        v.splice(at..last, [new]);
        if v.len() <= MAX_INTERVALS {
            return false;
        }
        // Merge the pair with the smallest gap: coverage grows least.
        let mut best = 0;
        // Saturating: restored state is not trusted to be sorted.
        let gap = |i: usize| v[i + 1].0.saturating_sub(v[i].1);
        for i in 1..v.len() - 1 {
            if gap(i) < gap(best) {
                best = i;
            }
        }
        v[best].1 = v[best].1.max(v[best + 1].1);
        v.remove(best + 1);
        true
    }

    /// Distance from `[start, end)` to the nearest interval: 0 when it overlaps or
    /// touches one; `None` when the set is empty.
    pub fn distance(&self, start: u64, end: u64) -> Option<u64> {
        let end = end.max(start.saturating_add(1));
        self.0
            .iter()
            .map(|&(s, e)| {
                if end < s {
                    s - end
                } else {
                    start.saturating_sub(e)
                }
            })
            .min()
    }

    /// True when `[start, end)` lies wholly inside one interval.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let end = end.max(start.saturating_add(1));
        self.0.iter().any(|&(s, e)| s <= start && end <= e)
    }

    /// From the first start to the last end.
    pub fn span(&self) -> u64 {
        match (self.0.first(), self.0.last()) {
            (Some(f), Some(l)) => l.1.saturating_sub(f.0),
            _ => 0,
        }
    }

    /// `0–3, 10` (at most `max` intervals, then `…`).
    pub fn describe(&self, max: usize) -> String {
        let mut parts: Vec<String> = self
            .0
            .iter()
            .take(max)
            .map(|&(s, e)| crate::text::range(s, e.saturating_sub(s)))
            .collect();
        if self.0.len() > max {
            parts.push("…".to_string());
        }
        parts.join(", ")
    }
}

/// An address space as words: `holding_register` → `holding register(s)`.
pub fn space_words(space: &str, plural: bool) -> String {
    let words = space.replace('_', " ");
    let last = words.rsplit(' ').next().unwrap_or("");
    if plural
        && last.len() > 3
        && last.chars().all(|c| c.is_ascii_alphabetic())
        && !last.ends_with('s')
    {
        format!("{words}s")
    } else {
        words
    }
}

/// `holding register 20`, `holding registers 0–9`, or the space alone (count 0: the
/// whole space or a class of it).
pub fn target_words(space: &str, start: u64, count: u32) -> String {
    if count == 0 {
        space_words(space, false)
    } else {
        format!(
            "{} {}",
            space_words(space, count > 1),
            crate::text::range(start, u64::from(count))
        )
    }
}

/// `, modbus unit 1` or nothing.
pub fn unit_words(protocol: &str, unit: Option<u32>) -> String {
    unit.map_or(String::new(), |u| format!(", {protocol} unit {u}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_merge_adjacent_and_cap() {
        let mut set = IntervalSet::default();
        set.insert(0, 4);
        set.insert(4, 10);
        set.insert(20, 21);
        assert_eq!(set.0, vec![(0, 10), (20, 21)]);
        assert_eq!(set.distance(12, 13), Some(2));
        assert_eq!(set.distance(5, 6), Some(0));
        assert_eq!(set.distance(100, 101), Some(79));
        assert!(set.covers(2, 9));
        assert!(!set.covers(9, 12));
        assert_eq!(set.describe(4), "0–9, 20");
        let mut capped = IntervalSet::default();
        let mut hits = 0;
        for i in 0..40u64 {
            hits += u64::from(capped.insert(i * 10, i * 10 + 1));
        }
        assert_eq!(capped.0.len(), MAX_INTERVALS);
        assert_eq!(hits, 8);
        assert_eq!(capped.span(), 391);
    }

    #[test]
    fn a_scrambled_restored_set_never_panics() {
        let mut set: IntervalSet = serde_json::from_str("[[50,60],[0,10],[70,5]]").unwrap();
        for i in 0..100u64 {
            set.insert(i * 7 % 300, i * 7 % 300 + 3);
            let _ = (set.distance(i, i + 2), set.covers(i, i + 1), set.span());
        }
        set.insert(u64::MAX, u64::MAX);
        assert!(set.0.len() <= MAX_INTERVALS);
        assert!(!set.describe(4).is_empty());
    }

    #[test]
    fn phrases() {
        assert_eq!(
            target_words("holding_register", 20, 1),
            "holding register 20"
        );
        assert_eq!(
            target_words("holding_register", 0, 10),
            "holding registers 0–9"
        );
        assert_eq!(target_words("coil", 0, 2), "coils 0–1");
        assert_eq!(target_words("db1", 0, 10), "db1 0–9");
        assert_eq!(target_words("g60v1", 0, 0), "g60v1");
        assert_eq!(unit_words("modbus", Some(1)), ", modbus unit 1");
    }
}
