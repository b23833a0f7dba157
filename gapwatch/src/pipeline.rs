//! The pipeline: source packets → decode → flows/reassembly/dissectors → inventory →
//! JSON output and the store.

use crate::event_log::EventLog;
use crate::evidence::{EvidenceConfig, EvidenceRecorder};
use crate::learning::Learning;
use crate::output::RecordWriter;
use crate::summary::{Summary, TrafficTally};
use anyhow::{Context, Result};
use dissect::l2::L2Frame;
use dissect::{Attr, Emitter, Event, FlowContext, NameSource, OpClass, Registry};
use inventory::{Inventory, InventoryConfig};
use learn::{Alert, Engine, EngineConfig};
use records::{AssetRecord, FlowRecord, Timestamp};
use sensor::flow::{FlowConfig, FlowOutput, FlowProcessor, FlowStart, FlowStats};
use sensor::source::{PacketSource, RawPacket, SourceStats};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use store::{Batch, ModelSnapshot, RunId, RunProgress, Store};
use wire::{Decoded, Network};

/// How often (packet time) flow records are committed to the store.
const BATCH_INTERVAL_MICROS: i64 = 1_000_000;
/// How often (packet time) the asset inventory is written to the store.
const ASSET_INTERVAL_MICROS: i64 = 60_000_000;

/// How much of the pipeline runs. Everything but [`Stages::Full`] exists to measure
/// what each stage costs (`gapwatch bench`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stages {
    /// The sensor core: decoding, flows, reassembly, the host-naming dissectors and the
    /// inventory.
    Core,
    /// The core and every protocol dissector, without learning.
    Dissectors,
    /// Everything: the dissectors and the learning engine.
    #[default]
    Full,
}

/// Where a run comes from and where it keeps state.
#[derive(Clone, Debug, Default)]
pub struct PipelineOptions {
    /// State folder; `None` keeps nothing between runs.
    pub state: Option<PathBuf>,
    /// Human description of the source (file names or interface), stored with the run.
    pub source_description: String,
    /// Learning period (microseconds of packet time from the first packet); `None`
    /// keeps the engine's default.
    pub learn_micros: Option<i64>,
    /// The operator's zone file.
    pub zones: Option<std::sync::Arc<zones::ZonePolicy>>,
    /// How much of the pipeline runs.
    pub stages: Stages,
}

/// Counters of the decode stage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Frames cut short by the snapshot length (their complete layers were used).
    pub truncated: u64,
    /// Frames whose headers were malformed (decoding stopped at that layer).
    pub malformed: u64,
    /// Frames of a link type gapwatch does not decode.
    pub unsupported_link: u64,
    /// LLDP or CDP frames that could not be parsed.
    pub bad_discovery: u64,
}

/// Receivers of the flow stage's output.
struct Sinks {
    inventory: Inventory,
    tally: TrafficTally,
    writer: RecordWriter,
    pending_flows: Vec<FlowRecord>,
    keep_flows: bool,
    write_error: Option<std::io::Error>,
    dissector_anomalies: u64,
    learning: Learning,
    /// Every alert of this run, in the order they closed.
    alerts: Vec<Alert>,
    /// Closed alerts not yet committed to the store.
    pending_alerts: Vec<Alert>,
    /// Evidence snippets around alerts (with a state folder).
    evidence: Option<EvidenceRecorder>,
    /// Evidence files written, by alert id, until their alert closes.
    evidence_files: BTreeMap<u64, String>,
    /// The protocol event log being folded for the store (with a state folder).
    event_log: Option<EventLog>,
}

impl FlowOutput for Sinks {
    fn flow_record(&mut self, record: FlowRecord) {
        self.inventory.on_flow_end(&record);
        self.learning.flow_ended(&record);
        self.tally.add(&record);
        if let Err(e) = self.writer.write(&record) {
            self.write_error.get_or_insert(e);
        }
        if self.keep_flows {
            self.pending_flows.push(record);
        }
    }

    fn flow_started(&mut self, start: &FlowStart) {
        self.inventory.on_flow_start(
            start.ts,
            (start.client_ip, start.client_mac),
            (start.server_ip, start.server_mac),
        );
        self.learning.flow_started(start);
    }

    fn mac_seen(&mut self, ts: Timestamp, ip: std::net::IpAddr, mac: wire::MacAddr) {
        self.inventory.on_mac_seen(ts, ip, mac);
        self.learning.address(ts, ip, mac);
    }

    fn dissected(
        &mut self,
        _flow_id: u64,
        _app: &'static str,
        ctx: &FlowContext,
        out: &mut Emitter,
    ) {
        self.absorb(ctx.ts, Some(ctx), out);
    }
}

impl Sinks {
    /// Takes what a dissector emitted: observations into the inventory, events out.
    /// `flow`: the flow the events belong to (none for layer-2 frames).
    fn absorb(&mut self, ts: Timestamp, flow: Option<&FlowContext>, out: &mut Emitter) {
        for obs in out.observations.drain(..) {
            self.inventory.on_observation(ts, &obs);
            self.learning.observation(ts, &obs);
        }
        for event in &out.events {
            let sender_is_server = match flow {
                Some(ctx) => {
                    event.src_ip == Some(ctx.server_ip) && event.src_port == ctx.server_port
                }
                None => event.is_response,
            };
            self.inventory.on_event(event, sender_is_server);
            self.learning.event(event);
            self.tally.add_event(event);
            if let Some(log) = self.event_log.as_mut() {
                log.add(event);
            }
            if let Err(e) = self.writer.write(event) {
                self.write_error.get_or_insert(e);
            }
        }
        out.recycle_events();
        self.dissector_anomalies += out.anomalies.len() as u64;
        for (protocol, reason) in out.anomalies.drain(..) {
            let event = anomaly_event(ts, flow, protocol, reason);
            if let Some(log) = self.event_log.as_mut() {
                log.add(&event);
            }
            if let Err(e) = self.writer.write(&event) {
                self.write_error.get_or_insert(e);
            }
        }
    }
}

impl Sinks {
    /// Lets learning time pass to `ts` and writes the alerts it closed.
    fn advance_learning(&mut self, ts: Timestamp) {
        self.learning.advance(ts, &self.inventory);
        self.start_evidence(ts);
        let closed = self.learning.take_closed();
        if !closed.is_empty() {
            self.emit_alerts(closed, true);
        }
    }

    /// Starts an evidence snippet for every alert opened since the last call.
    fn start_evidence(&mut self, ts: Timestamp) {
        let opened = self.learning.engine_mut().take_opened();
        let Some(recorder) = self.evidence.as_mut() else {
            return;
        };
        for id in opened {
            if let Some(alert) = self.learning.engine().open_alert(id) {
                let addrs: Vec<std::net::IpAddr> = alert.addresses().take(2).collect();
                recorder.open(id, &addrs, ts);
            }
        }
        self.evidence_files.extend(recorder.take_written());
    }

    /// Writes alerts to the JSON output and keeps them for the report and the store.
    /// `closed`: they are final (not a snapshot of alerts still open).
    fn emit_alerts(&mut self, alerts: Vec<Alert>, closed: bool) {
        for mut alert in alerts {
            let file = if closed {
                self.evidence_files.remove(&alert.id)
            } else {
                self.evidence_files.get(&alert.id).cloned()
            };
            if let Some(path) = file {
                alert.evidence.pcap = Some(path);
            }
            if let Err(e) = self.writer.write(&alert) {
                self.write_error.get_or_insert(e);
            }
            if self.keep_flows {
                self.pending_alerts.push(alert.clone());
            }
            self.alerts.push(alert);
        }
    }

    /// Open alerts as they stand, with their evidence files so far.
    fn open_alert_snapshot(&self) -> Vec<Alert> {
        self.learning
            .engine()
            .open_alerts()
            .map(|a| {
                let mut a = a.clone();
                if let Some(path) = self.evidence_files.get(&a.id) {
                    a.evidence.pcap = Some(path.clone());
                }
                a
            })
            .collect()
    }
}

/// The `protocol_anomaly` event for a message a dissector could not parse: the flow's
/// addresses (client to server) and the dissector's reason.
fn anomaly_event(
    ts: Timestamp,
    flow: Option<&FlowContext>,
    protocol: &'static str,
    reason: String,
) -> Event {
    let mut event = Event::new(protocol, OpClass::Other, 0, "protocol_anomaly", false);
    event.ts = ts;
    if let Some(ctx) = flow {
        event.src_ip = Some(ctx.client_ip);
        event.src_port = ctx.client_port;
        event.dst_ip = Some(ctx.server_ip);
        event.dst_port = ctx.server_port;
        event.src_mac = ctx.client_mac;
        event.dst_mac = ctx.server_mac;
        event.vlan = ctx.vlan;
    }
    event.attr("reason", Attr::Text(reason));
    event
}

/// An open store and the run being written to it.
struct Persist {
    store: Store,
    /// Source description, stored with the run.
    source: String,
    /// The run, begun at the first packet (its start is packet time).
    run: Option<RunId>,
    next_flow_commit: Timestamp,
    next_asset_commit: Timestamp,
}

/// The whole pipeline of one run.
pub struct Pipeline {
    /// Learning period in use (microseconds).
    learn_micros: i64,
    /// Assets stored by earlier runs, by id.
    history: HashMap<String, AssetRecord>,
    flows: FlowProcessor,
    /// Output of layer-2 dissectors, reused for every frame.
    l2_out: Emitter,
    sinks: Sinks,
    persist: Option<Persist>,
    decode: DecodeStats,
    packets: u64,
    bytes: u64,
    first_ts: Option<Timestamp>,
    last_ts: Timestamp,
    /// Store commits that wrote alerts (new ones or updates of open ones).
    alert_commits: u64,
}

/// What a finished run reports.
pub struct RunReport {
    /// Packets processed.
    pub packets: u64,
    /// Captured bytes processed.
    pub bytes: u64,
    /// Final assets.
    pub assets: Vec<AssetRecord>,
    /// Flow-stage counters.
    pub flow_stats: FlowStats,
    /// Decode counters.
    pub decode: DecodeStats,
    /// Source counters (kernel drops for live capture).
    pub source: SourceStats,
    /// Addresses that moved the most bytes.
    pub top_talkers: Vec<(std::net::IpAddr, u64)>,
    /// Alerts raised, in the order they closed.
    pub alerts: Vec<Alert>,
    /// First and last packet time.
    pub observed: (Timestamp, Timestamp),
    /// When learning began and how long it lasts (microseconds).
    pub learning: Option<(Timestamp, i64)>,
    tally: TrafficTally,
    inventory_caps: inventory::InventoryStats,
    dissector_anomalies: u64,
    /// Protocol messages the event log could not hold (its bound was reached).
    pub event_log_dropped: u64,
}

impl Pipeline {
    /// Builds the pipeline and, with a state folder, opens the store.
    pub fn new(options: PipelineOptions, writer: RecordWriter) -> Result<Self> {
        let persist = match &options.state {
            Some(dir) => Some(Persist {
                store: Store::open(dir)?,
                source: options.source_description,
                run: None,
                next_flow_commit: Timestamp::default(),
                next_asset_commit: Timestamp::default(),
            }),
            None => None,
        };
        let mut engine_config = EngineConfig::default();
        if let Some(micros) = options.learn_micros {
            engine_config.learn_micros = micros;
        }
        let learn_micros = engine_config.learn_micros;
        let mut engine = Engine::new(engine_config);
        if let Some(persist) = &persist {
            let saved = persist.store.load_model_state()?;
            if let Err(e) = engine.restore(&saved) {
                eprintln!(
                    "gapwatch: warning: {}: learnt state partly unreadable, those models start afresh: {e}",
                    persist.store.path().display()
                );
            }
        }
        let evidence = options
            .state
            .as_deref()
            .map(|dir| EvidenceRecorder::new(dir, EvidenceConfig::default()));
        let prior_assets = match &persist {
            Some(persist) => persist.store.load_assets()?,
            None => Vec::new(),
        };
        let flow_config = FlowConfig {
            first_flow_id: match &persist {
                Some(persist) => persist.store.max_flow_id()? + 1,
                None => 1,
            },
            ..FlowConfig::default()
        };
        let history = prior_assets
            .iter()
            .map(|a| (a.id.clone(), a.clone()))
            .collect();
        let mut pipeline = Self {
            learn_micros,
            history,
            flows: FlowProcessor::new(
                flow_config,
                match options.stages {
                    Stages::Core => Registry::names_only(),
                    Stages::Dissectors | Stages::Full => Registry::builtin(),
                },
            ),
            l2_out: Emitter::default(),
            sinks: Sinks {
                inventory: Inventory::new(InventoryConfig::default()),
                tally: TrafficTally::default(),
                writer,
                pending_flows: Vec::new(),
                keep_flows: persist.is_some(),
                write_error: None,
                dissector_anomalies: 0,
                learning: match options.stages {
                    Stages::Full => Learning::new(engine),
                    Stages::Core | Stages::Dissectors => Learning::off(engine),
                },
                alerts: Vec::new(),
                pending_alerts: Vec::new(),
                evidence,
                evidence_files: BTreeMap::new(),
                event_log: persist.is_some().then(EventLog::default),
            },
            persist,
            decode: DecodeStats::default(),
            packets: 0,
            bytes: 0,
            first_ts: None,
            last_ts: Timestamp::default(),
            alert_commits: 0,
        };
        let sinks = &mut pipeline.sinks;
        sinks
            .learning
            .set_prior_assets(prior_assets, &sinks.inventory);
        sinks.learning.set_zones(options.zones, &sinks.inventory);
        Ok(pipeline)
    }

    /// Processes one captured frame.
    pub fn process(&mut self, packet: &RawPacket<'_>) -> Result<()> {
        self.packets += 1;
        self.bytes += packet.data.len() as u64;
        let ts = packet.ts;
        self.first_ts.get_or_insert(ts);
        self.last_ts = self.last_ts.max(ts);
        let decoded = wire::decode(packet.link, packet.data);
        if let Some(recorder) = self.sinks.evidence.as_mut() {
            let (src, dst) = match &decoded.network {
                Network::Ipv4(ip) | Network::Ipv6(ip) => (Some(ip.src), Some(ip.dst)),
                _ => (None, None),
            };
            recorder.record(packet, src, dst);
        }
        self.count_decode(&decoded);
        self.observe_link_layer(ts, &decoded);
        self.flows.process(ts, &decoded, &mut self.sinks);
        self.sinks.advance_learning(ts);
        if let Some(e) = self.sinks.write_error.take() {
            return Err(e).context("writing JSON records to stdout");
        }
        self.commit_if_due(ts)
    }

    fn count_decode(&mut self, decoded: &Decoded<'_>) {
        self.decode.truncated += u64::from(decoded.truncated);
        match decoded.error {
            Some(wire::DecodeError::UnsupportedLinkType(_)) => self.decode.unsupported_link += 1,
            Some(_) => self.decode.malformed += 1,
            None => {}
        }
    }

    /// Evidence that does not travel in flows: ARP, LLDP, CDP and other layer-2 frames.
    fn observe_link_layer(&mut self, ts: Timestamp, decoded: &Decoded<'_>) {
        let inventory = &mut self.sinks.inventory;
        let src_mac = decoded.link.and_then(|l| l.src_mac);
        match &decoded.network {
            Network::Arp(arp) => {
                inventory.on_arp(ts, arp);
                if !arp.sender_ip.is_unspecified() {
                    let ip = std::net::IpAddr::V4(arp.sender_ip);
                    self.sinks.learning.arp(ts, ip, arp.sender_mac);
                }
            }
            Network::Lldp(bytes) => match (wire::lldp::parse(bytes), src_mac) {
                (Ok(lldp), Some(mac)) => {
                    let name = lldp.system_name.and_then(|t| t.as_str());
                    let addrs = lldp.management_addresses;
                    inventory.on_network_announcement(
                        ts,
                        mac,
                        name,
                        addrs.as_slice(),
                        NameSource::Lldp,
                    );
                }
                (Err(_), _) => self.decode.bad_discovery += 1,
                _ => {}
            },
            Network::Cdp(bytes) => match (wire::cdp::parse(bytes), src_mac) {
                (Ok(cdp), Some(mac)) => {
                    let name = cdp.device_id.and_then(|t| t.as_str());
                    let addrs = cdp.addresses;
                    inventory.on_network_announcement(
                        ts,
                        mac,
                        name,
                        addrs.as_slice(),
                        NameSource::Cdp,
                    );
                }
                (Err(_), _) => self.decode.bad_discovery += 1,
                _ => {}
            },
            Network::Other { ethertype, payload } => {
                let Some(src_mac) = src_mac else { return };
                inventory.on_l2_frame(ts, src_mac);
                self.sinks.learning.mac_frame(ts, src_mac);
                let Some(dst_mac) = decoded.link.and_then(|l| l.dst_mac) else {
                    return;
                };
                let frame = L2Frame {
                    ts,
                    ethertype: *ethertype,
                    src_mac,
                    dst_mac,
                    vlan: decoded.vlan(),
                    payload,
                };
                dissect::l2::dissect_frame(&frame, &mut self.l2_out);
                if !self.l2_out.is_empty() {
                    self.sinks.absorb(ts, None, &mut self.l2_out);
                }
            }
            Network::Ipv4(ip) | Network::Ipv6(ip) => {
                if let Some(mac) = src_mac {
                    self.sinks.learning.ip_frame(ts, mac, decoded.vlan(), ip);
                }
            }
            Network::None => {}
        }
    }

    /// Commits finished flows every second and the inventory every minute (packet time),
    /// so a killed process loses at most that much.
    fn commit_if_due(&mut self, ts: Timestamp) -> Result<()> {
        let Some(persist) = self.persist.as_mut() else {
            return Ok(());
        };
        let run = match persist.run {
            Some(run) => run,
            None => {
                let run = persist.store.begin_run(&persist.source, ts)?;
                persist.run = Some(run);
                persist.next_flow_commit = ts.plus_micros(BATCH_INTERVAL_MICROS);
                persist.next_asset_commit = ts.plus_micros(ASSET_INTERVAL_MICROS);
                run
            }
        };
        let flows_due = ts >= persist.next_flow_commit;
        let assets_due = ts >= persist.next_asset_commit;
        if !flows_due && !assets_due {
            return Ok(());
        }
        let mut batch = Batch::new(run);
        batch.flows = std::mem::take(&mut self.sinks.pending_flows);
        batch.alerts = std::mem::take(&mut self.sinks.pending_alerts);
        if let Some(log) = self.sinks.event_log.as_mut() {
            batch.event_lines = log.take_due(ts);
        }
        if assets_due {
            batch.assets = assets_with_history(&self.sinks.inventory, &self.history);
            batch.alerts.extend(self.sinks.open_alert_snapshot());
            batch.model_state = Some(ModelSnapshot {
                at: ts,
                states: self.sinks.learning.engine().save(),
            });
            persist.next_asset_commit = ts.plus_micros(ASSET_INTERVAL_MICROS);
        }
        batch.progress = Some(progress(self.packets, self.bytes, ts, &self.flows.stats()));
        persist.store.write_batch(&batch)?;
        if !batch.alerts.is_empty() {
            self.alert_commits += 1;
        }
        persist.next_flow_commit = ts.plus_micros(BATCH_INTERVAL_MICROS);
        batch.flows.clear();
        self.sinks.pending_flows = batch.flows;
        Ok(())
    }

    /// Uses the operator's new zone file from the next packet on.
    pub fn set_zones(&mut self, zones: Option<std::sync::Arc<zones::ZonePolicy>>) {
        self.sinks.learning.set_zones(zones, &self.sinks.inventory);
    }

    /// Uses a new learning period (microseconds from the first packet ever seen by the
    /// state) from the next packet on: see [`learn::Engine::set_learn_micros`].
    pub fn set_learning_period(&mut self, micros: i64) {
        let engine = self.sinks.learning.engine_mut();
        engine.set_learn_micros(micros);
        self.learn_micros = engine.learn_micros();
    }

    /// Folds the behaviour of an alert the operator marked expected into the running
    /// baseline; the learnt state is saved with the next commit (the next packet).
    pub fn accept_alert(&mut self, alert: &Alert) {
        self.sinks.learning.engine_mut().accept_alert(alert);
        if let Some(persist) = self.persist.as_mut() {
            persist.next_asset_commit = Timestamp::default();
        }
    }

    /// Flow-stage counters so far.
    pub fn flow_stats(&self) -> FlowStats {
        self.flows.stats()
    }

    /// How many store commits so far wrote alerts: a reader of the stored alerts knows
    /// they changed when this did.
    pub fn alert_commits(&self) -> u64 {
        self.alert_commits
    }

    /// Packets processed so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// When learning began (packet time) and how long it lasts (microseconds).
    pub fn learning_window(&self) -> Option<(Timestamp, i64)> {
        self.sinks
            .learning
            .engine()
            .learn_start()
            .map(|start| (start, self.learn_micros))
    }

    /// Ends the run: flushes open flows, writes the assets, commits everything.
    pub fn finish(mut self, source: &mut dyn PacketSource) -> Result<RunReport> {
        self.flows.flush(&mut self.sinks);
        self.sinks
            .learning
            .settle(self.last_ts, &self.sinks.inventory);
        if let Some(recorder) = self.sinks.evidence.as_mut() {
            recorder.finish();
            self.sinks.evidence_files.extend(recorder.take_written());
        }
        let closed = self.sinks.learning.take_closed();
        self.sinks.emit_alerts(closed, true);
        // With a state folder, alerts still open stay open in the saved state, so the
        // next run goes on fusing into them; the output shows them as they stand.
        let saved_state = match self.persist {
            Some(_) => self.sinks.learning.engine().save(),
            None => Vec::new(),
        };
        let still_open = if self.persist.is_some() {
            self.sinks.open_alert_snapshot()
        } else {
            self.sinks.learning.engine_mut().close_all()
        };
        self.sinks.emit_alerts(still_open, self.persist.is_none());
        let assets = assets_with_history(&self.sinks.inventory, &self.history);
        for asset in &assets {
            self.sinks
                .writer
                .write(asset)
                .context("writing JSON records to stdout")?;
        }
        if let Some(e) = self.sinks.write_error.take() {
            return Err(e).context("writing JSON records to stdout");
        }
        self.sinks
            .writer
            .flush()
            .context("writing JSON records to stdout")?;
        let flow_stats = self.flows.stats();
        let event_log_dropped = self.sinks.event_log.as_ref().map_or(0, EventLog::dropped);
        if let Some(persist) = self.persist.as_mut() {
            let run = match persist.run {
                Some(run) => run,
                None => persist.store.begin_run(&persist.source, self.last_ts)?,
            };
            let mut batch = Batch::new(run);
            batch.flows = std::mem::take(&mut self.sinks.pending_flows);
            batch.assets = assets.clone();
            batch.alerts = std::mem::take(&mut self.sinks.pending_alerts);
            if let Some(log) = self.sinks.event_log.as_mut() {
                batch.event_lines = log.take_all();
            }
            batch.model_state = Some(ModelSnapshot {
                at: self.last_ts,
                states: saved_state,
            });
            persist.store.write_batch(&batch)?;
            let mut progress = progress(self.packets, self.bytes, self.last_ts, &flow_stats);
            let source_stats = source.stats();
            progress
                .counters
                .insert("kernel_drops".to_string(), source_stats.kernel_drops);
            progress
                .counters
                .insert("event_log_dropped".to_string(), event_log_dropped);
            persist.store.finish_run(run, self.last_ts, &progress)?;
        }
        Ok(RunReport {
            packets: self.packets,
            bytes: self.bytes,
            assets,
            flow_stats,
            decode: self.decode,
            source: source.stats(),
            top_talkers: self.sinks.inventory.top_talkers(5),
            tally: self.sinks.tally,
            inventory_caps: self.sinks.inventory.stats().clone(),
            dissector_anomalies: self.sinks.dissector_anomalies,
            event_log_dropped,
            learning: self
                .sinks
                .learning
                .engine()
                .learn_start()
                .map(|start| (start, self.learn_micros)),
            alerts: std::mem::take(&mut self.sinks.alerts),
            observed: (self.first_ts.unwrap_or(self.last_ts), self.last_ts),
        })
    }
}

fn progress(packets: u64, bytes: u64, ts: Timestamp, stats: &FlowStats) -> RunProgress {
    let mut counters = BTreeMap::new();
    counters.insert("flows_created".to_string(), stats.flows_created);
    counters.insert("flows_evicted".to_string(), stats.flows_evicted);
    counters.insert("tcp_gaps".to_string(), stats.tcp_gaps);
    RunProgress {
        packets,
        bytes,
        last_packet_at: Some(ts),
        counters,
    }
}

impl RunReport {
    /// Every loss or cap counter that is not zero, for the summary.
    pub fn losses(&self) -> Vec<(&'static str, u64)> {
        let f = &self.flow_stats;
        let d = &f.defrag;
        let i = &self.inventory_caps;
        let all = [
            ("kernel drops", self.source.kernel_drops),
            ("packets skipped (unreadable)", self.source.packets_skipped),
            ("frames truncated by snaplen", self.decode.truncated),
            ("frames malformed", self.decode.malformed),
            (
                "frames of unsupported link type",
                self.decode.unsupported_link,
            ),
            ("LLDP/CDP frames unparsable", self.decode.bad_discovery),
            ("flows evicted (table full)", f.flows_evicted),
            ("TCP gaps", f.tcp_gaps),
            ("TCP gap bytes", f.gap_bytes),
            ("TCP overlaps with other data", f.overlap_conflicts),
            ("reassembly per-flow cap hits", f.ooo_buffer_cap_hits),
            ("reassembly global cap hits", f.global_buffer_cap_hits),
            ("dissector backlog overflows", f.tail_overflows),
            ("fragments timed out", d.timed_out),
            ("fragment cache evictions", d.evicted_cap),
            ("fragmented datagrams too big", d.too_big),
            ("dissector anomalies", self.dissector_anomalies),
            ("event log: messages over cap", self.event_log_dropped),
            ("inventory: MACs over cap", i.macs_dropped),
            ("inventory: addresses over cap", i.ips_dropped),
            ("inventory: peers over cap", i.peers_dropped),
        ];
        all.into_iter().filter(|(_, v)| *v > 0).collect()
    }

    /// The end-of-run summary.
    pub fn summary(&self) -> Summary<'_> {
        Summary {
            packets: self.packets,
            bytes: self.bytes,
            tally: &self.tally,
            assets: &self.assets,
            top_talkers: &self.top_talkers,
            losses: self.losses(),
        }
    }
}

/// This run's assets, each with what earlier runs stored of the same device (its
/// identity, names, role and first sighting survive a restart).
fn assets_with_history(
    inventory: &Inventory,
    history: &HashMap<String, AssetRecord>,
) -> Vec<AssetRecord> {
    let mut assets = inventory.assets();
    for asset in &mut assets {
        if let Some(older) = history.get(&asset.id) {
            asset.absorb_history(older);
        }
    }
    assets
}
