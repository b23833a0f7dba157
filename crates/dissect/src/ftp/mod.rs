//! FTP control-channel dissector (port 21, and by content: a `220` greeting or a
//! `USER` command).
//!
//! Requests: one event per command, function from the table below. Responses: one
//! event per (possibly multi-line) reply whose function is the reply code, named after
//! the command it answers (`greeting` for the server's first reply); 4xx/5xx replies
//! are exceptions. Preliminary 1xx replies do not close the command.
//!
//! | code | command | op | attribute |
//! |------|---------|----|-----------|
//! | 1 | USER | session | `user` |
//! | 2 | PASS | session | `password_present` (the value is never read out) |
//! | 3 | ACCT | session | (value never read out) |
//! | 4 | CWD | other | `path` |
//! | 5 | CDUP | other | |
//! | 6 | QUIT | session | |
//! | 7 | PORT | other | `data_channel` (`ip:port`) |
//! | 8 | PASV | other | reply: `data_channel` |
//! | 9 | EPRT | other | `data_channel` |
//! | 10 | EPSV | other | reply: `data_channel` (`:port`) |
//! | 11 | TYPE | other | |
//! | 12 | RETR | read | `file_name` |
//! | 13 | STOR | write | `file_name` |
//! | 14 | APPE | write | `file_name` |
//! | 15 | DELE | write | `file_name` |
//! | 16 | RNFR | write | `file_name` |
//! | 17 | RNTO | write | `file_name` |
//! | 18 | RMD | write | `path` |
//! | 19 | MKD | write | `path` |
//! | 20 | PWD | other | |
//! | 21 | LIST | read | `path` |
//! | 22 | NLST | read | `path` |
//! | 23 | SYST | identify | |
//! | 24 | STAT | other | |
//! | 25 | SITE | other | `argument` |
//! | 26 | FEAT | other | |
//! | 27 | AUTH | session | `mechanism` (a 234 reply to `AUTH TLS` ends clear text) |
//! | 28 | STOU | write | |
//! | 29 | MLSD | read | `path` |
//! | 30 | SIZE | other | `file_name` |
//! | 31 | NOOP | other | |
//! | 0 | any other | other | `command` |

pub mod lines;

use crate::event::{Attr, OpClass, Status};
use crate::{Direction, Dissector, DissectorFactory, Emitter, FlowContext};
use lines::{Framed, LineFramer};
use std::borrow::Cow;
use std::collections::VecDeque;

/// Protocol name in records.
pub const PROTOCOL: &str = "ftp";
/// Longest control line accepted.
pub const MAX_LINE: usize = 4096;
/// Commands awaiting a reply per flow.
pub const MAX_PENDING: usize = 32;
/// Lines of one multi-line reply read at most (the rest are skipped).
pub const MAX_REPLY_LINES: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    None,
    File,
    Path,
    User,
    Secret,
    DataPort,
    Other,
}

/// Command table entry: function code, name, op.
fn command(verb: &[u8]) -> (u32, &'static str, OpClass, Arg) {
    use OpClass::*;
    match verb {
        b"USER" => (1, "user", Session, Arg::User),
        b"PASS" => (2, "pass", Session, Arg::Secret),
        b"ACCT" => (3, "acct", Session, Arg::Secret),
        b"CWD" | b"XCWD" => (4, "cwd", Other, Arg::Path),
        b"CDUP" | b"XCUP" => (5, "cdup", Other, Arg::None),
        b"QUIT" => (6, "quit", Session, Arg::None),
        b"PORT" => (7, "port", Other, Arg::DataPort),
        b"PASV" => (8, "pasv", Other, Arg::None),
        b"EPRT" => (9, "eprt", Other, Arg::DataPort),
        b"EPSV" => (10, "epsv", Other, Arg::None),
        b"TYPE" => (11, "type", Other, Arg::Other),
        b"RETR" => (12, "retr", Read, Arg::File),
        b"STOR" => (13, "stor", Write, Arg::File),
        b"APPE" => (14, "appe", Write, Arg::File),
        b"DELE" => (15, "dele", Write, Arg::File),
        b"RNFR" => (16, "rnfr", Write, Arg::File),
        b"RNTO" => (17, "rnto", Write, Arg::File),
        b"RMD" | b"XRMD" => (18, "rmd", Write, Arg::Path),
        b"MKD" | b"XMKD" => (19, "mkd", Write, Arg::Path),
        b"PWD" | b"XPWD" => (20, "pwd", Other, Arg::None),
        b"LIST" => (21, "list", Read, Arg::Path),
        b"NLST" => (22, "nlst", Read, Arg::Path),
        b"SYST" => (23, "syst", Identify, Arg::None),
        b"STAT" => (24, "stat", Other, Arg::Path),
        b"SITE" => (25, "site", Other, Arg::Other),
        b"FEAT" => (26, "feat", Other, Arg::None),
        b"AUTH" => (27, "auth", Session, Arg::Other),
        b"STOU" => (28, "stou", Write, Arg::None),
        b"MLSD" => (29, "mlsd", Read, Arg::Path),
        b"SIZE" => (30, "size", Other, Arg::File),
        b"NOOP" => (31, "noop", Other, Arg::None),
        _ => (0, "unknown-0", Other, Arg::Other),
    }
}

/// Name of a negative reply code.
pub fn reply_name(code: u16) -> Cow<'static, str> {
    let n = match code {
        421 => "service_not_available",
        425 => "cannot_open_data_connection",
        426 => "connection_closed",
        430 => "invalid_user_or_password",
        450 => "file_unavailable",
        451 => "local_error",
        452 => "insufficient_storage",
        500 => "syntax_error",
        501 => "syntax_error_in_arguments",
        502 => "not_implemented",
        503 => "bad_sequence",
        504 => "not_implemented_for_argument",
        530 => "not_logged_in",
        532 => "need_account",
        550 => "file_unavailable",
        551 => "page_type_unknown",
        552 => "exceeded_storage",
        553 => "file_name_not_allowed",
        n => return format!("unknown-{n}").into(),
    };
    n.into()
}

/// `h1,h2,h3,h4,p1,p2` (PORT argument, or inside a 227 reply) as `ip:port`.
pub fn host_port(text: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(text).ok()?;
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let digits: &str = s[start..]
        .split(|c: char| !(c.is_ascii_digit() || c == ','))
        .next()?;
    let n: Vec<u8> = digits
        .split(',')
        .map(|p| p.parse::<u8>())
        .collect::<Result<_, _>>()
        .ok()?;
    let [a, b, c, d, p1, p2] = n[..] else {
        return None;
    };
    Some(format!(
        "{a}.{b}.{c}.{d}:{}",
        u16::from(p1) << 8 | u16::from(p2)
    ))
}

/// `|1|ip|port|` (EPRT argument) or `(|||port|)` (229 reply) as `ip:port` / `:port`.
pub fn extended_port(text: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(text).ok()?;
    let start = s.find('|')?;
    let delim = '|';
    let parts: Vec<&str> = s[start + 1..].splitn(4, delim).collect();
    let [_, addr, port, _] = parts[..] else {
        return None;
    };
    let port: u16 = port.parse().ok()?;
    if addr.contains(':') {
        Some(format!("[{addr}]:{port}"))
    } else {
        Some(format!("{addr}:{port}"))
    }
}

#[derive(Clone, Copy, Debug)]
struct PendingCmd {
    function: u32,
    name: &'static str,
    op: OpClass,
}

#[derive(Debug, Default)]
struct ReplyState {
    /// Code and first-line text of a multi-line reply in progress.
    multi: Option<u16>,
    lines: usize,
}

/// Per-flow FTP state.
#[derive(Debug, Default)]
pub struct FtpDissector {
    pending: VecDeque<PendingCmd>,
    reply: ReplyState,
    greeted: bool,
    /// AUTH TLS was accepted: the rest of the control channel is encrypted.
    opaque: bool,
    /// Line framing of both directions.
    lines: LineFramer,
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl FtpDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    fn on_command(&mut self, ctx: &FlowContext, line: &[u8], out: &mut Emitter) {
        let Some((verb, vlen, arg)) = lines::command_line(line) else {
            out.anomaly(PROTOCOL, "control line is not a command");
            return;
        };
        let (function, name, op, kind) = command(&verb[..vlen]);
        let ev = out.begin(
            ctx,
            Direction::ToServer,
            PROTOCOL,
            op,
            function,
            name,
            false,
        );
        let arg_text = lines::text(arg, 1024);
        match kind {
            Arg::User => {
                ev.attr("user", Attr::Text(arg_text));
            }
            Arg::Secret => {
                ev.attr("password_present", Attr::Bool(!arg.is_empty()));
            }
            Arg::File if !arg_text.is_empty() => {
                ev.attr("file_name", Attr::Text(arg_text));
            }
            Arg::Path if !arg_text.is_empty() => {
                ev.attr("path", Attr::Text(arg_text));
            }
            Arg::DataPort => {
                let dc = if function == 7 {
                    host_port(arg)
                } else {
                    extended_port(arg)
                };
                if let Some(dc) = dc {
                    ev.attr("data_channel", Attr::Text(dc));
                }
            }
            Arg::Other if function == 0 => {
                ev.attr("command", Attr::Text(lines::text(&verb[..vlen], 8)));
            }
            Arg::Other if function == 27 => {
                ev.attr("mechanism", Attr::Text(arg_text));
            }
            Arg::Other if !arg_text.is_empty() => {
                ev.attr("argument", Attr::Text(arg_text));
            }
            _ => {}
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            out.anomaly(PROTOCOL, "more unanswered commands than the cap");
        }
        self.pending.push_back(PendingCmd { function, name, op });
    }

    fn on_reply(&mut self, ctx: &FlowContext, code: u16, text: &[u8], out: &mut Emitter) {
        let preliminary = code < 200;
        let (name, op, function) = if !self.greeted && self.pending.is_empty() {
            ("greeting", OpClass::Session, 0)
        } else if preliminary {
            self.pending
                .front()
                .map_or(("reply", OpClass::Other, 0), |p| (p.name, p.op, p.function))
        } else {
            self.pending
                .pop_front()
                .map_or(("reply", OpClass::Other, 0), |p| (p.name, p.op, p.function))
        };
        if !preliminary {
            self.greeted = true;
        }
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
                name: reply_name(code),
            }
        } else {
            Status::Ok
        };
        if name == "greeting" {
            ev.attr("banner", Attr::Text(lines::text(text, 256)));
        }
        match (code, function) {
            (227, _) => {
                if let Some(dc) = host_port(text) {
                    ev.attr("data_channel", Attr::Text(dc));
                }
            }
            (229, _) => {
                if let Some(dc) = extended_port(text) {
                    ev.attr("data_channel", Attr::Text(dc));
                }
            }
            (234, 27) => self.opaque = true,
            (215, 23) => {
                ev.attr("system", Attr::Text(lines::text(text, 128)));
            }
            _ => {}
        }
    }
}

impl Dissector for FtpDissector {
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
                        out.anomaly(PROTOCOL, "control line longer than the cap");
                    }
                    return data.len();
                }
            };
            pos += n;
            match dir {
                Direction::ToServer => {
                    if !line.is_empty() {
                        self.on_command(ctx, line, out);
                    }
                }
                Direction::ToClient => {
                    if let Some(code) = self.reply.multi {
                        self.reply.lines += 1;
                        match lines::reply_line(line) {
                            Some((c, true, text)) if c == code => {
                                self.reply.multi = None;
                                self.on_reply(ctx, code, text, out);
                            }
                            _ if self.reply.lines > MAX_REPLY_LINES => {
                                out.anomaly(PROTOCOL, "multi-line reply longer than the cap");
                                self.reply.multi = None;
                            }
                            _ => {}
                        }
                        continue;
                    }
                    match lines::reply_line(line) {
                        Some((code, true, text)) => self.on_reply(ctx, code, text, out),
                        Some((code, false, _)) => {
                            self.reply.multi = Some(code);
                            self.reply.lines = 0;
                        }
                        None if line.is_empty() => {}
                        None => out.anomaly(PROTOCOL, "reply line without a reply code"),
                    }
                }
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
            self.reply.multi = None;
        }
    }
}

/// Content check: a `220` greeting from the server, or `USER name` from the client.
pub fn looks_like_ftp(dir: Direction, b: &[u8]) -> bool {
    match dir {
        Direction::ToClient => {
            b.starts_with(b"220")
                && matches!(b.get(3), Some(b' ' | b'-'))
                && b.iter().take(MAX_LINE).any(|&c| c == b'\n')
                && !b
                    .windows(4)
                    .take(64)
                    .any(|w| w.eq_ignore_ascii_case(b"SMTP"))
        }
        Direction::ToServer => {
            b.len() > 6
                && b[..5].eq_ignore_ascii_case(b"USER ")
                && b.iter().take(256).any(|&c| c == b'\n')
        }
    }
}

/// Recognises FTP control channels.
#[derive(Clone, Copy, Debug, Default)]
pub struct FtpFactory;

impl DissectorFactory for FtpFactory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Tcp {
            return 0;
        }
        let on_port = ctx.server_port == 21;
        // SMTP greetings look the same ("220 host ready"): leave mail ports to SMTP.
        let content = looks_like_ftp(dir, first_payload) && ![25, 587].contains(&ctx.server_port);
        match (on_port, content) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(FtpDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(FtpFactory)]
}
