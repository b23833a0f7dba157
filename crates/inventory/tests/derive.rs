//! Scenario tests of asset derivation.

use dissect::{IdentityField, NameSource, Observation};
use inventory::{Inventory, InventoryConfig};
use records::{FlowRecord, FlowState, Role, Timestamp, TransportKind};
use std::net::{IpAddr, Ipv4Addr};
use wire::{ArpInfo, MacAddr};

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 10, 1, last))
}

fn remote(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 10, 4, last))
}

const PLC: MacAddr = MacAddr([0x00, 0x1b, 0x1b, 0, 0, 10]);
const HMI: MacAddr = MacAddr([0x00, 0x80, 0xf4, 0, 0, 20]);
const ROUTER: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);

fn t(secs: i64) -> Timestamp {
    Timestamp::from_parts(1_764_300_000 + secs, 0)
}

fn flow(
    src: (IpAddr, MacAddr),
    dst: (IpAddr, MacAddr),
    end: i64,
    app: Option<&'static str>,
) -> FlowRecord {
    FlowRecord {
        kind: "flow",
        id: 1,
        ts_start: t(0),
        ts_end: t(end),
        transport: TransportKind::Tcp,
        vlan: None,
        src_ip: src.0,
        src_port: 40000,
        dst_ip: dst.0,
        dst_port: 502,
        src_mac: Some(src.1),
        dst_mac: Some(dst.1),
        packets_to_server: 10,
        packets_to_client: 10,
        bytes_to_server: 1000,
        bytes_to_client: 1000,
        app,
        state: FlowState::Closed,
        gap_bytes: 0,
    }
}

#[test]
fn local_hosts_are_keyed_by_mac_with_vendor_peers_and_protocols() {
    let mut inv = Inventory::new(InventoryConfig::default());
    inv.on_flow_start(t(1), (ip(20), Some(HMI)), (ip(10), Some(PLC)));
    inv.on_flow_end(&flow((ip(20), HMI), (ip(10), PLC), 50, Some("modbus")));
    let assets = inv.assets();
    assert_eq!(assets.len(), 2);
    let plc = assets
        .iter()
        .find(|a| a.mac == Some(PLC))
        .expect("PLC asset");
    assert_eq!(plc.id, "mac:00:1b:1b:00:00:0a");
    assert_eq!(plc.ips.iter().copied().collect::<Vec<_>>(), vec![ip(10)]);
    assert_eq!(plc.vendor.as_deref(), Some("Siemens AG"));
    assert_eq!(plc.first_seen, t(1));
    assert_eq!(plc.last_seen, t(50));
    assert!(plc.protocols_served.contains("modbus"));
    assert!(plc.protocols_used.is_empty());
    assert!(plc.peers.contains(&ip(20)));
    let hmi = assets
        .iter()
        .find(|a| a.mac == Some(HMI))
        .expect("HMI asset");
    assert!(hmi.protocols_used.contains("modbus"));
}

#[test]
fn mac_carrying_many_addresses_is_a_gateway_and_routed_addresses_are_ip_only() {
    let mut inv = Inventory::new(InventoryConfig::default());
    inv.on_arp(
        t(0),
        &ArpInfo {
            operation: 2,
            sender_mac: ROUTER,
            sender_ip: Ipv4Addr::new(10, 10, 1, 1),
            target_mac: PLC,
            target_ip: Ipv4Addr::new(10, 10, 1, 10),
        },
    );
    for host in 1..=6 {
        inv.on_flow_start(
            t(i64::from(host)),
            (remote(host), Some(ROUTER)),
            (ip(10), Some(PLC)),
        );
    }
    let assets = inv.assets();
    let router = assets
        .iter()
        .find(|a| a.mac == Some(ROUTER))
        .expect("router");
    assert!(router.is_gateway);
    assert_eq!(router.role, Role::Gateway);
    assert_eq!(router.ips.iter().copied().collect::<Vec<_>>(), vec![ip(1)]);
    let ip_only: Vec<_> = assets
        .iter()
        .filter(|a| a.mac.is_none())
        .map(|a| a.id.clone())
        .collect();
    assert_eq!(ip_only.len(), 6, "{ip_only:?}");
    assert!(ip_only.contains(&"ip:10.10.4.3".to_string()));
    assert_eq!(assets.len(), 2 + 6);
}

#[test]
fn a_host_with_few_addresses_is_not_a_gateway() {
    let mut inv = Inventory::new(InventoryConfig::default());
    for host in [10, 11] {
        inv.on_flow_start(t(1), (ip(host), Some(PLC)), (ip(20), Some(HMI)));
    }
    let assets = inv.assets();
    assert_eq!(assets.len(), 2);
    assert!(assets.iter().all(|a| !a.is_gateway));
}

#[test]
fn names_from_dhcp_and_dns_attach_to_the_right_device() {
    let mut inv = Inventory::new(InventoryConfig::default());
    inv.on_flow_start(t(1), (ip(20), Some(HMI)), (ip(10), Some(PLC)));
    inv.on_observation(
        t(2),
        &Observation::Hostname {
            ip: Some(ip(20)),
            mac: Some(HMI),
            name: "hmi-1".into(),
            source: NameSource::Dhcp,
        },
    );
    inv.on_observation(
        t(3),
        &Observation::Hostname {
            ip: Some(ip(10)),
            mac: None,
            name: "plc-1.plant.lan".into(),
            source: NameSource::Dns,
        },
    );
    // A name for an address never seen in traffic is kept but makes no asset.
    inv.on_observation(
        t(4),
        &Observation::Hostname {
            ip: Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7))),
            mac: None,
            name: "update.example.com".into(),
            source: NameSource::Dns,
        },
    );
    let assets = inv.assets();
    assert_eq!(assets.len(), 2);
    let hmi = assets.iter().find(|a| a.mac == Some(HMI)).expect("HMI");
    assert_eq!(
        hmi.hostnames.iter().cloned().collect::<Vec<_>>(),
        vec!["hmi-1".to_string()]
    );
    let plc = assets.iter().find(|a| a.mac == Some(PLC)).expect("PLC");
    assert_eq!(
        plc.hostnames.iter().cloned().collect::<Vec<_>>(),
        vec!["plc-1.plant.lan".to_string()]
    );
}

#[test]
fn a_server_host_key_belongs_to_its_address_not_the_router_in_front() {
    let mut inv = Inventory::new(InventoryConfig::default());
    // The server (PLC MAC) answers on its own segment and, through the router, on another.
    inv.on_flow_start(t(1), (ip(20), Some(HMI)), (ip(10), Some(PLC)));
    inv.on_flow_start(t(2), (remote(5), Some(ROUTER)), (ip(1), Some(ROUTER)));
    let key = |ts, mac, value: &str| {
        (
            t(ts),
            Observation::Identity {
                ip: Some(ip(10)),
                mac: Some(mac),
                field: IdentityField::SshHostKey,
                value: value.into(),
                source: "ssh",
            },
        )
    };
    let ed25519 = "SHA256:vCSl/5gRIUfYySNBd3G2ySbO6ILYDiqYUdXSNtWC3mw (ssh-ed25519)";
    let rsa = "SHA256:Mk92U+EjwzH8BlIzZmn8tpI4niyUI4YsAqkdu+bJVRE (ssh-rsa)";
    for (ts, obs) in [key(3, ROUTER, ed25519), key(4, PLC, rsa)] {
        inv.on_observation(ts, &obs);
    }
    let assets = inv.assets();
    let server = assets.iter().find(|a| a.mac == Some(PLC)).expect("server");
    // The first key seen is kept, with its time.
    assert_eq!(server.identity.ssh_host_key.as_deref(), Some(ed25519));
    assert_eq!(server.identity.sources["ssh_host_key"].ts, t(3));
    let router = assets
        .iter()
        .find(|a| a.mac == Some(ROUTER))
        .expect("router");
    assert_eq!(router.identity.ssh_host_key, None);
}

#[test]
fn caps_are_counted_not_exceeded() {
    let mut inv = Inventory::new(InventoryConfig {
        max_macs: 2,
        ..InventoryConfig::default()
    });
    for n in 0..5u8 {
        inv.on_l2_frame(t(1), MacAddr([0, 0x1b, 0x1b, 0, 1, n]));
    }
    assert_eq!(inv.assets().len(), 2);
    assert_eq!(inv.stats().macs_dropped, 3);
}

#[test]
fn group_and_zero_macs_and_broadcast_addresses_are_not_devices() {
    let mut inv = Inventory::new(InventoryConfig::default());
    inv.on_flow_start(
        t(1),
        (ip(20), Some(HMI)),
        (IpAddr::V4(Ipv4Addr::BROADCAST), Some(MacAddr::BROADCAST)),
    );
    inv.on_l2_frame(t(1), MacAddr([0x01, 0x0c, 0xcd, 1, 0, 1]));
    let assets = inv.assets();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0].mac, Some(HMI));
}

#[test]
fn a_mac_carrying_addresses_of_two_subnets_is_a_router_leg() {
    // A router leg on the IT segment: it claims 10.10.4.1 and carries two DMZ hosts.
    let mut inv = Inventory::new(InventoryConfig::default());
    inv.on_arp(
        t(0),
        &ArpInfo {
            operation: 1,
            sender_mac: ROUTER,
            sender_ip: Ipv4Addr::new(10, 10, 4, 1),
            target_mac: MacAddr::default(),
            target_ip: Ipv4Addr::new(10, 10, 4, 10),
        },
    );
    let dmz = |n| IpAddr::V4(Ipv4Addr::new(10, 10, 3, n));
    for (n, host) in [(1, 10), (2, 20)] {
        inv.on_flow_start(t(n), (remote(10), Some(HMI)), (dmz(host), Some(ROUTER)));
        inv.on_flow_end(&flow((remote(10), HMI), (dmz(host), ROUTER), n + 1, None));
    }
    let assets = inv.assets();
    let router = assets
        .iter()
        .find(|a| a.mac == Some(ROUTER))
        .expect("router");
    assert!(router.is_gateway);
    assert_eq!(
        router.ips.iter().copied().collect::<Vec<_>>(),
        vec![remote(1)]
    );
    let ids: Vec<_> = assets.iter().map(|a| a.id.as_str()).collect();
    assert!(
        ids.contains(&"ip:10.10.3.10") && ids.contains(&"ip:10.10.3.20"),
        "{ids:?}"
    );
}

#[test]
fn scanned_addresses_behind_a_router_that_never_answer_are_not_assets() {
    let mut inv = Inventory::new(InventoryConfig::default());
    // A host on this segment probes 20 addresses in another subnet through the router;
    // only 10.10.4.7 answers.
    for n in 1..=20u8 {
        inv.on_flow_start(
            t(i64::from(n)),
            (ip(20), Some(HMI)),
            (remote(n), Some(ROUTER)),
        );
        let mut f = flow((ip(20), HMI), (remote(n), ROUTER), i64::from(n), None);
        f.packets_to_client = u64::from(n == 7);
        inv.on_flow_end(&f);
    }
    let ids: Vec<String> = inv.assets().into_iter().map(|a| a.id).collect();
    assert!(ids.contains(&"ip:10.10.4.7".to_string()), "{ids:?}");
    assert_eq!(
        ids.iter().filter(|id| id.starts_with("ip:")).count(),
        1,
        "{ids:?}"
    );
}

mod roles {
    use super::*;
    use dissect::{Event, OpClass};

    fn ev(src: IpAddr, dst: IpAddr, protocol: &'static str, op: OpClass, response: bool) -> Event {
        let mut e = Event::new(protocol, op, 1, "f", response);
        e.src_ip = Some(src);
        e.dst_ip = Some(dst);
        e
    }

    /// Feeds an event sent by the flow's client (`response` false) or server (true).
    fn feed(
        inv: &mut Inventory,
        src: IpAddr,
        dst: IpAddr,
        protocol: &'static str,
        op: OpClass,
        response: bool,
    ) {
        inv.on_event(&ev(src, dst, protocol, op, response), response);
    }

    fn role_of(inv: &Inventory, mac: MacAddr) -> Role {
        inv.assets()
            .into_iter()
            .find(|a| a.mac == Some(mac))
            .map(|a| a.role)
            .unwrap_or(Role::Unknown)
    }

    const EWS: MacAddr = MacAddr([0x00, 0x1a, 0xa0, 0, 0, 40]);
    const RTU: MacAddr = MacAddr([0x00, 0x02, 0xa3, 0, 0, 13]);

    #[test]
    fn roles_follow_behaviour_in_industrial_protocols() {
        let mut inv = Inventory::new(InventoryConfig::default());
        for (host, mac) in [(20, HMI), (10, PLC), (40, EWS), (13, RTU)] {
            inv.on_flow_start(t(0), (ip(host), Some(mac)), (ip(1), Some(ROUTER)));
        }
        // The HMI polls the PLC (Modbus) and the RTU (IEC 104); both answer.
        for (server, proto) in [(10, "modbus"), (13, "iec104")] {
            feed(&mut inv, ip(20), ip(server), proto, OpClass::Read, false);
            feed(&mut inv, ip(server), ip(20), proto, OpClass::Read, true);
        }
        // The workstation downloads a program block to the PLC.
        feed(&mut inv, ip(40), ip(10), "s7comm", OpClass::Program, false);
        assert_eq!(role_of(&inv, HMI), Role::Hmi);
        assert_eq!(role_of(&inv, PLC), Role::Plc);
        assert_eq!(role_of(&inv, RTU), Role::Rtu);
        assert_eq!(role_of(&inv, EWS), Role::EngineeringWorkstation);
    }

    #[test]
    fn a_master_confirming_unsolicited_data_is_no_outstation() {
        let mut inv = Inventory::new(InventoryConfig::default());
        inv.on_flow_start(t(0), (ip(20), Some(HMI)), (ip(13), Some(RTU)));
        // The outstation (flow server) sends spontaneous data; the master (client)
        // confirms it and polls.
        inv.on_event(&ev(ip(13), ip(20), "iec104", OpClass::Read, false), true);
        inv.on_event(&ev(ip(20), ip(13), "iec104", OpClass::Other, true), false);
        inv.on_event(&ev(ip(20), ip(13), "iec104", OpClass::Read, false), false);
        assert_eq!(role_of(&inv, RTU), Role::Rtu);
        assert_eq!(role_of(&inv, HMI), Role::Hmi);
    }

    #[test]
    fn an_opc_ua_server_polling_controllers_is_a_scada_server_and_its_reader_a_historian() {
        let mut inv = Inventory::new(InventoryConfig::default());
        let scada = MacAddr([0x3c, 0xec, 0xef, 0, 0, 1]);
        let historian = MacAddr([0x3c, 0x52, 0x82, 0, 0, 2]);
        inv.on_flow_start(t(0), (ip(30), Some(historian)), (ip(25), Some(scada)));
        inv.on_flow_start(t(0), (ip(25), Some(scada)), (ip(10), Some(PLC)));
        feed(&mut inv, ip(25), ip(10), "modbus", OpClass::Read, false);
        feed(&mut inv, ip(30), ip(25), "opcua", OpClass::Read, false);
        feed(&mut inv, ip(25), ip(30), "opcua", OpClass::Read, true);
        assert_eq!(role_of(&inv, scada), Role::ScadaServer);
        assert_eq!(role_of(&inv, historian), Role::Historian);
    }

    #[test]
    fn a_host_seen_only_in_it_protocols_is_an_it_host() {
        let mut inv = Inventory::new(InventoryConfig::default());
        inv.on_flow_start(t(0), (ip(20), Some(HMI)), (ip(10), Some(PLC)));
        inv.on_flow_end(&flow((ip(20), HMI), (ip(10), PLC), 5, Some("http")));
        assert_eq!(role_of(&inv, HMI), Role::ItHost);
        assert_eq!(role_of(&inv, PLC), Role::ItHost);
    }
}
