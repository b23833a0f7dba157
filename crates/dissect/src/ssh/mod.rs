//! SSH dissector: identification banners, the clear-text key exchange offer and the
//! server's host key.
//!
//! Each side's banner (`SSH-2.0-software comments`) is one event; its KEXINIT is another;
//! the server's key exchange reply is a third. After NEWKEYS everything is encrypted and
//! skipped.
//!
//! Function codes: 0 = `banner` (attributes `proto_version`, `software`, `comments`),
//! 20 = `kexinit` (attributes `kex`, `host_key`, `ciphers`, `macs`, `compression`: the
//! algorithm lists this side offers, in its direction of sending, and `hassh`: the
//! HASSH / HASSH-server fingerprint, MD5 of `kex;ciphers;macs;compression`),
//! 31 / 33 = `kex_reply` (KEXDH / KEX_ECDH reply, or the group-exchange reply; attributes
//! `host_key_type` and `host_key_fingerprint`, the server host key K_S as OpenSSH shows
//! it: `SHA256:` and the unpadded base64 of the SHA-256 of the key blob). The host key is
//! also reported as the server's [`IdentityField::SshHostKey`], valued
//! `SHA256:<base64> (<type>)`. Server messages are responses. Op: session.

use crate::event::{Attr, OpClass, Status};
use crate::{Direction, Dissector, DissectorFactory, Emitter, FlowContext, IdentityField};

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
/// Longest host key type name accepted (`ecdsa-sha2-nistp256`, `ssh-ed25519` ...).
pub const MAX_KEY_TYPE: usize = 64;

/// KEXDH_REPLY / KEX_ECDH_REPLY (and, in a group exchange, KEX_DH_GEX_GROUP).
const KEX_REPLY: u8 = 31;
/// KEX_DH_GEX_REPLY.
const GEX_REPLY: u8 = 33;

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

/// One SSH `string` (uint32 length, bytes) at the start of `b`, and what follows.
fn ssh_string(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_be_bytes(b.get(..4)?.try_into().ok()?) as usize;
    let s = b.get(4..4usize.checked_add(len)?)?;
    Some((s, &b[4 + len..]))
}

/// A server host key, as read from the key exchange reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostKey<'a> {
    /// The key blob K_S (its type name first).
    pub blob: &'a [u8],
    /// Its type (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa` ...).
    pub key_type: &'a str,
}

impl HostKey<'_> {
    /// The fingerprint as OpenSSH prints it: `SHA256:` and the unpadded base64 of the
    /// SHA-256 of the blob.
    pub fn fingerprint(&self) -> String {
        use base64::Engine as _;
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(self.blob);
        format!(
            "SHA256:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
        )
    }
}

/// Reads the host key K_S from a key exchange reply payload (message type byte
/// included): the reply's first string, whose own first string is the key type.
/// `None` when it is not a reply or its lengths or type name are impossible.
pub fn parse_kex_reply(p: &[u8]) -> Option<HostKey<'_>> {
    let (&kind, rest) = p.split_first()?;
    if kind != KEX_REPLY && kind != GEX_REPLY {
        return None;
    }
    let (blob, _) = ssh_string(rest)?;
    let (key_type, _) = ssh_string(blob)?;
    if key_type.is_empty()
        || key_type.len() > MAX_KEY_TYPE
        || !key_type.iter().all(|c| c.is_ascii_graphic() && *c != b',')
    {
        return None;
    }
    Some(HostKey {
        blob,
        key_type: std::str::from_utf8(key_type).ok()?,
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
    /// Each side's kex_algorithms, kept until both are known.
    kex: [Option<String>; 2],
    /// Whether the negotiated key exchange is a Diffie-Hellman group exchange (its
    /// reply is message 33; its 31 carries the group, not the host key); `None` until
    /// both offers were read.
    group_exchange: Option<bool>,
}

/// True when the key exchange the client and server agree on (the client's first
/// algorithm the server also offers, RFC 4253 section 7.1) is a group exchange.
fn negotiates_group_exchange(client: &str, server: &str) -> bool {
    client
        .split(',')
        .find(|a| server.split(',').any(|b| b == *a))
        .is_some_and(|a| a.starts_with("diffie-hellman-group-exchange-"))
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

    /// Keeps a side's key exchange offer until the other's is known: its first
    /// [`MAX_NAMES`] names (RFC 4251 limits a name to 64 bytes; longer ones are skipped).
    fn offer(&mut self, dir: Direction, kex: &str) {
        let names: Vec<&str> = kex
            .split(',')
            .filter(|n| n.len() <= 64)
            .take(MAX_NAMES)
            .collect();
        self.kex[idx(dir)] = Some(names.join(","));
        if let [Some(client), Some(server)] = &self.kex {
            self.group_exchange = Some(negotiates_group_exchange(client, server));
            self.kex = [None, None];
        }
    }

    /// A server message that may be the key exchange reply: reports its host key.
    fn reply(&self, ctx: &FlowContext, payload: &[u8], out: &mut Emitter) {
        let code = payload.first().copied().unwrap_or_default();
        let expected = match self.group_exchange {
            Some(true) => GEX_REPLY,
            Some(false) => KEX_REPLY,
            // Offers not seen (capture started late): a valid key blob decides.
            None => code,
        };
        if code != expected {
            return;
        }
        let Some(key) = parse_kex_reply(payload) else {
            if self.group_exchange.is_some() {
                out.anomaly(PROTOCOL, "malformed key exchange reply");
            }
            return;
        };
        let fingerprint = key.fingerprint();
        let dir = Direction::ToClient;
        let ev = out.begin(
            ctx,
            dir,
            PROTOCOL,
            OpClass::Session,
            u32::from(code),
            "kex_reply",
            true,
        );
        ev.status = Status::Ok;
        ev.attr("host_key_type", Attr::Text(key.key_type.into()))
            .attr("host_key_fingerprint", Attr::Text(fingerprint.clone()));
        let value = format!("{fingerprint} ({})", key.key_type);
        out.identity(ctx, dir, IdentityField::SshHostKey, &value, PROTOCOL);
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
                                    self.offer(dir, k.kex);
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
                            Some(&(KEX_REPLY | GEX_REPLY)) if response => {
                                self.reply(ctx, payload, out)
                            }
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
