//! State shared by all streams: buffer pool, global accounting and counters.

use super::ooo::OooBuf;
use super::{ReassemblyConfig, ReassemblyStats};

/// Shared state of TCP reassembly: limits, the pool of reusable buffers, the global
/// count of waiting bytes and the counters. One per flow table.
#[derive(Debug)]
pub struct Reassembler {
    pub(super) cfg: ReassemblyConfig,
    pub(super) stats: ReassemblyStats,
    /// Bytes spanned by all out-of-order buffers.
    pub(super) ooo_bytes: usize,
    /// Capacity held by idle pooled buffers.
    pooled_bytes: usize,
    tails: Vec<Vec<u8>>,
    // Boxed because streams hold them as `Option<Box<_>>` (one pointer per idle
    // stream); pooling the boxes keeps moving them in and out allocation-free.
    #[allow(clippy::vec_box)]
    ooo: Vec<Box<OooBuf>>,
}

impl Reassembler {
    /// Shared state with these limits.
    pub fn new(cfg: ReassemblyConfig) -> Self {
        Self {
            stats: ReassemblyStats::default(),
            ooo_bytes: 0,
            pooled_bytes: 0,
            tails: Vec::with_capacity(cfg.max_pooled_buffers.min(65536)),
            ooo: Vec::with_capacity(cfg.max_pooled_buffers.min(65536)),
            cfg,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &ReassemblyStats {
        &self.stats
    }

    /// Limits in force.
    pub fn config(&self) -> &ReassemblyConfig {
        &self.cfg
    }

    /// Bytes currently waiting in out-of-order buffers across all streams.
    pub fn buffered_bytes(&self) -> usize {
        self.ooo_bytes
    }

    /// Capacity held by idle buffers in the pool.
    pub fn pooled_bytes(&self) -> usize {
        self.pooled_bytes
    }

    pub(super) fn take_tail(&mut self) -> Vec<u8> {
        let buf = self.tails.pop().unwrap_or_default();
        self.pooled_bytes = self.pooled_bytes.saturating_sub(buf.capacity());
        buf
    }

    pub(super) fn give_tail(&mut self, mut buf: Vec<u8>) {
        let cap = buf.capacity();
        if cap > 0 && self.tails.len() < self.cfg.max_pooled_buffers && self.fits(cap) {
            buf.clear();
            self.pooled_bytes += cap;
            self.tails.push(buf);
        }
    }

    pub(super) fn take_ooo(&mut self, base: u64) -> Box<OooBuf> {
        let mut b = self.ooo.pop().unwrap_or_default();
        self.pooled_bytes = self.pooled_bytes.saturating_sub(b.capacity_bytes());
        b.reset(base);
        b
    }

    pub(super) fn give_ooo(&mut self, mut buf: Box<OooBuf>) {
        self.ooo_bytes = self.ooo_bytes.saturating_sub(buf.span());
        buf.reset(0);
        let cap = buf.capacity_bytes();
        if self.ooo.len() < self.cfg.max_pooled_buffers && self.fits(cap) {
            self.pooled_bytes += cap;
            self.ooo.push(buf);
        }
    }

    fn fits(&self, cap: usize) -> bool {
        self.pooled_bytes + cap <= self.cfg.max_pooled_bytes
    }
}
