//! OPC UA binary (UA TCP / UA SecureConversation) wire views: the 8-byte message header,
//! the Hello/Acknowledge/Error/ReverseHello bodies, the security and sequence headers of
//! OPN/MSG/CLO chunks, and a bounded reader of the built-in types a service body needs
//! (strings, node ids, variants, diagnostic infos, request and response headers).
//!
//! Pure functions over `&[u8]`; node id text goes to a caller's buffer.

use core::fmt;

/// Length of the message header.
pub const HEADER_LEN: usize = 8;
/// Largest chunk accepted (the protocol lets peers negotiate up to 2^32; real buffers
/// are 8 KiB to a few MiB).
pub const MAX_CHUNK: usize = 16 << 20;
/// Longest string or node id text kept.
pub const MAX_TEXT: usize = 256;
/// Deepest nesting of variants and diagnostic infos followed.
pub const MAX_DEPTH: u8 = 4;
/// Most array elements skipped in one array.
pub const MAX_ARRAY: usize = 4096;

/// Why a message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpcuaError {
    /// Fewer bytes than the structure needs.
    Truncated,
    /// A header with an unknown message type, chunk type or an impossible size.
    BadHeader,
    /// A field whose encoding cannot be right (negative lengths, unknown node id
    /// encodings, nesting beyond the cap).
    BadEncoding,
}

impl fmt::Display for OpcuaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "truncated",
            Self::BadHeader => "bad message header",
            Self::BadEncoding => "bad encoding",
        })
    }
}

impl std::error::Error for OpcuaError {}

/// Message types of the UA TCP and secure conversation layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// Hello.
    Hello,
    /// Acknowledge.
    Acknowledge,
    /// Error.
    Error,
    /// Reverse hello.
    ReverseHello,
    /// Open secure channel.
    Open,
    /// Secure message.
    Message,
    /// Close secure channel.
    Close,
}

impl MessageType {
    /// From the three header bytes.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(match b {
            b"HEL" => Self::Hello,
            b"ACK" => Self::Acknowledge,
            b"ERR" => Self::Error,
            b"RHE" => Self::ReverseHello,
            b"OPN" => Self::Open,
            b"MSG" => Self::Message,
            b"CLO" => Self::Close,
            _ => return None,
        })
    }

    /// The three header bytes as a big-endian number (`HEL` = 0x48454C): the event
    /// function code of transport-level messages.
    pub fn code(self) -> u32 {
        let b: &[u8; 3] = match self {
            Self::Hello => b"HEL",
            Self::Acknowledge => b"ACK",
            Self::Error => b"ERR",
            Self::ReverseHello => b"RHE",
            Self::Open => b"OPN",
            Self::Message => b"MSG",
            Self::Close => b"CLO",
        };
        u32::from_be_bytes([0, b[0], b[1], b[2]])
    }

    /// The smallest size a message of this type can have.
    fn min_size(self) -> usize {
        match self {
            Self::Hello => 32,
            Self::Acknowledge => 28,
            Self::Error => 16,
            Self::ReverseHello => 16,
            // Channel id, policy/cert/thumbprint lengths, sequence header.
            Self::Open => 32,
            // Channel id, token id, sequence header.
            Self::Message | Self::Close => 24,
        }
    }
}

/// The 8-byte message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Message type.
    pub message_type: MessageType,
    /// Chunk type: `F` final, `C` continuation, `A` abort.
    pub chunk: u8,
    /// Total size, header included.
    pub size: usize,
}

/// Reads and checks a message header: known type, chunk type valid for it (only
/// secure-conversation messages are chunked), size within bounds for the type.
pub fn parse_header(b: &[u8]) -> Result<Header, OpcuaError> {
    let h = b.get(..HEADER_LEN).ok_or(OpcuaError::Truncated)?;
    let message_type = MessageType::from_bytes(&h[..3]).ok_or(OpcuaError::BadHeader)?;
    let chunk = h[3];
    let chunked = matches!(message_type, MessageType::Message);
    let chunk_ok = chunk == b'F' || (chunked && (chunk == b'C' || chunk == b'A'));
    let size = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
    if !chunk_ok || size < message_type.min_size() || size > MAX_CHUNK {
        return Err(OpcuaError::BadHeader);
    }
    Ok(Header {
        message_type,
        chunk,
        size,
    })
}

/// True when `b` starts with a whole, consistent OPC UA message (the probe).
pub fn looks_like_opcua(b: &[u8]) -> bool {
    let Ok(h) = parse_header(b) else {
        return false;
    };
    let Some(msg) = b.get(..h.size) else {
        return false;
    };
    match h.message_type {
        // Protocol version 0 and an endpoint URL that ends exactly at the message end.
        MessageType::Hello => {
            let mut r = Reader::new(&msg[HEADER_LEN..]);
            r.u32() == Some(0)
                && r.skip(16).is_some()
                && matches!(r.string(), Some(Some(_)) | Some(None))
                && r.remaining() == 0
        }
        MessageType::Acknowledge => msg.len() == 28,
        _ => true,
    }
}

/// A bounded little-endian reader.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Reads `b` from the start.
    pub fn new(b: &'a [u8]) -> Self {
        Self { b, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.b.len().saturating_sub(self.pos)
    }

    /// The unread bytes.
    pub fn rest(&self) -> &'a [u8] {
        self.b.get(self.pos..).unwrap_or(&[])
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Option<()> {
        self.bytes(n).map(|_| ())
    }

    /// A byte.
    pub fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|s| s[0])
    }

    /// A u16.
    pub fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|s| u16::from_le_bytes([s[0], s[1]]))
    }

    /// A u32.
    pub fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }

    /// An i32.
    pub fn i32(&mut self) -> Option<i32> {
        self.u32().map(|v| v as i32)
    }

    /// A String or ByteString: `None` on truncation, `Some(None)` for the null value.
    pub fn string(&mut self) -> Option<Option<&'a [u8]>> {
        let n = self.i32()?;
        if n < 0 {
            return Some(None);
        }
        self.bytes(n as usize).map(Some)
    }

    /// An array length (negative = null = 0), checked against the bytes left given
    /// each element takes at least `min_elem` bytes.
    pub fn array_len(&mut self, min_elem: usize) -> Option<usize> {
        let n = self.i32()?;
        if n < 0 {
            return Some(0);
        }
        let n = n as usize;
        if n > MAX_ARRAY || n.saturating_mul(min_elem.max(1)) > self.remaining() {
            return None;
        }
        Some(n)
    }

    /// A NodeId (or, with `expanded`, an ExpandedNodeId). Writes its text
    /// (`i=85`, `ns=2;s=Tank.Level` ...) to `text` when given, and returns
    /// (namespace, numeric id when numeric).
    pub fn node_id(
        &mut self,
        expanded: bool,
        text: Option<&mut String>,
    ) -> Option<(u16, Option<u32>)> {
        use fmt::Write;
        let enc = self.u8()?;
        let (ns, body) = match enc & 0x3F {
            0x00 => (0u16, NodeBody::Numeric(u32::from(self.u8()?))),
            0x01 => {
                let ns = u16::from(self.u8()?);
                (ns, NodeBody::Numeric(u32::from(self.u16()?)))
            }
            0x02 => {
                let ns = self.u16()?;
                (ns, NodeBody::Numeric(self.u32()?))
            }
            0x03 => {
                let ns = self.u16()?;
                (ns, NodeBody::String(self.string()?.unwrap_or(&[])))
            }
            0x04 => {
                let ns = self.u16()?;
                (ns, NodeBody::Guid(self.bytes(16)?))
            }
            0x05 => {
                let ns = self.u16()?;
                (ns, NodeBody::Opaque(self.string()?.unwrap_or(&[])))
            }
            _ => return None,
        };
        if expanded {
            if enc & 0x80 != 0 {
                self.string()?;
            }
            if enc & 0x40 != 0 {
                self.u32()?;
            }
        } else if enc & 0xC0 != 0 {
            return None;
        }
        if let Some(t) = text {
            t.clear();
            if ns != 0 {
                let _ = write!(t, "ns={ns};");
            }
            match body {
                NodeBody::Numeric(v) => {
                    let _ = write!(t, "i={v}");
                }
                NodeBody::String(s) => {
                    t.push_str("s=");
                    push_text(t, s);
                }
                NodeBody::Guid(g) => {
                    t.push_str("g=");
                    for b in g {
                        let _ = write!(t, "{b:02x}");
                    }
                }
                NodeBody::Opaque(s) => {
                    t.push_str("b=");
                    for b in s.iter().take(MAX_TEXT / 2) {
                        let _ = write!(t, "{b:02x}");
                    }
                }
            }
        }
        let numeric = match body {
            NodeBody::Numeric(v) => Some(v),
            _ => None,
        };
        Some((ns, numeric))
    }

    /// Skips an ExtensionObject.
    pub fn skip_extension_object(&mut self) -> Option<()> {
        self.node_id(false, None)?;
        match self.u8()? {
            0x00 => Some(()),
            0x01 | 0x02 => self.string().map(|_| ()),
            _ => None,
        }
    }

    /// Skips a DiagnosticInfo.
    pub fn skip_diagnostic_info(&mut self, depth: u8) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mask = self.u8()?;
        for bit in [0x01u8, 0x02, 0x04, 0x08] {
            if mask & bit != 0 {
                self.skip(4)?;
            }
        }
        if mask & 0x10 != 0 {
            self.string()?;
        }
        if mask & 0x20 != 0 {
            self.skip(4)?;
        }
        if mask & 0x40 != 0 {
            self.skip_diagnostic_info(depth + 1)?;
        }
        Some(())
    }

    /// Skips a LocalizedText, returning its text.
    pub fn localized_text(&mut self) -> Option<Option<&'a [u8]>> {
        let mask = self.u8()?;
        if mask & 0x01 != 0 {
            self.string()?;
        }
        if mask & 0x02 != 0 {
            return self.string();
        }
        Some(None)
    }

    /// Reads one scalar of built-in type `t`: its numeric value for the numeric types
    /// and booleans, `None` inside for the others.
    fn scalar(&mut self, t: u8, depth: u8) -> Option<Option<f64>> {
        Some(match t {
            1 => Some(f64::from(u8::from(self.u8()? != 0))),
            2 => Some(f64::from(self.u8()? as i8)),
            3 => Some(f64::from(self.u8()?)),
            4 => Some(f64::from(self.u16()? as i16)),
            5 => Some(f64::from(self.u16()?)),
            6 => Some(f64::from(self.i32()?)),
            7 => Some(f64::from(self.u32()?)),
            8 | 9 | 11 => {
                let s = self.bytes(8)?;
                let mut x = [0u8; 8];
                x.copy_from_slice(s);
                Some(match t {
                    8 => i64::from_le_bytes(x) as f64,
                    9 => u64::from_le_bytes(x) as f64,
                    _ => f64::from_le_bytes(x),
                })
            }
            10 => {
                let s = self.bytes(4)?;
                Some(f64::from(f32::from_le_bytes([s[0], s[1], s[2], s[3]])))
            }
            12 | 15 | 16 => {
                self.string()?;
                None
            }
            13 => {
                self.skip(8)?;
                None
            }
            14 => {
                self.skip(16)?;
                None
            }
            17 => {
                self.node_id(false, None)?;
                None
            }
            18 => {
                self.node_id(true, None)?;
                None
            }
            19 => Some(f64::from(self.u32()?)),
            20 => {
                self.skip(2)?;
                self.string()?;
                None
            }
            21 => {
                self.localized_text()?;
                None
            }
            22 => {
                self.skip_extension_object()?;
                None
            }
            23 => {
                self.data_value(depth + 1)?;
                None
            }
            24 => {
                self.variant(depth + 1)?;
                None
            }
            25 => {
                self.skip_diagnostic_info(depth + 1)?;
                None
            }
            _ => return None,
        })
    }

    /// Reads a Variant: its value when it is a numeric scalar.
    pub fn variant(&mut self, depth: u8) -> Option<Option<f64>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let enc = self.u8()?;
        if enc == 0 {
            return Some(None);
        }
        let t = enc & 0x3F;
        if enc & 0x80 == 0 {
            return self.scalar(t, depth);
        }
        let n = self.array_len(1)?;
        for _ in 0..n {
            self.scalar(t, depth)?;
        }
        if enc & 0x40 != 0 {
            let d = self.array_len(4)?;
            self.skip(d * 4)?;
        }
        Some(None)
    }

    /// Reads a DataValue: its value when it holds a numeric scalar variant, and its
    /// status code when present.
    pub fn data_value(&mut self, depth: u8) -> Option<(Option<f64>, Option<u32>)> {
        let mask = self.u8()?;
        let value = if mask & 0x01 != 0 {
            self.variant(depth)?
        } else {
            None
        };
        let status = if mask & 0x02 != 0 {
            Some(self.u32()?)
        } else {
            None
        };
        if mask & 0x04 != 0 {
            self.skip(8)?;
        }
        if mask & 0x10 != 0 {
            self.skip(2)?;
        }
        if mask & 0x08 != 0 {
            self.skip(8)?;
        }
        if mask & 0x20 != 0 {
            self.skip(2)?;
        }
        Some((value, status))
    }

    /// Reads a RequestHeader; returns the request handle.
    pub fn request_header(&mut self) -> Option<u32> {
        self.node_id(false, None)?;
        self.skip(8)?;
        let handle = self.u32()?;
        self.skip(4)?;
        self.string()?;
        self.skip(4)?;
        self.skip_extension_object()?;
        Some(handle)
    }

    /// Reads a ResponseHeader; returns (request handle, service result).
    pub fn response_header(&mut self) -> Option<(u32, u32)> {
        self.skip(8)?;
        let handle = self.u32()?;
        let result = self.u32()?;
        self.skip_diagnostic_info(0)?;
        let n = self.array_len(4)?;
        for _ in 0..n {
            self.string()?;
        }
        self.skip_extension_object()?;
        Some((handle, result))
    }

    /// Reads an ApplicationDescription: (application uri, product uri, application name).
    pub fn application_description(&mut self) -> Option<AppDescription<'a>> {
        let application_uri = self.string()?;
        let product_uri = self.string()?;
        let application_name = self.localized_text()?;
        self.skip(4)?;
        self.string()?;
        self.string()?;
        let n = self.array_len(4)?;
        for _ in 0..n {
            self.string()?;
        }
        Some(AppDescription {
            application_uri,
            product_uri,
            application_name,
        })
    }
}

/// The identifying part of an ApplicationDescription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppDescription<'a> {
    /// Application URI.
    pub application_uri: Option<&'a [u8]>,
    /// Product URI.
    pub product_uri: Option<&'a [u8]>,
    /// Application name text.
    pub application_name: Option<&'a [u8]>,
}

enum NodeBody<'a> {
    Numeric(u32),
    String(&'a [u8]),
    Guid(&'a [u8]),
    Opaque(&'a [u8]),
}

/// Appends printable text (others escaped), up to [`MAX_TEXT`] bytes.
pub fn push_text(t: &mut String, s: &[u8]) {
    use fmt::Write;
    let text = String::from_utf8_lossy(s);
    for c in text.chars() {
        if t.len() >= MAX_TEXT {
            break;
        }
        if c.is_control() {
            let _ = write!(t, "\\u{{{:x}}}", u32::from(c));
        } else {
            t.push(c);
        }
    }
}

/// The fields of a Hello message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hello<'a> {
    /// Protocol version.
    pub version: u32,
    /// Endpoint URL.
    pub endpoint_url: Option<&'a [u8]>,
}

/// Reads a Hello body (after the header).
pub fn parse_hello(b: &[u8]) -> Result<Hello<'_>, OpcuaError> {
    let mut r = Reader::new(b);
    let version = r.u32().ok_or(OpcuaError::Truncated)?;
    r.skip(16).ok_or(OpcuaError::Truncated)?;
    let endpoint_url = r.string().ok_or(OpcuaError::Truncated)?;
    Ok(Hello {
        version,
        endpoint_url,
    })
}

/// Reads an Error body: (status code, reason).
pub fn parse_error(b: &[u8]) -> Result<(u32, Option<&[u8]>), OpcuaError> {
    let mut r = Reader::new(b);
    let code = r.u32().ok_or(OpcuaError::Truncated)?;
    let reason = r.string().unwrap_or(None);
    Ok((code, reason))
}

/// The headers of an OPN, MSG or CLO chunk and its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecureChunk<'a> {
    /// Secure channel id.
    pub channel_id: u32,
    /// Security policy URI (OPN only).
    pub policy_uri: Option<&'a [u8]>,
    /// Security token id (MSG/CLO only).
    pub token_id: Option<u32>,
    /// Sequence number (meaningful only when not encrypted).
    pub sequence: u32,
    /// Request id (meaningful only when not encrypted).
    pub request_id: u32,
    /// Body after the sequence header (the service message or a piece of it; with
    /// signing, the signature and padding trail it).
    pub body: &'a [u8],
}

/// Reads the headers of a secure-conversation chunk body (after the 8-byte header).
pub fn parse_secure(t: MessageType, b: &[u8]) -> Result<SecureChunk<'_>, OpcuaError> {
    let mut r = Reader::new(b);
    let channel_id = r.u32().ok_or(OpcuaError::Truncated)?;
    let (policy_uri, token_id) = if t == MessageType::Open {
        let policy = r.string().ok_or(OpcuaError::Truncated)?;
        r.string().ok_or(OpcuaError::Truncated)?;
        r.string().ok_or(OpcuaError::Truncated)?;
        (policy, None)
    } else {
        (None, Some(r.u32().ok_or(OpcuaError::Truncated)?))
    };
    let sequence = r.u32().ok_or(OpcuaError::Truncated)?;
    let request_id = r.u32().ok_or(OpcuaError::Truncated)?;
    Ok(SecureChunk {
        channel_id,
        policy_uri,
        token_id,
        sequence,
        request_id,
        body: r.rest(),
    })
}
