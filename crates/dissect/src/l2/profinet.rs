//! Profinet real-time frames (EtherType 0x8892): DCP discovery and configuration, alarms,
//! and the cyclic data that is only counted.
//!
//! DCP (IEC 61158-6-10): a frame id 0xFEFC–0xFEFF, then service id, service type, xid,
//! response delay, data length and option blocks. Identify/Hello/Get responses carry the
//! device's name of station, vendor/device ids, role and IP parameters; Set requests
//! rename a device, change its IP or reset it to factory settings — control operations.

use super::{L2Counters, L2Frame};
use crate::{Attr, Emitter, Event, IdentityField, NameSource, OpClass, Status};
use std::fmt::Write as _;
use std::net::Ipv4Addr;

const PROTO: &str = "profinet_dcp";
const PROTO_ALARM: &str = "profinet_alarm";
/// Longest text (name of station, type of station) kept.
const MAX_TEXT: usize = 240;
/// Most DCP blocks read from one frame.
const MAX_BLOCKS: usize = 32;

/// Frame id of DCP Hello.
pub const FRAME_ID_DCP_HELLO: u16 = 0xFEFC;
/// Frame id of DCP Get/Set.
pub const FRAME_ID_DCP_GET_SET: u16 = 0xFEFD;
/// Frame id of DCP Identify requests (multicast).
pub const FRAME_ID_DCP_IDENTIFY_REQ: u16 = 0xFEFE;
/// Frame id of DCP Identify responses.
pub const FRAME_ID_DCP_IDENTIFY_RSP: u16 = 0xFEFF;
/// Frame id of high-priority alarms.
pub const FRAME_ID_ALARM_HIGH: u16 = 0xFC01;
/// Frame id of low-priority alarms.
pub const FRAME_ID_ALARM_LOW: u16 = 0xFE01;

/// What kind of traffic a frame id announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// Cyclic real-time data (RT class 1–3).
    Cyclic,
    /// An acyclic alarm.
    Alarm,
    /// DCP discovery and configuration.
    Dcp,
    /// Time synchronisation, fragments, reserved ids.
    Other,
}

/// Classifies a Profinet frame id.
pub fn frame_kind(frame_id: u16) -> FrameKind {
    match frame_id {
        0x0100..=0xFBFF => FrameKind::Cyclic,
        FRAME_ID_ALARM_HIGH | FRAME_ID_ALARM_LOW => FrameKind::Alarm,
        FRAME_ID_DCP_HELLO..=FRAME_ID_DCP_IDENTIFY_RSP => FrameKind::Dcp,
        _ => FrameKind::Other,
    }
}

/// DCP service id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// Get (3).
    Get,
    /// Set (4).
    Set,
    /// Identify (5).
    Identify,
    /// Hello (6).
    Hello,
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for Service {
    fn from(v: u8) -> Self {
        match v {
            3 => Self::Get,
            4 => Self::Set,
            5 => Self::Identify,
            6 => Self::Hello,
            n => Self::Unknown(n),
        }
    }
}

impl Service {
    /// Name used as the event's function name.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        match self {
            Self::Get => "get".into(),
            Self::Set => "set".into(),
            Self::Identify => "identify".into(),
            Self::Hello => "hello".into(),
            Self::Unknown(n) => format!("unknown-{n}").into(),
        }
    }

    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            Self::Get => 3,
            Self::Set => 4,
            Self::Identify => 5,
            Self::Hello => 6,
            Self::Unknown(n) => n,
        }
    }
}

/// Why a DCP frame could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DcpError {
    /// Shorter than the 12-byte DCP header.
    Truncated,
    /// The data length runs past the frame.
    BadLength {
        /// Stated DCP data length.
        stated: u16,
        /// Bytes present after the header.
        present: usize,
    },
    /// A block runs past the DCP data.
    BlockOverrun,
}

impl std::fmt::Display for DcpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Truncated => f.write_str("DCP header truncated"),
            Self::BadLength { stated, present } => {
                write!(f, "DCP data length {stated} but {present} bytes present")
            }
            Self::BlockOverrun => f.write_str("DCP block runs past the data length"),
        }
    }
}

impl std::error::Error for DcpError {}

/// A DCP header view.
#[derive(Clone, Copy, Debug)]
pub struct Dcp<'a> {
    /// Frame id (0xFEFC–0xFEFF).
    pub frame_id: u16,
    /// Service.
    pub service: Service,
    /// Service type: 0 request, 1 response success, 5 response "not supported".
    pub service_type: u8,
    /// Transaction id pairing requests and responses.
    pub xid: u32,
    /// The option blocks.
    pub data: &'a [u8],
}

impl Dcp<'_> {
    /// True for responses (service type bit 0).
    pub fn is_response(&self) -> bool {
        self.service_type & 0x01 != 0
    }
}

/// Parses the DCP part of a Profinet frame (`payload` starts with the frame id).
pub fn parse_dcp(payload: &[u8]) -> Result<Dcp<'_>, DcpError> {
    let h = payload.get(..12).ok_or(DcpError::Truncated)?;
    let len = u16::from_be_bytes([h[10], h[11]]);
    let rest = &payload[12..];
    // Short frames are padded to the Ethernet minimum: the data may be followed by zeros.
    let data = rest.get(..usize::from(len)).ok_or(DcpError::BadLength {
        stated: len,
        present: rest.len(),
    })?;
    Ok(Dcp {
        frame_id: u16::from_be_bytes([h[0], h[1]]),
        service: Service::from(h[2]),
        service_type: h[3],
        xid: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        data,
    })
}

/// One DCP option block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block<'a> {
    /// Option (1 IP, 2 device properties, 3 DHCP, 5 control, 6 device initiative, 255 all).
    pub option: u8,
    /// Suboption.
    pub suboption: u8,
    /// Block value (after the block info / qualifier where the frame has one).
    pub value: &'a [u8],
    /// Block info (responses) or block qualifier (Set requests).
    pub qualifier: Option<u16>,
}

/// Iterates over the blocks of a DCP frame. `with_qualifier` tells whether blocks start
/// with a 2-byte block info/qualifier (responses, Hello, Set requests).
pub fn blocks(
    data: &[u8],
    with_qualifier: bool,
) -> impl Iterator<Item = Result<Block<'_>, DcpError>> {
    let mut rest = data;
    let mut n = 0;
    std::iter::from_fn(move || {
        if rest.len() < 4 || n >= MAX_BLOCKS {
            return None;
        }
        n += 1;
        let option = rest[0];
        let suboption = rest[1];
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let Some(body) = rest.get(4..4 + len) else {
            rest = &[];
            return Some(Err(DcpError::BlockOverrun));
        };
        // Blocks are padded to an even length.
        let next = (4 + len + (len & 1)).min(rest.len());
        rest = &rest[next..];
        // The "all selector" of Identify requests and Control response blocks carry
        // no qualifier of their own.
        let (qualifier, value) = if with_qualifier && body.len() >= 2 {
            (Some(u16::from_be_bytes([body[0], body[1]])), &body[2..])
        } else {
            (None, body)
        };
        Some(Ok(Block {
            option,
            suboption,
            value,
            qualifier,
        }))
    })
}

/// Name of a DCP option/suboption pair.
pub fn option_name(option: u8, suboption: u8) -> std::borrow::Cow<'static, str> {
    match (option, suboption) {
        (1, 1) => "mac_address".into(),
        (1, 2) => "ip_parameter".into(),
        (1, 3) => "full_ip_suite".into(),
        (2, 1) => "type_of_station".into(),
        (2, 2) => "name_of_station".into(),
        (2, 3) => "device_id".into(),
        (2, 4) => "device_role".into(),
        (2, 5) => "device_options".into(),
        (2, 6) => "alias_name".into(),
        (2, 7) => "device_instance".into(),
        (2, 8) => "oem_device_id".into(),
        (3, _) => format!("dhcp_{suboption}").into(),
        (5, 1) => "start_transaction".into(),
        (5, 2) => "end_transaction".into(),
        (5, 3) => "signal".into(),
        (5, 4) => "response".into(),
        (5, 5) => "factory_reset".into(),
        (5, 6) => "reset_to_factory".into(),
        (6, 1) => "device_initiative".into(),
        (255, 255) => "all".into(),
        _ => format!("unknown-{option}.{suboption}").into(),
    }
}

/// Name of a DCP Set/Control error code.
pub fn error_name(code: u8) -> std::borrow::Cow<'static, str> {
    match code {
        1 => "option_not_supported".into(),
        2 => "suboption_not_supported".into(),
        3 => "suboption_not_set".into(),
        4 => "resource_error".into(),
        5 => "set_not_possible_local_reasons".into(),
        6 => "set_not_possible_in_operation".into(),
        n => format!("unknown-{n}").into(),
    }
}

/// Names of Profinet vendors the identity can be given by name.
fn vendor_name(id: u16) -> Option<&'static str> {
    match id {
        0x002A => Some("Siemens"),
        0x00B0 => Some("Phoenix Contact"),
        0x011E => Some("Hilscher"),
        _ => None,
    }
}

fn text(bytes: &[u8]) -> String {
    let bytes = &bytes[..bytes.len().min(MAX_TEXT)];
    String::from_utf8_lossy(bytes)
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_string()
}

fn ip(bytes: &[u8]) -> Option<Ipv4Addr> {
    let b: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    Some(Ipv4Addr::from(b))
}

/// Dissects one Profinet frame.
pub(crate) fn dissect(frame: &L2Frame<'_>, counters: &mut L2Counters, out: &mut Emitter) {
    let Some(id) = frame.payload.get(..2) else {
        out.anomaly(PROTO, "Profinet frame without a frame id");
        return;
    };
    let frame_id = u16::from_be_bytes([id[0], id[1]]);
    match frame_kind(frame_id) {
        FrameKind::Cyclic => counters.profinet_cyclic += 1,
        FrameKind::Other => counters.profinet_other += 1,
        FrameKind::Alarm => {
            counters.profinet_alarm += 1;
            dissect_alarm(frame, frame_id, out);
        }
        FrameKind::Dcp => {
            counters.profinet_dcp += 1;
            match parse_dcp(frame.payload) {
                Ok(dcp) => dissect_dcp(frame, &dcp, out),
                Err(e) => out.anomaly(PROTO, format!("malformed DCP frame: {e}")),
            }
        }
    }
}

/// An alarm frame: RTA header (endpoints, PDU type, sequence numbers) and, for data PDUs,
/// the alarm notification's type, slot and subslot.
fn dissect_alarm(frame: &L2Frame<'_>, frame_id: u16, out: &mut Emitter) {
    let p = frame.payload;
    let Some(h) = p.get(2..14) else {
        out.anomaly(PROTO_ALARM, "alarm frame shorter than the RTA header");
        return;
    };
    let pdu_type = h[4] & 0x0F;
    let name: &'static str = match pdu_type {
        1 => "alarm_data",
        2 => "alarm_nack",
        3 => "alarm_ack",
        4 => "alarm_error",
        _ => "alarm_unknown",
    };
    let mut ev = Event::new(
        PROTO_ALARM,
        OpClass::Diagnostic,
        u32::from(pdu_type),
        name,
        matches!(pdu_type, 2 | 3),
    );
    ev.attr(
        "priority",
        Attr::Text(
            if frame_id == FRAME_ID_ALARM_HIGH {
                "high"
            } else {
                "low"
            }
            .into(),
        ),
    )
    .attr(
        "send_seq",
        Attr::UInt(u16::from_be_bytes([h[6], h[7]]).into()),
    )
    .attr(
        "ack_seq",
        Attr::UInt(u16::from_be_bytes([h[8], h[9]]).into()),
    );
    // Alarm notification block: type, length, version, alarm type, API, slot, subslot.
    if pdu_type == 1 {
        if let Some(b) = p.get(14..30) {
            let block_type = u16::from_be_bytes([b[0], b[1]]);
            ev.attr("block_type", Attr::UInt(block_type.into()));
            if block_type & 0x7FFF <= 2 {
                ev.attr(
                    "alarm_type",
                    Attr::UInt(u16::from_be_bytes([b[6], b[7]]).into()),
                )
                .attr(
                    "slot",
                    Attr::UInt(u16::from_be_bytes([b[12], b[13]]).into()),
                )
                .attr(
                    "subslot",
                    Attr::UInt(u16::from_be_bytes([b[14], b[15]]).into()),
                );
            }
        }
    }
    frame.event(ev, out);
}

fn dissect_dcp(frame: &L2Frame<'_>, dcp: &Dcp<'_>, out: &mut Emitter) {
    let response = dcp.is_response();
    let op = match dcp.service {
        Service::Identify | Service::Hello => OpClass::Identify,
        Service::Get => OpClass::Read,
        Service::Set => OpClass::Control,
        Service::Unknown(_) => OpClass::Other,
    };
    let mut ev = Event::new(
        PROTO,
        op,
        u32::from(dcp.service.code()),
        dcp.service.name(),
        response,
    );
    ev.attr("xid", Attr::UInt(dcp.xid.into()))
        .attr("service_type", Attr::UInt(dcp.service_type.into()));
    if response {
        ev.status = if dcp.service_type & 0x04 != 0 {
            Status::Exception {
                code: u32::from(dcp.service_type),
                name: "not_supported".into(),
            }
        } else {
            Status::Ok
        };
    }
    // Get requests list bare option/suboption pairs; Identify requests carry filter blocks
    // without a qualifier; everything else carries a block info or qualifier.
    if dcp.service == Service::Get && !response {
        let mut names = Vec::new();
        for pair in dcp.data.chunks_exact(2).take(MAX_BLOCKS) {
            ev.target(
                "dcp_option",
                u64::from(pair[0]) << 8 | u64::from(pair[1]),
                1,
            );
            names.push(option_name(pair[0], pair[1]).into_owned());
        }
        ev.attr("options", Attr::List(names));
        frame.event(ev, out);
        return;
    }
    let with_qualifier = dcp.service != Service::Identify || response;
    let announce = response || dcp.service == Service::Hello;
    let mut names = Vec::new();
    let (mut vendor_id, mut device_id) = (None, None);
    let mut type_of_station = None;
    let mut name_of_station = None;
    for block in blocks(dcp.data, with_qualifier) {
        let b = match block {
            Ok(b) => b,
            Err(e) => {
                out.anomaly(PROTO, format!("malformed DCP frame: {e}"));
                break;
            }
        };
        // The control "response" block of Set responses has no block info: its three
        // bytes are the option, suboption and error code the device answers for.
        if (b.option, b.suboption) == (5, 4) {
            let raw = match b.qualifier {
                Some(q) => {
                    let mut v = q.to_be_bytes().to_vec();
                    v.extend_from_slice(b.value);
                    v
                }
                None => b.value.to_vec(),
            };
            if let [opt, sub, code, ..] = raw[..] {
                ev.target("dcp_option", u64::from(opt) << 8 | u64::from(sub), 1);
                if code != 0 {
                    ev.status = Status::Exception {
                        code: u32::from(code),
                        name: error_name(code),
                    };
                }
            }
            names.push("response".to_string());
            continue;
        }
        ev.target(
            "dcp_option",
            u64::from(b.option) << 8 | u64::from(b.suboption),
            1,
        );
        names.push(option_name(b.option, b.suboption).into_owned());
        match (b.option, b.suboption) {
            (2, 2) => {
                let name = text(b.value);
                if announce {
                    name_of_station = Some(name.clone());
                }
                ev.attr("name_of_station", Attr::Text(name));
            }
            (2, 6) => {
                ev.attr("alias_name", Attr::Text(text(b.value)));
            }
            (2, 1) if announce => {
                let t = text(b.value);
                type_of_station = Some(t.clone());
                ev.attr("type_of_station", Attr::Text(t));
            }
            (2, 3) => {
                if let [v0, v1, d0, d1, ..] = b.value[..] {
                    let v = u16::from_be_bytes([v0, v1]);
                    let d = u16::from_be_bytes([d0, d1]);
                    vendor_id = Some(v);
                    device_id = Some(d);
                    ev.attr("vendor_id", Attr::UInt(v.into()))
                        .attr("device_id", Attr::UInt(d.into()));
                }
            }
            (2, 4) => {
                if let Some(&role) = b.value.first() {
                    let mut roles = Vec::new();
                    for (bit, name) in [
                        (0x01, "io_device"),
                        (0x02, "io_controller"),
                        (0x04, "io_multidevice"),
                        (0x08, "io_supervisor"),
                    ] {
                        if role & bit != 0 {
                            roles.push(name.to_string());
                        }
                    }
                    ev.attr("device_role", Attr::List(roles));
                }
            }
            (1, 2) | (1, 3) => {
                if let (Some(a), Some(m), Some(g)) = (
                    ip(b.value),
                    b.value.get(4..).and_then(ip),
                    b.value.get(8..).and_then(ip),
                ) {
                    ev.attr("ip", Attr::Text(a.to_string()))
                        .attr("netmask", Attr::Text(m.to_string()))
                        .attr("gateway", Attr::Text(g.to_string()));
                }
            }
            (5, 3) | (5, 5) | (5, 6) => {}
            _ => {}
        }
    }
    ev.attr("options", Attr::List(names));
    frame.event(ev, out);
    if announce {
        if let (Some(v), Some(d)) = (vendor_id, device_id) {
            let mut model = String::new();
            let _ = write!(model, "vendor-{v:#06x}/device-{d:#06x}");
            frame.identity(IdentityField::Model, &model, PROTO, out);
            if let Some(name) = vendor_name(v) {
                frame.identity(IdentityField::Vendor, name, PROTO, out);
            }
        }
        if let Some(t) = type_of_station {
            frame.identity(IdentityField::Product, &t, PROTO, out);
        }
        // A station announces its own name (a Set request names its target instead).
        if let Some(name) = name_of_station {
            out.hostname(None, Some(frame.src_mac), &name, NameSource::Profinet);
        }
    }
}
