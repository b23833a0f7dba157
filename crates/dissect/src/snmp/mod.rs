//! SNMP dissector (UDP 161 and 162).
//!
//! Function = the PDU type: 0 `get_request` (read), 1 `get_next_request` (read),
//! 2 `response`, 3 `set_request` (write), 4 `trap` (other), 5 `get_bulk_request`
//! (read), 6 `inform_request` (other), 7 `snmpv2_trap` (other), 8 `report`; 255
//! `encrypted_pdu` for v3 messages whose PDU is encrypted. Responses and reports are
//! paired with their request by request-id and carry the request's function and op
//! (unpaired ones keep their own PDU type); attribute `pdu` always names the PDU type.
//!
//! Targets: each varbind OID as space `oid:<dotted>` (start 0, count 1), at most
//! [`parser::MAX_VARBINDS`]. Values: numeric varbind values of set requests and
//! responses. Attributes: `version` (`1`, `2c`, `3`), `community_present` (never the
//! community itself: it is a password), `user`, `engine_id` (v3), `request_id`.
//! Status: a response's non-zero error-status is an exception named after RFC 3416.
//! Identity: sysDescr.0 (1.3.6.1.2.1.1.1.0) in a response is the responder's
//! `Product`; sysName.0 (1.3.6.1.2.1.1.5.0) in a response is the responder's host name
//! (and the attribute `sys_name`).

pub mod parser;

use crate::event::{Attr, OpClass, Status};
use crate::intern::{intern, intern_args};
use crate::{
    Direction, Dissector, DissectorFactory, Emitter, FlowContext, IdentityField, NameSource,
};
use parser::{Message, Value};
use std::borrow::Cow;
use std::collections::VecDeque;

/// Protocol name in records.
pub const PROTOCOL: &str = "snmp";
/// Requests awaiting a response per flow.
pub const MAX_PENDING: usize = 64;
const SYS_DESCR: &str = "1.3.6.1.2.1.1.1.0";
const SYS_NAME: &str = "1.3.6.1.2.1.1.5.0";

/// Name and op of a PDU type.
pub fn pdu_function(t: u8) -> (&'static str, OpClass) {
    match t {
        0 => ("get_request", OpClass::Read),
        1 => ("get_next_request", OpClass::Read),
        2 => ("response", OpClass::Read),
        3 => ("set_request", OpClass::Write),
        4 => ("trap", OpClass::Other),
        5 => ("get_bulk_request", OpClass::Read),
        6 => ("inform_request", OpClass::Other),
        7 => ("snmpv2_trap", OpClass::Other),
        8 => ("report", OpClass::Other),
        _ => ("encrypted_pdu", OpClass::Other),
    }
}

/// Name of an error-status (RFC 3416).
pub fn error_name(code: i64) -> Cow<'static, str> {
    let n = match code {
        1 => "too_big",
        2 => "no_such_name",
        3 => "bad_value",
        4 => "read_only",
        5 => "gen_err",
        6 => "no_access",
        7 => "wrong_type",
        8 => "wrong_length",
        9 => "wrong_encoding",
        10 => "wrong_value",
        11 => "no_creation",
        12 => "inconsistent_value",
        13 => "resource_unavailable",
        14 => "commit_failed",
        15 => "undo_failed",
        16 => "authorization_error",
        17 => "not_writable",
        18 => "inconsistent_name",
        n => return format!("unknown-{n}").into(),
    };
    n.into()
}

/// Lower-case hex of the first 64 bytes.
struct Hex<'a>(&'a [u8]);

impl std::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0
            .iter()
            .take(64)
            .try_for_each(|x| write!(f, "{x:02x}"))
    }
}

/// The first 64 characters of `b` read as UTF-8 (invalid sequences replaced).
fn first_chars(b: &[u8]) -> Cow<'static, str> {
    let text = String::from_utf8_lossy(b);
    let end = text.char_indices().nth(64).map_or(text.len(), |(i, _)| i);
    intern(&text[..end])
}

/// Per-flow SNMP state: open requests by request-id.
#[derive(Debug, Default)]
pub struct SnmpDissector {
    pending: VecDeque<(i64, u8)>,
}

impl SnmpDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    fn emit(&mut self, ctx: &FlowContext, dir: Direction, m: &Message<'_>, out: &mut Emitter) {
        let version = match m.version {
            0 => "1",
            1 => "2c",
            _ => "3",
        };
        let pdu_type = m.pdu.as_ref().map_or(255, |p| p.pdu_type);
        let is_response = matches!(pdu_type, 2 | 8);
        let (mut function, mut op) = (u32::from(pdu_type), pdu_function(pdu_type).1);
        let mut name = pdu_function(pdu_type).0;
        if let Some(p) = &m.pdu {
            if is_response {
                if let Some(i) = self.pending.iter().position(|&(id, _)| id == p.request_id) {
                    if let Some((_, req)) = self.pending.remove(i) {
                        function = u32::from(req);
                        (name, op) = pdu_function(req);
                    }
                }
            } else if matches!(pdu_type, 0 | 1 | 3 | 5 | 6) {
                if self.pending.len() >= MAX_PENDING {
                    self.pending.pop_front();
                    out.anomaly(PROTOCOL, "more open requests than the cap");
                }
                self.pending.push_back((p.request_id, pdu_type));
            }
        }
        let mut descr = None;
        let mut sys_name = None;
        let ev = out.begin(ctx, dir, PROTOCOL, op, function, name, is_response);
        ev.attr("version", Attr::Name(version))
            .attr("pdu", Attr::Name(pdu_function(pdu_type).0));
        if let Some(c) = m.community {
            ev.attr("community_present", Attr::Bool(!c.is_empty()));
        }
        if let Some(u) = m.user {
            if !u.is_empty() {
                // User names and engine ids repeat per agent: interned.
                ev.attr("user", first_chars(u).into());
            }
        }
        if let Some(e) = m.engine_id {
            if !e.is_empty() {
                ev.attr("engine_id", intern_args(format_args!("{}", Hex(e))).into());
            }
        }
        let Some(p) = &m.pdu else {
            return;
        };
        if pdu_type != 4 {
            ev.attr("request_id", Attr::Int(p.request_id));
        }
        if let Some(ent) = &p.enterprise {
            ev.attr("enterprise", Attr::Text(ent.clone()));
            ev.attr("generic_trap", Attr::Int(p.error_status));
        }
        if is_response {
            ev.status = if p.error_status == 0 {
                Status::Ok
            } else {
                Status::Exception {
                    code: u32::try_from(p.error_status).unwrap_or(u32::MAX),
                    name: error_name(p.error_status),
                }
            };
        }
        let carries_values = is_response || pdu_type == 3 || matches!(pdu_type, 4 | 6 | 7);
        for vb in &p.varbinds {
            let space = format!("oid:{}", vb.oid);
            if carries_values {
                match vb.value {
                    Value::Integer(v) => {
                        ev.value(space.clone(), 0, v as f64);
                    }
                    Value::Unsigned(v) => {
                        ev.value(space.clone(), 0, v as f64);
                    }
                    Value::Octets(s) if is_response && vb.oid == SYS_DESCR => {
                        descr = Some(String::from_utf8_lossy(s).into_owned());
                    }
                    Value::Octets(s) if is_response && vb.oid == SYS_NAME => {
                        let name: String = String::from_utf8_lossy(s).chars().take(255).collect();
                        sys_name = Some(name.clone());
                        ev.attr("sys_name", Attr::Text(name));
                    }
                    _ => {}
                }
            }
            ev.target(space, 0, 1);
        }
        if p.truncated {
            out.anomaly(PROTOCOL, "more varbinds than the cap");
        }
        if let Some(d) = descr {
            out.identity(ctx, dir, IdentityField::Product, &d, PROTOCOL);
        }
        if let Some(name) = sys_name {
            let (ip, mac) = ctx.sender(dir);
            out.hostname(Some(ip), mac, &name, NameSource::Snmp);
        }
    }
}

impl Dissector for SnmpDissector {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn on_stream(
        &mut self,
        _ctx: &FlowContext,
        _dir: Direction,
        data: &[u8],
        _out: &mut Emitter,
    ) -> usize {
        data.len()
    }

    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        match parser::parse_message(data) {
            Ok(m) => self.emit(ctx, dir, &m, out),
            Err(e) => out.anomaly(PROTOCOL, e.reason()),
        }
    }
}

/// Recognises SNMP: UDP 161/162, and well-formed messages on other UDP ports.
#[derive(Clone, Copy, Debug, Default)]
pub struct SnmpFactory;

impl DissectorFactory for SnmpFactory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Udp {
            return 0;
        }
        let on_port =
            [161, 162].contains(&ctx.server_port) || [161, 162].contains(&ctx.client_port);
        // The whole datagram must be exactly one message with a PDU or a v3 payload.
        let content = parser::tlv(first_payload).is_ok_and(|(_, rest)| rest.is_empty())
            && parser::parse_message(first_payload).is_ok();
        match (on_port, content) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(SnmpDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(SnmpFactory)]
}
