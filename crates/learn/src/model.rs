//! The shape every model has.

use crate::alert::Alerter;
use crate::assets::AssetDirectory;
use crate::finding::{Category, Finding};
use crate::input::{FlowOpen, IpFrame};
use dissect::{Event, IdentityField, NameSource};
use records::{FlowRecord, Timestamp};
use std::net::IpAddr;
use wire::MacAddr;

/// What a model sees while handling one input: the time, whether the engine is still
/// only learning, the asset directory, and where findings go.
pub struct Cx<'a> {
    /// Packet time of the input.
    pub now: Timestamp,
    /// True during the learning period: models learn; only policy findings are kept.
    pub learning: bool,
    /// Roles, names and zones of addresses.
    pub assets: &'a AssetDirectory,
    pub(crate) findings: &'a mut Vec<Finding>,
    /// Open alerts (none in tests that run a model alone).
    pub(crate) alerts: Option<&'a Alerter>,
}

impl<'a> Cx<'a> {
    /// A context writing findings into `findings` (for tests and the engine).
    pub fn new(
        now: Timestamp,
        learning: bool,
        assets: &'a AssetDirectory,
        findings: &'a mut Vec<Finding>,
    ) -> Self {
        Self {
            now,
            learning,
            assets,
            findings,
            alerts: None,
        }
    }

    /// True when a finding of `category` from `src` with `fuse_key` would be absorbed
    /// by an alert already open: its title and explanation would never be shown, so
    /// a model may leave them empty and save writing them.
    pub fn fuses(&self, category: Category, src: Option<IpAddr>, fuse_key: &str) -> bool {
        self.alerts
            .is_some_and(|a| a.is_open(category, src, None, fuse_key))
    }

    /// Reports a finding. While learning, only policy findings are kept.
    pub fn report(&mut self, finding: Finding) {
        if !self.learning || finding.policy {
            self.findings.push(finding);
        }
    }
}

/// A pattern-of-life model: learns from inputs, reports findings, explains its baseline.
///
/// Every input method has a default that ignores the input. State must be bounded (caps
/// with eviction, counted in [`Model::counters`]) and serialisable ([`Model::save`]).
pub trait Model: Send {
    /// Short name (`connections`, `operations` ...), also the key of its saved state.
    fn name(&self) -> &'static str;

    /// A flow opened.
    fn on_flow_open(&mut self, cx: &mut Cx<'_>, flow: &FlowOpen) {
        let _ = (cx, flow);
    }

    /// A flow ended (or a long flow's period report).
    fn on_flow_end(&mut self, cx: &mut Cx<'_>, flow: &FlowRecord) {
        let _ = (cx, flow);
    }

    /// A protocol event.
    fn on_event(&mut self, cx: &mut Cx<'_>, event: &Event) {
        let _ = (cx, event);
    }

    /// `ip` was seen using `mac` (ARP, or the link layer of a flow).
    fn on_address(&mut self, cx: &mut Cx<'_>, ip: IpAddr, mac: MacAddr) {
        let _ = (cx, ip, mac);
    }

    /// True for a model that wants [`Model::on_ip_frame`]: only those are called for
    /// every packet.
    fn sees_ip_frames(&self) -> bool {
        false
    }

    /// An IP packet and the MAC that carried it (every packet: keep this cheap).
    fn on_ip_frame(&mut self, cx: &mut Cx<'_>, frame: &IpFrame) {
        let _ = (cx, frame);
    }

    /// `mac` claimed `ip` in an ARP message (as its sender).
    fn on_arp(&mut self, cx: &mut Cx<'_>, ip: IpAddr, mac: MacAddr) {
        let _ = (cx, ip, mac);
    }

    /// A device announced its name (DHCP, NetBIOS, mDNS ...).
    fn on_name(
        &mut self,
        cx: &mut Cx<'_>,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        name: &str,
        source: NameSource,
    ) {
        let _ = (cx, ip, mac, name, source);
    }

    /// A frame from `mac` that carries no IP (layer-2 protocols).
    fn on_mac(&mut self, cx: &mut Cx<'_>, mac: MacAddr) {
        let _ = (cx, mac);
    }

    /// A device announced an identity field (firmware, model ...).
    fn on_identity(
        &mut self,
        cx: &mut Cx<'_>,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        field: IdentityField,
        value: &str,
        source: &'static str,
    ) {
        let _ = (cx, ip, mac, field, value, source);
    }

    /// Called once per second of packet time (and at the end of input), for models
    /// that judge absence or periods.
    fn tick(&mut self, cx: &mut Cx<'_>) {
        let _ = cx;
    }

    /// The learnt state as JSON.
    fn save(&self) -> serde_json::Value;

    /// Restores state saved by [`Model::save`].
    fn restore(&mut self, state: serde_json::Value) -> Result<(), String>;

    /// What has been learnt, as plain lines; about `ip` only when given.
    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>);

    /// Forgets what was learnt about `ip` (everything when `None`).
    fn forget(&mut self, ip: Option<IpAddr>);

    /// Takes an alert the operator marked expected into the baseline, so the same
    /// behaviour no longer alerts. Default: nothing to fold.
    fn accept(&mut self, finding: &Finding) {
        let _ = finding;
    }

    /// Cap and eviction counters (name, value).
    fn counters(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}
