//! SSH dissector: banners, KEXINIT lists, HASSH, segment invariance.

mod it_util;

use dissect::ssh::{SshDissector, SshFactory};
use dissect::{Attr, Direction, Dissector, DissectorFactory, Transport};
use it_util::{assert_split_invariant, attr, ctx, text};

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

fn packet(payload: &[u8]) -> Vec<u8> {
    // Padding to a multiple of 8 with at least 4 bytes, as RFC 4253 requires.
    let mut pad = 8 - (payload.len() + 5) % 8;
    if pad < 4 {
        pad += 8;
    }
    let len = payload.len() + pad + 1;
    let mut v = (len as u32).to_be_bytes().to_vec();
    v.push(pad as u8);
    v.extend_from_slice(payload);
    v.extend(std::iter::repeat_n(0u8, pad));
    v
}

fn kexinit(lists: [&str; 10]) -> Vec<u8> {
    let mut p = vec![20];
    p.extend_from_slice(&[0x11; 16]);
    for l in lists {
        p.extend_from_slice(&(l.len() as u32).to_be_bytes());
        p.extend_from_slice(l.as_bytes());
    }
    p.extend_from_slice(&[0, 0, 0, 0, 0]);
    packet(&p)
}

fn make() -> Box<dyn Dissector> {
    Box::new(SshDissector::new())
}

#[test]
fn banners_and_key_exchange_offers_of_both_sides() {
    let c = ctx(Transport::Tcp, 40000, 22);
    let ckex = kexinit([
        "curve25519-sha256,diffie-hellman-group14-sha256",
        "ssh-ed25519,rsa-sha2-512",
        "aes128-ctr,aes256-gcm@openssh.com",
        "aes128-ctr",
        "hmac-sha2-256",
        "hmac-sha2-256",
        "none,zlib@openssh.com",
        "none",
        "",
        "",
    ]);
    let skex = kexinit([
        "curve25519-sha256",
        "ssh-ed25519",
        "aes128-ctr",
        "chacha20-poly1305@openssh.com",
        "hmac-sha2-256",
        "umac-64@openssh.com",
        "none",
        "none",
        "",
        "",
    ]);
    let client = [
        b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n".to_vec(),
        ckex,
        packet(&[21]),
        vec![0xee; 200],
    ]
    .concat();
    let server = [
        b"Welcome to the jump host\r\nSSH-2.0-dropbear_2022.83\r\n".to_vec(),
        skex,
        packet(&[21]),
        vec![0xef; 100],
    ]
    .concat();
    let script: &[(Direction, &[u8])] = &[(S, &server), (C, &client)];
    let out = assert_split_invariant(&make, &c, script);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let names: Vec<(&str, bool)> = out
        .events
        .iter()
        .map(|e| (&*e.function_name, e.is_response))
        .collect();
    assert_eq!(
        names,
        [
            ("banner", true),
            ("kexinit", true),
            ("banner", false),
            ("kexinit", false)
        ]
    );
    assert_eq!(text(&out.events[0], "software"), "dropbear_2022.83");
    assert_eq!(text(&out.events[2], "software"), "OpenSSH_9.2p1");
    assert_eq!(text(&out.events[2], "comments"), "Debian-2+deb12u3");
    // The server's own sending direction: server-to-client lists.
    assert_eq!(
        attr(&out.events[1], "ciphers"),
        Some(&Attr::List(vec!["chacha20-poly1305@openssh.com".into()]))
    );
    assert_eq!(
        attr(&out.events[3], "ciphers"),
        Some(&Attr::List(vec![
            "aes128-ctr".into(),
            "aes256-gcm@openssh.com".into()
        ]))
    );
    // printf '%s' 'curve25519-sha256,diffie-hellman-group14-sha256;aes128-ctr,aes256-gcm@openssh.com;hmac-sha2-256;none,zlib@openssh.com' | md5sum
    let expected = "7b3f76e580e44aea1e396d8af55a8228";
    assert_eq!(text(&out.events[3], "hassh"), expected);
}

#[test]
fn a_client_talking_before_its_banner_is_an_anomaly() {
    let c = ctx(Transport::Tcp, 40000, 22);
    let out = it_util::feed(
        make().as_mut(),
        &c,
        &[(C, b"hello\r\nSSH-2.0-x\r\n".to_vec())],
    );
    assert_eq!(out.anomalies.len(), 1);
    assert!(out.events.is_empty());
}

#[test]
fn probe() {
    let f = SshFactory;
    assert_eq!(
        f.probe(
            &ctx(Transport::Tcp, 4000, 2222),
            S,
            b"SSH-2.0-OpenSSH_8.9\r\n"
        ),
        2
    );
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 4000, 22), C, b"SSH-2.0-PuTTY\r\n"),
        3
    );
    assert_eq!(
        f.probe(&ctx(Transport::Tcp, 4000, 2222), C, b"SSH-3.0-x\r\n"),
        0
    );
}

#[test]
fn key_exchange_replies_with_impossible_lengths_are_anomalies_not_keys() {
    let c = ctx(Transport::Tcp, 40000, 22);
    let offer = |kex: &str| {
        kexinit([
            kex,
            "ssh-ed25519",
            "aes128-ctr",
            "aes128-ctr",
            "hmac-sha2-256",
            "hmac-sha2-256",
            "none",
            "none",
            "",
            "",
        ])
    };
    // K_S claims more bytes than the packet holds; then a type name with a comma.
    let mut blob_too_long = vec![31];
    blob_too_long.extend_from_slice(&u32::MAX.to_be_bytes());
    blob_too_long.extend_from_slice(b"\0\0\0\x0bssh-ed25519");
    let mut bad_type = vec![31, 0, 0, 0, 8, 0, 0, 0, 4];
    bad_type.extend_from_slice(b"a,bc");
    for reply in [blob_too_long, bad_type, vec![31, 0, 0]] {
        let server = [
            b"SSH-2.0-OpenSSH_9.6\r\n".to_vec(),
            offer("curve25519-sha256"),
            packet(&reply),
        ]
        .concat();
        let client = [b"SSH-2.0-x\r\n".to_vec(), offer("curve25519-sha256")].concat();
        let out = it_util::feed(make().as_mut(), &c, &[(C, client), (S, server)]);
        assert_eq!(
            out.anomalies,
            vec![("ssh", "malformed key exchange reply".to_string())]
        );
        assert!(out.observations.is_empty());
        assert!(out.events.iter().all(|e| e.function_name != "kex_reply"));
    }
    // In a group exchange, message 31 is the group (p, g): neither a key nor an anomaly.
    let mut group = vec![31, 0, 0, 0, 3, 0, 0xff, 0xfb, 0, 0, 0, 1, 2];
    group.extend_from_slice(&[0; 3]);
    let gex = "diffie-hellman-group-exchange-sha256";
    let server = [
        b"SSH-2.0-OpenSSH_9.6\r\n".to_vec(),
        offer(gex),
        packet(&group),
    ]
    .concat();
    let client = [
        b"SSH-2.0-x\r\n".to_vec(),
        offer(&format!("{gex},ext-info-c")),
    ]
    .concat();
    let out = it_util::feed(make().as_mut(), &c, &[(C, client), (S, server)]);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    assert!(out.observations.is_empty());
}
