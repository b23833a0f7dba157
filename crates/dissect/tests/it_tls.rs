//! TLS dissector: hello parsing, JA4, certificate names, record/segment reassembly.

mod it_util;

use dissect::tls::{parser, TlsDissector, TlsFactory};
use dissect::{Attr, Direction, Dissector, DissectorFactory, Status, Transport};
use it_util::{assert_split_invariant, attr, ctx, feed, text, whole};

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

/// A certificate for CN=hmi-7.plant.local issued by CN=Plant Root CA (made with openssl
/// for this test).
const CERT_HEX: &str = "3082013d3081e502146e6b5b75924e14bb817353b5b5aa23bc34f6d44c300a06082a8648ce3d04030230183116301406035504030c0d506c616e7420526f6f74204341301e170d3236313132383038353831395a170d3236313232383038353831395a302c310e300c060355040a0c05506c616e74311a301806035504030c11686d692d372e706c616e742e6c6f63616c3059301306072a8648ce3d020106082a8648ce3d030107034200049b56271a40811999a49163743c95666b7ab86901039d5023e0cb5f2b180629d9584e66aa568e99f0203b0e9859756fcda0441ff014061f2eccf5832396703df3300a06082a8648ce3d040302034700304402207dd1cc88d6afc937f3975c6f9c5467d73a738d982201a94afff86294b740b6570220582bf16f0c9ebe825e6a177e95d863e464508b9b1a84eede1eb5a9f82e9bff30";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn u16b(v: u16) -> [u8; 2] {
    v.to_be_bytes()
}

fn vec16(body: &[u8]) -> Vec<u8> {
    let mut v = u16b(body.len() as u16).to_vec();
    v.extend_from_slice(body);
    v
}

fn u24(n: usize) -> [u8; 3] {
    [(n >> 16) as u8, (n >> 8) as u8, n as u8]
}

fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty];
    v.extend_from_slice(&u24(body.len()));
    v.extend_from_slice(body);
    v
}

fn record(ty: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![ty, 3, 1];
    v.extend_from_slice(&u16b(payload.len() as u16));
    v.extend_from_slice(payload);
    v
}

fn ext(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut v = u16b(ty).to_vec();
    v.extend_from_slice(&vec16(data));
    v
}

/// Chrome-like ClientHello of the JA4 README example, with GREASE values added.
fn chrome_hello() -> Vec<u8> {
    let ciphers: [u16; 16] = [
        0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
        0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
    ];
    let mut body = u16b(0x0303).to_vec();
    body.extend_from_slice(&[7; 32]);
    body.push(0);
    body.extend_from_slice(&vec16(
        &ciphers.iter().flat_map(|c| u16b(*c)).collect::<Vec<_>>(),
    ));
    body.extend_from_slice(&[1, 0]);
    let mut sni = vec![0];
    sni.extend_from_slice(&vec16(b"plc-7.plant.local"));
    let sigs: [u16; 8] = [
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    ];
    let alpn = {
        let mut l = vec![2];
        l.extend_from_slice(b"h2");
        l.push(8);
        l.extend_from_slice(b"http/1.1");
        vec16(&l)
    };
    let exts: Vec<Vec<u8>> = vec![
        ext(0x2a2a, &[]),
        ext(0x0000, &vec16(&sni)),
        ext(0x0017, &[]),
        ext(0xff01, &[0]),
        ext(0x000a, &vec16(&[0x00, 0x1d])),
        ext(0x000b, &[1, 0]),
        ext(0x0023, &[]),
        ext(0x0010, &alpn),
        ext(0x0005, &[1, 0, 0, 0, 0]),
        ext(
            0x000d,
            &vec16(&sigs.iter().flat_map(|c| u16b(*c)).collect::<Vec<_>>()),
        ),
        ext(0x0012, &[]),
        ext(0x0033, &vec16(&[])),
        ext(0x002d, &[1, 1]),
        ext(0x002b, &[6, 0x1a, 0x1a, 3, 4, 3, 3]),
        ext(0x001b, &[2, 0, 2]),
        ext(0x4469, &[]),
        ext(0x3a3a, &[0]),
        ext(0x0015, &[0; 8]),
    ];
    body.extend_from_slice(&vec16(&exts.concat()));
    handshake(1, &body)
}

fn server_hello(version_ext: Option<u16>, cipher: u16) -> Vec<u8> {
    let mut body = u16b(0x0303).to_vec();
    body.extend_from_slice(&[9; 32]);
    body.push(0);
    body.extend_from_slice(&u16b(cipher));
    body.push(0);
    if let Some(v) = version_ext {
        body.extend_from_slice(&vec16(&ext(0x002b, &u16b(v))));
    }
    handshake(2, &body)
}

fn certificate() -> Vec<u8> {
    let der = unhex(CERT_HEX);
    let mut list = u24(der.len()).to_vec();
    list.extend_from_slice(&der);
    let mut body = u24(list.len()).to_vec();
    body.extend_from_slice(&list);
    handshake(11, &body)
}

fn make() -> Box<dyn Dissector> {
    Box::new(TlsDissector::new())
}

#[test]
fn ja4_matches_the_specification_example() {
    // The JA4 README's Chrome example: t13d1516h2_8daaf6152771_e5627efa2ab1. Its raw
    // form lists the same ciphers, extensions and signature algorithms used here.
    let hs = chrome_hello();
    let ch = parser::parse_client_hello(&hs[4..]).unwrap();
    assert_eq!(parser::ja4(&ch), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert_eq!(ch.sni.as_deref(), Some("plc-7.plant.local"));
    assert_eq!(ch.alpn, ["h2", "http/1.1"]);
}

#[test]
fn ja4_without_sni_alpn_or_signature_algorithms() {
    let mut body = u16b(0x0301).to_vec();
    body.extend_from_slice(&[0; 32]);
    body.push(0);
    body.extend_from_slice(&vec16(&[0x00, 0x2f]));
    body.extend_from_slice(&[1, 0]);
    let ch = parser::parse_client_hello(&body).unwrap();
    // No extensions at all: the third part is the all-zero placeholder.
    assert_eq!(
        parser::ja4(&ch),
        // printf 002f | sha256sum | cut -c1-12
        "t10i010000_ba72b8082249_000000000000"
    );
}

#[test]
fn full_tls12_handshake_split_across_records_and_segments() {
    let c = ctx(Transport::Tcp, 40000, 443);
    let hello = chrome_hello();
    // The ClientHello spread over two records.
    let mut client = record(22, &hello[..100]);
    client.extend(record(22, &hello[100..]));
    let mut server = record(
        22,
        &[
            server_hello(None, 0xc02f),
            certificate(),
            handshake(14, &[]),
        ]
        .concat(),
    );
    server.extend(record(20, &[1]));
    server.extend(record(22, &[0xde; 40])); // encrypted Finished
    let client_tail = [
        record(20, &[1]),
        record(22, &[0xad; 40]),
        record(23, &[0xab; 300]),
    ]
    .concat();
    let server_tail = [record(23, &[0xcd; 500]), record(21, &[0x77, 0x88])].concat();
    let script: &[(Direction, &[u8])] = &[
        (C, &client),
        (S, &server),
        (C, &client_tail),
        (S, &server_tail),
    ];
    let out = assert_split_invariant(&make, &c, script);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let names: Vec<&str> = out.events.iter().map(|e| &*e.function_name).collect();
    // The alert after ChangeCipherSpec is encrypted: not reported.
    assert_eq!(names, ["client_hello", "server_hello", "certificate"]);
    let ch = &out.events[0];
    assert_eq!(text(ch, "sni"), "plc-7.plant.local");
    assert_eq!(text(ch, "ja4"), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert_eq!(
        attr(ch, "versions"),
        Some(&Attr::List(vec!["tls1.3".into(), "tls1.2".into()]))
    );
    assert_eq!(
        attr(ch, "alpn"),
        Some(&Attr::List(vec!["h2".into(), "http/1.1".into()]))
    );
    let sh = &out.events[1];
    assert_eq!(
        (text(sh, "version"), text(sh, "cipher")),
        ("tls1.2", "0xc02f")
    );
    let cert = &out.events[2];
    assert_eq!(text(cert, "subject_cn"), "hmi-7.plant.local");
    assert_eq!(text(cert, "issuer_cn"), "Plant Root CA");
}

#[test]
fn tls13_server_messages_after_the_hello_are_not_read() {
    let c = ctx(Transport::Tcp, 40000, 443);
    let client = record(22, &chrome_hello());
    // After a TLS 1.3 ServerHello the server's records are encrypted.
    let server = [
        record(22, &server_hello(Some(0x0304), 0x1301)),
        record(20, &[1]),
        record(23, &[1; 64]),
    ]
    .concat();
    let out = feed(make().as_mut(), &c, &whole(&[(C, &client), (S, &server)]));
    let names: Vec<&str> = out.events.iter().map(|e| &*e.function_name).collect();
    assert_eq!(names, ["client_hello", "server_hello"]);
    assert_eq!(text(&out.events[1], "version"), "tls1.3");
}

#[test]
fn clear_alert_is_an_exception() {
    let c = ctx(Transport::Tcp, 40000, 443);
    let out = feed(
        make().as_mut(),
        &c,
        &whole(&[
            (C, &record(22, &chrome_hello())),
            (S, &record(21, &[2, 40])),
        ]),
    );
    let alert = &out.events[1];
    assert_eq!(alert.function_name, "alert");
    assert_eq!(
        alert.status,
        Status::Exception {
            code: 40,
            name: "handshake_failure".into()
        }
    );
}

#[test]
fn garbage_is_an_anomaly_then_records_are_found_again() {
    let c = ctx(Transport::Tcp, 40000, 443);
    let mut bytes = b"\x99garbage!".to_vec();
    bytes.extend(record(22, &chrome_hello()));
    let out = feed(make().as_mut(), &c, &whole(&[(C, &bytes)]));
    assert_eq!(out.anomalies.len(), 1);
    assert_eq!(out.events.len(), 1);
}

#[test]
fn probe_needs_a_hello_of_the_right_direction() {
    let f = TlsFactory;
    let odd = ctx(Transport::Tcp, 40000, 8883);
    assert_eq!(f.probe(&odd, C, &record(22, &chrome_hello())), 2);
    assert_eq!(f.probe(&odd, S, &record(22, &chrome_hello())), 0);
    assert_eq!(
        f.probe(&odd, S, &record(22, &server_hello(None, 0x002f))),
        2
    );
    assert_eq!(f.probe(&odd, C, &record(23, &[0; 64])), 0);
    assert_eq!(f.probe(&odd, C, b"GET / HTTP/1.1\r\n"), 0);
}

#[test]
fn certificate_names_reject_non_der() {
    assert!(parser::certificate_names(&[0x30, 0x82, 0xff, 0xff, 0]).is_err());
    assert!(parser::certificate_names(&[]).is_err());
    let der = unhex(CERT_HEX);
    for cut in 0..der.len() {
        let _ = parser::certificate_names(&der[..cut]);
    }
}
