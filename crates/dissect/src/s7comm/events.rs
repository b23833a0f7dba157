//! Mapping of S7comm and S7comm-plus PDUs to events, with request/response pairing.

use super::constants::*;
use super::parser::{self, BlockName, Pdu, VarItem};
use crate::intern::intern_args;
use crate::{Attr, Direction, Emitter, Event, FlowContext, IdentityField, OpClass, Status, Target};
use std::borrow::Cow;

/// Protocol name of S7comm events.
pub const PROTOCOL: &str = "s7comm";
/// Protocol name of S7comm-plus events.
pub const PROTOCOL_PLUS: &str = "s7comm-plus";
/// Most requests awaiting a response per flow.
pub const MAX_PENDING: usize = 64;
/// Most targets and values per event.
pub const MAX_POINTS: usize = 64;

/// What a request left for its response.
#[derive(Clone, Debug, Default)]
struct Pending {
    pdu_ref: u16,
    function: u32,
    name: Cow<'static, str>,
    op: Option<OpClass>,
    items: Vec<VarItem>,
    targets: Vec<Target>,
}

/// Per-flow S7comm state: open requests and the unit.
#[derive(Debug, Default)]
pub struct S7State {
    pending: Vec<Pending>,
    /// Rack/slot byte of the called TSAP, as the unit of every event.
    pub unit: Option<u32>,
    /// Block of the current upload, named by start upload.
    upload_block: Option<BlockName>,
    /// A userdata response split into data units: its unit reference and the payload
    /// so far (SZL lists longer than one PDU).
    fragment: Option<(u8, Vec<u8>)>,
}

/// Largest userdata response reassembled from data units.
pub const MAX_USERDATA: usize = 65_536;

fn block_space(b: BlockName) -> String {
    format!("block:{}{}", b.kind, b.number)
}

fn item_space(item: &VarItem) -> Cow<'static, str> {
    match item.area {
        AREA_DB => intern_args(format_args!("db{}", item.db)),
        AREA_DI => intern_args(format_args!("di{}", item.db)),
        a => match area_space(a) {
            Some(s) => s.into(),
            None => intern_args(format_args!("area-{a}")),
        },
    }
}

/// Decodes the values of one data item given the request item that names it.
fn item_values(ev: &mut Event, item: &VarItem, space: Cow<'static, str>, data: &[u8]) {
    let base = u64::from(item.byte_address());
    let size = transport_size_bytes(item.transport_size);
    let count = usize::from(item.count).min(MAX_POINTS);
    if item.transport_size == 0x01 {
        if let Some(b) = data.first() {
            ev.value(space.clone(), base, f64::from(b & 1));
        }
        return;
    }
    for (i, chunk) in data.chunks_exact(size).take(count).enumerate() {
        if ev.values.len() >= MAX_POINTS {
            return;
        }
        let v = match (item.transport_size, chunk) {
            (0x04 | 0x0c | 0x1c | 0x1d, [a, b]) => f64::from(u16::from_be_bytes([*a, *b])),
            (0x05 | 0x09, [a, b]) => f64::from(i16::from_be_bytes([*a, *b])),
            (0x06 | 0x0a, [a, b, c, d]) => f64::from(u32::from_be_bytes([*a, *b, *c, *d])),
            (0x07 | 0x0b, [a, b, c, d]) => f64::from(i32::from_be_bytes([*a, *b, *c, *d])),
            (0x08, [a, b, c, d]) => f64::from(f32::from_be_bytes([*a, *b, *c, *d])),
            (_, [a]) => f64::from(*a),
            _ => continue,
        };
        let step = if matches!(item.area, 0x1c..=0x1f) {
            1
        } else {
            size as u64
        };
        ev.value(space.clone(), base + i as u64 * step, v);
    }
}

impl S7State {
    /// Removes the open request `pdu_ref` answers; job and userdata requests keep
    /// separate reference spaces in practice, so `userdata` says which kind to look for.
    fn take_pending(&mut self, pdu_ref: u16, userdata: bool) -> Option<Pending> {
        let i = self.pending.iter().position(|p| {
            p.pdu_ref == pdu_ref && (p.function >= USERDATA_FUNCTION_BASE) == userdata
        })?;
        Some(self.pending.remove(i))
    }

    fn push_pending(&mut self, p: Pending, out: &mut Emitter) {
        // A reused reference replaces the unanswered request of the same kind.
        let ud = p.function >= USERDATA_FUNCTION_BASE;
        self.pending
            .retain(|q| q.pdu_ref != p.pdu_ref || (q.function >= USERDATA_FUNCTION_BASE) != ud);
        if self.pending.len() >= MAX_PENDING {
            self.pending.remove(0);
            out.anomaly(PROTOCOL, "too many unanswered requests; oldest dropped");
        }
        self.pending.push(p);
    }

    /// Handles one S7comm PDU (a whole TSDU).
    pub fn on_pdu(&mut self, ctx: &FlowContext, dir: Direction, payload: &[u8], out: &mut Emitter) {
        let pdu = match parser::parse_pdu(payload) {
            Ok(p) => p,
            Err(e) => {
                out.anomaly(PROTOCOL, format!("malformed PDU: {e}"));
                return;
            }
        };
        match pdu.rosctr {
            ROSCTR_JOB => self.on_job(ctx, dir, &pdu, out),
            ROSCTR_ACK | ROSCTR_ACK_DATA => self.on_ack(ctx, dir, &pdu, out),
            _ => self.on_userdata(ctx, dir, &pdu, out),
        }
    }

    fn on_job(&mut self, ctx: &FlowContext, dir: Direction, pdu: &Pdu<'_>, out: &mut Emitter) {
        let Some(&func) = pdu.param.first() else {
            out.anomaly(PROTOCOL, "job without parameters");
            return;
        };
        let (mut name, mut op): (Cow<'static, str>, OpClass) = match job_function(func) {
            Some((n, o)) => (n.into(), o),
            None => (format!("unknown-{func}").into(), OpClass::Other),
        };
        let mut pending = Pending {
            pdu_ref: pdu.pdu_ref,
            function: u32::from(func),
            ..Pending::default()
        };
        let mut attrs: Vec<(&'static str, Attr)> = Vec::new();
        let mut values: Vec<(Cow<'static, str>, u64, f64)> = Vec::new();
        match func {
            FN_READ_VAR | FN_WRITE_VAR => {
                match parser::var_items(pdu.param) {
                    Ok(items) => {
                        for item in items {
                            match item {
                                Ok(i) => pending.items.push(i),
                                Err(e) => {
                                    out.anomaly(PROTOCOL, format!("bad variable item: {e}"));
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => out.anomaly(PROTOCOL, format!("bad variable list: {e}")),
                }
                attrs.push(("items", Attr::UInt(pending.items.len() as u64)));
                for item in pending.items.iter().take(MAX_POINTS) {
                    if item.syntax == 0x10 {
                        pending.targets.push(Target {
                            space: item_space(item),
                            start: u64::from(item.byte_address()),
                            count: u32::from(item.count),
                        });
                    } else {
                        attrs.push(("syntax_id", Attr::UInt(u64::from(item.syntax))));
                    }
                }
                if let Some(first) = pending.items.first() {
                    if let Some(ts) = transport_size_name(first.transport_size) {
                        attrs.push(("transport_size", Attr::Name(ts)));
                    }
                }
                if func == FN_WRITE_VAR {
                    let mut scratch = Event::new(PROTOCOL, op, 0, "", false);
                    for (item, data) in pending
                        .items
                        .iter()
                        .zip(parser::data_items(pdu.data, pending.items.len()))
                    {
                        match data {
                            Ok(d) if item.syntax == 0x10 => {
                                item_values(&mut scratch, item, item_space(item), d.data)
                            }
                            Ok(_) => {}
                            Err(e) => {
                                out.anomaly(PROTOCOL, format!("bad write data: {e}"));
                                break;
                            }
                        }
                    }
                    for v in scratch.values {
                        values.push((v.space, v.address, v.value));
                    }
                }
            }
            FN_SETUP => {
                if let Some(p) = pdu.param.get(2..8) {
                    attrs.push((
                        "max_amq_calling",
                        Attr::UInt(u64::from(u16::from_be_bytes([p[0], p[1]]))),
                    ));
                    attrs.push((
                        "max_amq_called",
                        Attr::UInt(u64::from(u16::from_be_bytes([p[2], p[3]]))),
                    ));
                    attrs.push((
                        "pdu_size",
                        Attr::UInt(u64::from(u16::from_be_bytes([p[4], p[5]]))),
                    ));
                }
            }
            FN_REQUEST_DOWNLOAD | FN_DOWNLOAD_BLOCK | FN_DOWNLOAD_ENDED | FN_START_UPLOAD => {
                if let Some(fname) = parser::block_file_name(pdu.param) {
                    attrs.push((
                        "file_name",
                        Attr::Text(String::from_utf8_lossy(fname).into_owned()),
                    ));
                    if let Some(b) = parser::parse_block_name(fname) {
                        pending.targets.push(Target {
                            space: block_space(b).into(),
                            start: u64::from(b.number),
                            count: 1,
                        });
                        if func == FN_START_UPLOAD {
                            self.upload_block = Some(b);
                        }
                    }
                }
            }
            FN_UPLOAD | FN_END_UPLOAD => {
                if let Some(b) = self.upload_block {
                    pending.targets.push(Target {
                        space: block_space(b).into(),
                        start: u64::from(b.number),
                        count: 1,
                    });
                }
            }
            FN_PI_SERVICE => match parser::parse_pi_service(pdu.param) {
                Some(pi) => {
                    let (n, o) = pi_service(pi.name, pi.param);
                    name = n.into();
                    op = o;
                    attrs.push((
                        "service",
                        Attr::Text(String::from_utf8_lossy(pi.name).into_owned()),
                    ));
                    if matches!(pi.name, b"_INSE" | b"_DELE") {
                        for b in parser::pi_blocks(pi.param).take(MAX_POINTS) {
                            pending.targets.push(Target {
                                space: block_space(b).into(),
                                start: u64::from(b.number),
                                count: 1,
                            });
                        }
                    }
                }
                None => out.anomaly(PROTOCOL, "malformed PI service parameters"),
            },
            FN_PLC_STOP => {
                if let Some(n) = parser::parse_plc_stop(pdu.param) {
                    attrs.push((
                        "service",
                        Attr::Text(String::from_utf8_lossy(n).into_owned()),
                    ));
                }
            }
            _ => {}
        }
        pending.name = name.clone();
        pending.op = Some(op);
        let ev = out.begin(ctx, dir, PROTOCOL, op, u32::from(func), name, false);
        ev.unit = self.unit;
        ev.attr("pdu_ref", Attr::UInt(u64::from(pdu.pdu_ref)));
        ev.targets.extend(pending.targets.iter().cloned());
        for (space, address, value) in values {
            ev.value(space, address, value);
        }
        ev.attrs.extend(attrs);
        self.push_pending(pending, out);
    }

    fn on_ack(&mut self, ctx: &FlowContext, dir: Direction, pdu: &Pdu<'_>, out: &mut Emitter) {
        let req = self.take_pending(pdu.pdu_ref, false);
        let func = pdu.param.first().copied();
        let (function, name, op) = match (&req, func) {
            (Some(r), _) => (r.function, r.name.clone(), r.op.unwrap_or(OpClass::Other)),
            (None, Some(f)) => match job_function(f) {
                Some((n, o)) => (u32::from(f), n.into(), o),
                None => (u32::from(f), format!("unknown-{f}").into(), OpClass::Other),
            },
            (None, None) => (0xffff, "ack".into(), OpClass::Other),
        };
        let ev = out.begin(ctx, dir, PROTOCOL, op, function, name, true);
        ev.unit = self.unit;
        ev.attr("pdu_ref", Attr::UInt(u64::from(pdu.pdu_ref)));
        if req.is_none() {
            ev.attr("unpaired", Attr::Bool(true));
        }
        ev.status = match pdu.error {
            Some((0, 0)) | None => Status::Ok,
            Some((class, code)) => Status::Exception {
                code: u32::from(class) << 8 | u32::from(code),
                name: error_class_name(class).into(),
            },
        };
        let Some(req) = req else { return };
        ev.targets.extend(req.targets.iter().cloned());
        if function == u32::from(FN_READ_VAR) || function == u32::from(FN_WRITE_VAR) {
            // Read: data items with values; write: one return code per item.
            let mut bad = None;
            if function == u32::from(FN_READ_VAR) {
                for (item, d) in req
                    .items
                    .iter()
                    .zip(parser::data_items(pdu.data, req.items.len()))
                {
                    match d {
                        Ok(d) if d.return_code == 0xff => {
                            if item.syntax == 0x10 {
                                item_values(ev, item, item_space(item), d.data);
                            }
                        }
                        Ok(d) => {
                            bad.get_or_insert(d.return_code);
                        }
                        Err(_) => break,
                    }
                }
            } else {
                for &rc in pdu.data.iter().take(req.items.len()) {
                    if rc != 0xff {
                        bad.get_or_insert(rc);
                    }
                }
            }
            if let (Some(rc), Status::Ok) = (bad, &ev.status) {
                ev.status = Status::Exception {
                    code: u32::from(rc),
                    name: item_return_name(rc).into(),
                };
            }
        } else if function == u32::from(FN_SETUP) {
            if let Some(p) = pdu.param.get(6..8) {
                ev.attr(
                    "pdu_size",
                    Attr::UInt(u64::from(u16::from_be_bytes([p[0], p[1]]))),
                );
            }
        }
    }

    fn on_userdata(&mut self, ctx: &FlowContext, dir: Direction, pdu: &Pdu<'_>, out: &mut Emitter) {
        let ud = match parser::parse_userdata(pdu.param, pdu.data) {
            Ok(u) => u,
            Err(e) => {
                out.anomaly(PROTOCOL, format!("malformed userdata: {e}"));
                return;
            }
        };
        // Reassemble responses split into data units: the first unit has the SZL head,
        // later units (same unit reference) continue the item list.
        let mut joined = None;
        if ud.kind == 8 && ud.error.is_some() {
            match self.fragment.take() {
                Some((r, mut buf)) if r == ud.unit_ref => {
                    if buf.len() + ud.payload.len() <= MAX_USERDATA {
                        buf.extend_from_slice(ud.payload);
                    }
                    if ud.more {
                        self.fragment = Some((r, buf));
                    } else {
                        joined = Some(buf);
                    }
                }
                _ if ud.more => self.fragment = Some((ud.unit_ref, ud.payload.to_vec())),
                _ => {}
            }
        }
        let continuation = joined.is_some();
        let payload: &[u8] = joined.as_deref().unwrap_or(ud.payload);
        let (name, mut op) = userdata_function(ud.group, ud.sub);
        let function = USERDATA_FUNCTION_BASE + (u32::from(ud.group) << 8 | u32::from(ud.sub));
        let is_response = ud.kind == 8;
        let szl = if ud.group == GROUP_CPU && ud.sub == 1 {
            payload.get(..4).map(|b| {
                (
                    u16::from_be_bytes([b[0], b[1]]),
                    u16::from_be_bytes([b[2], b[3]]),
                )
            })
        } else {
            None
        };
        if let Some((id, _)) = szl {
            if matches!(id & 0xff, 0x11 | 0x1c) {
                op = OpClass::Identify;
            }
        }
        if is_response {
            self.take_pending(pdu.pdu_ref, true);
        } else if ud.kind == 4 {
            self.push_pending(
                Pending {
                    pdu_ref: pdu.pdu_ref,
                    function,
                    name: name.into(),
                    op: Some(op),
                    ..Pending::default()
                },
                out,
            );
        }
        let ev = out.begin(ctx, dir, PROTOCOL, op, function, name, is_response);
        ev.unit = self.unit;
        ev.attr("pdu_ref", Attr::UInt(u64::from(pdu.pdu_ref)))
            .attr("group", Attr::UInt(u64::from(ud.group)))
            .attr("subfunction", Attr::UInt(u64::from(ud.sub)));
        if ud.kind == 0 {
            ev.attr("push", Attr::Bool(true));
        }
        if ud.group == 0 {
            ev.attr("mode", Attr::Text(cpu_mode_name(ud.sub).into()));
        }
        if let Some((id, index)) = szl {
            ev.attr("szl_id", Attr::UInt(u64::from(id)))
                .attr("szl_index", Attr::UInt(u64::from(index)));
        }
        if continuation {
            ev.attr("reassembled", Attr::Bool(true));
        }
        if ud.more {
            ev.attr("more_data_units", Attr::Bool(true));
        }
        if ud.group == GROUP_SECURITY {
            let what = if ud.sub == 1 { "set" } else { "cancel" };
            ev.attr("password", Attr::Text(what.into()));
        }
        if is_response {
            ev.status = match ud.error {
                Some(0) | None if ud.return_code == 0xff || ud.return_code == 0 => Status::Ok,
                Some(0) | None => Status::Exception {
                    code: u32::from(ud.return_code),
                    name: item_return_name(ud.return_code).into(),
                },
                Some(code) => Status::Exception {
                    code: u32::from(code),
                    name: userdata_error_name(code).into(),
                },
            };
            if let (Some((id, _)), Status::Ok) = (szl, &ev.status) {
                let mut texts: Vec<(&'static str, Attr)> = Vec::new();
                if !ud.more {
                    szl_identity(ctx, dir, id, payload, &mut texts, out);
                }
                // `out` was borrowed again: reach the event by index.
                if let Some(ev) = out.events.last_mut() {
                    ev.attrs.extend(texts);
                }
            }
        }
    }
}

/// Reads identity from SZL 0x0011 (module identification) and 0x001C (component
/// identification) responses.
fn szl_identity(
    ctx: &FlowContext,
    dir: Direction,
    id: u16,
    payload: &[u8],
    attrs: &mut Vec<(&'static str, Attr)>,
    out: &mut Emitter,
) {
    let Some(h) = payload.get(4..8) else { return };
    let item_len = usize::from(u16::from_be_bytes([h[0], h[1]]));
    let count = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if item_len < 2 {
        return;
    }
    let items = payload[8..]
        .chunks_exact(item_len)
        .take(count.min(MAX_POINTS));
    let text = |b: &[u8]| -> String {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).trim().to_string()
    };
    match id & 0xff {
        0x11 if item_len >= 28 => {
            for item in items {
                let index = u16::from_be_bytes([item[0], item[1]]);
                let order = text(&item[2..22]);
                match index {
                    1 => {
                        if order.starts_with("6ES7") || order.starts_with("6AG") {
                            out.identity(ctx, dir, IdentityField::Vendor, "Siemens", PROTOCOL);
                        }
                        out.identity(ctx, dir, IdentityField::Model, &order, PROTOCOL);
                    }
                    7 if item[24] == b'V' => {
                        let v = format!("V{}.{}.{}", item[25], item[26], item[27]);
                        out.identity(ctx, dir, IdentityField::Firmware, &v, PROTOCOL);
                    }
                    _ => {}
                }
            }
        }
        0x1c if item_len >= 34 => {
            for item in items {
                let index = u16::from_be_bytes([item[0], item[1]]);
                let value = text(&item[2..34]);
                match index {
                    1 => attrs.push(("system_name", Attr::Text(value))),
                    2 => attrs.push(("module_name", Attr::Text(value))),
                    3 => attrs.push(("plant_id", Attr::Text(value))),
                    5 => out.identity(ctx, dir, IdentityField::Serial, &value, PROTOCOL),
                    7 => out.identity(ctx, dir, IdentityField::Product, &value, PROTOCOL),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// Per-flow S7comm-plus state: open requests by sequence number.
#[derive(Debug, Default)]
pub struct PlusState {
    pending: Vec<(u16, u16)>,
}

impl PlusState {
    /// Handles one S7comm-plus PDU.
    pub fn on_pdu(&mut self, ctx: &FlowContext, dir: Direction, payload: &[u8], out: &mut Emitter) {
        let p = match parser::parse_plus(payload) {
            Ok(p) => p,
            Err(e) => {
                out.anomaly(PROTOCOL_PLUS, format!("malformed PDU: {e}"));
                return;
            }
        };
        let (function, name, op, is_response): (u32, Cow<'static, str>, OpClass, bool) =
            match (p.opcode, p.function) {
                (Some(0x33), _) => (0x33_0000, "notification".into(), OpClass::Read, true),
                (Some(opcode @ (0x31 | 0x32 | 0x02)), Some(f)) => {
                    let (n, o): (Cow<'static, str>, OpClass) = match plus_function(f) {
                        Some((n, o)) => (n.into(), o),
                        None => (format!("unknown-{f}").into(), OpClass::Other),
                    };
                    (u32::from(f), n, o, opcode != 0x31)
                }
                (Some(opcode), _) => (
                    u32::from(opcode) << 16,
                    format!("unknown-opcode-{opcode}").into(),
                    OpClass::Other,
                    false,
                ),
                (None, _) if p.version == 0xfe => {
                    (0xfe_0000, "keep_alive".into(), OpClass::Session, false)
                }
                (None, _) => return,
            };
        if let (Some(f), Some(seq)) = (p.function, p.seq) {
            if is_response {
                self.pending.retain(|&(s, _)| s != seq);
            } else {
                if self.pending.len() >= MAX_PENDING {
                    self.pending.remove(0);
                    out.anomaly(
                        PROTOCOL_PLUS,
                        "too many unanswered requests; oldest dropped",
                    );
                }
                self.pending.push((seq, f));
            }
        }
        let ev = out.begin(ctx, dir, PROTOCOL_PLUS, op, function, name, is_response);
        ev.attr("version", Attr::UInt(u64::from(p.version)));
        if let Some(o) = p.opcode {
            ev.attr("opcode", Attr::UInt(u64::from(o)));
        }
        if let Some(s) = p.seq {
            ev.attr("seq", Attr::UInt(u64::from(s)));
        }
        ev.attr("integrity", Attr::Bool(p.integrity));
        if let Some(id) = p.object_id {
            // The CPU's operating state is an attribute of one well-known object; its id
            // is kept so that a SetVariable on it (a stop or start) can be told apart.
            ev.attr("object_id", Attr::UInt(u64::from(id)));
        }
    }
}
