//! RDP dissector: the X.224 connection request and confirm that open every RDP session
//! (TPKT on port 3389, and by content).
//!
//! | code | name | op | attributes |
//! |------|------|----|------------|
//! | 1 | connection_request | session | `user` (routing cookie `mstshash`), `cookie_present`, `requested_protocols` |
//! | 2 | connection_confirm | session (response) | `selected_protocol`; failure: status exception with the RDP_NEG_FAILURE code |
//!
//! Everything after the confirm (TLS/CredSSP, or the MCS phase) is not read.

use crate::event::{Attr, OpClass, Status};
use crate::{Direction, Dissector, DissectorFactory, Emitter, FlowContext};

/// Protocol name in records.
pub const PROTOCOL: &str = "rdp";

/// Why bytes are not an RDP connection PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RdpError {
    /// TPKT version or length wrong.
    BadTpkt,
    /// X.224 length indicator or code not a CR/CC of class 0.
    BadX224,
    /// Variable part neither cookie nor negotiation structure.
    BadVariablePart,
}

/// A connection request or confirm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Client → server.
    Request {
        /// `Cookie: mstshash=<user>` value.
        user: Option<String>,
        /// Some routing cookie or token was present.
        cookie: bool,
        /// RDP_NEG_REQ requestedProtocols.
        requested: Option<u32>,
    },
    /// Server → client.
    Confirm {
        /// RDP_NEG_RSP selectedProtocol.
        selected: Option<u32>,
        /// RDP_NEG_FAILURE failureCode.
        failure: Option<u32>,
    },
}

/// Result of [`parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parse {
    /// A PDU and its length.
    Complete(Connection, usize),
    /// Not all of the TPKT has arrived.
    Incomplete,
}

/// Parses a TPKT-framed X.224 connection request (0xE0) or confirm (0xD0).
pub fn parse(b: &[u8]) -> Result<Parse, RdpError> {
    if b.first().is_some_and(|&v| v != 3) || b.get(1).is_some_and(|&v| v != 0) {
        return Err(RdpError::BadTpkt);
    }
    let Some(h) = b.get(..4) else {
        return Ok(Parse::Incomplete);
    };
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if !(11..=1024).contains(&len) {
        return Err(RdpError::BadTpkt);
    }
    let Some(pdu) = b.get(..len) else {
        return Ok(Parse::Incomplete);
    };
    let x = &pdu[4..];
    if usize::from(x[0]) != x.len() - 1 || x[6] & 0xf0 != 0 {
        return Err(RdpError::BadX224);
    }
    let mut var = &x[7..];
    let conn = match x[1] & 0xf0 {
        0xe0 => {
            let mut user = None;
            let mut cookie = false;
            if var.starts_with(b"Cookie: ") {
                let end = var
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .ok_or(RdpError::BadVariablePart)?;
                let line = &var[8..end];
                cookie = true;
                if let Some(u) = line.strip_prefix(b"mstshash=") {
                    user = Some(String::from_utf8_lossy(u).chars().take(64).collect());
                }
                var = &var[end + 2..];
            }
            let requested = match var {
                [] => None,
                [1, _, 8, 0, p @ ..] if p.len() == 4 => {
                    Some(u32::from_le_bytes([p[0], p[1], p[2], p[3]]))
                }
                // A correlation info block may follow the request.
                [1, _, 8, 0, p0, p1, p2, p3, 6, ..] => {
                    Some(u32::from_le_bytes([*p0, *p1, *p2, *p3]))
                }
                _ => return Err(RdpError::BadVariablePart),
            };
            Connection::Request {
                user,
                cookie,
                requested,
            }
        }
        0xd0 => match var {
            [] => Connection::Confirm {
                selected: None,
                failure: None,
            },
            [2, _, 8, 0, p0, p1, p2, p3] => Connection::Confirm {
                selected: Some(u32::from_le_bytes([*p0, *p1, *p2, *p3])),
                failure: None,
            },
            [3, _, 8, 0, p0, p1, p2, p3] => Connection::Confirm {
                selected: None,
                failure: Some(u32::from_le_bytes([*p0, *p1, *p2, *p3])),
            },
            _ => return Err(RdpError::BadVariablePart),
        },
        _ => return Err(RdpError::BadX224),
    };
    Ok(Parse::Complete(conn, len))
}

/// Names of the protocol flags set in `p` (`rdp` for 0).
pub fn protocol_names(p: u32) -> Vec<String> {
    if p == 0 {
        return vec!["rdp".into()];
    }
    let mut v = Vec::new();
    for (bit, name) in [
        (1, "tls"),
        (2, "credssp"),
        (4, "rdstls"),
        (8, "credssp_early_auth"),
        (0x10, "rdsaad"),
    ] {
        if p & bit != 0 {
            v.push(name.to_string());
        }
    }
    let rest = p & !0x1f;
    if rest != 0 {
        v.push(format!("unknown-{rest}"));
    }
    v
}

/// Name of an RDP_NEG_FAILURE code.
pub fn failure_name(code: u32) -> std::borrow::Cow<'static, str> {
    match code {
        1 => "ssl_required_by_server".into(),
        2 => "ssl_not_allowed_by_server".into(),
        3 => "ssl_cert_not_on_server".into(),
        4 => "inconsistent_flags".into(),
        5 => "hybrid_required_by_server".into(),
        6 => "ssl_with_user_auth_required_by_server".into(),
        n => format!("unknown-{n}").into(),
    }
}

/// Per-flow RDP state.
#[derive(Debug, Default)]
pub struct RdpDissector {
    /// Past the connection PDU of this direction: nothing more is read.
    done: [bool; 2],
}

impl RdpDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Dissector for RdpDissector {
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
        let i = usize::from(dir == Direction::ToClient);
        if self.done[i] {
            return data.len();
        }
        match parse(data) {
            Ok(Parse::Incomplete) => 0,
            Ok(Parse::Complete(conn, n)) => {
                self.done[i] = true;
                match conn {
                    Connection::Request {
                        user,
                        cookie,
                        requested,
                    } if dir == Direction::ToServer => {
                        let ev = out.begin(
                            ctx,
                            dir,
                            PROTOCOL,
                            OpClass::Session,
                            1,
                            "connection_request",
                            false,
                        );
                        ev.attr("cookie_present", Attr::Bool(cookie));
                        if let Some(u) = user {
                            ev.attr("user", Attr::Text(u));
                        }
                        if let Some(p) = requested {
                            ev.attr("requested_protocols", Attr::List(protocol_names(p)));
                        }
                    }
                    Connection::Confirm { selected, failure } if dir == Direction::ToClient => {
                        let ev = out.begin(
                            ctx,
                            dir,
                            PROTOCOL,
                            OpClass::Session,
                            2,
                            "connection_confirm",
                            true,
                        );
                        if let Some(p) = selected {
                            ev.attr("selected_protocol", Attr::Text(protocol_names(p).join(",")));
                        }
                        ev.status = match failure {
                            Some(code) => Status::Exception {
                                code,
                                name: failure_name(code),
                            },
                            None => Status::Ok,
                        };
                    }
                    _ => out.anomaly(PROTOCOL, "connection PDU in the wrong direction"),
                }
                n
            }
            Err(e) => {
                out.anomaly(PROTOCOL, format!("connection PDU: {e:?}"));
                self.done[i] = true;
                data.len()
            }
        }
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
        self.done[usize::from(dir == Direction::ToClient)] = true;
    }
}

/// Recognises RDP: port 3389, and an X.224 connection request/confirm whose variable
/// part is exactly RDP's (cookie and/or negotiation structure), which keeps ISO-TSAP
/// flows (S7, MMS) with their TSAP parameters out.
#[derive(Clone, Copy, Debug, Default)]
pub struct RdpFactory;

impl DissectorFactory for RdpFactory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Tcp {
            return 0;
        }
        let on_port = ctx.server_port == 3389;
        let content = match parse(first_payload) {
            Ok(Parse::Complete(
                Connection::Request {
                    cookie, requested, ..
                },
                _,
            )) => dir == Direction::ToServer && (cookie || requested.is_some()),
            Ok(Parse::Complete(Connection::Confirm { selected, failure }, _)) => {
                dir == Direction::ToClient && (selected.is_some() || failure.is_some())
            }
            _ => false,
        };
        match (on_port, content) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(RdpDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(RdpFactory)]
}
