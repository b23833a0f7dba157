//! SSH dissector: identification banners and the clear-text key exchange offer.
//!
//! Each side's banner (`SSH-2.0-software comments`) is one event; its KEXINIT is another.
//! After NEWKEYS everything is encrypted and skipped.
//!
//! Function codes: 0 = `banner` (attributes `proto_version`, `software`, `comments`),
//! 20 = `kexinit` (attributes `kex`, `host_key`, `ciphers`, `macs`, `compression`: the
//! algorithm lists this side offers, in its direction of sending, and `hassh`: the
//! HASSH / HASSH-server fingerprint, MD5 of `kex;ciphers;macs;compression`).
//! Server messages are responses. Op: session.

use crate::event::{Attr, OpClass, Status};
use crate::{Direction, Dissector, DissectorFactory, Emitter, FlowContext};

/// Protocol name in records.
pub const PROTOCOL: &str = "ssh";
/// Longest identification or pre-banner line accepted (RFC 4253 allows 255).
pub const MAX_LINE: usize = 1024;
/// Pre-banner lines a server may send before its identification.
pub const MAX_PRE_LINES: usize = 32;
/// Largest clear-text packet read (KEXINIT).
pub const MAX_PACKET: usize = 35_000;
/// Most algorithm names kept per list.
pub const MAX_NAMES: usize = 64;

/// Parsed identification line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Banner<'a> {
    /// Protocol version (`2.0`, `1.99`).
    pub proto_version: &'a str,
    /// Software version.
    pub software: &'a str,
    /// Comments after the first space.
    pub comments: Option<&'a str>,
}

/// Parses an identification line (without CR/LF); `None` when it is not one.
pub fn parse_banner(line: &[u8]) -> Option<Banner<'_>> {
    let line = std::str::from_utf8(line).ok()?;
    let rest = line.strip_prefix("SSH-")?;
    let (ids, comments) = match rest.split_once(' ') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    let (proto_version, software) = ids.split_once('-')?;
    if proto_version.is_empty()
        || !proto_version
            .bytes()
            .all(|c| c.is_ascii_digit() || c == b'.')
        || software.is_empty()
        || software.bytes().any(|c| c.is_ascii_control())
    {
        return None;
    }
    Some(Banner {
        proto_version,
        software,
        comments,
    })
}

/// Algorithm lists of a KEXINIT, in the sender's direction of sending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KexInit<'a> {
    /// kex_algorithms.
    pub kex: &'a str,
    /// server_host_key_algorithms.
    pub host_key: &'a str,
    /// Encryption client to server, server to client.
    pub enc: [&'a str; 2],
    /// MAC client to server, server to client.
    pub mac: [&'a str; 2],
    /// Compression client to server, server to client.
    pub comp: [&'a str; 2],
}

/// Parses a KEXINIT payload (message type byte included).
pub fn parse_kexinit(p: &[u8]) -> Option<KexInit<'_>> {
    if p.first() != Some(&20) {
        return None;
    }
    let mut rest = p.get(17..)?;
    let mut lists: [&str; 8] = [""; 8];
    for slot in &mut lists {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let s = rest.get(4..4 + len)?;
        *slot = std::str::from_utf8(s).ok()?;
        rest = &rest[4 + len..];
    }
    Some(KexInit {
        kex: lists[0],
        host_key: lists[1],
        enc: [lists[2], lists[3]],
        mac: [lists[4], lists[5]],
        comp: [lists[6], lists[7]],
    })
}

/// Result of [`parse_packet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// A whole packet: its payload and bytes used.
    Complete {
        /// Payload (message type first).
        payload: &'a [u8],
        /// Bytes of the packet.
        consumed: usize,
    },
    /// Not all of it has arrived.
    Incomplete,
    /// Its lengths are impossible.
    Bad,
}

/// Frames one unencrypted binary packet (RFC 4253 section 6).
pub fn parse_packet(b: &[u8]) -> Packet<'_> {
    let Some(h) = b.get(..5) else {
        return Packet::Incomplete;
    };
    let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let pad = usize::from(h[4]);
    if !(5..=MAX_PACKET).contains(&len) || pad < 4 || pad + 1 > len {
        return Packet::Bad;
    }
    match b.get(5..4 + len - pad) {
        Some(payload) if b.len() >= 4 + len => Packet::Complete {
            payload,
            consumed: 4 + len,
        },
        _ => Packet::Incomplete,
    }
}

/// HASSH (client) or HASSH-server of a KEXINIT.
pub fn hassh(k: &KexInit<'_>, dir: Direction) -> String {
    let d = match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    };
    let s = format!("{};{};{};{}", k.kex, k.enc[d], k.mac[d], k.comp[d]);
    use md5::Digest as _;
    md5::Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn list(s: &str) -> Attr {
    Attr::List(s.split(',').take(MAX_NAMES).map(str::to_string).collect())
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    /// Waiting for the identification line.
    #[default]
    Banner,
    /// Clear-text binary packets.
    Packets,
    /// After NEWKEYS, a gap, or malformed framing: everything is skipped.
    Opaque,
}

#[derive(Clone, Copy, Debug, Default)]
struct Side {
    phase: Phase,
    pre_lines: usize,
}

/// Per-flow SSH state.
#[derive(Debug, Default)]
pub struct SshDissector {
    sides: [Side; 2],
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl SshDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Dissector for SshDissector {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn on_stream(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter,
    ) -> usize {
        let i = idx(dir);
        let response = dir == Direction::ToClient;
        let mut pos = 0;
        while pos < data.len() {
            let rest = &data[pos..];
            match self.sides[i].phase {
                Phase::Opaque => return data.len(),
                Phase::Banner => {
                    let window = &rest[..rest.len().min(MAX_LINE)];
                    let Some(nl) = window.iter().position(|&c| c == b'\n') else {
                        if rest.len() >= MAX_LINE {
                            out.anomaly(PROTOCOL, "identification line longer than the cap");
                            self.sides[i].phase = Phase::Opaque;
                        }
                        return pos;
                    };
                    let line = &rest[..nl];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    pos += nl + 1;
                    match parse_banner(line) {
                        Some(b) => {
                            let ev = out.begin(
                                ctx,
                                dir,
                                PROTOCOL,
                                OpClass::Session,
                                0,
                                "banner",
                                response,
                            );
                            if response {
                                ev.status = Status::Ok;
                            }
                            ev.attr("proto_version", Attr::Text(b.proto_version.into()))
                                .attr(
                                    "software",
                                    Attr::Text(b.software.chars().take(255).collect()),
                                );
                            if let Some(c) = b.comments {
                                ev.attr("comments", Attr::Text(c.chars().take(255).collect()));
                            }
                            self.sides[i].phase =
                                if b.proto_version.starts_with('1') && b.proto_version != "1.99" {
                                    // SSH-1 framing differs; nothing more is read.
                                    Phase::Opaque
                                } else {
                                    Phase::Packets
                                };
                        }
                        None => {
                            self.sides[i].pre_lines += 1;
                            if !response || self.sides[i].pre_lines > MAX_PRE_LINES {
                                out.anomaly(PROTOCOL, "data before the identification line");
                                self.sides[i].phase = Phase::Opaque;
                            }
                        }
                    }
                }
                Phase::Packets => match parse_packet(rest) {
                    Packet::Complete { payload, consumed } => {
                        pos += consumed;
                        match payload.first() {
                            Some(20) => match parse_kexinit(payload) {
                                Some(k) => {
                                    let d = usize::from(response);
                                    let ev = out.begin(
                                        ctx,
                                        dir,
                                        PROTOCOL,
                                        OpClass::Session,
                                        20,
                                        "kexinit",
                                        response,
                                    );
                                    if response {
                                        ev.status = Status::Ok;
                                    }
                                    ev.attr("kex", list(k.kex))
                                        .attr("host_key", list(k.host_key))
                                        .attr("ciphers", list(k.enc[d]))
                                        .attr("macs", list(k.mac[d]))
                                        .attr("compression", list(k.comp[d]))
                                        .attr("hassh", Attr::Text(hassh(&k, dir)));
                                }
                                None => out.anomaly(PROTOCOL, "malformed KEXINIT"),
                            },
                            Some(21) => self.sides[i].phase = Phase::Opaque,
                            _ => {}
                        }
                    }
                    Packet::Incomplete => return pos,
                    Packet::Bad => {
                        out.anomaly(PROTOCOL, "impossible binary packet length");
                        self.sides[i].phase = Phase::Opaque;
                    }
                },
            }
        }
        pos
    }

    fn on_datagram(
        &mut self,
        _ctx: &FlowContext,
        _dir: Direction,
        _data: &[u8],
        _out: &mut Emitter,
    ) {
    }

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, _len: u64, _out: &mut Emitter) {
        // Binary packets have no marker to resynchronise on.
        self.sides[idx(dir)].phase = Phase::Opaque;
    }
}

/// Recognises SSH flows: port 22, and an identification line on any port.
#[derive(Clone, Copy, Debug, Default)]
pub struct SshFactory;

impl DissectorFactory for SshFactory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Tcp {
            return 0;
        }
        let on_port = ctx.server_port == 22;
        let content = (first_payload.starts_with(b"SSH-2.0-")
            || first_payload.starts_with(b"SSH-1.99-")
            || first_payload.starts_with(b"SSH-1.5-"))
            && first_payload.len() >= 10;
        match (on_port, content) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(SshDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(SshFactory)]
}
