//! Server host identities from real captures: the SSH host key of a key exchange and the
//! TLS server certificate's SHA-256, compared with what `ssh-keygen -lf` and
//! `sha256sum` printed for the same key and certificate (see `data/PROVENANCE.md`).
//!
//! A small harness reads a capture with `pcap-file`, decodes frames with `wire::decode`,
//! puts each TCP direction back in sequence order and replays the connection's segments
//! in capture order through the stream contract.

mod it_util;

use dissect::ssh::SshDissector;
use dissect::tls::TlsDissector;
use dissect::{Direction, Dissector, Emitter, FlowContext, IdentityField, Observation, Transport};
use it_util::{assert_split_invariant, text};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One TCP connection: its context and its payload as (direction, bytes) in capture
/// order, each direction in sequence order without repeats.
struct Connection {
    ctx: FlowContext,
    segments: Vec<(Direction, Vec<u8>)>,
}

/// One direction's reassembly: the next expected sequence number and segments that
/// arrived early.
#[derive(Default)]
struct Stream {
    next: Option<u32>,
    early: BTreeMap<u32, Vec<u8>>,
}

impl Stream {
    /// Takes one segment; returns the bytes it makes contiguous.
    fn take(&mut self, seq: u32, data: &[u8]) -> Vec<u8> {
        let Some(next) = self.next else {
            return Vec::new();
        };
        // Offset of the segment from the next expected byte (wrapping).
        let off = seq.wrapping_sub(next) as i32;
        if off > 0 {
            self.early.insert(seq, data.to_vec());
            return Vec::new();
        }
        let skip = usize::try_from(-i64::from(off)).unwrap_or(usize::MAX);
        let mut out = data.get(skip..).unwrap_or_default().to_vec();
        let mut next = next.wrapping_add(out.len() as u32);
        while let Some(seg) = self.early.remove(&next) {
            next = next.wrapping_add(seg.len() as u32);
            out.extend(seg);
        }
        self.next = Some(next);
        out
    }
}

/// The first TCP connection of a capture opened (SYN seen) to port `port` (classic pcap,
/// optionally gzipped).
fn connection(path: &Path, port: u16) -> Connection {
    let mut bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .expect("gzip");
        bytes = out;
    }
    let mut reader = pcap_file::pcap::PcapReader::new(&bytes[..]).expect("a pcap file");
    let link = wire::LinkType::from_linktype(u32::from(reader.header().datalink));
    let mut ctx: Option<FlowContext> = None;
    let mut streams = [Stream::default(), Stream::default()];
    let mut segments = Vec::new();
    while let Some(pkt) = reader.next_raw_packet() {
        let pkt = pkt.expect("a pcap record");
        let decoded = wire::decode(link, &pkt.data);
        let (Some(ip), wire::Transport::Tcp(tcp)) = (decoded.ip(), decoded.transport) else {
            continue;
        };
        let syn = tcp.flags.has(wire::TcpFlags::SYN) && !tcp.flags.has(wire::TcpFlags::ACK);
        if ctx.is_none() && syn && tcp.dst_port == port {
            ctx = Some(FlowContext {
                transport: Transport::Tcp,
                vlan: None,
                client_ip: ip.src,
                client_port: tcp.src_port,
                client_mac: decoded.link.and_then(|l| l.src_mac),
                server_ip: ip.dst,
                server_port: tcp.dst_port,
                server_mac: decoded.link.and_then(|l| l.dst_mac),
                ts: records::Timestamp::from_parts(i64::from(pkt.ts_sec), 0),
            });
        }
        let Some(c) = &ctx else {
            continue;
        };
        let dir = if tcp.src_port == c.client_port && ip.src == c.client_ip {
            Direction::ToServer
        } else if tcp.src_port == c.server_port && ip.src == c.server_ip {
            Direction::ToClient
        } else {
            continue;
        };
        let s = &mut streams[usize::from(dir == Direction::ToClient)];
        if tcp.flags.has(wire::TcpFlags::SYN) {
            s.next = Some(tcp.seq.wrapping_add(1));
            continue;
        }
        let data = s.take(tcp.seq, tcp.payload);
        if !data.is_empty() {
            segments.push((dir, data));
        }
    }
    Connection {
        ctx: ctx.expect("a TCP connection opened in the capture"),
        segments,
    }
}

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// An identity field reported: (field, value, address of the device).
type Identity = (IdentityField, String, String);

/// The identity fields reported.
fn identities(out: &Emitter) -> Vec<Identity> {
    out.observations
        .iter()
        .filter_map(|o| match o {
            Observation::Identity {
                field, value, ip, ..
            } => Some((
                *field,
                value.clone(),
                ip.map(|i| i.to_string()).unwrap_or_default(),
            )),
            Observation::Hostname { .. } => None,
        })
        .collect()
}

/// Runs an SSH capture through the dissector (whole, split at every offset, byte by
/// byte); returns the reply event's (function, type, fingerprint) and the identities.
fn ssh_capture(name: &str, port: u16) -> ((u32, String, String), Vec<Identity>) {
    let conn = connection(&data(name), port);
    let script: Vec<(Direction, &[u8])> = conn.segments.iter().map(|(d, b)| (*d, &b[..])).collect();
    let make = || -> Box<dyn Dissector> { Box::new(SshDissector::new()) };
    let out = assert_split_invariant(&make, &conn.ctx, &script);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let replies: Vec<_> = out
        .events
        .iter()
        .filter(|e| e.function_name == "kex_reply")
        .collect();
    assert_eq!(replies.len(), 1, "{:?}", out.events);
    let e = replies[0];
    assert!(e.is_response);
    assert_eq!(e.src_port, port);
    (
        (
            e.function,
            text(e, "host_key_type").to_string(),
            text(e, "host_key_fingerprint").to_string(),
        ),
        identities(&out),
    )
}

#[test]
fn ssh_ed25519_host_key_matches_ssh_keygen() {
    let (reply, ids) = ssh_capture("ssh-ed25519-loopback.pcap", 2222);
    // ssh-keygen -lf hk.pub: 256 SHA256:vCSl/5gRIUfYySNBd3G2ySbO6ILYDiqYUdXSNtWC3mw (ED25519)
    let fp = "SHA256:vCSl/5gRIUfYySNBd3G2ySbO6ILYDiqYUdXSNtWC3mw";
    assert_eq!(reply, (31, "ssh-ed25519".into(), fp.into()));
    assert_eq!(
        ids,
        vec![(
            IdentityField::SshHostKey,
            format!("{fp} (ssh-ed25519)"),
            "127.0.0.1".into()
        )]
    );
}

#[test]
fn ssh_group_exchange_reads_the_key_from_message_33_not_the_group() {
    let (reply, ids) = ssh_capture("ssh-rsa-gex-loopback.pcap", 2223);
    // ssh-keygen -lf hkr.pub: 2048 SHA256:Mk92U+EjwzH8BlIzZmn8tpI4niyUI4YsAqkdu+bJVRE (RSA)
    let fp = "SHA256:Mk92U+EjwzH8BlIzZmn8tpI4niyUI4YsAqkdu+bJVRE";
    assert_eq!(reply, (33, "ssh-rsa".into(), fp.into()));
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].1, format!("{fp} (ssh-rsa)"));
}

/// The certificate events' (subject, sha256) and the identities of a TLS connection.
fn tls_capture(conn: &Connection) -> (Vec<(String, String)>, Vec<Identity>) {
    let script: Vec<(Direction, &[u8])> = conn.segments.iter().map(|(d, b)| (*d, &b[..])).collect();
    let make = || -> Box<dyn Dissector> { Box::new(TlsDissector::new()) };
    let out = assert_split_invariant(&make, &conn.ctx, &script);
    assert!(out.anomalies.is_empty(), "{:?}", out.anomalies);
    let certs = out
        .events
        .iter()
        .filter(|e| e.function_name == "certificate")
        .map(|e| {
            (
                text(e, "subject_cn").to_string(),
                text(e, "sha256").to_string(),
            )
        })
        .collect();
    (certs, identities(&out))
}

#[test]
fn tls12_certificate_sha256_matches_the_der() {
    let conn = connection(&data("tls12-ecdsa-loopback.pcap"), 4433);
    let (certs, ids) = tls_capture(&conn);
    // openssl x509 -in tls.crt -outform DER | sha256sum
    let sha = "77801d52b3b1e69987ba79a9205864b5e2c20e29310a94cf1602b85a62ded94e";
    assert_eq!(certs, vec![("hmi-1.plant.test".into(), sha.into())]);
    assert_eq!(
        ids,
        vec![(
            IdentityField::TlsCertificate,
            sha.into(),
            "127.0.0.1".into()
        )]
    );
}

#[test]
fn tls12_leaf_certificate_of_a_third_party_capture() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps");
    let path = dir.join("ct-samples/Protocols/DLMS-COSEM/Matousp_PCAPs/DLMSDirector.pcap");
    if !path.is_file() {
        eprintln!(
            "skipping: {} not found (shared captures are not part of the repository)",
            path.display()
        );
        return;
    }
    let conn = connection(&path, 443);
    let (certs, ids) = tls_capture(&conn);
    // tshark -r DLMSDirector.pcap -Y tls.handshake.certificate -T fields
    //   -e tls.handshake.certificate | cut -d, -f1 | tr -d ':\n' | xxd -r -p | sha256sum
    let sha = "10fba2266279f2947db75a8ed1058efa499be940e3e6c82cf1ec3068341b8291";
    assert_eq!(certs, vec![("*.pixelberrystudios.com".into(), sha.into())]);
    assert_eq!(
        ids,
        vec![(
            IdentityField::TlsCertificate,
            sha.into(),
            "52.5.123.140".into()
        )]
    );
}
