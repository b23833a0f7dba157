//! The gapwatch console: an HTTPS server (rustls, ring) with accounts and roles, pages
//! rendered on the server, and a REST API under `/api/v1`.
//!
//! The console reads the store through its own read-only connection and never holds up
//! the sensor: what it needs from the running pipeline (health, the air-gap report,
//! folding an alert marked expected into the baseline) goes through the [`Backend`]
//! trait, which the binary implements with atomics and bounded channels.

pub mod accounts;
mod api;
pub mod clock;
mod pages;
pub mod routes;
pub mod tls;
mod triage;
mod web;

pub use accounts::{Accounts, Role};
pub use clock::{Clock, ManualClock, SystemClock};

use records::Timestamp;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use store::Store;

/// Sensor health as the running pipeline reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Health {
    /// True while the sensor runs.
    pub running: bool,
    /// What it reads (interface or capture files).
    pub source: String,
    /// Packets processed since start.
    pub packets: u64,
    /// Packets per second over the last few seconds (wall time).
    pub packets_per_sec: f64,
    /// Packets the kernel dropped (live capture), all interfaces together.
    pub drops: u64,
    /// Each live interface's own counters (empty for replays).
    pub interfaces: Vec<InterfaceHealth>,
    /// Flows evicted because the flow table was full.
    pub evictions: u64,
    /// Packet time of the last packet.
    pub last_packet: Option<Timestamp>,
    /// The learning period, in seconds from the first packet the state ever saw.
    pub learning_period_secs: u64,
    /// When learning ends (packet time), once learning has started.
    pub learning_until: Option<Timestamp>,
    /// Learning progress in [0, 1], once learning has started.
    pub learning_progress: Option<f64>,
}

/// One live interface's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InterfaceHealth {
    /// Interface name.
    pub name: String,
    /// Packets received from it.
    pub packets: u64,
    /// Packets dropped because its capture ring was full (the sensor was behind).
    pub drops: u64,
}

/// The air-gap verdict, as the binary renders it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Airgap {
    /// One line: the verdict and what it rests on.
    pub summary: String,
    /// The full report as a standalone HTML document.
    pub html: String,
    /// When it was built (wall clock, Unix seconds).
    pub as_of: Option<i64>,
    /// True when alerts arrived since, and a newer verdict is being built.
    pub updating: bool,
}

/// What the console needs from the rest of gapwatch.
pub trait Backend: Send + Sync + 'static {
    /// The air-gap report for alerts first seen in `[from, to)`.
    fn airgap(&self, from: Option<Timestamp>, to: Option<Timestamp>) -> Result<Airgap, String>;
    /// Current sensor health.
    fn health(&self) -> Health;
    /// Folds an alert's behaviour into the running baseline (the operator marked it
    /// expected). Must not block: a full queue is an error to show.
    fn accept_alert(&self, alert: &learn::Alert) -> Result<(), String>;
    /// Settings to show (learning period, zone file ...), as (name, value) lines.
    fn settings(&self) -> Vec<(String, String)>;
    /// The zone file in use, as text (none: zones are proposed from the devices seen).
    fn zone_file(&self) -> Option<String>;
    /// Validates a new zone file, keeps it in the state folder and hands it to the
    /// running sensor. Returns a one-line summary, or the file's error (with its line).
    fn set_zone_file(&self, text: &str) -> Result<String, String>;
    /// Sets the learning period (microseconds from the first packet the state ever
    /// saw): kept in the state folder for the next start and handed to the running
    /// sensor. A longer period resumes learning that had ended, a shorter one ends it
    /// at the next packet. Returns a one-line summary.
    fn set_learning_period(&self, micros: i64) -> Result<String, String>;
}

/// How the console is set up.
pub struct ConsoleConfig {
    /// State folder (store, accounts, TLS identity, evidence).
    pub state: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The admin's certificate chain (PEM); a self-signed one is generated without it.
    pub tls_cert: Option<PathBuf>,
    /// The admin's private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Wall clock for sessions and the audit log.
    pub clock: Arc<dyn Clock>,
}

/// Errors starting the console.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// TLS set-up failed.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The accounts database failed.
    #[error(transparent)]
    Accounts(#[from] accounts::AccountError),
    /// The listener failed.
    #[error("listening on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
}

/// Shared by every request.
pub(crate) struct AppState {
    pub accounts: Arc<Accounts>,
    pub backend: Arc<dyn Backend>,
    pub state: PathBuf,
    /// Read-only store connection, opened on first use (the sensor creates the store).
    pub reader: Mutex<Option<Store>>,
    /// Read-write connection for triage.
    pub writer: Mutex<Option<Store>>,
    /// The learnt state as of the sensor's last save, for asset pages.
    pub learnt: Mutex<Option<views::load::Learnt>>,
}

/// A running console.
pub struct Console {
    addr: SocketAddr,
    handle: axum_server::Handle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Console {
    /// Starts the console on the current tokio runtime and returns once it listens.
    pub async fn start(
        config: ConsoleConfig,
        backend: Arc<dyn Backend>,
    ) -> Result<Console, ConsoleError> {
        let accounts = Arc::new(Accounts::open(&config.state, config.clock.clone())?);
        let (cert, key) = tls::ensure_identity(
            &config.state,
            config.tls_cert.as_deref(),
            config.tls_key.as_deref(),
        )?;
        let tls =
            axum_server::tls_rustls::RustlsConfig::from_config(tls::server_config(&cert, &key)?);
        let app = web::router(Arc::new(AppState {
            accounts,
            backend,
            state: config.state.clone(),
            reader: Mutex::new(None),
            writer: Mutex::new(None),
            learnt: Mutex::new(None),
        }));
        let listener =
            std::net::TcpListener::bind(config.listen).map_err(|source| ConsoleError::Listen {
                addr: config.listen,
                source,
            })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| ConsoleError::Listen {
                addr: config.listen,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ConsoleError::Listen {
                addr: config.listen,
                source,
            })?;
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp_rustls(listener, tls).handle(handle.clone());
        let task = tokio::spawn(async move {
            server
                .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                .await
        });
        Ok(Console { addr, handle, task })
    }

    /// The address it listens on (with the port chosen when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets requests in flight finish (up to 5 s), and waits.
    pub async fn shutdown(self) {
        self.handle
            .graceful_shutdown(Some(std::time::Duration::from_secs(5)));
        // The server's own error at shutdown has nowhere better to go.
        let _ = self.task.await;
    }
}
