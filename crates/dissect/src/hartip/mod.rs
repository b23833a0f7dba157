//! HART-IP (UDP and TCP 5094).
//!
//! Every HART-IP message is an event: session initiate/close and keep-alive as session,
//! pass-through messages by the HART command they carry (command 0 read unique identifier
//! as identify — its response gives manufacturer, device type and revisions — reads,
//! writes, device reset as control ...). Process values of commands 1–3 are reported.
//! HART response codes and HART-IP status become the status; responses are paired by
//! sequence number.

pub mod constants;
pub mod parser;

use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, Event, FlowContext, IdentityField,
    Status, Transport,
};
use parser::{parse_header, parse_pdu, Header, HEADER_LEN};

/// Well-known HART-IP port (UDP and TCP).
pub const HARTIP_PORT: u16 = 5094;
const PROTO: &str = "hartip";
/// Function numbers of non-pass-through messages: this plus the message id.
pub const MESSAGE_FUNCTION_BASE: u32 = 0x1_0000;

/// The HART-IP dissector of one flow.
#[derive(Debug, Default)]
pub struct HartIpDissector {
    resync: [bool; 2],
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

fn f32_at(d: &[u8], at: usize) -> Option<f64> {
    let b = d.get(at..at + 4)?;
    Some(f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]])))
}

impl HartIpDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one whole HART-IP message.
    pub fn handle_message(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter,
    ) {
        let h = match parse_header(data) {
            Ok(h) => h,
            Err(e) => {
                out.anomaly(PROTO, format!("malformed HART-IP message: {e}"));
                return;
            }
        };
        let body = data
            .get(HEADER_LEN..usize::from(h.byte_count))
            .unwrap_or_default();
        let is_response = h.message_type != 0;
        if h.message_id == 3 {
            self.pass_through(ctx, dir, &h, body, out);
            return;
        }
        if h.message_id == 4 {
            if let Ok(c) = parser::parse_direct_pdu(body) {
                let (name, op) = constants::command(c.command);
                let mut ev = Event::new(PROTO, op, u32::from(c.command), name, is_response);
                header_attrs(&mut ev, &h);
                ev.attr("direct_pdu", Attr::Bool(true));
                if is_response {
                    ev.status = match c.data.first() {
                        Some(&code) if code != 0 => Status::Exception {
                            code: u32::from(code),
                            name: constants::response_code(code),
                        },
                        _ => header_status(&h),
                    };
                }
                out.event(ctx, dir, ev);
                return;
            }
        }
        let (name, op) = constants::message_id(h.message_id);
        let mut ev = Event::new(
            PROTO,
            op,
            MESSAGE_FUNCTION_BASE + u32::from(h.message_id),
            name,
            is_response,
        );
        header_attrs(&mut ev, &h);
        if is_response {
            ev.status = header_status(&h);
        }
        if h.message_id == 0 {
            if let Some(&host_type) = body.first() {
                ev.attr("host_type", Attr::UInt(host_type.into()));
            }
            if let Some(t) = body.get(1..5) {
                ev.attr(
                    "inactivity_close_timer",
                    Attr::UInt(u32::from_be_bytes([t[0], t[1], t[2], t[3]]).into()),
                );
            }
        }
        out.event(ctx, dir, ev);
    }

    fn pass_through(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        h: &Header,
        body: &[u8],
        out: &mut Emitter,
    ) {
        let pdu = match parse_pdu(body) {
            Ok(p) => p,
            Err(e) => {
                // Error and NAK messages may carry no PDU: report the message itself.
                if h.message_type == 0 || h.message_type == 1 || h.message_type == 2 {
                    out.anomaly(PROTO, format!("malformed HART-IP pass-through: {e}"));
                }
                let (name, op) = constants::message_id(h.message_id);
                let mut ev = Event::new(
                    PROTO,
                    op,
                    MESSAGE_FUNCTION_BASE + u32::from(h.message_id),
                    name,
                    h.message_type != 0,
                );
                header_attrs(&mut ev, h);
                ev.status = header_status(h);
                out.event(ctx, dir, ev);
                return;
            }
        };
        let (name, op) = constants::command(u16::from(pdu.command));
        let is_response = h.message_type != 0;
        let mut ev = Event::new(PROTO, op, u32::from(pdu.command), name, is_response);
        header_attrs(&mut ev, h);
        ev.unit = Some((pdu.address & 0xFFFF_FFFF) as u32);
        ev.attr("long_address", Attr::Bool(pdu.long_address));
        if h.message_type == 2 {
            ev.attr("publish", Attr::Bool(true));
        }
        let mut identity = None;
        if let Some((code, device_status)) = pdu.status {
            ev.attr("device_status", Attr::UInt(device_status.into()));
            // Codes 8 and up to 15 except 9-13,14 are warnings; only errors are exceptions.
            ev.status = if code == 0 || matches!(code, 8 | 14 | 30 | 31 | 33) && code & 0x80 == 0 {
                Status::Ok
            } else {
                Status::Exception {
                    code: u32::from(code),
                    name: constants::response_code(code),
                }
            };
            if code != 0 {
                ev.attr("response_code", Attr::UInt(code.into()));
            }
            if h.status != 0 && is_response {
                ev.status = header_status(h);
            }
            let d = pdu.data;
            match pdu.command {
                0 | 11 | 21 if d.len() >= 12 => {
                    let universal = d[4];
                    let (manufacturer, device_type) = if universal >= 7 && d.len() >= 19 {
                        (
                            u16::from_be_bytes([d[17], d[18]]),
                            u16::from_be_bytes([d[1], d[2]]),
                        )
                    } else {
                        (u16::from(d[1]), u16::from(d[2]))
                    };
                    let device_id = u32::from_be_bytes([0, d[9], d[10], d[11]]);
                    ev.attr("manufacturer_id", Attr::UInt(manufacturer.into()))
                        .attr("device_type", Attr::UInt(device_type.into()))
                        .attr("universal_revision", Attr::UInt(universal.into()))
                        .attr("device_revision", Attr::UInt(d[5].into()))
                        .attr("software_revision", Attr::UInt(d[6].into()))
                        .attr("device_id", Attr::UInt(device_id.into()));
                    identity = Some((manufacturer, device_type, d[5], d[6], device_id));
                }
                1 => {
                    if let Some(v) = f32_at(d, 1) {
                        ev.value("dynamic_variable", 0, v);
                    }
                }
                2 => {
                    if let (Some(c), Some(p)) = (f32_at(d, 0), f32_at(d, 4)) {
                        ev.value("loop_current", 0, c)
                            .value("percent_of_range", 0, p);
                    }
                }
                3 => {
                    if let Some(c) = f32_at(d, 0) {
                        ev.value("loop_current", 0, c);
                    }
                    for i in 0..4 {
                        if let Some(v) = f32_at(d, 5 + i * 5) {
                            ev.value("dynamic_variable", i as u64, v);
                        }
                    }
                }
                _ => {}
            }
        } else {
            match pdu.command {
                6 => {
                    if let Some(&a) = pdu.data.first() {
                        ev.value("polling_address", 0, f64::from(a));
                    }
                }
                17 | 18 | 22 => {
                    ev.attr("data_len", Attr::UInt(pdu.data.len() as u64));
                }
                _ => {}
            }
        }
        out.event(ctx, dir, ev);
        if let Some((m, t, rev, sw, id)) = identity {
            out.identity(
                ctx,
                dir,
                IdentityField::Vendor,
                &format!("hart-manufacturer-{m}"),
                PROTO,
            );
            out.identity(
                ctx,
                dir,
                IdentityField::Model,
                &format!("hart-device-type-{t:#06x}"),
                PROTO,
            );
            out.identity(
                ctx,
                dir,
                IdentityField::Firmware,
                &format!("rev{rev}/sw{sw}"),
                PROTO,
            );
            out.identity(ctx, dir, IdentityField::Serial, &format!("{id:06x}"), PROTO);
        }
    }
}

fn header_attrs(ev: &mut Event, h: &Header) {
    ev.attr("version", Attr::UInt(h.version.into()))
        .attr("message_type", Attr::UInt(h.message_type.into()))
        .attr("message_id", Attr::UInt(h.message_id.into()))
        .attr("sequence", Attr::UInt(h.sequence.into()));
}

fn header_status(h: &Header) -> Status {
    match (h.message_type, h.status) {
        (3 | 15, s) => Status::Exception {
            code: u32::from(s),
            name: if h.message_type == 15 {
                "nak".into()
            } else {
                "error".into()
            },
        },
        (_, 0) => Status::Ok,
        (_, s) => Status::Exception {
            code: u32::from(s),
            name: format!("status-{s}").into(),
        },
    }
}

impl Dissector for HartIpDissector {
    fn name(&self) -> &'static str {
        PROTO
    }

    fn on_stream(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter,
    ) -> usize {
        let idx = dir_index(dir);
        let mut consumed = 0;
        while consumed < data.len() {
            let rest = &data[consumed..];
            if self.resync[idx] {
                match (0..rest.len()).find(|&o| plausible_header(&rest[o..])) {
                    Some(off) => {
                        consumed += off;
                        self.resync[idx] = false;
                        continue;
                    }
                    None => return consumed + rest.len().saturating_sub(HEADER_LEN),
                }
            }
            if rest.len() < HEADER_LEN {
                break;
            }
            match parse_header(rest) {
                Ok(h) => {
                    let n = usize::from(h.byte_count);
                    let Some(msg) = rest.get(..n) else { break };
                    self.handle_message(ctx, dir, msg, out);
                    consumed += n;
                }
                Err(e) => {
                    out.anomaly(PROTO, format!("malformed HART-IP header: {e}"));
                    self.resync[idx] = true;
                    consumed += 1;
                }
            }
        }
        consumed
    }

    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        self.handle_message(ctx, dir, data, out);
    }

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, _len: u64, _out: &mut Emitter) {
        self.resync[dir_index(dir)] = true;
    }
}

/// A header whose version, type, id and length are all in range.
fn plausible_header(data: &[u8]) -> bool {
    parse_header(data).is_ok_and(|h| matches!(h.message_type, 0..=3 | 15) && h.message_id <= 5)
}

/// A datagram that is exactly one HART-IP message whose body fits its message id: a
/// pass-through message must hold a well-formed HART PDU that ends where the message ends
/// (after optional preambles and the check byte).
fn strict_content(payload: &[u8]) -> bool {
    let Ok(h) = parse_header(payload) else {
        return false;
    };
    if usize::from(h.byte_count) != payload.len() || !plausible_header(payload) {
        return false;
    }
    let body = &payload[HEADER_LEN..];
    match h.message_id {
        0 => body.len() == 5,
        1 | 2 => body.is_empty(),
        // The PDU is followed by exactly its check byte.
        3 => parse_pdu(body).is_ok_and(|p| p.len + 1 == body.len()),
        _ => false,
    }
}

/// Content check: a plausible header whose byte count matches a UDP datagram exactly.
pub fn content_matches(transport: Transport, payload: &[u8]) -> bool {
    plausible_header(payload)
        && parse_header(payload).is_ok_and(|h| match transport {
            Transport::Udp => usize::from(h.byte_count) == payload.len(),
            Transport::Tcp => {
                usize::from(h.byte_count) <= payload.len() || payload.len() >= HEADER_LEN
            }
        })
}

/// Recognises HART-IP flows.
#[derive(Clone, Copy, Debug)]
pub struct HartIpFactory;

impl DissectorFactory for HartIpFactory {
    fn name(&self) -> &'static str {
        PROTO
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        let on_port = ctx.server_port == HARTIP_PORT || ctx.client_port == HARTIP_PORT;
        match (on_port, content_matches(ctx.transport, first_payload)) {
            (true, true) => 3,
            (true, false) => 1,
            // Servers answer UDP sessions from a new port, so content alone must be
            // able to claim a flow; the header is short, so the check is strict.
            (false, true) if strict_content(first_payload) => 2,
            _ => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(HartIpDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(HartIpFactory)]
}
