//! EtherNet/IP (encapsulation, TCP and UDP 44818), CIP explicit messaging carried in it,
//! and CIP I/O (UDP 2222).
//!
//! Framing: every TCP message is a 24-byte encapsulation header and `length` bytes of
//! data; several may share a segment and one may span segments. After a gap (or a header
//! that cannot be right) the dissector looks for the next plausible header.
//!
//! Outputs, protocol `enip`: one event per encapsulation command that carries no CIP
//! (NOP, ListServices, ListIdentity, ListInterfaces, RegisterSession, UnRegisterSession,
//! and data commands the peer refused), with the encapsulation status on responses; the
//! identity (vendor, product name, revision, serial) a ListIdentity response announces,
//! attributed to the responder; one `io_data` event per UDP I/O datagram (connection id
//! and sequence number).
//!
//! Outputs, protocol `cip`: one event per CIP request and response carried by SendRRData
//! (unconnected, paired by sender context) or SendUnitData (connected, paired by
//! connection id and sequence count, with the ids a Forward Open assigned). Unconnected
//! Send is unwrapped (the event is the embedded request); each request and response
//! inside a Multiple Service Packet becomes its own event after the packet's own event.
//! Targets are `tag:<name>` for symbolic paths and `class<N>/instance<M>/attribute<K>`
//! otherwise; Write Tag values and Read Tag response values of atomic types become
//! values; general status (and extended status) become the status.

pub mod constants;
pub mod parser;

use crate::intern::intern;
use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, FlowContext, IdentityField, OpClass,
    Status, Transport,
};
use constants::*;
use parser::{CipMessage, CipRequest, CipResponse, EncapHeader, HEADER_LEN};
use std::borrow::Cow;
use std::collections::VecDeque;

/// Well-known encapsulation port (TCP and UDP).
pub const PORT: u16 = 44818;
/// Well-known port of CIP class 0/1 I/O over UDP.
pub const IO_PORT: u16 = 2222;

/// Most unanswered requests remembered per flow.
const MAX_PENDING: usize = 64;
/// Most embedded services of a Multiple Service Packet turned into events.
const MAX_EMBEDDED: usize = 64;
/// Most connections whose ids are remembered per flow.
const MAX_CONNECTIONS: usize = 32;
/// Most values reported per message.
const MAX_VALUES: usize = 32;
/// Requests unanswered for longer than this (microseconds) are forgotten silently: the
/// reply was lost, and a stale entry must not push out live ones.
const PENDING_TIMEOUT_US: i64 = 30_000_000;
/// Deepest nesting of Unconnected Send / Multiple Service Packet unwrapped.
const MAX_DEPTH: u8 = 3;

const ENIP: &str = "enip";
const CIP: &str = "cip";

/// What a request asked, kept to describe its response.
#[derive(Clone, Debug, PartialEq)]
struct Svc {
    service: u8,
    name: Cow<'static, str>,
    op: OpClass,
    space: Option<Cow<'static, str>>,
    count: u32,
    class: Option<u32>,
}

/// How a response finds its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    /// Unconnected: the encapsulation sender context.
    Context(u64),
    /// Connected: O→T connection id and sequence count.
    Connected(u32, u16),
}

#[derive(Debug)]
struct Pending {
    key: Key,
    svc: Svc,
    parts: Vec<Svc>,
    ts: records::Timestamp,
}

/// The EtherNet/IP dissector: one per flow.
#[derive(Debug, Default)]
pub struct EnipDissector {
    resync: [bool; 2],
    pending: VecDeque<Pending>,
    /// Connections a Forward Open set up: (T→O id, O→T id).
    conns: VecDeque<(u32, u32)>,
    tag: String,
    space: String,
    /// The last path's space, reused while requests address the same path.
    last: Option<LastSpace>,
    /// Attribute and value lists, reused from message to message.
    attrs: Vec<(&'static str, Attr)>,
    values: Vec<(u64, f64)>,
}

/// A path and tag text with their interned target space.
#[derive(Debug)]
struct LastSpace {
    path: parser::EPath,
    tag: String,
    space: Cow<'static, str>,
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

fn service_name(service: u8, class: Option<u32>) -> (Cow<'static, str>, OpClass) {
    match service_info(service, class) {
        Some((n, op)) => (Cow::Borrowed(n), op),
        None => (Cow::Owned(format!("unknown-{service}")), OpClass::Other),
    }
}

fn u16_le(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off + 2)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_le(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// True when a message that can be trusted starts at `rest`: a plausible header whose
/// body (when present) looks like that command's. Stricter than framing an in-step
/// stream: runs of zeros look like NOP headers, so NOP never qualifies.
fn trusted_start(rest: &[u8]) -> bool {
    let Ok(h) = parser::parse_header(rest) else {
        return false;
    };
    if !parser::plausible_header(&h) {
        return false;
    }
    let body = rest.get(HEADER_LEN..HEADER_LEN + usize::from(h.length));
    match (h.command, body) {
        (CMD_NOP, _) => false,
        (CMD_REGISTER_SESSION, Some(b)) => b == [1, 0, 0, 0] || h.status != 0,
        (CMD_UNREGISTER_SESSION, _) => h.session != 0,
        (CMD_SEND_RR_DATA | CMD_SEND_UNIT_DATA, Some(b)) if h.status == 0 => {
            b.get(..4) == Some(&[0, 0, 0, 0][..])
                && parser::parse_data_cpf(b).is_ok_and(|cpf| {
                    let mut n = 0;
                    let known = cpf.items().all(|i| {
                        n += 1;
                        matches!(
                            i.type_id,
                            ITEM_NULL
                                | ITEM_CONNECTED_ADDRESS
                                | ITEM_CONNECTED_DATA
                                | ITEM_UNCONNECTED_DATA
                                | ITEM_SEQUENCED_ADDRESS
                                | 0x8000
                                | 0x8001
                        )
                    });
                    known && (1..=4).contains(&n)
                })
        }
        (CMD_LIST_IDENTITY | CMD_LIST_SERVICES | CMD_LIST_INTERFACES, Some(b)) => {
            b.is_empty() || parser::parse_cpf(b).is_ok()
        }
        // Other commands, or the body is not here yet: the header has to do.
        _ => true,
    }
}

/// True when `b` starts with a whole message that can be trusted (the content probe).
pub fn looks_like_enip(b: &[u8]) -> bool {
    parser::looks_like_encap(b) && trusted_start(b)
}

/// Offset of the next place a message can be trusted to start, if any.
fn find_sync(data: &[u8]) -> Option<usize> {
    (0..data.len().saturating_sub(HEADER_LEN - 1)).find(|&off| trusted_start(&data[off..]))
}

impl EnipDissector {
    /// Handles one encapsulation message. `udp` messages decide request/response by
    /// content where the direction cannot (broadcast ListIdentity replies).
    fn message(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        h: &EncapHeader,
        body: &[u8],
        udp: bool,
        out: &mut Emitter,
    ) {
        let list = matches!(
            h.command,
            CMD_LIST_IDENTITY | CMD_LIST_SERVICES | CMD_LIST_INTERFACES
        );
        let is_request = if udp && list {
            body.is_empty() && h.status == 0
        } else {
            dir == Direction::ToServer
        };
        match h.command {
            CMD_SEND_RR_DATA | CMD_SEND_UNIT_DATA if h.status == 0 => {
                self.data_message(ctx, dir, h, body, out)
            }
            _ => self.encap_event(ctx, dir, h, body, is_request, out),
        }
    }

    fn encap_event(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        h: &EncapHeader,
        body: &[u8],
        is_request: bool,
        out: &mut Emitter,
    ) {
        let (name, op) = match command_info(h.command) {
            Some((n, op)) => (Cow::Borrowed(n), op),
            None => (Cow::Owned(format!("unknown-{}", h.command)), OpClass::Other),
        };
        let mut identity = None;
        if h.command == CMD_LIST_IDENTITY && !is_request && h.status == 0 {
            match parser::parse_cpf(body) {
                Ok(cpf) => {
                    if let Some(item) = cpf.find(ITEM_LIST_IDENTITY) {
                        match parser::parse_identity(item.data) {
                            Ok(id) => identity = Some(id),
                            Err(e) => out.anomaly(ENIP, format!("list_identity item: {e}")),
                        }
                    }
                }
                Err(e) => out.anomaly(ENIP, format!("list_identity reply: {e}")),
            }
        }
        if let Some(id) = &identity {
            let vendor = match vendor_name(id.vendor) {
                Some(v) => Cow::Borrowed(v),
                None => Cow::Owned(format!("vendor-{}", id.vendor)),
            };
            let product = String::from_utf8_lossy(id.product_name);
            out.identity(ctx, dir, IdentityField::Vendor, &vendor, ENIP);
            out.identity(ctx, dir, IdentityField::Product, &product, ENIP);
            let firmware = format!("{}.{:02}", id.major, id.minor);
            out.identity(ctx, dir, IdentityField::Firmware, &firmware, ENIP);
            let serial = format!("0x{:08x}", id.serial);
            out.identity(ctx, dir, IdentityField::Serial, &serial, ENIP);
        }
        let ev = out.begin(ctx, dir, ENIP, op, u32::from(h.command), name, !is_request);
        if !is_request {
            ev.status = if h.status == 0 {
                Status::Ok
            } else {
                Status::Exception {
                    code: h.status,
                    name: Cow::Borrowed(encap_status_name(h.status)),
                }
            };
        }
        if h.session != 0 {
            ev.attr("session_handle", Attr::UInt(u64::from(h.session)));
        }
        if let Some(id) = identity {
            ev.attr("vendor_id", Attr::UInt(u64::from(id.vendor)));
            let dt = match device_type_name(id.device_type) {
                Some(n) => n.to_string(),
                None => format!("unknown-{}", id.device_type),
            };
            ev.attr("device_type", Attr::Text(dt));
            ev.attr("product_code", Attr::UInt(u64::from(id.product_code)));
            ev.attr(
                "product_name",
                Attr::Text(String::from_utf8_lossy(id.product_name).into_owned()),
            );
            ev.attr(
                "revision",
                Attr::Text(format!("{}.{:02}", id.major, id.minor)),
            );
            ev.attr("serial", Attr::Text(format!("0x{:08x}", id.serial)));
        }
    }

    fn data_message(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        h: &EncapHeader,
        body: &[u8],
        out: &mut Emitter,
    ) {
        let cpf = match parser::parse_data_cpf(body) {
            Ok(c) => c,
            Err(e) => {
                out.anomaly(ENIP, format!("command 0x{:04x}: {e}", h.command));
                return;
            }
        };
        if h.command == CMD_SEND_RR_DATA {
            if let Some(item) = cpf.find(ITEM_UNCONNECTED_DATA) {
                self.cip(ctx, dir, item.data, Key::Context(h.context), None, out);
            }
            return;
        }
        let conn = cpf
            .find(ITEM_CONNECTED_ADDRESS)
            .and_then(|i| u32_le(i.data, 0));
        let data = cpf.find(ITEM_CONNECTED_DATA);
        if let (Some(conn), Some(item)) = (conn, data) {
            match (u16_le(item.data, 0), item.data.get(2..)) {
                (Some(seq), Some(msg)) => {
                    self.cip(ctx, dir, msg, Key::Connected(conn, seq), Some(conn), out)
                }
                _ => out.anomaly(ENIP, "connected data item without sequence count"),
            }
        }
    }

    fn cip(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        msg: &[u8],
        key: Key,
        conn: Option<u32>,
        out: &mut Emitter,
    ) {
        match parser::parse_cip(msg) {
            Err(e) => out.anomaly(CIP, format!("message: {e}")),
            Ok(CipMessage::Request(r)) => {
                let (svc, parts) = self.request(ctx, dir, &r, 0, out);
                self.remember(key, svc, parts, ctx.ts, out);
            }
            Ok(CipMessage::Response(r)) => {
                let pending = self.take(key, conn);
                let (svc, parts) = match &pending {
                    Some(p) => (Some(&p.svc), p.parts.as_slice()),
                    None => (None, &[][..]),
                };
                self.response(ctx, dir, &r, svc, parts, 0, out);
            }
        }
    }

    fn remember(
        &mut self,
        key: Key,
        svc: Svc,
        parts: Vec<Svc>,
        ts: records::Timestamp,
        out: &mut Emitter,
    ) {
        self.pending
            .retain(|p| p.key != key && ts.micros_since(p.ts) <= PENDING_TIMEOUT_US);
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            out.anomaly(
                CIP,
                format!("more than {MAX_PENDING} unanswered requests; oldest dropped"),
            );
        }
        self.pending.push_back(Pending {
            key,
            svc,
            parts,
            ts,
        });
    }

    fn take(&mut self, key: Key, conn: Option<u32>) -> Option<Pending> {
        let key = match (key, conn) {
            (Key::Connected(_, seq), Some(t_o)) => {
                match self.conns.iter().find(|(t, _)| *t == t_o) {
                    Some(&(_, o_t)) => Key::Connected(o_t, seq),
                    // Connection opened before the capture: pair by sequence count alone.
                    None => {
                        let pos = self
                            .pending
                            .iter()
                            .position(|p| matches!(p.key, Key::Connected(_, s) if s == seq))?;
                        return self.pending.remove(pos);
                    }
                }
            }
            (k, _) => k,
        };
        let pos = self.pending.iter().position(|p| p.key == key)?;
        self.pending.remove(pos)
    }

    /// The target space of `path` (symbolic paths: with the tag text in `self.tag`),
    /// interned; consecutive requests to the same path reuse it without formatting.
    fn space_of(&mut self, path: &parser::EPath) -> Option<Cow<'static, str>> {
        if let Some(last) = &self.last {
            if last.path == *path && (!path.symbolic || last.tag == self.tag) {
                return Some(last.space.clone());
            }
        }
        if !path.write_space(&self.tag, &mut self.space) {
            return None;
        }
        let space = intern(&self.space);
        let last = self.last.get_or_insert_with(|| LastSpace {
            path: *path,
            tag: String::new(),
            space: Cow::Borrowed(""),
        });
        last.path = *path;
        last.tag.clone_from(&self.tag);
        last.space = space.clone();
        Some(space)
    }

    /// Emits the event(s) of one request and returns what its response needs.
    fn request(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        r: &CipRequest<'_>,
        depth: u8,
        out: &mut Emitter,
    ) -> (Svc, Vec<Svc>) {
        let path = match parser::parse_path(r.path, &mut self.tag) {
            Ok(p) => p,
            Err(e) => {
                out.anomaly(CIP, format!("request path: {e}"));
                self.tag.clear();
                parser::EPath::default()
            }
        };
        let cm = path.class == Some(CLASS_CONNECTION_MANAGER);
        if r.service == SVC_UNCONNECTED_SEND && cm && depth < MAX_DEPTH {
            match parser::parse_unconnected_send(r.data).map(|u| parser::parse_cip(u.message)) {
                Ok(Ok(CipMessage::Request(inner))) => {
                    return self.request(ctx, dir, &inner, depth + 1, out);
                }
                Ok(Ok(CipMessage::Response(_))) => {
                    out.anomaly(CIP, "unconnected send carries a response")
                }
                Ok(Err(e)) | Err(e) => out.anomaly(CIP, format!("unconnected send: {e}")),
            }
        }
        let (name, op) = service_name(r.service, path.class);
        let mut space = self.space_of(&path);
        let mut count = 1u32;
        let mut values = std::mem::take(&mut self.values);
        let mut attrs = std::mem::take(&mut self.attrs);
        values.clear();
        attrs.clear();
        let mut parts: Vec<&[u8]> = Vec::new();
        match r.service {
            SVC_FORWARD_OPEN | SVC_LARGE_FORWARD_OPEN if cm => {
                match parser::parse_forward_open(r.data, r.service == SVC_LARGE_FORWARD_OPEN) {
                    Ok(fo) => {
                        attrs.push(("o_t_connection_id", Attr::UInt(u64::from(fo.o_t_id))));
                        attrs.push(("t_o_connection_id", Attr::UInt(u64::from(fo.t_o_id))));
                        attrs.push(("connection_serial", Attr::UInt(u64::from(fo.serial))));
                        attrs.push(("rpi_us", Attr::UInt(u64::from(fo.o_t_rpi))));
                        attrs.push((
                            "transport_class",
                            Attr::UInt(u64::from(fo.transport & 0x0F)),
                        ));
                        // The connection path names what the connection reaches.
                        if let Ok(p) = parser::parse_path(fo.path, &mut self.tag) {
                            if let Some(s) = self.space_of(&p) {
                                space = Some(s);
                            }
                        }
                    }
                    Err(e) => out.anomaly(CIP, format!("forward open: {e}")),
                }
            }
            SVC_FORWARD_CLOSE if cm => {
                if let Some(serial) = u16_le(r.data, 2) {
                    attrs.push(("connection_serial", Attr::UInt(u64::from(serial))));
                }
            }
            SVC_READ_TAG | SVC_READ_TAG_FRAGMENTED if path.symbolic => {
                if let Some(n) = u16_le(r.data, 0) {
                    count = u32::from(n);
                }
            }
            SVC_WRITE_TAG | SVC_WRITE_TAG_FRAGMENTED if path.symbolic => {
                if let (Some(t), Some(n)) = (u16_le(r.data, 0), u16_le(r.data, 2)) {
                    count = u32::from(n);
                    let start = if r.service == SVC_WRITE_TAG { 4 } else { 8 };
                    attrs.push(("data_type", Attr::UInt(u64::from(t))));
                    if let Some(d) = r.data.get(start..) {
                        parser::logix_values(t, d, MAX_VALUES, |i, v| values.push((i, v)));
                    }
                }
            }
            SVC_MULTIPLE if depth < MAX_DEPTH => {
                match parser::multiple_service_parts(r.data, MAX_EMBEDDED, |m| parts.push(m)) {
                    Ok(n) => {
                        attrs.push(("services", Attr::UInt(n as u64)));
                        if n > MAX_EMBEDDED {
                            out.anomaly(
                                CIP,
                                format!("multiple service packet of {n} services; first {MAX_EMBEDDED} read"),
                            );
                        }
                    }
                    Err(e) => out.anomaly(CIP, format!("multiple service packet: {e}")),
                }
            }
            _ => {}
        }
        if depth > 0 {
            attrs.push(("embedded", Attr::Bool(true)));
        }
        let ev = out.begin(ctx, dir, CIP, op, u32::from(r.service), name.clone(), false);
        if let Some(s) = &space {
            ev.target(s.clone(), 0, count);
            for &(i, v) in &values {
                ev.value(s.clone(), i, v);
            }
        }
        ev.attrs.append(&mut attrs);
        self.values = values;
        self.attrs = attrs;
        let mut embedded = Vec::new();
        for m in parts {
            match parser::parse_cip(m) {
                Ok(CipMessage::Request(inner)) => {
                    let (svc, _) = self.request(ctx, dir, &inner, depth + 1, out);
                    embedded.push(svc);
                }
                Ok(CipMessage::Response(_)) => {
                    out.anomaly(CIP, "multiple service packet request holds a response")
                }
                Err(e) => out.anomaly(CIP, format!("embedded request: {e}")),
            }
        }
        (
            Svc {
                service: r.service,
                name,
                op,
                space,
                count,
                class: path.class,
            },
            embedded,
        )
    }

    /// Emits the event(s) of one response, described by its request when known.
    #[allow(clippy::too_many_arguments)]
    fn response(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        r: &CipResponse<'_>,
        svc: Option<&Svc>,
        parts: &[Svc],
        depth: u8,
        out: &mut Emitter,
    ) {
        let svc = svc.filter(|s| s.service == r.service);
        let (name, op) = match svc {
            Some(s) => (s.name.clone(), s.op),
            None => service_name(r.service, None),
        };
        let ok = matches!(r.general_status, 0x00 | 0x06);
        let mut values = std::mem::take(&mut self.values);
        let mut attrs = std::mem::take(&mut self.attrs);
        values.clear();
        attrs.clear();
        let cm = svc.is_some_and(|s| s.class == Some(CLASS_CONNECTION_MANAGER));
        let symbolic =
            svc.is_some_and(|s| s.space.as_deref().is_some_and(|x| x.starts_with("tag:")));
        match r.service {
            SVC_FORWARD_OPEN | SVC_LARGE_FORWARD_OPEN if ok && (cm || svc.is_none()) => {
                if let Some((o_t, t_o)) = parser::forward_open_reply_ids(r.data) {
                    attrs.push(("o_t_connection_id", Attr::UInt(u64::from(o_t))));
                    attrs.push(("t_o_connection_id", Attr::UInt(u64::from(t_o))));
                    self.conns.retain(|(t, _)| *t != t_o);
                    if self.conns.len() >= MAX_CONNECTIONS {
                        self.conns.pop_front();
                    }
                    self.conns.push_back((t_o, o_t));
                }
            }
            SVC_READ_TAG | SVC_READ_TAG_FRAGMENTED if ok && symbolic => {
                if let Some(t) = u16_le(r.data, 0) {
                    // A structure type carries a 2-byte handle after the type.
                    if let Some(d) = r.data.get(2..) {
                        parser::logix_values(t, d, MAX_VALUES, |i, v| values.push((i, v)));
                    }
                }
            }
            _ => {}
        }
        if r.general_status == 0x06 {
            attrs.push(("partial_transfer", Attr::Bool(true)));
        }
        if let Some(x) = r.ext_status {
            attrs.push(("extended_status", Attr::UInt(u64::from(x))));
        }
        if depth > 0 {
            attrs.push(("embedded", Attr::Bool(true)));
        }
        let ev = out.begin(ctx, dir, CIP, op, u32::from(r.service), name, true);
        ev.status = if ok {
            Status::Ok
        } else {
            Status::Exception {
                code: u32::from(r.general_status),
                name: Cow::Borrowed(general_status_name(r.general_status)),
            }
        };
        if let Some(s) = svc {
            if let Some(space) = &s.space {
                ev.target(space.clone(), 0, s.count);
                for &(i, v) in &values {
                    ev.value(space.clone(), i, v);
                }
            }
        }
        ev.attrs.append(&mut attrs);
        self.values = values;
        self.attrs = attrs;
        // An embedded-service error (0x1E) still carries every embedded reply.
        if r.service == SVC_MULTIPLE && (ok || r.general_status == 0x1E) && depth < MAX_DEPTH {
            let mut replies: Vec<&[u8]> = Vec::new();
            if let Err(e) =
                parser::multiple_service_parts(r.data, MAX_EMBEDDED, |m| replies.push(m))
            {
                out.anomaly(CIP, format!("multiple service reply: {e}"));
            }
            for (i, m) in replies.into_iter().enumerate() {
                match parser::parse_cip(m) {
                    Ok(CipMessage::Response(inner)) => {
                        self.response(ctx, dir, &inner, parts.get(i), &[], depth + 1, out)
                    }
                    Ok(CipMessage::Request(_)) => {
                        out.anomaly(CIP, "multiple service reply holds a request")
                    }
                    Err(e) => out.anomaly(CIP, format!("embedded reply: {e}")),
                }
            }
        }
    }

    fn io_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        let (Some(conn), Some(seq)) = (u32_le(data, 6), u32_le(data, 10)) else {
            return;
        };
        let ev = out.begin(
            ctx,
            dir,
            ENIP,
            OpClass::Other,
            u32::from(ITEM_CONNECTED_DATA),
            "io_data",
            false,
        );
        ev.attr("connection_id", Attr::UInt(u64::from(conn)));
        ev.attr("sequence", Attr::UInt(u64::from(seq)));
        ev.attr("length", Attr::UInt(data.len().saturating_sub(18) as u64));
    }
}

impl Dissector for EnipDissector {
    fn name(&self) -> &'static str {
        ENIP
    }

    fn on_stream(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter,
    ) -> usize {
        let d = dir_index(dir);
        let mut off = 0;
        loop {
            if self.resync[d] {
                match find_sync(&data[off..]) {
                    Some(o) => {
                        off += o;
                        self.resync[d] = false;
                    }
                    // Keep the last bytes: a header may start there.
                    None => return data.len().saturating_sub(HEADER_LEN - 1).max(off),
                }
            }
            let rest = &data[off..];
            let Ok(h) = parser::parse_header(rest) else {
                return off;
            };
            if !parser::acceptable_header(&h) {
                out.anomaly(
                    ENIP,
                    format!(
                        "implausible encapsulation header (command 0x{:04x}, length {}, options {})",
                        h.command, h.length, h.options
                    ),
                );
                self.resync[d] = true;
                off += 1;
                continue;
            }
            let total = HEADER_LEN + usize::from(h.length);
            let Some(body) = rest.get(HEADER_LEN..total) else {
                return off;
            };
            self.message(ctx, dir, &h, body, false, out);
            off += total;
        }
    }

    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        if parser::looks_like_io(data) {
            self.io_datagram(ctx, dir, data, out);
            return;
        }
        match parser::parse_header(data) {
            Ok(h) if parser::plausible_header(&h) => {
                let end = HEADER_LEN + usize::from(h.length);
                match data.get(HEADER_LEN..end) {
                    Some(body) => self.message(ctx, dir, &h, body, true, out),
                    None => out.anomaly(ENIP, "datagram shorter than its encapsulation length"),
                }
            }
            Ok(_) => out.anomaly(ENIP, "implausible encapsulation header"),
            Err(e) => {
                // I/O datagrams of class 0/1 connections have no encapsulation header.
                if ctx.client_port != IO_PORT && ctx.server_port != IO_PORT {
                    out.anomaly(ENIP, format!("datagram: {e}"));
                }
            }
        }
    }

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, _len: u64, _out: &mut Emitter) {
        self.resync[dir_index(dir)] = true;
    }
}

/// Recognises EtherNet/IP flows: encapsulation messages on TCP/UDP 44818 or by content
/// on any port, and CIP I/O datagrams on UDP 2222 or by their CPF shape.
#[derive(Clone, Copy, Debug, Default)]
pub struct EnipFactory;

impl DissectorFactory for EnipFactory {
    fn name(&self) -> &'static str {
        ENIP
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        let on = |p: u16| ctx.client_port == p || ctx.server_port == p;
        let encap = looks_like_enip(first_payload);
        let io = ctx.transport == Transport::Udp && parser::looks_like_io(first_payload);
        let on_port = on(PORT) || (ctx.transport == Transport::Udp && on(IO_PORT));
        match (on_port, encap || io) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(EnipDissector::default())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(EnipFactory)]
}
