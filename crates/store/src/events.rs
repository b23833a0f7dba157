//! The protocol event log: what was said on the wire, searchable after the fact.
//!
//! Every message would be too many rows (a 1 s poll is 86,400 a day per register
//! block), so the caller folds messages of one kind within one minute into one
//! [`EventLine`] with a count; the log keeps at most [`EVENT_LOG_CAP`] lines and drops
//! the oldest beyond it.

use crate::error::{sql, StoreError};
use crate::{codec, RowCtx, Store};
use records::Timestamp;
use rusqlite::{params, Row, Transaction};
use serde::Serialize;
use std::net::IpAddr;
use std::path::Path;

/// Most lines the event log keeps; older lines are deleted as new ones arrive.
pub const EVENT_LOG_CAP: u64 = 5_000_000;

/// Messages of one kind within one minute: same sender, receiver, protocol, function,
/// direction, status and unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventLine {
    /// Time of the first message.
    pub ts_first: Timestamp,
    /// Time of the last message.
    pub ts_last: Timestamp,
    /// Sender address (none for layer-2 protocols).
    pub src_ip: Option<IpAddr>,
    /// Receiver address.
    pub dst_ip: Option<IpAddr>,
    /// Protocol (dissector name).
    pub protocol: String,
    /// Operation class (`read`, `write`, `control` ...).
    pub op: String,
    /// The protocol's numeric function code.
    pub function: u32,
    /// Its name.
    pub function_name: String,
    /// Responses rather than requests.
    pub is_response: bool,
    /// `none`, `ok` or `exception:<name>`.
    pub status: String,
    /// Modbus unit, DNP3 address, IEC 104 common address ...
    pub unit: Option<u32>,
    /// The points addressed, e.g. `holding_register 0-19, coil 3`.
    pub targets: String,
    /// Messages folded into this line.
    pub count: u64,
}

/// Which lines [`Store::event_lines`] returns. All conditions must hold; `None` means
/// any.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Lines whose last message is at or after this time.
    pub from: Option<Timestamp>,
    /// Lines whose first message is before this time.
    pub to: Option<Timestamp>,
    /// Sent or received by this address.
    pub ip: Option<IpAddr>,
    /// Of this protocol.
    pub protocol: Option<String>,
    /// Of this operation class.
    pub op: Option<String>,
    /// Function name or points containing this text.
    pub text: Option<String>,
    /// Newest first (default oldest first).
    pub newest_first: bool,
    /// At most this many lines.
    pub limit: Option<u32>,
    /// Skip this many lines first (paging).
    pub offset: Option<u32>,
}

impl Store {
    /// Event log lines matching `filter`, by first message time (ties by id).
    pub fn event_lines(&self, filter: &EventFilter) -> Result<Vec<EventLine>, StoreError> {
        let p = &self.path;
        let op = "query event log";
        let (query, values) = event_query(filter);
        let mut stmt = self.conn.prepare_cached(&query).map_err(sql(p, op))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(values))
            .map_err(sql(p, op))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(p, op))? {
            out.push(line_from_row(row, p)?);
        }
        Ok(out)
    }

    /// Number of lines in the event log.
    pub fn count_event_lines(&self) -> Result<u64, StoreError> {
        self.count("SELECT count(*) FROM event_log", "count event log")
    }
}

/// Appends `lines` inside the caller's transaction, then trims the log to its cap.
pub(crate) fn write_event_lines(
    tx: &Transaction<'_>,
    p: &Path,
    op: &'static str,
    lines: &[EventLine],
) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO event_log (ts_first, ts_last, src_ip, dst_ip, protocol, op,
                function, function_name, is_response, status, unit, targets, count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .map_err(sql(p, op))?;
    for l in lines {
        insert
            .execute(params![
                l.ts_first.micros(),
                l.ts_last.micros(),
                l.src_ip.map(|ip| ip.to_string()),
                l.dst_ip.map(|ip| ip.to_string()),
                l.protocol,
                l.op,
                l.function,
                l.function_name,
                l.is_response,
                l.status,
                l.unit,
                l.targets,
                codec::u64_to_sql(l.count),
            ])
            .map_err(sql(p, op))?;
    }
    // Ids only grow, so the newest `cap` lines are those above max(id) - cap.
    tx.execute(
        "DELETE FROM event_log WHERE id <= (SELECT max(id) FROM event_log) - ?1",
        [codec::u64_to_sql(EVENT_LOG_CAP)],
    )
    .map_err(sql(p, op))?;
    Ok(())
}

fn event_query(filter: &EventFilter) -> (String, Vec<rusqlite::types::Value>) {
    // Only the conditions in use go into the SQL, so the planner sees them and picks
    // an index.
    let mut query = String::from("SELECT * FROM event_log WHERE 1");
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(from) = filter.from {
        values.push(from.micros().into());
        query.push_str(&format!(" AND ts_last >= ?{}", values.len()));
    }
    if let Some(to) = filter.to {
        values.push(to.micros().into());
        query.push_str(&format!(" AND ts_first < ?{}", values.len()));
    }
    if let Some(ip) = filter.ip {
        values.push(ip.to_string().into());
        let n = values.len();
        query.push_str(&format!(" AND (src_ip = ?{n} OR dst_ip = ?{n})"));
    }
    if let Some(protocol) = &filter.protocol {
        values.push(protocol.clone().into());
        query.push_str(&format!(" AND protocol = ?{}", values.len()));
    }
    if let Some(op) = &filter.op {
        values.push(op.clone().into());
        query.push_str(&format!(" AND op = ?{}", values.len()));
    }
    if let Some(text) = &filter.text {
        // instr() rather than LIKE: the operator's text is matched literally.
        values.push(text.clone().into());
        let n = values.len();
        query.push_str(&format!(
            " AND (instr(function_name, ?{n}) > 0 OR instr(targets, ?{n}) > 0)"
        ));
    }
    let order = if filter.newest_first { "DESC" } else { "ASC" };
    values.push(filter.limit.map_or(-1, i64::from).into());
    query.push_str(&format!(
        " ORDER BY ts_first {order}, id {order} LIMIT ?{}",
        values.len()
    ));
    values.push(i64::from(filter.offset.unwrap_or(0)).into());
    query.push_str(&format!(" OFFSET ?{}", values.len()));
    (query, values)
}

fn line_from_row(row: &Row<'_>, path: &Path) -> Result<EventLine, StoreError> {
    let id: i64 = row.get("id").map_err(sql(path, "query event log"))?;
    let c = RowCtx {
        path,
        table: "event_log",
        row: id.to_string(),
    };
    let ip = |column: &'static str| -> Result<Option<IpAddr>, StoreError> {
        let s: Option<String> = c.get(row, column)?;
        s.map(|s| s.parse().map_err(|e| c.err(column, format!("{s:?}: {e}"))))
            .transpose()
    };
    Ok(EventLine {
        ts_first: Timestamp(c.get(row, "ts_first")?),
        ts_last: Timestamp(c.get(row, "ts_last")?),
        src_ip: ip("src_ip")?,
        dst_ip: ip("dst_ip")?,
        protocol: c.get(row, "protocol")?,
        op: c.get(row, "op")?,
        function: c.get(row, "function")?,
        function_name: c.get(row, "function_name")?,
        is_response: c.get(row, "is_response")?,
        status: c.get(row, "status")?,
        unit: c.get(row, "unit")?,
        targets: c.get(row, "targets")?,
        count: c.u64(row, "count")?,
    })
}
