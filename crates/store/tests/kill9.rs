//! Nothing committed is lost when the writer is killed with SIGKILL.
//!
//! The test re-runs its own binary as a writer child (selected by an environment
//! variable) that commits batches in a loop and prints each batch number only after
//! `write_batch` returned. The parent kills it at varying moments, reopens the store
//! and checks that every reported batch is there whole and that no batch is there in
//! part.

mod common;

use records::Timestamp;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use store::{Batch, FlowFilter, RunId, RunProgress, Store};

/// Set to the state folder in the child; absent in normal test runs.
const WRITER_ENV: &str = "GAPWATCH_STORE_KILL9_WRITER_DIR";
/// The test that becomes the writer in the child.
const WRITER_TEST: &str = "kill9_writer_child_mode";
/// Flow ids of batch `b` are `b * FLOW_ID_STRIDE + i`.
const FLOW_ID_STRIDE: u64 = 10_000;
/// The asset every batch rewrites, so batches touch two tables.
const MARKER_ASSET: u64 = 6;
/// Alert ids of run `r` are `r * ALERT_ID_STRIDE + b`; `r * ALERT_ID_STRIDE` is the alert
/// every batch of the run rewrites.
const ALERT_ID_STRIDE: u64 = 10_000;
/// Model state name every batch rewrites with `[run, batch]`.
const MODEL: &str = "kill9";

/// Rows in batch `b`: varied, so commits take varied time and kills land in different
/// phases (inserting, committing, printing).
fn rows_in_batch(b: u64) -> u64 {
    100 + (b * 379) % 900
}

fn batch_for(run: RunId, b: u64) -> Batch {
    let mut batch = Batch::new(run);
    batch.flows = (0..rows_in_batch(b))
        .map(|i| common::flow(b * FLOW_ID_STRIDE + i))
        .collect();
    let mut marker = common::asset(MARKER_ASSET);
    marker.last_seen = Timestamp(b as i64);
    batch.assets.push(marker);
    // One new alert per batch, and the run's marker alert grown to count `b`.
    let base = run.0 as u64 * ALERT_ID_STRIDE;
    let mut alert = common::alert(b);
    alert.id = base + b;
    let mut marker = common::alert(1);
    marker.id = base;
    marker.count = b;
    batch.alerts = vec![alert, marker];
    batch.model_state = Some(store::ModelSnapshot {
        at: Timestamp(b as i64),
        states: vec![(MODEL.to_string(), format!("[{},{b}]", run.0))],
    });
    batch.progress = Some(RunProgress {
        packets: b,
        bytes: b * 1_000,
        last_packet_at: Some(Timestamp(b as i64)),
        counters: [("batches".to_string(), b)].into_iter().collect(),
    });
    batch
}

/// In the child: write batches until killed (or, as a safety net if the parent died,
/// for at most a minute).
#[test]
fn kill9_writer_child_mode() {
    let Some(dir) = std::env::var_os(WRITER_ENV) else {
        return; // Normal test run: this test only has a job inside the child process.
    };
    let mut store = Store::open(Path::new(&dir)).expect("child opens the store");
    let run = store
        .begin_run("kill9 writer", Timestamp(0))
        .expect("child begins a run");
    let mut out = std::io::stdout().lock();
    writeln!(out, "RUN {}", run.0).expect("stdout");
    out.flush().expect("stdout");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut b = 1;
    while Instant::now() < deadline {
        store
            .write_batch(&batch_for(run, b))
            .expect("child writes a batch");
        // Reported only after the commit returned: this is the promise under test.
        writeln!(out, "COMMITTED {b}").expect("stdout");
        out.flush().expect("stdout");
        b += 1;
    }
}

/// Kills the writer if the parent fails before its planned kill, so no child outlives
/// the test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct ChildReport {
    run: RunId,
    committed: Vec<u64>,
}

/// Runs one writer child, lets it report `wait_for` commits, waits `delay`, kills it,
/// and returns what it reported.
fn run_and_kill(dir: &Path, wait_for: usize, delay: Duration) -> ChildReport {
    let stderr_path = dir.with_extension("child-stderr");
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args([WRITER_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(WRITER_ENV, dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut reader = BufReader::new(child.0.stdout.take().unwrap());
    let mut run = None;
    let mut committed = Vec::new();
    let mut line = String::new();
    let mut killed = false;
    loop {
        line.clear();
        let n = reader.read_line(&mut line).unwrap();
        if n == 0 {
            break;
        }
        // A line cut short by the kill carries no promise.
        if !line.ends_with('\n') {
            break;
        }
        // libtest prints "test <name> ... " without a newline before the test's output.
        if let Some((_, id)) = line.split_once("RUN ") {
            run = Some(RunId(id.trim().parse().unwrap()));
        } else if let Some(b) = line.strip_prefix("COMMITTED ") {
            committed.push(b.trim().parse::<u64>().unwrap());
        }
        if !killed && committed.len() >= wait_for {
            std::thread::sleep(delay);
            // SIGKILL on Unix: no destructors, no SQLite close, no checkpoint.
            child.0.kill().unwrap();
            killed = true;
            // Keep reading: lines written before the kill are still in the pipe.
        }
    }
    let status = child.0.wait().unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(
        killed,
        "child ended on its own ({status}) before {wait_for} commits: {stderr}"
    );
    let Some(run) = run else {
        panic!("child reported no run: {stderr}");
    };
    ChildReport { run, committed }
}

/// Checks the store after a kill: reported batches whole, no partial batch, all tables
/// at the same batch.
fn verify(store: &Store, report: &ChildReport) {
    let flows = store
        .flows(&FlowFilter {
            run: Some(report.run),
            ..Default::default()
        })
        .unwrap();
    let mut per_batch: BTreeMap<u64, Vec<records::FlowRecord>> = BTreeMap::new();
    for f in flows {
        per_batch
            .entry(f.record.id / FLOW_ID_STRIDE)
            .or_default()
            .push(f.record);
    }
    // No partial batch: every batch present has exactly its rows, equal to what was sent.
    for (&b, got) in &per_batch {
        let expected = batch_for(report.run, b).flows;
        assert_eq!(got.len(), expected.len(), "batch {b} is partial");
        assert_eq!(got, &expected, "batch {b} differs");
    }
    // Every reported batch is present.
    for b in &report.committed {
        assert!(
            per_batch.contains_key(b),
            "batch {b} was reported committed but is missing"
        );
    }
    // Batches are committed in order: present ones are 1..=max, and at most one more than
    // reported (a commit that returned just before the kill, not yet printed).
    let present: Vec<u64> = per_batch.keys().copied().collect();
    let max_present = present.last().copied().unwrap_or(0);
    assert_eq!(present, (1..=max_present).collect::<Vec<_>>());
    let max_reported = report.committed.last().copied().unwrap_or(0);
    assert!(
        max_present == max_reported || max_present == max_reported + 1,
        "present up to {max_present}, reported up to {max_reported}"
    );
    // The asset upsert and the run progress belong to the same transactions.
    let marker = store
        .asset(&common::asset(MARKER_ASSET).id)
        .unwrap()
        .unwrap();
    assert_eq!(marker.last_seen, Timestamp(max_present as i64));
    // So do the alerts and the model state.
    let base = report.run.0 as u64 * ALERT_ID_STRIDE;
    let alerts = store
        .alerts(&store::AlertFilter::default())
        .unwrap()
        .into_iter()
        .filter(|a| a.alert.id / ALERT_ID_STRIDE == report.run.0 as u64)
        .map(|a| a.alert)
        .collect::<Vec<_>>();
    assert_eq!(alerts.len() as u64, max_present + 1);
    let marker_alert = alerts.iter().find(|a| a.id == base).unwrap();
    assert_eq!(marker_alert.count, max_present);
    for b in 1..=max_present {
        let mut expected = common::alert(b);
        expected.id = base + b;
        assert!(alerts.contains(&expected), "alert of batch {b} differs");
    }
    let model = store.load_model_state().unwrap();
    assert_eq!(
        model,
        vec![(
            MODEL.to_string(),
            format!("[{},{max_present}]", report.run.0)
        )]
    );
    assert_eq!(
        store.model_state_saved_at().unwrap(),
        Some(Timestamp(max_present as i64))
    );
    let run = store
        .runs()
        .unwrap()
        .into_iter()
        .find(|r| r.id == report.run)
        .unwrap();
    assert!(!run.finished, "a killed run must show as unfinished");
    assert_eq!(run.progress.packets, max_present);
    assert_eq!(
        run.progress.counters.get("batches").copied().unwrap_or(0),
        max_present
    );
}

#[test]
fn kill9_loses_no_committed_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    // The same folder is reused: each round also recovers from the previous kill.
    let mut total_reported = 0;
    for round in 0..10u64 {
        let wait_for = 1 + (round as usize * 3) % 7;
        // 0 to ~14 ms after the n-th report: lands in varied phases of later batches.
        let delay = Duration::from_micros(round * 1_550);
        let report = run_and_kill(&dir, wait_for, delay);
        assert!(report.committed.len() >= wait_for);
        total_reported += report.committed.len();

        let mut store = Store::open(&dir).unwrap();
        assert_eq!(store.integrity_check().unwrap(), Ok(()), "round {round}");
        verify(&store, &report);

        // The reopened store accepts further writes.
        let before = store.count_flows().unwrap();
        let run = store.begin_run("after kill", Timestamp(1)).unwrap();
        let mut batch = Batch::new(run);
        batch.flows = (0..10)
            .map(|i| common::flow(900_000_000 + round * 100 + i))
            .collect();
        store.write_batch(&batch).unwrap();
        store
            .finish_run(run, Timestamp(2), &RunProgress::default())
            .unwrap();
        assert_eq!(store.count_flows().unwrap(), before + 10);
        eprintln!(
            "round {round}: killed {delay:?} after report {wait_for}; {} reported, {} flows stored",
            report.committed.len(),
            before
        );
    }
    assert!(total_reported >= 10);
}
