//! Classic pcap framing (all four magic numbers: µs/ns, both byte orders).
//!
//! The `pcap-file` crate parses the file header and each record header. Its record
//! validation is not used: it rejects records whose original length exceeds the snap
//! length, which every capture taken with a short snap length has. Before asking the
//! crate for a record, the captured length is read here so that a length that cannot be
//! true is reported as such instead of as "need more bytes".
#![forbid(unsafe_code)]

use std::path::Path;

use pcap_file::pcap::PcapParser;
use pcap_file::{Endianness, TsResolution};
use records::Timestamp;
use wire::LinkType;

use super::buffer::Input;
use super::file::{FileFormat, Record};
use super::{SourceError, WarningKind, MAX_CAPTURED_LEN};

/// File header length.
const FILE_HEADER_LEN: usize = 24;
/// Record header length.
const RECORD_HEADER_LEN: usize = 16;
/// Above this a record length is never trusted, whatever the snap length says.
const HARD_RECORD_CAP: u32 = 16 * 1024 * 1024;
/// libpcap keeps the link type in the low 26 bits; the rest carries FCS information.
const LINKTYPE_MASK: u32 = 0x03ff_ffff;

/// Reading state of a classic pcap file.
pub(crate) struct PcapState {
    parser: PcapParser,
    big_endian: bool,
    nanos: bool,
    snaplen: u32,
    link: LinkType,
}

/// The four classic pcap magic numbers as they appear in the file.
pub(crate) fn is_pcap_magic(m: &[u8]) -> bool {
    matches!(
        m,
        [0xa1, 0xb2, 0xc3, 0xd4]
            | [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x4d, 0x3c, 0xb2, 0xa1]
    )
}

impl PcapState {
    /// Reads the file header; `input` is positioned at the start of the file.
    pub(crate) fn open(input: &mut Input, path: &Path) -> Result<Self, SourceError> {
        let have = input
            .fill(FILE_HEADER_LEN)
            .map_err(|source| SourceError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        if have < FILE_HEADER_LEN {
            return Err(SourceError::TruncatedHeader {
                path: path.to_path_buf(),
                format: FileFormat::Pcap,
                len: have as u64,
                needed: FILE_HEADER_LEN as u64,
            });
        }
        let (_, parser) =
            PcapParser::new(input.available()).map_err(|e| SourceError::CorruptHeader {
                path: path.to_path_buf(),
                format: FileFormat::Pcap,
                reason: e.to_string(),
            })?;
        let header = parser.header();
        let linktype = u32::from(header.datalink) & LINKTYPE_MASK;
        let link = LinkType::from_linktype(linktype);
        if let LinkType::Unknown(n) = link {
            return Err(SourceError::UnsupportedLinkType {
                path: path.to_path_buf(),
                linktype: n,
            });
        }
        input.consume(FILE_HEADER_LEN);
        Ok(Self {
            big_endian: header.endianness == Endianness::Big,
            nanos: header.ts_resolution == TsResolution::NanoSecond,
            snaplen: header.snaplen,
            link,
            parser,
        })
    }

    /// Link type of every packet in the file.
    pub(crate) fn link(&self) -> LinkType {
        self.link
    }

    /// Frames the next record.
    pub(crate) fn next(&mut self, input: &mut Input) -> Record {
        let offset = input.offset();
        let have = match input.fill(RECORD_HEADER_LEN) {
            Ok(n) => n,
            Err(e) => return Record::read_failed(offset, e),
        };
        if have == 0 {
            return Record::End;
        }
        if have < RECORD_HEADER_LEN {
            return Record::Fatal {
                offset,
                kind: WarningKind::CutMidRecord {
                    needed: RECORD_HEADER_LEN as u64,
                    available: have as u64,
                },
            };
        }
        let captured = self.u32_at(input.available(), 8);
        if captured > self.snaplen.max(MAX_CAPTURED_LEN) || captured > HARD_RECORD_CAP {
            return Record::Fatal {
                offset,
                kind: WarningKind::ImplausibleRecordLength {
                    captured,
                    snaplen: self.snaplen,
                },
            };
        }
        let record_len = RECORD_HEADER_LEN + captured as usize;
        let have = match input.fill(record_len) {
            Ok(n) => n,
            Err(e) => return Record::read_failed(offset, e),
        };
        if have < record_len {
            return Record::Fatal {
                offset,
                kind: WarningKind::CutMidRecord {
                    needed: record_len as u64,
                    available: have as u64,
                },
            };
        }
        let raw = match self.parser.next_raw_packet(input.available()) {
            Ok((_, raw)) => raw,
            // Unreachable after the length checks above; handled rather than trusted.
            Err(e) => {
                return Record::Fatal {
                    offset,
                    kind: WarningKind::GarbageBlock {
                        reason: e.to_string(),
                    },
                }
            }
        };
        Record::Packet {
            ts: self.timestamp(raw.ts_sec, raw.ts_frac),
            link: self.link,
            captured,
            orig_len: raw.orig_len,
            data_offset: RECORD_HEADER_LEN,
            record_len,
        }
    }

    /// Seconds are unsigned (files run to 2106); a fraction at or over one second (some
    /// writers emit exactly 1 000 000 µs) carries into the seconds.
    fn timestamp(&self, secs: u32, frac: u32) -> Timestamp {
        let frac_nanos = if self.nanos {
            u64::from(frac)
        } else {
            u64::from(frac) * 1_000
        };
        let secs = i64::from(secs) + (frac_nanos / 1_000_000_000) as i64;
        Timestamp::from_parts(secs, (frac_nanos % 1_000_000_000) as u32)
    }

    fn u32_at(&self, bytes: &[u8], at: usize) -> u32 {
        let mut b = [0u8; 4];
        if let Some(src) = bytes.get(at..at + 4) {
            b.copy_from_slice(src);
        }
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }
}
