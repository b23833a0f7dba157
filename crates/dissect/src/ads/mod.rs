//! Beckhoff ADS over AMS (TCP 48898; UDP 48899 for TwinCAT discovery and AMS/UDP).
//!
//! Every ADS request and response is an event: reads and writes with target
//! `ig<index group>` starting at the index offset (count = bytes), write control (ADS
//! state changes such as run/stop/reset) as control, device info as identify (its
//! response gives the device name and version), notifications as reads. AMS and ADS
//! error codes become the status; responses are paired by invoke id.

pub mod constants;
pub mod parser;

use crate::pending::PendingRequests;
use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, Event, FlowContext, IdentityField,
    OpClass, Status, Transport,
};
use parser::{parse_ams, parse_tcp, parse_udp_discovery, Ams, TcpFrame};

/// AMS/TCP port.
pub const ADS_TCP_PORT: u16 = 48898;
/// AMS/UDP and TwinCAT discovery port.
pub const ADS_UDP_PORT: u16 = 48899;
const PROTO: &str = "ads";
/// Most requests awaiting a response per flow.
pub const MAX_PENDING: usize = 128;
/// Longest symbol name kept.
const MAX_SYMBOL: usize = 256;

#[derive(Clone, Copy, Debug)]
struct Pending {
    invoke_id: u32,
    command: u16,
    target: Option<(u32, u32, u32)>,
}

/// The ADS dissector of one flow.
#[derive(Debug, Default)]
pub struct AdsDissector {
    pending: PendingRequests<Pending, MAX_PENDING>,
    resync: [bool; 2],
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

fn u32le(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u16le(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn space(group: u32) -> String {
    format!("ig{group}")
}

/// A small written value as a number (1, 2, 4 or 8 bytes, little-endian unsigned).
fn small_value(data: &[u8]) -> Option<f64> {
    match *data {
        [a] => Some(f64::from(a)),
        [a, b] => Some(f64::from(u16::from_le_bytes([a, b]))),
        [a, b, c, d] => Some(f64::from(u32::from_le_bytes([a, b, c, d]))),
        [a, b, c, d, e, f, g, h] => Some(u64::from_le_bytes([a, b, c, d, e, f, g, h]) as f64),
        _ => None,
    }
}

impl AdsDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one AMS message.
    pub fn handle_ams(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter,
    ) {
        match parse_ams(data) {
            Ok(ams) if ams.is_response() => self.response(ctx, dir, &ams, out),
            Ok(ams) => self.request(ctx, dir, &ams, out),
            Err(e) => out.anomaly(PROTO, format!("malformed AMS message: {e}")),
        }
    }

    fn request(&mut self, ctx: &FlowContext, dir: Direction, a: &Ams<'_>, out: &mut Emitter) {
        let (name, mut op) = constants::command(a.command);
        let d = a.data;
        let mut target = None;
        let mut ev = Event::new(PROTO, op, u32::from(a.command), name, false);
        match a.command {
            2 | 3 | 6 | 9 => {
                if let (Some(g), Some(o), Some(l)) = (u32le(d, 0), u32le(d, 4), u32le(d, 8)) {
                    ev.target(space(g), u64::from(o), l);
                    target = Some((g, o, l));
                    match a.command {
                        3 => {
                            let payload = d.get(12..).unwrap_or_default();
                            if let Some(v) = small_value(payload) {
                                ev.value(space(g), u64::from(o), v);
                            }
                        }
                        9 => {
                            let wlen = u32le(d, 12).unwrap_or(0) as usize;
                            let wdata = d.get(16..16 + wlen).unwrap_or_default();
                            if constants::is_symbol_lookup(g) {
                                op = OpClass::Read;
                                let sym = &wdata[..wdata.len().min(MAX_SYMBOL)];
                                let sym = String::from_utf8_lossy(sym);
                                ev.attr("symbol", Attr::Text(sym.trim_end_matches('\0').into()));
                            } else if let Some(v) = small_value(wdata) {
                                ev.value(space(g), u64::from(o), v);
                            }
                        }
                        _ => {}
                    }
                }
            }
            5 => {
                if let (Some(state), Some(dev)) = (u16le(d, 0), u16le(d, 2)) {
                    ev.attr(
                        "ads_state",
                        Attr::Text(constants::ads_state(state).into_owned()),
                    )
                    .attr("device_state", Attr::UInt(dev.into()));
                }
            }
            7 => {
                if let Some(h) = u32le(d, 0) {
                    ev.attr("notification_handle", Attr::UInt(h.into()));
                }
            }
            8 => {
                if let Some(stamps) = u32le(d, 4) {
                    ev.attr("stamps", Attr::UInt(stamps.into()));
                }
            }
            _ => {}
        }
        ev.op = op;
        self.common(&mut ev, a, a.target_port);
        out.event(ctx, dir, ev);
        // Device notifications are not answered.
        if a.command == 8 {
            return;
        }
        let overflow = self.pending.push(Pending {
            invoke_id: a.invoke_id,
            command: a.command,
            target,
        });
        if overflow {
            out.anomaly(
                PROTO,
                "too many ADS requests awaiting a response; oldest dropped",
            );
        }
    }

    fn common(&self, ev: &mut Event, a: &Ams<'_>, unit: u16) {
        ev.unit = Some(u32::from(unit));
        ev.attr("target_net_id", Attr::Text(a.target.to_string()))
            .attr("target_port", Attr::UInt(a.target_port.into()))
            .attr("source_net_id", Attr::Text(a.source.to_string()))
            .attr("source_port", Attr::UInt(a.source_port.into()))
            .attr("invoke_id", Attr::UInt(a.invoke_id.into()));
    }

    fn response(&mut self, ctx: &FlowContext, dir: Direction, a: &Ams<'_>, out: &mut Emitter) {
        let (name, op) = constants::command(a.command);
        let mut ev = Event::new(PROTO, op, u32::from(a.command), name, true);
        let pending = self
            .pending
            .take(|p| p.invoke_id == a.invoke_id && p.command == a.command);
        if let Some((g, o, l)) = pending.and_then(|p| p.target) {
            ev.target(space(g), u64::from(o), l);
        }
        // The AMS error code first, then the ADS result that starts the data.
        let result = if a.error != 0 {
            a.error
        } else {
            u32le(a.data, 0).unwrap_or(0)
        };
        ev.status = if result == 0 {
            Status::Ok
        } else {
            Status::Exception {
                code: result,
                name: constants::error_name(result),
            }
        };
        let d = a.data;
        let mut info = None;
        match a.command {
            1 if result == 0 => {
                if let Some(b) = d.get(4..24) {
                    let version = format!("{}.{}.{}", b[0], b[1], u16::from_le_bytes([b[2], b[3]]));
                    // NUL-terminated within its 16 bytes; what follows is garbage.
                    let raw = &b[4..20];
                    let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
                    let name = String::from_utf8_lossy(&raw[..end]).trim().to_string();
                    ev.attr("device_name", Attr::Text(name.clone()))
                        .attr("version", Attr::Text(version.clone()));
                    info = Some((name, version));
                }
            }
            4 if result == 0 => {
                if let (Some(state), Some(dev)) = (u16le(d, 4), u16le(d, 6)) {
                    ev.attr(
                        "ads_state",
                        Attr::Text(constants::ads_state(state).into_owned()),
                    )
                    .attr("device_state", Attr::UInt(dev.into()));
                }
            }
            2 if result == 0 => {
                if let (Some((g, o, _)), Some(len)) = (pending.and_then(|p| p.target), u32le(d, 4))
                {
                    let data = d.get(8..8 + len as usize).unwrap_or_default();
                    if let Some(v) = small_value(data) {
                        ev.value(space(g), u64::from(o), v);
                    }
                }
            }
            6 if result == 0 => {
                if let Some(h) = u32le(d, 4) {
                    ev.attr("notification_handle", Attr::UInt(h.into()));
                }
            }
            _ => {}
        }
        self.common(&mut ev, a, a.source_port);
        out.event(ctx, dir, ev);
        if let Some((name, version)) = info {
            out.identity(ctx, dir, IdentityField::Vendor, "Beckhoff", PROTO);
            out.identity(ctx, dir, IdentityField::Product, &name, PROTO);
            out.identity(ctx, dir, IdentityField::Firmware, &version, PROTO);
        }
    }

    fn discovery(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        let Some(m) = parse_udp_discovery(data) else {
            out.anomaly(PROTO, "TwinCAT UDP message too short");
            return;
        };
        let (name, op): (std::borrow::Cow<'static, str>, OpClass) = match m.service {
            1 => ("discovery".into(), OpClass::Identify),
            6 => ("add_route".into(), OpClass::Write),
            n => (format!("unknown-{n}").into(), OpClass::Other),
        };
        let mut ev = Event::new(PROTO, op, 0x1_0000 | m.service, name, m.response);
        ev.attr("net_id", Attr::Text(m.net_id.to_string()))
            .attr("invoke_id", Attr::UInt(m.invoke_id.into()));
        if m.response {
            ev.status = Status::Ok;
        }
        out.event(ctx, dir, ev);
    }
}

impl Dissector for AdsDissector {
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
                // Resynchronise on a prefix followed by a whole, consistent AMS message.
                match find_sync(rest) {
                    Some(off) => {
                        consumed += off;
                        self.resync[idx] = false;
                        continue;
                    }
                    None => return consumed + rest.len().saturating_sub(AMS_SYNC_WINDOW),
                }
            }
            match parse_tcp(rest) {
                Ok(TcpFrame::Complete {
                    message,
                    consumed: n,
                }) => {
                    self.handle_ams(ctx, dir, message, out);
                    consumed += n;
                }
                Ok(TcpFrame::Incomplete) => break,
                Err(e) => {
                    out.anomaly(PROTO, format!("malformed AMS/TCP record: {e}"));
                    self.resync[idx] = true;
                    consumed += 1;
                }
            }
        }
        consumed
    }

    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        if data.starts_with(&parser::UDP_MAGIC) {
            self.discovery(ctx, dir, data, out);
        } else {
            self.handle_ams(ctx, dir, data, out);
        }
    }

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, _len: u64, _out: &mut Emitter) {
        self.resync[dir_index(dir)] = true;
    }
}

/// Bytes kept back while looking for a resynchronisation point.
const AMS_SYNC_WINDOW: usize = parser::TCP_PREFIX_LEN + parser::AMS_HEADER_LEN;

/// Offset of the first AMS/TCP record whose header is consistent and whose AMS data
/// length matches the record length.
fn find_sync(data: &[u8]) -> Option<usize> {
    (0..data.len()).find(|&off| plausible_record(&data[off..]))
}

fn plausible_record(data: &[u8]) -> bool {
    let Some(h) = data.get(..AMS_SYNC_WINDOW) else {
        return false;
    };
    let len = u32::from_le_bytes([h[2], h[3], h[4], h[5]]);
    let data_len = u32::from_le_bytes([h[26], h[27], h[28], h[29]]);
    let command = u16::from_le_bytes([h[22], h[23]]);
    h[0] == 0
        && h[1] == 0
        && len as usize == parser::AMS_HEADER_LEN + data_len as usize
        && (1..=9).contains(&command)
}

/// Content check for a flow's first payload.
pub fn content_matches(transport: Transport, payload: &[u8]) -> bool {
    match transport {
        Transport::Tcp => plausible_record(payload),
        Transport::Udp => {
            parse_udp_discovery(payload).is_some()
                || parse_ams(payload).is_ok_and(|a| (1..=9).contains(&a.command))
        }
    }
}

/// Recognises ADS flows.
#[derive(Clone, Copy, Debug)]
pub struct AdsFactory;

impl DissectorFactory for AdsFactory {
    fn name(&self) -> &'static str {
        PROTO
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        let port = match ctx.transport {
            Transport::Tcp => ADS_TCP_PORT,
            Transport::Udp => ADS_UDP_PORT,
        };
        let on_port = ctx.server_port == port || ctx.client_port == port;
        match (on_port, content_matches(ctx.transport, first_payload)) {
            (true, true) => 3,
            (true, false) => 1,
            (false, true) if ctx.transport == Transport::Tcp => 2,
            _ => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(AdsDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(AdsFactory)]
}
