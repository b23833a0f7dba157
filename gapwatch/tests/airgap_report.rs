//! The air-gap report on a store holding two runs with a gap between them, a few devices
//! and boundary alerts (one with a missing evidence file): verdicts, coverage, the
//! evidence chain, and both formats.

use gapwatch::airgap::{chain_step, hex, report, Verdict, OUTSIDE_BOUNDARY};
use learn::{Alert, Category, Severity};
use records::{AssetRecord, FlowRecord, FlowState, Role, Timestamp, TransportKind};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use store::{AlertStatus, Batch, RunProgress, Store};
use zones::ZonePolicy;

const T0: i64 = 1_764_300_000_000_000;
const SEC: i64 = 1_000_000;

const POLICY: &str = r#"
[[zone]]
name = "control"
cidrs = ["10.10.1.0/24"]
kind = "ot"
purdue = 1
[[zone]]
name = "supervisory"
cidrs = ["10.10.2.0/24"]
kind = "ot"
purdue = 2
[[zone]]
name = "office"
cidrs = ["10.10.4.0/24"]
kind = "it"
purdue = 4
[[allow]]
from = "supervisory"
to = "control"
protocols = ["modbus"]
"#;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn asset(addr: &str, role: Role) -> AssetRecord {
    AssetRecord {
        kind: "asset",
        id: format!("ip:{addr}"),
        mac: None,
        ips: [ip(addr)].into(),
        vendor: None,
        hostnames: Default::default(),
        identity: Default::default(),
        role,
        zone: None,
        purdue_level: None,
        first_seen: Timestamp(T0),
        last_seen: Timestamp(T0 + 10_000 * SEC),
        protocols_served: Default::default(),
        protocols_used: Default::default(),
        peers: Default::default(),
        is_gateway: false,
    }
}

fn alert(id: u64, category: Category, src: &str, dst: &str, at_secs: i64, count: u64) -> Alert {
    Alert {
        kind: "alert".to_string(),
        id,
        ts: Timestamp(T0 + at_secs * SEC),
        ts_last: Timestamp(T0 + (at_secs + 30) * SEC),
        category,
        severity: Severity::High,
        score: 0.9,
        src_ip: Some(ip(src)),
        src_mac: None,
        dst_ip: Some(ip(dst)),
        dst_port: Some(502),
        protocol: Some("modbus".to_string()),
        title: format!("{} from {src}", category.name()),
        explanation: "test".to_string(),
        attack: Vec::new(),
        evidence: learn::alert::Evidence {
            flow_ids: vec![id],
            packet_times: vec![Timestamp(T0 + at_secs * SEC)],
            pcap: Some(format!("evidence/alert-{id}.pcap")),
        },
        count,
        model: "test".to_string(),
        hosts: Vec::new(),
        fuse_key: String::new(),
    }
}

/// A TCP flow from `src` to `dst` port 502 over `[start, end]` seconds after T0, with
/// `n` packets and `100 * n` bytes each way.
fn flow(id: u64, src: &str, dst: &str, start: i64, end: i64, n: u64) -> FlowRecord {
    FlowRecord {
        kind: "flow",
        id,
        ts_start: Timestamp(T0 + start * SEC),
        ts_end: Timestamp(T0 + end * SEC),
        transport: TransportKind::Tcp,
        vlan: None,
        src_ip: ip(src),
        src_port: 50_000,
        dst_ip: ip(dst),
        dst_port: 502,
        src_mac: None,
        dst_mac: None,
        packets_to_server: n,
        packets_to_client: n,
        bytes_to_server: 100 * n,
        bytes_to_client: 100 * n,
        app: Some("modbus"),
        state: FlowState::Closed,
        gap_bytes: 0,
    }
}

fn run(store: &mut Store, start: i64, end: i64, packets: u64, drops: u64, batch: Batch) {
    let id = store.begin_run("test.pcap", Timestamp(start)).unwrap();
    let mut batch = Batch { run: id, ..batch };
    let progress = RunProgress {
        packets,
        bytes: packets * 100,
        last_packet_at: Some(Timestamp(end)),
        counters: BTreeMap::from([
            ("kernel_drops".to_string(), drops),
            ("flows_evicted".to_string(), 1),
        ]),
    };
    batch.progress = Some(progress.clone());
    store.write_batch(&batch).unwrap();
    store.finish_run(id, Timestamp(end), &progress).unwrap();
}

/// A state folder with two runs (0–3600 s and 7200–10800 s), three devices, and alerts:
/// 1 outside connection, 2 and 3 IT→OT crossings (3 without its evidence file),
/// 4 a scan (not a crossing), 5 remote access marked expected.
fn plant_store(dir: &Path) -> Store {
    let state = dir.join("state");
    let mut store = Store::open(&state).unwrap();
    let mut first = Batch::new(store::RunId(0));
    first.assets = vec![
        asset("10.10.1.11", Role::Plc),
        asset("10.10.2.10", Role::Hmi),
        asset("10.10.4.10", Role::ItHost),
    ];
    first.alerts = vec![
        alert(
            1,
            Category::ExternalConnection,
            "10.10.4.10",
            "203.0.113.50",
            100,
            3,
        ),
        alert(
            2,
            Category::ItOtCrossing,
            "10.10.4.10",
            "10.10.1.11",
            200,
            2,
        ),
        alert(4, Category::Scan, "10.10.4.10", "10.10.1.11", 300, 9),
        alert(
            5,
            Category::RemoteAccess,
            "10.10.4.10",
            "10.10.2.10",
            400,
            1,
        ),
    ];
    first.flows = vec![
        flow(1, "10.10.4.10", "203.0.113.50", 100, 130, 3),
        flow(2, "10.10.4.10", "10.10.1.11", 195, 260, 10),
        flow(3, "10.10.4.10", "10.10.2.10", 400, 410, 7),
    ];
    run(&mut store, T0, T0 + 3_600 * SEC, 10_000, 5, first);
    let mut second = Batch::new(store::RunId(0));
    second.flows = vec![flow(1, "10.10.4.10", "10.10.1.11", 7_300, 7_310, 4)];
    second.alerts = vec![alert(
        3,
        Category::ItOtCrossing,
        "10.10.4.10",
        "10.10.1.11",
        7_300,
        2,
    )];
    run(
        &mut store,
        T0 + 7_200 * SEC,
        T0 + 10_800 * SEC,
        5_000,
        0,
        second,
    );
    assert!(store
        .set_alert_status(
            5,
            AlertStatus::Expected,
            Some("vendor session"),
            Timestamp(T0)
        )
        .unwrap());
    std::fs::create_dir_all(state.join("evidence")).unwrap();
    std::fs::write(state.join("evidence/alert-1.pcap"), b"pcap one").unwrap();
    std::fs::write(state.join("evidence/alert-2.pcap"), b"pcap two").unwrap();
    store
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&Sha256::digest(bytes));
    out
}

#[test]
fn crossings_are_listed_per_boundary_and_quiet_boundaries_held() {
    let dir = tempfile::tempdir().unwrap();
    let store = plant_store(dir.path());
    let policy = ZonePolicy::parse(POLICY, "plant.toml").unwrap();
    let r = report(&store, Some(&policy), None, None).unwrap();

    assert_eq!(r.verdict, Verdict::Violated);
    assert_eq!(r.zones_from, "policy");
    assert_eq!(r.expected_alerts, 1);
    let names: Vec<(&str, Verdict)> = r
        .boundaries
        .iter()
        .map(|b| (b.name.as_str(), b.verdict))
        .collect();
    assert_eq!(
        names,
        vec![
            (OUTSIDE_BOUNDARY, Verdict::Violated),
            ("control ↔ office", Verdict::Violated),
            ("office ↔ supervisory", Verdict::Held),
        ]
    );
    let outside = &r.boundaries[0];
    assert_eq!(outside.statement, "crossed: 1 violation (3 occurrences)");
    assert_eq!(outside.violations.len(), 1);
    assert_eq!(outside.violations[0].category, Category::ExternalConnection);
    assert_eq!(outside.violations[0].hosts, vec![ip("203.0.113.50")]);
    assert_eq!(
        (
            outside.violations[0].flows,
            outside.violations[0].packets,
            outside.violations[0].bytes
        ),
        (1, 6, 600)
    );
    let it_ot = &r.boundaries[1].violations;
    assert_eq!(it_ot.len(), 1);
    let v = &it_ot[0];
    assert_eq!(v.alerts, vec![2, 3]);
    assert_eq!(v.count, 4);
    assert_eq!(v.source, Some(ip("10.10.4.10")));
    assert_eq!(v.hosts, vec![ip("10.10.1.11")]);
    assert_eq!(v.protocol.as_deref(), Some("modbus"));
    // Flows 2 of the first run and 1 of the second; not the one to the HMI.
    assert_eq!((v.flows, v.packets, v.bytes), (2, 28, 2_800));
    assert_eq!(v.first, Timestamp(T0 + 200 * SEC));
    assert_eq!(v.last, Timestamp(T0 + 7_330 * SEC));
    assert_eq!(
        v.evidence,
        vec!["evidence/alert-2.pcap", "evidence/alert-3.pcap"]
    );
    assert_eq!(
        r.boundaries[2].statement,
        "held: no crossing in 2.0 hours of observation, 2 devices, 15000 packets seen"
    );

    let c = &r.coverage;
    assert_eq!(c.runs, 2);
    assert_eq!(c.observed_secs, 7_200.0);
    assert_eq!(c.gaps.len(), 1);
    assert_eq!(c.gaps[0].from, Timestamp(T0 + 3_600 * SEC));
    assert_eq!(c.gaps[0].to, Timestamp(T0 + 7_200 * SEC));
    assert_eq!(c.gap_secs, 3_600.0);
    assert_eq!(c.packets, 15_000);
    assert_eq!(c.kernel_drops, 5);
    assert_eq!(c.counters["flows_evicted"], 2);
    assert_eq!(c.devices, 3);
    assert_eq!(
        c.statement,
        "Watched for 2.0 hours between 2025-11-28T03:20:00.000000Z and \
         2025-11-28T06:20:00.000000Z in 2 runs: 15000 packets, 3 devices. Not watched for \
         60 minutes in 1 gap: anything in those gaps was not seen. 5 packets were dropped \
         before analysis."
    );

    // The chain: alert 1, then 2, then 3 whose file is missing.
    let h1 = sha(b"pcap one");
    let h2 = sha(b"pcap two");
    let c1 = chain_step(&[0; 32], Some(&h1), 1);
    let c2 = chain_step(&c1, Some(&h2), 2);
    let c3 = chain_step(&c2, None, 3);
    let items: Vec<(u64, Option<String>, String)> = r
        .evidence
        .iter()
        .map(|e| (e.alert, e.sha256.clone(), e.chain.clone()))
        .collect();
    assert_eq!(
        items,
        vec![
            (1, Some(hex(&h1)), hex(&c1)),
            (2, Some(hex(&h2)), hex(&c2)),
            (3, None, hex(&c3)),
        ]
    );
    assert_eq!(r.chain_head, hex(&c3));
    // The step is sha256(prev || file hash || id big-endian), computed by hand.
    let mut by_hand = Vec::new();
    by_hand.extend_from_slice(&[0u8; 32]);
    by_hand.extend_from_slice(&h1);
    by_hand.extend_from_slice(&1u64.to_be_bytes());
    assert_eq!(c1, sha(&by_hand));

    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(json["verdict"], "violated");
    assert_eq!(json["boundaries"][2]["verdict"], "held");
    assert_eq!(
        json["boundaries"][1]["violations"][0]["category"],
        "it_ot_crossing"
    );
    assert_eq!(json["chain_head"], hex(&c3));
    assert_eq!(json["coverage"]["gaps"][0]["secs"], 3_600.0);

    let html = r.to_html();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("The air gap was crossed: 2 boundaries had traffic"));
    assert!(html.contains("control ↔ office"));
    assert!(html
        .contains("held: no crossing in 2.0 hours of observation, 2 devices, 15000 packets seen"));
    assert!(html.contains(&hex(&c3)));
    assert!(html.contains("evidence/alert-3.pcap"));
    assert!(html.contains("4 times, 2 flow(s), 28 packets, 2.8 kB"));
    for external in ["http://", "https://", "<script", "<link", "src=", "url("] {
        assert!(!html.contains(external), "{external}");
    }
}

#[test]
fn without_a_policy_zones_come_from_the_devices_and_a_window_narrows_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let store = plant_store(dir.path());
    let r = report(
        &store,
        None,
        Some(Timestamp(T0 + 7_000 * SEC)),
        Some(Timestamp(T0 + 11_000 * SEC)),
    )
    .unwrap();
    assert_eq!(r.zones_from, "observed");
    let names: Vec<(&str, Verdict)> = r
        .boundaries
        .iter()
        .map(|b| (b.name.as_str(), b.verdict))
        .collect();
    assert_eq!(
        names,
        vec![
            (OUTSIDE_BOUNDARY, Verdict::Held),
            ("control-10-10-1 ↔ it-10-10-4", Verdict::Violated),
            ("it-10-10-4 ↔ supervisory-10-10-2", Verdict::Held),
        ]
    );
    let v = &r.boundaries[1].violations[0];
    assert_eq!(v.alerts, vec![3]);
    assert_eq!((v.flows, v.packets, v.bytes), (1, 8, 800));
    assert_eq!(r.coverage.runs, 1);
    assert_eq!(r.coverage.observed_secs, 3_600.0);
    // 200 s before the run and 200 s after it, each over a minute.
    assert_eq!(r.coverage.gap_secs, 400.0);
    assert_eq!(r.coverage.packets, 5_000);
    assert_eq!(r.coverage.kernel_drops, 0);
    assert_eq!(r.evidence.len(), 1);
    assert_eq!(r.evidence[0].sha256, None);
    assert_eq!(r.chain_head, hex(&chain_step(&[0; 32], None, 3)));
}

#[test]
fn an_empty_state_gives_no_verdict_and_a_quiet_one_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("state")).unwrap();
    let r = report(&store, None, None, None).unwrap();
    assert_eq!(r.verdict, Verdict::NotObserved);
    assert_eq!(
        r.coverage.statement,
        "Nothing was captured in this period: no verdict can be given."
    );
    assert_eq!(r.chain_head, "0".repeat(64));
    assert!(r
        .to_html()
        .contains("No verdict: nothing was captured in this period."));

    let mut batch = Batch::new(store::RunId(0));
    batch.assets = vec![asset("10.10.1.11", Role::Plc)];
    run(&mut store, T0, T0 + 2 * 86_400 * SEC, 1_000_000, 0, batch);
    let r = report(&store, None, None, None).unwrap();
    assert_eq!(r.verdict, Verdict::Held);
    assert_eq!(r.boundaries.len(), 1);
    assert_eq!(
        r.boundaries[0].statement,
        "held: no crossing in 2.0 days of observation, 1 device, 1000000 packets seen"
    );
    assert!(r
        .to_html()
        .contains("The air gap held: nothing crossed a boundary while gapwatch was watching."));
}
