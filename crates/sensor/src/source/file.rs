//! A capture file (pcap or pcapng, optionally gzip-compressed) as a packet source.
#![forbid(unsafe_code)]

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use records::Timestamp;
use wire::LinkType;

use super::buffer::{Input, DEFAULT_BUFFER_SIZE};
use super::pcap::{is_pcap_magic, PcapState};
use super::pcapng::PcapNgState;
use super::{
    Magic, PacketSource, RawPacket, SourceError, SourceStats, SourceWarning, WarningKind,
    MAX_CAPTURED_LEN,
};

/// pcapng files start with a section header block of this type.
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// Capture file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// Classic libpcap format.
    Pcap,
    /// pcapng.
    PcapNg,
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pcap => "pcap",
            Self::PcapNg => "pcapng",
        })
    }
}

/// What a format reader found next in the file.
pub(crate) enum Record {
    /// A packet; its data starts `data_offset` bytes into the available input.
    Packet {
        ts: Timestamp,
        link: LinkType,
        captured: u32,
        orig_len: u32,
        data_offset: usize,
        record_len: usize,
    },
    /// A record that is not delivered (a non-packet block, or a packet that cannot be),
    /// maybe with a warning.
    Skip {
        record_len: usize,
        issue: Option<WarningKind>,
    },
    /// The clean end of the file.
    End,
    /// Damage that ends the file at content offset `offset`.
    Fatal { offset: u64, kind: WarningKind },
}

impl Record {
    pub(crate) fn read_failed(offset: u64, e: io::Error) -> Self {
        Self::Fatal {
            offset,
            kind: WarningKind::ReadFailed {
                reason: e.to_string(),
            },
        }
    }
}

enum Format {
    Pcap(PcapState),
    PcapNg(PcapNgState),
}

/// The packet currently lent out: where its bytes are in the input buffer.
#[derive(Clone, Copy, Debug)]
struct Current {
    ts: Timestamp,
    link: LinkType,
    orig_len: u32,
    data_at: usize,
    len: usize,
}

/// Which once-per-file warnings were already raised.
#[derive(Default)]
struct Warned {
    oversized: bool,
    repaired: bool,
    unknown_interface: bool,
    malformed: bool,
}

/// A pcap or pcapng capture file, plain or gzip-compressed (recognised by content, not by
/// name).
///
/// Reads through one reused buffer (1 MiB by default, grown only for a record larger than
/// it); packets are lent out of it. A damaged tail ends the source with a
/// [`SourceWarning`] after every good packet before it was delivered.
pub struct FileSource {
    path: PathBuf,
    describe: String,
    input: Input,
    format: Format,
    /// Bytes of the lent record still to drop before reading the next one.
    pending: usize,
    current: Option<Current>,
    ended: bool,
    stats: SourceStats,
    warnings: Vec<SourceWarning>,
    warned: Warned,
}

impl fmt::Debug for FileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSource")
            .field("path", &self.path)
            .field("format", &self.format())
            .field("compressed", &self.input.compressed())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl FileSource {
    /// Opens a capture file and reads its header.
    ///
    /// Errors name the file and say why: it cannot be opened, is empty, is not a capture
    /// file (with its first bytes), is cut or corrupt in its header, or (classic pcap) has
    /// a link type gapwatch cannot decode.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SourceError> {
        Self::open_with_buffer(path, DEFAULT_BUFFER_SIZE)
    }

    /// As [`open`](Self::open) with a chosen read buffer size (at least 64 KiB is used).
    pub fn open_with_buffer(
        path: impl AsRef<Path>,
        buffer_size: usize,
    ) -> Result<Self, SourceError> {
        let path = path.as_ref();
        let input = Input::open(path, buffer_size)?;
        Self::start(path, input)
    }

    /// Reads a capture from any reader (a pipe, standard input, bytes in memory);
    /// `name` stands for the file in messages. Gzip is recognised by content here too.
    pub fn from_reader(
        name: impl AsRef<Path>,
        reader: impl Read + Send + 'static,
    ) -> Result<Self, SourceError> {
        let path = name.as_ref();
        let input =
            Input::from_reader(Box::new(reader), None, DEFAULT_BUFFER_SIZE).map_err(|source| {
                SourceError::Read {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        Self::start(path, input)
    }

    /// Recognises the format and reads the file header.
    fn start(path: &Path, mut input: Input) -> Result<Self, SourceError> {
        let have = input.fill(4).map_err(|source| SourceError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut first = [0u8; 4];
        let n = have.min(4);
        first[..n].copy_from_slice(&input.available()[..n]);
        let magic = &first[..n];
        let format = if have == 0 {
            return Err(SourceError::Empty {
                path: path.to_path_buf(),
            });
        } else if have >= 4 && is_pcap_magic(magic) {
            Format::Pcap(PcapState::open(&mut input, path)?)
        } else if have >= 4 && magic == PCAPNG_MAGIC {
            Format::PcapNg(PcapNgState::open(&mut input, path)?)
        } else if have < 4 && is_magic_prefix(magic) {
            return Err(SourceError::TruncatedHeader {
                path: path.to_path_buf(),
                format: if magic.first() == Some(&0x0a) {
                    FileFormat::PcapNg
                } else {
                    FileFormat::Pcap
                },
                len: have as u64,
                needed: 24,
            });
        } else {
            return Err(SourceError::NotACaptureFile {
                path: path.to_path_buf(),
                magic: Magic {
                    bytes: magic.to_vec(),
                },
                compressed: input.compressed(),
            });
        };
        let stats = SourceStats {
            input_bytes_read: input.file_bytes_read(),
            input_bytes_total: input.file_size(),
            ..SourceStats::default()
        };
        Ok(Self {
            describe: path.display().to_string(),
            path: path.to_path_buf(),
            input,
            format,
            pending: 0,
            current: None,
            ended: false,
            stats,
            warnings: Vec::new(),
            warned: Warned::default(),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's format.
    pub fn format(&self) -> FileFormat {
        match self.format {
            Format::Pcap(_) => FileFormat::Pcap,
            Format::PcapNg(_) => FileFormat::PcapNg,
        }
    }

    /// True when the file content was gzip-compressed.
    pub fn is_compressed(&self) -> bool {
        self.input.compressed()
    }

    /// The link type of a classic pcap file (pcapng files have one per interface).
    pub fn pcap_link_type(&self) -> Option<LinkType> {
        match &self.format {
            Format::Pcap(p) => Some(p.link()),
            Format::PcapNg(_) => None,
        }
    }

    /// Moves to the next packet; false at the end. The packet is then [`current`](Self::current).
    pub(crate) fn advance(&mut self) -> bool {
        self.input.consume(std::mem::take(&mut self.pending));
        self.current = None;
        while !self.ended {
            let record = match &mut self.format {
                Format::Pcap(p) => p.next(&mut self.input),
                Format::PcapNg(p) => p.next(&mut self.input),
            };
            match record {
                Record::Packet {
                    ts,
                    link,
                    captured,
                    orig_len,
                    data_offset,
                    record_len,
                } => {
                    if captured > MAX_CAPTURED_LEN {
                        self.input.consume(record_len);
                        self.stats.packets_skipped += 1;
                        if !std::mem::replace(&mut self.warned.oversized, true) {
                            self.warn_at_current(WarningKind::OversizedPacket { captured });
                        }
                        continue;
                    }
                    let mut orig_len = orig_len;
                    if captured > orig_len {
                        self.stats.lengths_repaired += 1;
                        if !std::mem::replace(&mut self.warned.repaired, true) {
                            self.warn_at_current(WarningKind::CapturedLongerThanOriginal {
                                captured,
                                original: orig_len,
                            });
                        }
                        orig_len = captured;
                    }
                    self.current = Some(Current {
                        ts,
                        link,
                        orig_len,
                        data_at: self.input.start_index() + data_offset,
                        len: captured as usize,
                    });
                    self.pending = record_len;
                    self.stats.packets += 1;
                    self.stats.bytes += u64::from(captured);
                    break;
                }
                Record::Skip { record_len, issue } => {
                    if let Some(kind) = issue {
                        let first = match kind {
                            WarningKind::UnknownInterface { .. } => {
                                self.stats.packets_skipped += 1;
                                !std::mem::replace(&mut self.warned.unknown_interface, true)
                            }
                            WarningKind::MalformedPacketBlock { .. } => {
                                self.stats.packets_skipped += 1;
                                !std::mem::replace(&mut self.warned.malformed, true)
                            }
                            _ => true,
                        };
                        if first {
                            self.warn_at_current(kind);
                        }
                    }
                    self.input.consume(record_len);
                }
                Record::End => self.ended = true,
                Record::Fatal { offset, kind } => {
                    self.ended = true;
                    self.warn(Some(offset), kind);
                }
            }
        }
        self.stats.input_bytes_read = self.input.file_bytes_read();
        self.current.is_some()
    }

    /// The packet [`advance`](Self::advance) moved to.
    pub(crate) fn current(&self) -> Option<RawPacket<'_>> {
        let c = self.current?;
        let data = self.input.buffer().get(c.data_at..c.data_at + c.len)?;
        Some(RawPacket {
            ts: c.ts,
            link: c.link,
            data,
            orig_len: c.orig_len,
            interface: 0,
        })
    }

    /// Time of the packet [`advance`](Self::advance) moved to.
    pub(crate) fn current_ts(&self) -> Option<Timestamp> {
        self.current.map(|c| c.ts)
    }

    fn warn_at_current(&mut self, kind: WarningKind) {
        let offset = self.input.offset();
        self.warn(Some(offset), kind);
    }

    fn warn(&mut self, offset: Option<u64>, kind: WarningKind) {
        self.warnings.push(SourceWarning {
            source: self.describe.clone(),
            offset,
            compressed: self.input.compressed(),
            packets_before: self.stats.packets,
            kind,
        });
    }
}

impl PacketSource for FileSource {
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, SourceError> {
        self.advance();
        Ok(self.current())
    }

    fn stats(&self) -> SourceStats {
        self.stats.clone()
    }

    fn warnings(&mut self) -> Vec<SourceWarning> {
        std::mem::take(&mut self.warnings)
    }

    fn describe(&self) -> &str {
        &self.describe
    }
}

/// True when `m` (shorter than 4 bytes) could be the start of a capture magic number.
fn is_magic_prefix(m: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 5] = [
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x4d, 0x3c, 0xb2, 0xa1],
        PCAPNG_MAGIC,
    ];
    MAGICS.iter().any(|magic| magic.starts_with(m))
}
