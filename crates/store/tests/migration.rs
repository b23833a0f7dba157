//! Opening databases of every kind the store can meet: new, current, newer, foreign,
//! damaged.

mod common;

use records::Timestamp;
use std::path::Path;
use store::{Batch, Store, StoreError, SCHEMA_VERSION};

/// Everything in the schema, to show that an open changed nothing.
fn schema_dump(db: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT name, coalesce(sql, '') FROM sqlite_schema ORDER BY name")
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

/// Deterministic pseudo-random bytes (xorshift64).
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

#[test]
fn new_database_is_created_at_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(SCHEMA_VERSION, 4);
    assert_eq!(store.migrated_from(), 0);
    assert_eq!(store.schema_version().unwrap(), 4);
    let meta = store.meta().unwrap();
    assert_eq!(meta["schema_version"], "4");
    assert_eq!(meta["gapwatch_version"], env!("CARGO_PKG_VERSION"));
    assert!(meta["created"].ends_with('Z'), "{}", meta["created"]);
    assert!(meta.contains_key("migration.1"));
    assert_eq!(meta["migration.2"], "model state, alerts");
    assert_eq!(meta["migration.3"], "protocol event log");
    assert_eq!(
        meta["migration.4"],
        "flow pair and hourly roll-ups, alert address indexes"
    );
    assert_eq!(store.integrity_check().unwrap(), Ok(()));
}

#[test]
fn opening_a_current_database_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let run = store.begin_run("x", Timestamp(5)).unwrap();
    let mut batch = Batch::new(run);
    batch.flows = (1..=20).map(common::flow).collect();
    batch.assets = (0..5).map(common::asset).collect();
    store.write_batch(&batch).unwrap();
    let meta_before = store.meta().unwrap();
    let db = store.path().to_path_buf();
    drop(store);
    let schema_before = schema_dump(&db);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.migrated_from(), 4, "no migration ran");
    assert_eq!(store.schema_version().unwrap(), 4);
    assert_eq!(store.meta().unwrap(), meta_before);
    assert_eq!(store.count_flows().unwrap(), 20);
    assert_eq!(store.load_assets().unwrap().len(), 5);
    drop(store);
    assert_eq!(schema_dump(&db), schema_before);
}

#[test]
fn database_from_a_newer_version_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = Store::open(dir.path()).unwrap().path().to_path_buf();
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", 7).unwrap();
    }
    let before = std::fs::read(&db).unwrap();

    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NewerSchema {
                found: 7,
                supported: 4,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&db.display().to_string()), "{msg}");
    assert!(msg.contains("schema version 7"), "{msg}");
    assert!(msg.contains("supports"), "{msg}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn random_bytes_are_refused_as_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gapwatch.db");
    for (len, seed) in [(8192, 1), (100, 2), (65_536, 3)] {
        std::fs::write(&db, noise(len, seed)).unwrap();
        let err = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(err, StoreError::NotADatabase { .. }),
            "{len} bytes: {err:?}"
        );
        assert!(err.is_damaged_file());
        let msg = err.to_string();
        assert!(msg.contains(&db.display().to_string()), "{msg}");
        assert!(msg.contains("not a gapwatch database"), "{msg}");
    }
}

/// Writes a few thousand rows, overwrites whole pages with noise, and checks that the
/// first step meeting the damage (open, a query, or the integrity check) reports it as a
/// typed error naming the file.
fn assert_damage_reported(pages: &[usize], wreck_schema_page: bool) -> StoreError {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let run = store.begin_run("x", Timestamp(5)).unwrap();
    let mut batch = Batch::new(run);
    batch.flows = (1..=2_000).map(common::flow).collect();
    batch.assets = (0..200).map(common::asset).collect();
    store.write_batch(&batch).unwrap();
    let db = store.path().to_path_buf();
    drop(store); // the last connection checkpoints the WAL into the main file

    let mut bytes = std::fs::read(&db).unwrap();
    assert!(
        bytes.len() > 16 * 4096,
        "database too small to damage: {}",
        bytes.len()
    );
    let junk = noise(bytes.len(), 9);
    if wreck_schema_page {
        // Keep the 100-byte header so SQLite still recognises the file.
        bytes[100..4096].copy_from_slice(&junk[100..4096]);
    }
    for &page in pages {
        let at = page * 4096;
        bytes[at..at + 4096].copy_from_slice(&junk[at..at + 4096]);
    }
    std::fs::write(&db, &bytes).unwrap();

    let outcome = Store::open(dir.path()).and_then(|s| {
        s.load_assets()?;
        s.flows(&Default::default())?;
        match s.integrity_check()? {
            Ok(()) => Ok(()),
            Err(problems) => {
                eprintln!("integrity_check: {problems:?}");
                Err(StoreError::Corrupt {
                    path: s.path().to_path_buf(),
                    op: "integrity check",
                    source: rusqlite::Error::InvalidQuery,
                })
            }
        }
    });
    let err = outcome.expect_err("damage went unnoticed");
    eprintln!("damaged file reported as: {err}");
    assert!(err.is_damaged_file(), "{err:?}");
    assert!(err.to_string().contains(&db.display().to_string()), "{err}");
    err
}

#[test]
fn damaged_schema_page_is_reported_not_panicked_on() {
    assert_damage_reported(&[3, 7, 11], true);
}

#[test]
fn damaged_data_pages_are_reported_not_panicked_on() {
    assert_damage_reported(&[5, 9, 14], false);
}

#[test]
fn another_programs_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gapwatch.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('a');")
            .unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::ForeignDatabase { tables: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&db.display().to_string()), "{err}");
}

#[test]
fn an_empty_file_becomes_a_new_database() {
    // SQLite treats a zero-length file as an empty database: a state folder whose db
    // file was created but never written is initialised, not refused.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gapwatch.db"), b"").unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.migrated_from(), 0);
    assert_eq!(store.schema_version().unwrap(), 4);
}

#[test]
fn a_version_1_database_is_upgraded_keeping_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(store::DB_FILE);
    {
        // A database as the first release left it: schema 1 and one flow.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(include_str!("../src/migrations/0001_initial.sql"))
            .unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 1; PRAGMA application_id = 1735423863;
             INSERT INTO meta (key, value) VALUES ('schema_version', '1');
             INSERT INTO runs (started_at, source) VALUES (5, 'old');
             INSERT INTO flows (run_id, flow_id, ts_start, ts_end, transport, src_ip,
                src_port, dst_ip, dst_port, packets_to_server, packets_to_client,
                bytes_to_server, bytes_to_client, state, gap_bytes)
             VALUES (1, 9, 100, 200, 'tcp', '10.0.0.1', 40000, '10.0.0.2', 502, 3, 2,
                180, 120, 'closed', 0);",
        )
        .unwrap();
    }
    let mut store = Store::open(dir.path()).unwrap();
    assert_eq!(store.migrated_from(), 1);
    assert_eq!(store.schema_version().unwrap(), 4);
    assert_eq!(store.meta().unwrap()["schema_version"], "4");
    assert_eq!(store.count_flows().unwrap(), 1);
    assert_eq!(store.runs().unwrap()[0].source, "old");
    // The roll-ups are filled from the flows already stored.
    let pairs = store.flow_pairs(10).unwrap();
    assert_eq!(pairs.len(), 1);
    assert_eq!(
        (pairs[0].flows, pairs[0].packets, pairs[0].bytes),
        (1, 5, 300)
    );
    let ip = "10.0.0.2".parse().unwrap();
    let hours = store.ip_activity(ip, records::Timestamp(0), 10).unwrap();
    assert_eq!((hours[0].flows, hours[0].bytes), (1, 300));
    store.upsert_alerts(&[common::alert(1)]).unwrap();
    assert_eq!(store.count_alerts().unwrap(), 1);
    assert_eq!(store.integrity_check().unwrap(), Ok(()));
}
