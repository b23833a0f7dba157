//! The engine: runs every model on every input, holds findings back while learning,
//! and fuses findings into alerts.

use crate::alert::{Alert, Alerter};
use crate::assets::AssetDirectory;
use crate::finding::Finding;
use crate::input::{FlowOpen, IpFrame};
use crate::model::{Cx, Model};
use crate::models;
use dissect::{Event, IdentityField, NameSource};
use records::{FlowRecord, Timestamp};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wire::MacAddr;

/// How the engine learns and alerts.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Learning period from the first packet ever seen (packet time): only policy
    /// findings alert during it.
    pub learn_micros: i64,
    /// Findings of one category from one source within this time of each other fuse
    /// into one alert.
    pub fuse_window_micros: i64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            learn_micros: 7 * 86_400 * 1_000_000,
            fuse_window_micros: 600 * 1_000_000,
        }
    }
}

/// Engine state that is not a model's: when learning began, the alert sequence.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    learn_start: Option<Timestamp>,
    alerter: Alerter,
}

/// Runs the models and the alerter.
pub struct Engine {
    config: EngineConfig,
    models: Vec<Box<dyn Model>>,
    /// Indices of the models that see every IP packet.
    ip_frame_models: Vec<usize>,
    assets: AssetDirectory,
    meta: Meta,
    next_tick: Timestamp,
    findings: Vec<Finding>,
}

/// Name under which the engine's own state is saved.
const META_KEY: &str = "engine";

impl Engine {
    /// An engine with every built-in model and nothing learnt.
    pub fn new(config: EngineConfig) -> Self {
        Self::with_models(config, models::all())
    }

    /// An engine with the given models (tests).
    pub fn with_models(config: EngineConfig, models: Vec<Box<dyn Model>>) -> Self {
        let window = config.fuse_window_micros;
        let ip_frame_models = (0..models.len())
            .filter(|&i| models[i].sees_ip_frames())
            .collect();
        Self {
            config,
            models,
            ip_frame_models,
            assets: AssetDirectory::default(),
            meta: Meta {
                learn_start: None,
                alerter: Alerter::new(window),
            },
            next_tick: Timestamp::default(),
            findings: Vec::new(),
        }
    }

    /// Replaces the asset directory (called as the inventory grows).
    pub fn set_assets(&mut self, assets: AssetDirectory) {
        self.assets = assets;
    }

    /// The asset directory in use.
    pub fn assets(&self) -> &AssetDirectory {
        &self.assets
    }

    /// True while `now` is within the learning period.
    pub fn is_learning(&self, now: Timestamp) -> bool {
        match self.meta.learn_start {
            Some(start) => now.micros_since(start) < self.config.learn_micros,
            None => true,
        }
    }

    /// The learning period in use (microseconds from the first packet).
    pub fn learn_micros(&self) -> i64 {
        self.config.learn_micros
    }

    /// Changes the learning period (negative counts as 0). Learning is judged afresh on
    /// every input, so the change holds from the next one: a period that now ends
    /// later than the latest input resumes learning until its new end, even when the
    /// old one had already ended; one that ends earlier stops it.
    pub fn set_learn_micros(&mut self, micros: i64) {
        self.config.learn_micros = micros.max(0);
    }

    /// When learning began (the first packet time ever seen with this state).
    pub fn learn_start(&self) -> Option<Timestamp> {
        self.meta.learn_start
    }

    /// Runs `f` on every model with a context at `now`, then alerts on what they found.
    fn run(&mut self, now: Timestamp, mut f: impl FnMut(&mut dyn Model, &mut Cx<'_>)) {
        if self.meta.learn_start.is_none() {
            self.meta.learn_start = Some(now);
        }
        if now >= self.next_tick {
            self.next_tick = now.plus_micros(1_000_000);
            self.each_model(now, |m, cx| m.tick(cx));
        }
        self.each_model(now, &mut f);
    }

    fn each_model(&mut self, now: Timestamp, mut f: impl FnMut(&mut dyn Model, &mut Cx<'_>)) {
        let learning = self.is_learning(now);
        for model in &mut self.models {
            let mut cx = Cx::new(now, learning, &self.assets, &mut self.findings);
            cx.alerts = Some(&self.meta.alerter);
            f(model.as_mut(), &mut cx);
        }
        self.fuse_findings();
    }

    /// Hands the findings the models just reported to the alerter.
    fn fuse_findings(&mut self) {
        if !self.findings.is_empty() {
            // Deterministic order whatever the models' internal map order.
            self.findings.sort_by(|a, b| {
                (a.ts, a.category, &a.fuse_key, &a.title).cmp(&(
                    b.ts,
                    b.category,
                    &b.fuse_key,
                    &b.title,
                ))
            });
            for finding in self.findings.drain(..) {
                self.meta.alerter.add(&finding, &self.assets);
            }
        }
    }

    /// A flow opened.
    pub fn on_flow_open(&mut self, flow: &FlowOpen) {
        self.run(flow.ts, |m, cx| m.on_flow_open(cx, flow));
    }

    /// A flow ended.
    pub fn on_flow_end(&mut self, flow: &FlowRecord) {
        self.run(flow.ts_end, |m, cx| m.on_flow_end(cx, flow));
    }

    /// A protocol event.
    pub fn on_event(&mut self, event: &Event) {
        self.run(event.ts, |m, cx| m.on_event(cx, event));
    }

    /// `ip` seen using `mac`.
    pub fn on_address(&mut self, ts: Timestamp, ip: IpAddr, mac: MacAddr) {
        self.run(ts, |m, cx| m.on_address(cx, ip, mac));
    }

    /// An IP packet with the MAC that carried it. Every packet comes here, so this
    /// neither starts learning nor ticks: the packet's other inputs do.
    pub fn on_ip_frame(&mut self, frame: &IpFrame) {
        let learning = self.is_learning(frame.ts);
        for &i in &self.ip_frame_models {
            let mut cx = Cx::new(frame.ts, learning, &self.assets, &mut self.findings);
            cx.alerts = Some(&self.meta.alerter);
            self.models[i].on_ip_frame(&mut cx, frame);
        }
        self.fuse_findings();
    }

    /// `mac` claimed `ip` in ARP (besides [`Engine::on_address`], which ARP also feeds).
    pub fn on_arp(&mut self, ts: Timestamp, ip: IpAddr, mac: MacAddr) {
        self.each_model(ts, |m, cx| m.on_arp(cx, ip, mac));
    }

    /// A device announced its name.
    pub fn on_name(
        &mut self,
        ts: Timestamp,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        name: &str,
        source: NameSource,
    ) {
        self.run(ts, |m, cx| m.on_name(cx, ip, mac, name, source));
    }

    /// A non-IP frame from `mac`.
    pub fn on_mac(&mut self, ts: Timestamp, mac: MacAddr) {
        self.run(ts, |m, cx| m.on_mac(cx, mac));
    }

    /// An identity field announced by a device.
    pub fn on_identity(
        &mut self,
        ts: Timestamp,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        field: IdentityField,
        value: &str,
        source: &'static str,
    ) {
        self.run(ts, |m, cx| m.on_identity(cx, ip, mac, field, value, source));
    }

    /// Lets time pass without input (end of a capture, idle live link).
    pub fn advance(&mut self, now: Timestamp) {
        self.run(now, |_, _| {});
    }

    /// End of input at `now`: every model gets its tick even if one ran less than a
    /// second ago, so what a model judges on its tick (identities seen in the last
    /// second, say) is judged before the run ends.
    pub fn end_of_input(&mut self, now: Timestamp) {
        if self.meta.learn_start.is_none() {
            return;
        }
        self.next_tick = now.plus_micros(1_000_000);
        self.each_model(now, |m, cx| m.tick(cx));
    }

    /// Ids of alerts opened since the last call.
    pub fn take_opened(&mut self) -> Vec<u64> {
        self.meta.alerter.take_opened()
    }

    /// Alerts whose incident window has passed at `now`.
    pub fn close_idle(&mut self, now: Timestamp) -> Vec<Alert> {
        self.meta.alerter.close_idle(now)
    }

    /// Every alert still open (end of a run).
    pub fn close_all(&mut self) -> Vec<Alert> {
        self.meta.alerter.close_all()
    }

    /// Alerts still open.
    pub fn open_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.meta.alerter.open_alerts()
    }

    /// An open alert by id.
    pub fn open_alert(&self, id: u64) -> Option<&Alert> {
        self.meta.alerter.get(id)
    }

    /// Everything learnt, as (name, JSON) pairs: one per model and one for the engine.
    pub fn save(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .models
            .iter()
            .map(|m| (m.name().to_string(), m.save().to_string()))
            .collect();
        let meta = serde_json::to_string(&self.meta).unwrap_or_default();
        out.push((META_KEY.to_string(), meta));
        out
    }

    /// Restores what [`Engine::save`] wrote. Unknown names are ignored (a model that
    /// was removed); a model whose state does not parse starts afresh, and the error
    /// names it.
    pub fn restore(&mut self, states: &[(String, String)]) -> Result<(), String> {
        let mut errors = Vec::new();
        for (name, json) in states {
            let value: serde_json::Value = match serde_json::from_str(json) {
                Ok(v) => v,
                Err(e) => {
                    errors.push(format!("model state {name:?}: {e}"));
                    continue;
                }
            };
            if name == META_KEY {
                match serde_json::from_value::<Meta>(value) {
                    Ok(mut meta) => {
                        meta.alerter.set_window(self.config.fuse_window_micros);
                        meta.alerter.reindex();
                        self.meta = meta;
                    }
                    Err(e) => errors.push(format!("engine state: {e}")),
                }
            } else if let Some(model) = self.models.iter_mut().find(|m| m.name() == name) {
                if let Err(e) = model.restore(value) {
                    errors.push(format!("model state {name:?}: {e}"));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// What has been learnt, as plain lines (about `ip` only when given).
    pub fn baseline(&self, ip: Option<IpAddr>) -> Vec<String> {
        let mut out = Vec::new();
        for model in &self.models {
            model.baseline(ip, &self.assets, &mut out);
        }
        out
    }

    /// Forgets what was learnt about `ip` (everything when `None`); learning restarts
    /// for everything when `ip` is `None`.
    pub fn forget(&mut self, ip: Option<IpAddr>) {
        for model in &mut self.models {
            model.forget(ip);
        }
        if ip.is_none() {
            self.meta.learn_start = None;
        }
    }

    /// Folds a finding the operator marked expected into every model's baseline.
    pub fn accept(&mut self, finding: &Finding) {
        for model in &mut self.models {
            model.accept(finding);
        }
    }

    /// Folds an alert the operator marked expected into every model's baseline; the
    /// model that raised it sees the finding under its own name.
    pub fn accept_alert(&mut self, alert: &Alert) {
        let finding = alert.as_finding();
        for model in &mut self.models {
            let mut own = finding.clone();
            if alert.model == model.name() {
                own.model = model.name();
            }
            model.accept(&own);
        }
    }

    /// Cap and eviction counters of every model, as (`model.counter`, value).
    pub fn counters(&self) -> Vec<(String, u64)> {
        self.models
            .iter()
            .flat_map(|m| {
                m.counters()
                    .into_iter()
                    .map(move |(k, v)| (format!("{}.{k}", m.name()), v))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_learning_period_resumes_or_ends_learning_from_the_next_input() {
        let minute = 60_000_000;
        let t0 = Timestamp(1_764_300_000_000_000);
        let mut engine = Engine::with_models(
            EngineConfig {
                learn_micros: minute,
                ..EngineConfig::default()
            },
            Vec::new(),
        );
        engine.advance(t0);
        let later = t0.plus_micros(5 * minute);
        assert!(!engine.is_learning(later));
        // Longer: learning resumes until the new end.
        engine.set_learn_micros(10 * minute);
        assert!(engine.is_learning(later));
        assert!(!engine.is_learning(t0.plus_micros(10 * minute)));
        // Shorter: it ends.
        engine.set_learn_micros(2 * minute);
        assert!(!engine.is_learning(later));
        engine.set_learn_micros(-1);
        assert_eq!(engine.learn_micros(), 0);
        assert!(!engine.is_learning(t0));
    }

    /// Counts its ticks.
    struct Ticks(std::sync::Arc<std::sync::atomic::AtomicU32>);

    impl Model for Ticks {
        fn name(&self) -> &'static str {
            "ticks"
        }
        fn tick(&mut self, _cx: &mut Cx<'_>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        fn save(&self) -> serde_json::Value {
            serde_json::Value::Null
        }
        fn restore(&mut self, _state: serde_json::Value) -> Result<(), String> {
            Ok(())
        }
        fn baseline(&self, _ip: Option<IpAddr>, _assets: &AssetDirectory, _out: &mut Vec<String>) {}
        fn forget(&mut self, _ip: Option<IpAddr>) {}
    }

    #[test]
    fn the_end_of_input_ticks_every_model_once_more() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let ticks = std::sync::Arc::new(AtomicU32::new(0));
        let mut engine = Engine::with_models(
            EngineConfig::default(),
            vec![Box::new(Ticks(ticks.clone()))],
        );
        // Nothing seen: nothing to judge.
        engine.end_of_input(Timestamp(1_000_000));
        assert_eq!(ticks.load(Ordering::Relaxed), 0);
        let t0 = Timestamp(1_764_300_000_000_000);
        engine.advance(t0);
        engine.advance(t0.plus_micros(400_000));
        assert_eq!(ticks.load(Ordering::Relaxed), 1);
        // Input ends 0.4 s after the last tick: one more, at that time.
        engine.end_of_input(t0.plus_micros(400_000));
        assert_eq!(ticks.load(Ordering::Relaxed), 2);
        // Time goes on from there: the next tick is a second later.
        engine.advance(t0.plus_micros(900_000));
        assert_eq!(ticks.load(Ordering::Relaxed), 2);
        engine.advance(t0.plus_micros(1_400_000));
        assert_eq!(ticks.load(Ordering::Relaxed), 3);
    }
}
