//! Ethernet II and IEEE 802.3 frame headers.
//!
//! The two framings share one header: destination, source, and a 16-bit field that is an
//! EtherType when at least 0x0600 and an 802.3 payload length when at most 1500. Length
//! frames carry an LLC header next (see [`crate::llc`]).

use crate::bytes::{array, read_u16, write_u16};
use crate::{CheckError, MacAddr};

mod field {
    use core::ops::Range;

    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const TYPE_OR_LENGTH: Range<usize> = 12..14;
    pub const PAYLOAD: usize = 14;
}

/// Length of the Ethernet header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// Largest type/length value that is an 802.3 payload length.
pub const MAX_8023_LENGTH: u16 = 1500;

/// Smallest type/length value that is an EtherType.
pub const MIN_ETHERTYPE: u16 = 0x0600;

/// EtherTypes gapwatch decodes or names; any other value is kept as `Unknown(n)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EtherType {
    /// IPv4 (0x0800).
    Ipv4,
    /// ARP (0x0806).
    Arp,
    /// 802.1Q customer VLAN tag (0x8100).
    Vlan,
    /// IPv6 (0x86dd).
    Ipv6,
    /// 802.1ad service VLAN tag (0x88a8).
    QinQ,
    /// Pre-standard Q-in-Q tag (0x9100).
    QinQLegacy,
    /// LLDP (0x88cc).
    Lldp,
    /// Profinet real-time (0x8892).
    Profinet,
    /// IEC 61850 GOOSE (0x88b8).
    Goose,
    /// IEC 61850 sampled values (0x88ba).
    SampledValues,
    /// Any other value.
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(value: u16) -> Self {
        match value {
            0x0800 => Self::Ipv4,
            0x0806 => Self::Arp,
            0x8100 => Self::Vlan,
            0x86dd => Self::Ipv6,
            0x88a8 => Self::QinQ,
            0x9100 => Self::QinQLegacy,
            0x88cc => Self::Lldp,
            0x8892 => Self::Profinet,
            0x88b8 => Self::Goose,
            0x88ba => Self::SampledValues,
            other => Self::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(value: EtherType) -> Self {
        match value {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Vlan => 0x8100,
            EtherType::Ipv6 => 0x86dd,
            EtherType::QinQ => 0x88a8,
            EtherType::QinQLegacy => 0x9100,
            EtherType::Lldp => 0x88cc,
            EtherType::Profinet => 0x8892,
            EtherType::Goose => 0x88b8,
            EtherType::SampledValues => 0x88ba,
            EtherType::Unknown(other) => other,
        }
    }
}

impl std::fmt::Display for EtherType {
    /// Lower-case protocol name, or `unknown-0x<hex>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::Ipv4 => "ipv4",
            Self::Arp => "arp",
            Self::Vlan => "vlan",
            Self::Ipv6 => "ipv6",
            Self::QinQ => "qinq",
            Self::QinQLegacy => "qinq-9100",
            Self::Lldp => "lldp",
            Self::Profinet => "profinet",
            Self::Goose => "goose",
            Self::SampledValues => "sv",
            Self::Unknown(n) => return write!(f, "unknown-0x{n:04x}"),
        };
        f.write_str(name)
    }
}

impl EtherType {
    /// True for the EtherTypes that introduce a VLAN tag (0x8100, 0x88a8, 0x9100).
    pub fn is_vlan(self) -> bool {
        matches!(self, Self::Vlan | Self::QinQ | Self::QinQLegacy)
    }
}

/// A read/write view of an Ethernet frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking its length; getters may panic on a short buffer.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after checking that the whole header is present.
    pub fn new_checked(buffer: T) -> Result<Self, CheckError> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks that the header fits in the buffer.
    pub fn check_len(&self) -> Result<(), CheckError> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(CheckError::Truncated)
        } else {
            Ok(())
        }
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Destination address.
    pub fn dst_addr(&self) -> MacAddr {
        MacAddr(array(&self.buffer.as_ref()[field::DESTINATION]))
    }

    /// Source address.
    pub fn src_addr(&self) -> MacAddr {
        MacAddr(array(&self.buffer.as_ref()[field::SOURCE]))
    }

    /// The raw type/length field.
    pub fn type_or_length(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::TYPE_OR_LENGTH])
    }

    /// The EtherType, or `None` for an 802.3 length frame.
    pub fn ethertype(&self) -> Option<EtherType> {
        let value = self.type_or_length();
        (value >= MIN_ETHERTYPE).then(|| EtherType::from(value))
    }

    /// The 802.3 payload length, or `None` for an Ethernet II frame.
    pub fn length(&self) -> Option<u16> {
        let value = self.type_or_length();
        (value <= MAX_8023_LENGTH).then_some(value)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Frame<&'a T> {
    /// Everything after the header, including any trailing padding.
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&addr.0);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&addr.0);
    }

    /// Sets the type/length field.
    pub fn set_type_or_length(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::TYPE_OR_LENGTH], value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: [u8; 16] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x1b, 0x1b, 0x01, 0x02, 0x03, 0x08, 0x06, 0xaa,
        0xbb,
    ];

    #[test]
    fn ethernet_ii_fields() {
        let frame = Frame::new_checked(&FRAME[..]).expect("16 bytes hold the header");
        assert_eq!(frame.dst_addr(), MacAddr::BROADCAST);
        assert_eq!(frame.src_addr(), MacAddr([0x00, 0x1b, 0x1b, 1, 2, 3]));
        assert_eq!(frame.ethertype(), Some(EtherType::Arp));
        assert_eq!(frame.length(), None);
        assert_eq!(frame.payload(), &[0xaa, 0xbb]);
    }

    #[test]
    fn length_frame_has_no_ethertype() {
        let mut bytes = FRAME;
        let mut frame = Frame::new_unchecked(&mut bytes[..]);
        frame.set_type_or_length(38);
        let frame = Frame::new_checked(&bytes[..]).expect("header present");
        assert_eq!(frame.ethertype(), None);
        assert_eq!(frame.length(), Some(38));
    }

    #[test]
    fn short_buffer_is_truncated() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                Frame::new_checked(&FRAME[..len]).err(),
                Some(CheckError::Truncated)
            );
        }
    }

    #[test]
    fn ethertype_display() {
        assert_eq!(EtherType::from(0x88cc).to_string(), "lldp");
        assert_eq!(EtherType::from(0x88b5).to_string(), "unknown-0x88b5");
    }

    #[test]
    fn ethertype_round_trips() {
        for value in [
            0x0800u16, 0x0806, 0x8100, 0x86dd, 0x88a8, 0x9100, 0x88cc, 0x1234,
        ] {
            assert_eq!(u16::from(EtherType::from(value)), value);
        }
    }
}
