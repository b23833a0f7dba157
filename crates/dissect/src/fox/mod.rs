//! Niagara Fox (TCP 1911; 4911 is TLS).
//!
//! Each Fox message is an event named `<channel>_<command>`: the `fox hello` handshake
//! (both sides announce host name, application name and version, VM and OS, and the
//! station announces its station name) is a session event whose values also become
//! identity observations (application → product, version → firmware) and attributes.

pub mod parser;

use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, Event, FlowContext, IdentityField,
    OpClass, Status, Transport,
};
use parser::{message_len, parse_message};

/// Well-known Fox port.
pub const FOX_PORT: u16 = 1911;
const PROTO: &str = "fox";
/// Longest attribute value kept.
const MAX_VALUE: usize = 128;
/// Longest function name.
const MAX_NAME: usize = 48;

/// The Fox dissector of one flow.
#[derive(Debug, Default)]
pub struct FoxDissector {
    lost: [bool; 2],
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

fn snake(s: &str) -> String {
    s.chars()
        .take(MAX_NAME)
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Function numbers of the commands we know; others are 0.
fn function(channel: &str, command: &str) -> (u32, OpClass) {
    match (channel, command) {
        ("fox", "hello") => (1, OpClass::Session),
        ("fox", "login") | ("fox", "loginAuth") | ("fox", "authenticate") => (2, OpClass::Session),
        ("fox", "close") | ("fox", "logout") => (3, OpClass::Session),
        ("fox", "keepAlive") => (4, OpClass::Session),
        _ => (0, OpClass::Other),
    }
}

impl FoxDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one whole message.
    pub fn handle_message(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        msg: &[u8],
        out: &mut Emitter,
    ) {
        let (h, pairs) = match parse_message(msg) {
            Ok(x) => x,
            Err(e) => {
                out.anomaly(PROTO, format!("malformed Fox message: {e}"));
                return;
            }
        };
        let (code, op) = function(h.channel, h.command);
        let name = snake(&format!("{}_{}", h.channel, h.command));
        let is_response = h.reply_to >= 0 || dir == Direction::ToClient && code == 1;
        let mut ev = Event::new(PROTO, op, code, name, is_response);
        if is_response {
            ev.status = Status::Ok;
        }
        ev.attr("message_type", Attr::Text(h.kind.chars().take(8).collect()))
            .attr("message_num", Attr::Int(h.num));
        let hello = code == 1;
        let mut ident: Vec<(IdentityField, String)> = Vec::new();
        for (k, v) in pairs {
            let v: String = v.chars().take(MAX_VALUE).collect();
            let attr = match k {
                "hostName" => "host_name",
                "hostAddress" => "host_address",
                "app.name" => "app_name",
                "app.version" => "app_version",
                "vm.name" => "vm_name",
                "vm.version" => "vm_version",
                "os.name" => "os_name",
                "os.version" => "os_version",
                "station.name" => "station_name",
                "brandId" => "brand_id",
                "fox.version" => "fox_version",
                _ => continue,
            };
            if hello {
                match k {
                    "app.name" => ident.push((IdentityField::Product, v.clone())),
                    "app.version" => ident.push((IdentityField::Firmware, v.clone())),
                    "brandId" => ident.push((IdentityField::Vendor, v.clone())),
                    _ => {}
                }
            }
            ev.attr(attr, Attr::Text(v));
        }
        out.event(ctx, dir, ev);
        for (field, value) in ident {
            out.identity(ctx, dir, field, &value, PROTO);
        }
    }
}

impl Dissector for FoxDissector {
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
            if self.lost[idx] {
                // Resynchronise on the next "fox " at a line start.
                match rest.windows(5).position(|w| w == b"\nfox ") {
                    Some(p) => {
                        consumed += p + 1;
                        self.lost[idx] = false;
                        continue;
                    }
                    None => return consumed + rest.len().saturating_sub(4),
                }
            }
            match message_len(rest) {
                Ok(Some(n)) => {
                    self.handle_message(ctx, dir, &rest[..n], out);
                    consumed += n;
                }
                Ok(None) => break,
                Err(e) => {
                    out.anomaly(PROTO, format!("malformed Fox stream: {e}"));
                    self.lost[idx] = true;
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
        self.lost[dir_index(dir)] = true;
    }
}

/// Content check: the first bytes are a Fox header line.
pub fn content_matches(payload: &[u8]) -> bool {
    let line_end = payload
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(payload.len());
    let line = &payload[..line_end];
    line.starts_with(b"fox ")
        && std::str::from_utf8(line).is_ok_and(|l| l.split_ascii_whitespace().count() >= 6)
}

/// Recognises Fox flows.
#[derive(Clone, Copy, Debug)]
pub struct FoxFactory;

impl DissectorFactory for FoxFactory {
    fn name(&self) -> &'static str {
        PROTO
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != Transport::Tcp {
            return 0;
        }
        let on_port = ctx.server_port == FOX_PORT || ctx.client_port == FOX_PORT;
        crate::registry::confidence(on_port, content_matches(first_payload))
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(FoxDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(FoxFactory)]
}
