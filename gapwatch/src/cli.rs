//! Command-line parsing and the subcommands.

use crate::output::RecordWriter;
use crate::pipeline::{Pipeline, PipelineOptions, RunReport, Stages};
use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sensor::source::{LiveConfig, MergedSource, MultiLiveSource, PacketSource};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Passive, self-learning network detection for air-gapped OT networks.
#[derive(Parser, Debug)]
#[command(name = "gapwatch", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Analyse capture files (pcap, pcapng, gzip-compressed) and report flows and assets.
    Analyze(AnalyzeArgs),
    /// Capture live from a network interface (AF_PACKET) until SIGINT/SIGTERM.
    Capture(CaptureArgs),
    /// Score alerts on captures against labelled attack phases.
    Eval(EvalArgs),
    /// Print what has been learnt (for one asset: IP, MAC or asset id), or reset it.
    Baseline(BaselineArgs),
    /// List the alerts in a state folder, or triage one.
    Alerts(AlertsArgs),
    /// Search the protocol event log of a state folder (one line per kind of message
    /// per minute, with its count).
    Events(EventsArgs),
    /// Zone files: `suggest` prints a starting zone file from what was observed.
    Zones {
        #[command(subcommand)]
        command: ZonesCommand,
    },
    /// Run the sensor (live or replayed captures) and the HTTPS console on one state folder.
    Serve(ServeArgs),
    /// The console on the bundled lab captures replayed in a loop, with a fresh state
    /// and a generated one-time admin password.
    Demo(DemoArgs),
    /// Console accounts: add, list, remove, passwd, token.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Throughput of each pipeline stage (sensor core, dissectors, learning) on the
    /// same captures, and each as a share of the core's.
    Bench(BenchArgs),
    /// Reports: `airgap` gives the air-gap verdict with its evidence.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// State folder.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// Console address (HTTPS).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8443")]
    listen: std::net::SocketAddr,
    /// Interface to capture from; repeat it to capture from several at once (e.g. two
    /// SPAN ports).
    #[arg(
        long,
        value_name = "IF",
        conflicts_with = "replay",
        required_unless_present = "replay"
    )]
    iface: Vec<String>,
    /// Capture files to replay (merged in time order) instead of a live interface.
    #[arg(long, value_name = "CAPTURE", num_args = 1..)]
    replay: Vec<PathBuf>,
    /// Replay speed factor (1 = as recorded).
    #[arg(long, value_name = "X", default_value_t = 1.0, requires = "replay")]
    speed: f64,
    /// Replay the captures again at the end, time going on.
    #[arg(long = "loop", requires = "replay")]
    looped: bool,
    /// Learning period from the first packet (`90s`, `10m`, `7d`); without it, the
    /// period last set in the console, else 7 days.
    #[arg(long, value_name = "DURATION", value_parser = learn::parse_duration)]
    learn: Option<i64>,
    /// Zone file (TOML; see `gapwatch zones suggest`).
    #[arg(long, value_name = "FILE")]
    zones: Option<PathBuf>,
    /// TLS certificate chain (PEM); without it a self-signed one is generated.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Console address (HTTPS).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8443")]
    listen: std::net::SocketAddr,
    /// Folder holding normal.pcap.gz and incidents.pcap.gz (default: the repository's
    /// lab/captures).
    #[arg(long, value_name = "DIR")]
    captures: Option<PathBuf>,
    /// Replay speed factor.
    #[arg(long, value_name = "X", default_value_t = 20.0)]
    speed: f64,
    /// Learning period.
    #[arg(long, value_name = "DURATION", value_parser = learn::parse_duration, default_value = "9m")]
    learn: i64,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Add a user (password typed twice on a terminal, or --generate).
    Add {
        /// User name.
        name: String,
        /// Role.
        #[arg(long, value_parser = parse_role)]
        role: console::Role,
        /// State folder.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// Generate a password and print it once.
        #[arg(long)]
        generate: bool,
    },
    /// List users and roles.
    List {
        /// State folder.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
    },
    /// Remove a user.
    Remove {
        /// User name.
        name: String,
        /// State folder.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
    },
    /// Set a user's password (ends their sessions).
    Passwd {
        /// User name.
        name: String,
        /// State folder.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// Generate a password and print it once.
        #[arg(long)]
        generate: bool,
    },
    /// Print a new API bearer token for a user (stored hashed).
    Token {
        /// User name.
        name: String,
        /// State folder.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
    },
}

fn parse_role(s: &str) -> Result<console::Role, String> {
    s.parse()
}

#[derive(Subcommand, Debug)]
enum ZonesCommand {
    /// Print a zone file proposed from the devices in the state folder.
    Suggest {
        /// State folder.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum ReportCommand {
    /// The air-gap verdict: per boundary, held (with how long and how much was seen)
    /// or each crossing with its evidence; coverage; a SHA-256 chain over the evidence.
    Airgap {
        /// State folder.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// Zone file (without one, zones are proposed from the observed devices).
        #[arg(long, value_name = "FILE")]
        zones: Option<PathBuf>,
        /// Only alerts from this time (RFC 3339 or epoch seconds).
        #[arg(long, value_name = "T")]
        from: Option<records::Timestamp>,
        /// Only alerts before this time.
        #[arg(long, value_name = "T")]
        to: Option<records::Timestamp>,
        /// Output format.
        #[arg(long, value_enum, default_value = "html")]
        format: ReportFormat,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ReportFormat {
    Html,
    Json,
}

#[derive(Args, Debug)]
struct BaselineArgs {
    /// State folder.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// Forget what was learnt (about ASSET only, when given) and learn afresh.
    #[arg(long)]
    reset: bool,
    /// An asset: IP address, MAC or asset id.
    asset: Option<String>,
}

#[derive(Args, Debug)]
struct AlertsArgs {
    /// State folder.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// Alert to triage.
    #[arg(long, value_name = "ID", requires = "set")]
    id: Option<u64>,
    /// New status: open, acknowledged, resolved, or expected (folds the behaviour into
    /// the baseline so it no longer alerts).
    #[arg(long, value_name = "STATUS", requires = "id")]
    set: Option<store::AlertStatus>,
    /// Comment stored with the triage.
    #[arg(long, value_name = "TEXT")]
    comment: Option<String>,
    /// Write alert records as JSON Lines.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct EventsArgs {
    /// State folder.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// Sent or received by this address.
    #[arg(long, value_name = "IP")]
    ip: Option<std::net::IpAddr>,
    /// Of this protocol (`modbus`, `s7comm`, `dnp3` ...).
    #[arg(long, value_name = "NAME")]
    protocol: Option<String>,
    /// Of this operation class (read, write, control, program, diagnostic, identify,
    /// session, other).
    #[arg(long, value_name = "OP")]
    op: Option<String>,
    /// Function name or points containing this text.
    #[arg(long, value_name = "TEXT")]
    text: Option<String>,
    /// From this time (RFC 3339 or epoch seconds).
    #[arg(long, value_name = "T")]
    from: Option<records::Timestamp>,
    /// Before this time.
    #[arg(long, value_name = "T")]
    to: Option<records::Timestamp>,
    /// At most this many lines.
    #[arg(long, value_name = "N", default_value = "1000")]
    limit: u32,
    /// Write event log lines as JSON Lines.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// Labels file: {"phases": [{"name", "category", "start", "end", "hosts"}]}.
    #[arg(long, value_name = "LABELS.json")]
    labels: PathBuf,
    /// Learning period from the first packet (`90s`, `10m`, `7d`).
    #[arg(long, value_name = "DURATION", value_parser = learn::parse_duration, default_value = "0s")]
    learn: i64,
    /// Zone file (TOML; see `gapwatch zones suggest`): zones name the network's parts,
    /// and crossings it does not allow alert from the first packet.
    #[arg(long, value_name = "FILE")]
    zones: Option<PathBuf>,
    /// Write the evaluation as one JSON object to stdout instead of a table.
    #[arg(long)]
    json: bool,
    /// Capture files, processed together in timestamp order.
    #[arg(required = true, value_name = "CAPTURE")]
    captures: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct AnalyzeArgs {
    /// Write `flow` and `asset` records as JSON Lines to stdout.
    #[arg(long)]
    json: bool,
    /// Print throughput figures (packets/s, MB/s) at the end.
    #[arg(long)]
    stats: bool,
    /// State folder: the SQLite store and everything gapwatch keeps between runs.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Learning period from the first packet (`90s`, `10m`, `7d`): only policy alerts
    /// (PLC stop, program download, public addresses ...) are raised during it.
    #[arg(long, value_name = "DURATION", value_parser = learn::parse_duration, default_value = "7d")]
    learn: i64,
    /// Zone file (TOML; see `gapwatch zones suggest`): zones name the network's parts,
    /// and crossings it does not allow alert from the first packet.
    #[arg(long, value_name = "FILE")]
    zones: Option<PathBuf>,
    /// Capture files, processed together in timestamp order.
    #[arg(required = true, value_name = "CAPTURE")]
    captures: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Runs of each stage; the median by wall time is reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=99))]
    repeat: u32,
    /// Capture files, processed together in timestamp order.
    #[arg(required = true, value_name = "CAPTURE")]
    captures: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct CaptureArgs {
    /// Interface to capture from (put in promiscuous mode); repeat it to capture from
    /// several at once (e.g. two SPAN ports).
    #[arg(long, value_name = "IF", required = true)]
    iface: Vec<String>,
    /// State folder: the SQLite store and everything gapwatch keeps between runs.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Write `flow` and `asset` records as JSON Lines to stdout.
    #[arg(long)]
    json: bool,
    /// Learning period from the first packet (`90s`, `10m`, `7d`).
    #[arg(long, value_name = "DURATION", value_parser = learn::parse_duration, default_value = "7d")]
    learn: i64,
    /// Zone file (TOML; see `gapwatch zones suggest`): zones name the network's parts,
    /// and crossings it does not allow alert from the first packet.
    #[arg(long, value_name = "FILE")]
    zones: Option<PathBuf>,
}

/// Parses the command line, runs the command and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze(args),
        Command::Bench(args) => bench(args),
        Command::Capture(args) => capture(args),
        Command::Eval(args) => eval(args),
        Command::Baseline(args) => {
            crate::state_cmd::baseline(&args.state, args.asset.as_deref(), args.reset)
        }
        Command::Zones {
            command: ZonesCommand::Suggest { state },
        } => zones_suggest(&state),
        Command::Report {
            command:
                ReportCommand::Airgap {
                    state,
                    zones,
                    from,
                    to,
                    format,
                },
        } => report_airgap(&state, zones.as_deref(), from, to, format),
        Command::Serve(args) => serve(args),
        Command::Demo(args) => demo(args),
        Command::User { command } => user(command),
        Command::Alerts(args) => crate::state_cmd::alerts(
            &args.state,
            args.id
                .zip(args.set)
                .map(|(id, status)| (id, status, args.comment)),
            args.json,
        ),
        Command::Events(args) => crate::state_cmd::events(
            &args.state,
            &store::EventFilter {
                from: args.from,
                to: args.to,
                ip: args.ip,
                protocol: args.protocol,
                op: args.op,
                text: args.text,
                newest_first: false,
                limit: Some(args.limit),
                offset: None,
            },
            args.json,
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gapwatch: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<()> {
    use crate::serve::{SensorSource, ServeOptions};
    let source = if !args.iface.is_empty() {
        SensorSource::Live(args.iface)
    } else {
        SensorSource::Replay {
            captures: args.replay,
            speed: args.speed,
            looped: args.looped,
        }
    };
    let options = ServeOptions {
        state: args.state,
        listen: args.listen,
        source,
        learn_micros: args.learn,
        zones: args.zones,
        tls: (args.tls_cert, args.tls_key),
    };
    crate::serve::serve(options, stop_on_signals()?, None)
}

fn demo(args: DemoArgs) -> Result<()> {
    use crate::serve::{SensorSource, ServeOptions};
    let captures = crate::serve::bundled_captures(args.captures.as_deref())?;
    let state = crate::serve::demo_state_dir()?;
    let password = console::accounts::generate_password();
    let accounts = console::Accounts::open(&state, Arc::new(console::SystemClock))?;
    accounts.add_user("admin", console::Role::Admin, &password)?;
    drop(accounts);
    let banner = format!(
        "gapwatch: demo state in {}\ngapwatch: sign in as admin with the one-time password {password}\n\
         gapwatch: the certificate is self-signed: accept it in the browser (Ctrl-C stops)",
        state.display()
    );
    let options = ServeOptions {
        state: state.clone(),
        listen: args.listen,
        source: SensorSource::Replay {
            captures,
            speed: args.speed,
            looped: true,
        },
        learn_micros: Some(args.learn),
        zones: None,
        tls: (None, None),
    };
    let result = crate::serve::serve(options, stop_on_signals()?, Some(banner));
    if let Err(e) = std::fs::remove_dir_all(&state) {
        eprintln!("gapwatch: warning: {}: {e}", state.display());
    }
    result
}

fn user(command: UserCommand) -> Result<()> {
    use crate::user_cmd;
    match command {
        UserCommand::Add {
            name,
            role,
            state,
            generate,
        } => user_cmd::add(&state, &name, role, generate),
        UserCommand::List { state } => user_cmd::list(&state),
        UserCommand::Remove { name, state } => user_cmd::remove(&state, &name),
        UserCommand::Passwd {
            name,
            state,
            generate,
        } => user_cmd::passwd(&state, &name, generate),
        UserCommand::Token { name, state } => user_cmd::token(&state, &name),
    }
}

fn writer(json: bool) -> RecordWriter {
    if json {
        RecordWriter::stdout()
    } else {
        RecordWriter::new(None)
    }
}

fn analyze(args: AnalyzeArgs) -> Result<()> {
    let mut source = open_captures(&args.captures)?;
    let options = PipelineOptions {
        state: args.state.clone(),
        source_description: source.describe().to_string(),
        learn_micros: Some(args.learn),
        zones: load_zones(args.zones.as_deref())?,
        stages: Stages::Full,
    };
    let mut pipeline = Pipeline::new(options, writer(args.json))?;
    let progress = file_progress(source.stats().input_bytes_total);
    let started = Instant::now();
    let stop = stop_on_signals()?;
    drive(&mut source, &mut pipeline, &progress, &stop)?;
    progress.finish_and_clear();
    let report = pipeline.finish(&mut source)?;
    eprint!("{}", report.summary());
    eprintln!("{}", alerts_line(&report));
    eprint!("{}", alert_list(&report.alerts, 40));
    if args.stats {
        eprintln!("{}", throughput(&report, started.elapsed()));
    }
    Ok(())
}

fn bench(args: BenchArgs) -> Result<()> {
    let mut results = Vec::new();
    for (stages, name) in crate::bench::STAGES {
        let mut runs = Vec::new();
        for i in 0..args.repeat {
            eprintln!("gapwatch: bench: {name}, run {} of {}", i + 1, args.repeat);
            runs.push(crate::bench::run_stage(&args.captures, stages)?);
        }
        if let Some(run) = crate::bench::median(runs) {
            results.push((name, run));
        }
    }
    print!("{}", crate::bench::report(&results, args.repeat));
    Ok(())
}

fn eval(args: EvalArgs) -> Result<()> {
    let labels = crate::eval::Labels::load(&args.labels)?;
    let mut source = open_captures(&args.captures)?;
    let options = PipelineOptions {
        state: None,
        source_description: source.describe().to_string(),
        learn_micros: Some(args.learn),
        zones: load_zones(args.zones.as_deref())?,
        stages: Stages::Full,
    };
    let mut pipeline = Pipeline::new(options, writer(false))?;
    let progress = file_progress(source.stats().input_bytes_total);
    let stop = stop_on_signals()?;
    drive(&mut source, &mut pipeline, &progress, &stop)?;
    progress.finish_and_clear();
    let report = pipeline.finish(&mut source)?;
    let (first, last) = report.observed;
    let learn_end = report
        .learning
        .map_or(first, |(start, micros)| start.plus_micros(micros));
    let evaluation = crate::eval::evaluate(&labels, &report.alerts, (first, last), learn_end);
    if args.json {
        println!("{}", serde_json::to_string(&evaluation)?);
    } else {
        print!("{}", evaluation.render(&report.alerts));
    }
    Ok(())
}

fn load_zones(path: Option<&std::path::Path>) -> Result<Option<Arc<zones::ZonePolicy>>> {
    Ok(path.map(zones::ZonePolicy::load).transpose()?.map(Arc::new))
}

fn zones_suggest(state: &std::path::Path) -> Result<()> {
    let store = store::Store::open(state)?;
    let assets = store.load_assets()?;
    if assets.is_empty() {
        anyhow::bail!(
            "{}: no devices stored yet (run `gapwatch analyze --state` first)",
            store.path().display()
        );
    }
    print!("{}", zones::suggest(&assets));
    Ok(())
}

fn report_airgap(
    state: &std::path::Path,
    zones: Option<&std::path::Path>,
    from: Option<records::Timestamp>,
    to: Option<records::Timestamp>,
    format: ReportFormat,
) -> Result<()> {
    let policy = zones.map(zones::ZonePolicy::load).transpose()?;
    let store = store::Store::open(state)?;
    let report = crate::airgap::report(&store, policy.as_ref(), from, to)?;
    match format {
        ReportFormat::Html => print!("{}", report.to_html()),
        ReportFormat::Json => print!("{}", report.to_json()),
    }
    Ok(())
}

/// Opens capture files to be read together in timestamp order; every file that cannot
/// be opened is named, one per line.
pub(crate) fn open_captures(captures: &[PathBuf]) -> Result<MergedSource> {
    MergedSource::open(captures).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(lines.join("\ngapwatch: error: "))
    })
}

fn capture(args: CaptureArgs) -> Result<()> {
    let stop = stop_on_signals()?;
    let mut source = MultiLiveSource::open(&args.iface, &LiveConfig::default())?;
    source.set_stop_flag(stop.clone());
    let options = PipelineOptions {
        state: args.state.clone(),
        source_description: source.describe().to_string(),
        learn_micros: Some(args.learn),
        zones: load_zones(args.zones.as_deref())?,
        stages: Stages::Full,
    };
    let mut pipeline = Pipeline::new(options, writer(args.json))?;
    let names = args.iface.join(", ");
    eprintln!("gapwatch: capturing on {names} (Ctrl-C to stop)");
    let started = Instant::now();
    drive(&mut source, &mut pipeline, &ProgressBar::hidden(), &stop)?;
    let report = pipeline.finish(&mut source)?;
    eprint!("{}", report.summary());
    eprintln!(
        "capture      {} kernel drops, {} ring freezes on {names}",
        crate::summary::thousands(report.source.kernel_drops),
        crate::summary::thousands(report.source.kernel_queue_freezes),
    );
    if args.iface.len() > 1 {
        for (name, stats) in source.interfaces() {
            eprintln!(
                "  {name:<10} {} packets, {} kernel drops, {} ring freezes",
                crate::summary::thousands(stats.packets),
                crate::summary::thousands(stats.kernel_drops),
                crate::summary::thousands(stats.kernel_queue_freezes),
            );
        }
    }
    eprintln!("{}", throughput(&report, started.elapsed()));
    Ok(())
}

/// A flag set by SIGINT or SIGTERM, so a run stops cleanly and flushes what it holds.
fn stop_on_signals() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).context("installing signal handlers")?;
    }
    Ok(stop)
}

/// Feeds every packet of `source` to `pipeline` until the source ends or `stop` is set.
fn drive(
    source: &mut dyn PacketSource,
    pipeline: &mut Pipeline,
    progress: &ProgressBar,
    stop: &AtomicBool,
) -> Result<()> {
    let mut since_update = 0u32;
    while let Some(packet) = source.next_packet()? {
        pipeline.process(&packet)?;
        since_update += 1;
        if since_update == 8192 {
            since_update = 0;
            let stats = source.stats();
            progress.set_position(stats.input_bytes_read);
            let per_sec = stats.packets as f64 / progress.elapsed().as_secs_f64().max(1e-3);
            progress.set_message(format!(
                "{} packets, {:.0} packets/s",
                crate::summary::thousands(stats.packets),
                per_sec
            ));
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
        for warning in source.warnings() {
            progress.suspend(|| eprintln!("gapwatch: warning: {warning}"));
        }
    }
    for warning in source.warnings() {
        progress.suspend(|| eprintln!("gapwatch: warning: {warning}"));
    }
    Ok(())
}

fn file_progress(total: Option<u64>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(4));
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta}) {msg}",
    )
    .expect("the progress template is a valid constant");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// `alerts  3 (critical 1, high 2); learning until 2026-11-28T05:00:00.000000Z`.
fn alerts_line(report: &RunReport) -> String {
    let mut by_severity = std::collections::BTreeMap::new();
    for alert in &report.alerts {
        *by_severity
            .entry(std::cmp::Reverse(alert.severity))
            .or_insert(0u64) += 1;
    }
    let parts: Vec<String> = by_severity
        .iter()
        .map(|(s, n)| format!("{} {n}", s.0.name()))
        .collect();
    let mut line = format!("alerts       {}", report.alerts.len());
    if !parts.is_empty() {
        line.push_str(&format!(" ({})", parts.join(", ")));
    }
    if let Some((start, micros)) = report.learning {
        let end = start.plus_micros(micros);
        if end > report.observed.1 {
            line.push_str(&format!(
                "; still learning (until {end}: only policy alerts so far)"
            ));
        } else {
            line.push_str(&format!("; learning ended {end}"));
        }
    }
    line
}

/// One line per alert (first `max`), most severe first, for the human summary.
fn alert_list(alerts: &[learn::Alert], max: usize) -> String {
    let mut sorted: Vec<&learn::Alert> = alerts.iter().collect();
    sorted.sort_by_key(|a| (std::cmp::Reverse(a.severity), a.ts));
    let mut out = String::new();
    for a in sorted.iter().take(max) {
        out.push_str(&format!(
            "  {:<8} {:<19} {} {}{}\n",
            a.severity.name(),
            a.category.name(),
            a.ts,
            a.title,
            if a.count > 1 {
                format!(" (x{})", a.count)
            } else {
                String::new()
            }
        ));
    }
    if sorted.len() > max {
        out.push_str(&format!(
            "  ... and {} more (all with --json or --state)\n",
            sorted.len() - max
        ));
    }
    out
}

fn throughput(report: &RunReport, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    format!(
        "throughput   {:.0} packets/s, {:.1} MB/s ({} packets, {} in {:.2} s wall time)",
        report.packets as f64 / secs,
        report.bytes as f64 / secs / 1e6,
        crate::summary::thousands(report.packets),
        crate::summary::human_bytes(report.bytes),
        secs
    )
}
