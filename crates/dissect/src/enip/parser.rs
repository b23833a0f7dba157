//! EtherNet/IP and CIP wire views: the encapsulation header, Common Packet Format items,
//! CIP requests and responses, EPATHs, ListIdentity items and Forward Open.
//!
//! Every function is pure over `&[u8]`, allocates nothing (tag names are written into a
//! caller-provided buffer) and bounds every count it reads.

use core::fmt;

/// Length of the encapsulation header.
pub const HEADER_LEN: usize = 24;
/// Largest encapsulated data length accepted (a TCP encapsulation message is at most
/// 65535 bytes in total).
pub const MAX_DATA_LEN: usize = 65_511;
/// Most CPF items read from one message; real messages carry two to four.
pub const MAX_CPF_ITEMS: usize = 6;
/// Most path segments read from one EPATH.
pub const MAX_PATH_SEGMENTS: usize = 32;
/// Longest tag text kept (longer names are cut).
pub const MAX_TAG_LEN: usize = 256;

/// Why a message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnipError {
    /// Fewer bytes than the structure needs.
    Truncated,
    /// An encapsulation header no peer would send (unknown command with options set,
    /// oversized length).
    BadHeader,
    /// A CPF item count or item length that does not fit the message.
    BadCpf,
    /// A CIP path that overruns its declared size or has an unknown segment.
    BadPath,
    /// More entries than the cap allows.
    TooMany,
}

impl fmt::Display for EnipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "truncated",
            Self::BadHeader => "implausible encapsulation header",
            Self::BadCpf => "bad common packet format",
            Self::BadPath => "bad CIP path",
            Self::TooMany => "too many entries",
        })
    }
}

impl std::error::Error for EnipError {}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off + 2)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The 24-byte encapsulation header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncapHeader {
    /// Command code.
    pub command: u16,
    /// Length of the data after the header.
    pub length: u16,
    /// Session handle.
    pub session: u32,
    /// Status (0 = success).
    pub status: u32,
    /// Sender context, echoed by the responder.
    pub context: u64,
    /// Options (must be 0).
    pub options: u32,
}

/// Reads an encapsulation header from the start of `b`.
pub fn parse_header(b: &[u8]) -> Result<EncapHeader, EnipError> {
    if b.len() < HEADER_LEN {
        return Err(EnipError::Truncated);
    }
    let ctx = b.get(12..20).ok_or(EnipError::Truncated)?;
    let mut c = [0u8; 8];
    c.copy_from_slice(ctx);
    Ok(EncapHeader {
        command: u16_at(b, 0).ok_or(EnipError::Truncated)?,
        length: u16_at(b, 2).ok_or(EnipError::Truncated)?,
        session: u32_at(b, 4).ok_or(EnipError::Truncated)?,
        status: u32_at(b, 8).ok_or(EnipError::Truncated)?,
        context: u64::from_le_bytes(c),
        options: u32_at(b, 20).ok_or(EnipError::Truncated)?,
    })
}

/// True when `h` can frame a message on a stream already in step: options zero and a
/// length within bounds. Commands nobody defined (legacy vendor commands such as 0x0001)
/// are still framed, so the stream stays in step.
pub fn acceptable_header(h: &EncapHeader) -> bool {
    h.options == 0 && usize::from(h.length) <= MAX_DATA_LEN
}

/// True when `h` is a header a real peer sends: a known command, options zero, a status
/// that is one of the small defined codes, and a data length fitting the command.
pub fn plausible_header(h: &EncapHeader) -> bool {
    use super::constants::*;
    if h.options != 0 || h.status > 0xFFFF || usize::from(h.length) > MAX_DATA_LEN {
        return false;
    }
    match h.command {
        CMD_NOP | CMD_LIST_SERVICES | CMD_LIST_IDENTITY | CMD_LIST_INTERFACES => true,
        CMD_REGISTER_SESSION => h.length == 4 || (h.status != 0 && h.length == 0),
        CMD_UNREGISTER_SESSION => h.length == 0,
        // Interface handle, timeout and a CPF item count at least.
        CMD_SEND_RR_DATA | CMD_SEND_UNIT_DATA => h.length >= 8 || h.status != 0,
        CMD_INDICATE_STATUS | CMD_CANCEL => true,
        _ => false,
    }
}

/// One Common Packet Format item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpfItem<'a> {
    /// Item type id.
    pub type_id: u16,
    /// Item data.
    pub data: &'a [u8],
}

/// The items of a CPF block (at most [`MAX_CPF_ITEMS`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpf<'a> {
    items: [Option<CpfItem<'a>>; MAX_CPF_ITEMS],
    count: usize,
}

impl<'a> Cpf<'a> {
    /// The items, in order.
    pub fn items(&self) -> impl Iterator<Item = CpfItem<'a>> + '_ {
        self.items[..self.count].iter().flatten().copied()
    }

    /// The first item of type `type_id`.
    pub fn find(&self, type_id: u16) -> Option<CpfItem<'a>> {
        self.items().find(|i| i.type_id == type_id)
    }
}

/// Reads a CPF block (item count, then items) from the start of `b`.
pub fn parse_cpf(b: &[u8]) -> Result<Cpf<'_>, EnipError> {
    let n = usize::from(u16_at(b, 0).ok_or(EnipError::Truncated)?);
    if n > MAX_CPF_ITEMS {
        return Err(EnipError::TooMany);
    }
    let mut cpf = Cpf::default();
    let mut off = 2;
    for slot in cpf.items.iter_mut().take(n) {
        let type_id = u16_at(b, off).ok_or(EnipError::BadCpf)?;
        let len = usize::from(u16_at(b, off + 2).ok_or(EnipError::BadCpf)?);
        let data = b.get(off + 4..off + 4 + len).ok_or(EnipError::BadCpf)?;
        *slot = Some(CpfItem { type_id, data });
        off += 4 + len;
    }
    cpf.count = n;
    Ok(cpf)
}

/// The CPF block of a SendRRData / SendUnitData message (after interface handle and
/// timeout).
pub fn parse_data_cpf(data: &[u8]) -> Result<Cpf<'_>, EnipError> {
    parse_cpf(data.get(6..).ok_or(EnipError::Truncated)?)
}

/// A CIP request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CipRequest<'a> {
    /// Service code (response bit clear).
    pub service: u8,
    /// Request path bytes.
    pub path: &'a [u8],
    /// Request data after the path.
    pub data: &'a [u8],
}

/// A CIP response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CipResponse<'a> {
    /// Service code (response bit cleared).
    pub service: u8,
    /// General status (0 = success).
    pub general_status: u8,
    /// First word of the extended status, when present.
    pub ext_status: Option<u16>,
    /// Response data.
    pub data: &'a [u8],
}

/// A CIP message: request or response by the service code's high bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CipMessage<'a> {
    /// A request.
    Request(CipRequest<'a>),
    /// A response.
    Response(CipResponse<'a>),
}

/// Reads a CIP message.
pub fn parse_cip(b: &[u8]) -> Result<CipMessage<'_>, EnipError> {
    let service = *b.first().ok_or(EnipError::Truncated)?;
    let size = usize::from(*b.get(1).ok_or(EnipError::Truncated)?) * 2;
    if service & 0x80 != 0 {
        let general_status = *b.get(2).ok_or(EnipError::Truncated)?;
        let ext = b.get(4..4 + size).ok_or(EnipError::Truncated)?;
        Ok(CipMessage::Response(CipResponse {
            service: service & 0x7F,
            general_status,
            ext_status: u16_at(ext, 0),
            data: b.get(4 + size..).ok_or(EnipError::Truncated)?,
        }))
    } else {
        Ok(CipMessage::Request(CipRequest {
            service,
            path: b.get(2..2 + size).ok_or(EnipError::Truncated)?,
            data: b.get(2 + size..).ok_or(EnipError::Truncated)?,
        }))
    }
}

/// What an EPATH addresses: the logical segments and, for symbolic paths, the tag text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EPath {
    /// Class id.
    pub class: Option<u32>,
    /// Instance id.
    pub instance: Option<u32>,
    /// Attribute id.
    pub attribute: Option<u32>,
    /// Connection point.
    pub connection_point: Option<u32>,
    /// True when the path had symbolic segments (the tag text went to the buffer).
    pub symbolic: bool,
}

impl EPath {
    /// Writes the target space: `tag:<name>` for symbolic paths (with `tag` the text
    /// collected by [`parse_path`]), else `class<N>/instance<M>/attribute<K>` with the
    /// parts present. Returns false when the path addresses nothing.
    pub fn write_space(&self, tag: &str, out: &mut String) -> bool {
        use fmt::Write;
        out.clear();
        if self.symbolic {
            out.push_str("tag:");
            out.push_str(tag);
            return true;
        }
        let Some(class) = self.class else {
            return false;
        };
        let _ = write!(out, "class{class}");
        if let Some(i) = self.instance {
            let _ = write!(out, "/instance{i}");
        }
        if let Some(a) = self.attribute {
            let _ = write!(out, "/attribute{a}");
        }
        if let Some(c) = self.connection_point {
            let _ = write!(out, "/connection_point{c}");
        }
        true
    }
}

/// Reads an EPATH. Symbolic segments (with their member and element segments) are
/// written to `tag` as `name.member[index]`; port and electronic-key segments are skipped.
pub fn parse_path(mut p: &[u8], tag: &mut String) -> Result<EPath, EnipError> {
    tag.clear();
    let mut path = EPath::default();
    let mut segments = 0;
    while let Some(&seg) = p.first() {
        segments += 1;
        if segments > MAX_PATH_SEGMENTS {
            return Err(EnipError::TooMany);
        }
        match seg >> 5 {
            // Port segment.
            0 => {
                let mut len = if seg & 0x10 != 0 {
                    2 + usize::from(*p.get(1).ok_or(EnipError::BadPath)?)
                } else {
                    2
                };
                if seg & 0x0F == 0x0F {
                    len += 2;
                }
                len += len % 2;
                p = p.get(len..).ok_or(EnipError::BadPath)?;
            }
            // Logical segment.
            1 => {
                let kind = (seg >> 2) & 0x07;
                let (value, len) = match seg & 0x03 {
                    0 => (u32::from(*p.get(1).ok_or(EnipError::BadPath)?), 2),
                    1 => (u32::from(u16_at(p, 2).ok_or(EnipError::BadPath)?), 4),
                    2 => (u32_at(p, 2).ok_or(EnipError::BadPath)?, 6),
                    _ => return Err(EnipError::BadPath),
                };
                // Electronic key: format byte then 8 bytes of key data.
                if seg == 0x34 {
                    p = p.get(10..).ok_or(EnipError::BadPath)?;
                    continue;
                }
                match kind {
                    0 => path.class = Some(value),
                    1 => path.instance = Some(value),
                    2 => {
                        // Member id: an array element after a symbolic name.
                        if path.symbolic {
                            push_tag(tag, format_args!("[{value}]"));
                        } else {
                            path.attribute = Some(value);
                        }
                    }
                    3 => path.connection_point = Some(value),
                    4 => path.attribute = Some(value),
                    _ => {}
                }
                p = p.get(len..).ok_or(EnipError::BadPath)?;
            }
            // Network segment: one data byte (0x40-0x4F), or a word count (0x50-0x5F).
            2 => {
                let len = if seg & 0x10 != 0 {
                    2 + usize::from(*p.get(1).ok_or(EnipError::BadPath)?) * 2
                } else {
                    2
                };
                p = p.get(len..).ok_or(EnipError::BadPath)?;
            }
            // Symbolic segment (0x60-0x7F): size in the low bits, then the characters.
            3 => {
                let n = usize::from(seg & 0x1F);
                let text = p.get(1..1 + n).ok_or(EnipError::BadPath)?;
                push_name(tag, text);
                path.symbolic = true;
                let len = 1 + n + (1 + n) % 2;
                p = p.get(len..).unwrap_or(&[]);
            }
            // Data segment: simple data (word count) or ANSI extended symbol.
            4 => match seg {
                0x80 => {
                    let len = 2 + usize::from(*p.get(1).ok_or(EnipError::BadPath)?) * 2;
                    p = p.get(len..).ok_or(EnipError::BadPath)?;
                }
                0x91 => {
                    let n = usize::from(*p.get(1).ok_or(EnipError::BadPath)?);
                    let text = p.get(2..2 + n).ok_or(EnipError::BadPath)?;
                    push_name(tag, text);
                    path.symbolic = true;
                    let len = 2 + n + n % 2;
                    // The pad byte may be missing at the very end of a path.
                    p = p.get(len..).unwrap_or(&[]);
                }
                _ => return Err(EnipError::BadPath),
            },
            _ => return Err(EnipError::BadPath),
        }
    }
    Ok(path)
}

fn push_tag(tag: &mut String, args: fmt::Arguments<'_>) {
    use fmt::Write;
    if tag.len() < MAX_TAG_LEN {
        let _ = tag.write_fmt(args);
    }
}

/// Appends a symbolic name segment, `.`-separated from what came before.
fn push_name(tag: &mut String, text: &[u8]) {
    if tag.len() >= MAX_TAG_LEN {
        return;
    }
    if !tag.is_empty() {
        tag.push('.');
    }
    for &c in text.iter().take(MAX_TAG_LEN) {
        // Tag names are ASCII; anything else is shown escaped so targets stay text.
        if c.is_ascii_graphic() {
            tag.push(char::from(c));
        } else {
            push_tag(tag, format_args!("\\x{c:02x}"));
        }
    }
}

/// Offsets of the embedded messages of a Multiple Service Packet body (request data or
/// response data): a count, then that many offsets relative to the count field.
/// Returns the slices, at most `cap` of them (the rest counted in the second value).
pub fn multiple_service_parts<'a>(
    b: &'a [u8],
    cap: usize,
    mut each: impl FnMut(&'a [u8]),
) -> Result<usize, EnipError> {
    let n = usize::from(u16_at(b, 0).ok_or(EnipError::Truncated)?);
    if n > 2 + b.len() / 2 {
        return Err(EnipError::TooMany);
    }
    for i in 0..n.min(cap) {
        let start = usize::from(u16_at(b, 2 + 2 * i).ok_or(EnipError::Truncated)?);
        let end = if i + 1 < n {
            usize::from(u16_at(b, 4 + 2 * i).ok_or(EnipError::Truncated)?)
        } else {
            b.len()
        };
        if start < 2 + 2 * n || start > end {
            return Err(EnipError::BadCpf);
        }
        each(b.get(start..end).ok_or(EnipError::Truncated)?);
    }
    Ok(n)
}

/// The embedded request of an Unconnected Send and its route path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnconnectedSend<'a> {
    /// The embedded CIP request.
    pub message: &'a [u8],
    /// Route path bytes.
    pub route: &'a [u8],
}

/// Reads the data of an Unconnected Send request.
pub fn parse_unconnected_send(d: &[u8]) -> Result<UnconnectedSend<'_>, EnipError> {
    let len = usize::from(u16_at(d, 2).ok_or(EnipError::Truncated)?);
    let message = d.get(4..4 + len).ok_or(EnipError::Truncated)?;
    let mut off = 4 + len + len % 2;
    let words = usize::from(*d.get(off).ok_or(EnipError::Truncated)?);
    off += 2;
    let route = d.get(off..off + words * 2).unwrap_or(&[]);
    Ok(UnconnectedSend { message, route })
}

/// The fields of a Forward Open (or Large Forward Open) request that name the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForwardOpen<'a> {
    /// Originator-to-target connection id (as proposed).
    pub o_t_id: u32,
    /// Target-to-originator connection id (as proposed).
    pub t_o_id: u32,
    /// Connection serial number.
    pub serial: u16,
    /// Originator vendor id.
    pub vendor: u16,
    /// Requested packet interval originator to target, microseconds.
    pub o_t_rpi: u32,
    /// Transport class and trigger.
    pub transport: u8,
    /// Connection path.
    pub path: &'a [u8],
}

/// Reads a Forward Open request's data; `large` for Large Forward Open (32-bit
/// connection parameters).
pub fn parse_forward_open(d: &[u8], large: bool) -> Result<ForwardOpen<'_>, EnipError> {
    let p = if large { 4 } else { 2 };
    let transport_off = 30 + 2 * p;
    let words = usize::from(*d.get(transport_off + 1).ok_or(EnipError::Truncated)?);
    let start = transport_off + 2;
    Ok(ForwardOpen {
        o_t_id: u32_at(d, 2).ok_or(EnipError::Truncated)?,
        t_o_id: u32_at(d, 6).ok_or(EnipError::Truncated)?,
        serial: u16_at(d, 10).ok_or(EnipError::Truncated)?,
        vendor: u16_at(d, 12).ok_or(EnipError::Truncated)?,
        o_t_rpi: u32_at(d, 22).ok_or(EnipError::Truncated)?,
        transport: *d.get(transport_off).ok_or(EnipError::Truncated)?,
        path: d
            .get(start..start + words * 2)
            .ok_or(EnipError::Truncated)?,
    })
}

/// Connection ids a successful Forward Open response assigns: (O→T, T→O).
pub fn forward_open_reply_ids(d: &[u8]) -> Option<(u32, u32)> {
    Some((u32_at(d, 0)?, u32_at(d, 4)?))
}

/// An identity announced in a ListIdentity response item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity<'a> {
    /// Vendor id.
    pub vendor: u16,
    /// Device type.
    pub device_type: u16,
    /// Product code.
    pub product_code: u16,
    /// Revision major.
    pub major: u8,
    /// Revision minor.
    pub minor: u8,
    /// Device status word.
    pub status: u16,
    /// Serial number.
    pub serial: u32,
    /// Product name bytes.
    pub product_name: &'a [u8],
    /// Device state, when present.
    pub state: Option<u8>,
}

/// Reads a ListIdentity item (type 0x0C) body.
pub fn parse_identity(d: &[u8]) -> Result<Identity<'_>, EnipError> {
    // Encapsulation version (2) and a socket address (16, big-endian) come first.
    let base = 18;
    let n = usize::from(*d.get(base + 14).ok_or(EnipError::Truncated)?);
    let name = d
        .get(base + 15..base + 15 + n)
        .ok_or(EnipError::Truncated)?;
    Ok(Identity {
        vendor: u16_at(d, base).ok_or(EnipError::Truncated)?,
        device_type: u16_at(d, base + 2).ok_or(EnipError::Truncated)?,
        product_code: u16_at(d, base + 4).ok_or(EnipError::Truncated)?,
        major: *d.get(base + 6).ok_or(EnipError::Truncated)?,
        minor: *d.get(base + 7).ok_or(EnipError::Truncated)?,
        status: u16_at(d, base + 8).ok_or(EnipError::Truncated)?,
        serial: u32_at(d, base + 10).ok_or(EnipError::Truncated)?,
        product_name: name,
        state: d.get(base + 15 + n).copied(),
    })
}

/// Decodes the elements of a Logix atomic data type into numbers, calling `each` with
/// (index, value) for at most `cap` elements. Returns false for types it does not know.
pub fn logix_values(
    data_type: u16,
    data: &[u8],
    cap: usize,
    mut each: impl FnMut(u64, f64),
) -> bool {
    let size = match data_type {
        0xC1 | 0xC2 | 0xC6 => 1,
        0xC3 | 0xC7 => 2,
        0xC4 | 0xC8 | 0xCA | 0xD3 => 4,
        0xC5 | 0xC9 | 0xCB => 8,
        _ => return false,
    };
    for (i, c) in data.chunks_exact(size).take(cap).enumerate() {
        let v = match (data_type, c) {
            (0xC1, [b]) => f64::from(u8::from(*b != 0)),
            (0xC2, [b]) => f64::from(*b as i8),
            (0xC6, [b]) => f64::from(*b),
            (0xC3, [a, b]) => f64::from(i16::from_le_bytes([*a, *b])),
            (0xC7, [a, b]) => f64::from(u16::from_le_bytes([*a, *b])),
            (0xC4, [a, b, c, d]) => f64::from(i32::from_le_bytes([*a, *b, *c, *d])),
            (0xC8 | 0xD3, [a, b, c, d]) => f64::from(u32::from_le_bytes([*a, *b, *c, *d])),
            (0xCA, [a, b, c, d]) => f64::from(f32::from_le_bytes([*a, *b, *c, *d])),
            (0xC5, s) => {
                let mut x = [0u8; 8];
                x.copy_from_slice(s);
                i64::from_le_bytes(x) as f64
            }
            (0xC9, s) => {
                let mut x = [0u8; 8];
                x.copy_from_slice(s);
                u64::from_le_bytes(x) as f64
            }
            (0xCB, s) => {
                let mut x = [0u8; 8];
                x.copy_from_slice(s);
                f64::from_le_bytes(x)
            }
            _ => continue,
        };
        each(i as u64, v);
    }
    true
}

/// True when `b` is a UDP I/O datagram: a CPF block of a sequenced address item (8 bytes)
/// and a connected data item filling the rest exactly.
pub fn looks_like_io(b: &[u8]) -> bool {
    use super::constants::*;
    u16_at(b, 0) == Some(2)
        && u16_at(b, 2) == Some(ITEM_SEQUENCED_ADDRESS)
        && u16_at(b, 4) == Some(8)
        && u16_at(b, 14) == Some(ITEM_CONNECTED_DATA)
        && u16_at(b, 16).map(usize::from) == Some(b.len().saturating_sub(18))
        && b.len() >= 18
}

/// True when `b` starts with one or more whole plausible encapsulation messages (the
/// first is checked; the payload must hold it completely).
pub fn looks_like_encap(b: &[u8]) -> bool {
    match parse_header(b) {
        Ok(h) => plausible_header(&h) && HEADER_LEN + usize::from(h.length) <= b.len(),
        Err(_) => false,
    }
}
