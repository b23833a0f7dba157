//! Telnet dissector (port 23, and by content: an option negotiation first).
//!
//! Telnet carries a terminal session: gapwatch reports what the endpoints negotiated and
//! whether the server asked for a login, never what anyone typed (the client's data
//! bytes are counted past, not read).
//!
//! | code | name | sender | op | attributes |
//! |------|------|--------|----|------------|
//! | 1 | negotiation | either | session | `will`, `do` (option names offered, deduplicated), `terminal_type` |
//! | 2 | login_prompt | server | session | |
//! | 3 | password_prompt | server | session | |
//!
//! A negotiation event is emitted when a direction's first data byte follows its
//! negotiation commands, so the summary is the same however segments are cut. Each
//! prompt is reported once per flow.

use crate::event::{Attr, OpClass};
use crate::{Direction, Dissector, DissectorFactory, Emitter, FlowContext};

/// Protocol name in records.
pub const PROTOCOL: &str = "telnet";
/// Longest subnegotiation read (longer ones are skipped).
pub const MAX_SUBNEG: usize = 64;

const IAC: u8 = 255;
const SE: u8 = 240;
const SB: u8 = 250;
const WILL: u8 = 251;
const WONT: u8 = 252;
const DO: u8 = 253;
const DONT: u8 = 254;

/// Name of a telnet option (IANA registry, common ones).
pub fn option_name(o: u8) -> String {
    match o {
        0 => "binary".into(),
        1 => "echo".into(),
        3 => "suppress_go_ahead".into(),
        5 => "status".into(),
        6 => "timing_mark".into(),
        24 => "terminal_type".into(),
        31 => "naws".into(),
        32 => "terminal_speed".into(),
        33 => "remote_flow_control".into(),
        34 => "linemode".into(),
        35 => "x_display_location".into(),
        36 => "environment".into(),
        37 => "authentication".into(),
        38 => "encryption".into(),
        39 => "new_environment".into(),
        n => format!("unknown-{n}"),
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Cmd {
    #[default]
    Data,
    Iac,
    Option(u8),
    Sb,
    SbIac,
}

#[derive(Debug, Default)]
struct Side {
    cmd: Cmd,
    will: Vec<u8>,
    do_: Vec<u8>,
    negotiated: bool,
    reported: bool,
    sb: Vec<u8>,
    terminal_type: Option<String>,
    /// Last printable bytes the server sent, lower-cased, for prompt detection.
    tail: [u8; 16],
}

/// Per-flow Telnet state.
#[derive(Debug, Default)]
pub struct TelnetDissector {
    sides: [Side; 2],
    login_prompt: bool,
    password_prompt: bool,
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

fn ends_with_prompt(tail: &[u8; 16], words: &[&[u8]]) -> bool {
    let trimmed = {
        let mut end = tail.len();
        while end > 0 && tail[end - 1] == b' ' {
            end -= 1;
        }
        &tail[..end]
    };
    words.iter().any(|w| trimmed.ends_with(w))
}

impl TelnetDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    fn report(&mut self, ctx: &FlowContext, dir: Direction, out: &mut Emitter) {
        let s = &mut self.sides[idx(dir)];
        if s.reported || !s.negotiated {
            return;
        }
        s.reported = true;
        let ev = out.begin(
            ctx,
            dir,
            PROTOCOL,
            OpClass::Session,
            1,
            "negotiation",
            dir == Direction::ToClient,
        );
        ev.attr(
            "will",
            Attr::List(s.will.iter().map(|&o| option_name(o)).collect()),
        )
        .attr(
            "do",
            Attr::List(s.do_.iter().map(|&o| option_name(o)).collect()),
        );
        if let Some(t) = &s.terminal_type {
            ev.attr("terminal_type", Attr::Text(t.clone()));
        }
    }

    fn data_byte(&mut self, ctx: &FlowContext, dir: Direction, c: u8, out: &mut Emitter) {
        self.report(ctx, dir, out);
        if dir == Direction::ToServer {
            // Typed characters (passwords among them) are never looked at.
            return;
        }
        if c == b'\r' || c == b'\n' || c == 0 {
            self.sides[1].tail = [0; 16];
            return;
        }
        let t = &mut self.sides[1].tail;
        t.copy_within(1.., 0);
        t[15] = c.to_ascii_lowercase();
        if c != b':' && c != b' ' && c != b'>' {
            return;
        }
        let tail = *t;
        if !self.login_prompt && ends_with_prompt(&tail, &[b"login:", b"username:", b"user name:"])
        {
            self.login_prompt = true;
            out.begin(
                ctx,
                dir,
                PROTOCOL,
                OpClass::Session,
                2,
                "login_prompt",
                true,
            );
        }
        if !self.password_prompt && ends_with_prompt(&tail, &[b"password:"]) {
            self.password_prompt = true;
            out.begin(
                ctx,
                dir,
                PROTOCOL,
                OpClass::Session,
                3,
                "password_prompt",
                true,
            );
        }
    }

    fn subnegotiation(&mut self, dir: Direction) {
        let s = &mut self.sides[idx(dir)];
        // TERMINAL-TYPE IS <name>.
        if let [24, 0, name @ ..] = &s.sb[..] {
            s.terminal_type = Some(String::from_utf8_lossy(name).chars().take(40).collect());
        }
        s.sb.clear();
    }
}

impl Dissector for TelnetDissector {
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
        for &c in data {
            let cmd = self.sides[i].cmd;
            self.sides[i].cmd = match (cmd, c) {
                (Cmd::Data, IAC) => Cmd::Iac,
                (Cmd::Data, _) => {
                    self.data_byte(ctx, dir, c, out);
                    Cmd::Data
                }
                (Cmd::Iac, IAC) => {
                    self.data_byte(ctx, dir, c, out);
                    Cmd::Data
                }
                (Cmd::Iac, WILL..=DONT) => Cmd::Option(c),
                (Cmd::Iac, SB) => Cmd::Sb,
                (Cmd::Iac, _) => Cmd::Data,
                (Cmd::Option(verb), opt) => {
                    let s = &mut self.sides[i];
                    s.negotiated = true;
                    let list = match verb {
                        WILL => Some(&mut s.will),
                        DO => Some(&mut s.do_),
                        _ => None,
                    };
                    if let Some(list) = list {
                        if !list.contains(&opt) && list.len() < 32 {
                            list.push(opt);
                        }
                    }
                    let _ = (WONT, DONT);
                    Cmd::Data
                }
                (Cmd::Sb, IAC) => Cmd::SbIac,
                (Cmd::Sb, _) => {
                    let s = &mut self.sides[i];
                    if s.sb.len() < MAX_SUBNEG {
                        s.sb.push(c);
                    }
                    Cmd::Sb
                }
                (Cmd::SbIac, SE) => {
                    self.sides[i].negotiated = true;
                    self.subnegotiation(dir);
                    Cmd::Data
                }
                (Cmd::SbIac, _) => Cmd::Sb,
            };
        }
        data.len()
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
        let s = &mut self.sides[idx(dir)];
        s.cmd = Cmd::Data;
        s.sb.clear();
        s.tail = [0; 16];
    }
}

/// Content check: the payload opens with an option negotiation command.
pub fn looks_like_telnet(b: &[u8]) -> bool {
    // One command alone, or followed by another: a lone 0xff 0xfb.. prefix of a binary
    // protocol is not enough.
    matches!(b, [IAC, WILL..=DONT, opt] | [IAC, WILL..=DONT, opt, IAC, ..] if *opt <= 50)
}

/// Recognises Telnet flows.
#[derive(Clone, Copy, Debug, Default)]
pub struct TelnetFactory;

impl DissectorFactory for TelnetFactory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Tcp {
            return 0;
        }
        let on_port = ctx.server_port == 23;
        match (on_port, looks_like_telnet(first_payload)) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(TelnetDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(TelnetFactory)]
}
