//! IEC 60870-5-104 wire format: APCI framing and ASDU decoding, as pure functions.

use super::constants::{type_info, TypeInfo, ValueKind};
use std::fmt;

/// Start byte of every APDU.
pub const START: u8 = 0x68;
/// Smallest APDU length field (control fields only).
pub const MIN_APDU_LEN: u8 = 4;
/// Largest APDU length field.
pub const MAX_APDU_LEN: u8 = 253;
/// Bytes of ASDU header: type, VSQ, COT, originator, common address (2).
pub const ASDU_HEADER_LEN: usize = 6;
/// Bytes of an information object address.
pub const IOA_LEN: usize = 3;

/// Why an APDU could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Iec104Error {
    /// The first byte is not 0x68.
    BadStart(u8),
    /// The length field is outside 4..=253.
    BadLength(u8),
    /// S or U frame with a length other than 4, or U frame with not exactly one function.
    BadControl,
    /// I frame too short to hold an ASDU header.
    ShortAsdu,
    /// The objects the VSQ announces do not fit the ASDU.
    ObjectsDoNotFit {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        present: usize,
    },
}

impl fmt::Display for Iec104Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadStart(b) => write!(f, "start byte 0x{b:02x} is not 0x68"),
            Self::BadLength(l) => write!(f, "APDU length {l} outside 4..=253"),
            Self::BadControl => write!(f, "inconsistent control field"),
            Self::ShortAsdu => write!(f, "I frame too short for an ASDU header"),
            Self::ObjectsDoNotFit { needed, present } => {
                write!(f, "objects need {needed} bytes, ASDU has {present}")
            }
        }
    }
}

impl std::error::Error for Iec104Error {}

/// The control-field part of an APDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apci {
    /// Information transfer with send and receive sequence numbers (15 bits each).
    I {
        /// N(S).
        send: u16,
        /// N(R).
        recv: u16,
    },
    /// Supervisory acknowledgement.
    S {
        /// N(R).
        recv: u16,
    },
    /// Unnumbered control function (the first control byte).
    U(UFunction),
}

/// U-frame functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UFunction {
    /// STARTDT act.
    StartDtAct,
    /// STARTDT con.
    StartDtCon,
    /// STOPDT act.
    StopDtAct,
    /// STOPDT con.
    StopDtCon,
    /// TESTFR act.
    TestFrAct,
    /// TESTFR con.
    TestFrCon,
}

impl UFunction {
    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0x07 => Self::StartDtAct,
            0x0b => Self::StartDtCon,
            0x13 => Self::StopDtAct,
            0x23 => Self::StopDtCon,
            0x43 => Self::TestFrAct,
            0x83 => Self::TestFrCon,
            _ => return None,
        })
    }

    /// The first control byte.
    pub fn code(self) -> u8 {
        match self {
            Self::StartDtAct => 0x07,
            Self::StartDtCon => 0x0b,
            Self::StopDtAct => 0x13,
            Self::StopDtCon => 0x23,
            Self::TestFrAct => 0x43,
            Self::TestFrCon => 0x83,
        }
    }

    /// snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::StartDtAct => "startdt_act",
            Self::StartDtCon => "startdt_con",
            Self::StopDtAct => "stopdt_act",
            Self::StopDtCon => "stopdt_con",
            Self::TestFrAct => "testfr_act",
            Self::TestFrCon => "testfr_con",
        }
    }

    /// True for the confirmations.
    pub fn is_con(self) -> bool {
        matches!(self, Self::StartDtCon | Self::StopDtCon | Self::TestFrCon)
    }
}

/// Result of looking for one APDU at the start of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A whole APDU: its control part, its ASDU bytes (empty for S/U) and its size.
    Complete {
        /// Control fields.
        apci: Apci,
        /// ASDU bytes of an I frame.
        asdu: &'a [u8],
        /// Bytes of the APDU including start and length.
        consumed: usize,
    },
    /// More bytes are needed (at least `needed` in total).
    Incomplete {
        /// Total bytes the APDU needs.
        needed: usize,
    },
}

/// Checks the six APCI bytes at the start of `data` (start, length, control fields).
pub fn parse_apci(header: &[u8; 6]) -> Result<Apci, Iec104Error> {
    let [start, len, c1, c2, c3, c4] = *header;
    if start != START {
        return Err(Iec104Error::BadStart(start));
    }
    if !(MIN_APDU_LEN..=MAX_APDU_LEN).contains(&len) {
        return Err(Iec104Error::BadLength(len));
    }
    let recv = (u16::from(c3) | u16::from(c4) << 8) >> 1;
    if c1 & 0x01 == 0 {
        if usize::from(len) < 4 + ASDU_HEADER_LEN {
            return Err(Iec104Error::ShortAsdu);
        }
        let send = (u16::from(c1) | u16::from(c2) << 8) >> 1;
        return Ok(Apci::I { send, recv });
    }
    if len != MIN_APDU_LEN {
        return Err(Iec104Error::BadControl);
    }
    if c1 & 0x03 == 0x01 {
        // S frame: the rest of the first two control bytes is zero.
        if c1 != 0x01 || c2 != 0 || c3 & 0x01 != 0 {
            return Err(Iec104Error::BadControl);
        }
        return Ok(Apci::S { recv });
    }
    match UFunction::from_byte(c1) {
        Some(u) if c2 == 0 && c3 == 0 && c4 == 0 => Ok(Apci::U(u)),
        _ => Err(Iec104Error::BadControl),
    }
}

/// Finds the APDU at the start of `data`.
pub fn parse_frame(data: &[u8]) -> Result<Frame<'_>, Iec104Error> {
    let Some(header) = data.first_chunk::<6>() else {
        // Reject early what cannot become an APDU.
        if let Some(&b) = data.first() {
            if b != START {
                return Err(Iec104Error::BadStart(b));
            }
        }
        if let Some(&l) = data.get(1) {
            if !(MIN_APDU_LEN..=MAX_APDU_LEN).contains(&l) {
                return Err(Iec104Error::BadLength(l));
            }
        }
        return Ok(Frame::Incomplete { needed: 6 });
    };
    let apci = parse_apci(header)?;
    let total = 2 + usize::from(header[1]);
    let Some(apdu) = data.get(..total) else {
        return Ok(Frame::Incomplete { needed: total });
    };
    let asdu = match apci {
        Apci::I { .. } => &apdu[6..],
        _ => &apdu[..0],
    };
    Ok(Frame::Complete {
        apci,
        asdu,
        consumed: total,
    })
}

/// A decoded ASDU header with a view of its objects.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Asdu<'a> {
    /// Type identification.
    pub type_id: u8,
    /// SQ bit: one address, consecutive elements.
    pub sequence: bool,
    /// Number of objects or elements.
    pub count: u8,
    /// Cause of transmission (6 bits).
    pub cot: u8,
    /// P/N bit: negative confirmation.
    pub negative: bool,
    /// T bit: test.
    pub test: bool,
    /// Originator address.
    pub originator: u8,
    /// Common address of ASDU.
    pub common_address: u16,
    /// Type table entry, when the type is known.
    pub info: Option<TypeInfo>,
    /// Bytes after the header.
    body: &'a [u8],
}

/// One information object (or one element of a sequence).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InfoObject<'a> {
    /// Information object address.
    pub ioa: u32,
    /// Element bytes (value, quality, time tag).
    pub element: &'a [u8],
}

impl InfoObject<'_> {
    /// The element's value as a number, per the type's value kind.
    pub fn value(&self, kind: ValueKind) -> Option<f64> {
        let e = self.element;
        let i16_at = |i: usize| e.get(i..i + 2).map(|b| i16::from_le_bytes([b[0], b[1]]));
        Some(match kind {
            ValueKind::None => return None,
            ValueKind::SinglePoint => f64::from(*e.first()? & 0x01),
            ValueKind::DoublePoint => f64::from(*e.first()? & 0x03),
            // Two's complement in 7 bits.
            ValueKind::StepPosition => f64::from(((*e.first()? << 1) as i8) >> 1),
            ValueKind::Bitstring => f64::from(u32::from_le_bytes(*e.first_chunk::<4>()?)),
            ValueKind::Normalised => f64::from(i16_at(0)?) / 32768.0,
            ValueKind::Scaled => f64::from(i16_at(0)?),
            ValueKind::Float => f64::from(f32::from_le_bytes(*e.first_chunk::<4>()?)),
            ValueKind::Counter => f64::from(i32::from_le_bytes(*e.first_chunk::<4>()?)),
        })
    }
}

impl<'a> Asdu<'a> {
    /// Decodes an ASDU and checks that the announced objects fit exactly (for types of
    /// known element size).
    pub fn parse(data: &'a [u8]) -> Result<Self, Iec104Error> {
        let Some(h) = data.first_chunk::<ASDU_HEADER_LEN>() else {
            return Err(Iec104Error::ShortAsdu);
        };
        let asdu = Self {
            type_id: h[0],
            sequence: h[1] & 0x80 != 0,
            count: h[1] & 0x7f,
            cot: h[2] & 0x3f,
            negative: h[2] & 0x40 != 0,
            test: h[2] & 0x80 != 0,
            originator: h[3],
            common_address: u16::from_le_bytes([h[4], h[5]]),
            info: type_info(h[0]),
            body: &data[ASDU_HEADER_LEN..],
        };
        if let Some(needed) = asdu.objects_len() {
            if needed != asdu.body.len() {
                return Err(Iec104Error::ObjectsDoNotFit {
                    needed,
                    present: asdu.body.len(),
                });
            }
        }
        Ok(asdu)
    }

    /// Bytes the objects need, for types of fixed element size.
    fn objects_len(&self) -> Option<usize> {
        let elen = self.info?.element_len?;
        let n = usize::from(self.count);
        if n == 0 {
            return Some(0);
        }
        Some(if self.sequence {
            IOA_LEN + n * elen
        } else {
            n * (IOA_LEN + elen)
        })
    }

    /// The information objects (empty for types of unknown or variable size).
    pub fn objects(&self) -> impl Iterator<Item = InfoObject<'a>> + 'a {
        let elen = self.info.and_then(|i| i.element_len);
        let body = self.body;
        let n = if elen.is_some() {
            usize::from(self.count)
        } else {
            0
        };
        let sequence = self.sequence;
        let elen = elen.unwrap_or(0);
        let base = read_ioa(body, 0);
        (0..n).filter_map(move |i| {
            if sequence {
                let off = IOA_LEN + i * elen;
                Some(InfoObject {
                    ioa: base?.wrapping_add(i as u32) & 0x00ff_ffff,
                    element: body.get(off..off + elen)?,
                })
            } else {
                let off = i * (IOA_LEN + elen);
                Some(InfoObject {
                    ioa: read_ioa(body, off)?,
                    element: body.get(off + IOA_LEN..off + IOA_LEN + elen)?,
                })
            }
        })
    }

    /// Address of the first object, whatever the type (for types of unknown size).
    pub fn first_ioa(&self) -> Option<u32> {
        if self.count == 0 {
            return None;
        }
        read_ioa(self.body, 0)
    }
}

fn read_ioa(body: &[u8], off: usize) -> Option<u32> {
    let b = body.get(off..off + IOA_LEN)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}
