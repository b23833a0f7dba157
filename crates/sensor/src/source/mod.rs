//! Packet sources: capture files and live interfaces behind one trait.

use records::Timestamp;
use wire::LinkType;

/// One captured frame, borrowed from the source until the next call.
#[derive(Clone, Copy, Debug)]
pub struct RawPacket<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// Link type of `data`.
    pub link: LinkType,
    /// Captured bytes (possibly cut to the snapshot length).
    pub data: &'a [u8],
    /// Length of the frame on the wire.
    pub orig_len: u32,
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
}
