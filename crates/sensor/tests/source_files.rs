//! File sources on real captures (cross-checked with capinfos/tshark) and on synthetic
//! damaged files written here.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use records::Timestamp;
use sensor::source::{
    FileFormat, FileSource, MergedSource, PacketSource, SourceError, SourceWarning, WarningKind,
    MAX_CAPTURED_LEN,
};
use wire::LinkType;

/// `../shared/pcaps` relative to the workspace root, when present.
fn pcaps_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: {} is missing (third-party captures are not part of the repository)",
            dir.display()
        );
        None
    }
}

/// What reading a whole source gave.
#[derive(Debug, Default)]
struct Summary {
    packets: u64,
    bytes: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    links: BTreeMap<u32, u64>,
    /// (ts, first byte, len) of each packet, for order checks.
    seq: Vec<(Timestamp, u8, usize)>,
    warnings: Vec<SourceWarning>,
}

fn read_all(src: &mut dyn PacketSource) -> Summary {
    let mut s = Summary::default();
    while let Some(p) = src
        .next_packet()
        .expect("file sources do not fail mid-file")
    {
        assert!(p.data.len() as u64 <= u64::from(p.orig_len));
        assert!(p.data.len() <= MAX_CAPTURED_LEN as usize);
        s.packets += 1;
        s.bytes += p.data.len() as u64;
        s.first.get_or_insert(p.ts);
        s.last = Some(p.ts);
        *s.links.entry(p.link.linktype()).or_default() += 1;
        s.seq
            .push((p.ts, p.data.first().copied().unwrap_or(0), p.data.len()));
    }
    // A source stays ended.
    assert!(src.next_packet().expect("ended source").is_none());
    s.warnings = src.warnings();
    let stats = src.stats();
    assert_eq!(stats.packets, s.packets);
    assert_eq!(stats.bytes, s.bytes);
    s
}

fn ts(secs: i64, micros: i64) -> Timestamp {
    Timestamp(secs * 1_000_000 + micros)
}

/// One real capture and what capinfos/tshark say about it.
struct Expect {
    path: &'static str,
    format: FileFormat,
    compressed: bool,
    /// libpcap link type numbers with their packet counts.
    links: &'static [(u32, u64)],
    packets: u64,
    first: Timestamp,
    last: Timestamp,
}

/// Numbers from `capinfos -T -r -c -a -e FILE` (packet count, MANIFEST.tsv's `packets`
/// column agrees) and `tshark -r FILE -T fields -e frame.time_epoch -e frame.interface_id
/// | sed -n '1p;$p'` (first and last packet in file order; tshark prints nanoseconds,
/// gapwatch keeps microseconds).
fn real_captures() -> Vec<Expect> {
    vec![
        // Ethernet, classic pcap, little-endian µs.
        Expect {
            path: "ct-samples/Protocols/BACnet/BACnet-BBMD-on-same-subnet.cap",
            format: FileFormat::Pcap,
            compressed: false,
            links: &[(1, 14)],
            packets: 14,
            first: ts(1292339325, 910679),
            last: ts(1292339326, 83825),
        },
        // Ethernet, classic pcap, big-endian µs, seconds past 2^31 (unsigned).
        Expect {
            path: "iti-ics-security-tools/pcaps/IEC61850/m-send-req.mms.pcap",
            format: FileFormat::Pcap,
            compressed: false,
            links: &[(1, 21)],
            packets: 21,
            first: ts(3370564299, 0),
            last: ts(3370566728, 0),
        },
        // BSD null (0), classic pcap, big-endian µs.
        Expect {
            path: "emreekin-ics-pcaps/SNMP/snmp_usm.pcap",
            format: FileFormat::Pcap,
            compressed: false,
            links: &[(0, 144)],
            packets: 144,
            first: ts(1168532911, 986955),
            last: ts(1168532913, 673407),
        },
        // Linux cooked capture v1 (113).
        Expect {
            path: "icsnpp-c1222/testing/Traces/c1222_over_ipv6.pcap",
            format: FileFormat::Pcap,
            compressed: false,
            links: &[(113, 11)],
            packets: 11,
            first: ts(1313506515, 119541),
            last: ts(1313506516, 530769),
        },
        Expect {
            path: "icsnpp-s7comm/tests/traces/s7comm_plus.pcap",
            format: FileFormat::Pcap,
            compressed: false,
            links: &[(113, 262)],
            packets: 262,
            first: ts(1595359704, 607623),
            last: ts(1595359783, 608118),
        },
        // LINKTYPE_IPV4 (228).
        Expect {
            path: "icsnpp-omron-fins/testing/traces/omron_fins_tcp_commands_responses.pcap",
            format: FileFormat::Pcap,
            compressed: false,
            links: &[(228, 22)],
            packets: 22,
            first: ts(1733332784, 203134),
            last: ts(1733332784, 216130),
        },
        // pcapng, two interfaces: 0 with if_tsresol 9 (ns), 1 with the default µs.
        Expect {
            path: "ndpi/tests/cfgs/default/pcap/knxip.pcapng",
            format: FileFormat::PcapNg,
            compressed: false,
            links: &[(1, 3)],
            packets: 3,
            first: ts(1713288329, 876632),
            last: ts(1629801418, 105532),
        },
        // pcapng with a .pcap name (recognised by content), two interfaces (ns and µs):
        // `tshark ... -e frame.interface_id | sort | uniq -c` gives 216 on 0, 744 on 1.
        Expect {
            path: "icsnpp-profinet-io-cm/testing/traces/profinet_io_cm.pcap",
            format: FileFormat::PcapNg,
            compressed: false,
            links: &[(1, 960)],
            packets: 960,
            first: ts(1287088627, 587076),
            last: ts(1689619037, 794768),
        },
        // pcapng, BSD null link type.
        Expect {
            path: "icsnpp-opcua-binary/pcaps/open62541_browse_next.pcap",
            format: FileFormat::PcapNg,
            compressed: false,
            links: &[(0, 752)],
            packets: 752,
            first: ts(1658508840, 211349),
            last: ts(1658509375, 220662),
        },
        // pcapng, nanosecond interface only.
        Expect {
            path: "ct-samples/Protocols/DLMS-COSEM/Matousp_PCAPs/data1.pcapng",
            format: FileFormat::PcapNg,
            compressed: false,
            links: &[(1, 18)],
            packets: 18,
            first: ts(1520780595, 35623),
            last: ts(1520780595, 62256),
        },
        // gzip-compressed pcap without a .gz name.
        Expect {
            path: "emreekin-ics-pcaps/IEC61850/GOOSE.pcap",
            format: FileFormat::Pcap,
            compressed: true,
            links: &[(1, 8)],
            packets: 8,
            first: ts(1216135243, 118812),
            last: ts(1216135271, 583138),
        },
        Expect {
            path: "emreekin-ics-pcaps/DHCP/dhcp-auth.pcap",
            format: FileFormat::Pcap,
            compressed: true,
            links: &[(1, 1)],
            packets: 1,
            first: ts(1154434637, 0),
            last: ts(1154434637, 0),
        },
    ]
}

#[test]
fn real_captures_match_capinfos_and_tshark() {
    let Some(dir) = pcaps_dir() else { return };
    for e in real_captures() {
        let path = dir.join(e.path);
        let mut src = FileSource::open(&path).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(src.format(), e.format, "{}", e.path);
        assert_eq!(src.is_compressed(), e.compressed, "{}", e.path);
        let s = read_all(&mut src);
        assert_eq!(s.packets, e.packets, "{}", e.path);
        assert_eq!(s.first, Some(e.first), "{}", e.path);
        assert_eq!(s.last, Some(e.last), "{}", e.path);
        let links: Vec<(u32, u64)> = s.links.into_iter().collect();
        assert_eq!(links, e.links, "{}", e.path);
        assert!(s.warnings.is_empty(), "{}: {:?}", e.path, s.warnings);
        let stats = src.stats();
        let size = std::fs::metadata(&path).expect("size").len();
        assert_eq!(stats.input_bytes_total, Some(size));
        assert_eq!(
            stats.input_bytes_read, size,
            "{}: all input consumed",
            e.path
        );
    }
}

/// The per-packet timestamps of the two-interface pcapng, each with its own resolution.
/// `tshark -r knxip.pcapng -T fields -e frame.time_epoch -e frame.interface_id -e frame.cap_len`
#[test]
fn pcapng_interfaces_keep_their_own_timestamp_resolution() {
    let Some(dir) = pcaps_dir() else { return };
    let mut src =
        FileSource::open(dir.join("ndpi/tests/cfgs/default/pcap/knxip.pcapng")).expect("open");
    let s = read_all(&mut src);
    let got: Vec<(Timestamp, usize)> = s.seq.iter().map(|&(t, _, len)| (t, len)).collect();
    assert_eq!(
        got,
        vec![
            (ts(1713288329, 876632), 62), // interface 0, ns: 1713288329.876632545
            (ts(1713288329, 876649), 56), // interface 0, ns: 1713288329.876649446
            (ts(1629801418, 105532), 82), // interface 1, µs: 1629801418.105532
        ]
    );
}

/// A real capture that is cut in its last record: tshark says "appears to have been cut
/// short in the middle of a packet" after 2041 packets; the record at byte 331665 needs
/// 16 + 157 bytes and 111 remain (331776-byte file).
#[test]
fn real_capture_cut_mid_record_keeps_good_packets() {
    let Some(dir) = pcaps_dir() else { return };
    let path = dir.join("iti-ics-security-tools/pcaps/MELSEC/melsoft_129_clean.pcap");
    let mut src = FileSource::open(&path).expect("open");
    let s = read_all(&mut src);
    assert_eq!(s.packets, 2041);
    assert_eq!(s.first, Some(ts(1517210713, 70494)));
    assert_eq!(s.last, Some(ts(1517210714, 996687)));
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    let w = &s.warnings[0];
    assert_eq!(w.offset, Some(331665));
    assert_eq!(w.packets_before, 2041);
    assert_eq!(
        w.kind,
        WarningKind::CutMidRecord {
            needed: 173,
            available: 111
        }
    );
    let msg = w.to_string();
    assert!(msg.contains("melsoft_129_clean.pcap"), "{msg}");
    assert!(msg.contains("331665"), "{msg}");
}

/// A pcapng file whose link type gapwatch cannot decode is refused with the number; the
/// big-endian MirroredBits capture uses link type 250 (capinfos: "rtac-serial").
#[test]
fn unsupported_link_type_is_refused_with_its_number() {
    let Some(dir) = pcaps_dir() else { return };
    let path = dir.join("ct-samples/Protocols/MirroredBits/MirroredBits.pcap");
    match FileSource::open(&path) {
        Err(e @ SourceError::UnsupportedLinkType { linktype: 250, .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("MirroredBits.pcap") && msg.contains("250"),
                "{msg}"
            );
        }
        other => panic!("expected unsupported link type 250, got {other:?}"),
    }
}

/// Every capture in MANIFEST.tsv opens and gives capinfos' packet count, or is refused
/// for a link type gapwatch does not decode.
#[test]
fn every_manifest_capture_gives_capinfos_packet_count() {
    let Some(dir) = pcaps_dir() else { return };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
    let mut read = 0;
    let mut refused = BTreeMap::<u32, u32>::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.get(5) != Some(&"capture") {
            continue;
        }
        let packets: u64 = cols[2].parse().expect("packets column");
        let path = dir.join(cols[0]);
        let mut src = match FileSource::open(&path) {
            Ok(s) => s,
            Err(SourceError::UnsupportedLinkType { linktype, .. }) => {
                *refused.entry(linktype).or_default() += 1;
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        let s = read_all(&mut src);
        assert_eq!(s.packets, packets, "{}", cols[0]);
        if !cols[0].ends_with("melsoft_129_clean.pcap") {
            assert!(s.warnings.is_empty(), "{}: {:?}", cols[0], s.warnings);
        }
        read += 1;
    }
    // capinfos encapsulations of the refused files: arcnet (7), bacnet-ms-tp (165),
    // wpan (195), socketcan (227), rtac-serial (250).
    let refused: Vec<(u32, u32)> = refused.into_iter().collect();
    assert_eq!(
        refused,
        vec![(7, 1), (165, 1), (195, 1), (227, 1), (250, 1)]
    );
    assert_eq!(read, 643 - 5);
}

// ---------------------------------------------------------------------------------------
// Synthetic files.

/// Builds a classic pcap file.
struct PcapWriter {
    big: bool,
    nanos: bool,
    bytes: Vec<u8>,
}

impl PcapWriter {
    fn new(big: bool, nanos: bool, snaplen: u32, linktype: u32) -> Self {
        let mut w = Self {
            big,
            nanos,
            bytes: Vec::new(),
        };
        w.u32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
        w.u16(2);
        w.u16(4);
        w.u32(0);
        w.u32(0);
        w.u32(snaplen);
        w.u32(linktype);
        w
    }

    fn u32(&mut self, v: u32) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&b);
    }

    fn u16(&mut self, v: u16) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&b);
    }

    /// A record at `secs` + `micros`, with the data given.
    fn packet(&mut self, secs: u32, micros: u32, data: &[u8]) -> &mut Self {
        self.record(secs, micros, data.len() as u32, data.len() as u32, data)
    }

    fn record(&mut self, secs: u32, micros: u32, incl: u32, orig: u32, data: &[u8]) -> &mut Self {
        self.u32(secs);
        self.u32(if self.nanos { micros * 1000 } else { micros });
        self.u32(incl);
        self.u32(orig);
        self.bytes.extend_from_slice(data);
        self
    }
}

/// Builds a pcapng file, little- or big-endian.
struct NgWriter {
    big: bool,
    bytes: Vec<u8>,
}

impl NgWriter {
    fn new() -> Self {
        Self::with_order(false)
    }

    fn with_order(big: bool) -> Self {
        let mut w = Self {
            big,
            bytes: Vec::new(),
        };
        w.section(big);
        w
    }

    /// A section header block; later blocks use its byte order.
    fn section(&mut self, big: bool) -> &mut Self {
        self.big = big;
        let mut body = Vec::new();
        body.extend_from_slice(&self.w32(0x1a2b_3c4d));
        body.extend_from_slice(&self.w16(1));
        body.extend_from_slice(&self.w16(0));
        body.extend_from_slice(&self.w64(u64::MAX));
        self.block(0x0a0d_0d0a, &body)
    }

    fn w16(&self, v: u16) -> [u8; 2] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn w32(&self, v: u32) -> [u8; 4] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn w64(&self, v: u64) -> [u8; 8] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn block(&mut self, kind: u32, body: &[u8]) -> &mut Self {
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        let (k, l) = (self.w32(kind), self.w32(len));
        self.bytes.extend_from_slice(&k);
        self.bytes.extend_from_slice(&l);
        self.bytes.extend_from_slice(body);
        self.bytes.resize(self.bytes.len() + padded - body.len(), 0);
        self.bytes.extend_from_slice(&l);
        self
    }

    /// An interface block; `tsresol` and `tsoffset` as options when given.
    fn interface(
        &mut self,
        linktype: u16,
        tsresol: Option<u8>,
        tsoffset: Option<i64>,
    ) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.w16(linktype));
        body.extend_from_slice(&self.w16(0));
        body.extend_from_slice(&self.w32(0));
        if let Some(r) = tsresol {
            body.extend_from_slice(&self.w16(9));
            body.extend_from_slice(&self.w16(1));
            body.extend_from_slice(&[r, 0, 0, 0]);
        }
        if let Some(o) = tsoffset {
            body.extend_from_slice(&self.w16(14));
            body.extend_from_slice(&self.w16(8));
            body.extend_from_slice(&self.w64(o as u64));
        }
        if tsresol.is_some() || tsoffset.is_some() {
            body.extend_from_slice(&[0, 0, 0, 0]);
        }
        self.block(1, &body)
    }

    fn epb(&mut self, iface: u32, ts_units: u64, data: &[u8], orig: u32) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.w32(iface));
        body.extend_from_slice(&self.w32((ts_units >> 32) as u32));
        body.extend_from_slice(&self.w32(ts_units as u32));
        body.extend_from_slice(&self.w32(data.len() as u32));
        body.extend_from_slice(&self.w32(orig));
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        self.block(6, &body)
    }

    fn legacy_pb(&mut self, iface: u16, ts_units: u64, data: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.w16(iface));
        body.extend_from_slice(&self.w16(0));
        body.extend_from_slice(&self.w32((ts_units >> 32) as u32));
        body.extend_from_slice(&self.w32(ts_units as u32));
        body.extend_from_slice(&self.w32(data.len() as u32));
        body.extend_from_slice(&self.w32(data.len() as u32));
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        self.block(2, &body)
    }

    fn spb(&mut self, data: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.w32(data.len() as u32));
        body.extend_from_slice(data);
        self.block(3, &body)
    }
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

fn frame(tag: u8, len: usize) -> Vec<u8> {
    vec![tag; len]
}

fn expect_open_error(path: &Path) -> SourceError {
    match FileSource::open(path) {
        Ok(src) => panic!("{} opened: {src:?}", path.display()),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains(&path.display().to_string()),
                "message does not name the file: {msg}"
            );
            assert!(!msg.contains('\n'), "message is not one line: {msg}");
            e
        }
    }
}

#[test]
fn missing_file_names_the_file_and_the_os_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no-such.pcap");
    let e = expect_open_error(&path);
    assert!(matches!(e, SourceError::Open { .. }), "{e:?}");
    assert!(e.to_string().contains("No such file or directory"), "{e}");
    let e = expect_open_error(dir.path());
    assert!(matches!(e, SourceError::Open { .. }), "{e:?}");
}

#[test]
fn empty_file_is_reported_as_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "empty.pcap", b"");
    let e = expect_open_error(&path);
    assert!(matches!(e, SourceError::Empty { .. }), "{e:?}");
}

#[test]
fn text_file_is_not_a_capture_and_its_first_bytes_are_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "notes.pcap", b"Hello, this is not a capture\n");
    let e = expect_open_error(&path);
    match &e {
        SourceError::NotACaptureFile {
            magic, compressed, ..
        } => {
            assert_eq!(magic.bytes, b"Hell");
            assert!(!compressed);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("48 65 6c 6c \"Hell\""), "{e}");
}

#[test]
fn random_bytes_are_not_a_capture() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A fixed pseudo-random sequence (xorshift) so the test is repeatable.
    let mut x: u32 = 0x9e37_79b9;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let path = write(&dir, "random.bin", &bytes);
    let e = expect_open_error(&path);
    match &e {
        SourceError::NotACaptureFile { magic, .. } => assert_eq!(magic.bytes, bytes[..4]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn gzip_of_a_text_file_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"<!DOCTYPE html>").expect("gzip");
    let path = write(&dir, "page.pcap", &gz.finish().expect("gzip"));
    let e = expect_open_error(&path);
    assert!(
        matches!(
            &e,
            SourceError::NotACaptureFile {
                compressed: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("after gzip decompression"), "{e}");
}

#[test]
fn file_cut_in_its_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    let full = PcapWriter::new(false, false, 65535, 1).bytes;
    let path = write(&dir, "cut-header.pcap", &full[..10]);
    let e = expect_open_error(&path);
    assert!(
        matches!(
            e,
            SourceError::TruncatedHeader {
                format: FileFormat::Pcap,
                len: 10,
                needed: 24,
                ..
            }
        ),
        "{e:?}"
    );
    let path = write(&dir, "cut-magic.pcap", &full[..2]);
    let e = expect_open_error(&path);
    assert!(
        matches!(e, SourceError::TruncatedHeader { len: 2, .. }),
        "{e:?}"
    );
    let ng = NgWriter::new().bytes;
    let path = write(&dir, "cut-header.pcapng", &ng[..20]);
    let e = expect_open_error(&path);
    assert!(
        matches!(
            e,
            SourceError::TruncatedHeader {
                format: FileFormat::PcapNg,
                len: 20,
                needed: 28,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn unknown_link_type_in_classic_pcap_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut w = PcapWriter::new(false, false, 65535, 147);
    w.packet(1, 0, &frame(1, 20));
    let path = write(&dir, "user0.pcap", &w.bytes);
    let e = expect_open_error(&path);
    assert!(
        matches!(e, SourceError::UnsupportedLinkType { linktype: 147, .. }),
        "{e:?}"
    );
}

/// All four classic magic numbers (µs/ns, little/big-endian) give the same packets.
#[test]
fn all_four_pcap_magic_variants_read_alike() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut results = Vec::new();
    for big in [false, true] {
        for nanos in [false, true] {
            let mut w = PcapWriter::new(big, nanos, 65535, 1);
            w.packet(1_700_000_000, 123_456, &frame(1, 60))
                .packet(1_700_000_001, 999_999, &frame(2, 1514))
                // Seconds past 2^31 are unsigned in pcap.
                .packet(3_000_000_000, 1, &frame(3, 42));
            let name = format!("v-{big}-{nanos}.pcap");
            let path = write(&dir, &name, &w.bytes);
            let mut src = FileSource::open(&path).expect("open");
            assert_eq!(src.pcap_link_type(), Some(LinkType::Ethernet));
            let s = read_all(&mut src);
            assert!(s.warnings.is_empty(), "{:?}", s.warnings);
            results.push(s.seq);
        }
    }
    let want = vec![
        (ts(1_700_000_000, 123_456), 1, 60),
        (ts(1_700_000_001, 999_999), 2, 1514),
        (ts(3_000_000_000, 1), 3, 42),
    ];
    for r in results {
        assert_eq!(r, want);
    }
}

#[test]
fn pcap_cut_mid_record_keeps_good_packets_and_warns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut w = PcapWriter::new(false, false, 65535, 1);
    w.packet(10, 0, &frame(1, 100))
        .packet(11, 0, &frame(2, 100));
    let good = w.bytes.len();
    w.packet(12, 0, &frame(3, 100));
    let cut = good + 16 + 40;
    let path = write(&dir, "cut.pcap", &w.bytes[..cut]);
    let mut src = FileSource::open(&path).expect("open");
    let s = read_all(&mut src);
    assert_eq!(s.packets, 2);
    assert_eq!(s.warnings.len(), 1);
    let warn = &s.warnings[0];
    assert_eq!(
        warn.kind,
        WarningKind::CutMidRecord {
            needed: 116,
            available: 56
        }
    );
    assert_eq!(warn.offset, Some(good as u64));
    assert!(warn.ends_source());
    let msg = warn.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains(&format!("byte {good}")), "{msg}");
    assert!(msg.contains("after 2 good packets"), "{msg}");

    // Cut inside the next record's header.
    let path = write(&dir, "cut-hdr.pcap", &w.bytes[..good + 7]);
    let s = read_all(&mut FileSource::open(&path).expect("open"));
    assert_eq!(s.packets, 2);
    assert_eq!(
        s.warnings[0].kind,
        WarningKind::CutMidRecord {
            needed: 16,
            available: 7
        }
    );
}

#[test]
fn record_length_ffffffff_ends_the_file_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut w = PcapWriter::new(true, false, 65535, 1);
    w.packet(10, 0, &frame(1, 60));
    let at = w.bytes.len();
    w.record(11, 0, 0xffff_ffff, 60, &frame(2, 60));
    w.packet(12, 0, &frame(3, 60));
    let path = write(&dir, "bogus-length.pcap", &w.bytes);
    let s = read_all(&mut FileSource::open(&path).expect("open"));
    assert_eq!(s.packets, 1);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(
        s.warnings[0].kind,
        WarningKind::ImplausibleRecordLength {
            captured: 0xffff_ffff,
            snaplen: 65535
        }
    );
    assert_eq!(s.warnings[0].offset, Some(at as u64));
    assert!(s.warnings[0]
        .to_string()
        .contains(&path.display().to_string()));
}

/// Lying lengths: over the 256 KiB cap (within a snap length that allows it) the packet
/// is skipped; a captured length above the original length raises the original length.
#[test]
fn lying_record_lengths_are_handled_without_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut w = PcapWriter::new(false, false, 1 << 20, 1);
    w.packet(1, 0, &frame(1, 60))
        .packet(2, 0, &frame(2, MAX_CAPTURED_LEN as usize + 1))
        .record(3, 0, 100, 50, &frame(3, 100))
        .record(4, 0, 100, 60, &frame(4, 100))
        .packet(5, 0, &frame(5, 60));
    let path = write(&dir, "lying.pcap", &w.bytes);
    let mut src = FileSource::open(&path).expect("open");
    let mut got = Vec::new();
    while let Some(p) = src.next_packet().expect("next") {
        got.push((p.data[0], p.data.len(), p.orig_len));
    }
    assert_eq!(
        got,
        vec![(1, 60, 60), (3, 100, 100), (4, 100, 100), (5, 60, 60)]
    );
    let stats = src.stats();
    assert_eq!(stats.packets_skipped, 1);
    assert_eq!(stats.lengths_repaired, 2);
    let warnings = src.warnings();
    let kinds: Vec<&WarningKind> = warnings.iter().map(|w| &w.kind).collect();
    assert_eq!(
        kinds,
        vec![
            &WarningKind::OversizedPacket {
                captured: MAX_CAPTURED_LEN + 1
            },
            &WarningKind::CapturedLongerThanOriginal {
                captured: 100,
                original: 50
            },
        ]
    );
    assert!(warnings.iter().all(|w| !w.ends_source()));
}

#[test]
fn pcapng_garbage_block_after_good_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut w = NgWriter::new();
    w.interface(1, None, None)
        .epb(0, 1_000_000, &frame(1, 60), 60)
        .epb(0, 2_000_000, &frame(2, 61), 61);
    let at = w.bytes.len();
    let mut bytes = w.bytes.clone();
    bytes.extend_from_slice(b"\xde\xad\xbe\xef\x13\x00\x00\x00garbage garbage garbage");
    let path = write(&dir, "garbage.pcapng", &bytes);
    let s = read_all(&mut FileSource::open(&path).expect("open"));
    assert_eq!(s.packets, 2);
    assert_eq!(s.warnings.len(), 1);
    assert!(
        matches!(&s.warnings[0].kind, WarningKind::GarbageBlock { reason } if reason.contains("not a multiple of 4")),
        "{:?}",
        s.warnings
    );
    assert_eq!(s.warnings[0].offset, Some(at as u64));
    let msg = s.warnings[0].to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");

    // Trailer length differing from the header length: found by pcap-file's framing.
    let mut bytes = w.bytes.clone();
    let mut w2 = NgWriter {
        big: false,
        bytes: Vec::new(),
    };
    w2.epb(0, 3_000_000, &frame(3, 60), 60);
    let n = w2.bytes.len();
    w2.bytes[n - 4] ^= 0x40;
    bytes.extend_from_slice(&w2.bytes);
    let path = write(&dir, "trailer.pcapng", &bytes);
    let s = read_all(&mut FileSource::open(&path).expect("open"));
    assert_eq!(s.packets, 2);
    assert!(
        matches!(&s.warnings[0].kind, WarningKind::GarbageBlock { .. }),
        "{:?}",
        s.warnings
    );

    // A huge declared length is garbage, not "need more bytes".
    let mut bytes = w.bytes.clone();
    bytes.extend_from_slice(&6u32.to_le_bytes());
    bytes.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    bytes.extend_from_slice(&[0; 64]);
    let path = write(&dir, "huge.pcapng", &bytes);
    let s = read_all(&mut FileSource::open(&path).expect("open"));
    assert_eq!(s.packets, 2);
    assert!(
        matches!(&s.warnings[0].kind, WarningKind::GarbageBlock { reason } if reason.contains("implausible")),
        "{:?}",
        s.warnings
    );

    // Cut in the middle of a block.
    let path = write(&dir, "cut.pcapng", &w.bytes[..w.bytes.len() - 10]);
    let s = read_all(&mut FileSource::open(&path).expect("open"));
    assert_eq!(s.packets, 1);
    assert!(
        matches!(s.warnings[0].kind, WarningKind::CutMidRecord { .. }),
        "{:?}",
        s.warnings
    );
}

/// Several interfaces with their own link types and resolutions (decimal, binary, with
/// an offset), legacy packet blocks, simple packet blocks, and a packet naming an
/// interface that does not exist.
#[test]
fn pcapng_interfaces_resolutions_and_block_kinds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut w = NgWriter::new();
    w.interface(1, None, None) // 0: Ethernet, µs
        .interface(113, Some(9), None) // 1: SLL, ns
        .interface(101, Some(0x80 | 20), Some(1_000)) // 2: raw IP, 2^-20 s, +1000 s
        .interface(276, Some(3), None) // 3: SLL2, ms
        .epb(0, 1_700_000_000_123_456, &frame(1, 60), 60)
        .epb(1, 1_700_000_001_987_654_321, &frame(2, 50), 70)
        .epb(2, (1_700_000_002u64 << 20) | (1 << 19), &frame(3, 40), 40)
        .epb(3, 1_700_000_003_250, &frame(4, 30), 30)
        .epb(9, 5, &frame(5, 30), 30)
        .legacy_pb(1, 1_700_000_004_000_000_001, &frame(6, 44))
        .spb(&frame(7, 33));
    let path = write(&dir, "multi.pcapng", &w.bytes);
    let mut src = FileSource::open(&path).expect("open");
    let mut got = Vec::new();
    while let Some(p) = src.next_packet().expect("next") {
        got.push((p.ts, p.link, p.data[0], p.data.len(), p.orig_len));
    }
    assert_eq!(
        got,
        vec![
            (ts(1_700_000_000, 123_456), LinkType::Ethernet, 1, 60, 60),
            (ts(1_700_000_001, 987_654), LinkType::LinuxSll, 2, 50, 70),
            (ts(1_700_001_002, 500_000), LinkType::RawIp, 3, 40, 40),
            (ts(1_700_000_003, 250_000), LinkType::LinuxSll2, 4, 30, 30),
            (ts(1_700_000_004, 0), LinkType::LinuxSll, 6, 44, 44),
            // Simple packet blocks have no time: the previous packet's is used.
            (ts(1_700_000_004, 0), LinkType::Ethernet, 7, 33, 33),
        ]
    );
    assert_eq!(src.stats().packets_skipped, 1);
    let warnings = src.warnings();
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0].kind,
        WarningKind::UnknownInterface { interface: 9 }
    );
}

/// Big-endian sections read like little-endian ones, and a new section (in the other
/// byte order) starts a new set of interfaces.
#[test]
fn pcapng_byte_orders_and_sections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut results = Vec::new();
    for big in [false, true] {
        let mut w = NgWriter::with_order(big);
        w.interface(1, Some(6), None)
            .interface(101, Some(9), None)
            .epb(0, 1_700_000_000_000_001, &frame(1, 60), 60)
            .epb(1, 1_700_000_000_000_002_000, &frame(2, 40), 40)
            .legacy_pb(0, 1_700_000_000_000_003, &frame(3, 50))
            .section(!big)
            // Interface 0 of the new section is raw IP in nanoseconds.
            .interface(101, Some(9), None)
            .epb(0, 1_700_000_000_000_004_000, &frame(4, 30), 30)
            // Interface 1 existed only in the previous section.
            .epb(1, 5, &frame(5, 30), 30);
        let path = write(&dir, &format!("order-{big}.pcapng"), &w.bytes);
        let mut src = FileSource::open(&path).expect("open");
        let mut got = Vec::new();
        while let Some(p) = src.next_packet().expect("next") {
            got.push((p.ts, p.link, p.data[0], p.data.len()));
        }
        let warnings = src.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(
            warnings[0].kind,
            WarningKind::UnknownInterface { interface: 1 }
        );
        results.push(got);
    }
    let want = vec![
        (ts(1_700_000_000, 1), LinkType::Ethernet, 1, 60),
        (ts(1_700_000_000, 2), LinkType::RawIp, 2, 40),
        (ts(1_700_000_000, 3), LinkType::Ethernet, 3, 50),
        (ts(1_700_000_000, 4), LinkType::RawIp, 4, 30),
    ];
    assert_eq!(results[0], want);
    assert_eq!(results[1], want);
}

#[test]
fn gzip_detected_by_content_and_cut_gzip_warns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut w = PcapWriter::new(false, true, 65535, 1);
    for i in 0..200u32 {
        w.packet(100 + i, i, &frame(i as u8, 300));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&w.bytes).expect("gzip");
    let compressed = gz.finish().expect("gzip");
    let path = write(&dir, "capture.bin", &compressed);
    let mut src = FileSource::open(&path).expect("open");
    assert!(src.is_compressed());
    let s = read_all(&mut src);
    assert_eq!(s.packets, 200);
    assert_eq!(s.last, Some(ts(299, 199)));
    assert!(s.warnings.is_empty());
    let stats = src.stats();
    assert_eq!(stats.input_bytes_read, compressed.len() as u64);
    assert_eq!(stats.input_bytes_total, Some(compressed.len() as u64));

    // A gzip stream cut short: the packets decompressed before the cut are delivered.
    let path = write(&dir, "cut.pcap.gz", &compressed[..compressed.len() / 2]);
    let s = read_all(&mut FileSource::open(&path).expect("open"));
    assert!(s.packets > 0 && s.packets < 200, "{}", s.packets);
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(s.warnings[0].ends_source());
    assert!(s.warnings[0].compressed);
    assert!(s.warnings[0].to_string().contains("decompressed byte"));
}

#[test]
fn merged_files_come_in_timestamp_order_ties_by_file_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = PcapWriter::new(false, false, 65535, 1);
    a.packet(10, 0, &frame(0xa1, 60))
        .packet(12, 0, &frame(0xa2, 60))
        .packet(14, 0, &frame(0xa3, 60))
        .packet(20, 0, &frame(0xa4, 60));
    let mut b = NgWriter::new();
    b.interface(1, Some(9), None)
        .epb(0, 11_000_000_000, &frame(0xb1, 60), 60)
        .epb(0, 12_000_000_000, &frame(0xb2, 60), 60)
        .epb(0, 13_000_000_000, &frame(0xb3, 60), 60);
    let pa = write(&dir, "a.pcap", &a.bytes);
    let pb = write(&dir, "b.pcapng", &b.bytes);
    let mut merged = MergedSource::open(&[&pa, &pb]).expect("open");
    assert_eq!(merged.describe(), "2 capture files");
    let s = read_all(&mut merged);
    let order: Vec<u8> = s.seq.iter().map(|&(_, tag, _)| tag).collect();
    assert_eq!(order, vec![0xa1, 0xb1, 0xa2, 0xb2, 0xb3, 0xa3, 0xa4]);
    let times: Vec<Timestamp> = s.seq.iter().map(|&(t, _, _)| t).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    let stats = merged.stats();
    assert_eq!(stats.packets, 7);
    assert_eq!(
        stats.input_bytes_total,
        Some((a.bytes.len() + b.bytes.len()) as u64)
    );
}

#[test]
fn merged_open_reports_every_bad_file_before_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = PcapWriter::new(false, false, 65535, 1);
    a.packet(10, 0, &frame(1, 60));
    let good = write(&dir, "good.pcap", &a.bytes);
    let empty = write(&dir, "empty.pcap", b"");
    let missing = dir.path().join("missing.pcap");
    let errors = MergedSource::open(&[&good, &empty, &missing]).expect_err("must fail");
    assert_eq!(errors.len(), 2);
    assert!(matches!(errors[0], SourceError::Empty { .. }));
    assert_eq!(errors[0].path(), Some(empty.as_path()));
    assert!(matches!(errors[1], SourceError::Open { .. }));
    assert_eq!(errors[1].path(), Some(missing.as_path()));
}

/// Two real captures merged: the count is the sum, and time never goes backwards across
/// files (each file is itself in order).
#[test]
fn merged_real_captures() {
    let Some(dir) = pcaps_dir() else { return };
    let paths = [
        dir.join("icsnpp-s7comm/tests/traces/s7comm_plus.pcap"),
        dir.join("ct-samples/Protocols/BACnet/BACnet-BBMD-on-same-subnet.cap"),
        dir.join("emreekin-ics-pcaps/IEC61850/GOOSE.pcap"),
    ];
    let mut merged = MergedSource::open(&paths).expect("open");
    let s = read_all(&mut merged);
    assert_eq!(s.packets, 262 + 14 + 8);
    assert_eq!(s.first, Some(ts(1216135243, 118812)));
    assert_eq!(s.last, Some(ts(1595359783, 608118)));
    let times: Vec<Timestamp> = s.seq.iter().map(|&(t, _, _)| t).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

/// Records a reader must see in full before it may deliver them, by end offset.
fn cut_case(bytes: &[u8], header_len: usize, record_ends: &[usize], name: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    for cut in 0..=bytes.len() {
        let path = write(&dir, name, &bytes[..cut]);
        let mut src = match FileSource::open(&path) {
            Ok(s) => s,
            Err(e) => {
                assert!(cut < header_len, "cut {cut}: {e}");
                assert!(
                    matches!(
                        e,
                        SourceError::Empty { .. } | SourceError::TruncatedHeader { .. }
                    ),
                    "cut {cut}: {e:?}"
                );
                continue;
            }
        };
        assert!(cut >= header_len, "cut {cut} opened");
        let s = read_all(&mut src);
        let complete = record_ends.iter().filter(|&&end| end <= cut).count();
        assert_eq!(s.packets as usize, complete, "cut {cut}");
        let boundary = cut == header_len || record_ends.contains(&cut);
        if boundary {
            assert!(s.warnings.is_empty(), "cut {cut}: {:?}", s.warnings);
        } else {
            assert_eq!(s.warnings.len(), 1, "cut {cut}: {:?}", s.warnings);
            let start = record_ends
                .iter()
                .copied()
                .filter(|&end| end <= cut)
                .max()
                .unwrap_or(header_len);
            assert_eq!(s.warnings[0].offset, Some(start as u64), "cut {cut}");
            assert!(
                matches!(s.warnings[0].kind, WarningKind::CutMidRecord { .. }),
                "cut {cut}: {:?}",
                s.warnings
            );
        }
    }
}

/// A file cut at every byte offset: before the header is complete it is refused; after,
/// exactly the complete records are delivered and a cut inside a record is reported at
/// that record's offset.
#[test]
fn cut_at_every_offset_delivers_exactly_the_complete_records() {
    let mut w = PcapWriter::new(false, true, 65535, 1);
    let mut ends = Vec::new();
    for (i, len) in [60usize, 1, 0, 77].into_iter().enumerate() {
        w.packet(100 + i as u32, 5, &frame(i as u8, len));
        ends.push(w.bytes.len());
    }
    cut_case(&w.bytes, 24, &ends, "cut.pcap");

    let mut ng = NgWriter::new();
    let shb = ng.bytes.len();
    ng.interface(1, Some(9), None);
    let idb_end = ng.bytes.len();
    let mut ends = Vec::new();
    for (i, len) in [60usize, 3, 0].into_iter().enumerate() {
        ng.epb(0, 1_000 + i as u64, &frame(i as u8, len), len as u32);
        ends.push(ng.bytes.len());
    }
    ng.spb(&frame(9, 21));
    ends.push(ng.bytes.len());
    // The interface block is not a packet, but cutting inside it is still reported.
    let dir = tempfile::tempdir().expect("tempdir");
    for cut in shb + 1..idb_end {
        let path = write(&dir, "cut-idb.pcapng", &ng.bytes[..cut]);
        let s = read_all(&mut FileSource::open(&path).expect("open"));
        assert_eq!(s.packets, 0);
        assert_eq!(s.warnings.len(), 1, "cut {cut}");
        assert_eq!(s.warnings[0].offset, Some(shb as u64));
    }
    let mut with_idb_end = vec![idb_end];
    with_idb_end.extend(&ends);
    // Count only packet records: the IDB end is a boundary without a packet.
    let bytes = ng.bytes.clone();
    for cut in idb_end..=bytes.len() {
        let path = write(&dir, "cut.pcapng", &bytes[..cut]);
        let s = read_all(&mut FileSource::open(&path).expect("open"));
        let complete = ends.iter().filter(|&&e| e <= cut).count();
        assert_eq!(s.packets as usize, complete, "cut {cut}");
        let boundary = with_idb_end.contains(&cut);
        assert_eq!(
            s.warnings.is_empty(),
            boundary,
            "cut {cut}: {:?}",
            s.warnings
        );
    }
}

/// Random byte corruption of real and synthetic captures: no panic, every delivered
/// packet within its caps, and reading always ends.
#[test]
fn corrupted_files_never_panic() {
    let mut samples: Vec<Vec<u8>> = Vec::new();
    let mut w = PcapWriter::new(true, false, 65535, 113);
    for i in 0..20u32 {
        w.packet(i, i, &frame(i as u8, 40 + i as usize));
    }
    samples.push(w.bytes);
    let mut ng = NgWriter::new();
    ng.interface(1, Some(9), Some(5)).interface(0, None, None);
    for i in 0..20u64 {
        ng.epb(
            (i % 2) as u32,
            i * 1_000,
            &frame(i as u8, 30 + i as usize),
            99,
        );
    }
    ng.spb(&frame(1, 10)).legacy_pb(1, 7, &frame(2, 11));
    samples.push(ng.bytes);
    if let Some(dir) = pcaps_dir() {
        for p in [
            "ndpi/tests/cfgs/default/pcap/knxip.pcapng",
            "icsnpp-c1222/testing/Traces/c1222_over_ipv6.pcap",
        ] {
            samples.push(std::fs::read(dir.join(p)).expect("read sample"));
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut opened = 0;
    for round in 0..1500 {
        let mut bytes = samples[round % samples.len()].clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
        }
        if next() % 4 == 0 {
            let keep = (next() % bytes.len() as u64) as usize;
            bytes.truncate(keep);
        }
        let path = write(&dir, "fuzz.bin", &bytes);
        if let Ok(mut src) = FileSource::open_with_buffer(&path, 64 * 1024) {
            opened += 1;
            let mut n = 0;
            while let Some(p) = src.next_packet().expect("file sources do not fail") {
                assert!(p.data.len() <= MAX_CAPTURED_LEN as usize);
                assert!(p.data.len() as u64 <= u64::from(p.orig_len));
                n += 1;
                assert!(n <= bytes.len(), "more packets than bytes");
            }
        }
    }
    assert!(opened > 500, "{opened}");
}

/// Throughput of the file source (run with `--release -- --ignored --nocapture`).
#[test]
#[ignore = "measurement, not a check"]
fn file_source_throughput() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut w = PcapWriter::new(false, false, 65535, 1);
    let packets = 1_000_000u32;
    for i in 0..packets {
        let len = 64 + (i as usize * 37) % 1400;
        w.packet(
            1_700_000_000 + i / 1000,
            i % 1_000_000,
            &frame(i as u8, len),
        );
    }
    let path = write(&dir, "big.pcap", &w.bytes);
    let size = w.bytes.len() as f64;
    drop(w);
    for label in ["plain", "gzip"] {
        let path = if label == "gzip" {
            let raw = std::fs::read(&path).expect("read");
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&raw).expect("gzip");
            write(&dir, "big.pcap.gz", &gz.finish().expect("gzip"))
        } else {
            path.clone()
        };
        let t = std::time::Instant::now();
        let mut src = FileSource::open(&path).expect("open");
        let mut n = 0u64;
        let mut sum = 0u64;
        while let Some(p) = src.next_packet().expect("next") {
            n += 1;
            sum += u64::from(p.data[p.data.len() / 2]);
        }
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(n, u64::from(packets));
        eprintln!(
            "{label}: {n} packets, {:.0} MB in {secs:.3} s = {:.0} MB/s, {:.2} Mpps (checksum {sum})",
            size / 1e6,
            size / 1e6 / secs,
            n as f64 / 1e6 / secs
        );
    }
}

/// Captures read from any reader (bytes in memory, a pipe): same packets, gzip found by
/// content, no size known, and messages use the given name.
#[test]
fn captures_from_readers_and_pipes() {
    let mut w = PcapWriter::new(false, false, 65535, 1);
    for i in 0..50u32 {
        w.packet(1_000 + i, i, &frame(i as u8, 100 + i as usize));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&w.bytes).expect("gzip");
    let compressed = gz.finish().expect("gzip");
    for (bytes, is_gz) in [(w.bytes.clone(), false), (compressed.clone(), true)] {
        let mut src = FileSource::from_reader("memory", std::io::Cursor::new(bytes)).expect("open");
        assert_eq!(src.is_compressed(), is_gz);
        let s = read_all(&mut src);
        assert_eq!(s.packets, 50);
        assert_eq!(s.last, Some(ts(1_049, 49)));
        assert_eq!(src.stats().input_bytes_total, None);
    }
    let e = FileSource::from_reader("stdin", std::io::Cursor::new(b"GET / HTTP/1.1".to_vec()))
        .expect_err("not a capture");
    assert!(e.to_string().starts_with("stdin is not a pcap"), "{e}");

    // A named pipe: no seeking, no size.
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("capture.fifo");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("skipping the pipe case: mkfifo is not available");
        return;
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, compressed).expect("write pipe"))
    };
    let mut src = FileSource::open(&fifo).expect("open pipe");
    let s = read_all(&mut src);
    writer.join().expect("writer");
    assert_eq!(s.packets, 50);
    assert!(src.is_compressed());
    assert_eq!(src.stats().input_bytes_total, None);
}
