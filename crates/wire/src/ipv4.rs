//! IPv4 headers (RFC 791).
//!
//! The checked constructor validates the version, the header length (IHL) against the
//! minimum and the buffer, and the total length against the header length. A total length
//! larger than the buffer is not an error here: it means the capture was cut short, and
//! [`Packet::is_truncated`] reports it while [`Packet::payload`] returns what was captured.

use std::net::Ipv4Addr;

use crate::bytes::{array, checksum_add, checksum_finish, read_u16, write_u16};
use crate::{CheckError, Fragment};

mod field {
    use core::ops::Range;

    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLAGS_OFFSET: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
    pub const OPTIONS: usize = 20;
}

/// Length of a header without options.
pub const MIN_HEADER_LEN: usize = field::OPTIONS;

/// "More fragments" flag in the flags/offset field.
const FLAG_MORE_FRAGMENTS: u16 = 0x2000;

/// "Don't fragment" flag in the flags/offset field.
const FLAG_DONT_FRAGMENT: u16 = 0x4000;

/// Fragment offset (in 8-byte units) in the flags/offset field.
const OFFSET_MASK: u16 = 0x1fff;

/// Size of a fragment offset unit.
const OFFSET_UNIT: u32 = 8;

/// A view of an IPv4 packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; getters may panic on a short buffer.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after validating version, header length and total length.
    pub fn new_checked(buffer: T) -> Result<Self, CheckError> {
        let packet = Self::new_unchecked(buffer);
        packet.check()?;
        Ok(packet)
    }

    /// Validates the header; see the module documentation.
    pub fn check(&self) -> Result<(), CheckError> {
        let data = self.buffer.as_ref();
        let Some(&ver_ihl) = data.first() else {
            return Err(CheckError::Truncated);
        };
        if ver_ihl >> 4 != 4 {
            return Err(CheckError::BadVersion);
        }
        let header_len = usize::from(ver_ihl & 0x0f) * 4;
        if header_len < MIN_HEADER_LEN {
            return Err(CheckError::BadLength);
        }
        if data.len() < header_len {
            return Err(CheckError::Truncated);
        }
        let total = usize::from(self.total_len());
        // Zero is what senders with TCP segmentation offload leave in captures; it is
        // read as "the whole buffer" by [`Packet::stated_len`].
        if total != 0 && total < header_len {
            return Err(CheckError::BadLength);
        }
        Ok(())
    }

    /// Version field.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL * 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// DSCP and ECN byte.
    pub fn dscp_ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN]
    }

    /// Total length field as written.
    pub fn total_len(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// Length of the packet as stated, with a zero total length (segmentation offload)
    /// read as the captured length.
    pub fn stated_len(&self) -> usize {
        match usize::from(self.total_len()) {
            0 => self.buffer.as_ref().len(),
            total => total,
        }
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::IDENT])
    }

    fn flags_offset(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::FLAGS_OFFSET])
    }

    /// Don't-fragment flag.
    pub fn dont_fragment(&self) -> bool {
        self.flags_offset() & FLAG_DONT_FRAGMENT != 0
    }

    /// More-fragments flag.
    pub fn more_fragments(&self) -> bool {
        self.flags_offset() & FLAG_MORE_FRAGMENTS != 0
    }

    /// Fragment offset in bytes.
    pub fn fragment_offset(&self) -> u32 {
        u32::from(self.flags_offset() & OFFSET_MASK) * OFFSET_UNIT
    }

    /// Fragment description when this packet is a fragment; `None` for a whole datagram.
    pub fn fragment(&self) -> Option<Fragment> {
        let offset = self.fragment_offset();
        let more = self.more_fragments();
        (offset != 0 || more).then(|| Fragment {
            id: u32::from(self.ident()),
            offset,
            more,
        })
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Upper-layer protocol number.
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    /// Header checksum as written.
    pub fn checksum(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// True when the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        let header = &self.buffer.as_ref()[..self.header_len()];
        checksum_finish(checksum_add(0, header)) == 0
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(&self.buffer.as_ref()[field::SRC_ADDR]))
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(&self.buffer.as_ref()[field::DST_ADDR]))
    }

    /// True when the buffer holds fewer bytes than the total length states.
    pub fn is_truncated(&self) -> bool {
        self.buffer.as_ref().len() < self.stated_len()
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// Upper-layer bytes: after the header, up to the stated total length or the end of
    /// the buffer, whichever comes first (link-layer padding is dropped).
    pub fn payload(&self) -> &'a [u8] {
        let data = self.buffer.as_ref();
        let end = self.stated_len().min(data.len());
        data.get(self.header_len()..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version 4 and the header length in bytes (a multiple of 4).
    pub fn set_version_and_header_len(&mut self, header_len: usize) {
        self.buffer.as_mut()[field::VER_IHL] = 0x40 | ((header_len / 4) as u8 & 0x0f);
    }

    /// Sets the DSCP/ECN byte.
    pub fn set_dscp_ecn(&mut self, value: u8) {
        self.buffer.as_mut()[field::DSCP_ECN] = value;
    }

    /// Sets the total length.
    pub fn set_total_len(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::LENGTH], value);
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::IDENT], value);
    }

    /// Sets the flags and fragment offset (offset in bytes, a multiple of 8).
    pub fn set_fragment(&mut self, dont_fragment: bool, more: bool, offset_bytes: u32) {
        let mut value = ((offset_bytes / OFFSET_UNIT) as u16) & OFFSET_MASK;
        if dont_fragment {
            value |= FLAG_DONT_FRAGMENT;
        }
        if more {
            value |= FLAG_MORE_FRAGMENTS;
        }
        write_u16(&mut self.buffer.as_mut()[field::FLAGS_OFFSET], value);
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, value: u8) {
        self.buffer.as_mut()[field::TTL] = value;
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, value: u8) {
        self.buffer.as_mut()[field::PROTOCOL] = value;
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }

    /// Computes and writes the header checksum.
    pub fn fill_checksum(&mut self) {
        write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], 0);
        let header_len = self.header_len();
        let sum = checksum_finish(checksum_add(0, &self.buffer.as_ref()[..header_len]));
        write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], sum);
    }
}

/// Partial checksum sum of the IPv4 pseudo-header for a TCP/UDP checksum.
pub(crate) fn pseudo_header_sum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u32) -> u32 {
    let mut sum = checksum_add(0, &src.octets());
    sum = checksum_add(sum, &dst.octets());
    sum = sum.wrapping_add(u32::from(protocol));
    sum.wrapping_add(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(total_len: u16) -> [u8; 24] {
        let mut bytes = [0u8; 24];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_version_and_header_len(20);
        p.set_total_len(total_len);
        p.set_ident(0x1234);
        p.set_fragment(false, true, 1480);
        p.set_ttl(64);
        p.set_protocol(17);
        p.set_src_addr(Ipv4Addr::new(192, 168, 1, 1));
        p.set_dst_addr(Ipv4Addr::new(192, 168, 1, 2));
        p.fill_checksum();
        bytes
    }

    #[test]
    fn emit_parse_round_trip() {
        let bytes = header(22);
        let p = Packet::new_checked(&bytes[..]).expect("valid header");
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), 17);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 168, 1, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(192, 168, 1, 2));
        assert!(p.verify_checksum());
        assert_eq!(
            p.fragment(),
            Some(Fragment {
                id: 0x1234,
                offset: 1480,
                more: true
            })
        );
        // Two payload bytes stated, four captured: the rest is link padding.
        assert_eq!(p.payload().len(), 2);
        assert!(!p.is_truncated());
    }

    #[test]
    fn total_length_beyond_capture_is_truncation() {
        let bytes = header(100);
        let p = Packet::new_checked(&bytes[..]).expect("header is complete");
        assert!(p.is_truncated());
        assert_eq!(p.payload().len(), 4);
    }

    #[test]
    fn bad_version_and_lengths() {
        let mut bytes = header(24);
        bytes[0] = 0x65;
        assert_eq!(
            Packet::new_checked(&bytes[..]).err(),
            Some(CheckError::BadVersion)
        );
        bytes[0] = 0x44;
        assert_eq!(
            Packet::new_checked(&bytes[..]).err(),
            Some(CheckError::BadLength)
        );
        bytes[0] = 0x47;
        assert_eq!(
            Packet::new_checked(&bytes[..]).err(),
            Some(CheckError::Truncated)
        );
        let mut bytes = header(19);
        bytes[0] = 0x45;
        assert_eq!(
            Packet::new_checked(&bytes[..]).err(),
            Some(CheckError::BadLength)
        );
    }

    #[test]
    fn zero_total_length_reads_as_captured_length() {
        let bytes = header(0);
        let p = Packet::new_checked(&bytes[..]).expect("offload packets are accepted");
        assert_eq!(p.stated_len(), 24);
        assert_eq!(p.payload().len(), 4);
    }
}
