//! DNP3 dissector, over TCP and UDP.
//!
//! Three layers, each checked: link frames (start octets, header CRC and the CRC of every
//! 16-octet user-data block; a mismatch is an anomaly and the frame is dropped),
//! transport segments reassembled into application fragments per link address pair and
//! direction (FIR/FIN and sequence checked, capped at [`MAX_FRAGMENT`] octets), and the
//! application layer: function code, internal indications, object headers.
//!
//! Each application fragment becomes one [`Event`]. Targets are the object headers as
//! `g<group>v<variation>` with their range (start and count; count only for count
//! qualifiers, start 0; count 0 means all points); index-prefixed objects give one target
//! per point. Values: control relay output blocks (1 for close/on, 0 for trip/off, the
//! codes by name in `control_codes`), analog outputs, and in responses binary, double-bit,
//! counter and analog points. The unit is the outstation address (link destination of a
//! request, link source of a response). Responses are paired with requests by
//! application sequence number per master/outstation pair and carry the request's
//! function (`response_function` says 129); unsolicited responses are function 130.
//!
//! Caps: [`MAX_LINK_PAIRS`] reassembly contexts per direction and [`MAX_PAIRS`]
//! master/outstation pairs per flow (the oldest is evicted, with an anomaly), at most
//! [`MAX_TARGETS`] targets and [`MAX_VALUES`] values per event.

pub mod constants;
pub mod parser;

use crate::intern::intern_args;
use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, Event, FlowContext, OpClass, Status,
    Transport,
};
use constants::*;
use parser::{
    indexed_objects, parse_app, parse_link_frame, parse_link_header, point_value, Dnp3Error,
    LinkFrame, LinkHeader, ObjectHeader, ObjectHeaders, Range, MAX_USER_DATA,
};
use std::borrow::Cow;

/// Protocol name in records.
pub const PROTOCOL: &str = "dnp3";
/// Well-known DNP3 port (TCP and UDP).
pub const DNP3_PORT: u16 = 20000;
/// Largest application fragment reassembled (the specification's default is 2048).
pub const MAX_FRAGMENT: usize = 4096;
/// Most link address pairs reassembled at once per direction.
pub const MAX_LINK_PAIRS: usize = 8;
/// Most master/outstation pairs whose requests await responses.
pub const MAX_PAIRS: usize = 16;
/// Most targets per event.
pub const MAX_TARGETS: usize = 256;
/// Most values per event.
pub const MAX_VALUES: usize = 512;

/// Transport reassembly for one link address pair in one direction.
#[derive(Debug, Default)]
struct Reassembly {
    source: u16,
    destination: u16,
    buf: Vec<u8>,
    next_seq: u8,
    active: bool,
    /// The fragment outgrew [`MAX_FRAGMENT`]: later segments are dropped until FIN and
    /// the fragment is parsed as far as it was kept.
    overflowed: bool,
}

#[derive(Debug, Default)]
struct DirState {
    resync: bool,
    reassembly: Vec<Reassembly>,
}

/// Requests awaiting a response between one master and one outstation, by sequence.
#[derive(Debug)]
struct Outstanding {
    master: u16,
    outstation: u16,
    by_seq: [Option<u8>; 16],
}

/// The DNP3 dissector for one flow.
#[derive(Debug, Default)]
pub struct Dnp3Dissector {
    dirs: [DirState; 2],
    pending: Vec<Outstanding>,
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

/// Where to continue after lost framing.
enum Sync {
    Found(usize),
    NeedMore(usize),
}

fn find_sync(data: &[u8]) -> Sync {
    for off in 0..data.len() {
        let rest = &data[off..];
        if rest.len() < parser::LINK_HEADER_LEN {
            return Sync::NeedMore(off);
        }
        if matches!(parse_link_header(rest), Ok(Some(_))) {
            return Sync::Found(off);
        }
    }
    Sync::NeedMore(data.len())
}

impl Dnp3Dissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one link frame's user data: transport reassembly, then the application
    /// fragment when a FIN segment completes it.
    fn frame(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        header: &LinkHeader,
        user: &[u8],
        out: &mut Emitter,
    ) {
        if !header.has_user_data() {
            return;
        }
        let Some((&th, payload)) = user.split_first() else {
            return;
        };
        let state = &mut self.dirs[dir_index(dir)];
        let i = match state
            .reassembly
            .iter()
            .position(|r| r.source == header.source && r.destination == header.destination)
        {
            Some(i) => i,
            None => {
                if state.reassembly.len() >= MAX_LINK_PAIRS {
                    state.reassembly.remove(0);
                    out.anomaly(
                        PROTOCOL,
                        format!("more than {MAX_LINK_PAIRS} link address pairs; oldest reassembly dropped"),
                    );
                }
                state.reassembly.push(Reassembly {
                    source: header.source,
                    destination: header.destination,
                    ..Reassembly::default()
                });
                state.reassembly.len() - 1
            }
        };
        let r = &mut state.reassembly[i];
        let seq = th & 0x3F;
        if th & parser::TRANSPORT_FIR != 0 {
            if r.active && !r.buf.is_empty() {
                out.anomaly(
                    PROTOCOL,
                    "transport segment with FIR before the previous fragment's FIN",
                );
            }
            r.buf.clear();
            r.active = true;
            r.overflowed = false;
        } else if !r.active {
            out.anomaly(
                PROTOCOL,
                "transport segment without FIR outside a fragment; dropped",
            );
            return;
        } else if seq != r.next_seq {
            out.anomaly(
                PROTOCOL,
                format!(
                    "transport sequence {seq} where {} was expected; fragment dropped",
                    r.next_seq
                ),
            );
            r.buf.clear();
            r.active = false;
            return;
        }
        let room = MAX_FRAGMENT - r.buf.len().min(MAX_FRAGMENT);
        if payload.len() > room && !r.overflowed {
            out.anomaly(
                PROTOCOL,
                format!("application fragment over {MAX_FRAGMENT} octets; the rest is not parsed"),
            );
            r.overflowed = true;
        }
        r.buf.extend_from_slice(&payload[..payload.len().min(room)]);
        r.next_seq = (seq + 1) & 0x3F;
        if th & parser::TRANSPORT_FIN != 0 {
            r.active = false;
            let truncated = std::mem::take(&mut r.overflowed);
            let apdu = std::mem::take(&mut r.buf);
            self.apdu(ctx, dir, header, &apdu, truncated, out);
            // Give the buffer back to keep its capacity for the next fragment.
            if let Some(r) = self.dirs[dir_index(dir)]
                .reassembly
                .iter_mut()
                .find(|r| r.source == header.source && r.destination == header.destination)
            {
                r.buf = apdu;
                r.buf.clear();
            }
        }
    }

    fn outstanding(&mut self, master: u16, outstation: u16, out: &mut Emitter) -> &mut Outstanding {
        let i = match self
            .pending
            .iter()
            .position(|p| p.master == master && p.outstation == outstation)
        {
            Some(i) => i,
            None => {
                if self.pending.len() >= MAX_PAIRS {
                    self.pending.remove(0);
                    out.anomaly(
                        PROTOCOL,
                        format!("more than {MAX_PAIRS} master/outstation pairs; oldest forgotten"),
                    );
                }
                self.pending.push(Outstanding {
                    master,
                    outstation,
                    by_seq: [None; 16],
                });
                self.pending.len() - 1
            }
        };
        &mut self.pending[i]
    }

    /// Handles one application fragment.
    fn apdu(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        link: &LinkHeader,
        apdu: &[u8],
        truncated: bool,
        out: &mut Emitter,
    ) {
        let (app, objects) = match parse_app(apdu) {
            Ok(x) => x,
            Err(e) => {
                out.anomaly(PROTOCOL, format!("malformed application fragment: {e}"));
                return;
            }
        };
        let fc = app.function;
        let is_response = is_response_function(fc);
        let event = if is_response {
            let (master, outstation) = (link.destination, link.source);
            let request = if fc == FC_RESPONSE {
                self.outstanding(master, outstation, out).by_seq[usize::from(app.seq())].take()
            } else {
                None
            };
            let e = match request {
                Some(req) => out.begin(
                    ctx,
                    dir,
                    PROTOCOL,
                    function_op(req),
                    req.into(),
                    function_name(req),
                    true,
                ),
                None => {
                    let op = if fc == FC_RESPONSE {
                        OpClass::Other
                    } else {
                        function_op(fc)
                    };
                    out.begin(ctx, dir, PROTOCOL, op, fc.into(), function_name(fc), true)
                }
            };
            e.unit = Some(outstation.into());
            let iin = app.iin.unwrap_or(0);
            let iin2 = (iin & 0xFF) as u8;
            e.status = if iin2 & IIN2_ERRORS != 0 {
                Status::Exception {
                    code: u32::from(iin2 & IIN2_ERRORS),
                    name: Cow::Borrowed(iin2_error_name(iin2)),
                }
            } else {
                Status::Ok
            };
            e.attr("response_function", Attr::UInt(fc.into()))
                .attr("iin", Attr::List(iin_names(iin)));
            if fc == FC_UNSOLICITED_RESPONSE || app.unsolicited() {
                e.attr("unsolicited", Attr::Bool(true));
            }
            if request.is_none() && fc == FC_RESPONSE {
                e.attr("unpaired", Attr::Bool(true));
            }
            e
        } else {
            let (master, outstation) = (link.source, link.destination);
            if fc != FC_CONFIRM {
                self.outstanding(master, outstation, out).by_seq[usize::from(app.seq())] = Some(fc);
            }
            let e = out.begin(
                ctx,
                dir,
                PROTOCOL,
                function_op(fc),
                fc.into(),
                function_name(fc),
                false,
            );
            e.unit = Some(outstation.into());
            e
        };
        event
            .attr("app_seq", Attr::UInt(app.seq().into()))
            .attr("link_source", Attr::UInt(link.source.into()))
            .attr("link_destination", Attr::UInt(link.destination.into()));
        let with_data = is_response || request_carries_data(fc);
        let mut codes = Vec::new();
        // Reported once the event is complete (it borrows the emitter until then).
        let mut errors = Vec::new();
        let mut headers = ObjectHeaders::new(objects, with_data);
        for header in headers.by_ref() {
            match header {
                Ok(h) => {
                    if h.group == 70 && fc == FC_WRITE {
                        // Writing file-transport objects moves files: configuration or logic.
                        event.op = OpClass::Program;
                    }
                    describe(event, &h, with_data, &mut codes);
                }
                // A fragment cut at the cap was reported when it was cut.
                Err(_) if truncated => {}
                Err(e) => errors.push(format!("{}: {e}", function_name(fc))),
            }
        }
        if truncated {
            event.attr("fragment_truncated", Attr::Bool(true));
        }
        if let Some((group, variation)) = headers.unsizable() {
            // Not malformed: objects gapwatch cannot size end the walk.
            event.attr(
                "objects_unparsed",
                Attr::Text(format!("g{group}v{variation}")),
            );
        }
        if !codes.is_empty() {
            event.attr("control_codes", Attr::List(codes));
        }
        for reason in errors {
            out.anomaly(PROTOCOL, reason);
        }
    }

    fn frames(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        stream: bool,
        out: &mut Emitter,
    ) -> usize {
        let idx = dir_index(dir);
        let mut consumed = 0;
        let mut user = [0u8; MAX_USER_DATA];
        while consumed < data.len() {
            let rest = &data[consumed..];
            if self.dirs[idx].resync {
                match find_sync(rest) {
                    Sync::Found(off) => {
                        consumed += off;
                        self.dirs[idx].resync = false;
                        continue;
                    }
                    Sync::NeedMore(off) => return consumed + off,
                }
            }
            match parse_link_frame(rest, &mut user) {
                Ok(LinkFrame::Complete {
                    header,
                    user_len,
                    consumed: n,
                }) => {
                    self.frame(ctx, dir, &header, &user[..user_len], out);
                    consumed += n;
                }
                Ok(LinkFrame::Incomplete { .. }) => {
                    if !stream {
                        out.anomaly(PROTOCOL, "datagram ends inside a link frame");
                        return data.len();
                    }
                    break;
                }
                Err(Dnp3Error::BlockCrc { block }) => {
                    out.anomaly(
                        PROTOCOL,
                        format!("link frame dropped: CRC mismatch in user data block {block}"),
                    );
                    // The header CRC held, so its length can be trusted to skip the frame.
                    let len = match parse_link_header(rest) {
                        Ok(Some(h)) => h.frame_len(),
                        _ => 1,
                    };
                    if let Ok(Some(h)) = parse_link_header(rest) {
                        self.dirs[idx]
                            .reassembly
                            .retain(|r| !(r.source == h.source && r.destination == h.destination));
                    }
                    consumed += len;
                }
                Err(e) => {
                    out.anomaly(PROTOCOL, format!("bad link header: {e}; resynchronising"));
                    self.dirs[idx].resync = true;
                    consumed += 1;
                }
            }
        }
        consumed
    }
}

/// Adds the targets and values of one object header to `e`.
fn describe(e: &mut Event, h: &ObjectHeader<'_>, with_data: bool, codes: &mut Vec<String>) {
    let space = intern_args(format_args!("g{}v{}", h.group, h.variation));
    let size = if with_data {
        object_size(h.group, h.variation)
    } else {
        None
    };
    let room = |e: &Event| e.targets.len() < MAX_TARGETS;
    if h.index_prefixed() {
        let object_len = match size {
            Some(ObjectSize::Fixed(s)) => s,
            _ => 0,
        };
        if with_data && object_len == 0 && !matches!(size, Some(ObjectSize::Empty)) {
            if room(e) {
                e.target(space, 0, h.count());
            }
            return;
        }
        for (index, obj) in indexed_objects(h, object_len) {
            if room(e) {
                e.target(space.clone(), index.into(), 1);
            }
            if h.group == 12 && matches!(h.variation, 1 | 2) {
                if let Some(&code) = obj.first() {
                    if codes.len() < MAX_TARGETS {
                        codes.push(crob_op_name(code).to_string());
                    }
                }
            }
            if e.values.len() < MAX_VALUES {
                if let Some(v) = point_value(h.group, h.variation, obj) {
                    e.value(space.clone(), index.into(), v);
                }
            }
        }
        return;
    }
    let (start, count) = match h.range {
        Range::StartStop { start, .. } => (u64::from(start), h.count()),
        Range::Count(n) => (0, n),
        Range::All => (0, 0),
    };
    if !room(e) {
        return;
    }
    e.target(space.clone(), start, count);
    if !matches!(h.range, Range::StartStop { .. }) {
        return;
    }
    match size {
        Some(ObjectSize::Fixed(s)) if s > 0 => {
            for (i, obj) in h.data.chunks_exact(s).enumerate() {
                if e.values.len() >= MAX_VALUES {
                    break;
                }
                if h.group == 12 && matches!(h.variation, 1 | 2) {
                    if let Some(&code) = obj.first() {
                        codes.push(crob_op_name(code).to_string());
                    }
                }
                match point_value(h.group, h.variation, obj) {
                    Some(v) => {
                        e.value(space.clone(), start + i as u64, v);
                    }
                    None => break,
                }
            }
        }
        Some(ObjectSize::Bits(b)) if matches!(h.group, 1 | 3 | 10) => {
            for i in 0..(count as usize).min(MAX_VALUES.saturating_sub(e.values.len())) {
                let bit = i * b;
                let Some(byte) = h.data.get(bit / 8) else {
                    break;
                };
                let v = (byte >> (bit % 8)) & if b == 2 { 3 } else { 1 };
                e.value(space.clone(), start + i as u64, v.into());
            }
        }
        _ => {}
    }
}

impl Dissector for Dnp3Dissector {
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
        self.frames(ctx, dir, data, true, out)
    }

    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        // Each datagram holds whole link frames; framing never carries over.
        self.dirs[dir_index(dir)].resync = false;
        self.frames(ctx, dir, data, false, out);
        self.dirs[dir_index(dir)].resync = false;
    }

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, _len: u64, _out: &mut Emitter) {
        let state = &mut self.dirs[dir_index(dir)];
        state.resync = true;
        for r in &mut state.reassembly {
            r.buf.clear();
            r.active = false;
        }
    }
}

/// True when `payload` starts with a link header whose CRC holds (10 octets checked by a
/// 16-bit CRC: a random match is rare enough to claim flows on any port).
pub fn content_matches(payload: &[u8]) -> bool {
    matches!(parse_link_header(payload), Ok(Some(_)))
}

/// Recognises DNP3 flows: port 20000, and by content on any port.
#[derive(Clone, Copy, Debug, Default)]
pub struct Dnp3Factory;

impl DissectorFactory for Dnp3Factory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        let on_port = ctx.server_port == DNP3_PORT || ctx.client_port == DNP3_PORT;
        let content = content_matches(first_payload);
        let _ = Transport::Tcp;
        crate::registry::confidence(on_port, content)
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(Dnp3Dissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(Dnp3Factory)]
}
