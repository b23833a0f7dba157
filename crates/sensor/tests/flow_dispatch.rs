//! Dissector selection and delivery through the flow stage.

mod flow_support;

use flow_support::*;
use sensor::flow::{FlowConfig, FlowProcessor};
use std::sync::{Arc, Mutex};

const C: &str = "192.168.0.10";
const S: &str = "192.168.0.20";

fn handshake(p: &mut FlowProcessor, out: &mut Collected, isn_c: u32, isn_s: u32) {
    p.process(t(1.0), &tcp(C, 40000, S, 502, isn_c, 0, SYN, b""), out);
    p.process(
        t(1.0),
        &tcp(S, 502, C, 40000, isn_s, isn_c + 1, SYN | ACK, b""),
        out,
    );
    p.process(
        t(1.0),
        &tcp(C, 40000, S, 502, isn_c + 1, isn_s + 1, ACK, b""),
        out,
    );
}

#[test]
fn dissector_chosen_by_port_gets_both_directions_in_order() {
    let (registry, log) = recorder_registry(502, 1);
    let mut p = FlowProcessor::new(FlowConfig::default(), registry);
    let mut out = Collected::default();
    handshake(&mut p, &mut out, 100, 900);
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 105, 901, ACK, b"fghij"),
        &mut out,
    );
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 101, 901, ACK, b"abcd"),
        &mut out,
    );
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 101, 901, ACK, b"abcd"),
        &mut out,
    );
    p.process(
        t(1.2),
        &tcp(S, 502, C, 40000, 901, 110, ACK, b"reply"),
        &mut out,
    );
    p.flush(&mut out);
    let seen = log.lock().unwrap();
    assert_eq!(seen.consumed[0], b"abcdfghij");
    assert_eq!(seen.consumed[1], b"reply");
    assert!(seen.gaps.is_empty());
    assert_eq!(out.records[0].app, Some("recorder"));
    assert_eq!(out.apps.len(), 1);
    assert_eq!(out.apps[0].app, Some("recorder"));
    assert_eq!(out.apps[0].server_port, 502);
    let s = p.stats();
    assert_eq!(
        (s.retransmissions, s.out_of_order, s.dissectors_selected),
        (1, 1, 1)
    );
}

#[test]
fn selection_is_retried_on_the_other_direction_first_payload() {
    let log = Arc::new(Mutex::new(Seen::default()));
    let f = RecorderFactory {
        log: log.clone(),
        chunk: 1,
        port: None,
        magic: Some(b"RESP"),
    };
    let mut p = FlowProcessor::new(
        FlowConfig::default(),
        dissect::Registry::with(vec![Box::new(f)]),
    );
    let mut out = Collected::default();
    handshake(&mut p, &mut out, 100, 900);
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 101, 901, ACK, b"hello"),
        &mut out,
    );
    p.process(
        t(1.2),
        &tcp(S, 502, C, 40000, 901, 106, ACK, b"RESP ok"),
        &mut out,
    );
    p.process(
        t(1.3),
        &tcp(C, 40000, S, 502, 106, 908, ACK, b"more"),
        &mut out,
    );
    p.flush(&mut out);
    let seen = log.lock().unwrap();
    // The client's first payload went by before the protocol was known.
    assert_eq!(seen.consumed[0], b"more");
    assert_eq!(seen.consumed[1], b"RESP ok");
    assert_eq!(out.records[0].app, Some("recorder"));
}

#[test]
fn no_match_in_either_direction_leaves_the_flow_without_app() {
    let (registry, log) = recorder_registry(9999, 1);
    let mut p = FlowProcessor::new(FlowConfig::default(), registry);
    let mut out = Collected::default();
    handshake(&mut p, &mut out, 100, 900);
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 101, 901, ACK, b"hello"),
        &mut out,
    );
    p.process(
        t(1.2),
        &tcp(S, 502, C, 40000, 901, 106, ACK, b"world"),
        &mut out,
    );
    p.flush(&mut out);
    assert_eq!(out.records[0].app, None);
    assert!(log.lock().unwrap().presented.is_empty());
    assert!(out.apps.is_empty());
}

#[test]
fn unconsumed_tail_is_presented_again_through_the_flow_stage() {
    let (registry, log) = recorder_registry(502, 4);
    let mut p = FlowProcessor::new(FlowConfig::default(), registry);
    let mut out = Collected::default();
    handshake(&mut p, &mut out, 100, 900);
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 101, 901, ACK, b"abcdef"),
        &mut out,
    );
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 107, 901, ACK, b"gh"),
        &mut out,
    );
    let seen = log.lock().unwrap();
    assert_eq!(seen.consumed[0], b"abcdefgh");
    assert_eq!(seen.presented.last(), Some(&(0, b"efgh".to_vec())));
}

#[test]
fn lost_segment_is_reported_as_a_gap_and_delivery_resumes() {
    let (registry, log) = recorder_registry(502, 1);
    let mut p = FlowProcessor::new(FlowConfig::default(), registry);
    let mut out = Collected::default();
    handshake(&mut p, &mut out, 100, 900);
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 101, 901, ACK, b"aaaa"),
        &mut out,
    );
    // Bytes 4..10 never reach the capture.
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 111, 901, ACK, b"cccc"),
        &mut out,
    );
    assert!(log.lock().unwrap().gaps.is_empty());
    // The server acknowledges everything: the hole is a gap, delivery resumes.
    p.process(t(1.2), &tcp(S, 502, C, 40000, 901, 115, ACK, b""), &mut out);
    {
        let seen = log.lock().unwrap();
        assert_eq!(seen.gaps, vec![(0, 4, 6)]);
        assert_eq!(seen.consumed[0], b"aaaacccc");
    }
    p.process(
        t(1.3),
        &tcp(C, 40000, S, 502, 115, 901, ACK, b"dd"),
        &mut out,
    );
    p.flush(&mut out);
    assert_eq!(log.lock().unwrap().consumed[0], b"aaaaccccdd");
    assert_eq!(out.records[0].gap_bytes, 6);
    let s = p.stats();
    assert_eq!((s.tcp_gaps, s.gap_bytes, s.ack_gaps), (1, 6, 1));
}

#[test]
fn udp_datagrams_go_to_the_dissector_in_both_directions() {
    let (registry, log) = recorder_registry(47808, 1);
    let mut p = FlowProcessor::new(FlowConfig::default(), registry);
    let mut out = Collected::default();
    p.process(t(1.0), &udp(C, 47808, S, 47808, b"who-is"), &mut out);
    p.process(t(1.1), &udp(S, 47808, C, 47808, b"i-am"), &mut out);
    p.flush(&mut out);
    let seen = log.lock().unwrap();
    assert_eq!(
        seen.datagrams,
        vec![(0, b"who-is".to_vec()), (1, b"i-am".to_vec())]
    );
}

#[test]
fn a_dissector_reports_what_it_holds_when_its_flow_ends() {
    let (registry, log) = recorder_registry(47808, 1);
    let mut p = FlowProcessor::new(FlowConfig::default(), registry);
    let mut out = Collected::default();
    p.process(t(1.0), &udp(C, 47808, S, 47808, b"HOLD 1"), &mut out);
    assert!(out.anomalies.is_empty());
    assert_eq!(log.lock().unwrap().ends, 0);
    p.flush(&mut out);
    assert_eq!(log.lock().unwrap().ends, 1);
    assert_eq!(
        out.anomalies,
        vec![(1, "recorder", "held at the end".to_string())]
    );
}

#[test]
fn dissector_anomalies_reach_the_output_with_the_flow_id() {
    let (registry, _log) = recorder_registry(502, 1);
    let mut p = FlowProcessor::new(FlowConfig::default(), registry);
    let mut out = Collected::default();
    p.process(t(0.5), &udp(C, 5, S, 6, b"other flow"), &mut out);
    handshake(&mut p, &mut out, 100, 900);
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 101, 901, ACK, b"BAD!"),
        &mut out,
    );
    assert_eq!(
        out.anomalies,
        vec![(2, "recorder", "bad record".to_string())]
    );
}

/// The TCP conversation of a whole test, as (from client, bytes) messages.
fn conversation(rng: &mut XorShift) -> Vec<(bool, Vec<u8>)> {
    (0..12)
        .map(|i| {
            let n = rng.range(1, 5000);
            (i % 2 == 0, (0..n).map(|_| rng.next() as u8).collect())
        })
        .collect()
}

/// Feeds the conversation with each message cut by `cut` into segments, and returns
/// what the dissector consumed per direction.
fn replay(msgs: &[(bool, Vec<u8>)], cut: &dyn Fn(usize) -> Vec<(usize, usize)>) -> Seen {
    let (registry, log) = recorder_registry(502, 3);
    let mut p = FlowProcessor::new(FlowConfig::default(), registry);
    let mut out = Collected::default();
    let (mut cseq, mut sseq) = (u32::MAX - 3000, 4000u32);
    handshake(&mut p, &mut out, cseq, sseq);
    cseq = cseq.wrapping_add(1);
    sseq = sseq.wrapping_add(1);
    for (from_client, data) in msgs {
        for (off, len) in cut(data.len()) {
            let bytes = &data[off..off + len];
            let pkt = if *from_client {
                tcp(
                    C,
                    40000,
                    S,
                    502,
                    cseq.wrapping_add(off as u32),
                    sseq,
                    ACK,
                    bytes,
                )
            } else {
                tcp(
                    S,
                    502,
                    C,
                    40000,
                    sseq.wrapping_add(off as u32),
                    cseq,
                    ACK,
                    bytes,
                )
            };
            p.process(t(2.0), &pkt, &mut out);
        }
        if *from_client {
            cseq = cseq.wrapping_add(data.len() as u32);
        } else {
            sseq = sseq.wrapping_add(data.len() as u32);
        }
    }
    p.flush(&mut out);
    let seen = log.lock().unwrap().clone();
    assert!(seen.gaps.is_empty(), "{:?}", seen.gaps);
    seen
}

#[test]
fn whole_packetwise_and_bytewise_conversations_reach_the_dissector_identically() {
    let mut rng = XorShift(7);
    let msgs = conversation(&mut rng);
    let whole = replay(&msgs, &|n| vec![(0, n)]);
    let bytewise = replay(&msgs, &|n| (0..n).map(|i| (i, 1)).collect());
    let cuts = std::cell::RefCell::new(XorShift(99));
    let segmented = replay(&msgs, &|n| {
        let mut rng = cuts.borrow_mut();
        let mut v = Vec::new();
        let mut off = 0;
        while off < n {
            let len = rng.range(1, 1460).min(n - off);
            v.push((off, len));
            off += len;
        }
        // Reverse neighbour pairs and repeat one segment: out of order plus duplicate.
        for pair in v.chunks_mut(2) {
            pair.reverse();
        }
        if let Some(&first) = v.first() {
            v.push(first);
        }
        v
    });
    for d in 0..2 {
        let expect: Vec<u8> = msgs
            .iter()
            .filter(|(c, _)| *c == (d == 0))
            .flat_map(|(_, b)| b.iter().copied())
            .collect();
        let expect = &expect[..expect.len() / 3 * 3];
        assert_eq!(whole.consumed[d], expect, "whole, direction {d}");
        assert_eq!(segmented.consumed[d], expect, "segmented, direction {d}");
        assert_eq!(bytewise.consumed[d], expect, "bytewise, direction {d}");
    }
}

#[test]
fn reset_reports_holes_at_once() {
    let (registry, log) = recorder_registry(502, 1);
    let mut p = FlowProcessor::new(FlowConfig::default(), registry);
    let mut out = Collected::default();
    handshake(&mut p, &mut out, 100, 900);
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 101, 901, ACK, b"aa"),
        &mut out,
    );
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 105, 901, ACK, b"cc"),
        &mut out,
    );
    p.process(t(1.2), &tcp(S, 502, C, 40000, 901, 0, RST, b""), &mut out);
    let seen = log.lock().unwrap();
    assert_eq!(seen.gaps, vec![(0, 2, 2)]);
    assert_eq!(seen.consumed[0], b"aacc");
    assert!(
        out.records.is_empty(),
        "the flow itself ends after the closed timeout"
    );
}
