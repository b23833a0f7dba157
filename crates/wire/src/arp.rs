//! ARP packets (RFC 826).
//!
//! The view handles any hardware/protocol address sizes; [`Packet::ethernet_ipv4`]
//! extracts the Ethernet/IPv4 form that gapwatch reports as [`ArpInfo`].

use std::net::Ipv4Addr;

use crate::bytes::{array, read_u16, write_u16};
use crate::{ArpInfo, CheckError, MacAddr};

mod field {
    use core::ops::Range;

    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
    pub const ADDRESSES: usize = 8;
}

/// Length of the fixed part of the header.
pub const FIXED_LEN: usize = field::ADDRESSES;

/// Length of an Ethernet/IPv4 ARP packet.
pub const ETHERNET_IPV4_LEN: usize = FIXED_LEN + 2 * (6 + 4);

/// Hardware type Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;

/// Protocol type IPv4.
pub const PTYPE_IPV4: u16 = 0x0800;

/// ARP operations; other values kept as `Unknown(n)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Request (1).
    Request,
    /// Reply (2).
    Reply,
    /// Any other operation.
    Unknown(u16),
}

impl From<u16> for Operation {
    fn from(value: u16) -> Self {
        match value {
            1 => Self::Request,
            2 => Self::Reply,
            other => Self::Unknown(other),
        }
    }
}

impl From<Operation> for u16 {
    fn from(value: Operation) -> Self {
        match value {
            Operation::Request => 1,
            Operation::Reply => 2,
            Operation::Unknown(other) => other,
        }
    }
}

/// A view of an ARP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after checking that the fixed header and all four addresses fit.
    pub fn new_checked(buffer: T) -> Result<Self, CheckError> {
        let packet = Self::new_unchecked(buffer);
        let len = packet.buffer.as_ref().len();
        if len < FIXED_LEN || len < packet.total_len() {
            return Err(CheckError::Truncated);
        }
        Ok(packet)
    }

    /// Length of the fixed header plus the four addresses it announces.
    fn total_len(&self) -> usize {
        let data = self.buffer.as_ref();
        FIXED_LEN + 2 * (usize::from(data[field::HLEN]) + usize::from(data[field::PLEN]))
    }

    /// Hardware type.
    pub fn hardware_type(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::HTYPE])
    }

    /// Protocol type.
    pub fn protocol_type(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::PTYPE])
    }

    /// Hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// Protocol address length.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// Operation.
    pub fn operation(&self) -> Operation {
        Operation::from(read_u16(&self.buffer.as_ref()[field::OPER]))
    }

    /// Address `index` in wire order: sender hardware, sender protocol, target
    /// hardware, target protocol.
    fn address(&self, index: usize) -> &[u8] {
        let hlen = usize::from(self.hardware_len());
        let plen = usize::from(self.protocol_len());
        let pair = hlen + plen;
        let (start, len) = match index {
            0 => (field::ADDRESSES, hlen),
            1 => (field::ADDRESSES + hlen, plen),
            2 => (field::ADDRESSES + pair, hlen),
            _ => (field::ADDRESSES + pair + hlen, plen),
        };
        &self.buffer.as_ref()[start..start + len]
    }

    /// Sender hardware address.
    pub fn sender_hardware_addr(&self) -> &[u8] {
        self.address(0)
    }

    /// Sender protocol address.
    pub fn sender_protocol_addr(&self) -> &[u8] {
        self.address(1)
    }

    /// Target hardware address.
    pub fn target_hardware_addr(&self) -> &[u8] {
        self.address(2)
    }

    /// Target protocol address.
    pub fn target_protocol_addr(&self) -> &[u8] {
        self.address(3)
    }

    /// The Ethernet/IPv4 summary; `None` for other hardware or protocol types.
    pub fn ethernet_ipv4(&self) -> Option<ArpInfo> {
        if self.hardware_type() != HTYPE_ETHERNET
            || self.protocol_type() != PTYPE_IPV4
            || self.hardware_len() != 6
            || self.protocol_len() != 4
        {
            return None;
        }
        Some(ArpInfo {
            operation: u16::from(self.operation()),
            sender_mac: MacAddr(array(self.sender_hardware_addr())),
            sender_ip: Ipv4Addr::from(array::<4>(self.sender_protocol_addr())),
            target_mac: MacAddr(array(self.target_hardware_addr())),
            target_ip: Ipv4Addr::from(array::<4>(self.target_protocol_addr())),
        })
    }
}

/// Writes an Ethernet/IPv4 ARP packet into the first [`ETHERNET_IPV4_LEN`] bytes of `out`.
///
/// Panics if `out` is shorter; emitters are for building test frames.
pub fn emit_ethernet_ipv4(info: &ArpInfo, out: &mut [u8]) {
    let out = &mut out[..ETHERNET_IPV4_LEN];
    write_u16(&mut out[field::HTYPE], HTYPE_ETHERNET);
    write_u16(&mut out[field::PTYPE], PTYPE_IPV4);
    out[field::HLEN] = 6;
    out[field::PLEN] = 4;
    write_u16(&mut out[field::OPER], info.operation);
    let addrs = &mut out[field::ADDRESSES..];
    addrs[0..6].copy_from_slice(&info.sender_mac.0);
    addrs[6..10].copy_from_slice(&info.sender_ip.octets());
    addrs[10..16].copy_from_slice(&info.target_mac.0);
    addrs[16..20].copy_from_slice(&info.target_ip.octets());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ArpInfo {
        ArpInfo {
            operation: 1,
            sender_mac: MacAddr([0, 0x1b, 0x1b, 1, 2, 3]),
            sender_ip: Ipv4Addr::new(10, 0, 0, 1),
            target_mac: MacAddr::default(),
            target_ip: Ipv4Addr::new(10, 0, 0, 2),
        }
    }

    #[test]
    fn emit_parse_round_trip() {
        let mut bytes = [0u8; ETHERNET_IPV4_LEN];
        emit_ethernet_ipv4(&sample(), &mut bytes);
        let packet = Packet::new_checked(&bytes[..]).expect("complete packet");
        assert_eq!(packet.operation(), Operation::Request);
        assert_eq!(packet.ethernet_ipv4(), Some(sample()));
    }

    #[test]
    fn other_hardware_type_has_no_summary() {
        let mut bytes = [0u8; ETHERNET_IPV4_LEN];
        emit_ethernet_ipv4(&sample(), &mut bytes);
        bytes[1] = 6;
        let packet = Packet::new_checked(&bytes[..]).expect("complete packet");
        assert_eq!(packet.ethernet_ipv4(), None);
    }

    #[test]
    fn every_short_prefix_is_truncated() {
        let mut bytes = [0u8; ETHERNET_IPV4_LEN];
        emit_ethernet_ipv4(&sample(), &mut bytes);
        for len in 0..ETHERNET_IPV4_LEN {
            assert_eq!(
                Packet::new_checked(&bytes[..len]).err(),
                Some(CheckError::Truncated)
            );
        }
    }
}
