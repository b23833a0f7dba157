//! Write throughput of `write_batch`, printed for the record (no timed assertions: the
//! figure depends on the machine and the build profile). Run with
//! `cargo test -p store --release --test throughput -- --nocapture`.

mod common;

use records::Timestamp;
use std::time::Instant;
use store::{Batch, Store, StoreOptions, Synchronous};

/// Writes `batches` batches of `per_batch` flows and returns rows per second.
fn measure(sync: Synchronous, batches: u64, per_batch: u64) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        synchronous: sync,
        ..Default::default()
    };
    let mut store = Store::open_with(dir.path(), &options).unwrap();
    let run = store.begin_run("throughput", Timestamp(0)).unwrap();
    let prepared: Vec<Batch> = (0..batches)
        .map(|b| {
            let mut batch = Batch::new(run);
            batch.flows = (0..per_batch)
                .map(|i| common::flow(b * per_batch + i))
                .collect();
            batch
        })
        .collect();
    let started = Instant::now();
    for batch in &prepared {
        store.write_batch(batch).unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    // The measurement counts only if every row landed.
    assert_eq!(store.count_flows().unwrap(), batches * per_batch);
    (batches * per_batch) as f64 / secs
}

#[test]
fn write_batch_throughput_report() {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let normal = measure(Synchronous::Normal, 30, 1_000);
    let full = measure(Synchronous::Full, 30, 1_000);
    let single = measure(Synchronous::Normal, 500, 1);
    let single_full = measure(Synchronous::Full, 500, 1);
    eprintln!("write_batch ({profile} build), 1,000 flows per transaction:");
    eprintln!("  synchronous=NORMAL: {normal:>10.0} rows/s");
    eprintln!("  synchronous=FULL:   {full:>10.0} rows/s");
    eprintln!("  for contrast, 1 flow per transaction:");
    eprintln!("  synchronous=NORMAL: {single:>10.0} rows/s");
    eprintln!("  synchronous=FULL:   {single_full:>10.0} rows/s");
}
