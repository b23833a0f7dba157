//! Differential test: one byte stream delivered whole, as randomly sized segments
//! (reordered, duplicated, overlapping) and byte by byte must reach the consumer
//! identically.

mod flow_support;

use flow_support::{VecSink, XorShift, ACK, SYN};
use sensor::reassembly::{Reassembler, ReassemblyConfig, TcpStream};
use wire::TcpFlags;

/// Segments as (offset, length) over the stream.
type Plan = Vec<(usize, usize)>;

fn run(data: &[u8], isn: u32, plan: &Plan, chunk: usize) -> (VecSink, Reassembler) {
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let mut s = TcpStream::default();
    let mut k = VecSink::new(chunk);
    s.segment(&mut r, isn, TcpFlags(SYN), &[], 0, &mut k);
    for &(off, len) in plan {
        let seq = isn.wrapping_add(1).wrapping_add(off as u32);
        let bytes = &data[off..off + len];
        s.segment(&mut r, seq, TcpFlags(ACK), bytes, len as u32, &mut k);
    }
    s.finish(&mut r, &mut k);
    (k, r)
}

fn random_plan(rng: &mut XorShift, n: usize) -> Plan {
    let mut plan = Vec::new();
    let mut off = 0;
    while off < n {
        let len = rng.range(1, 1460).min(n - off);
        plan.push((off, len));
        off += len;
    }
    // Local reordering: swap neighbours within a small window, so the waiting bytes stay
    // far below the per-stream cap.
    for i in 0..plan.len() {
        if rng.range(0, 3) == 0 {
            let j = (i + rng.range(1, 4)).min(plan.len() - 1);
            plan.swap(i, j);
        }
    }
    // Retransmissions: exact duplicates and re-cut ranges that overlap neighbours.
    let extra = rng.range(0, plan.len());
    for _ in 0..extra {
        let at = rng.range(0, plan.len());
        let start = rng.range(0, n - 1);
        let len = rng.range(1, 3000).min(n - start);
        if rng.range(0, 1) == 0 {
            let dup = plan[rng.range(0, plan.len() - 1)];
            plan.insert(at, dup);
        } else {
            plan.insert(at, (start, len));
        }
    }
    plan
}

#[test]
fn whole_segmented_and_byte_by_byte_deliveries_are_identical() {
    let (mut ooo, mut retrans, mut overlaps) = (0, 0, 0);
    for seed in 1..=40u64 {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ seed);
        let n = rng.range(1, 20_000);
        let data: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        // Every fourth run starts just below the wrap of the sequence space.
        let isn = if seed % 4 == 0 {
            u32::MAX - rng.range(0, 5000) as u32
        } else {
            rng.next() as u32
        };
        let whole: Plan = vec![(0, n)];
        let bytewise: Plan = (0..n).map(|i| (i, 1)).collect();
        let segmented = random_plan(&mut rng, n);
        for chunk in [1, 7] {
            let (a, ra) = run(&data, isn, &whole, chunk);
            let (b, rb) = run(&data, isn, &segmented, chunk);
            let (c, rc) = run(&data, isn, &bytewise, chunk);
            let expect = &data[..n / chunk * chunk];
            assert_eq!(a.data, expect, "seed {seed} chunk {chunk}: whole");
            assert_eq!(b.data, expect, "seed {seed} chunk {chunk}: segmented");
            assert_eq!(c.data, expect, "seed {seed} chunk {chunk}: byte by byte");
            ooo += rb.stats().out_of_order;
            retrans += rb.stats().retransmissions;
            overlaps += rb.stats().overlaps;
            for (name, k, r) in [("whole", &a, &ra), ("seg", &b, &rb), ("byte", &c, &rc)] {
                assert!(k.gaps.is_empty(), "seed {seed} {name}: {:?}", k.gaps);
                assert_eq!(r.stats().overlap_conflicts, 0, "seed {seed} {name}");
                assert_eq!(r.buffered_bytes(), 0, "seed {seed} {name}");
            }
        }
    }
    // The segmented runs really exercised reordering, duplicates and overlaps.
    assert!(
        ooo > 100 && retrans > 100 && overlaps > 100,
        "{ooo} {retrans} {overlaps}"
    );
}
