//! HART-IP events against tshark, capture by capture: session messages by message id and
//! pass-through messages by HART command, each by direction.

mod common;

use common::{events, num, ours_by_function, setup, tshark};
use serde_json::Value;
use std::collections::BTreeMap;

/// Function number of a HART-IP message that is not pass-through: this plus its id.
const MESSAGE_BASE: u64 = 0x1_0000;

/// (capture, messages compared). Totals from the tshark command in the test.
const CAPTURES: &[(&str, u64)] = &[
    ("icsnpp-hart-ip/testing/traces/hart-ip.pcap", 48),
    (
        "icsnpp-hart-ip/testing/traces/hart-ip_all_messageIDs.pcapng",
        8,
    ),
    (
        "icsnpp-hart-ip/testing/traces/hart-ip_all_types_and_commands_sent.pcapng",
        74,
    ),
    (
        "icsnpp-hart-ip/testing/traces/hart-ip_publish_and_keepAlive.pcapng",
        2588,
    ),
    ("malcolm-test-artifacts/pcap/protocols/HARTIP.pcap", 2718),
    ("ndpi/tests/cfgs/default/pcap/hart_ip.pcap", 48),
];

#[test]
fn hartip_messages_equal_tsharks() {
    let Some(dir) = setup() else { return };
    for (name, total) in CAPTURES {
        let cap = dir.join(name);
        // tshark (4.x) does not dissect message ids 4 (direct PDU) and 5 (read audit log)
        // of HART-IP 2; we do, so those are left out of the comparison.
        let evs: Vec<Value> = events(&cap, "hartip")
            .into_iter()
            .filter(|e| {
                e["direct_pdu"].is_null() && !matches!(e["message_id"].as_u64(), Some(4 | 5))
            })
            .collect();
        let ours = ours_by_function(&evs);
        let mut theirs: BTreeMap<(u64, bool), u64> = BTreeMap::new();
        // `!icmp`: tshark also dissects the copy of a datagram quoted inside an ICMP
        // port-unreachable error, which is not a message on the wire.
        let out = tshark(
            &cap,
            &[
                "-Y",
                "hart_ip && !icmp",
                "-T",
                "fields",
                "-E",
                "occurrence=a",
                "-E",
                "aggregator=,",
                "-e",
                "hart_ip.message_id",
                "-e",
                "hart_ip.message_type",
                "-e",
                "hart_ip.pt.command",
            ],
        );
        for line in out.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let mut commands = f[2].split(',').filter(|c| !c.is_empty());
            for (id, ty) in f[0].split(',').zip(f[1].split(',')) {
                let id = num(id);
                if id == 4 || id == 5 {
                    continue;
                }
                let function = match (id, commands.next()) {
                    (3, Some(c)) => num(c),
                    _ => MESSAGE_BASE + id,
                };
                *theirs.entry((function, num(ty) != 0)).or_default() += 1;
            }
        }
        assert_eq!(ours, theirs, "{name}");
        assert_eq!(evs.len() as u64, *total, "{name}");
    }
}

#[test]
fn hartip_udp_session_answered_from_another_port_is_still_dissected() {
    // The server of hart-ip.pcap answers the UDP session initiate from port 5095 and the
    // session continues there (tshark: `udp.port==5095 && hart_ip && !icmp` = 23 messages).
    let Some(dir) = setup() else { return };
    let cap = dir.join("icsnpp-hart-ip/testing/traces/hart-ip.pcap");
    let n = events(&cap, "hartip")
        .iter()
        .filter(|e| e["src_port"] == 5095 || e["dst_port"] == 5095)
        .count();
    let theirs = tshark(&cap, &["-Y", "udp.port==5095 && hart_ip && !icmp"])
        .lines()
        .count();
    assert_eq!(n, theirs);
    assert_eq!(n, 23);
}

#[test]
fn hartip_read_unique_identifier_gives_the_device_identity() {
    let Some(dir) = setup() else { return };
    let cap = dir.join("ndpi/tests/cfgs/default/pcap/hart_ip.pcap");
    let evs = events(&cap, "hartip");
    let rsp = evs
        .iter()
        .find(|e| e["function"] == 0 && e["is_response"] == true && !e["manufacturer_id"].is_null())
        .expect("a command 0 response");
    // tshark -r F -Y 'hart_ip.pt.command==0 && hart_ip.message_type==1' -T fields
    //   -e hart_ip.pt.rsp.manufacturer_Id -e hart_ip.pt.rsp.device_rev
    let out = tshark(
        &cap,
        &[
            "-Y",
            "hart_ip.pt.command==0 && hart_ip.message_type==1",
            "-T",
            "fields",
            "-e",
            "hart_ip.pt.rsp.manufacturer_Id",
            "-e",
            "hart_ip.pt.rsp.device_rev",
        ],
    );
    let line = out.lines().next().expect("tshark sees the response");
    let f: Vec<&str> = line.split('\t').collect();
    assert_eq!(rsp["manufacturer_id"].as_u64(), Some(num(f[0])));
    assert_eq!(rsp["device_revision"].as_u64(), Some(num(f[1])));
}
