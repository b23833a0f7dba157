//! Scenario tests of one TCP stream direction.

mod flow_support;

use flow_support::{VecSink, ACK, FIN, PSH, SYN};
use sensor::reassembly::{Reassembler, ReassemblyConfig, TcpStream};
use wire::TcpFlags;

fn setup() -> (Reassembler, TcpStream, VecSink) {
    (
        Reassembler::new(ReassemblyConfig::default()),
        TcpStream::default(),
        VecSink::new(1),
    )
}

fn seg(r: &mut Reassembler, s: &mut TcpStream, k: &mut VecSink, seq: u32, data: &[u8]) {
    s.segment(r, seq, TcpFlags(ACK | PSH), data, data.len() as u32, k);
}

#[test]
fn in_order_segments_after_syn_are_delivered() {
    let (mut r, mut s, mut k) = setup();
    s.segment(&mut r, 1000, TcpFlags(SYN), &[], 0, &mut k);
    seg(&mut r, &mut s, &mut k, 1001, b"hello ");
    seg(&mut r, &mut s, &mut k, 1007, b"world");
    assert_eq!(k.data, b"hello world");
    assert_eq!(s.next_offset(), 11);
    assert!(k.gaps.is_empty());
}

#[test]
fn retransmission_is_dropped() {
    let (mut r, mut s, mut k) = setup();
    seg(&mut r, &mut s, &mut k, 1, b"abcd");
    seg(&mut r, &mut s, &mut k, 1, b"abcd");
    seg(&mut r, &mut s, &mut k, 3, b"cd");
    seg(&mut r, &mut s, &mut k, 5, b"ef");
    assert_eq!(k.data, b"abcdef");
    assert_eq!(r.stats().retransmissions, 2);
    assert_eq!(r.stats().overlaps, 0);
}

#[test]
fn partial_retransmission_delivers_only_new_bytes() {
    let (mut r, mut s, mut k) = setup();
    seg(&mut r, &mut s, &mut k, 1, b"abcd");
    seg(&mut r, &mut s, &mut k, 3, b"cdef");
    assert_eq!(k.data, b"abcdef");
    assert_eq!(r.stats().overlaps, 1);
}

#[test]
fn overlap_first_copy_wins_and_conflict_is_counted() {
    let (mut r, mut s, mut k) = setup();
    seg(&mut r, &mut s, &mut k, 100, b"ab");
    // Two out-of-order copies of bytes 4..8 with different contents.
    seg(&mut r, &mut s, &mut k, 104, b"EFGH");
    seg(&mut r, &mut s, &mut k, 106, b"xyIJ");
    seg(&mut r, &mut s, &mut k, 102, b"CD");
    assert_eq!(k.data, b"abCDEFGHIJ");
    assert_eq!(r.stats().overlap_conflicts, 1);
    assert_eq!(r.stats().overlaps, 1);
    // A same-bytes overlap is an overlap but no conflict.
    seg(&mut r, &mut s, &mut k, 120, b"12345");
    seg(&mut r, &mut s, &mut k, 122, b"345");
    assert_eq!(r.stats().overlaps, 2);
    assert_eq!(r.stats().overlap_conflicts, 1);
}

#[test]
fn out_of_order_segments_wait_for_the_hole() {
    let (mut r, mut s, mut k) = setup();
    seg(&mut r, &mut s, &mut k, 0, b"0123");
    seg(&mut r, &mut s, &mut k, 8, b"89");
    seg(&mut r, &mut s, &mut k, 6, b"67");
    assert_eq!(k.data, b"0123");
    assert_eq!(s.buffered(), 6);
    assert_eq!(r.buffered_bytes(), 6);
    seg(&mut r, &mut s, &mut k, 4, b"45");
    assert_eq!(k.data, b"0123456789");
    assert_eq!(s.buffered(), 0);
    assert_eq!(r.buffered_bytes(), 0);
    assert_eq!(r.stats().out_of_order, 2);
}

#[test]
fn sequence_wraparound_is_transparent() {
    let (mut r, mut s, mut k) = setup();
    let isn = u32::MAX - 5;
    s.segment(&mut r, isn, TcpFlags(SYN), &[], 0, &mut k);
    // Offsets 0..4 end at u32::MAX - 1; offsets 4..12 wrap through 0.
    seg(&mut r, &mut s, &mut k, isn.wrapping_add(9), b"89ab");
    seg(&mut r, &mut s, &mut k, isn.wrapping_add(1), b"0123");
    seg(&mut r, &mut s, &mut k, isn.wrapping_add(5), b"4567");
    assert_eq!(k.data, b"0123456789ab");
    assert!(k.gaps.is_empty());
}

#[test]
fn midstream_first_segment_sets_the_base() {
    let (mut r, mut s, mut k) = setup();
    seg(&mut r, &mut s, &mut k, 7_000_000, b"mid");
    seg(&mut r, &mut s, &mut k, 7_000_003, b"stream");
    // Bytes before the first segment seen are old data, not a hole.
    seg(&mut r, &mut s, &mut k, 6_999_990, b"earlier");
    assert_eq!(k.data, b"midstream");
    assert!(k.gaps.is_empty());
}

#[test]
fn fin_takes_one_sequence_number() {
    let (mut r, mut s, mut k) = setup();
    s.segment(&mut r, 10, TcpFlags(SYN), &[], 0, &mut k);
    s.segment(&mut r, 11, TcpFlags(ACK | FIN), b"bye", 3, &mut k);
    assert!(s.fin_seen());
    // The peer acknowledges the FIN (offset 3 + 1): nothing is missing.
    s.peer_ack(&mut r, 15, &mut k);
    s.finish(&mut r, &mut k);
    assert_eq!(k.data, b"bye");
    assert!(k.gaps.is_empty(), "{:?}", k.gaps);
}

#[test]
fn gap_reported_then_resume_when_flow_cap_is_hit() {
    let cfg = ReassemblyConfig {
        per_flow_ooo_cap: 100,
        ..ReassemblyConfig::default()
    };
    let mut r = Reassembler::new(cfg);
    let mut s = TcpStream::default();
    let mut k = VecSink::new(1);
    seg(&mut r, &mut s, &mut k, 0, b"start");
    seg(&mut r, &mut s, &mut k, 50, &[b'x'; 40]);
    assert_eq!(k.data.len(), 5);
    // Reaches 150 - 5 = 145 bytes ahead: over the cap. The hole 5..50 is given up.
    seg(&mut r, &mut s, &mut k, 110, &[b'y'; 40]);
    assert_eq!(r.stats().ooo_buffer_cap_hits, 1);
    assert_eq!(k.gaps, vec![(5, 45)]);
    assert_eq!(k.data.len(), 45);
    // 90..110 is still missing; the y segment waits within the cap.
    assert_eq!(s.buffered(), 60);
    seg(&mut r, &mut s, &mut k, 90, &[b'z'; 20]);
    assert_eq!(k.data.len(), 5 + 40 + 20 + 40);
    assert_eq!(s.gap_bytes(), 45);
    assert_eq!(r.stats().gap_bytes, 45);
}

#[test]
fn global_cap_forces_progress_across_streams() {
    let cfg = ReassemblyConfig {
        global_ooo_cap: 64,
        ..ReassemblyConfig::default()
    };
    let mut r = Reassembler::new(cfg);
    let (mut a, mut b) = (TcpStream::default(), TcpStream::default());
    let (mut ka, mut kb) = (VecSink::new(1), VecSink::new(1));
    seg(&mut r, &mut a, &mut ka, 0, b"a");
    seg(&mut r, &mut b, &mut kb, 0, b"b");
    seg(&mut r, &mut a, &mut ka, 11, &[1; 40]);
    assert_eq!(r.buffered_bytes(), 50);
    seg(&mut r, &mut b, &mut kb, 11, &[2; 40]);
    // Stream b cannot wait (50 + 50 > 64): it skips its own hole.
    assert_eq!(r.stats().global_buffer_cap_hits, 1);
    assert_eq!(kb.gaps, vec![(1, 10)]);
    assert_eq!(kb.data.len(), 41);
    assert_eq!(r.buffered_bytes(), 50);
    a.finish(&mut r, &mut ka);
    assert_eq!(ka.gaps, vec![(1, 10)]);
    assert_eq!(r.buffered_bytes(), 0);
}

#[test]
fn holes_are_reported_as_gaps_at_finish() {
    let (mut r, mut s, mut k) = setup();
    seg(&mut r, &mut s, &mut k, 0, b"aa");
    seg(&mut r, &mut s, &mut k, 5, b"bb");
    seg(&mut r, &mut s, &mut k, 10, b"cc");
    s.finish(&mut r, &mut k);
    assert_eq!(k.data, b"aabbcc");
    assert_eq!(k.gaps, vec![(2, 3), (4, 3)]);
    assert_eq!(r.buffered_bytes(), 0);
}

#[test]
fn peer_ack_beyond_a_hole_reports_the_gap_and_resumes() {
    let (mut r, mut s, mut k) = setup();
    seg(&mut r, &mut s, &mut k, 0, b"0123");
    seg(&mut r, &mut s, &mut k, 8, b"89");
    // The receiver acknowledged up to 6: bytes 4..6 reached it but not the capture.
    s.peer_ack(&mut r, 6, &mut k);
    assert!(
        k.gaps.is_empty(),
        "a hole below the first waiting byte stays open"
    );
    s.peer_ack(&mut r, 10, &mut k);
    assert_eq!(k.gaps, vec![(4, 4)]);
    assert_eq!(k.data, b"012389");
    assert_eq!(r.stats().ack_gaps, 1);
    seg(&mut r, &mut s, &mut k, 10, b"ab");
    assert_eq!(k.data, b"012389ab");
}

#[test]
fn acked_but_unseen_bytes_are_reported_at_finish() {
    let (mut r, mut s, mut k) = setup();
    seg(&mut r, &mut s, &mut k, 0, b"0123");
    s.peer_ack(&mut r, 104, &mut k);
    s.finish(&mut r, &mut k);
    // 100 bytes acknowledged beyond what was seen; one sequence number is taken to be
    // an unseen FIN.
    assert_eq!(k.gaps, vec![(4, 99)]);
}

#[test]
fn unconsumed_tail_is_presented_again_with_new_data() {
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let mut s = TcpStream::default();
    let mut k = VecSink::new(4);
    seg(&mut r, &mut s, &mut k, 0, b"abcdef");
    assert_eq!(k.data, b"abcd");
    assert_eq!(s.unconsumed(), 2);
    seg(&mut r, &mut s, &mut k, 6, b"ghij");
    assert_eq!(k.data, b"abcdefgh");
    // After a partial consume the rest is offered once more in the same call (the
    // consumer may take several records per call); it answers 0 and the rest is kept.
    let presented: Vec<&[u8]> = k.presented.iter().map(Vec::as_slice).collect();
    assert_eq!(presented, [&b"abcdef"[..], b"ef", b"efghij", b"ij"]);
    assert_eq!(s.unconsumed(), 2);
    seg(&mut r, &mut s, &mut k, 10, b"kl");
    assert_eq!(k.data, b"abcdefghijkl");
    assert_eq!(s.unconsumed(), 0);
}

#[test]
fn gap_drops_the_unconsumed_tail() {
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let mut s = TcpStream::default();
    let mut k = VecSink::new(4);
    seg(&mut r, &mut s, &mut k, 0, b"abcdef");
    seg(&mut r, &mut s, &mut k, 10, b"wxyz");
    s.finish(&mut r, &mut k);
    assert_eq!(k.gaps, vec![(4, 4)]);
    assert_eq!(k.data, b"abcdwxyz");
}

#[test]
fn tail_overflow_is_reported_as_a_gap() {
    let cfg = ReassemblyConfig {
        max_tail: 8,
        ..ReassemblyConfig::default()
    };
    let mut r = Reassembler::new(cfg);
    let mut s = TcpStream::default();
    let mut k = VecSink::new(1000);
    seg(&mut r, &mut s, &mut k, 0, b"12345");
    seg(&mut r, &mut s, &mut k, 5, b"67890");
    // The tail fills up to 8 bytes, the consumer still takes nothing: those 8 go.
    assert_eq!(r.stats().tail_overflows, 1);
    assert_eq!(k.gaps, vec![(0, 8)]);
    assert_eq!(s.unconsumed(), 2);
    let presented: Vec<&[u8]> = k.presented.iter().map(Vec::as_slice).collect();
    assert_eq!(presented, [&b"12345"[..], b"12345678", b"90"]);
}

#[test]
fn large_segment_behind_a_small_tail_is_not_an_overflow() {
    let cfg = ReassemblyConfig {
        max_tail: 16,
        ..ReassemblyConfig::default()
    };
    let mut r = Reassembler::new(cfg);
    let mut s = TcpStream::default();
    let mut k = VecSink::new(4);
    seg(&mut r, &mut s, &mut k, 0, b"abcdef");
    let big: Vec<u8> = (0..100u8).collect();
    seg(&mut r, &mut s, &mut k, 6, &big);
    assert_eq!(r.stats().tail_overflows, 0);
    assert!(k.gaps.is_empty());
    let mut expect = b"abcdef".to_vec();
    expect.extend_from_slice(&big);
    assert_eq!(k.data, &expect[..104]);
    assert_eq!(s.unconsumed(), 2);
}

#[test]
fn truncated_segment_reports_missing_bytes() {
    let (mut r, mut s, mut k) = setup();
    s.segment(&mut r, 0, TcpFlags(ACK), b"abc", 10, &mut k);
    seg(&mut r, &mut s, &mut k, 10, b"next");
    assert_eq!(k.gaps, vec![(3, 7)]);
    assert_eq!(k.data, b"abcnext");
}

#[test]
fn far_ahead_segment_is_reached_by_a_gap() {
    let cfg = ReassemblyConfig {
        per_flow_ooo_cap: 1000,
        ..ReassemblyConfig::default()
    };
    let mut r = Reassembler::new(cfg);
    let mut s = TcpStream::default();
    let mut k = VecSink::new(1);
    seg(&mut r, &mut s, &mut k, 0, b"a");
    seg(&mut r, &mut s, &mut k, 5001, b"b");
    assert_eq!(k.gaps, vec![(1, 5000)]);
    assert_eq!(k.data, b"ab");
    assert_eq!(r.buffered_bytes(), 0);
}

#[test]
fn idle_pool_memory_stays_within_its_cap() {
    let cfg = ReassemblyConfig {
        max_pooled_bytes: 100_000,
        ..ReassemblyConfig::default()
    };
    let mut r = Reassembler::new(cfg);
    let mut streams: Vec<TcpStream> = (0..20).map(|_| TcpStream::default()).collect();
    let mut k = VecSink::new(1);
    let big = vec![0u8; 30_000];
    for s in &mut streams {
        seg(&mut r, s, &mut k, 0, b"x");
        seg(&mut r, s, &mut k, 10, &big);
    }
    assert_eq!(r.buffered_bytes(), 20 * 30_009);
    for s in &mut streams {
        s.finish(&mut r, &mut k);
    }
    assert_eq!(r.buffered_bytes(), 0);
    assert!(r.pooled_bytes() > 0, "some buffers are kept for reuse");
    assert!(r.pooled_bytes() <= 100_000, "{}", r.pooled_bytes());
}

#[test]
fn acknowledged_fin_turns_missing_bytes_before_it_into_a_gap() {
    let (mut r, mut s, mut k) = setup();
    s.segment(&mut r, 10, TcpFlags(SYN), &[], 0, &mut k);
    seg(&mut r, &mut s, &mut k, 11, b"0123");
    // Bytes 4..9 are lost; the FIN (at offset 9) is seen.
    s.segment(&mut r, 20, TcpFlags(ACK | FIN), &[], 0, &mut k);
    assert!(k.gaps.is_empty());
    // The peer acknowledges the FIN: the lost bytes reached it, not the capture.
    s.peer_ack(&mut r, 21, &mut k);
    assert_eq!(k.gaps, vec![(4, 5)]);
    s.finish(&mut r, &mut k);
    assert_eq!(k.gaps, vec![(4, 5)], "finish reports nothing twice");
}

#[test]
fn flush_holes_delivers_waiting_bytes_and_keeps_the_stream() {
    let (mut r, mut s, mut k) = setup();
    seg(&mut r, &mut s, &mut k, 0, b"ab");
    seg(&mut r, &mut s, &mut k, 4, b"ef");
    s.flush_holes(&mut r, &mut k);
    assert_eq!(k.data, b"abef");
    assert_eq!(k.gaps, vec![(2, 2)]);
    assert_eq!(r.buffered_bytes(), 0);
    seg(&mut r, &mut s, &mut k, 6, b"gh");
    assert_eq!(k.data, b"abefgh");
}
