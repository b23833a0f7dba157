//! NetBIOS name service (UDP 137): the names Windows hosts and many HMIs and engineering
//! workstations register for themselves.
//!
//! Outputs: a host name with the NB record's address for every unique (non-group) name
//! with suffix 0x00 (workstation) or 0x20 (file server) in a registration or refresh
//! request, or in a positive response (RCODE 0) to a query, registration or refresh; and
//! for the same names in a node status (NBSTAT) response, a host name with the
//! responder's address and the MAC its unit id gives.
//! Group names (workgroups, domains) and the other suffixes (messenger names, which are
//! often user names, browser and domain roles) are not host names and are not reported.
//! Malformed messages become anomalies.

pub mod parser;

use crate::{Direction, Dissector, DissectorFactory, Emitter, FlowContext, NameSource, Transport};
use parser::{Message, Opcode};
use std::net::IpAddr;

/// Well-known port.
pub const PORT: u16 = 137;

/// Suffixes that name the machine itself.
const HOST_SUFFIXES: [u8; 2] = [0x00, 0x20];

/// Reports host names of one parsed message; `sender` is the address it came from.
/// `scratch` is reused text space.
pub fn emit_message(msg: &Message<'_>, sender: IpAddr, scratch: &mut String, out: &mut Emitter) {
    let op = msg.opcode();
    let announces = if msg.header.is_response() {
        msg.header.rcode() == 0
            && matches!(
                op,
                Opcode::Query | Opcode::Registration | Opcode::Refresh | Opcode::RefreshAlt
            )
    } else {
        matches!(
            op,
            Opcode::Registration
                | Opcode::Refresh
                | Opcode::RefreshAlt
                | Opcode::MultiHomedRegistration
        )
    };
    if !announces {
        return;
    }
    for record in msg.records() {
        if record.rtype == parser::TYPE_NBSTAT && msg.header.is_response() && op == Opcode::Query {
            // A node status answer lists the responder's own names.
            let mac = record.unit_id();
            for entry in record.node_names() {
                if !entry.flags.is_group() && HOST_SUFFIXES.contains(&entry.name.suffix) {
                    scratch.clear();
                    entry.name.write_text(scratch);
                    out.hostname(Some(sender), mac, scratch, NameSource::Netbios);
                }
            }
            continue;
        }
        if record.rtype != parser::TYPE_NB
            || record.class != parser::CLASS_IN
            || !HOST_SUFFIXES.contains(&record.name.suffix)
        {
            continue;
        }
        for (flags, addr) in record.nb_entries() {
            if flags.is_group() || addr.is_unspecified() || addr.is_broadcast() {
                continue;
            }
            scratch.clear();
            record.name.write_text(scratch);
            out.hostname(Some(addr.into()), None, scratch, NameSource::Netbios);
        }
    }
}

/// The NBNS dissector.
#[derive(Debug, Default)]
pub struct NbnsDissector {
    scratch: String,
}

impl Dissector for NbnsDissector {
    fn name(&self) -> &'static str {
        "nbns"
    }

    fn on_stream(
        &mut self,
        _ctx: &FlowContext,
        _dir: Direction,
        data: &[u8],
        _out: &mut Emitter,
    ) -> usize {
        // NBNS over TCP is allowed by RFC 1002 but not used in practice; drop it.
        data.len()
    }

    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        match parser::parse_message(data) {
            Ok(msg) => emit_message(&msg, ctx.sender(dir).0, &mut self.scratch, out),
            Err(e) => out.anomaly("nbns", format!("malformed message: {e}")),
        }
    }
}

/// Recognises NBNS flows: port 137, and by content (an encoded NetBIOS name) on any port.
#[derive(Clone, Copy, Debug, Default)]
pub struct NbnsFactory;

impl DissectorFactory for NbnsFactory {
    fn name(&self) -> &'static str {
        "nbns"
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != Transport::Udp {
            return 0;
        }
        let on_port = ctx.client_port == PORT || ctx.server_port == PORT;
        match (on_port, parser::looks_like_nbns(first_payload)) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(NbnsDissector::default())
    }
}
