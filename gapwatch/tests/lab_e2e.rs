//! The lab's live end-to-end test: the plant of real OT software (lab/plant.py) runs in
//! network namespaces for a while with `gapwatch capture` on its SPAN port, then
//! lab/check.py compares gapwatch's flows and assets with the lab's own topology (every
//! PLC, RTU, HMI, SCADA server, historian and workstation found with the right MAC and
//! address). Needs root and the lab's packages (`lab/setup.sh`, which `.ci/run` runs);
//! prints why it skips otherwise.

mod common;

use std::process::Command;

#[test]
fn the_lab_plant_is_seen_as_the_lab_built_it() {
    let lab = common::root().join("lab");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: the lab builds network namespaces and needs root (CI runs as root)");
        return;
    }
    if !lab.join(".venv/bin/python").exists() {
        eprintln!("skipping: the lab is not set up (run lab/setup.sh once; .ci/run does)");
        return;
    }
    let out = Command::new(lab.join("ci.sh"))
        .env("GAPWATCH", env!("CARGO_BIN_EXE_gapwatch"))
        .output()
        .expect("lab/ci.sh starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "lab end-to-end failed:\n{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains("lab end-to-end OK"), "{stderr}");
}
