//! Modbus/TCP wire format: the MBAP header framing ([`parse_frame`]) and the PDUs of
//! requests ([`parse_request`]) and responses ([`parse_response`]).
//!
//! Pure functions over borrowed bytes; nothing allocates. Register and coil data stay as
//! borrowed slices whose lengths were checked against the byte counts and quantities the
//! PDU states, so readers ([`register`], [`bit`]) cannot run past them.

use super::constants::*;
use std::fmt;

/// Length of the MBAP header, unit identifier included.
pub const MBAP_LEN: usize = 7;
/// Largest MBAP length field: unit identifier plus the 253-byte maximum PDU.
pub const MAX_MBAP_LENGTH: u16 = 254;
/// Smallest MBAP length field: unit identifier plus a function code.
pub const MIN_MBAP_LENGTH: u16 = 2;
/// Most registers one read may ask for (Modbus application protocol v1.1b3, §6.3).
pub const MAX_READ_REGISTERS: u16 = 125;
/// Most coils or inputs one read may ask for (§6.1).
pub const MAX_READ_BITS: u16 = 2000;

/// Byte offsets of the MBAP header fields.
mod field {
    use std::ops::Range;
    pub const TRANSACTION: Range<usize> = 0..2;
    pub const PROTOCOL: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const UNIT: usize = 6;
}

/// Why a Modbus message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModbusError {
    /// The PDU ends before the fields its function code requires.
    Truncated,
    /// MBAP protocol identifier other than 0 (Modbus).
    BadProtocolId(u16),
    /// MBAP length field outside 2..=254.
    BadLength(u16),
    /// A byte count that disagrees with the quantity or with the bytes present.
    ByteCountMismatch {
        /// Byte count stated in the PDU.
        stated: u16,
        /// Bytes the quantity or the PDU length implies.
        expected: u16,
    },
    /// A quantity of 0 or above the maximum the function allows.
    QuantityOutOfRange(u16),
    /// Bytes left after the fields of a fixed-size PDU.
    TrailingBytes(usize),
    /// A function code of 0, which no function has.
    ZeroFunctionCode,
}

impl fmt::Display for ModbusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("PDU truncated"),
            Self::BadProtocolId(p) => write!(f, "MBAP protocol id {p} is not 0"),
            Self::BadLength(l) => write!(f, "MBAP length {l} outside 2..=254"),
            Self::ByteCountMismatch { stated, expected } => {
                write!(f, "byte count {stated} where {expected} was expected")
            }
            Self::QuantityOutOfRange(q) => write!(f, "quantity {q} out of range"),
            Self::TrailingBytes(n) => write!(f, "{n} bytes after the PDU fields"),
            Self::ZeroFunctionCode => f.write_str("function code 0"),
        }
    }
}

impl std::error::Error for ModbusError {}

/// The MBAP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mbap {
    /// Transaction identifier, echoed by the server.
    pub transaction: u16,
    /// Protocol identifier (0 for Modbus).
    pub protocol: u16,
    /// Number of bytes that follow the length field (unit id + PDU).
    pub length: u16,
    /// Unit identifier.
    pub unit: u8,
}

/// Result of splitting one ADU off a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A whole ADU.
    Complete {
        /// Its header.
        header: Mbap,
        /// The PDU: function code and data (never empty).
        pdu: &'a [u8],
        /// Bytes the ADU took.
        consumed: usize,
    },
    /// More bytes are needed.
    Incomplete {
        /// At least this many more.
        needed: usize,
    },
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Reads the MBAP header at the start of `data` when 7 bytes are present, without
/// validating it.
pub fn mbap(data: &[u8]) -> Option<Mbap> {
    let h = data.get(..MBAP_LEN)?;
    Some(Mbap {
        transaction: u16::from_be_bytes([
            h[field::TRANSACTION.start],
            h[field::TRANSACTION.start + 1],
        ]),
        protocol: u16::from_be_bytes([h[field::PROTOCOL.start], h[field::PROTOCOL.start + 1]]),
        length: u16::from_be_bytes([h[field::LENGTH.start], h[field::LENGTH.start + 1]]),
        unit: h[field::UNIT],
    })
}

/// Splits one ADU off the front of `data`. The header is validated (protocol id 0,
/// length within 2..=254, function code not 0) before the length is trusted.
pub fn parse_frame(data: &[u8]) -> Result<Frame<'_>, ModbusError> {
    let Some(header) = mbap(data) else {
        return Ok(Frame::Incomplete {
            needed: MBAP_LEN - data.len(),
        });
    };
    if header.protocol != 0 {
        return Err(ModbusError::BadProtocolId(header.protocol));
    }
    if !(MIN_MBAP_LENGTH..=MAX_MBAP_LENGTH).contains(&header.length) {
        return Err(ModbusError::BadLength(header.length));
    }
    if data.get(MBAP_LEN) == Some(&0) {
        return Err(ModbusError::ZeroFunctionCode);
    }
    let total = 6 + usize::from(header.length);
    match data.get(MBAP_LEN..total) {
        Some(pdu) => Ok(Frame::Complete {
            header,
            pdu,
            consumed: total,
        }),
        None => Ok(Frame::Incomplete {
            needed: total - data.len(),
        }),
    }
}

/// True when `data` starts with a header that could begin an ADU: protocol id 0, a
/// length in range and a function code gapwatch knows (with or without the exception
/// bit). Used to find the next ADU after lost framing and to recognise flows by content.
pub fn plausible_header(data: &[u8]) -> bool {
    let Some(h) = mbap(data) else {
        return false;
    };
    let Some(&fc) = data.get(MBAP_LEN) else {
        return false;
    };
    h.protocol == 0
        && (MIN_MBAP_LENGTH..=MAX_MBAP_LENGTH).contains(&h.length)
        && is_known_function(fc & !EXCEPTION_BIT)
}

/// Register `i` (0-based) of big-endian register data.
pub fn register(data: &[u8], i: usize) -> Option<u16> {
    be16(data, i.checked_mul(2)?)
}

/// Bit `i` (0-based) of packed coil data, least significant bit first.
pub fn bit(data: &[u8], i: usize) -> Option<bool> {
    data.get(i / 8).map(|b| b >> (i % 8) & 1 == 1)
}

/// A request PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    /// Functions 1–4: read `quantity` points from `address`.
    Read {
        /// Function code.
        fc: u8,
        /// First point (0-based wire address).
        address: u16,
        /// Number of points.
        quantity: u16,
    },
    /// Function 5 or 6: write one point.
    WriteSingle {
        /// Function code.
        fc: u8,
        /// Point address.
        address: u16,
        /// Raw value (0xFF00 / 0x0000 for coils).
        value: u16,
    },
    /// Function 15: write coils, packed bits.
    WriteMultipleCoils {
        /// First coil.
        address: u16,
        /// Number of coils.
        quantity: u16,
        /// Packed values, exactly ceil(quantity / 8) bytes.
        bits: &'a [u8],
    },
    /// Function 16: write registers.
    WriteMultipleRegisters {
        /// First register.
        address: u16,
        /// Number of registers.
        quantity: u16,
        /// Values, exactly 2 × quantity bytes.
        registers: &'a [u8],
    },
    /// Function 22: (register AND and_mask) OR (or_mask AND NOT and_mask).
    MaskWriteRegister {
        /// Register.
        address: u16,
        /// AND mask.
        and_mask: u16,
        /// OR mask.
        or_mask: u16,
    },
    /// Function 23: write, then read, registers.
    ReadWriteMultipleRegisters {
        /// First register read.
        read_address: u16,
        /// Registers read.
        read_quantity: u16,
        /// First register written.
        write_address: u16,
        /// Registers written.
        write_quantity: u16,
        /// Values written, exactly 2 × write_quantity bytes.
        registers: &'a [u8],
    },
    /// Function 24: read the FIFO queue whose count register is `address`.
    ReadFifoQueue {
        /// FIFO pointer address.
        address: u16,
    },
    /// Functions 20 and 21: file record sub-requests (7-byte headers, plus record data
    /// for writes), checked against the byte count.
    FileRecord {
        /// Function code.
        fc: u8,
        /// The sub-requests.
        data: &'a [u8],
    },
    /// Function 8.
    Diagnostics {
        /// Sub-function code.
        sub_function: u16,
        /// Data field.
        data: &'a [u8],
    },
    /// Function 43.
    Encapsulated {
        /// MEI type (14 = read device identification).
        mei_type: u8,
        /// MEI data.
        data: &'a [u8],
    },
    /// Function 90 (Schneider UMAS).
    Umas {
        /// Session (pairing) key.
        session: u8,
        /// UMAS sub-function code.
        code: u8,
        /// Its data.
        data: &'a [u8],
    },
    /// Functions without fields gapwatch reads (7, 11, 12, 17, programming codes,
    /// unknown codes).
    Other {
        /// Function code.
        fc: u8,
        /// Data after the function code.
        data: &'a [u8],
    },
}

impl Request<'_> {
    /// Function code of the request.
    pub fn function(&self) -> u8 {
        match *self {
            Self::Read { fc, .. } | Self::WriteSingle { fc, .. } | Self::FileRecord { fc, .. } => {
                fc
            }
            Self::WriteMultipleCoils { .. } => FC_WRITE_MULTIPLE_COILS,
            Self::WriteMultipleRegisters { .. } => FC_WRITE_MULTIPLE_REGISTERS,
            Self::MaskWriteRegister { .. } => FC_MASK_WRITE_REGISTER,
            Self::ReadWriteMultipleRegisters { .. } => FC_READ_WRITE_MULTIPLE_REGISTERS,
            Self::ReadFifoQueue { .. } => FC_READ_FIFO_QUEUE,
            Self::Diagnostics { .. } => FC_DIAGNOSTICS,
            Self::Encapsulated { .. } => FC_ENCAPSULATED_INTERFACE,
            Self::Umas { .. } => FC_UMAS,
            Self::Other { fc, .. } => fc,
        }
    }
}

fn exact(data: &[u8], len: usize) -> Result<&[u8], ModbusError> {
    match data.len().cmp(&len) {
        std::cmp::Ordering::Less => Err(ModbusError::Truncated),
        std::cmp::Ordering::Greater => Err(ModbusError::TrailingBytes(data.len() - len)),
        std::cmp::Ordering::Equal => Ok(data),
    }
}

/// Checks that `data[at]` is a byte count equal to the bytes following it.
fn counted(data: &[u8], at: usize, expected: usize) -> Result<&[u8], ModbusError> {
    let stated = *data.get(at).ok_or(ModbusError::Truncated)?;
    let rest = data.get(at + 1..).ok_or(ModbusError::Truncated)?;
    if usize::from(stated) != expected {
        return Err(ModbusError::ByteCountMismatch {
            stated: stated.into(),
            expected: u16::try_from(expected).unwrap_or(u16::MAX),
        });
    }
    exact(rest, expected)
}

fn quantity(q: u16, max: u16) -> Result<u16, ModbusError> {
    if q == 0 || q > max {
        Err(ModbusError::QuantityOutOfRange(q))
    } else {
        Ok(q)
    }
}

/// Parses a request PDU (function code first).
pub fn parse_request(pdu: &[u8]) -> Result<Request<'_>, ModbusError> {
    let (&fc, d) = pdu.split_first().ok_or(ModbusError::Truncated)?;
    let w = |at: usize| be16(d, at).ok_or(ModbusError::Truncated);
    Ok(match fc {
        0 => return Err(ModbusError::ZeroFunctionCode),
        FC_READ_COILS..=FC_READ_INPUT_REGISTERS => {
            exact(d, 4)?;
            let max = if fc <= FC_READ_DISCRETE_INPUTS {
                MAX_READ_BITS
            } else {
                MAX_READ_REGISTERS
            };
            Request::Read {
                fc,
                address: w(0)?,
                quantity: quantity(w(2)?, max)?,
            }
        }
        FC_WRITE_SINGLE_COIL | FC_WRITE_SINGLE_REGISTER => {
            exact(d, 4)?;
            Request::WriteSingle {
                fc,
                address: w(0)?,
                value: w(2)?,
            }
        }
        FC_WRITE_MULTIPLE_COILS => {
            let quantity = quantity(w(2)?, 0x07B0)?;
            let bits = counted(d, 4, usize::from(quantity).div_ceil(8))?;
            Request::WriteMultipleCoils {
                address: w(0)?,
                quantity,
                bits,
            }
        }
        FC_WRITE_MULTIPLE_REGISTERS => {
            let quantity = quantity(w(2)?, 123)?;
            let registers = counted(d, 4, usize::from(quantity) * 2)?;
            Request::WriteMultipleRegisters {
                address: w(0)?,
                quantity,
                registers,
            }
        }
        FC_MASK_WRITE_REGISTER => {
            exact(d, 6)?;
            Request::MaskWriteRegister {
                address: w(0)?,
                and_mask: w(2)?,
                or_mask: w(4)?,
            }
        }
        FC_READ_WRITE_MULTIPLE_REGISTERS => {
            let read_quantity = quantity(w(2)?, MAX_READ_REGISTERS)?;
            let write_quantity = quantity(w(6)?, 121)?;
            let registers = counted(d, 8, usize::from(write_quantity) * 2)?;
            Request::ReadWriteMultipleRegisters {
                read_address: w(0)?,
                read_quantity,
                write_address: w(4)?,
                write_quantity,
                registers,
            }
        }
        FC_READ_FIFO_QUEUE => {
            exact(d, 2)?;
            Request::ReadFifoQueue { address: w(0)? }
        }
        FC_READ_FILE_RECORD | FC_WRITE_FILE_RECORD => {
            let n = d.len().saturating_sub(1);
            Request::FileRecord {
                fc,
                data: counted(d, 0, n)?,
            }
        }
        FC_DIAGNOSTICS => Request::Diagnostics {
            sub_function: w(0)?,
            data: d.get(2..).unwrap_or_default(),
        },
        FC_ENCAPSULATED_INTERFACE => {
            let (&mei_type, data) = d.split_first().ok_or(ModbusError::Truncated)?;
            Request::Encapsulated { mei_type, data }
        }
        FC_UMAS => {
            let [session, code, data @ ..] = d else {
                return Err(ModbusError::Truncated);
            };
            Request::Umas {
                session: *session,
                code: *code,
                data,
            }
        }
        _ => Request::Other { fc, data: d },
    })
}

/// One object of a read-device-identification response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceIdObject<'a> {
    /// Object id (0 vendor name, 1 product code, 2 revision, 4 product name ...).
    pub id: u8,
    /// Its value (ASCII by the specification, not checked).
    pub value: &'a [u8],
}

/// The objects of a read-device-identification response, validated on parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceIdObjects<'a> {
    data: &'a [u8],
}

impl<'a> Iterator for DeviceIdObjects<'a> {
    type Item = DeviceIdObject<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let [id, len, rest @ ..] = self.data else {
            return None;
        };
        let value = rest.get(..usize::from(*len))?;
        let item = DeviceIdObject { id: *id, value };
        self.data = rest.get(usize::from(*len)..).unwrap_or_default();
        Some(item)
    }
}

/// A response PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response<'a> {
    /// The function code with the exception bit set, and the exception code.
    Exception {
        /// Function code without the exception bit.
        fc: u8,
        /// Exception code.
        code: u8,
    },
    /// Functions 1 and 2: packed bits.
    ReadBits {
        /// Function code.
        fc: u8,
        /// Packed values.
        bits: &'a [u8],
    },
    /// Functions 3, 4 and 23: register values.
    ReadRegisters {
        /// Function code.
        fc: u8,
        /// Values, an even number of bytes.
        registers: &'a [u8],
    },
    /// Functions 5 and 6: the request echoed.
    WriteSingle {
        /// Function code.
        fc: u8,
        /// Point address.
        address: u16,
        /// Value.
        value: u16,
    },
    /// Functions 15 and 16: address and quantity written.
    WriteMultiple {
        /// Function code.
        fc: u8,
        /// First point.
        address: u16,
        /// Points written.
        quantity: u16,
    },
    /// Function 22: the request echoed.
    MaskWriteRegister {
        /// Register.
        address: u16,
        /// AND mask.
        and_mask: u16,
        /// OR mask.
        or_mask: u16,
    },
    /// Function 24: the queue.
    ReadFifoQueue {
        /// Queued values, 2 bytes each.
        registers: &'a [u8],
    },
    /// Function 8: sub-function echoed with its data.
    Diagnostics {
        /// Sub-function code.
        sub_function: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Function 43 / MEI 14.
    DeviceIdentification {
        /// Read device id code (1 basic, 2 regular, 3 extended, 4 one object).
        read_code: u8,
        /// Conformity level.
        conformity: u8,
        /// More objects follow in another transaction.
        more_follows: bool,
        /// Next object id to ask for.
        next_object: u8,
        /// The objects.
        objects: DeviceIdObjects<'a>,
    },
    /// Function 90.
    Umas {
        /// Session key.
        session: u8,
        /// Status: 0xFE success, 0xFD error.
        status: u8,
        /// Data.
        data: &'a [u8],
    },
    /// Other functions.
    Other {
        /// Function code.
        fc: u8,
        /// Data after the function code.
        data: &'a [u8],
    },
}

/// Parses a response PDU (function code first).
pub fn parse_response(pdu: &[u8]) -> Result<Response<'_>, ModbusError> {
    let (&fc, d) = pdu.split_first().ok_or(ModbusError::Truncated)?;
    let w = |at: usize| be16(d, at).ok_or(ModbusError::Truncated);
    if fc == 0 {
        return Err(ModbusError::ZeroFunctionCode);
    }
    if fc & EXCEPTION_BIT != 0 {
        exact(d, 1)?;
        return Ok(Response::Exception {
            fc: fc & !EXCEPTION_BIT,
            code: d[0],
        });
    }
    Ok(match fc {
        FC_READ_COILS | FC_READ_DISCRETE_INPUTS => Response::ReadBits {
            fc,
            bits: counted(d, 0, d.len().saturating_sub(1))?,
        },
        FC_READ_HOLDING_REGISTERS | FC_READ_INPUT_REGISTERS | FC_READ_WRITE_MULTIPLE_REGISTERS => {
            let registers = counted(d, 0, d.len().saturating_sub(1))?;
            if registers.len() % 2 != 0 {
                return Err(ModbusError::TrailingBytes(1));
            }
            Response::ReadRegisters { fc, registers }
        }
        FC_WRITE_SINGLE_COIL | FC_WRITE_SINGLE_REGISTER => {
            exact(d, 4)?;
            Response::WriteSingle {
                fc,
                address: w(0)?,
                value: w(2)?,
            }
        }
        FC_WRITE_MULTIPLE_COILS | FC_WRITE_MULTIPLE_REGISTERS => {
            exact(d, 4)?;
            Response::WriteMultiple {
                fc,
                address: w(0)?,
                quantity: w(2)?,
            }
        }
        FC_MASK_WRITE_REGISTER => {
            exact(d, 6)?;
            Response::MaskWriteRegister {
                address: w(0)?,
                and_mask: w(2)?,
                or_mask: w(4)?,
            }
        }
        FC_READ_FIFO_QUEUE => {
            let byte_count = w(0)?;
            let fifo_count = w(2)?;
            let rest = d.get(2..).ok_or(ModbusError::Truncated)?;
            if usize::from(byte_count) != rest.len()
                || usize::from(fifo_count) * 2 + 2 != rest.len()
            {
                return Err(ModbusError::ByteCountMismatch {
                    stated: byte_count,
                    expected: u16::try_from(rest.len()).unwrap_or(u16::MAX),
                });
            }
            Response::ReadFifoQueue {
                registers: &rest[2..],
            }
        }
        FC_DIAGNOSTICS => Response::Diagnostics {
            sub_function: w(0)?,
            data: d.get(2..).unwrap_or_default(),
        },
        FC_ENCAPSULATED_INTERFACE if d.first() == Some(&MEI_READ_DEVICE_ID) => {
            let [_, read_code, conformity, more, next, count, objects @ ..] = d else {
                return Err(ModbusError::Truncated);
            };
            // Validate every object header once so the iterator can trust them.
            let mut rest = objects;
            for _ in 0..*count {
                let [_, len, tail @ ..] = rest else {
                    return Err(ModbusError::Truncated);
                };
                rest = tail
                    .get(usize::from(*len)..)
                    .ok_or(ModbusError::Truncated)?;
            }
            if !rest.is_empty() {
                return Err(ModbusError::TrailingBytes(rest.len()));
            }
            Response::DeviceIdentification {
                read_code: *read_code,
                conformity: *conformity,
                more_follows: *more == 0xFF,
                next_object: *next,
                objects: DeviceIdObjects { data: objects },
            }
        }
        FC_UMAS => {
            let [session, status, data @ ..] = d else {
                return Err(ModbusError::Truncated);
            };
            Response::Umas {
                session: *session,
                status: *status,
                data,
            }
        }
        _ => Response::Other { fc, data: d },
    })
}

/// Function code of a response PDU (without the exception bit), if it has one.
pub fn response_function(pdu: &[u8]) -> Option<u8> {
    pdu.first().map(|fc| fc & !EXCEPTION_BIT)
}
