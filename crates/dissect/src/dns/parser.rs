//! DNS wire format (RFC 1035), shared by unicast DNS, mDNS (RFC 6762) and LLMNR (RFC 4795).
//!
//! Pure functions over borrowed bytes: [`parse_message`] validates a whole message once
//! (every name, every record header, the RDATA of the types we read) and returns a
//! [`Message`] whose iterators then walk the same bytes again without allocating.
//! [`parse_tcp_frame`] splits the 2-byte length framing used over TCP.
//!
//! Caps: a name is at most [`MAX_NAME_WIRE_LEN`] bytes and [`MAX_LABELS`] labels, and at
//! most [`MAX_POINTER_HOPS`] compression pointers are followed in one name. Every pointer
//! must point strictly before the bytes that led to it, so a walk always terminates even
//! without the hop cap (the cap bounds the work per name).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Length of the fixed DNS header.
pub const HEADER_LEN: usize = 12;
/// Longest name in wire form, length bytes and terminating zero included (RFC 1035 §2.3.4).
pub const MAX_NAME_WIRE_LEN: usize = 255;
/// Most labels accepted in one name (a 255-byte name holds at most 127).
pub const MAX_LABELS: usize = 127;
/// Most compression pointers followed while reading one name.
pub const MAX_POINTER_HOPS: usize = 32;

/// Byte offsets of the header fields.
mod field {
    use std::ops::Range;
    pub const ID: Range<usize> = 0..2;
    pub const FLAGS: Range<usize> = 2..4;
    pub const QDCOUNT: Range<usize> = 4..6;
    pub const ANCOUNT: Range<usize> = 6..8;
    pub const NSCOUNT: Range<usize> = 8..10;
    pub const ARCOUNT: Range<usize> = 10..12;
}

/// Flag bits of the second header word.
mod flag {
    pub const QR: u16 = 0x8000;
    pub const TC: u16 = 0x0200;
    pub const Z: u16 = 0x0040;
}

/// Why a DNS message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DnsError {
    /// The message ends inside the header, a name or a record.
    Truncated,
    /// A label length byte between 64 and 191: longer than the 63-byte maximum (these
    /// values are also the obsolete extended label types, which no one sends).
    LabelTooLong(u8),
    /// A name longer than [`MAX_NAME_WIRE_LEN`] bytes in wire form.
    NameTooLong,
    /// A name with more than [`MAX_LABELS`] labels.
    TooManyLabels,
    /// A compression pointer to an offset at or after the bytes that led to it; following
    /// it could loop.
    PointerLoop {
        /// Offset the pointer names.
        target: u16,
    },
    /// A compression pointer beyond the end of the message.
    PointerOutOfRange {
        /// Offset the pointer names.
        target: u16,
    },
    /// More than [`MAX_POINTER_HOPS`] pointers in one name.
    TooManyPointers,
    /// RDATA whose length does not fit its type (an A record that is not 4 bytes ...).
    BadRdataLength {
        /// Record type.
        rtype: RecordType,
        /// RDLENGTH as stated.
        len: u16,
    },
    /// A name inside RDATA runs past the end RDLENGTH gives.
    RdataOverrun,
    /// A TCP length prefix too small to hold a DNS header.
    TcpLengthTooShort(u16),
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("message truncated"),
            Self::LabelTooLong(len) => write!(f, "label length byte {len:#04x} exceeds 63"),
            Self::NameTooLong => write!(f, "name longer than {MAX_NAME_WIRE_LEN} bytes"),
            Self::TooManyLabels => write!(f, "name with more than {MAX_LABELS} labels"),
            Self::PointerLoop { target } => {
                write!(
                    f,
                    "compression pointer to {target} does not point backwards"
                )
            }
            Self::PointerOutOfRange { target } => {
                write!(f, "compression pointer to {target} beyond the message")
            }
            Self::TooManyPointers => {
                write!(
                    f,
                    "more than {MAX_POINTER_HOPS} compression pointers in a name"
                )
            }
            Self::BadRdataLength { rtype, len } => {
                write!(f, "{rtype} record with rdata length {len}")
            }
            Self::RdataOverrun => f.write_str("name in rdata runs past the rdata length"),
            Self::TcpLengthTooShort(len) => write!(f, "TCP length prefix {len} below 12"),
        }
    }
}

impl std::error::Error for DnsError {}

/// DNS operation code (header bits 11–14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// Standard query (0).
    Query,
    /// Inverse query (1, obsolete).
    IQuery,
    /// Server status request (2).
    Status,
    /// Zone change notification (4).
    Notify,
    /// Dynamic update (5).
    Update,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for Opcode {
    fn from(value: u8) -> Self {
        match value {
            0 => Self::Query,
            1 => Self::IQuery,
            2 => Self::Status,
            4 => Self::Notify,
            5 => Self::Update,
            other => Self::Unknown(other),
        }
    }
}

impl From<Opcode> for u8 {
    fn from(value: Opcode) -> Self {
        match value {
            Opcode::Query => 0,
            Opcode::IQuery => 1,
            Opcode::Status => 2,
            Opcode::Notify => 4,
            Opcode::Update => 5,
            Opcode::Unknown(other) => other,
        }
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Query => "query",
            Self::IQuery => "iquery",
            Self::Status => "status",
            Self::Notify => "notify",
            Self::Update => "update",
            Self::Unknown(n) => return write!(f, "unknown-{n}"),
        };
        f.write_str(name)
    }
}

/// Resource record type. Types gapwatch reads have a variant; the rest are kept as
/// `Unknown(n)` and their RDATA is skipped by length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// IPv4 address (1).
    A,
    /// Name server (2).
    Ns,
    /// Canonical name (5).
    Cname,
    /// Start of authority (6).
    Soa,
    /// Domain name pointer (12).
    Ptr,
    /// Mail exchange (15).
    Mx,
    /// Text (16).
    Txt,
    /// IPv6 address (28).
    Aaaa,
    /// Service locator (33).
    Srv,
    /// EDNS(0) pseudo-record (41).
    Opt,
    /// Next secure record (47).
    Nsec,
    /// Query for any type (255).
    Any,
    /// Any other type.
    Unknown(u16),
}

impl From<u16> for RecordType {
    fn from(value: u16) -> Self {
        match value {
            1 => Self::A,
            2 => Self::Ns,
            5 => Self::Cname,
            6 => Self::Soa,
            12 => Self::Ptr,
            15 => Self::Mx,
            16 => Self::Txt,
            28 => Self::Aaaa,
            33 => Self::Srv,
            41 => Self::Opt,
            47 => Self::Nsec,
            255 => Self::Any,
            other => Self::Unknown(other),
        }
    }
}

impl From<RecordType> for u16 {
    fn from(value: RecordType) -> Self {
        match value {
            RecordType::A => 1,
            RecordType::Ns => 2,
            RecordType::Cname => 5,
            RecordType::Soa => 6,
            RecordType::Ptr => 12,
            RecordType::Mx => 15,
            RecordType::Txt => 16,
            RecordType::Aaaa => 28,
            RecordType::Srv => 33,
            RecordType::Opt => 41,
            RecordType::Nsec => 47,
            RecordType::Any => 255,
            RecordType::Unknown(other) => other,
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::A => "A",
            Self::Ns => "NS",
            Self::Cname => "CNAME",
            Self::Soa => "SOA",
            Self::Ptr => "PTR",
            Self::Mx => "MX",
            Self::Txt => "TXT",
            Self::Aaaa => "AAAA",
            Self::Srv => "SRV",
            Self::Opt => "OPT",
            Self::Nsec => "NSEC",
            Self::Any => "ANY",
            Self::Unknown(n) => return write!(f, "unknown-{n}"),
        };
        f.write_str(name)
    }
}

/// The fixed 12-byte header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Transaction id.
    pub id: u16,
    /// Flag word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE).
    pub flags: u16,
    /// Number of questions.
    pub qdcount: u16,
    /// Number of answer records.
    pub ancount: u16,
    /// Number of authority records.
    pub nscount: u16,
    /// Number of additional records.
    pub arcount: u16,
}

impl Header {
    /// Reads the header at the start of `data`.
    pub fn parse(data: &[u8]) -> Result<Self, DnsError> {
        Ok(Self {
            id: be16(data, field::ID.start)?,
            flags: be16(data, field::FLAGS.start)?,
            qdcount: be16(data, field::QDCOUNT.start)?,
            ancount: be16(data, field::ANCOUNT.start)?,
            nscount: be16(data, field::NSCOUNT.start)?,
            arcount: be16(data, field::ARCOUNT.start)?,
        })
    }

    /// True for responses (QR set).
    pub fn is_response(&self) -> bool {
        self.flags & flag::QR != 0
    }

    /// True when the sender truncated the message (TC set).
    pub fn is_truncated(&self) -> bool {
        self.flags & flag::TC != 0
    }

    /// Operation code.
    pub fn opcode(&self) -> Opcode {
        // The opcode is four bits, so the cast cannot lose information.
        Opcode::from(((self.flags >> 11) & 0x0f) as u8)
    }

    /// Response code (low four bits; extended RCODE bits from EDNS are not merged).
    pub fn rcode(&self) -> u8 {
        (self.flags & 0x0f) as u8
    }
}

/// Cheap check that `data` starts like a DNS message: the content half of protocol
/// selection. Requires 1 to 16 questions, a defined opcode, the reserved Z bit clear, a
/// defined RCODE and at most 256 records per section.
pub fn plausible_header(data: &[u8]) -> bool {
    let Ok(h) = Header::parse(data) else {
        return false;
    };
    (1..=16).contains(&h.qdcount) && sane_flags_and_counts(&h)
}

/// Like [`plausible_header`] but also accepts zero questions when the message is a
/// response with answers, which is how mDNS announces records.
pub fn plausible_mdns_header(data: &[u8]) -> bool {
    let Ok(h) = Header::parse(data) else {
        return false;
    };
    let questions_ok =
        (1..=16).contains(&h.qdcount) || (h.qdcount == 0 && h.is_response() && h.ancount > 0);
    questions_ok && sane_flags_and_counts(&h)
}

fn sane_flags_and_counts(h: &Header) -> bool {
    !matches!(h.opcode(), Opcode::Unknown(_))
        && h.flags & flag::Z == 0
        && h.rcode() <= 10
        && h.ancount <= 256
        && h.nscount <= 256
        && h.arcount <= 256
}

/// A name inside a message: where it starts. Reading it follows compression pointers
/// within the message it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name<'a> {
    msg: &'a [u8],
    start: usize,
}

impl<'a> Name<'a> {
    /// The name at offset `start` of message `msg` (not validated; see [`Name::validate`]).
    pub fn new(msg: &'a [u8], start: usize) -> Self {
        Self { msg, start }
    }

    /// Offset of the name's first byte in the message.
    pub fn start(&self) -> usize {
        self.start
    }

    /// Checks every cap and returns the offset just after the name's own bytes (after the
    /// terminating zero or the first pointer).
    pub fn validate(&self) -> Result<usize, DnsError> {
        let mut labels = self.labels();
        while labels.next_label()?.is_some() {}
        labels.end.ok_or(DnsError::Truncated)
    }

    /// The labels, outermost (leftmost) first. Stops early on a malformed name; names
    /// from a [`Message`] are validated and always read completely.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            msg: self.msg,
            pos: self.start,
            floor: self.start,
            hops: 0,
            labels: 0,
            wire_len: 0,
            end: None,
            done: false,
        }
    }

    /// Appends the name in dotted text form to `out` (no trailing dot; the root name
    /// appends nothing). Bytes that are not printable text are written as `\DDD`.
    pub fn write_text(&self, out: &mut String) {
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                out.push('.');
            }
            push_label_text(out, label);
        }
    }
}

/// Iterator over the labels of a [`Name`].
#[derive(Clone, Debug)]
pub struct Labels<'a> {
    msg: &'a [u8],
    pos: usize,
    /// Every pointer must name an offset below this; it falls with each hop.
    floor: usize,
    hops: usize,
    labels: usize,
    wire_len: usize,
    end: Option<usize>,
    done: bool,
}

impl<'a> Labels<'a> {
    /// The next label, `Ok(None)` at the end of the name, or why the name is malformed.
    pub fn next_label(&mut self) -> Result<Option<&'a [u8]>, DnsError> {
        if self.done {
            return Ok(None);
        }
        let result = self.step();
        if !matches!(result, Ok(Some(_))) {
            self.done = true;
        }
        result
    }

    fn step(&mut self) -> Result<Option<&'a [u8]>, DnsError> {
        loop {
            let len = *self.msg.get(self.pos).ok_or(DnsError::Truncated)?;
            match len {
                0 => {
                    self.end.get_or_insert(self.pos + 1);
                    return Ok(None);
                }
                1..=63 => {
                    let len = usize::from(len);
                    let first = self.pos + 1;
                    let label = self
                        .msg
                        .get(first..first + len)
                        .ok_or(DnsError::Truncated)?;
                    self.wire_len += 1 + len;
                    // One more byte for the terminating zero must still fit.
                    if self.wire_len >= MAX_NAME_WIRE_LEN {
                        return Err(DnsError::NameTooLong);
                    }
                    self.labels += 1;
                    if self.labels > MAX_LABELS {
                        return Err(DnsError::TooManyLabels);
                    }
                    self.pos = first + len;
                    return Ok(Some(label));
                }
                0xc0..=0xff => {
                    let low = *self.msg.get(self.pos + 1).ok_or(DnsError::Truncated)?;
                    let target = u16::from_be_bytes([len & 0x3f, low]);
                    self.end.get_or_insert(self.pos + 2);
                    self.hops += 1;
                    if self.hops > MAX_POINTER_HOPS {
                        return Err(DnsError::TooManyPointers);
                    }
                    let t = usize::from(target);
                    if t >= self.msg.len() {
                        return Err(DnsError::PointerOutOfRange { target });
                    }
                    if t >= self.floor {
                        return Err(DnsError::PointerLoop { target });
                    }
                    self.floor = t;
                    self.pos = t;
                }
                other => return Err(DnsError::LabelTooLong(other)),
            }
        }
    }
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<Self::Item> {
        self.next_label().ok().flatten()
    }
}

/// Appends one label (or any announced name bytes) as text: valid UTF-8 without control
/// characters as is, anything else byte by byte with `\DDD` escapes for the unprintable.
pub(crate) fn push_label_text(out: &mut String, bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if !text
            .chars()
            .any(|c| c.is_control() || c == '.' || c == '\\')
        {
            out.push_str(text);
            return;
        }
    }
    for &b in bytes {
        match b {
            b'.' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                out.push('\\');
                out.push(char::from(b'0' + b / 100));
                out.push(char::from(b'0' + (b / 10) % 10));
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
}

/// Which part of a message a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// Answer section.
    Answer,
    /// Authority section.
    Authority,
    /// Additional section.
    Additional,
}

/// One question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Question<'a> {
    /// Name asked about.
    pub name: Name<'a>,
    /// Type asked for.
    pub qtype: RecordType,
    /// Class (for mDNS the top bit is the unicast-response flag).
    pub qclass: u16,
}

/// The RDATA of a record, decoded for the types gapwatch reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RData<'a> {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// PTR target.
    Ptr(Name<'a>),
    /// CNAME target.
    Cname(Name<'a>),
    /// Any other type, raw.
    Other(&'a [u8]),
}

/// One resource record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Section it came from.
    pub section: Section,
    /// Owner name.
    pub name: Name<'a>,
    /// Type.
    pub rtype: RecordType,
    /// Class (for mDNS the top bit is the cache-flush flag).
    pub class: u16,
    /// Time to live, seconds.
    pub ttl: u32,
    /// Decoded data.
    pub rdata: RData<'a>,
}

/// A validated DNS message. Its iterators read the borrowed bytes again; validation
/// guarantees they yield every question and record the header announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    data: &'a [u8],
    /// The header.
    pub header: Header,
    records_start: usize,
    end: usize,
}

impl<'a> Message<'a> {
    /// The questions, in order.
    pub fn questions(&self) -> Questions<'a> {
        Questions {
            data: self.data,
            pos: HEADER_LEN,
            left: self.header.qdcount,
        }
    }

    /// Answer, authority and additional records, in wire order.
    pub fn records(&self) -> Records<'a> {
        Records {
            data: self.data,
            pos: self.records_start,
            left: [
                self.header.ancount,
                self.header.nscount,
                self.header.arcount,
            ],
        }
    }

    /// Bytes the message occupies (trailing bytes after the last record excluded).
    pub fn len(&self) -> usize {
        self.end
    }

    /// True for a message with no bytes (never: a header is 12 bytes).
    pub fn is_empty(&self) -> bool {
        self.end == 0
    }
}

/// Iterator over a message's questions.
#[derive(Clone, Debug)]
pub struct Questions<'a> {
    data: &'a [u8],
    pos: usize,
    left: u16,
}

impl<'a> Iterator for Questions<'a> {
    type Item = Question<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        match parse_question(self.data, self.pos) {
            Ok((q, next)) => {
                self.pos = next;
                Some(q)
            }
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }
}

/// Iterator over a message's records.
#[derive(Clone, Debug)]
pub struct Records<'a> {
    data: &'a [u8],
    pos: usize,
    left: [u16; 3],
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let sections = [Section::Answer, Section::Authority, Section::Additional];
        let idx = self.left.iter().position(|&n| n > 0)?;
        self.left[idx] -= 1;
        match parse_record(self.data, self.pos, sections[idx]) {
            Ok((r, next)) => {
                self.pos = next;
                Some(r)
            }
            Err(_) => {
                self.left = [0; 3];
                None
            }
        }
    }
}

fn be16(data: &[u8], at: usize) -> Result<u16, DnsError> {
    let b = data.get(at..at + 2).ok_or(DnsError::Truncated)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(data: &[u8], at: usize) -> Result<u32, DnsError> {
    let b = data.get(at..at + 4).ok_or(DnsError::Truncated)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn parse_question(data: &[u8], pos: usize) -> Result<(Question<'_>, usize), DnsError> {
    let name = Name::new(data, pos);
    let after = name.validate()?;
    let qtype = RecordType::from(be16(data, after)?);
    let qclass = be16(data, after + 2)?;
    Ok((
        Question {
            name,
            qtype,
            qclass,
        },
        after + 4,
    ))
}

fn parse_record(
    data: &[u8],
    pos: usize,
    section: Section,
) -> Result<(Record<'_>, usize), DnsError> {
    let name = Name::new(data, pos);
    let after = name.validate()?;
    let rtype = RecordType::from(be16(data, after)?);
    let class = be16(data, after + 2)?;
    let ttl = be32(data, after + 4)?;
    let rdlength = be16(data, after + 8)?;
    let rdata_start = after + 10;
    let rdata_end = rdata_start + usize::from(rdlength);
    let raw = data
        .get(rdata_start..rdata_end)
        .ok_or(DnsError::Truncated)?;
    let rdata = match rtype {
        RecordType::A => {
            let octets: [u8; 4] = raw.try_into().map_err(|_| DnsError::BadRdataLength {
                rtype,
                len: rdlength,
            })?;
            RData::A(Ipv4Addr::from(octets))
        }
        RecordType::Aaaa => {
            let octets: [u8; 16] = raw.try_into().map_err(|_| DnsError::BadRdataLength {
                rtype,
                len: rdlength,
            })?;
            RData::Aaaa(Ipv6Addr::from(octets))
        }
        RecordType::Ptr | RecordType::Cname => {
            let target = Name::new(data, rdata_start);
            if target.validate()? > rdata_end {
                return Err(DnsError::RdataOverrun);
            }
            if rtype == RecordType::Ptr {
                RData::Ptr(target)
            } else {
                RData::Cname(target)
            }
        }
        _ => RData::Other(raw),
    };
    Ok((
        Record {
            section,
            name,
            rtype,
            class,
            ttl,
            rdata,
        },
        rdata_end,
    ))
}

/// Parses and validates one DNS message (a whole UDP payload, or one TCP frame).
/// Bytes after the last record are ignored.
pub fn parse_message(data: &[u8]) -> Result<Message<'_>, DnsError> {
    let header = Header::parse(data)?;
    let mut pos = HEADER_LEN;
    for _ in 0..header.qdcount {
        pos = parse_question(data, pos)?.1;
    }
    let records_start = pos;
    let sections = [
        (Section::Answer, header.ancount),
        (Section::Authority, header.nscount),
        (Section::Additional, header.arcount),
    ];
    for (section, count) in sections {
        for _ in 0..count {
            pos = parse_record(data, pos, section)?.1;
        }
    }
    Ok(Message {
        data,
        header,
        records_start,
        end: pos,
    })
}

/// Result of looking for one length-prefixed message at the start of a TCP stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A whole message is present.
    Complete {
        /// The message bytes, without the length prefix.
        message: &'a [u8],
        /// Bytes to consume: prefix plus message.
        consumed: usize,
    },
    /// More bytes are needed before the message is whole.
    Incomplete {
        /// How many more bytes at least.
        needed: usize,
    },
}

/// Splits one message off a DNS-over-TCP stream (RFC 1035 §4.2.2: a 2-byte big-endian
/// length, then the message).
pub fn parse_tcp_frame(data: &[u8]) -> Result<Frame<'_>, DnsError> {
    let Some(prefix) = data.get(..2) else {
        return Ok(Frame::Incomplete {
            needed: 2 - data.len(),
        });
    };
    let len = u16::from_be_bytes([prefix[0], prefix[1]]);
    if usize::from(len) < HEADER_LEN {
        return Err(DnsError::TcpLengthTooShort(len));
    }
    let total = 2 + usize::from(len);
    match data.get(2..total) {
        Some(message) => Ok(Frame::Complete {
            message,
            consumed: total,
        }),
        None => Ok(Frame::Incomplete {
            needed: total - data.len(),
        }),
    }
}

/// The address a reverse-lookup name stands for: `d.c.b.a.in-addr.arpa` (exactly four
/// decimal labels) or the 32-nibble `ip6.arpa` form. Partial (zone) names give `None`.
pub fn reverse_name_ip(name: &Name<'_>) -> Option<IpAddr> {
    // 32 nibbles + "ip6" + "arpa"; one more slot detects longer names.
    let mut labels: [&[u8]; 35] = [&[]; 35];
    let mut n = 0;
    for label in name.labels() {
        *labels.get_mut(n)? = label;
        n += 1;
    }
    let labels = &labels[..n];
    match labels {
        [d, c, b, a, in_addr, arpa]
            if in_addr.eq_ignore_ascii_case(b"in-addr") && arpa.eq_ignore_ascii_case(b"arpa") =>
        {
            Some(IpAddr::V4(Ipv4Addr::new(
                decimal_octet(a)?,
                decimal_octet(b)?,
                decimal_octet(c)?,
                decimal_octet(d)?,
            )))
        }
        [nibbles @ .., ip6, arpa]
            if nibbles.len() == 32
                && ip6.eq_ignore_ascii_case(b"ip6")
                && arpa.eq_ignore_ascii_case(b"arpa") =>
        {
            let mut octets = [0u8; 16];
            // Nibbles are least significant first.
            for (i, nibble) in nibbles.iter().enumerate() {
                let [digit] = nibble else {
                    return None;
                };
                let value = char::from(*digit).to_digit(16)?;
                let byte = 15 - i / 2;
                // to_digit(16) is below 16, so the cast is lossless.
                let value = value as u8;
                octets[byte] |= if i % 2 == 0 { value } else { value << 4 };
            }
            Some(IpAddr::V6(Ipv6Addr::from(octets)))
        }
        _ => None,
    }
}

fn decimal_octet(label: &[u8]) -> Option<u8> {
    if label.is_empty() || label.len() > 3 || !label.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = label
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    u8::try_from(value).ok()
}
