//! What the console needs from a running pipeline: an alert marked expected reaches the
//! engine between packets, is saved with the next packet, and changes what the engine
//! has learnt. Real pipeline on the smoke capture.

use gapwatch::output::RecordWriter;
use gapwatch::pipeline::{Pipeline, PipelineOptions, Stages};
use learn::{Engine, EngineConfig};
use records::Timestamp;
use sensor::source::{MergedSource, PacketSource};
use std::path::{Path, PathBuf};
use store::{AlertFilter, Store};

fn smoke() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../lab/captures/smoke.pcap")
}

fn pipeline(state: &Path) -> (Pipeline, MergedSource) {
    let source = MergedSource::open(&[smoke()]).expect("smoke capture");
    let options = PipelineOptions {
        state: Some(state.to_path_buf()),
        source_description: "smoke".to_string(),
        learn_micros: Some(0),
        zones: None,
        stages: Stages::Full,
    };
    (
        Pipeline::new(options, RecordWriter::new(None)).expect("pipeline"),
        source,
    )
}

/// What the engine saved in `state` has learnt, in plain lines.
fn learnt(state: &Path) -> Vec<String> {
    let store = Store::open_read_only(state).expect("store");
    let mut engine = Engine::new(EngineConfig::default());
    engine
        .restore(&store.load_model_state().expect("state"))
        .expect("restore");
    engine.baseline(None)
}

#[test]
fn an_alert_marked_expected_is_folded_in_and_saved_with_the_next_packet() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (plain, with_accept) = (dir.path().join("plain"), dir.path().join("accept"));
    let packets = {
        let mut source = MergedSource::open(&[smoke()]).expect("smoke capture");
        let mut n = 0u64;
        while source.next_packet().expect("read").is_some() {
            n += 1;
        }
        n
    };
    assert!(packets > 1000);

    // The same capture twice; the second run gets the beaconing alert accepted
    // before its last packet.
    let (mut run, mut source) = pipeline(&plain);
    while let Some(packet) = source.next_packet().expect("read") {
        run.process(&packet).expect("process");
    }
    run.finish(&mut source).expect("finish");

    let (mut run, mut source) = pipeline(&with_accept);
    let mut last_ts = Timestamp::default();
    for i in 0..packets {
        let packet = source.next_packet().expect("read").expect("packet");
        if i + 1 == packets {
            let reader = Store::open_read_only(&with_accept).expect("reader");
            let alerts = reader.alerts(&AlertFilter::default()).expect("alerts");
            let beacon = alerts
                .iter()
                .find(|a| a.alert.category == learn::Category::Beaconing)
                .expect("a beaconing alert in the smoke capture");
            assert_ne!(
                reader.model_state_saved_at().expect("saved"),
                Some(packet.ts)
            );
            assert_eq!(
                (beacon.alert.src_ip, beacon.alert.dst_port),
                (Some("10.10.2.30".parse().expect("ip")), Some(4840))
            );
            run.accept_alert(&beacon.alert);
        }
        last_ts = packet.ts;
        run.process(&packet).expect("process");
    }
    // Saved with the packet that followed, before the run ends.
    let reader = Store::open_read_only(&with_accept).expect("reader");
    assert_eq!(reader.model_state_saved_at().expect("saved"), Some(last_ts));
    run.finish(&mut source).expect("finish");

    let (plain_lines, accepted_lines) = (learnt(&plain), learnt(&with_accept));
    let removed: Vec<&String> = plain_lines
        .iter()
        .filter(|l| !accepted_lines.contains(l))
        .collect();
    let added: Vec<&String> = accepted_lines
        .iter()
        .filter(|l| !plain_lines.contains(l))
        .collect();
    // The beacon (10.10.2.30 polling its OPC UA server every 10 s) is now learnt.
    assert!(
        added.contains(
            &&"10.10.2.30 connects to 10.10.2.20 port 4840 every 10.0 s (12 connections, learnt)"
                .to_string()
        ),
        "added {added:?}, removed {removed:?}"
    );
}

#[test]
fn user_commands_add_list_token_and_remove_accounts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gapwatch"))
            .args(args)
            .arg("--state")
            .arg(dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run gapwatch")
    };
    // No terminal and no --generate: refused, nothing added.
    let out = run(&["user", "add", "ops", "--role", "admin"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("use --generate"));
    let out = run(&["user", "add", "ops", "--role", "analyst", "--generate"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.starts_with("user ops (analyst) added; password (shown once): "),
        "{text}"
    );
    assert_eq!(text.trim().rsplit(' ').next().map(str::len), Some(20));
    let out = run(&["user", "list"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["ops", "analyst"]
    );
    let out = run(&["user", "token", "ops"]);
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(token.starts_with("gw_") && token.len() == 67, "{token}");
    // Only the token's hash is kept.
    let db = std::fs::read(dir.path().join("console.db")).expect("accounts file");
    assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()));
    let out = run(&["user", "add", "bad name", "--role", "viewer", "--generate"]);
    assert!(!out.status.success());
    assert!(run(&["user", "remove", "ops"]).status.success());
    assert!(!run(&["user", "remove", "ops"]).status.success());
    assert!(String::from_utf8_lossy(&run(&["user", "list"]).stdout).is_empty());
}

#[test]
fn a_learning_period_set_while_running_reaches_the_engine_at_the_next_packet() {
    let dir = tempfile::tempdir().expect("temp dir");
    let categories = |state: &Path| -> Vec<learn::Category> {
        let reader = Store::open_read_only(state).expect("reader");
        let alerts = reader.alerts(&AlertFilter::default()).expect("alerts");
        alerts.iter().map(|a| a.alert.category).collect()
    };
    // Learning 0 s: the smoke capture's beacon alerts, and commits that wrote alerts.
    let plain = dir.path().join("plain");
    let (mut run, mut source) = pipeline(&plain);
    while let Some(packet) = source.next_packet().expect("read") {
        run.process(&packet).expect("process");
    }
    assert!(run.alert_commits() > 0);
    run.finish(&mut source).expect("finish");
    assert!(categories(&plain).contains(&learn::Category::Beaconing));

    // 30 days set after the 100th packet: learning resumes, so the beacon (a learnt
    // pattern, not a policy) raises nothing.
    let resumed = dir.path().join("resumed");
    let (mut run, mut source) = pipeline(&resumed);
    let mut n = 0;
    while let Some(packet) = source.next_packet().expect("read") {
        run.process(&packet).expect("process");
        n += 1;
        if n == 100 {
            assert_eq!(run.learning_window().map(|w| w.1), Some(0));
            run.set_learning_period(30 * 86_400 * 1_000_000);
        }
    }
    assert_eq!(
        run.learning_window().map(|w| w.1),
        Some(30 * 86_400 * 1_000_000)
    );
    run.finish(&mut source).expect("finish");
    assert!(!categories(&resumed).contains(&learn::Category::Beaconing));
}
