//! Layer-2 dissection: Profinet DCP and alarms, cyclic Profinet and Sampled Values
//! counting, GOOSE state tracking.

use dissect::l2::{L2Frame, L2State};
use dissect::{Attr, Emitter, IdentityField, Observation, OpClass, Status};
use records::Timestamp;
use wire::MacAddr;

const DEVICE: MacAddr = MacAddr([0x00, 0x1b, 0x1b, 0x35, 0x84, 0x10]);
const TOOL: MacAddr = MacAddr([0x00, 0x0c, 0x29, 0xba, 0x09, 0xea]);

fn frame(ethertype: u16, src: MacAddr, dst: MacAddr, payload: &[u8]) -> L2Frame<'_> {
    L2Frame {
        ts: Timestamp::from_parts(1_700_000_000, 0),
        ethertype,
        src_mac: src,
        dst_mac: dst,
        vlan: Some(5),
        payload,
    }
}

fn block(option: u8, sub: u8, qualifier: Option<u16>, value: &[u8]) -> Vec<u8> {
    let len = value.len() + if qualifier.is_some() { 2 } else { 0 };
    let mut b = vec![option, sub];
    b.extend_from_slice(&(len as u16).to_be_bytes());
    if let Some(q) = qualifier {
        b.extend_from_slice(&q.to_be_bytes());
    }
    b.extend_from_slice(value);
    if len % 2 == 1 {
        b.push(0);
    }
    b
}

fn dcp(frame_id: u16, service: u8, service_type: u8, xid: u32, blocks: &[Vec<u8>]) -> Vec<u8> {
    let data: Vec<u8> = blocks.concat();
    let mut p = frame_id.to_be_bytes().to_vec();
    p.extend_from_slice(&[service, service_type]);
    p.extend_from_slice(&xid.to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&(data.len() as u16).to_be_bytes());
    p.extend(data);
    p
}

fn run(state: &mut L2State, frames: &[L2Frame<'_>]) -> Emitter {
    let mut out = Emitter::default();
    for f in frames {
        state.dissect(f, &mut out);
    }
    out
}

#[test]
fn identify_response_gives_station_name_ids_and_ip_parameters() {
    let payload = dcp(
        0xFEFF,
        5,
        1,
        0x0100_0001,
        &[
            block(2, 1, Some(0), b"S7-300"),
            block(2, 2, Some(0), b"plc-line-1"),
            block(2, 3, Some(0), &[0x00, 0x2A, 0x01, 0x0A]),
            block(2, 4, Some(0), &[0x01, 0x00]),
            block(
                1,
                2,
                Some(1),
                &[192, 168, 0, 6, 255, 255, 255, 0, 192, 168, 0, 1],
            ),
        ],
    );
    let mut st = L2State::default();
    let out = run(&mut st, &[frame(0x8892, DEVICE, TOOL, &payload)]);
    let e = &out.events[0];
    assert_eq!(
        (e.protocol, e.op, &*e.function_name, e.is_response),
        ("profinet_dcp", OpClass::Identify, "identify", true)
    );
    assert_eq!(
        (e.src_mac, e.dst_mac, e.vlan, e.src_ip),
        (Some(DEVICE), Some(TOOL), Some(5), None)
    );
    for (k, v) in [
        ("name_of_station", Attr::Text("plc-line-1".into())),
        ("vendor_id", Attr::UInt(0x2A)),
        ("device_id", Attr::UInt(0x10A)),
        ("device_role", Attr::List(vec!["io_device".into()])),
        ("ip", Attr::Text("192.168.0.6".into())),
        ("gateway", Attr::Text("192.168.0.1".into())),
    ] {
        assert!(e.attrs.contains(&(k, v.clone())), "{k} in {:?}", e.attrs);
    }
    let ids: Vec<(IdentityField, &str)> = out
        .observations
        .iter()
        .filter_map(|o| match o {
            Observation::Identity {
                field,
                value,
                mac,
                ip,
                ..
            } => {
                assert_eq!((*mac, *ip), (Some(DEVICE), None));
                Some((*field, value.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        ids,
        [
            (IdentityField::Model, "vendor-0x002a/device-0x010a"),
            (IdentityField::Vendor, "Siemens"),
            (IdentityField::Product, "S7-300")
        ]
    );
}

#[test]
fn set_name_and_factory_reset_are_control_and_a_refusal_is_an_exception() {
    let set = dcp(
        0xFEFD,
        4,
        0,
        7,
        &[block(2, 2, Some(1), b"rogue"), block(5, 6, Some(1), &[])],
    );
    let refused = dcp(0xFEFD, 4, 1, 7, &[block(5, 4, None, &[2, 2, 3])]);
    let mut st = L2State::default();
    let out = run(
        &mut st,
        &[
            frame(0x8892, TOOL, DEVICE, &set),
            frame(0x8892, DEVICE, TOOL, &refused),
        ],
    );
    let [req, rsp] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (req.op, &*req.function_name, req.is_response),
        (OpClass::Control, "set", false)
    );
    assert!(req
        .attrs
        .contains(&("name_of_station", Attr::Text("rogue".into()))));
    assert!(req.attrs.contains(&(
        "options",
        Attr::List(vec!["name_of_station".into(), "reset_to_factory".into()])
    )));
    assert_eq!(
        rsp.status,
        Status::Exception {
            code: 3,
            name: "suboption_not_set".into()
        }
    );
    assert_eq!(
        (&*rsp.targets[0].space, rsp.targets[0].start),
        ("dcp_option", 0x0202)
    );
    assert!(
        out.observations.is_empty(),
        "a Set request announces nothing about its sender"
    );
}

#[test]
fn cyclic_profinet_and_sampled_values_are_counted_without_events() {
    let mut st = L2State::default();
    let cyclic = [0x80u8, 0x00, 1, 2, 3, 4];
    let frames: Vec<L2Frame<'_>> = (0..1000)
        .map(|i| {
            if i % 2 == 0 {
                frame(0x8892, DEVICE, TOOL, &cyclic)
            } else {
                frame(0x88BA, DEVICE, TOOL, &[0x40, 0, 0, 8, 0, 0, 0, 0])
            }
        })
        .collect();
    let out = run(&mut st, &frames);
    assert!(out.is_empty());
    assert_eq!(
        (st.counters.profinet_cyclic, st.counters.sampled_values),
        (500, 500)
    );
}

#[test]
fn an_alarm_frame_is_one_event_with_slot_and_subslot() {
    let mut p = vec![0xFC, 0x01, 0, 1, 0, 2, 0x11, 0, 0, 5, 0xFF, 0xFF, 0, 28];
    // Alarm notification high: type, length, version, alarm type 1 (diagnosis), API, slot 3, subslot 1.
    p.extend_from_slice(&[0, 1, 0, 24, 1, 0, 0, 1, 0, 0, 0, 0, 0, 3, 0, 1]);
    let mut st = L2State::default();
    let out = run(&mut st, &[frame(0x8892, DEVICE, TOOL, &p)]);
    let e = &out.events[0];
    assert_eq!(
        (e.protocol, &*e.function_name, e.op),
        ("profinet_alarm", "alarm_data", OpClass::Diagnostic)
    );
    assert!(
        e.attrs.contains(&("slot", Attr::UInt(3))) && e.attrs.contains(&("subslot", Attr::UInt(1)))
    );
}

fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    if value.len() < 128 {
        v.push(value.len() as u8);
    } else {
        v.extend_from_slice(&[0x81, value.len() as u8]);
    }
    v.extend_from_slice(value);
    v
}

fn goose(st: u8, sq: u8, breaker_closed: bool) -> Vec<u8> {
    let mut data = tlv(0x83, &[u8::from(breaker_closed)]);
    data.extend(tlv(0x85, &[0xFB])); // -5
    data.extend(tlv(
        0x87,
        &[[8u8].as_slice(), &1.5f32.to_be_bytes()].concat(),
    ));
    let mut pdu = tlv(0x80, b"IED1LD0/LLN0$GO$gcb1");
    pdu.extend(tlv(0x81, &[0x07, 0xD0]));
    pdu.extend(tlv(0x82, b"IED1LD0/LLN0$DS1"));
    pdu.extend(tlv(0x83, b"IED1_GOOSE1"));
    pdu.extend(tlv(0x84, &[0x65, 0x5F, 0x00, 0x00, 0, 0, 0, 0x0A]));
    pdu.extend(tlv(0x85, &[st]));
    pdu.extend(tlv(0x86, &[sq]));
    pdu.extend(tlv(0x87, &[0]));
    pdu.extend(tlv(0x88, &[1]));
    pdu.extend(tlv(0x89, &[0]));
    pdu.extend(tlv(0x8A, &[3]));
    pdu.extend(tlv(0xAB, &data));
    let apdu = tlv(0x61, &pdu);
    let mut p = vec![0x00, 0x01];
    p.extend_from_slice(&(8 + apdu.len() as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0]);
    p.extend(apdu);
    p
}

const MCAST: MacAddr = MacAddr([0x01, 0x0c, 0xcd, 0x01, 0x00, 0x01]);

#[test]
fn goose_events_only_on_first_sight_and_state_changes() {
    let frames: Vec<Vec<u8>> = vec![
        goose(1, 0, false),
        goose(1, 1, false),
        goose(1, 2, false),
        goose(2, 0, true),
        goose(2, 1, true),
    ];
    let mut st = L2State::default();
    let l2: Vec<L2Frame<'_>> = frames
        .iter()
        .map(|p| frame(0x88B8, DEVICE, MCAST, p))
        .collect();
    let out = run(&mut st, &l2);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let got: Vec<(u32, Option<u32>)> = out.events.iter().map(|e| (e.function, e.unit)).collect();
    assert_eq!(got, [(1, Some(1)), (1, Some(1))]);
    assert!(out.events[0]
        .attrs
        .contains(&("state_change", Attr::Bool(false))));
    let change = &out.events[1];
    assert!(change.attrs.contains(&("state_change", Attr::Bool(true))));
    assert!(change.attrs.contains(&("st_num", Attr::UInt(2))));
    assert!(change
        .attrs
        .contains(&("gocb_ref", Attr::Text("IED1LD0/LLN0$GO$gcb1".into()))));
    assert_eq!(change.op, OpClass::Other);
    assert_eq!(
        (&*change.targets[0].space, change.targets[0].count),
        ("dataset:IED1LD0/LLN0$DS1", 3)
    );
    let values: Vec<(u64, f64)> = change.values.iter().map(|v| (v.address, v.value)).collect();
    assert_eq!(values, [(0, 1.0), (1, -5.0), (2, 1.5)]);
    assert_eq!(st.counters.goose_retransmissions, 3);
}

#[test]
fn goose_state_going_backwards_and_sequence_gaps_are_anomalies() {
    let frames: Vec<Vec<u8>> = vec![
        goose(5, 0, false),
        goose(5, 3, false),
        goose(5, 3, false),
        goose(3, 0, true),
    ];
    let mut st = L2State::default();
    let l2: Vec<L2Frame<'_>> = frames
        .iter()
        .map(|p| frame(0x88B8, DEVICE, MCAST, p))
        .collect();
    let out = run(&mut st, &l2);
    assert_eq!(out.anomalies.len(), 2, "{:?}", out.anomalies);
    assert!(out.anomalies[0].1.contains("sqNum 3 after 0"));
    assert!(out.anomalies[1]
        .1
        .contains("stNum went backwards from 5 to 3"));
    assert_eq!(st.counters.goose_duplicates, 1);
    assert_eq!(out.events.len(), 2);
}

#[test]
fn malformed_goose_is_an_anomaly_and_other_ethertypes_cost_nothing() {
    let mut bad = goose(1, 0, false);
    bad.truncate(30);
    let mut st = L2State::default();
    let out = run(
        &mut st,
        &[
            frame(0x88B8, DEVICE, MCAST, &bad),
            frame(0x88CC, DEVICE, MCAST, &[1, 2, 3]),
        ],
    );
    assert!(out.events.is_empty());
    assert_eq!(out.anomalies.len(), 1);
    let mut out = Emitter::default();
    dissect::l2::dissect_frame(&frame(0x9000, DEVICE, MCAST, &[0; 40]), &mut out);
    assert!(out.is_empty());
}
