//! Flow table settings.

use crate::defrag::DefragConfig;
use crate::reassembly::ReassemblyConfig;

/// Settings of the flow table, TCP reassembly and fragment cache.
///
/// Idle timeouts end a flow after that many seconds of packet time without a packet;
/// the active timeout writes a record for a long flow and starts a new reporting period
/// (the flow keeps its id and continues).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    /// Most flows tracked at once; beyond it the least recently active flow is ended
    /// with state `evicted` (counted in `FlowStats::flows_evicted`).
    pub max_flows: usize,
    /// Flows the hash map is sized for up front (capped at `max_flows`); the table
    /// grows beyond it without rehashing per packet.
    pub initial_capacity: usize,
    /// TCP: SYN seen, no answer yet.
    pub tcp_syn_timeout_secs: u32,
    /// TCP: established or mid-stream connection without traffic.
    pub tcp_established_timeout_secs: u32,
    /// TCP: after FIN both ways or RST (lets the last ACKs join the flow).
    pub tcp_closed_timeout_secs: u32,
    /// UDP.
    pub udp_timeout_secs: u32,
    /// ICMP and ICMPv6.
    pub icmp_timeout_secs: u32,
    /// Any other IP protocol.
    pub other_timeout_secs: u32,
    /// A flow active for this long is reported and a new period started (0 = never).
    pub active_timeout_secs: u32,
    /// TCP reassembly limits.
    pub reassembly: ReassemblyConfig,
    /// IP fragment cache limits.
    pub defrag: DefragConfig,
    /// Id of the first flow (ids count up from it): a run continuing a state folder
    /// starts after the ids already stored, so a flow id names one flow across runs.
    pub first_flow_id: u64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self {
            max_flows: 1_000_000,
            initial_capacity: 65_536,
            tcp_syn_timeout_secs: 30,
            tcp_established_timeout_secs: 600,
            tcp_closed_timeout_secs: 10,
            udp_timeout_secs: 120,
            icmp_timeout_secs: 30,
            other_timeout_secs: 120,
            active_timeout_secs: 1800,
            reassembly: ReassemblyConfig::default(),
            defrag: DefragConfig::default(),
            first_flow_id: 1,
        }
    }
}
