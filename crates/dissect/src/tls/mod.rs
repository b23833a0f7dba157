//! TLS dissector: the clear-text part of the handshake.
//!
//! Records are framed in both directions; application data is skipped as it streams
//! past. Handshake messages are reassembled across records (bounded by
//! [`parser::MAX_HANDSHAKE`]) until the direction turns encrypted (ChangeCipherSpec, or
//! TLS 1.3 after the ServerHello).
//!
//! Events (function = handshake type, or the record type for alerts):
//!
//! | code | name | direction | op | attributes |
//! |------|------|-----------|----|------------|
//! | 1 | client_hello | request | session | `sni`, `ja4`, `versions`, `alpn`, `ciphers`, `extensions` |
//! | 2 | server_hello (hello_retry_request) | response | session | `version`, `cipher` |
//! | 11 | certificate | response | session | `subject_cn`, `issuer_cn`, `sha256` (TLS ≤ 1.2 only) |
//! | 21 | alert | either | session | `level`, status exception with the alert description |
//!
//! `sha256` is the SHA-256 of the leaf (first) certificate's DER, as 64 lower-case hex
//! digits (what `sha256sum` prints for the DER file); it is also reported as the
//! server's [`IdentityField::TlsCertificate`].

pub mod parser;

use crate::event::{Attr, OpClass, Status};
use crate::{Direction, Dissector, DissectorFactory, Emitter, FlowContext, IdentityField};
use parser::{content, hs, TlsError};

/// Protocol name in records.
pub const PROTOCOL: &str = "tls";

/// Name of an alert description (RFC 8446 section 6).
pub fn alert_name(code: u8) -> std::borrow::Cow<'static, str> {
    let name = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        n => return format!("unknown-{n}").into(),
    };
    name.into()
}

#[derive(Debug, Default)]
struct Side {
    /// Body bytes of the current record still to skip.
    skip: usize,
    /// Handshake records in this direction are no longer readable.
    encrypted: bool,
    /// Handshake bytes awaiting a complete message.
    hs: Vec<u8>,
    /// Looking for a record header after a gap or garbage.
    resync: bool,
}

/// Per-flow TLS state.
#[derive(Debug, Default)]
pub struct TlsDissector {
    sides: [Side; 2],
    /// The server chose TLS 1.3: its messages after the ServerHello are encrypted.
    tls13: bool,
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl TlsDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    fn handshake(&mut self, ctx: &FlowContext, dir: Direction, out: &mut Emitter) {
        let i = idx(dir);
        let mut used = 0;
        loop {
            let buf = &self.sides[i].hs[used..];
            match parser::split_handshake(buf) {
                Ok(Some((ty, body, n))) => {
                    used += n;
                    let body = body.to_vec();
                    self.message(ctx, dir, ty, &body, out);
                    if self.sides[i].encrypted {
                        used = self.sides[i].hs.len();
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    out.anomaly(PROTOCOL, e.reason());
                    used = self.sides[i].hs.len();
                    self.sides[i].encrypted = true;
                    break;
                }
            }
        }
        self.sides[i].hs.drain(..used);
    }

    fn message(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        ty: u8,
        body: &[u8],
        out: &mut Emitter,
    ) {
        match (dir, ty) {
            (Direction::ToServer, hs::CLIENT_HELLO) => match parser::parse_client_hello(body) {
                Ok(ch) => {
                    let ev = out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        OpClass::Session,
                        1,
                        "client_hello",
                        false,
                    );
                    if let Some(sni) = &ch.sni {
                        ev.attr("sni", Attr::Text(sni.clone()));
                    }
                    ev.attr("ja4", Attr::Text(parser::ja4(&ch)));
                    let mut versions: Vec<String> = ch
                        .supported_versions
                        .iter()
                        .filter(|&&v| !parser::is_grease(v))
                        .map(|&v| parser::version_name(v))
                        .collect();
                    if versions.is_empty() {
                        versions.push(parser::version_name(ch.legacy_version));
                    }
                    ev.attr("versions", Attr::List(versions));
                    if !ch.alpn.is_empty() {
                        ev.attr("alpn", Attr::List(ch.alpn.clone()));
                    }
                    ev.attr(
                        "ciphers",
                        Attr::List(ch.ciphers.iter().map(|c| format!("0x{c:04x}")).collect()),
                    );
                    ev.attr(
                        "extensions",
                        Attr::List(ch.extensions.iter().map(|e| e.to_string()).collect()),
                    );
                }
                Err(e) => out.anomaly(PROTOCOL, format!("client hello: {}", e.reason())),
            },
            (Direction::ToClient, hs::SERVER_HELLO) => match parser::parse_server_hello(body) {
                Ok(sh) => {
                    let name = if sh.retry_request {
                        "hello_retry_request"
                    } else {
                        "server_hello"
                    };
                    let ev = out.begin(ctx, dir, PROTOCOL, OpClass::Session, 2, name, true);
                    ev.status = Status::Ok;
                    ev.attr("version", Attr::Text(parser::version_name(sh.version)))
                        .attr("cipher", Attr::Text(format!("0x{:04x}", sh.cipher)));
                    if sh.version == 0x0304 && !sh.retry_request {
                        // Everything the server sends after this is encrypted.
                        self.tls13 = true;
                        self.sides[idx(dir)].encrypted = true;
                    }
                }
                Err(e) => out.anomaly(PROTOCOL, format!("server hello: {}", e.reason())),
            },
            (Direction::ToClient, hs::CERTIFICATE) if !self.tls13 => {
                let leaf = parser::first_certificate(body);
                let names = leaf.and_then(|c| match c {
                    Some(der) => parser::certificate_names(der).map(Some),
                    None => Ok(None),
                });
                match names {
                    Ok(names) => {
                        let ev = out.begin(
                            ctx,
                            dir,
                            PROTOCOL,
                            OpClass::Session,
                            11,
                            "certificate",
                            true,
                        );
                        ev.status = Status::Ok;
                        if let Some(n) = names {
                            if let Some(s) = n.subject_cn {
                                ev.attr("subject_cn", Attr::Text(s));
                            }
                            if let Some(s) = n.issuer_cn {
                                ev.attr("issuer_cn", Attr::Text(s));
                            }
                        }
                        if let Ok(Some(der)) = leaf {
                            let sha256 = parser::certificate_sha256(der);
                            ev.attr("sha256", Attr::Text(sha256.clone()));
                            out.identity(
                                ctx,
                                dir,
                                IdentityField::TlsCertificate,
                                &sha256,
                                PROTOCOL,
                            );
                        }
                    }
                    Err(e) => out.anomaly(PROTOCOL, format!("certificate: {}", e.reason())),
                }
            }
            _ => {}
        }
    }

    fn alert(&mut self, ctx: &FlowContext, dir: Direction, body: &[u8], out: &mut Emitter) {
        let [level, desc] = *body else {
            return;
        };
        let ev = out.begin(
            ctx,
            dir,
            PROTOCOL,
            OpClass::Session,
            21,
            "alert",
            dir == Direction::ToClient,
        );
        ev.attr(
            "level",
            Attr::Text(if level == 2 { "fatal" } else { "warning" }.into()),
        );
        ev.status = Status::Exception {
            code: u32::from(desc),
            name: alert_name(desc),
        };
    }
}

/// Offset of the first plausible record header in `b` (its header valid and, when the
/// next header is present, that one too).
fn find_record(b: &[u8]) -> Option<usize> {
    (0..b.len().saturating_sub(4)).find(|&i| match parser::parse_record_header(&b[i..]) {
        Ok(Some(h)) => {
            parser::parse_record_header(b.get(i + 5 + h.length..).unwrap_or(&[])).is_ok()
        }
        _ => false,
    })
}

impl Dissector for TlsDissector {
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
        let mut pos = 0;
        while pos < data.len() {
            let rest = &data[pos..];
            if self.sides[i].skip > 0 {
                let n = self.sides[i].skip.min(rest.len());
                self.sides[i].skip -= n;
                pos += n;
                continue;
            }
            if self.sides[i].resync {
                match find_record(rest) {
                    Some(off) => {
                        pos += off;
                        self.sides[i].resync = false;
                        continue;
                    }
                    None => return pos + rest.len().saturating_sub(4),
                }
            }
            let h = match parser::parse_record_header(rest) {
                Ok(Some(h)) => h,
                Ok(None) => return pos,
                Err(e) => {
                    out.anomaly(PROTOCOL, e.reason());
                    self.sides[i].resync = true;
                    self.sides[i].hs.clear();
                    pos += 1;
                    continue;
                }
            };
            let readable = !self.sides[i].encrypted;
            let wants_body = readable
                && (h.content_type == content::HANDSHAKE || h.content_type == content::ALERT);
            if !wants_body {
                if h.content_type == content::CHANGE_CIPHER_SPEC {
                    self.sides[i].encrypted = true;
                    self.sides[i].hs.clear();
                }
                pos += 5;
                self.sides[i].skip = h.length;
                continue;
            }
            let Some(body) = rest.get(5..5 + h.length) else {
                return pos;
            };
            pos += 5 + h.length;
            if h.content_type == content::ALERT {
                self.alert(ctx, dir, body, out);
                continue;
            }
            if self.sides[i].hs.len() + body.len() > parser::MAX_HANDSHAKE + 4 {
                out.anomaly(PROTOCOL, TlsError::HandshakeTooLong.reason());
                self.sides[i].hs.clear();
                self.sides[i].encrypted = true;
                continue;
            }
            self.sides[i].hs.extend_from_slice(body);
            self.handshake(ctx, dir, out);
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

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, len: u64, _out: &mut Emitter) {
        let s = &mut self.sides[idx(dir)];
        s.hs.clear();
        if (s.skip as u64) > len {
            // The hole lies inside a skipped record body: framing survives.
            s.skip -= len as usize;
        } else {
            s.skip = 0;
            s.resync = true;
        }
    }
}

/// Content check: a handshake record carrying a ClientHello (to the server) or a
/// ServerHello (to the client), with consistent versions and lengths.
pub fn looks_like_tls(dir: Direction, b: &[u8]) -> bool {
    let Ok(Some(h)) = parser::parse_record_header(b) else {
        return false;
    };
    let want = match dir {
        Direction::ToServer => hs::CLIENT_HELLO,
        Direction::ToClient => hs::SERVER_HELLO,
    };
    h.content_type == content::HANDSHAKE
        && h.length >= 40
        && b.get(5) == Some(&want)
        && b.get(9) == Some(&3)
        && b.get(10).is_some_and(|&v| v <= 4)
        && b.get(6..9).is_some_and(|l| {
            let len = usize::from(l[0]) << 16 | usize::from(l[1]) << 8 | usize::from(l[2]);
            (38..=parser::MAX_HANDSHAKE).contains(&len)
        })
}

/// Recognises TLS flows: port 443, and hellos on any port.
#[derive(Clone, Copy, Debug, Default)]
pub struct TlsFactory;

impl DissectorFactory for TlsFactory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Tcp {
            return 0;
        }
        let on_port = ctx.server_port == 443;
        match (on_port, looks_like_tls(dir, first_payload)) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(TlsDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(TlsFactory)]
}
