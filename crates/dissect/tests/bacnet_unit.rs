//! BACnet/IP on synthetic datagrams: BVLC and NPDU framing, services with their
//! objects, properties and values, invoke-id pairing, errors, rejects and aborts,
//! identity from I-Am and device properties, caps and selection.

use dissect::bacnet::{parser, BacnetDissector, BacnetFactory};
use dissect::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, FlowContext, IdentityField, Observation,
    OpClass, Status, Transport,
};
use std::net::{IpAddr, Ipv4Addr};

fn ctx(client_port: u16, server_port: u16) -> FlowContext {
    FlowContext {
        transport: Transport::Udp,
        vlan: None,
        client_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        client_port,
        client_mac: None,
        server_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        server_port,
        server_mac: None,
        ts: records::Timestamp(0),
    }
}

/// Original-Unicast-NPDU around a local (unrouted) APDU.
fn bvlc(apdu: &[u8]) -> Vec<u8> {
    let mut m = vec![0x81, 0x0A, 0, 0, 0x01, 0x04];
    m.extend_from_slice(apdu);
    let n = m.len() as u16;
    m[2..4].copy_from_slice(&n.to_be_bytes());
    m
}

fn objid(ctx_tag: Option<u8>, t: u32, inst: u32) -> Vec<u8> {
    let v = (t << 22) | inst;
    let first = match ctx_tag {
        Some(n) => (n << 4) | 0x08 | 4,
        None => 0xC4,
    };
    let mut m = vec![first];
    m.extend_from_slice(&v.to_be_bytes());
    m
}

fn confirmed(invoke: u8, service: u8, data: &[u8]) -> Vec<u8> {
    let mut m = vec![0x00, 0x05, invoke, service];
    m.extend_from_slice(data);
    m
}

fn run(msgs: &[(Direction, Vec<u8>)]) -> Emitter {
    let c = ctx(47808, 47808);
    let mut d = BacnetDissector::default();
    let mut out = Emitter::default();
    for (dir, m) in msgs {
        d.on_datagram(&c, *dir, m, &mut out);
    }
    out
}

#[test]
fn write_property_carries_object_property_value_and_priority() {
    // analog-value 3, present-value (85), REAL 21.5, priority 8.
    let mut data = objid(Some(0), 2, 3);
    data.extend_from_slice(&[0x19, 85, 0x3E, 0x44]);
    data.extend_from_slice(&21.5f32.to_be_bytes());
    data.extend_from_slice(&[0x3F, 0x49, 8]);
    let out = run(&[
        (Direction::ToServer, bvlc(&confirmed(7, 15, &data))),
        (Direction::ToClient, bvlc(&[0x20, 7, 15])),
    ]);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let req = &out.events[0];
    assert_eq!(req.function_name, "write_property");
    assert_eq!(req.op, OpClass::Write);
    assert_eq!(
        (req.targets[0].space.as_ref(), req.targets[0].start),
        ("analog_value", 3)
    );
    assert_eq!(req.values[0].value, 21.5);
    assert!(req
        .attrs
        .contains(&("property", Attr::Name("present_value"))));
    assert!(req.attrs.contains(&("priority", Attr::UInt(8))));
    let ack = &out.events[1];
    assert!(ack.is_response);
    assert_eq!(ack.status, Status::Ok);
    assert_eq!(ack.function_name, "write_property");
    assert_eq!(ack.targets[0].space, "analog_value");
}

#[test]
fn read_property_ack_pairs_and_reports_value_and_device_identity() {
    let mut req = objid(Some(0), 8, 1234);
    req.extend_from_slice(&[0x19, 121]); // vendor-name
    let mut ack = objid(Some(0), 8, 1234);
    ack.extend_from_slice(&[0x19, 121, 0x3E, 0x75, 8, 0]);
    ack.extend_from_slice(b"ACME BA");
    ack.push(0x3F);
    let mut cack = vec![0x30, 9, 12];
    cack.extend_from_slice(&ack);
    let out = run(&[
        (Direction::ToServer, bvlc(&confirmed(9, 12, &req))),
        (Direction::ToClient, bvlc(&cack)),
    ]);
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.events[1].targets[0].space, "device");
    assert_eq!(out.events[1].targets[0].start, 1234);
    assert!(out.observations.iter().any(|o| matches!(o,
        Observation::Identity { field: IdentityField::Vendor, value, ip, .. }
            if value == "ACME BA" && *ip == Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))))));
}

#[test]
fn read_property_multiple_lists_every_object_and_property() {
    let mut data = objid(Some(0), 0, 1);
    data.extend_from_slice(&[0x1E, 0x09, 85, 0x09, 77, 0x1F]);
    data.extend(objid(Some(0), 3, 2));
    data.extend_from_slice(&[0x1E, 0x09, 85, 0x1F]);
    let out = run(&[(Direction::ToServer, bvlc(&confirmed(1, 14, &data)))]);
    let e = &out.events[0];
    let t: Vec<(&str, u64)> = e
        .targets
        .iter()
        .map(|t| (t.space.as_ref(), t.start))
        .collect();
    assert_eq!(t, vec![("analog_input", 1), ("binary_input", 2)]);
    assert!(e.attrs.contains(&(
        "property",
        Attr::List(vec!["present_value".into(), "object_name".into()])
    )));
}

#[test]
fn reinitialize_device_is_control_and_errors_name_the_code() {
    // coldstart with a password.
    let data = [0x09, 0x00, 0x1D, 0x04, 0x00, b'p', b'w', b'd'];
    let err = [0x50, 3, 20, 0x91, 0x05, 0x91, 26];
    let out = run(&[
        (Direction::ToServer, bvlc(&confirmed(3, 20, &data))),
        (Direction::ToClient, bvlc(&err)),
    ]);
    let req = &out.events[0];
    assert_eq!(req.op, OpClass::Control);
    assert!(req
        .attrs
        .contains(&("state", Attr::Text("coldstart".into()))));
    assert!(req.attrs.contains(&("password", Attr::Bool(true))));
    let resp = &out.events[1];
    assert_eq!(
        resp.status,
        Status::Exception {
            code: 26,
            name: "password_failure".into()
        }
    );
    assert!(resp
        .attrs
        .contains(&("error_class", Attr::Text("services".into()))));
}

#[test]
fn reject_and_abort_take_the_service_of_their_request() {
    let out = run(&[
        (Direction::ToServer, bvlc(&confirmed(4, 17, &[0x19, 0x01]))),
        (Direction::ToClient, bvlc(&[0x60, 4, 9])),
        (
            Direction::ToServer,
            bvlc(&confirmed(5, 6, &objid(None, 10, 1))),
        ),
        (Direction::ToClient, bvlc(&[0x71, 5, 4])),
    ]);
    assert_eq!(out.events[1].function_name, "device_communication_control");
    assert_eq!(
        out.events[1].status,
        Status::Exception {
            code: 9,
            name: "unrecognized_service".into()
        }
    );
    assert_eq!(out.events[2].op, OpClass::Program);
    assert_eq!(out.events[3].function_name, "atomic_read_file");
    assert_eq!(out.events[3].targets[0].space, "file");
}

#[test]
fn i_am_gives_vendor_identity_and_who_is_limits() {
    let mut i_am = vec![0x10, 0x00];
    i_am.extend(objid(None, 8, 260001));
    i_am.extend_from_slice(&[0x22, 0x05, 0xC4, 0x91, 0x00, 0x21, 36]);
    let who_is = [0x10, 0x08, 0x09, 0x00, 0x1A, 0x0F, 0xFF];
    let out = run(&[
        (Direction::ToServer, bvlc(&who_is)),
        (Direction::ToClient, bvlc(&i_am)),
    ]);
    assert_eq!(out.events[0].op, OpClass::Identify);
    assert!(out.events[0]
        .attrs
        .contains(&("high_limit", Attr::UInt(4095))));
    let e = &out.events[1];
    assert!(e.attrs.contains(&("device_instance", Attr::UInt(260001))));
    assert!(e.attrs.contains(&("max_apdu", Attr::UInt(1476))));
    assert!(e
        .attrs
        .contains(&("segmentation", Attr::Text("both".into()))));
    assert!(out.observations.iter().any(|o| matches!(o,
        Observation::Identity { field: IdentityField::Vendor, value, .. } if value == "Tridium")));
}

#[test]
fn routed_npdu_gives_the_destination_network_as_unit_and_network_messages_are_named() {
    let mut m = vec![0x81, 0x0A, 0, 0, 0x01, 0x24, 0x00, 0x05, 0x01, 0x07, 0xFF];
    m.extend_from_slice(&confirmed(1, 12, &[0x0C, 0, 0, 0, 1, 0x19, 85]));
    let n = m.len() as u16;
    m[2..4].copy_from_slice(&n.to_be_bytes());
    let net = vec![0x81, 0x0B, 0, 8, 0x01, 0x80, 0x00, 0x00];
    let out = run(&[(Direction::ToServer, m), (Direction::ToServer, net)]);
    assert_eq!(out.events[0].unit, Some(5));
    assert_eq!(out.events[1].function_name, "who_is_router_to_network");
}

#[test]
fn malformed_datagrams_are_anomalies() {
    let out = run(&[
        (Direction::ToServer, vec![0x81, 0x0A, 0x00]),
        (
            Direction::ToServer,
            vec![0x81, 0x0A, 0x00, 0x06, 0x02, 0x00],
        ),
        // A tag claiming 200 bytes in a short message.
        (
            Direction::ToServer,
            bvlc(&confirmed(1, 12, &[0x0D, 200, 1])),
        ),
    ]);
    assert_eq!(out.anomalies.len(), 3, "{:?}", out.anomalies);
}

#[test]
fn unanswered_requests_are_capped() {
    let msgs: Vec<(Direction, Vec<u8>)> = (0..70u8)
        .map(|i| {
            (
                Direction::ToServer,
                bvlc(&confirmed(i, 12, &[0x0C, 0, 0, 0, 1, 0x19, 85])),
            )
        })
        .collect();
    let out = run(&msgs);
    assert_eq!(out.events.len(), 70);
    assert_eq!(out.anomalies.len(), 6);
}

#[test]
fn tags_are_bounded() {
    // A long run of nulls is read up to the cap, then stops without error.
    let data = vec![0x00; parser::MAX_TAGS * 2];
    assert_eq!(parser::Tags::new(&data).count(), parser::MAX_TAGS);
    assert!(parser::read_tag(&[0x0D, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
}

#[test]
fn probe_needs_consistent_bvlc_and_npdu() {
    let f = BacnetFactory;
    let good = bvlc(&[0x10, 0x08]);
    assert_eq!(f.probe(&ctx(47808, 47808), Direction::ToServer, &good), 3);
    assert_eq!(f.probe(&ctx(40000, 40001), Direction::ToServer, &good), 2);
    let mut bad_len = good.clone();
    bad_len[3] += 1;
    assert_eq!(
        f.probe(&ctx(40000, 40001), Direction::ToServer, &bad_len),
        0
    );
    let mut bad_version = good.clone();
    bad_version[4] = 2;
    assert_eq!(
        f.probe(&ctx(40000, 40001), Direction::ToServer, &bad_version),
        0
    );
    assert_eq!(
        f.probe(&ctx(47808, 47808), Direction::ToServer, b"hello"),
        1
    );
}
