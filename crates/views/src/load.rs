//! Reading what each page needs from the store.
//!
//! Every read is an indexed query with a limit, or a read of the store's roll-ups
//! (flow pairs, hourly activity), so a page costs the same on a store of a million flows
//! as on a small one. The learnt state ([`Learnt`]) is the one large read: load it once
//! and reuse it until [`store::Store::model_state_saved_at`] changes.

use learn::{AssetDirectory, Engine, EngineConfig, ZoneKind};
use records::{AssetRecord, Role, Timestamp};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use store::{AlertFilter, Store, StoreError, StoredAlert, HOUR_MICROS};

/// Most client/server pairs the map reads (largest by volume first).
pub const MAP_PAIRS: u32 = 20_000;
/// Most pairs read per address for an asset page.
pub const ASSET_PAIRS: u32 = 2_000;
/// Most alerts listed on an asset page.
pub const ASSET_ALERTS: u32 = 50;
/// Hours of activity charted on an asset page (ending at its last packet).
pub const ACTIVITY_HOURS: i64 = 7 * 24;
/// Addresses of one asset looked up (a gateway may carry many).
const ASSET_IPS: usize = 8;
/// Polling channels charted on an asset page.
pub const CYCLES: usize = 8;

/// Why a page could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The store failed.
    Store(StoreError),
    /// The stored model state could not be restored.
    ModelState(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Store(e) => write!(f, "{e}"),
            Self::ModelState(e) => write!(f, "learnt state: {e}"),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<StoreError> for LoadError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// One row of the inventory.
#[derive(Clone, Debug)]
pub struct AssetRow {
    /// The record as stored.
    pub asset: AssetRecord,
    /// Its zone: the record's, else the learnt subnet zone of its first address.
    pub zone: String,
    /// IT, OT or external, as the learning engine sees its zone.
    pub kind: ZoneKind,
    /// Open or acknowledged alerts naming one of its addresses.
    pub alerts: u64,
}

/// The inventory page's data.
#[derive(Clone, Debug, Default)]
pub struct AssetList {
    /// Every asset, ordered by id.
    pub rows: Vec<AssetRow>,
}

/// Reads the inventory.
pub fn asset_list(store: &Store) -> Result<AssetList, LoadError> {
    // Peers are not shown here and can be large: left unread.
    let assets = store.load_assets_without_peers()?;
    let alerts = alerts_per_ip(store)?;
    let dir = AssetDirectory::from_assets(&assets);
    let rows = assets
        .into_iter()
        .map(|asset| {
            let (zone, kind) = zone_of(&asset, &dir);
            let alerts = asset
                .ips
                .iter()
                .filter_map(|ip| alerts.get(ip))
                .sum::<u64>();
            AssetRow {
                asset,
                zone,
                kind,
                alerts,
            }
        })
        .collect();
    Ok(AssetList { rows })
}

/// The learning engine restored from the store, for baseline lines and polling cycles.
pub struct Learnt {
    engine: Engine,
    /// The timing model's saved state: its channels carry the polling intervals.
    timing: Vec<Channel>,
    /// Packet time of the state.
    pub saved_at: Option<Timestamp>,
}

impl std::fmt::Debug for Learnt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learnt")
            .field("saved_at", &self.saved_at)
            .field("channels", &self.timing.len())
            .finish_non_exhaustive()
    }
}

/// Restores the learnt state; `None` when nothing has been learnt yet.
pub fn learnt(store: &Store) -> Result<Option<Learnt>, LoadError> {
    let saved = store.load_model_state()?;
    if saved.is_empty() {
        return Ok(None);
    }
    let mut engine = Engine::new(EngineConfig::default());
    engine.restore(&saved).map_err(LoadError::ModelState)?;
    engine.set_assets(AssetDirectory::from_assets(&store.load_assets()?));
    let timing = saved
        .iter()
        .find(|(name, _)| name == "timing")
        .map(|(_, json)| channels(json))
        .unwrap_or_default();
    Ok(Some(Learnt {
        engine,
        timing,
        saved_at: store.model_state_saved_at()?,
    }))
}

/// One message stream of the timing model, as saved.
#[derive(Clone, Debug)]
struct Channel {
    sender: IpAddr,
    receiver: IpAddr,
    response: bool,
    function: u64,
    start: u64,
    protocol: String,
    function_name: String,
    space: String,
    messages: u64,
    base: Vec<f64>,
}

/// The channels in the timing model's saved JSON. The format is the model's own; a
/// channel that does not read as expected is skipped, never an error.
fn channels(json: &str) -> Vec<Channel> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let Some(list) = value.get("channels").and_then(|c| c.as_array()) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|entry| {
            let key = entry.get(0)?;
            let ch = entry.get(1)?;
            let text = |v: &serde_json::Value, k: &str| -> Option<String> {
                v.get(k)?.as_str().map(str::to_string)
            };
            Some(Channel {
                sender: text(key, "sender")?.parse().ok()?,
                receiver: text(key, "receiver")?.parse().ok()?,
                response: key.get("response")?.as_bool()?,
                function: key.get("function")?.as_u64()?,
                start: key.get("start")?.as_u64()?,
                protocol: text(ch, "protocol")?,
                function_name: text(ch, "function_name")?,
                space: text(ch, "space").unwrap_or_default(),
                messages: ch.get("messages")?.as_u64()?,
                base: ch
                    .get("base")?
                    .as_array()?
                    .iter()
                    .filter_map(serde_json::Value::as_f64)
                    .collect(),
            })
        })
        .collect()
}

/// A device this asset exchanged traffic with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// The peer's address.
    pub ip: IpAddr,
    /// The peer's asset id and role, when the inventory knows the address.
    pub asset: Option<(String, Role)>,
    /// Protocols this asset used as a client towards the peer (`""` for none).
    pub used: BTreeSet<String>,
    /// Protocols this asset served to the peer.
    pub served: BTreeSet<String>,
    /// Flows between them.
    pub flows: u64,
    /// Packets, both directions.
    pub packets: u64,
    /// IP bytes, both directions.
    pub bytes: u64,
    /// End of the latest flow.
    pub last: Timestamp,
}

/// A labelled quantity in a mix (bar chart).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    /// What is counted.
    pub label: String,
    /// How much.
    pub value: u64,
}

/// A polling stream this asset takes part in, with its learnt intervals.
#[derive(Clone, Debug, PartialEq)]
pub struct PollCycle {
    /// `10.10.2.10 → 10.10.1.11 modbus read_holding_registers (holding_register 0)`.
    pub label: String,
    /// Messages seen.
    pub messages: u64,
    /// Median interval, seconds.
    pub cycle: f64,
    /// The baseline's intervals, seconds, oldest first.
    pub intervals: Vec<f64>,
}

/// The asset page's data.
#[derive(Clone, Debug)]
pub struct AssetContext {
    /// The record.
    pub asset: AssetRecord,
    /// Its zone (the record's, else its learnt subnet zone).
    pub zone: String,
    /// IT, OT or external.
    pub kind: ZoneKind,
    /// Its latest alerts, newest first (at most [`ASSET_ALERTS`]).
    pub alerts: Vec<StoredAlert>,
    /// Its peers, most bytes first.
    pub peers: Vec<Peer>,
    /// Flows and bytes per hour over its last [`ACTIVITY_HOURS`] hours of activity.
    pub activity: Vec<store::HourActivity>,
    /// Bytes per application protocol in its flows.
    pub protocol_mix: Vec<Share>,
    /// Requests per protocol operation in the streams it takes part in.
    pub operation_mix: Vec<Share>,
    /// Its busiest polling streams (at most [`CYCLES`]).
    pub cycles: Vec<PollCycle>,
    /// What the learning engine has learnt about it, in plain lines.
    pub baseline: Vec<String>,
}

/// Reads one asset's page; `None` when no asset has this id. `learnt` (from
/// [`learnt`]) adds the baseline, operation mix and polling cycles.
pub fn asset(
    store: &Store,
    id: &str,
    learnt: Option<&Learnt>,
) -> Result<Option<AssetContext>, LoadError> {
    let Some(asset) = store.asset(id)? else {
        return Ok(None);
    };
    let ips: Vec<IpAddr> = asset.ips.iter().copied().take(ASSET_IPS).collect();
    let refs = store.asset_refs()?;
    let by_ip: HashMap<IpAddr, (&str, Role)> = refs
        .iter()
        .flat_map(|r| r.ips.iter().map(move |ip| (*ip, (r.id.as_str(), r.role))))
        .collect();

    let mut peers: BTreeMap<IpAddr, Peer> = BTreeMap::new();
    let mut protocols: BTreeMap<String, u64> = BTreeMap::new();
    for ip in &ips {
        for pair in store.flow_pairs_of(*ip, ASSET_PAIRS)? {
            let (peer_ip, as_client) = if pair.src_ip == *ip {
                (pair.dst_ip, true)
            } else {
                (pair.src_ip, false)
            };
            if ips.contains(&peer_ip) {
                continue;
            }
            let app = pair.app.clone().unwrap_or_default();
            let entry = peers.entry(peer_ip).or_insert_with(|| Peer {
                ip: peer_ip,
                asset: by_ip
                    .get(&peer_ip)
                    .map(|(id, role)| ((*id).to_string(), *role)),
                used: BTreeSet::new(),
                served: BTreeSet::new(),
                flows: 0,
                packets: 0,
                bytes: 0,
                last: pair.last,
            });
            if as_client {
                entry.used.insert(app.clone());
            } else {
                entry.served.insert(app.clone());
            }
            entry.flows = entry.flows.saturating_add(pair.flows);
            entry.packets = entry.packets.saturating_add(pair.packets);
            entry.bytes = entry.bytes.saturating_add(pair.bytes);
            entry.last = entry.last.max(pair.last);
            let label = if app.is_empty() { "other".into() } else { app };
            let total = protocols.entry(label).or_default();
            *total = total.saturating_add(pair.bytes);
        }
    }
    let mut peers: Vec<Peer> = peers.into_values().collect();
    peers.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.ip.cmp(&b.ip)));

    let mut alerts: Vec<StoredAlert> = Vec::new();
    for ip in &ips {
        alerts.extend(store.alerts(&AlertFilter {
            ip: Some(*ip),
            newest_first: true,
            limit: Some(ASSET_ALERTS),
            ..Default::default()
        })?);
    }
    alerts.sort_by(|a, b| {
        b.alert
            .ts
            .cmp(&a.alert.ts)
            .then(b.alert.id.cmp(&a.alert.id))
    });
    alerts.dedup_by_key(|a| a.alert.id);
    alerts.truncate(ASSET_ALERTS as usize);

    let from = Timestamp(
        asset
            .last_seen
            .micros()
            .saturating_sub(ACTIVITY_HOURS * HOUR_MICROS),
    );
    let mut hours: BTreeMap<Timestamp, (u64, u64)> = BTreeMap::new();
    for ip in &ips {
        for h in store.ip_activity(*ip, from, (ACTIVITY_HOURS + 1) as u32)? {
            let e = hours.entry(h.hour).or_default();
            e.0 = e.0.saturating_add(h.flows);
            e.1 = e.1.saturating_add(h.bytes);
        }
    }
    let activity = hours
        .into_iter()
        .map(|(hour, (flows, bytes))| store::HourActivity { hour, flows, bytes })
        .collect();

    let (operation_mix, cycles, baseline) = match learnt {
        Some(l) => (
            operations(l, &ips),
            cycles(l, &ips),
            ips.iter()
                .flat_map(|ip| l.engine.baseline(Some(*ip)))
                .collect(),
        ),
        None => (Vec::new(), Vec::new(), Vec::new()),
    };

    let mut protocol_mix: Vec<Share> = protocols
        .into_iter()
        .map(|(label, value)| Share { label, value })
        .collect();
    protocol_mix.sort_by(|a, b| b.value.cmp(&a.value).then(a.label.cmp(&b.label)));

    let (zone, kind) = zone_of_among(&asset, &refs);
    Ok(Some(AssetContext {
        asset,
        zone,
        kind,
        alerts,
        peers,
        activity,
        protocol_mix,
        operation_mix,
        cycles,
        baseline,
    }))
}

/// Requests per `protocol function` in the request streams `ips` send or receive.
fn operations(learnt: &Learnt, ips: &[IpAddr]) -> Vec<Share> {
    let mut mix: BTreeMap<String, u64> = BTreeMap::new();
    for c in learnt
        .timing
        .iter()
        .filter(|c| !c.response && (ips.contains(&c.sender) || ips.contains(&c.receiver)))
    {
        let n = mix
            .entry(format!("{} {}", c.protocol, c.function_name))
            .or_default();
        *n = n.saturating_add(c.messages);
    }
    let mut out: Vec<Share> = mix
        .into_iter()
        .map(|(label, value)| Share { label, value })
        .collect();
    out.sort_by(|a, b| b.value.cmp(&a.value).then(a.label.cmp(&b.label)));
    out
}

/// The request streams of `ips` with enough intervals to show a cycle, busiest first.
fn cycles(learnt: &Learnt, ips: &[IpAddr]) -> Vec<PollCycle> {
    let mut out: Vec<PollCycle> = learnt
        .timing
        .iter()
        .filter(|c| !c.response && (ips.contains(&c.sender) || ips.contains(&c.receiver)))
        .filter(|c| c.base.len() >= 4)
        .map(|c| {
            let mut sorted = c.base.clone();
            sorted.sort_by(f64::total_cmp);
            let cycle = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
            let what = if c.space.is_empty() {
                format!("{} {}", c.protocol, c.function_name)
            } else {
                format!(
                    "{} {} ({} {})",
                    c.protocol, c.function_name, c.space, c.start
                )
            };
            PollCycle {
                label: format!("{} → {} {what} [{}]", c.sender, c.receiver, c.function),
                messages: c.messages,
                cycle,
                intervals: c.base.clone(),
            }
        })
        .collect();
    out.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.label.cmp(&b.label)));
    out.truncate(CYCLES);
    out
}

/// Open or acknowledged alerts per address they name.
fn alerts_per_ip(store: &Store) -> Result<HashMap<IpAddr, u64>, StoreError> {
    let mut out: HashMap<IpAddr, u64> = HashMap::new();
    for pair in store.untriaged_alert_pairs()? {
        for ip in [pair.src_ip, pair.dst_ip].into_iter().flatten() {
            let n = out.entry(ip).or_default();
            *n = n.saturating_add(pair.alerts);
        }
    }
    Ok(out)
}

/// The asset's zone and its kind: the record's zone when set, else the learnt zone of
/// its first address; `-` for an asset without addresses.
fn zone_of(asset: &AssetRecord, dir: &AssetDirectory) -> (String, ZoneKind) {
    let learnt = asset.ips.iter().next().map(|ip| dir.zone(*ip));
    let kind = match (&learnt, asset.role) {
        (Some((_, kind)), _) => *kind,
        (None, role) if learn::assets::is_ot_role(role) => ZoneKind::Ot,
        (None, _) => ZoneKind::It,
    };
    let zone = asset
        .zone
        .clone()
        .or(learnt.map(|(z, _)| z))
        .unwrap_or_else(|| "-".into());
    (zone, kind)
}

/// [`zone_of`] for one asset without a full directory: its subnet zone is OT when any
/// device in it has an OT role (as `learn::AssetDirectory` decides).
fn zone_of_among(asset: &AssetRecord, refs: &[store::AssetRef]) -> (String, ZoneKind) {
    let Some(ip) = asset.ips.iter().next().copied() else {
        return zone_of(asset, &AssetDirectory::default());
    };
    let (learnt, kind) = if learn::assets::is_public(ip) {
        ("external".to_string(), ZoneKind::External)
    } else {
        let zone = learn::assets::subnet_zone(ip);
        let ot = refs.iter().any(|r| {
            learn::assets::is_ot_role(r.role)
                && r.ips.iter().any(|i| learn::assets::subnet_zone(*i) == zone)
        });
        (zone, if ot { ZoneKind::Ot } else { ZoneKind::It })
    };
    (asset.zone.clone().unwrap_or(learnt), kind)
}

/// A node of the network map: one asset, or an address the inventory does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapNode {
    /// The asset id, or `None` for an address outside the inventory.
    pub id: Option<String>,
    /// Short label: first hostname, else first address, else the id.
    pub label: String,
    /// First address, if any.
    pub ip: Option<IpAddr>,
    /// Role.
    pub role: Role,
    /// Zone name.
    pub zone: String,
    /// IT, OT or external.
    pub kind: ZoneKind,
    /// Purdue level: the record's, else estimated from the role and zone kind.
    pub level: u8,
    /// True when `level` is an estimate.
    pub level_estimated: bool,
    /// Open or acknowledged alerts naming the node.
    pub alerts: u64,
}

/// Purdue level used for the external layer (above 4–5).
pub const EXTERNAL_LEVEL: u8 = 6;

/// An edge of the map: all flows from one client node to one server node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEdge {
    /// Index of the client node in [`MapData::nodes`].
    pub from: usize,
    /// Index of the server node.
    pub to: usize,
    /// Application protocols (`other` for flows without one).
    pub protocols: BTreeSet<String>,
    /// Flows.
    pub flows: u64,
    /// IP bytes, both directions.
    pub bytes: u64,
    /// True when the two ends are in different zones or Purdue levels.
    pub crossing: bool,
    /// True when one end is in an IT (or external) zone and the other in an OT zone.
    pub it_ot: bool,
    /// True when an untriaged alert names this client and server.
    pub alerting: bool,
}

/// The network map's data.
#[derive(Clone, Debug, Default)]
pub struct MapData {
    /// Assets, then addresses outside the inventory, each once.
    pub nodes: Vec<MapNode>,
    /// Client → server edges.
    pub edges: Vec<MapEdge>,
    /// Pairs left out because the map read [`MAP_PAIRS`] pairs already.
    pub pairs_truncated: bool,
}

/// Most nodes made for addresses outside the inventory.
const MAX_OUTSIDE_NODES: usize = 512;

/// Reads the network map.
pub fn map(store: &Store) -> Result<MapData, LoadError> {
    // Peers are not shown here and can be large: left unread.
    let assets = store.load_assets_without_peers()?;
    let dir = AssetDirectory::from_assets(&assets);
    let alerting = store.untriaged_alert_pairs()?;
    let mut per_ip: HashMap<IpAddr, u64> = HashMap::new();
    let mut alert_pairs: BTreeSet<(IpAddr, IpAddr)> = BTreeSet::new();
    for p in &alerting {
        for ip in [p.src_ip, p.dst_ip].into_iter().flatten() {
            let n = per_ip.entry(ip).or_default();
            *n = n.saturating_add(p.alerts);
        }
        if let (Some(s), Some(d)) = (p.src_ip, p.dst_ip) {
            alert_pairs.insert((s, d));
        }
    }

    let mut nodes: Vec<MapNode> = Vec::with_capacity(assets.len());
    let mut index: HashMap<IpAddr, usize> = HashMap::new();
    for asset in &assets {
        let (zone, kind) = zone_of(asset, &dir);
        let (level, level_estimated) = match asset.purdue_level {
            Some(l) => (l.min(EXTERNAL_LEVEL), false),
            None => (estimated_level(asset.role, kind), true),
        };
        let n = nodes.len();
        for ip in &asset.ips {
            index.entry(*ip).or_insert(n);
        }
        nodes.push(MapNode {
            id: Some(asset.id.clone()),
            label: asset
                .hostnames
                .iter()
                .next()
                .cloned()
                .or_else(|| asset.ips.iter().next().map(ToString::to_string))
                .unwrap_or_else(|| asset.id.clone()),
            ip: asset.ips.iter().next().copied(),
            role: asset.role,
            zone,
            kind,
            level,
            level_estimated,
            alerts: asset.ips.iter().filter_map(|ip| per_ip.get(ip)).sum(),
        });
    }

    let pairs = store.flow_pairs(MAP_PAIRS)?;
    let pairs_truncated = pairs.len() >= MAP_PAIRS as usize;
    let mut outside = 0usize;
    let mut edges: BTreeMap<(usize, usize), MapEdge> = BTreeMap::new();
    for pair in &pairs {
        // Broadcast and multicast destinations are never devices or peers.
        if learn::assets::is_group(pair.src_ip) || learn::assets::is_group(pair.dst_ip) {
            continue;
        }
        let mut ends = [0usize; 2];
        for (slot, ip) in ends.iter_mut().zip([pair.src_ip, pair.dst_ip]) {
            *slot = match index.get(&ip) {
                Some(n) => *n,
                None if outside < MAX_OUTSIDE_NODES => {
                    outside += 1;
                    let (zone, kind) = dir.zone(ip);
                    let n = nodes.len();
                    nodes.push(MapNode {
                        id: None,
                        label: ip.to_string(),
                        ip: Some(ip),
                        role: Role::Unknown,
                        level: estimated_level(Role::Unknown, kind),
                        level_estimated: true,
                        zone,
                        kind,
                        alerts: per_ip.get(&ip).copied().unwrap_or(0),
                    });
                    index.insert(ip, n);
                    n
                }
                None => usize::MAX,
            };
        }
        let [from, to] = ends;
        if from == usize::MAX || to == usize::MAX || from == to {
            continue;
        }
        let (a, b) = (&nodes[from], &nodes[to]);
        let crossing = a.zone != b.zone || a.level != b.level;
        let it_ot = (a.kind == ZoneKind::Ot) != (b.kind == ZoneKind::Ot);
        let edge = edges.entry((from, to)).or_insert_with(|| MapEdge {
            from,
            to,
            protocols: BTreeSet::new(),
            flows: 0,
            bytes: 0,
            crossing,
            it_ot,
            alerting: false,
        });
        edge.protocols
            .insert(pair.app.clone().unwrap_or_else(|| "other".into()));
        edge.flows = edge.flows.saturating_add(pair.flows);
        edge.bytes = edge.bytes.saturating_add(pair.bytes);
        edge.alerting |= alert_pairs.contains(&(pair.src_ip, pair.dst_ip));
    }
    Ok(MapData {
        nodes,
        edges: edges.into_values().collect(),
        pairs_truncated,
    })
}

/// Purdue level from what a device does, when no zone file gave one: controllers at
/// 1, supervisory devices at 2, historians and gateways at 3, IT at 4; public
/// addresses in the external layer; devices of unknown role by their zone's kind.
pub fn estimated_level(role: Role, kind: ZoneKind) -> u8 {
    if kind == ZoneKind::External {
        return EXTERNAL_LEVEL;
    }
    match role {
        Role::Plc | Role::Rtu | Role::Ied => 1,
        Role::Hmi | Role::ScadaServer | Role::EngineeringWorkstation => 2,
        Role::Historian | Role::Gateway => 3,
        Role::ItHost => 4,
        Role::Network | Role::Unknown => match kind {
            ZoneKind::Ot => 2,
            ZoneKind::It | ZoneKind::External => 4,
        },
    }
}
