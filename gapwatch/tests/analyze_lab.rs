//! `gapwatch analyze` on the bundled lab capture: every lab host found with the MAC and
//! address the lab gave it, flows that match tshark's, and identical output on every run.

mod common;

use common::{analyze_json, have_tshark, smoke, tshark};
use serde_json::Value;
use std::collections::BTreeSet;

fn topology() -> Value {
    let path = common::root().join("lab/captures/smoke.topology.json");
    let text =
        std::fs::read_to_string(&path).expect("the smoke topology is committed beside the capture");
    serde_json::from_str(&text).expect("the topology is JSON")
}

fn asset_by_mac<'a>(assets: &'a [Value], mac: &str) -> Option<&'a Value> {
    assets.iter().find(|a| a["mac"].as_str() == Some(mac))
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

#[test]
fn every_lab_host_is_an_asset_with_its_mac_and_address() {
    let (_, assets) = analyze_json(&[], &[&smoke()]);
    let topo = topology();
    let mut expected = 0;
    for host in topo["hosts"].as_array().expect("hosts") {
        let (name, mac, ip) = (
            host["name"].as_str().unwrap(),
            host["mac"].as_str().unwrap(),
            host["ip"].as_str().unwrap(),
        );
        if name == "ext1" {
            continue; // the outside host takes part only in the incident scenarios
        }
        expected += 1;
        let asset =
            asset_by_mac(&assets, mac).unwrap_or_else(|| panic!("{name} ({mac}) not found"));
        assert_eq!(
            strings(&asset["ips"]),
            BTreeSet::from([ip.to_string()]),
            "{name}"
        );
        assert_eq!(asset["id"].as_str(), Some(format!("mac:{mac}").as_str()));
    }
    assert_eq!(expected, 15);
    // The router's legs: each claims its own address, and each carries routed traffic in
    // this capture (the SPAN sees a routed packet once per segment, the second copy from
    // the router's MAC), so each is recognised as a gateway.
    for leg in topo["router_legs"].as_array().expect("router legs") {
        let mac = leg["mac"].as_str().unwrap();
        let Some(asset) = asset_by_mac(&assets, mac) else {
            assert_eq!(
                leg["zone"], "out",
                "only the outside leg is silent in the smoke run"
            );
            continue;
        };
        assert_eq!(
            strings(&asset["ips"]),
            BTreeSet::from([leg["ip"].as_str().unwrap().to_string()])
        );
        assert_eq!(asset["is_gateway"], true, "leg {mac}");
        assert_eq!(asset["role"], "gateway", "leg {mac}");
    }
    // 15 hosts + 4 router legs; nothing invented (no broadcast or routed-address assets).
    assert_eq!(assets.len(), 19, "{assets:#?}");
}

#[test]
fn vendors_and_names_come_from_the_oui_registry_dhcp_and_dns() {
    let (_, assets) = analyze_json(&[], &[&smoke()]);
    let vendor = |mac: &str| {
        asset_by_mac(&assets, mac).unwrap()["vendor"]
            .as_str()
            .map(str::to_string)
    };
    assert_eq!(vendor("00:1b:1b:01:01:0c").as_deref(), Some("Siemens AG"));
    assert_eq!(
        vendor("00:00:bc:01:01:0e").as_deref(),
        Some("Rockwell Automation")
    );
    let names = |mac: &str| strings(&asset_by_mac(&assets, mac).unwrap()["hostnames"]);
    // DHCP host names (option 12) of the two DHCP clients.
    assert!(names("00:1a:a0:01:02:28").contains("ews1"));
    assert!(names("00:0f:ea:01:04:0a").contains("itws1"));
    // A DNS answer names the S7 PLC (tshark -Y 'dns.a==10.10.1.12' shows plc2.plant.lan).
    assert!(names("00:1b:1b:01:01:0c").contains("plc2.plant.lan"));
}

/// TCP and UDP conversations as unordered endpoint pairs.
type Conversation = (String, BTreeSet<(String, u16)>);

#[test]
fn flow_endpoints_match_tshark_conversations() {
    let (flows, _) = analyze_json(&[], &[&smoke()]);
    // tshark -r smoke.pcap -q -z conv,tcp / conv,udp: 39 TCP and 28 UDP conversations.
    let ours: BTreeSet<Conversation> = flows
        .iter()
        .filter(|f| matches!(f["transport"].as_str(), Some("tcp" | "udp")))
        .map(|f| {
            let end = |ip: &str, port: &str| {
                (
                    f[ip].as_str().unwrap().to_string(),
                    f[port].as_u64().unwrap() as u16,
                )
            };
            (
                f["transport"].as_str().unwrap().to_string(),
                BTreeSet::from([end("src_ip", "src_port"), end("dst_ip", "dst_port")]),
            )
        })
        .collect();
    assert_eq!(ours.iter().filter(|c| c.0 == "tcp").count(), 39);
    assert_eq!(ours.iter().filter(|c| c.0 == "udp").count(), 28);
    if !have_tshark() {
        return;
    }
    let fields = tshark(
        &smoke(),
        // ICMP errors quote a UDP header: tshark's udp.* fields would then pair the outer
        // addresses with the quoted ports, which is no conversation.
        &[
            "-Y",
            "!icmp && !icmpv6",
            "-T",
            "fields",
            "-E",
            "occurrence=f",
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "udp.srcport",
            "-e",
            "udp.dstport",
        ],
    );
    let mut theirs = BTreeSet::new();
    for line in fields.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let (src, dst) = (cols[0], cols[1]);
        let port = |s: &str| s.parse::<u16>().ok();
        let (transport, sp, dp) = match (port(cols[2]), port(cols[3]), port(cols[4]), port(cols[5]))
        {
            (Some(s), Some(d), _, _) => ("tcp", s, d),
            (_, _, Some(s), Some(d)) => ("udp", s, d),
            _ => continue,
        };
        theirs.insert((
            transport.to_string(),
            BTreeSet::from([(src.to_string(), sp), (dst.to_string(), dp)]),
        ));
    }
    assert_eq!(ours, theirs);
}

#[test]
fn output_is_identical_on_every_run() {
    let run = || common::gapwatch(&["analyze", "--json", smoke().to_str().unwrap()]).stdout;
    let first = run();
    assert!(first.len() > 10_000);
    assert_eq!(first, run());
}

#[test]
fn a_malformed_message_is_a_protocol_anomaly_event_with_its_reason() {
    // tshark -r smoke.pcap -Y _ws.malformed: one S7comm frame (the workstation's read-var
    // request whose item list overruns its section).
    let out = common::gapwatch(&["analyze", "--json", smoke().to_str().unwrap()]);
    let anomalies: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["function_name"] == "protocol_anomaly")
        .collect();
    assert_eq!(anomalies.len(), 1, "{anomalies:#?}");
    let a = &anomalies[0];
    assert_eq!(
        (
            a["protocol"].as_str(),
            a["src_ip"].as_str(),
            a["dst_ip"].as_str()
        ),
        (Some("s7comm"), Some("10.10.2.40"), Some("10.10.1.12"))
    );
    assert!(a["reason"].as_str().is_some_and(|r| !r.is_empty()));
    if have_tshark() {
        assert_eq!(
            tshark(&smoke(), &["-Y", "_ws.malformed && s7comm"])
                .lines()
                .count(),
            1
        );
    }
}
