//! MQTT 3.1, 3.1.1 and 5 control packets: fixed header with its variable-length
//! remaining length, CONNECT, CONNACK, PUBLISH, SUBSCRIBE/UNSUBSCRIBE and their acks.

/// Longest remaining-length encoding (4 bytes, 268 435 455).
pub const MAX_LEN_BYTES: usize = 4;

/// Why an MQTT packet could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MqttError {
    /// Packet type 0 (reserved).
    ReservedType,
    /// Remaining length encoded in more than four bytes.
    BadLength,
    /// A field runs past the packet.
    Truncated,
    /// A CONNECT whose protocol name is not MQTT / MQIsdp.
    BadProtocolName,
    /// Fixed-header flags the packet type does not allow.
    BadFlags(u8),
}

impl std::fmt::Display for MqttError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ReservedType => f.write_str("reserved packet type 0"),
            Self::BadLength => f.write_str("remaining length longer than 4 bytes"),
            Self::Truncated => f.write_str("field runs past the packet"),
            Self::BadProtocolName => f.write_str("CONNECT protocol name is not MQTT"),
            Self::BadFlags(b) => write!(f, "fixed header {b:#04x} has flags its type forbids"),
        }
    }
}

impl std::error::Error for MqttError {}

/// A packet's fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedHeader {
    /// Packet type (1 CONNECT ... 15 AUTH).
    pub packet_type: u8,
    /// Flag nibble.
    pub flags: u8,
    /// Length of the fixed header.
    pub header_len: usize,
    /// Remaining length.
    pub remaining: usize,
}

/// Parses a fixed header; `Ok(None)` when more bytes are needed.
pub fn parse_fixed_header(data: &[u8]) -> Result<Option<FixedHeader>, MqttError> {
    let Some(&b0) = data.first() else {
        return Ok(None);
    };
    let packet_type = b0 >> 4;
    let flags = b0 & 0x0F;
    if packet_type == 0 {
        return Err(MqttError::ReservedType);
    }
    // SUBSCRIBE, UNSUBSCRIBE and PUBREL must carry flags 0b0010; PUBLISH any; others 0.
    let flags_ok = match packet_type {
        3 => (flags >> 1) & 0x03 != 3,
        6 | 8 | 10 => flags == 0x02,
        _ => flags == 0,
    };
    if !flags_ok {
        return Err(MqttError::BadFlags(b0));
    }
    let mut remaining = 0usize;
    for i in 0..MAX_LEN_BYTES {
        let Some(&b) = data.get(1 + i) else {
            return Ok(None);
        };
        remaining |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some(FixedHeader {
                packet_type,
                flags,
                header_len: 2 + i,
                remaining,
            }));
        }
    }
    Err(MqttError::BadLength)
}

/// Name of a packet type.
pub fn packet_name(t: u8) -> &'static str {
    match t {
        1 => "connect",
        2 => "connack",
        3 => "publish",
        4 => "puback",
        5 => "pubrec",
        6 => "pubrel",
        7 => "pubcomp",
        8 => "subscribe",
        9 => "suback",
        10 => "unsubscribe",
        11 => "unsuback",
        12 => "pingreq",
        13 => "pingresp",
        14 => "disconnect",
        15 => "auth",
        _ => "reserved",
    }
}

/// Reads a UTF-8 string (u16 length prefix) at `at`; returns it and the offset after.
pub fn string_at(d: &[u8], at: usize) -> Result<(&[u8], usize), MqttError> {
    let l = d.get(at..at + 2).ok_or(MqttError::Truncated)?;
    let len = usize::from(u16::from_be_bytes([l[0], l[1]]));
    let s = d.get(at + 2..at + 2 + len).ok_or(MqttError::Truncated)?;
    Ok((s, at + 2 + len))
}

/// Reads a variable byte integer (MQTT 5 property lengths) at `at`.
pub fn varint_at(d: &[u8], at: usize) -> Result<(usize, usize), MqttError> {
    let mut v = 0usize;
    for i in 0..MAX_LEN_BYTES {
        let b = *d.get(at + i).ok_or(MqttError::Truncated)?;
        v |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((v, at + i + 1));
        }
    }
    Err(MqttError::BadLength)
}

/// The fields of a CONNECT packet we report (never the password).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connect<'a> {
    /// Protocol level: 3 (3.1), 4 (3.1.1), 5.
    pub level: u8,
    /// Connect flags.
    pub flags: u8,
    /// Keep-alive, seconds.
    pub keep_alive: u16,
    /// Client identifier.
    pub client_id: &'a [u8],
}

/// Parses a CONNECT body.
pub fn parse_connect(d: &[u8]) -> Result<Connect<'_>, MqttError> {
    let (name, at) = string_at(d, 0)?;
    if name != b"MQTT" && name != b"MQIsdp" {
        return Err(MqttError::BadProtocolName);
    }
    let h = d.get(at..at + 4).ok_or(MqttError::Truncated)?;
    let level = h[0];
    let mut at = at + 4;
    if level == 5 {
        let (plen, next) = varint_at(d, at)?;
        at = next + plen;
    }
    let (client_id, _) = string_at(d, at)?;
    Ok(Connect {
        level,
        flags: h[1],
        keep_alive: u16::from_be_bytes([h[2], h[3]]),
        client_id,
    })
}
