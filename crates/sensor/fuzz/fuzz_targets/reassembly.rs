//! Feeds arbitrary segment sequences (and peer ACKs, resets) to two TCP stream directions that
//! share tight caps, and checks the reassembler's accounting invariants:
//! - bytes delivered plus bytes reported missing equal the stream position;
//! - when every segment carries the reference stream's bytes, every delivered byte is
//!   the reference byte at its offset (first-copy-wins never invents data);
//! - the global buffered-bytes count equals the sum over streams, and is 0 at the end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sensor::reassembly::{Reassembler, ReassemblyConfig, StreamSink, TcpStream};
use wire::TcpFlags;

/// Byte `i` of the reference stream.
fn reference(i: u64) -> u8 {
    (i.wrapping_mul(131) >> 3) as u8 ^ (i as u8)
}

struct Check {
    /// Stream offset of the next byte presented (delivered or skipped so far).
    pos: u64,
    /// The sink consumes whole records of `take` bytes (and asks for more when less
    /// than one is presented), so unconsumed tails are exercised.
    take: usize,
    consistent: bool,
    /// Unconsumed bytes at the front of the next presentation.
    held: usize,
    delivered: u64,
    gaps: u64,
}

impl StreamSink for Check {
    fn on_data(&mut self, data: &[u8]) -> usize {
        let n = if data.len() >= self.take {
            self.take
        } else {
            0
        };
        if self.consistent {
            // The presentation starts with the held bytes, which begin at pos - held.
            let start = self.pos - self.held as u64;
            for (i, &b) in data[..n].iter().enumerate() {
                assert_eq!(
                    b,
                    reference(start + i as u64),
                    "byte at {}",
                    start + i as u64
                );
            }
        }
        let new_bytes = data.len() - self.held;
        self.pos += new_bytes as u64;
        self.delivered += new_bytes as u64;
        self.held = data.len() - n;
        n
    }

    fn on_gap(&mut self, len: u64) {
        // Held bytes (fewer than `take` <= 16, far below `max_tail`) are dropped with
        // the gap; they were counted as delivered when first presented.
        self.held = 0;
        self.pos += len;
        self.gaps += len;
    }
}

fuzz_target!(|input: &[u8]| {
    let cfg = ReassemblyConfig {
        per_flow_ooo_cap: 2048,
        global_ooo_cap: 3000,
        max_ooo_ranges: 8,
        max_tail: 512,
        max_pooled_buffers: 4,
        max_pooled_bytes: 8192,
    };
    let mut r = Reassembler::new(cfg);
    let mut streams = [TcpStream::default(), TcpStream::default()];
    // Content is checked when every segment carries reference bytes and the stream
    // starts with a SYN (mid-stream, the first segment seen defines offset 0 instead).
    let consistent = input.first().is_some_and(|b| b & 1 == 0);
    let with_syn = input.first().is_some_and(|b| b & 2 == 0);
    let isn = u32::MAX - u32::from(input.get(1).copied().unwrap_or(0)) * 64;
    let mut checks = [0, 1].map(|d| Check {
        pos: 0,
        take: 1 + usize::from(input.get(2 + d).copied().unwrap_or(0) % 16),
        consistent: consistent && with_syn,
        held: 0,
        delivered: 0,
        gaps: 0,
    });
    let mut buf = [0u8; 1024];
    if with_syn {
        for (s, k) in streams.iter_mut().zip(checks.iter_mut()) {
            s.segment(&mut r, isn, TcpFlags(TcpFlags::SYN), &[], 0, k);
        }
    }
    for op in input.get(4..).unwrap_or(&[]).chunks_exact(6) {
        let d = usize::from(op[0] & 1);
        let kind = (op[0] >> 1) & 7;
        let off = u32::from(u16::from_le_bytes([op[1], op[2]])) * 4;
        let len = usize::from(u16::from_le_bytes([op[3], op[4]]) % 1024);
        let (s, k) = (&mut streams[d], &mut checks[d]);
        match kind {
            0 => s.segment(&mut r, isn, TcpFlags(TcpFlags::SYN), &[], 0, k),
            1 if op[5] & 0x80 != 0 => s.flush_holes(&mut r, k),
            1 => {
                let ack = isn.wrapping_add(1).wrapping_add(off);
                s.peer_ack(&mut r, ack, k);
            }
            _ => {
                for (i, b) in buf[..len].iter_mut().enumerate() {
                    *b = if consistent || op[5] & 1 == 0 {
                        reference(u64::from(off) + i as u64)
                    } else {
                        op[5].wrapping_add(i as u8)
                    };
                }
                let mut flags = TcpFlags::ACK;
                if kind == 7 {
                    flags |= TcpFlags::FIN;
                }
                // Offsets count from the byte after the SYN, as if one had been seen.
                let seq = isn.wrapping_add(1).wrapping_add(off);
                let stated = len as u32 + u32::from(op[5] >> 6);
                s.segment(&mut r, seq, TcpFlags(flags), &buf[..len], stated, k);
            }
        }
        let sum: usize = streams.iter().map(TcpStream::buffered).sum();
        assert_eq!(r.buffered_bytes(), sum);
    }
    for (s, k) in streams.iter_mut().zip(checks.iter_mut()) {
        s.finish(&mut r, k);
        assert_eq!(k.delivered + k.gaps, s.next_offset());
        assert_eq!(k.pos, s.next_offset());
    }
    assert_eq!(r.buffered_bytes(), 0);
    assert!(r.pooled_bytes() <= 8192);
});
