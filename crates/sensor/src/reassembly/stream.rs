//! One direction of a TCP connection.

use super::ooo::OooBuf;
use super::{Reassembler, StreamSink};
use wire::TcpFlags;

/// Acknowledgements further ahead than this are treated as bogus, not as lost bytes.
const MAX_ACK_JUMP: u64 = 1 << 30;

/// Reassembly state of one direction of a TCP connection.
#[derive(Debug, Default)]
pub struct TcpStream {
    started: bool,
    /// Sequence number of stream offset 0 (the byte after the SYN).
    base_seq: u32,
    /// Next stream offset to hand to the consumer.
    next_off: u64,
    /// Offset of the FIN, once seen.
    fin_off: Option<u64>,
    /// Highest offset the peer acknowledged.
    acked_off: u64,
    /// Bytes the consumer has not consumed yet.
    tail: Vec<u8>,
    /// Bytes waiting ahead of a hole.
    ooo: Option<Box<OooBuf>>,
    gap_bytes: u64,
}

impl TcpStream {
    /// Bytes reported missing in this direction so far.
    pub fn gap_bytes(&self) -> u64 {
        self.gap_bytes
    }

    /// Stream offset of the next byte to deliver (bytes delivered or skipped so far).
    pub fn next_offset(&self) -> u64 {
        self.next_off
    }

    /// True once a FIN was seen in this direction.
    pub fn fin_seen(&self) -> bool {
        self.fin_off.is_some()
    }

    /// Bytes waiting ahead of a hole.
    pub fn buffered(&self) -> usize {
        self.ooo.as_ref().map_or(0, |o| o.span())
    }

    /// Unconsumed bytes kept for the consumer.
    pub fn unconsumed(&self) -> usize {
        self.tail.len()
    }

    /// Feeds one segment of this direction. `stated_len` is the payload length the IP
    /// header implies (larger than `payload.len()` when the capture cut it short; the
    /// missing bytes are reported as a gap).
    pub fn segment<S: StreamSink>(
        &mut self,
        r: &mut Reassembler,
        seq: u32,
        flags: TcpFlags,
        payload: &[u8],
        stated_len: u32,
        sink: &mut S,
    ) {
        let syn = flags.has(TcpFlags::SYN);
        if !self.started {
            self.started = true;
            self.base_seq = if syn { seq.wrapping_add(1) } else { seq };
        } else if syn && self.next_off == 0 && self.ooo.is_none() && self.tail.is_empty() {
            // A SYN sent again with a new initial sequence number before any data.
            self.base_seq = seq.wrapping_add(1);
        }
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        let off = self.offset_of(data_seq);
        let stated = u64::from(stated_len).max(payload.len() as u64);
        if flags.has(TcpFlags::FIN) && self.fin_off.is_none() {
            let fin = off + stated as i64;
            if fin >= 0 {
                self.fin_off = Some(fin as u64);
            }
        }
        if !payload.is_empty() {
            self.data(r, off, payload, sink);
        }
        let missing = stated - payload.len() as u64;
        if missing > 0 && self.ooo.is_none() && off + payload.len() as i64 == self.next_off as i64 {
            self.gap(r, missing, sink);
        }
    }

    /// The peer acknowledged everything before `ack` in this direction. Bytes waiting
    /// behind holes below `ack` are delivered, the holes reported as gaps: the receiver
    /// got those bytes, so no retransmission will fill them in this capture.
    pub fn peer_ack<S: StreamSink>(&mut self, r: &mut Reassembler, ack: u32, sink: &mut S) {
        if !self.started {
            return;
        }
        let rel = ack.wrapping_sub(self.seq_at(self.next_off)) as i32;
        if rel <= 0 || rel as u64 > MAX_ACK_JUMP {
            return;
        }
        let ack_off = self.next_off + rel as u64;
        self.acked_off = self.acked_off.max(ack_off);
        while let Some(start) = self.ooo.as_ref().and_then(|o| o.first_start()) {
            if start >= ack_off {
                break;
            }
            r.stats.ack_gaps += 1;
            self.force_one(r, sink);
        }
        // The peer acknowledged our FIN: every byte before it reached the receiver, so
        // bytes still missing here will never be seen.
        if let Some(fin) = self.fin_off {
            if ack_off > fin && fin > self.next_off && self.ooo.is_none() {
                r.stats.ack_gaps += 1;
                self.gap(r, fin - self.next_off, sink);
            }
        }
    }

    /// No more data will come (the connection was reset): delivers what waits,
    /// reporting the holes before it as gaps. Unlike [`TcpStream::finish`] the stream
    /// stays usable and keeps its unconsumed bytes.
    pub fn flush_holes<S: StreamSink>(&mut self, r: &mut Reassembler, sink: &mut S) {
        while self.ooo.is_some() {
            self.force_one(r, sink);
        }
    }

    /// The flow ended: delivers what waits (reporting the holes before it as gaps),
    /// reports bytes the peer acknowledged but that were never seen, drops unconsumed
    /// bytes and returns every buffer to the pool. The stream is empty afterwards.
    pub fn finish<S: StreamSink>(&mut self, r: &mut Reassembler, sink: &mut S) {
        while self.ooo.is_some() {
            self.force_one(r, sink);
        }
        // The peer's last ACK also covers a FIN we may not have seen: without a FIN,
        // one acknowledged sequence number is assumed to be that FIN.
        let limit = match self.fin_off {
            Some(fin) => self.acked_off.min(fin),
            None => self.acked_off.saturating_sub(1),
        };
        if limit > self.next_off && limit - self.next_off <= MAX_ACK_JUMP {
            r.stats.ack_gaps += 1;
            self.gap(r, limit - self.next_off, sink);
        }
        self.release(r);
    }

    /// Returns every buffer to the pool without delivering anything.
    pub fn release(&mut self, r: &mut Reassembler) {
        if let Some(o) = self.ooo.take() {
            r.give_ooo(o);
        }
        r.give_tail(std::mem::take(&mut self.tail));
    }

    fn seq_at(&self, off: u64) -> u32 {
        // Truncation is the point: sequence numbers are offsets modulo 2^32.
        self.base_seq.wrapping_add(off as u32)
    }

    /// Stream offset of `seq`, taken as the nearest one to the next expected offset
    /// (within ±2^31), which is what makes wraparound transparent.
    fn offset_of(&self, seq: u32) -> i64 {
        let rel = seq.wrapping_sub(self.seq_at(self.next_off)) as i32;
        self.next_off as i64 + i64::from(rel)
    }

    fn data<S: StreamSink>(
        &mut self,
        r: &mut Reassembler,
        mut off: i64,
        mut data: &[u8],
        sink: &mut S,
    ) {
        r.stats.segments += 1;
        let mut overlap_counted = false;
        let mut cap_counted = false;
        loop {
            let next = self.next_off as i64;
            let end = off + data.len() as i64;
            if end <= next {
                if !overlap_counted {
                    r.stats.retransmissions += 1;
                }
                return;
            }
            if off < next {
                data = &data[(next - off) as usize..];
                off = next;
                if !overlap_counted {
                    r.stats.overlaps += 1;
                    overlap_counted = true;
                }
            }
            let off_u = off as u64;
            if self.ooo.is_none() && off_u == self.next_off {
                self.next_off += data.len() as u64;
                present(&mut self.tail, r, data, sink);
                return;
            }
            let span_needed =
                usize::try_from(off_u + data.len() as u64 - self.next_off).unwrap_or(usize::MAX);
            let cur_span = self.buffered();
            let ranges_full = self
                .ooo
                .as_ref()
                .is_some_and(|o| o.range_count() >= r.cfg.max_ooo_ranges);
            let flow_ok = span_needed <= r.cfg.per_flow_ooo_cap && !ranges_full;
            let global_after = r.ooo_bytes - cur_span + span_needed.max(cur_span);
            let global_ok = global_after <= r.cfg.global_ooo_cap;
            if flow_ok && global_ok {
                if off_u > self.next_off {
                    r.stats.out_of_order += 1;
                }
                let next_off = self.next_off;
                if self.ooo.is_none() {
                    self.ooo = Some(r.take_ooo(next_off));
                }
                let Some(o) = self.ooo.as_mut() else {
                    return;
                };
                let (overlap, conflict) = o.write(off_u, data);
                r.ooo_bytes += o.span() - cur_span;
                if overlap && !overlap_counted {
                    r.stats.overlaps += 1;
                }
                if conflict {
                    r.stats.overlap_conflicts += 1;
                }
                self.deliver_ready(r, sink);
                return;
            }
            if !cap_counted {
                cap_counted = true;
                if flow_ok {
                    r.stats.global_buffer_cap_hits += 1;
                } else {
                    r.stats.ooo_buffer_cap_hits += 1;
                }
            }
            if self.ooo.is_some() {
                self.force_one(r, sink);
            } else {
                // Nothing waits and this segment alone is too far ahead: skip to it.
                self.gap(r, off_u - self.next_off, sink);
            }
        }
    }

    /// Makes progress past the first hole: reports it as a gap, then delivers the bytes
    /// that follow it.
    fn force_one<S: StreamSink>(&mut self, r: &mut Reassembler, sink: &mut S) {
        let Some(start) = self.ooo.as_ref().and_then(|o| o.first_start()) else {
            self.drop_empty_ooo(r);
            return;
        };
        if start > self.next_off {
            self.gap(r, start - self.next_off, sink);
        }
        self.deliver_ready(r, sink);
    }

    /// Delivers the waiting bytes that start at the next expected offset.
    fn deliver_ready<S: StreamSink>(&mut self, r: &mut Reassembler, sink: &mut S) {
        if let Some(o) = self.ooo.as_mut() {
            let ready = o.ready();
            let n = ready.len();
            if n > 0 {
                present(&mut self.tail, r, ready, sink);
                let before = o.span();
                o.advance(n as u64);
                r.ooo_bytes -= before - o.span();
                self.next_off += n as u64;
            }
        }
        self.drop_empty_ooo(r);
    }

    fn drop_empty_ooo(&mut self, r: &mut Reassembler) {
        if self.ooo.as_ref().is_some_and(|o| o.is_empty()) {
            if let Some(o) = self.ooo.take() {
                r.give_ooo(o);
            }
        }
    }

    /// Reports `len` missing bytes at the next expected offset and moves past them.
    /// Unconsumed bytes are dropped: the consumer resynchronises after a gap.
    fn gap<S: StreamSink>(&mut self, r: &mut Reassembler, len: u64, sink: &mut S) {
        if len == 0 {
            return;
        }
        r.stats.gaps += 1;
        r.stats.gap_bytes += len;
        self.gap_bytes += len;
        r.give_tail(std::mem::take(&mut self.tail));
        sink.on_gap(len);
        self.next_off += len;
        if let Some(o) = self.ooo.as_mut() {
            let before = o.span();
            o.advance(len);
            r.ooo_bytes -= before - o.span();
        }
        self.drop_empty_ooo(r);
    }
}

/// Hands in-order bytes to the consumer, in front of any bytes it left unconsumed, and
/// keeps what it does not consume. The kept bytes never exceed `max_tail`: with a tail,
/// new bytes are appended at most up to that size per presentation, and a consumer
/// that takes nothing from a full tail loses it (reported as a gap).
fn present<S: StreamSink>(tail: &mut Vec<u8>, r: &mut Reassembler, bytes: &[u8], sink: &mut S) {
    r.stats.delivered_bytes += bytes.len() as u64;
    let mut rest = bytes;
    while !rest.is_empty() {
        if tail.is_empty() {
            // Fast path: straight from the packet, no copy unless bytes are left over.
            let n = consume(rest, sink);
            keep(tail, r, &rest[n..], sink);
            return;
        }
        let room = r.cfg.max_tail.saturating_sub(tail.len());
        if room == 0 {
            overflow(tail, r, sink);
            continue;
        }
        let take = room.min(rest.len());
        tail.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
        let n = consume(tail, sink);
        tail.drain(..n);
    }
    if tail.is_empty() {
        r.give_tail(std::mem::take(tail));
    }
}

/// Offers `bytes` until the consumer takes all or asks for more; returns bytes consumed.
fn consume<S: StreamSink>(bytes: &[u8], sink: &mut S) -> usize {
    let mut pos = 0;
    while pos < bytes.len() {
        let n = sink.on_data(&bytes[pos..]).min(bytes.len() - pos);
        if n == 0 {
            break;
        }
        pos += n;
    }
    pos
}

fn keep<S: StreamSink>(tail: &mut Vec<u8>, r: &mut Reassembler, rest: &[u8], sink: &mut S) {
    if rest.is_empty() {
        return;
    }
    if rest.len() > r.cfg.max_tail {
        r.stats.tail_overflows += 1;
        sink.on_gap(rest.len() as u64);
        return;
    }
    if tail.capacity() == 0 {
        *tail = r.take_tail();
    }
    tail.extend_from_slice(rest);
}

/// The consumer left more than `max_tail` bytes: drop them and tell it to resynchronise.
fn overflow<S: StreamSink>(tail: &mut Vec<u8>, r: &mut Reassembler, sink: &mut S) {
    r.stats.tail_overflows += 1;
    let dropped = tail.len() as u64;
    r.give_tail(std::mem::take(tail));
    sink.on_gap(dropped);
}
