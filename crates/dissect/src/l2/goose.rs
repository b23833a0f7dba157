//! IEC 61850-8-1 GOOSE (EtherType 0x88B8): header, BER-encoded goosePdu, and per-publisher
//! state-number tracking.
//!
//! A publisher retransmits its data set continuously (sqNum counting up, stNum fixed) and
//! bumps stNum when a value changes. Events: one when a publisher is first seen and one
//! per stNum change (attribute `state_change=true`); retransmissions are only counted.
//! A state number going backwards, a sequence number that skips or repeats within a state,
//! and malformed PDUs are anomalies.

use super::{L2Counters, L2Frame};
use crate::{Attr, Emitter, Event, OpClass};
use std::collections::HashMap;
use wire::MacAddr;

const PROTO: &str = "goose";
/// Most publishers tracked; beyond this the table is cleared (an anomaly says so).
pub const MAX_PUBLISHERS: usize = 4096;
/// Most data-set values reported per event.
pub const MAX_VALUES: usize = 64;
/// Deepest nesting of arrays/structures walked in allData.
pub const MAX_DEPTH: usize = 8;
/// Longest reference string kept.
const MAX_TEXT: usize = 129;

/// Why a GOOSE frame could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GooseError {
    /// Shorter than the 8-byte header.
    Truncated,
    /// The header length is below 8 or beyond the frame.
    BadLength(u16),
    /// The PDU is not a goosePdu ([APPLICATION 1]).
    NotGoosePdu(u8),
    /// A BER length or tag that runs past its container.
    BadBer,
    /// A mandatory field is missing.
    Missing(&'static str),
}

impl std::fmt::Display for GooseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Truncated => f.write_str("GOOSE header truncated"),
            Self::BadLength(l) => write!(f, "GOOSE length {l} does not fit the frame"),
            Self::NotGoosePdu(t) => write!(f, "PDU tag {t:#04x} is not a goosePdu"),
            Self::BadBer => f.write_str("BER element runs past its container"),
            Self::Missing(what) => write!(f, "goosePdu without {what}"),
        }
    }
}

impl std::error::Error for GooseError {}

/// One BER element: tag byte, content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The (single-byte) tag.
    pub tag: u8,
    /// The content octets.
    pub value: &'a [u8],
}

/// Reads one BER element from the front of `data`; returns it and the rest.
/// Only single-byte tags and definite lengths up to 4 bytes are accepted (GOOSE uses
/// nothing else).
pub fn read_tlv(data: &[u8]) -> Result<(Tlv<'_>, &[u8]), GooseError> {
    let (&tag, rest) = data.split_first().ok_or(GooseError::BadBer)?;
    if tag & 0x1F == 0x1F {
        return Err(GooseError::BadBer);
    }
    let (&l0, rest) = rest.split_first().ok_or(GooseError::BadBer)?;
    let (len, rest) = if l0 < 0x80 {
        (usize::from(l0), rest)
    } else {
        let n = usize::from(l0 & 0x7F);
        if n == 0 || n > 4 {
            return Err(GooseError::BadBer);
        }
        let bytes = rest.get(..n).ok_or(GooseError::BadBer)?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
        (len, &rest[n..])
    };
    let value = rest.get(..len).ok_or(GooseError::BadBer)?;
    Ok((Tlv { tag, value }, &rest[len..]))
}

/// Unsigned big-endian integer of up to 8 content bytes (leading zero allowed).
fn uint(v: &[u8]) -> Option<u64> {
    let v = match v {
        [0, rest @ ..] if rest.len() == 8 => rest,
        _ => v,
    };
    if v.is_empty() || v.len() > 8 {
        return None;
    }
    Some(v.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)))
}

/// Signed (two's complement) big-endian integer of up to 8 content bytes.
fn int(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() > 8 {
        return None;
    }
    let neg = v[0] & 0x80 != 0;
    let init: i64 = if neg { -1 } else { 0 };
    Some(v.iter().fold(init, |acc, &b| acc << 8 | i64::from(b)))
}

fn text(v: &[u8]) -> &str {
    let v = &v[..v.len().min(MAX_TEXT)];
    std::str::from_utf8(v).unwrap_or("")
}

/// The fields of a goosePdu.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GoosePdu<'a> {
    /// APPID from the header.
    pub appid: u16,
    /// Simulate bit of the header's reserved1 field.
    pub simulated_bit: bool,
    /// Control block reference.
    pub gocb_ref: &'a str,
    /// Time allowed to live, ms.
    pub time_allowed_to_live: Option<u64>,
    /// Data set reference.
    pub dat_set: &'a str,
    /// GOOSE id.
    pub go_id: &'a str,
    /// Event time, seconds since 1970 (UtcTime's seconds part).
    pub t_secs: Option<u32>,
    /// State number.
    pub st_num: u64,
    /// Sequence number.
    pub sq_num: u64,
    /// Simulation / test flag.
    pub simulation: bool,
    /// Configuration revision.
    pub conf_rev: Option<u64>,
    /// Needs commissioning.
    pub nds_com: bool,
    /// Number of data set entries announced.
    pub num_dat_set_entries: Option<u64>,
    /// The allData element's content.
    pub all_data: &'a [u8],
    /// The mandatory gocbRef was absent (reported as an anomaly; the state is still
    /// tracked, by source and APPID).
    pub missing_gocb_ref: bool,
}

/// Parses a GOOSE frame (`payload` starts with the APPID).
pub fn parse(payload: &[u8]) -> Result<GoosePdu<'_>, GooseError> {
    let h = payload.get(..8).ok_or(GooseError::Truncated)?;
    let appid = u16::from_be_bytes([h[0], h[1]]);
    let len = u16::from_be_bytes([h[2], h[3]]);
    if len < 8 || usize::from(len) > payload.len() {
        return Err(GooseError::BadLength(len));
    }
    let reserved1 = u16::from_be_bytes([h[4], h[5]]);
    let apdu = &payload[8..usize::from(len)];
    let (pdu, _) = read_tlv(apdu)?;
    if pdu.tag != 0x61 {
        return Err(GooseError::NotGoosePdu(pdu.tag));
    }
    let mut g = GoosePdu {
        appid,
        simulated_bit: reserved1 & 0x8000 != 0,
        ..GoosePdu::default()
    };
    let (mut have_st, mut have_sq, mut have_ref) = (false, false, false);
    let mut rest = pdu.value;
    while !rest.is_empty() {
        let (t, r) = read_tlv(rest)?;
        rest = r;
        match t.tag {
            0x80 => {
                g.gocb_ref = text(t.value);
                have_ref = true;
            }
            0x81 => g.time_allowed_to_live = uint(t.value),
            0x82 => g.dat_set = text(t.value),
            0x83 => g.go_id = text(t.value),
            0x84 => {
                g.t_secs = t
                    .value
                    .get(..4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            }
            0x85 => {
                g.st_num = uint(t.value).ok_or(GooseError::BadBer)?;
                have_st = true;
            }
            0x86 => {
                g.sq_num = uint(t.value).ok_or(GooseError::BadBer)?;
                have_sq = true;
            }
            0x87 => g.simulation = t.value.first().is_some_and(|&b| b != 0),
            0x88 => g.conf_rev = uint(t.value),
            0x89 => g.nds_com = t.value.first().is_some_and(|&b| b != 0),
            0x8A => g.num_dat_set_entries = uint(t.value),
            0xAB => g.all_data = t.value,
            _ => {}
        }
    }
    g.missing_gocb_ref = !have_ref;
    if !have_st {
        return Err(GooseError::Missing("stNum"));
    }
    if !have_sq {
        return Err(GooseError::Missing("sqNum"));
    }
    Ok(g)
}

/// Walks allData: counts leaf values and calls `f(index, value)` for booleans, integers
/// and floats (first [`MAX_VALUES`] leaves). Returns the number of top-level entries.
pub fn walk_data(all_data: &[u8], mut f: impl FnMut(u64, f64)) -> Result<u64, GooseError> {
    fn walk(
        data: &[u8],
        depth: usize,
        leaf: &mut u64,
        f: &mut dyn FnMut(u64, f64),
    ) -> Result<u64, GooseError> {
        let mut rest = data;
        let mut entries = 0;
        while !rest.is_empty() {
            let (t, r) = read_tlv(rest)?;
            rest = r;
            entries += 1;
            match t.tag {
                // array, structure
                0xA1 | 0xA2 => {
                    if depth >= MAX_DEPTH {
                        return Err(GooseError::BadBer);
                    }
                    walk(t.value, depth + 1, leaf, f)?;
                    continue;
                }
                0x83 => {
                    if let Some(&b) = t.value.first() {
                        f(*leaf, if b != 0 { 1.0 } else { 0.0 });
                    }
                }
                0x85 => {
                    if let Some(v) = int(t.value) {
                        f(*leaf, v as f64);
                    }
                }
                0x86 => {
                    if let Some(v) = uint(t.value) {
                        f(*leaf, v as f64);
                    }
                }
                // floating-point: exponent width byte, then IEEE 754 single or double.
                0x87 => match t.value {
                    [_, a, b, c, d] => f(*leaf, f64::from(f32::from_be_bytes([*a, *b, *c, *d]))),
                    [_, a, b, c, d, e, g, h, i] => {
                        f(*leaf, f64::from_be_bytes([*a, *b, *c, *d, *e, *g, *h, *i]))
                    }
                    _ => {}
                },
                _ => {}
            }
            *leaf += 1;
        }
        Ok(entries)
    }
    let mut leaf = 0;
    walk(all_data, 0, &mut leaf, &mut f)
}

/// What is remembered of one publisher.
#[derive(Clone, Copy, Debug)]
struct Seen {
    st_num: u64,
    sq_num: u64,
}

/// GOOSE publishers seen so far, keyed by source MAC and APPID.
#[derive(Debug, Default)]
pub struct Publishers {
    seen: HashMap<(MacAddr, u16), Seen>,
}

impl Publishers {
    /// Dissects one GOOSE frame.
    pub(crate) fn dissect(
        &mut self,
        frame: &L2Frame<'_>,
        counters: &mut L2Counters,
        out: &mut Emitter,
    ) {
        let g = match parse(frame.payload) {
            Ok(g) => g,
            Err(e) => {
                out.anomaly(PROTO, format!("malformed GOOSE frame: {e}"));
                return;
            }
        };
        if g.missing_gocb_ref {
            out.anomaly(
                PROTO,
                format!("goosePdu of APPID {} without gocbRef", g.appid),
            );
        }
        let key = (frame.src_mac, g.appid);
        let prev = self.seen.get(&key).copied();
        if prev.is_none() && self.seen.len() >= MAX_PUBLISHERS {
            out.anomaly(PROTO, "too many GOOSE publishers tracked; table cleared");
            self.seen.clear();
        }
        self.seen.insert(
            key,
            Seen {
                st_num: g.st_num,
                sq_num: g.sq_num,
            },
        );
        let state_change = match prev {
            Some(p) if p.st_num == g.st_num => {
                counters.goose_retransmissions += 1;
                // The same frame twice (a mirror port duplicating it) is not a gap.
                if g.sq_num == p.sq_num {
                    counters.goose_duplicates += 1;
                    return;
                }
                if g.sq_num != p.sq_num.wrapping_add(1) && !(g.sq_num == 0 && p.sq_num > 0) {
                    out.anomaly(
                        PROTO,
                        format!(
                            "GOOSE {} sqNum {} after {} within stNum {}",
                            g.gocb_ref, g.sq_num, p.sq_num, g.st_num
                        ),
                    );
                }
                return;
            }
            Some(p) => {
                // Wrap-around restarts at 1 (0 is reserved for the first frame after boot).
                if g.st_num < p.st_num && g.st_num > 1 {
                    out.anomaly(
                        PROTO,
                        format!(
                            "GOOSE {} stNum went backwards from {} to {}",
                            g.gocb_ref, p.st_num, g.st_num
                        ),
                    );
                }
                true
            }
            None => false,
        };
        let mut ev = Event::new(PROTO, OpClass::Other, 1, "goose", false);
        ev.unit = Some(u32::from(g.appid));
        let space = format!(
            "dataset:{}",
            if g.dat_set.is_empty() {
                g.gocb_ref
            } else {
                g.dat_set
            }
        );
        let mut values = Vec::new();
        let entries = match walk_data(g.all_data, |i, v| {
            if values.len() < MAX_VALUES {
                values.push((i, v));
            }
        }) {
            Ok(n) => n,
            Err(e) => {
                out.anomaly(PROTO, format!("malformed GOOSE allData: {e}"));
                0
            }
        };
        let count = g.num_dat_set_entries.unwrap_or(entries);
        ev.target(space.clone(), 0, u32::try_from(count).unwrap_or(u32::MAX));
        for (i, v) in values {
            ev.value(space.clone(), i, v);
        }
        ev.attr("gocb_ref", Attr::Text(g.gocb_ref.to_string()))
            .attr("dat_set", Attr::Text(g.dat_set.to_string()))
            .attr("go_id", Attr::Text(g.go_id.to_string()))
            .attr("st_num", Attr::UInt(g.st_num))
            .attr("sq_num", Attr::UInt(g.sq_num))
            .attr("state_change", Attr::Bool(state_change))
            .attr("all_data_entries", Attr::UInt(entries))
            .attr("simulation", Attr::Bool(g.simulation || g.simulated_bit))
            .attr("nds_com", Attr::Bool(g.nds_com));
        if let Some(ttl) = g.time_allowed_to_live {
            ev.attr("time_allowed_to_live", Attr::UInt(ttl));
        }
        if let Some(r) = g.conf_rev {
            ev.attr("conf_rev", Attr::UInt(r));
        }
        if let Some(n) = g.num_dat_set_entries {
            ev.attr("num_dat_set_entries", Attr::UInt(n));
        }
        if let Some(t) = g.t_secs {
            ev.attr("t", Attr::UInt(t.into()));
        }
        frame.event(ev, out);
    }
}
