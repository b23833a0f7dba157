//! Records written to the store come back equal, field for field.

mod common;

use records::Timestamp;
use std::net::IpAddr;
use store::{Batch, FlowFilter, RunProgress, Store, StoreError};

fn open_temp() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state")).unwrap();
    (dir, store)
}

#[test]
fn assets_round_trip_exactly() {
    let (_dir, mut store) = open_temp();
    let run = store.begin_run("test", Timestamp(1)).unwrap();
    let mut batch = Batch::new(run);
    batch.assets = (0..40).map(common::asset).collect();
    store.write_batch(&batch).unwrap();

    let mut expected = batch.assets.clone();
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    let loaded = store.load_assets().unwrap();
    assert_eq!(loaded.len(), 40);
    assert_eq!(loaded, expected);
    // The JSON form (the external contract) is identical too.
    for (a, b) in loaded.iter().zip(&expected) {
        assert_eq!(
            serde_json::to_string(a).unwrap(),
            serde_json::to_string(b).unwrap()
        );
    }
    assert_eq!(
        store.asset(&expected[3].id).unwrap().as_ref(),
        Some(&expected[3])
    );
    assert_eq!(store.asset("mac:00:00:00:00:00:00").unwrap(), None);
}

#[test]
fn asset_upsert_replaces_the_whole_record() {
    let (_dir, mut store) = open_temp();
    let run = store.begin_run("test", Timestamp(1)).unwrap();
    let first = common::asset(4);
    let mut batch = Batch::new(run);
    batch.assets.push(first.clone());
    store.write_batch(&batch).unwrap();

    // The inventory sends the full current record: fields may shrink as well as grow.
    let mut second = common::asset(4);
    second.ips.clear();
    second.hostnames.insert("renamed.plant.local".into());
    second.identity.product = None;
    second.zone = Some("cell-b".into());
    second.purdue_level = None;
    second.last_seen = Timestamp(first.last_seen.0 + 5_000_000);
    assert_ne!(first, second);
    batch.assets = vec![second.clone()];
    store.write_batch(&batch).unwrap();

    assert_eq!(store.count_assets().unwrap(), 1);
    assert_eq!(store.load_assets().unwrap(), vec![second]);
}

#[test]
fn flows_round_trip_exactly() {
    let (_dir, mut store) = open_temp();
    let run = store
        .begin_run("capture.pcap", Timestamp(1_764_305_701_000_000))
        .unwrap();
    let mut batch = Batch::new(run);
    batch.flows = (1..=500).map(common::flow).collect();
    store.write_batch(&batch).unwrap();

    assert_eq!(store.count_flows().unwrap(), 500);
    let stored = store.flows(&FlowFilter::default()).unwrap();
    let records: Vec<_> = stored.iter().map(|s| s.record.clone()).collect();
    // Generated flows start in increasing order, so query order equals write order.
    assert_eq!(records, batch.flows);
    assert!(stored.iter().all(|s| s.run == run));
    // The saturating extreme survives unchanged.
    assert_eq!(stored[6].record.bytes_to_client, i64::MAX as u64);
    // App names come back as the same interned strings, usable as &'static str.
    assert_eq!(stored[0].record.app, Some("dnp3"));
}

#[test]
fn flow_filter_selects_by_run_time_and_address() {
    let (_dir, mut store) = open_temp();
    let run_a = store.begin_run("a", Timestamp(1)).unwrap();
    let run_b = store.begin_run("b", Timestamp(2)).unwrap();
    let all: Vec<_> = (1..=200).map(common::flow).collect();
    let mut batch = Batch::new(run_a);
    batch.flows = all[..120].to_vec();
    store.write_batch(&batch).unwrap();
    let mut batch = Batch::new(run_b);
    batch.flows = all[120..].to_vec();
    store.write_batch(&batch).unwrap();

    let by_run = store
        .flows(&FlowFilter {
            run: Some(run_b),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_run.len(), 80);
    assert_eq!(by_run[0].record, all[120]);

    let from = all[50].ts_start;
    let to = all[60].ts_start;
    let window = store
        .flows(&FlowFilter {
            from: Some(from),
            to: Some(to),
            ..Default::default()
        })
        .unwrap();
    let ids: Vec<u64> = window.iter().map(|s| s.record.id).collect();
    assert_eq!(ids, (51..=60).collect::<Vec<_>>());

    let ip: IpAddr = "10.20.0.3".parse().unwrap();
    let expected: Vec<_> = all
        .iter()
        .filter(|f| f.src_ip == ip || f.dst_ip == ip)
        .cloned()
        .collect();
    assert!(!expected.is_empty());
    let by_ip = store
        .flows(&FlowFilter {
            ip: Some(ip),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        by_ip.iter().map(|s| s.record.clone()).collect::<Vec<_>>(),
        expected
    );

    let limited = store
        .flows(&FlowFilter {
            limit: Some(7),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(limited.len(), 7);
    assert_eq!(limited[6].record, all[6]);
}

#[test]
fn runs_record_progress_and_whether_they_finished() {
    let (dir, mut store) = open_temp();
    let done = store.begin_run("first.pcap", Timestamp(10)).unwrap();
    let mut batch = Batch::new(done);
    batch.progress = Some(RunProgress {
        packets: 100,
        bytes: 64_000,
        last_packet_at: Some(Timestamp(99)),
        counters: [("flows_evicted".to_string(), 3)].into_iter().collect(),
    });
    store.write_batch(&batch).unwrap();
    let final_progress = RunProgress {
        packets: 250,
        bytes: 160_000,
        last_packet_at: Some(Timestamp(400)),
        counters: [
            ("flows_evicted".to_string(), 4),
            ("parse_errors".to_string(), 1),
        ]
        .into_iter()
        .collect(),
    };
    store
        .finish_run(done, Timestamp(401), &final_progress)
        .unwrap();

    let interrupted = store.begin_run("eth1", Timestamp(500)).unwrap();
    batch.run = interrupted;
    store.write_batch(&batch).unwrap();
    drop(store);

    // A restart sees which run did not finish and how far it got.
    let store = Store::open(&dir.path().join("state")).unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].id, done);
    assert_eq!(runs[0].source, "first.pcap");
    assert_eq!(runs[0].started_at, Timestamp(10));
    assert!(runs[0].finished);
    assert_eq!(runs[0].finished_at, Some(Timestamp(401)));
    assert_eq!(runs[0].progress, final_progress);
    assert_eq!(runs[1].id, interrupted);
    assert!(!runs[1].finished);
    assert_eq!(runs[1].finished_at, None);
    assert_eq!(runs[1].progress.packets, 100);
    assert_eq!(runs[1].progress.counters["flows_evicted"], 3);
}

#[test]
fn a_failed_batch_stores_nothing() {
    let (_dir, mut store) = open_temp();
    let run = store.begin_run("x", Timestamp(1)).unwrap();
    let mut batch = Batch::new(store::RunId(run.0 + 41));
    batch.flows = (1..=10).map(common::flow).collect();
    batch.assets = (0..3).map(common::asset).collect();
    let err = store.write_batch(&batch).unwrap_err();
    assert!(
        matches!(err, StoreError::NoSuchRun { run: r, .. } if r == run.0 + 41),
        "{err}"
    );
    assert!(err.to_string().contains("gapwatch.db"), "{err}");
    assert_eq!(store.count_flows().unwrap(), 0);
    assert_eq!(store.count_assets().unwrap(), 0);
    let err = store
        .finish_run(batch.run, Timestamp(2), &RunProgress::default())
        .unwrap_err();
    assert!(matches!(err, StoreError::NoSuchRun { .. }), "{err}");
}

#[cfg(unix)]
#[test]
fn state_folder_is_private_and_database_uses_wal() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, store) = open_temp();
    let mode = std::fs::metadata(dir.path().join("state"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    assert_eq!(store.path(), dir.path().join("state").join("gapwatch.db"));
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_second_store_on_the_same_folder_reads_committed_batches() {
    // The console opens the folder while the sensor writes: WAL lets it read the last
    // committed state without blocking the writer.
    let (dir, mut writer) = open_temp();
    let reader = Store::open(&dir.path().join("state")).unwrap();
    let run = writer.begin_run("live", Timestamp(1)).unwrap();
    for round in 1..=3u64 {
        let mut batch = Batch::new(run);
        batch.flows = (round * 100..round * 100 + 50).map(common::flow).collect();
        batch.assets = vec![common::asset(round)];
        writer.write_batch(&batch).unwrap();
        assert_eq!(reader.count_flows().unwrap(), round * 50);
        assert_eq!(reader.count_assets().unwrap(), round);
        assert_eq!(
            reader.asset(&common::asset(round).id).unwrap(),
            Some(common::asset(round))
        );
    }
}
