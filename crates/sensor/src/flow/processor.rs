//! Defragmentation, flow tracking, reassembly and dissector dispatch in one step per
//! packet.

use super::config::FlowConfig;
use super::dispatch::{dir_index, AppSlot, Dispatch};
use super::initiator::{sender_is_client, FirstPacket};
use super::key::FlowKey;
use super::stats::FlowStats;
use super::table::{FlowEntry, FlowTable, Slot};
use crate::defrag::Defragmenter;
use crate::reassembly::{Reassembler, TcpStream};
use dissect::{Direction, Emitter, FlowContext, Registry};
use records::{FlowRecord, FlowState, Timestamp, TransportKind};
use std::net::IpAddr;
use wire::{Decoded, MacAddr, Network, TcpFlags, Transport};

/// A new flow, or a flow whose application protocol was just recognised; what the
/// inventory learns client/server roles from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowStart {
    /// Flow id (as in its records).
    pub id: u64,
    /// Time of the packet that created the flow (or identified its protocol).
    pub ts: Timestamp,
    /// Transport.
    pub transport: TransportKind,
    /// Innermost VLAN id.
    pub vlan: Option<u16>,
    /// Initiator address.
    pub client_ip: IpAddr,
    /// Initiator port (0 without ports).
    pub client_port: u16,
    /// Initiator MAC, when known.
    pub client_mac: Option<MacAddr>,
    /// Responder address.
    pub server_ip: IpAddr,
    /// Responder port (0 without ports).
    pub server_port: u16,
    /// Responder MAC, when known.
    pub server_mac: Option<MacAddr>,
    /// Application protocol (dissector name), once recognised.
    pub app: Option<&'static str>,
}

/// Receives what the flow stage produces.
pub trait FlowOutput {
    /// A flow ended, timed out, was evicted or flushed, or a long flow's period ended.
    fn flow_record(&mut self, record: FlowRecord);

    /// A flow was created (its `app` is `None` at this point).
    fn flow_started(&mut self, start: &FlowStart) {
        let _ = start;
    }

    /// A flow's application protocol was recognised.
    fn app_identified(&mut self, start: &FlowStart) {
        let _ = start;
    }

    /// A side of a flow sent from a MAC other than the one its record carries: `ip`
    /// was seen behind `mac` too (a flow crossing two monitored segments, a failover, or
    /// someone answering in another's name).
    fn mac_seen(&mut self, ts: Timestamp, ip: IpAddr, mac: MacAddr) {
        let _ = (ts, ip, mac);
    }

    /// A dissector emitted observations or anomalies for flow `flow_id`. Take what you
    /// need (e.g. `std::mem::take` or `drain(..)`); anything left is discarded.
    fn dissected(&mut self, flow_id: u64, app: &'static str, ctx: &FlowContext, out: &mut Emitter) {
        let _ = (flow_id, app, ctx, out);
    }
}

/// Per-flow state beyond the counters: the two stream directions and the dissector.
#[derive(Debug, Default)]
struct FlowExt {
    /// Index 0: client→server; 1: server→client.
    streams: [TcpStream; 2],
    app: AppSlot,
}

/// One packet's facts, after any defragmentation.
struct PacketView<'a> {
    ts: Timestamp,
    vlan: Option<u16>,
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    src_mac: Option<MacAddr>,
    dst_mac: Option<MacAddr>,
    transport: Transport<'a>,
    ip_bytes: u64,
    packets: u64,
}

/// The flow stage: feed it decoded packets in time order, get flow records, dissector
/// output and flow-start notices.
///
/// Deterministic: the same packets give the same outputs in the same order (time is
/// packet time; no wall clock, no randomised iteration).
pub struct FlowProcessor {
    defrag: Defragmenter,
    core: Core,
}

struct Core {
    table: FlowTable<FlowExt>,
    reasm: Reassembler,
    registry: Registry,
    emitter: Emitter,
    stats: FlowStats,
}

impl FlowProcessor {
    /// A processor with these settings and dissectors.
    pub fn new(cfg: FlowConfig, registry: Registry) -> Self {
        Self {
            defrag: Defragmenter::new(cfg.defrag.clone()),
            core: Core {
                table: FlowTable::new(&cfg),
                reasm: Reassembler::new(cfg.reassembly.clone()),
                registry,
                emitter: Emitter::default(),
                stats: FlowStats::default(),
            },
        }
    }

    /// Processes one decoded packet captured at `ts`.
    pub fn process<O: FlowOutput>(&mut self, ts: Timestamp, pkt: &Decoded<'_>, out: &mut O) {
        let core = &mut self.core;
        core.stats.packets += 1;
        core.tick(ts, out);
        self.defrag.expire(ts);
        let (ip, v6) = match &pkt.network {
            Network::Ipv4(ip) => (ip, false),
            Network::Ipv6(ip) => (ip, true),
            _ => {
                core.stats.non_ip_packets += 1;
                return;
            }
        };
        let vlan = pkt.vlan();
        let mut view = PacketView {
            ts,
            vlan,
            src: ip.src,
            dst: ip.dst,
            protocol: ip.protocol,
            src_mac: pkt.link.and_then(|l| l.src_mac),
            dst_mac: pkt.link.and_then(|l| l.dst_mac),
            transport: pkt.transport,
            ip_bytes: u64::from(ip.total_len),
            packets: 1,
        };
        if ip.fragment.is_none() {
            core.handle(&view, out);
            return;
        }
        let Some(whole) = self.defrag.feed(ts, vlan, ip) else {
            return;
        };
        let len = u32::try_from(whole.payload.len()).unwrap_or(u32::MAX);
        view.transport = wire::decode_transport(ip.protocol, v6, whole.payload, len).0;
        view.ip_bytes = whole.ip_bytes;
        view.packets = u64::from(whole.fragments);
        core.handle(&view, out);
    }

    /// Ends every flow (in creation order), writing its record; used at end of input.
    pub fn flush<O: FlowOutput>(&mut self, out: &mut O) {
        let core = &mut self.core;
        for slot in core.table.slots_by_id() {
            core.stats.flows_flushed += 1;
            core.end_flow(slot, None, out);
        }
    }

    /// Flows currently tracked.
    pub fn active_flows(&self) -> usize {
        self.core.table.len()
    }

    /// Bytes waiting in TCP out-of-order buffers.
    pub fn buffered_bytes(&self) -> usize {
        self.core.reasm.buffered_bytes()
    }

    /// Counters so far.
    pub fn stats(&self) -> FlowStats {
        let r = self.core.reasm.stats();
        FlowStats {
            tcp_segments: r.segments,
            retransmissions: r.retransmissions,
            out_of_order: r.out_of_order,
            overlaps: r.overlaps,
            overlap_conflicts: r.overlap_conflicts,
            tcp_gaps: r.gaps,
            gap_bytes: r.gap_bytes,
            ack_gaps: r.ack_gaps,
            ooo_buffer_cap_hits: r.ooo_buffer_cap_hits,
            global_buffer_cap_hits: r.global_buffer_cap_hits,
            tail_overflows: r.tail_overflows,
            defrag: self.defrag.stats().clone(),
            ..self.core.stats.clone()
        }
    }
}

impl Core {
    /// Advances the clock and ends flows whose time ran out: idle timeouts first (in
    /// order of deadline), then periodic records of long flows.
    fn tick<O: FlowOutput>(&mut self, ts: Timestamp, out: &mut O) {
        self.table.advance(ts);
        while let Some(slot) = self.table.next_idle_expired() {
            self.stats.flows_timed_out += 1;
            self.end_flow(slot, None, out);
        }
        while let Some(slot) = self.table.next_active_due() {
            self.period_report(slot, out);
        }
    }

    fn handle<O: FlowOutput>(&mut self, p: &PacketView<'_>, out: &mut O) {
        let (sport, dport, first, transport) = match p.transport {
            Transport::Tcp(t) => (
                t.src_port,
                t.dst_port,
                FirstPacket::Tcp(t.flags),
                TransportKind::Tcp,
            ),
            Transport::Udp(u) => (u.src_port, u.dst_port, FirstPacket::Udp, TransportKind::Udp),
            Transport::Icmp(i) => (
                0,
                0,
                FirstPacket::Icmp {
                    v6: false,
                    icmp_type: i.icmp_type,
                },
                TransportKind::Icmp,
            ),
            Transport::Icmpv6(i) => (
                0,
                0,
                FirstPacket::Icmp {
                    v6: true,
                    icmp_type: i.icmp_type,
                },
                TransportKind::Icmpv6,
            ),
            Transport::Other { .. } => (0, 0, FirstPacket::Other, TransportKind::Other),
            Transport::None => {
                self.stats.no_transport_packets += 1;
                return;
            }
        };
        let (key, src_is_lo) = FlowKey::new(p.vlan, p.protocol, p.src, sport, p.dst, dport);
        let mut slot = self.table.get(&key);
        if let (Some(s), Transport::Tcp(t)) = (slot, &p.transport) {
            let new_syn = t.flags.has(TcpFlags::SYN) && !t.flags.has(TcpFlags::ACK);
            let closed = self
                .table
                .entry(s)
                .is_some_and(|e| matches!(e.state, FlowState::Closed | FlowState::Reset));
            if new_syn && closed {
                // A new connection on the same ports: the old one is over.
                self.stats.flows_reused += 1;
                self.end_flow(s, None, out);
                slot = None;
            }
        }
        let slot = match slot {
            Some(s) => s,
            None => {
                let client_is_lo = sender_is_client(first, sport, dport) == src_is_lo;
                self.create(p, key, src_is_lo, client_is_lo, transport, out)
            }
        };
        self.update(slot, p, src_is_lo, out);
    }

    fn create<O: FlowOutput>(
        &mut self,
        p: &PacketView<'_>,
        key: FlowKey,
        src_is_lo: bool,
        client_is_lo: bool,
        transport: TransportKind,
        out: &mut O,
    ) -> Slot {
        while self.table.is_full() {
            let Some(victim) = self.table.oldest_idle() else {
                break;
            };
            self.stats.flows_evicted += 1;
            self.end_flow(victim, Some(FlowState::Evicted), out);
        }
        let state = match p.transport {
            Transport::Tcp(t) if t.flags.has(TcpFlags::SYN) => {
                if t.flags.has(TcpFlags::ACK) {
                    FlowState::Established
                } else {
                    FlowState::SynSent
                }
            }
            Transport::Tcp(_) => FlowState::Midstream,
            _ => FlowState::Active,
        };
        let entry = FlowEntry::new(key, client_is_lo, transport, state, FlowExt::default());
        let slot = self.table.insert(entry);
        self.stats.flows_created += 1;
        if let Some(e) = self.table.entry_mut(slot) {
            set_macs(e, src_is_lo == client_is_lo, p);
            out.flow_started(&start_of(e, p.ts));
        }
        slot
    }

    fn update<O: FlowOutput>(
        &mut self,
        slot: Slot,
        p: &PacketView<'_>,
        src_is_lo: bool,
        out: &mut O,
    ) {
        let Some(e) = self.table.entry_mut(slot) else {
            return;
        };
        let from_client = src_is_lo == e.client_is_lo;
        let dir = if from_client {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let d = dir_index(dir);
        let c = &mut e.dirs[d];
        c.packets += p.packets;
        c.bytes += p.ip_bytes;
        c.first_ts.get_or_insert(p.ts);
        // Slightly out-of-order capture times never move a flow's end backwards.
        c.last_ts = c.last_ts.max(p.ts);
        e.last_ts = e.last_ts.max(p.ts);
        if let Some(mac) = set_macs(e, from_client, p) {
            out.mac_seen(p.ts, p.src, mac);
        }
        let ctx = context(e, p.ts);
        let flow_id = e.id;
        match p.transport {
            Transport::Tcp(t) => {
                advance_tcp_state(e, dir, t.flags);
                let FlowExt { streams, app } = &mut e.ext;
                let (to_server, to_client) = streams.split_at_mut(1);
                let (this, peer) = if d == 0 {
                    (&mut to_server[0], &mut to_client[0])
                } else {
                    (&mut to_client[0], &mut to_server[0])
                };
                let mut sink = Dispatch {
                    app,
                    registry: &self.registry,
                    emitter: &mut self.emitter,
                    ctx: &ctx,
                    dir,
                    out,
                    flow_id,
                    selected: &mut self.stats.dissectors_selected,
                };
                this.segment(
                    &mut self.reasm,
                    t.seq,
                    t.flags,
                    t.payload,
                    t.payload_len,
                    &mut sink,
                );
                if t.flags.has(TcpFlags::RST) {
                    // A reset connection sends nothing more: holes will not be filled.
                    this.flush_holes(&mut self.reasm, &mut sink);
                    sink.dir = other(dir);
                    peer.flush_holes(&mut self.reasm, &mut sink);
                } else if t.flags.has(TcpFlags::ACK) {
                    sink.dir = other(dir);
                    peer.peer_ack(&mut self.reasm, t.ack, &mut sink);
                }
            }
            Transport::Udp(u) if !u.payload.is_empty() => {
                let mut sink = Dispatch {
                    app: &mut e.ext.app,
                    registry: &self.registry,
                    emitter: &mut self.emitter,
                    ctx: &ctx,
                    dir,
                    out,
                    flow_id,
                    selected: &mut self.stats.dissectors_selected,
                };
                sink.datagram(u.payload);
            }
            _ => {}
        }
        if e.ext.app.name.is_some() && !e.ext.app.announced {
            e.ext.app.announced = true;
            out.app_identified(&start_of(e, p.ts));
        }
        self.table.touch(slot);
    }

    /// Ends a flow: reassembly delivers what waits and reports its holes, then the
    /// record is written. `state` overrides the flow's own final state.
    fn end_flow<O: FlowOutput>(&mut self, slot: Slot, state: Option<FlowState>, out: &mut O) {
        let Some(mut e) = self.table.remove(slot) else {
            return;
        };
        let ctx = context(&e, e.last_ts);
        let FlowExt { streams, app } = &mut e.ext;
        for (d, stream) in streams.iter_mut().enumerate() {
            let mut sink = Dispatch {
                app: &mut *app,
                registry: &self.registry,
                emitter: &mut self.emitter,
                ctx: &ctx,
                dir: if d == 0 {
                    Direction::ToServer
                } else {
                    Direction::ToClient
                },
                out: &mut *out,
                flow_id: e.id,
                selected: &mut self.stats.dissectors_selected,
            };
            stream.finish(&mut self.reasm, &mut sink);
        }
        Dispatch {
            app,
            registry: &self.registry,
            emitter: &mut self.emitter,
            ctx: &ctx,
            dir: Direction::ToServer,
            out: &mut *out,
            flow_id: e.id,
            selected: &mut self.stats.dissectors_selected,
        }
        .end();
        out.flow_record(record_of(&e, state.unwrap_or(e.state)));
    }

    /// Writes the record of a long flow's period and starts the next period.
    fn period_report<O: FlowOutput>(&mut self, slot: Slot, out: &mut O) {
        if let Some(e) = self.table.entry_mut(slot) {
            if e.dirs.iter().any(|d| d.packets > 0) {
                self.stats.active_reports += 1;
                out.flow_record(record_of(e, e.state));
                e.gap_base = gap_total(e);
                e.dirs = Default::default();
            }
        }
        self.table.restart_period(slot);
    }
}

fn other(dir: Direction) -> Direction {
    match dir {
        Direction::ToServer => Direction::ToClient,
        Direction::ToClient => Direction::ToServer,
    }
}

/// Learns MACs from the first packet that carries them: the sender's source MAC and
/// the receiver's destination MAC.
/// Records the MACs of a packet; returns the sender's MAC when it is neither the one the
/// flow record carries nor the last other one seen.
fn set_macs(e: &mut FlowEntry<FlowExt>, from_client: bool, p: &PacketView<'_>) -> Option<MacAddr> {
    let (sender, receiver) = if from_client { (0, 1) } else { (1, 0) };
    if e.macs[receiver].is_none() {
        e.macs[receiver] = p.dst_mac;
    }
    match e.macs[sender] {
        None => {
            e.macs[sender] = p.src_mac;
            None
        }
        known if known == p.src_mac || e.other_macs[sender] == p.src_mac => None,
        _ => {
            e.other_macs[sender] = p.src_mac;
            p.src_mac
        }
    }
}

/// TCP connection state after a packet in `dir` with `flags`.
fn advance_tcp_state(e: &mut FlowEntry<FlowExt>, dir: Direction, flags: TcpFlags) {
    if flags.has(TcpFlags::RST) {
        e.state = FlowState::Reset;
        return;
    }
    if e.state == FlowState::SynSent
        && dir == Direction::ToClient
        && flags.has(TcpFlags::SYN | TcpFlags::ACK)
    {
        e.state = FlowState::Established;
    }
    if flags.has(TcpFlags::FIN) {
        e.fin[dir_index(dir)] = true;
        if e.fin[0] && e.fin[1] && e.state != FlowState::Reset {
            e.state = FlowState::Closed;
        }
    }
}

fn endpoints(e: &FlowEntry<FlowExt>) -> ((IpAddr, u16), (IpAddr, u16)) {
    let lo = (e.key.lo_ip, e.key.lo_port);
    let hi = (e.key.hi_ip, e.key.hi_port);
    if e.client_is_lo {
        (lo, hi)
    } else {
        (hi, lo)
    }
}

fn context(e: &FlowEntry<FlowExt>, ts: Timestamp) -> FlowContext {
    let ((client_ip, client_port), (server_ip, server_port)) = endpoints(e);
    FlowContext {
        transport: if e.transport == TransportKind::Tcp {
            dissect::Transport::Tcp
        } else {
            dissect::Transport::Udp
        },
        vlan: e.key.vlan,
        client_ip,
        client_port,
        client_mac: e.macs[0],
        server_ip,
        server_port,
        server_mac: e.macs[1],
        ts,
    }
}

fn start_of(e: &FlowEntry<FlowExt>, ts: Timestamp) -> FlowStart {
    let ((client_ip, client_port), (server_ip, server_port)) = endpoints(e);
    FlowStart {
        id: e.id,
        ts,
        transport: e.transport,
        vlan: e.key.vlan,
        client_ip,
        client_port,
        client_mac: e.macs[0],
        server_ip,
        server_port,
        server_mac: e.macs[1],
        app: e.ext.app.name,
    }
}

fn gap_total(e: &FlowEntry<FlowExt>) -> u64 {
    e.ext.streams.iter().map(TcpStream::gap_bytes).sum()
}

fn record_of(e: &FlowEntry<FlowExt>, state: FlowState) -> FlowRecord {
    let ((src_ip, src_port), (dst_ip, dst_port)) = endpoints(e);
    let [up, down] = e.dirs;
    let ts_start = match (up.first_ts, down.first_ts) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => e.last_ts,
    };
    FlowRecord {
        kind: "flow",
        id: e.id,
        ts_start,
        ts_end: e.last_ts,
        transport: e.transport,
        vlan: e.key.vlan,
        src_ip,
        src_port,
        dst_ip,
        dst_port,
        src_mac: e.macs[0],
        dst_mac: e.macs[1],
        packets_to_server: up.packets,
        packets_to_client: down.packets,
        bytes_to_server: up.bytes,
        bytes_to_client: down.bytes,
        app: e.ext.app.name,
        state,
        gap_bytes: gap_total(e).saturating_sub(e.gap_base),
    }
}
