//! ICMP (RFC 792) and ICMPv6 (RFC 4443) headers: type, code, checksum, then the body.

use crate::bytes::{checksum_add, checksum_finish, read_u16, write_u16};
use crate::CheckError;

mod field {
    use core::ops::Range;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const BODY: usize = 4;
}

/// Length of the common ICMP header.
pub const HEADER_LEN: usize = field::BODY;

/// A view of an ICMP or ICMPv6 message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after checking that the four-byte header is present.
    pub fn new_checked(buffer: T) -> Result<Self, CheckError> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(CheckError::Truncated);
        }
        Ok(Self { buffer })
    }

    /// Message type.
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// Message code.
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Checksum as written.
    pub fn checksum(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// Bytes after the four-byte header.
    pub fn body(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::BODY..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets type and code.
    pub fn set_type_code(&mut self, msg_type: u8, code: u8) {
        let data = self.buffer.as_mut();
        data[field::TYPE] = msg_type;
        data[field::CODE] = code;
    }

    /// Computes the checksum over the whole buffer starting from `pseudo_header_sum`
    /// (0 for ICMPv4, the IPv6 pseudo-header sum for ICMPv6).
    pub fn fill_checksum(&mut self, pseudo_header_sum: u32) {
        write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], 0);
        let sum = checksum_finish(checksum_add(pseudo_header_sum, self.buffer.as_ref()));
        write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_request_round_trip() {
        let mut bytes = [0u8; 8];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_type_code(8, 0);
        p.fill_checksum(0);
        let p = Packet::new_checked(&bytes[..]).expect("header present");
        assert_eq!((p.msg_type(), p.code()), (8, 0));
        assert_eq!(p.checksum(), 0xf7ff);
        assert_eq!(p.body().len(), 4);
    }

    #[test]
    fn short_header_is_truncated() {
        assert_eq!(
            Packet::new_checked(&[8u8, 0, 0][..]).err(),
            Some(CheckError::Truncated)
        );
    }
}
