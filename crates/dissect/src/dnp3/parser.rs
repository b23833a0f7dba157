//! DNP3 wire format: link-layer frames with their CRCs ([`parse_link_frame`]), the
//! transport header, the application header ([`parse_app`]) and object headers
//! ([`ObjectHeaders`]).
//!
//! Pure functions over borrowed bytes. A link frame's user data is copied, without its
//! block CRCs, into a caller-owned fixed buffer, so reading a frame never allocates.
//! Object headers are walked one at a time; each yields its object bytes (prefixes
//! included) sized from the qualifier and the variation's layout, checked against what is
//! left of the fragment.

use super::constants::{object_size, ObjectSize};
use std::fmt;

/// The two start octets of every link frame.
pub const START: [u8; 2] = [0x05, 0x64];
/// Length of the link header, its CRC included.
pub const LINK_HEADER_LEN: usize = 10;
/// Most user-data octets one link frame carries (length 255 minus the 5 header octets).
pub const MAX_USER_DATA: usize = 250;
/// User data is protected by a CRC after every block of this many octets.
pub const BLOCK_LEN: usize = 16;
/// Most object headers walked in one fragment.
pub const MAX_OBJECT_HEADERS: usize = 64;

/// Link control octet: direction bit (set when the master sends).
pub const CTRL_DIR: u8 = 0x80;
/// Link control octet: primary (initiating) station bit.
pub const CTRL_PRM: u8 = 0x40;
/// Transport header: final segment.
pub const TRANSPORT_FIN: u8 = 0x80;
/// Transport header: first segment.
pub const TRANSPORT_FIR: u8 = 0x40;
/// Application control: unsolicited.
pub const APP_UNS: u8 = 0x10;

/// Why DNP3 bytes could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dnp3Error {
    /// Not the 0x05 0x64 start octets.
    BadStart,
    /// A link length below 5 (it counts control and addresses).
    BadLength(u8),
    /// The link header CRC does not match.
    HeaderCrc {
        /// CRC computed over the header.
        computed: u16,
        /// CRC on the wire.
        received: u16,
    },
    /// The CRC of user-data block `block` (0-based) does not match.
    BlockCrc {
        /// Block index.
        block: usize,
    },
    /// A fragment or object ends early.
    Truncated,
    /// An application fragment too short for its header.
    ShortApdu,
    /// An object header with a qualifier code gapwatch does not know.
    BadQualifier(u8),
    /// Objects of a variation whose size gapwatch does not know, with data following.
    UnknownObjectSize {
        /// Group.
        group: u8,
        /// Variation.
        variation: u8,
    },
    /// A start-stop range whose stop is below its start.
    BadRange,
    /// More than [`MAX_OBJECT_HEADERS`] object headers in one fragment.
    TooManyObjectHeaders,
}

impl fmt::Display for Dnp3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadStart => f.write_str("link frame does not start with 0x0564"),
            Self::BadLength(l) => write!(f, "link length {l} below 5"),
            Self::HeaderCrc { computed, received } => {
                write!(
                    f,
                    "link header CRC {received:#06x}, computed {computed:#06x}"
                )
            }
            Self::BlockCrc { block } => write!(f, "CRC mismatch in user data block {block}"),
            Self::Truncated => f.write_str("fragment truncated"),
            Self::ShortApdu => f.write_str("application fragment shorter than its header"),
            Self::BadQualifier(q) => write!(f, "unknown qualifier {q:#04x}"),
            Self::UnknownObjectSize { group, variation } => {
                write!(f, "objects of g{group}v{variation} cannot be sized")
            }
            Self::BadRange => f.write_str("range stop below start"),
            Self::TooManyObjectHeaders => {
                write!(f, "more than {MAX_OBJECT_HEADERS} object headers")
            }
        }
    }
}

impl std::error::Error for Dnp3Error {}

const fn crc_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u16;
        let mut j = 0;
        while j < 8 {
            // 0xA6BC is the DNP3 polynomial 0x3D65 bit-reversed.
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xA6BC
            } else {
                c >> 1
            };
            j += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static CRC_TABLE: [u16; 256] = crc_table();

/// The DNP3 CRC of `data` (sent little-endian after the bytes it covers).
pub fn crc(data: &[u8]) -> u16 {
    let mut c = 0u16;
    for &b in data {
        c = (c >> 8) ^ CRC_TABLE[usize::from((c ^ u16::from(b)) as u8)];
    }
    !c
}

/// The link header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkHeader {
    /// Length: control, addresses and user data, CRCs excluded.
    pub length: u8,
    /// Control octet (DIR, PRM, FCB/FCV, function).
    pub control: u8,
    /// Destination address.
    pub destination: u16,
    /// Source address.
    pub source: u16,
}

impl LinkHeader {
    /// Octets of user data the frame carries.
    pub fn user_len(&self) -> usize {
        usize::from(self.length).saturating_sub(5)
    }

    /// Octets of the whole frame on the wire.
    pub fn frame_len(&self) -> usize {
        let n = self.user_len();
        LINK_HEADER_LEN + n + 2 * n.div_ceil(BLOCK_LEN)
    }

    /// True for a primary frame carrying user data (confirmed or unconfirmed).
    pub fn has_user_data(&self) -> bool {
        self.control & CTRL_PRM != 0 && matches!(self.control & 0x0F, 3 | 4) && self.user_len() > 0
    }
}

/// Validates a link header at the start of `data` (10 bytes needed).
pub fn parse_link_header(data: &[u8]) -> Result<Option<LinkHeader>, Dnp3Error> {
    if data.len() >= 2 && data[..2] != START {
        return Err(Dnp3Error::BadStart);
    }
    if data.first().is_some_and(|&b| b != START[0]) {
        return Err(Dnp3Error::BadStart);
    }
    let Some(h) = data.get(..LINK_HEADER_LEN) else {
        return Ok(None);
    };
    let computed = crc(&h[..8]);
    let received = u16::from_le_bytes([h[8], h[9]]);
    if computed != received {
        return Err(Dnp3Error::HeaderCrc { computed, received });
    }
    if h[2] < 5 {
        return Err(Dnp3Error::BadLength(h[2]));
    }
    Ok(Some(LinkHeader {
        length: h[2],
        control: h[3],
        destination: u16::from_le_bytes([h[4], h[5]]),
        source: u16::from_le_bytes([h[6], h[7]]),
    }))
}

/// Result of reading one link frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkFrame {
    /// A whole frame; its user data (CRCs removed) is in the caller's buffer.
    Complete {
        /// The header.
        header: LinkHeader,
        /// Octets of user data written to the buffer.
        user_len: usize,
        /// Octets the frame took.
        consumed: usize,
    },
    /// More octets are needed.
    Incomplete {
        /// At least this many more.
        needed: usize,
    },
}

/// Reads one link frame from the front of `data`, checking the header CRC and the CRC of
/// every user-data block, and copies the user data into `user`.
///
/// A block CRC error is reported after the header was validated, so the caller may skip
/// the frame by its length ([`LinkHeader::frame_len`]) and stay in step.
pub fn parse_link_frame(
    data: &[u8],
    user: &mut [u8; MAX_USER_DATA],
) -> Result<LinkFrame, Dnp3Error> {
    let Some(header) = parse_link_header(data)? else {
        return Ok(LinkFrame::Incomplete {
            needed: LINK_HEADER_LEN - data.len(),
        });
    };
    let total = header.frame_len();
    let Some(frame) = data.get(..total) else {
        return Ok(LinkFrame::Incomplete {
            needed: total - data.len(),
        });
    };
    let mut written = 0;
    for (block, chunk) in frame[LINK_HEADER_LEN..].chunks(BLOCK_LEN + 2).enumerate() {
        let (body, crc_bytes) = chunk.split_at(chunk.len().saturating_sub(2));
        if crc_bytes.len() != 2 || crc(body) != u16::from_le_bytes([crc_bytes[0], crc_bytes[1]]) {
            return Err(Dnp3Error::BlockCrc { block });
        }
        let dst = user
            .get_mut(written..written + body.len())
            .ok_or(Dnp3Error::Truncated)?;
        dst.copy_from_slice(body);
        written += body.len();
    }
    Ok(LinkFrame::Complete {
        header,
        user_len: written,
        consumed: total,
    })
}

/// Builds a link frame around `user` data with correct CRCs (for tests and tools; it
/// allocates). `user` longer than [`MAX_USER_DATA`] is cut.
pub fn encode_link_frame(control: u8, destination: u16, source: u16, user: &[u8]) -> Vec<u8> {
    let user = &user[..user.len().min(MAX_USER_DATA)];
    let mut out = Vec::with_capacity(LINK_HEADER_LEN + user.len() + 40);
    out.extend_from_slice(&START);
    out.push((user.len() + 5) as u8);
    out.push(control);
    out.extend_from_slice(&destination.to_le_bytes());
    out.extend_from_slice(&source.to_le_bytes());
    let c = crc(&out);
    out.extend_from_slice(&c.to_le_bytes());
    for block in user.chunks(BLOCK_LEN) {
        out.extend_from_slice(block);
        out.extend_from_slice(&crc(block).to_le_bytes());
    }
    out
}

/// The application header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppHeader {
    /// Application control octet (FIR, FIN, CON, UNS, sequence).
    pub control: u8,
    /// Function code.
    pub function: u8,
    /// Internal indications (IIN1 in the high byte), for responses.
    pub iin: Option<u16>,
}

impl AppHeader {
    /// Application sequence number.
    pub fn seq(&self) -> u8 {
        self.control & 0x0F
    }

    /// True for an unsolicited message.
    pub fn unsolicited(&self) -> bool {
        self.control & APP_UNS != 0
    }
}

/// Splits an application fragment into its header and object bytes.
pub fn parse_app(apdu: &[u8]) -> Result<(AppHeader, &[u8]), Dnp3Error> {
    let [control, function, rest @ ..] = apdu else {
        return Err(Dnp3Error::ShortApdu);
    };
    if super::constants::is_response_function(*function) {
        let [i1, i2, objects @ ..] = rest else {
            return Err(Dnp3Error::ShortApdu);
        };
        Ok((
            AppHeader {
                control: *control,
                function: *function,
                iin: Some(u16::from_be_bytes([*i1, *i2])),
            },
            objects,
        ))
    } else {
        Ok((
            AppHeader {
                control: *control,
                function: *function,
                iin: None,
            },
            rest,
        ))
    }
}

/// The points an object header names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// Points `start..=stop`.
    StartStop {
        /// First index.
        start: u32,
        /// Last index.
        stop: u32,
    },
    /// A number of objects (with index or size prefixes, or none).
    Count(u32),
    /// All points (qualifier 0x06).
    All,
}

/// One object header and the bytes of its objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectHeader<'a> {
    /// Group.
    pub group: u8,
    /// Variation.
    pub variation: u8,
    /// Qualifier octet.
    pub qualifier: u8,
    /// Range.
    pub range: Range,
    /// The objects, prefixes included; empty when the message carries none.
    pub data: &'a [u8],
}

impl ObjectHeader<'_> {
    /// Number of objects the header announces (0 for all points).
    pub fn count(&self) -> u32 {
        match self.range {
            Range::StartStop { start, stop } => stop.saturating_sub(start).saturating_add(1),
            Range::Count(n) => n,
            Range::All => 0,
        }
    }

    /// Octets of the prefix before each object: index or size.
    pub fn prefix_len(&self) -> usize {
        match self.qualifier >> 4 & 0x07 {
            1 | 4 => 1,
            2 | 5 => 2,
            3 | 6 => 4,
            _ => 0,
        }
    }

    /// True when the prefix is a point index (not an object size).
    pub fn index_prefixed(&self) -> bool {
        matches!(self.qualifier >> 4 & 0x07, 1..=3)
    }
}

/// Walks the object headers of a fragment. Yields an error once and then stops.
#[derive(Clone, Debug)]
pub struct ObjectHeaders<'a> {
    data: &'a [u8],
    with_data: bool,
    seen: usize,
    done: bool,
    pending_error: Option<Dnp3Error>,
    unsizable: Option<(u8, u8)>,
}

impl<'a> ObjectHeaders<'a> {
    /// Headers of `objects`; `with_data` says whether object data follow each header
    /// (responses and most requests except reads, see
    /// [`super::constants::request_carries_data`]).
    pub fn new(objects: &'a [u8], with_data: bool) -> Self {
        Self {
            data: objects,
            with_data,
            seen: 0,
            done: false,
            pending_error: None,
            unsizable: None,
        }
    }

    /// The group and variation whose objects could not be sized, which ended the walk
    /// early (its header was still yielded, with all remaining bytes as data).
    pub fn unsizable(&self) -> Option<(u8, u8)> {
        self.unsizable
    }

    fn next_header(&mut self) -> Result<ObjectHeader<'a>, Dnp3Error> {
        let [group, variation, qualifier, rest @ ..] = self.data else {
            return Err(Dnp3Error::Truncated);
        };
        let (group, variation, qualifier) = (*group, *variation, *qualifier);
        let le = |b: &[u8], n: usize| -> Result<u32, Dnp3Error> {
            let b = b.get(..n).ok_or(Dnp3Error::Truncated)?;
            Ok(b.iter().rev().fold(0u32, |acc, &x| acc << 8 | u32::from(x)))
        };
        let (range, range_len) = match qualifier & 0x0F {
            code @ (0..=5) => {
                let width = [1, 2, 4][usize::from(code % 3)];
                let start = le(rest, width)?;
                let stop = le(rest.get(width..).ok_or(Dnp3Error::Truncated)?, width)?;
                if stop < start {
                    return Err(Dnp3Error::BadRange);
                }
                (Range::StartStop { start, stop }, 2 * width)
            }
            6 => (Range::All, 0),
            code @ (7..=9) => {
                let width = [1, 2, 4][usize::from(code - 7)];
                (Range::Count(le(rest, width)?), width)
            }
            0x0B => (Range::Count(le(rest, 1)?), 1),
            _ => return Err(Dnp3Error::BadQualifier(qualifier)),
        };
        let body = rest.get(range_len..).ok_or(Dnp3Error::Truncated)?;
        let mut header = ObjectHeader {
            group,
            variation,
            qualifier,
            range,
            data: &[],
        };
        match self.objects_len(&header, body) {
            Ok(len) if len <= body.len() => {
                header.data = &body[..len];
                self.data = &body[len..];
            }
            // The header itself is sound: report it with what follows, then stop (the
            // next header cannot be found) and, for short data, report the truncation.
            Ok(_) | Err(Dnp3Error::Truncated) => {
                header.data = body;
                self.data = &[];
                self.pending_error = Some(Dnp3Error::Truncated);
            }
            Err(Dnp3Error::UnknownObjectSize { group, variation }) => {
                header.data = body;
                self.data = &[];
                self.unsizable = Some((group, variation));
            }
            Err(e) => return Err(e),
        }
        Ok(header)
    }

    /// Octets the objects of `h` take at the front of `body`.
    fn objects_len(&self, h: &ObjectHeader<'_>, body: &[u8]) -> Result<usize, Dnp3Error> {
        let n = usize::try_from(h.count()).unwrap_or(usize::MAX);
        let prefix = h.prefix_len();
        // Time objects carry data even in requests that otherwise name points only
        // (freeze at time, record current time).
        let with_data = self.with_data || matches!(h.group, 50..=52);
        let size_prefixed = prefix > 0 && !h.index_prefixed();
        let size = if size_prefixed {
            // Size-prefixed objects (file transport, authentication) carry data even
            // in a read.
            Some(ObjectSize::Variable)
        } else if with_data {
            object_size(h.group, h.variation)
        } else {
            Some(ObjectSize::Empty)
        };
        let overflow = || Dnp3Error::Truncated;
        match size {
            Some(ObjectSize::Empty) => n.checked_mul(prefix).ok_or_else(overflow),
            Some(ObjectSize::Fixed(s)) => n.checked_mul(prefix + s).ok_or_else(overflow),
            Some(ObjectSize::Bits(b)) if !h.index_prefixed() && prefix == 0 => n
                .checked_mul(b)
                .map(|bits| bits.div_ceil(8))
                .ok_or_else(overflow),
            Some(ObjectSize::Variable) if !h.index_prefixed() && prefix > 0 => {
                // Each object is preceded by its size.
                let mut at = 0usize;
                for _ in 0..n {
                    let p = body.get(at..at + prefix).ok_or(Dnp3Error::Truncated)?;
                    let size = p
                        .iter()
                        .rev()
                        .fold(0usize, |acc, &x| acc << 8 | usize::from(x));
                    at = at
                        .checked_add(prefix + size)
                        .filter(|&end| end <= body.len())
                        .ok_or(Dnp3Error::Truncated)?;
                }
                Ok(at)
            }
            Some(ObjectSize::Variable) if h.group == 0 => {
                // Device attributes: data type, length, value.
                let mut at = 0usize;
                for _ in 0..n {
                    at += prefix;
                    let len = *body.get(at + 1).ok_or(Dnp3Error::Truncated)?;
                    at = at
                        .checked_add(2 + usize::from(len))
                        .filter(|&end| end <= body.len())
                        .ok_or(Dnp3Error::Truncated)?;
                }
                Ok(at)
            }
            _ => Err(Dnp3Error::UnknownObjectSize {
                group: h.group,
                variation: h.variation,
            }),
        }
    }
}

impl<'a> Iterator for ObjectHeaders<'a> {
    type Item = Result<ObjectHeader<'a>, Dnp3Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending_error.take() {
            self.done = true;
            return Some(Err(e));
        }
        if self.done || self.data.is_empty() {
            return None;
        }
        if self.seen >= MAX_OBJECT_HEADERS {
            self.done = true;
            return Some(Err(Dnp3Error::TooManyObjectHeaders));
        }
        self.seen += 1;
        let item = self.next_header();
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}

/// Splits the objects of an index-prefixed header into (index, object bytes) pairs.
pub fn indexed_objects<'a>(
    h: &ObjectHeader<'a>,
    object_len: usize,
) -> impl Iterator<Item = (u32, &'a [u8])> + 'a {
    let prefix = h.prefix_len();
    let step = prefix + object_len;
    let data = h.data;
    let chunks = if step == 0 {
        data[..0].chunks(1)
    } else {
        data.chunks(step)
    };
    chunks.filter(move |c| c.len() == step).map(move |c| {
        let index = c[..prefix]
            .iter()
            .rev()
            .fold(0u32, |acc, &x| acc << 8 | u32::from(x));
        (index, &c[prefix..])
    })
}

/// The value an object reports or commands, for the variations gapwatch reads: binary
/// states, double-bit states, counters, analog values and outputs, CROB commands.
pub fn point_value(group: u8, variation: u8, obj: &[u8]) -> Option<f64> {
    let i32le = |at: usize| -> Option<f64> {
        Some(f64::from(i32::from_le_bytes(
            obj.get(at..at + 4)?.try_into().ok()?,
        )))
    };
    let i16le = |at: usize| -> Option<f64> {
        Some(f64::from(i16::from_le_bytes(
            obj.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let u32le = |at: usize| -> Option<f64> {
        Some(f64::from(u32::from_le_bytes(
            obj.get(at..at + 4)?.try_into().ok()?,
        )))
    };
    let u16le = |at: usize| -> Option<f64> {
        Some(f64::from(u16::from_le_bytes(
            obj.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let f32le = |at: usize| -> Option<f64> {
        Some(f64::from(f32::from_le_bytes(
            obj.get(at..at + 4)?.try_into().ok()?,
        )))
    };
    let f64le = |at: usize| -> Option<f64> {
        Some(f64::from_le_bytes(obj.get(at..at + 8)?.try_into().ok()?))
    };
    let flags = || obj.first().copied();
    match (group, variation) {
        (1, 2) | (2, _) | (10, 2) | (11, _) => flags().map(|f| f64::from(f >> 7)),
        (3, 2) | (4, _) => flags().map(|f| f64::from(f >> 6 & 3)),
        (12, 1 | 2) => flags().and_then(super::constants::crob_state),
        (20 | 22, 1 | 3) => u32le(1),
        (20 | 22, 2 | 4) => u16le(1),
        (20, 5 | 7) => u32le(0),
        (20, 6 | 8) => u16le(0),
        (30 | 32 | 40 | 42, 1 | 3) if group != 40 || variation == 1 => {
            if (group, variation) == (30, 3) {
                i32le(0)
            } else {
                i32le(1)
            }
        }
        (30, 4) => i16le(0),
        (30 | 32 | 40 | 42, 2 | 4) if !(group == 40 && variation == 4) => i16le(1),
        (40, 3) | (30 | 32 | 42, 5 | 7) => f32le(1),
        (40, 4) | (30 | 32 | 42, 6 | 8) => f64le(1),
        (41, 1) => i32le(0),
        (41, 2) => i16le(0),
        (41, 3) => f32le(0),
        (41, 4) => f64le(0),
        _ => None,
    }
}
