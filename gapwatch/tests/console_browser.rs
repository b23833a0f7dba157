//! The console in a real headless browser (Debian's chromium driven through
//! chromedriver): sign in, open every page, triage an alert, and keep a screenshot of
//! each step in `target/console-screenshots/`. Skipped, saying why, without
//! `/usr/bin/chromedriver`.

use fantoccini::{ClientBuilder, Locator};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn gapwatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gapwatch"))
}

fn smoke() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../lab/captures/smoke.pcap")
}

/// Kills a child process this test started when dropped.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Clicks the element `css` selects.
async fn click(c: &fantoccini::Client, css: &str) {
    let element = c.find(Locator::Css(css)).await.expect(css);
    element.click().await.expect("click");
}

/// Waits (up to 20 s) until the page source contains `text`: after a form post the
/// old page stays in place until the redirect has loaded, so an element both pages
/// share proves nothing.
async fn wait_for_text(c: &fantoccini::Client, text: &str) -> String {
    for _ in 0..200 {
        if let Ok(html) = c.source().await {
            if html.contains(text) {
                return html;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never showed {text:?}");
}

/// Types `text` into the element `css` selects.
async fn type_into(c: &fantoccini::Client, css: &str, text: &str) {
    let element = c.find(Locator::Css(css)).await.expect(css);
    element.send_keys(text).await.expect("type");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// State analysed from the smoke capture (alerts from the first packet), an admin with
/// a generated password, and `gapwatch serve` replaying the capture on it.
fn start_console(state: &Path) -> (Reap, String, String) {
    let analyze = gapwatch()
        .args(["analyze", "--learn", "0s", "--state"])
        .arg(state)
        .arg(smoke())
        .output()
        .expect("run analyze");
    assert!(analyze.status.success());
    let add = gapwatch()
        .args([
            "user",
            "add",
            "admin",
            "--role",
            "admin",
            "--generate",
            "--state",
        ])
        .arg(state)
        .output()
        .expect("run user add");
    assert!(add.status.success());
    let out = String::from_utf8_lossy(&add.stdout).to_string();
    let password = out
        .trim()
        .rsplit(' ')
        .next()
        .expect("password printed")
        .to_string();
    assert_eq!(password.len(), 20, "{out}");
    let mut serve = gapwatch()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--learn",
            "0s",
            "--state",
        ])
        .arg(state)
        .arg("--replay")
        .arg(smoke())
        .args(["--speed", "2", "--loop"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("run serve");
    let stderr = serve.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("serve printed its URL").expect("line");
        if let Some(rest) = line.strip_prefix("gapwatch: console at ") {
            break rest.trim_end_matches('/').to_string();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Reap(serve), url, password)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_open_every_page_and_triage_an_alert() {
    if !Path::new(CHROMEDRIVER).exists() {
        eprintln!(
            "skipped: {CHROMEDRIVER} not installed (apt-get install chromium chromium-driver)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let (_serve, base, password) = start_console(&state);

    let port = free_port();
    let _driver = Reap(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run chromedriver"),
    );
    let caps: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,1000"]
            }
        }))
        .expect("capabilities");
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let mut client = None;
    for _ in 0..100 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let c = client.expect("chromedriver session");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("console-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let shot = |name: &'static str| {
        let c = c.clone();
        let path = shots.join(format!("{name}.png"));
        async move {
            let png = c.screenshot().await.expect("screenshot");
            assert!(png.starts_with(b"\x89PNG"));
            std::fs::write(path, png).expect("write screenshot");
        }
    };

    // Anonymous: sent to the login form.
    c.goto(&format!("{base}/alerts")).await.expect("goto");
    assert_eq!(c.current_url().await.expect("url").path(), "/login");
    shot("01-login").await;
    type_into(&c, "input[name=name]", "admin").await;
    type_into(&c, "input[name=password]", &password).await;
    click(&c, "form.login button").await;
    c.wait()
        .for_element(Locator::Css("header.top"))
        .await
        .expect("signed in");
    assert_eq!(c.current_url().await.expect("url").path(), "/");
    let overview = c.source().await.expect("source");
    assert!(overview.contains("Assets by role") && overview.contains("admin (admin)"));
    shot("02-overview").await;

    let pages = [
        ("/assets", "03-assets", "10.10.1.11"),
        ("/assets/mac:00:80:f4:01:01:0b", "03b-asset", "Identity"),
        ("/map", "04-map", "<svg"),
        ("/alerts", "05-alerts", "Alerts"),
        (
            "/alerts?severity=medium&category=new_device",
            "06-alerts-filtered",
            "alerts match",
        ),
        ("/airgap", "07-airgap", "class=\"as-of\">As of "),
        (
            "/events?protocol=modbus",
            "08-events",
            "read_holding_registers",
        ),
        ("/settings", "09-settings", "Add a user"),
    ];
    for (path, name, text) in pages {
        c.goto(&format!("{base}{path}")).await.expect("goto");
        let html = c.source().await.expect("source");
        assert!(html.contains(text), "{path} lacks {text:?}");
        shot(name).await;
    }

    // The map zooms with its buttons (the embedded script runs under the CSP) and
    // "Fit" brings the whole map back.
    c.goto(&format!("{base}/map")).await.expect("goto");
    let map = c.find(Locator::Css("svg.v-map")).await.expect("map");
    let home = map.attr("viewBox").await.expect("attr").expect("viewBox");
    let width = |vb: &str| -> f64 {
        vb.split(' ')
            .nth(2)
            .and_then(|w| w.parse().ok())
            .expect("width")
    };
    click(&c, "button[data-map-zoom=in]").await;
    let zoomed = map.attr("viewBox").await.expect("attr").expect("viewBox");
    let ratio = width(&zoomed) / width(&home);
    assert!((ratio - 1.0 / 1.3).abs() < 0.01, "{home} -> {zoomed}");
    shot("04b-map-zoomed").await;
    click(&c, "button[data-map-zoom=reset]").await;
    assert_eq!(
        map.attr("viewBox").await.expect("attr").expect("viewBox"),
        home
    );

    // Triage alert 1: mark it expected with a comment.
    c.goto(&format!("{base}/alerts/1")).await.expect("goto");
    assert!(c.source().await.expect("source").contains("new_device"));
    shot("10-alert").await;
    type_into(&c, "input[name=comment]", "commissioned on purpose").await;
    click(&c, "button[value=expected]").await;
    let after = wait_for_text(&c, "expected — commissioned on purpose").await;
    assert!(after.contains("form class=\"triage\""), "back on the alert");
    shot("11-alert-triaged").await;

    // Learning ran 0 s; 30 days from the settings page resumes it, and the engine's
    // period (published by the sensor with its next packets) shows in the health API.
    c.goto(&format!("{base}/settings")).await.expect("goto");
    let settings = c.source().await.expect("source");
    assert!(
        settings.contains("<th>Period</th><td>0 s</td>"),
        "{settings}"
    );
    let period = c
        .find(Locator::Css("input[name=period]"))
        .await
        .expect("period field");
    period.clear().await.expect("clear");
    period.send_keys("30d").await.expect("type");
    click(&c, "form[action='/settings/learning'] button").await;
    wait_for_text(&c, "Learning period set: 30 days.").await;
    shot("09b-settings-learning").await;
    let mut health = serde_json::Value::Null;
    for _ in 0..200 {
        c.goto(&format!("{base}/api/v1/health"))
            .await
            .expect("goto");
        let text = c
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .text()
            .await
            .expect("text");
        health = serde_json::from_str(&text).expect("health JSON");
        if health["learning_progress"]
            .as_f64()
            .is_some_and(|p| p < 1.0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(health["learning_period_secs"], 30 * 86_400, "{health}");
    let progress = health["learning_progress"].as_f64().expect("progress");
    assert!(progress < 0.01, "{health}");
    assert!(std::fs::read_to_string(state.join("settings.toml"))
        .expect("settings kept")
        .contains("learning_period = \"30d\""));

    c.goto(&format!("{base}/audit")).await.expect("goto");
    let audit = c.source().await.expect("source");
    assert!(audit.contains("learning period set to 30d (was 0s)"));
    assert!(audit.contains("alert 1 marked expected: commissioned on purpose"));
    assert!(audit.contains("login_ok"));
    shot("12-audit").await;

    // Log out: back to the login form, and the pages are closed again.
    click(&c, "header.top form button").await;
    c.wait()
        .for_element(Locator::Css("form.login"))
        .await
        .expect("login form");
    c.goto(&format!("{base}/")).await.expect("goto");
    assert_eq!(c.current_url().await.expect("url").path(), "/login");
    c.close().await.expect("close");

    let store = store::Store::open_read_only(&state).expect("store");
    let alert = store.alert(1).expect("query").expect("alert 1");
    assert_eq!(alert.status, store::AlertStatus::Expected);
    assert_eq!(alert.comment.as_deref(), Some("commissioned on purpose"));
}
