//! IEEE C37.118 synchrophasors (TCP 4712, UDP 4713).
//!
//! Command frames are events (turn transmission on/off as control, requests for header
//! and configuration as read); header and configuration frames are events (the PMU's
//! answer, with station names and id codes from configuration frames as attributes).
//! Data frames stream at 10–120 per second: they are counted, and only the first data
//! frame of a stream (in each direction, and again after transmission was turned off)
//! becomes an event. The IDCODE is the unit. A bad check word is an anomaly.

pub mod parser;

use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, Event, FlowContext, OpClass, Status,
};
use parser::{frame_len, parse_config, parse_frame, FrameType};

/// Well-known TCP port.
pub const C37118_TCP_PORT: u16 = 4712;
/// Well-known UDP port.
pub const C37118_UDP_PORT: u16 = 4713;
const PROTO: &str = "c37118";
/// Function number of non-command frames: this plus the frame type.
pub const FRAME_FUNCTION_BASE: u32 = 0x100;
/// Most station names reported per configuration frame.
const MAX_STATIONS: usize = 32;

/// The C37.118 dissector of one flow.
#[derive(Debug, Default)]
pub struct C37118Dissector {
    resync: [bool; 2],
    streaming: [bool; 2],
    /// Data frames seen, per direction.
    pub data_frames: [u64; 2],
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl C37118Dissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one whole frame.
    pub fn handle_frame(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter,
    ) {
        let f = match parse_frame(data) {
            Ok(f) => f,
            Err(e) => {
                out.anomaly(PROTO, format!("malformed C37.118 frame: {e}"));
                return;
            }
        };
        let idx = dir_index(dir);
        let mut ev = match f.frame_type {
            FrameType::Data => {
                self.data_frames[idx] += 1;
                if self.streaming[idx] {
                    return;
                }
                self.streaming[idx] = true;
                let mut ev = Event::new(PROTO, OpClass::Read, FRAME_FUNCTION_BASE, "data", false);
                ev.attr("stream_start", Attr::Bool(true));
                ev
            }
            FrameType::Command => {
                let cmd = f
                    .body
                    .get(..2)
                    .map_or(0, |c| u16::from_be_bytes([c[0], c[1]]));
                let (name, control) = parser::command_name(cmd);
                let op = if control {
                    OpClass::Control
                } else {
                    OpClass::Read
                };
                if cmd == 1 {
                    // The stream the other side sends stops: its next data frame restarts it.
                    self.streaming = [false; 2];
                }
                Event::new(PROTO, op, u32::from(cmd), name, false)
            }
            t @ (FrameType::Header
            | FrameType::Config1
            | FrameType::Config2
            | FrameType::Config3) => {
                let mut ev = Event::new(
                    PROTO,
                    OpClass::Read,
                    FRAME_FUNCTION_BASE + u32::from(t.code()),
                    t.name(),
                    true,
                );
                ev.status = Status::Ok;
                if matches!(t, FrameType::Config1 | FrameType::Config2) {
                    let mut stations = Vec::new();
                    let mut ids = Vec::new();
                    let mut phasors = 0u64;
                    match parse_config(f.body, |p| {
                        if stations.len() < MAX_STATIONS {
                            let name = String::from_utf8_lossy(p.station);
                            stations.push(
                                name.trim_matches(|c: char| c == '\0' || c.is_whitespace())
                                    .to_string(),
                            );
                            ids.push(p.idcode.to_string());
                        }
                        phasors += u64::from(p.counts.0);
                    }) {
                        Ok((num, rate)) => {
                            ev.attr("num_pmu", Attr::UInt(num.into()))
                                .attr("stations", Attr::List(stations))
                                .attr("pmu_idcodes", Attr::List(ids))
                                .attr("phasors", Attr::UInt(phasors))
                                .attr("data_rate", Attr::Int(rate.into()));
                        }
                        Err(e) => out.anomaly(PROTO, format!("malformed configuration frame: {e}")),
                    }
                }
                ev
            }
        };
        ev.unit = Some(u32::from(f.idcode));
        ev.attr("frame_type", Attr::UInt(f.frame_type.code().into()))
            .attr("version", Attr::UInt(f.version.into()));
        out.event(ctx, dir, ev);
    }
}

impl Dissector for C37118Dissector {
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
                match find_sync(rest) {
                    Sync::Found(off) => {
                        consumed += off;
                        self.resync[idx] = false;
                        continue;
                    }
                    Sync::NeedMore(off) => return consumed + off,
                }
            }
            match frame_len(rest) {
                None => break,
                Some(Ok(n)) => {
                    let Some(frame) = rest.get(..n) else { break };
                    self.handle_frame(ctx, dir, frame, out);
                    consumed += n;
                }
                Some(Err(e)) => {
                    out.anomaly(PROTO, format!("malformed C37.118 frame: {e}"));
                    self.resync[idx] = true;
                    consumed += 1;
                }
            }
        }
        consumed
    }

    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        let mut rest = data;
        while !rest.is_empty() {
            match frame_len(rest) {
                Some(Ok(n)) if n <= rest.len() => {
                    self.handle_frame(ctx, dir, &rest[..n], out);
                    rest = &rest[n..];
                }
                _ => {
                    out.anomaly(PROTO, "datagram does not hold whole C37.118 frames");
                    return;
                }
            }
        }
    }

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, _len: u64, _out: &mut Emitter) {
        self.resync[dir_index(dir)] = true;
    }
}

enum Sync {
    Found(usize),
    NeedMore(usize),
}

/// The next offset where a whole frame with a correct check word starts.
fn find_sync(data: &[u8]) -> Sync {
    for off in 0..data.len() {
        match frame_len(&data[off..]) {
            None => return Sync::NeedMore(off),
            Some(Ok(n)) => match data.get(off..off + n) {
                Some(f) if parse_frame(f).is_ok() => return Sync::Found(off),
                Some(_) => {}
                None => return Sync::NeedMore(off),
            },
            Some(Err(_)) => {}
        }
    }
    Sync::NeedMore(data.len())
}

/// Content check: a whole first frame with a correct check word (strong evidence).
pub fn content_matches(payload: &[u8]) -> bool {
    matches!(frame_len(payload), Some(Ok(n)) if payload.get(..n).is_some_and(|f| parse_frame(f).is_ok()))
}

/// Recognises C37.118 flows.
#[derive(Clone, Copy, Debug)]
pub struct C37118Factory;

impl DissectorFactory for C37118Factory {
    fn name(&self) -> &'static str {
        PROTO
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        let ports = [C37118_TCP_PORT, C37118_UDP_PORT];
        let on_port = ports.contains(&ctx.server_port) || ports.contains(&ctx.client_port);
        crate::registry::confidence(on_port, content_matches(first_payload))
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(C37118Dissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(C37118Factory)]
}
