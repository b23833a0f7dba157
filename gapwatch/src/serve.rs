//! `gapwatch serve` and `gapwatch demo`: the sensor and the console together on one
//! state folder.
//!
//! The pipeline runs in its own thread and never waits on the console: health leaves it
//! through atomics, and alerts marked expected reach it through a bounded channel that
//! it drains between packets. The console runs on tokio and reads the store through its
//! own read-only connection.

use crate::pipeline::{Pipeline, PipelineOptions, Stages};
use anyhow::{bail, Context, Result};
use console::{Airgap, Backend, Console, ConsoleConfig, Health};
use learn::Alert;
use records::Timestamp;
use sensor::source::{LiveConfig, LiveSource, MergedSource, PacketSource, RawPacket};
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

/// Where packets come from.
#[derive(Clone, Debug)]
pub enum SensorSource {
    /// Live capture from an interface.
    Live(String),
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
    /// Learning period (microseconds).
    pub learn_micros: i64,
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
    learn_start: AtomicI64,
    learn_micros: AtomicI64,
    /// (wall time, packets) of the last rate sample, and the rate.
    rate: Mutex<(Option<Instant>, u64, f64)>,
}

/// How often the air-gap report over the whole period is rebuilt in the background:
/// on a large store it takes seconds, too long to build per page view.
const AIRGAP_REFRESH: Duration = Duration::from_secs(60);

/// The zone file saved from the console, in the state folder.
const ZONE_FILE: &str = "zones.toml";

/// What the console asks of the running sensor.
enum SensorCommand {
    /// Fold this alert's behaviour into the baseline (marked expected).
    Accept(Box<Alert>),
    /// Use this zone policy from the next packet.
    Zones(Arc<zones::ZonePolicy>),
}

impl SensorCommand {
    fn apply(self, pipeline: &mut Pipeline) {
        match self {
            Self::Accept(alert) => pipeline.accept_alert(&alert),
            Self::Zones(policy) => pipeline.set_zones(Some(policy)),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a reader never
/// sees half a file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
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
    airgap_cache: Mutex<Option<Airgap>>,
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
        })
    }

    /// Rebuilds the cached whole-period report.
    fn refresh_airgap(&self) {
        match self.build_airgap(None, None) {
            Ok(mut report) => {
                let now = console::Clock::now(&console::SystemClock);
                let at = Timestamp(now.saturating_mul(1_000_000)).to_string();
                report.summary = format!(
                    "{} (as of {} UTC)",
                    report.summary,
                    at.get(11..19).unwrap_or("")
                );
                if let Ok(mut cache) = self.airgap_cache.lock() {
                    *cache = Some(report);
                }
            }
            Err(e) => eprintln!("gapwatch: air-gap report: {e}"),
        }
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
        let cached = self.airgap_cache.lock().ok().and_then(|c| c.clone());
        match cached {
            Some(report) => Ok(report),
            None => {
                self.refresh_airgap();
                self.airgap_cache
                    .lock()
                    .ok()
                    .and_then(|c| c.clone())
                    .ok_or_else(|| "the report could not be built".to_string())
            }
        }
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
            evictions: s.evictions.load(Ordering::Relaxed),
            last_packet: last,
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
        write_atomically(&path, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Ok(mut zones) = self.zones.lock() {
            *zones = Some(path);
        }
        // The file is kept either way: a sensor that is not running takes it at its
        // next start.
        match self.send(SensorCommand::Zones(Arc::new(policy))) {
            Err(Some(busy)) => Err(format!("saved, but not applied yet: {busy}")),
            _ => Ok(summary),
        }
    }

    fn settings(&self) -> Vec<(String, String)> {
        let learn = self.shared.learn_micros.load(Ordering::Relaxed);
        vec![
            ("State folder".into(), self.state.display().to_string()),
            ("Source".into(), self.source.clone()),
            (
                "Learning period".into(),
                learn::text::span(learn as f64 / 1e6),
            ),
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
    let shared = Arc::new(Shared::default());
    shared
        .learn_micros
        .store(options.learn_micros, Ordering::Relaxed);
    let (accept_tx, accept_rx) = sync_channel(COMMAND_QUEUE);
    let description = match &options.source {
        SensorSource::Live(iface) => format!("live capture on {iface}"),
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
        learn_micros: Some(options.learn_micros),
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
        airgap_cache: Mutex::new(None),
    });
    let refresher = {
        let (backend, stop) = (backend.clone(), stop.clone());
        std::thread::Builder::new()
            .name("gapwatch-airgap".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    backend.refresh_airgap();
                    let next = Instant::now() + AIRGAP_REFRESH;
                    while Instant::now() < next && !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(200));
                    }
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
    shared.running.store(true, Ordering::Relaxed);
    let result = match source {
        SensorSource::Live(iface) => {
            let mut live = LiveSource::open(&iface, &LiveConfig::default())?;
            live.set_stop_flag(stop.clone());
            let r = feed(&mut live, &mut pipeline, shared, stop, accept, None, 0);
            finish(pipeline, &mut live, r)
        }
        SensorSource::Replay {
            captures,
            speed,
            looped,
        } => {
            let mut offset = 0i64;
            let mut pace = Pace::new(speed);
            loop {
                let mut files = MergedSource::open(&captures).map_err(|errors| {
                    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
                    anyhow::anyhow!(lines.join("; "))
                })?;
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
                    Err(e) => break finish(pipeline, &mut files, Err(e)),
                };
                if !looped || stop.load(Ordering::Relaxed) || span.is_none() {
                    break finish(pipeline, &mut files, Ok(span));
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
    fed: Result<Option<(Timestamp, Timestamp)>>,
) -> Result<()> {
    let report = pipeline.finish(source)?;
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
    shared
        .evictions
        .store(pipeline.flow_stats().flows_evicted, Ordering::Relaxed);
    shared.last_packet.store(ts.micros(), Ordering::Relaxed);
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
            airgap_cache: Mutex::new(None),
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
}
