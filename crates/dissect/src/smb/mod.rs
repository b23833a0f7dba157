//! SMB2/3 dissector over direct TCP (445) and NetBIOS sessions (139), with SMB1
//! negotiation and session setup recognised.
//!
//! Function = the SMB2 command code (names below), 114 `smb1_negotiate`, 115
//! `smb1_session_setup`, 129 `netbios_session_request`. Every SMB2 request and final
//! response is one event (interim STATUS_PENDING responses are not: the final one
//! follows); compounded messages are each an event. Responses pair with requests by
//! message id and carry the request's details.
//!
//! | code | command | op | attributes |
//! |------|---------|----|------------|
//! | 0 | negotiate | session | `dialects` / `dialect` |
//! | 1 | session_setup | session | `ntlm` (message kind), `user`, `domain`, `workstation`; response: `server_name`, `domain` |
//! | 2 | logoff | session | |
//! | 3 | tree_connect | session | `share` |
//! | 4 | tree_disconnect | session | `share` |
//! | 5 | create | read or write (write access or a creating/truncating disposition) | `file_name`, `share`, `desired_access`, `disposition` |
//! | 6 | close | other | `file_name` |
//! | 7 | flush | other | |
//! | 8 | read | read | `file_name`, `share`, `length`, `offset`; response `bytes` |
//! | 9 | write | write | `file_name`, `share`, `length`, `offset`; response `bytes` |
//! | 10 | lock | other | |
//! | 11 | ioctl | other | |
//! | 12 | cancel | other | |
//! | 13 | echo | session | |
//! | 14 | query_directory | read | |
//! | 15 | change_notify | other | |
//! | 16 | query_info | read | |
//! | 17 | set_info | write | |
//! | 18 | oplock_break | other | |
//!
//! Host names: the NTLMSSP AUTHENTICATE workstation names the client, the CHALLENGE
//! NetBIOS computer name the server, the NetBIOS session request's calling name the
//! client (source `netbios`). Passwords and NTLM responses are never read out.
//! Encrypted (transform header) messages are skipped.

pub mod parser;

use crate::event::{Attr, OpClass, Status};
use crate::{Direction, Dissector, DissectorFactory, Emitter, FlowContext, NameSource};
use parser::{nb, Smb2Header, SmbError, SMB2_HEADER};
use std::borrow::Cow;
use std::collections::HashMap;

/// Protocol name in records.
pub const PROTOCOL: &str = "smb";
/// Bytes of a NetBIOS message read (headers and names live at the front; write data
/// and read data beyond this are skipped as they stream past).
pub const WINDOW: usize = 32 * 1024;
/// Open requests tracked per flow.
pub const MAX_PENDING: usize = 512;
/// Open files tracked per flow.
pub const MAX_FILES: usize = 1024;
/// Connected trees tracked per flow.
pub const MAX_TREES: usize = 64;
/// Compounded messages read from one NetBIOS message.
pub const MAX_CHAIN: usize = 32;

const STATUS_PENDING: u32 = 0x0000_0103;
const STATUS_MORE_PROCESSING_REQUIRED: u32 = 0xc000_0016;
const STATUS_BUFFER_OVERFLOW: u32 = 0x8000_0005;

/// Name and default op of an SMB2 command.
pub fn command(c: u16) -> (Cow<'static, str>, OpClass) {
    use OpClass::*;
    let (n, op) = match c {
        0 => ("negotiate", Session),
        1 => ("session_setup", Session),
        2 => ("logoff", Session),
        3 => ("tree_connect", Session),
        4 => ("tree_disconnect", Session),
        5 => ("create", Read),
        6 => ("close", Other),
        7 => ("flush", Other),
        8 => ("read", Read),
        9 => ("write", Write),
        10 => ("lock", Other),
        11 => ("ioctl", Other),
        12 => ("cancel", Other),
        13 => ("echo", Session),
        14 => ("query_directory", Read),
        15 => ("change_notify", Other),
        16 => ("query_info", Read),
        17 => ("set_info", Write),
        18 => ("oplock_break", Other),
        n => return (format!("unknown-{n}").into(), Other),
    };
    (n.into(), op)
}

/// Name of an NTSTATUS value.
pub fn status_name(s: u32) -> Cow<'static, str> {
    let n = match s {
        0xc000_000d => "invalid_parameter",
        0xc000_000f => "no_such_file",
        0xc000_0022 => "access_denied",
        0xc000_0033 => "object_name_invalid",
        0xc000_0034 => "object_name_not_found",
        0xc000_0035 => "object_name_collision",
        0xc000_003a => "object_path_not_found",
        0xc000_0043 => "sharing_violation",
        0xc000_006d => "logon_failure",
        0xc000_006e => "account_restriction",
        0xc000_0072 => "account_disabled",
        0xc000_00ba => "file_is_a_directory",
        0xc000_00bb => "not_supported",
        0xc000_00cc => "bad_network_name",
        0xc000_0101 => "directory_not_empty",
        0xc000_0103 => "not_a_directory",
        0xc000_0120 => "cancelled",
        0xc000_0128 => "file_closed",
        0xc000_0203 => "user_session_deleted",
        0xc000_0225 => "not_found",
        0x8000_0006 => "no_more_files",
        0xc000_0011 => "end_of_file",
        n => return format!("unknown-{n}").into(),
    };
    n.into()
}

fn smb_status(s: u32) -> Status {
    if s == 0
        || s == STATUS_MORE_PROCESSING_REQUIRED
        || s == STATUS_BUFFER_OVERFLOW
        || s < 0x8000_0000
    {
        Status::Ok
    } else {
        Status::Exception {
            code: s,
            name: status_name(s),
        }
    }
}

#[derive(Clone, Debug)]
struct Pending {
    op: OpClass,
    file_name: Option<String>,
    share: Option<String>,
    file_id: Option<u128>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Side {
    /// Bytes of the current NetBIOS message still to skip.
    skip: usize,
    /// Looking for a NetBIOS header followed by an SMB header.
    resync: bool,
}

/// Per-flow SMB state.
#[derive(Debug, Default)]
pub struct SmbDissector {
    sides: [Side; 2],
    pending: HashMap<u64, Pending>,
    trees: HashMap<u32, String>,
    files: HashMap<u128, String>,
    /// Name opened by the last CREATE of the compound chain being read, for related
    /// operations that name the file id 0xff..ff.
    chain_name: Option<String>,
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl SmbDissector {
    /// A dissector for one flow.
    pub fn new() -> Self {
        Self::default()
    }

    fn file_name(&self, id: u128) -> Option<String> {
        if id == u128::MAX {
            return self.chain_name.clone();
        }
        self.files.get(&id).cloned()
    }

    fn message(&mut self, ctx: &FlowContext, dir: Direction, window: &[u8], out: &mut Emitter) {
        match window.get(..4) {
            Some(b"\xfeSMB") => self.smb2_chain(ctx, dir, window, out),
            Some(b"\xffSMB") => self.smb1(ctx, dir, window, out),
            // Encrypted or compressed messages: nothing readable.
            Some(b"\xfdSMB") | Some(b"\xfcSMB") => {}
            _ => out.anomaly(PROTOCOL, SmbError::BadHeader.reason()),
        }
    }

    fn smb2_chain(&mut self, ctx: &FlowContext, dir: Direction, window: &[u8], out: &mut Emitter) {
        self.chain_name = None;
        let mut off = 0usize;
        for _ in 0..MAX_CHAIN {
            let msg = &window[off..];
            let h = match parser::smb2_header(msg) {
                Ok(h) => h,
                Err(e) => {
                    out.anomaly(PROTOCOL, e.reason());
                    return;
                }
            };
            let next = h.next_command as usize;
            let this = if next != 0 {
                &msg[..next.min(msg.len())]
            } else {
                msg
            };
            if h.is_response() != (dir == Direction::ToClient) {
                out.anomaly(PROTOCOL, "SMB2 message in the wrong direction");
            } else if h.is_response() {
                self.response(ctx, &h, this, out);
            } else {
                self.request(ctx, &h, this, out);
            }
            if next == 0 {
                return;
            }
            if next < SMB2_HEADER || off + next >= window.len() {
                if off + next < window.len() || next < SMB2_HEADER {
                    out.anomaly(PROTOCOL, "compound offset outside the message");
                }
                return;
            }
            off += next;
        }
        out.anomaly(PROTOCOL, "more compounded messages than the cap");
    }

    fn request(&mut self, ctx: &FlowContext, h: &Smb2Header, msg: &[u8], out: &mut Emitter) {
        let (name, mut op) = command(h.command);
        let share = self.trees.get(&h.tree_id).cloned();
        let mut p = Pending {
            op,
            file_name: None,
            share: share.clone(),
            file_id: None,
        };
        let mut attrs: Vec<(&'static str, Attr)> = Vec::new();
        let mut client_host = None;
        match h.command {
            0 => {
                if let Ok(d) = parser::negotiate_request_dialects(msg) {
                    attrs.push((
                        "dialects",
                        Attr::List(d.into_iter().map(parser::dialect_name).collect()),
                    ));
                }
            }
            1 => {
                if let Some(n) = parser::session_setup_blob(msg, false)
                    .ok()
                    .and_then(parser::ntlmssp)
                {
                    ntlm_attrs(&n, &mut attrs);
                    if n.message_type == 3 {
                        client_host = n.host.clone();
                    }
                }
            }
            3 => match parser::tree_connect_path(msg) {
                Ok(path) => {
                    attrs.push(("share", Attr::Text(path.clone())));
                    p.share = Some(path);
                }
                Err(e) => out.anomaly(PROTOCOL, format!("tree connect: {}", e.reason())),
            },
            5 => match parser::create_request(msg) {
                Ok(c) => {
                    if c.writes() {
                        op = OpClass::Write;
                        p.op = op;
                    }
                    attrs.push(("file_name", Attr::Text(c.name.clone())));
                    attrs.push(("desired_access", Attr::UInt(c.desired_access.into())));
                    attrs.push(("disposition", Attr::UInt(c.disposition.into())));
                    self.chain_name = Some(c.name.clone());
                    p.file_name = Some(c.name);
                }
                Err(e) => out.anomaly(PROTOCOL, format!("create: {}", e.reason())),
            },
            6 | 8 | 9 => {
                let at = if h.command == 6 { 8 } else { 16 };
                if let Ok(id) = parser::file_id_at(msg, at) {
                    p.file_id = Some(id);
                    p.file_name = self.file_name(id);
                    if let Some(f) = &p.file_name {
                        attrs.push(("file_name", Attr::Text(f.clone())));
                    }
                }
                if h.command != 6 {
                    if let Ok((len, offset)) = parser::io_request(msg) {
                        attrs.push(("length", Attr::UInt(len.into())));
                        attrs.push(("offset", Attr::UInt(offset)));
                    }
                }
            }
            _ => {}
        }
        if let Some(s) = &share {
            if h.command != 3 {
                attrs.push(("share", Attr::Text(s.clone())));
            }
        }
        let ev = out.begin(
            ctx,
            Direction::ToServer,
            PROTOCOL,
            op,
            u32::from(h.command),
            name,
            false,
        );
        ev.attrs.extend(attrs);
        if let Some(host) = client_host {
            out.hostname(
                Some(ctx.client_ip),
                ctx.client_mac,
                &host,
                NameSource::Netbios,
            );
        }
        if self.pending.len() >= MAX_PENDING {
            out.anomaly(PROTOCOL, "more open requests than the cap");
            self.pending.clear();
        }
        self.pending.insert(h.message_id, p);
    }

    fn response(&mut self, ctx: &FlowContext, h: &Smb2Header, msg: &[u8], out: &mut Emitter) {
        if h.status == STATUS_PENDING && h.is_async() {
            return;
        }
        let p = self.pending.remove(&h.message_id);
        let (name, default_op) = command(h.command);
        let op = p.as_ref().map_or(default_op, |p| p.op);
        let ok = matches!(smb_status(h.status), Status::Ok);
        let mut attrs: Vec<(&'static str, Attr)> = Vec::new();
        let mut server_host = None;
        if let Some(p) = &p {
            if let Some(f) = &p.file_name {
                attrs.push(("file_name", Attr::Text(f.clone())));
            }
            if let Some(s) = &p.share {
                attrs.push(("share", Attr::Text(s.clone())));
            }
        }
        match h.command {
            0 if ok => {
                if let Ok(d) = parser::negotiate_response_dialect(msg) {
                    attrs.push(("dialect", Attr::Text(parser::dialect_name(d))));
                }
            }
            1 => {
                if let Some(n) = parser::session_setup_blob(msg, true)
                    .ok()
                    .and_then(parser::ntlmssp)
                {
                    attrs.push(("ntlm", Attr::Text(ntlm_kind(n.message_type).into())));
                    if let Some(hn) = &n.host {
                        attrs.push(("server_name", Attr::Text(hn.clone())));
                        server_host = Some(hn.clone());
                    }
                    if let Some(d) = &n.domain {
                        attrs.push(("domain", Attr::Text(d.clone())));
                    }
                }
            }
            3 if ok => {
                if let Some(s) = p.as_ref().and_then(|p| p.share.clone()) {
                    if self.trees.len() >= MAX_TREES {
                        out.anomaly(PROTOCOL, "more connected trees than the cap");
                        self.trees.clear();
                    }
                    self.trees.insert(h.tree_id, s);
                }
            }
            4 if ok => {
                self.trees.remove(&h.tree_id);
            }
            5 if ok => {
                if let (Ok(id), Some(f)) = (
                    parser::create_response_file_id(msg),
                    p.as_ref().and_then(|p| p.file_name.clone()),
                ) {
                    if self.files.len() >= MAX_FILES {
                        out.anomaly(PROTOCOL, "more open files than the cap");
                        self.files.clear();
                    }
                    self.files.insert(id, f);
                }
            }
            6 => {
                if let Some(id) = p.as_ref().and_then(|p| p.file_id) {
                    self.files.remove(&id);
                }
            }
            8 | 9 if ok => {
                if let Ok(n) = parser::io_response_count(msg) {
                    attrs.push(("bytes", Attr::UInt(n.into())));
                }
            }
            _ => {}
        }
        let ev = out.begin(
            ctx,
            Direction::ToClient,
            PROTOCOL,
            op,
            u32::from(h.command),
            name,
            true,
        );
        ev.status = smb_status(h.status);
        ev.attrs.extend(attrs);
        if let Some(host) = server_host {
            out.hostname(
                Some(ctx.server_ip),
                ctx.server_mac,
                &host,
                NameSource::Netbios,
            );
        }
    }

    fn smb1(&mut self, ctx: &FlowContext, dir: Direction, msg: &[u8], out: &mut Emitter) {
        let h = match parser::smb1_header(msg) {
            Ok(h) => h,
            Err(e) => {
                out.anomaly(PROTOCOL, e.reason());
                return;
            }
        };
        let name = match h.command {
            0x72 => "smb1_negotiate",
            0x73 => "smb1_session_setup",
            _ => return,
        };
        let ev = out.begin(
            ctx,
            dir,
            PROTOCOL,
            OpClass::Session,
            u32::from(h.command),
            name,
            h.response,
        );
        ev.attr("smb_version", Attr::Text("1".into()));
        if h.response {
            ev.status = smb_status(h.status);
        } else if h.command == 0x72 {
            ev.attr("dialects", Attr::List(parser::smb1_dialects(msg)));
        }
        let mut host = None;
        if h.command == 0x73 {
            if let Some(n) = parser::ntlmssp(msg) {
                let mut attrs = Vec::new();
                ntlm_attrs(&n, &mut attrs);
                if let (Some(hn), 2) = (&n.host, n.message_type) {
                    attrs.push(("server_name", Attr::Text(hn.clone())));
                }
                ev.attrs.extend(attrs);
                host = n.host.map(|hn| (n.message_type, hn));
            }
        }
        match host {
            Some((3, hn)) if !h.response => out.hostname(
                Some(ctx.client_ip),
                ctx.client_mac,
                &hn,
                NameSource::Netbios,
            ),
            Some((2, hn)) if h.response => out.hostname(
                Some(ctx.server_ip),
                ctx.server_mac,
                &hn,
                NameSource::Netbios,
            ),
            _ => {}
        }
    }

    fn session_request(&mut self, ctx: &FlowContext, body: &[u8], out: &mut Emitter) {
        let Some((called, calling)) = parser::session_request_names(body) else {
            out.anomaly(PROTOCOL, "malformed NetBIOS session request");
            return;
        };
        out.begin(
            ctx,
            Direction::ToServer,
            PROTOCOL,
            OpClass::Session,
            0x81,
            "netbios_session_request",
            false,
        )
        .attr("called_name", Attr::Text(called))
        .attr("calling_name", Attr::Text(calling.clone()));
        out.hostname(
            Some(ctx.client_ip),
            ctx.client_mac,
            &calling,
            NameSource::Netbios,
        );
    }
}

fn ntlm_kind(t: u32) -> &'static str {
    match t {
        1 => "negotiate",
        2 => "challenge",
        3 => "authenticate",
        _ => "unknown",
    }
}

fn ntlm_attrs(n: &parser::Ntlm, attrs: &mut Vec<(&'static str, Attr)>) {
    attrs.push(("ntlm", Attr::Text(ntlm_kind(n.message_type).into())));
    if n.message_type == 3 {
        if let Some(u) = &n.user {
            attrs.push(("user", Attr::Text(u.clone())));
        }
        if let Some(d) = &n.domain {
            attrs.push(("domain", Attr::Text(d.clone())));
        }
        if let Some(w) = &n.host {
            attrs.push(("workstation", Attr::Text(w.clone())));
        }
    }
}

/// True when `b` holds a NetBIOS message header followed by an SMB header signature.
fn frame_start(b: &[u8]) -> bool {
    b.len() >= 8
        && b[0] == nb::MESSAGE
        && matches!(&b[4..8], b"\xfeSMB" | b"\xffSMB" | b"\xfdSMB" | b"\xfcSMB")
}

impl Dissector for SmbDissector {
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
            if self.sides[i].skip > 0 {
                let n = self.sides[i].skip.min(rest.len());
                self.sides[i].skip -= n;
                pos += n;
                continue;
            }
            if self.sides[i].resync {
                match (0..rest.len().saturating_sub(7)).find(|&k| frame_start(&rest[k..])) {
                    Some(k) => {
                        pos += k;
                        self.sides[i].resync = false;
                        continue;
                    }
                    None => return pos + rest.len().saturating_sub(7),
                }
            }
            let (ty, len) = match parser::netbios_header(rest) {
                Ok(Some(h)) => h,
                Ok(None) => return pos,
                Err(e) => {
                    out.anomaly(PROTOCOL, e.reason());
                    self.sides[i].resync = true;
                    pos += 1;
                    continue;
                }
            };
            if ty != nb::MESSAGE {
                if ty == nb::REQUEST && dir == Direction::ToServer && len <= 256 {
                    let Some(body) = rest.get(4..4 + len) else {
                        return pos;
                    };
                    self.session_request(ctx, body, out);
                    pos += 4 + len;
                } else {
                    pos += 4;
                    self.sides[i].skip = len;
                }
                continue;
            }
            if len == 0 {
                pos += 4;
                continue;
            }
            let want = len.min(WINDOW);
            let Some(window) = rest.get(4..4 + want) else {
                return pos;
            };
            self.message(ctx, dir, window, out);
            pos += 4 + want;
            self.sides[i].skip = len - want;
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
        if (s.skip as u64) > len {
            // Inside skipped read/write data: the framing survives.
            s.skip -= len as usize;
        } else {
            s.skip = 0;
            s.resync = true;
        }
    }
}

/// Content check: a NetBIOS message carrying an SMB1/SMB2 header with a consistent
/// length, or a NetBIOS session request.
pub fn looks_like_smb(b: &[u8]) -> bool {
    match parser::netbios_header(b) {
        Ok(Some((nb::MESSAGE, len))) => {
            frame_start(b)
                && len >= 32
                && (b[4] != 0xfe || (len >= SMB2_HEADER && b.get(8..10) == Some(&[64, 0])))
        }
        Ok(Some((nb::REQUEST, 68))) => {
            b.len() >= 72 && parser::session_request_names(&b[4..72]).is_some()
        }
        _ => false,
    }
}

/// Recognises SMB flows: ports 445 and 139, and SMB over NetBIOS framing anywhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct SmbFactory;

impl DissectorFactory for SmbFactory {
    fn name(&self) -> &'static str {
        PROTOCOL
    }

    fn probe(&self, ctx: &FlowContext, _dir: Direction, first_payload: &[u8]) -> u8 {
        if ctx.transport != crate::Transport::Tcp {
            return 0;
        }
        let on_port = [445, 139].contains(&ctx.server_port);
        match (on_port, looks_like_smb(first_payload)) {
            (true, true) => 3,
            (false, true) => 2,
            (true, false) => 1,
            (false, false) => 0,
        }
    }

    fn create(&self) -> Box<dyn Dissector> {
        Box::new(SmbDissector::new())
    }
}

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    vec![Box::new(SmbFactory)]
}
