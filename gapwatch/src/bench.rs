//! `gapwatch bench`: the throughput of each pipeline stage on the same captures, so the
//! cost of the dissectors and of learning is measured against the sensor core with one
//! binary and one command.
//!
//! Each stage ([`Stages::Core`], [`Stages::Dissectors`], [`Stages::Full`]) runs the
//! captures `repeat` times without a state folder or output; the median run by wall
//! time is reported with its CPU time, so a figure taken on a busy machine can still be
//! compared (packets per CPU-second).

use crate::output::RecordWriter;
use crate::pipeline::{Pipeline, PipelineOptions, Stages};
use anyhow::Result;
use sensor::source::PacketSource;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What one run of one stage measured.
#[derive(Clone, Copy, Debug)]
pub struct StageRun {
    /// Packets processed.
    pub packets: u64,
    /// Captured bytes processed.
    pub bytes: u64,
    /// Wall time.
    pub wall: Duration,
    /// CPU time of the process (user and system) spent in the run.
    pub cpu: Duration,
}

impl StageRun {
    /// Packets per wall-clock second.
    pub fn packets_per_s(&self) -> f64 {
        self.packets as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Packets per CPU second.
    pub fn packets_per_cpu_s(&self) -> f64 {
        self.packets as f64 / self.cpu.as_secs_f64().max(1e-9)
    }
}

/// The stages measured, in order, with their names in the report.
pub const STAGES: [(Stages, &str); 3] = [
    (Stages::Core, "core"),
    (Stages::Dissectors, "dissectors"),
    (Stages::Full, "learning"),
];

/// Runs `captures` once through the pipeline limited to `stages`.
pub fn run_stage(captures: &[PathBuf], stages: Stages) -> Result<StageRun> {
    let mut source = crate::cli::open_captures(captures)?;
    let options = PipelineOptions {
        source_description: source.describe().to_string(),
        stages,
        ..PipelineOptions::default()
    };
    let cpu_before = process_cpu_time();
    let started = Instant::now();
    let mut pipeline = Pipeline::new(options, RecordWriter::new(None))?;
    while let Some(packet) = source.next_packet()? {
        pipeline.process(&packet)?;
    }
    let report = pipeline.finish(&mut source)?;
    let wall = started.elapsed();
    let cpu = process_cpu_time().saturating_sub(cpu_before);
    Ok(StageRun {
        packets: report.packets,
        bytes: report.bytes,
        wall,
        cpu,
    })
}

/// The median of `runs` by wall time.
pub fn median(mut runs: Vec<StageRun>) -> Option<StageRun> {
    runs.sort_by_key(|r| r.wall);
    runs.get(runs.len() / 2).copied()
}

/// The report: what was run, then one line per stage with packets/s, MB/s, wall and
/// CPU time, and each figure as a share of the core's (wall and CPU).
pub fn report(results: &[(&str, StageRun)], repeat: u32) -> String {
    let mut out = String::new();
    if let Some((_, first)) = results.first() {
        out.push_str(&format!(
            "{} packets, {}; median of {repeat} run(s) per stage\n",
            crate::summary::thousands(first.packets),
            crate::summary::human_bytes(first.bytes),
        ));
    }
    out.push_str(&format!(
        "{:<11} {:>14} {:>9} {:>8} {:>8} {:>9} {:>11}\n",
        "stage", "packets/s", "MB/s", "wall s", "cpu s", "of core", "of core cpu"
    ));
    let core = results.first().map(|(_, r)| *r);
    for (name, run) in results {
        let (share, share_cpu) = match core {
            Some(c) => (
                100.0 * run.packets_per_s() / c.packets_per_s().max(1e-9),
                100.0 * run.packets_per_cpu_s() / c.packets_per_cpu_s().max(1e-9),
            ),
            None => (0.0, 0.0),
        };
        out.push_str(&format!(
            "{:<11} {:>14} {:>9.1} {:>8.2} {:>8.2} {:>8.0} % {:>9.0} %\n",
            name,
            crate::summary::thousands(run.packets_per_s() as u64),
            run.bytes as f64 / run.wall.as_secs_f64().max(1e-9) / 1e6,
            run.wall.as_secs_f64(),
            run.cpu.as_secs_f64(),
            share,
            share_cpu,
        ));
    }
    out
}

/// CPU time (user and system) this process has used so far.
fn process_cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer to a rusage struct.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(packets: u64, wall_ms: u64, cpu_ms: u64) -> StageRun {
        StageRun {
            packets,
            bytes: packets * 100,
            wall: Duration::from_millis(wall_ms),
            cpu: Duration::from_millis(cpu_ms),
        }
    }

    #[test]
    fn median_is_by_wall_time() {
        let m = median(vec![run(10, 300, 1), run(10, 100, 2), run(10, 200, 3)]).expect("median");
        assert_eq!(m.wall, Duration::from_millis(200));
        assert_eq!(m.cpu, Duration::from_millis(3));
    }

    #[test]
    fn report_gives_shares_of_the_core() {
        let text = report(
            &[
                ("core", run(1_000_000, 1000, 1000)),
                ("dissectors", run(1_000_000, 2000, 1600)),
            ],
            3,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            "1,000,000 packets, 100.0 MB; median of 3 run(s) per stage"
        );
        assert!(lines[2].starts_with("core") && lines[2].contains("1,000,000"));
        assert!(
            lines[2].trim_end().ends_with("100 %       100 %"),
            "{}",
            lines[2]
        );
        // Half the core's packets per wall second, 62 % of its packets per CPU second.
        assert!(
            lines[3].contains("  50 %") && lines[3].contains("62 %"),
            "{}",
            lines[3]
        );
    }
}
