//! The flow table: a pre-sized hash map from key to slab slot, the slab of entries, and
//! the lists that order entries for idle timeouts, active timeouts and eviction.

use super::config::FlowConfig;
use super::key::FlowKey;
use super::lists::Lists;
use records::{FlowState, Timestamp, TransportKind};
use std::collections::HashMap;

/// Keys are addresses and ports an attacker chooses: a keyed, DoS-resistant hasher that is
/// much faster than SipHash. Nothing depends on the map's iteration order.
type KeyMap<V> = HashMap<FlowKey, V, ahash::RandomState>;
use wire::MacAddr;

/// Slab index of a flow.
pub(crate) type Slot = u32;

/// Idle-timeout classes; each has its own list, ordered by last activity.
const CLASSES: usize = 6;

fn class_of(transport: TransportKind, state: FlowState) -> usize {
    match (transport, state) {
        (TransportKind::Tcp, FlowState::SynSent) => 0,
        (TransportKind::Tcp, FlowState::Closed | FlowState::Reset) => 2,
        (TransportKind::Tcp, _) => 1,
        (TransportKind::Udp, _) => 3,
        (TransportKind::Icmp | TransportKind::Icmpv6, _) => 4,
        (TransportKind::Other, _) => 5,
    }
}

/// Counters of one direction within the current reporting period.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DirCounters {
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
    pub(crate) first_ts: Option<Timestamp>,
    pub(crate) last_ts: Timestamp,
}

/// One tracked flow. Index 0 of `dirs`/`fin` is client→server, of `macs` the client.
#[derive(Debug)]
pub(crate) struct FlowEntry<T> {
    pub(crate) key: FlowKey,
    pub(crate) id: u64,
    pub(crate) client_is_lo: bool,
    pub(crate) transport: TransportKind,
    pub(crate) state: FlowState,
    pub(crate) fin: [bool; 2],
    pub(crate) dirs: [DirCounters; 2],
    pub(crate) macs: [Option<MacAddr>; 2],
    /// The last source MAC of each side that differed from `macs` (a flow seen on two
    /// segments of a multi-segment SPAN carries a router's MAC on one of them).
    pub(crate) other_macs: [Option<MacAddr>; 2],
    pub(crate) last_ts: Timestamp,
    /// Table clock when the entry last moved in its idle list.
    touched: Timestamp,
    /// Table clock when the current reporting period began.
    period_start: Timestamp,
    /// Gap bytes already reported in earlier periods.
    pub(crate) gap_base: u64,
    pub(crate) ext: T,
}

impl<T> FlowEntry<T> {
    /// A new entry; the table assigns id and times on insert.
    pub(crate) fn new(
        key: FlowKey,
        client_is_lo: bool,
        transport: TransportKind,
        state: FlowState,
        ext: T,
    ) -> Self {
        Self {
            key,
            id: 0,
            client_is_lo,
            transport,
            state,
            fin: [false; 2],
            dirs: [DirCounters::default(); 2],
            macs: [None; 2],
            other_macs: [None; 2],
            last_ts: Timestamp::default(),
            touched: Timestamp::default(),
            period_start: Timestamp::default(),
            gap_base: 0,
            ext,
        }
    }
}

/// Flows by key, with timeout ordering. Time is the table clock: the latest packet
/// time seen, so packets slightly out of time order never move it backwards.
#[derive(Debug)]
pub(crate) struct FlowTable<T> {
    map: KeyMap<Slot>,
    entries: Vec<Option<FlowEntry<T>>>,
    free: Vec<Slot>,
    idle: Lists<CLASSES>,
    active: Lists<1>,
    idle_timeout: [i64; CLASSES],
    active_timeout: i64,
    max_flows: usize,
    next_id: u64,
    clock: Timestamp,
}

impl<T> FlowTable<T> {
    pub(crate) fn new(cfg: &FlowConfig) -> Self {
        let max_flows = cfg.max_flows.clamp(1, u32::MAX as usize - 1);
        let cap = cfg.initial_capacity.min(max_flows);
        let s = |secs: u32| i64::from(secs) * 1_000_000;
        Self {
            map: KeyMap::with_capacity_and_hasher(cap, ahash::RandomState::new()),
            entries: Vec::with_capacity(cap),
            free: Vec::with_capacity(cap),
            idle: Lists::with_capacity(cap),
            active: Lists::with_capacity(cap),
            idle_timeout: [
                s(cfg.tcp_syn_timeout_secs),
                s(cfg.tcp_established_timeout_secs),
                s(cfg.tcp_closed_timeout_secs),
                s(cfg.udp_timeout_secs),
                s(cfg.icmp_timeout_secs),
                s(cfg.other_timeout_secs),
            ],
            active_timeout: s(cfg.active_timeout_secs),
            max_flows,
            next_id: cfg.first_flow_id.max(1),
            clock: Timestamp(i64::MIN),
        }
    }

    /// Moves the clock to `ts` unless it is already later.
    pub(crate) fn advance(&mut self, ts: Timestamp) {
        self.clock = self.clock.max(ts);
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.map.len() >= self.max_flows
    }

    pub(crate) fn get(&self, key: &FlowKey) -> Option<Slot> {
        self.map.get(key).copied()
    }

    pub(crate) fn entry(&self, slot: Slot) -> Option<&FlowEntry<T>> {
        self.entries.get(slot as usize)?.as_ref()
    }

    pub(crate) fn entry_mut(&mut self, slot: Slot) -> Option<&mut FlowEntry<T>> {
        self.entries.get_mut(slot as usize)?.as_mut()
    }

    /// Adds a flow (the caller made room); assigns the next id.
    pub(crate) fn insert(&mut self, mut entry: FlowEntry<T>) -> Slot {
        entry.id = self.next_id;
        self.next_id += 1;
        entry.touched = self.clock;
        entry.period_start = self.clock;
        let class = class_of(entry.transport, entry.state);
        let key = entry.key;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = Some(entry);
                slot
            }
            None => {
                self.entries.push(Some(entry));
                (self.entries.len() - 1) as Slot
            }
        };
        self.map.insert(key, slot);
        self.idle.move_to_back(slot, class);
        self.active.move_to_back(slot, 0);
        slot
    }

    /// Records activity: the flow moves to the back of the idle list of its state.
    pub(crate) fn touch(&mut self, slot: Slot) {
        let clock = self.clock;
        if let Some(e) = self.entry_mut(slot) {
            e.touched = clock;
            let class = class_of(e.transport, e.state);
            self.idle.move_to_back(slot, class);
        }
    }

    pub(crate) fn remove(&mut self, slot: Slot) -> Option<FlowEntry<T>> {
        let e = self.entries.get_mut(slot as usize)?.take()?;
        self.map.remove(&e.key);
        self.idle.remove(slot);
        self.active.remove(slot);
        self.free.push(slot);
        Some(e)
    }

    /// The least recently active flow (eviction victim).
    pub(crate) fn oldest_idle(&self) -> Option<Slot> {
        (0..CLASSES)
            .filter_map(|c| self.idle.head(c))
            .filter_map(|s| Some((self.entry(s)?.touched, self.entry(s)?.id, s)))
            .min()
            .map(|(_, _, s)| s)
    }

    /// The flow whose idle timeout ran out first, if any has by the clock.
    pub(crate) fn next_idle_expired(&self) -> Option<Slot> {
        (0..CLASSES)
            .filter_map(|c| {
                let s = self.idle.head(c)?;
                let e = self.entry(s)?;
                let deadline = e.touched.plus_micros(self.idle_timeout[c]);
                (deadline <= self.clock).then_some((deadline, e.id, s))
            })
            .min()
            .map(|(_, _, s)| s)
    }

    /// The flow whose reporting period is over, if any.
    pub(crate) fn next_active_due(&self) -> Option<Slot> {
        if self.active_timeout <= 0 {
            return None;
        }
        let s = self.active.head(0)?;
        let e = self.entry(s)?;
        (e.period_start.plus_micros(self.active_timeout) <= self.clock).then_some(s)
    }

    /// Starts a new reporting period for `slot` at the clock.
    pub(crate) fn restart_period(&mut self, slot: Slot) {
        let clock = self.clock;
        if let Some(e) = self.entry_mut(slot) {
            e.period_start = clock;
            self.active.move_to_back(slot, 0);
        }
    }

    /// Live slots in order of flow id (creation order).
    pub(crate) fn slots_by_id(&self) -> Vec<Slot> {
        let mut v: Vec<(u64, Slot)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((e.as_ref()?.id, i as Slot)))
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, s)| s).collect()
    }
}
