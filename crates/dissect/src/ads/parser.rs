//! Beckhoff AMS/ADS wire format: the AMS/TCP prefix, the 32-byte AMS header, and the
//! TwinCAT UDP discovery header.

/// Length of the AMS/TCP prefix (reserved u16, length u32).
pub const TCP_PREFIX_LEN: usize = 6;
/// Length of the AMS header.
pub const AMS_HEADER_LEN: usize = 32;
/// Largest AMS/TCP length accepted (ADS frames are at most a few MB; larger is garbage).
pub const MAX_AMS_LEN: u32 = 4 * 1024 * 1024;
/// First bytes of a TwinCAT UDP discovery / route message.
pub const UDP_MAGIC: [u8; 4] = [0x03, 0x66, 0x14, 0x71];

/// Why an AMS message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdsError {
    /// Shorter than the AMS header.
    Truncated,
    /// Nonzero reserved bytes of the AMS/TCP prefix.
    BadReserved(u16),
    /// AMS/TCP length below the AMS header or above [`MAX_AMS_LEN`].
    BadLength(u32),
    /// The AMS header's data length disagrees with the bytes present.
    DataLengthMismatch {
        /// Stated data length.
        stated: u32,
        /// Bytes present.
        present: usize,
    },
}

impl std::fmt::Display for AdsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Truncated => f.write_str("AMS header truncated"),
            Self::BadReserved(r) => write!(f, "AMS/TCP reserved field {r:#06x} not zero"),
            Self::BadLength(l) => write!(f, "AMS/TCP length {l} out of range"),
            Self::DataLengthMismatch { stated, present } => {
                write!(f, "AMS data length {stated} but {present} bytes present")
            }
        }
    }
}

impl std::error::Error for AdsError {}

/// An AMS NetId (six bytes, written a.b.c.d.e.f).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NetId(pub [u8; 6]);

impl std::fmt::Display for NetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = self.0;
        write!(f, "{}.{}.{}.{}.{}.{}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

/// One AMS message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ams<'a> {
    /// Target NetId.
    pub target: NetId,
    /// Target AMS port (851 = first PLC runtime, 10000 = system service ...).
    pub target_port: u16,
    /// Source NetId.
    pub source: NetId,
    /// Source AMS port.
    pub source_port: u16,
    /// Command id.
    pub command: u16,
    /// State flags (bit 0: response, bit 2: ADS command).
    pub state_flags: u16,
    /// Error code.
    pub error: u32,
    /// Invoke id pairing requests and responses.
    pub invoke_id: u32,
    /// ADS data.
    pub data: &'a [u8],
}

impl Ams<'_> {
    /// True for responses.
    pub fn is_response(&self) -> bool {
        self.state_flags & 0x0001 != 0
    }
}

fn u16le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses an AMS header and its data (`data` holds exactly one AMS message).
pub fn parse_ams(data: &[u8]) -> Result<Ams<'_>, AdsError> {
    let h = data.get(..AMS_HEADER_LEN).ok_or(AdsError::Truncated)?;
    let len = u32le(h, 20);
    let rest = &data[AMS_HEADER_LEN..];
    if len as usize != rest.len() {
        return Err(AdsError::DataLengthMismatch {
            stated: len,
            present: rest.len(),
        });
    }
    let mut target = [0; 6];
    target.copy_from_slice(&h[0..6]);
    let mut source = [0; 6];
    source.copy_from_slice(&h[8..14]);
    Ok(Ams {
        target: NetId(target),
        target_port: u16le(h, 6),
        source: NetId(source),
        source_port: u16le(h, 14),
        command: u16le(h, 16),
        state_flags: u16le(h, 18),
        error: u32le(h, 24),
        invoke_id: u32le(h, 28),
        data: rest,
    })
}

/// Result of splitting an AMS/TCP stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpFrame<'a> {
    /// One whole AMS message (without the prefix) and the bytes it occupied.
    Complete {
        /// The AMS message.
        message: &'a [u8],
        /// Bytes consumed, prefix included.
        consumed: usize,
    },
    /// More bytes are needed.
    Incomplete,
}

/// Splits one AMS/TCP record from the front of `data`.
pub fn parse_tcp(data: &[u8]) -> Result<TcpFrame<'_>, AdsError> {
    if let Some(r) = data.get(..2) {
        let reserved = u16::from_le_bytes([r[0], r[1]]);
        if reserved != 0 {
            return Err(AdsError::BadReserved(reserved));
        }
    }
    let Some(p) = data.get(..TCP_PREFIX_LEN) else {
        return Ok(TcpFrame::Incomplete);
    };
    let len = u32le(p, 2);
    if (len as usize) < AMS_HEADER_LEN || len > MAX_AMS_LEN {
        return Err(AdsError::BadLength(len));
    }
    let total = TCP_PREFIX_LEN + len as usize;
    match data.get(TCP_PREFIX_LEN..total) {
        Some(message) => Ok(TcpFrame::Complete {
            message,
            consumed: total,
        }),
        None => Ok(TcpFrame::Incomplete),
    }
}

/// A TwinCAT UDP discovery / route message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpDiscovery {
    /// Invoke id.
    pub invoke_id: u32,
    /// Service id without the response bit (1 discovery, 6 add route ...).
    pub service: u32,
    /// Response bit (0x8000_0000) set.
    pub response: bool,
    /// The sender's NetId.
    pub net_id: NetId,
}

/// Parses the header of a TwinCAT UDP message (port 48899).
pub fn parse_udp_discovery(data: &[u8]) -> Option<UdpDiscovery> {
    let h = data.get(..20)?;
    if h[..4] != UDP_MAGIC {
        return None;
    }
    let service = u32le(h, 8);
    let mut net = [0; 6];
    net.copy_from_slice(&h[12..18]);
    Some(UdpDiscovery {
        invoke_id: u32le(h, 4),
        service: service & 0x7FFF_FFFF,
        response: service & 0x8000_0000 != 0,
        net_id: NetId(net),
    })
}
