//! IEEE 802.1Q / 802.1ad VLAN tags.
//!
//! A tag follows the EtherType 0x8100 (customer tag), 0x88a8 (service tag) or the
//! pre-standard 0x9100, and ends with the next EtherType, which may announce another tag.

use crate::bytes::{read_u16, write_u16};
use crate::ethernet::EtherType;
use crate::CheckError;

mod field {
    use core::ops::Range;

    pub const TCI: Range<usize> = 0..2;
    pub const ETHERTYPE: Range<usize> = 2..4;
    pub const PAYLOAD: usize = 4;
}

/// Length of one VLAN tag.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// Mask of the VLAN id inside the tag control information.
const VID_MASK: u16 = 0x0fff;

/// Shift of the priority code point inside the tag control information.
const PCP_SHIFT: u16 = 13;

/// A view of one VLAN tag (the four bytes after the tag's EtherType).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Tag<T> {
    /// Wraps a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after checking that the whole tag is present.
    pub fn new_checked(buffer: T) -> Result<Self, CheckError> {
        let tag = Self::new_unchecked(buffer);
        if tag.buffer.as_ref().len() < HEADER_LEN {
            return Err(CheckError::Truncated);
        }
        Ok(tag)
    }

    /// Tag control information (priority, drop eligible, VLAN id).
    pub fn tci(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::TCI])
    }

    /// VLAN id (12 bits).
    pub fn vlan_id(&self) -> u16 {
        self.tci() & VID_MASK
    }

    /// Priority code point (3 bits).
    pub fn priority(&self) -> u8 {
        (self.tci() >> PCP_SHIFT) as u8
    }

    /// The EtherType that follows this tag.
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(read_u16(&self.buffer.as_ref()[field::ETHERTYPE]))
    }

    /// The raw EtherType (or 802.3 length) field that follows this tag.
    pub fn type_or_length(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::ETHERTYPE])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Tag<&'a T> {
    /// Bytes after the tag.
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Tag<T> {
    /// Sets the tag control information.
    pub fn set_tci(&mut self, tci: u16) {
        write_u16(&mut self.buffer.as_mut()[field::TCI], tci);
    }

    /// Sets the EtherType that follows the tag.
    pub fn set_ethertype(&mut self, ethertype: u16) {
        write_u16(&mut self.buffer.as_mut()[field::ETHERTYPE], ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_fields() {
        let bytes = [0xa0, 0x0a, 0x08, 0x00, 0x45];
        let tag = Tag::new_checked(&bytes[..]).expect("four bytes");
        assert_eq!(tag.vlan_id(), 10);
        assert_eq!(tag.priority(), 5);
        assert_eq!(tag.ethertype(), EtherType::Ipv4);
        assert_eq!(tag.payload(), &[0x45]);
    }

    #[test]
    fn emit_round_trip() {
        let mut bytes = [0u8; 4];
        let mut tag = Tag::new_unchecked(&mut bytes[..]);
        tag.set_tci(0x0fff);
        tag.set_ethertype(0x86dd);
        let tag = Tag::new_checked(&bytes[..]).expect("four bytes");
        assert_eq!(tag.vlan_id(), 4095);
        assert_eq!(tag.ethertype(), EtherType::Ipv6);
    }

    #[test]
    fn short_tag_is_truncated() {
        assert_eq!(
            Tag::new_checked(&[0u8; 3][..]).err(),
            Some(CheckError::Truncated)
        );
    }
}
