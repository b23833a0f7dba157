//! S7comm and S7comm-plus wire format, as pure functions over the COTP payload.

use std::fmt;

/// S7comm protocol id.
pub const S7_PROTOCOL_ID: u8 = 0x32;
/// S7comm-plus protocol id.
pub const S7PLUS_PROTOCOL_ID: u8 = 0x72;
/// Most items a read/write var request may declare (the protocol allows 255; real PDUs
/// fit far fewer).
pub const MAX_ITEMS: usize = 255;

/// Why an S7comm PDU is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum S7Error {
    /// Shorter than its header.
    Truncated,
    /// Parameter and data lengths do not add up to the PDU size.
    BadLength {
        /// Header plus parameter plus data lengths.
        declared: usize,
        /// Bytes present.
        present: usize,
    },
    /// Unknown ROSCTR.
    BadRosctr(u8),
    /// An item does not fit its section.
    BadItem,
    /// Wrong protocol id.
    BadProtocolId(u8),
}

impl fmt::Display for S7Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => write!(f, "truncated header"),
            Self::BadLength { declared, present } => {
                write!(f, "declared {declared} bytes, PDU has {present}")
            }
            Self::BadRosctr(r) => write!(f, "unknown ROSCTR {r}"),
            Self::BadItem => write!(f, "item does not fit its section"),
            Self::BadProtocolId(p) => write!(f, "protocol id 0x{p:02x}"),
        }
    }
}

impl std::error::Error for S7Error {}

/// An S7comm PDU split into its sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pdu<'a> {
    /// Message type.
    pub rosctr: u8,
    /// PDU reference, echoed by the response.
    pub pdu_ref: u16,
    /// Error class and code (ack and ack-data only).
    pub error: Option<(u8, u8)>,
    /// Parameter section.
    pub param: &'a [u8],
    /// Data section.
    pub data: &'a [u8],
}

/// Splits an S7comm PDU.
pub fn parse_pdu(p: &[u8]) -> Result<Pdu<'_>, S7Error> {
    let h = p.first_chunk::<10>().ok_or(S7Error::Truncated)?;
    if h[0] != S7_PROTOCOL_ID {
        return Err(S7Error::BadProtocolId(h[0]));
    }
    let rosctr = h[1];
    let header_len = match rosctr {
        1 | 7 => 10,
        2 | 3 => 12,
        r => return Err(S7Error::BadRosctr(r)),
    };
    let pdu_ref = u16::from_be_bytes([h[4], h[5]]);
    let plen = usize::from(u16::from_be_bytes([h[6], h[7]]));
    let dlen = usize::from(u16::from_be_bytes([h[8], h[9]]));
    let error = if header_len == 12 {
        let e = p.get(10..12).ok_or(S7Error::Truncated)?;
        Some((e[0], e[1]))
    } else {
        None
    };
    let declared = header_len + plen + dlen;
    if declared != p.len() {
        return Err(S7Error::BadLength {
            declared,
            present: p.len(),
        });
    }
    Ok(Pdu {
        rosctr,
        pdu_ref,
        error,
        param: &p[header_len..header_len + plen],
        data: &p[header_len + plen..],
    })
}

/// One variable specification of a read/write var request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarItem {
    /// Syntax id (0x10 = S7ANY).
    pub syntax: u8,
    /// Transport size (S7ANY only).
    pub transport_size: u8,
    /// Element count (S7ANY only).
    pub count: u16,
    /// Data block number (S7ANY only).
    pub db: u16,
    /// Memory area (S7ANY only).
    pub area: u8,
    /// Address: bit address for memory areas, element number for timers/counters.
    pub address: u32,
}

impl VarItem {
    /// Byte address (element number for timers and counters).
    pub fn byte_address(&self) -> u32 {
        if matches!(self.area, 0x1c..=0x1f) {
            self.address
        } else {
            self.address >> 3
        }
    }
}

/// Iterates over the variable specifications of a read/write var parameter section
/// (function, item count, items).
pub fn var_items(param: &[u8]) -> Result<VarItems<'_>, S7Error> {
    let count = *param.get(1).ok_or(S7Error::BadItem)?;
    Ok(VarItems {
        rest: &param[2..],
        left: count,
    })
}

/// Iterator of [`var_items`].
#[derive(Clone, Debug)]
pub struct VarItems<'a> {
    rest: &'a [u8],
    left: u8,
}

impl Iterator for VarItems<'_> {
    type Item = Result<VarItem, S7Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let r = (|| {
            let [spec, len, tail @ ..] = self.rest else {
                return Err(S7Error::BadItem);
            };
            if *spec != 0x12 {
                return Err(S7Error::BadItem);
            }
            let body = tail.get(..usize::from(*len)).ok_or(S7Error::BadItem)?;
            self.rest = &tail[usize::from(*len)..];
            let syntax = *body.first().ok_or(S7Error::BadItem)?;
            if syntax == 0x10 {
                let b = body.get(..10).ok_or(S7Error::BadItem)?;
                Ok(VarItem {
                    syntax,
                    transport_size: b[1],
                    count: u16::from_be_bytes([b[2], b[3]]),
                    db: u16::from_be_bytes([b[4], b[5]]),
                    area: b[6],
                    address: u32::from_be_bytes([0, b[7], b[8], b[9]]),
                })
            } else {
                Ok(VarItem {
                    syntax,
                    transport_size: 0,
                    count: 0,
                    db: 0,
                    area: 0,
                    address: 0,
                })
            }
        })();
        if r.is_err() {
            self.left = 0;
        }
        Some(r)
    }
}

/// One data item of a write request or read response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataItem<'a> {
    /// Return code (0xff success; 0 in requests).
    pub return_code: u8,
    /// Data transport size (3 bit, 4 byte/word/dword, 5 integer, 7 real, 9 octet string).
    pub transport_size: u8,
    /// Value bytes.
    pub data: &'a [u8],
}

/// Iterates over the data items of a data section (`count` of them).
pub fn data_items(data: &[u8], count: usize) -> DataItems<'_> {
    DataItems {
        rest: data,
        left: count,
    }
}

/// Iterator of [`data_items`].
#[derive(Clone, Debug)]
pub struct DataItems<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> Iterator for DataItems<'a> {
    type Item = Result<DataItem<'a>, S7Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let Some(h) = self.rest.first_chunk::<4>() else {
            self.left = 0;
            // A failed item carries only its return code (and a padding byte or not).
            return match self.rest.first() {
                Some(&rc) if rc != 0xff => {
                    self.rest = &self.rest[self.rest.len().min(4)..];
                    Some(Ok(DataItem {
                        return_code: rc,
                        transport_size: 0,
                        data: &[],
                    }))
                }
                _ => Some(Err(S7Error::BadItem)),
            };
        };
        let (rc, ts) = (h[0], h[1]);
        let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
        // Lengths count bits for bit/byte/integer sizes, bytes otherwise.
        let bytes = match ts {
            0x03 => len.div_ceil(8).max(usize::from(len > 0)),
            0x04 | 0x05 => len / 8,
            _ => len,
        };
        let Some(data) = self.rest.get(4..4 + bytes) else {
            self.left = 0;
            return Some(Err(S7Error::BadItem));
        };
        let mut next = 4 + bytes;
        // Items are padded to even length, except the last.
        if self.left > 0 && bytes % 2 == 1 {
            next += 1;
        }
        self.rest = self.rest.get(next..).unwrap_or(&[]);
        Some(Ok(DataItem {
            return_code: rc,
            transport_size: ts,
            data,
        }))
    }
}

/// A block named in a file name such as `_0A00001P`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockName {
    /// Block type (`OB`, `DB`, `FC` ...).
    pub kind: &'static str,
    /// Block number.
    pub number: u32,
}

/// Parses a block file name: `_`, two-character type, five digits, destination file system.
pub fn parse_block_name(name: &[u8]) -> Option<BlockName> {
    let rest = name.strip_prefix(b"_").unwrap_or(name);
    let code = rest.first_chunk::<2>()?;
    let kind = super::constants::block_type(*code)?;
    let digits = rest.get(2..7)?;
    let mut number = 0u32;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        number = number * 10 + u32::from(d - b'0');
    }
    Some(BlockName { kind, number })
}

/// The file name of a download/upload parameter section (function, status, 2 unknown, 4
/// session id, name length, name), when present.
pub fn block_file_name(param: &[u8]) -> Option<&[u8]> {
    let len = usize::from(*param.get(8)?);
    param.get(9..9 + len)
}

/// A PI service invocation (function 0x28) or PLC stop (0x29).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PiService<'a> {
    /// Parameter block.
    pub param: &'a [u8],
    /// Service name (`P_PROGRAM`, `_DELE` ...).
    pub name: &'a [u8],
}

/// Parses a PI service parameter section: function, 7 unknown bytes, parameter block
/// length (2), parameter block, name length (1), name.
pub fn parse_pi_service(param: &[u8]) -> Option<PiService<'_>> {
    let plen = usize::from(u16::from_be_bytes(*param.get(8..10)?.first_chunk::<2>()?));
    let block = param.get(10..10 + plen)?;
    let nlen = usize::from(*param.get(10 + plen)?);
    let name = param.get(11 + plen..11 + plen + nlen)?;
    Some(PiService { param: block, name })
}

/// Parses a PLC stop parameter section: function, 5 unknown bytes, name length, name.
pub fn parse_plc_stop(param: &[u8]) -> Option<&[u8]> {
    let nlen = usize::from(*param.get(6)?);
    param.get(7..7 + nlen)
}

/// Block names in the parameter block of `_INSE`/`_DELE`: count, unknown byte, then
/// 8-character names (type 2, number 5, file system 1).
pub fn pi_blocks(block: &[u8]) -> impl Iterator<Item = BlockName> + '_ {
    let n = usize::from(block.first().copied().unwrap_or(0));
    block
        .get(2..)
        .unwrap_or(&[])
        .chunks_exact(8)
        .take(n)
        .filter_map(parse_block_name)
}

/// The parameter and data heads of a userdata PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserData<'a> {
    /// Type: 0 push, 4 request, 8 response.
    pub kind: u8,
    /// Function group.
    pub group: u8,
    /// Subfunction.
    pub sub: u8,
    /// Sequence number.
    pub seq: u8,
    /// Parameter error code (responses with the long parameter head).
    pub error: Option<u16>,
    /// More data units follow.
    pub more: bool,
    /// Data unit reference, shared by the fragments of one response.
    pub unit_ref: u8,
    /// Data return code.
    pub return_code: u8,
    /// Data after the data head.
    pub payload: &'a [u8],
}

/// Parses the userdata parameter head and data head.
pub fn parse_userdata<'a>(param: &'a [u8], data: &'a [u8]) -> Result<UserData<'a>, S7Error> {
    let h = param.get(..8).ok_or(S7Error::BadItem)?;
    // The head is 00 01 12 except in CPU mode-transition pushes (01 00 10, with a length
    // byte that does not count the parameters): it is not checked.
    let (error, more, unit_ref) = if h[3] >= 8 && param.len() >= 12 {
        let e = &param[8..12];
        (Some(u16::from_be_bytes([e[2], e[3]])), e[1] != 0, e[0])
    } else {
        (None, false, 0)
    };
    let (return_code, payload) = match data.first_chunk::<4>() {
        Some(d) => {
            let len = usize::from(u16::from_be_bytes([d[2], d[3]]));
            (d[0], data.get(4..4 + len).unwrap_or(&data[4..]))
        }
        None => (0, &data[..0]),
    };
    Ok(UserData {
        kind: h[5] >> 4,
        group: h[5] & 0x0f,
        sub: h[6],
        seq: h[7],
        error,
        more,
        unit_ref,
        return_code,
        payload,
    })
}

/// An S7comm-plus PDU head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlusPdu {
    /// Protocol version (1, 2, 3; 0xfe keep-alive).
    pub version: u8,
    /// Opcode: 0x31 request, 0x32 response, 0x33 notification, 0x02 response2.
    pub opcode: Option<u8>,
    /// Function code (requests and responses).
    pub function: Option<u16>,
    /// Sequence number (requests and responses).
    pub seq: Option<u16>,
    /// An integrity digest precedes the data (version 3).
    pub integrity: bool,
    /// Object a SetVariable/GetVariable request addresses (InObjectId).
    pub object_id: Option<u32>,
}

/// Parses the head of an S7comm-plus PDU.
pub fn parse_plus(p: &[u8]) -> Result<PlusPdu, S7Error> {
    let h = p.first_chunk::<4>().ok_or(S7Error::Truncated)?;
    if h[0] != S7PLUS_PROTOCOL_ID {
        return Err(S7Error::BadProtocolId(h[0]));
    }
    let version = h[1];
    let mut body = &p[4..];
    let mut integrity = false;
    if version == 3 {
        // Digest length byte (32) and the digest.
        if let Some(&dl) = body.first() {
            if dl == 0x20 && body.len() > 33 {
                body = &body[33..];
                integrity = true;
            }
        }
    }
    let opcode = body.first().copied();
    let (function, seq) = match opcode {
        Some(0x31 | 0x32 | 0x02) => {
            let f = body.get(3..5).map(|b| u16::from_be_bytes([b[0], b[1]]));
            let s = body.get(7..9).map(|b| u16::from_be_bytes([b[0], b[1]]));
            (f, s)
        }
        _ => (None, None),
    };
    // Requests: session id (4) and transport flags (1) follow the sequence number; the
    // variable services then name their object with a 32-bit id.
    let object_id = match (opcode, function) {
        (Some(0x31), Some(0x04f2 | 0x04fc)) => body
            .get(14..18)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        _ => None,
    };
    Ok(PlusPdu {
        version,
        opcode,
        function,
        seq,
        integrity,
        object_id,
    })
}
