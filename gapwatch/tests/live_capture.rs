//! `gapwatch capture` on a live interface: a veth pair between two network namespaces
//! that this test creates (addresses assigned here, no default route), traffic from one
//! side, capture on the other, SIGINT, then the flows and assets are checked.
//! Needs root and iproute2; prints why it skips otherwise.

mod common;

use serde_json::Value;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Two namespaces joined by a veth pair; removed on drop, also when the test fails.
struct Lab {
    a: String,
    b: String,
}

const MAC_A: &str = "02:47:57:00:00:0a";
const MAC_B: &str = "02:47:57:00:00:0b";

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

impl Lab {
    fn create() -> Option<Lab> {
        let pid = std::process::id();
        let lab = Lab {
            a: format!("gw-cap-{pid}-a"),
            b: format!("gw-cap-{pid}-b"),
        };
        let ok = ip(&["netns", "add", &lab.a])
            && ip(&["netns", "add", &lab.b])
            && ip(&[
                "link", "add", "gwcapa", "netns", &lab.a, "address", MAC_A, "type", "veth", "peer",
                "name", "gwcapb", "netns", &lab.b, "address", MAC_B,
            ])
            && ip(&[
                "-n",
                &lab.a,
                "addr",
                "add",
                "10.251.0.1/30",
                "dev",
                "gwcapa",
            ])
            && ip(&[
                "-n",
                &lab.b,
                "addr",
                "add",
                "10.251.0.2/30",
                "dev",
                "gwcapb",
            ])
            && ip(&["-n", &lab.a, "link", "set", "gwcapa", "up"])
            && ip(&["-n", &lab.b, "link", "set", "gwcapb", "up"])
            && ip(&["-n", &lab.a, "link", "set", "lo", "up"]);
        ok.then_some(lab)
    }

    fn exec(&self, ns: &str, cmd: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns]).args(cmd);
        c
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.a]);
        let _ = ip(&["netns", "del", &self.b]);
    }
}

#[test]
fn capture_on_a_veth_reports_the_flows_and_both_hosts() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: live capture needs root (CI runs as root)");
        return;
    }
    let Some(lab) = Lab::create() else {
        eprintln!(
            "skipping: cannot create network namespaces here (iproute2 missing or no permission)"
        );
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let mut capture = lab
        .exec(
            &lab.b,
            &[
                env!("CARGO_BIN_EXE_gapwatch"),
                "capture",
                "--iface",
                "gwcapb",
                "--json",
                "--state",
                state.path().to_str().unwrap(),
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gapwatch capture starts");
    std::thread::sleep(Duration::from_millis(700));
    let ping = lab
        .exec(
            &lab.a,
            &["ping", "-c", "5", "-i", "0.1", "-W", "1", "10.251.0.2"],
        )
        .output()
        .unwrap();
    assert!(
        ping.status.success(),
        "ping failed: {}",
        String::from_utf8_lossy(&ping.stderr)
    );
    // A connection attempt to a closed Modbus port: SYN answered by RST.
    let _ = lab
        .exec(&lab.a, &["bash", "-c", "exec 3<>/dev/tcp/10.251.0.2/502"])
        .output();
    std::thread::sleep(Duration::from_millis(300));
    // `ip netns exec` execs gapwatch, so the child's pid is gapwatch's.
    // SAFETY: kill with a valid pid and signal number has no memory-safety preconditions.
    unsafe { libc::kill(capture.id() as libc::pid_t, libc::SIGINT) };
    let status = capture.wait().unwrap();
    let mut stdout = String::new();
    let mut stderr = String::new();
    capture
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    capture
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "gapwatch capture failed: {stderr}");
    // Kernel drop counters are always reported for live capture.
    assert!(stderr.contains("capture      0 kernel drops"), "{stderr}");

    let records: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let flows: Vec<&Value> = records.iter().filter(|r| r["kind"] == "flow").collect();
    let icmp = flows
        .iter()
        .find(|f| f["transport"] == "icmp" && f["src_ip"] == "10.251.0.1")
        .unwrap_or_else(|| panic!("no ICMP flow in {flows:#?}"));
    assert_eq!(icmp["dst_ip"], "10.251.0.2");
    assert_eq!(icmp["packets_to_server"], 5);
    assert_eq!(icmp["packets_to_client"], 5);
    assert_eq!(icmp["src_mac"], MAC_A);
    assert_eq!(icmp["dst_mac"], MAC_B);
    let modbus = flows
        .iter()
        .find(|f| f["transport"] == "tcp" && f["dst_port"] == 502)
        .unwrap_or_else(|| panic!("no TCP flow to 502 in {flows:#?}"));
    assert_eq!(modbus["src_ip"], "10.251.0.1");
    assert_eq!(modbus["state"], "reset");

    let assets: Vec<&Value> = records.iter().filter(|r| r["kind"] == "asset").collect();
    for (mac, addr) in [(MAC_A, "10.251.0.1"), (MAC_B, "10.251.0.2")] {
        let asset = assets
            .iter()
            .find(|a| a["mac"] == mac)
            .unwrap_or_else(|| panic!("no asset {mac} in {assets:#?}"));
        assert_eq!(asset["ips"], serde_json::json!([addr]));
    }
    // The run was committed to the state folder when the capture stopped.
    let store = store::Store::open(state.path()).unwrap();
    assert!(store.runs().unwrap()[0].finished);
    assert_eq!(store.load_assets().unwrap().len(), assets.len());
}
