//! The roll-ups (flow pairs, hourly activity, alerting addresses) agree with the flows
//! and alerts they summarise, whether filled by the migration or kept by the trigger.

mod common;

use records::Timestamp;
use std::collections::BTreeMap;
use std::net::IpAddr;
use store::{AlertPair, AlertStatus, Batch, FlowPair, Store, HOUR_MICROS};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Pairs summed from the stored flows themselves.
fn pairs_from_flows(store: &Store) -> BTreeMap<(IpAddr, IpAddr, Option<String>), (u64, u64)> {
    let mut out = BTreeMap::new();
    for f in store.flows(&Default::default()).unwrap() {
        let r = f.record;
        let e = out
            .entry((r.src_ip, r.dst_ip, r.app.map(str::to_string)))
            .or_insert((0u64, 0u64));
        e.0 += 1;
        e.1 =
            e.1.saturating_add(r.bytes_to_server)
                .saturating_add(r.bytes_to_client)
                .min(i64::MAX as u64);
    }
    out
}

fn as_map(pairs: &[FlowPair]) -> BTreeMap<(IpAddr, IpAddr, Option<String>), (u64, u64)> {
    pairs
        .iter()
        .map(|p| ((p.src_ip, p.dst_ip, p.app.clone()), (p.flows, p.bytes)))
        .collect()
}

#[test]
fn pairs_and_hours_follow_every_inserted_flow() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let run = store.begin_run("test", Timestamp(0)).unwrap();
    let mut batch = Batch::new(run);
    batch.flows = (0..2_000).map(common::flow).collect();
    batch.assets = (0..5).map(common::asset).collect();
    store.write_batch(&batch).unwrap();

    let pairs = store.flow_pairs(100_000).unwrap();
    assert_eq!(as_map(&pairs), pairs_from_flows(&store));
    // Largest first; flow 7 carries i64::MAX bytes, saturated rather than overflowed.
    assert_eq!(pairs[0].bytes, i64::MAX as u64);
    assert!(pairs.windows(2).all(|w| w[0].bytes >= w[1].bytes));
    assert_eq!(store.flow_pairs(3).unwrap().len(), 3);

    let server = ip("10.20.0.1");
    let of_server = store.flow_pairs_of(server, 10_000).unwrap();
    assert!(!of_server.is_empty());
    assert!(of_server
        .iter()
        .all(|p| p.src_ip == server || p.dst_ip == server));
    let expected = pairs
        .iter()
        .filter(|p| p.src_ip == server || p.dst_ip == server)
        .count();
    assert_eq!(of_server.len(), expected);

    let refs = store.asset_refs().unwrap();
    let assets = store.load_assets().unwrap();
    let brief = store.load_assets_without_peers().unwrap();
    assert!(assets.iter().any(|a| !a.peers.is_empty()));
    for (b, a) in brief.iter().zip(&assets) {
        assert!(b.peers.is_empty());
        let mut a = a.clone();
        a.peers.clear();
        assert_eq!(*b, a);
    }
    assert_eq!(refs.len(), 5);
    for (r, a) in refs.iter().zip(&assets) {
        assert_eq!((&r.id, r.role), (&a.id, a.role));
        assert_eq!(r.ips, a.ips.iter().copied().collect::<Vec<_>>());
    }

    let hours = store.ip_activity(server, Timestamp(0), 1_000).unwrap();
    let flows_of_server = store
        .flows(&store::FlowFilter {
            ip: Some(server),
            ..Default::default()
        })
        .unwrap();
    let total: u64 = hours.iter().map(|h| h.flows).sum();
    assert_eq!(total, flows_of_server.len() as u64);
    assert!(hours.iter().all(|h| h.hour.micros() % HOUR_MICROS == 0));
}

#[test]
fn alerting_addresses_count_open_and_acknowledged_alerts_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let alerts: Vec<_> = (1..=6).map(common::alert).collect();
    store.upsert_alerts(&alerts).unwrap();
    store
        .set_alert_status(1, AlertStatus::Resolved, None, Timestamp(1))
        .unwrap();
    store
        .set_alert_status(2, AlertStatus::Acknowledged, None, Timestamp(1))
        .unwrap();
    let got = store.untriaged_alert_pairs().unwrap();
    let pair = |src: Option<&str>, dst: Option<&str>, alerts| AlertPair {
        src_ip: src.map(ip),
        dst_ip: dst.map(ip),
        alerts,
    };
    // Alert n names 10.20.0.n (not n = 4) and 10.20.1.10 (not n = 2, 5); 1 is resolved.
    let mut want = vec![
        pair(Some("10.20.0.2"), None, 1),
        pair(Some("10.20.0.3"), Some("10.20.1.10"), 1),
        pair(None, Some("10.20.1.10"), 1),
        pair(Some("10.20.0.5"), None, 1),
        pair(Some("10.20.0.6"), Some("10.20.1.10"), 1),
    ];
    let mut got = got;
    got.sort();
    want.sort();
    assert_eq!(got, want);
}
