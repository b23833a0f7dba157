//! Bidirectional flow tracking and the per-packet flow stage.
//!
//! Purpose: group packets into flows (VLAN, IP protocol and both endpoints; both
//! directions share one entry), tell client from server, follow TCP connection state,
//! reassemble TCP streams, choose and feed a dissector per flow, and write a
//! [`records::FlowRecord`] when a flow ends.
//!
//! Guarantees:
//! - Time is packet time only. Timeouts are checked on every packet against the oldest
//!   entry of each timeout list (O(1) per packet plus O(1) per expired flow), never by
//!   scanning the table. Idle timeouts depend on the state (see [`FlowConfig`]); the
//!   active timeout writes a record for the period so far and the flow continues with
//!   the same id and fresh counters.
//! - At most [`FlowConfig::max_flows`] flows; a new flow beyond it ends the least
//!   recently active flow with state `evicted` ([`FlowStats::flows_evicted`]).
//! - Flow ids count up from 1 in order of creation; the same packets always give the
//!   same records in the same order.
//! - No allocation per packet in the steady state: entries live in a slab whose slots
//!   are reused, the hash map is sized up front, buffers come from pools. (A dissector
//!   `Box` per flow is the exception.)
//! - Who is the client is decided once, at creation (see [`initiator`]).
#![forbid(unsafe_code)]

mod config;
mod dispatch;
pub mod initiator;
mod key;
mod lists;
mod processor;
mod stats;
mod table;

pub use config::FlowConfig;
pub use key::{shard_of, FlowKey};
pub use processor::{FlowOutput, FlowProcessor, FlowStart};
pub use stats::FlowStats;
