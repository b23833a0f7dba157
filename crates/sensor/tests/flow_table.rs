//! Flow table scenarios: who is the client, state, counters, timeouts, eviction, ids.

mod flow_support;

use flow_support::*;
use records::{FlowState, TransportKind};
use sensor::flow::{FlowConfig, FlowProcessor};

const C: &str = "10.1.1.10";
const S: &str = "10.1.1.20";

fn processor(cfg: FlowConfig) -> FlowProcessor {
    FlowProcessor::new(cfg, dissect::Registry::with(Vec::new()))
}

fn default_processor() -> FlowProcessor {
    processor(FlowConfig::default())
}

#[test]
fn handshake_sets_initiator_even_against_port_heuristic() {
    let mut p = default_processor();
    let mut out = Collected::default();
    // The SYN comes from the side on port 502: it is the client anyway.
    p.process(t(1.0), &tcp(S, 502, C, 40000, 100, 0, SYN, b""), &mut out);
    p.process(
        t(1.1),
        &tcp(C, 40000, S, 502, 900, 101, SYN | ACK, b""),
        &mut out,
    );
    p.process(t(1.2), &tcp(S, 502, C, 40000, 101, 901, ACK, b""), &mut out);
    p.flush(&mut out);
    let r = &out.records[0];
    assert_eq!((r.src_ip, r.src_port), (ip(S), 502));
    assert_eq!((r.dst_ip, r.dst_port), (ip(C), 40000));
    assert_eq!(r.state, FlowState::Established);
    assert_eq!((r.packets_to_server, r.packets_to_client), (2, 1));
    assert_eq!(out.starts[0].client_ip, ip(S));
}

#[test]
fn syn_only_flow_is_syn_sent() {
    let mut p = default_processor();
    let mut out = Collected::default();
    p.process(t(1.0), &tcp(C, 40000, S, 80, 1, 0, SYN, b""), &mut out);
    p.flush(&mut out);
    assert_eq!(out.records[0].state, FlowState::SynSent);
}

#[test]
fn syn_ack_seen_first_makes_its_receiver_the_client() {
    let mut p = default_processor();
    let mut out = Collected::default();
    p.process(
        t(1.0),
        &tcp(S, 33000, C, 41000, 5, 2, SYN | ACK, b""),
        &mut out,
    );
    p.flush(&mut out);
    let r = &out.records[0];
    assert_eq!((r.src_ip, r.src_port, r.dst_port), (ip(C), 41000, 33000));
    assert_eq!(r.state, FlowState::Established);
}

#[test]
fn midstream_uses_port_heuristic() {
    let mut p = default_processor();
    let mut out = Collected::default();
    // First packet seen is a response from the Modbus server.
    p.process(
        t(1.0),
        &tcp(S, 502, C, 40000, 1, 1, ACK | PSH, b"resp"),
        &mut out,
    );
    // OT service port at or above 1024 (DNP3 20000).
    p.process(t(1.0), &tcp(S, 20000, C, 50000, 1, 1, ACK, b""), &mut out);
    // Neither is a service port: the lower port is the server.
    p.process(t(1.0), &tcp(C, 45000, S, 31000, 1, 1, ACK, b""), &mut out);
    p.flush(&mut out);
    let ends: Vec<_> = out
        .records
        .iter()
        .map(|r| (r.src_ip, r.src_port, r.dst_port, r.state))
        .collect();
    assert_eq!(
        ends,
        vec![
            (ip(C), 40000, 502, FlowState::Midstream),
            (ip(C), 50000, 20000, FlowState::Midstream),
            (ip(C), 45000, 31000, FlowState::Midstream),
        ]
    );
}

#[test]
fn udp_client_is_first_sender_unless_ports_say_otherwise() {
    let mut p = default_processor();
    let mut out = Collected::default();
    p.process(t(1.0), &udp(S, 53, C, 5353, b"answer"), &mut out);
    p.process(t(1.0), &udp(S, 30000, C, 40000, b"x"), &mut out);
    p.flush(&mut out);
    assert_eq!(out.records[0].src_ip, ip(C), "DNS server port decides");
    assert_eq!(
        out.records[1].src_ip,
        ip(S),
        "no service port: first sender"
    );
    assert_eq!(out.records[1].state, FlowState::Active);
}

#[test]
fn icmp_echo_reply_first_makes_its_receiver_the_client() {
    let mut p = default_processor();
    let mut out = Collected::default();
    p.process(t(1.0), &icmp(S, C, 0), &mut out);
    p.process(t(1.1), &icmp(C, S, 8), &mut out);
    p.flush(&mut out);
    let r = &out.records[0];
    assert_eq!(r.transport, TransportKind::Icmp);
    assert_eq!(r.src_ip, ip(C));
    assert_eq!((r.packets_to_server, r.packets_to_client), (1, 1));
}

#[test]
fn counters_times_and_macs_per_direction() {
    let mut p = default_processor();
    let mut out = Collected::default();
    p.process(t(10.0), &tcp(C, 40000, S, 502, 1, 0, SYN, b""), &mut out);
    p.process(
        t(10.5),
        &tcp(S, 502, C, 40000, 9, 2, SYN | ACK, b""),
        &mut out,
    );
    p.process(
        t(11.0),
        &tcp(C, 40000, S, 502, 2, 10, ACK | PSH, &[0; 12]),
        &mut out,
    );
    p.process(
        t(12.0),
        &tcp(S, 502, C, 40000, 10, 14, ACK | PSH, &[0; 9]),
        &mut out,
    );
    p.flush(&mut out);
    let r = &out.records[0];
    assert_eq!(r.kind, "flow");
    assert_eq!(r.id, 1);
    assert_eq!((r.ts_start, r.ts_end), (t(10.0), t(12.0)));
    assert_eq!((r.packets_to_server, r.packets_to_client), (2, 2));
    // IP bytes: 20 IP + 20 TCP + payload.
    assert_eq!((r.bytes_to_server, r.bytes_to_client), (40 + 52, 40 + 49));
    assert_eq!(r.src_mac, Some(mac_of(ip(C))));
    assert_eq!(r.dst_mac, Some(mac_of(ip(S))));
    assert_eq!(r.vlan, None);
    assert_eq!(r.gap_bytes, 0);
}

#[test]
fn fin_both_ways_closes_and_ends_after_the_closed_timeout() {
    let mut p = default_processor();
    let mut out = Collected::default();
    p.process(t(1.0), &tcp(C, 40000, S, 80, 1, 0, SYN, b""), &mut out);
    p.process(
        t(1.0),
        &tcp(S, 80, C, 40000, 7, 2, SYN | ACK, b""),
        &mut out,
    );
    p.process(
        t(2.0),
        &tcp(C, 40000, S, 80, 2, 8, ACK | FIN, b""),
        &mut out,
    );
    p.process(
        t(2.0),
        &tcp(S, 80, C, 40000, 8, 3, ACK | FIN, b""),
        &mut out,
    );
    p.process(t(2.0), &tcp(C, 40000, S, 80, 3, 9, ACK, b""), &mut out);
    // Another flow's packet 9.9 s later: not yet over.
    p.process(t(11.9), &udp(C, 1, S, 2, b"."), &mut out);
    assert!(out.records.is_empty());
    p.process(t(12.0), &udp(C, 1, S, 2, b"."), &mut out);
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].state, FlowState::Closed);
    assert_eq!(p.stats().flows_timed_out, 1);
}

#[test]
fn rst_resets() {
    let mut p = default_processor();
    let mut out = Collected::default();
    p.process(t(1.0), &tcp(C, 40000, S, 80, 1, 0, SYN, b""), &mut out);
    p.process(
        t(1.0),
        &tcp(S, 80, C, 40000, 0, 2, RST | ACK, b""),
        &mut out,
    );
    p.flush(&mut out);
    assert_eq!(out.records[0].state, FlowState::Reset);
}

#[test]
fn idle_timeouts_depend_on_state_and_transport() {
    let mut p = default_processor();
    let mut out = Collected::default();
    p.process(t(0.0), &tcp(C, 40001, S, 80, 1, 0, SYN, b""), &mut out); // 30 s
    p.process(t(0.0), &udp(C, 40002, S, 161, b"get"), &mut out); // 120 s
    p.process(t(0.0), &icmp(C, S, 8), &mut out); // 30 s
    p.process(t(0.0), &tcp(C, 40003, S, 80, 1, 1, ACK, b""), &mut out); // 600 s
    let ticks = [29.0, 30.0, 119.0, 120.0, 599.0, 600.0];
    let mut counts = Vec::new();
    for (i, &s) in ticks.iter().enumerate() {
        p.process(
            t(s),
            &udp("10.9.9.9", 1000 + i as u16, "10.9.9.8", 9, b""),
            &mut out,
        );
        counts.push(out.records.iter().filter(|r| r.dst_ip == ip(S)).count());
    }
    assert_eq!(counts, vec![0, 2, 2, 3, 3, 4]);
    let order: Vec<_> = out
        .records
        .iter()
        .filter(|r| r.dst_ip == ip(S))
        .map(|r| r.id)
        .collect();
    // Same deadline: ties go to the lower id.
    assert_eq!(order, vec![1, 3, 2, 4]);
}

#[test]
fn timeouts_are_configurable() {
    let cfg = FlowConfig {
        udp_timeout_secs: 5,
        ..FlowConfig::default()
    };
    let mut p = processor(cfg);
    let mut out = Collected::default();
    p.process(t(0.0), &udp(C, 40002, S, 161, b"get"), &mut out);
    p.process(t(5.0), &udp(C, 40003, S, 161, b"get"), &mut out);
    assert_eq!(out.records.len(), 1);
}

#[test]
fn activity_postpones_the_idle_timeout() {
    let mut p = default_processor();
    let mut out = Collected::default();
    for i in 0..10 {
        p.process(
            t(f64::from(i) * 100.0),
            &udp(C, 40002, S, 161, b"get"),
            &mut out,
        );
    }
    assert!(out.records.is_empty());
    p.process(t(1020.0), &udp(C, 1, S, 2, b""), &mut out);
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].packets_to_server, 10);
}

#[test]
fn active_timeout_reports_long_flows_periodically_with_the_same_id() {
    let cfg = FlowConfig {
        active_timeout_secs: 100,
        ..FlowConfig::default()
    };
    let mut p = processor(cfg);
    let mut out = Collected::default();
    for i in 0..=25 {
        p.process(
            t(f64::from(i) * 10.0),
            &udp(C, 40002, S, 161, b"get"),
            &mut out,
        );
    }
    p.flush(&mut out);
    let periods: Vec<_> = out
        .records
        .iter()
        .map(|r| (r.id, r.packets_to_server, r.ts_start, r.ts_end))
        .collect();
    assert_eq!(
        periods,
        vec![
            (1, 10, t(0.0), t(90.0)),
            (1, 10, t(100.0), t(190.0)),
            (1, 6, t(200.0), t(250.0)),
        ]
    );
    assert_eq!(p.stats().active_reports, 2);
}

#[test]
fn eviction_at_cap_ends_the_least_recently_active_flow() {
    let cfg = FlowConfig {
        max_flows: 3,
        ..FlowConfig::default()
    };
    let mut p = processor(cfg);
    let mut out = Collected::default();
    p.process(t(1.0), &udp(C, 1001, S, 161, b"a"), &mut out);
    p.process(t(2.0), &udp(C, 1002, S, 161, b"b"), &mut out);
    p.process(t(3.0), &udp(C, 1003, S, 161, b"c"), &mut out);
    p.process(t(4.0), &udp(C, 1001, S, 161, b"a"), &mut out); // 1001 active again
    p.process(t(5.0), &udp(C, 1004, S, 161, b"d"), &mut out);
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].src_port, 1002);
    assert_eq!(out.records[0].state, FlowState::Evicted);
    assert_eq!(p.stats().flows_evicted, 1);
    assert_eq!(p.active_flows(), 3);
}

#[test]
fn flush_reports_open_flows_in_creation_order() {
    let mut p = default_processor();
    let mut out = Collected::default();
    for port in [5000u16, 4000, 6000, 1000] {
        p.process(t(1.0), &udp(C, port, S, 161, b"x"), &mut out);
    }
    p.process(t(2.0), &udp(C, 5000, S, 161, b"x"), &mut out);
    p.flush(&mut out);
    let ids: Vec<_> = out.records.iter().map(|r| (r.id, r.src_port)).collect();
    assert_eq!(ids, vec![(1, 5000), (2, 4000), (3, 6000), (4, 1000)]);
    assert_eq!(p.stats().flows_flushed, 4);
    assert_eq!(p.active_flows(), 0);
}

#[test]
fn new_syn_after_close_starts_a_new_flow() {
    let mut p = default_processor();
    let mut out = Collected::default();
    p.process(t(1.0), &tcp(C, 40000, S, 80, 1, 0, SYN, b""), &mut out);
    p.process(t(1.0), &tcp(C, 40000, S, 80, 2, 0, RST, b""), &mut out);
    p.process(t(2.0), &tcp(C, 40000, S, 80, 5000, 0, SYN, b""), &mut out);
    p.flush(&mut out);
    let v: Vec<_> = out.records.iter().map(|r| (r.id, r.state)).collect();
    assert_eq!(v, vec![(1, FlowState::Reset), (2, FlowState::SynSent)]);
    assert_eq!(p.stats().flows_reused, 1);
}

#[test]
fn vlans_separate_flows() {
    let mut p = default_processor();
    let mut out = Collected::default();
    p.process(
        t(1.0),
        &tcp_vlan(Some(10), C, 4, S, 80, 1, 0, SYN, b""),
        &mut out,
    );
    p.process(
        t(1.0),
        &tcp_vlan(Some(20), C, 4, S, 80, 1, 0, SYN, b""),
        &mut out,
    );
    p.process(
        t(1.0),
        &tcp_vlan(Some(10), S, 80, C, 4, 9, 2, SYN | ACK, b""),
        &mut out,
    );
    p.flush(&mut out);
    let v: Vec<_> = out.records.iter().map(|r| (r.vlan, r.state)).collect();
    assert_eq!(
        v,
        vec![
            (Some(10), FlowState::Established),
            (Some(20), FlowState::SynSent)
        ]
    );
}

#[test]
fn non_ip_and_headerless_packets_are_counted_not_tracked() {
    let mut p = default_processor();
    let mut out = Collected::default();
    let arp = wire::Decoded {
        link: None,
        network: wire::Network::None,
        transport: wire::Transport::None,
        truncated: false,
        error: None,
    };
    p.process(t(1.0), &arp, &mut out);
    let mut cut = udp(C, 1, S, 2, b"");
    cut.transport = wire::Transport::None;
    p.process(t(1.0), &cut, &mut out);
    let s = p.stats();
    assert_eq!(
        (s.packets, s.non_ip_packets, s.no_transport_packets),
        (2, 1, 1)
    );
    assert_eq!(p.active_flows(), 0);
}

fn scenario(p: &mut FlowProcessor, out: &mut Collected) {
    let mut rng = XorShift(42);
    for i in 0..2000u32 {
        let c = format!("10.0.{}.{}", rng.range(0, 3), rng.range(1, 50));
        let port = rng.range(1024, 1100) as u16;
        let ts = t(f64::from(i) * 0.5);
        match rng.range(0, 2) {
            0 => p.process(ts, &udp(&c, port, S, 161, b"q"), out),
            1 => p.process(ts, &tcp(&c, port, S, 502, i, 0, SYN, b""), out),
            _ => p.process(ts, &tcp(S, 502, &c, port, i, 1, ACK | FIN, b""), out),
        }
    }
    p.flush(out);
}

#[test]
fn same_packets_give_the_same_records_in_the_same_order() {
    let cfg = FlowConfig {
        max_flows: 500,
        ..FlowConfig::default()
    };
    let (mut a, mut b) = (processor(cfg.clone()), processor(cfg));
    let (mut oa, mut ob) = (Collected::default(), Collected::default());
    scenario(&mut a, &mut oa);
    scenario(&mut b, &mut ob);
    assert!(oa.records.len() > 100);
    assert_eq!(oa.records, ob.records);
    assert_eq!(a.stats(), b.stats());
    // Ids are unique per flow and were handed out in creation order.
    let mut firsts: Vec<_> = oa.starts.iter().map(|s| s.id).collect();
    let n = firsts.len() as u64;
    firsts.dedup();
    assert_eq!(firsts, (1..=n).collect::<Vec<_>>());
}

#[test]
fn a_flow_seen_on_two_segments_reports_each_senders_other_mac_once() {
    // A multi-segment SPAN sees each packet twice: on the client's segment from the
    // client's MAC, and on the server's segment from the router's MAC (and the answers
    // the other way round).
    let router = wire::MacAddr([0x00, 0x1e, 0x7a, 0, 0, 1]);
    let mut p = default_processor();
    let mut out = Collected::default();
    let with_src = |mut d: wire::Decoded<'static>, mac: wire::MacAddr| {
        if let Some(l) = d.link.as_mut() {
            l.src_mac = Some(mac);
        }
        d
    };
    for n in 0..3u32 {
        let to_server = tcp(C, 40000, S, 502, 1 + n, 1, ACK, b"");
        let to_client = tcp(S, 502, C, 40000, 1, 1 + n, ACK, b"");
        p.process(t(1.0), &with_src(to_server, mac_of(ip(C))), &mut out);
        p.process(t(1.0), &with_src(to_server, router), &mut out);
        p.process(t(1.1), &with_src(to_client, mac_of(ip(S))), &mut out);
        p.process(t(1.1), &with_src(to_client, router), &mut out);
    }
    p.flush(&mut out);
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].src_mac, Some(mac_of(ip(C))));
    assert_eq!(out.macs_seen, vec![(ip(C), router), (ip(S), router)]);
}
