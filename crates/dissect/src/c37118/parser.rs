//! IEEE C37.118.2 synchrophasor frames: common header (SYNC, FRAMESIZE, IDCODE, SOC,
//! FRACSEC), CRC-CCITT check word, command frames and configuration frames 1/2.

/// Shortest frame: header (14 bytes) and check word.
pub const MIN_FRAME_LEN: usize = 16;
/// Most PMUs read from one configuration frame.
pub const MAX_PMUS: usize = 64;
/// Length of a station or channel name.
pub const NAME_LEN: usize = 16;

/// Why a frame could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum C37Error {
    /// No 0xAA sync byte.
    NoSync(u8),
    /// FRAMESIZE below the minimum.
    BadSize(u16),
    /// Frame type 6 or 7 (reserved).
    ReservedType(u8),
    /// Check word mismatch.
    BadCrc {
        /// Computed.
        computed: u16,
        /// In the frame.
        stated: u16,
    },
    /// A configuration frame ends inside a PMU block.
    ConfigTruncated,
}

impl std::fmt::Display for C37Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoSync(b) => write!(f, "sync byte {b:#04x} is not 0xaa"),
            Self::BadSize(s) => write!(f, "frame size {s} below {MIN_FRAME_LEN}"),
            Self::ReservedType(t) => write!(f, "reserved frame type {t}"),
            Self::BadCrc { computed, stated } => {
                write!(f, "check word {stated:#06x}, computed {computed:#06x}")
            }
            Self::ConfigTruncated => f.write_str("configuration frame truncated"),
        }
    }
}

impl std::error::Error for C37Error {}

/// Frame type (SYNC bits 4–6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameType {
    /// Data frame (0).
    Data,
    /// Header frame (1).
    Header,
    /// Configuration frame 1 (2).
    Config1,
    /// Configuration frame 2 (3).
    Config2,
    /// Command frame (4).
    Command,
    /// Configuration frame 3 (5).
    Config3,
}

impl FrameType {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            Self::Data => 0,
            Self::Header => 1,
            Self::Config1 => 2,
            Self::Config2 => 3,
            Self::Command => 4,
            Self::Config3 => 5,
        }
    }

    /// Name used as function name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Data => "data",
            Self::Header => "header",
            Self::Config1 => "config1",
            Self::Config2 => "config2",
            Self::Command => "command",
            Self::Config3 => "config3",
        }
    }
}

/// A frame's common header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Frame type.
    pub frame_type: FrameType,
    /// Version (SYNC bits 0–3).
    pub version: u8,
    /// Stream / PMU id.
    pub idcode: u16,
    /// Second of century.
    pub soc: u32,
    /// Bytes between the header and the check word.
    pub body: &'a [u8],
}

/// CRC-CCITT (polynomial 0x1021, initial 0xFFFF) as C37.118 specifies.
pub fn crc_ccitt(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                crc << 1 ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Length of the frame at the front of `data` from its header, or `None` when fewer
/// than 4 bytes are present.
pub fn frame_len(data: &[u8]) -> Option<Result<usize, C37Error>> {
    let h = data.get(..4)?;
    if h[0] != 0xAA {
        return Some(Err(C37Error::NoSync(h[0])));
    }
    let t = (h[1] >> 4) & 0x07;
    if t > 5 {
        return Some(Err(C37Error::ReservedType(t)));
    }
    let size = u16::from_be_bytes([h[2], h[3]]);
    if usize::from(size) < MIN_FRAME_LEN {
        return Some(Err(C37Error::BadSize(size)));
    }
    Some(Ok(usize::from(size)))
}

/// Parses one whole frame (`data` is exactly FRAMESIZE bytes), checking the CRC.
pub fn parse_frame(data: &[u8]) -> Result<Frame<'_>, C37Error> {
    match frame_len(data) {
        Some(Ok(n)) if n == data.len() => {}
        Some(Err(e)) => return Err(e),
        _ => {
            return Err(C37Error::BadSize(
                u16::try_from(data.len()).unwrap_or(u16::MAX),
            ))
        }
    }
    let n = data.len();
    let stated = u16::from_be_bytes([data[n - 2], data[n - 1]]);
    let computed = crc_ccitt(&data[..n - 2]);
    if stated != computed {
        return Err(C37Error::BadCrc { computed, stated });
    }
    let frame_type = match (data[1] >> 4) & 0x07 {
        0 => FrameType::Data,
        1 => FrameType::Header,
        2 => FrameType::Config1,
        3 => FrameType::Config2,
        4 => FrameType::Command,
        5 => FrameType::Config3,
        t => return Err(C37Error::ReservedType(t)),
    };
    Ok(Frame {
        frame_type,
        version: data[1] & 0x0F,
        idcode: u16::from_be_bytes([data[4], data[5]]),
        soc: u32::from_be_bytes([data[6], data[7], data[8], data[9]]),
        body: &data[14..n - 2],
    })
}

/// Name and whether it changes the PMU's state, of a command (CMD word).
pub fn command_name(cmd: u16) -> (std::borrow::Cow<'static, str>, bool) {
    match cmd {
        1 => ("turn_off_transmission".into(), true),
        2 => ("turn_on_transmission".into(), true),
        3 => ("send_header".into(), false),
        4 => ("send_config1".into(), false),
        5 => ("send_config2".into(), false),
        6 => ("send_config3".into(), false),
        8 => ("extended_frame".into(), false),
        n => (format!("unknown-{n}").into(), false),
    }
}

/// One PMU block of a configuration frame 1/2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PmuConfig<'a> {
    /// Station name (16 bytes, space padded).
    pub station: &'a [u8],
    /// The PMU's id code.
    pub idcode: u16,
    /// Number of phasors, analogs and digital status words.
    pub counts: (u16, u16, u16),
}

/// Reads the PMU blocks of a configuration frame 1/2 body (after SOC/FRACSEC): time base,
/// number of PMUs, PMU blocks, data rate. Returns the PMUs (at most [`MAX_PMUS`] reported,
/// via `f`) and the data rate.
pub fn parse_config(body: &[u8], mut f: impl FnMut(PmuConfig<'_>)) -> Result<(u16, i16), C37Error> {
    let h = body.get(..6).ok_or(C37Error::ConfigTruncated)?;
    let num = u16::from_be_bytes([h[4], h[5]]);
    let mut at = 6;
    for i in 0..usize::from(num) {
        let b = body.get(at..at + 26).ok_or(C37Error::ConfigTruncated)?;
        let ph = u16::from_be_bytes([b[20], b[21]]);
        let an = u16::from_be_bytes([b[22], b[23]]);
        let dg = u16::from_be_bytes([b[24], b[25]]);
        let names = NAME_LEN * (usize::from(ph) + usize::from(an) + 16 * usize::from(dg));
        let units = 4 * (usize::from(ph) + usize::from(an) + usize::from(dg));
        let len = 26 + names + units + 4;
        body.get(at..at + len).ok_or(C37Error::ConfigTruncated)?;
        if i < MAX_PMUS {
            f(PmuConfig {
                station: &b[..NAME_LEN],
                idcode: u16::from_be_bytes([b[16], b[17]]),
                counts: (ph, an, dg),
            });
        }
        at += len;
    }
    let r = body.get(at..at + 2).ok_or(C37Error::ConfigTruncated)?;
    Ok((num, i16::from_be_bytes([r[0], r[1]])))
}
