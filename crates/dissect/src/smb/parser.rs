//! NetBIOS session framing, SMB2/3 headers and command bodies, SMB1 negotiate, and
//! NTLMSSP: pure, bounds-checked functions over bytes.

/// SMB2 header length.
pub const SMB2_HEADER: usize = 64;
/// Longest name (share path, file name, NTLM field) decoded, in characters.
pub const MAX_NAME: usize = 512;

/// NetBIOS session packet types.
pub mod nb {
    /// Session message.
    pub const MESSAGE: u8 = 0x00;
    /// Session request.
    pub const REQUEST: u8 = 0x81;
    /// Positive session response.
    pub const POSITIVE: u8 = 0x82;
    /// Negative session response.
    pub const NEGATIVE: u8 = 0x83;
    /// Keep-alive.
    pub const KEEPALIVE: u8 = 0x85;
}

/// Why bytes are not the SMB structure expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmbError {
    /// Shorter than its lengths say.
    Truncated,
    /// Unknown NetBIOS session packet type.
    BadNetbiosType,
    /// Not an SMB header (protocol id or structure size).
    BadHeader,
    /// An offset/length pair outside the message.
    BadOffset,
}

impl SmbError {
    /// Short reason used in anomalies.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Truncated => "structure shorter than its length fields",
            Self::BadNetbiosType => "unknown NetBIOS session packet type",
            Self::BadHeader => "not an SMB header",
            Self::BadOffset => "offset or length outside the message",
        }
    }
}

fn u16le(b: &[u8], off: usize) -> Result<u16, SmbError> {
    let s = b.get(off..off + 2).ok_or(SmbError::Truncated)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn u32le(b: &[u8], off: usize) -> Result<u32, SmbError> {
    let s = b.get(off..off + 4).ok_or(SmbError::Truncated)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64le(b: &[u8], off: usize) -> Result<u64, SmbError> {
    let s = b.get(off..off + 8).ok_or(SmbError::Truncated)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

fn u128le(b: &[u8], off: usize) -> Result<u128, SmbError> {
    let s = b.get(off..off + 16).ok_or(SmbError::Truncated)?;
    let mut a = [0u8; 16];
    a.copy_from_slice(s);
    Ok(u128::from_le_bytes(a))
}

/// A NetBIOS session header: (type, length of what follows).
pub fn netbios_header(b: &[u8]) -> Result<Option<(u8, usize)>, SmbError> {
    let Some(h) = b.get(..4) else {
        if let Some(&t) = b.first() {
            if !matches!(t, 0x00 | 0x81..=0x85) {
                return Err(SmbError::BadNetbiosType);
            }
        }
        return Ok(None);
    };
    if !matches!(h[0], 0x00 | 0x81..=0x85) {
        return Err(SmbError::BadNetbiosType);
    }
    // Direct TCP (445) uses 24 length bits; NetBIOS (139) 17; a message never needs more.
    let len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
    Ok(Some((h[0], len)))
}

/// Decodes a first-level encoded NetBIOS name (32 letters A–P) into its 15 characters,
/// trimmed, and its suffix byte.
pub fn netbios_name(encoded: &[u8]) -> Option<(String, u8)> {
    if encoded.len() != 32 {
        return None;
    }
    let mut raw = [0u8; 16];
    for (i, pair) in encoded.chunks_exact(2).enumerate() {
        let hi = pair[0].checked_sub(b'A').filter(|&v| v < 16)?;
        let lo = pair[1].checked_sub(b'A').filter(|&v| v < 16)?;
        raw[i] = hi << 4 | lo;
    }
    let name: String = raw[..15]
        .iter()
        .map(|&c| char::from(c))
        .collect::<String>()
        .trim_end()
        .to_string();
    Some((name, raw[15]))
}

/// The called and calling names of a session request body.
pub fn session_request_names(body: &[u8]) -> Option<(String, String)> {
    // Each name: length byte 32, 32 encoded bytes, terminating zero label.
    let called = body.get(1..33)?;
    let calling = body.get(35..67)?;
    if body.first() != Some(&32) || body.get(34) != Some(&32) {
        return None;
    }
    Some((netbios_name(called)?.0, netbios_name(calling)?.0))
}

/// UTF-16LE text, capped at [`MAX_NAME`] characters.
pub fn utf16(b: &[u8]) -> String {
    let units = b
        .chunks_exact(2)
        .take(MAX_NAME)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect::<String>()
        .trim_end_matches('\0')
        .to_string()
}

/// An SMB2 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Smb2Header {
    /// NTSTATUS (responses).
    pub status: u32,
    /// Command.
    pub command: u16,
    /// Flags.
    pub flags: u32,
    /// Offset of the next compounded message from this header, 0 for the last.
    pub next_command: u32,
    /// Message id.
    pub message_id: u64,
    /// Tree id (sync messages).
    pub tree_id: u32,
    /// Session id.
    pub session_id: u64,
}

impl Smb2Header {
    /// Sent by the server.
    pub fn is_response(&self) -> bool {
        self.flags & 1 != 0
    }
    /// An asynchronous message (tree id absent).
    pub fn is_async(&self) -> bool {
        self.flags & 2 != 0
    }
}

/// Parses an SMB2 header at the start of `b`.
pub fn smb2_header(b: &[u8]) -> Result<Smb2Header, SmbError> {
    let h = b.get(..SMB2_HEADER).ok_or(SmbError::Truncated)?;
    if &h[..4] != b"\xfeSMB" || u16le(h, 4)? != 64 {
        return Err(SmbError::BadHeader);
    }
    let flags = u32le(h, 16)?;
    Ok(Smb2Header {
        status: u32le(h, 8)?,
        command: u16le(h, 12)?,
        flags,
        next_command: u32le(h, 20)?,
        message_id: u64le(h, 24)?,
        tree_id: if flags & 2 != 0 { 0 } else { u32le(h, 36)? },
        session_id: u64le(h, 40)?,
    })
}

/// `b[off..off+len]` where `off` is from the header start (`msg`).
fn slice_at(msg: &[u8], off: usize, len: usize) -> Result<&[u8], SmbError> {
    msg.get(off..off.checked_add(len).ok_or(SmbError::BadOffset)?)
        .ok_or(SmbError::BadOffset)
}

/// NEGOTIATE request: dialects offered.
pub fn negotiate_request_dialects(msg: &[u8]) -> Result<Vec<u16>, SmbError> {
    let body = &msg[SMB2_HEADER.min(msg.len())..];
    let count = usize::from(u16le(body, 2)?).min(64);
    let list = body.get(36..36 + 2 * count).ok_or(SmbError::Truncated)?;
    Ok(list
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect())
}

/// NEGOTIATE response: dialect chosen.
pub fn negotiate_response_dialect(msg: &[u8]) -> Result<u16, SmbError> {
    u16le(msg, SMB2_HEADER + 4)
}

/// Name of a dialect revision.
pub fn dialect_name(d: u16) -> String {
    match d {
        0x0202 => "2.0.2".into(),
        0x0210 => "2.1".into(),
        0x02ff => "2.???".into(),
        0x0300 => "3.0".into(),
        0x0302 => "3.0.2".into(),
        0x0311 => "3.1.1".into(),
        other => format!("0x{other:04x}"),
    }
}

/// SESSION_SETUP request or response: its security buffer.
pub fn session_setup_blob(msg: &[u8], response: bool) -> Result<&[u8], SmbError> {
    let (off_at, len_at) = if response { (4, 6) } else { (12, 14) };
    let off = usize::from(u16le(msg, SMB2_HEADER + off_at)?);
    let len = usize::from(u16le(msg, SMB2_HEADER + len_at)?);
    if len == 0 {
        return Ok(&[]);
    }
    slice_at(msg, off, len)
}

/// TREE_CONNECT request: the share path.
pub fn tree_connect_path(msg: &[u8]) -> Result<String, SmbError> {
    let off = usize::from(u16le(msg, SMB2_HEADER + 4)?);
    let len = usize::from(u16le(msg, SMB2_HEADER + 6)?);
    Ok(utf16(slice_at(msg, off, len)?))
}

/// CREATE request fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateRequest {
    /// DesiredAccess.
    pub desired_access: u32,
    /// CreateDisposition.
    pub disposition: u32,
    /// CreateOptions.
    pub options: u32,
    /// File name relative to the share.
    pub name: String,
}

impl CreateRequest {
    /// The open can change the file: write-class access or a disposition that
    /// creates, supersedes or truncates.
    pub fn writes(&self) -> bool {
        const WRITE_ACCESS: u32 = 0x0000_0002 // FILE_WRITE_DATA
            | 0x0000_0004 // FILE_APPEND_DATA
            | 0x0001_0000 // DELETE
            | 0x1000_0000 // GENERIC_ALL
            | 0x4000_0000; // GENERIC_WRITE
        self.desired_access & WRITE_ACCESS != 0 || matches!(self.disposition, 0 | 2 | 4 | 5)
    }
}

/// Parses a CREATE request.
pub fn create_request(msg: &[u8]) -> Result<CreateRequest, SmbError> {
    let b = SMB2_HEADER;
    let off = usize::from(u16le(msg, b + 44)?);
    let len = usize::from(u16le(msg, b + 46)?);
    let name = if len == 0 {
        String::new()
    } else {
        utf16(slice_at(msg, off, len)?)
    };
    Ok(CreateRequest {
        desired_access: u32le(msg, b + 24)?,
        disposition: u32le(msg, b + 36)?,
        options: u32le(msg, b + 40)?,
        name,
    })
}

/// CREATE response: the file id.
pub fn create_response_file_id(msg: &[u8]) -> Result<u128, SmbError> {
    u128le(msg, SMB2_HEADER + 64)
}

/// File id of a CLOSE (offset 8), READ or WRITE (offset 16) request, and for READ /
/// WRITE the length (offset 4) and file offset (offset 8).
pub fn file_id_at(msg: &[u8], body_off: usize) -> Result<u128, SmbError> {
    u128le(msg, SMB2_HEADER + body_off)
}

/// READ/WRITE request: (length, offset).
pub fn io_request(msg: &[u8]) -> Result<(u32, u64), SmbError> {
    Ok((u32le(msg, SMB2_HEADER + 4)?, u64le(msg, SMB2_HEADER + 8)?))
}

/// READ response DataLength / WRITE response Count.
pub fn io_response_count(msg: &[u8]) -> Result<u32, SmbError> {
    u32le(msg, SMB2_HEADER + 4)
}

/// What an NTLMSSP message tells.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ntlm {
    /// 1 negotiate, 2 challenge, 3 authenticate.
    pub message_type: u32,
    /// Domain (authenticate), or NetBIOS domain (challenge target info).
    pub domain: Option<String>,
    /// User name (authenticate).
    pub user: Option<String>,
    /// Workstation (authenticate) or server NetBIOS computer name (challenge).
    pub host: Option<String>,
    /// DNS computer name (challenge).
    pub dns_host: Option<String>,
}

/// Finds and parses the NTLMSSP message inside a security blob (raw, or wrapped in
/// SPNEGO: the signature is searched, the wrapping is not decoded).
pub fn ntlmssp(blob: &[u8]) -> Option<Ntlm> {
    const SIG: &[u8] = b"NTLMSSP\0";
    let at = blob.windows(SIG.len()).position(|w| w == SIG)?;
    let m = &blob[at..];
    let message_type = u32le(m, 8).ok()?;
    let field = |off: usize, unicode: bool| -> Option<String> {
        let len = usize::from(u16le(m, off).ok()?);
        let o = u32le(m, off + 4).ok()? as usize;
        if len == 0 {
            return None;
        }
        let raw = m.get(o..o.checked_add(len)?)?;
        let s = if unicode {
            utf16(raw)
        } else {
            String::from_utf8_lossy(&raw[..raw.len().min(MAX_NAME)]).into_owned()
        };
        (!s.is_empty()).then_some(s)
    };
    let mut n = Ntlm {
        message_type,
        ..Ntlm::default()
    };
    match message_type {
        2 => {
            let len = usize::from(u16le(m, 40).ok()?);
            let off = u32le(m, 44).ok()? as usize;
            let mut av = m.get(off..off.checked_add(len)?)?;
            for _ in 0..32 {
                let (Ok(id), Ok(l)) = (u16le(av, 0), u16le(av, 2)) else {
                    break;
                };
                let Some(v) = av.get(4..4 + usize::from(l)) else {
                    break;
                };
                match id {
                    0 => break,
                    1 => n.host = Some(utf16(v)),
                    2 => n.domain = Some(utf16(v)),
                    3 => n.dns_host = Some(utf16(v)),
                    _ => {}
                }
                av = &av[4 + usize::from(l)..];
            }
        }
        3 => {
            let unicode = u32le(m, 60).is_ok_and(|f| f & 1 != 0);
            n.domain = field(28, unicode);
            n.user = field(36, unicode);
            n.host = field(44, unicode);
        }
        _ => {}
    }
    Some(n)
}

/// SMB1 header fields gapwatch reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Smb1Header {
    /// Command.
    pub command: u8,
    /// NT status (or DOS error class/code).
    pub status: u32,
    /// Sent by the server.
    pub response: bool,
}

/// Parses an SMB1 header (32 bytes).
pub fn smb1_header(b: &[u8]) -> Result<Smb1Header, SmbError> {
    let h = b.get(..32).ok_or(SmbError::Truncated)?;
    if &h[..4] != b"\xffSMB" {
        return Err(SmbError::BadHeader);
    }
    Ok(Smb1Header {
        command: h[4],
        status: u32le(h, 5)?,
        response: h[9] & 0x80 != 0,
    })
}

/// SMB1 NEGOTIATE request: dialect strings offered.
pub fn smb1_dialects(msg: &[u8]) -> Vec<String> {
    // Header, word count (0), byte count, then 0x02 "dialect\0" entries.
    let Some(bytes) = msg.get(35..) else {
        return Vec::new();
    };
    bytes
        .split(|&c| c == 0)
        .filter_map(|d| d.strip_prefix(&[2u8]))
        .take(32)
        .map(|d| String::from_utf8_lossy(d).into_owned())
        .collect()
}
