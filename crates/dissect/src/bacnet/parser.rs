//! BACnet/IP wire views: the BVLC header, the NPDU (network layer) and the APDU header,
//! and a reader of BACnet tags (application and context) with bounded lengths.
//!
//! Pure functions over `&[u8]`; nothing allocates.

use core::fmt;

/// BVLC type of BACnet/IP.
pub const BVLC_TYPE: u8 = 0x81;
/// Longest BACnet/IP message (BVLC length field).
pub const MAX_LEN: usize = 1497;
/// Most tags read from one service request.
pub const MAX_TAGS: usize = 512;

/// Why a message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BacnetError {
    /// Fewer bytes than the structure needs.
    Truncated,
    /// Not BVLC type 0x81, or a BVLC length different from the datagram's.
    BadBvlc,
    /// An NPDU version other than 1.
    BadNpdu,
    /// An APDU type that does not exist.
    BadApdu,
    /// A tag whose length overruns the message.
    BadTag,
}

impl fmt::Display for BacnetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "truncated",
            Self::BadBvlc => "bad BVLC header",
            Self::BadNpdu => "bad NPDU",
            Self::BadApdu => "bad APDU",
            Self::BadTag => "bad tag",
        })
    }
}

impl std::error::Error for BacnetError {}

fn u16_be(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off + 2)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

/// A BVLC message: function and the bytes after the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bvlc<'a> {
    /// BVLC function.
    pub function: u8,
    /// The NPDU, for functions that carry one (after the originating address of a
    /// Forwarded-NPDU).
    pub npdu: Option<&'a [u8]>,
    /// The whole body after the 4-byte header.
    pub body: &'a [u8],
}

/// Reads a BVLC message that must fill `b` exactly.
pub fn parse_bvlc(b: &[u8]) -> Result<Bvlc<'_>, BacnetError> {
    let bvlc = parse_bvlc_unchecked(b)?;
    let len = usize::from(u16_be(b, 2).ok_or(BacnetError::Truncated)?);
    if len != b.len() {
        return Err(BacnetError::BadBvlc);
    }
    Ok(bvlc)
}

/// Reads a BVLC message from the whole of `b`, whatever its length field says (peers
/// read the datagram, so a wrong length field must not hide what follows it).
pub fn parse_bvlc_unchecked(b: &[u8]) -> Result<Bvlc<'_>, BacnetError> {
    if b.len() < 4 {
        return Err(BacnetError::Truncated);
    }
    if b[0] != BVLC_TYPE || b.len() > MAX_LEN {
        return Err(BacnetError::BadBvlc);
    }
    let function = b[1];
    let body = &b[4..];
    let npdu = match function {
        0x04 => Some(body.get(6..).ok_or(BacnetError::Truncated)?),
        0x09..=0x0B => Some(body),
        _ => None,
    };
    Ok(Bvlc {
        function,
        npdu,
        body,
    })
}

/// The BVLC length field of `b`, when it has one.
pub fn bvlc_length(b: &[u8]) -> Option<usize> {
    u16_be(b, 2).map(usize::from)
}

/// True when `b` is a BACnet/IP datagram: type 0x81, a known function, the length field
/// equal to the datagram length, and an NPDU of version 1 where one is carried.
pub fn looks_like_bacnet(b: &[u8]) -> bool {
    match parse_bvlc(b) {
        Ok(bvlc) if bvlc.function <= 0x0C => match bvlc.npdu {
            Some(n) => n.first() == Some(&1) && parse_npdu(n).is_ok(),
            None => true,
        },
        _ => false,
    }
}

/// The network layer header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Npdu<'a> {
    /// Control octet.
    pub control: u8,
    /// Destination network, when routed.
    pub dnet: Option<u16>,
    /// Destination MAC on that network (empty = broadcast).
    pub dadr: &'a [u8],
    /// Source network, when routed.
    pub snet: Option<u16>,
    /// Source MAC on that network.
    pub sadr: &'a [u8],
    /// Network-layer message type, for network messages.
    pub message_type: Option<u8>,
    /// The APDU (or the network message's data).
    pub rest: &'a [u8],
}

impl Npdu<'_> {
    /// The sender expects a reply.
    pub fn expecting_reply(&self) -> bool {
        self.control & 0x04 != 0
    }
}

/// Reads an NPDU.
pub fn parse_npdu(b: &[u8]) -> Result<Npdu<'_>, BacnetError> {
    if b.first() != Some(&1) {
        return Err(BacnetError::BadNpdu);
    }
    let control = *b.get(1).ok_or(BacnetError::Truncated)?;
    let mut off = 2;
    let (mut dnet, mut dadr, mut snet, mut sadr) = (None, &b[0..0], None, &b[0..0]);
    if control & 0x20 != 0 {
        dnet = Some(u16_be(b, off).ok_or(BacnetError::Truncated)?);
        let l = usize::from(*b.get(off + 2).ok_or(BacnetError::Truncated)?);
        dadr = b.get(off + 3..off + 3 + l).ok_or(BacnetError::Truncated)?;
        off += 3 + l;
    }
    if control & 0x08 != 0 {
        snet = Some(u16_be(b, off).ok_or(BacnetError::Truncated)?);
        let l = usize::from(*b.get(off + 2).ok_or(BacnetError::Truncated)?);
        sadr = b.get(off + 3..off + 3 + l).ok_or(BacnetError::Truncated)?;
        off += 3 + l;
    }
    if dnet.is_some() {
        // Hop count.
        off += 1;
    }
    let mut message_type = None;
    if control & 0x80 != 0 {
        let t = *b.get(off).ok_or(BacnetError::Truncated)?;
        message_type = Some(t);
        off += if t >= 0x80 { 3 } else { 1 };
    }
    Ok(Npdu {
        control,
        dnet,
        dadr,
        snet,
        sadr,
        message_type,
        rest: b.get(off..).ok_or(BacnetError::Truncated)?,
    })
}

/// The APDU header, by PDU type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apdu<'a> {
    /// Confirmed request.
    Confirmed {
        /// Invoke id.
        invoke_id: u8,
        /// Service choice.
        service: u8,
        /// Segmented message: (sequence number, more follows).
        segment: Option<(u8, bool)>,
        /// Service request data.
        data: &'a [u8],
    },
    /// Unconfirmed request.
    Unconfirmed {
        /// Service choice.
        service: u8,
        /// Service request data.
        data: &'a [u8],
    },
    /// Simple acknowledgement.
    SimpleAck {
        /// Invoke id.
        invoke_id: u8,
        /// Service acknowledged.
        service: u8,
    },
    /// Complex acknowledgement.
    ComplexAck {
        /// Invoke id.
        invoke_id: u8,
        /// Service acknowledged.
        service: u8,
        /// Segmented message: (sequence number, more follows).
        segment: Option<(u8, bool)>,
        /// Service ACK data.
        data: &'a [u8],
    },
    /// Segment acknowledgement.
    SegmentAck {
        /// Invoke id.
        invoke_id: u8,
        /// Sequence number acknowledged.
        sequence: u8,
        /// Negative acknowledgement.
        nak: bool,
    },
    /// Error.
    Error {
        /// Invoke id.
        invoke_id: u8,
        /// Service that failed.
        service: u8,
        /// Error data (class and code, possibly wrapped).
        data: &'a [u8],
    },
    /// Reject.
    Reject {
        /// Invoke id.
        invoke_id: u8,
        /// Reason.
        reason: u8,
    },
    /// Abort.
    Abort {
        /// Invoke id.
        invoke_id: u8,
        /// Reason.
        reason: u8,
        /// Sent by the server.
        server: bool,
    },
}

impl Apdu<'_> {
    /// PDU type number (0–7).
    pub fn type_code(&self) -> u8 {
        match self {
            Self::Confirmed { .. } => 0,
            Self::Unconfirmed { .. } => 1,
            Self::SimpleAck { .. } => 2,
            Self::ComplexAck { .. } => 3,
            Self::SegmentAck { .. } => 4,
            Self::Error { .. } => 5,
            Self::Reject { .. } => 6,
            Self::Abort { .. } => 7,
        }
    }
}

/// Reads an APDU header.
pub fn parse_apdu(b: &[u8]) -> Result<Apdu<'_>, BacnetError> {
    let t = |i: usize| b.get(i).copied().ok_or(BacnetError::Truncated);
    let first = t(0)?;
    Ok(match first >> 4 {
        0 => {
            let seg = first & 0x08 != 0;
            let invoke_id = t(2)?;
            let (segment, off) = if seg {
                (Some((t(3)?, first & 0x04 != 0)), 5)
            } else {
                (None, 3)
            };
            Apdu::Confirmed {
                invoke_id,
                service: t(off)?,
                segment,
                data: b.get(off + 1..).ok_or(BacnetError::Truncated)?,
            }
        }
        1 => Apdu::Unconfirmed {
            service: t(1)?,
            data: b.get(2..).ok_or(BacnetError::Truncated)?,
        },
        2 => Apdu::SimpleAck {
            invoke_id: t(1)?,
            service: t(2)?,
        },
        3 => {
            let seg = first & 0x08 != 0;
            let invoke_id = t(1)?;
            let (segment, off) = if seg {
                (Some((t(2)?, first & 0x04 != 0)), 4)
            } else {
                (None, 2)
            };
            Apdu::ComplexAck {
                invoke_id,
                service: t(off)?,
                segment,
                data: b.get(off + 1..).ok_or(BacnetError::Truncated)?,
            }
        }
        4 => Apdu::SegmentAck {
            invoke_id: t(1)?,
            sequence: t(2)?,
            nak: first & 0x02 != 0,
        },
        5 => Apdu::Error {
            invoke_id: t(1)?,
            service: t(2)?,
            data: b.get(3..).ok_or(BacnetError::Truncated)?,
        },
        6 => Apdu::Reject {
            invoke_id: t(1)?,
            reason: t(2)?,
        },
        7 => Apdu::Abort {
            invoke_id: t(1)?,
            reason: t(2)?,
            server: first & 0x01 != 0,
        },
        _ => return Err(BacnetError::BadApdu),
    })
}

/// Application tag numbers.
pub mod app {
    /// Null.
    pub const NULL: u8 = 0;
    /// Boolean (value in the tag).
    pub const BOOLEAN: u8 = 1;
    /// Unsigned integer.
    pub const UNSIGNED: u8 = 2;
    /// Signed integer.
    pub const SIGNED: u8 = 3;
    /// IEEE-754 single.
    pub const REAL: u8 = 4;
    /// IEEE-754 double.
    pub const DOUBLE: u8 = 5;
    /// Character string.
    pub const CHARACTER_STRING: u8 = 7;
    /// Enumerated.
    pub const ENUMERATED: u8 = 9;
    /// Object identifier.
    pub const OBJECT_ID: u8 = 12;
}

/// What a tag is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagKind {
    /// An application tag of this type.
    Application(u8),
    /// A context tag with this number.
    Context(u8),
    /// Opening tag of a constructed context value.
    Opening(u8),
    /// Closing tag.
    Closing(u8),
}

/// One tag and its content bytes (for application booleans, `len` holds the value and
/// `data` is empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag<'a> {
    /// Kind and number.
    pub kind: TagKind,
    /// Length/value/type field (the boolean value for application booleans).
    pub len: u32,
    /// Content.
    pub data: &'a [u8],
}

impl Tag<'_> {
    /// The content as an unsigned number (up to 4 bytes; longer gives `None`).
    pub fn unsigned(&self) -> Option<u32> {
        if self.data.is_empty() || self.data.len() > 4 {
            return None;
        }
        Some(self.data.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)))
    }

    /// The content as an object identifier: (type, instance).
    pub fn object_id(&self) -> Option<(u16, u32)> {
        if self.data.len() != 4 {
            return None;
        }
        let v = self.unsigned()?;
        Some(((v >> 22) as u16, v & 0x3F_FFFF))
    }

    /// The value of an application tag as a number, for the numeric types.
    pub fn number(&self) -> Option<f64> {
        match self.kind {
            TagKind::Application(app::BOOLEAN) => Some(f64::from(u8::from(self.len != 0))),
            TagKind::Application(app::UNSIGNED | app::ENUMERATED) => self.unsigned().map(f64::from),
            TagKind::Application(app::SIGNED) => {
                let n = self.data.len();
                if n == 0 || n > 4 {
                    return None;
                }
                let v = self.unsigned()?;
                let shift = 32 - 8 * n as u32;
                Some(f64::from(((v << shift) as i32) >> shift))
            }
            TagKind::Application(app::REAL) => {
                let s: [u8; 4] = self.data.try_into().ok()?;
                Some(f64::from(f32::from_be_bytes(s)))
            }
            TagKind::Application(app::DOUBLE) => {
                let s: [u8; 8] = self.data.try_into().ok()?;
                Some(f64::from_be_bytes(s))
            }
            _ => None,
        }
    }

    /// Text of a character-string application tag (UTF-8 / ANSI X3.4 encodings only).
    pub fn text(&self) -> Option<&str> {
        match self.kind {
            TagKind::Application(app::CHARACTER_STRING) | TagKind::Context(_) => {
                let (&charset, rest) = self.data.split_first()?;
                if charset == 0 {
                    core::str::from_utf8(rest).ok()
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

/// Reads the tag at the start of `b`; returns it and the bytes after it.
pub fn read_tag(b: &[u8]) -> Result<(Tag<'_>, &[u8]), BacnetError> {
    let first = *b.first().ok_or(BacnetError::Truncated)?;
    let mut off = 1;
    let mut number = first >> 4;
    if number == 15 {
        number = *b.get(off).ok_or(BacnetError::Truncated)?;
        off += 1;
    }
    let context = first & 0x08 != 0;
    let lvt = first & 0x07;
    if context && lvt == 6 {
        let t = Tag {
            kind: TagKind::Opening(number),
            len: 0,
            data: &[],
        };
        return Ok((t, &b[off..]));
    }
    if context && lvt == 7 {
        let t = Tag {
            kind: TagKind::Closing(number),
            len: 0,
            data: &[],
        };
        return Ok((t, &b[off..]));
    }
    if !context && number == app::BOOLEAN {
        let t = Tag {
            kind: TagKind::Application(number),
            len: u32::from(lvt),
            data: &[],
        };
        return Ok((t, &b[off..]));
    }
    let len = if lvt == 5 {
        let l = *b.get(off).ok_or(BacnetError::Truncated)?;
        off += 1;
        match l {
            254 => {
                let v = u16_be(b, off).ok_or(BacnetError::Truncated)?;
                off += 2;
                u32::from(v)
            }
            255 => {
                let s = b.get(off..off + 4).ok_or(BacnetError::Truncated)?;
                off += 4;
                u32::from_be_bytes([s[0], s[1], s[2], s[3]])
            }
            l => u32::from(l),
        }
    } else {
        u32::from(lvt)
    };
    let end = off
        .checked_add(usize::try_from(len).map_err(|_| BacnetError::BadTag)?)
        .ok_or(BacnetError::BadTag)?;
    let data = b.get(off..end).ok_or(BacnetError::BadTag)?;
    let kind = if context {
        TagKind::Context(number)
    } else {
        TagKind::Application(number)
    };
    Ok((Tag { kind, len, data }, &b[end..]))
}

/// Iterates over the tags of a service's data, stopping at the first bad tag (reported
/// through [`Tags::error`]) or after [`MAX_TAGS`].
#[derive(Clone, Debug)]
pub struct Tags<'a> {
    rest: &'a [u8],
    count: usize,
    /// Set when a tag could not be read.
    pub error: Option<BacnetError>,
}

impl<'a> Tags<'a> {
    /// Tags of `b`.
    pub fn new(b: &'a [u8]) -> Self {
        Self {
            rest: b,
            count: 0,
            error: None,
        }
    }
}

impl<'a> Iterator for Tags<'a> {
    type Item = Tag<'a>;

    fn next(&mut self) -> Option<Tag<'a>> {
        if self.rest.is_empty() || self.error.is_some() || self.count >= MAX_TAGS {
            return None;
        }
        self.count += 1;
        match read_tag(self.rest) {
            Ok((t, rest)) => {
                self.rest = rest;
                Some(t)
            }
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }
}
