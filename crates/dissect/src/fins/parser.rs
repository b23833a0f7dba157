//! Omron FINS wire format: the 10-byte FINS header, command code, end code, and the
//! FINS/TCP framing (`FINS` magic, length, command, error code).

/// Length of the FINS header (ICF .. SID).
pub const HEADER_LEN: usize = 10;
/// Length of the FINS/TCP header.
pub const TCP_HEADER_LEN: usize = 16;
/// Largest FINS/TCP length accepted (a FINS frame is at most about 2 KB).
pub const MAX_TCP_LEN: u32 = 8192;
/// FINS/TCP command: FINS frame send.
pub const TCP_FRAME_SEND: u32 = 2;

/// Why a FINS message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FinsError {
    /// Shorter than the FINS header and command code.
    Truncated,
    /// A response too short to hold its end code.
    NoEndCode,
    /// FINS/TCP header without the `FINS` magic.
    BadMagic,
    /// FINS/TCP length below 8 or above [`MAX_TCP_LEN`].
    BadTcpLength(u32),
}

impl std::fmt::Display for FinsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Truncated => f.write_str("FINS frame shorter than header and command code"),
            Self::NoEndCode => f.write_str("FINS response without an end code"),
            Self::BadMagic => f.write_str("FINS/TCP header without the FINS magic"),
            Self::BadTcpLength(l) => write!(f, "FINS/TCP length {l} out of range"),
        }
    }
}

impl std::error::Error for FinsError {}

/// The FINS header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Information control field (bit 6: response).
    pub icf: u8,
    /// Reserved, zero.
    pub rsv: u8,
    /// Gateway count.
    pub gct: u8,
    /// Destination network.
    pub dna: u8,
    /// Destination node.
    pub da1: u8,
    /// Destination unit.
    pub da2: u8,
    /// Source network.
    pub sna: u8,
    /// Source node.
    pub sa1: u8,
    /// Source unit.
    pub sa2: u8,
    /// Service id, pairing a response with its command.
    pub sid: u8,
}

/// One FINS command or response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Header.
    pub header: Header,
    /// Command code (MRC << 8 | SRC).
    pub command: u16,
    /// End code of responses (MRES << 8 | SRES).
    pub end_code: Option<u16>,
    /// Parameters of a command; data after the end code of a response.
    pub data: &'a [u8],
}

impl Frame<'_> {
    /// True for responses (ICF bit 6).
    pub fn is_response(&self) -> bool {
        self.header.icf & 0x40 != 0
    }
}

/// Parses one FINS frame.
pub fn parse_frame(data: &[u8]) -> Result<Frame<'_>, FinsError> {
    let h = data.get(..HEADER_LEN + 2).ok_or(FinsError::Truncated)?;
    let header = Header {
        icf: h[0],
        rsv: h[1],
        gct: h[2],
        dna: h[3],
        da1: h[4],
        da2: h[5],
        sna: h[6],
        sa1: h[7],
        sa2: h[8],
        sid: h[9],
    };
    let command = u16::from_be_bytes([h[10], h[11]]);
    let rest = &data[HEADER_LEN + 2..];
    if header.icf & 0x40 != 0 {
        let ec = rest.get(..2).ok_or(FinsError::NoEndCode)?;
        Ok(Frame {
            header,
            command,
            end_code: Some(u16::from_be_bytes([ec[0], ec[1]])),
            data: &rest[2..],
        })
    } else {
        Ok(Frame {
            header,
            command,
            end_code: None,
            data: rest,
        })
    }
}

/// True when a FINS header looks like one: reserved bits of ICF clear, RSV zero, a gateway
/// count within the protocol's limit of 7 hops... and room for a command code.
pub fn plausible_header(data: &[u8]) -> bool {
    data.len() >= HEADER_LEN + 2 && data[0] & 0x3E == 0 && data[1] == 0 && data[2] <= 7
}

/// A FINS/TCP record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpFrame<'a> {
    /// A whole record.
    Complete {
        /// FINS/TCP command (0/1 node address exchange, 2 frame send, 3 error ...).
        command: u32,
        /// FINS/TCP error code.
        error: u32,
        /// Bytes after the 16-byte header.
        body: &'a [u8],
        /// Bytes the record occupies.
        consumed: usize,
    },
    /// More bytes are needed.
    Incomplete,
}

/// Splits one FINS/TCP record from the front of `data`.
pub fn parse_tcp(data: &[u8]) -> Result<TcpFrame<'_>, FinsError> {
    let Some(h) = data.get(..8) else {
        // Judge the magic as soon as it can be seen.
        if !b"FINS".starts_with(&data[..data.len().min(4)]) {
            return Err(FinsError::BadMagic);
        }
        return Ok(TcpFrame::Incomplete);
    };
    if &h[..4] != b"FINS" {
        return Err(FinsError::BadMagic);
    }
    let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    if !(8..=MAX_TCP_LEN).contains(&len) {
        return Err(FinsError::BadTcpLength(len));
    }
    let total = 8 + len as usize;
    let Some(rec) = data.get(..total) else {
        return Ok(TcpFrame::Incomplete);
    };
    Ok(TcpFrame::Complete {
        command: u32::from_be_bytes([rec[8], rec[9], rec[10], rec[11]]),
        error: u32::from_be_bytes([rec[12], rec[13], rec[14], rec[15]]),
        body: &rec[TCP_HEADER_LEN..],
        consumed: total,
    })
}
