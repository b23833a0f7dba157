//! Linux "cooked" capture headers: SLL (`LINKTYPE_LINUX_SLL`, 16 bytes) and SLL2
//! (`LINKTYPE_LINUX_SLL2`, 20 bytes).
//!
//! Both replace the link header with the sender's link address and a protocol field that
//! is an EtherType, except for a few small values that mean 802.3/802.2 framing.

use crate::bytes::{read_u16, read_u32};
use crate::{CheckError, MacAddr};

mod field {
    use core::ops::Range;

    pub mod v1 {
        use super::Range;
        pub const PACKET_TYPE: Range<usize> = 0..2;
        pub const ARPHRD: Range<usize> = 2..4;
        pub const ADDR_LEN: Range<usize> = 4..6;
        pub const ADDR: Range<usize> = 6..14;
        pub const PROTOCOL: Range<usize> = 14..16;
        pub const PAYLOAD: usize = 16;
    }

    pub mod v2 {
        use super::Range;
        pub const PROTOCOL: Range<usize> = 0..2;
        pub const IFINDEX: Range<usize> = 4..8;
        pub const ARPHRD: Range<usize> = 8..10;
        pub const PACKET_TYPE: usize = 10;
        pub const ADDR_LEN: usize = 11;
        pub const ADDR: Range<usize> = 12..20;
        pub const PAYLOAD: usize = 20;
    }
}

/// Length of an SLL header.
pub const SLL_HEADER_LEN: usize = field::v1::PAYLOAD;

/// Length of an SLL2 header.
pub const SLL2_HEADER_LEN: usize = field::v2::PAYLOAD;

/// Protocol value for Novell raw 802.3 frames (no LLC header).
pub const PROTOCOL_8023: u16 = 0x0001;

/// Protocol value for 802.2 LLC frames (the payload starts with an LLC header).
pub const PROTOCOL_8022: u16 = 0x0004;

/// Capacity of the link-address field.
const ADDR_CAPACITY: usize = 8;

/// Length of an Ethernet address.
const MAC_LEN: usize = 6;

/// A view of a Linux cooked header, version 1 or 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
    version2: bool,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps an SLL (version 1) frame after checking its header length.
    pub fn new_checked_v1(buffer: T) -> Result<Self, CheckError> {
        if buffer.as_ref().len() < SLL_HEADER_LEN {
            return Err(CheckError::Truncated);
        }
        Ok(Self {
            buffer,
            version2: false,
        })
    }

    /// Wraps an SLL2 (version 2) frame after checking its header length.
    pub fn new_checked_v2(buffer: T) -> Result<Self, CheckError> {
        if buffer.as_ref().len() < SLL2_HEADER_LEN {
            return Err(CheckError::Truncated);
        }
        Ok(Self {
            buffer,
            version2: true,
        })
    }

    /// Length of this header.
    pub fn header_len(&self) -> usize {
        if self.version2 {
            SLL2_HEADER_LEN
        } else {
            SLL_HEADER_LEN
        }
    }

    /// Packet type: 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us.
    pub fn packet_type(&self) -> u16 {
        let data = self.buffer.as_ref();
        if self.version2 {
            u16::from(data[field::v2::PACKET_TYPE])
        } else {
            read_u16(&data[field::v1::PACKET_TYPE])
        }
    }

    /// ARPHRD_* link-layer device type (1 = Ethernet).
    pub fn arphrd(&self) -> u16 {
        let data = self.buffer.as_ref();
        if self.version2 {
            read_u16(&data[field::v2::ARPHRD])
        } else {
            read_u16(&data[field::v1::ARPHRD])
        }
    }

    /// Interface index (SLL2 only; 0 for SLL).
    pub fn ifindex(&self) -> u32 {
        if self.version2 {
            read_u32(&self.buffer.as_ref()[field::v2::IFINDEX])
        } else {
            0
        }
    }

    /// Stated length of the link-layer address.
    pub fn addr_len(&self) -> u16 {
        let data = self.buffer.as_ref();
        if self.version2 {
            u16::from(data[field::v2::ADDR_LEN])
        } else {
            read_u16(&data[field::v1::ADDR_LEN])
        }
    }

    /// The sender's link-layer address bytes (at most 8).
    pub fn addr(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        let range = if self.version2 {
            field::v2::ADDR
        } else {
            field::v1::ADDR
        };
        let len = usize::from(self.addr_len()).min(ADDR_CAPACITY);
        &data[range][..len]
    }

    /// The sender's MAC address when the link address is six bytes long.
    pub fn src_mac(&self) -> Option<MacAddr> {
        let addr = self.addr();
        if addr.len() == MAC_LEN {
            MacAddr::from_slice(addr)
        } else {
            None
        }
    }

    /// Protocol: an EtherType, or [`PROTOCOL_8023`] / [`PROTOCOL_8022`].
    pub fn protocol(&self) -> u16 {
        let data = self.buffer.as_ref();
        if self.version2 {
            read_u16(&data[field::v2::PROTOCOL])
        } else {
            read_u16(&data[field::v1::PROTOCOL])
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Header<&'a T> {
    /// Bytes after the cooked header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sll_v1_fields() {
        let bytes = [
            0x00, 0x04, 0x00, 0x01, 0x00, 0x06, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00,
            0x08, 0x00, 0x45,
        ];
        let sll = Header::new_checked_v1(&bytes[..]).expect("16-byte header");
        assert_eq!(sll.packet_type(), 4);
        assert_eq!(sll.arphrd(), 1);
        assert_eq!(
            sll.src_mac(),
            Some(MacAddr([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]))
        );
        assert_eq!(sll.protocol(), 0x0800);
        assert_eq!(sll.payload(), &[0x45]);
    }

    #[test]
    fn sll_v2_fields() {
        let bytes = [
            0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x06, 0x00, 0x11,
            0x22, 0x33, 0x44, 0x55, 0x00, 0x00, 0x60,
        ];
        let sll = Header::new_checked_v2(&bytes[..]).expect("20-byte header");
        assert_eq!(sll.protocol(), 0x86dd);
        assert_eq!(sll.ifindex(), 3);
        assert_eq!(sll.packet_type(), 0);
        assert_eq!(
            sll.src_mac(),
            Some(MacAddr([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]))
        );
        assert_eq!(sll.payload(), &[0x60]);
    }

    #[test]
    fn oversized_address_length_is_capped() {
        let mut bytes = [0u8; 16];
        bytes[5] = 200;
        let sll = Header::new_checked_v1(&bytes[..]).expect("16-byte header");
        assert_eq!(sll.addr().len(), 8);
        assert_eq!(sll.src_mac(), None);
    }

    #[test]
    fn short_headers_are_truncated() {
        assert_eq!(
            Header::new_checked_v1(&[0u8; 15][..]).err(),
            Some(CheckError::Truncated)
        );
        assert_eq!(
            Header::new_checked_v2(&[0u8; 19][..]).err(),
            Some(CheckError::Truncated)
        );
    }
}
