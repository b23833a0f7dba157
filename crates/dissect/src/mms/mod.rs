//! MMS (IEC 61850 / ISO 9506) over ISO transport.
//!
//! MMS rides on COTP (see [`crate::s7comm`], whose ISO-on-TCP dissector hands every
//! reassembled TSDU of an MMS flow to [`MmsState::on_tsdu`]), then the ISO session
//! ([`session`]), the presentation layer and, at association time, ACSE. This module has
//! no factory of its own: port 102 flows are selected once by the ISO transport factory,
//! which decides from the first data TPDU whether S7 or a session runs above.
//!
//! Outputs: one event per MMS PDU. Confirmed requests and responses carry the service
//! (function = service tag, e.g. 4 read, 5 write, 72 fileOpen), paired by invoke id;
//! variable names as `var:<domain>/<item>` targets (named lists as `varlist:...`);
//! written values (booleans, integers, floats); identify responses as device identity;
//! errors and rejects as exception status. Initiate/conclude/cancel/reject PDUs have
//! function 0x100 + PDU tag, unconfirmed services 0x200 + service tag.

pub mod ber;
pub mod constants;
pub mod session;

use crate::{Attr, Direction, Emitter, FlowContext, IdentityField, OpClass, Status, Target};
use ber::Tlv;
use constants::pdu;
use session::SessionPayload;
use std::borrow::Cow;
use std::fmt;

/// Protocol name in records.
pub const PROTOCOL: &str = "mms";
/// Most open confirmed requests per flow.
pub const MAX_PENDING: usize = 64;
/// Most values per event.
pub const MAX_POINTS: usize = 64;
/// Most targets (variable names) per event; IEC 61850 clients read a few hundred
/// variables in one request.
pub const MAX_TARGETS: usize = 256;
/// Offset of non-confirmed PDU kinds in event function codes.
pub const PDU_FUNCTION_BASE: u32 = 0x100;
/// Offset of unconfirmed services in event function codes.
pub const UNCONFIRMED_FUNCTION_BASE: u32 = 0x200;

/// Why an MMS PDU is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MmsError {
    /// Not a well-formed BER element.
    BadEncoding,
    /// The identifier is not an MMSpdu choice.
    NotMms(u8),
    /// A confirmed PDU lacks its invoke id or service.
    MissingField,
}

impl fmt::Display for MmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadEncoding => write!(f, "malformed BER"),
            Self::NotMms(b) => write!(f, "identifier 0x{b:02x} is not an MMS PDU"),
            Self::MissingField => write!(f, "confirmed PDU without invoke id or service"),
        }
    }
}

impl std::error::Error for MmsError {}

/// An MMS PDU's envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmsPdu<'a> {
    /// MMSpdu choice tag (0 confirmed request ... 13 conclude error).
    pub kind: u32,
    /// Invoke id (confirmed PDUs, errors, rejects when present).
    pub invoke_id: Option<u32>,
    /// Service element (confirmed request/response, unconfirmed).
    pub service: Option<Tlv<'a>>,
    /// Contents of the PDU.
    pub body: &'a [u8],
}

/// Parses the MMS PDU envelope.
pub fn parse_pdu(data: &[u8]) -> Result<MmsPdu<'_>, MmsError> {
    let (t, _) = ber::read(data).ok_or(MmsError::BadEncoding)?;
    if !t.is_context() || t.tag > 13 {
        return Err(MmsError::NotMms(t.id));
    }
    let mut p = MmsPdu {
        kind: t.tag,
        invoke_id: None,
        service: None,
        body: t.value,
    };
    match t.tag {
        pdu::CONFIRMED_REQUEST | pdu::CONFIRMED_RESPONSE => {
            let mut it = ber::elements(t.value);
            let id = it.next().ok_or(MmsError::MissingField)?;
            if id.id != 0x02 {
                return Err(MmsError::MissingField);
            }
            p.invoke_id = ber::unsigned(id.value).and_then(|v| u32::try_from(v).ok());
            // A request may list modifiers ([0]... SEQUENCE OF) before the service in
            // MMS v1; the service is the first context-tagged element after the id.
            p.service = it.find(|e| e.is_context());
            // Some servers answer with the invoke id alone; the request names the service.
            if p.service.is_none() && t.tag == pdu::CONFIRMED_REQUEST {
                return Err(MmsError::MissingField);
            }
        }
        pdu::CONFIRMED_ERROR | pdu::REJECT => {
            if let Some(first) = ber::elements(t.value).next() {
                if first.id == 0x80 {
                    p.invoke_id = ber::unsigned(first.value).and_then(|v| u32::try_from(v).ok());
                }
            }
        }
        pdu::UNCONFIRMED => p.service = ber::elements(t.value).next(),
        _ => {}
    }
    Ok(p)
}

/// The name in an ObjectName element, as `<domain>/<item>` or `<name>`.
fn object_name(t: &Tlv<'_>) -> Option<String> {
    match t.id {
        0x80 | 0x82 => Some(String::from_utf8_lossy(t.value).into_owned()),
        0xa1 => {
            let mut it = ber::elements(t.value);
            let dom = it.next()?;
            let item = it.next()?;
            Some(format!(
                "{}/{}",
                String::from_utf8_lossy(dom.value),
                String::from_utf8_lossy(item.value)
            ))
        }
        _ => None,
    }
}

/// Targets of a VariableAccessSpecification element (list of variables or a list name).
fn access_spec_targets(spec: &Tlv<'_>, targets: &mut Vec<Target>) {
    match spec.id {
        0xa0 => {
            for var in ber::elements(spec.value).take(MAX_TARGETS) {
                // SEQUENCE { variableSpecification, alternateAccess? }; name is [0].
                let Some(name) = ber::child(var.value, 0xa0) else {
                    continue;
                };
                if let Some(n) = ber::elements(name).next().and_then(|t| object_name(&t)) {
                    targets.push(Target {
                        space: format!("var:{n}").into(),
                        start: 0,
                        count: 1,
                    });
                }
            }
        }
        0xa1 => {
            if let Some(n) = ber::elements(spec.value)
                .next()
                .and_then(|t| object_name(&t))
            {
                targets.push(Target {
                    space: format!("varlist:{n}").into(),
                    start: 0,
                    count: 1,
                });
            }
        }
        _ => {}
    }
}

/// Numeric value of a primitive Data element (boolean, integer, unsigned, float).
fn data_value(d: &Tlv<'_>) -> Option<f64> {
    match d.id {
        0x83 => Some(f64::from(u8::from(*d.value.first()? != 0))),
        0x85 => ber::integer(d.value).map(|v| v as f64),
        0x86 => ber::unsigned(d.value).map(|v| v as f64),
        // Exponent width byte, then IEEE single or double.
        0x87 => match d.value {
            [_, a, b, c, e] => Some(f64::from(f32::from_be_bytes([*a, *b, *c, *e]))),
            [_, rest @ ..] if rest.len() == 8 => {
                Some(f64::from_be_bytes(*rest.first_chunk::<8>()?))
            }
            _ => None,
        },
        _ => None,
    }
}

#[derive(Clone, Debug)]
struct Pending {
    invoke_id: u32,
    service: u32,
    targets: Vec<Target>,
}

/// Per-flow MMS state: open confirmed requests.
#[derive(Debug, Default)]
pub struct MmsState {
    pending: Vec<Pending>,
}

impl MmsState {
    /// Handles one reassembled COTP TSDU of an MMS flow.
    pub fn on_tsdu(&mut self, ctx: &FlowContext, dir: Direction, tsdu: &[u8], out: &mut Emitter) {
        match session::unwrap(tsdu) {
            Some(SessionPayload::Mms(pdu)) => self.on_pdu(ctx, dir, pdu, out),
            Some(SessionPayload::Control(_)) => {}
            None => out.anomaly(PROTOCOL, "malformed session or presentation PDU"),
        }
    }

    /// Handles one MMS PDU.
    pub fn on_pdu(&mut self, ctx: &FlowContext, dir: Direction, data: &[u8], out: &mut Emitter) {
        let p = match parse_pdu(data) {
            Ok(p) => p,
            Err(e) => {
                out.anomaly(PROTOCOL, format!("malformed MMS PDU: {e}"));
                return;
            }
        };
        match p.kind {
            pdu::CONFIRMED_REQUEST => self.on_request(ctx, dir, &p, out),
            pdu::CONFIRMED_RESPONSE | pdu::CONFIRMED_ERROR => self.on_response(ctx, dir, &p, out),
            pdu::UNCONFIRMED => {
                let Some(s) = p.service else { return };
                let name: Cow<'static, str> = match constants::unconfirmed_service(s.tag) {
                    Some(n) => n.into(),
                    None => format!("unknown-{}", s.tag).into(),
                };
                let ev = out.begin(
                    ctx,
                    dir,
                    PROTOCOL,
                    OpClass::Read,
                    UNCONFIRMED_FUNCTION_BASE + s.tag,
                    name,
                    false,
                );
                if s.tag == 0 {
                    // informationReport: access specification, then [0] access results.
                    let mut it = ber::elements(s.value);
                    if let Some(spec) = it.next() {
                        access_spec_targets(&spec, &mut ev.targets);
                        if let Some(name) = ev.targets.first().map(|t| t.space.to_string()) {
                            ev.attr("report", Attr::Text(name));
                        }
                    }
                }
            }
            kind => {
                let (op, is_response) = match kind {
                    pdu::INITIATE_REQUEST | pdu::CONCLUDE_REQUEST => (OpClass::Session, false),
                    pdu::INITIATE_RESPONSE | pdu::CONCLUDE_RESPONSE => (OpClass::Session, true),
                    pdu::CANCEL_REQUEST => (OpClass::Other, false),
                    _ => (OpClass::Other, true),
                };
                let ev = out.begin(
                    ctx,
                    dir,
                    PROTOCOL,
                    op,
                    PDU_FUNCTION_BASE + kind,
                    constants::pdu_name(kind),
                    is_response,
                );
                match kind {
                    pdu::INITIATE_RESPONSE | pdu::CONCLUDE_RESPONSE | pdu::CANCEL_RESPONSE => {
                        ev.status = Status::Ok;
                    }
                    pdu::INITIATE_ERROR | pdu::CONCLUDE_ERROR | pdu::CANCEL_ERROR | pdu::REJECT => {
                        ev.status = Status::Exception {
                            code: kind,
                            name: constants::pdu_name(kind).into(),
                        };
                        if let Some(id) = p.invoke_id {
                            ev.attr("invoke_id", Attr::UInt(u64::from(id)));
                            self.pending.retain(|q| q.invoke_id != id);
                        }
                    }
                    _ => {}
                }
                if matches!(kind, pdu::INITIATE_REQUEST | pdu::INITIATE_RESPONSE) {
                    // localDetailCalling/Called [0], maxServOutstanding [1]/[2], nesting [3].
                    for e in ber::elements(p.body) {
                        match e.id {
                            0x80 => {
                                if let Some(v) = ber::unsigned(e.value) {
                                    ev.attr("max_pdu_size", Attr::UInt(v));
                                }
                            }
                            0x83 => {
                                if let Some(v) = ber::unsigned(e.value) {
                                    ev.attr("nesting_level", Attr::UInt(v));
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    fn on_request(&mut self, ctx: &FlowContext, dir: Direction, p: &MmsPdu<'_>, out: &mut Emitter) {
        let Some(s) = p.service else { return };
        let (name, op): (Cow<'static, str>, OpClass) = match constants::confirmed_service(s.tag) {
            Some((n, o)) => (n.into(), o),
            None => (format!("unknown-{}", s.tag).into(), OpClass::Other),
        };
        let ev = out.begin(ctx, dir, PROTOCOL, op, s.tag, name, false);
        if let Some(id) = p.invoke_id {
            ev.attr("invoke_id", Attr::UInt(u64::from(id)));
        }
        match s.tag {
            // read: [0] specificationWithResult?, [1] variableAccessSpecification.
            4 => {
                if let Some(spec) = ber::elements(s.value).find(|e| e.id == 0xa1) {
                    if let Some(inner) = ber::elements(spec.value).next() {
                        access_spec_targets(&inner, &mut ev.targets);
                    }
                }
            }
            // write: variableAccessSpecification, [0] listOfData.
            5 => {
                let mut it = ber::elements(s.value);
                if let Some(spec) = it.next() {
                    access_spec_targets(&spec, &mut ev.targets);
                }
                if let Some(list) = it.next() {
                    let mut vals = Vec::new();
                    for (i, d) in ber::elements(list.value).take(MAX_POINTS).enumerate() {
                        if let Some(v) = data_value(&d) {
                            let space = ev
                                .targets
                                .get(i)
                                .map_or(Cow::Borrowed("var"), |t| t.space.clone());
                            vals.push((space, v));
                        }
                    }
                    for (space, v) in vals {
                        ev.value(space, 0, v);
                    }
                }
            }
            // getVariableAccessAttributes: name [0] ObjectName.
            6 => {
                if let Some(n) = ber::child(s.value, 0xa0)
                    .and_then(|v| ber::elements(v).next())
                    .and_then(|t| object_name(&t))
                {
                    ev.target(format!("var:{n}"), 0, 1);
                }
            }
            // defineNamedVariableList / getNamedVariableListAttributes / delete: a name.
            11 | 12 => {
                if let Some(n) = ber::elements(s.value)
                    .next()
                    .and_then(|t| {
                        if t.id == 0xa0 || s.tag == 11 {
                            ber::elements(t.value).next().or(Some(t))
                        } else {
                            Some(t)
                        }
                    })
                    .and_then(|t| object_name(&t))
                {
                    ev.target(format!("varlist:{n}"), 0, 1);
                }
            }
            // getNameList: objectClass [0], objectScope [1] { domainSpecific [1] }.
            1 => {
                if let Some(dom) = ber::child(s.value, 0xa1).and_then(|v| ber::child(v, 0x81)) {
                    ev.attr(
                        "domain",
                        Attr::Text(String::from_utf8_lossy(dom).into_owned()),
                    );
                }
            }
            // File services: the file name is a SEQUENCE OF GraphicString.
            46 | 72 | 76 | 77 => {
                let names: Option<&[u8]> = match s.tag {
                    72 | 77 => ber::child(s.value, 0xa0),
                    46 => ber::elements(s.value)
                        .nth(1)
                        .and_then(|t| {
                            // obtainFile: [0] source file server?, [1] sourceFile, [2] destinationFile.
                            if t.id == 0xa1 {
                                Some(t.value)
                            } else {
                                None
                            }
                        })
                        .or_else(|| ber::child(s.value, 0xa1)),
                    _ => Some(s.value),
                };
                if let Some(n) = names.and_then(|v| ber::elements(v).next()) {
                    ev.attr(
                        "file_name",
                        Attr::Text(String::from_utf8_lossy(n.value).into_owned()),
                    );
                }
            }
            // Program invocation control: the invocation name.
            40..=44 => {
                if let Some(n) = ber::elements(s.value).next() {
                    if n.id == 0x80 || n.id == 0x1a {
                        ev.attr(
                            "program_invocation",
                            Attr::Text(String::from_utf8_lossy(n.value).into_owned()),
                        );
                    }
                }
            }
            _ => {}
        }
        if let Some(id) = p.invoke_id {
            let targets = ev.targets.clone();
            self.pending.retain(|q| q.invoke_id != id);
            if self.pending.len() >= MAX_PENDING {
                self.pending.remove(0);
                out.anomaly(PROTOCOL, "too many unanswered requests; oldest dropped");
            }
            self.pending.push(Pending {
                invoke_id: id,
                service: s.tag,
                targets,
            });
        }
    }

    fn on_response(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        p: &MmsPdu<'_>,
        out: &mut Emitter,
    ) {
        let req = p.invoke_id.and_then(|id| {
            let i = self.pending.iter().position(|q| q.invoke_id == id)?;
            Some(self.pending.remove(i))
        });
        let service = p.service.map(|s| s.tag).or(req.as_ref().map(|r| r.service));
        let (name, op): (Cow<'static, str>, OpClass) = match service {
            Some(t) => match constants::confirmed_service(t) {
                Some((n, o)) => (n.into(), o),
                None => (format!("unknown-{t}").into(), OpClass::Other),
            },
            None if p.kind == pdu::CONFIRMED_ERROR => ("confirmed_error".into(), OpClass::Other),
            None => ("confirmed_response".into(), OpClass::Other),
        };
        let function = service.unwrap_or(PDU_FUNCTION_BASE + p.kind);
        let ev = out.begin(ctx, dir, PROTOCOL, op, function, name, true);
        if let Some(id) = p.invoke_id {
            ev.attr("invoke_id", Attr::UInt(u64::from(id)));
        }
        if let Some(r) = &req {
            ev.targets.extend(r.targets.iter().cloned());
        } else {
            ev.attr("unpaired", Attr::Bool(true));
        }
        if p.kind == pdu::CONFIRMED_ERROR {
            // [2] serviceError { errorClass [0] { choice [n] code } }.
            let class = ber::child(p.body, 0xa2)
                .and_then(|v| ber::child(v, 0xa0))
                .and_then(|v| ber::elements(v).next());
            let (code, cname) = match class {
                Some(c) => (
                    c.tag << 8 | ber::unsigned(c.value).map_or(0, |v| v.min(255) as u32),
                    constants::error_class_name(c.tag),
                ),
                None => (0, "service_error"),
            };
            ev.status = Status::Exception {
                code,
                name: cname.into(),
            };
            return;
        }
        ev.status = Status::Ok;
        let Some(s) = p.service else { return };
        match s.tag {
            // Read response: [0] variableAccessSpecification?, [1] listOfAccessResult.
            4 => {
                if let Some(results) = ber::child(s.value, 0xa1) {
                    let mut failed = None;
                    let mut vals = Vec::new();
                    for (i, r) in ber::elements(results).take(MAX_POINTS).enumerate() {
                        if r.id == 0x80 {
                            failed.get_or_insert(ber::unsigned(r.value).unwrap_or(0));
                        } else if let Some(v) = data_value(&r) {
                            let space = ev
                                .targets
                                .get(i)
                                .map_or(Cow::Borrowed("var"), |t| t.space.clone());
                            vals.push((space, v));
                        }
                    }
                    for (space, v) in vals {
                        ev.value(space, 0, v);
                    }
                    if let Some(code) = failed {
                        ev.attr("access_failure", Attr::UInt(code));
                    }
                }
            }
            // Identify: vendorName [0], modelName [1], revision [2].
            2 => {
                let mut fields = Vec::new();
                for e in ber::elements(s.value) {
                    let field = match e.id {
                        0x80 => IdentityField::Vendor,
                        0x81 => IdentityField::Model,
                        0x82 => IdentityField::Firmware,
                        _ => continue,
                    };
                    fields.push((field, String::from_utf8_lossy(e.value).into_owned()));
                }
                for (field, value) in &fields {
                    let key = match field {
                        IdentityField::Vendor => "vendor",
                        IdentityField::Model => "model",
                        _ => "revision",
                    };
                    ev.attr(key, Attr::Text(value.clone()));
                }
                for (field, value) in fields {
                    out.identity(ctx, dir, field, &value, PROTOCOL);
                }
            }
            _ => {}
        }
    }
}

use crate::DissectorFactory;

/// The factories this module registers in [`crate::Registry::builtin`]: none, see the
/// module documentation.
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    Vec::new()
}
