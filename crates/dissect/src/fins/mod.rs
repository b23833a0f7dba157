//! Omron FINS over UDP and TCP (port 9600).
//!
//! Every command and response becomes an event: memory area reads and writes with the
//! area as target space (`dm`, `cio`, `hr`, `wr`, `ar`, `*_bit` for bit addressing) and
//! the word (or word·16+bit) address, run/stop as control, controller data read as
//! identify (its response gives the controller model and version), program area access
//! as program, forced set/reset as write. End codes become the status. Responses are
//! paired with their command by service id to carry the command's targets.

pub mod constants;
pub mod parser;

use crate::pending::PendingRequests;
use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, Event, FlowContext, IdentityField,
    Status, Transport,
};
use parser::{parse_frame, parse_tcp, Frame, TcpFrame};

/// Well-known FINS port (UDP and TCP).
pub const FINS_PORT: u16 = 9600;
const PROTO: &str = "fins";
/// Most commands awaiting a response per flow.
pub const MAX_PENDING: usize = 64;
/// Most values reported per event.
pub const MAX_VALUES: usize = 64;
/// Most items of a multiple read reported.
const MAX_ITEMS: usize = 32;

/// What a command addressed, kept for its response.
#[derive(Clone, Debug)]
struct Pending {
    sid: u8,
    command: u16,
    area: Option<(u8, u64, u32)>,
}

/// The FINS dissector of one flow.
#[derive(Debug, Default)]
pub struct FinsDissector {
    pending: PendingRequests<Pending, MAX_PENDING>,
    resync: [bool; 2],
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

/// Memory area spec (area code, word address, bit, count) at the front of `d`.
fn area_spec(d: &[u8]) -> Option<(u8, u64, u32, bool)> {
    let s = d.get(..6)?;
    let (_, bit_area) = constants::area(s[0]);
    let word = u64::from(u16::from_be_bytes([s[1], s[2]]));
    let start = if bit_area {
        word * 16 + u64::from(s[3])
    } else {
        word
    };
    Some((
        s[0],
        start,
        u32::from(u16::from_be_bytes([s[4], s[5]])),
        bit_area,
    ))
}

/// Adds one value per item of `data` (words for word areas, bytes for bit areas).
fn add_values(ev: &mut Event, area: u8, start: u64, count: u32, data: &[u8]) {
    let (space, bit) = constants::area(area);
    let width = if bit { 1 } else { 2 };
    for (i, chunk) in data
        .chunks_exact(width)
        .take((count as usize).min(MAX_VALUES))
        .enumerate()
    {
        let v = if bit {
            f64::from(chunk[0])
        } else {
            f64::from(u16::from_be_bytes([chunk[0], chunk[1]]))
        };
        ev.value(space.clone(), start + i as u64, v);
    }
}

impl FinsDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one FINS frame.
    pub fn handle_frame(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter,
    ) {
        let frame = match parse_frame(data) {
            Ok(f) => f,
            Err(e) => {
                out.anomaly(PROTO, format!("malformed FINS frame: {e}"));
                return;
            }
        };
        if frame.is_response() {
            self.response(ctx, dir, &frame, out);
        } else {
            self.command(ctx, dir, &frame, out);
        }
    }

    fn command(&mut self, ctx: &FlowContext, dir: Direction, f: &Frame<'_>, out: &mut Emitter) {
        let (name, op) = constants::command(f.command);
        let mut ev = Event::new(PROTO, op, u32::from(f.command), name, false);
        ev.unit = Some(u32::from(f.header.da1));
        ev.attr("sid", Attr::UInt(f.header.sid.into()));
        let mut area = None;
        let d = f.data;
        match f.command {
            0x0101..=0x0103 => {
                if let Some((code, start, count, _)) = area_spec(d) {
                    ev.target(constants::area(code).0, start, count);
                    area = Some((code, start, count));
                    if f.command == 0x0102 {
                        add_values(&mut ev, code, start, count, &d[6..]);
                    } else if f.command == 0x0103 {
                        if let Some(v) = d.get(6..8) {
                            let (space, _) = constants::area(code);
                            ev.value(space, start, f64::from(u16::from_be_bytes([v[0], v[1]])));
                        }
                    }
                }
            }
            0x0104 => {
                for item in d.chunks_exact(4).take(MAX_ITEMS) {
                    let (space, bit) = constants::area(item[0]);
                    let word = u64::from(u16::from_be_bytes([item[1], item[2]]));
                    let start = if bit {
                        word * 16 + u64::from(item[3])
                    } else {
                        word
                    };
                    ev.target(space, start, 1);
                }
            }
            0x0105 => {
                if let Some(s) = d.get(..10) {
                    let count = u32::from(u16::from_be_bytes([s[8], s[9]]));
                    for spec in [&s[0..4], &s[4..8]] {
                        let (space, bit) = constants::area(spec[0]);
                        let word = u64::from(u16::from_be_bytes([spec[1], spec[2]]));
                        let start = if bit {
                            word * 16 + u64::from(spec[3])
                        } else {
                            word
                        };
                        ev.target(space, start, count);
                    }
                }
            }
            0x0201..=0x0203 => {
                if let Some(s) = d.get(..6) {
                    let code = u16::from_be_bytes([s[0], s[1]]);
                    ev.target(
                        format!("parameter:{code:#06x}"),
                        u64::from(u16::from_be_bytes([s[2], s[3]])),
                        u32::from(u16::from_be_bytes([s[4], s[5]])),
                    );
                }
            }
            0x0306..=0x0308 => {
                if let Some(s) = d.get(..8) {
                    let program = u16::from_be_bytes([s[0], s[1]]);
                    ev.target(
                        format!("program:{program}"),
                        u64::from(u32::from_be_bytes([s[2], s[3], s[4], s[5]])),
                        u32::from(u16::from_be_bytes([s[6], s[7]])),
                    );
                }
            }
            0x0401 => {
                if let Some(&mode) = d.get(2) {
                    let m = match mode {
                        0x01 => "debug",
                        0x02 => "monitor",
                        0x04 => "run",
                        _ => "other",
                    };
                    ev.attr("mode", Attr::Text(m.into()));
                }
            }
            0x2301 => {
                if let Some(n) = d.get(..2) {
                    let n = usize::from(u16::from_be_bytes([n[0], n[1]]));
                    for item in d[2..].chunks_exact(6).take(n.min(MAX_ITEMS)) {
                        let spec = u16::from_be_bytes([item[0], item[1]]);
                        let (space, bit) = constants::area(item[2]);
                        let word = u64::from(u16::from_be_bytes([item[3], item[4]]));
                        let start = if bit {
                            word * 16 + u64::from(item[5])
                        } else {
                            word
                        };
                        ev.target(space.clone(), start, 1);
                        // 0000 force reset, 0001 force set: the forced value.
                        if spec <= 1 {
                            ev.value(space, start, f64::from(spec));
                        }
                    }
                }
            }
            _ => {}
        }
        out.event(ctx, dir, ev);
        let overflow = self.pending.push(Pending {
            sid: f.header.sid,
            command: f.command,
            area,
        });
        if overflow {
            out.anomaly(
                PROTO,
                "too many FINS commands awaiting a response; oldest dropped",
            );
        }
    }

    fn response(&mut self, ctx: &FlowContext, dir: Direction, f: &Frame<'_>, out: &mut Emitter) {
        let (name, op) = constants::command(f.command);
        let mut ev = Event::new(PROTO, op, u32::from(f.command), name, true);
        ev.unit = Some(u32::from(f.header.sa1));
        ev.attr("sid", Attr::UInt(f.header.sid.into()));
        let end = f.end_code.unwrap_or(0);
        let main = ((end >> 8) as u8) & 0x7F;
        let sub = (end as u8) & 0x3F;
        ev.status = if main == 0 && sub == 0 {
            Status::Ok
        } else {
            Status::Exception {
                code: u32::from(main) << 8 | u32::from(sub),
                name: constants::end_code_name(main),
            }
        };
        let pending = self
            .pending
            .take(|p| p.sid == f.header.sid && p.command == f.command);
        if let Some((code, start, count)) = pending.and_then(|p| p.area) {
            ev.target(constants::area(code).0, start, count);
            if f.command == 0x0101 && ev.status == Status::Ok {
                add_values(&mut ev, code, start, count, f.data);
            }
        }
        let model_version = (f.command == 0x0501 && ev.status == Status::Ok)
            .then(|| f.data.get(..40))
            .flatten();
        out.event(ctx, dir, ev);
        if let Some(mv) = model_version {
            let model = String::from_utf8_lossy(&mv[..20]);
            let version = String::from_utf8_lossy(&mv[20..40]);
            out.identity(ctx, dir, IdentityField::Vendor, "Omron", PROTO);
            out.identity(ctx, dir, IdentityField::Model, &model, PROTO);
            out.identity(ctx, dir, IdentityField::Firmware, &version, PROTO);
        }
    }
}

impl Dissector for FinsDissector {
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
                match rest.windows(4).position(|w| w == b"FINS") {
                    Some(off) => {
                        consumed += off;
                        self.resync[idx] = false;
                        continue;
                    }
                    None => return consumed + rest.len().saturating_sub(3),
                }
            }
            match parse_tcp(rest) {
                Ok(TcpFrame::Complete {
                    command,
                    error,
                    body,
                    consumed: n,
                }) => {
                    consumed += n;
                    match command {
                        parser::TCP_FRAME_SEND => self.handle_frame(ctx, dir, body, out),
                        3 => out.anomaly(PROTO, format!("FINS/TCP frame send error {error}")),
                        _ => {}
                    }
                }
                Ok(TcpFrame::Incomplete) => break,
                Err(e) => {
                    out.anomaly(PROTO, format!("malformed FINS/TCP record: {e}"));
                    self.resync[idx] = true;
                    consumed += 1;
                }
            }
        }
        consumed
    }

    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        self.handle_frame(ctx, dir, data, out);
    }

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, _len: u64, _out: &mut Emitter) {
        self.resync[dir_index(dir)] = true;
    }
}

/// Content check: FINS/TCP needs its magic and a sane length; a UDP datagram needs a
/// consistent header and a command code from the table.
pub fn content_matches(transport: Transport, payload: &[u8]) -> bool {
    match transport {
        Transport::Tcp => match parse_tcp(payload) {
            Ok(TcpFrame::Complete { command, body, .. }) => {
                command != parser::TCP_FRAME_SEND
                    || (parser::plausible_header(body)
                        && parse_frame(body).is_ok_and(|f| constants::is_known_command(f.command)))
            }
            Ok(TcpFrame::Incomplete) => payload.len() >= 8,
            Err(_) => false,
        },
        Transport::Udp => {
            parser::plausible_header(payload)
                && parse_frame(payload).is_ok_and(|f| constants::is_known_command(f.command))
        }
    }
}

/// Recognises FINS flows.
#[derive(Clone, Copy, Debug)]
pub struct FinsFactory;

impl DissectorFactory for FinsFactory {
    fn name(&self) -> &'static str {
        PROTO
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        let on_port = ctx.server_port == FINS_PORT || ctx.client_port == FINS_PORT;
        match (on_port, content_matches(ctx.transport, first_payload)) {
            (true, true) => 3,
            (true, false) => 1,
            // Bare UDP headers are too weak to claim a flow on another port.
            (false, true) if ctx.transport == Transport::Tcp => 2,
            _ => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(FinsDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(FinsFactory)]
}
