//! Decoding real third-party captures from `../shared/pcaps`, cross-checked against
//! tshark counts measured when these tests were written.
//!
//! Every expected count below came from `tshark -r FILE -Y FILTER | wc -l` with FILTER one
//! of `ip`, `ipv6`, `tcp`, `udp`, `arp`, `lldp`, `cdp`, `vlan` (TShark 4.x, default
//! preferences), and the frame count from `capinfos -c FILE`. The tests skip with a
//! message when `../shared/pcaps` is absent (it is not part of the repository).

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use common::{count, for_each_frame, pcaps_dir, Counts};
use wire::{LinkType, MacAddr, Network};

/// Path of a shared capture, or `None` (with a message) when the folder is missing.
fn capture(name: &str) -> Option<PathBuf> {
    let Some(dir) = pcaps_dir() else {
        eprintln!("skipping: ../shared/pcaps is missing, cannot read {name}");
        return None;
    };
    Some(dir.join(name))
}

/// Decodes the capture and compares its layer counts, truncations and errors.
fn check(name: &str, expected: Counts, truncated: u32, errors: u32) {
    let Some(path) = capture(name) else { return };
    let (got, got_truncated, got_errors) = count(&path);
    assert_eq!(got, expected, "{name}: layer counts differ from tshark's");
    assert_eq!(got_truncated, truncated, "{name}: truncated frames");
    assert_eq!(got_errors, errors, "{name}: frames with a decode error");
}

/// Ethernet, 802.1Q-tagged GOOSE/SV next to IPv4 and IPv6 MMS traffic.
#[test]
fn ethernet_vlan_and_ipv6_iedscout() {
    // tshark: ip=624 ipv6=30 tcp=537 udp=117 arp=0 lldp=0 cdp=0 vlan=63; capinfos: 717
    let expected = Counts {
        link: Some(LinkType::Ethernet),
        frames: 717,
        ipv4: 624,
        ipv6: 30,
        tcp: 537,
        udp: 117,
        vlan: 63,
        ..Counts::default()
    };
    check("emreekin-ics-pcaps/IEC61850/iedscout.pcap", expected, 0, 0);
}

/// Linux cooked capture (SLL, link type 113) of IPv6 TCP.
#[test]
fn linux_sll_ipv6_c1222() {
    // tshark: ip=0 ipv6=11 tcp=9 udp=0 ...; capinfos: 11
    let expected = Counts {
        link: Some(LinkType::LinuxSll),
        frames: 11,
        ipv6: 11,
        tcp: 9,
        ..Counts::default()
    };
    check(
        "icsnpp-c1222/testing/Traces/c1222_over_ipv6.pcap",
        expected,
        0,
        0,
    );
}

/// Linux cooked capture (SLL) of IPv4 S7comm-plus.
#[test]
fn linux_sll_ipv4_s7comm_plus() {
    // tshark: ip=262 tcp=262 ...; capinfos: 262
    let expected = Counts {
        link: Some(LinkType::LinuxSll),
        frames: 262,
        ipv4: 262,
        tcp: 262,
        ..Counts::default()
    };
    check(
        "icsnpp-s7comm/tests/traces/s7comm_plus.pcap",
        expected,
        0,
        0,
    );
}

/// `LINKTYPE_IPV4` (228): bare IPv4 without a link header.
#[test]
fn raw_ipv4_omron_fins() {
    // tshark: ip=22 tcp=22 ...; capinfos: 22
    let expected = Counts {
        link: Some(LinkType::Ipv4),
        frames: 22,
        ipv4: 22,
        tcp: 22,
        ..Counts::default()
    };
    check(
        "icsnpp-omron-fins/testing/traces/omron_fins_tcp_commands_responses.pcap",
        expected,
        0,
        0,
    );
}

/// BSD null loopback (link type 0) with both IPv4 and IPv6 (AF 2 and 30, little-endian).
#[test]
fn null_loopback_ipv4_and_ipv6_opcua() {
    // tshark: ip=648 ipv6=104 tcp=752 udp=0; capinfos: 752
    let expected = Counts {
        link: Some(LinkType::Null),
        frames: 752,
        ipv4: 648,
        ipv6: 104,
        tcp: 752,
        ..Counts::default()
    };
    check(
        "icsnpp-opcua-binary/pcaps/open62541_browse_next.pcap",
        expected,
        0,
        0,
    );
}

/// LLDP and CDP (802.3 LLC/SNAP) from two Cisco switches.
#[test]
fn lldp_and_cdp_counts_cisco_switches() {
    // tshark: lldp=8 cdp=4, everything else 0; capinfos: 12
    let expected = Counts {
        link: Some(LinkType::Ethernet),
        frames: 12,
        lldp: 8,
        cdp: 4,
        ..Counts::default()
    };
    check("emreekin-ics-pcaps/LLDP/LLDP.pcap", expected, 0, 0);
}

/// A busy S7/COTP segment: ARP, LLDP, STP (LLC), IPv6 with hop-by-hop options (MLD).
#[test]
fn ethernet_mixed_cotp_with_ipv6_hop_by_hop() {
    // tshark: ip=2437 ipv6=49 tcp=2397 udp=12 arp=52 lldp=16 cdp=0 vlan=0; capinfos: 2590
    // (`tshark -Y "ipv6.hopopts"` matches 49 frames: every IPv6 frame has the header)
    let expected = Counts {
        link: Some(LinkType::Ethernet),
        frames: 2590,
        ipv4: 2437,
        ipv6: 49,
        tcp: 2397,
        udp: 12,
        arp: 52,
        lldp: 16,
        ..Counts::default()
    };
    check("emreekin-ics-pcaps/COTP/cotp.pcap", expected, 0, 0);
}

/// A pcapng capture with CDP, ARP, IPv4/IPv6 UDP and 68 all-zero frames, whose 802.3
/// length of 0 cannot hold an LLC header (a decode error, not a truncation).
#[test]
fn pcapng_bsap_with_zero_frames() {
    // tshark: ip=2857 ipv6=6 tcp=0 udp=2863 arp=125 lldp=0 cdp=12 vlan=0; capinfos: 3501
    // `tshark -Y "eth.type == 0"` counts the 68 zero frames.
    let expected = Counts {
        link: Some(LinkType::Ethernet),
        frames: 3501,
        ipv4: 2857,
        ipv6: 6,
        udp: 2863,
        arp: 125,
        cdp: 12,
        ..Counts::default()
    };
    check(
        "icsnpp-bsap/testing/traces/bsap-serial_example.pcapng",
        expected,
        0,
        68,
    );
}

/// Every LLDP and CDP frame of the Cisco capture parses to the values tshark shows.
#[test]
fn lldp_and_cdp_identities_cisco_switches() {
    // tshark -Y lldp -T fields -e lldp.chassis.id.mac -e lldp.port.id
    //   -e lldp.time_to_live -e lldp.tlv.system.name -e lldp.tlv.system_cap
    // tshark -Y cdp -T fields -e cdp.deviceid -e cdp.portid -e cdp.platform
    //   -e cdp.native_vlan -e cdp.capabilities
    let Some(path) = capture("emreekin-ics-pcaps/LLDP/LLDP.pcap") else {
        return;
    };
    let mut lldp_seen = BTreeSet::new();
    let mut cdp_seen = BTreeSet::new();
    for_each_frame(&path, |link, frame| {
        match wire::decode(link, frame).network {
            Network::Lldp(bytes) => {
                let info = wire::lldp::parse(bytes).expect("LLDP parses");
                assert_eq!(info.ttl, Some(120));
                assert_eq!(info.capabilities.map(|c| c.supported), Some(0x0014));
                assert!(!info.truncated);
                lldp_seen.insert((
                    info.chassis_id.mac().expect("MAC chassis id"),
                    info.port_id.to_string(),
                    info.system_name.expect("system name").to_string(),
                ));
            }
            Network::Cdp(bytes) => {
                let info = wire::cdp::parse(bytes).expect("CDP parses");
                assert_eq!(info.native_vlan, Some(1));
                assert_eq!(info.capabilities, Some(0x28));
                assert_eq!(
                    info.addresses.as_slice(),
                    &[IpAddr::V4(Ipv4Addr::UNSPECIFIED)]
                );
                assert_eq!(
                    info.management_addresses.as_slice(),
                    &[IpAddr::V4(Ipv4Addr::UNSPECIFIED)]
                );
                cdp_seen.insert((
                    info.device_id.expect("device id").to_string(),
                    info.port_id.expect("port id").to_string(),
                    info.platform.expect("platform").to_string(),
                ));
            }
            _ => {}
        }
    });
    let lldp_expected: BTreeSet<_> = [
        (
            MacAddr([0x00, 0x19, 0x2f, 0xa7, 0xb2, 0x8d]),
            "Uplink to S1".to_string(),
            "S2.cisco.com".to_string(),
        ),
        (
            MacAddr([0x00, 0x18, 0xba, 0x98, 0x68, 0x8f]),
            "Fa0/13".to_string(),
            "S1.cisco.com".to_string(),
        ),
    ]
    .into();
    assert_eq!(lldp_seen, lldp_expected);
    let cdp_expected: BTreeSet<_> = [
        ("S1", "FastEthernet0/13", "cisco WS-C3560-24TS"),
        ("S2", "GigabitEthernet0/13", "cisco WS-C3560G-24PS"),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .into();
    assert_eq!(cdp_seen, cdp_expected);
}

/// A CDPv2 capture: device, port, platform, native VLAN, capabilities.
#[test]
fn cdp_v2_switch_identity() {
    // tshark -Y cdp -T fields -e cdp.deviceid -e cdp.portid -e cdp.platform
    //   -e cdp.native_vlan -e cdp.capabilities  (4 identical lines)
    let Some(path) = capture("emreekin-ics-pcaps/CDP/cdp_v2.pcap") else {
        return;
    };
    let mut seen = 0;
    for_each_frame(&path, |link, frame| {
        let Network::Cdp(bytes) = wire::decode(link, frame).network else {
            panic!("every frame is CDP");
        };
        let info = wire::cdp::parse(bytes).expect("CDP parses");
        assert_eq!(info.version, 2);
        assert_eq!(info.device_id.and_then(|t| t.as_str()), Some("myswitch"));
        assert_eq!(
            info.port_id.and_then(|t| t.as_str()),
            Some("FastEthernet0/1")
        );
        assert_eq!(
            info.platform.and_then(|t| t.as_str()),
            Some("cisco WS-C2950-12")
        );
        assert_eq!(info.native_vlan, Some(1));
        assert_eq!(info.capabilities, Some(0x28));
        seen += 1;
    });
    assert_eq!(seen, 4);
}

/// Lists, for every capture in the shared folder, the layer counts this decoder finds.
/// Run with `cargo test -p wire --test real_captures -- --ignored --nocapture survey`.
#[test]
#[ignore = "survey of every shared capture; prints, asserts nothing"]
fn survey_all_captures() {
    let Some(dir) = pcaps_dir() else {
        eprintln!("skipping: ../shared/pcaps is missing");
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.get(5) != Some(&"capture") {
            continue;
        }
        let path = dir.join(cols[0]);
        let result = std::panic::catch_unwind(|| count(&path));
        match result {
            Ok((c, truncated, errors)) => println!(
                "{}\tframes={} ip={} ipv6={} tcp={} udp={} arp={} lldp={} cdp={} vlan={} trunc={} err={}",
                cols[0], c.frames, c.ipv4, c.ipv6, c.tcp, c.udp, c.arp, c.lldp, c.cdp, c.vlan,
                truncated, errors
            ),
            Err(_) => println!("{}\tUNREADABLE", cols[0]),
        }
    }
}

/// Prints every truncated or failed frame of the capture named by `WIRE_EXPLAIN`
/// (relative to `../shared/pcaps`). Run with
/// `WIRE_EXPLAIN=dir/file.pcap cargo test -p wire --test real_captures -- --ignored --nocapture explain`.
#[test]
#[ignore = "debugging aid; prints, asserts nothing"]
fn explain_capture() {
    let (Some(dir), Ok(name)) = (pcaps_dir(), std::env::var("WIRE_EXPLAIN")) else {
        eprintln!("skipping: needs ../shared/pcaps and WIRE_EXPLAIN");
        return;
    };
    let mut index = 0u32;
    common::for_each_frame(&dir.join(name), |link, frame| {
        index += 1;
        let d = wire::decode(link, frame);
        if d.truncated || d.error.is_some() {
            println!(
                "frame {index} len {} truncated={} error={:?} link={:?} network={:?} transport={:?}",
                frame.len(),
                d.truncated,
                d.error,
                d.link,
                d.network,
                d.transport
            );
        }
    });
}

/// Every prefix of every real frame: decoding never panics, never invents an error the
/// whole frame does not have, and every layer it reports agrees with the whole frame's.
#[test]
fn every_prefix_of_real_frames_agrees_with_the_whole() {
    for name in [
        "emreekin-ics-pcaps/IEC61850/iedscout.pcap",
        "icsnpp-c1222/testing/Traces/c1222_over_ipv6.pcap",
        "emreekin-ics-pcaps/LLDP/LLDP.pcap",
        "icsnpp-opcua-binary/pcaps/open62541_browse_next.pcap",
    ] {
        let Some(path) = capture(name) else { return };
        let mut frames = 0;
        for_each_frame(&path, |link, frame| {
            frames += 1;
            // Bounded so the test stays fast: long frames are cut in their first 200 bytes
            // (every header lies there) and at their end.
            let whole = wire::decode(link, frame);
            let cuts = (0..frame.len().min(200)).chain(frame.len().saturating_sub(4)..frame.len());
            for cut in cuts {
                let part = wire::decode(link, &frame[..cut]);
                let at = || format!("{name} frame {frames} cut {cut}");
                if whole.error.is_none() {
                    assert_eq!(part.error, None, "{}", at());
                }
                // Only headers with a length can tell a cut; raw layer-2 payloads (GOOSE,
                // Profinet ...) just get shorter.
                let has_length = whole.ip().is_some() || matches!(whole.network, Network::Arp(_));
                if cut < frame.len() && whole != part && has_length {
                    assert!(
                        part.truncated || part.error.is_some() || cut == 0,
                        "{}",
                        at()
                    );
                }
                if let (Some(p), Some(w)) = (part.link, whole.link) {
                    assert_eq!((p.src_mac, p.dst_mac), (w.src_mac, w.dst_mac), "{}", at());
                }
                if let (Some(p), Some(w)) = (part.ip(), whole.ip()) {
                    assert_eq!(
                        (p.src, p.dst, p.protocol),
                        (w.src, w.dst, w.protocol),
                        "{}",
                        at()
                    );
                    assert_eq!(p.total_len, w.total_len, "{}", at());
                }
                match (part.transport, whole.transport) {
                    (wire::Transport::Tcp(p), wire::Transport::Tcp(w)) => {
                        assert_eq!(
                            (p.src_port, p.dst_port, p.seq),
                            (w.src_port, w.dst_port, w.seq)
                        );
                        assert_eq!(p.payload_len, w.payload_len, "{}", at());
                        assert!(w.payload.starts_with(p.payload), "{}", at());
                    }
                    (wire::Transport::Udp(p), wire::Transport::Udp(w)) => {
                        assert_eq!(
                            (p.src_port, p.dst_port),
                            (w.src_port, w.dst_port),
                            "{}",
                            at()
                        );
                    }
                    (wire::Transport::None, _) => {}
                    (p, w) => assert_eq!(
                        std::mem::discriminant(&p),
                        std::mem::discriminant(&w),
                        "{}",
                        at()
                    ),
                }
            }
        });
        assert!(frames > 0, "{name} has frames");
    }
}
