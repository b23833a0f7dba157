//! IPv4 and IPv6 fragment reassembly.
//!
//! Purpose: turn the fragments `wire` reports ([`wire::IpInfo::fragment`]) back into
//! whole IP payloads so the transport layer can be decoded and tracked.
//!
//! Guarantees:
//! - Datagrams are keyed by (source, destination, protocol, identification, VLAN).
//! - Overlapping fragments: **the first copy of a byte wins** (later copies of the same
//!   bytes are ignored and counted in [`DefragStats::overlaps`]). Linux and the BSDs
//!   keep first data (or drop overlapping datagrams outright for IPv6, RFC 5722); keeping
//!   first data matches what a host most likely delivered and never lets a late fragment
//!   rewrite bytes a dissector would otherwise have seen.
//! - Bounded: a datagram larger than [`DefragConfig::max_datagram_len`] is dropped
//!   (`too_big`); at most [`DefragConfig::max_datagrams`] datagrams and
//!   [`DefragConfig::max_pending_bytes`] bytes are pending, the oldest pending datagram
//!   being evicted to make room (`evicted_cap`); a datagram whose first fragment is older
//!   than [`DefragConfig::timeout_secs`] of packet time is dropped (`timed_out`).
//! - No allocation per packet in the steady state: buffers of finished datagrams are
//!   kept (up to `max_pending_bytes` of capacity) and reused for new ones.
//!
//! Caller's duty: feed packets in timestamp order; the returned payload borrows the
//! defragmenter and is valid until the next call.
#![forbid(unsafe_code)]

use records::Timestamp;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use wire::IpInfo;

/// Limits of the fragment cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefragConfig {
    /// Most datagrams waiting for fragments at once; the oldest is evicted beyond it.
    pub max_datagrams: usize,
    /// Most payload bytes held for pending datagrams at once (also the most buffer
    /// capacity kept for reuse); the oldest pending datagram is evicted beyond it.
    pub max_pending_bytes: usize,
    /// Largest reassembled IP payload accepted, in bytes (IPv4/IPv6 without jumbograms:
    /// 65535).
    pub max_datagram_len: usize,
    /// Seconds of packet time after its first fragment that a datagram may stay
    /// incomplete (RFC 8200 and most stacks use 30–60 s).
    pub timeout_secs: u32,
}

impl Default for DefragConfig {
    fn default() -> Self {
        Self {
            max_datagrams: 4096,
            max_pending_bytes: 16 << 20,
            max_datagram_len: 65535,
            timeout_secs: 30,
        }
    }
}

/// Counters of the fragment cache.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DefragStats {
    /// Fragments fed.
    pub fragments: u64,
    /// Datagrams completed.
    pub reassembled: u64,
    /// Pending datagrams dropped because their time ran out.
    pub timed_out: u64,
    /// Pending datagrams evicted to stay within the caps.
    pub evicted_cap: u64,
    /// Fragments that overlapped bytes already received (first copy kept).
    pub overlaps: u64,
    /// Fragments whose overlapping bytes differed from the bytes kept (evasion signal).
    pub overlap_conflicts: u64,
    /// Datagrams dropped because they would exceed the size cap.
    pub too_big: u64,
}

/// A completed datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reassembled<'a> {
    /// The IP payload (transport header onwards).
    pub payload: &'a [u8],
    /// Number of fragments that made it.
    pub fragments: u32,
    /// Sum of the fragments' IP total lengths (for flow byte counters).
    pub ip_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct FragKey {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    id: u32,
    vlan: Option<u16>,
}

/// One datagram being reassembled.
#[derive(Debug, Default)]
struct Pending {
    key: Option<FragKey>,
    generation: u64,
    first_ts: Timestamp,
    buf: Vec<u8>,
    /// Received byte ranges, sorted, disjoint and not adjacent.
    ranges: Vec<(usize, usize)>,
    total: Option<usize>,
    fragments: u32,
    ip_bytes: u64,
}

/// Reassembles fragmented IPv4 and IPv6 datagrams.
#[derive(Debug)]
pub struct Defragmenter {
    cfg: DefragConfig,
    map: HashMap<FragKey, usize, ahash::RandomState>,
    slots: Vec<Pending>,
    free: Vec<usize>,
    /// Creation order of datagrams, (slot, generation); stale entries are skipped.
    order: VecDeque<(usize, u64)>,
    next_generation: u64,
    pending_bytes: usize,
    retained_bytes: usize,
    out: Vec<u8>,
    stats: DefragStats,
}

impl Defragmenter {
    /// An empty cache with these limits.
    pub fn new(cfg: DefragConfig) -> Self {
        let n = cfg.max_datagrams.min(65536);
        Self {
            map: HashMap::with_capacity_and_hasher(n, ahash::RandomState::new()),
            slots: Vec::with_capacity(n),
            free: Vec::with_capacity(n),
            order: VecDeque::with_capacity(n),
            next_generation: 0,
            pending_bytes: 0,
            retained_bytes: 0,
            out: Vec::new(),
            stats: DefragStats::default(),
            cfg,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &DefragStats {
        &self.stats
    }

    /// Datagrams currently pending.
    pub fn pending(&self) -> usize {
        self.map.len()
    }

    /// Feeds one packet. Returns the whole datagram's payload when this fragment
    /// completed it; `None` when more fragments are needed, the packet is not a
    /// fragment, or the datagram was dropped.
    pub fn feed(
        &mut self,
        ts: Timestamp,
        vlan: Option<u16>,
        ip: &IpInfo<'_>,
    ) -> Option<Reassembled<'_>> {
        let frag = ip.fragment?;
        self.expire(ts);
        self.stats.fragments += 1;
        let key = FragKey {
            src: ip.src,
            dst: ip.dst,
            protocol: ip.protocol,
            id: frag.id,
            vlan,
        };
        let start = frag.offset as usize;
        let end = start.saturating_add(ip.payload.len());
        if end > self.cfg.max_datagram_len || end > self.cfg.max_pending_bytes {
            self.stats.too_big += 1;
            if let Some(slot) = self.map.get(&key).copied() {
                self.release(slot);
            }
            return None;
        }
        let slot = match self.map.get(&key).copied() {
            Some(slot) => slot,
            None => self.start_datagram(key, ts, end),
        };
        let grow = end.saturating_sub(self.slots[slot].buf.len());
        if grow > 0 {
            self.make_room(grow, Some(slot));
        }
        let p = &mut self.slots[slot];
        p.fragments = p.fragments.saturating_add(1);
        p.ip_bytes += u64::from(ip.total_len);
        if !frag.more && p.total.is_none() {
            p.total = Some(end);
        }
        if p.buf.len() < end {
            self.pending_bytes += end - p.buf.len();
            p.buf.resize(end, 0);
        }
        let (overlap, conflict) = write_first_wins(p, start, ip.payload);
        self.stats.overlaps += u64::from(overlap);
        self.stats.overlap_conflicts += u64::from(conflict);
        let total = p.total?;
        let complete = matches!(p.ranges.first(), Some(&(0, e)) if e >= total);
        if !complete {
            return None;
        }
        // Hand the datagram's buffer out and keep the previous output buffer for reuse.
        std::mem::swap(&mut self.out, &mut p.buf);
        let (fragments, ip_bytes) = (p.fragments, p.ip_bytes);
        self.release(slot);
        self.stats.reassembled += 1;
        Some(Reassembled {
            payload: self.out.get(..total).unwrap_or(&self.out),
            fragments,
            ip_bytes,
        })
    }

    /// Drops datagrams whose time ran out at packet time `now`.
    pub fn expire(&mut self, now: Timestamp) {
        let timeout = i64::from(self.cfg.timeout_secs) * 1_000_000;
        while let Some(&(slot, generation)) = self.order.front() {
            let p = &self.slots[slot];
            if p.key.is_none() || p.generation != generation {
                self.order.pop_front();
                continue;
            }
            if now.micros_since(p.first_ts) < timeout {
                break;
            }
            self.order.pop_front();
            self.stats.timed_out += 1;
            self.release(slot);
        }
    }

    fn start_datagram(&mut self, key: FragKey, ts: Timestamp, end: usize) -> usize {
        while self.map.len() >= self.cfg.max_datagrams.max(1) {
            if !self.evict_oldest(None) {
                break;
            }
        }
        self.make_room(end, None);
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(Pending::default());
                self.slots.len() - 1
            }
        };
        self.next_generation += 1;
        let p = &mut self.slots[slot];
        self.retained_bytes = self.retained_bytes.saturating_sub(p.buf.capacity());
        p.key = Some(key.clone());
        p.generation = self.next_generation;
        p.first_ts = ts;
        p.buf.clear();
        p.ranges.clear();
        p.total = None;
        p.fragments = 0;
        p.ip_bytes = 0;
        self.order.push_back((slot, self.next_generation));
        if self.order.len() > 4 * self.cfg.max_datagrams.max(16) {
            // Completed datagrams leave stale entries; drop them so the queue stays small.
            let slots = &self.slots;
            self.order
                .retain(|&(s, g)| slots[s].key.is_some() && slots[s].generation == g);
        }
        self.map.insert(key, slot);
        slot
    }

    /// Evicts the oldest pending datagrams (never `keep`) until `extra` more bytes fit.
    fn make_room(&mut self, extra: usize, keep: Option<usize>) {
        while self.pending_bytes + extra > self.cfg.max_pending_bytes {
            if !self.evict_oldest(keep) {
                break;
            }
        }
    }

    fn evict_oldest(&mut self, keep: Option<usize>) -> bool {
        let mut found = None;
        for (i, &(slot, generation)) in self.order.iter().enumerate() {
            let p = &self.slots[slot];
            if p.key.is_some() && p.generation == generation && Some(slot) != keep {
                found = Some((i, slot));
                break;
            }
        }
        let Some((i, slot)) = found else {
            return false;
        };
        self.order.remove(i);
        self.stats.evicted_cap += 1;
        self.release(slot);
        true
    }

    fn release(&mut self, slot: usize) {
        let p = &mut self.slots[slot];
        if let Some(key) = p.key.take() {
            self.map.remove(&key);
        }
        self.pending_bytes = self.pending_bytes.saturating_sub(p.buf.len());
        p.buf.clear();
        p.ranges.clear();
        if self.retained_bytes + p.buf.capacity() > self.cfg.max_pending_bytes {
            p.buf = Vec::new();
        }
        self.retained_bytes += p.buf.capacity();
        self.free.push(slot);
    }
}

/// Copies `data` at `start` into `p.buf` where no byte was received yet and records the
/// range. Returns (overlapped, overlapped bytes differed).
fn write_first_wins(p: &mut Pending, start: usize, data: &[u8]) -> (bool, bool) {
    let end = start + data.len();
    let mut overlap = false;
    let mut conflict = false;
    let mut cursor = start;
    for &(rs, re) in &p.ranges {
        if re <= cursor {
            continue;
        }
        if rs >= end {
            break;
        }
        if rs > cursor {
            p.buf[cursor..rs].copy_from_slice(&data[cursor - start..rs - start]);
        }
        let (os, oe) = (rs.max(cursor), re.min(end));
        overlap = true;
        conflict |= p.buf[os..oe] != data[os - start..oe - start];
        cursor = oe;
        if cursor >= end {
            break;
        }
    }
    if cursor < end {
        p.buf[cursor..end].copy_from_slice(&data[cursor - start..]);
    }
    insert_range(&mut p.ranges, start, end);
    (overlap, conflict)
}

/// Adds [start, end) to a sorted list of disjoint ranges, merging touching ones.
fn insert_range(ranges: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    if start >= end {
        return;
    }
    let first = ranges.partition_point(|&(_, e)| e < start);
    let mut last = first;
    let (mut s, mut e) = (start, end);
    while last < ranges.len() && ranges[last].0 <= e {
        s = s.min(ranges[last].0);
        e = e.max(ranges[last].1);
        last += 1;
    }
    ranges.splice(first..last, std::iter::once((s, e)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_touching_and_overlapping() {
        let mut r = Vec::new();
        insert_range(&mut r, 10, 20);
        insert_range(&mut r, 30, 40);
        insert_range(&mut r, 20, 30);
        assert_eq!(r, vec![(10, 40)]);
        insert_range(&mut r, 0, 5);
        insert_range(&mut r, 50, 60);
        insert_range(&mut r, 3, 55);
        assert_eq!(r, vec![(0, 60)]);
    }
}
