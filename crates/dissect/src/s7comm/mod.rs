//! S7comm and S7comm-plus over TPKT/COTP (ISO-on-TCP) dissector, and the ISO transport
//! that MMS shares.
//!
//! Every TPKT flow (port 102, or any port when the first payload is a consistent COTP
//! connection request with TSAPs, or a data TPDU carrying S7 or an ISO session SPDU) gets
//! one [`IsoTransportDissector`]. It reassembles COTP data TPDUs into TSDUs (up to the
//! end-of-TSDU mark) and decides from the first TSDU what runs above: S7comm (protocol id
//! 0x32), S7comm-plus (0x72) or an ISO session carrying MMS ([`crate::mms`]).
//!
//! Outputs: COTP connect/disconnect as `cotp` session events (the called TSAP's rack and
//! slot become the unit of later S7 events); S7comm and S7comm-plus events from
//! [`events`]; MMS events from [`crate::mms`]. Malformed frames become anomalies and the
//! stream resynchronises on the next consistent TPKT header.

pub mod constants;
pub mod events;
pub mod parser;
pub mod tpkt;

use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, FlowContext, OpClass, Transport,
};
use events::{PlusState, S7State};
use tpkt::{Frame, Tpdu};

/// Well-known port of ISO-on-TCP.
pub const PORT: u16 = 102;
/// Protocol name of COTP events.
pub const PROTOCOL_COTP: &str = "cotp";
/// Largest TSDU reassembled from COTP data TPDUs.
pub const MAX_TSDU: usize = 65_536;
/// Offset added to COTP TPDU codes to form event function codes.
pub const COTP_FUNCTION_BASE: u32 = 0x2_0000;

/// What runs above COTP on a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upper {
    /// Not decided yet (no data TPDU seen).
    Unknown,
    /// S7comm.
    S7,
    /// S7comm-plus.
    S7Plus,
    /// ISO session / presentation / MMS.
    Mms,
}

/// Classifies the first TSDU of a flow.
pub fn classify(tsdu: &[u8]) -> Option<Upper> {
    match *tsdu.first()? {
        parser::S7_PROTOCOL_ID => Some(Upper::S7),
        parser::S7PLUS_PROTOCOL_ID => Some(Upper::S7Plus),
        _ if crate::mms::session::looks_like_spdu(tsdu) => Some(Upper::Mms),
        _ => None,
    }
}

#[derive(Debug, Default)]
struct StreamState {
    resync: bool,
    /// Payload of data TPDUs without the end mark yet.
    tsdu: Vec<u8>,
    /// The TSDU being reassembled grew past [`MAX_TSDU`]: drop it up to its end mark.
    overflow: bool,
}

/// Per-flow dissector of TPKT/COTP and what runs above it.
#[derive(Debug)]
pub struct IsoTransportDissector {
    upper: Upper,
    streams: [StreamState; 2],
    s7: S7State,
    plus: PlusState,
    mms: crate::mms::MmsState,
}

impl Default for IsoTransportDissector {
    fn default() -> Self {
        Self::new()
    }
}

impl IsoTransportDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self {
            upper: Upper::Unknown,
            streams: [StreamState::default(), StreamState::default()],
            s7: S7State::default(),
            plus: PlusState::default(),
            mms: crate::mms::MmsState::default(),
        }
    }

    /// What runs above COTP, as decided so far.
    pub fn upper(&self) -> Upper {
        self.upper
    }

    fn on_tpdu(&mut self, ctx: &FlowContext, dir: Direction, t: Tpdu<'_>, out: &mut Emitter) {
        let idx = dir_index(dir);
        match t {
            Tpdu::Data { eot, payload } => {
                let st = &mut self.streams[idx];
                if eot && st.tsdu.is_empty() && !st.overflow {
                    self.on_tsdu(ctx, dir, payload, out);
                    return;
                }
                if !st.overflow {
                    if st.tsdu.len() + payload.len() > MAX_TSDU {
                        out.anomaly(PROTOCOL_COTP, "reassembled TSDU exceeds 64 KiB; dropped");
                        st.tsdu.clear();
                        st.overflow = true;
                    } else {
                        st.tsdu.extend_from_slice(payload);
                    }
                }
                if eot {
                    let st = &mut self.streams[idx];
                    if st.overflow {
                        st.overflow = false;
                        return;
                    }
                    let tsdu = std::mem::take(&mut st.tsdu);
                    self.on_tsdu(ctx, dir, &tsdu, out);
                    // Keep the allocation for the next TSDU.
                    let st = &mut self.streams[idx];
                    if st.tsdu.is_empty() {
                        st.tsdu = tsdu;
                        st.tsdu.clear();
                    }
                }
            }
            Tpdu::Connect {
                confirm,
                calling_tsap,
                called_tsap,
                tpdu_size,
                ..
            } => {
                let (code, name) = if confirm {
                    (tpdu::CC, "connect_confirm")
                } else {
                    (tpdu::CR, "connect_request")
                };
                // The remote (called) TSAP of an S7 connection: connection type, then
                // rack (3 bits) and slot (5 bits).
                let remote = if confirm { calling_tsap } else { called_tsap };
                let rack_slot = remote.filter(|t| t.len() == 2).map(|t| t[1]);
                if !confirm {
                    if let Some(rs) = rack_slot {
                        self.s7.unit = Some(u32::from(rs));
                    }
                }
                let ev = out.begin(
                    ctx,
                    dir,
                    PROTOCOL_COTP,
                    OpClass::Session,
                    COTP_FUNCTION_BASE + u32::from(code),
                    name,
                    confirm,
                );
                if confirm {
                    ev.status = crate::Status::Ok;
                }
                if let Some(t) = calling_tsap {
                    ev.attr("calling_tsap", Attr::Text(hex(t)));
                }
                if let Some(t) = called_tsap {
                    ev.attr("called_tsap", Attr::Text(hex(t)));
                }
                if let Some(s) = tpdu_size {
                    ev.attr("tpdu_size", Attr::UInt(1u64 << u32::from(s.min(16))));
                }
                if let Some(rs) = rack_slot {
                    ev.unit = Some(u32::from(rs));
                    ev.attr("rack", Attr::UInt(u64::from(rs >> 5)))
                        .attr("slot", Attr::UInt(u64::from(rs & 0x1f)));
                }
            }
            Tpdu::Disconnect { reason } => {
                let ev = out.begin(
                    ctx,
                    dir,
                    PROTOCOL_COTP,
                    OpClass::Session,
                    COTP_FUNCTION_BASE + u32::from(tpdu::DR),
                    "disconnect",
                    false,
                );
                if let Some(r) = reason {
                    ev.attr("reason", Attr::UInt(u64::from(r)));
                }
            }
            Tpdu::Other(_) => {}
        }
    }

    fn on_tsdu(&mut self, ctx: &FlowContext, dir: Direction, tsdu: &[u8], out: &mut Emitter) {
        if self.upper == Upper::Unknown {
            match classify(tsdu) {
                Some(u) => self.upper = u,
                None => {
                    out.anomaly(
                        PROTOCOL_COTP,
                        "data TPDU carries no S7, S7comm-plus or session PDU",
                    );
                    return;
                }
            }
        }
        match self.upper {
            Upper::S7 => self.s7.on_pdu(ctx, dir, tsdu, out),
            Upper::S7Plus => {
                // S7comm-plus flows also carry classic S7comm PDUs (e.g. SZL reads).
                if tsdu.first() == Some(&parser::S7_PROTOCOL_ID) {
                    self.s7.on_pdu(ctx, dir, tsdu, out);
                } else {
                    self.plus.on_pdu(ctx, dir, tsdu, out);
                }
            }
            Upper::Mms => self.mms.on_tsdu(ctx, dir, tsdu, out),
            Upper::Unknown => {}
        }
    }
}

use tpkt::tpdu;

fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

/// Offset of the first position holding a complete, valid TPKT frame, or where one could
/// still be arriving.
fn find_sync(data: &[u8]) -> usize {
    (0..data.len())
        .find(|&off| data[off] == tpkt::TPKT_VERSION && tpkt::parse_frame(&data[off..]).is_ok())
        .unwrap_or(data.len())
}

impl Dissector for IsoTransportDissector {
    fn name(&self) -> &'static str {
        match self.upper {
            Upper::Mms => crate::mms::PROTOCOL,
            Upper::S7Plus => events::PROTOCOL_PLUS,
            _ => events::PROTOCOL,
        }
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
                match tpkt::parse_frame(&data[consumed..]) {
                    Ok(Frame::Complete { .. }) => self.streams[idx].resync = false,
                    _ => break,
                }
                continue;
            }
            match tpkt::parse_frame(rest) {
                Ok(Frame::Complete { tpdu, consumed: n }) => {
                    self.on_tpdu(ctx, dir, tpdu, out);
                    consumed += n;
                }
                Ok(Frame::Incomplete { .. }) => break,
                Err(e) => {
                    out.anomaly(PROTOCOL_COTP, format!("malformed TPKT/COTP frame: {e}"));
                    let st = &mut self.streams[idx];
                    st.resync = true;
                    st.tsdu.clear();
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
        st.tsdu.clear();
        st.overflow = false;
    }
}

/// Content check of a flow's first payload: a whole, consistent TPKT frame, and, off
/// port 102, one that is clearly ISO-on-TCP for S7 or MMS (a connection request with
/// TSAPs and no RDP-style user data, or data carrying S7 or a session SPDU).
pub fn content_matches(payload: &[u8], on_port: bool) -> bool {
    match tpkt::parse_frame(payload) {
        Ok(Frame::Complete { tpdu, .. }) => match tpdu {
            Tpdu::Connect {
                calling_tsap,
                called_tsap,
                user_data,
                ..
            } => {
                on_port || (calling_tsap.is_some() && called_tsap.is_some() && user_data.is_empty())
            }
            Tpdu::Data { payload, .. } => on_port || classify(payload).is_some(),
            Tpdu::Disconnect { .. } | Tpdu::Other(_) => on_port,
        },
        // A frame still arriving: only trusted on the port.
        Ok(Frame::Incomplete { .. }) => on_port && payload.len() >= 5,
        Err(_) => false,
    }
}

/// Selects ISO-on-TCP flows for S7comm, S7comm-plus and MMS.
#[derive(Clone, Copy, Debug, Default)]
pub struct IsoTransportFactory;

impl DissectorFactory for IsoTransportFactory {
    fn name(&self) -> &'static str {
        events::PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != Transport::Tcp {
            return 0;
        }
        let on_port = ctx.server_port == PORT || ctx.client_port == PORT;
        crate::registry::confidence(on_port, content_matches(first_payload, on_port))
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(IsoTransportDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(IsoTransportFactory)]
}
