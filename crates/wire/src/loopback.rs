//! BSD loopback headers: `LINKTYPE_NULL` (address family in the capturing host's byte
//! order) and `LINKTYPE_LOOP` (OpenBSD, always big-endian).
//!
//! The capturing host's byte order is unknown to a reader, so for `NULL` both readings
//! are tried; the family values are small, so at most one reading is plausible.

use crate::bytes::array;
use crate::CheckError;

mod field {
    use core::ops::Range;

    pub const FAMILY: Range<usize> = 0..4;
    pub const PAYLOAD: usize = 4;
}

/// Length of the loopback header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// `AF_INET` on every BSD.
pub const AF_INET: u32 = 2;

/// `AF_INET6` on NetBSD and OpenBSD.
pub const AF_INET6_BSD: u32 = 24;

/// `AF_INET6` on FreeBSD and DragonFly.
pub const AF_INET6_FREEBSD: u32 = 28;

/// `AF_INET6` on macOS.
pub const AF_INET6_DARWIN: u32 = 30;

/// The network protocol a loopback header announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4.
    Ipv4,
    /// IPv6 (any of the BSD `AF_INET6` values).
    Ipv6,
    /// Any other family value (as read in the first plausible byte order).
    Unknown(u32),
}

impl Family {
    /// Classifies one address-family value.
    pub fn from_value(value: u32) -> Self {
        match value {
            AF_INET => Self::Ipv4,
            AF_INET6_BSD | AF_INET6_FREEBSD | AF_INET6_DARWIN => Self::Ipv6,
            other => Self::Unknown(other),
        }
    }
}

/// A view of a loopback header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps a buffer after checking that the four-byte header is present.
    pub fn new_checked(buffer: T) -> Result<Self, CheckError> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(CheckError::Truncated);
        }
        Ok(Self { buffer })
    }

    fn family_bytes(&self) -> [u8; 4] {
        array(&self.buffer.as_ref()[field::FAMILY])
    }

    /// The family of a `LINKTYPE_NULL` header, accepting either byte order.
    pub fn family_host_order(&self) -> Family {
        let bytes = self.family_bytes();
        match Family::from_value(u32::from_le_bytes(bytes)) {
            Family::Unknown(_) => Family::from_value(u32::from_be_bytes(bytes)),
            known => known,
        }
    }

    /// The family of a `LINKTYPE_LOOP` header (big-endian).
    pub fn family_big_endian(&self) -> Family {
        Family::from_value(u32::from_be_bytes(self.family_bytes()))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Header<&'a T> {
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_accepts_both_byte_orders() {
        let le = Header::new_checked(&[2u8, 0, 0, 0][..]).expect("four bytes");
        let be = Header::new_checked(&[0u8, 0, 0, 2][..]).expect("four bytes");
        assert_eq!(le.family_host_order(), Family::Ipv4);
        assert_eq!(be.family_host_order(), Family::Ipv4);
        for v6 in [24u8, 28, 30] {
            let h = Header::new_checked([v6, 0, 0, 0]).expect("four bytes");
            assert_eq!(h.family_host_order(), Family::Ipv6);
        }
    }

    #[test]
    fn loop_is_big_endian_only() {
        let be = Header::new_checked(&[0u8, 0, 0, 24][..]).expect("four bytes");
        assert_eq!(be.family_big_endian(), Family::Ipv6);
        let le = Header::new_checked(&[24u8, 0, 0, 0][..]).expect("four bytes");
        assert_eq!(le.family_big_endian(), Family::Unknown(0x1800_0000));
    }

    #[test]
    fn short_header_is_truncated() {
        assert_eq!(
            Header::new_checked(&[2u8, 0, 0][..]).err(),
            Some(CheckError::Truncated)
        );
    }
}
