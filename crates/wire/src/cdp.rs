//! CDP (Cisco Discovery Protocol) parsing: the payload after the LLC/SNAP header with
//! OUI 00:00:0c and protocol 0x2000.
//!
//! A 4-byte header (version, TTL, checksum) is followed by type/length/value records whose
//! length includes their own 4-byte header. [`parse`] borrows every string from the frame.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::bytes::{array, read_u16, read_u32};
use crate::{AddrList, Text};

mod field {
    use core::ops::Range;

    pub const VERSION: usize = 0;
    pub const TTL: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const TLVS: usize = 4;

    pub const TLV_TYPE: Range<usize> = 0..2;
    pub const TLV_LENGTH: Range<usize> = 2..4;
    pub const TLV_VALUE: usize = 4;

    /// Address list: a 32-bit count, then entries of protocol type, protocol length,
    /// protocol, 16-bit address length, address.
    pub const ADDR_COUNT: Range<usize> = 0..4;
    pub const ADDR_ENTRIES: usize = 4;
}

/// TLV type numbers.
pub mod tlv {
    /// Device id.
    pub const DEVICE_ID: u16 = 0x0001;
    /// Addresses.
    pub const ADDRESSES: u16 = 0x0002;
    /// Port id.
    pub const PORT_ID: u16 = 0x0003;
    /// Capabilities.
    pub const CAPABILITIES: u16 = 0x0004;
    /// Software version.
    pub const SOFTWARE_VERSION: u16 = 0x0005;
    /// Platform.
    pub const PLATFORM: u16 = 0x0006;
    /// VTP management domain.
    pub const VTP_DOMAIN: u16 = 0x0009;
    /// Native VLAN.
    pub const NATIVE_VLAN: u16 = 0x000a;
    /// Management addresses.
    pub const MANAGEMENT_ADDRESSES: u16 = 0x0016;
}

/// Capability bits.
pub mod caps {
    /// Router.
    pub const ROUTER: u32 = 0x01;
    /// Transparent bridge.
    pub const TRANSPARENT_BRIDGE: u32 = 0x02;
    /// Source-route bridge.
    pub const SOURCE_ROUTE_BRIDGE: u32 = 0x04;
    /// Switch.
    pub const SWITCH: u32 = 0x08;
    /// Host.
    pub const HOST: u32 = 0x10;
    /// IGMP capable.
    pub const IGMP: u32 = 0x20;
    /// Repeater.
    pub const REPEATER: u32 = 0x40;
    /// VoIP phone.
    pub const PHONE: u32 = 0x80;
}

/// NLPID protocol type with one byte 0xcc means IPv4.
const PROTO_TYPE_NLPID: u8 = 1;
const NLPID_IPV4: u8 = 0xcc;
/// 802.2 protocol type; an LLC/SNAP header naming EtherType 0x86dd means IPv6.
const PROTO_TYPE_8022: u8 = 2;
const LLC_IPV6: [u8; 8] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x86, 0xdd];

/// Cap on address entries walked per TLV; real devices send one or two.
const MAX_ADDRESS_ENTRIES: u32 = 64;

/// Why a CDP message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CdpError {
    /// Shorter than the 4-byte header.
    Truncated,
    /// A version other than 1 or 2.
    BadVersion(u8),
    /// A TLV whose length is shorter than its own header.
    BadTlvLength {
        /// The TLV's type.
        tlv_type: u16,
    },
}

impl fmt::Display for CdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("CDP message shorter than its header"),
            Self::BadVersion(v) => write!(f, "CDP version {v} is not 1 or 2"),
            Self::BadTlvLength { tlv_type } => {
                write!(f, "CDP TLV {tlv_type:#06x} has a bad length")
            }
        }
    }
}

impl std::error::Error for CdpError {}

/// What a CDP message says about its sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CdpInfo<'a> {
    /// Protocol version (1 or 2).
    pub version: u8,
    /// Hold time in seconds.
    pub ttl: u8,
    /// Checksum as written (not verified: devices compute it inconsistently).
    pub checksum: u16,
    /// Device id (usually the host name).
    pub device_id: Option<Text<'a>>,
    /// Addresses of the interface that sent the message.
    pub addresses: AddrList,
    /// Port id (the sending interface's name).
    pub port_id: Option<Text<'a>>,
    /// Capability bits (see [`caps`]).
    pub capabilities: Option<u32>,
    /// Software version text.
    pub software_version: Option<Text<'a>>,
    /// Platform (hardware model).
    pub platform: Option<Text<'a>>,
    /// VTP management domain.
    pub vtp_domain: Option<Text<'a>>,
    /// Native VLAN of the sending port.
    pub native_vlan: Option<u16>,
    /// Management addresses.
    pub management_addresses: AddrList,
    /// The message was cut short inside a TLV.
    pub truncated: bool,
}

/// Parses a CDP message.
pub fn parse(data: &[u8]) -> Result<CdpInfo<'_>, CdpError> {
    let (Some(&version), Some(&ttl), Some(checksum)) = (
        data.get(field::VERSION),
        data.get(field::TTL),
        data.get(field::CHECKSUM),
    ) else {
        return Err(CdpError::Truncated);
    };
    if !(1..=2).contains(&version) {
        return Err(CdpError::BadVersion(version));
    }
    let mut info = CdpInfo {
        version,
        ttl,
        checksum: read_u16(checksum),
        device_id: None,
        addresses: AddrList::default(),
        port_id: None,
        capabilities: None,
        software_version: None,
        platform: None,
        vtp_domain: None,
        native_vlan: None,
        management_addresses: AddrList::default(),
        truncated: false,
    };
    let mut rest = &data[field::TLVS..];
    while !rest.is_empty() {
        let (Some(tlv_type), Some(len)) = (rest.get(field::TLV_TYPE), rest.get(field::TLV_LENGTH))
        else {
            info.truncated = true;
            break;
        };
        let tlv_type = read_u16(tlv_type);
        let len = usize::from(read_u16(len));
        if len < field::TLV_VALUE {
            return Err(CdpError::BadTlvLength { tlv_type });
        }
        let Some(value) = rest.get(field::TLV_VALUE..len) else {
            info.truncated = true;
            break;
        };
        rest = &rest[len..];
        match tlv_type {
            tlv::DEVICE_ID => info.device_id = Some(Text(value)),
            tlv::ADDRESSES => addresses(value, &mut info.addresses),
            tlv::PORT_ID => info.port_id = Some(Text(value)),
            tlv::CAPABILITIES => {
                info.capabilities = value.get(0..4).map(read_u32);
            }
            tlv::SOFTWARE_VERSION => info.software_version = Some(Text(value)),
            tlv::PLATFORM => info.platform = Some(Text(value)),
            tlv::VTP_DOMAIN => info.vtp_domain = Some(Text(value)),
            tlv::NATIVE_VLAN => info.native_vlan = value.get(0..2).map(read_u16),
            tlv::MANAGEMENT_ADDRESSES => addresses(value, &mut info.management_addresses),
            _ => {}
        }
    }
    Ok(info)
}

/// Collects the IPv4/IPv6 entries of an address TLV; a malformed entry ends the list.
fn addresses(value: &[u8], out: &mut AddrList) {
    let Some(count) = value.get(field::ADDR_COUNT).map(read_u32) else {
        return;
    };
    let mut rest = value.get(field::ADDR_ENTRIES..).unwrap_or(&[]);
    for _ in 0..count.min(MAX_ADDRESS_ENTRIES) {
        let (Some(&proto_type), Some(&proto_len)) = (rest.first(), rest.get(1)) else {
            return;
        };
        let proto_end = 2 + usize::from(proto_len);
        let (Some(protocol), Some(addr_len)) =
            (rest.get(2..proto_end), rest.get(proto_end..proto_end + 2))
        else {
            return;
        };
        let addr_start = proto_end + 2;
        let addr_end = addr_start + usize::from(read_u16(addr_len));
        let Some(addr) = rest.get(addr_start..addr_end) else {
            return;
        };
        match (proto_type, protocol, addr.len()) {
            (PROTO_TYPE_NLPID, [NLPID_IPV4], 4) => {
                out.push(IpAddr::V4(Ipv4Addr::from(array::<4>(addr))));
            }
            (PROTO_TYPE_8022, p, 16) if p == LLC_IPV6 => {
                out.push(IpAddr::V6(Ipv6Addr::from(array::<16>(addr))));
            }
            _ => {}
        }
        rest = &rest[addr_end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::CdpBuilder;

    fn full() -> Vec<u8> {
        CdpBuilder::new()
            .device_id("sw-cell-1.plant.local")
            .addresses(&[
                IpAddr::V4(Ipv4Addr::new(10, 10, 0, 2)),
                "fd00::2".parse().expect("literal address"),
            ])
            .port_id("GigabitEthernet1/0/7")
            .capabilities(caps::SWITCH | caps::IGMP)
            .software_version("Cisco IOS Software, C2960 Software, Version 15.0(2)SE")
            .platform("cisco WS-C2960-24TT-L")
            .native_vlan(20)
            .management_addresses(&[IpAddr::V4(Ipv4Addr::new(10, 10, 0, 2))])
            .tlv(0x000b, &[1])
            .build()
    }

    #[test]
    fn every_field_of_a_full_message() {
        let bytes = full();
        let info = parse(&bytes).expect("valid CDP");
        assert_eq!((info.version, info.ttl), (2, 180));
        assert_eq!(
            info.device_id.and_then(|t| t.as_str()),
            Some("sw-cell-1.plant.local")
        );
        assert_eq!(
            info.port_id.and_then(|t| t.as_str()),
            Some("GigabitEthernet1/0/7")
        );
        assert_eq!(info.capabilities, Some(caps::SWITCH | caps::IGMP));
        assert_eq!(
            info.platform.and_then(|t| t.as_str()),
            Some("cisco WS-C2960-24TT-L")
        );
        assert!(info.software_version.is_some());
        assert_eq!(info.native_vlan, Some(20));
        assert_eq!(info.addresses.len(), 2);
        assert_eq!(
            info.addresses.as_slice()[0],
            IpAddr::V4(Ipv4Addr::new(10, 10, 0, 2))
        );
        assert!(info.addresses.as_slice()[1].is_ipv6());
        assert_eq!(info.management_addresses.len(), 1);
        assert!(!info.truncated);
    }

    #[test]
    fn cut_at_every_offset_never_panics() {
        let bytes = full();
        for cut in 0..bytes.len() {
            match parse(&bytes[..cut]) {
                Ok(info) => {
                    // CDP has no end marker: a cut at a TLV boundary looks complete, but
                    // every TLV before the cut is kept.
                    let device_tlv_end = 4 + 4 + "sw-cell-1.plant.local".len();
                    assert_eq!(info.device_id.is_some(), cut >= device_tlv_end, "cut {cut}");
                }
                Err(e) => assert_eq!(e, CdpError::Truncated, "cut {cut}"),
            }
        }
    }

    #[test]
    fn bad_version_and_tlv_length() {
        let mut bytes = full();
        bytes[0] = 3;
        assert_eq!(parse(&bytes), Err(CdpError::BadVersion(3)));
        let bytes = [2u8, 180, 0, 0, 0, 1, 0, 2];
        assert_eq!(parse(&bytes), Err(CdpError::BadTlvLength { tlv_type: 1 }));
    }

    #[test]
    fn absurd_address_count_is_bounded() {
        let mut value = u32::MAX.to_be_bytes().to_vec();
        value.extend_from_slice(&[1, 1, 0xcc, 0, 4, 10, 0, 0, 1]);
        let bytes = CdpBuilder::new().tlv(tlv::ADDRESSES, &value).build();
        let info = parse(&bytes).expect("valid CDP");
        assert_eq!(info.addresses.len(), 1);
    }
}
