//! Host names from real captures, cross-checked with tshark.
//!
//! A small test-only harness reads a capture with `pcap-file`, decodes frames with
//! `wire::decode`, keeps whole (unfragmented) UDP datagrams, selects a dissector per UDP
//! flow through `Registry::builtin()` and feeds it every datagram of the flow (the
//! sensor's flow table does this in the product). The expected values were produced by running tshark on
//! the same files; each test names the command. Tests skip (with a message) when the
//! shared captures are not present.

use dissect::{
    Direction, Dissector, Emitter, FlowContext, NameSource, Observation, Registry, Transport,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use wire::MacAddr;

/// Root of the shared captures, or `None` (with a printed reason) when absent.
fn pcaps_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: {} not found (shared captures are not part of the repository)",
            dir.display()
        );
        None
    }
}

/// One UDP datagram of a capture.
struct Datagram {
    src_mac: Option<MacAddr>,
    dst_mac: Option<MacAddr>,
    vlan: Option<u16>,
    src: IpAddr,
    dst: IpAddr,
    src_port: u16,
    dst_port: u16,
    ts: records::Timestamp,
    payload: Vec<u8>,
}

/// The UDP datagram in one frame, decoded with `wire::decode`; anything else, IP fragments
/// and datagrams cut short give `None`.
fn udp_of_frame(link: u32, frame: &[u8], ts: records::Timestamp) -> Option<Datagram> {
    let decoded = wire::decode(wire::LinkType::from_linktype(link), frame);
    let ip = decoded.ip()?;
    if ip.fragment.is_some() {
        return None;
    }
    let wire::Transport::Udp(udp) = decoded.transport else {
        return None;
    };
    Some(Datagram {
        src_mac: decoded.link.and_then(|l| l.src_mac),
        dst_mac: decoded.link.and_then(|l| l.dst_mac),
        vlan: decoded.vlan(),
        src: ip.src,
        dst: ip.dst,
        src_port: udp.src_port,
        dst_port: udp.dst_port,
        ts,
        payload: udp.payload.to_vec(),
    })
}

/// Every UDP datagram of a capture (pcap or pcapng, optionally gzipped); `Err` says why a
/// capture cannot be read.
fn read_udp(path: &std::path::Path) -> Result<Vec<Datagram>, String> {
    let mut bytes = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    // Gzip by content: some captures are compressed without a .gz name.
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| format!("gunzip: {e}"))?;
        bytes = out;
    }
    let to_ts = |d: std::time::Duration| {
        records::Timestamp::from_parts(
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        )
    };
    let mut out = Vec::new();
    if bytes.get(..4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut reader =
            pcap_file::pcapng::PcapNgReader::new(&bytes[..]).map_err(|e| format!("pcapng: {e}"))?;
        let mut links = Vec::new();
        while let Some(block) = reader.next_block() {
            match block.map_err(|e| format!("pcapng block: {e}"))? {
                pcap_file::pcapng::Block::InterfaceDescription(idb) => {
                    links.push(u32::from(idb.linktype));
                }
                pcap_file::pcapng::Block::EnhancedPacket(epb) => {
                    let link = usize::try_from(epb.interface_id)
                        .ok()
                        .and_then(|i| links.get(i).copied());
                    let ts = to_ts(epb.timestamp);
                    if let Some(link) = link {
                        out.extend(udp_of_frame(link, &epb.data, ts));
                    }
                }
                _ => {}
            }
        }
    } else {
        let mut reader =
            pcap_file::pcap::PcapReader::new(&bytes[..]).map_err(|e| format!("pcap: {e}"))?;
        let link = u32::from(reader.header().datalink);
        // Raw records: some captures hold sub-second parts of a million or more, which the
        // checked reader rejects; the tests do not need exact times.
        while let Some(pkt) = reader.next_raw_packet() {
            let pkt = pkt.map_err(|e| format!("pcap record: {e}"))?;
            let ts = records::Timestamp::from_parts(i64::from(pkt.ts_sec), 0);
            out.extend(udp_of_frame(link, &pkt.data, ts));
        }
    }
    Ok(out)
}

/// What the dissectors produced for one capture.
#[derive(Default)]
struct Run {
    /// (dissector, observation) in capture order.
    observations: Vec<(&'static str, Observation)>,
    /// (dissector, reason).
    anomalies: Vec<(&'static str, String)>,
    /// Datagrams handed to each dissector.
    datagrams: BTreeMap<&'static str, usize>,
}

impl Run {
    /// (name, ip) pairs a dissector reported, with repeats.
    fn names(&self, dissector: &str) -> Vec<(String, String)> {
        self.observations
            .iter()
            .filter(|(d, _)| *d == dissector)
            .filter_map(|(_, o)| match o {
                Observation::Hostname { ip, name, .. } => {
                    Some((name.clone(), ip.map(|i| i.to_string()).unwrap_or_default()))
                }
                // DHCP vendor classes.
                Observation::Identity { .. } => None,
            })
            .collect()
    }

    fn sources(&self, dissector: &str) -> BTreeSet<NameSource> {
        self.observations
            .iter()
            .filter(|(d, _)| *d == dissector)
            .filter_map(|(_, o)| match o {
                Observation::Hostname { source, .. } => Some(*source),
                Observation::Identity { .. } => None,
            })
            .collect()
    }

    fn anomalies_of(&self, dissector: &str) -> usize {
        self.anomalies
            .iter()
            .filter(|(d, _)| *d == dissector)
            .count()
    }
}

/// Feeds every UDP flow of the capture to the dissector the registry selects for it.
fn run_capture(rel: &str) -> Option<Run> {
    let path = pcaps_dir()?.join(rel);
    Some(run_datagrams(read_udp(&path).expect("capture readable")))
}

fn run_datagrams(datagrams: Vec<Datagram>) -> Run {
    let registry = Registry::builtin();
    // Flow key: the two endpoints in a fixed order; value: dissector (if any) and which
    // endpoint initiated.
    type Endpoint = (IpAddr, u16);
    type FlowEntry = (Option<Box<dyn Dissector>>, Endpoint);
    let mut flows: HashMap<(Endpoint, Endpoint), FlowEntry> = HashMap::new();
    let mut run = Run::default();
    let mut out = Emitter::default();
    for d in datagrams {
        let a = (d.src, d.src_port);
        let b = (d.dst, d.dst_port);
        let key = if a <= b { (a, b) } else { (b, a) };
        let ctx_for = |client: Endpoint| {
            let from_client = client == a;
            FlowContext {
                transport: Transport::Udp,
                vlan: d.vlan,
                client_ip: client.0,
                client_port: client.1,
                client_mac: if from_client { d.src_mac } else { d.dst_mac },
                server_ip: if from_client { d.dst } else { d.src },
                server_port: if from_client { d.dst_port } else { d.src_port },
                server_mac: if from_client { d.dst_mac } else { d.src_mac },
                ts: d.ts,
            }
        };
        let (dissector, client) = flows.entry(key).or_insert_with(|| {
            let ctx = ctx_for(a);
            (registry.select(&ctx, Direction::ToServer, &d.payload), a)
        });
        let Some(dissector) = dissector else { continue };
        let ctx = ctx_for(*client);
        let dir = if *client == a {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        dissector.on_datagram(&ctx, dir, &d.payload, &mut out);
        let name = dissector.name();
        *run.datagrams.entry(name).or_default() += 1;
        run.observations
            .extend(out.observations.drain(..).map(|o| (name, o)));
        run.anomalies.append(&mut out.anomalies);
    }
    run
}

fn set(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs
        .iter()
        .map(|(n, i)| (n.to_string(), i.to_string()))
        .collect()
}

fn uniq(v: Vec<(String, String)>) -> BTreeSet<(String, String)> {
    v.into_iter().collect()
}

// Expected DNS/mDNS values come from /tmp-style helper logic over tshark JSON:
//   tshark -r F -Y 'dns.flags.response==1 && !mdns && !llmnr' -T json --no-duplicate-keys -J 'dns mdns llmnr'
// taking every record (any section) with dns.resp.type 1 (name, dns.a), 28 (name, dns.aaaa),
// and 12 with a full in-addr.arpa / ip6.arpa owner (dns.ptr.domain_name, decoded owner).
// For mDNS the filter is 'mdns && dns.flags.response==1'.

#[test]
fn dns_ntp_capture_a_and_reverse_ptr_names_match_tshark() {
    let Some(run) = run_capture("malcolm-test-artifacts/pcap/protocols/NTP.pcap") else {
        return;
    };
    let names = run.names("dns");
    // 38 records (37 A + 1 reverse PTR) in responses, 26 distinct pairs.
    assert_eq!(names.len(), 38);
    assert_eq!(
        uniq(names),
        set(&[
            ("dial81-131-9-38.in-addr.btopenworld.com", "81.131.9.38"),
            ("ns1.mailworx.net", "69.1.200.68"),
            ("ns1.msft.net", "207.46.245.230"),
            ("ns2.msft.net", "64.4.25.30"),
            ("ns20.bt.net", "194.72.6.99"),
            ("ns21.bt.net", "217.35.209.187"),
            ("ns3.msft.net", "213.199.144.151"),
            ("ns4.msft.net", "207.46.66.75"),
            ("ns5.msft.net", "207.46.138.20"),
            ("time.windows.com", "207.46.130.100"),
            ("us.pool.ntp.org", "207.234.209.181"),
            ("us.pool.ntp.org", "209.132.176.4"),
            ("us.pool.ntp.org", "216.27.185.42"),
            ("us.pool.ntp.org", "24.123.202.230"),
            ("us.pool.ntp.org", "24.34.79.42"),
            ("us.pool.ntp.org", "63.164.62.249"),
            ("us.pool.ntp.org", "64.112.189.11"),
            ("us.pool.ntp.org", "65.125.233.206"),
            ("us.pool.ntp.org", "66.111.46.200"),
            ("us.pool.ntp.org", "66.115.136.4"),
            ("us.pool.ntp.org", "66.33.206.5"),
            ("us.pool.ntp.org", "66.33.216.11"),
            ("us.pool.ntp.org", "66.92.68.246"),
            ("us.pool.ntp.org", "67.129.68.9"),
            ("us.pool.ntp.org", "69.44.57.60"),
            ("usenet.net.nz", "202.49.59.6"),
        ])
    );
    assert_eq!(run.sources("dns"), BTreeSet::from([NameSource::Dns]));
    assert_eq!(run.anomalies, Vec::new());
    // tshark -r NTP.pcap -Y 'dns && !mdns && !llmnr' | wc -l → 10 DNS datagrams.
    assert_eq!(run.datagrams.get("dns"), Some(&10));
}

#[test]
fn dns_modbus_small_capture_follows_cname_owner_names() {
    let Some(run) = run_capture("zeek/testing/btest/Traces/modbus/modbusSmall.pcap") else {
        return;
    };
    let names = run.names("dns");
    // 17 A records in 3 responses; the addresses belong to the CNAME target
    // googlemail.l.google.com, not to the asked-for mail.google.com.
    assert_eq!(names.len(), 17);
    assert_eq!(
        uniq(names),
        set(&[
            ("googlemail.l.google.com", "74.125.239.117"),
            ("googlemail.l.google.com", "74.125.239.118"),
            ("googlemail.l.google.com", "74.125.239.53"),
            ("googlemail.l.google.com", "74.125.239.54"),
            ("ns1.canonical.com", "91.189.94.173"),
            ("ns1.google.com", "216.239.32.10"),
            ("ns2.canonical.com", "91.189.95.3"),
            ("ns2.google.com", "216.239.34.10"),
            ("ns3.canonical.com", "209.6.3.210"),
            ("ns3.google.com", "216.239.36.10"),
            ("ns4.google.com", "216.239.38.10"),
            ("videosearch.ubuntu.com", "91.189.89.134"),
            ("videosearch.ubuntu.com", "91.189.89.22"),
        ])
    );
    assert_eq!(run.anomalies, Vec::new());
}

#[test]
fn dns_aaaa_answers_give_ipv6_names() {
    let Some(run) = run_capture("ct-samples/Protocols/DLMS-COSEM/Matousp_PCAPs/DLMSDirector.pcap")
    else {
        return;
    };
    let names = run.names("dns");
    assert_eq!(names.len(), 6);
    assert_eq!(
        uniq(names),
        set(&[
            (
                "choicesapilive.us-east-1.elasticbeanstalk.com",
                "52.20.111.131"
            ),
            (
                "choicesapilive.us-east-1.elasticbeanstalk.com",
                "52.5.123.140"
            ),
            (
                "choicesapilive.us-east-1.elasticbeanstalk.com",
                "52.71.183.151"
            ),
            ("ns-1219.awsdns-24.org", "205.251.196.195"),
            ("ns-59.awsdns-07.com", "205.251.192.59"),
            ("ns-59.awsdns-07.com", "2600:9000:5300:3b00::1"),
        ])
    );
    assert_eq!(run.anomalies, Vec::new());
}

#[test]
fn mdns_announcements_give_v4_v6_and_reverse_names() {
    let Some(run) = run_capture("emreekin-ics-pcaps/DNP3/DNP3Value.pcap") else {
        return;
    };
    let names = run.names("mdns");
    // 82 A/AAAA/reverse-PTR records in mDNS responses, 4 distinct pairs.
    assert_eq!(names.len(), 82);
    assert_eq!(
        uniq(names),
        set(&[
            ("DESKTOP-M5C7L14.local", "192.168.1.150"),
            ("DESKTOP-M5C7L14.local", "fe80::89a3:b158:55e5:71fd"),
            ("DESKTOP-T39THPL.local", "192.168.1.200"),
            ("DESKTOP-T39THPL.local", "fe80::55dc:485d:44b6:bd4d"),
        ])
    );
    assert_eq!(run.sources("mdns"), BTreeSet::from([NameSource::Multicast]));
    assert_eq!(run.anomalies_of("mdns"), 0);
    // tshark -r DNP3Value.pcap -Y mdns | wc -l → 35.
    assert_eq!(run.datagrams.get("mdns"), Some(&35));
}

#[test]
fn mdns_service_announcement_names_match_tshark() {
    let Some(run) = run_capture("malcolm-test-artifacts/pcap/protocols/OPCUA-Binary.pcap") else {
        return;
    };
    let names = run.names("mdns");
    assert_eq!(names.len(), 10);
    assert_eq!(
        uniq(names),
        set(&[
            ("LDS-Maui-16714._opcua-tcp._tcp.local", "10.1.96.37"),
            ("LDS-Maui-16714._opcua-tcp._tcp.local", "127.0.0.1"),
            ("LDS-Maui-16714._opcua-tcp._tcp.local", "172.16.97.1"),
            ("LDS-Maui-16714._opcua-tcp._tcp.local", "192.168.107.1"),
            ("LDS-Maui-16714._opcua-tcp._tcp.local", "192.168.224.105"),
            ("Maui-16714", "10.1.96.37"),
            ("Maui-16714", "127.0.0.1"),
            ("Maui-16714", "172.16.97.1"),
            ("Maui-16714", "192.168.107.1"),
            ("Maui-16714", "192.168.224.105"),
        ])
    );
}

#[test]
fn mdns_in_pcapng_capture_matches_tshark() {
    let Some(run) = run_capture("iti-ics-security-tools/pcaps/s7/S7Comm/wrapup.pcapng") else {
        return;
    };
    let names = run.names("mdns");
    assert_eq!(names.len(), 40);
    assert_eq!(
        uniq(names),
        set(&[
            ("VJTI-PC3.local", "192.168.0.16"),
            ("VJTI-PC3.local", "fe80::98a:de6e:a5a4:6cfa"),
        ])
    );
    assert_eq!(run.anomalies_of("mdns"), 0);
}

#[test]
fn llmnr_queries_are_parsed_and_give_no_names() {
    let Some(run) = run_capture("emreekin-ics-pcaps/IEC61850/iedscout.pcap") else {
        return;
    };
    // tshark -r iedscout.pcap -Y llmnr | wc -l → 56, all queries
    // (tshark -Y 'llmnr && dns.flags.response==1' → 0).
    assert_eq!(run.datagrams.get("llmnr"), Some(&56));
    assert_eq!(run.names("llmnr"), Vec::new());
    assert_eq!(run.anomalies_of("llmnr"), 0);
}

// DHCP expectations: for every message with option 12,
//   tshark -r F -Y dhcp.option.hostname -T fields -E occurrence=f -e dhcp.hw.type -e dhcp.hw.len
//     -e dhcp.hw.mac_addr -e dhcp.ip.your -e dhcp.ip.client
//     -e dhcp.option.requested_ip_address -e dhcp.option.dhcp -e dhcp.option.hostname
// mapped to (mac, first non-zero of yiaddr/ciaddr/option 50, host name).

fn dhcp_triples(run: &Run, dissector: &str) -> Vec<(String, String, String)> {
    run.observations
        .iter()
        .filter(|(d, _)| *d == dissector)
        .filter_map(|(_, o)| match o {
            Observation::Hostname { ip, mac, name, .. } => Some((
                mac.map(|m| m.to_string()).unwrap_or_default(),
                ip.map(|i| i.to_string()).unwrap_or_default(),
                name.clone(),
            )),
            Observation::Identity { .. } => None,
        })
        .collect()
}

fn triples(v: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    v.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn dhcp_host_names_match_tshark_on_malcolm_capture() {
    let Some(run) = run_capture("malcolm-test-artifacts/pcap/protocols/DHCP.pcap") else {
        return;
    };
    let got = dhcp_triples(&run, "dhcp");
    assert_eq!(got.len(), 7);
    assert_eq!(
        got.into_iter().collect::<BTreeSet<_>>(),
        triples(&[
            ("00:0b:82:01:fc:42", "208.67.222.222", "test0000"),
            ("00:0c:29:59:fd:21", "192.168.1.10", "ubuntu2"),
            ("00:0c:29:59:fd:21", "192.168.100.129", "ubuntu2"),
            ("00:90:f5:91:cd:1f", "192.168.15.250", "pop-os"),
            ("b8:27:eb:b8:53:c8", "62.12.173.123", "raspberrypi"),
            ("cc:00:0a:c4:00:00", "192.168.0.3", "R0"),
        ])
    );
    // tshark -r DHCP.pcap -Y dhcp | wc -l → 63 DHCP datagrams.
    assert_eq!(run.datagrams.get("dhcp"), Some(&63));
    // tshark flags frames 57 and 58 "Malformed Packet: DHCP/BOOTP"; their magic cookies
    // are shifted, so both are rejected (and nothing else is).
    assert_eq!(
        run.anomalies,
        vec![
            (
                "dhcp",
                "malformed message: magic cookie 0x53633501".to_string()
            ),
            (
                "dhcp",
                "malformed message: magic cookie 0x82536335".to_string()
            ),
        ]
    );
    // tshark -r DHCP.pcap -Y dhcpv6 | wc -l → 28 DHCPv6 datagrams;
    // tshark -r DHCP.pcap -Y 'dhcpv6.option.type==39' -T fields -e dhcpv6.msgtype
    //   -e dhcpv6.client_domain -e dhcpv6.duidllt.link_layer_addr -e dhcpv6.iaaddr.ip
    // → 5 × (12,1 = Solicit inside Relay-forw, raspberrypi, b8:27:eb:b8:53:c8, no IA address).
    // Relayed, so the sender (the relay) gives no address.
    assert_eq!(run.datagrams.get("dhcpv6"), Some(&28));
    assert_eq!(
        dhcp_triples(&run, "dhcpv6"),
        vec![
            (
                "b8:27:eb:b8:53:c8".to_string(),
                String::new(),
                "raspberrypi".to_string()
            );
            5
        ]
    );
}

#[test]
fn dhcp_host_names_match_tshark_on_zeek_capture() {
    let Some(run) = run_capture("zeek/testing/btest/Traces/dhcp/dhcp.pcap") else {
        return;
    };
    let got = dhcp_triples(&run, "dhcp");
    assert_eq!(got.len(), 4);
    assert_eq!(
        got.into_iter().collect::<BTreeSet<_>>(),
        triples(&[
            ("90:b1:1c:99:49:29", "128.2.6.189", "btest.is.cool"),
            ("90:b1:1c:99:49:29", "192.168.211.194", "btest.is.cool"),
        ])
    );
    assert_eq!(run.datagrams.get("dhcp"), Some(&9));
    assert_eq!(run.anomalies, Vec::new());
}

#[test]
fn dhcp_discover_without_address_reports_mac_only() {
    let Some(run) = run_capture("emreekin-ics-pcaps/LocalPCAP/similator.pcap") else {
        return;
    };
    let got = dhcp_triples(&run, "dhcp");
    assert_eq!(got.len(), 12);
    assert_eq!(
        got.into_iter().collect::<BTreeSet<_>>(),
        triples(&[("02:00:4c:4f:4f:50", "", "DESKTOP-M5C7L14")])
    );
}

#[test]
fn dhcpv6_client_fqdn_names_the_duid_mac_and_sender() {
    let Some(run) = run_capture("emreekin-ics-pcaps/LLDP/simens.pcap") else {
        return;
    };
    // tshark -r simens.pcap -Y dhcpv6 -T fields -e ipv6.src -e dhcpv6.msgtype
    //   -e dhcpv6.client_domain -e dhcpv6.duidllt.link_layer_addr
    // → 28 × (fe80::55dc:485d:44b6:bd4d, 1 Solicit, DESKTOP-T39THPL, 50:7b:9d:76:77:d5)
    let got = dhcp_triples(&run, "dhcpv6");
    assert_eq!(got.len(), 28);
    assert_eq!(
        got.into_iter().collect::<BTreeSet<_>>(),
        triples(&[(
            "50:7b:9d:76:77:d5",
            "fe80::55dc:485d:44b6:bd4d",
            "DESKTOP-T39THPL"
        )])
    );
    assert_eq!(run.anomalies_of("dhcpv6"), 0);
}

/// The DHCP client identifiers a dissector reported: (MAC, address, id) in capture order.
fn client_ids(run: &Run, dissector: &str) -> Vec<(String, String, String)> {
    run.observations
        .iter()
        .filter(|(d, _)| *d == dissector)
        .filter_map(|(_, o)| match o {
            Observation::Identity {
                ip,
                mac,
                field: dissect::IdentityField::DhcpClientId,
                value,
                ..
            } => Some((
                mac.map(|m| m.to_string()).unwrap_or_default(),
                ip.map(|i| i.to_string()).unwrap_or_default(),
                value.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn dhcp_client_identifiers_match_tshark() {
    let Some(run) = run_capture("malcolm-test-artifacts/pcap/protocols/DHCP.pcap") else {
        return;
    };
    // tshark -r DHCP.pcap -Y 'dhcp.type==1 && dhcp.option.type==61' -T fields
    //   -e dhcp.hw.mac_addr -e dhcp.option.type -e dhcp.option.value
    // → 5 requests; option 61 = 01000b8201fc42 (×3), 01b827ebb853c8, and the Cisco
    // router's type-0 text id 00 "cisco-cc00.0ac4.0000-Fa0/0".
    let got = client_ids(&run, "dhcp");
    assert_eq!(got.len(), 5);
    let ids: BTreeSet<(String, String)> = got.into_iter().map(|(m, _, v)| (m, v)).collect();
    let cisco = "00:63:69:73:63:6f:2d:63:63:30:30:2e:30:61:63:34:2e:30:30:30:30:2d:46:61:30:2f:30";
    let expected: BTreeSet<(String, String)> = [
        ("00:0b:82:01:fc:42", "01:00:0b:82:01:fc:42"),
        ("b8:27:eb:b8:53:c8", "01:b8:27:eb:b8:53:c8"),
        ("cc:00:0a:c4:00:00", cisco),
    ]
    .iter()
    .map(|(m, v)| (m.to_string(), v.to_string()))
    .collect();
    assert_eq!(ids, expected);
    // DHCPv6: tshark -r simens.pcap -Y 'dhcpv6.msgtype==1' -T fields -e eth.src
    //   -e dhcpv6.duid.bytes → 28 × (50:7b:9d:76:77:d5, 0001000123c17113507b9d7677d5).
    let Some(run) = run_capture("emreekin-ics-pcaps/LLDP/simens.pcap") else {
        return;
    };
    let got = client_ids(&run, "dhcpv6");
    assert_eq!(got.len(), 28);
    let distinct: BTreeSet<(String, String, String)> = got.into_iter().collect();
    assert_eq!(
        distinct,
        [(
            "50:7b:9d:76:77:d5".to_string(),
            String::new(),
            "duid 00:01:00:01:23:c1:71:13:50:7b:9d:76:77:d5".to_string()
        )]
        .into()
    );
}

// NBNS expectations: NB records of registration/refresh requests and of positive
// responses, unique names with suffix <00> or <20>, from
//   tshark -r F -Y nbns -T json --no-duplicate-keys -J nbns
// (nbns.flags.response/opcode/rcode, nbns.name, nbns.type == 32, nbns.nb_flags.group == 0,
// nbns.addr).

#[test]
fn nbns_registrations_give_workstation_names() {
    let Some(run) = run_capture("emreekin-ics-pcaps/DNP3/DNP3Value.pcap") else {
        return;
    };
    let names = run.names("nbns");
    assert_eq!(names.len(), 16);
    assert_eq!(
        uniq(names),
        set(&[
            ("DESKTOP-M5C7L14", "192.168.1.150"),
            ("DESKTOP-T39THPL", "192.168.1.200")
        ])
    );
    assert_eq!(run.sources("nbns"), BTreeSet::from([NameSource::Netbios]));
    // tshark -r DNP3Value.pcap -Y nbns | wc -l → 52.
    assert_eq!(run.datagrams.get("nbns"), Some(&52));
    assert_eq!(run.anomalies_of("nbns"), 0);
}

#[test]
fn nbns_profinet_capture_skips_queries_and_group_names() {
    let Some(run) = run_capture("icsnpp-profinet-io-cm/testing/traces/profinet_io_cm_mixed_1.pcap")
    else {
        return;
    };
    let names = run.names("nbns");
    assert_eq!(names.len(), 16);
    assert_eq!(uniq(names), set(&[("KW-VLIPC", "192.168.1.1")]));
    // tshark -r profinet_io_cm_mixed_1.pcap -Y nbns | wc -l → 731.
    assert_eq!(run.datagrams.get("nbns"), Some(&731));
    assert_eq!(run.anomalies_of("nbns"), 0);
}

#[test]
fn nbns_printer_registration_skips_messenger_and_dde_suffixes() {
    let Some(run) = run_capture("emreekin-ics-pcaps/SNMP/snmp.pcap") else {
        return;
    };
    let names = run.names("nbns");
    assert_eq!(names.len(), 8);
    assert_eq!(uniq(names), set(&[("OKI-15E6BC", "172.31.19.73")]));
    assert_eq!(run.datagrams.get("nbns"), Some(&24));
}

#[test]
fn nbns_positive_query_and_node_status_responses_give_names() {
    let Some(run) = run_capture("iti-ics-security-tools/pcaps/beckoff/addroute1.pcapng") else {
        return;
    };
    // tshark -r addroute1.pcapng -Y 'nbns.flags.response==1' -T fields -e ip.src -e nbns.type
    //   -e nbns.name -e nbns.addr -e nbns.netbios_name -e nbns.unit_id
    // → frame 9: NB CX_0D7560<00> 192.168.1.8; frame 29 from 192.168.1.99: NBSTAT with
    //   SHENHUAJ6-PC<00>, WORKGROUP<00> (group), SHENHUAJ6-PC<20>, unit id b8:ae:ed:7e:1b:4c.
    assert_eq!(
        run.names("nbns"),
        vec![
            ("CX_0D7560".to_string(), "192.168.1.8".to_string()),
            ("SHENHUAJ6-PC".to_string(), "192.168.1.99".to_string()),
            ("SHENHUAJ6-PC".to_string(), "192.168.1.99".to_string()),
        ]
    );
    let macs: Vec<_> = run
        .observations
        .iter()
        .filter(|(d, _)| *d == "nbns")
        .map(|(_, o)| match o {
            Observation::Hostname { mac, .. } => mac.map(|m| m.to_string()),
            Observation::Identity { .. } => unreachable!("name dissectors announce no identities"),
        })
        .collect();
    assert_eq!(
        macs,
        [
            None,
            Some("b8:ae:ed:7e:1b:4c".into()),
            Some("b8:ae:ed:7e:1b:4c".into())
        ]
    );
    // tshark -r addroute1.pcapng -Y nbns | wc -l → 26.
    assert_eq!(run.datagrams.get("nbns"), Some(&26));
    assert_eq!(run.anomalies_of("nbns"), 0);
}

// Differential tests: every capture of the manifest that carries these protocols, compared
// with what tshark decodes from the same file at test time.

/// True when tshark runs; otherwise prints why the caller skips.
fn tshark_available() -> bool {
    match std::process::Command::new("tshark")
        .arg("--version")
        .output()
    {
        Ok(o) if o.status.success() => true,
        _ => {
            eprintln!("skipping: tshark not found (Debian package tshark)");
            false
        }
    }
}

fn tshark(path: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(args)
        .output()
        .expect("tshark runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Captures listed in MANIFEST.tsv whose main protocols or protocol families name one of
/// `protocols`.
fn manifest_captures(dir: &std::path::Path, protocols: &[&str]) -> Vec<String> {
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let (path, main, kind, families) =
                (cols.first()?, cols.get(3)?, cols.get(5)?, cols.get(6)?);
            let names = main
                .split(',')
                .filter_map(|p| p.split(':').next())
                .chain(families.split(','));
            let wanted = names.into_iter().any(|n| protocols.contains(&n));
            (*kind == "capture" && wanted).then(|| path.to_string())
        })
        .collect()
}

fn json_str(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| x.as_str()).map(str::to_string)
}

/// A JSON value that is one object or, for repeated keys, an array of them.
fn each(v: &serde_json::Value) -> Vec<&serde_json::Value> {
    match v {
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// The address a full reverse name stands for, decoded independently of the dissector.
fn reverse_of(name: &str) -> Option<String> {
    let labels: Vec<&str> = name.split('.').collect();
    let lower: Vec<String> = labels.iter().map(|l| l.to_ascii_lowercase()).collect();
    match lower.as_slice() {
        [d, c, b, a, in_addr, arpa] if in_addr == "in-addr" && arpa == "arpa" => {
            format!("{a}.{b}.{c}.{d}")
                .parse::<Ipv4Addr>()
                .ok()
                .map(|i| i.to_string())
        }
        [nibbles @ .., ip6, arpa] if nibbles.len() == 32 && ip6 == "ip6" && arpa == "arpa" => {
            let hex: String = nibbles.iter().rev().map(String::as_str).collect();
            u128::from_str_radix(&hex, 16)
                .ok()
                .map(|v| Ipv6Addr::from(v).to_string())
        }
        _ => None,
    }
}

/// tshark's JSON for the DNS-format responses and NBNS messages over UDP of a capture.
fn tshark_name_json(path: &std::path::Path) -> serde_json::Value {
    let json = tshark(
        path,
        &[
            "-Y",
            "udp && (dns.flags.response==1 || nbns)",
            "-T",
            "json",
            "--no-duplicate-keys",
            "-J",
            "ip dns mdns llmnr nbns",
        ],
    );
    if json.trim().is_empty() {
        return serde_json::Value::Array(Vec::new());
    }
    serde_json::from_str(&json).expect("tshark JSON")
}

/// (name, address) pairs in tshark's JSON for DNS/mDNS/LLMNR responses:
/// A/AAAA owner → address and reverse PTR target → owner's address.
fn tshark_dns_pairs(value: &serde_json::Value) -> BTreeSet<(String, String)> {
    let mut pairs = BTreeSet::new();
    fn walk(v: &serde_json::Value, pairs: &mut BTreeSet<(String, String)>) {
        match v {
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, pairs)),
            serde_json::Value::Object(map) => {
                if let (Some(t), Some(n)) =
                    (json_str(v, "dns.resp.type"), json_str(v, "dns.resp.name"))
                {
                    let found = match t.as_str() {
                        "1" => json_str(v, "dns.a").map(|a| (n, a)),
                        "28" => json_str(v, "dns.aaaa").map(|a| (n, a)),
                        "12" => reverse_of(&n)
                            .zip(json_str(v, "dns.ptr.domain_name"))
                            .map(|(ip, t)| (t, ip)),
                        _ => None,
                    };
                    pairs.extend(found);
                    return;
                }
                map.values().for_each(|i| walk(i, pairs));
            }
            _ => {}
        }
    }
    walk(value, &mut pairs);
    pairs
}

/// (name, address) pairs in tshark's JSON for NBNS: NB records of registration and refresh
/// requests and of positive responses, unique names with suffix <00> or <20>; and the
/// unique names of node status responses with the responder's address (tshark shows
/// these without suffix).
fn tshark_nbns_pairs(value: &serde_json::Value) -> BTreeSet<(String, String)> {
    let mut pairs = BTreeSet::new();
    fn records<'v>(v: &'v serde_json::Value, acc: &mut Vec<&'v serde_json::Value>) {
        match v {
            serde_json::Value::Array(items) => items.iter().for_each(|i| records(i, acc)),
            serde_json::Value::Object(map) => {
                if v.get("nbns.name").is_some()
                    && v.get("nbns.type").is_some()
                    && v.get("nbns.addr").is_some()
                {
                    acc.push(v);
                    return;
                }
                map.iter()
                    .filter(|(k, _)| *k != "Queries")
                    .for_each(|(_, i)| records(i, acc));
            }
            _ => {}
        }
    }
    for packet in value.as_array().into_iter().flatten() {
        let Some(nbns) = packet.pointer("/_source/layers/nbns") else {
            continue;
        };
        let flags = &nbns["nbns.flags_tree"];
        let field = |k: &str| {
            json_str(flags, k)
                .and_then(|s| s.parse::<u8>().ok())
                .unwrap_or(0)
        };
        let (response, opcode, rcode) = (
            field("nbns.flags.response") == 1,
            field("nbns.flags.opcode"),
            field("nbns.flags.rcode"),
        );
        let announces = if response {
            rcode == 0 && [0, 5, 8, 9].contains(&opcode)
        } else {
            [5, 8, 9, 15].contains(&opcode)
        };
        if !announces {
            continue;
        }
        if response && opcode == 0 {
            let sender = packet
                .pointer("/_source/layers/ip/ip.src")
                .and_then(|v| v.as_str());
            let answers = nbns.get("Answers").map(each).unwrap_or_default();
            for r in answers
                .into_iter()
                .flat_map(|a| a.as_object())
                .flat_map(|a| a.values())
            {
                if json_str(r, "nbns.type").as_deref() != Some("33") {
                    continue;
                }
                let names = r.get("nbns.netbios_name").map(each).unwrap_or_default();
                let flags = r.get("nbns.name_flags_tree").map(each).unwrap_or_default();
                for (name, flags) in names.into_iter().zip(flags) {
                    if json_str(flags, "nbns.name_flags.group").as_deref() == Some("0") {
                        let name = name.as_str().unwrap_or_default().to_string();
                        pairs.insert((name, sender.unwrap_or_default().to_string()));
                    }
                }
            }
        }
        let mut acc = Vec::new();
        records(nbns, &mut acc);
        for r in acc {
            if json_str(r, "nbns.type").as_deref() != Some("32") {
                continue;
            }
            let full = json_str(r, "nbns.name").unwrap_or_default();
            let name = full.split(" (").next().unwrap_or_default();
            let Some(base) = name
                .strip_suffix("<00>")
                .or_else(|| name.strip_suffix("<20>"))
            else {
                continue;
            };
            for (flags, addr) in each(&r["nbns.nb_flags_tree"])
                .into_iter()
                .zip(each(&r["nbns.addr"]))
            {
                let addr = addr.as_str().unwrap_or_default();
                if json_str(flags, "nbns.nb_flags.group").as_deref() == Some("0")
                    && addr != "0.0.0.0"
                    && addr != "255.255.255.255"
                {
                    pairs.insert((base.to_string(), addr.to_string()));
                }
            }
        }
    }
    pairs
}

/// (mac, address, name) triples tshark decodes from DHCP host names (option 12) and
/// client FQDNs (option 81), with gapwatch's address rule.
fn tshark_dhcp_triples(path: &std::path::Path) -> BTreeSet<(String, String, String)> {
    let fields = [
        "dhcp.hw.type",
        "dhcp.hw.len",
        "dhcp.hw.mac_addr",
        "dhcp.ip.your",
        "dhcp.ip.client",
        "dhcp.option.requested_ip_address",
        "dhcp.option.dhcp",
        "dhcp.option.hostname",
        "dhcp.fqdn.name",
    ];
    let mut args = vec![
        "-Y",
        "udp && (dhcp.option.hostname || dhcp.fqdn.name)",
        "-T",
        "fields",
        "-E",
        "occurrence=f",
    ];
    for f in &fields {
        args.extend(["-e", f]);
    }
    let mut out = BTreeSet::new();
    for line in tshark(path, &args).lines() {
        let c: Vec<&str> = line.split('\t').collect();
        let [htype, hlen, mac, yi, ci, rq, mt, host, fqdn] = c[..] else {
            continue;
        };
        let ethernet = matches!(htype, "1" | "0x01") && hlen == "6" && mac != "00:00:00:00:00:00";
        let mac = if ethernet { mac } else { "" };
        let ip = if matches!(mt, "4" | "6") {
            ""
        } else {
            [yi, ci, rq]
                .into_iter()
                .find(|a| !a.is_empty() && *a != "0.0.0.0")
                .unwrap_or("")
        };
        for name in [host, fqdn] {
            let name = name.trim().trim_end_matches('.');
            if !name.is_empty() {
                out.insert((mac.to_string(), ip.to_string(), name.to_string()));
            }
        }
    }
    out
}

/// Mismatch lines and (DNS pairs, NBNS pairs, DHCP triples) tshark found in one capture.
type Comparison = (Vec<String>, [usize; 3]);

fn compare_with_tshark(path: &std::path::Path, rel: &str) -> Result<Comparison, String> {
    let datagrams = read_udp(path)?;
    let has_dhcp_port = datagrams
        .iter()
        .any(|d| [67, 68].contains(&d.src_port) || [67, 68].contains(&d.dst_port));
    let run = run_datagrams(datagrams);
    let mut mismatches = Vec::new();
    let mut diff = |what: &str, mine: BTreeSet<_>, theirs: &BTreeSet<_>| {
        if &mine != theirs {
            mismatches.push(format!(
                "{rel}: {what} only gapwatch {:?}, only tshark {:?}",
                mine.difference(theirs).collect::<Vec<_>>(),
                theirs.difference(&mine).collect::<Vec<_>>()
            ));
        }
    };
    let json = tshark_name_json(path);
    let theirs_dns = tshark_dns_pairs(&json);
    let mine_dns = ["dns", "mdns", "llmnr"]
        .iter()
        .flat_map(|d| run.names(d))
        .collect();
    diff("dns", mine_dns, &theirs_dns);
    let theirs_nbns = tshark_nbns_pairs(&json);
    diff(
        "nbns",
        run.names("nbns").into_iter().collect(),
        &theirs_nbns,
    );
    let mut dhcp_count = 0;
    // tshark decodes DHCP on ports 67/68 only; skip its run when there are none.
    if has_dhcp_port {
        let theirs: BTreeSet<_> = tshark_dhcp_triples(path)
            .into_iter()
            .map(|(m, i, n)| (format!("{m} {i}"), n))
            .collect();
        let mine = dhcp_triples(&run, "dhcp")
            .into_iter()
            .map(|(m, i, n)| (format!("{m} {i}"), n))
            .collect();
        dhcp_count = theirs.len();
        diff("dhcp", mine, &theirs);
    }
    Ok((
        mismatches,
        [theirs_dns.len(), theirs_nbns.len(), dhcp_count],
    ))
}

/// Every capture of the manifest that carries DNS, mDNS, LLMNR, DHCP or NBNS: the
/// distinct names and addresses gapwatch reports equal what tshark decodes, computed at
/// test time. Slow (tshark runs once or twice per capture, about 70 captures), so it
/// runs on request: `cargo test -p dissect --test names_pcaps -- --ignored`.
#[test]
#[ignore = "runs tshark on ~70 captures; run with --ignored"]
fn every_manifest_capture_agrees_with_tshark() {
    let Some(dir) = pcaps_dir() else { return };
    if !tshark_available() {
        return;
    }
    let files = manifest_captures(
        &dir,
        &["dns", "mdns", "llmnr", "dhcp", "bootp", "nbns", "smb"],
    );
    let results: Vec<(String, Result<Comparison, String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(files.len().div_ceil(2).max(1))
            .map(|chunk| {
                let dir = &dir;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|rel| (rel.clone(), compare_with_tshark(&dir.join(rel), rel)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    let mut mismatches = Vec::new();
    let mut totals = [0usize; 3];
    let mut compared = 0;
    for (rel, result) in results {
        match result {
            Ok((m, counts)) => {
                compared += 1;
                mismatches.extend(m);
                for (t, c) in totals.iter_mut().zip(counts) {
                    *t += c;
                }
            }
            Err(why) => eprintln!("not compared: {rel}: {why}"),
        }
    }
    eprintln!(
        "compared {compared} of {} captures: {} DNS pairs, {} NBNS pairs, {} DHCP triples",
        files.len(),
        totals[0],
        totals[1],
        totals[2]
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(compared >= 70, "only {compared} captures compared");
    assert!(totals.iter().all(|&t| t > 0), "{totals:?}");
}

/// Parser and dissector cost per message on real payloads. Prints figures only; run with
/// `cargo test --release -p dissect --test names_pcaps throughput -- --ignored --nocapture`.
#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn throughput_on_real_payloads() {
    let Some(dir) = pcaps_dir() else { return };
    let load = |rel: &str, ports: &[u16]| -> Vec<Vec<u8>> {
        read_udp(&dir.join(rel))
            .expect("capture readable")
            .into_iter()
            .filter(|d| ports.contains(&d.src_port) || ports.contains(&d.dst_port))
            .map(|d| d.payload)
            .collect()
    };
    let sets = [
        (
            "dns+mdns",
            load("emreekin-ics-pcaps/DNP3/DNP3Value.pcap", &[5353]),
            0,
        ),
        (
            "dns",
            load("malcolm-test-artifacts/pcap/protocols/NTP.pcap", &[53]),
            0,
        ),
        (
            "dhcp",
            load("malcolm-test-artifacts/pcap/protocols/DHCP.pcap", &[67, 68]),
            1,
        ),
        (
            "nbns",
            load(
                "icsnpp-profinet-io-cm/testing/traces/profinet_io_cm_mixed_1.pcap",
                &[137],
            ),
            2,
        ),
    ];
    for (label, payloads, kind) in &sets {
        let bytes: usize = payloads.iter().map(Vec::len).sum();
        let rounds = 2_000_000 / payloads.len().max(1);
        let start = std::time::Instant::now();
        let mut ok = 0usize;
        for _ in 0..rounds {
            for p in payloads {
                ok += match kind {
                    0 => dissect::dns::parser::parse_message(p)
                        .map(|m| m.records().count())
                        .unwrap_or(0),
                    1 => dissect::dhcp::v4::parse(p)
                        .map(|m| usize::from(m.options.count))
                        .unwrap_or(0),
                    _ => dissect::nbns::parser::parse_message(p)
                        .map(|m| m.records().count())
                        .unwrap_or(0),
                };
            }
        }
        let parse = start.elapsed();
        let c = FlowContext {
            transport: Transport::Udp,
            vlan: None,
            client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            client_port: 1,
            client_mac: None,
            server_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            server_port: 2,
            server_mac: None,
            ts: records::Timestamp(0),
        };
        let mut d: Box<dyn Dissector> = match kind {
            0 => Box::new(dissect::dns::DnsDissector::new(dissect::dns::Flavor::Mdns)),
            1 => Box::new(dissect::dhcp::DhcpDissector::default()),
            _ => Box::new(dissect::nbns::NbnsDissector::default()),
        };
        let mut out = Emitter::default();
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            for p in payloads {
                d.on_datagram(&c, Direction::ToServer, p, &mut out);
                out.observations.clear();
                out.anomalies.clear();
            }
        }
        let dissect_time = start.elapsed();
        let n = (rounds * payloads.len()) as f64;
        eprintln!(
            "{label}: {} payloads ({} bytes); parse {:.0} ns/msg ({:.0} MB/s), dissect+emit {:.0} ns/msg [{ok}]",
            payloads.len(),
            bytes,
            parse.as_nanos() as f64 / n,
            (bytes * rounds) as f64 / parse.as_secs_f64() / 1e6,
            dissect_time.as_nanos() as f64 / n,
        );
    }
}
