//! The roll-up tables (schema v3), written with each batch of flows, and their reads
//! for pages showing a whole network or one
//! asset need: client/server pairs with their volume, an address's flows per hour, and
//! which address pairs have untriaged alerts. Each read touches roll-up rows or index
//! entries only, never the flows themselves, so its cost does not grow with traffic.

use crate::error::{sql, StoreError};
use crate::{RowCtx, Store};
use records::{FlowRecord, Timestamp};
use rusqlite::{params, Row, Transaction};
use std::collections::HashMap;
use std::net::IpAddr;

/// Microseconds in an hour: the roll-up's time bucket.
pub const HOUR_MICROS: i64 = 3_600_000_000;

/// All flows from one client to one server with one application protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowPair {
    /// The initiator.
    pub src_ip: IpAddr,
    /// The responder.
    pub dst_ip: IpAddr,
    /// Application protocol (dissector name), if any.
    pub app: Option<String>,
    /// Number of flows.
    pub flows: u64,
    /// Packets in both directions.
    pub packets: u64,
    /// IP bytes in both directions.
    pub bytes: u64,
    /// Start of the earliest flow.
    pub first: Timestamp,
    /// End of the latest flow.
    pub last: Timestamp,
}

/// How many untriaged alerts name one (source, destination) address pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AlertPair {
    /// The alerts' source address, if any.
    pub src_ip: Option<IpAddr>,
    /// The alerts' destination address, if any.
    pub dst_ip: Option<IpAddr>,
    /// Number of open or acknowledged alerts.
    pub alerts: u64,
}

/// An asset's id, role and addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetRef {
    /// The asset id.
    pub id: String,
    /// Its role.
    pub role: records::Role,
    /// Its addresses.
    pub ips: Vec<IpAddr>,
}

/// Flows an address took part in during one hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HourActivity {
    /// Start of the hour.
    pub hour: Timestamp,
    /// Flows started in the hour.
    pub flows: u64,
    /// IP bytes of those flows (both directions).
    pub bytes: u64,
}

impl Store {
    /// Client/server pairs by volume, largest first, at most `limit`.
    pub fn flow_pairs(&self, limit: u32) -> Result<Vec<FlowPair>, StoreError> {
        self.query_pairs(
            &format!(
                "SELECT {PAIR_COLUMNS} FROM flow_pairs
                 ORDER BY bytes DESC, src_ip, dst_ip, app LIMIT ?1"
            ),
            rusqlite::params![limit],
        )
    }

    /// The pairs `ip` takes part in as client or server, largest first, at most `limit`.
    pub fn flow_pairs_of(&self, ip: IpAddr, limit: u32) -> Result<Vec<FlowPair>, StoreError> {
        self.query_pairs(
            &format!(
                "SELECT {PAIR_COLUMNS} FROM (
                    SELECT * FROM flow_pairs WHERE src_ip = ?1
                    UNION ALL SELECT * FROM flow_pairs WHERE dst_ip = ?1 AND src_ip <> ?1)
                 ORDER BY bytes DESC, src_ip, dst_ip, app LIMIT ?2"
            ),
            rusqlite::params![ip.to_string(), limit],
        )
    }

    /// Flows and bytes `ip` took part in per hour, for hours starting at or after
    /// `from`, oldest first, at most `limit` hours (hours without flows are absent).
    pub fn ip_activity(
        &self,
        ip: IpAddr,
        from: Timestamp,
        limit: u32,
    ) -> Result<Vec<HourActivity>, StoreError> {
        let p = &self.path;
        let op = "query activity";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT hour, flows, bytes FROM ip_hours WHERE ip = ?1 AND hour >= ?2
                 ORDER BY hour LIMIT ?3",
            )
            .map_err(sql(p, op))?;
        let from_hour = from.micros().div_euclid(HOUR_MICROS);
        let mut rows = stmt
            .query(rusqlite::params![ip.to_string(), from_hour, limit])
            .map_err(sql(p, op))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(p, op))? {
            let c = RowCtx {
                path: p,
                table: "ip_hours",
                row: ip.to_string(),
            };
            let hour: i64 = c.get(row, "hour")?;
            out.push(HourActivity {
                hour: Timestamp(hour.saturating_mul(HOUR_MICROS)),
                flows: c.u64(row, "flows")?,
                bytes: c.u64(row, "bytes")?,
            });
        }
        Ok(out)
    }

    /// Untriaged (open or acknowledged) alerts per (source, destination) address pair,
    /// either of which may be absent, ordered by pair. Addresses the store cannot parse
    /// count as absent.
    pub fn untriaged_alert_pairs(&self) -> Result<Vec<AlertPair>, StoreError> {
        let p = &self.path;
        let op = "query alerting addresses";
        // One status at a time: each is then read in index order, without a sort.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT src_ip, dst_ip, count(*) FROM alerts
                 WHERE status = ?1 GROUP BY src_ip, dst_ip",
            )
            .map_err(sql(p, op))?;
        let mut counts: std::collections::BTreeMap<(Option<IpAddr>, Option<IpAddr>), u64> =
            std::collections::BTreeMap::new();
        for status in ["open", "acknowledged"] {
            let mut rows = stmt.query([status]).map_err(sql(p, op))?;
            while let Some(row) = rows.next().map_err(sql(p, op))? {
                let src: Option<String> = row.get(0).map_err(sql(p, op))?;
                let dst: Option<String> = row.get(1).map_err(sql(p, op))?;
                let n: i64 = row.get(2).map_err(sql(p, op))?;
                let key = (
                    src.and_then(|s| s.parse().ok()),
                    dst.and_then(|s| s.parse().ok()),
                );
                let total = counts.entry(key).or_default();
                *total = total.saturating_add(u64::try_from(n).unwrap_or(0));
            }
        }
        Ok(counts
            .into_iter()
            .map(|((src_ip, dst_ip), alerts)| AlertPair {
                src_ip,
                dst_ip,
                alerts,
            })
            .collect())
    }

    /// Every asset's id, role and addresses, ordered by id: enough to name and link
    /// the peers of a device without decoding whole records.
    pub fn asset_refs(&self) -> Result<Vec<AssetRef>, StoreError> {
        let p = &self.path;
        let op = "load asset references";
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, role, ips FROM assets ORDER BY id")
            .map_err(sql(p, op))?;
        let mut rows = stmt.query([]).map_err(sql(p, op))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(p, op))? {
            let id: String = row.get(0).map_err(sql(p, op))?;
            let c = RowCtx {
                path: p,
                table: "assets",
                row: id.clone(),
            };
            let role: String = c.get(row, "role")?;
            out.push(AssetRef {
                role: crate::codec::role_from_str(&role)
                    .ok_or_else(|| c.err("role", format!("unknown role {role:?}")))?,
                ips: c.json(row, "ips")?,
                id,
            });
        }
        Ok(out)
    }

    /// Every stored asset, ordered by id, with `peers` left empty: for pages listing
    /// many assets, which do not show peers (a server's peer set can be large).
    pub fn load_assets_without_peers(&self) -> Result<Vec<records::AssetRecord>, StoreError> {
        self.query_assets(
            "SELECT id, mac, vendor, role, zone, purdue_level, first_seen, last_seen,
                is_gateway, identity, ips, hostnames, protocols_served, protocols_used,
                '[]' AS peers
             FROM assets ORDER BY id",
            [],
        )
    }

    fn query_pairs<P: rusqlite::Params>(
        &self,
        query: &str,
        params: P,
    ) -> Result<Vec<FlowPair>, StoreError> {
        let p = &self.path;
        let op = "query flow pairs";
        let mut stmt = self.conn.prepare_cached(query).map_err(sql(p, op))?;
        let mut rows = stmt.query(params).map_err(sql(p, op))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(p, op))? {
            out.push(pair_from_row(row, p)?);
        }
        Ok(out)
    }
}

/// Columns of the pair queries, in this order.
const PAIR_COLUMNS: &str = "src_ip, dst_ip, app, flows, packets, bytes, first_ts, last_ts";

fn pair_from_row(row: &Row<'_>, path: &std::path::Path) -> Result<FlowPair, StoreError> {
    // Columns by position, and the error context built only on failure: the map
    // reads tens of thousands of pairs.
    let src: String = row.get(0).map_err(sql(path, "query flow pairs"))?;
    let dst: String = row.get(1).map_err(sql(path, "query flow pairs"))?;
    let ctx = || RowCtx {
        path,
        table: "flow_pairs",
        row: format!("{src}>{dst}"),
    };
    let int = |i: usize, column: &'static str| -> Result<i64, StoreError> {
        row.get::<_, i64>(i).map_err(|e| ctx().err(column, e))
    };
    let count = |i: usize, column: &'static str| -> Result<u64, StoreError> {
        let v = int(i, column)?;
        u64::try_from(v).map_err(|_| ctx().err(column, format!("negative count {v}")))
    };
    let app: String = row.get(2).map_err(|e| ctx().err("app", e))?;
    Ok(FlowPair {
        src_ip: src
            .parse()
            .map_err(|e| ctx().err("src_ip", format!("{src:?}: {e}")))?,
        dst_ip: dst
            .parse()
            .map_err(|e| ctx().err("dst_ip", format!("{dst:?}: {e}")))?,
        app: (!app.is_empty()).then_some(app),
        flows: count(3, "flows")?,
        packets: count(4, "packets")?,
        bytes: count(5, "bytes")?,
        first: Timestamp(int(6, "first_ts")?),
        last: Timestamp(int(7, "last_ts")?),
    })
}

/// Flows, packets, bytes, first start and last end of one pair within a batch.
#[derive(Clone, Copy)]
struct PairSums {
    flows: i64,
    packets: i64,
    bytes: i64,
    first: i64,
    last: i64,
}

/// Saturating i64 from a counter sum, like the flow columns.
fn sat(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Folds `flows` into the roll-ups within the batch's transaction: sums per pair and
/// per (address, hour) first, so a batch costs one upsert per distinct pair and hour
/// rather than several per flow.
pub(crate) fn write(
    tx: &Transaction<'_>,
    p: &std::path::Path,
    op: &'static str,
    flows: &[FlowRecord],
) -> Result<(), StoreError> {
    let mut pairs: HashMap<(std::net::IpAddr, std::net::IpAddr, &str), PairSums> = HashMap::new();
    let mut hours: HashMap<(std::net::IpAddr, i64), (i64, i64)> = HashMap::new();
    for f in flows {
        let packets = sat(f.packets_to_server.saturating_add(f.packets_to_client));
        let bytes = sat(f.bytes_to_server.saturating_add(f.bytes_to_client));
        let e = pairs
            .entry((f.src_ip, f.dst_ip, f.app.unwrap_or("")))
            .or_insert(PairSums {
                flows: 0,
                packets: 0,
                bytes: 0,
                first: f.ts_start.micros(),
                last: f.ts_end.micros(),
            });
        e.flows = e.flows.saturating_add(1);
        e.packets = e.packets.saturating_add(packets);
        e.bytes = e.bytes.saturating_add(bytes);
        e.first = e.first.min(f.ts_start.micros());
        e.last = e.last.max(f.ts_end.micros());
        let hour = f.ts_start.micros().div_euclid(HOUR_MICROS);
        let ends = if f.src_ip == f.dst_ip {
            &[f.src_ip][..]
        } else {
            &[f.src_ip, f.dst_ip][..]
        };
        for ip in ends {
            let h = hours.entry((*ip, hour)).or_insert((0, 0));
            h.0 = h.0.saturating_add(1);
            h.1 = h.1.saturating_add(bytes);
        }
    }
    // Sums are added in floating point and cast back, saturating at i64::MAX.
    let mut upsert_pair = tx
        .prepare_cached(
            "INSERT INTO flow_pairs VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (src_ip, dst_ip, app) DO UPDATE SET
                flows = flows + excluded.flows,
                packets = CAST(packets + 0.0 + excluded.packets AS INTEGER),
                bytes = CAST(bytes + 0.0 + excluded.bytes AS INTEGER),
                first_ts = min(first_ts, excluded.first_ts),
                last_ts = max(last_ts, excluded.last_ts)",
        )
        .map_err(sql(p, op))?;
    for ((src, dst, app), s) in &pairs {
        upsert_pair
            .execute(params![
                src.to_string(),
                dst.to_string(),
                app,
                s.flows,
                s.packets,
                s.bytes,
                s.first,
                s.last
            ])
            .map_err(sql(p, op))?;
    }
    let mut upsert_hour = tx
        .prepare_cached(
            "INSERT INTO ip_hours VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (ip, hour) DO UPDATE SET
                flows = flows + excluded.flows,
                bytes = CAST(bytes + 0.0 + excluded.bytes AS INTEGER)",
        )
        .map_err(sql(p, op))?;
    for ((ip, hour), (n, bytes)) in &hours {
        upsert_hour
            .execute(params![ip.to_string(), hour, n, bytes])
            .map_err(sql(p, op))?;
    }
    Ok(())
}
