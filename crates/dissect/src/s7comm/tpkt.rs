//! ISO transport over TCP: TPKT framing (RFC 1006) and COTP (ISO 8073 class 0) TPDUs,
//! shared by S7comm, S7comm-plus and MMS.

use std::fmt;

/// TPKT version.
pub const TPKT_VERSION: u8 = 3;
/// TPKT header length.
pub const TPKT_HEADER_LEN: usize = 4;
/// Smallest TPKT length: header plus the shortest COTP TPDU (DT: 3 bytes).
pub const MIN_TPKT_LEN: usize = TPKT_HEADER_LEN + 3;

/// COTP TPDU codes (high nibble of the type byte).
pub mod tpdu {
    /// Connection request.
    pub const CR: u8 = 0xe0;
    /// Connection confirm.
    pub const CC: u8 = 0xd0;
    /// Disconnect request.
    pub const DR: u8 = 0x80;
    /// Disconnect confirm.
    pub const DC: u8 = 0xc0;
    /// Data.
    pub const DT: u8 = 0xf0;
    /// Expedited data.
    pub const ED: u8 = 0x10;
    /// Data acknowledgement.
    pub const AK: u8 = 0x60;
    /// Expedited data acknowledgement.
    pub const EA: u8 = 0x20;
    /// Reject.
    pub const RJ: u8 = 0x50;
    /// TPDU error.
    pub const ER: u8 = 0x70;
}

/// Why a TPKT/COTP frame is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TpktError {
    /// Version not 3 or reserved byte not 0.
    BadHeader,
    /// TPKT length shorter than a COTP TPDU.
    BadLength(u16),
    /// COTP length indicator does not fit the TPKT.
    BadCotpLength,
    /// Unknown COTP TPDU code.
    BadTpduType(u8),
}

impl fmt::Display for TpktError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadHeader => write!(f, "TPKT version/reserved bytes are not 3/0"),
            Self::BadLength(l) => write!(f, "TPKT length {l} too short"),
            Self::BadCotpLength => write!(f, "COTP length indicator does not fit the TPKT"),
            Self::BadTpduType(t) => write!(f, "unknown COTP TPDU type 0x{t:02x}"),
        }
    }
}

impl std::error::Error for TpktError {}

/// One COTP TPDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tpdu<'a> {
    /// Connection request or confirm, with its TSAPs when present.
    Connect {
        /// True for a confirm (CC), false for a request (CR).
        confirm: bool,
        /// Calling TSAP (parameter 0xc1).
        calling_tsap: Option<&'a [u8]>,
        /// Called TSAP (parameter 0xc2).
        called_tsap: Option<&'a [u8]>,
        /// Proposed TPDU size as a power of two (parameter 0xc0).
        tpdu_size: Option<u8>,
        /// User data after the parameters (RDP puts its cookie there).
        user_data: &'a [u8],
    },
    /// Data: payload and end-of-TSDU mark.
    Data {
        /// Last TPDU of a TSDU.
        eot: bool,
        /// The payload.
        payload: &'a [u8],
    },
    /// Disconnect request or confirm.
    Disconnect {
        /// Reason (DR only).
        reason: Option<u8>,
    },
    /// Any other TPDU (acknowledgements, errors, expedited data).
    Other(u8),
}

/// A frame found at the start of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A whole TPKT with its TPDU and total size.
    Complete {
        /// The TPDU.
        tpdu: Tpdu<'a>,
        /// Bytes of the TPKT.
        consumed: usize,
    },
    /// More bytes needed (`needed` in total).
    Incomplete {
        /// Total bytes needed.
        needed: usize,
    },
}

/// Checks a TPKT header; returns the TPKT length.
pub fn tpkt_len(header: &[u8; 4]) -> Result<usize, TpktError> {
    if header[0] != TPKT_VERSION || header[1] != 0 {
        return Err(TpktError::BadHeader);
    }
    let len = u16::from_be_bytes([header[2], header[3]]);
    if usize::from(len) < MIN_TPKT_LEN {
        return Err(TpktError::BadLength(len));
    }
    Ok(usize::from(len))
}

/// Finds the TPKT frame at the start of `data`.
pub fn parse_frame(data: &[u8]) -> Result<Frame<'_>, TpktError> {
    let Some(header) = data.first_chunk::<4>() else {
        if data.first().is_some_and(|&b| b != TPKT_VERSION) || data.get(1).is_some_and(|&b| b != 0)
        {
            return Err(TpktError::BadHeader);
        }
        return Ok(Frame::Incomplete { needed: 4 });
    };
    let len = tpkt_len(header)?;
    // The COTP length indicator and type are checkable before the frame is complete.
    if let Some(&li) = data.get(4) {
        if usize::from(li) + 1 > len - TPKT_HEADER_LEN || li < 2 {
            return Err(TpktError::BadCotpLength);
        }
    }
    let Some(frame) = data.get(..len) else {
        return Ok(Frame::Incomplete { needed: len });
    };
    let tpdu = parse_tpdu(&frame[TPKT_HEADER_LEN..])?;
    Ok(Frame::Complete {
        tpdu,
        consumed: len,
    })
}

/// Parses one COTP TPDU (the TPKT payload).
pub fn parse_tpdu(data: &[u8]) -> Result<Tpdu<'_>, TpktError> {
    let li = usize::from(*data.first().ok_or(TpktError::BadCotpLength)?);
    let header = data.get(1..1 + li).ok_or(TpktError::BadCotpLength)?;
    let rest = &data[1 + li..];
    let code = *header.first().ok_or(TpktError::BadCotpLength)?;
    match code & 0xf0 {
        tpdu::DT => {
            // Class 0: type, then EOT bit and TPDU number.
            if li != 2 {
                return Err(TpktError::BadCotpLength);
            }
            Ok(Tpdu::Data {
                eot: header[1] & 0x80 != 0,
                payload: rest,
            })
        }
        tpdu::CR | tpdu::CC => {
            // Type, destination reference (2), source reference (2), class (1), params.
            let params = header.get(6..).ok_or(TpktError::BadCotpLength)?;
            let mut calling_tsap = None;
            let mut called_tsap = None;
            let mut tpdu_size = None;
            let mut p = params;
            while let [code, len, tail @ ..] = p {
                let Some(value) = tail.get(..usize::from(*len)) else {
                    return Err(TpktError::BadCotpLength);
                };
                match code {
                    0xc0 => tpdu_size = value.first().copied(),
                    0xc1 => calling_tsap = Some(value),
                    0xc2 => called_tsap = Some(value),
                    _ => {}
                }
                p = &tail[usize::from(*len)..];
            }
            if !p.is_empty() {
                return Err(TpktError::BadCotpLength);
            }
            Ok(Tpdu::Connect {
                confirm: code & 0xf0 == tpdu::CC,
                calling_tsap,
                called_tsap,
                tpdu_size,
                user_data: rest,
            })
        }
        tpdu::DR => Ok(Tpdu::Disconnect {
            reason: header.get(5).copied(),
        }),
        tpdu::DC => Ok(Tpdu::Disconnect { reason: None }),
        tpdu::ED | tpdu::AK | tpdu::EA | tpdu::RJ | tpdu::ER => Ok(Tpdu::Other(code & 0xf0)),
        _ => Err(TpktError::BadTpduType(code)),
    }
}
