//! The learning stage of the pipeline: feeds the engine, keeps its view of the assets
//! current, and collects the alerts it closes.

use dissect::{Event, Observation};
use inventory::Inventory;
use learn::{Alert, AssetDirectory, Engine, FlowOpen};
use records::{AssetRecord, FlowRecord, Timestamp};
use sensor::flow::FlowStart;
use std::net::IpAddr;
use std::sync::Arc;
use wire::MacAddr;
use zones::ZonePolicy;

/// How often (packet time) the engine's asset directory is rebuilt from the inventory.
const ASSET_REFRESH_MICROS: i64 = 60_000_000;
/// Packets between rebuilds, per asset: deriving the inventory costs time in proportion
/// to its size, so a large network refreshes less often per packet-time minute and the
/// cost per packet stays flat (and deterministic: it counts packets, not wall time).
const PACKETS_PER_ASSET_REFRESH: u64 = 200;
/// How often (packet time) idle alerts are closed.
const CLOSE_INTERVAL_MICROS: i64 = 1_000_000;

/// The engine and what the pipeline needs around it.
pub struct Learning {
    engine: Engine,
    next_refresh: Timestamp,
    /// Packets seen since the last rebuild, and how many must pass before the next.
    packets_since_refresh: u64,
    packets_per_refresh: u64,
    next_close: Timestamp,
    /// Alerts closed and not yet taken by the pipeline.
    closed: Vec<Alert>,
    /// Assets stored by earlier runs: what the engine knows of a device before this
    /// run's inventory has seen it do anything.
    prior: Vec<AssetRecord>,
    /// The operator's zone file, if given.
    zones: Option<Arc<ZonePolicy>>,
    /// False when the run measures the stages before learning: inputs are dropped.
    on: bool,
}

impl Learning {
    /// Wraps `engine`.
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            next_refresh: Timestamp::default(),
            packets_since_refresh: 0,
            packets_per_refresh: 0,
            next_close: Timestamp::default(),
            closed: Vec::new(),
            prior: Vec::new(),
            zones: None,
            on: true,
        }
    }

    /// Wraps `engine` but feeds it nothing: the pipeline runs without learning.
    pub fn off(engine: Engine) -> Self {
        Self {
            on: false,
            ..Self::new(engine)
        }
    }

    /// Uses the operator's zone file for zones and zone-policy alerts.
    pub fn set_zones(&mut self, zones: Option<Arc<ZonePolicy>>, inventory: &Inventory) {
        self.zones = zones;
        self.refresh_assets(inventory);
    }

    /// Assets from earlier runs (the store), used until this run's inventory knows
    /// better.
    pub fn set_prior_assets(&mut self, assets: Vec<AssetRecord>, inventory: &Inventory) {
        self.prior = assets;
        self.refresh_assets(inventory);
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, mutably.
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// Time passes to `ts`: refreshes the asset view and closes idle alerts when due.
    pub fn advance(&mut self, ts: Timestamp, inventory: &Inventory) {
        if !self.on {
            return;
        }
        self.packets_since_refresh += 1;
        if ts >= self.next_refresh && self.packets_since_refresh >= self.packets_per_refresh {
            self.next_refresh = ts.plus_micros(ASSET_REFRESH_MICROS);
            self.refresh_assets(inventory);
        }
        if ts >= self.next_close {
            self.next_close = ts.plus_micros(CLOSE_INTERVAL_MICROS);
            self.engine.advance(ts);
            let closed = self.engine.close_idle(ts);
            self.closed.extend(closed);
        }
    }

    /// Rebuilds the engine's view of roles, names and zones from the inventory.
    pub fn refresh_assets(&mut self, inventory: &Inventory) {
        let mut assets = inventory.assets();
        self.packets_since_refresh = 0;
        self.packets_per_refresh = assets.len() as u64 * PACKETS_PER_ASSET_REFRESH;
        if !self.prior.is_empty() {
            // Earlier runs first, so this run's records (later in the list) win, except
            // where this run has not yet learnt a device's role.
            let known: std::collections::HashSet<&str> = assets
                .iter()
                .filter(|a| a.role != records::Role::Unknown)
                .map(|a| a.id.as_str())
                .collect();
            let mut merged: Vec<AssetRecord> = self
                .prior
                .iter()
                .filter(|a| !known.contains(a.id.as_str()))
                .cloned()
                .collect();
            let from_prior: std::collections::HashSet<&str> =
                merged.iter().map(|a| a.id.as_str()).collect();
            assets.retain(|a| {
                a.role != records::Role::Unknown || !from_prior.contains(a.id.as_str())
            });
            merged.append(&mut assets);
            assets = merged;
        }
        let mut directory = AssetDirectory::from_assets(&assets);
        directory.set_policy(self.zones.clone());
        self.engine.set_assets(directory);
    }

    /// A flow opened.
    pub fn flow_started(&mut self, start: &FlowStart) {
        if !self.on {
            return;
        }
        self.engine.on_flow_open(&FlowOpen {
            id: start.id,
            ts: start.ts,
            transport: start.transport,
            client_ip: start.client_ip,
            client_port: start.client_port,
            client_mac: start.client_mac,
            server_ip: start.server_ip,
            server_port: start.server_port,
            server_mac: start.server_mac,
            to_group: learn::assets::is_group(start.server_ip),
        });
    }

    /// A flow ended.
    pub fn flow_ended(&mut self, record: &FlowRecord) {
        if !self.on {
            return;
        }
        self.engine.on_flow_end(record);
    }

    /// A protocol event.
    pub fn event(&mut self, event: &Event) {
        if !self.on {
            return;
        }
        self.engine.on_event(event);
    }

    /// An observation a dissector made: identity fields and names.
    pub fn observation(&mut self, ts: Timestamp, obs: &Observation) {
        if !self.on {
            return;
        }
        match obs {
            Observation::Identity {
                ip,
                mac,
                field,
                value,
                source,
            } => self
                .engine
                .on_identity(ts, *ip, *mac, *field, value, source),
            Observation::Hostname {
                ip,
                mac,
                name,
                source,
            } => self.engine.on_name(ts, *ip, *mac, name, *source),
        }
    }

    /// `mac` claimed `ip` as the sender of an ARP message.
    pub fn arp(&mut self, ts: Timestamp, ip: IpAddr, mac: MacAddr) {
        if !self.on {
            return;
        }
        self.engine.on_address(ts, ip, mac);
        self.engine.on_arp(ts, ip, mac);
    }

    /// An IP packet and the MAC that carried it.
    pub fn ip_frame(
        &mut self,
        ts: Timestamp,
        src_mac: MacAddr,
        vlan: Option<u16>,
        ip: &wire::IpInfo<'_>,
    ) {
        if !self.on {
            return;
        }
        self.engine.on_ip_frame(&learn::IpFrame {
            ts,
            src_mac,
            src_ip: ip.src,
            dst_ip: ip.dst,
            ident: ip.ident,
            len: ip.total_len,
            ttl: ip.ttl,
            vlan,
        });
    }

    /// `ip` seen behind `mac`.
    pub fn address(&mut self, ts: Timestamp, ip: IpAddr, mac: MacAddr) {
        if !self.on {
            return;
        }
        self.engine.on_address(ts, ip, mac);
    }

    /// A non-IP frame from `mac`.
    pub fn mac_frame(&mut self, ts: Timestamp, mac: MacAddr) {
        if !self.on {
            return;
        }
        self.engine.on_mac(ts, mac);
    }

    /// Alerts closed since the last call, in id order.
    pub fn take_closed(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.closed)
    }

    /// End of input: refreshes the asset view and lets time reach `ts`, closing the
    /// alerts whose window has passed (see [`Learning::take_closed`]).
    pub fn settle(&mut self, ts: Timestamp, inventory: &Inventory) {
        self.refresh_assets(inventory);
        self.engine.advance(ts);
        self.engine.end_of_input(ts);
        let closed = self.engine.close_idle(ts);
        self.closed.extend(closed);
    }
}
