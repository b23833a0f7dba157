//! `gapwatch bench` and the pipeline stages it measures: the core runs only the
//! host-naming dissectors, the dissector stage adds every protocol but learns nothing,
//! and the full pipeline alerts.

mod common;

use common::{gapwatch, smoke};
use gapwatch::output::RecordWriter;
use gapwatch::pipeline::{Pipeline, PipelineOptions, RunReport, Stages};
use sensor::source::{MergedSource, PacketSource};

fn run(stages: Stages) -> RunReport {
    let mut source = MergedSource::open(&[smoke()]).expect("smoke capture");
    let options = PipelineOptions {
        source_description: "smoke".to_string(),
        learn_micros: Some(0),
        stages,
        ..PipelineOptions::default()
    };
    let mut pipeline = Pipeline::new(options, RecordWriter::new(None)).expect("pipeline");
    while let Some(packet) = source.next_packet().expect("read") {
        pipeline.process(&packet).expect("process");
    }
    pipeline.finish(&mut source).expect("finish")
}

/// The `events` line of the run summary.
fn events_line(report: &RunReport) -> String {
    report
        .summary()
        .to_string()
        .lines()
        .find(|l| l.starts_with("events"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn each_stage_runs_what_it_names() {
    let core = run(Stages::Core);
    let dissectors = run(Stages::Dissectors);
    let full = run(Stages::Full);
    // capinfos -c smoke.pcap: 4115 packets.
    for report in [&core, &dissectors, &full] {
        assert_eq!(report.packets, 4115);
    }
    // The core names hosts (DHCP, DNS) but decodes no industrial protocol.
    let core_events = events_line(&core);
    assert!(!core_events.contains("modbus") && !core_events.contains("s7comm"));
    // The lab's HMI polls Modbus and the workstation talks S7comm.
    let dissector_events = events_line(&dissectors);
    assert!(dissector_events.contains("modbus") && dissector_events.contains("s7comm"));
    assert_eq!(dissector_events, events_line(&full));
    // Only the full pipeline learns and alerts (policy alerts from the first packet).
    assert!(core.alerts.is_empty() && dissectors.alerts.is_empty());
    assert!(!full.alerts.is_empty());
    assert_eq!(core.assets.len(), full.assets.len());
}

#[test]
fn bench_prints_one_line_per_stage() {
    let out = gapwatch(&[
        "bench",
        "--repeat",
        "1",
        smoke().to_str().expect("utf-8 path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].starts_with("4,115 packets, "), "{text}");
    assert!(lines[0].ends_with("median of 1 run(s) per stage"), "{text}");
    for (line, stage) in lines[2..].iter().zip(["core", "dissectors", "learning"]) {
        assert!(line.starts_with(stage), "{text}");
    }
    assert!(lines[2].trim_end().ends_with("100 %       100 %"), "{text}");
}
