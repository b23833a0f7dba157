//! OPC UA binary over TCP (port 4840 and by content): UA TCP messages (HEL, ACK, ERR,
//! RHE) and UA Secure Conversation (OPN, MSG, CLO) with chunk reassembly.
//!
//! Outputs, protocol `opcua`: one event per Hello (endpoint URL), Acknowledge, Error
//! (status code), ReverseHello and abort chunk, their function the three type letters
//! as a number (`HEL` = 0x48454C). For secure-conversation messages whose body is
//! readable (security policy None, or signed only), one event per service request and
//! response, function = the numeric id of the request's binary encoding (Read = 631),
//! paired by request handle: Read and Write node ids become `node:<id>` targets (the
//! attribute id as start), written values and read results of numeric scalars become
//! values, ServiceFault and response service results become the status; GetEndpoints,
//! FindServers and CreateSession give the application name of the server (and
//! CreateSession requests that of the client) as the Product identity. Encrypted chunks
//! give one event each with the security policy only. A message split into chunks is
//! reassembled (up to [`MAX_MESSAGE`] bytes; the rest is not decoded).

pub mod constants;
pub mod parser;

use crate::{
    Attr, Direction, Dissector, DissectorFactory, Emitter, FlowContext, IdentityField, OpClass,
    Status, Transport,
};
use constants::*;
use parser::{MessageType, Reader, HEADER_LEN};
use std::borrow::Cow;
use std::collections::VecDeque;

/// Well-known port.
pub const PORT: u16 = 4840;
/// Most bytes of a chunked message kept for decoding.
pub const MAX_MESSAGE: usize = 256 * 1024;
const PROTO: &str = "opcua";
/// Most unanswered requests remembered per flow.
const MAX_PENDING: usize = 64;
/// Most node ids reported per message.
const MAX_NODES: usize = 64;

#[derive(Debug)]
struct Pending {
    handle: u32,
    request: u32,
    nodes: Vec<(String, u32)>,
}

#[derive(Debug, Default)]
struct Assembly {
    request_id: u32,
    data: Vec<u8>,
    cut: bool,
}

/// The OPC UA dissector: one per flow.
#[derive(Debug, Default)]
pub struct OpcuaDissector {
    resync: [bool; 2],
    assembly: [Option<Assembly>; 2],
    /// Security policy URI of the channel, as the OPN request announced it.
    policy: Option<String>,
    /// The policy is not None: bodies may be encrypted.
    secured: bool,
    pending: VecDeque<Pending>,
    text: String,
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

fn lossy(b: Option<&[u8]>) -> Option<String> {
    b.map(|s| {
        let mut t = String::new();
        parser::push_text(&mut t, s);
        t
    })
}

fn status_of(code: u32) -> Status {
    // Good and Uncertain severities are not failures of the request.
    if code & 0x8000_0000 == 0 {
        return Status::Ok;
    }
    Status::Exception {
        code,
        name: match status_name(code) {
            Some(n) => Cow::Borrowed(n),
            None => Cow::Owned(format!("bad_0x{code:08x}")),
        },
    }
}

fn service_name(request: u32) -> (Cow<'static, str>, OpClass) {
    match service_info(request) {
        Some((n, op)) => (Cow::Borrowed(n), op),
        None => (Cow::Owned(format!("unknown-{request}")), OpClass::Other),
    }
}

/// Offset of the next plausible message header in `data`.
fn find_sync(data: &[u8]) -> Option<usize> {
    (0..data.len().saturating_sub(HEADER_LEN - 1))
        .find(|&off| parser::parse_header(&data[off..]).is_ok())
}

/// What a decoded service body gave.
#[derive(Default)]
struct Decoded {
    nodes: Vec<(String, u32)>,
    values: Vec<(usize, f64)>,
    attrs: Vec<(&'static str, Attr)>,
    identity: Vec<(IdentityField, String)>,
}

impl OpcuaDissector {
    fn transport_event(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        t: MessageType,
        body: &[u8],
        out: &mut Emitter,
    ) {
        let (name, op, response) = match t {
            MessageType::Hello => ("hello", OpClass::Session, false),
            MessageType::Acknowledge => ("acknowledge", OpClass::Session, true),
            MessageType::Error => ("error", OpClass::Session, true),
            _ => ("reverse_hello", OpClass::Session, false),
        };
        let ev = out.begin(ctx, dir, PROTO, op, t.code(), name, response);
        match t {
            MessageType::Hello => {
                if let Ok(h) = parser::parse_hello(body) {
                    ev.attr("protocol_version", Attr::UInt(u64::from(h.version)));
                    if let Some(u) = lossy(h.endpoint_url) {
                        ev.attr("endpoint_url", Attr::Text(u));
                    }
                }
            }
            MessageType::Acknowledge => ev.status = Status::Ok,
            MessageType::Error => {
                if let Ok((code, reason)) = parser::parse_error(body) {
                    ev.status = status_of(code);
                    if let Some(r) = lossy(reason) {
                        ev.attr("reason", Attr::Text(r));
                    }
                }
            }
            _ => {
                let mut r = Reader::new(body);
                if let Some(Some(s)) = r.string() {
                    ev.attr("server_uri", Attr::Text(lossy(Some(s)).unwrap_or_default()));
                }
                if let Some(Some(s)) = r.string() {
                    ev.attr(
                        "endpoint_url",
                        Attr::Text(lossy(Some(s)).unwrap_or_default()),
                    );
                }
            }
        }
    }

    fn secure(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        t: MessageType,
        chunk: u8,
        body: &[u8],
        out: &mut Emitter,
    ) {
        let sc = match parser::parse_secure(t, body) {
            Ok(s) => s,
            Err(e) => {
                out.anomaly(PROTO, format!("secure conversation header: {e}"));
                return;
            }
        };
        if let Some(p) = sc.policy_uri {
            let policy = lossy(Some(p)).unwrap_or_default();
            self.secured = !policy.ends_with("#None");
            self.policy = Some(policy);
        }
        let d = dir_index(dir);
        match chunk {
            b'A' => {
                self.assembly[d] = None;
                let ev = out.begin(
                    ctx,
                    dir,
                    PROTO,
                    OpClass::Other,
                    t.code(),
                    "abort",
                    dir == Direction::ToClient,
                );
                if let Ok((code, _)) = parser::parse_error(sc.body) {
                    if !self.secured {
                        ev.status = status_of(code);
                    }
                }
                ev.attr("request_id", Attr::UInt(u64::from(sc.request_id)));
                return;
            }
            b'C' => {
                if self.secured && !plausible_body(sc.body) && self.assembly[d].is_none() {
                    self.encrypted_event(ctx, dir, t, chunk, out);
                    return;
                }
                let a = self.assembly[d].get_or_insert_with(Assembly::default);
                if a.request_id != sc.request_id {
                    a.data.clear();
                    a.cut = false;
                    a.request_id = sc.request_id;
                }
                let room = MAX_MESSAGE.saturating_sub(a.data.len());
                a.cut |= sc.body.len() > room;
                a.data
                    .extend_from_slice(&sc.body[..sc.body.len().min(room)]);
                return;
            }
            _ => {}
        }
        let assembled = match self.assembly[d].take() {
            Some(mut a) if a.request_id == sc.request_id => {
                let room = MAX_MESSAGE.saturating_sub(a.data.len());
                a.cut |= sc.body.len() > room;
                a.data
                    .extend_from_slice(&sc.body[..sc.body.len().min(room)]);
                Some(a)
            }
            _ => None,
        };
        let msg: &[u8] = assembled.as_ref().map_or(sc.body, |a| &a.data);
        if self.secured && !plausible_body(msg) {
            self.encrypted_event(ctx, dir, t, chunk, out);
            return;
        }
        self.service(ctx, dir, msg, assembled.is_some(), out);
    }

    fn encrypted_event(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        t: MessageType,
        chunk: u8,
        out: &mut Emitter,
    ) {
        let (function, name, op) = match t {
            MessageType::Open => (446, "open_secure_channel", OpClass::Session),
            MessageType::Close => (452, "close_secure_channel", OpClass::Session),
            _ => (t.code(), "secure_message", OpClass::Other),
        };
        let ev = out.begin(
            ctx,
            dir,
            PROTO,
            op,
            function,
            name,
            dir == Direction::ToClient,
        );
        ev.attr("chunk", Attr::Text(char::from(chunk).to_string()));
        ev.attr("encrypted", Attr::Bool(true));
        if let Some(p) = &self.policy {
            ev.attr("security_policy", Attr::Text(p.clone()));
        }
    }

    /// Decodes one whole service message (type id, header, body).
    fn service(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        msg: &[u8],
        chunked: bool,
        out: &mut Emitter,
    ) {
        let mut r = Reader::new(msg);
        let Some((ns, Some(id))) = r.node_id(false, None) else {
            out.anomaly(PROTO, "service message without a numeric type id");
            return;
        };
        if ns != 0 {
            out.anomaly(PROTO, format!("service type id in namespace {ns}"));
            return;
        }
        let (request, is_response) = if id == SERVICE_FAULT {
            (None, true)
        } else {
            match classify(id) {
                Some((req, resp)) => (Some(req), resp),
                None => {
                    let ev = out.begin(
                        ctx,
                        dir,
                        PROTO,
                        OpClass::Other,
                        id,
                        format!("unknown-{id}"),
                        false,
                    );
                    ev.attr("chunked", Attr::Bool(chunked));
                    return;
                }
            }
        };
        let mut dec = Decoded::default();
        if !is_response {
            let req = request.unwrap_or(0);
            let Some(handle) = r.request_header() else {
                out.anomaly(PROTO, "request header truncated");
                return;
            };
            self.decode_request(req, &mut r, &mut dec);
            for (field, value) in &dec.identity {
                out.identity(ctx, dir, *field, value, PROTO);
            }
            let (name, op) = service_name(req);
            let ev = out.begin(ctx, dir, PROTO, op, req, name, false);
            ev.attr("request_handle", Attr::UInt(u64::from(handle)));
            for (node, attr) in &dec.nodes {
                ev.target(format!("node:{node}"), u64::from(*attr), 1);
            }
            for (i, v) in &dec.values {
                if let Some((node, attr)) = dec.nodes.get(*i) {
                    ev.value(format!("node:{node}"), u64::from(*attr), *v);
                }
            }
            ev.attrs.extend(dec.attrs);
            self.pending.retain(|p| p.handle != handle);
            if self.pending.len() >= MAX_PENDING {
                self.pending.pop_front();
                out.anomaly(
                    PROTO,
                    format!("more than {MAX_PENDING} unanswered requests; oldest dropped"),
                );
            }
            self.pending.push_back(Pending {
                handle,
                request: req,
                nodes: dec.nodes,
            });
            return;
        }
        let Some((handle, result)) = r.response_header() else {
            out.anomaly(PROTO, "response header truncated");
            return;
        };
        let pending = self
            .pending
            .iter()
            .position(|p| p.handle == handle)
            .and_then(|i| self.pending.remove(i));
        let req = request.or(pending.as_ref().map(|p| p.request));
        if let Some(rq) = req {
            if result & 0x8000_0000 == 0 {
                self.decode_response(rq, &mut r, &mut dec);
            }
        }
        for (field, value) in &dec.identity {
            out.identity(ctx, dir, *field, value, PROTO);
        }
        let (function, (name, op)) = match req {
            Some(rq) => (rq, service_name(rq)),
            None => (
                SERVICE_FAULT,
                (Cow::Borrowed("service_fault"), OpClass::Other),
            ),
        };
        let ev = out.begin(ctx, dir, PROTO, op, function, name, true);
        ev.status = status_of(result);
        ev.attr("request_handle", Attr::UInt(u64::from(handle)));
        if id == SERVICE_FAULT {
            ev.attr("service_fault", Attr::Bool(true));
        }
        if let Some(p) = &pending {
            for (node, attr) in &p.nodes {
                ev.target(format!("node:{node}"), u64::from(*attr), 1);
            }
            for (i, v) in &dec.values {
                if let Some((node, attr)) = p.nodes.get(*i) {
                    ev.value(format!("node:{node}"), u64::from(*attr), *v);
                }
            }
        }
        ev.attrs.extend(dec.attrs);
    }

    fn node(&mut self, r: &mut Reader<'_>) -> Option<String> {
        r.node_id(false, Some(&mut self.text))?;
        Some(self.text.clone())
    }

    fn decode_request(&mut self, req: u32, r: &mut Reader<'_>, dec: &mut Decoded) {
        match req {
            // OpenSecureChannel: version, request type, security mode.
            446 => {
                let (Some(_), Some(kind), Some(mode)) = (r.u32(), r.u32(), r.u32()) else {
                    return;
                };
                dec.attrs.push((
                    "request_type",
                    Attr::Text(if kind == 0 { "issue" } else { "renew" }.into()),
                ));
                dec.attrs
                    .push(("security_mode", Attr::Text(security_mode(mode))));
                if let Some(p) = &self.policy {
                    dec.attrs.push(("security_policy", Attr::Text(p.clone())));
                }
            }
            // Read: max age, timestamps, nodes to read.
            631 => {
                if r.skip(12).is_none() {
                    return;
                }
                let Some(n) = r.array_len(9) else { return };
                for _ in 0..n.min(MAX_NODES) {
                    let Some(node) = self.node(r) else { return };
                    let (Some(attr), Some(_), Some(_), Some(_)) =
                        (r.u32(), r.string(), r.u16(), r.string())
                    else {
                        return;
                    };
                    dec.nodes.push((node, attr));
                }
            }
            // Write: nodes to write with their data values.
            673 => {
                let Some(n) = r.array_len(10) else { return };
                for i in 0..n.min(MAX_NODES) {
                    let Some(node) = self.node(r) else { return };
                    let (Some(attr), Some(_)) = (r.u32(), r.string()) else {
                        return;
                    };
                    dec.nodes.push((node, attr));
                    let Some((value, _)) = r.data_value(0) else {
                        return;
                    };
                    if let Some(v) = value {
                        dec.values.push((i, v));
                    }
                }
            }
            // Browse: view, max references, nodes to browse.
            527 => {
                if r.node_id(false, None).is_none() || r.skip(16).is_none() {
                    return;
                }
                let Some(n) = r.array_len(14) else { return };
                for _ in 0..n.min(MAX_NODES) {
                    let Some(node) = self.node(r) else { return };
                    dec.nodes.push((node, 0));
                    if r.skip(4).is_none()
                        || r.node_id(false, None).is_none()
                        || r.skip(9).is_none()
                    {
                        return;
                    }
                }
            }
            // Call: object and method of each call.
            712 => {
                let Some(n) = r.array_len(6) else { return };
                for _ in 0..n.min(MAX_NODES) {
                    if r.node_id(false, None).is_none() {
                        return;
                    }
                    let Some(method) = self.node(r) else { return };
                    dec.nodes.push((method, 0));
                    let Some(args) = r.array_len(1) else { return };
                    for _ in 0..args {
                        if r.variant(0).is_none() {
                            return;
                        }
                    }
                }
            }
            // GetEndpoints / FindServers: the endpoint URL asked about.
            428 | 422 => {
                if let Some(u) = r.string().and_then(lossy) {
                    dec.attrs.push(("endpoint_url", Attr::Text(u)));
                }
            }
            // CreateSession: the client describes itself.
            461 => {
                if let Some(app) = r.application_description() {
                    app_identity(&app, dec);
                }
                let _ = r.string();
                if let Some(u) = r.string().and_then(lossy) {
                    dec.attrs.push(("endpoint_url", Attr::Text(u)));
                }
                if let Some(s) = r.string().and_then(lossy) {
                    dec.attrs.push(("session_name", Attr::Text(s)));
                }
            }
            _ => {}
        }
    }

    fn decode_response(&mut self, req: u32, r: &mut Reader<'_>, dec: &mut Decoded) {
        match req {
            // Read: one data value per node read.
            631 => {
                let Some(n) = r.array_len(1) else { return };
                for i in 0..n.min(MAX_NODES) {
                    let Some((value, _)) = r.data_value(0) else {
                        return;
                    };
                    if let Some(v) = value {
                        dec.values.push((i, v));
                    }
                }
            }
            // GetEndpoints: endpoint descriptions; FindServers: application descriptions.
            428 if r.array_len(1).unwrap_or(0) > 0 && r.string().is_some() => {
                if let Some(app) = r.application_description() {
                    app_identity(&app, dec);
                }
            }
            422 if r.array_len(1).unwrap_or(0) > 0 => {
                if let Some(app) = r.application_description() {
                    app_identity(&app, dec);
                }
            }
            // CreateSession: the server's endpoints follow ids, timeout, nonce, certificate.
            461 => {
                let ok = r.node_id(false, None).is_some()
                    && r.node_id(false, None).is_some()
                    && r.skip(8).is_some()
                    && r.string().is_some()
                    && r.string().is_some()
                    && r.array_len(1).unwrap_or(0) > 0
                    && r.string().is_some();
                if ok {
                    if let Some(app) = r.application_description() {
                        app_identity(&app, dec);
                    }
                }
            }
            // OpenSecureChannel: channel id and token.
            446 => {
                let (Some(_), Some(channel), Some(token)) = (r.u32(), r.u32(), r.u32()) else {
                    return;
                };
                dec.attrs
                    .push(("channel_id", Attr::UInt(u64::from(channel))));
                dec.attrs.push(("token_id", Attr::UInt(u64::from(token))));
            }
            _ => {}
        }
    }
}

fn security_mode(m: u32) -> String {
    match m {
        1 => "none".into(),
        2 => "sign".into(),
        3 => "sign_and_encrypt".into(),
        n => format!("unknown-{n}"),
    }
}

fn app_identity(app: &parser::AppDescription<'_>, dec: &mut Decoded) {
    if let Some(name) = lossy(app.application_name) {
        dec.identity.push((IdentityField::Product, name.clone()));
        dec.attrs.push(("application_name", Attr::Text(name)));
    }
    if let Some(u) = lossy(app.product_uri) {
        dec.attrs.push(("product_uri", Attr::Text(u)));
    }
    if let Some(u) = lossy(app.application_uri) {
        dec.attrs.push(("application_uri", Attr::Text(u)));
    }
}

/// True when `b` starts like a readable service message: a four-byte or numeric node id
/// in namespace 0 naming a known service or ServiceFault.
fn plausible_body(b: &[u8]) -> bool {
    let mut r = Reader::new(b);
    match b.first() {
        Some(0x01 | 0x02) => {}
        _ => return false,
    }
    match r.node_id(false, None) {
        Some((0, Some(id))) => id == SERVICE_FAULT || classify(id).is_some(),
        _ => false,
    }
}

impl Dissector for OpcuaDissector {
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
        let d = dir_index(dir);
        let mut off = 0;
        loop {
            if self.resync[d] {
                match find_sync(&data[off..]) {
                    Some(o) => {
                        off += o;
                        self.resync[d] = false;
                    }
                    None => return data.len().saturating_sub(HEADER_LEN - 1).max(off),
                }
            }
            let rest = &data[off..];
            let h = match parser::parse_header(rest) {
                Ok(h) => h,
                Err(parser::OpcuaError::Truncated) => return off,
                Err(e) => {
                    out.anomaly(PROTO, format!("message header: {e}"));
                    self.resync[d] = true;
                    self.assembly[d] = None;
                    off += 1;
                    continue;
                }
            };
            let Some(msg) = rest.get(..h.size) else {
                return off;
            };
            let body = &msg[HEADER_LEN..];
            match h.message_type {
                MessageType::Open | MessageType::Message | MessageType::Close => {
                    self.secure(ctx, dir, h.message_type, h.chunk, body, out)
                }
                t => self.transport_event(ctx, dir, t, body, out),
            }
            off += h.size;
        }
    }

    fn on_datagram(
        &mut self,
        _ctx: &FlowContext,
        _dir: Direction,
        _data: &[u8],
        _out: &mut Emitter,
    ) {
        // OPC UA binary runs over TCP only.
    }

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, _len: u64, _out: &mut Emitter) {
        let d = dir_index(dir);
        self.resync[d] = true;
        self.assembly[d] = None;
    }
}

/// Recognises OPC UA binary flows: TCP 4840, or a whole consistent UA TCP message at the
/// start of the stream on any port.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpcuaFactory;

impl DissectorFactory for OpcuaFactory {
    fn name(&self) -> &'static str {
        PROTO
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != Transport::Tcp {
            return 0;
        }
        let on_port = ctx.client_port == PORT || ctx.server_port == PORT;
        match (on_port, parser::looks_like_opcua(first_payload)) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(OpcuaDissector::default())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(OpcuaFactory)]
}
