//! Conformance on third-party captures (../shared/pcaps): for each capture, the TCP and
//! UDP conversations gapwatch reports are exactly tshark's, and the unicast MACs of its
//! assets are exactly the unicast MACs tshark sees (Ethernet source/destination, or the
//! Linux cooked header's source). Captures cover Ethernet, Linux SLL, BSD null and bare
//! IPv4 link types, pcap and pcapng, IPv4 and IPv6, VLANs, and many OT protocols.

mod common;

use common::{analyze_json, have_tshark, shared_pcaps, tshark};
use std::collections::BTreeSet;
use std::path::Path;

const CAPTURES: &[&str] = &[
    "iti-ics-security-tools/pcaps/dnp3/opendnp3-3/conformance/8.22.2.5/dump.pcap",
    "emreekin-ics-pcaps/LocalPCAP/vinci104.pcap",
    "emreekin-ics-pcaps/LocalPCAP/hmi.pcap",
    "emreekin-ics-pcaps/IEC60870-104/104LocalValue.pcap",
    "suricata-verify/tests/dnp3/dnp3-file-write/input.pcap",
    "emreekin-ics-pcaps/IEC61850/mmsy1.pcap",
    "emreekin-ics-pcaps/PowerlinkEPL/epl_v1.pcap",
    "ndpi/tests/cfgs/default/pcap/dnp3.pcap",
    "icsnpp-genisys/tests/traces/genisys.pcap",
    "iti-ics-security-tools/pcaps/dnp3/opendnp3-3/conformance/8.22.2.9/dump.pcap",
    "emreekin-ics-pcaps/IEC60870-104/59.pcap",
    "ndpi/tests/cfgs/default/pcap/ieee_c37118.pcap",
    "ct-samples/Protocols/EtherCAT/EtherCAT.pcap",
    "emreekin-ics-pcaps/DNP3/dnpVirtOutput.pcap",
    "ct-samples/Protocols/SBus/SBus-Ethernet/SBus-Ethernet.pcap",
    "emreekin-ics-pcaps/IEC60870-104/iec104.pcap",
    "iti-ics-security-tools/pcaps/dnp3/opendnp3-3/conformance/8.5.4.2.4/dump.pcap",
    "iti-ics-security-tools/pcaps/modicon/modicon_test.pcap",
    "icsnpp-enip/tests/traces/enip_cip_example.pcap",
    "zeek/testing/btest/Traces/snmp/leak_test.pcapng",
    "icsnpp-bacnet/testing/traces/bacnet_services.pcap",
    "icsnpp-opcua-binary/pcaps/open62541_client-server-getEndpoints.pcap",
    "gymgit-s7-pcaps/step7_s300_download.pcapng",
    "emreekin-ics-pcaps/LocalPCAP/ModbusFloat.pcap",
    "emreekin-ics-pcaps/LocalPCAP/WriteMultipleCoil.pcap",
    "iti-ics-security-tools/pcaps/dnp3/opendnp3-3/conformance/8.6.6.2.2/dump.pcap",
    "ct-samples/Protocols/DLMS-COSEM/Matousp_PCAPs/data5.pcapng",
    "icsnpp-bacnet/testing/traces/bacnet_error_reject_abort.pcap",
    "emreekin-ics-pcaps/STP/stp1.pcap",
    "ndpi/tests/cfgs/default/pcap/fins.pcap",
    "iti-ics-security-tools/pcaps/s7/s7comm_varservice_libnodavedemo.pcap",
    "gymgit-s7-pcaps/wincc_s300_setup-alarm-read-write.pcapng",
    "iti-ics-security-tools/pcaps/openics/EIP-SoftwareUploadFailure.pcap",
    "zeek/testing/btest/Traces/dnp3/dnp3_udp_read.pcap",
    "ct-samples/Protocols/BACnet/bacnet-ip.cap",
    "iti-ics-security-tools/pcaps/dnp3/opendnp3-3/conformance/8.7.2.2/dump.pcap",
    "emreekin-ics-pcaps/DNP3/dnpDobleIN.pcap",
    "ct-samples/Protocols/BACnet/bacnet-ethernet-device.cap",
    "ct-samples/Protocols/DLMS-COSEM/Matousp_PCAPs/data3.pcapng",
    "emreekin-ics-pcaps/COTP/cotp.pcap",
    "emreekin-ics-pcaps/IEC61850/iedscout.pcap",
    "emreekin-ics-pcaps/LLDP/LLDP.pcap",
    "icsnpp-c1222/testing/Traces/c1222_over_ipv6.pcap",
    "icsnpp-omron-fins/testing/traces/omron.pcap",
    "icsnpp-opcua-binary/pcaps/open62541_browse_next.pcap",
    "icsnpp-s7comm/tests/traces/s7comm_plus.pcap",
    "icsnpp-enip/tests/traces/multiple_service_packet_cip.pcapng",
    "gymgit-s7-pcaps/snap7_s300_stop.pcapng",
];

/// MACs that gapwatch knows from protocol data rather than from frame headers, so tshark's
/// frame-level view cannot list them: (capture, MAC, why).
const MACS_FROM_PROTOCOL_DATA: &[(&str, &str, &str)] = &[(
    "emreekin-ics-pcaps/LocalPCAP/ModbusFloat.pcap",
    "02:00:4c:4f:4f:50",
    "the DHCP client hardware address (chaddr) of a host whose frames were captured on loopback",
)];

type Conversation = (String, BTreeSet<(String, u16)>);

fn ours(capture: &Path) -> (BTreeSet<Conversation>, BTreeSet<String>) {
    let (flows, assets) = analyze_json(&[], &[capture]);
    let conversations = flows
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
    let macs = assets
        .iter()
        .filter_map(|a| a["mac"].as_str().map(str::to_string))
        .collect();
    (conversations, macs)
}

fn theirs(capture: &Path) -> (BTreeSet<Conversation>, BTreeSet<String>) {
    // ICMP errors quote a transport header; tshark's tcp/udp fields would then pair the
    // outer addresses with quoted ports, which is no conversation.
    let fields = tshark(
        capture,
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
            "ipv6.src",
            "-e",
            "ipv6.dst",
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
    let mut conversations = BTreeSet::new();
    for line in fields.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        let src = if c[0].is_empty() { c[2] } else { c[0] };
        let dst = if c[1].is_empty() { c[3] } else { c[1] };
        let port = |s: &str| s.parse::<u16>().ok();
        let (transport, sp, dp) = match (port(c[4]), port(c[5]), port(c[6]), port(c[7])) {
            (Some(s), Some(d), _, _) => ("tcp", s, d),
            (_, _, Some(s), Some(d)) => ("udp", s, d),
            _ => continue,
        };
        conversations.insert((
            transport.to_string(),
            BTreeSet::from([(src.to_string(), sp), (dst.to_string(), dp)]),
        ));
    }
    let mac_fields = tshark(
        capture,
        &[
            "-T",
            "fields",
            "-e",
            "eth.src",
            "-e",
            "eth.dst",
            "-e",
            "sll.src.eth",
        ],
    );
    let macs = mac_fields
        .split(['\t', '\n', ','])
        .filter(|m| m.len() == 17)
        .filter(|m| {
            u8::from_str_radix(&m[..2], 16).is_ok_and(|b| b & 1 == 0) && *m != "00:00:00:00:00:00"
        })
        .map(str::to_string)
        .collect();
    (conversations, macs)
}

#[test]
fn conversations_and_macs_match_tshark_on_third_party_captures() {
    let Some(dir) = shared_pcaps() else { return };
    if !have_tshark() {
        return;
    }
    let mut failures = Vec::new();
    for name in CAPTURES {
        let path = dir.join(name);
        let (our_conv, mut our_macs) = ours(&path);
        let (their_conv, their_macs) = theirs(&path);
        for (capture, mac, _why) in MACS_FROM_PROTOCOL_DATA {
            if capture == name {
                assert!(
                    our_macs.remove(*mac),
                    "{name}: expected {mac} from protocol data"
                );
            }
        }
        if our_conv != their_conv {
            failures.push(format!(
                "{name}: conversations differ: only ours {:?}; only tshark {:?}",
                our_conv.difference(&their_conv).collect::<Vec<_>>(),
                their_conv.difference(&our_conv).collect::<Vec<_>>()
            ));
        }
        if our_macs != their_macs {
            failures.push(format!(
                "{name}: MACs differ: only ours {:?}; only tshark {:?}",
                our_macs.difference(&their_macs).collect::<Vec<_>>(),
                their_macs.difference(&our_macs).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(CAPTURES.len(), 48);
}
