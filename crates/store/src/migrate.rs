//! Versioned schema migrations.
//!
//! The schema version lives in `PRAGMA user_version` (in the database header, so it
//! changes atomically with the transaction that sets it). Each migration is SQL embedded
//! in the binary and runs in its own transaction together with the version bump: a crash
//! mid-migration leaves the previous version intact, and the next open retries.
//!
//! To add a schema change: append a `Migration` with the next version number and a new
//! `migrations/NNNN_name.sql`. Never edit a migration that has shipped.

use crate::error::StoreError;
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// `PRAGMA application_id` of a gapwatch database ("gpww").
pub(crate) const APPLICATION_ID: i32 = 0x6770_7777;

/// One schema step.
#[derive(Clone, Copy)]
pub(crate) struct Migration {
    /// The version the database has after this step.
    pub version: u32,
    /// A short description, stored in `meta` as `migration.<version>`.
    pub name: &'static str,
    /// The SQL, run as one batch.
    pub sql: &'static str,
}

/// Every migration, in order; versions are 1, 2, 3 ... without gaps.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "runs, flows, assets, meta",
        sql: include_str!("migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "model state, alerts",
        sql: include_str!("migrations/0002_learning.sql"),
    },
    Migration {
        version: 3,
        name: "protocol event log",
        sql: include_str!("migrations/0003_event_log.sql"),
    },
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: u32 = {
    // The last entry's version; a const block so a gap in the list fails the build.
    let mut i = 0;
    while i < MIGRATIONS.len() {
        assert!(
            MIGRATIONS[i].version as usize == i + 1,
            "migration versions must be 1, 2, 3 ..."
        );
        i += 1;
    }
    MIGRATIONS.len() as u32
};

/// Reads `user_version`, refusing databases from a newer build or another program.
/// Returns the version found. Touches nothing.
pub(crate) fn check(conn: &Connection, path: &Path) -> Result<u32, StoreError> {
    let op = "read schema version";
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(crate::error::sql(path, op))?;
    if found > i64::from(SCHEMA_VERSION) || found < 0 {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(crate::error::sql(path, op))?;
    if application_id != APPLICATION_ID {
        // A fresh file (no schema yet) is ours to initialise; anything else is not.
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(crate::error::sql(path, op))?;
        if found != 0 || tables != 0 {
            return Err(StoreError::ForeignDatabase {
                path: path.to_path_buf(),
                application_id,
                tables,
            });
        }
    }
    // `found` is within 0..=SCHEMA_VERSION here.
    Ok(found as u32)
}

/// Applies every migration above `from`, one transaction each.
pub(crate) fn run(conn: &mut Connection, path: &Path, from: u32) -> Result<(), StoreError> {
    apply(conn, path, from, MIGRATIONS)
}

/// Applies the steps of `list` above `from`, one transaction each.
fn apply(
    conn: &mut Connection,
    path: &Path,
    from: u32,
    list: &[Migration],
) -> Result<(), StoreError> {
    for m in list.iter().filter(|m| m.version > from) {
        let fail = |source| StoreError::Migration {
            path: path.to_path_buf(),
            from: m.version - 1,
            to: m.version,
            source,
        };
        // IMMEDIATE takes the write lock up front, so two processes opening the same
        // fresh folder do not both try to create the schema; the loser waits (busy
        // timeout), then re-checks the version inside the transaction.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        let now: u32 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(fail)?;
        if now >= m.version {
            continue;
        }
        tx.execute_batch(m.sql).map_err(fail)?;
        tx.pragma_update(None, "user_version", m.version)
            .map_err(fail)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(fail)?;
        let mut put = tx
            .prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")
            .map_err(fail)?;
        put.execute(["schema_version", &m.version.to_string()])
            .map_err(fail)?;
        put.execute(["gapwatch_version", env!("CARGO_PKG_VERSION")])
            .map_err(fail)?;
        put.execute([format!("migration.{}", m.version).as_str(), m.name])
            .map_err(fail)?;
        if m.version == 1 {
            put.execute(["created", &wall_clock_now()]).map_err(fail)?;
        }
        drop(put);
        tx.commit().map_err(fail)?;
    }
    Ok(())
}

/// Wall-clock time for `meta.created`. The store is outside the packet-time pipeline;
/// this only records when the state folder was made.
fn wall_clock_now() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    records::Timestamp(micros).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: Migration = Migration {
        version: 2,
        name: "events",
        sql: "CREATE TABLE events (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL);",
    };
    const V3_BROKEN: Migration = Migration {
        version: 3,
        name: "alerts, then a typo",
        sql: "CREATE TABLE alerts (id INTEGER PRIMARY KEY); CREATE TABLEX oops (x);",
    };

    fn version(conn: &Connection) -> u32 {
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    }

    fn has_table(conn: &Connection, name: &str) -> bool {
        conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            == 1
    }

    #[test]
    fn later_migrations_apply_in_order_and_a_failed_step_leaves_the_last_good_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gapwatch.db");
        let mut conn = Connection::open(&path).unwrap();
        apply(&mut conn, &path, 0, &[MIGRATIONS[0], V2]).unwrap();
        assert_eq!(version(&conn), 2);
        assert!(has_table(&conn, "events"));
        let step: String = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'migration.2'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(step, "events");

        let err = apply(&mut conn, &path, 2, &[MIGRATIONS[0], V2, V3_BROKEN]).unwrap_err();
        assert!(
            matches!(err, StoreError::Migration { from: 2, to: 3, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("gapwatch.db"), "{err}");
        // The failed step's first statement was rolled back with it.
        assert!(!has_table(&conn, "alerts"));
        assert_eq!(version(&conn), 2);
    }
}
