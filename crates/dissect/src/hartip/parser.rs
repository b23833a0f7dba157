//! HART-IP wire format: the 8-byte HART-IP header and the token-passing HART PDU that
//! pass-through messages carry.

/// Length of the HART-IP header.
pub const HEADER_LEN: usize = 8;
/// Largest HART-IP message accepted.
pub const MAX_MESSAGE_LEN: u16 = 8192;

/// Why a HART-IP message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HartIpError {
    /// Shorter than the header.
    Truncated,
    /// Byte count below the header length or above [`MAX_MESSAGE_LEN`].
    BadLength(u16),
    /// Unsupported version (only 1 and 2 exist).
    BadVersion(u8),
    /// A HART PDU that ends inside its address, command or data.
    PduTruncated,
}

impl std::fmt::Display for HartIpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Truncated => f.write_str("HART-IP header truncated"),
            Self::BadLength(l) => write!(f, "HART-IP byte count {l} out of range"),
            Self::BadVersion(v) => write!(f, "HART-IP version {v}"),
            Self::PduTruncated => f.write_str("HART PDU truncated"),
        }
    }
}

impl std::error::Error for HartIpError {}

/// The HART-IP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Version (1 or 2).
    pub version: u8,
    /// Message type: 0 request, 1 response, 2 publish, 3 error, 15 NAK.
    pub message_type: u8,
    /// Message id: 0 session initiate, 1 close, 2 keep-alive, 3 pass-through ...
    pub message_id: u8,
    /// Status.
    pub status: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Total length, header included.
    pub byte_count: u16,
}

/// Parses a HART-IP header, checking its byte count.
pub fn parse_header(data: &[u8]) -> Result<Header, HartIpError> {
    let h = data.get(..HEADER_LEN).ok_or(HartIpError::Truncated)?;
    let byte_count = u16::from_be_bytes([h[6], h[7]]);
    if h[0] == 0 || h[0] > 2 {
        return Err(HartIpError::BadVersion(h[0]));
    }
    if usize::from(byte_count) < HEADER_LEN || byte_count > MAX_MESSAGE_LEN {
        return Err(HartIpError::BadLength(byte_count));
    }
    Ok(Header {
        version: h[0],
        message_type: h[1],
        message_id: h[2],
        status: h[3],
        sequence: u16::from_be_bytes([h[4], h[5]]),
        byte_count,
    })
}

/// A token-passing HART PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pdu<'a> {
    /// Delimiter (frame type in bits 0–2: 1 burst, 2 master-to-slave, 6 slave-to-master).
    pub delimiter: u8,
    /// Polling address (short frames) or the 38-bit unique id (long frames).
    pub address: u64,
    /// Long (5-byte) address.
    pub long_address: bool,
    /// Command number.
    pub command: u8,
    /// Response code and device status of slave-to-master and burst frames.
    pub status: Option<(u8, u8)>,
    /// Data after the status bytes.
    pub data: &'a [u8],
    /// Bytes from the start of the input to the end of the data (the check byte follows).
    pub len: usize,
}

impl Pdu<'_> {
    /// True for slave-to-master (ACK) and burst (BACK) frames.
    pub fn from_device(&self) -> bool {
        matches!(self.delimiter & 0x07, 1 | 6)
    }
}

/// Parses a HART PDU (leading 0xFF preambles are skipped).
pub fn parse_pdu(data: &[u8]) -> Result<Pdu<'_>, HartIpError> {
    let start = data
        .iter()
        .position(|&b| b != 0xFF)
        .ok_or(HartIpError::PduTruncated)?;
    let d = &data[start..];
    let delimiter = *d.first().ok_or(HartIpError::PduTruncated)?;
    let long_address = delimiter & 0x80 != 0;
    let addr_len = if long_address { 5 } else { 1 };
    let expansion = usize::from((delimiter >> 5) & 0x03);
    let addr = d.get(1..1 + addr_len).ok_or(HartIpError::PduTruncated)?;
    let address = if long_address {
        // The top two bits of the first byte are the master address and burst flag.
        addr.iter().enumerate().fold(0u64, |acc, (i, &b)| {
            acc << 8 | u64::from(if i == 0 { b & 0x3F } else { b })
        })
    } else {
        u64::from(addr[0] & 0x3F)
    };
    let at = 1 + addr_len + expansion;
    let cb = d.get(at..at + 2).ok_or(HartIpError::PduTruncated)?;
    let command = cb[0];
    let count = usize::from(cb[1]);
    let body = d
        .get(at + 2..at + 2 + count)
        .ok_or(HartIpError::PduTruncated)?;
    let pdu = Pdu {
        delimiter,
        address,
        long_address,
        command,
        status: None,
        data: body,
        len: start + at + 2 + count,
    };
    if pdu.from_device() {
        let s = body.get(..2).ok_or(HartIpError::PduTruncated)?;
        Ok(Pdu {
            status: Some((s[0], s[1])),
            data: &body[2..],
            ..pdu
        })
    } else {
        Ok(pdu)
    }
}

/// The first command of a HART-IP direct PDU (message id 4): device status, extended
/// status, then commands as 16-bit number, byte count, data (a response code first in
/// responses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectCommand<'a> {
    /// Command number.
    pub command: u16,
    /// The command's data (response code included for responses).
    pub data: &'a [u8],
}

/// Parses the first command of a direct PDU.
pub fn parse_direct_pdu(body: &[u8]) -> Result<DirectCommand<'_>, HartIpError> {
    let h = body.get(..5).ok_or(HartIpError::PduTruncated)?;
    let command = u16::from_be_bytes([h[2], h[3]]);
    let count = usize::from(h[4]);
    let data = body.get(5..5 + count).ok_or(HartIpError::PduTruncated)?;
    Ok(DirectCommand { command, data })
}
