//! SMTP dissector (ports 25 and 587, and by content: a `220 ... SMTP` greeting or an
//! `EHLO`/`HELO` command).
//!
//! Requests: one event per command. Responses: one event per (multi-line) reply, with
//! the reply code as function, named after the command it answers (`greeting` for the
//! first). Message bodies (after `DATA` and its 354 reply, or `BDAT n`) are skipped as
//! they stream past. Only the domain part of mail addresses is reported. After
//! `STARTTLS` and its 220 reply the rest of the connection is encrypted and skipped;
//! `AUTH` exchanges are skipped without reading credentials.
//!
//! | code | command | op | attributes |
//! |------|---------|----|------------|
//! | 1 | HELO | session | `helo` |
//! | 2 | EHLO | session | `helo` |
//! | 3 | MAIL | write | `from_domain` |
//! | 4 | RCPT | write | `to_domain` |
//! | 5 | DATA | write | |
//! | 6 | RSET | other | |
//! | 7 | VRFY | identify | |
//! | 8 | EXPN | identify | |
//! | 9 | HELP | other | |
//! | 10 | NOOP | other | |
//! | 11 | QUIT | session | |
//! | 12 | STARTTLS | session | (reply: `starttls = true` when accepted) |
//! | 13 | AUTH | session | `mechanism` |
//! | 14 | BDAT | write | `size` |
//! | 0 | other | other | `command` |

use crate::event::{Attr, OpClass, Status};
use crate::ftp::lines::{self, Framed, Line, LineFramer};
use crate::{Direction, Dissector, DissectorFactory, Emitter, FlowContext};
use std::collections::VecDeque;

/// Protocol name in records.
pub const PROTOCOL: &str = "smtp";
/// Longest command or reply line accepted (RFC 5321 asks for 512; extensions grow it).
pub const MAX_LINE: usize = 4096;
/// Commands awaiting a reply (pipelining).
pub const MAX_PENDING: usize = 64;

fn command(verb: &[u8]) -> (u32, &'static str, OpClass) {
    use OpClass::*;
    match verb {
        b"HELO" => (1, "helo", Session),
        b"EHLO" => (2, "ehlo", Session),
        b"MAIL" => (3, "mail", Write),
        b"RCPT" => (4, "rcpt", Write),
        b"DATA" => (5, "data", Write),
        b"RSET" => (6, "rset", Other),
        b"VRFY" => (7, "vrfy", Identify),
        b"EXPN" => (8, "expn", Identify),
        b"HELP" => (9, "help", Other),
        b"NOOP" => (10, "noop", Other),
        b"QUIT" => (11, "quit", Session),
        b"STARTTLS" => (12, "starttls", Session),
        b"AUTH" => (13, "auth", Session),
        b"BDAT" => (14, "bdat", Write),
        _ => (0, "unknown-0", Other),
    }
}

/// The domain of the first `<local@domain>` (or bare `local@domain`) in a MAIL/RCPT
/// argument; `""` for the null reverse path.
pub fn address_domain(arg: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(arg);
    let after_colon = s.split_once(':').map_or(&*s, |(_, r)| r).trim();
    let addr = match after_colon.strip_prefix('<') {
        Some(r) => r.split('>').next().unwrap_or(""),
        None => after_colon.split(' ').next().unwrap_or(""),
    };
    if addr.is_empty() {
        return Some(String::new());
    }
    let domain = addr.rsplit_once('@')?.1;
    Some(
        domain
            .chars()
            .take(255)
            .collect::<String>()
            .to_ascii_lowercase(),
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Client {
    Commands,
    /// DATA sent: waiting for the 354 before body bytes arrive (pipelining aside, the
    /// client waits too); body lines are skipped until `.`.
    Body,
    /// BDAT: this many body bytes remain.
    Chunk(u64),
    /// AUTH in progress: client lines are credentials, skipped.
    Auth,
}

/// Per-flow SMTP state.
#[derive(Debug)]
pub struct SmtpDissector {
    pending: VecDeque<(u32, &'static str, OpClass)>,
    client: Client,
    /// Last bytes of the body seen, to find `CRLF . CRLF` across segments.
    body_tail: [u8; 4],
    multi: Option<u16>,
    greeted: bool,
    opaque: bool,
    /// Line framing of both directions.
    lines: LineFramer,
}

impl Default for SmtpDissector {
    fn default() -> Self {
        Self {
            pending: VecDeque::new(),
            client: Client::Commands,
            body_tail: *b"\r\n\r\n",
            multi: None,
            greeted: false,
            opaque: false,
            lines: LineFramer::default(),
        }
    }
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl SmtpDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// Skips body bytes until the end-of-data line; returns bytes consumed.
    fn skip_body(&mut self, data: &[u8]) -> usize {
        for (i, &c) in data.iter().enumerate() {
            self.body_tail = [self.body_tail[1], self.body_tail[2], self.body_tail[3], c];
            // `\n.\r\n` or `\n.\n`: a line holding only a dot.
            if self.body_tail == *b"\n.\r\n" || self.body_tail[1..] == *b"\n.\n" {
                self.client = Client::Commands;
                return i + 1;
            }
        }
        data.len()
    }

    fn on_command(&mut self, ctx: &FlowContext, line: &[u8], out: &mut Emitter) {
        let Some((verb, vlen, arg)) = lines::command_line(line) else {
            out.anomaly(PROTOCOL, "line is not a command");
            return;
        };
        let (function, name, op) = command(&verb[..vlen]);
        let ev = out.begin(
            ctx,
            Direction::ToServer,
            PROTOCOL,
            op,
            function,
            name,
            false,
        );
        match function {
            1 | 2 => {
                ev.attr("helo", Attr::Text(lines::text(arg, 255)));
            }
            3 => {
                if let Some(d) = address_domain(arg) {
                    ev.attr("from_domain", Attr::Text(d));
                }
            }
            4 => {
                if let Some(d) = address_domain(arg) {
                    ev.attr("to_domain", Attr::Text(d));
                }
            }
            13 => {
                // Only the mechanism: an initial response after it is a credential.
                let mech = arg.split(|&c| c == b' ').next().unwrap_or(&[]);
                ev.attr("mechanism", Attr::Text(lines::text(mech, 32)));
                self.client = Client::Auth;
            }
            14 => {
                let size = std::str::from_utf8(arg)
                    .ok()
                    .and_then(|s| s.split(' ').next())
                    .and_then(|s| s.parse::<u64>().ok());
                if let Some(n) = size {
                    ev.attr("size", Attr::UInt(n));
                    self.client = Client::Chunk(n);
                }
            }
            0 => {
                ev.attr("command", Attr::Text(lines::text(&verb[..vlen], 8)));
            }
            _ => {}
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            out.anomaly(PROTOCOL, "more unanswered commands than the cap");
        }
        self.pending.push_back((function, name, op));
    }

    fn on_reply(&mut self, ctx: &FlowContext, code: u16, out: &mut Emitter) {
        let (function, name, op) = if !self.greeted {
            self.greeted = true;
            (0, "greeting", OpClass::Session)
        } else {
            self.pending
                .pop_front()
                .unwrap_or((0, "reply", OpClass::Other))
        };
        let ev = out.begin(
            ctx,
            Direction::ToClient,
            PROTOCOL,
            op,
            u32::from(code),
            name,
            true,
        );
        ev.status = if code >= 400 {
            Status::Exception {
                code: u32::from(code),
                name: format!("reply-{code}").into(),
            }
        } else {
            Status::Ok
        };
        match (function, code) {
            (5, 354) => {
                self.client = Client::Body;
                self.body_tail = *b"\r\n\r\n";
            }
            (12, 220) => {
                ev.attr("starttls", Attr::Bool(true));
                self.opaque = true;
            }
            (13, 334) => {
                // A challenge: the AUTH stays open, the client's answer is skipped.
                self.pending.push_front((function, name, op));
            }
            (13, _) => self.client = Client::Commands,
            _ => {}
        }
    }
}

impl Dissector for SmtpDissector {
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
            if self.opaque {
                return data.len();
            }
            let rest = &data[pos..];
            if dir == Direction::ToServer {
                match self.client {
                    Client::Body => {
                        pos += self.skip_body(rest);
                        continue;
                    }
                    Client::Chunk(n) => {
                        let take = n.min(rest.len() as u64);
                        pos += take as usize;
                        self.client = if take == n {
                            Client::Commands
                        } else {
                            Client::Chunk(n - take)
                        };
                        continue;
                    }
                    _ => {}
                }
            }
            let (line, n) = match self
                .lines
                .next(i, dir == Direction::ToClient, rest, MAX_LINE)
            {
                Framed::Line(line, n) => (line, n),
                Framed::Skipped(n) => {
                    pos += n;
                    continue;
                }
                Framed::NeedMore => return pos,
                Framed::TooLong { first } => {
                    if first {
                        out.anomaly(PROTOCOL, "line longer than the cap");
                    }
                    return data.len();
                }
            };
            pos += n;
            match dir {
                Direction::ToServer => match self.client {
                    Client::Auth => {}
                    _ if line.is_empty() => {}
                    _ => self.on_command(ctx, line, out),
                },
                Direction::ToClient => match lines::reply_line(line) {
                    Some((code, true, _)) => {
                        if self.multi.is_some_and(|m| m != code) {
                            out.anomaly(PROTOCOL, "multi-line reply changed its code");
                        }
                        self.multi = None;
                        self.on_reply(ctx, code, out);
                    }
                    Some((code, false, _)) => self.multi = Some(code),
                    None => out.anomaly(PROTOCOL, "reply line without a reply code"),
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

    fn on_gap(&mut self, _ctx: &FlowContext, dir: Direction, _len: u64, _out: &mut Emitter) {
        self.lines.gap(idx(dir));
        if dir == Direction::ToClient {
            self.multi = None;
        } else if let Client::Chunk(_) = self.client {
            // The chunk's remaining length is unknown now: look for commands again.
            self.client = Client::Commands;
        }
    }
}

/// Content check: a `220` greeting naming SMTP, or `EHLO`/`HELO` from the client.
pub fn looks_like_smtp(dir: Direction, b: &[u8]) -> bool {
    let line = match lines::next_line(b, 1024) {
        Line::Complete(l, _) => l,
        _ => return false,
    };
    match dir {
        Direction::ToClient => {
            line.starts_with(b"220")
                && matches!(line.get(3), Some(b' ' | b'-'))
                && line.windows(4).any(|w| w.eq_ignore_ascii_case(b"SMTP"))
        }
        Direction::ToServer => {
            line.len() > 5
                && (line[..5].eq_ignore_ascii_case(b"EHLO ")
                    || line[..5].eq_ignore_ascii_case(b"HELO "))
        }
    }
}

/// Recognises SMTP flows.
#[derive(Clone, Copy, Debug, Default)]
pub struct SmtpFactory;

impl DissectorFactory for SmtpFactory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Tcp {
            return 0;
        }
        let on_port = [25, 587].contains(&ctx.server_port);
        match (on_port, looks_like_smtp(dir, first_payload)) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(SmtpDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(SmtpFactory)]
}
