//! DHCPv6 messages (RFC 8415; client FQDN RFC 4704).
//!
//! [`parse`] reads the message type and transaction id, walks the options once and keeps
//! borrowed views of the ones gapwatch uses. Relay messages are unwrapped (up to
//! [`MAX_RELAY_DEPTH`] levels) so the client's own message is what is returned.

use std::fmt;
use std::net::Ipv6Addr;
use wire::MacAddr;

/// Most relay layers unwrapped (RFC 8415 §7.6 sets HOP_COUNT_LIMIT to 8).
pub const MAX_RELAY_DEPTH: usize = 8;
/// Most nested option levels read inside IA options.
const MAX_IA_OPTIONS: usize = 64;

/// Option codes gapwatch reads.
mod code {
    pub const CLIENT_ID: u16 = 1;
    pub const SERVER_ID: u16 = 2;
    pub const IA_NA: u16 = 3;
    pub const IA_TA: u16 = 4;
    pub const IA_ADDR: u16 = 5;
    pub const ORO: u16 = 6;
    pub const RELAY_MSG: u16 = 9;
    pub const VENDOR_CLASS: u16 = 16;
    pub const CLIENT_FQDN: u16 = 39;
}

/// Why a DHCPv6 message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dhcpv6Error {
    /// Shorter than the message header.
    Truncated,
    /// An option's length runs past the end of the message.
    OptionTruncated {
        /// Option code.
        code: u16,
    },
    /// An option's length does not fit its type.
    BadOptionLength {
        /// Option code.
        code: u16,
        /// Length as stated.
        len: u16,
    },
    /// More than [`MAX_RELAY_DEPTH`] nested relay messages, or a relay without one.
    BadRelay,
}

impl fmt::Display for Dhcpv6Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("message truncated"),
            Self::OptionTruncated { code } => write!(f, "option {code} runs past the end"),
            Self::BadOptionLength { code, len } => write!(f, "option {code} with length {len}"),
            Self::BadRelay => f.write_str("relay message nested too deep or missing"),
        }
    }
}

impl std::error::Error for Dhcpv6Error {}

/// DHCPv6 message type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// SOLICIT (1).
    Solicit,
    /// ADVERTISE (2).
    Advertise,
    /// REQUEST (3).
    Request,
    /// CONFIRM (4).
    Confirm,
    /// RENEW (5).
    Renew,
    /// REBIND (6).
    Rebind,
    /// REPLY (7).
    Reply,
    /// RELEASE (8).
    Release,
    /// DECLINE (9).
    Decline,
    /// RECONFIGURE (10).
    Reconfigure,
    /// INFORMATION-REQUEST (11).
    InformationRequest,
    /// RELAY-FORW (12).
    RelayForw,
    /// RELAY-REPL (13).
    RelayRepl,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for MessageType {
    fn from(value: u8) -> Self {
        match value {
            1 => Self::Solicit,
            2 => Self::Advertise,
            3 => Self::Request,
            4 => Self::Confirm,
            5 => Self::Renew,
            6 => Self::Rebind,
            7 => Self::Reply,
            8 => Self::Release,
            9 => Self::Decline,
            10 => Self::Reconfigure,
            11 => Self::InformationRequest,
            12 => Self::RelayForw,
            13 => Self::RelayRepl,
            other => Self::Unknown(other),
        }
    }
}

impl From<MessageType> for u8 {
    fn from(value: MessageType) -> Self {
        match value {
            MessageType::Solicit => 1,
            MessageType::Advertise => 2,
            MessageType::Request => 3,
            MessageType::Confirm => 4,
            MessageType::Renew => 5,
            MessageType::Rebind => 6,
            MessageType::Reply => 7,
            MessageType::Release => 8,
            MessageType::Decline => 9,
            MessageType::Reconfigure => 10,
            MessageType::InformationRequest => 11,
            MessageType::RelayForw => 12,
            MessageType::RelayRepl => 13,
            MessageType::Unknown(other) => other,
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Solicit => "solicit",
            Self::Advertise => "advertise",
            Self::Request => "request",
            Self::Confirm => "confirm",
            Self::Renew => "renew",
            Self::Rebind => "rebind",
            Self::Reply => "reply",
            Self::Release => "release",
            Self::Decline => "decline",
            Self::Reconfigure => "reconfigure",
            Self::InformationRequest => "information-request",
            Self::RelayForw => "relay-forw",
            Self::RelayRepl => "relay-repl",
            Self::Unknown(n) => return write!(f, "unknown-{n}"),
        };
        f.write_str(name)
    }
}

impl MessageType {
    /// True for messages a client sends (their sender address is the client's).
    pub fn is_from_client(self) -> bool {
        matches!(
            self,
            Self::Solicit
                | Self::Request
                | Self::Confirm
                | Self::Renew
                | Self::Rebind
                | Self::Release
                | Self::Decline
                | Self::InformationRequest
        )
    }
}

/// Client FQDN option (39).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientFqdn<'a> {
    /// Flags (S, O, N bits).
    pub flags: u8,
    /// Name in uncompressed DNS wire format, possibly partial (no final zero).
    pub name: &'a [u8],
}

impl ClientFqdn<'_> {
    /// Appends the name as dotted text; `None` when the wire form is malformed.
    pub fn write_text(&self, out: &mut String) -> Option<()> {
        super::v4::write_wire_name(self.name, out)
    }
}

/// The options gapwatch reads, borrowed from the message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options<'a> {
    /// Client identifier (1): a DUID.
    pub client_id: Option<&'a [u8]>,
    /// Server identifier (2): a DUID.
    pub server_id: Option<&'a [u8]>,
    /// The first address found in an IA_NA or IA_TA option.
    pub ia_address: Option<Ipv6Addr>,
    /// Option request option (6): 16-bit codes the client asks for.
    pub option_request: Option<&'a [u8]>,
    /// Vendor class (16): enterprise number then length-prefixed data.
    pub vendor_class: Option<&'a [u8]>,
    /// Client FQDN (39).
    pub client_fqdn: Option<ClientFqdn<'a>>,
}

/// A parsed DHCPv6 message (the innermost one when relayed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dhcpv6Message<'a> {
    /// Message type.
    pub msg_type: MessageType,
    /// 24-bit transaction id.
    pub transaction_id: u32,
    /// Relay layers that were unwrapped to reach this message.
    pub relay_depth: u8,
    /// Options read.
    pub options: Options<'a>,
}

/// The link-layer address in a DUID-LLT (type 1) or DUID-LL (type 3) with hardware type
/// Ethernet (1).
pub fn duid_mac(duid: &[u8]) -> Option<MacAddr> {
    match duid {
        [0, 1, 0, 1, _, _, _, _, mac @ ..] | [0, 3, 0, 1, mac @ ..] if mac.len() == 6 => {
            MacAddr::from_slice(mac)
        }
        _ => None,
    }
}

/// Iterator over (code, value) options of an option area.
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    area: &'a [u8],
}

impl<'a> OptionIter<'a> {
    /// Options in `area`.
    pub fn new(area: &'a [u8]) -> Self {
        Self { area }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<(u16, &'a [u8]), Dhcpv6Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.area.is_empty() {
            return None;
        }
        let Some(&[c0, c1, l0, l1]) = self.area.get(..4) else {
            self.area = &[];
            return Some(Err(Dhcpv6Error::Truncated));
        };
        let code = u16::from_be_bytes([c0, c1]);
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let (Some(value), Some(rest)) = (self.area.get(4..4 + len), self.area.get(4 + len..))
        else {
            self.area = &[];
            return Some(Err(Dhcpv6Error::OptionTruncated { code }));
        };
        self.area = rest;
        Some(Ok((code, value)))
    }
}

fn bad(code: u16, value: &[u8]) -> Dhcpv6Error {
    Dhcpv6Error::BadOptionLength {
        code,
        len: u16::try_from(value.len()).unwrap_or(u16::MAX),
    }
}

/// First IA address inside the options of an IA_NA / IA_TA.
fn first_ia_address(area: &[u8]) -> Result<Option<Ipv6Addr>, Dhcpv6Error> {
    for item in OptionIter::new(area).take(MAX_IA_OPTIONS) {
        let (code, value) = item?;
        if code == code::IA_ADDR {
            let octets: [u8; 16] = value
                .get(..16)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| bad(code, value))?;
            return Ok(Some(Ipv6Addr::from(octets)));
        }
    }
    Ok(None)
}

/// Parses one DHCPv6 message (a whole UDP payload).
pub fn parse(data: &[u8]) -> Result<Dhcpv6Message<'_>, Dhcpv6Error> {
    let mut data = data;
    let mut depth = 0u8;
    loop {
        let &msg_type = data.first().ok_or(Dhcpv6Error::Truncated)?;
        let msg_type = MessageType::from(msg_type);
        if matches!(msg_type, MessageType::RelayForw | MessageType::RelayRepl) {
            // msg-type, hop-count, link-address (16), peer-address (16), options.
            let area = data.get(34..).ok_or(Dhcpv6Error::Truncated)?;
            if usize::from(depth) >= MAX_RELAY_DEPTH {
                return Err(Dhcpv6Error::BadRelay);
            }
            let mut inner = None;
            for item in OptionIter::new(area) {
                let (code, value) = item?;
                if code == code::RELAY_MSG {
                    inner = Some(value);
                    break;
                }
            }
            data = inner.ok_or(Dhcpv6Error::BadRelay)?;
            depth += 1;
            continue;
        }
        let Some(&[_, t0, t1, t2]) = data.get(..4) else {
            return Err(Dhcpv6Error::Truncated);
        };
        let transaction_id = u32::from_be_bytes([0, t0, t1, t2]);
        let mut options = Options::default();
        for item in OptionIter::new(&data[4..]) {
            let (code, value) = item?;
            match code {
                code::CLIENT_ID => options.client_id = Some(value),
                code::SERVER_ID => options.server_id = Some(value),
                code::IA_NA | code::IA_TA => {
                    // IA_NA: IAID, T1, T2 (12 bytes); IA_TA: IAID (4 bytes); then options.
                    let skip = if code == code::IA_NA { 12 } else { 4 };
                    let inner = value.get(skip..).ok_or_else(|| bad(code, value))?;
                    if options.ia_address.is_none() {
                        options.ia_address = first_ia_address(inner)?;
                    }
                }
                code::ORO => options.option_request = Some(value),
                code::VENDOR_CLASS => options.vendor_class = Some(value),
                code::CLIENT_FQDN => {
                    let (&flags, name) = value.split_first().ok_or_else(|| bad(code, value))?;
                    options.client_fqdn = Some(ClientFqdn { flags, name });
                }
                _ => {}
            }
        }
        return Ok(Dhcpv6Message {
            msg_type,
            transaction_id,
            relay_depth: depth,
            options,
        });
    }
}
