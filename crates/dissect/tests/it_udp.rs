//! NTP and SNMP dissectors on synthetic datagrams.

mod it_util;

use dissect::ntp::{self, NtpDissector, NtpFactory};
use dissect::snmp::{parser as snmp_parser, SnmpDissector, SnmpFactory};
use dissect::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, IdentityField, NameSource, Observation,
    OpClass, Status, Transport,
};
use it_util::{attr, ctx, json, text};

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

fn ntp_packet(first: u8, stratum: u8, refid: [u8; 4], transmit_secs: u32) -> Vec<u8> {
    let mut p = vec![0u8; 48];
    p[0] = first;
    p[1] = stratum;
    p[12..16].copy_from_slice(&refid);
    p[40..44].copy_from_slice(&transmit_secs.to_be_bytes());
    p
}

#[test]
fn ntp_client_request_and_server_reply() {
    let c = ctx(Transport::Udp, 40000, 123);
    let mut d = NtpDissector::new();
    let mut out = Emitter::default();
    // Version 4 client; transmit 2024-01-01T00:00:00Z = NTP 3913056000.
    d.on_datagram(&c, C, &ntp_packet(0x23, 0, [0; 4], 3_913_056_000), &mut out);
    d.on_datagram(
        &c,
        S,
        &ntp_packet(0x24, 1, *b"GPS\0", 3_913_056_000),
        &mut out,
    );
    d.on_datagram(&c, S, &ntp_packet(0x24, 0, *b"RATE", 0), &mut out);
    let [req, resp, kod] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (req.function, &*req.function_name, req.op, req.is_response),
        (3, "client", OpClass::Read, false)
    );
    assert_eq!(attr(req, "version"), Some(&Attr::UInt(4)));
    assert_eq!(text(req, "transmit_time"), "2024-01-01T00:00:00.000000Z");
    assert_eq!((resp.function, resp.is_response), (4, true));
    assert_eq!(attr(resp, "stratum"), Some(&Attr::UInt(1)));
    assert_eq!(text(resp, "reference_id"), "GPS");
    assert_eq!(resp.status, Status::Ok);
    assert!(matches!(&kod.status, Status::Exception { name, .. } if name == "kiss_rate"));
}

#[test]
fn ntp_monlist_and_control_queries_are_flagged() {
    let c = ctx(Transport::Udp, 40000, 123);
    let mut out = Emitter::default();
    let mut d = NtpDissector::new();
    // Mode 7, version 2, implementation 3, request 42 (MON_GETLIST_1).
    d.on_datagram(&c, C, &[0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0], &mut out);
    // Mode 6 read variables, sequence 1.
    d.on_datagram(
        &c,
        C,
        &[0x16, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0],
        &mut out,
    );
    // Mode 6 response with the error bit.
    d.on_datagram(
        &c,
        S,
        &[0x16, 0xc2, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0],
        &mut out,
    );
    let [m7, m6, m6r] = &out.events[..] else {
        panic!()
    };
    assert_eq!((m7.function, &*m7.function_name), (7, "private"));
    assert_eq!(attr(m7, "monlist"), Some(&Attr::Bool(true)));
    assert_eq!(text(m7, "request"), "mon_getlist_1");
    assert_eq!(text(m6, "control_op"), "read_variables");
    assert_eq!(m6.op, OpClass::Diagnostic);
    assert!(m6r.is_response);
    assert!(matches!(m6r.status, Status::Exception { .. }));
}

#[test]
fn ntp_short_or_wrong_version_is_an_anomaly() {
    let c = ctx(Transport::Udp, 40000, 123);
    let mut out = Emitter::default();
    NtpDissector::new().on_datagram(&c, C, &[0x23, 0, 0], &mut out);
    NtpDissector::new().on_datagram(&c, C, &ntp_packet(0x3b, 0, [0; 4], 0), &mut out);
    assert_eq!(out.anomalies.len(), 2);
    assert!(out.events.is_empty());
    assert_eq!(NtpFactory.probe(&c, C, &ntp_packet(0x23, 0, [0; 4], 0)), 3);
    assert_eq!(
        NtpFactory.probe(
            &ctx(Transport::Udp, 40000, 124),
            C,
            &ntp_packet(0x23, 0, [0; 4], 0)
        ),
        0
    );
}

#[test]
fn ntp_time_text_handles_era_rollover() {
    // 2036-02-07T06:28:16Z is NTP second 0 of era 1.
    assert_eq!(ntp::ntp_time_text(0), "2036-02-07T06:28:16.000000Z");
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    if body.len() < 128 {
        v.push(body.len() as u8);
    } else {
        v.push(0x82);
        v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

fn int(v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut start = 0;
    while start < 7
        && ((b[start] == 0 && b[start + 1] & 0x80 == 0)
            || (b[start] == 0xff && b[start + 1] & 0x80 != 0))
    {
        start += 1;
    }
    tlv(0x02, &b[start..])
}

fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &a in &arcs[2..] {
        let mut groups = vec![(a & 0x7f) as u8];
        let mut x = a >> 7;
        while x > 0 {
            groups.push((x & 0x7f) as u8 | 0x80);
            x >>= 7;
        }
        groups.reverse();
        body.extend(groups);
    }
    tlv(0x06, &body)
}

fn v2c(pdu_tag: u8, request_id: i64, error: i64, varbinds: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let vbs: Vec<u8> = varbinds
        .iter()
        .flat_map(|(o, v)| tlv(0x30, &[oid(o), v.clone()].concat()))
        .collect();
    let pdu = tlv(
        pdu_tag,
        &[int(request_id), int(error), int(0), tlv(0x30, &vbs)].concat(),
    );
    tlv(
        0x30,
        &[int(1), tlv(0x04, b"s3cr3t-community"), pdu].concat(),
    )
}

#[test]
fn snmp_get_and_response_with_system_description() {
    let c = ctx(Transport::Udp, 40000, 161);
    let mut d = SnmpDissector::new();
    let mut out = Emitter::default();
    let null = vec![0x05, 0x00];
    d.on_datagram(
        &c,
        C,
        &v2c(
            0xa0,
            77,
            0,
            &[
                ("1.3.6.1.2.1.1.1.0", null.clone()),
                ("1.3.6.1.2.1.1.5.0", null),
            ],
        ),
        &mut out,
    );
    d.on_datagram(
        &c,
        S,
        &v2c(
            0xa2,
            77,
            0,
            &[
                ("1.3.6.1.2.1.1.1.0", tlv(0x04, b"Siemens SCALANCE X208")),
                ("1.3.6.1.2.1.1.5.0", tlv(0x04, b"switch-3")),
                ("1.3.6.1.2.1.1.3.0", tlv(0x43, &[0x01, 0x00])),
            ],
        ),
        &mut out,
    );
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let [req, resp] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (req.function, &*req.function_name, req.op),
        (0, "get_request", OpClass::Read)
    );
    assert_eq!(text(req, "version"), "2c");
    assert_eq!(attr(req, "community_present"), Some(&Attr::Bool(true)));
    assert_eq!(req.targets.len(), 2);
    assert_eq!(req.targets[0].space, "oid:1.3.6.1.2.1.1.1.0");
    // The response carries its request's function.
    assert_eq!(
        (resp.function, &*resp.function_name, resp.is_response),
        (0, "get_request", true)
    );
    assert_eq!(text(resp, "pdu"), "response");
    assert_eq!(text(resp, "sys_name"), "switch-3");
    assert_eq!(resp.values.len(), 1);
    assert_eq!(
        (&*resp.values[0].space, resp.values[0].value),
        ("oid:1.3.6.1.2.1.1.3.0", 256.0)
    );
    assert_eq!(
        out.observations,
        [
            Observation::Identity {
                ip: Some(c.server_ip),
                mac: None,
                field: IdentityField::Product,
                value: "Siemens SCALANCE X208".into(),
                source: "snmp",
            },
            Observation::Hostname {
                ip: Some(c.server_ip),
                mac: None,
                name: "switch-3".into(),
                source: NameSource::Snmp,
            }
        ]
    );
    assert!(
        !json(&out).contains("s3cr3t"),
        "the community never appears in output"
    );
}

#[test]
fn snmp_set_is_a_write_with_values_and_errors_pair() {
    let c = ctx(Transport::Udp, 40000, 161);
    let mut d = SnmpDissector::new();
    let mut out = Emitter::default();
    d.on_datagram(
        &c,
        C,
        &v2c(0xa3, -5, 0, &[("1.3.6.1.4.1.9.2.1.55.10", int(-1234))]),
        &mut out,
    );
    d.on_datagram(
        &c,
        S,
        &v2c(0xa2, -5, 17, &[("1.3.6.1.4.1.9.2.1.55.10", int(-1234))]),
        &mut out,
    );
    let [set, resp] = &out.events[..] else {
        panic!()
    };
    assert_eq!((set.function, set.op), (3, OpClass::Write));
    assert_eq!(set.values[0].value, -1234.0);
    assert_eq!(resp.function, 3);
    assert_eq!(
        resp.status,
        Status::Exception {
            code: 17,
            name: "not_writable".into()
        }
    );
}

#[test]
fn snmp_v1_trap_and_v3_user() {
    let c = ctx(Transport::Udp, 40000, 162);
    let mut out = Emitter::default();
    let trap_pdu = tlv(
        0xa4,
        &[
            oid("1.3.6.1.4.1.311"),
            tlv(0x40, &[10, 0, 0, 2]),
            int(6),
            int(1),
            tlv(0x43, &[5]),
            tlv(0x30, &[]),
        ]
        .concat(),
    );
    let trap = tlv(0x30, &[int(0), tlv(0x04, b"public"), trap_pdu].concat());
    SnmpDissector::new().on_datagram(&c, C, &trap, &mut out);
    let usm = tlv(
        0x30,
        &[
            tlv(0x04, &[0x80, 0, 0x1f, 0x88]),
            int(3),
            int(100),
            tlv(0x04, b"opsuser"),
            tlv(0x04, &[]),
            tlv(0x04, &[]),
        ]
        .concat(),
    );
    let global = tlv(
        0x30,
        &[int(9), int(65507), tlv(0x04, &[0x04]), int(3)].concat(),
    );
    let scoped = tlv(
        0x30,
        &[
            tlv(0x04, &[]),
            tlv(0x04, &[]),
            tlv(0xa1, &[int(9), int(0), int(0), tlv(0x30, &[])].concat()),
        ]
        .concat(),
    );
    let v3 = tlv(0x30, &[int(3), global, tlv(0x04, &usm), scoped].concat());
    SnmpDissector::new().on_datagram(&c, C, &v3, &mut out);
    let enc = tlv(
        0x30,
        &[
            int(3),
            tlv(
                0x30,
                &[int(9), int(65507), tlv(0x04, &[0x07]), int(3)].concat(),
            ),
            tlv(0x04, &usm),
            tlv(0x04, &[1, 2, 3]),
        ]
        .concat(),
    );
    SnmpDissector::new().on_datagram(&c, C, &enc, &mut out);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let [t, v, e] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!((t.function, &*t.function_name), (4, "trap"));
    assert_eq!(text(t, "enterprise"), "1.3.6.1.4.1.311");
    assert_eq!(text(v, "version"), "3");
    assert_eq!(text(v, "user"), "opsuser");
    assert_eq!(text(v, "engine_id"), "80001f88");
    assert_eq!(v.function_name, "get_next_request");
    assert_eq!((e.function, &*e.function_name), (255, "encrypted_pdu"));
}

#[test]
fn snmp_malformed_ber_is_an_anomaly_never_a_panic() {
    let c = ctx(Transport::Udp, 40000, 161);
    let good = v2c(0xa0, 1, 0, &[("1.3.6.1.2.1.1.1.0", vec![5, 0])]);
    let mut out = Emitter::default();
    for cut in 0..good.len() {
        SnmpDissector::new().on_datagram(&c, C, &good[..cut], &mut out);
    }
    assert_eq!(out.anomalies.len(), good.len());
    assert!(snmp_parser::oid_text(&[
        0x2b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
    ])
    .is_err());
    assert_eq!(snmp_parser::oid_text(&[0x2b, 6, 1]).unwrap(), "1.3.6.1");
    assert_eq!(
        SnmpFactory.probe(&ctx(Transport::Udp, 40000, 9999), C, &good),
        2
    );
    assert_eq!(
        SnmpFactory.probe(&ctx(Transport::Udp, 40000, 9999), C, &[0x30, 3, 2, 1, 7]),
        0
    );
}
