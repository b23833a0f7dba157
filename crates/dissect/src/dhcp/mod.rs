//! DHCP (v4, with BOOTP framing) and DHCPv6: host names clients announce for themselves.
//!
//! Outputs (v4): for each message with a host name (option 12) or client FQDN (option 81),
//! a host name with `mac` = the client hardware address and `ip` = the first non-zero of
//! `yiaddr`, `ciaddr` and the requested address (option 50). DECLINE and NAK name an
//! address the client does not hold, so they report no address. A client's vendor class
//! (option 60) and client identifier (option 61) are identity fields of the same MAC and
//! address. (v6): for each message with a client FQDN (option 39), a host name with `mac`
//! from the client DUID (or the sender of an unrelayed client message) and `ip` = the
//! first IA address (or the sender address of an unrelayed client message); an unrelayed
//! client message's DUID (option 1) is a client identifier of the sending MAC (with the
//! IA address, if any: the link-local sender address says nothing of its network).
//! Malformed messages become anomalies.
//!
//! Client identifiers are written as colon-separated hex, type byte first
//! (`01:00:1b:21:77:01:4d`), except DUID-based ones — DHCPv4 type 255 (RFC 4361: IAID,
//! then DUID) and DHCPv6 DUIDs — written `duid ` and the DUID alone: the IAID differs per
//! interface, the DUID is one per host, so one DUID at two MACs is one host with two
//! interfaces, over v4 or v6.
//!
//! Not done here: pairing a client's REQUEST (which carries the name) with the server's
//! ACK (which carries the address) — they travel in different UDP flows.

pub mod v4;
pub mod v6;

use crate::{
    Direction, Dissector, DissectorFactory, Emitter, FlowContext, IdentityField, NameSource,
};
use std::net::IpAddr;

/// DHCP server port.
pub const SERVER_PORT: u16 = 67;
/// DHCP client port.
pub const CLIENT_PORT: u16 = 68;
/// DHCPv6 client port.
pub const V6_CLIENT_PORT: u16 = 546;
/// DHCPv6 server/relay port.
pub const V6_SERVER_PORT: u16 = 547;

/// Appends name bytes announced as plain text (option 12, ASCII FQDNs).
pub(crate) fn push_name_text(out: &mut String, bytes: &[u8]) {
    let bytes = bytes.get(..v4::MAX_NAME_LEN).unwrap_or(bytes);
    // Dots separate labels here; keep them as dots rather than escaping.
    for (i, part) in bytes.split(|&b| b == b'.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        crate::dns::parser::push_label_text(out, part);
    }
}

/// Most bytes of a client identifier kept (a DUID is at most 130).
pub const MAX_CLIENT_ID: usize = 136;

/// Writes bytes as colon-separated lower-case hex, at most [`MAX_CLIENT_ID`] of them.
fn push_hex(out: &mut String, bytes: &[u8]) {
    use std::fmt::Write as _;
    for (i, b) in bytes.iter().take(MAX_CLIENT_ID).enumerate() {
        let sep = if i == 0 { "" } else { ":" };
        let _ = write!(out, "{sep}{b:02x}");
    }
}

/// Writes a client identifier as [`IdentityField::DhcpClientId`] values are written:
/// `duid ` and the DUID for DHCPv4 type 255, else the whole option in hex. Returns
/// false for an identifier too short to name anything.
pub fn write_client_id_v4(out: &mut String, id: &[u8]) -> bool {
    match id {
        [255, _, _, _, _, duid @ ..] if !duid.is_empty() => {
            out.push_str("duid ");
            push_hex(out, duid);
        }
        [255, ..] | [] | [_] => return false,
        _ => push_hex(out, id),
    }
    true
}

/// Reports the host names and identity fields of one parsed DHCP message. `scratch` is
/// reused text space.
pub fn emit_v4(msg: &v4::DhcpMessage<'_>, scratch: &mut String, out: &mut Emitter) {
    let opts = &msg.options;
    if opts.host_name.is_none()
        && opts.client_fqdn.is_none()
        && opts.vendor_class.is_none()
        && opts.client_id.is_none()
    {
        return;
    }
    let mac = msg.client_mac();
    let ip = match opts.message_type {
        Some(v4::MessageType::Decline | v4::MessageType::Nak) => None,
        _ => [msg.yiaddr, msg.ciaddr]
            .into_iter()
            .chain(opts.requested_ip)
            .find(|a| !a.is_unspecified())
            .map(IpAddr::V4),
    };
    if let Some(class) = opts.vendor_class {
        // Only clients send their own class; a server's option 60 names the server.
        if msg.op == v4::BootpOp::Request {
            scratch.clear();
            push_name_text(scratch, class);
            out.identity_of(ip, mac, IdentityField::VendorClass, scratch, "dhcp");
        }
    }
    if let Some(id) = opts.client_id.filter(|_| msg.op == v4::BootpOp::Request) {
        scratch.clear();
        if write_client_id_v4(scratch, id) {
            out.identity_of(ip, mac, IdentityField::DhcpClientId, scratch, "dhcp");
        }
    }
    if let Some(name) = opts.host_name {
        scratch.clear();
        push_name_text(scratch, name);
        out.hostname(ip, mac, scratch, NameSource::Dhcp);
    }
    if let Some(fqdn) = opts.client_fqdn {
        scratch.clear();
        match fqdn.write_text(scratch) {
            Ok(()) => out.hostname(ip, mac, scratch, NameSource::Dhcp),
            Err(e) => out.anomaly("dhcp", format!("malformed option: {e}")),
        }
    }
}

/// Reports the host name and client identifier of one parsed DHCPv6 message; `sender` is
/// the address and MAC the datagram came from. `scratch` is reused text space.
pub fn emit_v6(
    msg: &v6::Dhcpv6Message<'_>,
    sender: (IpAddr, Option<wire::MacAddr>),
    scratch: &mut String,
    out: &mut Emitter,
) {
    let from_client = msg.relay_depth == 0 && msg.msg_type.is_from_client();
    if let (true, Some(duid), Some(mac)) = (from_client, msg.options.client_id, sender.1) {
        if !duid.is_empty() {
            scratch.clear();
            scratch.push_str("duid ");
            push_hex(scratch, duid);
            let ip = msg.options.ia_address.map(IpAddr::V6);
            out.identity_of(
                ip,
                Some(mac),
                IdentityField::DhcpClientId,
                scratch,
                "dhcpv6",
            );
        }
    }
    let Some(fqdn) = msg.options.client_fqdn else {
        return;
    };
    scratch.clear();
    if fqdn.write_text(scratch).is_none() {
        out.anomaly("dhcpv6", "malformed option: client FQDN");
        return;
    }
    let mac = msg
        .options
        .client_id
        .and_then(v6::duid_mac)
        .or(if from_client { sender.1 } else { None });
    let ip = msg.options.ia_address.map(IpAddr::V6).or(
        if from_client && msg.msg_type != v6::MessageType::Decline {
            Some(sender.0)
        } else {
            None
        },
    );
    out.hostname(ip, mac, scratch, NameSource::Dhcp);
}

/// The DHCP (v4) dissector.
#[derive(Debug, Default)]
pub struct DhcpDissector {
    scratch: String,
}

impl Dissector for DhcpDissector {
    fn name(&self) -> &'static str {
        "dhcp"
    }

    fn on_stream(
        &mut self,
        _ctx: &FlowContext,
        _dir: Direction,
        data: &[u8],
        _out: &mut Emitter,
    ) -> usize {
        // DHCP has no TCP transport; drop whatever arrives.
        data.len()
    }

    fn on_datagram(&mut self, _ctx: &FlowContext, _dir: Direction, data: &[u8], out: &mut Emitter) {
        match v4::parse(data) {
            Ok(msg) => {
                if let Some(e) = msg.option_error {
                    out.anomaly("dhcp", format!("malformed options: {e}"));
                }
                emit_v4(&msg, &mut self.scratch, out);
            }
            Err(e) => out.anomaly("dhcp", format!("malformed message: {e}")),
        }
    }
}

/// The DHCPv6 dissector.
#[derive(Debug, Default)]
pub struct Dhcpv6Dissector {
    scratch: String,
}

impl Dissector for Dhcpv6Dissector {
    fn name(&self) -> &'static str {
        "dhcpv6"
    }

    fn on_stream(
        &mut self,
        _ctx: &FlowContext,
        _dir: Direction,
        data: &[u8],
        _out: &mut Emitter,
    ) -> usize {
        // DHCPv6 bulk leasequery over TCP is not read; drop it.
        data.len()
    }

    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        match v6::parse(data) {
            Ok(msg) => emit_v6(&msg, ctx.sender(dir), &mut self.scratch, out),
            Err(e) => out.anomaly("dhcpv6", format!("malformed message: {e}")),
        }
    }
}

/// Recognises DHCP flows: ports 67/68 and the BOOTP magic cookie.
#[derive(Clone, Copy, Debug, Default)]
pub struct DhcpFactory;

impl DissectorFactory for DhcpFactory {
    fn name(&self) -> &'static str {
        "dhcp"
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Udp {
            return 0;
        }
        let ports = [ctx.client_port, ctx.server_port];
        let on_port = ports.contains(&SERVER_PORT) || ports.contains(&CLIENT_PORT);
        match (on_port, v4::looks_like_dhcp(first_payload)) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(DhcpDissector::default())
    }
}

/// Recognises DHCPv6 flows: ports 546/547 (the content is too generic to match alone).
#[derive(Clone, Copy, Debug, Default)]
pub struct Dhcpv6Factory;

impl DissectorFactory for Dhcpv6Factory {
    fn name(&self) -> &'static str {
        "dhcpv6"
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Udp {
            return 0;
        }
        let ports = [ctx.client_port, ctx.server_port];
        if !(ports.contains(&V6_CLIENT_PORT) || ports.contains(&V6_SERVER_PORT)) {
            return 0;
        }
        match first_payload.first() {
            Some(1..=13) if v6::parse(first_payload).is_ok() => 3,
            _ => 1,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(Dhcpv6Dissector::default())
    }
}
