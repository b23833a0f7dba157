//! Random traffic against tight caps: nothing panics, every packet is counted in
//! exactly one record, ids are unique and ascending per flow creation, and all buffers
//! are returned at the end.

mod flow_support;

use flow_support::*;
use sensor::flow::{FlowConfig, FlowProcessor};
use sensor::reassembly::ReassemblyConfig;
use std::collections::BTreeSet;

#[test]
fn random_traffic_keeps_the_books_balanced() {
    let (registry, _log) = recorder_registry(502, 5);
    let cfg = FlowConfig {
        max_flows: 40,
        active_timeout_secs: 50,
        reassembly: ReassemblyConfig {
            per_flow_ooo_cap: 4096,
            global_ooo_cap: 20_000,
            max_ooo_ranges: 4,
            max_tail: 64,
            ..ReassemblyConfig::default()
        },
        ..FlowConfig::default()
    };
    let mut p = FlowProcessor::new(cfg, registry);
    let mut out = Collected::default();
    let mut rng = XorShift(2024);
    let hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "fd00::1", "fd00::2"];
    let payload: Vec<u8> = (0..1500).map(|i| i as u8).collect();
    let n = 20_000u32;
    let mut ts = 0.0;
    for _ in 0..n {
        ts += rng.range(0, 2000) as f64 / 1000.0;
        let v6 = rng.range(0, 4) == 0;
        let (a, b) = if v6 {
            (hosts[3], hosts[4])
        } else {
            (hosts[rng.range(0, 2)], hosts[rng.range(0, 2)])
        };
        let (sp, dp) = (
            [502u16, 40000, 40001, 53][rng.range(0, 3)],
            [502u16, 40000, 40001, 53][rng.range(0, 3)],
        );
        let len = [0, 1, 5, 100, 1460][rng.range(0, 4)];
        let data = &payload[..len];
        let seq = (rng.range(0, 20_000) as u32).wrapping_add(u32::MAX - 10_000);
        let ack = (rng.range(0, 20_000) as u32).wrapping_add(u32::MAX - 10_000);
        let flags = [SYN, SYN | ACK, ACK, ACK | PSH, ACK | FIN, RST, ACK][rng.range(0, 6)];
        let pkt = match rng.range(0, 5) {
            0 => udp(a, sp, b, dp, data),
            1 if !v6 => icmp(a, b, [0u8, 8, 3][rng.range(0, 2)]),
            _ => tcp(a, sp, b, dp, seq, ack, flags, data),
        };
        p.process(t(ts), &pkt, &mut out);
    }
    p.flush(&mut out);
    let s = p.stats();
    let counted: u64 = out
        .records
        .iter()
        .map(|r| r.packets_to_server + r.packets_to_client)
        .sum();
    assert_eq!(counted, u64::from(n));
    assert_eq!(s.packets, u64::from(n));
    assert_eq!(p.active_flows(), 0);
    assert_eq!(p.buffered_bytes(), 0);
    assert!(s.flows_evicted > 0 && s.flows_timed_out > 0 && s.active_reports > 0);
    assert!(s.tcp_gaps > 0 && s.out_of_order > 0 && s.retransmissions > 0);
    let ids: BTreeSet<u64> = out.records.iter().map(|r| r.id).collect();
    assert_eq!(ids.len() as u64, s.flows_created);
    assert_eq!(
        ids.iter().copied().collect::<Vec<_>>(),
        (1..=s.flows_created).collect::<Vec<_>>()
    );
    let starts: Vec<u64> = out.starts.iter().map(|st| st.id).collect();
    assert_eq!(starts, (1..=s.flows_created).collect::<Vec<_>>());
    let gaps: u64 = out.records.iter().map(|r| r.gap_bytes).sum();
    assert_eq!(gaps, s.gap_bytes);
}
