//! `gapwatch serve` and `gapwatch demo`: the sensor and the console together on one
//! state folder.
//!
//! The pipeline runs in its own thread and never waits on the console: health leaves it
//! through atomics, and alerts marked expected reach it through a bounded channel that
//! it drains between packets. The console runs on tokio and reads the store through its
//! own read-only connection.

mod settings;
mod verdict;

use crate::pipeline::{Pipeline, PipelineOptions, Stages};
use anyhow::{bail, Context, Result};
use console::{Airgap, Backend, Console, ConsoleConfig, Health};
use learn::Alert;
use records::Timestamp;
use sensor::source::{LiveConfig, MultiLiveSource, PacketSource, RawPacket};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Console commands (alerts marked expected, zone files) waiting for the pipeline; a
/// full queue refuses more.
const COMMAND_QUEUE: usize = 64;
/// Packets between two looks at the control channel and two health updates.
const CHECK_EVERY: u64 = 256;
/// A live link quiet this long gets its health updated and its commands taken anyway.
const LIVE_IDLE: Duration = Duration::from_millis(200);

/// Where packets come from.
#[derive(Clone, Debug)]
pub enum SensorSource {
    /// Live capture from one or more interfaces.
    Live(Vec<String>),
    /// Capture files replayed at recorded speed times `speed`, looped when `looped`.
    Replay {
        /// The files (merged in time order).
        captures: Vec<PathBuf>,
        /// Speed factor (1 = as recorded).
        speed: f64,
        /// Start again at the end, with time going on.
        looped: bool,
    },
}

/// How `serve` runs.
pub struct ServeOptions {
    /// State folder.
    pub state: PathBuf,
    /// Console address.
    pub listen: SocketAddr,
    /// Packet source.
    pub source: SensorSource,
    /// Learning period (microseconds); `None`: the one saved from the console, else
    /// 7 days.
    pub learn_micros: Option<i64>,
    /// Zone file.
    pub zones: Option<PathBuf>,
    /// The admin's TLS certificate and key.
    pub tls: (Option<PathBuf>, Option<PathBuf>),
}

/// What the sensor thread publishes.
#[derive(Default)]
struct Shared {
    running: AtomicBool,
    packets: AtomicU64,
    drops: AtomicU64,
    evictions: AtomicU64,
    last_packet: AtomicI64,
    /// Each live interface's counters.
    interfaces: Mutex<Vec<console::InterfaceHealth>>,
    learn_start: AtomicI64,
    learn_micros: AtomicI64,
    /// Store commits that wrote alerts (the air-gap verdict rests on them).
    alert_commits: AtomicU64,
    /// (wall time, packets) of the last rate sample, and the rate.
    rate: Mutex<(Option<Instant>, u64, f64)>,
}

/// How often the background thread looks whether the verdict went stale.
const VERDICT_CHECK: Duration = Duration::from_millis(200);

/// The zone file saved from the console, in the state folder.
const ZONE_FILE: &str = "zones.toml";

/// What the console asks of the running sensor.
enum SensorCommand {
    /// Fold this alert's behaviour into the baseline (marked expected).
    Accept(Box<Alert>),
    /// Use this zone policy from the next packet.
    Zones(Arc<zones::ZonePolicy>),
    /// Use this learning period (microseconds) from the next packet.
    LearningPeriod(i64),
}

impl SensorCommand {
    fn apply(self, pipeline: &mut Pipeline) {
        match self {
            Self::Accept(alert) => pipeline.accept_alert(&alert),
            Self::Zones(policy) => pipeline.set_zones(Some(policy)),
            Self::LearningPeriod(micros) => pipeline.set_learning_period(micros),
        }
    }
}

/// The console's view of gapwatch.
struct GapwatchBackend {
    state: PathBuf,
    /// The zone file in use.
    zones: Mutex<Option<PathBuf>>,
    source: String,
    shared: Arc<Shared>,
    commands: SyncSender<SensorCommand>,
    /// The report over the whole period, as last built.
    verdict: verdict::VerdictCache,
}

impl GapwatchBackend {
    /// Builds the report for `[from, to)` from the store.
    fn build_airgap(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Airgap, String> {
        let path = self.zones.lock().ok().and_then(|z| z.clone());
        let policy = path
            .as_deref()
            .map(zones::ZonePolicy::load)
            .transpose()
            .map_err(|e| e.to_string())?;
        let store = store::Store::open_read_only(&self.state).map_err(|e| e.to_string())?;
        let report =
            crate::airgap::report(&store, policy.as_ref(), from, to).map_err(|e| e.to_string())?;
        let violated = report
            .boundaries
            .iter()
            .filter(|b| !b.violations.is_empty())
            .count();
        let summary = format!(
            "{}: {} boundaries watched, {} crossed; {} alerts marked expected left out (zones {})",
            serde_json::to_value(report.verdict)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
                .replace('_', " "),
            report.boundaries.len(),
            violated,
            report.expected_alerts,
            report.zones_from,
        );
        Ok(Airgap {
            summary,
            html: report.to_html(),
            as_of: Some(console::Clock::now(&console::SystemClock)),
            updating: false,
        })
    }

    /// The sensor's count of store commits that wrote alerts.
    fn alert_generation(&self) -> u64 {
        self.shared.alert_commits.load(Ordering::Acquire)
    }

    /// Rebuilds the whole-period report if alerts were committed since it was built (the
    /// background thread's step).
    fn refresh_airgap(&self) {
        let generation = self.alert_generation();
        self.verdict.refresh_if_stale(generation, || {
            self.build_airgap(None, None).inspect_err(|e| {
                eprintln!("gapwatch: air-gap report: {e}");
            })
        });
    }
}

impl GapwatchBackend {
    /// Hands a command to the sensor without blocking. Errors: `Some(reason)` when its
    /// queue is full, `None` when it has stopped.
    fn send(&self, command: SensorCommand) -> Result<(), Option<&'static str>> {
        match self.commands.try_send(command) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(Some("the sensor is busy; try again in a moment")),
            Err(TrySendError::Disconnected(_)) => Err(None),
        }
    }
}

impl Backend for GapwatchBackend {
    fn airgap(&self, from: Option<Timestamp>, to: Option<Timestamp>) -> Result<Airgap, String> {
        if from.is_some() || to.is_some() {
            return self.build_airgap(from, to);
        }
        self.verdict
            .get(self.alert_generation(), || self.build_airgap(None, None))
    }

    fn health(&self) -> Health {
        let s = &self.shared;
        let micros = |v: i64| (v != 0).then_some(Timestamp(v));
        let last = micros(s.last_packet.load(Ordering::Relaxed));
        let start = micros(s.learn_start.load(Ordering::Relaxed));
        let learn = s.learn_micros.load(Ordering::Relaxed);
        let (learning_until, learning_progress) = match (start, last) {
            (Some(start), Some(last)) => (
                Some(start.plus_micros(learn)),
                Some((last.micros_since(start) as f64 / learn.max(1) as f64).clamp(0.0, 1.0)),
            ),
            _ => (None, None),
        };
        Health {
            running: s.running.load(Ordering::Relaxed),
            source: self.source.clone(),
            packets: s.packets.load(Ordering::Relaxed),
            packets_per_sec: s.rate.lock().map(|r| r.2).unwrap_or(0.0),
            drops: s.drops.load(Ordering::Relaxed),
            interfaces: s.interfaces.lock().map(|i| i.clone()).unwrap_or_default(),
            evictions: s.evictions.load(Ordering::Relaxed),
            last_packet: last,
            learning_period_secs: (learn.max(0) / 1_000_000) as u64,
            learning_until,
            learning_progress,
        }
    }

    fn accept_alert(&self, alert: &Alert) -> Result<(), String> {
        self.send(SensorCommand::Accept(Box::new(alert.clone())))
            .map_err(|e| e.unwrap_or("the sensor is not running, so the baseline cannot change"))
            .map_err(str::to_string)
    }

    fn zone_file(&self) -> Option<String> {
        let path = self.zones.lock().ok()?.clone()?;
        std::fs::read_to_string(path).ok()
    }

    fn set_zone_file(&self, text: &str) -> Result<String, String> {
        let policy = zones::ZonePolicy::parse(text, "zone file").map_err(|e| e.to_string())?;
        let summary = format!(
            "{} zones, {} allowed crossings",
            policy.zones().len(),
            policy.rules().len()
        );
        let path = self.state.join(ZONE_FILE);
        settings::write_atomically(&path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if let Ok(mut zones) = self.zones.lock() {
            *zones = Some(path);
        }
        self.verdict.invalidate();
        // The file is kept either way: a sensor that is not running takes it at its
        // next start.
        match self.send(SensorCommand::Zones(Arc::new(policy))) {
            Err(Some(busy)) => Err(format!("saved, but not applied yet: {busy}")),
            _ => Ok(summary),
        }
    }

    fn set_learning_period(&self, micros: i64) -> Result<String, String> {
        settings::save_learning_period(&self.state, micros).map_err(|e| {
            format!(
                "{}: {e}",
                self.state.join(settings::SETTINGS_FILE).display()
            )
        })?;
        self.shared.learn_micros.store(micros, Ordering::Relaxed);
        let summary = learn::text::span(micros as f64 / 1e6);
        // Kept either way: a sensor that is not running takes it at its next start.
        match self.send(SensorCommand::LearningPeriod(micros)) {
            Err(Some(busy)) => Err(format!("saved, but not applied yet: {busy}")),
            _ => Ok(summary),
        }
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![
            ("State folder".into(), self.state.display().to_string()),
            ("Source".into(), self.source.clone()),
            (
                "Zone file".into(),
                self.zones.lock().ok().and_then(|z| z.clone()).map_or_else(
                    || "none (zones proposed from the devices seen)".to_string(),
                    |p| p.display().to_string(),
                ),
            ),
        ]
    }
}

/// `gapwatch serve`: runs until SIGINT/SIGTERM (or, without looping, the end of the
/// captures is reached and the console keeps serving what was stored).
pub fn serve(options: ServeOptions, stop: Arc<AtomicBool>, banner: Option<String>) -> Result<()> {
    // The writer creates and migrates the store before the console's read-only
    // connection opens it.
    drop(store::Store::open(&options.state)?);
    // A period saved from the console is used unless `--learn` gives one.
    let learn_micros = match options.learn_micros {
        Some(micros) => micros,
        None => settings::learning_period(&options.state)?
            .unwrap_or(learn::EngineConfig::default().learn_micros),
    };
    let shared = Arc::new(Shared::default());
    shared.learn_micros.store(learn_micros, Ordering::Relaxed);
    let (accept_tx, accept_rx) = sync_channel(COMMAND_QUEUE);
    let description = match &options.source {
        SensorSource::Live(ifaces) => format!("live capture on {}", ifaces.join(", ")),
        SensorSource::Replay {
            captures,
            speed,
            looped,
        } => format!(
            "replay of {} at {speed}x{}",
            captures
                .iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(", "),
            if *looped { ", looped" } else { "" }
        ),
    };
    // A zone file saved from the console is used at the next start unless `--zones`
    // names another.
    let saved_zones = options.state.join(ZONE_FILE);
    let zone_path = options
        .zones
        .clone()
        .or_else(|| saved_zones.is_file().then_some(saved_zones));
    let zones_policy = zone_path
        .as_deref()
        .map(zones::ZonePolicy::load)
        .transpose()?
        .map(Arc::new);
    let pipeline_options = PipelineOptions {
        state: Some(options.state.clone()),
        source_description: description.clone(),
        learn_micros: Some(learn_micros),
        zones: zones_policy,
        stages: Stages::Full,
    };
    let sensor = {
        let (shared, stop, source) = (shared.clone(), stop.clone(), options.source.clone());
        std::thread::Builder::new()
            .name("gapwatch-sensor".into())
            .spawn(move || run_sensor(source, pipeline_options, &shared, &stop, &accept_rx))
            .context("starting the sensor thread")?
    };
    let backend = Arc::new(GapwatchBackend {
        state: options.state.clone(),
        zones: Mutex::new(zone_path),
        source: description,
        shared,
        commands: accept_tx,
        verdict: verdict::VerdictCache::new(verdict::INLINE_BUDGET),
    });
    let refresher = {
        let (backend, stop) = (backend.clone(), stop.clone());
        std::thread::Builder::new()
            .name("gapwatch-airgap".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    backend.refresh_airgap();
                    std::thread::sleep(VERDICT_CHECK);
                }
            })
            .context("starting the report thread")?
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("gapwatch-console")
        .enable_all()
        .build()
        .context("starting the console runtime")?;
    let config = ConsoleConfig {
        state: options.state.clone(),
        listen: options.listen,
        tls_cert: options.tls.0.clone(),
        tls_key: options.tls.1.clone(),
        clock: Arc::new(console::SystemClock),
    };
    let result = runtime.block_on(async {
        let console = Console::start(config, backend).await?;
        let addr = console.addr();
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else if addr.is_ipv6() {
            format!("[{}]", addr.ip())
        } else {
            addr.ip().to_string()
        };
        eprintln!("gapwatch: console at https://{host}:{}/", addr.port());
        if let Some(banner) = &banner {
            eprintln!("{banner}");
        }
        while !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        eprintln!("gapwatch: stopping");
        console.shutdown().await;
        Ok::<(), anyhow::Error>(())
    });
    stop.store(true, Ordering::Relaxed);
    if refresher.join().is_err() {
        eprintln!("gapwatch: report thread failed");
    }
    match sensor.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("gapwatch: sensor: {e:#}"),
        Err(_) => eprintln!("gapwatch: sensor thread failed"),
    }
    result
}

/// The sensor thread: packets through the pipeline, paced for replays; health out,
/// accepted alerts in.
fn run_sensor(
    source: SensorSource,
    options: PipelineOptions,
    shared: &Shared,
    stop: &Arc<AtomicBool>,
    accept: &Receiver<SensorCommand>,
) -> Result<()> {
    let mut pipeline = Pipeline::new(options, crate::output::RecordWriter::new(None))?;
    let result = match source {
        SensorSource::Live(ifaces) => {
            let mut live = MultiLiveSource::open(&ifaces, &LiveConfig::default())?;
            live.set_stop_flag(stop.clone());
            live.set_idle_end(Some(LIVE_IDLE));
            // Running from here: every ring is open, so no frame sent from now is missed.
            shared.running.store(true, Ordering::Relaxed);
            // Each round ends when the link is quiet (health and commands are then
            // taken care of) or the sensor stops.
            let r = loop {
                match feed(&mut live, &mut pipeline, shared, stop, accept, None, 0) {
                    Ok(_) if !live.is_stopped() => continue,
                    other => break other,
                }
            };
            finish(pipeline, &mut live, shared, r)
        }
        SensorSource::Replay {
            captures,
            speed,
            looped,
        } => {
            shared.running.store(true, Ordering::Relaxed);
            let mut offset = 0i64;
            let mut pace = Pace::new(speed);
            loop {
                let mut files = crate::cli::open_captures(&captures)?;
                let span = feed(
                    &mut files,
                    &mut pipeline,
                    shared,
                    stop,
                    accept,
                    Some(&mut pace),
                    offset,
                );
                let span = match span {
                    Ok(span) => span,
                    Err(e) => break finish(pipeline, &mut files, shared, Err(e)),
                };
                if !looped || stop.load(Ordering::Relaxed) || span.is_none() {
                    break finish(pipeline, &mut files, shared, Ok(span));
                }
                if let Some((first, last)) = span {
                    // The next round continues one second after this one ended.
                    offset += last.micros_since(first) + 1_000_000;
                }
            }
        }
    };
    shared.running.store(false, Ordering::Relaxed);
    result
}

fn finish(
    pipeline: Pipeline,
    source: &mut dyn PacketSource,
    shared: &Shared,
    fed: Result<Option<(Timestamp, Timestamp)>>,
) -> Result<()> {
    let report = pipeline.finish(source)?;
    // The last commit wrote the alerts still open.
    shared.alert_commits.fetch_add(1, Ordering::AcqRel);
    eprintln!(
        "gapwatch: sensor stopped after {} packets, {} alerts",
        report.packets,
        report.alerts.len()
    );
    fed.map(|_| ())
}

/// Replay pacing: packet time maps to wall time from the first packet, scaled.
struct Pace {
    speed: f64,
    origin: Option<(Timestamp, Instant)>,
}

impl Pace {
    fn new(speed: f64) -> Self {
        Self {
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            origin: None,
        }
    }

    /// Sleeps until `ts` is due (in slices, so a stop request is seen quickly).
    fn wait(&mut self, ts: Timestamp, stop: &AtomicBool) {
        let (t0, w0) = *self.origin.get_or_insert((ts, Instant::now()));
        let due = Duration::from_secs_f64((ts.micros_since(t0).max(0) as f64 / 1e6) / self.speed);
        loop {
            let elapsed = w0.elapsed();
            if elapsed >= due || stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep((due - elapsed).min(Duration::from_millis(100)));
        }
    }
}

/// Feeds packets (their times moved by `offset`) until the source ends or `stop`;
/// returns the first and last original packet time.
fn feed(
    source: &mut dyn PacketSource,
    pipeline: &mut Pipeline,
    shared: &Shared,
    stop: &AtomicBool,
    accept: &Receiver<SensorCommand>,
    mut pace: Option<&mut Pace>,
    offset: i64,
) -> Result<Option<(Timestamp, Timestamp)>> {
    let mut span: Option<(Timestamp, Timestamp)> = None;
    let mut n = 0u64;
    while let Some(packet) = source.next_packet()? {
        let original = packet.ts;
        span = Some(match span {
            Some((first, _)) => (first, original),
            None => (original, original),
        });
        let packet = RawPacket {
            ts: Timestamp(original.micros().saturating_add(offset)),
            ..packet
        };
        if let Some(pace) = pace.as_deref_mut() {
            pace.wait(packet.ts, stop);
        }
        pipeline.process(&packet)?;
        let ts = packet.ts;
        n += 1;
        // Alerts just committed make the air-gap verdict stale at once, not only at the
        // next health update.
        let commits = pipeline.alert_commits();
        if commits != shared.alert_commits.load(Ordering::Relaxed) {
            shared.alert_commits.store(commits, Ordering::Release);
        }
        if n.is_multiple_of(CHECK_EVERY) || pace.is_some() && n.is_multiple_of(16) {
            publish(pipeline, source, shared, ts);
            while let Ok(command) = accept.try_recv() {
                command.apply(pipeline);
            }
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
        for warning in source.warnings() {
            eprintln!("gapwatch: warning: {warning}");
        }
    }
    if let Some((_, last)) = span {
        publish(
            pipeline,
            source,
            shared,
            Timestamp(last.micros().saturating_add(offset)),
        );
    }
    while let Ok(command) = accept.try_recv() {
        command.apply(pipeline);
    }
    Ok(span)
}

/// Publishes health for the console.
fn publish(pipeline: &Pipeline, source: &dyn PacketSource, shared: &Shared, ts: Timestamp) {
    let packets = pipeline.packets();
    shared.packets.store(packets, Ordering::Relaxed);
    shared
        .drops
        .store(source.stats().kernel_drops, Ordering::Relaxed);
    let interfaces = source.interfaces();
    if !interfaces.is_empty() {
        if let Ok(mut shown) = shared.interfaces.lock() {
            *shown = interfaces
                .into_iter()
                .map(|(name, stats)| console::InterfaceHealth {
                    name,
                    packets: stats.packets,
                    drops: stats.kernel_drops,
                })
                .collect();
        }
    }
    shared
        .evictions
        .store(pipeline.flow_stats().flows_evicted, Ordering::Relaxed);
    shared.last_packet.store(ts.micros(), Ordering::Relaxed);
    shared
        .alert_commits
        .store(pipeline.alert_commits(), Ordering::Release);
    if let Some((start, micros)) = pipeline.learning_window() {
        shared.learn_start.store(start.micros(), Ordering::Relaxed);
        shared.learn_micros.store(micros, Ordering::Relaxed);
    }
    if let Ok(mut rate) = shared.rate.lock() {
        let now = Instant::now();
        match rate.0 {
            Some(then) if now.duration_since(then) >= Duration::from_secs(2) => {
                let secs = now.duration_since(then).as_secs_f64();
                *rate = (Some(now), packets, (packets - rate.1) as f64 / secs);
            }
            Some(_) => {}
            None => *rate = (Some(now), packets, 0.0),
        }
    }
}

/// The bundled lab captures, in replay order.
pub fn bundled_captures(dir: Option<&Path>) -> Result<Vec<PathBuf>> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../lab/captures"),
    };
    let files: Vec<PathBuf> = ["normal.pcap.gz", "incidents.pcap.gz"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    if let Some(missing) = files.iter().find(|f| !f.is_file()) {
        bail!(
            "{}: not found (give the folder of the lab captures with --captures DIR)",
            missing.display()
        );
    }
    Ok(files)
}

/// A fresh private folder for the demo's state.
pub fn demo_state_dir() -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let name = format!(
        "gapwatch-demo-{}-{}",
        std::process::id(),
        console::accounts::random_token().get(..8).unwrap_or("0")
    );
    let dir = std::env::temp_dir().join(name);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(state: &std::path::Path) -> (GapwatchBackend, Receiver<SensorCommand>) {
        let (tx, rx) = sync_channel(COMMAND_QUEUE);
        let backend = GapwatchBackend {
            state: state.to_path_buf(),
            zones: Mutex::new(None),
            source: "test".to_string(),
            shared: Arc::new(Shared::default()),
            commands: tx,
            verdict: verdict::VerdictCache::new(verdict::INLINE_BUDGET),
        };
        (backend, rx)
    }

    #[test]
    fn a_zone_file_from_the_console_is_checked_kept_and_sent_to_the_sensor() {
        let dir = tempfile::tempdir().unwrap();
        let (backend, sensor) = backend(dir.path());
        let err = backend
            .set_zone_file(
                "[[zone]]\nname = \"cell\"\ncidrs = [\"10.10.1.0/33\"]\npurdue = 1\nkind = \"ot\"\n",
            )
            .unwrap_err();
        assert!(
            err.starts_with("zone file:3:") && err.contains("10.10.1.0/33"),
            "{err}"
        );
        assert!(backend.zone_file().is_none());
        assert!(sensor.try_recv().is_err());

        let file = "[[zone]]\nname = \"cell\"\ncidrs = [\"10.10.1.0/24\"]\npurdue = 1\nkind = \"ot\"\n\n\
                    [[zone]]\nname = \"office\"\ncidrs = [\"10.10.4.0/24\"]\npurdue = 4\nkind = \"it\"\n";
        assert_eq!(
            backend.set_zone_file(file).unwrap(),
            "2 zones, 0 allowed crossings"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(ZONE_FILE)).unwrap(),
            file
        );
        assert_eq!(backend.zone_file().as_deref(), Some(file));
        match sensor.try_recv() {
            Ok(SensorCommand::Zones(policy)) => assert_eq!(policy.zones().len(), 2),
            _ => panic!("the sensor got no zone policy"),
        }
    }

    #[test]
    fn a_learning_period_from_the_console_is_kept_and_sent_to_the_sensor() {
        let dir = tempfile::tempdir().unwrap();
        let (backend, sensor) = backend(dir.path());
        assert_eq!(backend.set_learning_period(900_000_000).unwrap(), "15 min");
        assert_eq!(
            settings::learning_period(dir.path()).unwrap(),
            Some(900_000_000)
        );
        assert_eq!(backend.health().learning_period_secs, 900);
        match sensor.try_recv() {
            Ok(SensorCommand::LearningPeriod(micros)) => assert_eq!(micros, 900_000_000),
            _ => panic!("the sensor got no learning period"),
        }
    }

    /// A crossing alert written to the store, as the sensor commits it.
    fn crossing(id: u64, ts: Timestamp) -> Alert {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().ok();
        Alert {
            kind: "alert".to_string(),
            id,
            ts,
            ts_last: ts,
            category: learn::Category::ItOtCrossing,
            severity: learn::Severity::High,
            score: 0.9,
            src_ip: ip("10.10.4.10"),
            src_mac: None,
            dst_ip: ip("10.10.1.11"),
            dst_port: Some(502),
            protocol: Some("modbus".to_string()),
            title: "office to control".to_string(),
            explanation: "never seen while learning".to_string(),
            attack: Vec::new(),
            evidence: learn::alert::Evidence::default(),
            count: 1,
            model: "zones".to_string(),
            fuse_key: String::new(),
            hosts: Vec::new(),
        }
    }

    #[test]
    fn a_crossing_is_in_the_verdict_on_the_first_view_after_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Timestamp(1_764_300_000_000_000);
        let mut store = store::Store::open(dir.path()).unwrap();
        let run = store.begin_run("test", t0).unwrap();
        let mut batch = store::Batch::new(run);
        batch.progress = Some(store::RunProgress {
            packets: 10,
            bytes: 1_000,
            last_packet_at: Some(t0.plus_micros(60_000_000)),
            counters: Default::default(),
        });
        store.write_batch(&batch).unwrap();
        let (backend, _sensor) = backend(dir.path());
        let before = backend.airgap(None, None).unwrap();
        assert!(before.summary.starts_with("held: "), "{}", before.summary);
        assert!(before.as_of.is_some() && !before.updating);

        // The sensor commits a crossing and publishes its commit count.
        store
            .upsert_alerts(&[crossing(1, t0.plus_micros(30_000_000))])
            .unwrap();
        backend.shared.alert_commits.store(1, Ordering::Release);
        let after = backend.airgap(None, None).unwrap();
        assert!(after.summary.starts_with("violated: "), "{}", after.summary);
        assert!(after.html.contains("10.10.4.10"), "{}", after.html);
        assert!(!after.updating);
    }
}
