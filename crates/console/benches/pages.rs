//! Every page and the main API calls rendered by a console over a store of 10,000 assets
//! and 100,000 alerts, requested over HTTPS on loopback (so each figure includes TLS
//! and the request round trip, an upper bound on rendering). The target is < 200 ms.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use reqwest::header::AUTHORIZATION;
use std::time::Duration;

const ASSETS: u64 = 10_000;
const ALERTS: u64 = 100_000;

fn pages(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    common::fill_store(dir.path(), ASSETS, ALERTS);
    let (console, base, token, client) = rt.block_on(async {
        let clock = std::sync::Arc::new(console::SystemClock);
        let accounts = console::Accounts::open(dir.path(), clock.clone()).expect("accounts");
        accounts
            .add_user("admin", console::Role::Admin, common::PASSWORD)
            .expect("user");
        let token = accounts.issue_token("admin").expect("token");
        let config = console::ConsoleConfig {
            state: dir.path().to_path_buf(),
            listen: "127.0.0.1:0".parse().expect("address"),
            tls_cert: None,
            tls_key: None,
            clock,
        };
        let backend = std::sync::Arc::new(common::RecordingBackend::default());
        let console = console::Console::start(config, backend)
            .await
            .expect("console");
        let base = format!("https://127.0.0.1:{}", console.addr().port());
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        (console, base, token, client)
    });
    let asset_id = format!("/assets/{}", common::asset(5_000).id);
    let paths = [
        "/",
        "/alerts",
        "/alerts?severity=high&category=scan",
        "/alerts?ip=10.20.0.7",
        "/alerts?page=1000",
        "/alerts/50000",
        "/assets",
        "/assets?page=99",
        asset_id.as_str(),
        "/map",
        "/airgap",
        "/events",
        "/settings",
        "/audit",
        "/api/v1/alerts?limit=100",
        "/api/v1/assets?limit=100",
        "/api/v1/health",
    ];
    let mut group = c.benchmark_group("console_page");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(300));
    for path in paths {
        let url = format!("{base}{path}");
        group.bench_function(path, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let r = client
                        .get(&url)
                        .header(AUTHORIZATION, format!("Bearer {token}"))
                        .send()
                        .await
                        .expect("request");
                    assert!(r.status().is_success(), "{url}: {}", r.status());
                    r.bytes().await.expect("body").len()
                })
            })
        });
    }
    group.finish();
    rt.block_on(console.shutdown());
}

criterion_group!(benches, pages);
criterion_main!(benches);
