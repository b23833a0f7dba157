//! RDP connection negotiation and SMB2/SMB1 dissectors on synthetic sessions.

mod it_util;

use dissect::rdp::{RdpDissector, RdpFactory};
use dissect::smb::{SmbDissector, SmbFactory};
use dissect::{
    Attr, Direction, Dissector, DissectorFactory, NameSource, Observation, OpClass, Status,
    Transport,
};
use it_util::{assert_split_invariant, attr, ctx, json, text};

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

fn tpkt(x224: &[u8]) -> Vec<u8> {
    let mut v = vec![3, 0];
    v.extend_from_slice(&((x224.len() + 4) as u16).to_be_bytes());
    v.extend_from_slice(x224);
    v
}

fn x224(code: u8, var: &[u8]) -> Vec<u8> {
    let mut v = vec![(6 + var.len()) as u8, code, 0, 0, 0x12, 0x34, 0];
    v.extend_from_slice(var);
    tpkt(&v)
}

#[test]
fn rdp_cookie_and_negotiated_protocol() {
    let c = ctx(Transport::Tcp, 40000, 3389);
    let req = x224(
        0xe0,
        b"Cookie: mstshash=eng-admin\r\n\x01\x00\x08\x00\x0b\x00\x00\x00",
    );
    let resp = x224(0xd0, b"\x02\x1f\x08\x00\x02\x00\x00\x00");
    let script: &[(Direction, &[u8])] = &[
        (C, &req),
        (S, &resp),
        (C, &[0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5]),
    ];
    let out = assert_split_invariant(&|| Box::new(RdpDissector::new()), &c, script);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let [r, cc] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (&*r.function_name, r.op),
        ("connection_request", OpClass::Session)
    );
    assert_eq!(text(r, "user"), "eng-admin");
    assert_eq!(
        attr(r, "requested_protocols"),
        Some(&Attr::List(vec![
            "tls".into(),
            "credssp".into(),
            "credssp_early_auth".into()
        ]))
    );
    assert_eq!(text(cc, "selected_protocol"), "credssp");
    assert_eq!(cc.status, Status::Ok);
}

#[test]
fn rdp_negotiation_failure_is_an_exception() {
    let c = ctx(Transport::Tcp, 40000, 3389);
    let mut out = dissect::Emitter::default();
    let mut d = RdpDissector::new();
    d.on_stream(
        &c,
        C,
        &x224(0xe0, b"\x01\x00\x08\x00\x00\x00\x00\x00"),
        &mut out,
    );
    d.on_stream(
        &c,
        S,
        &x224(0xd0, b"\x03\x00\x08\x00\x05\x00\x00\x00"),
        &mut out,
    );
    assert_eq!(
        attr(&out.events[0], "requested_protocols"),
        Some(&Attr::List(vec!["rdp".into()]))
    );
    assert_eq!(
        out.events[1].status,
        Status::Exception {
            code: 5,
            name: "hybrid_required_by_server".into()
        }
    );
}

#[test]
fn rdp_probe_leaves_iso_tsap_connections_alone() {
    let f = RdpFactory;
    let odd = ctx(Transport::Tcp, 40000, 102);
    // An S7 connection request: TSAP parameters, no cookie, no negotiation request.
    let s7 = x224(0xe0, &[0xc1, 2, 1, 0, 0xc2, 2, 1, 2, 0xc0, 1, 0x0a]);
    assert_eq!(f.probe(&odd, C, &s7), 0);
    assert_eq!(f.probe(&odd, C, &x224(0xe0, b"Cookie: mstshash=a\r\n")), 2);
}

// ---- SMB ----

fn nb(msg: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0];
    v.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    v.extend_from_slice(msg);
    v
}

fn smb2(cmd: u16, response: bool, status: u32, mid: u64, tree: u32, body: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\xfeSMB");
    h[4] = 64;
    h[8..12].copy_from_slice(&status.to_le_bytes());
    h[12..14].copy_from_slice(&cmd.to_le_bytes());
    h[16..20].copy_from_slice(&u32::from(response).to_le_bytes());
    h[24..32].copy_from_slice(&mid.to_le_bytes());
    h[36..40].copy_from_slice(&tree.to_le_bytes());
    h[40..48].copy_from_slice(&0x1122u64.to_le_bytes());
    h.extend_from_slice(body);
    h
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

fn ntlm_authenticate(domain: &str, user: &str, host: &str) -> Vec<u8> {
    let fields = [utf16(domain), utf16(user), utf16(host)];
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&3u32.to_le_bytes());
    let mut payload = Vec::new();
    let base = 64u32;
    let mut fixed = vec![0u8; 52];
    // Lm and Nt responses empty (offsets 12 and 20); domain 28, user 36, host 44.
    for (i, f) in fields.iter().enumerate() {
        let at = 16 + 8 * i; // relative to offset 12
        let off = base + payload.len() as u32;
        fixed[at..at + 2].copy_from_slice(&(f.len() as u16).to_le_bytes());
        fixed[at + 2..at + 4].copy_from_slice(&(f.len() as u16).to_le_bytes());
        fixed[at + 4..at + 8].copy_from_slice(&off.to_le_bytes());
        payload.extend_from_slice(f);
    }
    fixed[48..52].copy_from_slice(&1u32.to_le_bytes()); // flags at 60: unicode
    m.extend_from_slice(&fixed);
    m.extend_from_slice(&payload);
    m
}

fn ntlm_challenge(nb_host: &str) -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&2u32.to_le_bytes());
    m.resize(56, 0);
    let mut av = Vec::new();
    let name = utf16(nb_host);
    av.extend_from_slice(&1u16.to_le_bytes());
    av.extend_from_slice(&(name.len() as u16).to_le_bytes());
    av.extend_from_slice(&name);
    av.extend_from_slice(&[0, 0, 0, 0]);
    m[40..42].copy_from_slice(&(av.len() as u16).to_le_bytes());
    m[44..48].copy_from_slice(&56u32.to_le_bytes());
    m.extend_from_slice(&av);
    m
}

fn session_setup_req(blob: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 24];
    b[0] = 25;
    b[12..14].copy_from_slice(&(64u16 + 24).to_le_bytes());
    b[14..16].copy_from_slice(&(blob.len() as u16).to_le_bytes());
    b.extend_from_slice(blob);
    b
}

fn session_setup_resp(blob: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 8];
    b[0] = 9;
    b[4..6].copy_from_slice(&(64u16 + 8).to_le_bytes());
    b[6..8].copy_from_slice(&(blob.len() as u16).to_le_bytes());
    b.extend_from_slice(blob);
    b
}

fn tree_connect(path: &str) -> Vec<u8> {
    let p = utf16(path);
    let mut b = vec![9, 0, 0, 0];
    b.extend_from_slice(&(64u16 + 8).to_le_bytes());
    b.extend_from_slice(&(p.len() as u16).to_le_bytes());
    b.extend_from_slice(&p);
    b
}

fn create(name: &str, access: u32, disposition: u32) -> Vec<u8> {
    let n = utf16(name);
    let mut b = vec![0u8; 56];
    b[0] = 57;
    b[24..28].copy_from_slice(&access.to_le_bytes());
    b[36..40].copy_from_slice(&disposition.to_le_bytes());
    b[44..46].copy_from_slice(&(64u16 + 56).to_le_bytes());
    b[46..48].copy_from_slice(&(n.len() as u16).to_le_bytes());
    b.extend_from_slice(&n);
    b
}

fn create_resp(file_id: u128) -> Vec<u8> {
    let mut b = vec![0u8; 88];
    b[0] = 89;
    b[64..80].copy_from_slice(&file_id.to_le_bytes());
    b
}

fn io_req(len: u32, offset: u64, file_id: u128, data: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[0] = 49;
    b[4..8].copy_from_slice(&len.to_le_bytes());
    b[8..16].copy_from_slice(&offset.to_le_bytes());
    b[16..32].copy_from_slice(&file_id.to_le_bytes());
    b.extend_from_slice(data);
    b
}

fn io_resp(count: u32, data: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 16];
    b[0] = 17;
    b[4..8].copy_from_slice(&count.to_le_bytes());
    b.extend_from_slice(data);
    b
}

fn close(file_id: u128) -> Vec<u8> {
    let mut b = vec![0u8; 24];
    b[0] = 24;
    b[8..24].copy_from_slice(&file_id.to_le_bytes());
    b
}

#[test]
fn smb2_session_tree_file_write_read_close() {
    let c = ctx(Transport::Tcp, 40000, 445);
    let fid: u128 = 0xabcdef;
    let mut negotiate = vec![0u8; 36];
    negotiate[0] = 36;
    negotiate[2] = 2;
    negotiate.extend_from_slice(&[0x02, 0x02, 0x11, 0x03]);
    let mut neg_resp = vec![0u8; 64];
    neg_resp[0] = 65;
    neg_resp[4..6].copy_from_slice(&0x0311u16.to_le_bytes());
    let big = vec![0x5a; 70_000];
    let script: Vec<(Direction, Vec<u8>)> = vec![
        (C, nb(&smb2(0, false, 0, 0, 0, &negotiate))),
        (S, nb(&smb2(0, true, 0, 0, 0, &neg_resp))),
        (
            C,
            nb(&smb2(
                1,
                false,
                0,
                1,
                0,
                &session_setup_req(&ntlm_authenticate("PLANT", "jdoe", "ENG-WS-4")),
            )),
        ),
        (
            S,
            nb(&smb2(
                1,
                true,
                0xc000_0016,
                1,
                0,
                &session_setup_resp(&ntlm_challenge("HISTORIAN")),
            )),
        ),
        (
            C,
            nb(&smb2(
                3,
                false,
                0,
                2,
                0,
                &tree_connect("\\\\historian\\projects"),
            )),
        ),
        (
            S,
            nb(&smb2(
                3,
                true,
                0,
                2,
                7,
                &[16, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            )),
        ),
        (
            C,
            nb(&smb2(
                5,
                false,
                0,
                3,
                7,
                &create("line3\\logic.ap15", 0x0012_0116, 5),
            )),
        ),
        (S, nb(&smb2(5, true, 0, 3, 7, &create_resp(fid)))),
        (
            C,
            [
                nb(&smb2(
                    9,
                    false,
                    0,
                    4,
                    7,
                    &io_req(70_000, 0, fid, &big[..60_000]),
                ))
                .as_slice(),
                &big[..0],
            ]
            .concat(),
        ),
        (S, nb(&smb2(9, true, 0, 4, 7, &io_resp(70_000, &[])))),
        (
            C,
            nb(&smb2(8, false, 0, 5, 7, &io_req(100, 4096, fid, &[0]))),
        ),
        (S, nb(&smb2(8, true, 0, 5, 7, &io_resp(100, &[0x33; 100])))),
        (C, nb(&smb2(6, false, 0, 6, 7, &close(fid)))),
        (S, nb(&smb2(6, true, 0, 6, 7, &[60, 0]))),
        (
            C,
            nb(&smb2(
                5,
                false,
                0,
                7,
                7,
                &create("secret.txt", 0x0012_0089, 1),
            )),
        ),
        (
            S,
            nb(&smb2(5, true, 0xc000_0022, 7, 7, &[9, 0, 0, 0, 0, 0, 0, 0])),
        ),
    ];
    let refs: Vec<(Direction, &[u8])> = script.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    // Splitting at every offset of a 60 KB message is slow in debug builds: split the
    // small messages only, feed the big one whole and byte by byte through the full run.
    let small: Vec<(Direction, &[u8])> = refs
        .iter()
        .filter(|(_, b)| b.len() < 2000)
        .copied()
        .collect();
    assert_split_invariant(&|| Box::new(SmbDissector::new()), &c, &small);
    let out = it_util::feed(&mut SmbDissector::new(), &c, &it_util::whole(&refs));
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let seq: Vec<(&str, bool)> = out
        .events
        .iter()
        .map(|e| (&*e.function_name, e.is_response))
        .collect();
    assert_eq!(seq.len(), 16, "{seq:?}");
    let e = &out.events;
    assert_eq!(
        attr(&e[0], "dialects"),
        Some(&Attr::List(vec!["2.0.2".into(), "3.1.1".into()]))
    );
    assert_eq!(text(&e[1], "dialect"), "3.1.1");
    assert_eq!(
        (
            text(&e[2], "user"),
            text(&e[2], "domain"),
            text(&e[2], "workstation")
        ),
        ("jdoe", "PLANT", "ENG-WS-4")
    );
    assert_eq!(
        e[3].status,
        Status::Ok,
        "more processing required is the normal NTLM step"
    );
    assert_eq!(text(&e[3], "server_name"), "HISTORIAN");
    assert_eq!(text(&e[4], "share"), "\\\\historian\\projects");
    assert_eq!(
        (e[6].op, text(&e[6], "file_name")),
        (OpClass::Write, "line3\\logic.ap15")
    );
    assert_eq!(text(&e[6], "share"), "\\\\historian\\projects");
    assert_eq!(
        (e[8].op, text(&e[8], "file_name")),
        (OpClass::Write, "line3\\logic.ap15")
    );
    assert_eq!(attr(&e[8], "length"), Some(&Attr::UInt(70_000)));
    assert_eq!(attr(&e[9], "bytes"), Some(&Attr::UInt(70_000)));
    assert_eq!(
        (e[10].op, text(&e[10], "file_name")),
        (OpClass::Read, "line3\\logic.ap15")
    );
    assert_eq!(attr(&e[10], "offset"), Some(&Attr::UInt(4096)));
    assert_eq!(text(&e[13], "file_name"), "line3\\logic.ap15");
    assert_eq!(e[14].op, OpClass::Read);
    assert_eq!(
        e[15].status,
        Status::Exception {
            code: 0xc000_0022,
            name: "access_denied".into()
        }
    );
    let names: Vec<(&str, std::net::IpAddr)> = out
        .observations
        .iter()
        .filter_map(|o| match o {
            Observation::Hostname {
                name,
                ip: Some(ip),
                source: NameSource::Netbios,
                ..
            } => Some((name.as_str(), *ip)),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [("ENG-WS-4", c.client_ip), ("HISTORIAN", c.server_ip)]
    );
}

#[test]
fn smb2_compound_create_read_close_uses_the_chain_file() {
    let c = ctx(Transport::Tcp, 40000, 445);
    let pad8 = |mut m: Vec<u8>| {
        while !m.len().is_multiple_of(8) {
            m.push(0);
        }
        m
    };
    let set_next = |mut m: Vec<u8>, next: usize, related: bool| {
        m[20..24].copy_from_slice(&(next as u32).to_le_bytes());
        if related {
            m[16] |= 4;
        }
        m
    };
    let a = pad8(smb2(5, false, 0, 10, 7, &create("cfg.ini", 0x0012_0089, 1)));
    let b = pad8(smb2(8, false, 0, 11, 7, &io_req(64, 0, u128::MAX, &[0])));
    let cl = smb2(6, false, 0, 12, 7, &close(u128::MAX));
    let (la, lb) = (a.len(), b.len());
    let chain = [
        set_next(a, la, false),
        set_next(b, lb, true),
        set_next(cl, 0, true),
    ]
    .concat();
    let out = it_util::feed(&mut SmbDissector::new(), &c, &[(C, nb(&chain))]);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let files: Vec<&str> = out.events.iter().map(|e| text(e, "file_name")).collect();
    assert_eq!(files, ["cfg.ini", "cfg.ini", "cfg.ini"]);
}

#[test]
fn smb1_negotiate_over_a_netbios_session() {
    let c = ctx(Transport::Tcp, 40000, 139);
    // NetBIOS session request: called "HISTORIAN", calling "ENG-WS-4".
    let enc = |name: &str, suffix: u8| {
        let mut raw = [b' '; 16];
        raw[..name.len()].copy_from_slice(name.as_bytes());
        raw[15] = suffix;
        let mut v = vec![32];
        for b in raw {
            v.push(b'A' + (b >> 4));
            v.push(b'A' + (b & 0x0f));
        }
        v.push(0);
        v
    };
    let mut req = vec![0x81, 0, 0, 68];
    req.extend(enc("HISTORIAN", 0x20));
    req.extend(enc("ENG-WS-4", 0));
    let mut neg = vec![0u8; 32];
    neg[..4].copy_from_slice(b"\xffSMB");
    neg[4] = 0x72;
    neg.push(0);
    let dialects = b"\x02NT LM 0.12\0\x02SMB 2.002\0\x02SMB 2.???\0";
    neg.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
    neg.extend_from_slice(dialects);
    let script: &[(Direction, &[u8])] = &[(C, &req), (S, &[0x82, 0, 0, 0]), (C, &nb(&neg))];
    let out = assert_split_invariant(&|| Box::new(SmbDissector::new()), &c, script);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    assert_eq!(out.events[0].function_name, "netbios_session_request");
    assert_eq!(text(&out.events[0], "calling_name"), "ENG-WS-4");
    assert_eq!(out.events[1].function, 0x72);
    assert_eq!(
        attr(&out.events[1], "dialects"),
        Some(&Attr::List(vec![
            "NT LM 0.12".into(),
            "SMB 2.002".into(),
            "SMB 2.???".into()
        ]))
    );
    assert_eq!(SmbFactory.probe(&c, C, &req), 3);
    assert_eq!(
        SmbFactory.probe(&ctx(Transport::Tcp, 4000, 4450), C, &nb(&neg)),
        2
    );
    assert_eq!(
        SmbFactory.probe(
            &ctx(Transport::Tcp, 4000, 4450),
            C,
            &[0, 0, 0, 8, 1, 2, 3, 4]
        ),
        0
    );
    assert!(!json(&out).is_empty());
}

#[test]
fn smb_garbage_resynchronises_on_the_next_message() {
    let c = ctx(Transport::Tcp, 40000, 445);
    let mut bytes = vec![0x42; 10];
    bytes.extend(nb(&smb2(13, false, 0, 1, 0, &[4, 0, 0, 0])));
    let out = it_util::feed(&mut SmbDissector::new(), &c, &[(C, bytes)]);
    assert_eq!(out.anomalies.len(), 1);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].function_name, "echo");
}
