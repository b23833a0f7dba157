//! Load + render times of the inventory, an asset page and the map on a large store:
//! 10,000 assets, 100,000 alerts and 1,000,000 flows (target: under 200 ms each).
//!
//! `cargo bench -p views --bench render`. Building the store takes a while; its size
//! and build time are printed first.

use criterion::{criterion_group, criterion_main, Criterion};
use records::{AssetRecord, FlowRecord, FlowState, Identity, Role, Timestamp, TransportKind};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};
use store::{Batch, Store};
use views::assets::AssetQuery;
use views::map::MapQuery;

const ASSETS: u32 = 10_000;
const ALERTS: u64 = 100_000;
const FLOWS: u64 = 1_000_000;
const T0: i64 = 1_795_800_000_000_000;
const WEEK_US: i64 = 7 * 24 * 3_600_000_000;

/// Asset n lives in subnet n / 250 (40 subnets); every 25th asset is a server.
fn ip(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        10,
        30 + (n / 250 / 200) as u8,
        (n / 250 % 200) as u8,
        (n % 250 + 1) as u8,
    ))
}

fn role(n: u32) -> Role {
    let subnet = n / 250;
    match (subnet % 4, n % 25) {
        (0 | 1, 0) => Role::ScadaServer,
        (0 | 1, 1..=3) => Role::Hmi,
        (0 | 1, _) => Role::Plc,
        (2, 0) => Role::Historian,
        _ => Role::ItHost,
    }
}

fn asset(n: u32) -> AssetRecord {
    let apps = ["modbus", "s7comm", "enip", "http"];
    AssetRecord {
        kind: "asset",
        id: format!("mac:02:00:00:00:{:02x}:{:02x}", n >> 8, n & 0xff),
        mac: Some(
            format!("02:00:00:00:{:02x}:{:02x}", n >> 8, n & 0xff)
                .parse()
                .unwrap(),
        ),
        ips: [ip(n)].into_iter().collect(),
        vendor: Some(
            [
                "Siemens AG",
                "Rockwell Automation",
                "Dell Inc.",
                "VMware, Inc.",
            ][n as usize % 4]
                .into(),
        ),
        hostnames: if n % 3 == 0 {
            [format!("host{n}.plant.lan")].into_iter().collect()
        } else {
            BTreeSet::new()
        },
        identity: Identity {
            vendor: None,
            product: (n % 5 == 0).then(|| "CPU 1515".into()),
            model: (n % 5 == 0).then(|| "6ES7 515".into()),
            firmware: (n % 5 == 0).then(|| "V2.9".into()),
            serial: None,
            ssh_host_key: None,
            tls_certificate: None,
            sources: Default::default(),
        },
        role: role(n),
        zone: None,
        purdue_level: None,
        first_seen: Timestamp(T0),
        last_seen: Timestamp(T0 + WEEK_US),
        protocols_served: [apps[n as usize % 4].to_string()].into_iter().collect(),
        protocols_used: BTreeSet::new(),
        peers: BTreeSet::new(),
        is_gateway: false,
    }
}

/// Flow k: a client polls one of the servers of its subnet or the next one; over a
/// week.
fn flow(k: u64) -> FlowRecord {
    let client = (k * 7_919 % u64::from(ASSETS)) as u32;
    let subnet = (client / 250 + (k % 3 == 0) as u32) % (ASSETS / 250);
    let server = subnet * 250 + (k % 10) as u32 * 25;
    let start = T0 + (k as i64 * (WEEK_US / FLOWS as i64));
    FlowRecord {
        kind: "flow",
        id: k,
        ts_start: Timestamp(start),
        ts_end: Timestamp(start + 2_000_000),
        transport: TransportKind::Tcp,
        vlan: None,
        src_ip: ip(client),
        src_port: 40_000 + (k % 20_000) as u16,
        dst_ip: ip(server),
        dst_port: 502,
        src_mac: None,
        dst_mac: None,
        packets_to_server: 10,
        packets_to_client: 10,
        bytes_to_server: 700,
        bytes_to_client: 900,
        app: Some(["modbus", "s7comm", "enip", "http"][(server / 25 % 4) as usize]),
        state: FlowState::Closed,
        gap_bytes: 0,
    }
}

fn alert(n: u64) -> learn::Alert {
    use learn::{Category, Severity};
    let src = (n * 13 % u64::from(ASSETS)) as u32;
    let dst = (n * 31 % u64::from(ASSETS)) as u32;
    learn::Alert {
        kind: "alert".into(),
        id: n + 1,
        ts: Timestamp(T0 + n as i64 * 6_000_000),
        ts_last: Timestamp(T0 + n as i64 * 6_000_000 + 1_000_000),
        category: [
            Category::NewConnection,
            Category::Scan,
            Category::UnusualOperation,
        ][(n % 3) as usize],
        severity: [Severity::Low, Severity::Medium, Severity::High][(n % 3) as usize],
        score: 0.5,
        src_ip: Some(ip(src)),
        src_mac: None,
        dst_ip: Some(ip(dst)),
        dst_port: Some(502),
        protocol: Some("modbus".into()),
        title: format!("new connection {} → {}", ip(src), ip(dst)),
        explanation: "never seen in 7 days".into(),
        attack: vec!["T0886".into()],
        evidence: Default::default(),
        count: 1,
        model: "connections".into(),
        fuse_key: String::new(),
        hosts: Vec::new(),
    }
}

fn build(dir: &std::path::Path) -> Store {
    let started = Instant::now();
    let mut store = Store::open(dir).unwrap();
    let run = store.begin_run("bench", Timestamp(T0)).unwrap();
    let mut batch = Batch::new(run);
    batch.assets = (0..ASSETS).map(asset).collect();
    store.write_batch(&batch).unwrap();
    batch.assets.clear();
    for chunk in 0..(FLOWS / 50_000) {
        batch.flows = (chunk * 50_000..(chunk + 1) * 50_000).map(flow).collect();
        store.write_batch(&batch).unwrap();
    }
    batch.flows.clear();
    for chunk in 0..(ALERTS / 20_000) {
        batch.alerts = (chunk * 20_000..(chunk + 1) * 20_000).map(alert).collect();
        store.write_batch(&batch).unwrap();
    }
    eprintln!(
        "store: {} assets, {} flows, {} alerts, {} flow pairs, built in {:.1} s",
        store.count_assets().unwrap(),
        store.count_flows().unwrap(),
        store.count_alerts().unwrap(),
        store.flow_pairs(u32::MAX).unwrap().len(),
        started.elapsed().as_secs_f64()
    );
    store
}

/// The store, built once into the target folder and reused while it holds the
/// expected counts (building it takes minutes).
fn open_or_build() -> Store {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
        });
    let dir = target.join("views-bench-store");
    if let Ok(store) = Store::open(&dir) {
        let full = store.count_assets().ok() == Some(u64::from(ASSETS))
            && store.count_flows().ok() == Some(FLOWS)
            && store.count_alerts().ok() == Some(ALERTS);
        if full {
            eprintln!("store: reusing {}", dir.display());
            return store;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    build(&dir)
}

/// Prints how long each part of a page's load takes, once.
fn parts(store: &Store) {
    let time = |what: &str, f: &dyn Fn() -> usize| {
        let t = Instant::now();
        let n = f();
        eprintln!(
            "  {what}: {:.1} ms ({n} items)",
            t.elapsed().as_secs_f64() * 1e3
        );
    };
    eprintln!("parts:");
    time("store.load_assets", &|| store.load_assets().unwrap().len());
    time("store.untriaged_alert_pairs", &|| {
        store.untriaged_alert_pairs().unwrap().len()
    });
    time("store.flow_pairs(MAP_PAIRS)", &|| {
        store.flow_pairs(views::load::MAP_PAIRS).unwrap().len()
    });
    time("store.asset_refs", &|| store.asset_refs().unwrap().len());
    time("load::asset_list", &|| {
        views::load::asset_list(store).unwrap().rows.len()
    });
    time("load::map", &|| {
        views::load::map(store).unwrap().edges.len()
    });
}

fn bench(c: &mut Criterion) {
    let store = open_or_build();
    parts(&store);
    // The busiest server: asset 0 (SCADA server of subnet 0).
    let busy = asset(0).id;
    let mut g = c.benchmark_group("views");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("inventory: load + render page 1", |b| {
        b.iter(|| {
            let list = views::load::asset_list(&store).unwrap();
            views::assets::list(&list, &AssetQuery::default())
                .into_string()
                .len()
        })
    });
    g.bench_function("inventory: load + search + sort + render", |b| {
        let q = AssetQuery::from_query_str("q=plant.lan&sort=last_seen&dir=desc&role=plc");
        b.iter(|| {
            let list = views::load::asset_list(&store).unwrap();
            views::assets::list(&list, &q).into_string().len()
        })
    });
    g.bench_function("inventory: load + CSV of all", |b| {
        b.iter(|| {
            let list = views::load::asset_list(&store).unwrap();
            views::assets::csv(&list, &AssetQuery::default()).len()
        })
    });
    g.bench_function("asset page (busiest server): load + render", |b| {
        b.iter(|| {
            let cx = views::load::asset(&store, &busy, None).unwrap().unwrap();
            views::asset::page(&cx).into_string().len()
        })
    });
    g.bench_function("map (aggregated): load + render", |b| {
        b.iter(|| {
            let map = views::load::map(&store).unwrap();
            views::map::render(&map, &MapQuery::default())
                .into_string()
                .len()
        })
    });
    g.bench_function("map (one zone of 250 expanded): load + render", |b| {
        let q = MapQuery::from_query_str("expand=10.30.0.0%2F24");
        b.iter(|| {
            let map = views::load::map(&store).unwrap();
            views::map::render(&map, &q).into_string().len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
