//! Live capture on a veth pair between two network namespaces this test creates.
//!
//! Traffic is sent only inside those namespaces, between addresses assigned here, with no
//! default route. Needs root and `ip`; otherwise the tests say why and return.

use std::fs::File;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sensor::source::{
    LiveConfig, LiveSource, MultiLiveSource, PacketSource, SourceError, SourceStats,
};
use wire::{LinkType, MacAddr, Network, Transport};

const MAC_A: [u8; 6] = [0x02, 0x67, 0x77, 0x00, 0x00, 0x01];
const MAC_B: [u8; 6] = [0x02, 0x67, 0x77, 0x00, 0x00, 0x02];
const PINGS: u64 = 20;
/// Payload bytes of the raw test frames, all equal to the frame's marker.
const MARKER_LEN: usize = 18;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and no memory effects.
    unsafe { libc::geteuid() == 0 }
}

fn have_ip() -> bool {
    Command::new("ip")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces joined by a veth pair; deleted on drop (also when the test fails).
struct Lab {
    ns_a: String,
    ns_b: String,
    veth_a: String,
    veth_b: String,
    ip_a: String,
    ip_b: String,
}

impl Lab {
    /// `tag` (one letter) keeps the names of concurrently running tests apart. `None`
    /// (with the reason printed) when this machine does not let us create namespaces.
    fn new(tag: char) -> Option<Self> {
        let pid = std::process::id();
        let x = pid % 250 + 1;
        let lab = Self {
            ns_a: format!("gw-src-{pid}-{tag}a"),
            ns_b: format!("gw-src-{pid}-{tag}b"),
            veth_a: format!("gs{tag}{pid}a"),
            veth_b: format!("gs{tag}{pid}b"),
            ip_a: format!("10.250.{x}.1"),
            ip_b: format!("10.250.{x}.2"),
        };
        let mac = |m: [u8; 6]| {
            m.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        };
        let probe = Command::new("ip")
            .args(["netns", "add", &lab.ns_a])
            .output()
            .expect("run ip");
        if !probe.status.success() {
            eprintln!(
                "skipping: cannot create a network namespace here: {}",
                String::from_utf8_lossy(&probe.stderr).trim()
            );
            return None;
        }
        ip(&["netns", "add", &lab.ns_b]);
        // IPv6 off before any link comes up: no router or neighbour solicitations, so
        // the only frames on the links are the ones a test sends (a small ring filled
        // by link-up chatter would drop a test's frames before it reads any).
        for ns in [&lab.ns_a, &lab.ns_b] {
            ip(&[
                "netns",
                "exec",
                ns,
                "sysctl",
                "-qw",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            ]);
        }
        // Created inside namespace A with its peer placed in B: nothing in the host's.
        ip(&[
            "-n",
            &lab.ns_a,
            "link",
            "add",
            &lab.veth_a,
            "address",
            &mac(MAC_A),
            "type",
            "veth",
            "peer",
            "name",
            &lab.veth_b,
            "address",
            &mac(MAC_B),
            "netns",
            &lab.ns_b,
        ]);
        let cidr_a = format!("{}/30", lab.ip_a);
        let cidr_b = format!("{}/30", lab.ip_b);
        ip(&["-n", &lab.ns_a, "link", "set", &lab.veth_a, "up"]);
        ip(&["-n", &lab.ns_b, "link", "set", &lab.veth_b, "up"]);
        ip(&["-n", &lab.ns_a, "addr", "add", &cidr_a, "dev", &lab.veth_a]);
        ip(&["-n", &lab.ns_b, "addr", "add", &cidr_b, "dev", &lab.veth_b]);
        Some(lab)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Deleting a namespace removes its end of the veth pair, and so the pair.
        for ns in [&self.ns_a, &self.ns_b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// What the capture thread saw.
#[derive(Debug, Default)]
struct Seen {
    requests: u64,
    replies: u64,
    other: u64,
    non_ethernet: u64,
    bad_time: u64,
    bad_len: u64,
    stats: SourceStats,
    stop_returned_none: bool,
    stop_took: Duration,
}

/// Classifies a frame with `wire::decode`: (is echo request a->b, is echo reply b->a),
/// MAC and IPv4 addresses included.
fn icmp_echo(frame: &[u8], ip_a: [u8; 4], ip_b: [u8; 4]) -> (bool, bool) {
    let d = wire::decode(LinkType::Ethernet, frame);
    let (Some(link), Network::Ipv4(ip), Transport::Icmp(icmp)) = (d.link, d.network, d.transport)
    else {
        return (false, false);
    };
    let (mac_a, mac_b) = (Some(MacAddr(MAC_A)), Some(MacAddr(MAC_B)));
    let (a, b) = (IpAddr::from(ip_a), IpAddr::from(ip_b));
    let request = icmp.icmp_type == 8
        && (ip.src, ip.dst) == (a, b)
        && (link.src_mac, link.dst_mac) == (mac_a, mac_b);
    let reply = icmp.icmp_type == 0
        && (ip.src, ip.dst) == (b, a)
        && (link.src_mac, link.dst_mac) == (mac_b, mac_a);
    (request, reply)
}

fn parse_v4(s: &str) -> [u8; 4] {
    s.parse::<std::net::Ipv4Addr>().expect("address").octets()
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_micros() as i64
}

/// Builds a lab, captures on B's veth end while A pings B 20 times, and returns what was
/// seen. `None` when the test cannot run here.
fn ping_capture(tag: char) -> Option<Seen> {
    if !is_root() {
        eprintln!("skipping: live capture and network namespaces need root");
        return None;
    }
    if !have_ip() {
        eprintln!("skipping: the `ip` command (iproute2) is not installed");
        return None;
    }
    let lab = Lab::new(tag)?;
    let ns_path = format!("/run/netns/{}", lab.ns_b);
    let iface = lab.veth_b.clone();
    let (ip_a, ip_b) = (parse_v4(&lab.ip_a), parse_v4(&lab.ip_b));
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
    let started = now_micros();

    let capture = thread::spawn(move || -> Seen {
        // setns moves only this thread into namespace B, where the veth end lives.
        enter_netns(&ns_path);
        let config = LiveConfig {
            block_size: 256 * 1024,
            block_count: 8,
            block_timeout: Duration::from_millis(20),
            ..LiveConfig::default()
        };
        let mut src = match LiveSource::open(&iface, &config) {
            Ok(s) => s,
            Err(e) => {
                let _ = ready_tx.send(Err(e.to_string()));
                return Seen::default();
            }
        };
        let _ = ready_tx.send(Ok(()));
        let mut seen = Seen::default();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline && (seen.requests < PINGS || seen.replies < PINGS) {
            let Some(p) = src
                .next_packet_timeout(Duration::from_millis(200))
                .expect("capture")
            else {
                continue;
            };
            if p.link != LinkType::Ethernet {
                seen.non_ethernet += 1;
            }
            if p.ts.micros() < started || p.ts.micros() > now_micros() {
                seen.bad_time += 1;
            }
            if p.data.len() as u64 > u64::from(p.orig_len) {
                seen.bad_len += 1;
            }
            match icmp_echo(p.data, ip_a, ip_b) {
                (true, _) => seen.requests += 1,
                (_, true) => seen.replies += 1,
                _ => seen.other += 1,
            }
        }
        seen.stats = src.stats();
        // The stop flag ends next_packet within one poll interval.
        src.stop_handle().store(true, Ordering::Relaxed);
        let t = Instant::now();
        seen.stop_returned_none = matches!(src.next_packet(), Ok(None));
        seen.stop_took = t.elapsed();
        seen
    });

    match ready_rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("live source did not open: {e}"),
        Err(e) => panic!("capture thread did not start: {e}"),
    }
    let ping = Command::new("ip")
        .args([
            "netns", "exec", &lab.ns_a, "ping", "-n", "-q", "-c", "20", "-i", "0.05", "-W", "1",
        ])
        .arg(&lab.ip_b)
        .output()
        .expect("run ping");
    assert!(
        ping.status.success(),
        "ping failed: {}{}",
        String::from_utf8_lossy(&ping.stdout),
        String::from_utf8_lossy(&ping.stderr)
    );
    let seen = capture.join().expect("capture thread");
    eprintln!("live capture: {seen:?}");
    drop(lab);
    Some(seen)
}

fn assert_sane(seen: &Seen, frame_len: u64) {
    assert!(seen.requests >= PINGS, "{seen:?}");
    assert!(seen.replies >= PINGS, "{seen:?}");
    assert_eq!(seen.non_ethernet, 0);
    assert_eq!(
        seen.bad_time, 0,
        "timestamps outside the test's run: {seen:?}"
    );
    assert_eq!(seen.bad_len, 0, "{seen:?}");
    let delivered = seen.requests + seen.replies + seen.other;
    assert!(seen.stats.packets >= delivered, "{seen:?}");
    assert!(
        seen.stats.bytes >= frame_len * (seen.requests + seen.replies),
        "{seen:?}"
    );
    assert_eq!(seen.stats.kernel_drops, 0, "{seen:?}");
    assert!(seen.stop_returned_none);
    assert!(seen.stop_took < Duration::from_secs(1), "{seen:?}");
}

#[test]
fn live_capture_sees_pings_between_namespaces() {
    let Some(seen) = ping_capture('p') else {
        return;
    };
    // 14 Ethernet + 20 IPv4 + 8 ICMP + 56 bytes of ping data.
    assert_sane(&seen, 98);
}

/// Opens a capture in namespace `ns` on `iface` from a new thread (setns affects only
/// the calling thread) and collects frames whose source MAC is A's, until `want` arrived
/// or 10 s passed (frames are the test's own, ending in a marker payload). Returns when the source is open, with the handle to join.
fn capture_from_a(ns: &str, iface: &str, want: usize) -> thread::JoinHandle<Vec<Vec<u8>>> {
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
    let ns_path = format!("/run/netns/{ns}");
    let iface = iface.to_string();
    let handle = thread::spawn(move || {
        enter_netns(&ns_path);
        let config = LiveConfig {
            block_size: 64 * 1024,
            block_count: 4,
            block_timeout: Duration::from_millis(10),
            ..LiveConfig::default()
        };
        let mut src = match LiveSource::open(&iface, &config) {
            Ok(s) => s,
            Err(e) => {
                let _ = ready_tx.send(Err(e.to_string()));
                return Vec::new();
            }
        };
        let _ = ready_tx.send(Ok(()));
        let mut frames = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while frames.len() < want && Instant::now() < deadline {
            if let Some(p) = src
                .next_packet_timeout(Duration::from_millis(100))
                .expect("capture")
            {
                // Only the test's own frames (ARP and neighbour discovery also pass).
                let ours = (1..=3u8).any(|m| p.data.ends_with(&[m; MARKER_LEN]));
                if p.data.get(6..12) == Some(&MAC_A[..]) && ours {
                    assert!(p.data.len() as u64 <= u64::from(p.orig_len));
                    frames.push(p.data.to_vec());
                }
            }
        }
        frames
    });
    match ready_rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("live source did not open: {e}"),
        Err(e) => panic!("capture thread did not start: {e}"),
    }
    handle
}

fn enter_netns(ns_path: &str) {
    let ns = File::open(ns_path).expect("open namespace");
    // SAFETY: `ns` is an open namespace file descriptor for the call's duration.
    let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
}

/// Sends raw frames out of `iface` in namespace `ns` (from a thread of its own).
fn send_raw(ns: &str, iface: &str, frames: Vec<Vec<u8>>) {
    let ns_path = format!("/run/netns/{ns}");
    let iface = std::ffi::CString::new(iface).expect("name");
    thread::spawn(move || {
        enter_netns(&ns_path);
        // SAFETY: plain system calls; `addr` is a valid sockaddr_ll of the size passed,
        // and each frame buffer is valid for its length during `sendto`.
        unsafe {
            let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let ifindex = libc::if_nametoindex(iface.as_ptr());
            assert!(ifindex > 0);
            let mut addr: libc::sockaddr_ll = std::mem::zeroed();
            addr.sll_family = libc::AF_PACKET as u16;
            addr.sll_ifindex = ifindex as i32;
            addr.sll_halen = 6;
            addr.sll_addr[..6].copy_from_slice(&MAC_B);
            for f in &frames {
                let n = libc::sendto(
                    fd,
                    f.as_ptr().cast(),
                    f.len(),
                    0,
                    (&addr as *const libc::sockaddr_ll).cast(),
                    std::mem::size_of::<libc::sockaddr_ll>() as u32,
                );
                assert_eq!(n, f.len() as isize, "{}", std::io::Error::last_os_error());
            }
            libc::close(fd);
        }
    })
    .join()
    .expect("sender thread");
}

/// A frame from A to B: `tags` (TPID, TCI) after the MACs, then an IPv4/UDP datagram to
/// B's discard port with `marker` as payload.
fn tagged_frame(tags: &[(u16, u16)], ip_a: [u8; 4], ip_b: [u8; 4], marker: u8) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&MAC_B);
    f.extend_from_slice(&MAC_A);
    for &(tpid, tci) in tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&[0x08, 0x00]);
    let payload = [marker; MARKER_LEN];
    let total = (20 + 8 + payload.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 17, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&ip_a);
    ip.extend_from_slice(&ip_b);
    let sum = !ip
        .chunks(2)
        .fold(0u32, |s, c| s + u32::from(u16::from_be_bytes([c[0], c[1]])))
        .wrapping_rem(0xffff) as u16;
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&40000u16.to_be_bytes());
    f.extend_from_slice(&9u16.to_be_bytes());
    f.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&payload);
    f
}

/// Linux takes the outer VLAN tag off every received frame before packet sockets see it
/// (it travels beside the frame); the source puts it back, with its TPID and priority
/// bits, so frames arrive byte for byte as they were sent.
#[test]
fn live_capture_puts_back_vlan_tags_the_kernel_removed() {
    if !is_root() || !have_ip() {
        eprintln!("skipping: needs root and the `ip` command (iproute2)");
        return;
    }
    let Some(lab) = Lab::new('v') else {
        return;
    };
    let (ip_a, ip_b) = (parse_v4(&lab.ip_a), parse_v4(&lab.ip_b));
    let sent = vec![
        tagged_frame(&[], ip_a, ip_b, 1),
        // 802.1Q, priority 5, VLAN 100.
        tagged_frame(&[(0x8100, 0xa064)], ip_a, ip_b, 2),
        // 802.1ad outer tag 200 around 802.1Q inner tag 300 (Q-in-Q).
        tagged_frame(&[(0x88a8, 0x00c8), (0x8100, 0x012c)], ip_a, ip_b, 3),
    ];
    let capture = capture_from_a(&lab.ns_b, &lab.veth_b, sent.len());
    send_raw(&lab.ns_a, &lab.veth_a, sent.clone());
    let got = capture.join().expect("capture thread");
    drop(lab);
    assert_eq!(got, sent);
}

/// Frames that arrive while the ring is full are dropped by the kernel and counted; the
/// counters accumulate across reads (each read resets the kernel's own).
#[test]
fn kernel_drops_are_counted_when_the_ring_is_full() {
    if !is_root() || !have_ip() {
        eprintln!("skipping: needs root and the `ip` command (iproute2)");
        return;
    }
    const FRAMES: u64 = 300;
    let Some(lab) = Lab::new('d') else {
        return;
    };
    let (ip_a, ip_b) = (parse_v4(&lab.ip_a), parse_v4(&lab.ip_b));
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (sent_tx, sent_rx) = mpsc::channel::<()>();
    let ns_path = format!("/run/netns/{}", lab.ns_b);
    let iface = lab.veth_b.clone();
    let capture = thread::spawn(move || {
        enter_netns(&ns_path);
        // Two one-page blocks: room for a handful of the test's frames.
        let config = LiveConfig {
            block_size: 4096,
            block_count: 2,
            block_timeout: Duration::from_millis(1),
            ..LiveConfig::default()
        };
        let mut src = LiveSource::open(&iface, &config).expect("open live source");
        let _ = ready_tx.send(());
        // Read nothing until every frame was sent, so the ring overflows.
        sent_rx.recv().expect("sender");
        thread::sleep(Duration::from_millis(50));
        let first = src.stats();
        let mut ours = 0u64;
        while let Some(p) = src
            .next_packet_timeout(Duration::from_millis(200))
            .expect("capture")
        {
            if p.data.ends_with(&[7; MARKER_LEN]) {
                ours += 1;
            }
        }
        (first, src.stats(), ours)
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("capture thread ready");
    let frame = tagged_frame(&[], ip_a, ip_b, 7);
    send_raw(&lab.ns_a, &lab.veth_a, vec![frame; FRAMES as usize]);
    let _ = sent_tx.send(());
    let (first, last, ours) = capture.join().expect("capture thread");
    drop(lab);
    eprintln!("ring overflow: delivered {ours} of {FRAMES}, first {first:?}, last {last:?}");
    assert!(first.kernel_drops > 0, "{first:?}");
    assert!(first.kernel_queue_freezes > 0, "{first:?}");
    assert!(last.kernel_drops >= first.kernel_drops, "{last:?}");
    assert!(ours > 0 && ours < FRAMES, "{ours}");
    assert!(ours + last.kernel_drops >= FRAMES, "{ours} + {last:?}");
}

#[test]
fn nonexistent_interface_is_a_clear_error() {
    let name = format!("gw-nope-{}", std::process::id() % 10_000);
    match LiveSource::open(&name, &LiveConfig::default()) {
        Err(e @ SourceError::NoSuchInterface { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&name), "{msg}");
            assert!(msg.contains("no such network interface"), "{msg}");
        }
        other => panic!("expected NoSuchInterface, got {other:?}"),
    }
    let long = "x".repeat(16);
    assert!(matches!(
        LiveSource::open(&long, &LiveConfig::default()),
        Err(SourceError::NoSuchInterface { .. })
    ));
}

#[test]
fn bad_ring_geometry_is_refused_before_any_system_call() {
    let config = LiveConfig {
        block_size: 3000,
        ..LiveConfig::default()
    };
    match LiveSource::open("lo", &config) {
        Err(SourceError::InvalidConfig { reason, .. }) => assert!(reason.contains("3000")),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

/// Without CAP_NET_RAW the socket is refused and the message says what is needed. The
/// privileges are dropped in one thread only (a raw setresuid system call changes only
/// the calling thread's credentials).
#[test]
fn missing_privilege_is_a_clear_error() {
    if !is_root() {
        match LiveSource::open("lo", &LiveConfig::default()) {
            Err(e @ SourceError::PermissionDenied { .. }) => {
                assert!(e.to_string().contains("CAP_NET_RAW"), "{e}");
            }
            other => panic!("expected PermissionDenied, got {other:?}"),
        }
        return;
    }
    let result = thread::spawn(|| {
        // SAFETY: a raw system call on this thread's own credentials; glibc's setresuid
        // would change every thread of the test process instead.
        let rc = unsafe { libc::syscall(libc::SYS_setresuid, 65534, 65534, 65534) };
        assert_eq!(rc, 0, "setresuid: {}", std::io::Error::last_os_error());
        LiveSource::open("lo", &LiveConfig::default()).map(|_| ())
    })
    .join()
    .expect("thread");
    match result {
        Err(e @ SourceError::PermissionDenied { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("CAP_NET_RAW") && msg.contains("\"lo\""),
                "{msg}"
            );
        }
        other => panic!("expected PermissionDenied, got {other:?}"),
    }
}

/// Capture rate with the default ring while namespace A sends frames as fast as one
/// raw socket can (run with `--release -- --ignored --nocapture`).
#[test]
#[ignore = "measurement, not a check"]
fn live_capture_throughput() {
    if !is_root() || !have_ip() {
        eprintln!("skipping: needs root and the `ip` command (iproute2)");
        return;
    }
    const FRAMES: usize = 300_000;
    let Some(lab) = Lab::new('t') else {
        return;
    };
    let (ip_a, ip_b) = (parse_v4(&lab.ip_a), parse_v4(&lab.ip_b));
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let ns_path = format!("/run/netns/{}", lab.ns_b);
    let iface = lab.veth_b.clone();
    let capture = thread::spawn(move || {
        enter_netns(&ns_path);
        let mut src = LiveSource::open(&iface, &LiveConfig::default()).expect("open");
        let _ = ready_tx.send(());
        let mut ours = 0usize;
        let mut first = None;
        let mut last = Instant::now();
        while ours < FRAMES {
            match src
                .next_packet_timeout(Duration::from_millis(500))
                .expect("capture")
            {
                Some(p) => {
                    if p.data.ends_with(&[5; MARKER_LEN]) {
                        ours += 1;
                        first.get_or_insert_with(Instant::now);
                        last = Instant::now();
                    }
                }
                None => break,
            }
        }
        let secs = first.map_or(0.0, |f| last.duration_since(f).as_secs_f64());
        (ours, secs, src.stats())
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("capture ready");
    let frame = tagged_frame(&[], ip_a, ip_b, 5);
    let t = Instant::now();
    send_raw(&lab.ns_a, &lab.veth_a, vec![frame; FRAMES]);
    let send_secs = t.elapsed().as_secs_f64();
    let (ours, secs, stats) = capture.join().expect("capture thread");
    drop(lab);
    eprintln!(
        "sent {FRAMES} frames in {send_secs:.3} s ({:.0} kpps); captured {ours} in {secs:.3} s \
         ({:.0} kpps); kernel drops {}, queue freezes {}",
        FRAMES as f64 / send_secs / 1e3,
        ours as f64 / secs.max(1e-9) / 1e3,
        stats.kernel_drops,
        stats.kernel_queue_freezes
    );
}

/// Two interfaces read as one: each frame carries its interface's tag, the frames come
/// in time order, and when one ring overflows only that interface counts drops.
#[test]
fn two_interfaces_are_merged_tagged_and_their_drops_counted_apart() {
    if !is_root() || !have_ip() {
        eprintln!("skipping: needs root and the `ip` command (iproute2)");
        return;
    }
    const FLOOD: u64 = 300;
    const TRICKLE: u64 = 5;
    let Some(lab) = Lab::new('m') else {
        return;
    };
    // A second veth pair between the same namespaces.
    let pid = std::process::id();
    let (second_a, second_b) = (format!("gt{pid}a"), format!("gt{pid}b"));
    ip(&[
        "-n", &lab.ns_a, "link", "add", &second_a, "type", "veth", "peer", "name", &second_b,
        "netns", &lab.ns_b,
    ]);
    ip(&["-n", &lab.ns_a, "link", "set", &second_a, "up"]);
    ip(&["-n", &lab.ns_b, "link", "set", &second_b, "up"]);
    let (ip_a, ip_b) = (parse_v4(&lab.ip_a), parse_v4(&lab.ip_b));
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (sent_tx, sent_rx) = mpsc::channel::<()>();
    let ns_path = format!("/run/netns/{}", lab.ns_b);
    let names = [lab.veth_b.clone(), second_b.clone()];
    let capture = thread::spawn(move || {
        enter_netns(&ns_path);
        // Two one-page blocks per interface: the flood overflows the first ring only.
        let config = LiveConfig {
            block_size: 4096,
            block_count: 2,
            block_timeout: Duration::from_millis(1),
            ..LiveConfig::default()
        };
        let mut src = MultiLiveSource::open(&names, &config).expect("open live sources");
        src.set_idle_end(Some(Duration::from_millis(200)));
        let _ = ready_tx.send(());
        // Read nothing until every frame was sent (and every block handed over).
        sent_rx.recv().expect("sender");
        thread::sleep(Duration::from_millis(50));
        let mut ours = [0u64; 2];
        let mut misplaced = 0u64;
        let mut out_of_order = 0u64;
        let mut last = i64::MIN;
        while let Some(p) = src.next_packet().expect("capture") {
            let tag = usize::from(p.interface);
            let marker = if p.data.ends_with(&[7; MARKER_LEN]) {
                Some(0)
            } else if p.data.ends_with(&[9; MARKER_LEN]) {
                Some(1)
            } else {
                None
            };
            if let Some(from) = marker {
                ours[from] += 1;
                misplaced += u64::from(from != tag);
                out_of_order += u64::from(p.ts.micros() < last);
                last = p.ts.micros();
            }
        }
        (ours, misplaced, out_of_order, src.interfaces(), src.stats())
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("capture thread ready");
    send_raw(
        &lab.ns_a,
        &second_a,
        vec![tagged_frame(&[], ip_a, ip_b, 9); TRICKLE as usize],
    );
    send_raw(
        &lab.ns_a,
        &lab.veth_a,
        vec![tagged_frame(&[], ip_a, ip_b, 7); FLOOD as usize],
    );
    let _ = sent_tx.send(());
    let (ours, misplaced, out_of_order, per_interface, total) =
        capture.join().expect("capture thread");
    drop(lab);
    eprintln!("two rings: delivered {ours:?}, per interface {per_interface:?}");
    assert_eq!((misplaced, out_of_order), (0, 0));
    let names: Vec<&str> = per_interface.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), 2);
    let (flooded, quiet) = (&per_interface[0].1, &per_interface[1].1);
    assert!(ours[0] > 0 && ours[0] < FLOOD, "{ours:?}");
    assert!(flooded.kernel_drops > 0, "{flooded:?}");
    assert!(
        ours[0] + flooded.kernel_drops >= FLOOD,
        "{ours:?} {flooded:?}"
    );
    assert_eq!(ours[1], TRICKLE);
    assert_eq!(quiet.kernel_drops, 0, "{quiet:?}");
    assert_eq!(
        total.kernel_drops,
        flooded.kernel_drops + quiet.kernel_drops
    );
    assert_eq!(total.packets, flooded.packets + quiet.packets);
}
