//! MMS over ISO transport on captured and synthetic PDUs: the session/presentation/ACSE
//! path to the initiate PDU, confirmed services with names and pairing, identify as
//! device identity, written values, errors and rejects, and the same events whatever the
//! TCP segmentation.

use dissect::mms::{parse_pdu, session, MmsError, MmsState};
use dissect::s7comm::{IsoTransportDissector, Upper};
use dissect::{
    Direction, Dissector, Emitter, FlowContext, IdentityField, Observation, OpClass, Status,
    Transport,
};
use std::net::{IpAddr, Ipv4Addr};

fn ctx() -> FlowContext {
    FlowContext {
        transport: Transport::Tcp,
        vlan: None,
        client_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        client_port: 45298,
        client_mac: None,
        server_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        server_port: 102,
        server_mac: None,
        ts: records::Timestamp(0),
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const S: Direction = Direction::ToServer;
const C: Direction = Direction::ToClient;

/// The TCP payloads of emreekin setvalue.pcap (frames 4–18): CR, CC, session connect with
/// the initiate request, accept (malformed: its user-data parameter has length 0, as
/// tshark also reports), a read of the list $MU1$$$, its response, conclude, and a
/// response without a service.
fn setvalue() -> Vec<(Direction, Vec<u8>)> {
    vec![
        (S, hex("030000130ee00000000600c1020002c2020001")),
        (C, hex("0300001611d01801000400c1020002c2020200c0010a")),
        (S, hex("030000bb02f0800db20506130100160102140200023302000134020001c19c318199a003800101a28191810400000001820400000001a423300f0201010604520100013004060251013010020103060528ca22020130040602510188020600615a3058020101a053605180020780a107060528ca220203a20606042bce0f02a303020117be35283306025101020103a02aa82880027530810203e8820203e8830105a417800101810305fb00820d03ffffffffffffffffffffff00")),
        (C, hex("0300009102f0800e89050613010006010214020002c1003178a003800100a271830400000001a512300780010081025201300780010081025101880206006151304f020101a04a614880020780a107060528ca220203a203020100a305a103020100a40606042bce0f02a503020117be20281e020103a019a917800100810100820100830100a409800100810100820100")),
        (S, hex("0300002b02f08001000100611e301c020103a017a015020100a410800101a10ba1098007244d5531242424")),
        (C, hex("0300001d02f080010001006110300e020103a009a107020100a402a100")),
        (S, hex("0300001602f0800100010061093007020103a0028b00")),
        (C, hex("0300001902f08001000100610c300a020103a005a103020100")),
    ]
}

fn feed(d: &mut dyn Dissector, dir: Direction, chunks: &[&[u8]], out: &mut Emitter) {
    let mut buf = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        let n = d.on_stream(&ctx(), dir, &buf, out);
        buf.drain(..n);
    }
}

fn run(msgs: &[(Direction, Vec<u8>)]) -> (IsoTransportDissector, Emitter) {
    let mut d = IsoTransportDissector::new();
    let mut out = Emitter::default();
    for (dir, m) in msgs {
        feed(&mut d, *dir, &[m], &mut out);
    }
    (d, out)
}

#[test]
fn captured_association_read_and_conclude() {
    let (d, out) = run(&setvalue());
    assert_eq!(d.upper(), Upper::Mms);
    let mms: Vec<_> = out.events.iter().filter(|e| e.protocol == "mms").collect();
    let names: Vec<_> = mms.iter().map(|e| e.function_name.to_string()).collect();
    assert_eq!(
        names,
        [
            "initiate_request",
            "read",
            "read",
            "conclude_request",
            "confirmed_response"
        ]
    );
    assert_eq!(mms[0].op, OpClass::Session);
    assert_eq!(mms[0].function, 0x108);
    // localDetailCalling [0] 30000.
    assert_eq!(
        mms[0]
            .attrs
            .iter()
            .find(|(n, _)| *n == "max_pdu_size")
            .map(|(_, a)| a),
        Some(&dissect::Attr::UInt(30000))
    );
    assert_eq!((mms[1].function, mms[1].op), (4, OpClass::Read));
    assert_eq!(mms[1].targets[0].space, "varlist:$MU1$$$");
    assert!(mms[2].is_response);
    assert_eq!(mms[2].targets, mms[1].targets);
    assert_eq!(mms[2].status, Status::Ok);
    // The accept's malformed user data is reported, not dropped silently.
    assert_eq!(out.anomalies.len(), 1, "{:?}", out.anomalies);
}

#[test]
fn split_at_every_offset_and_byte_by_byte_gives_the_same_events() {
    let conv = setvalue();
    let (_, whole) = run(&conv);
    for (i, (dir, bytes)) in conv.iter().enumerate() {
        for cut in 1..bytes.len() {
            let mut d = IsoTransportDissector::new();
            let mut out = Emitter::default();
            for (j, (dj, bj)) in conv.iter().enumerate() {
                if i == j {
                    feed(&mut d, *dir, &[&bj[..cut], &bj[cut..]], &mut out);
                } else {
                    feed(&mut d, *dj, &[bj], &mut out);
                }
            }
            assert_eq!(out.events, whole.events, "message {i} split at {cut}");
        }
    }
    let mut d = IsoTransportDissector::new();
    let mut out = Emitter::default();
    for (dir, bytes) in &conv {
        let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
        feed(&mut d, *dir, &chunks, &mut out);
    }
    assert_eq!(out.events, whole.events);
}

/// BER element with a short or long length.
fn tlv(id: &[u8], content: &[u8]) -> Vec<u8> {
    let mut v = id.to_vec();
    if content.len() < 128 {
        v.push(content.len() as u8);
    } else {
        v.push(0x82);
        v.extend_from_slice(&(content.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(content);
    v
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

fn domain_item(dom: &str, item: &str) -> Vec<u8> {
    tlv(
        &[0xa1],
        &cat(&[tlv(&[0x1a], dom.as_bytes()), tlv(&[0x1a], item.as_bytes())]),
    )
}

#[test]
fn identify_response_is_device_identity() {
    let mut st = MmsState::default();
    let mut out = Emitter::default();
    let req = tlv(&[0xa0], &cat(&[tlv(&[0x02], &[9]), tlv(&[0x82], &[])]));
    let resp = tlv(
        &[0xa1],
        &cat(&[
            tlv(&[0x02], &[9]),
            tlv(
                &[0xa2],
                &cat(&[
                    tlv(&[0x80], b"ACME"),
                    tlv(&[0x81], b"IED-9000"),
                    tlv(&[0x82], b"2.1.0"),
                ]),
            ),
        ]),
    );
    st.on_pdu(&ctx(), S, &req, &mut out);
    st.on_pdu(&ctx(), C, &resp, &mut out);
    assert_eq!(out.events[0].op, OpClass::Identify);
    assert_eq!(out.events[1].function_name, "identify");
    let ids: Vec<_> = out
        .observations
        .iter()
        .map(|o| match o {
            Observation::Identity {
                field, value, ip, ..
            } => {
                assert_eq!(*ip, Some(ctx().server_ip));
                (*field, value.as_str())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        ids,
        [
            (IdentityField::Vendor, "ACME"),
            (IdentityField::Model, "IED-9000"),
            (IdentityField::Firmware, "2.1.0")
        ]
    );
}

#[test]
fn write_carries_names_and_values_and_errors_pair() {
    let mut st = MmsState::default();
    let mut out = Emitter::default();
    let var = |d: &str, i: &str| tlv(&[0x30], &tlv(&[0xa0], &domain_item(d, i)));
    let write = tlv(
        &[0xa0],
        &cat(&[
            tlv(&[0x02], &[0x01, 0x00]),
            tlv(
                &[0xa5],
                &cat(&[
                    tlv(
                        &[0xa0],
                        &cat(&[var("LD0", "XCBR1$CO$Pos$Oper"), var("LD0", "MMXU1$SP$Set")]),
                    ),
                    tlv(
                        &[0xa0],
                        &cat(&[
                            tlv(&[0x83], &[0xff]),
                            tlv(&[0x87], &[0x08, 0x42, 0x48, 0, 0]),
                        ]),
                    ),
                ]),
            ),
        ]),
    );
    st.on_pdu(&ctx(), S, &write, &mut out);
    let e = out.events[0].clone();
    assert_eq!(
        (e.function, &*e.function_name, e.op),
        (5, "write", OpClass::Write)
    );
    let spaces: Vec<_> = e.targets.iter().map(|t| t.space.to_string()).collect();
    assert_eq!(
        spaces,
        ["var:LD0/XCBR1$CO$Pos$Oper", "var:LD0/MMXU1$SP$Set"]
    );
    let vals: Vec<_> = e
        .values
        .iter()
        .map(|v| (v.space.to_string(), v.value))
        .collect();
    assert_eq!(
        vals,
        [
            ("var:LD0/XCBR1$CO$Pos$Oper".into(), 1.0),
            ("var:LD0/MMXU1$SP$Set".into(), 50.0)
        ]
    );
    // confirmed-ErrorPDU: invoke id [0], serviceError [2] { errorClass [0] { access [7] 3 } }.
    let err = tlv(
        &[0xa2],
        &cat(&[
            tlv(&[0x80], &[0x01, 0x00]),
            tlv(&[0xa2], &tlv(&[0xa0], &tlv(&[0x87], &[3]))),
        ]),
    );
    st.on_pdu(&ctx(), C, &err, &mut out);
    let r = &out.events[1];
    assert_eq!((&*r.function_name, r.is_response), ("write", true));
    assert_eq!(
        r.status,
        Status::Exception {
            code: 0x703,
            name: "access".into()
        }
    );
    assert_eq!(r.targets, e.targets);
}

#[test]
fn control_services_reject_and_information_report() {
    let mut st = MmsState::default();
    let mut out = Emitter::default();
    for (id, tag) in [(1u8, 0x41u8), (2, 0x43)] {
        // stop [41] and reset [43]: long-form tags 0xbf 0x29 / 0xbf 0x2b.
        let pdu = tlv(
            &[0xa0],
            &cat(&[
                tlv(&[0x02], &[id]),
                tlv(&[0xbf, tag - 0x18], &tlv(&[0x80], b"P1")),
            ]),
        );
        st.on_pdu(&ctx(), S, &pdu, &mut out);
    }
    let e: Vec<_> = out
        .events
        .iter()
        .map(|e| (e.function, e.function_name.to_string(), e.op))
        .collect();
    assert_eq!(
        e,
        [
            (41, "stop".into(), OpClass::Control),
            (43, "reset".into(), OpClass::Control)
        ]
    );
    let reject = tlv(&[0xa4], &cat(&[tlv(&[0x80], &[1]), tlv(&[0x81], &[1])]));
    st.on_pdu(&ctx(), C, &reject, &mut out);
    assert_eq!(out.events[2].function_name, "reject");
    assert!(matches!(out.events[2].status, Status::Exception { .. }));
    let report = tlv(
        &[0xa3],
        &tlv(
            &[0xa0],
            &cat(&[
                tlv(&[0xa1], &tlv(&[0x80], b"RPT")),
                tlv(&[0xa0], &tlv(&[0x85], &[1])),
            ]),
        ),
    );
    st.on_pdu(&ctx(), C, &report, &mut out);
    assert_eq!(
        (out.events[3].function, &*out.events[3].function_name),
        (0x200, "information_report")
    );
    assert_eq!(out.events[3].targets[0].space, "varlist:RPT");
}

#[test]
fn malformed_pdus_are_errors_not_panics() {
    assert_eq!(parse_pdu(&[0x30, 0x00]), Err(MmsError::NotMms(0x30)));
    assert_eq!(parse_pdu(&[0xa0, 0x05, 0x02]), Err(MmsError::BadEncoding));
    assert_eq!(
        parse_pdu(&[0xa0, 0x02, 0x02, 0x00]),
        Err(MmsError::MissingField)
    );
    // Indefinite and over-long lengths are refused.
    assert_eq!(
        parse_pdu(&[0xa0, 0x80, 0x00, 0x00]),
        Err(MmsError::BadEncoding)
    );
    assert_eq!(
        parse_pdu(&[0xa0, 0x85, 1, 1, 1, 1, 1]),
        Err(MmsError::BadEncoding)
    );
    assert!(!session::looks_like_spdu(&[0x0d, 0x10, 0x00]));
    assert!(session::looks_like_spdu(&[0x01, 0x00, 0x01, 0x00, 0x61]));
}
