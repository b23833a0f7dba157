//! Counters of the flow stage.

use crate::defrag::DefragStats;

/// Counters of the flow stage: table, reassembly and fragment cache. Every cap that is
/// hit has a counter here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Packets given to `process`.
    pub packets: u64,
    /// Packets without an IP layer (ARP, LLDP, other EtherTypes): not tracked as flows.
    pub non_ip_packets: u64,
    /// IP packets whose transport header was missing or cut short: not tracked.
    pub no_transport_packets: u64,
    /// Flows created.
    pub flows_created: u64,
    /// Flows ended by an idle timeout.
    pub flows_timed_out: u64,
    /// Flows ended to make room at `max_flows`.
    pub flows_evicted: u64,
    /// Flows ended because a new connection (SYN) reused a closed flow's key.
    pub flows_reused: u64,
    /// Flows ended by `flush`.
    pub flows_flushed: u64,
    /// Periodic records written for long flows (active timeout).
    pub active_reports: u64,
    /// TCP segments with payload.
    pub tcp_segments: u64,
    /// TCP segments whose bytes had all been seen.
    pub retransmissions: u64,
    /// TCP segments buffered ahead of a hole.
    pub out_of_order: u64,
    /// TCP segments overlapping bytes already received.
    pub overlaps: u64,
    /// Overlaps whose bytes differed from the copy kept (evasion signal).
    pub overlap_conflicts: u64,
    /// Gaps reported to dissectors.
    pub tcp_gaps: u64,
    /// Bytes lost to gaps.
    pub gap_bytes: u64,
    /// Gaps decided from acknowledgements of bytes never seen.
    pub ack_gaps: u64,
    /// Segments that hit the per-direction out-of-order cap.
    pub ooo_buffer_cap_hits: u64,
    /// Segments that hit the global out-of-order cap.
    pub global_buffer_cap_hits: u64,
    /// Times a dissector left more than the allowed unconsumed bytes.
    pub tail_overflows: u64,
    /// Flows whose dissector was chosen.
    pub dissectors_selected: u64,
    /// IP fragment cache counters.
    pub defrag: DefragStats,
}
