//! NetBIOS name service messages (RFC 1002 §4.2).
//!
//! The format is DNS's: a 12-byte header, then questions and resource records whose
//! names are DNS names (with compression) whose first label is a NetBIOS name in
//! "first-level encoding": 16 bytes, each split into two nibbles written as `'A' + nibble`,
//! giving 32 characters. [`parse_message`] validates the whole message once; its
//! iterators then read the borrowed bytes again without allocating.

use crate::dns::parser::{self as dns, DnsError, Name};
use std::fmt;
use std::net::Ipv4Addr;

/// Length of the header.
pub const HEADER_LEN: usize = 12;
/// Length of an encoded NetBIOS name label.
pub const ENCODED_NAME_LEN: usize = 32;
/// Characters of a NetBIOS name before the suffix byte.
pub const NAME_LEN: usize = 15;

/// Record type NB (general name service resource record).
pub const TYPE_NB: u16 = 0x0020;
/// Record type NBSTAT (node status).
pub const TYPE_NBSTAT: u16 = 0x0021;
/// Class IN.
pub const CLASS_IN: u16 = 1;

/// Why an NBNS message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NbnsError {
    /// A header, name or record is cut short, or a name is malformed as a DNS name.
    Name(DnsError),
    /// The message ends inside a record.
    Truncated,
    /// A name whose first label is not 32 characters from 'A' to 'P'.
    BadEncodedName,
    /// NB record data that is not a whole number of 6-byte entries.
    BadNbLength(u16),
    /// NBSTAT record data shorter than its name count says.
    BadNodeStatusLength(u16),
}

impl From<DnsError> for NbnsError {
    fn from(e: DnsError) -> Self {
        match e {
            DnsError::Truncated => Self::Truncated,
            other => Self::Name(other),
        }
    }
}

impl fmt::Display for NbnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(e) => write!(f, "bad name: {e}"),
            Self::Truncated => f.write_str("message truncated"),
            Self::BadEncodedName => f.write_str("name is not a first-level encoded NetBIOS name"),
            Self::BadNbLength(len) => write!(f, "NB record data of {len} bytes"),
            Self::BadNodeStatusLength(len) => {
                write!(
                    f,
                    "NBSTAT record data of {len} bytes, short of its name table"
                )
            }
        }
    }
}

impl std::error::Error for NbnsError {}

/// NBNS operation code (header bits 11–14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// Name query (0).
    Query,
    /// Name registration (5).
    Registration,
    /// Name release (6).
    Release,
    /// Wait for acknowledgement (7).
    Wack,
    /// Name refresh (8).
    Refresh,
    /// Name refresh, alternate code (9).
    RefreshAlt,
    /// Multi-homed name registration (15).
    MultiHomedRegistration,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for Opcode {
    fn from(value: u8) -> Self {
        match value {
            0 => Self::Query,
            5 => Self::Registration,
            6 => Self::Release,
            7 => Self::Wack,
            8 => Self::Refresh,
            9 => Self::RefreshAlt,
            15 => Self::MultiHomedRegistration,
            other => Self::Unknown(other),
        }
    }
}

impl From<Opcode> for u8 {
    fn from(value: Opcode) -> Self {
        match value {
            Opcode::Query => 0,
            Opcode::Registration => 5,
            Opcode::Release => 6,
            Opcode::Wack => 7,
            Opcode::Refresh => 8,
            Opcode::RefreshAlt => 9,
            Opcode::MultiHomedRegistration => 15,
            Opcode::Unknown(other) => other,
        }
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Query => "query",
            Self::Registration => "registration",
            Self::Release => "release",
            Self::Wack => "wack",
            Self::Refresh => "refresh",
            Self::RefreshAlt => "refresh",
            Self::MultiHomedRegistration => "multi-homed-registration",
            Self::Unknown(n) => return write!(f, "unknown-{n}"),
        };
        f.write_str(name)
    }
}

/// The header (same layout as DNS).
pub type Header = dns::Header;

/// Operation code of an NBNS header.
pub fn opcode(header: &Header) -> Opcode {
    // Four bits, so the cast is lossless.
    Opcode::from(((header.flags >> 11) & 0x0f) as u8)
}

/// A decoded NetBIOS name: up to 15 characters (trailing space padding removed) and the
/// suffix byte that says what the name stands for (0x00 workstation, 0x20 file server,
/// 0x1c domain controllers ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NetbiosName {
    bytes: [u8; NAME_LEN],
    len: u8,
    /// Suffix (16th byte).
    pub suffix: u8,
}

impl NetbiosName {
    /// Decodes a 32-character first-level encoded label.
    pub fn decode(label: &[u8]) -> Result<Self, NbnsError> {
        let encoded: &[u8; ENCODED_NAME_LEN] =
            label.try_into().map_err(|_| NbnsError::BadEncodedName)?;
        let mut raw = [0u8; 16];
        for (out, pair) in raw.iter_mut().zip(encoded.chunks_exact(2)) {
            let [hi, lo] = pair else {
                return Err(NbnsError::BadEncodedName);
            };
            let nibble = |c: u8| match c {
                b'A'..=b'P' => Ok(c - b'A'),
                _ => Err(NbnsError::BadEncodedName),
            };
            *out = (nibble(*hi)? << 4) | nibble(*lo)?;
        }
        let mut bytes = [0u8; NAME_LEN];
        bytes.copy_from_slice(&raw[..NAME_LEN]);
        let len = bytes.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
        Ok(Self {
            bytes,
            // At most 15, so it fits.
            len: len as u8,
            suffix: raw[NAME_LEN],
        })
    }

    /// The name without padding or suffix.
    pub fn name(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Appends the name as text (unprintable bytes escaped).
    pub fn write_text(&self, out: &mut String) {
        dns::push_label_text(out, self.name());
    }
}

/// Decodes the NetBIOS name of a DNS-format name (its first label); scope labels after it
/// are left in the wire name.
fn decode_name(name: &Name<'_>) -> Result<NetbiosName, NbnsError> {
    let mut labels = name.labels();
    let first = labels.next_label()?.ok_or(NbnsError::BadEncodedName)?;
    NetbiosName::decode(first)
}

/// One question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Question<'a> {
    /// Wire name (NetBIOS name label plus scope).
    pub wire_name: Name<'a>,
    /// Decoded NetBIOS name.
    pub name: NetbiosName,
    /// Type (NB or NBSTAT).
    pub qtype: u16,
    /// Class.
    pub qclass: u16,
}

/// One resource record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Section.
    pub section: dns::Section,
    /// Wire name.
    pub wire_name: Name<'a>,
    /// Decoded NetBIOS name.
    pub name: NetbiosName,
    /// Type (NB, NBSTAT, NULL ...).
    pub rtype: u16,
    /// Class.
    pub class: u16,
    /// Time to live, seconds.
    pub ttl: u32,
    /// Raw data.
    pub rdata: &'a [u8],
}

/// Length of one node-status name table entry: 15 name bytes, suffix, 2 flag bytes.
const NODE_NAME_ENTRY_LEN: usize = 18;

/// One entry of a node status (NBSTAT) response's name table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeName {
    /// The name and its suffix.
    pub name: NetbiosName,
    /// Name flags (group bit, owner node type, state bits).
    pub flags: NbFlags,
}

impl NodeName {
    fn from_entry(entry: &[u8]) -> Option<Self> {
        let bytes: [u8; NAME_LEN] = entry.get(..NAME_LEN)?.try_into().ok()?;
        let len = bytes
            .iter()
            .rposition(|&b| b != b' ' && b != 0)
            .map_or(0, |i| i + 1);
        Some(Self {
            name: NetbiosName {
                bytes,
                // At most 15, so it fits.
                len: len as u8,
                suffix: *entry.get(NAME_LEN)?,
            },
            flags: NbFlags(u16::from_be_bytes([*entry.get(16)?, *entry.get(17)?])),
        })
    }
}

/// NB flags of one address entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NbFlags(pub u16);

impl NbFlags {
    /// True for a group name (a workgroup or domain), false for a unique (host) name.
    pub fn is_group(self) -> bool {
        self.0 & 0x8000 != 0
    }

    /// Owner node type: 0 B-node, 1 P-node, 2 M-node, 3 H-node.
    pub fn node_type(self) -> u8 {
        ((self.0 >> 13) & 0x3) as u8
    }
}

impl<'a> Record<'a> {
    /// The (flags, address) entries of an NB record; empty for other types.
    pub fn nb_entries(&self) -> impl Iterator<Item = (NbFlags, Ipv4Addr)> + 'a {
        let data: &'a [u8] = if self.rtype == TYPE_NB {
            self.rdata
        } else {
            &[]
        };
        data.chunks_exact(6).map(|e| {
            let flags = NbFlags(u16::from_be_bytes([e[0], e[1]]));
            (flags, Ipv4Addr::new(e[2], e[3], e[4], e[5]))
        })
    }
}

impl<'a> Record<'a> {
    /// The name table of an NBSTAT record (a node's answer about itself); empty for other
    /// types.
    pub fn node_names(&self) -> impl Iterator<Item = NodeName> + 'a {
        let (count, table): (usize, &'a [u8]) = match (self.rtype, self.rdata.split_first()) {
            (TYPE_NBSTAT, Some((&n, rest))) => (usize::from(n), rest),
            _ => (0, &[]),
        };
        table
            .chunks_exact(NODE_NAME_ENTRY_LEN)
            .take(count)
            .filter_map(NodeName::from_entry)
    }

    /// The unit id (the node's MAC address) that follows an NBSTAT name table, when
    /// present and not all zero.
    pub fn unit_id(&self) -> Option<wire::MacAddr> {
        if self.rtype != TYPE_NBSTAT {
            return None;
        }
        let (&n, rest) = self.rdata.split_first()?;
        let stats = rest.get(usize::from(n) * NODE_NAME_ENTRY_LEN..)?;
        wire::MacAddr::from_slice(stats).filter(|m| !m.is_zero())
    }
}

/// A validated NBNS message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    data: &'a [u8],
    /// Header.
    pub header: Header,
    records_start: usize,
}

impl<'a> Message<'a> {
    /// Operation code.
    pub fn opcode(&self) -> Opcode {
        opcode(&self.header)
    }

    /// Questions, in order.
    pub fn questions(&self) -> impl Iterator<Item = Question<'a>> + 'a {
        let data = self.data;
        let mut pos = HEADER_LEN;
        (0..self.header.qdcount).map_while(move |_| {
            let (q, next) = parse_question(data, pos).ok()?;
            pos = next;
            Some(q)
        })
    }

    /// Answer, authority and additional records, in wire order.
    pub fn records(&self) -> impl Iterator<Item = Record<'a>> + 'a {
        let data = self.data;
        let mut pos = self.records_start;
        let h = self.header;
        let sections = std::iter::repeat_n(dns::Section::Answer, usize::from(h.ancount))
            .chain(std::iter::repeat_n(
                dns::Section::Authority,
                usize::from(h.nscount),
            ))
            .chain(std::iter::repeat_n(
                dns::Section::Additional,
                usize::from(h.arcount),
            ));
        sections.map_while(move |section| {
            let (r, next) = parse_record(data, pos, section).ok()?;
            pos = next;
            Some(r)
        })
    }
}

fn be16(data: &[u8], at: usize) -> Result<u16, NbnsError> {
    let b = data.get(at..at + 2).ok_or(NbnsError::Truncated)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn parse_question(data: &[u8], pos: usize) -> Result<(Question<'_>, usize), NbnsError> {
    let wire_name = Name::new(data, pos);
    let after = wire_name.validate()?;
    let name = decode_name(&wire_name)?;
    Ok((
        Question {
            wire_name,
            name,
            qtype: be16(data, after)?,
            qclass: be16(data, after + 2)?,
        },
        after + 4,
    ))
}

fn parse_record(
    data: &[u8],
    pos: usize,
    section: dns::Section,
) -> Result<(Record<'_>, usize), NbnsError> {
    let wire_name = Name::new(data, pos);
    let after = wire_name.validate()?;
    let name = decode_name(&wire_name)?;
    let rtype = be16(data, after)?;
    let class = be16(data, after + 2)?;
    let ttl = u32::from(be16(data, after + 4)?) << 16 | u32::from(be16(data, after + 6)?);
    let rdlength = be16(data, after + 8)?;
    let start = after + 10;
    let end = start + usize::from(rdlength);
    let rdata = data.get(start..end).ok_or(NbnsError::Truncated)?;
    if rtype == TYPE_NB && rdata.len() % 6 != 0 {
        return Err(NbnsError::BadNbLength(rdlength));
    }
    if rtype == TYPE_NBSTAT {
        let names = rdata.first().map_or(0, |&n| usize::from(n));
        if rdata.len() < 1 + names * NODE_NAME_ENTRY_LEN {
            return Err(NbnsError::BadNodeStatusLength(rdlength));
        }
    }
    Ok((
        Record {
            section,
            wire_name,
            name,
            rtype,
            class,
            ttl,
            rdata,
        },
        end,
    ))
}

/// Parses and validates one NBNS message (a whole UDP payload).
pub fn parse_message(data: &[u8]) -> Result<Message<'_>, NbnsError> {
    let header = Header::parse(data)?;
    let mut pos = HEADER_LEN;
    for _ in 0..header.qdcount {
        pos = parse_question(data, pos)?.1;
    }
    let records_start = pos;
    let sections = [
        (dns::Section::Answer, header.ancount),
        (dns::Section::Authority, header.nscount),
        (dns::Section::Additional, header.arcount),
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
    })
}

/// Cheap content check: a DNS-like header followed by a first name that is a 32-character
/// first-level encoded NetBIOS name, which DNS names practically never are.
pub fn looks_like_nbns(data: &[u8]) -> bool {
    let Ok(h) = Header::parse(data) else {
        return false;
    };
    let counts_ok = h.qdcount <= 1 && h.ancount <= 1 && h.nscount == 0 && h.arcount <= 1;
    let name_ok = data.get(HEADER_LEN) == Some(&(ENCODED_NAME_LEN as u8))
        && data
            .get(HEADER_LEN + 1..HEADER_LEN + 1 + ENCODED_NAME_LEN)
            .is_some_and(|l| l.iter().all(|c| (b'A'..=b'P').contains(c)));
    counts_ok && name_ok && !matches!(opcode(&h), Opcode::Unknown(_))
}
