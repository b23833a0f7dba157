//! DHCP / BOOTP messages (RFC 2131, RFC 2132; option overload RFC 2132 §9.3; client FQDN
//! RFC 4702).
//!
//! [`parse`] reads the fixed BOOTP header and walks the options once, keeping borrowed
//! views of the ones gapwatch uses. Errors in the fixed part reject the message; an error
//! inside the options keeps everything read before it and is reported in
//! [`DhcpMessage::option_error`], because a host name before a damaged option is still
//! a fact.

use std::fmt;
use std::net::Ipv4Addr;
use wire::MacAddr;

/// The BOOTP magic cookie that marks DHCP options (99.130.83.99).
pub const MAGIC_COOKIE: u32 = 0x6382_5363;
/// Length of the fixed header including the magic cookie.
pub const FIXED_LEN: usize = 240;
/// Longest host name or FQDN taken from an option, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// Byte offsets of the fixed fields.
mod field {
    use std::ops::Range;
    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: Range<usize> = 4..8;
    pub const SECS: Range<usize> = 8..10;
    pub const FLAGS: Range<usize> = 10..12;
    pub const CIADDR: Range<usize> = 12..16;
    pub const YIADDR: Range<usize> = 16..20;
    pub const SIADDR: Range<usize> = 20..24;
    pub const GIADDR: Range<usize> = 24..28;
    pub const CHADDR: Range<usize> = 28..44;
    pub const SNAME: Range<usize> = 44..108;
    pub const FILE: Range<usize> = 108..236;
    pub const MAGIC: Range<usize> = 236..240;
}

/// Option codes gapwatch reads.
mod code {
    pub const PAD: u8 = 0;
    pub const HOST_NAME: u8 = 12;
    pub const REQUESTED_IP: u8 = 50;
    pub const OVERLOAD: u8 = 52;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    pub const VENDOR_CLASS: u8 = 60;
    pub const CLIENT_ID: u8 = 61;
    pub const CLIENT_FQDN: u8 = 81;
    pub const END: u8 = 255;
}

/// Why a DHCP message (or one of its options) could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DhcpError {
    /// Shorter than the 240-byte fixed header.
    Truncated {
        /// Bytes present.
        len: usize,
    },
    /// The magic cookie is not 0x63825363 (plain BOOTP or not DHCP at all).
    BadMagic(u32),
    /// An option's length runs past the end of its area.
    OptionTruncated {
        /// Option code.
        code: u8,
    },
    /// An option's length does not fit its type.
    BadOptionLength {
        /// Option code.
        code: u8,
        /// Length as stated.
        len: u8,
    },
    /// A client FQDN in DNS wire format that is malformed or too long.
    BadFqdn,
}

impl fmt::Display for DhcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { len } => write!(f, "message of {len} bytes, below {FIXED_LEN}"),
            Self::BadMagic(m) => write!(f, "magic cookie {m:#010x}"),
            Self::OptionTruncated { code } => write!(f, "option {code} runs past the end"),
            Self::BadOptionLength { code, len } => write!(f, "option {code} with length {len}"),
            Self::BadFqdn => f.write_str("malformed client FQDN"),
        }
    }
}

impl std::error::Error for DhcpError {}

/// BOOTP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BootpOp {
    /// Client to server (1).
    Request,
    /// Server to client (2).
    Reply,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for BootpOp {
    fn from(value: u8) -> Self {
        match value {
            1 => Self::Request,
            2 => Self::Reply,
            other => Self::Unknown(other),
        }
    }
}

impl From<BootpOp> for u8 {
    fn from(value: BootpOp) -> Self {
        match value {
            BootpOp::Request => 1,
            BootpOp::Reply => 2,
            BootpOp::Unknown(other) => other,
        }
    }
}

impl fmt::Display for BootpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Request => "request",
            Self::Reply => "reply",
            Self::Unknown(n) => return write!(f, "unknown-{n}"),
        };
        f.write_str(name)
    }
}

/// DHCP message type (option 53).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// DHCPDISCOVER (1).
    Discover,
    /// DHCPOFFER (2).
    Offer,
    /// DHCPREQUEST (3).
    Request,
    /// DHCPDECLINE (4).
    Decline,
    /// DHCPACK (5).
    Ack,
    /// DHCPNAK (6).
    Nak,
    /// DHCPRELEASE (7).
    Release,
    /// DHCPINFORM (8).
    Inform,
    /// DHCPFORCERENEW (9).
    ForceRenew,
    /// DHCPLEASEQUERY (10).
    LeaseQuery,
    /// DHCPLEASEUNASSIGNED (11).
    LeaseUnassigned,
    /// DHCPLEASEUNKNOWN (12).
    LeaseUnknown,
    /// DHCPLEASEACTIVE (13).
    LeaseActive,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for MessageType {
    fn from(value: u8) -> Self {
        match value {
            1 => Self::Discover,
            2 => Self::Offer,
            3 => Self::Request,
            4 => Self::Decline,
            5 => Self::Ack,
            6 => Self::Nak,
            7 => Self::Release,
            8 => Self::Inform,
            9 => Self::ForceRenew,
            10 => Self::LeaseQuery,
            11 => Self::LeaseUnassigned,
            12 => Self::LeaseUnknown,
            13 => Self::LeaseActive,
            other => Self::Unknown(other),
        }
    }
}

impl From<MessageType> for u8 {
    fn from(value: MessageType) -> Self {
        match value {
            MessageType::Discover => 1,
            MessageType::Offer => 2,
            MessageType::Request => 3,
            MessageType::Decline => 4,
            MessageType::Ack => 5,
            MessageType::Nak => 6,
            MessageType::Release => 7,
            MessageType::Inform => 8,
            MessageType::ForceRenew => 9,
            MessageType::LeaseQuery => 10,
            MessageType::LeaseUnassigned => 11,
            MessageType::LeaseUnknown => 12,
            MessageType::LeaseActive => 13,
            MessageType::Unknown(other) => other,
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Discover => "discover",
            Self::Offer => "offer",
            Self::Request => "request",
            Self::Decline => "decline",
            Self::Ack => "ack",
            Self::Nak => "nak",
            Self::Release => "release",
            Self::Inform => "inform",
            Self::ForceRenew => "forcerenew",
            Self::LeaseQuery => "leasequery",
            Self::LeaseUnassigned => "leaseunassigned",
            Self::LeaseUnknown => "leaseunknown",
            Self::LeaseActive => "leaseactive",
            Self::Unknown(n) => return write!(f, "unknown-{n}"),
        };
        f.write_str(name)
    }
}

/// Client FQDN option (81).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientFqdn<'a> {
    /// Flags (S, O, E, N bits).
    pub flags: u8,
    /// The name bytes: DNS wire format when the E bit is set, otherwise ASCII.
    pub name: &'a [u8],
}

impl ClientFqdn<'_> {
    /// E flag: the name is in DNS wire format.
    pub const FLAG_E: u8 = 0x04;

    /// Appends the name as dotted text to `out`.
    pub fn write_text(&self, out: &mut String) -> Result<(), DhcpError> {
        if self.flags & Self::FLAG_E != 0 {
            write_wire_name(self.name, out).ok_or(DhcpError::BadFqdn)
        } else {
            super::push_name_text(out, self.name);
            Ok(())
        }
    }
}

/// Appends an uncompressed DNS wire-format name (possibly partial, without the final
/// zero) as dotted text. `None` when it is malformed or too long (no pointers allowed).
pub(crate) fn write_wire_name(mut bytes: &[u8], out: &mut String) -> Option<()> {
    if bytes.len() > MAX_NAME_LEN {
        return None;
    }
    let mut first = true;
    while let Some((&len, rest)) = bytes.split_first() {
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        let label = rest.get(..usize::from(len))?;
        if !first {
            out.push('.');
        }
        first = false;
        crate::dns::parser::push_label_text(out, label);
        bytes = rest.get(usize::from(len)..)?;
    }
    Some(())
}

/// The options gapwatch reads, borrowed from the message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options<'a> {
    /// Message type (53).
    pub message_type: Option<MessageType>,
    /// Host name (12), trailing NULs removed.
    pub host_name: Option<&'a [u8]>,
    /// Client FQDN (81).
    pub client_fqdn: Option<ClientFqdn<'a>>,
    /// Requested IP address (50).
    pub requested_ip: Option<Ipv4Addr>,
    /// Vendor class identifier (60), e.g. `MSFT 5.0`, `dhcpcd-6.11.5:Linux...`.
    pub vendor_class: Option<&'a [u8]>,
    /// Parameter request list (55): option codes the client asks for, in its order
    /// (a fingerprint of the client's DHCP implementation).
    pub parameter_request_list: Option<&'a [u8]>,
    /// Client identifier (61): type byte then identifier.
    pub client_id: Option<&'a [u8]>,
    /// Option overload (52): 1 = `file` holds options, 2 = `sname`, 3 = both.
    pub overload: u8,
    /// Number of options read (pads and END excluded).
    pub count: u16,
}

/// A parsed DHCP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DhcpMessage<'a> {
    /// BOOTP operation.
    pub op: BootpOp,
    /// Hardware type (1 = Ethernet).
    pub htype: u8,
    /// Hardware address length.
    pub hlen: u8,
    /// Relay hops.
    pub hops: u8,
    /// Transaction id.
    pub xid: u32,
    /// Seconds since the client began.
    pub secs: u16,
    /// Flags (0x8000 = broadcast).
    pub flags: u16,
    /// Client address (when the client already has one).
    pub ciaddr: Ipv4Addr,
    /// "Your" address: what the server gives the client.
    pub yiaddr: Ipv4Addr,
    /// Next server address.
    pub siaddr: Ipv4Addr,
    /// Relay agent address.
    pub giaddr: Ipv4Addr,
    /// Client hardware address field (16 bytes, `hlen` of them meaningful).
    pub chaddr: &'a [u8],
    /// Bytes after the magic cookie.
    pub raw_options: &'a [u8],
    /// Options read.
    pub options: Options<'a>,
    /// The first problem met while reading options, if any.
    pub option_error: Option<DhcpError>,
}

impl DhcpMessage<'_> {
    /// The client MAC: `chaddr` when the hardware type is Ethernet with 6-byte addresses
    /// and the address is not all zero.
    pub fn client_mac(&self) -> Option<MacAddr> {
        if self.htype != 1 || self.hlen != 6 {
            return None;
        }
        MacAddr::from_slice(self.chaddr).filter(|m| !m.is_zero())
    }
}

fn ipv4_at(data: &[u8], range: std::ops::Range<usize>) -> Ipv4Addr {
    let mut octets = [0u8; 4];
    if let Some(b) = data.get(range) {
        octets.copy_from_slice(b);
    }
    Ipv4Addr::from(octets)
}

fn be_u32(b: &[u8]) -> u32 {
    b.iter()
        .take(4)
        .fold(0, |acc, &x| (acc << 8) | u32::from(x))
}

/// Iterator over the (code, value) options of one option area. Pads are skipped; END or
/// the end of the area stops it; a length running past the area yields one error.
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    area: &'a [u8],
    done: bool,
}

impl<'a> OptionIter<'a> {
    /// Options in `area` (the bytes after the magic cookie, or an overloaded field).
    pub fn new(area: &'a [u8]) -> Self {
        Self { area, done: false }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<(u8, &'a [u8]), DhcpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            let (&code, rest) = self.area.split_first()?;
            match code {
                code::PAD => self.area = rest,
                code::END => {
                    self.done = true;
                    return None;
                }
                _ => {
                    let Some((&len, rest)) = rest.split_first() else {
                        self.done = true;
                        return Some(Err(DhcpError::OptionTruncated { code }));
                    };
                    let len = usize::from(len);
                    let (Some(value), Some(after)) = (rest.get(..len), rest.get(len..)) else {
                        self.done = true;
                        return Some(Err(DhcpError::OptionTruncated { code }));
                    };
                    self.area = after;
                    return Some(Ok((code, value)));
                }
            }
        }
    }
}

/// Reads the options in one area into `opts`.
fn read_area<'a>(area: &'a [u8], opts: &mut Options<'a>) -> Result<(), DhcpError> {
    for item in OptionIter::new(area) {
        let (code, value) = item?;
        opts.count = opts.count.saturating_add(1);
        // `len` fits a byte: it was read from one.
        let bad = |value: &[u8]| DhcpError::BadOptionLength {
            code,
            len: u8::try_from(value.len()).unwrap_or(u8::MAX),
        };
        match code {
            code::MESSAGE_TYPE => {
                let [t] = value else { return Err(bad(value)) };
                opts.message_type = Some(MessageType::from(*t));
            }
            code::HOST_NAME => {
                let end = value.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                opts.host_name = Some(&value[..end]);
            }
            code::CLIENT_FQDN => {
                let [flags, _rcode1, _rcode2, name @ ..] = value else {
                    return Err(bad(value));
                };
                opts.client_fqdn = Some(ClientFqdn {
                    flags: *flags,
                    name,
                });
            }
            code::REQUESTED_IP => {
                let octets: [u8; 4] = value.try_into().map_err(|_| bad(value))?;
                opts.requested_ip = Some(Ipv4Addr::from(octets));
            }
            code::VENDOR_CLASS => opts.vendor_class = Some(value),
            code::PARAMETER_REQUEST_LIST => opts.parameter_request_list = Some(value),
            code::CLIENT_ID => opts.client_id = Some(value),
            code::OVERLOAD => {
                let [o] = value else { return Err(bad(value)) };
                opts.overload = *o;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Parses one DHCP message (a whole UDP payload).
pub fn parse(data: &[u8]) -> Result<DhcpMessage<'_>, DhcpError> {
    if data.len() < FIXED_LEN {
        return Err(DhcpError::Truncated { len: data.len() });
    }
    let magic = be_u32(&data[field::MAGIC]);
    if magic != MAGIC_COOKIE {
        return Err(DhcpError::BadMagic(magic));
    }
    let raw_options = &data[FIXED_LEN..];
    let mut options = Options::default();
    let mut option_error = read_area(raw_options, &mut options).err();
    // Overloaded fields are read after the main area, `file` before `sname`.
    if option_error.is_none() && options.overload & 1 != 0 {
        option_error = read_area(&data[field::FILE], &mut options).err();
    }
    if option_error.is_none() && options.overload & 2 != 0 {
        option_error = read_area(&data[field::SNAME], &mut options).err();
    }
    Ok(DhcpMessage {
        op: BootpOp::from(data[field::OP]),
        htype: data[field::HTYPE],
        hlen: data[field::HLEN],
        hops: data[field::HOPS],
        xid: be_u32(&data[field::XID]),
        secs: u16::from_be_bytes([data[field::SECS.start], data[field::SECS.start + 1]]),
        flags: u16::from_be_bytes([data[field::FLAGS.start], data[field::FLAGS.start + 1]]),
        ciaddr: ipv4_at(data, field::CIADDR),
        yiaddr: ipv4_at(data, field::YIADDR),
        siaddr: ipv4_at(data, field::SIADDR),
        giaddr: ipv4_at(data, field::GIADDR),
        chaddr: &data[field::CHADDR],
        raw_options,
        options,
        option_error,
    })
}

/// True when `data` looks like a DHCP message: BOOTP op 1 or 2 and the magic cookie.
pub fn looks_like_dhcp(data: &[u8]) -> bool {
    data.len() >= FIXED_LEN
        && matches!(data[field::OP], 1 | 2)
        && be_u32(&data[field::MAGIC]) == MAGIC_COOKIE
}
