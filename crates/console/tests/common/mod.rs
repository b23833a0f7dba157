//! A console on a temporary state folder filled through the store API, a backend that
//! records what reaches it, and an HTTPS client that signs in like a browser.
#![allow(dead_code)]

use console::{Airgap, Backend, Console, ConsoleConfig, Health, ManualClock, Role};
use records::{AssetRecord, Identity, Timestamp};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use store::{Batch, Store};
use wire::MacAddr;

/// Password of every test user.
pub const PASSWORD: &str = "correct horse battery";
/// Start of the test clock (Unix seconds).
pub const T0: i64 = 1_764_300_000;

/// Records alerts handed to the engine.
#[derive(Default)]
pub struct RecordingBackend {
    pub accepted: Mutex<Vec<u64>>,
    /// The zone file last saved.
    pub zones: Mutex<Option<String>>,
    /// The learning period last set (microseconds).
    pub learning: Mutex<Option<i64>>,
}

impl Backend for RecordingBackend {
    fn airgap(&self, _: Option<Timestamp>, _: Option<Timestamp>) -> Result<Airgap, String> {
        Ok(Airgap {
            summary: "held: 2 boundaries watched, 0 crossed".to_string(),
            html: "<!doctype html><html><head><style>p{color:red}</style></head><body><p>report body</p></body></html>".to_string(),
            as_of: Some(T0),
            updating: false,
        })
    }
    fn health(&self) -> Health {
        Health {
            running: true,
            source: "test".to_string(),
            packets: 1234,
            packets_per_sec: 56.0,
            drops: 0,
            interfaces: vec![
                console::InterfaceHealth {
                    name: "eth1".to_string(),
                    packets: 1000,
                    drops: 0,
                },
                console::InterfaceHealth {
                    name: "eth2".to_string(),
                    packets: 234,
                    drops: 7,
                },
            ],
            evictions: 2,
            last_packet: Some(Timestamp(1_764_305_800_000_000)),
            learning_period_secs: self
                .learning
                .lock()
                .ok()
                .and_then(|l| *l)
                .map_or(7 * 86_400, |micros| (micros / 1_000_000) as u64),
            learning_until: Some(Timestamp(1_764_306_000_000_000)),
            learning_progress: Some(0.5),
        }
    }
    fn accept_alert(&self, alert: &learn::Alert) -> Result<(), String> {
        self.accepted
            .lock()
            .map_err(|e| e.to_string())?
            .push(alert.id);
        Ok(())
    }
    fn settings(&self) -> Vec<(String, String)> {
        vec![("Learning period".to_string(), "7 days".to_string())]
    }
    fn zone_file(&self) -> Option<String> {
        self.zones.lock().ok()?.clone()
    }
    fn set_zone_file(&self, text: &str) -> Result<String, String> {
        // Stands in for the zone file parser: a file must name a zone.
        if !text.contains("[[zone]]") {
            return Err("zone file, line 1: no [[zone]] table".to_string());
        }
        *self.zones.lock().map_err(|e| e.to_string())? = Some(text.to_string());
        Ok("1 zone".to_string())
    }
    fn set_learning_period(&self, micros: i64) -> Result<String, String> {
        *self.learning.lock().map_err(|e| e.to_string())? = Some(micros);
        Ok(learn::text::span(micros as f64 / 1e6))
    }
}

/// An asset from `n`.
pub fn asset(n: u64) -> AssetRecord {
    let roles = [
        records::Role::Plc,
        records::Role::Hmi,
        records::Role::EngineeringWorkstation,
        records::Role::ItHost,
    ];
    let mac = MacAddr([0x00, 0x80, 0xf4, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    AssetRecord {
        kind: "asset",
        id: format!("mac:{mac}"),
        mac: Some(mac),
        ips: [IpAddr::V4(Ipv4Addr::new(
            10,
            (n >> 16) as u8,
            (n >> 8) as u8,
            n as u8,
        ))]
        .into_iter()
        .collect(),
        vendor: Some("Schneider Electric".to_string()),
        hostnames: [format!("dev-{n}.plant.local")].into_iter().collect(),
        identity: Identity::default(),
        role: roles[(n % 4) as usize],
        zone: Some(format!("cell-{}", n % 5)),
        purdue_level: Some((n % 4) as u8),
        first_seen: Timestamp(1_764_305_701_000_000),
        last_seen: Timestamp(1_764_305_799_000_000),
        protocols_served: BTreeSet::new(),
        protocols_used: ["modbus".to_string()].into_iter().collect(),
        peers: BTreeSet::new(),
        is_gateway: false,
    }
}

/// An alert from `n` (one a minute).
pub fn alert(n: u64) -> learn::Alert {
    use learn::{Category, Severity};
    let categories = [
        Category::Scan,
        Category::PlcControl,
        Category::NewConnection,
        Category::ValueAnomaly,
    ];
    let severities = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    let category = categories[(n % 4) as usize];
    let ts = 1_764_305_701_000_000 + n as i64 * 60_000_000;
    learn::Alert {
        kind: "alert".to_string(),
        id: n,
        ts: Timestamp(ts),
        ts_last: Timestamp(ts + 7_000_001),
        category,
        severity: severities[(n / 4 % 4) as usize],
        score: 0.5,
        src_ip: Some(IpAddr::V4(Ipv4Addr::new(10, 20, 0, n as u8))),
        src_mac: None,
        dst_ip: Some(IpAddr::V4(Ipv4Addr::new(10, 20, 1, 10))),
        dst_port: Some(502),
        protocol: Some("modbus".to_string()),
        title: format!("{} from 10.20.0.{n}", category.name()),
        explanation: format!("{n} targets in 60 s; never more than 2 before"),
        attack: category.attack().iter().map(|s| s.to_string()).collect(),
        evidence: learn::alert::Evidence {
            flow_ids: vec![n * 100],
            packet_times: vec![Timestamp(ts)],
            pcap: None,
        },
        count: 1,
        model: "connections".to_string(),
        fuse_key: String::new(),
        hosts: vec![IpAddr::V4(Ipv4Addr::new(10, 20, 0, n as u8))],
    }
}

/// Fills `dir` with `assets` assets and `alerts` alerts through the store API.
pub fn fill_store(dir: &std::path::Path, assets: u64, alerts: u64) {
    let mut store = Store::open(dir).expect("open store");
    let run = store
        .begin_run("test", Timestamp(1_764_305_700_000_000))
        .expect("run");
    let mut batch = Batch::new(run);
    batch.assets = (1..=assets).map(asset).collect();
    store.write_batch(&batch).expect("assets");
    let all: Vec<learn::Alert> = (1..=alerts).map(alert).collect();
    for chunk in all.chunks(10_000) {
        store.upsert_alerts(chunk).expect("alerts");
    }
}

/// A console on a filled temporary store, with one user of each role.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub console: Option<Console>,
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub backend: Arc<RecordingBackend>,
    pub accounts: console::Accounts,
    pub client: reqwest::Client,
}

impl Fixture {
    pub async fn start() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        fill_store(dir.path(), 20, 40);
        let clock = Arc::new(ManualClock::new(T0));
        let accounts = console::Accounts::open(dir.path(), clock.clone()).expect("accounts");
        for role in Role::ALL {
            accounts
                .add_user(role.as_str(), role, PASSWORD)
                .expect("add user");
        }
        let backend = Arc::new(RecordingBackend::default());
        let config = ConsoleConfig {
            state: dir.path().to_path_buf(),
            listen: "127.0.0.1:0".parse().expect("address"),
            tls_cert: None,
            tls_key: None,
            clock: clock.clone(),
        };
        let console = Console::start(config, backend.clone())
            .await
            .expect("start console");
        let base = format!("https://127.0.0.1:{}", console.addr().port());
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Fixture {
            dir,
            console: Some(console),
            base,
            clock,
            backend,
            accounts,
            client,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs in through the login form; returns the session cookie pair, or the
    /// redirect target on failure.
    pub async fn login(&self, user: &str, password: &str) -> Result<Session, String> {
        let page = self
            .client
            .get(self.url("/login"))
            .send()
            .await
            .expect("login page");
        let pre = cookie_pair(&page, "__Host-gw_login").expect("login cookie");
        let body = page.text().await.expect("body");
        let csrf = hidden_csrf(&body).expect("csrf field");
        let response = self
            .client
            .post(self.url("/login"))
            .header(COOKIE, pre)
            .form(&[("name", user), ("password", password), ("csrf", &csrf)])
            .send()
            .await
            .expect("login post");
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        match cookie_pair(&response, "__Host-gw_session") {
            Some(cookie) if location == "/" => {
                let overview = self
                    .client
                    .get(self.url("/"))
                    .header(COOKIE, &cookie)
                    .send()
                    .await
                    .expect("overview");
                let body = overview.text().await.expect("body");
                let csrf = hidden_csrf(&body).expect("csrf in shell");
                Ok(Session { cookie, csrf })
            }
            _ => Err(location),
        }
    }

    pub async fn stop(mut self) {
        if let Some(console) = self.console.take() {
            console.shutdown().await;
        }
    }
}

/// A signed-in browser.
#[derive(Clone, Debug)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// `name=value` of a cookie the response sets (non-empty).
pub fn cookie_pair(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")) && pair.len() > name.len() + 1)
        .map(str::to_string)
}

/// The value of the first hidden `csrf` field in a page.
pub fn hidden_csrf(body: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_string())
}
