//! Alerts, their triage and the learning engine's state: stored, queried, and restored
//! after a restart.

mod common;

use learn::{Category, Cx, Engine, EngineConfig, Finding, FlowOpen, Model, Severity};
use records::{Timestamp, TransportKind};
use std::collections::BTreeSet;
use std::net::IpAddr;
use store::{AlertFilter, AlertStatus, Batch, ModelSnapshot, Store};

fn open_temp() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state")).unwrap();
    (dir, store)
}

fn ids(alerts: &[store::StoredAlert]) -> Vec<u64> {
    alerts.iter().map(|a| a.alert.id).collect()
}

#[test]
fn alerts_round_trip_exactly_and_filter_by_time_severity_category_and_address() {
    let (_dir, mut store) = open_temp();
    let alerts: Vec<_> = (1..=24).map(common::alert).collect();
    store.upsert_alerts(&alerts).unwrap();
    assert_eq!(store.count_alerts().unwrap(), 24);
    assert_eq!(store.max_alert_id().unwrap(), 24);

    let all = store.alerts(&AlertFilter::default()).unwrap();
    assert_eq!(ids(&all), (1..=24).collect::<Vec<_>>());
    for (stored, sent) in all.iter().zip(&alerts) {
        assert_eq!(&stored.alert, sent);
        // The JSON form (the external contract) is identical too.
        assert_eq!(
            serde_json::to_string(&stored.alert).unwrap(),
            serde_json::to_string(sent).unwrap()
        );
        assert_eq!(stored.status, AlertStatus::Open);
        assert_eq!(stored.comment, None);
        assert_eq!(stored.updated_at, None);
    }
    // Scores come back bit for bit.
    for stored in &all {
        let n = stored.alert.id as f64;
        assert_eq!(stored.alert.score.to_bits(), (0.1 + n / 97.0).to_bits());
    }
    assert_eq!(store.alert(99).unwrap(), None);

    // Severity is (n / 4) % 4: high and critical are n in 8..=15 and 24.
    let severe = store
        .alerts(&AlertFilter {
            min_severity: Some(Severity::High),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids(&severe), vec![8, 9, 10, 11, 12, 13, 14, 15, 24]);
    let plc = store
        .alerts(&AlertFilter {
            category: Some(Category::PlcControl),
            newest_first: true,
            limit: Some(3),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids(&plc), vec![21, 17, 13]);
    let window = store
        .alerts(&AlertFilter {
            from: Some(alerts[4].ts),
            to: Some(alerts[7].ts),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids(&window), vec![5, 6, 7]);
    // 10.20.1.10 is the destination of every n with n % 3 != 2.
    let by_dst = store
        .alerts(&AlertFilter {
            ip: Some("10.20.1.10".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        ids(&by_dst),
        (1..=24).filter(|n| n % 3 != 2).collect::<Vec<_>>()
    );
    let by_src = store
        .alerts(&AlertFilter {
            ip: Some("10.20.0.3".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids(&by_src), vec![3]);
}

#[test]
fn triage_survives_the_engine_rewriting_the_alert() {
    let (_dir, mut store) = open_temp();
    store
        .upsert_alerts(&[common::alert(5), common::alert(6)])
        .unwrap();
    let at = Timestamp(1_764_400_000_000_000);
    assert!(store
        .set_alert_status(5, AlertStatus::Expected, Some("nightly backup"), at)
        .unwrap());
    assert!(!store
        .set_alert_status(77, AlertStatus::Resolved, None, at)
        .unwrap());

    // The alert grows while open: more findings, later evidence, a capture file.
    let mut grown = common::alert(5);
    grown.count = 40;
    grown.ts_last = Timestamp(grown.ts_last.0 + 60_000_000);
    grown.severity = Severity::Critical;
    grown.evidence.pcap = Some("evidence/alert-5.pcap".into());
    store.upsert_alerts(&[grown.clone()]).unwrap();

    let stored = store.alert(5).unwrap().unwrap();
    assert_eq!(stored.alert, grown);
    assert_eq!(stored.status, AlertStatus::Expected);
    assert_eq!(stored.comment.as_deref(), Some("nightly backup"));
    assert_eq!(stored.updated_at, Some(at));
    let expected = store
        .alerts(&AlertFilter {
            status: Some(AlertStatus::Expected),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids(&expected), vec![5]);
    let critical = store
        .alerts(&AlertFilter {
            min_severity: Some(Severity::Critical),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids(&critical), vec![5]);

    // A later verdict replaces the comment.
    let later = Timestamp(at.0 + 1);
    store
        .set_alert_status(5, AlertStatus::Resolved, None, later)
        .unwrap();
    let stored = store.alert(5).unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.comment, stored.updated_at),
        (AlertStatus::Resolved, None, Some(later))
    );
    assert_eq!(store.alert(6).unwrap().unwrap().status, AlertStatus::Open);
}

#[test]
fn a_non_finite_score_is_stored_as_zero_instead_of_failing_the_batch() {
    let (_dir, mut store) = open_temp();
    let mut alert = common::alert(3);
    alert.score = f64::NAN;
    store.upsert_alerts(&[alert.clone()]).unwrap();
    alert.score = 0.0;
    assert_eq!(store.alert(3).unwrap().unwrap().alert, alert);
}

#[test]
fn model_state_is_replaced_by_name() {
    let (_dir, mut store) = open_temp();
    assert_eq!(store.load_model_state().unwrap(), vec![]);
    assert_eq!(store.model_state_saved_at().unwrap(), None);
    let state = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, j)| (n.to_string(), j.to_string()))
            .collect()
    };
    store
        .save_model_state(
            &state(&[("engine", r#"{"next":1}"#), ("connections", "[]")]),
            Timestamp(10),
        )
        .unwrap();
    store
        .save_model_state(&state(&[("connections", r#"["a"]"#)]), Timestamp(20))
        .unwrap();
    assert_eq!(
        store.load_model_state().unwrap(),
        state(&[("connections", r#"["a"]"#), ("engine", r#"{"next":1}"#)])
    );
    assert_eq!(store.model_state_saved_at().unwrap(), Some(Timestamp(20)));
}

/// A small model for the restart test: learns (client, server, port) triples and reports
/// a new one once learning is over.
#[derive(Default)]
struct Pairs {
    known: BTreeSet<(IpAddr, IpAddr, u16)>,
}

impl Model for Pairs {
    fn name(&self) -> &'static str {
        "pairs"
    }

    fn on_flow_open(&mut self, cx: &mut Cx<'_>, flow: &FlowOpen) {
        let key = (flow.client_ip, flow.server_ip, flow.server_port);
        if self.known.insert(key) {
            cx.report(
                Finding::new(
                    flow.ts,
                    Category::NewConnection,
                    "pairs",
                    0.8,
                    format!("new connection to {}:{}", flow.server_ip, flow.server_port),
                    format!("{} pairs known", self.known.len() - 1),
                )
                .between(
                    Some(flow.client_ip),
                    Some(flow.server_ip),
                    Some(flow.server_port),
                )
                .flow(flow.id),
            );
        }
    }

    fn save(&self) -> serde_json::Value {
        serde_json::to_value(&self.known).unwrap_or_default()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        self.known = serde_json::from_value(state).map_err(|e| e.to_string())?;
        Ok(())
    }

    fn baseline(&self, _: Option<IpAddr>, _: &learn::AssetDirectory, out: &mut Vec<String>) {
        out.push(format!("{} pairs", self.known.len()));
    }

    fn forget(&mut self, _: Option<IpAddr>) {
        self.known.clear();
    }
}

fn engine() -> Engine {
    Engine::with_models(
        EngineConfig {
            learn_micros: 60_000_000,
            fuse_window_micros: 600_000_000,
        },
        vec![Box::new(Pairs::default())],
    )
}

/// The flow open of the store's test flow `n`, at `ts`.
fn open(n: u64, ts: i64) -> FlowOpen {
    let f = common::flow(n);
    FlowOpen {
        id: n,
        ts: Timestamp(ts),
        transport: TransportKind::Tcp,
        client_ip: f.src_ip,
        client_port: f.src_port,
        client_mac: f.src_mac,
        server_ip: f.dst_ip,
        server_port: f.dst_port,
        server_mac: f.dst_mac,
        to_group: false,
    }
}

#[test]
fn a_restart_restores_the_learnt_state_and_continues_the_alert_sequence() {
    const T0: i64 = 1_764_305_701_000_000;
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");

    // Learning: 40 flows in the first minute (src .0-.39, dst .1-.7, six ports).
    let mut first = engine();
    for n in 0..40 {
        first.on_flow_open(&open(n, T0 + n as i64 * 1_000_000));
    }
    assert!(
        first.open_alerts().next().is_none(),
        "learning raises nothing"
    );
    // After learning: flow 41 is a new triple, flow 1 a known one.
    first.on_flow_open(&open(41, T0 + 70_000_000));
    first.on_flow_open(&open(1, T0 + 71_000_000));
    assert_eq!(first.take_opened(), vec![1]);
    let open_alerts: Vec<_> = first.open_alerts().cloned().collect();
    assert_eq!(open_alerts.len(), 1);
    assert_eq!(open_alerts[0].dst_ip, Some(common::flow(41).dst_ip));

    {
        let mut store = Store::open(&state_dir).unwrap();
        let run = store.begin_run("first", Timestamp(T0)).unwrap();
        let mut batch = Batch::new(run);
        batch.alerts = open_alerts.clone();
        batch.model_state = Some(ModelSnapshot {
            at: Timestamp(T0 + 71_000_000),
            states: first.save(),
        });
        store.write_batch(&batch).unwrap();
    }

    let store = Store::open(&state_dir).unwrap();
    let saved = store.load_model_state().unwrap();
    assert_eq!(
        saved.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        vec!["engine", "pairs"]
    );
    let mut second = engine();
    second.restore(&saved).unwrap();
    assert_eq!(second.learn_start(), Some(Timestamp(T0)));
    let mut expected_state = first.save();
    expected_state.sort();
    let mut restored_state = second.save();
    restored_state.sort();
    assert_eq!(restored_state, expected_state);
    assert_eq!(
        store.alerts(&AlertFilter::default()).unwrap()[0].alert,
        open_alerts[0]
    );

    // Both engines now see the same input and raise the same alert, numbered 2.
    for e in [&mut first, &mut second] {
        e.on_flow_open(&open(2, T0 + 80_000_000));
        e.on_flow_open(&open(43, T0 + 81_000_000));
    }
    let opened = second.take_opened();
    assert_eq!(opened, first.take_opened());
    assert_eq!(opened, vec![2]);
    assert_eq!(second.open_alert(2), first.open_alert(2));
    assert_eq!(
        second.open_alert(2).map(|a| a.src_ip),
        Some(Some(common::flow(43).src_ip))
    );
}
