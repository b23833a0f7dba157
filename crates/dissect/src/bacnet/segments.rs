//! Reassembly of segmented BACnet messages: confirmed requests and complex ACKs whose
//! service data is split over several APDUs (segmented-message bit, sequence number,
//! more-follows bit).
//!
//! A message is keyed by its direction in the flow, the BVLC originator and NPDU source
//! and destination addresses (its [`Route`]), the PDU type, the invoke id and the
//! service. Segments are taken in order of sequence number (wrapping after 255):
//!
//! - a segment behind the next expected one is a retransmission and is ignored;
//! - a segment ahead of it (one went missing) is ignored too: the receiver answers with
//!   a negative Segment-ACK and the sender repeats from the missing segment, so the
//!   message can still complete in order. If the gap is never filled, the message is
//!   dropped by the idle timeout or when the flow ends;
//! - the in-order segment without more-follows completes the message;
//! - a later segment of a message not in reassembly (its first segment was not seen,
//!   or it repeats a segment of a message already complete) is reported and ignored.
//!
//! Bounds, per flow: [`MAX_MESSAGES`] messages at once (the least recently active one is
//! dropped for a new one), [`MAX_MESSAGE_BYTES`] of service data per message and
//! [`MAX_FLOW_BYTES`] in all (a message that would pass either is dropped, the rest of
//! its segments ignored), and [`IDLE_MICROS`] of packet time without a segment. Every
//! drop is handed back as a [`Dropped`] with its reason and the first segment, so the
//! caller can report what that segment said.

use crate::Direction;
use records::Timestamp;

/// Most messages in reassembly at once per flow.
pub const MAX_MESSAGES: usize = 64;
/// Most service-data bytes of one message. A BACnet/IP device accepts at most 1476-byte
/// APDUs and, in practice, a few dozen segments; 64 KiB holds 44 full segments.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Most service-data bytes held for all messages of one flow.
pub const MAX_FLOW_BYTES: usize = 256 * 1024;
/// Packet time without a new segment after which a message is dropped (30 s; BACnet's
/// default APDU timeout is 3 s with 3 retries).
pub const IDLE_MICROS: i64 = 30_000_000;

/// Longest address part kept in a [`Route`]: real BACnet MAC addresses have at most 7
/// bytes (B/IP 6, B/IPv6 virtual 3, MS/TP 1).
const MAX_ADDR: usize = 8;

/// Where a message comes from and goes to beyond the flow's own endpoints: the
/// originator of a Forwarded-NPDU and the NPDU's source and destination network and
/// address, as a short byte string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// Three addresses of at most 4 + [`MAX_ADDR`] bytes each.
    bytes: [u8; 36],
    len: u8,
}

impl Default for Route {
    fn default() -> Self {
        Self {
            bytes: [0; 36],
            len: 0,
        }
    }
}

impl Route {
    /// The route of a message with this BVLC originator and these NPDU addresses.
    pub fn new(
        origin: Option<&[u8]>,
        source: (Option<u16>, &[u8]),
        dest: (Option<u16>, &[u8]),
    ) -> Self {
        let mut r = Self::default();
        r.push_addr(None, origin.unwrap_or(&[]));
        r.push_addr(source.0, source.1);
        r.push_addr(dest.0, dest.1);
        r
    }

    fn push_addr(&mut self, net: Option<u16>, addr: &[u8]) {
        let addr = &addr[..addr.len().min(MAX_ADDR)];
        let net = net.map_or([0xFF; 3], |n| {
            let b = n.to_be_bytes();
            [1, b[0], b[1]]
        });
        for &b in net.iter().chain([addr.len() as u8].iter()).chain(addr) {
            if let Some(slot) = self.bytes.get_mut(usize::from(self.len)) {
                *slot = b;
                self.len += 1;
            }
        }
    }
}

/// What identifies one segmented message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// Direction within the flow.
    pub dir: Direction,
    /// Addresses beyond the flow's endpoints.
    pub route: Route,
    /// PDU type: 0 (confirmed request) or 3 (complex ACK).
    pub pdu: u8,
    /// Invoke id.
    pub invoke_id: u8,
    /// Service choice.
    pub service: u8,
}

/// One segment as read from its APDU.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    /// The message it belongs to.
    pub key: Key,
    /// Sequence number.
    pub seq: u8,
    /// More segments follow.
    pub more: bool,
    /// Its part of the service data.
    pub data: &'a [u8],
    /// Packet time.
    pub ts: Timestamp,
    /// The NPDU's destination network, if routed.
    pub unit: Option<u32>,
}

/// A message in reassembly, or complete.
#[derive(Clone, Debug)]
pub struct Message {
    /// Its key.
    pub key: Key,
    /// Time of its first segment.
    pub first_ts: Timestamp,
    /// Time of its latest segment.
    pub last_ts: Timestamp,
    /// Destination network of its first segment.
    pub unit: Option<u32>,
    /// Segments taken.
    pub segments: u32,
    /// The service data collected (for a dropped message, the first segment's only).
    pub data: Vec<u8>,
    /// Length of the first segment's data.
    first_len: usize,
    /// Next sequence number expected.
    next_seq: u8,
    /// Already dropped and reported: its remaining segments are ignored.
    dropped: bool,
}

impl Message {
    /// The first segment's service data.
    pub fn first_segment(&self) -> &[u8] {
        self.data.get(..self.first_len).unwrap_or(&self.data)
    }
}

/// A message given up before it completed, or a segment that belongs to no message.
#[derive(Debug)]
pub struct Dropped {
    /// Why, in plain words.
    pub reason: String,
    /// The message, holding its first segment, when there was one.
    pub message: Option<Message>,
}

/// Counters of what reassembly did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentStats {
    /// Messages reassembled.
    pub completed: u64,
    /// Segments taken into a message.
    pub segments: u64,
    /// Retransmitted segments ignored.
    pub duplicates: u64,
    /// Segments ahead of a missing one, ignored.
    pub out_of_order: u64,
    /// Segments of no known message (their first segment was not seen), ignored.
    pub orphans: u64,
    /// Messages dropped before they completed.
    pub dropped: u64,
}

/// The messages in reassembly on one flow.
#[derive(Debug, Default)]
pub struct Reassembly {
    messages: Vec<Message>,
    bytes: usize,
    /// What was dropped since the caller last took it.
    pub dropped: Vec<Dropped>,
    /// Counters.
    pub stats: SegmentStats,
}

impl Reassembly {
    /// Messages in reassembly now.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// True when no message is in reassembly.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The service of a message in reassembly with this invoke id sent in `dir`.
    pub fn service_of(&self, dir: Direction, invoke_id: u8) -> Option<u8> {
        self.messages
            .iter()
            .find(|m| m.key.dir == dir && m.key.invoke_id == invoke_id)
            .map(|m| m.key.service)
    }

    /// Drops every message without a segment for longer than [`IDLE_MICROS`] at `now`.
    pub fn expire(&mut self, now: Timestamp) {
        let mut i = 0;
        while let Some(m) = self.messages.get(i) {
            if now.micros_since(m.last_ts) > IDLE_MICROS {
                let reason = format!(
                    "segmented message dropped: no segment for {} s after segment {}",
                    IDLE_MICROS / 1_000_000,
                    m.segments.saturating_sub(1)
                );
                self.remove(i, reason);
            } else {
                i += 1;
            }
        }
    }

    /// Drops every message with this invoke id (the transaction was aborted).
    pub fn abort(&mut self, invoke_id: u8) {
        let mut i = 0;
        while let Some(m) = self.messages.get(i) {
            if m.key.invoke_id == invoke_id {
                self.remove(i, "segmented message dropped: aborted".to_string());
            } else {
                i += 1;
            }
        }
    }

    /// Drops every message (the flow ended).
    pub fn end(&mut self) {
        while !self.messages.is_empty() {
            self.remove(0, "segmented message dropped: flow ended".to_string());
        }
    }

    /// Takes one segment; returns the message it completes.
    pub fn add(&mut self, s: Segment<'_>) -> Option<Message> {
        let Some(i) = self.messages.iter().position(|m| m.key == s.key) else {
            return self.start(s);
        };
        let m = &mut self.messages[i];
        m.last_ts = s.ts;
        if m.dropped {
            if !s.more {
                self.messages.swap_remove(i);
            }
            return None;
        }
        match s.seq.wrapping_sub(m.next_seq) {
            0 => {}
            1..=127 => {
                self.stats.out_of_order += 1;
                return None;
            }
            _ => {
                self.stats.duplicates += 1;
                return None;
            }
        }
        let len = m.data.len() + s.data.len();
        if len > MAX_MESSAGE_BYTES {
            let reason = format!(
                "segmented message dropped: over {} KiB at segment {}",
                MAX_MESSAGE_BYTES / 1024,
                s.seq
            );
            self.give_up(i, reason, s.more);
            return None;
        }
        if self.bytes + s.data.len() > MAX_FLOW_BYTES {
            let reason = format!(
                "segmented message dropped: the flow's messages in reassembly hold over {} KiB",
                MAX_FLOW_BYTES / 1024
            );
            self.give_up(i, reason, s.more);
            return None;
        }
        m.data.extend_from_slice(s.data);
        m.segments += 1;
        m.next_seq = m.next_seq.wrapping_add(1);
        self.bytes += s.data.len();
        self.stats.segments += 1;
        if s.more {
            return None;
        }
        let m = self.messages.swap_remove(i);
        self.bytes -= m.data.len();
        self.stats.completed += 1;
        Some(m)
    }

    /// A segment of a message not in reassembly.
    fn start(&mut self, s: Segment<'_>) -> Option<Message> {
        if s.seq != 0 {
            self.stats.orphans += 1;
            self.dropped.push(Dropped {
                reason: format!(
                    "segment {} of invoke id {} without the message's first segment; ignored",
                    s.seq, s.key.invoke_id
                ),
                message: None,
            });
            return None;
        }
        let m = Message {
            key: s.key,
            first_ts: s.ts,
            last_ts: s.ts,
            unit: s.unit,
            segments: 1,
            data: s.data.to_vec(),
            first_len: s.data.len(),
            next_seq: 1,
            dropped: false,
        };
        self.stats.segments += 1;
        if !s.more {
            // A segmented message of one segment.
            self.stats.completed += 1;
            return Some(m);
        }
        if self.messages.len() >= MAX_MESSAGES {
            let oldest = (0..self.messages.len()).min_by_key(|&i| self.messages[i].last_ts);
            if let Some(i) = oldest {
                let reason = format!(
                    "segmented message dropped: more than {MAX_MESSAGES} in reassembly, \
                     the least recently active goes"
                );
                self.remove(i, reason);
            }
        }
        let over = self.bytes + m.data.len() > MAX_FLOW_BYTES;
        self.bytes += m.data.len();
        self.messages.push(m);
        if over {
            let reason = format!(
                "segmented message dropped: the flow's messages in reassembly hold over {} KiB",
                MAX_FLOW_BYTES / 1024
            );
            self.give_up(self.messages.len() - 1, reason, true);
        }
        None
    }

    /// Drops message `i` for good.
    fn remove(&mut self, i: usize, reason: String) {
        let m = self.messages.swap_remove(i);
        self.bytes -= m.data.len();
        if !m.dropped {
            self.report(m, reason);
        }
    }

    /// Drops message `i`, keeping its key (while `more` segments follow) so that its
    /// remaining segments are ignored rather than reported one by one.
    fn give_up(&mut self, i: usize, reason: String, more: bool) {
        if !more {
            self.remove(i, reason);
            return;
        }
        let m = &mut self.messages[i];
        let kept = Message {
            data: Vec::new(),
            first_len: 0,
            dropped: true,
            ..m.clone_header()
        };
        let m = std::mem::replace(m, kept);
        self.bytes -= m.data.len();
        self.report(m, reason);
    }

    fn report(&mut self, mut m: Message, reason: String) {
        self.stats.dropped += 1;
        m.data.truncate(m.first_len);
        self.dropped.push(Dropped {
            reason,
            message: Some(m),
        });
    }
}

impl Message {
    /// A copy without the data.
    fn clone_header(&self) -> Self {
        Self {
            key: self.key,
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            unit: self.unit,
            segments: self.segments,
            data: Vec::new(),
            first_len: 0,
            next_seq: self.next_seq,
            dropped: self.dropped,
        }
    }
}
