//! DNS, mDNS and LLMNR: host names from address records and reverse look-ups.
//!
//! The three protocols share one wire format ([`parser`]) and one dissector, which differs
//! only in its name and in the [`NameSource`] of what it reports. Over UDP each datagram
//! is one message; over TCP messages carry a 2-byte length prefix, several may share a
//! segment and one may span segments (the stream contract of [`Dissector::on_stream`]).
//!
//! Outputs: for every A/AAAA record of a response (any section) a host name `owner → address`;
//! for every PTR record whose owner is a full `in-addr.arpa`/`ip6.arpa` name, the PTR
//! target as the name of the address the owner encodes. Unicast DNS messages are also
//! look-up events ([`lookup`]). Malformed messages become anomalies.

pub mod lookup;
pub mod parser;

use crate::{Direction, Dissector, DissectorFactory, Emitter, FlowContext, NameSource, Transport};
use parser::{parse_message, parse_tcp_frame, DnsError, Frame, Message, RData};

/// Well-known port of unicast DNS.
pub const DNS_PORT: u16 = 53;
/// Well-known port of multicast DNS.
pub const MDNS_PORT: u16 = 5353;
/// Well-known port of LLMNR.
pub const LLMNR_PORT: u16 = 5355;

/// Which of the DNS-format protocols a dissector speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Unicast DNS (port 53).
    Dns,
    /// Multicast DNS (port 5353).
    Mdns,
    /// Link-local multicast name resolution (port 5355).
    Llmnr,
}

impl Flavor {
    /// Protocol name used in records.
    pub fn name(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Mdns => "mdns",
            Self::Llmnr => "llmnr",
        }
    }

    /// Where names learnt through this protocol come from.
    pub fn source(self) -> NameSource {
        match self {
            Self::Dns => NameSource::Dns,
            Self::Mdns | Self::Llmnr => NameSource::Multicast,
        }
    }

    fn port(self) -> u16 {
        match self {
            Self::Dns => DNS_PORT,
            Self::Mdns => MDNS_PORT,
            Self::Llmnr => LLMNR_PORT,
        }
    }
}

/// Reports host names found in one parsed message. `scratch` is reused text space.
pub fn emit_message(
    msg: &Message<'_>,
    source: NameSource,
    scratch: &mut String,
    out: &mut Emitter,
) {
    // Queries carry no answers of their own (mDNS known-answer lists repeat what the
    // asker already heard from the owner, which reported it itself).
    if !msg.header.is_response() {
        return;
    }
    for record in msg.records() {
        scratch.clear();
        match record.rdata {
            RData::A(addr) => {
                record.name.write_text(scratch);
                out.hostname(Some(addr.into()), None, scratch, source);
            }
            RData::Aaaa(addr) => {
                record.name.write_text(scratch);
                out.hostname(Some(addr.into()), None, scratch, source);
            }
            RData::Ptr(target) => {
                if let Some(ip) = parser::reverse_name_ip(&record.name) {
                    target.write_text(scratch);
                    out.hostname(Some(ip), None, scratch, source);
                }
            }
            RData::Cname(_) | RData::Other(_) => {}
        }
    }
}

/// Per-direction stream state.
#[derive(Clone, Copy, Debug, Default)]
struct StreamState {
    /// Framing was lost (a gap, or a length prefix that cannot be right): look for the
    /// next plausible message before trusting length prefixes again.
    resync: bool,
}

/// Where to continue after lost framing.
enum Sync {
    /// A verified message starts at this offset.
    Found(usize),
    /// Nothing before this offset can start a message; the rest needs more bytes to judge.
    NeedMore(usize),
}

/// Finds the next offset where a length prefix is followed by a whole, valid message.
fn find_sync(data: &[u8]) -> Sync {
    for off in 0..data.len() {
        let rest = &data[off..];
        let Some(header) = rest.get(2..2 + parser::HEADER_LEN) else {
            return Sync::NeedMore(off);
        };
        if !parser::plausible_mdns_header(header) {
            continue;
        }
        match parse_tcp_frame(rest) {
            Ok(Frame::Complete { message, .. }) => {
                if parse_message(message).is_ok() {
                    return Sync::Found(off);
                }
            }
            Ok(Frame::Incomplete { .. }) => return Sync::NeedMore(off),
            Err(_) => {}
        }
    }
    Sync::NeedMore(data.len())
}

/// The dissector for DNS, mDNS and LLMNR flows.
#[derive(Debug)]
pub struct DnsDissector {
    flavor: Flavor,
    scratch: String,
    streams: [StreamState; 2],
}

impl DnsDissector {
    /// A dissector for one flow of `flavor`.
    pub fn new(flavor: Flavor) -> Self {
        Self {
            flavor,
            scratch: String::new(),
            streams: [StreamState::default(); 2],
        }
    }

    fn handle_message(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter,
    ) {
        match parse_message(data) {
            Ok(msg) => {
                if self.flavor == Flavor::Dns {
                    lookup::emit_lookup(ctx, dir, &msg, &mut self.scratch, out);
                }
                emit_message(&msg, self.flavor.source(), &mut self.scratch, out);
            }
            Err(e) => self.anomaly(e, out),
        }
    }

    fn anomaly(&self, e: DnsError, out: &mut Emitter) {
        out.anomaly(self.flavor.name(), format!("malformed message: {e}"));
    }
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl Dissector for DnsDissector {
    fn name(&self) -> &'static str {
        self.flavor.name()
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
                match find_sync(rest) {
                    Sync::Found(off) => {
                        consumed += off;
                        self.streams[idx].resync = false;
                        continue;
                    }
                    Sync::NeedMore(off) => return consumed + off,
                }
            }
            match parse_tcp_frame(rest) {
                Ok(Frame::Complete {
                    message,
                    consumed: n,
                }) => {
                    if parser::plausible_mdns_header(message) {
                        self.handle_message(ctx, dir, message, out);
                        consumed += n;
                    } else {
                        // A length prefix followed by no DNS header: the framing is off.
                        out.anomaly(
                            self.flavor.name(),
                            "length prefix not followed by a DNS header",
                        );
                        self.streams[idx].resync = true;
                        consumed += 1;
                    }
                }
                Ok(Frame::Incomplete { .. }) => break,
                Err(e) => {
                    self.anomaly(e, out);
                    self.streams[idx].resync = true;
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
        self.streams[dir_index(dir)].resync = true;
    }
}

/// Content check for a flow's first payload.
fn content_matches(flavor: Flavor, transport: Transport, payload: &[u8]) -> bool {
    let header_ok = |msg: &[u8]| match flavor {
        Flavor::Mdns => parser::plausible_mdns_header(msg),
        Flavor::Dns | Flavor::Llmnr => parser::plausible_header(msg),
    };
    match transport {
        Transport::Udp => header_ok(payload) && parse_message(payload).is_ok(),
        Transport::Tcp => match parse_tcp_frame(payload) {
            Ok(Frame::Complete { message, .. }) => {
                header_ok(message) && parse_message(message).is_ok()
            }
            Ok(Frame::Incomplete { .. }) => payload.get(2..).is_some_and(header_ok),
            Err(_) => false,
        },
    }
}

/// Creates [`DnsDissector`]s of one flavor and recognises its flows.
#[derive(Clone, Copy, Debug)]
pub struct DnsFactory {
    flavor: Flavor,
}

impl DnsFactory {
    /// Unicast DNS: port 53, and by content on any port.
    pub fn dns() -> Self {
        Self {
            flavor: Flavor::Dns,
        }
    }

    /// mDNS: port 5353 only (its content is DNS; unicast DNS claims odd ports).
    pub fn mdns() -> Self {
        Self {
            flavor: Flavor::Mdns,
        }
    }

    /// LLMNR: port 5355 only.
    pub fn llmnr() -> Self {
        Self {
            flavor: Flavor::Llmnr,
        }
    }
}

impl DissectorFactory for DnsFactory {
    fn name(&self) -> &'static str {
        self.flavor.name()
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        let port = self.flavor.port();
        let on_port = ctx.server_port == port || ctx.client_port == port;
        let content = content_matches(self.flavor, ctx.transport, first_payload);
        match (on_port, content) {
            (true, true) => 3,
            (true, false) => 1,
            (false, true) if self.flavor == Flavor::Dns => 2,
            _ => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(DnsDissector::new(self.flavor))
    }
}
