//! TCP headers (RFC 9293).
//!
//! The checked constructor validates the data offset against the minimum header and the
//! captured bytes. Options are skipped; gapwatch needs ports, sequence numbers, flags and
//! the payload.

use crate::bytes::{checksum_add, checksum_finish, read_u16, read_u32, write_u16, write_u32};
use crate::{CheckError, TcpFlags};

mod field {
    use core::ops::Range;

    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ: Range<usize> = 4..8;
    pub const ACK: Range<usize> = 8..12;
    pub const OFFSET_FLAGS: Range<usize> = 12..14;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
    pub const OPTIONS: usize = 20;
}

/// Length of a header without options.
pub const MIN_HEADER_LEN: usize = field::OPTIONS;

/// The nine flag bits (NS through FIN) of the offset/flags field.
const FLAGS_MASK: u16 = 0x01ff;

/// A view of a TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after checking the fixed header, the data offset's minimum and that
    /// the header with options is present.
    pub fn new_checked(buffer: T) -> Result<Self, CheckError> {
        let packet = Self::new_unchecked(buffer);
        let len = packet.buffer.as_ref().len();
        if len < MIN_HEADER_LEN {
            return Err(CheckError::Truncated);
        }
        let header_len = packet.header_len();
        if header_len < MIN_HEADER_LEN {
            return Err(CheckError::BadLength);
        }
        if len < header_len {
            return Err(CheckError::Truncated);
        }
        Ok(packet)
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::SRC_PORT])
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::DST_PORT])
    }

    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        read_u32(&self.buffer.as_ref()[field::SEQ])
    }

    /// Acknowledgement number.
    pub fn ack_number(&self) -> u32 {
        read_u32(&self.buffer.as_ref()[field::ACK])
    }

    /// Header length in bytes (data offset * 4).
    pub fn header_len(&self) -> usize {
        usize::from(read_u16(&self.buffer.as_ref()[field::OFFSET_FLAGS]) >> 12) * 4
    }

    /// Flag bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(read_u16(&self.buffer.as_ref()[field::OFFSET_FLAGS]) & FLAGS_MASK)
    }

    /// Window (unscaled).
    pub fn window(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::WINDOW])
    }

    /// Checksum as written.
    pub fn checksum(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::URGENT])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// Bytes after the header (options skipped).
    pub fn payload(&self) -> &'a [u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }

    /// Header option bytes.
    pub fn options(&self) -> &'a [u8] {
        self.buffer
            .as_ref()
            .get(field::OPTIONS..self.header_len())
            .unwrap_or(&[])
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

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, value: u32) {
        write_u32(&mut self.buffer.as_mut()[field::SEQ], value);
    }

    /// Sets the acknowledgement number.
    pub fn set_ack_number(&mut self, value: u32) {
        write_u32(&mut self.buffer.as_mut()[field::ACK], value);
    }

    /// Sets the header length (a multiple of 4) and the flags.
    pub fn set_header_len_and_flags(&mut self, header_len: usize, flags: TcpFlags) {
        let value = (((header_len / 4) as u16) << 12) | (flags.0 & FLAGS_MASK);
        write_u16(&mut self.buffer.as_mut()[field::OFFSET_FLAGS], value);
    }

    /// Sets the window.
    pub fn set_window(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::WINDOW], value);
    }

    /// Computes the checksum over the whole buffer (header and payload) starting from a
    /// pseudo-header partial sum.
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
    fn emit_parse_round_trip_with_options() {
        let mut bytes = [0u8; 27];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_src_port(502);
        p.set_dst_port(49152);
        p.set_seq_number(1);
        p.set_ack_number(0xffff_ffff);
        p.set_header_len_and_flags(24, TcpFlags(TcpFlags::SYN | TcpFlags::ACK));
        p.set_window(8192);
        let p = Packet::new_checked(&bytes[..]).expect("valid header");
        assert_eq!((p.src_port(), p.dst_port()), (502, 49152));
        assert_eq!((p.seq_number(), p.ack_number()), (1, 0xffff_ffff));
        assert!(p.flags().has(TcpFlags::SYN | TcpFlags::ACK));
        assert!(!p.flags().has(TcpFlags::FIN));
        assert_eq!(p.window(), 8192);
        assert_eq!(p.options().len(), 4);
        assert_eq!(p.payload().len(), 3);
    }

    #[test]
    fn bad_data_offset_and_truncation() {
        let mut bytes = [0u8; 20];
        bytes[12] = 0x40;
        assert_eq!(
            Packet::new_checked(&bytes[..]).err(),
            Some(CheckError::BadLength)
        );
        bytes[12] = 0x60;
        assert_eq!(
            Packet::new_checked(&bytes[..]).err(),
            Some(CheckError::Truncated)
        );
        assert_eq!(
            Packet::new_checked(&bytes[..19]).err(),
            Some(CheckError::Truncated)
        );
    }
}
