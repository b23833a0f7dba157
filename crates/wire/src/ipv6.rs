//! IPv6 headers (RFC 8200) and the walk over extension headers.
//!
//! [`walk_extensions`] follows hop-by-hop (0), routing (43), fragment (44), destination
//! options (60) and authentication (51) headers up to [`MAX_EXTENSION_HEADERS`] deep, and
//! stops at ESP (50), No Next Header (59) or any upper-layer protocol.

use std::net::Ipv6Addr;

use crate::bytes::{array, checksum_add, read_u16, read_u32, write_u16, write_u32};
use crate::{CheckError, Fragment};

mod field {
    use core::ops::Range;

    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Range<usize> = 8..24;
    pub const DST_ADDR: Range<usize> = 24..40;
    pub const PAYLOAD: usize = 40;

    /// Fields shared by every extension header.
    pub mod ext {
        pub const NEXT_HEADER: usize = 0;
        pub const LENGTH: usize = 1;
        /// Extension headers are at least 8 bytes.
        pub const MIN_LEN: usize = 8;
    }

    /// The fragment extension header.
    pub mod frag {
        use core::ops::Range;
        pub const OFFSET_FLAGS: Range<usize> = 2..4;
        pub const IDENT: Range<usize> = 4..8;
        pub const LEN: usize = 8;
    }
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// Deepest chain of extension headers followed; longer chains stop there.
pub const MAX_EXTENSION_HEADERS: usize = 8;

/// Hop-by-hop options.
pub const HOP_BY_HOP: u8 = 0;
/// Routing header.
pub const ROUTING: u8 = 43;
/// Fragment header.
pub const FRAGMENT: u8 = 44;
/// Encapsulating security payload (opaque: the walk stops).
pub const ESP: u8 = 50;
/// Authentication header (length in 4-byte units).
pub const AUTH: u8 = 51;
/// No next header.
pub const NO_NEXT_HEADER: u8 = 59;
/// Destination options.
pub const DEST_OPTIONS: u8 = 60;

/// Fragment offset mask in the fragment header's offset/flags field (8-byte units << 3).
const FRAG_OFFSET_MASK: u16 = 0xfff8;
/// More-fragments flag in the fragment header.
const FRAG_MORE: u16 = 0x0001;

/// A view of an IPv6 packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after checking the version and that the fixed header is present.
    pub fn new_checked(buffer: T) -> Result<Self, CheckError> {
        let data = buffer.as_ref();
        let Some(&first) = data.first() else {
            return Err(CheckError::Truncated);
        };
        if first >> 4 != 6 {
            return Err(CheckError::BadVersion);
        }
        if data.len() < HEADER_LEN {
            return Err(CheckError::Truncated);
        }
        Ok(Self { buffer })
    }

    /// Version field.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TC_FLOW.start] >> 4
    }

    /// Traffic class.
    pub fn traffic_class(&self) -> u8 {
        ((read_u32(&self.buffer.as_ref()[field::VER_TC_FLOW]) >> 20) & 0xff) as u8
    }

    /// Flow label.
    pub fn flow_label(&self) -> u32 {
        read_u32(&self.buffer.as_ref()[field::VER_TC_FLOW]) & 0x000f_ffff
    }

    /// Payload length field (bytes after the fixed header).
    pub fn payload_len(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// Payload length as stated, with zero (a jumbogram or segmentation offload) read as
    /// everything captured after the fixed header.
    pub fn stated_payload_len(&self) -> usize {
        match usize::from(self.payload_len()) {
            0 => self.buffer.as_ref().len() - HEADER_LEN,
            len => len,
        }
    }

    /// First next-header value.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(&self.buffer.as_ref()[field::SRC_ADDR]))
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(&self.buffer.as_ref()[field::DST_ADDR]))
    }

    /// True when fewer bytes were captured than the payload length states.
    pub fn is_truncated(&self) -> bool {
        self.buffer.as_ref().len() - HEADER_LEN < self.stated_payload_len()
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// Bytes after the fixed header up to the stated payload length (padding dropped).
    pub fn payload(&self) -> &'a [u8] {
        let data = &self.buffer.as_ref()[HEADER_LEN..];
        &data[..self.stated_payload_len().min(data.len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version 6, traffic class and flow label.
    pub fn set_version_class_flow(&mut self, traffic_class: u8, flow_label: u32) {
        let value = (6 << 28) | (u32::from(traffic_class) << 20) | (flow_label & 0x000f_ffff);
        write_u32(&mut self.buffer.as_mut()[field::VER_TC_FLOW], value);
    }

    /// Sets the payload length.
    pub fn set_payload_len(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::LENGTH], value);
    }

    /// Sets the first next-header value.
    pub fn set_next_header(&mut self, value: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = value;
    }

    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, value: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = value;
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }
}

/// The outcome of walking a chain of extension headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtensionWalk {
    /// The protocol after the last header followed (an upper layer, ESP, 59, or the
    /// header where the depth cap or the end of the capture stopped the walk).
    pub protocol: u8,
    /// Bytes of extension headers followed.
    pub headers_len: usize,
    /// The fragment header's content, if one was passed.
    pub fragment: Option<Fragment>,
    /// Number of extension headers followed.
    pub count: usize,
    /// The walk ran past the end of the captured bytes.
    pub truncated: bool,
}

/// True for the next-header values [`walk_extensions`] follows.
pub fn is_extension_header(value: u8) -> bool {
    matches!(value, HOP_BY_HOP | ROUTING | FRAGMENT | DEST_OPTIONS | AUTH)
}

/// Follows the extension headers starting with `next_header` at the start of `payload`.
pub fn walk_extensions(next_header: u8, payload: &[u8]) -> ExtensionWalk {
    let mut walk = ExtensionWalk {
        protocol: next_header,
        headers_len: 0,
        fragment: None,
        count: 0,
        truncated: false,
    };
    while is_extension_header(walk.protocol) && walk.count < MAX_EXTENSION_HEADERS {
        let rest = payload.get(walk.headers_len..).unwrap_or(&[]);
        if rest.len() < field::ext::MIN_LEN {
            walk.truncated = true;
            return walk;
        }
        let len_field = usize::from(rest[field::ext::LENGTH]);
        let header_len = match walk.protocol {
            // The authentication header counts 4-byte units, minus two.
            AUTH => (len_field + 2) * 4,
            FRAGMENT => field::frag::LEN,
            _ => (len_field + 1) * 8,
        };
        if rest.len() < header_len {
            walk.truncated = true;
            return walk;
        }
        if walk.protocol == FRAGMENT {
            let offset_flags = read_u16(&rest[field::frag::OFFSET_FLAGS]);
            walk.fragment = Some(Fragment {
                id: read_u32(&rest[field::frag::IDENT]),
                offset: u32::from(offset_flags & FRAG_OFFSET_MASK),
                more: offset_flags & FRAG_MORE != 0,
            });
        }
        walk.protocol = rest[field::ext::NEXT_HEADER];
        walk.headers_len += header_len;
        walk.count += 1;
    }
    walk
}

/// Writes a fragment extension header into the first 8 bytes of `out`.
pub fn emit_fragment_header(next_header: u8, fragment: &Fragment, out: &mut [u8]) {
    let out = &mut out[..field::frag::LEN];
    out.fill(0);
    out[field::ext::NEXT_HEADER] = next_header;
    let mut offset_flags = (fragment.offset as u16) & FRAG_OFFSET_MASK;
    if fragment.more {
        offset_flags |= FRAG_MORE;
    }
    write_u16(&mut out[field::frag::OFFSET_FLAGS], offset_flags);
    write_u32(&mut out[field::frag::IDENT], fragment.id);
}

/// Writes an options header (hop-by-hop or destination options) of `len` bytes (a
/// multiple of 8, at least 8) filled with PadN padding.
pub fn emit_options_header(next_header: u8, len: usize, out: &mut [u8]) {
    let out = &mut out[..len];
    out.fill(0);
    out[field::ext::NEXT_HEADER] = next_header;
    out[field::ext::LENGTH] = (len / 8).saturating_sub(1) as u8;
    // One PadN option covering the remaining bytes keeps the header well formed.
    out[2] = 1;
    out[3] = (len - 4) as u8;
}

/// Partial checksum sum of the IPv6 pseudo-header for a TCP/UDP/ICMPv6 checksum.
pub(crate) fn pseudo_header_sum(src: Ipv6Addr, dst: Ipv6Addr, protocol: u8, len: u32) -> u32 {
    let mut sum = checksum_add(0, &src.octets());
    sum = checksum_add(sum, &dst.octets());
    sum = sum.wrapping_add(len >> 16).wrapping_add(len & 0xffff);
    sum.wrapping_add(u32::from(protocol))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_header_round_trip() {
        let mut bytes = [0u8; 44];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_version_class_flow(0x12, 0xabcde);
        p.set_payload_len(4);
        p.set_next_header(17);
        p.set_hop_limit(255);
        p.set_src_addr(Ipv6Addr::LOCALHOST);
        p.set_dst_addr("fe80::1".parse().expect("literal address"));
        let p = Packet::new_checked(&bytes[..]).expect("valid header");
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0x12);
        assert_eq!(p.flow_label(), 0xabcde);
        assert_eq!(p.next_header(), 17);
        assert_eq!(p.hop_limit(), 255);
        assert_eq!(p.src_addr(), Ipv6Addr::LOCALHOST);
        assert_eq!(p.payload().len(), 4);
        assert!(!p.is_truncated());
    }

    #[test]
    fn walk_hop_by_hop_then_fragment() {
        let mut bytes = [0u8; 24];
        emit_options_header(FRAGMENT, 8, &mut bytes[..8]);
        let frag = Fragment {
            id: 0xdead_beef,
            offset: 1448,
            more: true,
        };
        emit_fragment_header(17, &frag, &mut bytes[8..16]);
        let walk = walk_extensions(HOP_BY_HOP, &bytes);
        assert_eq!(walk.protocol, 17);
        assert_eq!(walk.headers_len, 16);
        assert_eq!(walk.count, 2);
        assert_eq!(walk.fragment, Some(frag));
        assert!(!walk.truncated);
    }

    #[test]
    fn walk_stops_at_esp_and_depth_cap() {
        let walk = walk_extensions(ESP, &[0u8; 16]);
        assert_eq!((walk.protocol, walk.headers_len), (ESP, 0));
        // A chain of destination-options headers that points to itself forever.
        let mut bytes = [0u8; 8 * 20];
        for chunk in bytes.chunks_mut(8) {
            emit_options_header(DEST_OPTIONS, 8, chunk);
        }
        let walk = walk_extensions(DEST_OPTIONS, &bytes);
        assert_eq!(walk.count, MAX_EXTENSION_HEADERS);
        assert_eq!(walk.protocol, DEST_OPTIONS);
    }

    #[test]
    fn walk_reports_truncation() {
        let mut bytes = [0u8; 16];
        emit_options_header(6, 16, &mut bytes);
        let walk = walk_extensions(DEST_OPTIONS, &bytes[..12]);
        assert!(walk.truncated);
        assert_eq!(walk.headers_len, 0);
    }

    #[test]
    fn bad_version_and_short_header() {
        assert_eq!(
            Packet::new_checked(&[0x45u8; 40][..]).err(),
            Some(CheckError::BadVersion)
        );
        assert_eq!(
            Packet::new_checked(&[0x60u8; 39][..]).err(),
            Some(CheckError::Truncated)
        );
    }
}
