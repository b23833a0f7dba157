//! What the learning engine keeps: its model state, and the alerts it raised with the
//! operator's triage of each.
//!
//! Model state is one JSON document per model name, replaced on each save. An alert is
//! one row per alert id: the engine writes it again as it grows (the whole record, kept
//! as JSON, plus the columns queries filter on), and the operator's triage (status,
//! comment) survives those rewrites.

use crate::error::{sql, StoreError};
use crate::{RowCtx, Store};
use learn::{Alert, Category, Severity};
use records::Timestamp;
use rusqlite::{params, OptionalExtension, Row, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::IpAddr;
use std::path::Path;

/// The operator's verdict on an alert.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Not looked at yet. New alerts start here.
    #[default]
    Open,
    /// Seen; being dealt with.
    Acknowledged,
    /// Dealt with.
    Resolved,
    /// Legitimate behaviour (the engine may fold it into its baseline).
    Expected,
}

impl AlertStatus {
    /// Every status, in triage order.
    pub const ALL: [AlertStatus; 4] = [
        Self::Open,
        Self::Acknowledged,
        Self::Resolved,
        Self::Expected,
    ];

    /// The stored and displayed name (`open`, `acknowledged` ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
            Self::Expected => "expected",
        }
    }
}

impl std::str::FromStr for AlertStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown alert status {s:?}"))
    }
}

impl std::fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A snapshot of the engine's learnt state, as `learn::Engine::save` returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelSnapshot {
    /// Packet time of the snapshot.
    pub at: Timestamp,
    /// (model name, JSON state) pairs; each replaces the stored state of that name.
    pub states: Vec<(String, String)>,
}

/// An alert as stored: the record plus its triage.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredAlert {
    /// The record as the engine last wrote it.
    pub alert: Alert,
    /// The operator's verdict.
    pub status: AlertStatus,
    /// The operator's note, if any.
    pub comment: Option<String>,
    /// When the triage last changed (the time given to [`Store::set_alert_status`]).
    pub updated_at: Option<Timestamp>,
}

/// Which alerts [`Store::alerts`] returns. All conditions must hold; `None` means any.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    /// Only alerts whose first evidence is at or after this time.
    pub from: Option<Timestamp>,
    /// Only alerts whose first evidence is before this time.
    pub to: Option<Timestamp>,
    /// Only alerts of this severity or higher.
    pub min_severity: Option<Severity>,
    /// Only this category.
    pub category: Option<Category>,
    /// Only alerts with this triage status.
    pub status: Option<AlertStatus>,
    /// Only alerts with this address as source or destination.
    pub ip: Option<IpAddr>,
    /// Latest first instead of earliest first.
    pub newest_first: bool,
    /// At most this many alerts.
    pub limit: Option<u32>,
}

/// The stored name of a severity (as in the `alert` record).
pub(crate) fn severity_str(severity: Severity) -> &'static str {
    match severity {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

const SEVERITIES: [Severity; 4] = [
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];

impl Store {
    /// Stores the engine's state (each name replaces its previous state) in one
    /// transaction.
    pub fn save_model_state(
        &mut self,
        states: &[(String, String)],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let p = &self.path;
        let op = "save model state";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql(p, op))?;
        write_model_state(&tx, p, op, states, at)?;
        tx.commit().map_err(sql(p, op))
    }

    /// The stored engine state, ordered by name, ready for `learn::Engine::restore`.
    pub fn load_model_state(&self) -> Result<Vec<(String, String)>, StoreError> {
        let p = &self.path;
        let op = "load model state";
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name, json FROM model_state ORDER BY name")
            .map_err(sql(p, op))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(sql(p, op))?;
        rows.collect::<Result<_, _>>().map_err(sql(p, op))
    }

    /// Packet time of the latest model state save, if any.
    pub fn model_state_saved_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let p = &self.path;
        let at: Option<i64> = self
            .conn
            .query_row("SELECT max(saved_at) FROM model_state", [], |r| r.get(0))
            .map_err(sql(p, "read model state time"))?;
        Ok(at.map(Timestamp))
    }

    /// Inserts or replaces alerts by id in one transaction, keeping the triage of those
    /// already stored.
    pub fn upsert_alerts(&mut self, alerts: &[Alert]) -> Result<(), StoreError> {
        let p = &self.path;
        let op = "upsert alerts";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql(p, op))?;
        write_alerts(&tx, p, op, alerts)?;
        tx.commit().map_err(sql(p, op))
    }

    /// Alerts matching `filter`, by first evidence time (ties by id).
    pub fn alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>, StoreError> {
        let p = &self.path;
        let op = "query alerts";
        let (query, values) = alert_query(filter);
        let mut stmt = self.conn.prepare_cached(&query).map_err(sql(p, op))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(values))
            .map_err(sql(p, op))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(p, op))? {
            out.push(alert_from_row(row, p)?);
        }
        Ok(out)
    }

    /// The alert with this id, if stored.
    pub fn alert(&self, id: u64) -> Result<Option<StoredAlert>, StoreError> {
        let p = &self.path;
        let op = "query alerts";
        let mut stmt = self
            .conn
            .prepare_cached("SELECT * FROM alerts WHERE id = ?1")
            .map_err(sql(p, op))?;
        let mut rows = stmt
            .query([crate::codec::u64_to_sql(id)])
            .map_err(sql(p, op))?;
        match rows.next().map_err(sql(p, op))? {
            Some(row) => Ok(Some(alert_from_row(row, p)?)),
            None => Ok(None),
        }
    }

    /// Number of stored alerts.
    pub fn count_alerts(&self) -> Result<u64, StoreError> {
        self.count("SELECT count(*) FROM alerts", "count alerts")
    }

    /// The highest stored alert id (0 when none): a restarted engine whose state was lost
    /// must number new alerts above it, or they would overwrite old ones.
    pub fn max_alert_id(&self) -> Result<u64, StoreError> {
        let p = &self.path;
        let id: Option<i64> = self
            .conn
            .query_row("SELECT max(id) FROM alerts", [], |r| r.get(0))
            .optional()
            .map_err(sql(p, "read max alert id"))?
            .flatten();
        Ok(id.and_then(|id| u64::try_from(id).ok()).unwrap_or(0))
    }

    /// The highest flow id stored (0 when none): the next run numbers its flows after it.
    pub fn max_flow_id(&self) -> Result<u64, StoreError> {
        let p = &self.path;
        let id: Option<i64> = self
            .conn
            .query_row("SELECT max(flow_id) FROM flows", [], |r| r.get(0))
            .optional()
            .map_err(sql(p, "read max flow id"))?
            .flatten();
        Ok(id.and_then(|id| u64::try_from(id).ok()).unwrap_or(0))
    }

    /// Sets an alert's triage status and comment (replacing the previous comment) at
    /// `at`. Returns false when no alert has this id.
    pub fn set_alert_status(
        &mut self,
        id: u64,
        status: AlertStatus,
        comment: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let p = &self.path;
        let changed = self
            .conn
            .execute(
                "UPDATE alerts SET status = ?2, comment = ?3, updated_at = ?4 WHERE id = ?1",
                params![
                    crate::codec::u64_to_sql(id),
                    status.as_str(),
                    comment,
                    at.micros()
                ],
            )
            .map_err(sql(p, "set alert status"))?;
        Ok(changed > 0)
    }
}

/// Upserts model states inside `tx`.
pub(crate) fn write_model_state(
    tx: &Transaction<'_>,
    p: &Path,
    op: &'static str,
    states: &[(String, String)],
    at: Timestamp,
) -> Result<(), StoreError> {
    let mut upsert = tx
        .prepare_cached(
            "INSERT INTO model_state (name, json, saved_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET json = excluded.json, saved_at = excluded.saved_at",
        )
        .map_err(sql(p, op))?;
    for (name, json) in states {
        upsert
            .execute(params![name, json, at.micros()])
            .map_err(sql(p, op))?;
    }
    Ok(())
}

/// Upserts alerts inside `tx`, leaving the triage columns of existing rows alone.
pub(crate) fn write_alerts(
    tx: &Transaction<'_>,
    p: &Path,
    op: &'static str,
    alerts: &[Alert],
) -> Result<(), StoreError> {
    if alerts.is_empty() {
        return Ok(());
    }
    let mut upsert = tx
        .prepare_cached(
            "INSERT INTO alerts (id, ts, ts_last, category, severity, score, src_ip, dst_ip,
                json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET
                ts = excluded.ts, ts_last = excluded.ts_last, category = excluded.category,
                severity = excluded.severity, score = excluded.score,
                src_ip = excluded.src_ip, dst_ip = excluded.dst_ip, json = excluded.json",
        )
        .map_err(sql(p, op))?;
    for alert in alerts {
        // A non-finite score would be NULL in SQLite and `null` in JSON, and neither
        // reads back; it is stored as 0.
        let alert: Cow<'_, Alert> = if alert.score.is_finite() {
            Cow::Borrowed(alert)
        } else {
            let mut fixed = alert.clone();
            fixed.score = 0.0;
            Cow::Owned(fixed)
        };
        let json = serde_json::to_string(alert.as_ref()).map_err(|e| StoreError::Decode {
            path: p.to_path_buf(),
            table: "alerts",
            row: alert.id.to_string(),
            column: "json",
            reason: e.to_string(),
        })?;
        upsert
            .execute(params![
                crate::codec::u64_to_sql(alert.id),
                alert.ts.micros(),
                alert.ts_last.micros(),
                alert.category.name(),
                severity_str(alert.severity),
                alert.score,
                alert.src_ip.map(|ip| ip.to_string()),
                alert.dst_ip.map(|ip| ip.to_string()),
                json,
            ])
            .map_err(sql(p, op))?;
    }
    Ok(())
}

/// The SQL and parameters for [`Store::alerts`].
fn alert_query(filter: &AlertFilter) -> (String, Vec<rusqlite::types::Value>) {
    // As for flows: only the conditions in use go into the SQL, so the planner sees
    // them and picks an index.
    let mut query = String::from("SELECT * FROM alerts WHERE 1");
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(from) = filter.from {
        values.push(from.micros().into());
        query.push_str(&format!(" AND ts >= ?{}", values.len()));
    }
    if let Some(to) = filter.to {
        values.push(to.micros().into());
        query.push_str(&format!(" AND ts < ?{}", values.len()));
    }
    if let Some(min) = filter.min_severity {
        let mut names = Vec::new();
        for severity in SEVERITIES.into_iter().filter(|s| *s >= min) {
            values.push(severity_str(severity).to_string().into());
            names.push(format!("?{}", values.len()));
        }
        query.push_str(&format!(" AND severity IN ({})", names.join(", ")));
    }
    if let Some(category) = filter.category {
        values.push(category.name().to_string().into());
        query.push_str(&format!(" AND category = ?{}", values.len()));
    }
    if let Some(status) = filter.status {
        values.push(status.as_str().to_string().into());
        query.push_str(&format!(" AND status = ?{}", values.len()));
    }
    if let Some(ip) = filter.ip {
        values.push(ip.to_string().into());
        let n = values.len();
        query.push_str(&format!(" AND (src_ip = ?{n} OR dst_ip = ?{n})"));
    }
    let order = if filter.newest_first { "DESC" } else { "ASC" };
    values.push(filter.limit.map_or(-1, i64::from).into());
    query.push_str(&format!(
        " ORDER BY ts {order}, id {order} LIMIT ?{}",
        values.len()
    ));
    (query, values)
}

fn alert_from_row(row: &Row<'_>, path: &Path) -> Result<StoredAlert, StoreError> {
    let id: i64 = row.get("id").map_err(sql(path, "query alerts"))?;
    let c = RowCtx {
        path,
        table: "alerts",
        row: id.to_string(),
    };
    let mut alert: Alert = c.json(row, "json")?;
    // The REAL column holds the score bit for bit; JSON text may round the last digit.
    alert.score = c.get(row, "score")?;
    Ok(StoredAlert {
        alert,
        status: c.parse(row, "status")?,
        comment: c.get(row, "comment")?,
        updated_at: c.get::<Option<i64>>(row, "updated_at")?.map(Timestamp),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(store: &Store, filter: &AlertFilter) -> String {
        let (query, values) = alert_query(filter);
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
    fn alert_queries_use_the_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let by_time = plan(
            &store,
            &AlertFilter {
                from: Some(Timestamp(1)),
                newest_first: true,
                ..Default::default()
            },
        );
        assert!(by_time.contains("alerts_ts"), "{by_time}");
        let by_severity = plan(
            &store,
            &AlertFilter {
                min_severity: Some(Severity::High),
                ..Default::default()
            },
        );
        assert!(by_severity.contains("alerts_severity_ts"), "{by_severity}");
        let by_category = plan(
            &store,
            &AlertFilter {
                category: Some(Category::Scan),
                ..Default::default()
            },
        );
        assert!(by_category.contains("alerts_category_ts"), "{by_category}");
        let by_ip = plan(
            &store,
            &AlertFilter {
                ip: Some("10.0.0.1".parse().unwrap()),
                ..Default::default()
            },
        );
        assert!(by_ip.contains("alerts_src_ip"), "{by_ip}");
        assert!(by_ip.contains("alerts_dst_ip"), "{by_ip}");
    }

    #[test]
    fn statuses_parse_what_they_print() {
        for status in AlertStatus::ALL {
            assert_eq!(status.as_str().parse::<AlertStatus>(), Ok(status));
        }
        assert!("closed".parse::<AlertStatus>().is_err());
    }
}
