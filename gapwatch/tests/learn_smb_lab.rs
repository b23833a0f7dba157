//! The lab's SMB phase (`lab/captures/smb.pcap.gz`): after 100 s of normal plant
//! traffic, the DMZ file server copies a Windows executable and a PowerShell script onto
//! the SCADA server's share with impacket's SMB2 client (impacket's SimpleSMBServer on
//! the SCADA server). gapwatch must say exactly that, and read the same file names as
//! tshark.

mod common;

use common::{gapwatch, have_tshark, root, tshark};
use serde_json::Value;
use std::collections::BTreeSet;

fn capture() -> std::path::PathBuf {
    root().join("lab/captures/smb.pcap.gz")
}

fn records() -> Vec<Value> {
    let path = capture().display().to_string();
    let out = gapwatch(&["analyze", "--json", "--learn", "90s", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect()
}

#[test]
fn executable_and_script_copied_over_smb_are_one_file_transfer_alert() {
    let records = records();
    let alerts: Vec<&Value> = records.iter().filter(|r| r["kind"] == "alert").collect();
    let categories: BTreeSet<&str> = alerts
        .iter()
        .filter_map(|a| a["category"].as_str())
        .collect();
    // The copy and the first SMB session from the DMZ into the supervisory subnet:
    // nothing else in 200 s of plant traffic.
    assert_eq!(
        categories,
        BTreeSet::from(["file_transfer", "lateral_movement"]),
        "{alerts:#?}"
    );
    assert_eq!(alerts.len(), 2);
    let transfer = alerts
        .iter()
        .find(|a| a["category"] == "file_transfer")
        .expect("file transfer alert");
    assert_eq!(transfer["src_ip"], "10.10.3.20");
    assert_eq!(transfer["dst_ip"], "10.10.2.20");
    // The executable first, the script fused into the same alert.
    assert_eq!(transfer["count"], 2);
    assert_eq!(
        transfer["title"],
        "Windows executable vendor-update.exe moved into 10.10.2.20 (SCADA server)"
    );
    let text = transfer["explanation"].as_str().expect("explanation");
    assert!(
        text.starts_with(
            "10.10.3.20 (IT host) moved the Windows executable vendor-update.exe to \
             10.10.2.20 (SCADA server) over SMB (create for write) on share \
             \\\\10.10.2.20\\UPDATES at "
        ),
        "{text}"
    );
    assert!(text.contains(
        "No executable, script or firmware image was ever moved into 10.10.2.20 before."
    ));
    let lateral = alerts
        .iter()
        .find(|a| a["category"] == "lateral_movement")
        .expect("lateral movement alert");
    assert_eq!(
        lateral["title"],
        "SMB from 10.10.3.20 into OT zone 10.10.2.0/24"
    );
}

#[test]
fn files_opened_for_writing_equal_tshark() {
    let ours: BTreeSet<(String, String, String)> = records()
        .iter()
        .filter(|r| r["kind"] == "event" && r["protocol"] == "smb")
        .filter(|r| r["function_name"] == "create" && r["is_response"] == false)
        .filter(|r| r["op"] == "write")
        .map(|r| {
            (
                r["src_ip"].as_str().unwrap_or_default().to_string(),
                r["dst_ip"].as_str().unwrap_or_default().to_string(),
                r["file_name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        ours,
        BTreeSet::from([
            (
                "10.10.3.20".into(),
                "10.10.2.20".into(),
                "Invoke-Update.ps1".into()
            ),
            (
                "10.10.3.20".into(),
                "10.10.2.20".into(),
                "vendor-update.exe".into()
            ),
        ])
    );
    if !have_tshark() {
        return;
    }
    // tshark: SMB2 create requests whose disposition writes (5 = overwrite if exists).
    let theirs: BTreeSet<(String, String, String)> = tshark(
        &capture(),
        &[
            "-Y",
            "smb2.cmd == 5 && smb2.flags.response == 0 && smb2.create.disposition == 5",
            "-T",
            "fields",
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
            "-e",
            "smb2.filename",
        ],
    )
    .lines()
    .filter_map(|l| {
        let mut f = l.split('\t');
        Some((f.next()?.into(), f.next()?.into(), f.next()?.into()))
    })
    .collect();
    assert_eq!(ours, theirs);
}
