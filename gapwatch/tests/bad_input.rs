//! Bad input: one clear error line naming the file or interface and the reason, a
//! non-zero exit when nothing could be read, never a panic; a corrupt tail keeps the good
//! packets, warns and exits 0.

mod common;

use common::{gapwatch, smoke};
use std::io::Write;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_clean_failure(out: &std::process::Output, must_name: &str, reason: &str) {
    let err = stderr_of(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("gapwatch: error:"))
        .unwrap_or_else(|| panic!("no error line in {err}"));
    assert!(
        line.contains(must_name),
        "error line does not name {must_name}: {line}"
    );
    assert!(
        line.to_lowercase().contains(reason),
        "error line does not say '{reason}': {line}"
    );
}

#[test]
fn missing_file_is_named_with_the_os_reason() {
    let out = gapwatch(&["analyze", "/nonexistent/plant.pcap"]);
    assert_clean_failure(&out, "/nonexistent/plant.pcap", "no such file");
}

#[test]
fn random_bytes_are_not_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("noise.pcap");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&path, noise).unwrap();
    let out = gapwatch(&["analyze", path.to_str().unwrap()]);
    assert_clean_failure(&out, "noise.pcap", "not a pcap or pcapng capture file");
}

#[test]
fn a_text_file_is_not_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "PLC-7 maintenance window: Tuesday\n").unwrap();
    let out = gapwatch(&["analyze", path.to_str().unwrap()]);
    assert_clean_failure(&out, "notes.txt", "not a pcap or pcapng capture file");
}

#[test]
fn a_file_cut_mid_record_keeps_its_good_packets_and_warns() {
    let whole = std::fs::read(smoke()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pcap");
    // Cut 30 bytes into some record in the middle of the file.
    let cut = whole.len() / 2 + 30;
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&whole[..cut])
        .unwrap();
    let out = gapwatch(&["analyze", path.to_str().unwrap()]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let warning = err
        .lines()
        .find(|l| l.starts_with("gapwatch: warning:"))
        .unwrap_or_else(|| panic!("no warning in {err}"));
    assert!(warning.contains("cut.pcap"), "{warning}");
    let packets: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("packets"))
        .and_then(|rest| rest.split_whitespace().next())
        .map(|n| n.replace(',', "").parse().unwrap())
        .expect("summary has a packets line");
    // The smoke capture has 4,115 packets; about half were before the cut.
    assert!(packets > 1_500 && packets < 4_115, "{packets}");
}

#[test]
fn several_missing_files_are_all_reported() {
    let out = gapwatch(&["analyze", "/nonexistent/a.pcap", "/nonexistent/b.pcapng"]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("a.pcap") && err.contains("b.pcapng"), "{err}");
}

#[test]
fn a_nonexistent_interface_is_named() {
    let out = gapwatch(&["capture", "--iface", "gw-no-such0"]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("gw-no-such0"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
