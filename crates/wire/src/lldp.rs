//! LLDP (IEEE 802.1AB) LLDPDU parsing: the payload of EtherType 0x88cc.
//!
//! [`parse`] walks the TLVs once and borrows every string from the frame. It needs the
//! mandatory chassis id and port id TLVs; a TLV cut short by the capture ends the walk and
//! sets [`LldpInfo::truncated`] while keeping what came before it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::bytes::{array, read_u16};
use crate::{AddrList, MacAddr, Text};

mod field {
    use core::ops::Range;

    /// TLV header: 7-bit type, 9-bit length.
    pub const TLV_HEADER: Range<usize> = 0..2;
    pub const TLV_VALUE: usize = 2;
    pub const TYPE_SHIFT: u16 = 9;
    pub const LENGTH_MASK: u16 = 0x01ff;

    /// Chassis/port id TLV: subtype byte, then the id.
    pub const ID_SUBTYPE: usize = 0;
    pub const ID_VALUE: usize = 1;

    /// System capabilities TLV.
    pub const CAPS_SUPPORTED: Range<usize> = 0..2;
    pub const CAPS_ENABLED: Range<usize> = 2..4;

    /// Management address TLV: string length (covers subtype and address), subtype,
    /// address.
    pub const MGMT_ADDR_LEN: usize = 0;
    pub const MGMT_ADDR_SUBTYPE: usize = 1;
    pub const MGMT_ADDR: usize = 2;

    /// Network-address id: IANA family byte, then the address.
    pub const NETADDR_FAMILY: usize = 0;
    pub const NETADDR: usize = 1;
}

/// TLV type numbers.
pub mod tlv {
    /// End of LLDPDU.
    pub const END: u8 = 0;
    /// Chassis id (mandatory).
    pub const CHASSIS_ID: u8 = 1;
    /// Port id (mandatory).
    pub const PORT_ID: u8 = 2;
    /// Time to live (mandatory).
    pub const TTL: u8 = 3;
    /// Port description.
    pub const PORT_DESCRIPTION: u8 = 4;
    /// System name.
    pub const SYSTEM_NAME: u8 = 5;
    /// System description.
    pub const SYSTEM_DESCRIPTION: u8 = 6;
    /// System capabilities.
    pub const SYSTEM_CAPABILITIES: u8 = 7;
    /// Management address.
    pub const MANAGEMENT_ADDRESS: u8 = 8;
    /// Organisationally specific.
    pub const ORG_SPECIFIC: u8 = 127;
}

/// System capability bits (IEEE 802.1AB table 8-4).
pub mod caps {
    /// Other.
    pub const OTHER: u16 = 0x0001;
    /// Repeater.
    pub const REPEATER: u16 = 0x0002;
    /// MAC bridge.
    pub const BRIDGE: u16 = 0x0004;
    /// WLAN access point.
    pub const WLAN_AP: u16 = 0x0008;
    /// Router.
    pub const ROUTER: u16 = 0x0010;
    /// Telephone.
    pub const TELEPHONE: u16 = 0x0020;
    /// DOCSIS cable device.
    pub const DOCSIS: u16 = 0x0040;
    /// Station only.
    pub const STATION: u16 = 0x0080;
}

/// IANA address family numbers used in network-address ids and management addresses.
const IANA_IPV4: u8 = 1;
const IANA_IPV6: u8 = 2;

/// Chassis id subtype for a MAC address.
const CHASSIS_SUBTYPE_MAC: u8 = 4;
/// Chassis id subtype for a network address.
const CHASSIS_SUBTYPE_NETWORK: u8 = 5;
/// Port id subtype for a MAC address.
const PORT_SUBTYPE_MAC: u8 = 3;
/// Port id subtype for a network address.
const PORT_SUBTYPE_NETWORK: u8 = 4;

/// Why an LLDPDU could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LldpError {
    /// The LLDPDU ended (or was cut) before a mandatory TLV.
    Truncated,
    /// No chassis id TLV.
    MissingChassisId,
    /// No port id TLV.
    MissingPortId,
    /// A TLV's length is impossible for its type.
    BadTlvLength {
        /// The TLV's type.
        tlv_type: u8,
    },
}

impl fmt::Display for LldpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("LLDPDU truncated before its mandatory TLVs"),
            Self::MissingChassisId => f.write_str("LLDPDU has no chassis id"),
            Self::MissingPortId => f.write_str("LLDPDU has no port id"),
            Self::BadTlvLength { tlv_type } => write!(f, "LLDP TLV {tlv_type} has a bad length"),
        }
    }
}

impl std::error::Error for LldpError {}

/// A chassis or port id: a subtype and the id bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Id<'a> {
    /// The id subtype as sent (chassis and port ids number their subtypes differently).
    pub subtype: u8,
    /// The id bytes after the subtype.
    pub value: &'a [u8],
    /// Subtype that means "MAC address" for this kind of id.
    mac_subtype: u8,
    /// Subtype that means "network address" for this kind of id.
    network_subtype: u8,
}

impl<'a> Id<'a> {
    fn chassis(subtype: u8, value: &'a [u8]) -> Self {
        Self {
            subtype,
            value,
            mac_subtype: CHASSIS_SUBTYPE_MAC,
            network_subtype: CHASSIS_SUBTYPE_NETWORK,
        }
    }

    fn port(subtype: u8, value: &'a [u8]) -> Self {
        Self {
            subtype,
            value,
            mac_subtype: PORT_SUBTYPE_MAC,
            network_subtype: PORT_SUBTYPE_NETWORK,
        }
    }

    /// The MAC address when the subtype says MAC and six bytes follow.
    pub fn mac(&self) -> Option<MacAddr> {
        (self.subtype == self.mac_subtype && self.value.len() == 6)
            .then(|| MacAddr(array(self.value)))
    }

    /// The IP address when the subtype says network address.
    pub fn ip(&self) -> Option<IpAddr> {
        if self.subtype != self.network_subtype {
            return None;
        }
        let family = *self.value.get(field::NETADDR_FAMILY)?;
        ip_from(family, self.value.get(field::NETADDR..)?)
    }

    /// The id as text.
    pub fn text(&self) -> Text<'a> {
        Text(self.value)
    }
}

impl fmt::Display for Id<'_> {
    /// MAC ids as `aa:bb:cc:dd:ee:ff`, network addresses as IPs, printable text as is,
    /// anything else as hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(mac) = self.mac() {
            return write!(f, "{mac}");
        }
        if let Some(ip) = self.ip() {
            return write!(f, "{ip}");
        }
        match self.text().as_str() {
            Some(s) if !s.is_empty() && !s.chars().any(char::is_control) => f.write_str(s),
            _ => {
                for b in self.value {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

fn ip_from(family: u8, bytes: &[u8]) -> Option<IpAddr> {
    match (family, bytes.len()) {
        (IANA_IPV4, 4) => Some(IpAddr::V4(Ipv4Addr::from(array::<4>(bytes)))),
        (IANA_IPV6, 16) => Some(IpAddr::V6(Ipv6Addr::from(array::<16>(bytes)))),
        _ => None,
    }
}

/// System capabilities: supported and enabled bit sets (see [`caps`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// Capabilities the system has.
    pub supported: u16,
    /// Capabilities that are turned on.
    pub enabled: u16,
}

/// What an LLDPDU says about its sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LldpInfo<'a> {
    /// Chassis id.
    pub chassis_id: Id<'a>,
    /// Port id.
    pub port_id: Id<'a>,
    /// Time to live in seconds.
    pub ttl: Option<u16>,
    /// Port description.
    pub port_description: Option<Text<'a>>,
    /// System name.
    pub system_name: Option<Text<'a>>,
    /// System description (often vendor, model and firmware).
    pub system_description: Option<Text<'a>>,
    /// System capabilities.
    pub capabilities: Option<Capabilities>,
    /// Management addresses (IPv4/IPv6 only; other families are skipped).
    pub management_addresses: AddrList,
    /// The LLDPDU was cut short before its End TLV.
    pub truncated: bool,
}

/// Parses an LLDPDU (the bytes after EtherType 0x88cc).
pub fn parse(data: &[u8]) -> Result<LldpInfo<'_>, LldpError> {
    let mut chassis_id = None;
    let mut port_id = None;
    let mut info_ttl = None;
    let mut port_description = None;
    let mut system_name = None;
    let mut system_description = None;
    let mut capabilities = None;
    let mut management_addresses = AddrList::default();
    let mut truncated = false;

    let mut rest = data;
    loop {
        let Some(header) = rest.get(field::TLV_HEADER) else {
            // Every LLDPDU ends with an End TLV; running out of bytes first means the
            // capture cut it.
            truncated = true;
            break;
        };
        let header = read_u16(header);
        let tlv_type = (header >> field::TYPE_SHIFT) as u8;
        let len = usize::from(header & field::LENGTH_MASK);
        let Some(value) = rest.get(field::TLV_VALUE..field::TLV_VALUE + len) else {
            truncated = true;
            break;
        };
        rest = &rest[field::TLV_VALUE + len..];
        match tlv_type {
            tlv::END => break,
            tlv::CHASSIS_ID | tlv::PORT_ID => {
                let (Some(&subtype), Some(id)) =
                    (value.get(field::ID_SUBTYPE), value.get(field::ID_VALUE..))
                else {
                    return Err(LldpError::BadTlvLength { tlv_type });
                };
                if tlv_type == tlv::CHASSIS_ID {
                    chassis_id.get_or_insert(Id::chassis(subtype, id));
                } else {
                    port_id.get_or_insert(Id::port(subtype, id));
                }
            }
            tlv::TTL => match value.get(0..2) {
                Some(ttl) => info_ttl = Some(read_u16(ttl)),
                None => return Err(LldpError::BadTlvLength { tlv_type }),
            },
            tlv::PORT_DESCRIPTION => port_description = Some(Text(value)),
            tlv::SYSTEM_NAME => system_name = Some(Text(value)),
            tlv::SYSTEM_DESCRIPTION => system_description = Some(Text(value)),
            tlv::SYSTEM_CAPABILITIES => {
                if let (Some(s), Some(e)) = (
                    value.get(field::CAPS_SUPPORTED),
                    value.get(field::CAPS_ENABLED),
                ) {
                    capabilities = Some(Capabilities {
                        supported: read_u16(s),
                        enabled: read_u16(e),
                    });
                }
            }
            tlv::MANAGEMENT_ADDRESS => {
                if let Some(ip) = management_address(value) {
                    management_addresses.push(ip);
                }
            }
            // Organisation-specific and reserved TLVs carry nothing gapwatch reads here.
            _ => {}
        }
    }

    let missing = |error| {
        if truncated {
            LldpError::Truncated
        } else {
            error
        }
    };
    let chassis_id = chassis_id.ok_or_else(|| missing(LldpError::MissingChassisId))?;
    let port_id = port_id.ok_or_else(|| missing(LldpError::MissingPortId))?;
    Ok(LldpInfo {
        chassis_id,
        port_id,
        ttl: info_ttl,
        port_description,
        system_name,
        system_description,
        capabilities,
        management_addresses,
        truncated,
    })
}

/// The IP address in a management address TLV value, if it is IPv4 or IPv6.
fn management_address(value: &[u8]) -> Option<IpAddr> {
    let string_len = usize::from(*value.get(field::MGMT_ADDR_LEN)?);
    let family = *value.get(field::MGMT_ADDR_SUBTYPE)?;
    // The string length counts the subtype byte too.
    let addr = value.get(field::MGMT_ADDR..field::MGMT_ADDR_SUBTYPE + string_len)?;
    ip_from(family, addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::LldpBuilder;

    const MAC: MacAddr = MacAddr([0x00, 0x0e, 0x8c, 0x12, 0x34, 0x56]);

    fn full() -> Vec<u8> {
        LldpBuilder::new()
            .chassis_mac(MAC)
            .port_name("port-001")
            .ttl(20)
            .port_description("Siemens, SIMATIC NET, Ethernet Port, X1 P1")
            .system_name("plc-line-3")
            .system_description("Siemens, SIMATIC S7, CPU-1500, 6ES7 516-3AN01-0AB0, FW V2.8")
            .capabilities(caps::BRIDGE | caps::STATION, caps::STATION)
            .management_address(IpAddr::V4(Ipv4Addr::new(192, 168, 0, 10)))
            .management_address("fd00::10".parse().expect("literal address"))
            .tlv(tlv::ORG_SPECIFIC, &[0x00, 0x0e, 0xcf, 0x02, 0x00, 0x00])
            .build()
    }

    #[test]
    fn every_field_of_a_full_lldpdu() {
        let bytes = full();
        let info = parse(&bytes).expect("valid LLDPDU");
        assert_eq!(info.chassis_id.mac(), Some(MAC));
        assert_eq!(info.chassis_id.to_string(), "00:0e:8c:12:34:56");
        assert_eq!(info.port_id.subtype, 5);
        assert_eq!(info.port_id.to_string(), "port-001");
        assert_eq!(info.ttl, Some(20));
        assert_eq!(
            info.system_name.and_then(|t| t.as_str()),
            Some("plc-line-3")
        );
        assert!(info
            .system_description
            .and_then(|t| t.as_str())
            .is_some_and(|s| s.contains("CPU-1500")));
        assert!(info.port_description.is_some());
        assert_eq!(
            info.capabilities,
            Some(Capabilities {
                supported: caps::BRIDGE | caps::STATION,
                enabled: caps::STATION
            })
        );
        assert_eq!(info.management_addresses.len(), 2);
        assert_eq!(
            info.management_addresses.as_slice()[0],
            IpAddr::V4(Ipv4Addr::new(192, 168, 0, 10))
        );
        assert!(!info.truncated);
    }

    #[test]
    fn port_mac_and_network_address_ids() {
        let bytes = LldpBuilder::new()
            .chassis(5, &[1, 10, 0, 0, 1])
            .port(3, &MAC.0)
            .ttl(120)
            .build();
        let info = parse(&bytes).expect("valid LLDPDU");
        assert_eq!(
            info.chassis_id.ip(),
            Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        );
        assert_eq!(info.chassis_id.to_string(), "10.0.0.1");
        assert_eq!(info.port_id.mac(), Some(MAC));
        // A chassis subtype 3 is "port component", not MAC: shown as hex.
        let bytes = LldpBuilder::new()
            .chassis(3, &[0, 1])
            .port(7, b"1")
            .ttl(1)
            .build();
        let info = parse(&bytes).expect("valid LLDPDU");
        assert_eq!(info.chassis_id.mac(), None);
        assert_eq!(info.chassis_id.to_string(), "0001");
    }

    #[test]
    fn cut_at_every_offset_never_panics() {
        let bytes = full();
        for cut in 0..bytes.len() {
            match parse(&bytes[..cut]) {
                Ok(info) => {
                    assert_eq!(info.chassis_id.mac(), Some(MAC), "cut {cut}");
                    assert!(info.truncated, "cut {cut} lost the End TLV");
                }
                Err(e) => assert_eq!(e, LldpError::Truncated, "cut {cut}"),
            }
        }
    }

    #[test]
    fn missing_mandatory_tlvs() {
        let bytes = LldpBuilder::new().chassis_mac(MAC).ttl(5).build();
        assert_eq!(parse(&bytes), Err(LldpError::MissingPortId));
        let bytes = LldpBuilder::new().ttl(5).build();
        assert_eq!(parse(&bytes), Err(LldpError::MissingChassisId));
    }

    #[test]
    fn empty_chassis_tlv_is_a_bad_length() {
        let bytes = LldpBuilder::new().tlv(tlv::CHASSIS_ID, &[]).build();
        assert_eq!(parse(&bytes), Err(LldpError::BadTlvLength { tlv_type: 1 }));
    }
}
