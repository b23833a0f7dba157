//! Record generators shared by the store's integration tests.
#![allow(dead_code)]

use records::{AssetRecord, FlowRecord, FlowState, Identity, Role, Timestamp, TransportKind};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wire::MacAddr;

/// Application names as the dissectors report them.
pub const APPS: [&str; 4] = ["modbus", "dnp3", "s7comm", "enip"];

/// A flow whose every field depends on `n`, so two different `n` give different records
/// and every column takes several values (including NULLs and extremes).
pub fn flow(n: u64) -> FlowRecord {
    let v6 = n % 5 == 0;
    let ip = |host: u64| -> IpAddr {
        if v6 {
            IpAddr::V6(Ipv6Addr::new(
                0xfd00,
                0,
                0,
                0,
                0,
                0,
                0,
                (host & 0xffff) as u16,
            ))
        } else {
            IpAddr::V4(Ipv4Addr::new(10, 20, (host >> 8) as u8, host as u8))
        }
    };
    let transports = [
        TransportKind::Tcp,
        TransportKind::Udp,
        TransportKind::Icmp,
        TransportKind::Icmpv6,
        TransportKind::Other,
    ];
    let states = [
        FlowState::SynSent,
        FlowState::Established,
        FlowState::Midstream,
        FlowState::Closed,
        FlowState::Reset,
        FlowState::Active,
        FlowState::Evicted,
    ];
    let start = 1_764_305_701_000_000 + (n as i64) * 1_337;
    FlowRecord {
        kind: "flow",
        id: n,
        ts_start: Timestamp(start),
        ts_end: Timestamp(start + (n as i64 % 97) * 1_000_003),
        transport: transports[(n % 5) as usize],
        vlan: (n % 3 == 0).then_some((n % 4095) as u16),
        src_ip: ip(n % 300),
        src_port: (49_152 + n % 16_000) as u16,
        dst_ip: ip(1 + n % 7),
        dst_port: [502u16, 20_000, 102, 44_818, 0, 65_535][(n % 6) as usize],
        src_mac: (n % 4 != 0).then_some(MacAddr([0x00, 0x1d, 0x9c, 0, (n >> 8) as u8, n as u8])),
        dst_mac: (n % 4 != 1).then_some(MacAddr([0xff, 0xee, 0xdd, 0xcc, 0xbb, n as u8])),
        packets_to_server: n * 3 + 1,
        packets_to_client: n * 2,
        bytes_to_server: n * 1_500 + 60,
        bytes_to_client: if n == 7 { i64::MAX as u64 } else { n * 900 },
        app: (n % 6 != 5).then_some(APPS[(n % 4) as usize]),
        state: states[(n % 7) as usize],
        gap_bytes: if n % 11 == 0 { n * 10 } else { 0 },
    }
}

/// An asset with every field set from `n`.
pub fn asset(n: u64) -> AssetRecord {
    let roles = [
        Role::Plc,
        Role::Rtu,
        Role::Ied,
        Role::Hmi,
        Role::ScadaServer,
        Role::EngineeringWorkstation,
        Role::Historian,
        Role::ItHost,
        Role::Network,
        Role::Gateway,
        Role::Unknown,
    ];
    let mac = MacAddr([0x00, 0x80, 0xf4, 0x01, (n >> 8) as u8, n as u8]);
    let local = n % 3 != 2;
    let ips: BTreeSet<IpAddr> = (0..(n % 4))
        .map(|k| IpAddr::V4(Ipv4Addr::new(10, 20, k as u8, n as u8)))
        .chain((n % 2 == 1).then(|| IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n as u16))))
        .collect();
    AssetRecord {
        kind: "asset",
        id: if local {
            format!("mac:{mac}")
        } else {
            format!("ip:10.99.0.{}", n % 256)
        },
        mac: local.then_some(mac),
        ips,
        vendor: (n % 2 == 0).then(|| "Schneider Electric".to_string()),
        hostnames: (0..(n % 3))
            .map(|k| format!("plc-{n}-{k}.plant.local"))
            .collect(),
        identity: Identity {
            vendor: (n % 2 == 0).then(|| "Schneider \"Électrique\"".to_string()),
            product: Some(format!("Modicon M{}", 200 + n)),
            model: (n % 3 == 0).then(|| "BMX P34 2020".to_string()),
            firmware: (n % 4 == 0).then(|| "v3.10 build 'x'".to_string()),
            serial: None,
            ssh_host_key: (n % 5 == 0).then(|| {
                "SHA256:vCSl/5gRIUfYySNBd3G2ySbO6ILYDiqYUdXSNtWC3mw (ssh-ed25519)".to_string()
            }),
            tls_certificate: (n % 5 == 1).then(|| {
                "77801d52b3b1e69987ba79a9205864b5e2c20e29310a94cf1602b85a62ded94e".to_string()
            }),
            sources: [(
                "product".to_string(),
                records::IdentitySource {
                    protocol: "modbus".to_string(),
                    ts: Timestamp(1_700_000_000_000_000 + n as i64),
                },
            )]
            .into_iter()
            .collect(),
        },
        role: roles[(n % 11) as usize],
        zone: (n % 2 == 1).then(|| "cell-a".to_string()),
        purdue_level: (n % 3 != 0).then_some((n % 6) as u8),
        first_seen: Timestamp(1_764_305_701_000_000 + n as i64),
        last_seen: Timestamp(1_764_305_799_000_000 + n as i64 * 7),
        protocols_served: ["modbus", "http"]
            .iter()
            .take((n % 3) as usize)
            .map(|s| s.to_string())
            .collect(),
        protocols_used: ["dns", "ntp"]
            .iter()
            .take((n % 2 + 1) as usize)
            .map(|s| s.to_string())
            .collect(),
        peers: (0..(n % 5))
            .map(|k| IpAddr::V4(Ipv4Addr::new(10, 20, 9, k as u8)))
            .collect(),
        is_gateway: n % 7 == 0,
    }
}

/// An alert with every field set from `n`.
pub fn alert(n: u64) -> learn::Alert {
    use learn::{Category, Severity};
    let categories = [
        Category::Scan,
        Category::PlcControl,
        Category::NewConnection,
        Category::ValueAnomaly,
    ];
    let severities = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    let category = categories[(n % 4) as usize];
    let ts = 1_764_305_701_000_000 + n as i64 * 1_000_003;
    learn::Alert {
        kind: "alert".to_string(),
        id: n,
        ts: Timestamp(ts),
        ts_last: Timestamp(ts + (n as i64 % 5) * 7_000_001),
        category,
        severity: severities[(n / 4 % 4) as usize],
        score: 0.1 + n as f64 / 97.0,
        src_ip: (n % 5 != 4).then(|| IpAddr::V4(Ipv4Addr::new(10, 20, 0, n as u8))),
        src_mac: (n % 2 == 0).then_some(MacAddr([0x00, 0x1d, 0x9c, 0, 0, n as u8])),
        dst_ip: (n % 3 != 2).then(|| IpAddr::V4(Ipv4Addr::new(10, 20, 1, 10))),
        dst_port: (n % 3 == 0).then_some(502),
        protocol: (n % 3 == 0).then(|| "modbus".to_string()),
        title: format!("{} from 10.20.0.{n}", category.name()),
        explanation: format!("{n} targets in 60 s; never more than 2 before \"ü\""),
        attack: category.attack().iter().map(|s| s.to_string()).collect(),
        evidence: learn::alert::Evidence {
            flow_ids: (0..n % 4).map(|k| n * 100 + k).collect(),
            packet_times: vec![Timestamp(ts)],
            pcap: (n % 2 == 1).then(|| format!("evidence/alert-{n}.pcap")),
        },
        count: n + 1,
        model: "connections".to_string(),
        fuse_key: String::new(),
        hosts: (0..n % 3)
            .map(|k| IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, k as u16)))
            .collect(),
    }
}
