//! UDP headers (RFC 768).

use crate::bytes::{checksum_add, checksum_finish, read_u16, write_u16};
use crate::CheckError;

mod field {
    use core::ops::Range;

    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
    pub const PAYLOAD: usize = 8;
}

/// Length of the UDP header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A view of a UDP datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after checking that the header is present. The length field is not
    /// checked here; see [`Packet::length`].
    pub fn new_checked(buffer: T) -> Result<Self, CheckError> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(CheckError::Truncated);
        }
        Ok(Self { buffer })
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::SRC_PORT])
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::DST_PORT])
    }

    /// Length field (header plus payload; 0 in IPv6 jumbograms).
    pub fn length(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// Checksum as written.
    pub fn checksum(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// Bytes after the header, up to the length field when it is plausible (at least the
    /// header, at most the buffer).
    pub fn payload(&self) -> &'a [u8] {
        let data = self.buffer.as_ref();
        let stated = usize::from(self.length());
        let end = if stated >= HEADER_LEN && stated <= data.len() {
            stated
        } else {
            data.len()
        };
        &data[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::SRC_PORT], value);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::DST_PORT], value);
    }

    /// Sets the length field.
    pub fn set_length(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::LENGTH], value);
    }

    /// Computes the checksum over the whole buffer starting from a pseudo-header sum.
    pub fn fill_checksum(&mut self, pseudo_header_sum: u32) {
        write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], 0);
        let mut sum = checksum_finish(checksum_add(pseudo_header_sum, self.buffer.as_ref()));
        // Zero means "no checksum" in UDP, so a computed zero is sent as all ones.
        if sum == 0 {
            sum = 0xffff;
        }
        write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_parse_round_trip() {
        let mut bytes = [0u8; 12];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_src_port(20000);
        p.set_dst_port(53);
        p.set_length(11);
        let p = Packet::new_checked(&bytes[..]).expect("header present");
        assert_eq!((p.src_port(), p.dst_port(), p.length()), (20000, 53, 11));
        assert_eq!(p.payload().len(), 3);
    }

    #[test]
    fn implausible_length_uses_buffer() {
        let mut bytes = [0u8; 12];
        bytes[5] = 4;
        let p = Packet::new_checked(&bytes[..]).expect("header present");
        assert_eq!(p.payload().len(), 4);
    }

    #[test]
    fn short_header_is_truncated() {
        assert_eq!(
            Packet::new_checked(&[0u8; 7][..]).err(),
            Some(CheckError::Truncated)
        );
    }
}
