//! Packet sources: capture files and live interfaces behind one trait.
//!
//! Purpose: hand the pipeline one captured frame at a time, with its capture time and link
//! type, from a pcap/pcapng file ([`FileSource`]), several files merged in time order
//! ([`MergedSource`]) or a live Linux interface ([`LiveSource`], an AF_PACKET TPACKET_V3
//! ring).
//!
//! Guarantees: a source lends each frame out of its own buffer ([`RawPacket`] borrows the
//! source until the next call), so reading allocates nothing per packet. Problems found
//! when a source is opened are a [`SourceError`] whose message names the file or interface
//! and the reason. Damage found later in a file (a corrupt or truncated tail, a block of
//! garbage, a record that lies about its length) never panics and never loses the good
//! packets before it: they are delivered, then the source ends and reports a
//! [`SourceWarning`] naming the file, the byte offset and the reason.
//!
//! Caller's duty: drain [`PacketSource::warnings`] now and then (at least at the end) and
//! show them; a packet borrowed from a source must be dropped (or copied) before the next
//! call to [`PacketSource::next_packet`].
// `unsafe` is allowed only in `live` (the AF_PACKET ring); every other module forbids it.
#![deny(unsafe_code)]

mod buffer;
mod file;
mod merge;
mod multi;
mod pcap;
mod pcapng;

#[allow(unsafe_code)]
pub mod live;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use records::Timestamp;
use wire::LinkType;

pub use file::{FileFormat, FileSource};
pub use live::{LiveConfig, LiveSource};
pub use merge::MergedSource;
pub use multi::MultiLiveSource;

/// The largest captured frame a source delivers (256 KiB). Records claiming more are
/// skipped (and counted in [`SourceStats::packets_skipped`]) or, where the length cannot
/// be trusted to find the next record, end the file with a warning.
pub const MAX_CAPTURED_LEN: u32 = 256 * 1024;

/// One captured frame, borrowed from the source until the next call.
#[derive(Clone, Copy, Debug)]
pub struct RawPacket<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// Link type of `data`.
    pub link: LinkType,
    /// Captured bytes (possibly cut to the snapshot length).
    pub data: &'a [u8],
    /// Length of the frame on the wire; never smaller than `data.len()` (a record that
    /// states a smaller one has it raised, see [`SourceStats::lengths_repaired`]).
    pub orig_len: u32,
    /// Which interface it was captured on: its position in the list a
    /// [`MultiLiveSource`] was opened with (0 for every other source).
    pub interface: u8,
}

/// Counters a source keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Frames delivered.
    pub packets: u64,
    /// Captured bytes delivered.
    pub bytes: u64,
    /// Frames the kernel dropped (live capture only).
    pub kernel_drops: u64,
    /// Bytes of input consumed so far (files: compressed bytes read), for progress.
    pub input_bytes_read: u64,
    /// Total input size when known (files), for progress.
    pub input_bytes_total: Option<u64>,
    /// Records read but not delivered: captured length over [`MAX_CAPTURED_LEN`], an
    /// interface id no interface block declared, a packet block too short for its fields.
    pub packets_skipped: u64,
    /// Records whose captured length exceeded the stated original length; delivered with
    /// `orig_len` raised to the captured length.
    pub lengths_repaired: u64,
    /// Times the kernel froze the receive queue because the ring was full (live capture).
    pub kernel_queue_freezes: u64,
}

impl SourceStats {
    /// Adds another source's counters to these (for merged sources).
    pub fn add(&mut self, other: &SourceStats) {
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.kernel_drops += other.kernel_drops;
        self.input_bytes_read += other.input_bytes_read;
        self.input_bytes_total = match (self.input_bytes_total, other.input_bytes_total) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        self.packets_skipped += other.packets_skipped;
        self.lengths_repaired += other.lengths_repaired;
        self.kernel_queue_freezes += other.kernel_queue_freezes;
    }
}

/// A source of captured frames.
///
/// The API is lending: the frame returned by [`next_packet`](Self::next_packet) borrows
/// the source's own buffer (a file buffer or the kernel ring), so no call allocates.
pub trait PacketSource {
    /// The next frame, or `Ok(None)` when the source has ended: a file at its end (or at
    /// a corrupt tail, see [`warnings`](Self::warnings)); a live source only when it was
    /// asked to stop. An `Err` is a failure that stops the source (files report their
    /// damage as warnings instead, after delivering every good packet).
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, SourceError>;

    /// Counters so far.
    fn stats(&self) -> SourceStats;

    /// Warnings raised since the last call (drained).
    fn warnings(&mut self) -> Vec<SourceWarning>;

    /// A short description for messages: the file path, the merged file count or the
    /// interface name.
    fn describe(&self) -> &str;

    /// Each live interface's name and counters (none for files).
    fn interfaces(&self) -> Vec<(String, SourceStats)> {
        Vec::new()
    }
}

impl<S: PacketSource + ?Sized> PacketSource for Box<S> {
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, SourceError> {
        (**self).next_packet()
    }

    fn stats(&self) -> SourceStats {
        (**self).stats()
    }

    fn warnings(&mut self) -> Vec<SourceWarning> {
        (**self).warnings()
    }

    fn describe(&self) -> &str {
        (**self).describe()
    }

    fn interfaces(&self) -> Vec<(String, SourceStats)> {
        (**self).interfaces()
    }
}

/// The first bytes of a file that is not a capture, printed as hex and as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Magic {
    /// Up to four leading bytes (after gzip decompression when the file was gzip).
    pub bytes: Vec<u8>,
}

impl fmt::Display for Magic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.bytes.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{b:02x}")?;
        }
        f.write_str(" \"")?;
        for &b in &self.bytes {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", char::from(b))?;
            } else {
                f.write_str(".")?;
            }
        }
        f.write_str("\"")
    }
}

/// Why a source could not be opened or could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The file could not be opened (missing, unreadable, a directory ...).
    #[error("cannot open capture file {}: {source}", .path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// Reading the file's header failed (I/O error or a corrupt gzip stream).
    #[error("cannot read capture file {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The reason.
        #[source]
        source: io::Error,
    },
    /// The file has no bytes (or a gzip file that decompresses to none).
    #[error("capture file {} is empty", .path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file does not start with a pcap or pcapng magic number.
    #[error(
        "{} is not a pcap or pcapng capture file: it starts with bytes {magic}{}",
        .path.display(),
        if *.compressed { " after gzip decompression" } else { "" }
    )]
    NotACaptureFile {
        /// The file.
        path: PathBuf,
        /// Its first bytes.
        magic: Magic,
        /// The bytes are those of the decompressed content of a gzip file.
        compressed: bool,
    },
    /// The file ends inside its file header (pcap) or first section header (pcapng).
    #[error(
        "capture file {} is cut inside its {format} header: it has {len} bytes, the header needs {needed}",
        .path.display()
    )]
    TruncatedHeader {
        /// The file.
        path: PathBuf,
        /// `pcap` or `pcapng`.
        format: FileFormat,
        /// Bytes present.
        len: u64,
        /// Bytes the header needs.
        needed: u64,
    },
    /// The header has the right magic number but impossible contents.
    #[error("capture file {} has a corrupt {format} header: {reason}", .path.display())]
    CorruptHeader {
        /// The file.
        path: PathBuf,
        /// `pcap` or `pcapng`.
        format: FileFormat,
        /// What is wrong.
        reason: String,
    },
    /// A classic pcap file whose link type gapwatch cannot decode.
    #[error(
        "capture file {} has link type {linktype}, which gapwatch cannot decode \
         (supported: 0 null, 1 ethernet, 12/14/101 raw IP, 108 loop, 113 linux-sll, \
         228 ipv4, 229 ipv6, 276 linux-sll2)",
        .path.display()
    )]
    UnsupportedLinkType {
        /// The file.
        path: PathBuf,
        /// The `LINKTYPE_*` number.
        linktype: u32,
    },
    /// The interface does not exist (in this network namespace) or its name is invalid.
    #[error("cannot capture on interface {name:?}: no such network interface{reason}")]
    NoSuchInterface {
        /// The name asked for.
        name: String,
        /// Extra detail (empty, or `" (name longer than 15 bytes)"` ...).
        reason: &'static str,
    },
    /// Live capture needs root or CAP_NET_RAW.
    #[error(
        "cannot capture on interface {iface:?}: {op} was refused ({source}); \
         live capture needs root or the CAP_NET_RAW capability"
    )]
    PermissionDenied {
        /// The interface.
        iface: String,
        /// The operation that was refused.
        op: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Another system call of live capture failed.
    #[error("live capture on interface {iface:?} failed: {op}: {source}")]
    Live {
        /// The interface.
        iface: String,
        /// What was being done.
        op: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A live capture setting is out of range.
    #[error("invalid live capture setting for interface {iface:?}: {reason}")]
    InvalidConfig {
        /// The interface.
        iface: String,
        /// What is wrong.
        reason: String,
    },
}

impl SourceError {
    /// The file this error is about, if it is about a file.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Open { path, .. }
            | Self::Read { path, .. }
            | Self::Empty { path }
            | Self::NotACaptureFile { path, .. }
            | Self::TruncatedHeader { path, .. }
            | Self::CorruptHeader { path, .. }
            | Self::UnsupportedLinkType { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// Something wrong found while reading; good packets before it were delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceWarning {
    /// The file (or interface) it is about, as [`PacketSource::describe`] says it.
    pub source: String,
    /// Byte offset of the offending record or block from the start of the file's content
    /// (of the decompressed stream for gzip files, see `compressed`).
    pub offset: Option<u64>,
    /// The offset counts decompressed bytes.
    pub compressed: bool,
    /// Packets this source had delivered when the problem was found.
    pub packets_before: u64,
    /// What was found.
    pub kind: WarningKind,
}

impl SourceWarning {
    /// True when the problem ended the source (the rest of the file was not read).
    pub fn ends_source(&self) -> bool {
        self.kind.ends_source()
    }
}

impl fmt::Display for SourceWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(offset) = self.offset {
            let what = if self.compressed {
                "decompressed byte"
            } else {
                "byte"
            };
            write!(f, " at {what} {offset}")?;
        }
        write!(f, ": {}", self.kind)?;
        if self.ends_source() {
            write!(
                f,
                "; reading stopped there, after {} good packets",
                self.packets_before
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for SourceWarning {}

/// The kinds of [`SourceWarning`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// A record claims more captured bytes than the snap length allows (and more than
    /// [`MAX_CAPTURED_LEN`]): its length cannot be trusted to find the next record. Ends
    /// the file.
    ImplausibleRecordLength {
        /// The captured length the record states.
        captured: u32,
        /// The file's snap length.
        snaplen: u32,
    },
    /// The file ends inside a record or block. Ends the file.
    CutMidRecord {
        /// Bytes the record (header included) needs.
        needed: u64,
        /// Bytes present.
        available: u64,
    },
    /// A pcapng block whose framing is impossible (length not a multiple of 4, below 12,
    /// implausibly large, or trailer length differing). Ends the file.
    GarbageBlock {
        /// What is wrong.
        reason: String,
    },
    /// Reading failed part-way (I/O error, corrupt gzip stream). Ends the file.
    ReadFailed {
        /// The reason.
        reason: String,
    },
    /// A packet larger than [`MAX_CAPTURED_LEN`] was skipped; later ones in the same
    /// source are only counted in [`SourceStats::packets_skipped`].
    OversizedPacket {
        /// Its captured length.
        captured: u32,
    },
    /// A record's captured length exceeds its original length; `orig_len` was raised.
    /// Later ones are only counted in [`SourceStats::lengths_repaired`].
    CapturedLongerThanOriginal {
        /// Captured length.
        captured: u32,
        /// Original length the record stated.
        original: u32,
    },
    /// A pcapng packet names an interface no interface block declared; skipped. Later
    /// ones are only counted.
    UnknownInterface {
        /// The interface id.
        interface: u32,
    },
    /// A pcapng packet block too short for the fields it declares; skipped. Later ones
    /// are only counted.
    MalformedPacketBlock {
        /// What is wrong.
        reason: &'static str,
    },
    /// A pcapng interface uses a link type gapwatch cannot decode; its packets are
    /// delivered with [`LinkType::Unknown`].
    UnsupportedLinkType {
        /// The interface id.
        interface: u32,
        /// The `LINKTYPE_*` number.
        linktype: u32,
    },
    /// A pcapng interface declares a timestamp resolution that cannot be represented;
    /// microseconds are assumed.
    BadTimestampResolution {
        /// The interface id.
        interface: u32,
        /// The raw `if_tsresol` byte.
        tsresol: u8,
    },
}

impl WarningKind {
    /// True when this problem ends the source.
    pub fn ends_source(&self) -> bool {
        matches!(
            self,
            Self::ImplausibleRecordLength { .. }
                | Self::CutMidRecord { .. }
                | Self::GarbageBlock { .. }
                | Self::ReadFailed { .. }
        )
    }
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ImplausibleRecordLength { captured, snaplen } => write!(
                f,
                "record claims {captured} captured bytes, more than the snap length {snaplen} \
                 and the {MAX_CAPTURED_LEN}-byte cap allow (corrupt record)"
            ),
            Self::CutMidRecord { needed, available } => write!(
                f,
                "file is cut in the middle of a record ({available} of its {needed} bytes present)"
            ),
            Self::GarbageBlock { reason } => write!(f, "corrupt pcapng block: {reason}"),
            Self::ReadFailed { reason } => write!(f, "read failed: {reason}"),
            Self::OversizedPacket { captured } => write!(
                f,
                "packet of {captured} captured bytes exceeds the {MAX_CAPTURED_LEN}-byte cap \
                 and was skipped (further ones are only counted)"
            ),
            Self::CapturedLongerThanOriginal { captured, original } => write!(
                f,
                "record's captured length {captured} exceeds its original length {original}; \
                 original length raised (further ones are only counted)"
            ),
            Self::UnknownInterface { interface } => write!(
                f,
                "packet names interface {interface}, which no interface block declared; \
                 skipped (further ones are only counted)"
            ),
            Self::MalformedPacketBlock { reason } => write!(
                f,
                "malformed packet block ({reason}); skipped (further ones are only counted)"
            ),
            Self::UnsupportedLinkType {
                interface,
                linktype,
            } => write!(
                f,
                "interface {interface} has link type {linktype}, which gapwatch cannot decode; \
                 its packets are passed on undecoded"
            ),
            Self::BadTimestampResolution { interface, tsresol } => write!(
                f,
                "interface {interface} declares timestamp resolution byte {tsresol:#04x}, \
                 which cannot be represented; microseconds assumed"
            ),
        }
    }
}
