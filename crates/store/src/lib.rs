//! gapwatch's embedded store: one SQLite file, `gapwatch.db`, in the state folder.
//!
//! Purpose: keep what the pipeline learns (runs, flows, assets, the learning engine's
//! model state, alerts and their triage; later events, users, audit) across restarts, on one file that an operator can copy.
//!
//! Guarantees:
//! - **Nothing committed is lost on `kill -9`.** The database runs in WAL mode with
//!   `synchronous=NORMAL`: a commit returns only after its frames are written to the
//!   `-wal` file through the OS, so a killed process loses nothing the OS has; the next
//!   open replays the WAL. NORMAL skips the fsync on each commit, so a *power loss* or
//!   kernel crash may roll back the last commits (never corrupt the file). Choose
//!   [`Synchronous::Full`] in [`StoreOptions`] to fsync every commit and survive power loss
//!   too, at a write-throughput cost.
//! - **All or nothing per batch.** [`Store::write_batch`] commits a [`Batch`] (flow
//!   records, asset upserts, alert upserts, event log lines, a model state snapshot and
//!   run progress) in one transaction, so a restart finds the model state and the
//!   alerts it raised in step with each other.
//! - **Triage survives the engine.** Re-writing an alert replaces its record but keeps
//!   the operator's status and comment ([`Store::set_alert_status`]).
//! - **Versioned schema.** Migrations embedded in the binary upgrade older databases on
//!   open, one transaction each; a database from a newer gapwatch, another program's
//!   SQLite file, or a damaged file is refused with an error naming the file.
//! - Records read back equal the records written (times in microseconds, MACs as
//!   `aa:bb:cc:dd:ee:ff`, IPs as text). Counters above `i64::MAX` are stored as
//!   `i64::MAX`.
//!
//! Caller's duties: batch writes (e.g. one second of packet time or a few thousand
//! records per batch); a transaction per record would cost one WAL commit each. Use one
//! `Store` per thread; other processes (the console) may open the same folder to read.
#![forbid(unsafe_code)]

mod codec;
mod error;
mod events;
mod learning;
mod migrate;
mod query;
mod rollup;

pub use error::StoreError;
pub use events::{EventFilter, EventLine, EVENT_LOG_CAP};
pub use learning::{AlertFilter, AlertStatus, ModelSnapshot, StoredAlert};
pub use migrate::SCHEMA_VERSION;
pub use query::{AlertBucket, AssetGroup};
pub use rollup::{AlertPair, AssetRef, FlowPair, HourActivity, HOUR_MICROS};

use error::sql;
use records::{AssetRecord, FlowRecord, Identity, IdentitySource, Timestamp};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wire::MacAddr;

/// File name of the database inside the state folder.
pub const DB_FILE: &str = "gapwatch.db";

/// How hard each commit is pushed to disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synchronous {
    /// WAL + `synchronous=NORMAL`: durable against process death (`kill -9`, panic,
    /// OOM kill); the last commits may be lost on power loss. The default.
    #[default]
    Normal,
    /// WAL + `synchronous=FULL`: every commit is fsynced; durable against power loss.
    Full,
}

/// Options for [`Store::open_with`].
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Commit durability.
    pub synchronous: Synchronous,
    /// How long to wait for another connection's write lock before failing.
    pub busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Normal,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// Identifies one pipeline run in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(pub i64);

/// How far a run has got; written with each batch and at the end of the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunProgress {
    /// Packets read so far.
    pub packets: u64,
    /// Bytes read so far.
    pub bytes: u64,
    /// Packet time of the latest packet.
    pub last_packet_at: Option<Timestamp>,
    /// Named pipeline counters (drops, evictions, parse errors ...).
    pub counters: BTreeMap<String, u64>,
}

/// A run as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    /// Its id.
    pub id: RunId,
    /// Packet time the run started at.
    pub started_at: Timestamp,
    /// What was read, e.g. the capture file names or the interface.
    pub source: String,
    /// Progress at the last committed batch (or at the end).
    pub progress: RunProgress,
    /// False for a run still going, or one interrupted by a crash or kill.
    pub finished: bool,
    /// Packet time the run ended at, once finished.
    pub finished_at: Option<Timestamp>,
}

/// What [`Store::write_batch`] commits in one transaction.
#[derive(Clone, Debug)]
pub struct Batch {
    /// The run the flows belong to.
    pub run: RunId,
    /// Finished (or flushed) flows, appended.
    pub flows: Vec<FlowRecord>,
    /// Full current asset records; each replaces the stored record with the same id.
    pub assets: Vec<AssetRecord>,
    /// Alerts raised or grown; each replaces the stored record with the same id,
    /// keeping its triage.
    pub alerts: Vec<learn::Alert>,
    /// Event log lines, appended.
    pub event_lines: Vec<EventLine>,
    /// The engine's state to store with these records, if the caller saves it now.
    pub model_state: Option<ModelSnapshot>,
    /// The run's progress as of the end of this batch, if the caller tracks it.
    pub progress: Option<RunProgress>,
}

impl Batch {
    /// An empty batch for `run`.
    pub fn new(run: RunId) -> Self {
        Self {
            run,
            flows: Vec::new(),
            assets: Vec::new(),
            alerts: Vec::new(),
            event_lines: Vec::new(),
            model_state: None,
            progress: None,
        }
    }

    /// Number of records (flows, assets, alerts and event lines) in the batch.
    pub fn len(&self) -> usize {
        self.flows.len() + self.assets.len() + self.alerts.len() + self.event_lines.len()
    }

    /// True when there is nothing to write (progress or model state alone still count
    /// as a write).
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
            && self.assets.is_empty()
            && self.alerts.is_empty()
            && self.event_lines.is_empty()
            && self.model_state.is_none()
            && self.progress.is_none()
    }

    /// Empties the batch, keeping its allocations, for reuse.
    pub fn clear(&mut self) {
        self.flows.clear();
        self.assets.clear();
        self.alerts.clear();
        self.event_lines.clear();
        self.model_state = None;
        self.progress = None;
    }
}

/// Which flows [`Store::flows`] returns. All conditions must hold; `None` means any.
#[derive(Clone, Debug, Default)]
pub struct FlowFilter {
    /// Only this run.
    pub run: Option<RunId>,
    /// Only flows starting at or after this time.
    pub from: Option<Timestamp>,
    /// Only flows starting before this time.
    pub to: Option<Timestamp>,
    /// Only flows with this address as source or destination.
    pub ip: Option<IpAddr>,
    /// At most this many flows (earliest first).
    pub limit: Option<u32>,
}

/// A flow as stored: the record plus where it sits in the store.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredFlow {
    /// The row id, unique in the database and never reused.
    pub row_id: i64,
    /// The run that wrote it.
    pub run: RunId,
    /// The record as written.
    pub record: FlowRecord,
}

/// An open store. Dropping it closes the database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    migrated_from: u32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) `dir/gapwatch.db` with default options. The folder is
    /// created with mode 0700 when missing.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Self::open_with(dir, &StoreOptions::default())
    }

    /// Opens (creating if needed) `dir/gapwatch.db`, checks it is a gapwatch database no
    /// newer than this build, and applies pending migrations.
    pub fn open_with(dir: &Path, options: &StoreOptions) -> Result<Store, StoreError> {
        create_state_dir(dir)?;
        let path = dir.join(DB_FILE);
        let p = path.as_path();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(p, flags).map_err(sql(p, "open"))?;
        conn.busy_timeout(options.busy_timeout)
            .map_err(sql(p, "set busy timeout"))?;
        // Checked before any pragma that writes, so a refused file is left untouched.
        let migrated_from = migrate::check(&conn, p)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(sql(p, "enable WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::WalUnavailable { path, mode });
        }
        let sync = match options.synchronous {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync)
            .map_err(sql(p, "set synchronous"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql(p, "enable foreign keys"))?;
        migrate::run(&mut conn, p, migrated_from)?;
        Ok(Store {
            conn,
            path,
            migrated_from,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version the file had when this `Store` opened it (0 for a new file).
    pub fn migrated_from(&self) -> u32 {
        self.migrated_from
    }

    /// The schema version now (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql(&self.path, "read schema version"))
    }

    /// The `meta` table: schema version, creation time, gapwatch version, migrations.
    pub fn meta(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let p = &self.path;
        let op = "read meta";
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM meta")
            .map_err(sql(p, op))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(sql(p, op))?;
        rows.collect::<Result<_, _>>().map_err(sql(p, op))
    }

    /// Runs SQLite's `integrity_check`; `Ok(())` when the file is sound, otherwise the
    /// problems SQLite lists (capped at 100).
    pub fn integrity_check(&self) -> Result<Result<(), Vec<String>>, StoreError> {
        let p = &self.path;
        let op = "integrity check";
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check(100)")
            .map_err(sql(p, op))?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sql(p, op))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql(p, op))?;
        if lines.len() == 1 && lines[0] == "ok" {
            Ok(Ok(()))
        } else {
            Ok(Err(lines))
        }
    }

    /// Records the start of a run and returns its id. Committed at once, so a restart
    /// sees the run even if it dies before its first batch.
    pub fn begin_run(&mut self, source: &str, started_at: Timestamp) -> Result<RunId, StoreError> {
        let p = &self.path;
        self.conn
            .execute(
                "INSERT INTO runs (started_at, source) VALUES (?1, ?2)",
                params![started_at.micros(), source],
            )
            .map_err(sql(p, "begin run"))?;
        Ok(RunId(self.conn.last_insert_rowid()))
    }

    /// Marks a run finished with its final progress.
    pub fn finish_run(
        &mut self,
        run: RunId,
        finished_at: Timestamp,
        progress: &RunProgress,
    ) -> Result<(), StoreError> {
        let p = &self.path;
        let op = "finish run";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql(p, op))?;
        update_progress(&tx, p, op, run, progress)?;
        tx.execute(
            "UPDATE runs SET finished = 1, finished_at = ?2 WHERE id = ?1",
            params![run.0, finished_at.micros()],
        )
        .map_err(sql(p, op))?;
        tx.commit().map_err(sql(p, op))
    }

    /// Commits the whole batch in one transaction: flows appended, assets and alerts
    /// upserted, the model state replaced, the run's progress updated. On error nothing
    /// of the batch is stored.
    pub fn write_batch(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let p = &self.path;
        let op = "write batch";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql(p, op))?;
        // Checked here rather than left to the foreign key, so the error names the run.
        let known: Option<i64> = tx
            .query_row("SELECT id FROM runs WHERE id = ?1", [batch.run.0], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql(p, op))?;
        if known.is_none() {
            return Err(StoreError::NoSuchRun {
                path: p.clone(),
                op,
                run: batch.run.0,
            });
        }
        if !batch.flows.is_empty() {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO flows (run_id, flow_id, ts_start, ts_end, transport, vlan,
                        src_ip, src_port, dst_ip, dst_port, src_mac, dst_mac,
                        packets_to_server, packets_to_client, bytes_to_server,
                        bytes_to_client, app, state, gap_bytes)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                        ?15, ?16, ?17, ?18, ?19)",
                )
                .map_err(sql(p, op))?;
            // Address text goes through reused buffers: no allocation per row.
            let mut src_ip = String::new();
            let mut dst_ip = String::new();
            let mut src_mac = String::new();
            let mut dst_mac = String::new();
            for f in &batch.flows {
                write_display(&mut src_ip, &f.src_ip);
                write_display(&mut dst_ip, &f.dst_ip);
                let src_mac = f.src_mac.map(|m| {
                    write_display(&mut src_mac, &m);
                    src_mac.as_str()
                });
                let dst_mac = f.dst_mac.map(|m| {
                    write_display(&mut dst_mac, &m);
                    dst_mac.as_str()
                });
                insert
                    .execute(params![
                        batch.run.0,
                        codec::u64_to_sql(f.id),
                        f.ts_start.micros(),
                        f.ts_end.micros(),
                        codec::transport_to_str(f.transport),
                        f.vlan,
                        src_ip,
                        f.src_port,
                        dst_ip,
                        f.dst_port,
                        src_mac,
                        dst_mac,
                        codec::u64_to_sql(f.packets_to_server),
                        codec::u64_to_sql(f.packets_to_client),
                        codec::u64_to_sql(f.bytes_to_server),
                        codec::u64_to_sql(f.bytes_to_client),
                        f.app,
                        codec::state_to_str(f.state),
                        codec::u64_to_sql(f.gap_bytes),
                    ])
                    .map_err(sql(p, op))?;
            }
        }
        rollup::write(&tx, p, op, &batch.flows)?;
        if !batch.assets.is_empty() {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO assets (id, mac, vendor, role, zone, purdue_level,
                        first_seen, last_seen, is_gateway, identity, ips, hostnames,
                        protocols_served, protocols_used, peers)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                     ON CONFLICT (id) DO UPDATE SET
                        mac = excluded.mac, vendor = excluded.vendor, role = excluded.role,
                        zone = excluded.zone, purdue_level = excluded.purdue_level,
                        first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                        is_gateway = excluded.is_gateway, identity = excluded.identity,
                        ips = excluded.ips, hostnames = excluded.hostnames,
                        protocols_served = excluded.protocols_served,
                        protocols_used = excluded.protocols_used, peers = excluded.peers",
                )
                .map_err(sql(p, op))?;
            for a in &batch.assets {
                upsert
                    .execute(params![
                        a.id,
                        a.mac.map(|m| m.to_string()),
                        a.vendor,
                        codec::role_to_str(a.role),
                        a.zone,
                        a.purdue_level,
                        a.first_seen.micros(),
                        a.last_seen.micros(),
                        a.is_gateway,
                        identity_to_json(&a.identity),
                        set_to_json(&a.ips),
                        set_to_json(&a.hostnames),
                        set_to_json(&a.protocols_served),
                        set_to_json(&a.protocols_used),
                        set_to_json(&a.peers),
                    ])
                    .map_err(sql(p, op))?;
            }
        }
        learning::write_alerts(&tx, p, op, &batch.alerts)?;
        events::write_event_lines(&tx, p, op, &batch.event_lines)?;
        if let Some(snapshot) = &batch.model_state {
            learning::write_model_state(&tx, p, op, &snapshot.states, snapshot.at)?;
        }
        if let Some(progress) = &batch.progress {
            update_progress(&tx, p, op, batch.run, progress)?;
        }
        tx.commit().map_err(sql(p, op))
    }

    /// Every stored asset, ordered by id.
    pub fn load_assets(&self) -> Result<Vec<AssetRecord>, StoreError> {
        self.query_assets("SELECT * FROM assets ORDER BY id", [])
    }

    /// The asset with this id, if stored.
    pub fn asset(&self, id: &str) -> Result<Option<AssetRecord>, StoreError> {
        Ok(self
            .query_assets("SELECT * FROM assets WHERE id = ?1", [id])?
            .pop())
    }

    /// Number of stored assets.
    pub fn count_assets(&self) -> Result<u64, StoreError> {
        self.count("SELECT count(*) FROM assets", "count assets")
    }

    /// Number of stored flows.
    pub fn count_flows(&self) -> Result<u64, StoreError> {
        self.count("SELECT count(*) FROM flows", "count flows")
    }

    /// Flows matching `filter`, earliest start first (ties in write order).
    pub fn flows(&self, filter: &FlowFilter) -> Result<Vec<StoredFlow>, StoreError> {
        let p = &self.path;
        let op = "query flows";
        let (query, values) = flow_query(filter);
        let mut stmt = self.conn.prepare_cached(&query).map_err(sql(p, op))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(values))
            .map_err(sql(p, op))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(p, op))? {
            out.push(flow_from_row(row, p)?);
        }
        Ok(out)
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunInfo>, StoreError> {
        let p = &self.path;
        let op = "query runs";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, started_at, source, packets, bytes, last_packet_at, finished,
                    finished_at, counters FROM runs ORDER BY id",
            )
            .map_err(sql(p, op))?;
        let mut rows = stmt.query([]).map_err(sql(p, op))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(p, op))? {
            out.push(run_from_row(row, p)?);
        }
        Ok(out)
    }

    fn count(&self, query: &str, op: &'static str) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row(query, [], |r| r.get(0))
            .map_err(sql(&self.path, op))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn query_assets<P: rusqlite::Params>(
        &self,
        query: &str,
        params: P,
    ) -> Result<Vec<AssetRecord>, StoreError> {
        let p = &self.path;
        let op = "load assets";
        let mut stmt = self.conn.prepare_cached(query).map_err(sql(p, op))?;
        let mut rows = stmt.query(params).map_err(sql(p, op))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(p, op))? {
            out.push(asset_from_row(row, p)?);
        }
        Ok(out)
    }
}

/// The SQL and parameters for [`Store::flows`].
fn flow_query(filter: &FlowFilter) -> (String, Vec<rusqlite::types::Value>) {
    // Only the conditions in use go into the SQL, so SQLite can pick the index that
    // fits (a `?1 IS NULL OR ...` form would hide them from the planner). At most 16
    // distinct statements exist; each is prepared once and cached.
    let mut query = String::from(
        "SELECT id, run_id, flow_id, ts_start, ts_end, transport, vlan, src_ip, src_port,
            dst_ip, dst_port, src_mac, dst_mac, packets_to_server, packets_to_client,
            bytes_to_server, bytes_to_client, app, state, gap_bytes
         FROM flows WHERE 1",
    );
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(run) = filter.run {
        values.push(run.0.into());
        query.push_str(&format!(" AND run_id = ?{}", values.len()));
    }
    if let Some(from) = filter.from {
        values.push(from.micros().into());
        query.push_str(&format!(" AND ts_start >= ?{}", values.len()));
    }
    if let Some(to) = filter.to {
        values.push(to.micros().into());
        query.push_str(&format!(" AND ts_start < ?{}", values.len()));
    }
    if let Some(ip) = filter.ip {
        values.push(ip.to_string().into());
        let n = values.len();
        query.push_str(&format!(" AND (src_ip = ?{n} OR dst_ip = ?{n})"));
    }
    values.push(filter.limit.map_or(-1, i64::from).into());
    query.push_str(&format!(" ORDER BY ts_start, id LIMIT ?{}", values.len()));
    (query, values)
}

/// Creates the state folder, readable by its owner only: it holds the network's
/// inventory (and later keys and credentials).
fn create_state_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| StoreError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_display(buf: &mut String, value: &impl std::fmt::Display) {
    use std::fmt::Write;
    buf.clear();
    // Writing to a String cannot fail.
    let _ = write!(buf, "{value}");
}

fn update_progress(
    tx: &rusqlite::Transaction<'_>,
    p: &Path,
    op: &'static str,
    run: RunId,
    progress: &RunProgress,
) -> Result<(), StoreError> {
    let counters = serde_json::to_string(&progress.counters).unwrap_or_else(|_| "{}".into());
    let changed = tx
        .execute(
            "UPDATE runs SET packets = ?2, bytes = ?3, last_packet_at = ?4, counters = ?5
             WHERE id = ?1",
            params![
                run.0,
                codec::u64_to_sql(progress.packets),
                codec::u64_to_sql(progress.bytes),
                progress.last_packet_at.map(Timestamp::micros),
                counters,
            ],
        )
        .map_err(sql(p, op))?;
    if changed == 0 {
        return Err(StoreError::NoSuchRun {
            path: p.to_path_buf(),
            op,
            run: run.0,
        });
    }
    Ok(())
}

fn set_to_json<T: serde::Serialize>(set: &BTreeSet<T>) -> String {
    // A set of strings or addresses always serialises.
    serde_json::to_string(set).unwrap_or_else(|_| "[]".into())
}

/// Mirror of [`Identity`] for reading it back (records only derives `Serialize`).
#[derive(serde::Serialize, serde::Deserialize)]
struct IdentityColumn {
    vendor: Option<String>,
    product: Option<String>,
    model: Option<String>,
    firmware: Option<String>,
    serial: Option<String>,
    #[serde(default)]
    ssh_host_key: Option<String>,
    #[serde(default)]
    tls_certificate: Option<String>,
    #[serde(default)]
    sources: BTreeMap<String, IdentitySource>,
}

fn identity_to_json(id: &Identity) -> String {
    serde_json::to_string(id).unwrap_or_else(|_| "{}".into())
}

/// Builds decode errors for one row.
struct RowCtx<'a> {
    path: &'a Path,
    table: &'static str,
    row: String,
}

impl RowCtx<'_> {
    fn err(&self, column: &'static str, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Decode {
            path: self.path.to_path_buf(),
            table: self.table,
            row: self.row.clone(),
            column,
            reason: reason.to_string(),
        }
    }

    /// Reads a column, reporting type mismatches as a decode error of this row.
    fn get<T: rusqlite::types::FromSql>(
        &self,
        row: &Row<'_>,
        column: &'static str,
    ) -> Result<T, StoreError> {
        row.get(column).map_err(|e| self.err(column, e))
    }

    fn u64(&self, row: &Row<'_>, column: &'static str) -> Result<u64, StoreError> {
        let v: i64 = self.get(row, column)?;
        u64::try_from(v).map_err(|_| self.err(column, format!("negative count {v}")))
    }

    fn parse<T: std::str::FromStr>(
        &self,
        row: &Row<'_>,
        column: &'static str,
    ) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        let s: String = self.get(row, column)?;
        s.parse()
            .map_err(|e| self.err(column, format!("{s:?}: {e}")))
    }

    fn mac(&self, row: &Row<'_>, column: &'static str) -> Result<Option<MacAddr>, StoreError> {
        let s: Option<String> = self.get(row, column)?;
        s.map(|s| {
            s.parse()
                .map_err(|e| self.err(column, format!("{s:?}: {e}")))
        })
        .transpose()
    }

    fn json<T: serde::de::DeserializeOwned>(
        &self,
        row: &Row<'_>,
        column: &'static str,
    ) -> Result<T, StoreError> {
        let s: String = self.get(row, column)?;
        serde_json::from_str(&s).map_err(|e| self.err(column, e))
    }
}

fn flow_from_row(row: &Row<'_>, path: &Path) -> Result<StoredFlow, StoreError> {
    let row_id: i64 = row.get("id").map_err(sql(path, "query flows"))?;
    let c = RowCtx {
        path,
        table: "flows",
        row: row_id.to_string(),
    };
    let transport: String = c.get(row, "transport")?;
    let state: String = c.get(row, "state")?;
    let app: Option<String> = c.get(row, "app")?;
    let record = FlowRecord {
        kind: "flow",
        id: c.u64(row, "flow_id")?,
        ts_start: Timestamp(c.get(row, "ts_start")?),
        ts_end: Timestamp(c.get(row, "ts_end")?),
        transport: codec::transport_from_str(&transport)
            .ok_or_else(|| c.err("transport", format!("unknown transport {transport:?}")))?,
        vlan: c.get(row, "vlan")?,
        src_ip: c.parse(row, "src_ip")?,
        src_port: c.get(row, "src_port")?,
        dst_ip: c.parse(row, "dst_ip")?,
        dst_port: c.get(row, "dst_port")?,
        src_mac: c.mac(row, "src_mac")?,
        dst_mac: c.mac(row, "dst_mac")?,
        packets_to_server: c.u64(row, "packets_to_server")?,
        packets_to_client: c.u64(row, "packets_to_client")?,
        bytes_to_server: c.u64(row, "bytes_to_server")?,
        bytes_to_client: c.u64(row, "bytes_to_client")?,
        app: app
            .map(|a| codec::intern_app(&a).map_err(|e| c.err("app", e)))
            .transpose()?,
        state: codec::state_from_str(&state)
            .ok_or_else(|| c.err("state", format!("unknown state {state:?}")))?,
        gap_bytes: c.u64(row, "gap_bytes")?,
    };
    Ok(StoredFlow {
        row_id,
        run: RunId(c.get(row, "run_id")?),
        record,
    })
}

fn asset_from_row(row: &Row<'_>, path: &Path) -> Result<AssetRecord, StoreError> {
    let id: String = row.get("id").map_err(sql(path, "load assets"))?;
    let c = RowCtx {
        path,
        table: "assets",
        row: id.clone(),
    };
    let role: String = c.get(row, "role")?;
    let identity: IdentityColumn = c.json(row, "identity")?;
    Ok(AssetRecord {
        kind: "asset",
        id,
        mac: c.mac(row, "mac")?,
        ips: c.json(row, "ips")?,
        vendor: c.get(row, "vendor")?,
        hostnames: c.json(row, "hostnames")?,
        identity: Identity {
            vendor: identity.vendor,
            product: identity.product,
            model: identity.model,
            firmware: identity.firmware,
            serial: identity.serial,
            ssh_host_key: identity.ssh_host_key,
            tls_certificate: identity.tls_certificate,
            sources: identity.sources,
        },
        role: codec::role_from_str(&role)
            .ok_or_else(|| c.err("role", format!("unknown role {role:?}")))?,
        zone: c.get(row, "zone")?,
        purdue_level: c.get(row, "purdue_level")?,
        first_seen: Timestamp(c.get(row, "first_seen")?),
        last_seen: Timestamp(c.get(row, "last_seen")?),
        protocols_served: c.json(row, "protocols_served")?,
        protocols_used: c.json(row, "protocols_used")?,
        peers: c.json(row, "peers")?,
        is_gateway: c.get(row, "is_gateway")?,
    })
}

fn run_from_row(row: &Row<'_>, path: &Path) -> Result<RunInfo, StoreError> {
    let id: i64 = row.get("id").map_err(sql(path, "query runs"))?;
    let c = RowCtx {
        path,
        table: "runs",
        row: id.to_string(),
    };
    let finished: i64 = c.get(row, "finished")?;
    Ok(RunInfo {
        id: RunId(id),
        started_at: Timestamp(c.get(row, "started_at")?),
        source: c.get(row, "source")?,
        progress: RunProgress {
            packets: c.u64(row, "packets")?,
            bytes: c.u64(row, "bytes")?,
            last_packet_at: c.get::<Option<i64>>(row, "last_packet_at")?.map(Timestamp),
            counters: c.json(row, "counters")?,
        },
        finished: finished != 0,
        finished_at: c.get::<Option<i64>>(row, "finished_at")?.map(Timestamp),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's plan for the flow query built from `filter`.
    fn plan(store: &Store, filter: &FlowFilter) -> String {
        let (query, values) = flow_query(filter);
        let mut stmt = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {query}"))
            .unwrap();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), |r| {
                r.get::<_, String>(3)
            })
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }

    #[test]
    fn flow_queries_use_the_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let by_ip = plan(
            &store,
            &FlowFilter {
                ip: Some("10.0.0.1".parse().unwrap()),
                ..Default::default()
            },
        );
        assert!(by_ip.contains("flows_src_ip"), "{by_ip}");
        assert!(by_ip.contains("flows_dst_ip"), "{by_ip}");
        let by_time = plan(
            &store,
            &FlowFilter {
                from: Some(Timestamp(1)),
                to: Some(Timestamp(2)),
                ..Default::default()
            },
        );
        assert!(
            by_time.contains("SEARCH flows USING INDEX flows_ts_start"),
            "{by_time}"
        );
    }
}
