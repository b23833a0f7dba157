//! `gapwatch capture` on a live interface: a veth pair between two network namespaces
//! that this test creates (addresses assigned here, no default route), traffic from one
//! side, capture on the other, SIGINT, then the flows and assets are checked.
//! Needs root and iproute2; prints why it skips otherwise.

mod common;

use serde_json::Value;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Two network namespaces, the sender side `a` and the sensor side `b`, joined by veth
/// pairs; removed on drop, also when the test fails.
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
    /// One veth pair with addresses on both ends.
    fn one_link() -> Option<Lab> {
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
    let Some(lab) = Lab::one_link() else {
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

impl Lab {
    /// Two veth pairs (a SPAN sensor with two mirror ports), the sensor side with no
    /// addresses and IPv6 off, so the only frames on the sensor's interfaces are the
    /// ones the test sends.
    fn two_links() -> Option<Lab> {
        let pid = std::process::id();
        let lab = Lab {
            a: format!("gw-two-{pid}-a"),
            b: format!("gw-two-{pid}-b"),
        };
        let quiet = |ns: &str| {
            lab.exec(
                ns,
                &[
                    "sysctl",
                    "-qw",
                    "net.ipv6.conf.all.disable_ipv6=1",
                    "net.ipv6.conf.default.disable_ipv6=1",
                ],
            )
            .status()
            .is_ok_and(|s| s.success())
        };
        let mut ok = ip(&["netns", "add", &lab.a]) && ip(&["netns", "add", &lab.b]);
        ok = ok && quiet(&lab.a) && quiet(&lab.b);
        for n in ["1", "2"] {
            let (a, b) = (format!("gwm{n}a"), format!("gwm{n}b"));
            ok =
                ok && ip(&[
                    "link", "add", &a, "netns", &lab.a, "type", "veth", "peer", "name", &b,
                    "netns", &lab.b,
                ]) && ip(&["-n", &lab.a, "link", "set", &a, "up"])
                    && ip(&["-n", &lab.b, "link", "set", &b, "up"]);
        }
        ok.then_some(lab)
    }
}

/// An Ethernet/IPv4/UDP frame from 10.252.`net`.1:40000 to 10.252.`net`.2:9, as hex.
fn udp_frame_hex(net: u8) -> String {
    let payload = b"gapwatch two-port test";
    let udp_len = 8 + payload.len() as u16;
    let total = 20 + udp_len;
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 17, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[10, 252, net, 1, 10, 252, net, 2]);
    let sum = ip
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let sum = (sum & 0xffff) + (sum >> 16);
    ip[10..12].copy_from_slice(&(!((sum & 0xffff) + (sum >> 16)) as u16).to_be_bytes());
    let mut frame = vec![
        0x02, 0x47, 0x57, 0, net, 0x0b, 0x02, 0x47, 0x57, 0, net, 0x0a, 8, 0,
    ];
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&40_000u16.to_be_bytes());
    frame.extend_from_slice(&9u16.to_be_bytes());
    frame.extend_from_slice(&udp_len.to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(payload);
    frame.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends `count` copies of a frame on `iface` of namespace `ns` (python3, AF_PACKET).
fn send_frames(lab: &Lab, iface: &str, hex: &str, count: u32) {
    let script = "import socket, sys\n\
                  s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n\
                  s.bind((sys.argv[1], 0))\n\
                  for _ in range(int(sys.argv[3])): s.send(bytes.fromhex(sys.argv[2]))\n";
    let out = lab
        .exec(
            &lab.a,
            &["python3", "-c", script, iface, hex, &count.to_string()],
        )
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "sending frames failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn capture_on_two_interfaces_counts_each_ones_packets() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: live capture needs root (CI runs as root)");
        return;
    }
    if !Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipping: python3 is needed to send the test frames");
        return;
    }
    let Some(lab) = Lab::two_links() else {
        eprintln!(
            "skipping: cannot create network namespaces here (iproute2 missing or no permission)"
        );
        return;
    };
    let mut capture = lab
        .exec(
            &lab.b,
            &[
                env!("CARGO_BIN_EXE_gapwatch"),
                "capture",
                "--iface",
                "gwm1b",
                "--iface",
                "gwm2b",
                "--json",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gapwatch capture starts");
    // Both rings are open once gapwatch says it is capturing.
    let (started_tx, started) = std::sync::mpsc::channel();
    let stderr = capture.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut text = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if line.starts_with("gapwatch: capturing on") {
                let _ = started_tx.send(());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    started
        .recv_timeout(Duration::from_secs(30))
        .expect("capture started");
    send_frames(&lab, "gwm1a", &udp_frame_hex(1), 7);
    send_frames(&lab, "gwm2a", &udp_frame_hex(2), 11);
    // Longer than the ring's block timeout, so the kernel has handed every frame over;
    // frames handed over are still read after the stop signal.
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: kill with a valid pid and signal number has no memory-safety preconditions.
    unsafe { libc::kill(capture.id() as libc::pid_t, libc::SIGINT) };
    let status = capture.wait().unwrap();
    let mut stdout = String::new();
    capture
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let stderr = reader.join().unwrap();
    assert!(status.success(), "gapwatch capture failed: {stderr}");
    assert!(
        stderr.contains("capture      0 kernel drops, 0 ring freezes on gwm1b, gwm2b"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  gwm1b      7 packets, 0 kernel drops, 0 ring freezes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  gwm2b      11 packets, 0 kernel drops, 0 ring freezes"),
        "{stderr}"
    );
    let flows: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["kind"] == "flow")
        .collect();
    let mut seen: Vec<(String, u64)> = flows
        .iter()
        .map(|f| {
            (
                format!("{} -> {}", f["src_ip"], f["dst_ip"]).replace('"', ""),
                f["packets_to_server"].as_u64().unwrap_or(0)
                    + f["packets_to_client"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("10.252.1.1 -> 10.252.1.2".to_string(), 7),
            ("10.252.2.1 -> 10.252.2.2".to_string(), 11),
        ]
    );
}

#[test]
fn serve_on_two_interfaces_shows_each_ones_packets_in_the_health_api() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: live capture needs root (CI runs as root)");
        return;
    }
    for tool in ["python3", "curl"] {
        if !Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            eprintln!(
                "skipping: {tool} is needed (frames are sent with python3, the API read with curl)"
            );
            return;
        }
    }
    let Some(lab) = Lab::two_links() else {
        eprintln!(
            "skipping: cannot create network namespaces here (iproute2 missing or no permission)"
        );
        return;
    };
    // The console listens on the sensor namespace's own loopback.
    assert!(ip(&["-n", &lab.b, "link", "set", "lo", "up"]));
    let state = tempfile::tempdir().unwrap();
    let gapwatch = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_gapwatch"))
            .args(args)
            .arg("--state")
            .arg(state.path())
            .output()
            .expect("gapwatch runs");
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    gapwatch(&["user", "add", "ops", "--role", "viewer", "--generate"]);
    let token = gapwatch(&["user", "token", "ops"]);
    let mut serve = lab
        .exec(
            &lab.b,
            &[
                env!("CARGO_BIN_EXE_gapwatch"),
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--iface",
                "gwm1b",
                "--iface",
                "gwm2b",
                "--state",
                state.path().to_str().unwrap(),
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gapwatch serve starts");
    let stderr = serve.stderr.take().unwrap();
    let (url_tx, url) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut text = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if let Some(rest) = line.strip_prefix("gapwatch: console at ") {
                let _ = url_tx.send(rest.trim_end_matches('/').to_string());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let base = url
        .recv_timeout(Duration::from_secs(60))
        .expect("console started");
    let health = || -> Value {
        let out = lab
            .exec(
                &lab.b,
                &[
                    "curl",
                    "-sk",
                    "-H",
                    &format!("Authorization: Bearer {token}"),
                    &format!("{base}/api/v1/health"),
                ],
            )
            .output()
            .expect("curl runs");
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    };
    // The rings are open once the sensor reports itself running.
    let mut h = Value::Null;
    for _ in 0..300 {
        h = health();
        if h["running"] == true {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(h["running"], true, "{h}");
    assert_eq!(h["source"], "live capture on gwm1b, gwm2b");
    send_frames(&lab, "gwm1a", &udp_frame_hex(1), 7);
    send_frames(&lab, "gwm2a", &udp_frame_hex(2), 11);
    // Health is published when the link goes quiet; wait for all 18 frames.
    for _ in 0..300 {
        h = health();
        if h["packets"] == 18 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: kill with a valid pid and signal number has no memory-safety preconditions.
    unsafe { libc::kill(serve.id() as libc::pid_t, libc::SIGINT) };
    let status = serve.wait().unwrap();
    let stderr = reader.join().unwrap();
    assert!(status.success(), "gapwatch serve failed: {stderr}");
    assert_eq!(h["packets"], 18, "{h}");
    assert_eq!(
        h["interfaces"],
        serde_json::json!([
            {"name": "gwm1b", "packets": 7, "drops": 0},
            {"name": "gwm2b", "packets": 11, "drops": 0},
        ]),
        "{h}"
    );
    assert_eq!(h["drops"], 0);
}
