//! Modbus/TCP dissector, with the vendor program-management functions that ride on it
//! (Schneider UMAS on function 90, the Modicon programming codes).
//!
//! Framing is the MBAP header ([`parser::parse_frame`]); several ADUs may share a segment
//! and one may span segments. Every request and every response becomes an [`Event`]:
//! reads, writes with their values, exceptions by name, diagnostics by sub-function,
//! read device identification (whose objects also become identity observations of the
//! responding device) and UMAS sub-functions. Responses are paired with their request by
//! transaction id and unit, so a read response carries the register range it answers
//! and its values at their addresses.
//!
//! Caps: at most [`MAX_OPEN_REQUESTS`] unanswered requests per flow (the oldest is
//! dropped, with an anomaly, when a new one would exceed it); at most
//! [`MAX_VALUES`] values per event (the specification's largest coil count).
//!
//! Malformed input: a header that cannot be Modbus (protocol id, length, function 0) is
//! an anomaly, after which the stream is scanned for the next plausible header whose ADU
//! parses; a PDU whose fields disagree with its byte counts is an anomaly, and its event
//! still carries the function code.

pub mod constants;
pub mod parser;

use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, Event, FlowContext, IdentityField,
    OpClass, Status,
};
use constants::*;
use parser::{parse_frame, parse_request, parse_response, Frame, Mbap, Request, Response};
use std::borrow::Cow;
use std::collections::VecDeque;

/// Protocol name in records.
pub const PROTOCOL: &str = "modbus";
/// Well-known Modbus/TCP port.
pub const MODBUS_PORT: u16 = 502;
/// Most requests awaiting a response in one flow.
pub const MAX_OPEN_REQUESTS: usize = 64;
/// Most point values one event carries.
pub const MAX_VALUES: usize = 2000;
/// Most ADUs the content probe examines in a first payload.
const PROBE_MAX_ADUS: usize = 16;

/// What a response needs to know of its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    transaction: u16,
    unit: u8,
    fc: u8,
    /// First point read (functions 1–4, 23 read part, 24).
    address: u16,
    /// Points read.
    quantity: u16,
    /// Sub-code: diagnostics sub-function, MEI type or UMAS code.
    sub: u16,
}

/// Address space of the points a function reads or writes.
fn space(fc: u8) -> &'static str {
    match fc {
        FC_READ_COILS | FC_WRITE_SINGLE_COIL | FC_WRITE_MULTIPLE_COILS => "coil",
        FC_READ_DISCRETE_INPUTS => "discrete_input",
        FC_READ_INPUT_REGISTERS => "input_register",
        _ => "holding_register",
    }
}

/// Per-direction stream state.
#[derive(Clone, Copy, Debug, Default)]
struct StreamState {
    /// Framing was lost: skip to the next plausible ADU before trusting lengths again.
    resync: bool,
}

/// Where to continue after lost framing.
enum Sync {
    Found(usize),
    NeedMore(usize),
}

/// True when an ADU's PDU parses as a message of the side that sent it.
fn pdu_parses(pdu: &[u8], is_request: bool) -> bool {
    if is_request {
        parse_request(pdu).is_ok()
    } else {
        parse_response(pdu).is_ok()
    }
}

fn find_sync(data: &[u8], is_request: bool) -> Sync {
    for off in 0..data.len() {
        let rest = &data[off..];
        if rest.len() <= parser::MBAP_LEN {
            return Sync::NeedMore(off);
        }
        if !parser::plausible_header(rest) {
            continue;
        }
        match parse_frame(rest) {
            Ok(Frame::Complete { pdu, .. }) if pdu_parses(pdu, is_request) => {
                return Sync::Found(off)
            }
            Ok(Frame::Incomplete { .. }) => return Sync::NeedMore(off),
            _ => {}
        }
    }
    Sync::NeedMore(data.len())
}

/// The Modbus/TCP dissector for one flow.
#[derive(Debug, Default)]
pub struct ModbusDissector {
    streams: [StreamState; 2],
    open: VecDeque<Pending>,
}

/// True when data sent in `dir` are requests: the side on port 502 is the server,
/// whichever side opened the connection; without port 502 the initiator is the client.
fn is_request_dir(ctx: &FlowContext, dir: Direction) -> bool {
    let to_server = dir == Direction::ToServer;
    if ctx.client_port == MODBUS_PORT && ctx.server_port != MODBUS_PORT {
        !to_server
    } else {
        to_server
    }
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

/// Adds what every Modbus event carries: the unit and the transaction id.
fn with_header<'a>(e: &'a mut Event, header: &Mbap) -> &'a mut Event {
    e.unit = Some(header.unit.into());
    e.attr("transaction_id", Attr::UInt(header.transaction.into()))
}

/// Adds the values of `quantity` packed bits starting at `address`.
fn bit_values(e: &mut Event, space: &'static str, address: u16, quantity: usize, bits: &[u8]) {
    for i in 0..quantity.min(MAX_VALUES) {
        match parser::bit(bits, i) {
            Some(b) => {
                e.value(space, u64::from(address) + i as u64, f64::from(u8::from(b)));
            }
            None => break,
        }
    }
}

/// Adds register values starting at `address`.
fn register_values(e: &mut Event, space: &'static str, address: u16, registers: &[u8]) {
    for i in 0..(registers.len() / 2).min(MAX_VALUES) {
        if let Some(v) = parser::register(registers, i) {
            e.value(space, u64::from(address) + i as u64, f64::from(v));
        }
    }
}

/// Walks the sub-requests of a file record request into targets `file<N>`.
fn file_record_targets(e: &mut Event, fc: u8, mut data: &[u8]) -> Result<(), &'static str> {
    let mut n = 0;
    while !data.is_empty() && n < 64 {
        let [_ref_type, f0, f1, r0, r1, l0, l1, rest @ ..] = data else {
            return Err("file record sub-request truncated");
        };
        let file = u16::from_be_bytes([*f0, *f1]);
        let record = u16::from_be_bytes([*r0, *r1]);
        let len = u16::from_be_bytes([*l0, *l1]);
        e.target(format!("file{file}"), record.into(), len.into());
        data = rest;
        if fc == FC_WRITE_FILE_RECORD {
            data = data
                .get(usize::from(len) * 2..)
                .ok_or("file record data shorter than its record length")?;
        }
        n += 1;
    }
    Ok(())
}

impl ModbusDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    fn remember(&mut self, p: Pending, out: &mut Emitter) {
        // A retransmitted or reused transaction id replaces the older request.
        self.open
            .retain(|o| !(o.transaction == p.transaction && o.unit == p.unit));
        if self.open.len() >= MAX_OPEN_REQUESTS {
            self.open.pop_front();
            out.anomaly(
                PROTOCOL,
                format!("more than {MAX_OPEN_REQUESTS} requests without response; oldest dropped"),
            );
        }
        self.open.push_back(p);
    }

    fn take(&mut self, header: &Mbap) -> Option<Pending> {
        let i = self
            .open
            .iter()
            .position(|o| o.transaction == header.transaction && o.unit == header.unit)?;
        self.open.remove(i)
    }

    fn request(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        header: &Mbap,
        pdu: &[u8],
        out: &mut Emitter,
    ) {
        let fc = pdu.first().copied().unwrap_or(0);
        let mut pending = Pending {
            transaction: header.transaction,
            unit: header.unit,
            fc,
            address: 0,
            quantity: 0,
            sub: 0,
        };
        let req = match parse_request(pdu) {
            Ok(r) => r,
            Err(err) => {
                out.anomaly(
                    PROTOCOL,
                    format!("malformed {} request: {err}", function_name(fc)),
                );
                with_header(
                    out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        function_op(fc),
                        fc.into(),
                        function_name(fc),
                        false,
                    ),
                    header,
                );
                self.remember(pending, out);
                return;
            }
        };
        let mut fail = None;
        let e = match req {
            Request::Read {
                fc,
                address,
                quantity,
            } => {
                pending.address = address;
                pending.quantity = quantity;
                let e = with_header(
                    out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        OpClass::Read,
                        fc.into(),
                        function_name(fc),
                        false,
                    ),
                    header,
                );
                e.target(space(fc), address.into(), quantity.into());
                e
            }
            Request::WriteSingle { fc, address, value } => {
                let e = with_header(
                    out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        OpClass::Write,
                        fc.into(),
                        function_name(fc),
                        false,
                    ),
                    header,
                );
                e.target(space(fc), address.into(), 1);
                if fc == FC_WRITE_SINGLE_COIL {
                    if value != 0xFF00 && value != 0 {
                        fail = Some(format!(
                            "write_single_coil value {value:#06x} is neither 0xff00 nor 0"
                        ));
                    }
                    e.value("coil", address.into(), f64::from(u8::from(value != 0)));
                } else {
                    e.value("holding_register", address.into(), value.into());
                }
                e
            }
            Request::WriteMultipleCoils {
                address,
                quantity,
                bits,
            } => {
                let fc = FC_WRITE_MULTIPLE_COILS;
                let e = with_header(
                    out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        OpClass::Write,
                        fc.into(),
                        function_name(fc),
                        false,
                    ),
                    header,
                );
                e.target("coil", address.into(), quantity.into());
                bit_values(e, "coil", address, quantity.into(), bits);
                e
            }
            Request::WriteMultipleRegisters {
                address,
                quantity,
                registers,
            } => {
                let fc = FC_WRITE_MULTIPLE_REGISTERS;
                let e = with_header(
                    out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        OpClass::Write,
                        fc.into(),
                        function_name(fc),
                        false,
                    ),
                    header,
                );
                e.target("holding_register", address.into(), quantity.into());
                register_values(e, "holding_register", address, registers);
                e
            }
            Request::MaskWriteRegister {
                address,
                and_mask,
                or_mask,
            } => {
                let fc = FC_MASK_WRITE_REGISTER;
                let e = with_header(
                    out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        OpClass::Write,
                        fc.into(),
                        function_name(fc),
                        false,
                    ),
                    header,
                );
                e.target("holding_register", address.into(), 1)
                    .attr("and_mask", Attr::UInt(and_mask.into()))
                    .attr("or_mask", Attr::UInt(or_mask.into()));
                e
            }
            Request::ReadWriteMultipleRegisters {
                read_address,
                read_quantity,
                write_address,
                write_quantity,
                registers,
            } => {
                pending.address = read_address;
                pending.quantity = read_quantity;
                let fc = FC_READ_WRITE_MULTIPLE_REGISTERS;
                let e = with_header(
                    out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        OpClass::Write,
                        fc.into(),
                        function_name(fc),
                        false,
                    ),
                    header,
                );
                e.target(
                    "holding_register",
                    read_address.into(),
                    read_quantity.into(),
                )
                .target(
                    "holding_register",
                    write_address.into(),
                    write_quantity.into(),
                );
                register_values(e, "holding_register", write_address, registers);
                e
            }
            Request::ReadFifoQueue { address } => {
                pending.address = address;
                let fc = FC_READ_FIFO_QUEUE;
                let e = with_header(
                    out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        OpClass::Read,
                        fc.into(),
                        function_name(fc),
                        false,
                    ),
                    header,
                );
                e.target("holding_register", address.into(), 1);
                e
            }
            Request::FileRecord { fc, data } => {
                let e = with_header(
                    out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        function_op(fc),
                        fc.into(),
                        function_name(fc),
                        false,
                    ),
                    header,
                );
                if let Err(why) = file_record_targets(e, fc, data) {
                    fail = Some(why.to_string());
                }
                e
            }
            Request::Diagnostics { sub_function, data } => {
                pending.sub = sub_function;
                let fc = FC_DIAGNOSTICS;
                let e = with_header(
                    out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        diagnostic_op(sub_function),
                        fc.into(),
                        function_name(fc),
                        false,
                    ),
                    header,
                );
                e.attr("sub_function", Attr::UInt(sub_function.into()))
                    .attr(
                        "sub_function_name",
                        Attr::Text(diagnostic_name(sub_function).into_owned()),
                    );
                if let Some(v) = parser::register(data, 0) {
                    e.attr("data", Attr::UInt(v.into()));
                }
                e
            }
            Request::Encapsulated { mei_type, data } => {
                pending.sub = mei_type.into();
                let fc = FC_ENCAPSULATED_INTERFACE;
                let e = with_header(
                    out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        mei_op(mei_type),
                        fc.into(),
                        function_name(fc),
                        false,
                    ),
                    header,
                );
                e.attr("mei_type", Attr::UInt(mei_type.into()));
                if mei_type == MEI_READ_DEVICE_ID {
                    if let [code, object, ..] = data {
                        e.attr("read_device_id_code", Attr::UInt((*code).into()))
                            .attr("object_id", Attr::UInt((*object).into()));
                    }
                }
                e
            }
            Request::Umas {
                session,
                code,
                data,
            } => {
                pending.sub = code.into();
                let e = with_header(
                    out.begin(
                        ctx,
                        dir,
                        PROTOCOL,
                        umas_op(code),
                        FC_UMAS.into(),
                        umas_name(code),
                        false,
                    ),
                    header,
                );
                e.attr("umas_function", Attr::UInt(code.into()))
                    .attr("umas_session", Attr::UInt(session.into()));
                if !data.is_empty() {
                    e.attr("umas_data_len", Attr::UInt(data.len() as u64));
                }
                e
            }
            Request::Other { fc, .. } => with_header(
                out.begin(
                    ctx,
                    dir,
                    PROTOCOL,
                    function_op(fc),
                    fc.into(),
                    function_name(fc),
                    false,
                ),
                header,
            ),
        };
        let _ = e;
        if let Some(why) = fail {
            out.anomaly(PROTOCOL, why);
        }
        self.remember(pending, out);
    }

    fn response(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        header: &Mbap,
        pdu: &[u8],
        out: &mut Emitter,
    ) {
        let fc = parser::response_function(pdu).unwrap_or(0);
        let mut pending = self.take(header);
        if let Some(p) = pending {
            if p.fc != fc {
                out.anomaly(
                    PROTOCOL,
                    format!(
                        "response function {fc} to a {} request (transaction {})",
                        function_name(p.fc),
                        header.transaction
                    ),
                );
                pending = None;
            }
        }
        let (op, name) = match (fc, pending) {
            (FC_DIAGNOSTICS, Some(p)) => (diagnostic_op(p.sub), function_name(fc)),
            (FC_ENCAPSULATED_INTERFACE, Some(p)) => (mei_op(p.sub as u8), function_name(fc)),
            (FC_UMAS, Some(p)) => (umas_op(p.sub as u8), umas_name(p.sub as u8)),
            _ => (function_op(fc), function_name(fc)),
        };
        let resp = match parse_response(pdu) {
            Ok(r) => r,
            Err(err) => {
                out.anomaly(
                    PROTOCOL,
                    format!("malformed {} response: {err}", function_name(fc)),
                );
                with_header(
                    out.begin(ctx, dir, PROTOCOL, op, fc.into(), name, true),
                    header,
                );
                return;
            }
        };
        let e = with_header(
            out.begin(ctx, dir, PROTOCOL, op, fc.into(), name, true),
            header,
        );
        e.status = Status::Ok;
        if pending.is_none() {
            e.attr("unpaired", Attr::Bool(true));
        }
        // The points the request addressed, when the response does not repeat them.
        let request_target = |e: &mut Event| {
            if let Some(p) = pending {
                if matches!(p.fc, 1..=4 | FC_READ_WRITE_MULTIPLE_REGISTERS) {
                    e.target(space(p.fc), p.address.into(), p.quantity.into());
                } else if p.fc == FC_READ_FIFO_QUEUE {
                    e.target("holding_register", p.address.into(), 1);
                }
            }
        };
        match resp {
            Response::Exception { code, .. } => {
                e.status = Status::Exception {
                    code: code.into(),
                    name: exception_name(code),
                };
                request_target(e);
            }
            Response::ReadBits { fc, bits } => {
                request_target(e);
                if let Some(p) = pending {
                    let quantity = usize::from(p.quantity);
                    if bits.len() != quantity.div_ceil(8) {
                        out.anomaly(
                            PROTOCOL,
                            format!(
                                "{} response with {} data bytes for {quantity} points",
                                function_name(fc),
                                bits.len()
                            ),
                        );
                    }
                    let e = out.events.last_mut().expect("the event was just pushed");
                    bit_values(e, space(fc), p.address, quantity, bits);
                }
            }
            Response::ReadRegisters { fc, registers } => {
                request_target(e);
                if let Some(p) = pending {
                    if registers.len() != usize::from(p.quantity) * 2 {
                        out.anomaly(
                            PROTOCOL,
                            format!(
                                "{} response with {} registers for {} requested",
                                function_name(fc),
                                registers.len() / 2,
                                p.quantity
                            ),
                        );
                    }
                    let e = out.events.last_mut().expect("the event was just pushed");
                    let n = registers.len().min(usize::from(p.quantity) * 2);
                    register_values(e, space(p.fc), p.address, &registers[..n]);
                }
            }
            Response::WriteSingle { fc, address, value } => {
                e.target(space(fc), address.into(), 1);
                let v = if fc == FC_WRITE_SINGLE_COIL {
                    f64::from(u8::from(value != 0))
                } else {
                    value.into()
                };
                e.value(space(fc), address.into(), v);
            }
            Response::WriteMultiple {
                fc,
                address,
                quantity,
            } => {
                e.target(space(fc), address.into(), quantity.into());
            }
            Response::MaskWriteRegister {
                address,
                and_mask,
                or_mask,
            } => {
                e.target("holding_register", address.into(), 1)
                    .attr("and_mask", Attr::UInt(and_mask.into()))
                    .attr("or_mask", Attr::UInt(or_mask.into()));
            }
            Response::ReadFifoQueue { registers } => {
                request_target(e);
                e.attr("fifo_count", Attr::UInt((registers.len() / 2) as u64));
            }
            Response::Diagnostics { sub_function, data } => {
                e.attr("sub_function", Attr::UInt(sub_function.into()))
                    .attr(
                        "sub_function_name",
                        Attr::Text(diagnostic_name(sub_function).into_owned()),
                    );
                if let Some(v) = parser::register(data, 0) {
                    e.attr("data", Attr::UInt(v.into()));
                }
            }
            Response::DeviceIdentification {
                read_code,
                conformity,
                more_follows,
                objects,
                ..
            } => {
                e.attr("mei_type", Attr::UInt(MEI_READ_DEVICE_ID.into()))
                    .attr("read_device_id_code", Attr::UInt(read_code.into()))
                    .attr("conformity_level", Attr::UInt(conformity.into()))
                    .attr("more_follows", Attr::Bool(more_follows));
                let mut identity = Vec::new();
                for object in objects {
                    let text = String::from_utf8_lossy(object.value);
                    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
                    let attr = match object.id {
                        0 => Some("vendor_name"),
                        1 => Some("product_code"),
                        2 => Some("major_minor_revision"),
                        3 => Some("vendor_url"),
                        4 => Some("product_name"),
                        5 => Some("model_name"),
                        6 => Some("user_application_name"),
                        _ => None,
                    };
                    if let Some(attr) = attr {
                        e.attr(attr, Attr::Text(text.to_string()));
                    }
                    let field = match object.id {
                        0 => Some(IdentityField::Vendor),
                        1 | 5 => Some(IdentityField::Model),
                        2 => Some(IdentityField::Firmware),
                        4 => Some(IdentityField::Product),
                        _ => None,
                    };
                    if let Some(field) = field {
                        identity.push((field, text.to_string()));
                    }
                }
                for (field, value) in identity {
                    out.identity(ctx, dir, field, &value, PROTOCOL);
                }
            }
            Response::Umas { status, data, .. } => {
                if let Some(p) = pending {
                    e.attr("umas_function", Attr::UInt(p.sub.into()));
                }
                e.attr("umas_status", Attr::UInt(status.into()));
                match status {
                    UMAS_OK => {}
                    UMAS_ERROR => {
                        e.status = Status::Exception {
                            code: status.into(),
                            name: Cow::Owned(format!(
                                "umas_error-{}",
                                data.first().copied().unwrap_or(0)
                            )),
                        }
                    }
                    other => {
                        e.status = Status::Exception {
                            code: other.into(),
                            name: Cow::Owned(format!("unknown-{other}")),
                        }
                    }
                }
            }
            Response::Other { .. } => {}
        }
    }

    fn message(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        header: &Mbap,
        pdu: &[u8],
        out: &mut Emitter,
    ) {
        if is_request_dir(ctx, dir) {
            self.request(ctx, dir, header, pdu, out);
        } else {
            self.response(ctx, dir, header, pdu, out);
        }
    }
}

impl Dissector for ModbusDissector {
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
        let idx = dir_index(dir);
        let is_request = is_request_dir(ctx, dir);
        let mut consumed = 0;
        while consumed < data.len() {
            let rest = &data[consumed..];
            if self.streams[idx].resync {
                match find_sync(rest, is_request) {
                    Sync::Found(off) => {
                        consumed += off;
                        self.streams[idx].resync = false;
                        continue;
                    }
                    Sync::NeedMore(off) => return consumed + off,
                }
            }
            match parse_frame(rest) {
                Ok(Frame::Complete {
                    header,
                    pdu,
                    consumed: n,
                }) => {
                    self.message(ctx, dir, &header, pdu, out);
                    consumed += n;
                }
                Ok(Frame::Incomplete { .. }) => break,
                Err(e) => {
                    out.anomaly(PROTOCOL, format!("bad MBAP header: {e}; resynchronising"));
                    self.streams[idx].resync = true;
                    consumed += 1;
                }
            }
        }
        consumed
    }

    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        // Modbus over UDP carries one ADU per datagram, framed like TCP.
        let mut rest = data;
        while !rest.is_empty() {
            match parse_frame(rest) {
                Ok(Frame::Complete {
                    header,
                    pdu,
                    consumed,
                }) => {
                    self.message(ctx, dir, &header, pdu, out);
                    rest = &rest[consumed..];
                }
                Ok(Frame::Incomplete { .. }) => {
                    out.anomaly(PROTOCOL, "datagram ends inside an ADU");
                    return;
                }
                Err(e) => {
                    out.anomaly(PROTOCOL, format!("bad MBAP header: {e}"));
                    return;
                }
            }
        }
    }

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, _len: u64, _out: &mut Emitter) {
        self.streams[dir_index(dir)].resync = true;
    }
}

/// True when `payload` is a whole number of plausible ADUs (at most a few) whose PDUs
/// parse as messages of the side that sent them. Strict on purpose: a probe on any port
/// must not claim other protocols' flows.
pub fn content_matches(payload: &[u8], is_request: bool) -> bool {
    let mut rest = payload;
    let mut adus = 0;
    while !rest.is_empty() && adus < PROBE_MAX_ADUS {
        if !parser::plausible_header(rest) {
            return false;
        }
        match parse_frame(rest) {
            Ok(Frame::Complete { pdu, consumed, .. }) if pdu_parses(pdu, is_request) => {
                rest = &rest[consumed..];
                adus += 1;
            }
            _ => return false,
        }
    }
    adus > 0 && rest.is_empty()
}

/// Recognises Modbus/TCP flows: port 502, and by content on any port.
#[derive(Clone, Copy, Debug, Default)]
pub struct ModbusFactory;

impl DissectorFactory for ModbusFactory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Tcp {
            return 0;
        }
        let on_port = ctx.server_port == MODBUS_PORT || ctx.client_port == MODBUS_PORT;
        let content = content_matches(first_payload, is_request_dir(ctx, dir));
        crate::registry::confidence(on_port, content)
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(ModbusDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(ModbusFactory)]
}
