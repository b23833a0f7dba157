//! HTTP/1.x dissector.
//!
//! One event per request head and per response head. Bodies (Content-Length, chunked,
//! or until the connection closes) are skipped as they stream past: their bytes are
//! consumed, never buffered. Pipelined requests pair with responses in order through a
//! bounded queue.
//!
//! Function codes (the method; the response carries its request's code):
//!
//! | code | method | op |
//! |------|--------|----|
//! | 1 | GET | read |
//! | 2 | HEAD | read |
//! | 3 | POST | write |
//! | 4 | PUT | write |
//! | 5 | DELETE | write |
//! | 6 | CONNECT | session |
//! | 7 | OPTIONS | other |
//! | 8 | TRACE | other |
//! | 9 | PATCH | write |
//! | 0 | any other method (name: the method in lower case) | other |
//!
//! Attributes: `method`, `uri`, `host`, `user_agent`, `server`, `status_code`,
//! `content_type`, `content_length`, `chunked`, `file_name` (request target basename on
//! requests; Content-Disposition file name on responses, else the request's basename).
//! Responses with a 4xx/5xx code have status exception (code = HTTP status).

pub mod parser;

use crate::event::{Attr, OpClass, Status};
use crate::{Direction, Dissector, DissectorFactory, Emitter, FlowContext};
use parser::{ChunkSize, Head, HeadParse, HttpError, StartLine};
use std::borrow::Cow;
use std::collections::VecDeque;

/// Protocol name in records.
pub const PROTOCOL: &str = "http";
/// Requests awaiting a response, per flow; beyond this the oldest is dropped.
pub const MAX_PENDING: usize = 32;
/// Longest URI / header value copied into an attribute (characters).
pub const MAX_TEXT: usize = 512;

/// Function code and name of a method.
pub fn method_function(method: &str) -> (u32, Cow<'static, str>, OpClass) {
    let (code, name, op) = match method {
        "GET" => (1, "get", OpClass::Read),
        "HEAD" => (2, "head", OpClass::Read),
        "POST" => (3, "post", OpClass::Write),
        "PUT" => (4, "put", OpClass::Write),
        "DELETE" => (5, "delete", OpClass::Write),
        "CONNECT" => (6, "connect", OpClass::Session),
        "OPTIONS" => (7, "options", OpClass::Other),
        "TRACE" => (8, "trace", OpClass::Other),
        "PATCH" => (9, "patch", OpClass::Write),
        other => {
            let name: String = other.chars().take(32).collect::<String>().to_lowercase();
            return (0, Cow::Owned(name), OpClass::Other);
        }
    };
    (code, Cow::Borrowed(name), op)
}

/// snake_case name of an error status code.
pub fn status_name(code: u16) -> Cow<'static, str> {
    let name = match code {
        400 => "bad_request",
        401 => "unauthorized",
        402 => "payment_required",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        407 => "proxy_authentication_required",
        408 => "request_timeout",
        409 => "conflict",
        410 => "gone",
        411 => "length_required",
        412 => "precondition_failed",
        413 => "content_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        416 => "range_not_satisfiable",
        429 => "too_many_requests",
        500 => "internal_server_error",
        501 => "not_implemented",
        502 => "bad_gateway",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        505 => "http_version_not_supported",
        _ => return Cow::Owned(format!("unknown-{code}")),
    };
    Cow::Borrowed(name)
}

fn text(s: &str) -> Attr {
    Attr::Text(s.chars().take(MAX_TEXT).collect())
}

/// How the body after a head is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Body {
    /// No body: the next bytes are a head.
    None,
    /// This many body bytes remain.
    Length(u64),
    /// Chunked: expecting a size line.
    ChunkSize,
    /// Chunked: this many data bytes remain, then CRLF.
    ChunkData(u64),
    /// Chunked: the CRLF after chunk data.
    ChunkEnd,
    /// Chunked: trailer lines until an empty one.
    Trailer,
    /// Everything until the connection closes (responses without length, tunnels,
    /// upgraded protocols).
    UntilClose,
}

#[derive(Clone, Copy, Debug)]
struct Side {
    body: Body,
    /// After a gap or a malformed head: the line in progress is dropped first.
    skip_line: bool,
    /// Then lines are skipped until one starts a message of this direction.
    resync: bool,
}

impl Default for Side {
    fn default() -> Self {
        Self {
            body: Body::None,
            skip_line: false,
            resync: false,
        }
    }
}

#[derive(Debug)]
struct Pending {
    function: u32,
    name: Cow<'static, str>,
    op: OpClass,
    head: bool,
    connect: bool,
    file_name: Option<String>,
}

/// Per-flow HTTP/1.x state.
#[derive(Debug, Default)]
pub struct HttpDissector {
    sides: [Side; 2],
    pending: VecDeque<Pending>,
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl HttpDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    fn on_request(&mut self, ctx: &FlowContext, head: &Head<'_>, out: &mut Emitter) -> Body {
        let StartLine::Request { method, uri, .. } = head.start else {
            return Body::None;
        };
        let (function, name, op) = method_function(method);
        let file_name = parser::uri_basename(uri).map(|s| s.chars().take(MAX_TEXT).collect());
        let ev = out.begin(
            ctx,
            Direction::ToServer,
            PROTOCOL,
            op,
            function,
            name.clone(),
            false,
        );
        ev.attr("method", text(method)).attr("uri", text(uri));
        if let Some(h) = head.host {
            ev.attr("host", text(h));
        }
        if let Some(ua) = head.user_agent {
            ev.attr("user_agent", text(ua));
        }
        if let Some(ct) = head.content_type {
            ev.attr("content_type", text(ct));
        }
        if let Some(n) = head.content_length {
            ev.attr("content_length", Attr::UInt(n));
        }
        if head.chunked {
            ev.attr("chunked", Attr::Bool(true));
        }
        if let Some(f) = head
            .disposition_filename
            .map(text)
            .or_else(|| file_name.as_ref().map(|f: &String| Attr::Text(f.clone())))
        {
            ev.attr("file_name", f);
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            out.anomaly(
                PROTOCOL,
                "more pipelined requests than the cap without responses",
            );
        }
        self.pending.push_back(Pending {
            function,
            name,
            op,
            head: method == "HEAD",
            connect: method == "CONNECT",
            file_name,
        });
        if head.chunked {
            Body::ChunkSize
        } else {
            match head.content_length {
                Some(0) | None => Body::None,
                Some(n) => Body::Length(n),
            }
        }
    }

    fn on_response(&mut self, ctx: &FlowContext, head: &Head<'_>, out: &mut Emitter) -> Body {
        let StartLine::Status { code, .. } = head.start else {
            return Body::None;
        };
        // Interim responses (100 Continue ...) precede the final one for the same request.
        let interim = (100..200).contains(&code) && code != 101;
        let req = if interim {
            None
        } else {
            self.pending.pop_front()
        };
        let (function, name, op) = match (&req, interim) {
            (Some(r), _) => (r.function, r.name.clone(), r.op),
            (None, true) => match self.pending.front() {
                Some(r) => (r.function, r.name.clone(), r.op),
                None => (0, Cow::Borrowed("unknown-0"), OpClass::Other),
            },
            (None, false) => (0, Cow::Borrowed("unknown-0"), OpClass::Other),
        };
        let ev = out.begin(ctx, Direction::ToClient, PROTOCOL, op, function, name, true);
        ev.status = if code >= 400 {
            Status::Exception {
                code: u32::from(code),
                name: status_name(code),
            }
        } else {
            Status::Ok
        };
        ev.attr("status_code", Attr::UInt(u64::from(code)));
        if let Some(s) = head.server {
            ev.attr("server", text(s));
        }
        if let Some(ct) = head.content_type {
            ev.attr("content_type", text(ct));
        }
        if let Some(n) = head.content_length {
            ev.attr("content_length", Attr::UInt(n));
        }
        if head.chunked {
            ev.attr("chunked", Attr::Bool(true));
        }
        if let Some(f) = head.disposition_filename {
            ev.attr("file_name", text(f));
        } else if let Some(f) = req.as_ref().and_then(|r| r.file_name.clone()) {
            if (200..300).contains(&code) {
                ev.attr("file_name", Attr::Text(f));
            }
        }
        if interim || code == 204 || code == 304 || req.as_ref().is_some_and(|r| r.head) {
            return Body::None;
        }
        // A tunnel or an upgraded protocol: nothing after this is HTTP in either direction.
        if code == 101 || (req.as_ref().is_some_and(|r| r.connect) && (200..300).contains(&code)) {
            self.sides[0].body = Body::UntilClose;
            return Body::UntilClose;
        }
        if head.chunked {
            Body::ChunkSize
        } else {
            match head.content_length {
                Some(0) => Body::None,
                Some(n) => Body::Length(n),
                None => Body::UntilClose,
            }
        }
    }

    fn fail(&mut self, dir: Direction, e: HttpError, out: &mut Emitter) {
        out.anomaly(PROTOCOL, e.reason());
        let s = &mut self.sides[idx(dir)];
        s.skip_line = true;
        s.resync = true;
        s.body = Body::None;
    }
}

impl Dissector for HttpDissector {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn on_stream(
        &mut self,
        ctx: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter,
    ) -> usize {
        let i = idx(dir);
        let mut pos = 0;
        while pos < data.len() {
            let rest = &data[pos..];
            if self.sides[i].skip_line {
                match rest.iter().position(|&c| c == b'\n') {
                    Some(nl) => {
                        pos += nl + 1;
                        self.sides[i].skip_line = false;
                        continue;
                    }
                    None => return data.len(),
                }
            }
            if self.sides[i].resync {
                let is_start = match dir {
                    Direction::ToServer => parser::starts_with_method(rest),
                    Direction::ToClient => rest.starts_with(b"HTTP/1."),
                };
                if is_start {
                    self.sides[i].resync = false;
                } else if rest.len() < 9 {
                    // Too short to tell: wait for more.
                    return pos;
                } else {
                    match rest.iter().position(|&c| c == b'\n') {
                        Some(nl) => pos += nl + 1,
                        None => return data.len(),
                    }
                    continue;
                }
            }
            match self.sides[i].body {
                Body::UntilClose => return data.len(),
                Body::Length(n) => {
                    let take = n.min(rest.len() as u64);
                    pos += take as usize;
                    self.sides[i].body = if take == n {
                        Body::None
                    } else {
                        Body::Length(n - take)
                    };
                }
                Body::ChunkData(n) => {
                    let take = n.min(rest.len() as u64);
                    pos += take as usize;
                    self.sides[i].body = if take == n {
                        Body::ChunkEnd
                    } else {
                        Body::ChunkData(n - take)
                    };
                }
                Body::ChunkEnd => match parser::line_length(rest, 2) {
                    Some((0, n)) => {
                        pos += n;
                        self.sides[i].body = Body::ChunkSize;
                    }
                    Some(_) => {
                        self.fail(dir, HttpError::BadChunkSize, out);
                    }
                    None if rest.len() >= 2 => self.fail(dir, HttpError::BadChunkSize, out),
                    None => return pos,
                },
                Body::ChunkSize => match parser::parse_chunk_size(rest) {
                    Ok(ChunkSize::Complete { size, consumed }) => {
                        pos += consumed;
                        self.sides[i].body = if size == 0 {
                            Body::Trailer
                        } else {
                            Body::ChunkData(size)
                        };
                    }
                    Ok(ChunkSize::Incomplete) => return pos,
                    Err(e) => self.fail(dir, e, out),
                },
                Body::Trailer => match parser::line_length(rest, parser::MAX_HEAD) {
                    Some((len, n)) => {
                        pos += n;
                        if len == 0 {
                            self.sides[i].body = Body::None;
                        }
                    }
                    None if rest.len() >= parser::MAX_HEAD => {
                        self.fail(dir, HttpError::HeadTooLong, out)
                    }
                    None => return pos,
                },
                Body::None => match parser::parse_head(rest) {
                    Ok(HeadParse::Complete { head, consumed }) => {
                        pos += consumed;
                        let body = match (dir, head.start) {
                            (Direction::ToServer, StartLine::Request { .. }) => {
                                self.on_request(ctx, &head, out)
                            }
                            (Direction::ToClient, StartLine::Status { .. }) => {
                                self.on_response(ctx, &head, out)
                            }
                            _ => {
                                out.anomaly(
                                    PROTOCOL,
                                    "message of the wrong kind for its direction",
                                );
                                Body::None
                            }
                        };
                        if self.sides[i].body == Body::None {
                            self.sides[i].body = body;
                        }
                    }
                    Ok(HeadParse::Incomplete) => return pos,
                    Err(e) => self.fail(dir, e, out),
                },
            }
        }
        pos
    }

    fn on_datagram(
        &mut self,
        _ctx: &FlowContext,
        _dir: Direction,
        _data: &[u8],
        _out: &mut Emitter,
    ) {
    }

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, len: u64, _out: &mut Emitter) {
        let s = &mut self.sides[idx(dir)];
        match s.body {
            // A hole inside a body of known length leaves the framing intact.
            Body::Length(n) if len < n => s.body = Body::Length(n - len),
            Body::Length(n) if len == n => s.body = Body::None,
            Body::UntilClose => {}
            // The bytes after the hole may start a message right away: look there first.
            _ => {
                s.body = Body::None;
                s.skip_line = false;
                s.resync = true;
            }
        }
    }
}

/// Recognises HTTP/1.x flows: ports 80 and 8080, and request or status lines anywhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct HttpFactory;

impl DissectorFactory for HttpFactory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Tcp {
            return 0;
        }
        let on_port = [80, 8080].contains(&ctx.server_port);
        match (on_port, parser::looks_like_http(first_payload)) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(HttpDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(HttpFactory)]
}
