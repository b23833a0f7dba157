//! IP fragment reassembly: any order, overlaps, caps, timeouts; and fragmented
//! datagrams reaching dissectors through the flow stage.

mod flow_support;

use flow_support::{fragment, recorder_registry, t, Collected};
use sensor::defrag::{DefragConfig, Defragmenter};
use sensor::flow::{FlowConfig, FlowProcessor};
use std::net::{Ipv4Addr, Ipv6Addr};
use wire::build::FrameBuilder;
use wire::{decode, LinkType};

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 3) as u8).collect()
}

/// Splits `data` into fragments of `size` bytes (a multiple of 8): (offset, more, bytes).
fn split(data: &[u8], size: usize) -> Vec<(u32, bool, &[u8])> {
    data.chunks(size)
        .enumerate()
        .map(|(i, c)| ((i * size) as u32, (i + 1) * size < data.len(), c))
        .collect()
}

/// Every permutation of 0..n (n small).
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

fn check_any_order(src: &str, dst: &str) {
    let data = payload(1000);
    let frags = split(&data, 264);
    assert_eq!(frags.len(), 4);
    let mut d = Defragmenter::new(DefragConfig::default());
    let orders = permutations(frags.len());
    for (n, order) in orders.iter().enumerate() {
        let id = 100 + n as u32;
        let mut done = None;
        for (k, &i) in order.iter().enumerate() {
            let (off, more, bytes) = frags[i];
            let info = fragment(src, dst, 17, id, off, more, bytes);
            let out = d.feed(t(1.0 + n as f64 * 0.001), None, &info);
            if k + 1 < order.len() {
                assert!(out.is_none(), "order {order:?}: completed early");
            } else {
                done = out.map(|r| (r.payload.to_vec(), r.fragments));
            }
        }
        assert_eq!(done, Some((data.clone(), 4)), "order {order:?}");
    }
    assert_eq!(d.stats().reassembled, 24);
    assert_eq!(d.stats().fragments, 96);
    assert_eq!(d.pending(), 0);
}

#[test]
fn ipv4_fragments_reassemble_in_any_order() {
    check_any_order("10.0.0.1", "10.0.0.2");
}

#[test]
fn ipv6_fragments_reassemble_in_any_order() {
    check_any_order("fd00::1", "fd00::2");
}

#[test]
fn overlapping_fragment_keeps_first_bytes() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let a = fragment("10.0.0.1", "10.0.0.2", 17, 7, 0, true, &[1; 16]);
    let evil = fragment("10.0.0.1", "10.0.0.2", 17, 7, 8, true, &[9; 16]);
    let last = fragment("10.0.0.1", "10.0.0.2", 17, 7, 16, false, &[2; 8]);
    assert!(d.feed(t(1.0), None, &a).is_none());
    assert!(d.feed(t(1.0), None, &evil).is_none());
    let whole = d.feed(t(1.0), None, &last).map(|r| r.payload.to_vec());
    // Bytes 8..16 came first from `a`, bytes 16..24 first from `evil`.
    let mut expect = vec![1; 16];
    expect.extend_from_slice(&[9; 8]);
    assert_eq!(whole, Some(expect));
    assert_eq!(d.stats().overlaps, 2);
    assert_eq!(d.stats().overlap_conflicts, 2);
}

#[test]
fn same_id_on_another_vlan_is_another_datagram() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let a = fragment("10.0.0.1", "10.0.0.2", 17, 7, 0, true, &[1; 8]);
    let b = fragment("10.0.0.1", "10.0.0.2", 17, 7, 8, false, &[2; 8]);
    assert!(d.feed(t(1.0), Some(10), &a).is_none());
    assert!(d.feed(t(1.0), Some(20), &b).is_none());
    assert_eq!(d.pending(), 2);
}

#[test]
fn incomplete_datagram_times_out_after_30_seconds() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let a = fragment("10.0.0.1", "10.0.0.2", 17, 7, 0, true, &[1; 8]);
    let b = fragment("10.0.0.1", "10.0.0.2", 17, 7, 8, false, &[2; 8]);
    assert!(d.feed(t(100.0), None, &a).is_none());
    d.expire(t(129.9));
    assert_eq!(d.pending(), 1);
    // The tail arrives too late: the head is gone, so nothing completes.
    assert!(d.feed(t(130.0), None, &b).is_none());
    assert_eq!(d.stats().timed_out, 1);
    assert_eq!(d.stats().reassembled, 0);
}

#[test]
fn pending_datagram_cap_evicts_the_oldest() {
    let cfg = DefragConfig {
        max_datagrams: 2,
        ..DefragConfig::default()
    };
    let mut d = Defragmenter::new(cfg);
    for id in 1..=3 {
        let f = fragment("10.0.0.1", "10.0.0.2", 17, id, 0, true, &[0; 8]);
        assert!(d.feed(t(1.0), None, &f).is_none());
    }
    assert_eq!(d.pending(), 2);
    assert_eq!(d.stats().evicted_cap, 1);
    // Datagram 1 was evicted; 2 still completes, 1 cannot.
    let tail1 = fragment("10.0.0.1", "10.0.0.2", 17, 1, 8, false, &[0; 8]);
    let tail2 = fragment("10.0.0.1", "10.0.0.2", 17, 2, 8, false, &[0; 8]);
    assert!(d.feed(t(1.0), None, &tail2).is_some());
    assert!(d.feed(t(1.0), None, &tail1).is_none());
}

#[test]
fn pending_bytes_cap_evicts_the_oldest() {
    let cfg = DefragConfig {
        max_pending_bytes: 3000,
        ..DefragConfig::default()
    };
    let mut d = Defragmenter::new(cfg);
    let big = vec![0; 1480];
    for id in 1..=3 {
        let f = fragment("10.0.0.1", "10.0.0.2", 17, id, 0, true, &big);
        d.feed(t(1.0), None, &f);
    }
    assert_eq!(d.stats().evicted_cap, 1);
    assert_eq!(d.pending(), 2);
}

#[test]
fn oversized_datagram_is_dropped() {
    let mut d = Defragmenter::new(DefragConfig::default());
    let head = fragment("10.0.0.1", "10.0.0.2", 17, 9, 0, true, &[0; 8]);
    let beyond = fragment("10.0.0.1", "10.0.0.2", 17, 9, 65528, false, &[0; 16]);
    assert!(d.feed(t(1.0), None, &head).is_none());
    assert!(d.feed(t(1.0), None, &beyond).is_none());
    assert_eq!(d.stats().too_big, 1);
    assert_eq!(d.pending(), 0);
}

/// UDP header + body, as the first fragment carries it.
fn udp_datagram(sport: u16, dport: u16, body: &[u8]) -> Vec<u8> {
    let len = (8 + body.len()) as u16;
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(body);
    v
}

fn fragmented_udp_reaches_the_dissector(v6: bool) {
    let body = payload(3000);
    let dgram = udp_datagram(40000, 47808, &body);
    let frags = split(&dgram, 1232);
    let frames: Vec<Vec<u8>> = frags
        .iter()
        .rev()
        .map(|&(off, more, bytes)| {
            let b = FrameBuilder::new();
            let b = if v6 {
                b.ipv6(
                    "fd00::1".parse::<Ipv6Addr>().unwrap(),
                    "fd00::2".parse::<Ipv6Addr>().unwrap(),
                )
            } else {
                b.ipv4(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2))
            };
            b.ip_id(77)
                .fragment(off, more)
                .ip_payload(17, bytes)
                .build()
        })
        .collect();
    let (registry, log) = recorder_registry(47808, 1);
    let mut p = FlowProcessor::new(FlowConfig::default(), registry);
    let mut out = Collected::default();
    for f in &frames {
        p.process(t(5.0), &decode(LinkType::RawIp, f), &mut out);
    }
    p.flush(&mut out);
    let seen = log.lock().unwrap();
    assert_eq!(seen.datagrams, vec![(0, body.clone())]);
    assert_eq!(out.records.len(), 1);
    let r = &out.records[0];
    assert_eq!((r.src_port, r.dst_port), (40000, 47808));
    assert_eq!(r.packets_to_server, 3);
    let hdr = if v6 { 48 } else { 20 };
    assert_eq!(r.bytes_to_server, (dgram.len() + 3 * hdr) as u64);
    assert_eq!(p.stats().defrag.reassembled, 1);
}

#[test]
fn fragmented_ipv4_udp_reaches_the_dissector() {
    fragmented_udp_reaches_the_dissector(false);
}

#[test]
fn fragmented_ipv6_udp_reaches_the_dissector() {
    fragmented_udp_reaches_the_dissector(true);
}
