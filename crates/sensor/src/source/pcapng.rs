//! pcapng framing: sections, interfaces (each with its own link type, `if_tsresol` and
//! `if_tsoffset`), enhanced, simple and legacy packet blocks.
//!
//! The `pcap-file` crate frames blocks (length, trailer, byte order of each section) and
//! parses section and interface blocks. Packet block bodies are read here from their
//! fixed fields only: the crate's enhanced packet block assumes nanosecond timestamps
//! whatever the interface's `if_tsresol` says, and its option parsing allocates and fails
//! on options a reader has no use for.
#![forbid(unsafe_code)]

use std::path::Path;

use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::PcapNgParser;
use pcap_file::Endianness;
use records::Timestamp;
use wire::LinkType;

use super::buffer::Input;
use super::file::{FileFormat, Record};
use super::{SourceError, WarningKind};

const SECTION_HEADER: u32 = 0x0a0d_0d0a;
const INTERFACE_DESCRIPTION: u32 = 1;
const PACKET_BLOCK: u32 = 2;
const SIMPLE_PACKET: u32 = 3;
const ENHANCED_PACKET: u32 = 6;
/// Byte-order magic of a section header, as read big-endian.
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
/// Type, length and trailer length.
const BLOCK_OVERHEAD: usize = 12;
/// Offset of a block's body from its start.
const BODY_OFFSET: usize = 8;
/// Fixed fields of an enhanced (and of a legacy) packet block before the packet data.
const PACKET_FIELDS_LEN: usize = 20;
/// Largest block accepted (Wireshark's limit too); larger lengths are garbage.
const MAX_BLOCK_LEN: u32 = 16 * 1024 * 1024;
/// Smallest section header block: overhead, magic, versions, section length.
const MIN_SECTION_HEADER_LEN: u32 = 28;

/// What a packet needs from its interface description.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    units_per_sec: u64,
    offset_secs: i64,
}

impl Interface {
    fn timestamp(&self, raw: u64) -> Timestamp {
        let secs = i64::try_from(raw / self.units_per_sec).unwrap_or(i64::MAX);
        let frac = u128::from(raw % self.units_per_sec);
        let nanos = (frac * 1_000_000_000 / u128::from(self.units_per_sec)) as u32;
        Timestamp::from_parts(secs.saturating_add(self.offset_secs), nanos)
    }
}

/// Reading state of a pcapng file.
pub(crate) struct PcapNgState {
    parser: PcapNgParser,
    interfaces: Vec<Interface>,
    /// Simple packet blocks carry no time: they get the previous packet's.
    last_ts: Timestamp,
}

/// Result of checking a block's type and length words before framing it.
enum Header {
    Ok { len: u32, big_endian: bool },
    Garbage(String),
}

impl PcapNgState {
    /// Reads the first section header; `input` is positioned at the start of the file.
    pub(crate) fn open(input: &mut Input, path: &Path) -> Result<Self, SourceError> {
        let read_err = |source| SourceError::Read {
            path: path.to_path_buf(),
            source,
        };
        let corrupt = |reason: String| SourceError::CorruptHeader {
            path: path.to_path_buf(),
            format: FileFormat::PcapNg,
            reason,
        };
        let have = input.fill(BLOCK_OVERHEAD).map_err(read_err)?;
        if have < BLOCK_OVERHEAD {
            return Err(SourceError::TruncatedHeader {
                path: path.to_path_buf(),
                format: FileFormat::PcapNg,
                len: have as u64,
                needed: u64::from(MIN_SECTION_HEADER_LEN),
            });
        }
        let len = match block_header(input.available(), false) {
            Header::Ok { len, .. } if len >= MIN_SECTION_HEADER_LEN => len,
            Header::Ok { len, .. } => {
                return Err(corrupt(format!(
                    "section header block length {len} is below the {MIN_SECTION_HEADER_LEN}-byte minimum"
                )))
            }
            Header::Garbage(reason) => return Err(corrupt(reason)),
        };
        let have = input.fill(len as usize).map_err(read_err)?;
        if have < len as usize {
            return Err(SourceError::TruncatedHeader {
                path: path.to_path_buf(),
                format: FileFormat::PcapNg,
                len: have as u64,
                needed: u64::from(len),
            });
        }
        let (rest, parser) =
            PcapNgParser::new(input.available()).map_err(|e| corrupt(e.to_string()))?;
        let used = have - rest.len();
        input.consume(used);
        Ok(Self {
            parser,
            interfaces: Vec::new(),
            last_ts: Timestamp::default(),
        })
    }

    fn big_endian(&self) -> bool {
        self.parser.section().endianness == Endianness::Big
    }

    /// Frames the next block; packet blocks become packets, others are skipped.
    pub(crate) fn next(&mut self, input: &mut Input) -> Record {
        let offset = input.offset();
        let have = match input.fill(BLOCK_OVERHEAD) {
            Ok(n) => n,
            Err(e) => return Record::read_failed(offset, e),
        };
        if have == 0 {
            return Record::End;
        }
        if have < BLOCK_OVERHEAD {
            return Record::Fatal {
                offset,
                kind: WarningKind::CutMidRecord {
                    needed: BLOCK_OVERHEAD as u64,
                    available: have as u64,
                },
            };
        }
        let (len, big_endian) = match block_header(input.available(), self.big_endian()) {
            Header::Ok { len, big_endian } => (len as usize, big_endian),
            Header::Garbage(reason) => {
                return Record::Fatal {
                    offset,
                    kind: WarningKind::GarbageBlock { reason },
                }
            }
        };
        let have = match input.fill(len) {
            Ok(n) => n,
            Err(e) => return Record::read_failed(offset, e),
        };
        if have < len {
            return Record::Fatal {
                offset,
                kind: WarningKind::CutMidRecord {
                    needed: len as u64,
                    available: have as u64,
                },
            };
        }
        let (block_type, body) = match self.parser.next_raw_block(input.available()) {
            Ok((_, raw)) => (raw.type_, raw.body),
            Err(e) => {
                return Record::Fatal {
                    offset,
                    kind: WarningKind::GarbageBlock {
                        reason: e.to_string(),
                    },
                }
            }
        };
        let fields = Fields {
            body: &body,
            big_endian,
        };
        match block_type {
            SECTION_HEADER => {
                self.interfaces.clear();
                Record::Skip {
                    record_len: len,
                    issue: None,
                }
            }
            INTERFACE_DESCRIPTION => {
                let issue = self.add_interface();
                Record::Skip {
                    record_len: len,
                    issue,
                }
            }
            ENHANCED_PACKET | PACKET_BLOCK => {
                let legacy = block_type == PACKET_BLOCK;
                self.packet(&fields, legacy, len)
            }
            SIMPLE_PACKET => self.simple_packet(&fields, len),
            _ => Record::Skip {
                record_len: len,
                issue: None,
            },
        }
    }

    /// Caches what packets need from the interface block the parser just added.
    fn add_interface(&mut self) -> Option<WarningKind> {
        let id = self.interfaces.len();
        let idb = self.parser.interfaces().get(id)?;
        let linktype = u32::from(idb.linktype);
        let mut iface = Interface {
            link: LinkType::from_linktype(linktype),
            snaplen: idb.snaplen,
            units_per_sec: 1_000_000,
            offset_secs: 0,
        };
        let mut issue = None;
        for option in &idb.options {
            match option {
                InterfaceDescriptionOption::IfTsResol(v) => match units_per_sec(*v) {
                    Some(units) => iface.units_per_sec = units,
                    None => {
                        issue = Some(WarningKind::BadTimestampResolution {
                            interface: id as u32,
                            tsresol: *v,
                        })
                    }
                },
                // The option is a signed count of seconds stored in a u64.
                InterfaceDescriptionOption::IfTsOffset(v) => iface.offset_secs = *v as i64,
                _ => {}
            }
        }
        self.interfaces.push(iface);
        if let LinkType::Unknown(linktype) = iface.link {
            issue = Some(WarningKind::UnsupportedLinkType {
                interface: id as u32,
                linktype,
            });
        }
        issue
    }

    fn packet(&mut self, f: &Fields<'_>, legacy: bool, record_len: usize) -> Record {
        let skip = |reason| Record::Skip {
            record_len,
            issue: Some(WarningKind::MalformedPacketBlock { reason }),
        };
        if f.body.len() < PACKET_FIELDS_LEN {
            return skip("block too short for its fixed fields");
        }
        let interface = if legacy {
            u32::from(f.u16_at(0))
        } else {
            f.u32_at(0)
        };
        let raw_ts = (u64::from(f.u32_at(4)) << 32) | u64::from(f.u32_at(8));
        let captured = f.u32_at(12);
        let orig_len = f.u32_at(16);
        if captured as usize > f.body.len() - PACKET_FIELDS_LEN {
            return skip("captured length runs past the end of the block");
        }
        let Some(iface) = self.interfaces.get(interface as usize) else {
            return Record::Skip {
                record_len,
                issue: Some(WarningKind::UnknownInterface { interface }),
            };
        };
        let ts = iface.timestamp(raw_ts);
        self.last_ts = ts;
        Record::Packet {
            ts,
            link: iface.link,
            captured,
            orig_len,
            data_offset: BODY_OFFSET + PACKET_FIELDS_LEN,
            record_len,
        }
    }

    fn simple_packet(&mut self, f: &Fields<'_>, record_len: usize) -> Record {
        if f.body.len() < 4 {
            return Record::Skip {
                record_len,
                issue: Some(WarningKind::MalformedPacketBlock {
                    reason: "simple packet block too short for its length field",
                }),
            };
        }
        let Some(iface) = self.interfaces.first() else {
            return Record::Skip {
                record_len,
                issue: Some(WarningKind::UnknownInterface { interface: 0 }),
            };
        };
        let orig_len = f.u32_at(0);
        // The captured length is implied: the original length, cut by the snap length and
        // by the block (which also holds padding).
        let mut captured = orig_len.min((f.body.len() - 4) as u32);
        if iface.snaplen != 0 {
            captured = captured.min(iface.snaplen);
        }
        Record::Packet {
            ts: self.last_ts,
            link: iface.link,
            captured,
            orig_len,
            data_offset: BODY_OFFSET + 4,
            record_len,
        }
    }
}

/// Checks a block's type and length words. `section_big_endian` is the byte order of the
/// current section; a section header block states its own.
fn block_header(bytes: &[u8], section_big_endian: bool) -> Header {
    let word = |at: usize, big: bool| {
        let mut b = [0u8; 4];
        if let Some(src) = bytes.get(at..at + 4) {
            b.copy_from_slice(src);
        }
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let mut big_endian = section_big_endian;
    // The section header type reads the same in both byte orders.
    if word(0, true) == SECTION_HEADER {
        big_endian = match word(8, true) {
            BYTE_ORDER_MAGIC => true,
            m if m.swap_bytes() == BYTE_ORDER_MAGIC => false,
            m => {
                return Header::Garbage(format!(
                    "section header with unknown byte-order magic {m:#010x}"
                ))
            }
        };
    }
    let block_type = word(0, big_endian);
    let len = word(4, big_endian);
    if len < BLOCK_OVERHEAD as u32 {
        Header::Garbage(format!(
            "block of type {block_type:#x} has length {len}, below the 12-byte minimum"
        ))
    } else if len & 3 != 0 {
        Header::Garbage(format!(
            "block of type {block_type:#x} has length {len}, not a multiple of 4"
        ))
    } else if len > MAX_BLOCK_LEN {
        Header::Garbage(format!(
            "block of type {block_type:#x} has implausible length {len} (over {MAX_BLOCK_LEN})"
        ))
    } else {
        Header::Ok { len, big_endian }
    }
}

/// `if_tsresol`: high bit clear, a negative power of 10; set, a negative power of 2.
fn units_per_sec(tsresol: u8) -> Option<u64> {
    let exp = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 != 0 {
        1u64.checked_shl(exp).filter(|_| exp < 64)
    } else {
        10u64.checked_pow(exp)
    }
}

/// Fixed-width fields of a block body in the section's byte order.
struct Fields<'a> {
    body: &'a [u8],
    big_endian: bool,
}

impl Fields<'_> {
    fn u32_at(&self, at: usize) -> u32 {
        let mut b = [0u8; 4];
        if let Some(src) = self.body.get(at..at + 4) {
            b.copy_from_slice(src);
        }
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    fn u16_at(&self, at: usize) -> u16 {
        let mut b = [0u8; 2];
        if let Some(src) = self.body.get(at..at + 2) {
            b.copy_from_slice(src);
        }
        if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }
}
