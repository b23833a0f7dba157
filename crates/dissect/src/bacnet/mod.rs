//! BACnet/IP (UDP 47808): BVLC, the network layer and the application layer.
//!
//! Outputs, protocol `bacnet`: one event per APDU (confirmed and unconfirmed requests,
//! simple and complex ACKs, segment ACKs, errors, rejects, aborts), named by service;
//! responses are paired with their request by invoke id and take its service, targets
//! and property. One event per network-layer message and per BVLC function that carries
//! no NPDU (results, table reads and writes, foreign-device registration).
//!
//! Targets are `<object_type>` spaces with the instance as address (`analog_value:3`),
//! properties go to the `property` attribute; values written by writeProperty(Multiple)
//! and reported by readProperty ACKs and COV notifications become values when they are
//! real, double, unsigned, signed, enumerated or boolean. I-Am gives the sender's vendor,
//! readProperty ACKs of a device's vendor name, model name and firmware revision give
//! those identity fields. Error PDUs give the status (error code, with the class in
//! `error_class`); rejects and aborts give their reason.
//!
//! Segmented confirmed requests and complex ACKs are reassembled ([`segments`]): no
//! event while segments arrive, then one event for the whole message, decoded as its
//! unsegmented form would be, with `segments` (how many). Segment ACKs keep their own
//! events. A message given up (idle 30 s of packet time, over a cap, aborted, or its
//! flow ended) is a `protocol_anomaly` with the reason, followed by the event its first
//! segment alone gives (`segment` 0, `more_follows`), at that segment's time — so each
//! message gives exactly one event either way.

pub mod constants;
pub mod parser;
pub mod segments;

use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, FlowContext, IdentityField, OpClass,
    Status, Transport,
};
use constants::*;
use parser::{app, Apdu, Tag, TagKind, Tags};
use segments::{Key, Message, Reassembly, Route, Segment, SegmentStats};
use std::borrow::Cow;
use std::collections::VecDeque;

/// Well-known port.
pub const PORT: u16 = 47808;
const PROTO: &str = "bacnet";
/// Most unanswered confirmed requests remembered per flow.
const MAX_PENDING: usize = 64;
/// Most objects, properties and values reported per message.
const MAX_ITEMS: usize = 32;

/// What a message's service data addressed and carried.
#[derive(Clone, Debug, Default, PartialEq)]
struct Detail {
    objects: Vec<(u16, u32)>,
    properties: Vec<u32>,
    values: Vec<(u16, u32, f64)>,
    attrs: Vec<(&'static str, Attr)>,
    identity: Vec<(IdentityField, String)>,
    error: Option<(u32, u32)>,
}

impl Detail {
    /// Empties every list, keeping the buffers.
    fn clear(&mut self) {
        self.objects.clear();
        self.properties.clear();
        self.values.clear();
        self.attrs.clear();
        self.identity.clear();
        self.error = None;
    }

    fn object(&mut self, t: &Tag<'_>) {
        if let Some(o) = t.object_id() {
            if self.objects.len() < MAX_ITEMS && !self.objects.contains(&o) {
                self.objects.push(o);
            }
        }
    }

    fn property(&mut self, t: &Tag<'_>) {
        if let Some(p) = t.unsigned() {
            if self.properties.len() < MAX_ITEMS && !self.properties.contains(&p) {
                self.properties.push(p);
            }
        }
    }

    fn value(&mut self, t: &Tag<'_>) {
        if let (Some(v), Some(&(ty, inst))) = (t.number(), self.objects.last()) {
            if self.values.len() < MAX_ITEMS {
                self.values.push((ty, inst, v));
            }
        }
    }
}

fn object_space(t: u16) -> Cow<'static, str> {
    match object_type_name(t) {
        Some(n) => Cow::Borrowed(n),
        None => Cow::Owned(format!("object_type_{t}")),
    }
}

fn property_text(p: u32) -> String {
    match property_name(p) {
        Some(n) => n.to_string(),
        None => format!("property_{p}"),
    }
}

/// A property as an attribute: its name, without allocating for named properties.
fn property_attr(p: u32) -> Attr {
    match property_name(p) {
        Some(n) => Attr::Name(n),
        None => Attr::Text(format!("property_{p}")),
    }
}

/// Decodes the parts of a service's data that matter into `d` (whose attributes so far
/// stay first): objects, properties, values and a few service parameters. `ack` selects
/// the ACK form of confirmed services.
fn decode(
    d: &mut Detail,
    confirmed: bool,
    ack: bool,
    service: u8,
    data: &[u8],
) -> Option<parser::BacnetError> {
    let mut tags = Tags::new(data);
    // Innermost opening tags, as (number, depth).
    let mut stack: [u8; 8] = [0; 8];
    let mut depth = 0usize;
    let mut last_property: Option<u32> = None;
    let mut app_index = 0usize;
    let mut value_taken = false;
    for t in tags.by_ref() {
        let parent = depth.checked_sub(1).and_then(|i| stack.get(i)).copied();
        match t.kind {
            TagKind::Opening(n) => {
                if let Some(s) = stack.get_mut(depth) {
                    *s = n;
                }
                depth += 1;
                value_taken = false;
                continue;
            }
            TagKind::Closing(_) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            _ => {}
        }
        let ctx = |n: u8| t.kind == TagKind::Context(n);
        match (confirmed, ack, service) {
            // readProperty, readRange, add/removeListElement requests and RP ACK.
            (true, _, 12 | 26 | 8 | 9) => {
                if depth == 0 && ctx(0) {
                    d.object(&t);
                } else if depth == 0 && ctx(1) {
                    d.property(&t);
                    last_property = t.unsigned();
                } else if depth == 1 && parent == Some(3) && !value_taken {
                    value_taken = true;
                    d.value(&t);
                    identity_from(d, last_property, &t);
                }
            }
            // readPropertyMultiple request and ACK.
            (true, _, 14) => {
                if depth == 0 && ctx(0) {
                    d.object(&t);
                } else if depth == 1 && ((!ack && ctx(0)) || (ack && ctx(2))) {
                    d.property(&t);
                    last_property = t.unsigned();
                } else if ack && depth == 2 && parent == Some(4) && !value_taken {
                    value_taken = true;
                    d.value(&t);
                    identity_from(d, last_property, &t);
                }
            }
            // writeProperty.
            (true, false, 15) => {
                if depth == 0 && ctx(0) {
                    d.object(&t);
                } else if depth == 0 && ctx(1) {
                    d.property(&t);
                } else if depth == 1 && parent == Some(3) && !value_taken {
                    value_taken = true;
                    d.value(&t);
                } else if depth == 0 && ctx(4) {
                    if let Some(p) = t.unsigned() {
                        d.attrs.push(("priority", Attr::UInt(u64::from(p))));
                    }
                }
            }
            // writePropertyMultiple.
            (true, false, 16) => {
                if depth == 0 && ctx(0) {
                    d.object(&t);
                } else if depth == 1 && ctx(0) {
                    d.property(&t);
                } else if depth == 2 && parent == Some(2) && !value_taken {
                    value_taken = true;
                    d.value(&t);
                } else if depth == 1 && ctx(3) {
                    if let Some(p) = t.unsigned() {
                        d.attrs.push(("priority", Attr::UInt(u64::from(p))));
                    }
                }
            }
            // subscribeCOV(Property).
            (true, false, 5 | 28) => {
                if depth == 0 && ctx(1) {
                    d.object(&t);
                } else if depth == 1 && parent == Some(4) && ctx(0) {
                    d.property(&t);
                }
            }
            // COV notifications (confirmed 1, unconfirmed 2).
            (true, false, 1) | (false, _, 2) => {
                if depth == 0 && ctx(2) {
                    d.object(&t);
                } else if depth == 0 && ctx(1) {
                    if let Some((_, inst)) = t.object_id() {
                        d.attrs
                            .push(("device_instance", Attr::UInt(u64::from(inst))));
                    }
                } else if depth == 1 && ctx(0) {
                    last_property = t.unsigned();
                    d.property(&t);
                } else if depth == 2 && parent == Some(2) && !value_taken {
                    value_taken = true;
                    // Report the value of the monitored property (present value, mostly).
                    if last_property == Some(85) {
                        d.value(&t);
                    }
                }
            }
            // reinitializeDevice.
            (true, false, 20) => {
                if ctx(0) {
                    if let Some(s) = t.unsigned() {
                        let name = reinit_state_name(s)
                            .map_or_else(|| format!("state_{s}"), str::to_string);
                        d.attrs.push(("state", Attr::Text(name)));
                    }
                } else if ctx(1) {
                    d.attrs.push(("password", Attr::Bool(true)));
                }
            }
            // deviceCommunicationControl.
            (true, false, 17) => {
                if ctx(0) {
                    if let Some(m) = t.unsigned() {
                        d.attrs.push(("duration_minutes", Attr::UInt(u64::from(m))));
                    }
                } else if ctx(1) {
                    if let Some(s) = t.unsigned() {
                        let name = match s {
                            0 => "enable".to_string(),
                            1 => "disable".to_string(),
                            2 => "disable_initiation".to_string(),
                            n => format!("state_{n}"),
                        };
                        d.attrs.push(("state", Attr::Text(name)));
                    }
                } else if ctx(2) {
                    d.attrs.push(("password", Attr::Bool(true)));
                }
            }
            // atomicRead/WriteFile, deleteObject: the object comes first.
            (true, false, 6 | 7 | 11)
                if depth == 0 && t.kind == TagKind::Application(app::OBJECT_ID) =>
            {
                d.object(&t);
            }
            // createObject: object type or identifier inside [0].
            (true, false, 10) if depth == 1 && ctx(1) => d.object(&t),
            // I-Am.
            (false, _, 0) if depth == 0 => {
                match (app_index, t.kind) {
                    (0, TagKind::Application(app::OBJECT_ID)) => {
                        if let Some((_, inst)) = t.object_id() {
                            d.attrs
                                .push(("device_instance", Attr::UInt(u64::from(inst))));
                        }
                        d.object(&t);
                    }
                    (1, TagKind::Application(app::UNSIGNED)) => {
                        if let Some(m) = t.unsigned() {
                            d.attrs.push(("max_apdu", Attr::UInt(u64::from(m))));
                        }
                    }
                    (2, TagKind::Application(app::ENUMERATED)) => {
                        if let Some(s) = t.unsigned() {
                            let name = segmentation_name(s)
                                .map_or_else(|| format!("segmentation_{s}"), str::to_string);
                            d.attrs.push(("segmentation", Attr::Text(name)));
                        }
                    }
                    (3, TagKind::Application(app::UNSIGNED)) => {
                        if let Some(v) = t.unsigned() {
                            d.attrs.push(("vendor_id", Attr::UInt(u64::from(v))));
                            let name = vendor_name(v)
                                .map_or_else(|| format!("vendor-{v}"), str::to_string);
                            d.identity.push((IdentityField::Vendor, name));
                        }
                    }
                    _ => {}
                }
                app_index += 1;
            }
            // Who-Is limits.
            (false, _, 8) => {
                if let (true, Some(v)) = (ctx(0), t.unsigned()) {
                    d.attrs.push(("low_limit", Attr::UInt(u64::from(v))));
                } else if let (true, Some(v)) = (ctx(1), t.unsigned()) {
                    d.attrs.push(("high_limit", Attr::UInt(u64::from(v))));
                }
            }
            // Who-Has: object id or name.
            (false, _, 7) => {
                if ctx(2) {
                    d.object(&t);
                } else if ctx(3) {
                    if let Some(n) = t.text() {
                        d.attrs.push(("object_name", Attr::Text(n.to_string())));
                    }
                }
            }
            // I-Have: device, object, name.
            (false, _, 1) if depth == 0 => {
                match (app_index, t.kind) {
                    (0, TagKind::Application(app::OBJECT_ID)) => {
                        if let Some((_, inst)) = t.object_id() {
                            d.attrs
                                .push(("device_instance", Attr::UInt(u64::from(inst))));
                        }
                    }
                    (1, TagKind::Application(app::OBJECT_ID)) => d.object(&t),
                    (2, _) => {
                        if let Some(n) = t.text() {
                            d.attrs.push(("object_name", Attr::Text(n.to_string())));
                        }
                    }
                    _ => {}
                }
                app_index += 1;
            }
            _ => {}
        }
    }
    tags.error
}

/// Identity fields a device announces through its own properties.
fn identity_from(d: &mut Detail, property: Option<u32>, t: &Tag<'_>) {
    let device = d.objects.last().is_some_and(|(ty, _)| *ty == 8);
    let field = match property {
        Some(121) => IdentityField::Vendor,
        Some(70) => IdentityField::Model,
        Some(44) => IdentityField::Firmware,
        _ => return,
    };
    if let (true, Some(text)) = (device, t.text()) {
        d.identity.push((field, text.to_string()));
    }
}

/// Error class and code of an Error PDU: the first two enumerated application tags.
fn error_of(data: &[u8]) -> Option<(u32, u32)> {
    let mut it = Tags::new(data)
        .filter(|t| t.kind == TagKind::Application(app::ENUMERATED))
        .filter_map(|t| t.unsigned());
    Some((it.next()?, it.next()?))
}

#[derive(Clone, Debug)]
struct Pending {
    dir: Direction,
    invoke_id: u8,
    service: u8,
    objects: Vec<(u16, u32)>,
    properties: Vec<u32>,
}

/// The BACnet/IP dissector: one per flow.
#[derive(Debug, Default)]
pub struct BacnetDissector {
    pending: VecDeque<Pending>,
    /// What the current message carries; kept for its buffers.
    detail: Detail,
    /// Segmented messages being put together.
    segments: Reassembly,
}

fn service_name(confirmed: bool, s: u8) -> (Cow<'static, str>, OpClass) {
    let info = if confirmed {
        confirmed_service(s)
    } else {
        unconfirmed_service(s)
    };
    match info {
        Some((n, op)) => (Cow::Borrowed(n), op),
        None => (Cow::Owned(format!("unknown-{s}")), OpClass::Other),
    }
}

fn apdu_type_name(t: u8) -> &'static str {
    match t {
        0 => "confirmed_request",
        1 => "unconfirmed_request",
        2 => "simple_ack",
        3 => "complex_ack",
        4 => "segment_ack",
        5 => "error",
        6 => "reject",
        _ => "abort",
    }
}

fn opposite(dir: Direction) -> Direction {
    match dir {
        Direction::ToServer => Direction::ToClient,
        Direction::ToClient => Direction::ToServer,
    }
}

impl BacnetDissector {
    fn take(&mut self, dir: Direction, invoke_id: u8) -> Option<Pending> {
        let pos = self
            .pending
            .iter()
            .position(|p| p.invoke_id == invoke_id && p.dir == opposite(dir))?;
        self.pending.remove(pos)
    }

    fn bvlc_event(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        function: u8,
        body: &[u8],
        out: &mut Emitter,
    ) {
        let (name, op) = match function {
            0x00 => ("bvlc_result", OpClass::Other),
            0x01 => ("write_broadcast_distribution_table", OpClass::Write),
            0x02 | 0x06 => (
                bvlc_function_name(function).unwrap_or("unknown"),
                OpClass::Read,
            ),
            0x03 | 0x07 => (
                bvlc_function_name(function).unwrap_or("unknown"),
                OpClass::Read,
            ),
            0x05 => ("register_foreign_device", OpClass::Session),
            0x08 => ("delete_foreign_device_table_entry", OpClass::Write),
            f => (bvlc_function_name(f).unwrap_or("unknown"), OpClass::Other),
        };
        let name: Cow<'static, str> = if bvlc_function_name(function).is_some() {
            Cow::Borrowed(name)
        } else {
            Cow::Owned(format!("unknown-{function}"))
        };
        let response = matches!(function, 0x00 | 0x03 | 0x07);
        let ev = out.begin(ctx, dir, PROTO, op, u32::from(function), name, response);
        ev.attr("pdu", Attr::Name("bvlc"));
        if function == 0x00 {
            let code = body.get(..2).map(|s| u16::from_be_bytes([s[0], s[1]]));
            ev.status = match code {
                Some(0) | None => Status::Ok,
                Some(c) => Status::Exception {
                    code: u32::from(c),
                    name: Cow::Borrowed(match c {
                        0x10 => "write_bdt_nak",
                        0x20 => "read_bdt_nak",
                        0x30 => "register_foreign_device_nak",
                        0x40 => "read_fdt_nak",
                        0x50 => "delete_fdt_entry_nak",
                        0x60 => "distribute_broadcast_to_network_nak",
                        _ => "unknown",
                    }),
                },
            };
        }
        if function == 0x05 {
            if let Some(s) = body.get(..2) {
                ev.attr(
                    "ttl",
                    Attr::UInt(u64::from(u16::from_be_bytes([s[0], s[1]]))),
                );
            }
        }
    }

    /// What segmented-message reassembly did on this flow.
    pub fn segment_stats(&self) -> SegmentStats {
        self.segments.stats
    }

    fn apdu(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        unit: Option<u32>,
        route: Route,
        b: &[u8],
        out: &mut Emitter,
    ) {
        let apdu = match parser::parse_apdu(b) {
            Ok(a) => a,
            Err(e) => {
                out.anomaly(PROTO, format!("APDU: {e}"));
                return;
            }
        };
        let segmented = match apdu {
            Apdu::Confirmed {
                invoke_id,
                service,
                segment: Some((seq, more)),
                data,
            } => Some((0, invoke_id, service, seq, more, data)),
            Apdu::ComplexAck {
                invoke_id,
                service,
                segment: Some((seq, more)),
                data,
            } => Some((3, invoke_id, service, seq, more, data)),
            _ => None,
        };
        if let Some((pdu, invoke_id, service, seq, more, data)) = segmented {
            let key = Key {
                dir,
                route,
                pdu,
                invoke_id,
                service,
            };
            let done = self.segments.add(Segment {
                key,
                seq,
                more,
                data,
                ts: ctx.ts,
                unit,
            });
            self.report_drops(ctx, out);
            if let Some(m) = done {
                self.reassembled(ctx, &m, out);
            }
            return;
        }
        if let Apdu::Abort { invoke_id, .. } | Apdu::Reject { invoke_id, .. } = apdu {
            if !self.segments.is_empty() {
                self.segments.abort(invoke_id);
                self.report_drops(ctx, out);
            }
        }
        self.message(ctx, dir, unit, apdu, None, out);
    }

    /// The event of a reassembled message: its whole service data decoded as if it had
    /// come unsegmented, with the number of segments.
    fn reassembled(&mut self, ctx: &FlowContext, m: &Message, out: &mut Emitter) {
        let (invoke_id, service, data) = (m.key.invoke_id, m.key.service, m.data.as_slice());
        let apdu = if m.key.pdu == 0 {
            Apdu::Confirmed {
                invoke_id,
                service,
                segment: None,
                data,
            }
        } else {
            Apdu::ComplexAck {
                invoke_id,
                service,
                segment: None,
                data,
            }
        };
        self.message(ctx, m.key.dir, m.unit, apdu, Some(m.segments), out);
    }

    /// Reports what reassembly dropped: an anomaly each, and for a message its first
    /// segment's event (at that segment's time), so the message is not lost.
    fn report_drops(&mut self, ctx: &FlowContext, out: &mut Emitter) {
        if self.segments.dropped.is_empty() {
            return;
        }
        for d in std::mem::take(&mut self.segments.dropped) {
            out.anomaly(PROTO, d.reason);
            let Some(m) = d.message else {
                continue;
            };
            let (invoke_id, service, data) = (m.key.invoke_id, m.key.service, m.first_segment());
            let segment = Some((0, true));
            let apdu = if m.key.pdu == 0 {
                Apdu::Confirmed {
                    invoke_id,
                    service,
                    segment,
                    data,
                }
            } else {
                Apdu::ComplexAck {
                    invoke_id,
                    service,
                    segment,
                    data,
                }
            };
            let first = FlowContext {
                ts: m.first_ts,
                ..*ctx
            };
            self.message(&first, m.key.dir, m.unit, apdu, None, out);
        }
    }

    /// One event for one APDU (or reassembled message of `segments` segments).
    fn message(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        unit: Option<u32>,
        apdu: Apdu<'_>,
        segments: Option<u32>,
        out: &mut Emitter,
    ) {
        let pdu = apdu_type_name(apdu.type_code());
        // Reused from message to message: its lists keep their buffers.
        let mut detail = std::mem::take(&mut self.detail);
        detail.clear();
        let mut status = Status::None;
        let mut error = None;
        let (function, name, op, response, invoke) = match apdu {
            Apdu::Confirmed {
                invoke_id,
                service,
                segment,
                data,
            } => {
                if let Some((seq, more)) = segment {
                    detail.attrs.push(("segment", Attr::UInt(u64::from(seq))));
                    detail.attrs.push(("more_follows", Attr::Bool(more)));
                }
                if segment.is_none_or(|(seq, _)| seq == 0) {
                    error = decode(&mut detail, true, false, service, data);
                }
                if segment.is_none_or(|(seq, _)| seq == 0) {
                    self.pending
                        .retain(|p| !(p.invoke_id == invoke_id && p.dir == dir));
                    if self.pending.len() >= MAX_PENDING {
                        self.pending.pop_front();
                        out.anomaly(
                            PROTO,
                            format!("more than {MAX_PENDING} unanswered requests; oldest dropped"),
                        );
                    }
                    self.pending.push_back(Pending {
                        dir,
                        invoke_id,
                        service,
                        objects: detail.objects.clone(),
                        properties: detail.properties.clone(),
                    });
                }
                let (n, op) = service_name(true, service);
                (u32::from(service), n, op, false, Some(invoke_id))
            }
            Apdu::Unconfirmed { service, data } => {
                error = decode(&mut detail, false, false, service, data);
                let (n, op) = service_name(false, service);
                (u32::from(service), n, op, false, None)
            }
            Apdu::SimpleAck { invoke_id, service } => {
                status = Status::Ok;
                let req = self.take(dir, invoke_id);
                fill(&mut detail, req.as_ref());
                let (n, op) = service_name(true, service);
                (u32::from(service), n, op, true, Some(invoke_id))
            }
            Apdu::ComplexAck {
                invoke_id,
                service,
                segment,
                data,
            } => {
                status = Status::Ok;
                if let Some((seq, more)) = segment {
                    detail.attrs.push(("segment", Attr::UInt(u64::from(seq))));
                    detail.attrs.push(("more_follows", Attr::Bool(more)));
                }
                // The request is answered by the last segment.
                let req = if segment.is_some_and(|(_, more)| more) {
                    self.pending
                        .iter()
                        .find(|p| p.invoke_id == invoke_id && p.dir == opposite(dir))
                        .cloned()
                } else {
                    self.take(dir, invoke_id)
                };
                if segment.is_none_or(|(seq, _)| seq == 0) {
                    error = decode(&mut detail, true, true, service, data);
                }
                fill(&mut detail, req.as_ref());
                let (n, op) = service_name(true, service);
                (u32::from(service), n, op, true, Some(invoke_id))
            }
            Apdu::SegmentAck {
                invoke_id,
                sequence,
                nak,
            } => {
                detail
                    .attrs
                    .push(("segment", Attr::UInt(u64::from(sequence))));
                detail.attrs.push(("nak", Attr::Bool(nak)));
                let svc = self
                    .pending
                    .iter()
                    .find(|p| p.invoke_id == invoke_id)
                    .map(|p| p.service)
                    .or_else(|| self.segments.service_of(opposite(dir), invoke_id));
                let (n, op) = match svc {
                    Some(s) => service_name(true, s),
                    None => (Cow::Borrowed("segment_ack"), OpClass::Other),
                };
                (u32::from(svc.unwrap_or(0)), n, op, false, Some(invoke_id))
            }
            Apdu::Error {
                invoke_id,
                service,
                data,
            } => {
                let req = self.take(dir, invoke_id);
                fill(&mut detail, req.as_ref());
                match error_of(data) {
                    Some((class, code)) => {
                        let cname = error_class_name(class)
                            .map_or_else(|| format!("class_{class}"), str::to_string);
                        detail.attrs.push(("error_class", Attr::Text(cname)));
                        status = Status::Exception {
                            code,
                            name: error_code_name(code).map_or_else(
                                || Cow::Owned(format!("unknown-{code}")),
                                Cow::Borrowed,
                            ),
                        };
                    }
                    None => out.anomaly(PROTO, "error PDU without class and code"),
                }
                let (n, op) = service_name(true, service);
                (u32::from(service), n, op, true, Some(invoke_id))
            }
            Apdu::Reject { invoke_id, reason }
            | Apdu::Abort {
                invoke_id, reason, ..
            } => {
                let req = self.take(dir, invoke_id);
                fill(&mut detail, req.as_ref());
                let names = if matches!(apdu, Apdu::Reject { .. }) {
                    reject_reason_name(reason)
                } else {
                    abort_reason_name(reason)
                };
                status = Status::Exception {
                    code: u32::from(reason),
                    name: names
                        .map_or_else(|| Cow::Owned(format!("unknown-{reason}")), Cow::Borrowed),
                };
                if let Apdu::Abort { server, .. } = apdu {
                    detail.attrs.push(("server", Attr::Bool(server)));
                }
                let (f, n, op) = match &req {
                    Some(p) => {
                        let (n, op) = service_name(true, p.service);
                        (u32::from(p.service), n, op)
                    }
                    None => (0, Cow::Borrowed(pdu), OpClass::Other),
                };
                (f, n, op, true, Some(invoke_id))
            }
        };
        if let Some(e) = error {
            out.anomaly(PROTO, format!("service data: {e}"));
        }
        for (field, value) in &detail.identity {
            out.identity(ctx, dir, *field, value, PROTO);
        }
        let ev = out.begin(ctx, dir, PROTO, op, function, name, response);
        ev.status = status;
        ev.unit = unit;
        ev.attr("pdu", Attr::Name(pdu));
        if let Some(i) = invoke {
            ev.attr("invoke_id", Attr::UInt(u64::from(i)));
        }
        for (ty, inst) in &detail.objects {
            ev.target(object_space(*ty), u64::from(*inst), 1);
        }
        for (ty, inst, v) in &detail.values {
            ev.value(object_space(*ty), u64::from(*inst), *v);
        }
        match detail.properties.as_slice() {
            [] => {}
            [p] => {
                ev.attr("property", property_attr(*p));
            }
            ps => {
                ev.attr(
                    "property",
                    Attr::List(ps.iter().map(|p| property_text(*p)).collect()),
                );
            }
        }
        ev.attrs.append(&mut detail.attrs);
        if let Some(n) = segments {
            ev.attr("segments", Attr::UInt(u64::from(n)));
        }
        self.detail = detail;
    }
}

/// Gives a response the objects and properties of its request when it has none.
fn fill(d: &mut Detail, req: Option<&Pending>) {
    if let Some(p) = req {
        if d.objects.is_empty() {
            d.objects.clone_from(&p.objects);
        }
        if d.properties.is_empty() {
            d.properties.clone_from(&p.properties);
        }
    }
}

impl Dissector for BacnetDissector {
    fn name(&self) -> &'static str {
        PROTO
    }

    fn on_stream(
        &mut self,
        _ctx: &FlowContext,
        _dir: Direction,
        data: &[u8],
        _out: &mut Emitter,
    ) -> usize {
        // BACnet/IP is UDP only.
        data.len()
    }

    fn on_datagram(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        if !self.segments.is_empty() {
            self.segments.expire(ctx.ts);
            self.report_drops(ctx, out);
        }
        if let Some(len) = parser::bvlc_length(data).filter(|&l| l != data.len()) {
            out.anomaly(
                PROTO,
                format!(
                    "BVLC length {len} differs from the datagram's {}",
                    data.len()
                ),
            );
        }
        let bvlc = match parser::parse_bvlc_unchecked(data) {
            Ok(b) => b,
            Err(e) => {
                out.anomaly(PROTO, format!("BVLC: {e}"));
                return;
            }
        };
        let Some(npdu) = bvlc.npdu else {
            self.bvlc_event(ctx, dir, bvlc.function, bvlc.body, out);
            return;
        };
        let n = match parser::parse_npdu(npdu) {
            Ok(n) => n,
            Err(e) => {
                out.anomaly(PROTO, format!("NPDU: {e}"));
                return;
            }
        };
        let unit = n.dnet.map(u32::from);
        if let Some(t) = n.message_type {
            let (name, op) = match network_message_name(t) {
                Some(name) => (
                    Cow::Borrowed(name),
                    if t <= 0x02 || t == 0x12 || t == 0x13 {
                        OpClass::Identify
                    } else {
                        OpClass::Other
                    },
                ),
                None => (Cow::Owned(format!("unknown-{t}")), OpClass::Other),
            };
            let response = matches!(t, 0x01 | 0x02 | 0x07 | 0x13);
            let ev = out.begin(ctx, dir, PROTO, op, u32::from(t), name, response);
            ev.unit = unit;
            ev.attr("pdu", Attr::Name("network"));
            return;
        }
        // Segmented messages are keyed by the addresses beyond the flow as well.
        let route = if n
            .rest
            .first()
            .is_some_and(|&b| matches!(b >> 4, 0 | 3) && b & 0x08 != 0)
        {
            let origin = (bvlc.function == 0x04)
                .then(|| bvlc.body.get(..6))
                .flatten();
            Route::new(origin, (n.snet, n.sadr), (n.dnet, n.dadr))
        } else {
            Route::default()
        };
        self.apdu(ctx, dir, unit, route, n.rest, out);
    }

    fn on_end(&mut self, ctx: &FlowContext, out: &mut Emitter) {
        if !self.segments.is_empty() {
            self.segments.end();
            self.report_drops(ctx, out);
        }
    }
}

/// Recognises BACnet/IP flows: UDP 47808 (and by content, a consistent BVLC header with
/// a version-1 NPDU, on any UDP port).
#[derive(Clone, Copy, Debug, Default)]
pub struct BacnetFactory;

impl DissectorFactory for BacnetFactory {
    fn name(&self) -> &'static str {
        PROTO
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != Transport::Udp {
            return 0;
        }
        let on_port = ctx.client_port == PORT || ctx.server_port == PORT;
        match (on_port, parser::looks_like_bacnet(first_payload)) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(BacnetDissector::default())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(BacnetFactory)]
}
