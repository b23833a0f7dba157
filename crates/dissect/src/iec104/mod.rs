//! IEC 60870-5-104 dissector.
//!
//! Framing: APDUs start with 0x68 and a length byte (4..=253); several may share a TCP
//! segment and one may span segments. I frames carry an ASDU, S frames acknowledge, U
//! frames start/stop data transfer and test the link.
//!
//! Outputs: one event per ASDU (function = type identification, unit = common address,
//! one `ioa` target per information object, values of measured values, commands and
//! set points, attributes `type`, `cot`, `originator`, `select`, `test`, `negative`), one
//! `session` event per U frame (function 0x100 + control byte) and per S frame (function
//! 0x101). Send-sequence gaps and repeats become anomalies.

pub mod constants;
pub mod parser;

use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, FlowContext, OpClass, Status, Transport,
};
use constants::{cot_is_reply, cot_name, ValueKind};
use parser::{parse_frame, Apci, Asdu, Frame};
use std::borrow::Cow;

/// Protocol name in records.
pub const PROTOCOL: &str = "iec104";
/// Well-known TCP port.
pub const PORT: u16 = 2404;
/// Most targets and values one event carries; the rest is counted in `objects`.
pub const MAX_POINTS: usize = 64;
/// Offset added to U-frame control bytes to keep their function codes apart from type ids.
pub const U_FUNCTION_BASE: u32 = 0x100;
/// Function code of S-frame events.
pub const S_FUNCTION: u32 = 0x101;

/// Sequence numbers wrap at 2^15.
const SEQ_MOD: u16 = 0x8000;

#[derive(Clone, Copy, Debug, Default)]
struct StreamState {
    resync: bool,
    /// The N(S) expected on the next I frame, once one was seen.
    next_send: Option<u16>,
}

/// Per-flow IEC 104 dissector.
#[derive(Debug, Default)]
pub struct Iec104Dissector {
    streams: [StreamState; 2],
}

impl Iec104Dissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    fn on_apdu(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        apci: Apci,
        asdu: &[u8],
        out: &mut Emitter,
    ) {
        let st = &mut self.streams[dir_index(dir)];
        match apci {
            Apci::U(u) => {
                if matches!(
                    u,
                    parser::UFunction::StartDtAct | parser::UFunction::StartDtCon
                ) {
                    // A new data transfer phase: counting restarts on a new connection only,
                    // but tolerate peers that restart it here.
                    st.next_send = None;
                }
                out.begin(
                    ctx,
                    dir,
                    PROTOCOL,
                    OpClass::Session,
                    U_FUNCTION_BASE + u32::from(u.code()),
                    u.name(),
                    u.is_con(),
                )
                .attr("apci", Attr::Text("U".into()));
            }
            Apci::S { recv } => {
                out.begin(
                    ctx,
                    dir,
                    PROTOCOL,
                    OpClass::Session,
                    S_FUNCTION,
                    "supervisory_ack",
                    true,
                )
                .attr("apci", Attr::Text("S".into()))
                .attr("recv_seq", Attr::UInt(u64::from(recv)));
            }
            Apci::I { send, recv } => {
                if let Some(expected) = st.next_send {
                    if send != expected {
                        let behind = expected.wrapping_sub(send) % SEQ_MOD;
                        let what = if behind > 0 && behind < SEQ_MOD / 2 {
                            "repeated"
                        } else {
                            "gap in"
                        };
                        out.anomaly(
                            PROTOCOL,
                            format!("{what} send sequence: N(S) {send}, expected {expected}"),
                        );
                    }
                }
                st.next_send = Some((send + 1) % SEQ_MOD);
                match Asdu::parse(asdu) {
                    Ok(a) => emit_asdu(ctx, dir, &a, send, recv, out),
                    Err(e) => out.anomaly(PROTOCOL, format!("malformed ASDU: {e}")),
                }
            }
        }
    }
}

/// Reports one ASDU as an event.
pub fn emit_asdu(
    ctx: &FlowContext,
    dir: Direction,
    a: &Asdu<'_>,
    send: u16,
    recv: u16,
    out: &mut Emitter,
) {
    let (name, op, mnemonic, kind): (Cow<'static, str>, _, _, _) = match a.info {
        Some(i) => (i.name.into(), i.op, Some(i.mnemonic), i.value),
        None => (
            format!("unknown-{}", a.type_id).into(),
            OpClass::Other,
            None,
            ValueKind::None,
        ),
    };
    // Monitor-direction types (1..=44, 70) report data; commands are replies only when
    // their cause says so.
    let monitor = matches!(a.type_id, 1..=44 | 70);
    let is_response = monitor || cot_is_reply(a.cot);
    let ev = out.begin(
        ctx,
        dir,
        PROTOCOL,
        op,
        u32::from(a.type_id),
        name,
        is_response,
    );
    ev.unit = Some(u32::from(a.common_address));
    if let Some(m) = mnemonic {
        ev.attr("type", Attr::Text(m.into()));
    }
    ev.attr(
        "cot",
        Attr::Text(cot_name(a.cot).map_or_else(|| format!("unknown-{}", a.cot), str::to_string)),
    );
    ev.attr("originator", Attr::UInt(u64::from(a.originator)))
        .attr("send_seq", Attr::UInt(u64::from(send)))
        .attr("recv_seq", Attr::UInt(u64::from(recv)))
        .attr("objects", Attr::UInt(u64::from(a.count)));
    if a.test {
        ev.attr("test", Attr::Bool(true));
    }
    if a.negative || matches!(a.cot, 44..=47) {
        ev.status = Status::Exception {
            code: u32::from(a.cot),
            name: Cow::Borrowed(if a.negative {
                "negative_confirmation"
            } else {
                cot_name(a.cot).unwrap_or("negative_confirmation")
            }),
        };
    } else if is_response && !monitor {
        ev.status = Status::Ok;
    }
    let mut seen = 0usize;
    let mut select = None;
    if a.sequence {
        if let Some(first) = a.objects().next() {
            ev.target("ioa", u64::from(first.ioa), u32::from(a.count));
        }
    }
    for obj in a.objects() {
        if seen == 0 {
            select = select_bit(a.type_id, obj.element);
        }
        if seen >= MAX_POINTS {
            break;
        }
        seen += 1;
        if !a.sequence {
            ev.target("ioa", u64::from(obj.ioa), 1);
        }
        if let Some(v) = obj.value(kind) {
            ev.value("ioa", u64::from(obj.ioa), v);
        }
    }
    if seen == 0 {
        if let Some(ioa) = a.first_ioa() {
            ev.target("ioa", u64::from(ioa), u32::from(a.count));
        }
    }
    if let Some(s) = select {
        ev.attr("select", Attr::Bool(s));
    }
}

/// The select/execute bit of a command element (S/E of SCO, DCO, RCO, QOS).
fn select_bit(type_id: u8, element: &[u8]) -> Option<bool> {
    let qualifier = match type_id {
        45..=47 | 58..=60 => element.first(),
        48 | 49 | 61 | 62 => element.get(2),
        50 | 63 => element.get(4),
        _ => None,
    }?;
    Some(qualifier & 0x80 != 0)
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

/// Offset of the next position where a valid APDU header starts, or where more bytes are
/// needed to judge.
fn find_sync(data: &[u8]) -> usize {
    for off in 0..data.len() {
        match parse_frame(&data[off..]) {
            Ok(_) => return off,
            Err(_) => continue,
        }
    }
    data.len()
}

impl Dissector for Iec104Dissector {
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
        let mut consumed = 0;
        while consumed < data.len() {
            let rest = &data[consumed..];
            if self.streams[idx].resync {
                let off = find_sync(rest);
                consumed += off;
                if off == rest.len() {
                    break;
                }
                // Only trust the candidate once it is complete.
                match parse_frame(&data[consumed..]) {
                    Ok(Frame::Complete { .. }) => self.streams[idx].resync = false,
                    _ => break,
                }
                continue;
            }
            match parse_frame(rest) {
                Ok(Frame::Complete {
                    apci,
                    asdu,
                    consumed: n,
                }) => {
                    self.on_apdu(ctx, dir, apci, asdu, out);
                    consumed += n;
                }
                Ok(Frame::Incomplete { .. }) => break,
                Err(e) => {
                    out.anomaly(PROTOCOL, format!("malformed APDU: {e}"));
                    self.streams[idx].resync = true;
                    consumed += 1;
                }
            }
        }
        consumed
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
        let st = &mut self.streams[dir_index(dir)];
        st.resync = true;
        // Lost bytes may hold I frames: do not report the jump as a protocol gap.
        st.next_send = None;
    }
}

/// True when `payload` is a run of consistent APDUs (the last may still be arriving):
/// every I frame carries an ASDU of a known type whose objects fit, S and U frames have
/// their fixed forms. A lone 6-byte U frame is a weak signal on its own, so off the port
/// the caller also requires one I frame.
pub fn content_matches(payload: &[u8]) -> bool {
    content_frames(payload).is_some_and(|(frames, _)| frames > 0)
}

/// (APDUs, I frames) of a payload made only of consistent APDUs, else `None`.
fn content_frames(payload: &[u8]) -> Option<(usize, usize)> {
    let (mut frames, mut i_frames, mut off) = (0, 0, 0);
    while off < payload.len() {
        match parse_frame(&payload[off..]).ok()? {
            Frame::Complete {
                apci,
                asdu,
                consumed,
            } => {
                if let Apci::I { .. } = apci {
                    let a = Asdu::parse(asdu).ok()?;
                    if a.info.is_none() || a.count == 0 {
                        return None;
                    }
                    i_frames += 1;
                }
                frames += 1;
                off += consumed;
            }
            Frame::Incomplete { .. } => {
                // An I frame whose ASDU header arrived with a known type id counts.
                let rest = &payload[off..];
                let known = rest.len() >= 7 && constants::type_info(rest[6]).is_some();
                if rest.len() >= 6 && rest[2] & 1 == 0 && known {
                    return Some((frames + 1, i_frames + 1));
                }
                return (frames > 0).then_some((frames, i_frames));
            }
        }
    }
    Some((frames, i_frames))
}

/// Selects IEC 104 flows: port 2404, or content on any TCP port.
#[derive(Clone, Copy, Debug, Default)]
pub struct Iec104Factory;

impl DissectorFactory for Iec104Factory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != Transport::Tcp {
            return 0;
        }
        let on_port = ctx.server_port == PORT || ctx.client_port == PORT;
        let content = match content_frames(first_payload) {
            Some((frames, i_frames)) => frames > 0 && (on_port || i_frames > 0),
            None => false,
        };
        crate::registry::confidence(on_port, content)
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(Iec104Dissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(Iec104Factory)]
}
