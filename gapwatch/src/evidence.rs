//! Evidence capture: pcap snippets of the traffic around each alert.
//!
//! [`EvidenceRecorder::record`] keeps every packet in a bounded ring (one byte buffer
//! reused in place plus a queue of packet descriptors, so the steady state allocates
//! nothing). [`EvidenceRecorder::open`] starts a snippet for an alert: it copies the
//! packets of the last minute that involve the alert's address pair, then keeps adding
//! such packets for a minute more. A finished snippet is written atomically (temporary
//! file, fsync, rename) to `<state>/evidence/alert-<id>.pcap`, so a reader never sees a
//! half-written file. Every cap has a counter in [`EvidenceStats`].

use records::Timestamp;
use sensor::source::{RawPacket, MAX_CAPTURED_LEN};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use wire::LinkType;

/// Folder of the snippets inside the state folder.
pub const EVIDENCE_DIR: &str = "evidence";

/// Snapshot length written in snippet headers: the largest frame a source delivers.
const SNAPLEN: u32 = MAX_CAPTURED_LEN;

/// Sizes and times of the recorder.
#[derive(Clone, Debug)]
pub struct EvidenceConfig {
    /// Bytes of recent frames kept.
    pub ring_bytes: usize,
    /// Recent frames kept.
    pub ring_packets: usize,
    /// How far back a new snippet reaches.
    pub before_micros: i64,
    /// How long a snippet keeps collecting after it opens.
    pub after_micros: i64,
    /// Most frames in one snippet.
    pub snippet_packets: usize,
    /// Most frame bytes in one snippet.
    pub snippet_bytes: usize,
    /// Most snippets collecting at once.
    pub max_open: usize,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        Self {
            ring_bytes: 8 << 20,
            ring_packets: 32_768,
            before_micros: 60_000_000,
            after_micros: 60_000_000,
            snippet_packets: 2_000,
            snippet_bytes: 4 << 20,
            max_open: 64,
        }
    }
}

/// What the recorder did and where it hit a cap.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvidenceStats {
    /// Frames put in the ring.
    pub packets_recorded: u64,
    /// Frames larger than the whole ring, not kept.
    pub packets_too_large: u64,
    /// Snippets written.
    pub snippets_written: u64,
    /// Snippets not started because `max_open` were collecting.
    pub snippets_refused: u64,
    /// Snippets that found no frame (nothing written).
    pub snippets_empty: u64,
    /// Snippets ended early by the packet or byte cap.
    pub snippets_capped: u64,
    /// Frames left out of a snippet because their link type differs from its first
    /// frame's (a pcap file has one link type).
    pub link_mismatches: u64,
    /// Snippets that could not be written (see [`EvidenceRecorder::last_error`]).
    pub write_errors: u64,
}

/// A frame in the ring: where its bytes are and what it is.
#[derive(Clone, Copy, Debug)]
struct Slot {
    offset: usize,
    len: usize,
    ts: Timestamp,
    link: LinkType,
    orig_len: u32,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
}

impl Slot {
    fn involves(&self, pair: &[IpAddr]) -> bool {
        [self.src, self.dst]
            .into_iter()
            .flatten()
            .any(|ip| pair.contains(&ip))
    }
}

/// A snippet being collected.
#[derive(Debug)]
struct Snippet {
    alert_id: u64,
    /// The alert's first two addresses.
    pair: Vec<IpAddr>,
    until: Timestamp,
    link: Option<LinkType>,
    /// (time, length on the wire, end of the frame in `data`).
    frames: Vec<(Timestamp, u32, usize)>,
    data: Vec<u8>,
    /// A cap was reached: the snippet takes no more frames and is written.
    full: bool,
}

/// Keeps recent frames and writes pcap snippets around alerts.
#[derive(Debug)]
pub struct EvidenceRecorder {
    config: EvidenceConfig,
    state_dir: PathBuf,
    ring: Vec<u8>,
    /// Where the next frame goes.
    head: usize,
    /// Frames in the ring, oldest first; their bytes follow each other around the ring.
    slots: VecDeque<Slot>,
    open: Vec<Snippet>,
    /// Earliest end among open snippets, to skip the scan on most frames.
    next_until: Option<Timestamp>,
    written: Vec<(u64, String)>,
    stats: EvidenceStats,
    last_error: Option<String>,
}

impl EvidenceRecorder {
    /// A recorder writing to `<state_dir>/evidence/` (created when the first snippet is
    /// written). The ring is allocated here, once.
    pub fn new(state_dir: &Path, config: EvidenceConfig) -> Self {
        Self {
            ring: vec![0; config.ring_bytes],
            slots: VecDeque::with_capacity(config.ring_packets),
            config,
            state_dir: state_dir.to_path_buf(),
            head: 0,
            open: Vec::new(),
            next_until: None,
            written: Vec::new(),
            stats: EvidenceStats::default(),
            last_error: None,
        }
    }

    /// Keeps `packet` (its IP pair as decoded) and adds it to the snippets it involves.
    /// Snippets whose time is up at this packet's time are written first.
    pub fn record(&mut self, packet: &RawPacket<'_>, src: Option<IpAddr>, dst: Option<IpAddr>) {
        if self.next_until.is_some_and(|until| packet.ts > until) {
            self.write_expired(packet.ts);
        }
        let len = packet.data.len();
        if len > self.ring.len() || self.config.ring_packets == 0 {
            self.stats.packets_too_large += 1;
            return;
        }
        let offset = self.make_room(len);
        self.ring[offset..offset + len].copy_from_slice(packet.data);
        self.head = offset + len;
        let slot = Slot {
            offset,
            len,
            ts: packet.ts,
            link: packet.link,
            orig_len: packet.orig_len,
            src,
            dst,
        };
        self.slots.push_back(slot);
        self.stats.packets_recorded += 1;
        if self.open.is_empty() {
            return;
        }
        let mut full = false;
        for snippet in &mut self.open {
            if slot.involves(&snippet.pair) {
                add_frame(snippet, &slot, packet.data, &self.config, &mut self.stats);
                full |= snippet.full;
            }
        }
        if full {
            self.write_where(|s| s.full);
        }
    }

    /// Starts a snippet for alert `alert_id` about `addrs` (the first two are its pair),
    /// at packet time `now`: frames of the last `before` that involve the pair, and those
    /// of the next `after`. Returns false when the alert already has a snippet, has no
    /// address, or `max_open` snippets are collecting (counted).
    pub fn open(&mut self, alert_id: u64, addrs: &[IpAddr], now: Timestamp) -> bool {
        let pair: Vec<IpAddr> = addrs.iter().copied().take(2).collect();
        if pair.is_empty() || self.open.iter().any(|s| s.alert_id == alert_id) {
            return false;
        }
        if self.open.len() >= self.config.max_open {
            self.stats.snippets_refused += 1;
            return false;
        }
        let mut snippet = Snippet {
            alert_id,
            pair,
            until: now.plus_micros(self.config.after_micros),
            link: None,
            frames: Vec::new(),
            data: Vec::new(),
            full: false,
        };
        let since = now.plus_micros(-self.config.before_micros);
        for slot in &self.slots {
            if snippet.full {
                break;
            }
            if slot.ts >= since && slot.involves(&snippet.pair) {
                let bytes = &self.ring[slot.offset..slot.offset + slot.len];
                add_frame(&mut snippet, slot, bytes, &self.config, &mut self.stats);
            }
        }
        if snippet.full {
            self.write(snippet);
        } else {
            self.next_until = Some(
                self.next_until
                    .map_or(snippet.until, |u| u.min(snippet.until)),
            );
            self.open.push(snippet);
        }
        true
    }

    /// Writes the snippets whose collection time is over at `now` (for a quiet link,
    /// where no packet arrives to trigger it).
    pub fn write_expired(&mut self, now: Timestamp) {
        self.write_where(|s| now > s.until);
    }

    /// Writes every open snippet (end of input).
    pub fn finish(&mut self) {
        self.write_where(|_| true);
    }

    /// Snippets written since the last call: (alert id, path relative to the state
    /// folder), for the alert's `evidence.pcap`.
    pub fn take_written(&mut self) -> Vec<(u64, String)> {
        std::mem::take(&mut self.written)
    }

    /// Counters.
    pub fn stats(&self) -> &EvidenceStats {
        &self.stats
    }

    /// The last write error, naming the file.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// Snippets collecting now.
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    /// Frees space for `len` bytes (`len` ≤ ring size) by dropping the oldest frames;
    /// returns where the frame goes.
    fn make_room(&mut self, len: usize) -> usize {
        while self.slots.len() >= self.config.ring_packets {
            self.slots.pop_front();
        }
        loop {
            let Some(oldest) = self.slots.front() else {
                self.head = 0;
                return 0;
            };
            let tail = oldest.offset;
            if tail >= self.head {
                // Free space runs from head up to the oldest frame.
                if tail - self.head >= len {
                    return self.head;
                }
                self.slots.pop_front();
            } else if self.ring.len() - self.head >= len {
                // Frames sit in [tail, head); the end of the ring is free.
                return self.head;
            } else {
                // Wrap: the gap at the end stays unused this lap.
                self.head = 0;
            }
        }
    }

    /// Removes the open snippets `pred` selects and writes them.
    fn write_where(&mut self, pred: impl Fn(&Snippet) -> bool) {
        let mut i = 0;
        while i < self.open.len() {
            if pred(&self.open[i]) {
                let snippet = self.open.swap_remove(i);
                self.write(snippet);
            } else {
                i += 1;
            }
        }
        self.next_until = self.open.iter().map(|s| s.until).min();
    }

    fn write(&mut self, snippet: Snippet) {
        let Some(link) = snippet.link else {
            self.stats.snippets_empty += 1;
            return;
        };
        let relative = format!("{EVIDENCE_DIR}/alert-{}.pcap", snippet.alert_id);
        let path = self.state_dir.join(&relative);
        match write_pcap(&path, link, &snippet) {
            Ok(()) => {
                self.stats.snippets_written += 1;
                self.written.push((snippet.alert_id, relative));
            }
            Err(e) => {
                self.stats.write_errors += 1;
                self.last_error = Some(format!("{}: {e}", path.display()));
            }
        }
    }
}

/// Adds one frame to a snippet unless it is of another link type; marks the snippet
/// full when a frame does not fit or a cap is reached.
fn add_frame(
    snippet: &mut Snippet,
    slot: &Slot,
    bytes: &[u8],
    config: &EvidenceConfig,
    stats: &mut EvidenceStats,
) {
    if snippet.full {
        return;
    }
    if snippet.data.len() + bytes.len() > config.snippet_bytes {
        snippet.full = true;
    } else {
        match snippet.link {
            None => snippet.link = Some(slot.link),
            Some(link) if link != slot.link => {
                stats.link_mismatches += 1;
                return;
            }
            Some(_) => {}
        }
        snippet.data.extend_from_slice(bytes);
        snippet
            .frames
            .push((slot.ts, slot.orig_len, snippet.data.len()));
        snippet.full = snippet.frames.len() >= config.snippet_packets
            || snippet.data.len() >= config.snippet_bytes;
    }
    if snippet.full {
        stats.snippets_capped += 1;
    }
}

/// Writes `snippet` as a pcap file at `path`: to a temporary file first, synced, then
/// renamed over `path`.
fn write_pcap(path: &Path, link: LinkType, snippet: &Snippet) -> std::io::Result<()> {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    let tmp = path.with_extension("pcap.tmp");
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let header = PcapHeader {
            snaplen: SNAPLEN,
            datalink: pcap_file::DataLink::from(link.linktype()),
            endianness: pcap_file::Endianness::native(),
            ..Default::default()
        };
        let mut writer =
            PcapWriter::with_header(std::io::BufWriter::new(file), header).map_err(io_error)?;
        let mut start = 0;
        for &(ts, orig_len, end) in &snippet.frames {
            let data = &snippet.data[start..end];
            start = end;
            // Readers refuse a wire length above the snapshot length; frames that long
            // do not occur on real links.
            let orig_len = orig_len.clamp(data.len() as u32, SNAPLEN);
            let micros = u64::try_from(ts.micros()).unwrap_or(0);
            let time = std::time::Duration::from_micros(micros);
            writer
                .write_packet(&PcapPacket::new(time, orig_len, data))
                .map_err(io_error)?;
        }
        let file = writer
            .into_writer()
            .into_inner()
            .map_err(|e| e.into_error())?;
        file.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path)
}

fn io_error(e: pcap_file::PcapError) -> std::io::Error {
    match e {
        pcap_file::PcapError::IoError(e) => e,
        other => std::io::Error::other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcap::PcapReader;
    use wire::build::FrameBuilder;
    use wire::MacAddr;

    const T0: i64 = 1_764_305_701_000_000;
    const PLC: [u8; 4] = [10, 20, 1, 10];
    const HMI: [u8; 4] = [10, 20, 1, 20];

    /// A Modbus/TCP frame from `src` to `dst` whose payload carries `n`.
    fn frame(src: [u8; 4], dst: [u8; 4], n: u16, link: LinkType) -> Vec<u8> {
        let mac = MacAddr([0x00, 0x1d, 0x9c, 0, 0, src[3]]);
        let b = FrameBuilder::new();
        let b = match link {
            LinkType::LinuxSll => b.linux_sll(mac),
            _ => b.eth(mac, MacAddr([0x00, 0x80, 0xf4, 0, 0, dst[3]])),
        };
        let payload = [0, n as u8, 0, 0, 0, 6, 1, 3, 0, 0, 0, n as u8];
        b.ipv4(src, dst)
            .tcp(40_000, 502, u32::from(n), 1, 0x18, &payload)
            .build()
    }

    /// Records one frame with its IPs as `wire::decode` finds them.
    fn record(rec: &mut EvidenceRecorder, ts: i64, link: LinkType, data: &[u8]) {
        let (src, dst) = match wire::decode(link, data).network {
            wire::Network::Ipv4(ip) | wire::Network::Ipv6(ip) => (Some(ip.src), Some(ip.dst)),
            _ => (None, None),
        };
        let packet = RawPacket {
            ts: Timestamp(ts),
            link,
            data,
            orig_len: data.len() as u32,
            interface: 0,
        };
        rec.record(&packet, src, dst);
    }

    fn ip(a: [u8; 4]) -> IpAddr {
        IpAddr::from(a)
    }

    /// (time, frame) of every packet in a pcap file, with its link type.
    fn read_pcap(path: &Path) -> (u32, Vec<(i64, Vec<u8>)>) {
        let file = std::fs::File::open(path).unwrap();
        let mut reader = PcapReader::new(file).unwrap();
        let link = u32::from(reader.header().datalink);
        let mut out = Vec::new();
        while let Some(p) = reader.next_packet() {
            let p = p.unwrap();
            assert_eq!(p.orig_len as usize, p.data.len());
            out.push((p.timestamp.as_micros() as i64, p.data.into_owned()));
        }
        (link, out)
    }

    #[test]
    fn a_snippet_holds_the_pairs_frames_from_a_minute_before_to_a_minute_after() {
        let dir = tempfile::tempdir().unwrap();
        let mut rec = EvidenceRecorder::new(dir.path(), EvidenceConfig::default());
        let other = ([10, 20, 2, 5], [10, 20, 2, 6]);
        let mut expected = Vec::new();
        // One frame a second for 200 s: even seconds the pair (alternating direction),
        // odd seconds an unrelated pair. The alert opens at 100 s.
        for s in 0..200u16 {
            let ts = T0 + i64::from(s) * 1_000_000;
            let (src, dst) = match s % 4 {
                0 => (HMI, PLC),
                2 => (PLC, HMI),
                _ => other,
            };
            let data = frame(src, dst, s, LinkType::Ethernet);
            if s % 2 == 0 && (40..=160).contains(&s) {
                expected.push((ts, data.clone()));
            }
            if s == 100 {
                assert!(rec.open(7, &[ip(PLC), ip(HMI), ip([10, 20, 2, 5])], Timestamp(ts)));
                assert!(
                    !rec.open(7, &[ip(PLC)], Timestamp(ts)),
                    "one snippet per alert"
                );
            }
            record(&mut rec, ts, LinkType::Ethernet, &data);
        }
        // Written once the packet after 160 s arrived, before the end of input.
        assert_eq!(rec.open_count(), 0);
        assert_eq!(
            rec.take_written(),
            vec![(7, "evidence/alert-7.pcap".to_string())]
        );
        let path = dir.path().join("evidence/alert-7.pcap");
        let (link, frames) = read_pcap(&path);
        assert_eq!(link, 1);
        assert_eq!(frames.len(), 61);
        assert_eq!(frames, expected);
        assert!(!dir.path().join("evidence/alert-7.pcap.tmp").exists());
        assert_eq!(rec.stats().snippets_written, 1);
        assert_eq!(rec.stats().packets_recorded, 200);

        // tshark, when installed, reads the file and sees only the pair.
        let Ok(out) = std::process::Command::new("tshark")
            .args(["-n", "-r"])
            .arg(&path)
            .args([
                "-T",
                "fields",
                "-e",
                "ip.src",
                "-e",
                "ip.dst",
                "-e",
                "tcp.dstport",
            ])
            .output()
        else {
            eprintln!("tshark not installed: pcap checked with pcap-file only");
            return;
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 61);
        assert_eq!(lines[0], "10.20.1.20\t10.20.1.10\t502");
        assert_eq!(lines[1], "10.20.1.10\t10.20.1.20\t502");
        assert!(lines
            .iter()
            .all(|l| l.ends_with("\t502") && l.contains("10.20.1.")));
    }

    #[test]
    fn caps_and_odd_cases_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let config = EvidenceConfig {
            snippet_packets: 5,
            max_open: 2,
            ..EvidenceConfig::default()
        };
        let mut rec = EvidenceRecorder::new(dir.path(), config);
        let now = Timestamp(T0);
        assert!(rec.open(1, &[ip(PLC)], now));
        assert!(rec.open(2, &[ip([192, 168, 9, 9])], now));
        assert!(!rec.open(3, &[ip(HMI)], now));
        assert!(!rec.open(4, &[], now), "no address, no snippet");
        assert_eq!(rec.stats().snippets_refused, 1);
        // A frame of another link type is left out of the Ethernet snippet.
        record(
            &mut rec,
            T0 + 1,
            LinkType::Ethernet,
            &frame(HMI, PLC, 0, LinkType::Ethernet),
        );
        record(
            &mut rec,
            T0 + 2,
            LinkType::LinuxSll,
            &frame(HMI, PLC, 1, LinkType::LinuxSll),
        );
        for n in 2..10 {
            let data = frame(HMI, PLC, n, LinkType::Ethernet);
            record(&mut rec, T0 + i64::from(n), LinkType::Ethernet, &data);
        }
        assert_eq!(rec.stats().link_mismatches, 1);
        assert_eq!(rec.stats().snippets_capped, 1);
        assert_eq!(
            rec.take_written(),
            vec![(1, "evidence/alert-1.pcap".to_string())]
        );
        let (_, frames) = read_pcap(&dir.path().join("evidence/alert-1.pcap"));
        // Frames 0, 2, 3, 4, 5 (frame 1 was the cooked one); the cap of 5 ends it.
        let expected: Vec<(i64, Vec<u8>)> = [(1, 0), (2, 2), (3, 3), (4, 4), (5, 5)]
            .into_iter()
            .map(|(t, n)| (T0 + t, frame(HMI, PLC, n, LinkType::Ethernet)))
            .collect();
        assert_eq!(frames, expected);
        // Alert 2 saw nothing: no file.
        rec.finish();
        assert_eq!(rec.take_written(), vec![]);
        assert_eq!(rec.stats().snippets_empty, 1);
        assert!(!dir.path().join("evidence/alert-2.pcap").exists());
    }

    #[test]
    fn a_write_error_is_counted_and_named() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the evidence folder should be.
        std::fs::write(dir.path().join(EVIDENCE_DIR), b"x").unwrap();
        let mut rec = EvidenceRecorder::new(dir.path(), EvidenceConfig::default());
        record(
            &mut rec,
            T0,
            LinkType::Ethernet,
            &frame(HMI, PLC, 0, LinkType::Ethernet),
        );
        assert!(rec.open(9, &[ip(PLC)], Timestamp(T0)));
        rec.finish();
        assert_eq!(rec.take_written(), vec![]);
        assert_eq!(rec.stats().write_errors, 1);
        assert!(
            rec.last_error().unwrap().contains("alert-9.pcap"),
            "{:?}",
            rec.last_error()
        );
    }

    #[test]
    fn the_ring_keeps_the_latest_frames_intact_in_fixed_memory() {
        let dir = tempfile::tempdir().unwrap();
        let config = EvidenceConfig {
            ring_bytes: 1_000,
            ring_packets: 12,
            ..EvidenceConfig::default()
        };
        let mut rec = EvidenceRecorder::new(dir.path(), config);
        let capacity = rec.slots.capacity();
        let mut sent = Vec::new();
        for n in 0..500u16 {
            // 66 to 366 bytes, in an irregular order, so wraps land everywhere.
            let frame = FrameBuilder::new()
                .eth(MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2]))
                .ipv4(HMI, PLC)
                .udp(n, 47_808, &vec![n as u8; usize::from(n * 37 % 301)])
                .build();
            record(&mut rec, T0 + i64::from(n), LinkType::Ethernet, &frame);
            sent.push(frame);
            // The ring holds a suffix of what was sent, byte for byte, within its caps.
            let kept: Vec<&[u8]> = rec
                .slots
                .iter()
                .map(|s| &rec.ring[s.offset..s.offset + s.len])
                .collect();
            assert!(!kept.is_empty() && kept.len() <= 12);
            let suffix: Vec<&[u8]> = sent[sent.len() - kept.len()..]
                .iter()
                .map(Vec::as_slice)
                .collect();
            assert_eq!(kept, suffix, "after frame {n}");
            assert!(kept.iter().map(|k| k.len()).sum::<usize>() <= 1_000);
        }
        assert_eq!(rec.slots.capacity(), capacity);
        assert_eq!(rec.ring.len(), 1_000);
        // A frame larger than the whole ring is counted, not kept.
        let huge = vec![0u8; 1_001];
        record(&mut rec, T0 + 501, LinkType::Ethernet, &huge);
        assert_eq!(rec.stats().packets_too_large, 1);
        assert_eq!(rec.stats().packets_recorded, 500);
    }
}
