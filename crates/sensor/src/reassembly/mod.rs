//! TCP stream reassembly: per direction, in-order bytes for the dissectors.
//!
//! Purpose: turn the TCP segments of one direction of a flow into the in-order byte
//! stream the sender wrote, telling the consumer where bytes are missing.
//!
//! Guarantees:
//! - Sequence numbers are tracked as 64-bit stream offsets, so wraparound of the 32-bit
//!   sequence space is invisible to consumers. SYN and FIN each take one sequence number.
//! - Without a SYN (capture began mid-stream) the first segment seen sets the start.
//! - Retransmitted bytes are dropped. When segments overlap, **the first copy of a byte
//!   wins**; overlaps whose bytes differ from the copy kept are counted
//!   ([`ReassemblyStats::overlap_conflicts`], an evasion signal). Bytes already handed to
//!   the consumer can no longer be compared; a retransmission of them only counts as a
//!   retransmission.
//! - Out-of-order segments wait in a buffer bounded per direction
//!   ([`ReassemblyConfig::per_flow_ooo_cap`]) and across all streams
//!   ([`ReassemblyConfig::global_ooo_cap`]). A gap is reported to the consumer, and
//!   delivery resumes after it: when a cap is hit; when the peer acknowledges bytes
//!   that were never seen while later bytes wait, or acknowledges a FIN with bytes
//!   before it missing; when the connection is reset ([`TcpStream::flush_holes`]); and
//!   when the stream ends with holes or with acknowledged bytes never seen.
//! - The consumer may leave bytes unconsumed; they are kept (up to
//!   [`ReassemblyConfig::max_tail`]) and presented again in front of new bytes.
//! - No allocation per segment in the steady state: buffers come from a pool shared by
//!   all streams and return to it when empty.
//!
//! Caller's duty: give every segment of one direction to the same [`TcpStream`], the
//! other direction's acknowledgement numbers to [`TcpStream::peer_ack`], and call
//! [`TcpStream::finish`] when the flow ends so buffers return to the pool.
#![forbid(unsafe_code)]

mod ooo;
mod pool;
mod stream;

pub use pool::Reassembler;
pub use stream::TcpStream;

/// Receives one direction's reassembled stream.
pub trait StreamSink {
    /// In-order bytes. Returns how many were consumed; the rest is presented again in
    /// front of the next bytes. Returning 0 means "need more input".
    fn on_data(&mut self, data: &[u8]) -> usize;

    /// `len` bytes are missing here; the stream resumes after them.
    fn on_gap(&mut self, len: u64);
}

/// Limits of TCP reassembly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Most bytes (span from the next expected byte to the end of the furthest waiting
    /// segment) one direction may hold while waiting for missing bytes.
    pub per_flow_ooo_cap: usize,
    /// Most such bytes across all streams.
    pub global_ooo_cap: usize,
    /// Most separate waiting byte ranges per direction (bounds bookkeeping per stream).
    pub max_ooo_ranges: usize,
    /// Most unconsumed bytes kept per direction for the consumer; beyond it the kept
    /// bytes are dropped and reported as a gap so the consumer resynchronises.
    pub max_tail: usize,
    /// Most idle buffers kept in the pool for reuse (per kind: tails, out-of-order).
    pub max_pooled_buffers: usize,
    /// Most bytes of capacity the idle pooled buffers may hold together; buffers beyond
    /// it are freed, so the pool never holds more memory than this.
    pub max_pooled_bytes: usize,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        Self {
            per_flow_ooo_cap: 256 << 10,
            global_ooo_cap: 256 << 20,
            max_ooo_ranges: 64,
            max_tail: 64 << 10,
            max_pooled_buffers: 4096,
            max_pooled_bytes: 32 << 20,
        }
    }
}

/// Counters of TCP reassembly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Segments carrying payload.
    pub segments: u64,
    /// Segments whose bytes had all been seen already.
    pub retransmissions: u64,
    /// Segments arriving ahead of a hole (buffered).
    pub out_of_order: u64,
    /// Segments overlapping bytes already received (retransmitted in part, or
    /// overlapping waiting data).
    pub overlaps: u64,
    /// Overlaps whose bytes differed from the copy kept.
    pub overlap_conflicts: u64,
    /// Gaps reported to consumers.
    pub gaps: u64,
    /// Bytes reported missing.
    pub gap_bytes: u64,
    /// Gaps decided because the peer acknowledged bytes never seen.
    pub ack_gaps: u64,
    /// Segments that hit the per-direction waiting-bytes cap.
    pub ooo_buffer_cap_hits: u64,
    /// Segments that hit the global waiting-bytes cap.
    pub global_buffer_cap_hits: u64,
    /// Times a consumer left more than `max_tail` bytes unconsumed.
    pub tail_overflows: u64,
    /// Bytes delivered to consumers (counted once, when first presented).
    pub delivered_bytes: u64,
}
