//! IEEE 802.2 LLC headers and the SNAP extension carried by 802.3 length frames.
//!
//! CDP, STP and older protocols ride on 802.3 frames: an LLC header (DSAP, SSAP,
//! control) and, when both SAPs are 0xAA, a SNAP header naming an OUI and a protocol id.

use crate::bytes::{array, read_u16};
use crate::CheckError;

mod field {
    use core::ops::Range;

    pub const DSAP: usize = 0;
    pub const SSAP: usize = 1;
    pub const CONTROL: usize = 2;
    /// Unnumbered (U-format) frames have a one-byte control field.
    pub const U_HEADER_END: usize = 3;
    /// Information and supervisory frames have a two-byte control field.
    pub const IS_HEADER_END: usize = 4;
    pub const SNAP_OUI: Range<usize> = 3..6;
    pub const SNAP_PROTOCOL: Range<usize> = 6..8;
    pub const SNAP_END: usize = 8;
}

/// The SAP value that announces a SNAP header.
pub const SAP_SNAP: u8 = 0xaa;

/// The control value of an unnumbered information frame.
pub const CONTROL_UI: u8 = 0x03;

/// OUI of RFC 1042 encapsulation: the SNAP protocol id is an EtherType.
pub const OUI_ENCAPSULATED_ETHERNET: [u8; 3] = [0x00, 0x00, 0x00];

/// OUI of 802.1H bridge-tunnel encapsulation: the protocol id is also an EtherType.
pub const OUI_BRIDGE_TUNNEL: [u8; 3] = [0x00, 0x00, 0xf8];

/// Cisco's OUI, under which CDP is protocol 0x2000.
pub const OUI_CISCO: [u8; 3] = [0x00, 0x00, 0x0c];

/// Cisco SNAP protocol id of CDP.
pub const CISCO_PROTOCOL_CDP: u16 = 0x2000;

/// A view of an LLC header with its optional SNAP extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after checking that the LLC header (and SNAP header, when the SAPs
    /// announce one) is present.
    pub fn new_checked(buffer: T) -> Result<Self, CheckError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that every header this packet announces fits in the buffer.
    pub fn check_len(&self) -> Result<(), CheckError> {
        let data = self.buffer.as_ref();
        if data.len() < field::U_HEADER_END {
            return Err(CheckError::Truncated);
        }
        if data.len() < self.header_len() {
            return Err(CheckError::Truncated);
        }
        Ok(())
    }

    /// Destination service access point.
    pub fn dsap(&self) -> u8 {
        self.buffer.as_ref()[field::DSAP]
    }

    /// Source service access point.
    pub fn ssap(&self) -> u8 {
        self.buffer.as_ref()[field::SSAP]
    }

    /// First control byte.
    pub fn control(&self) -> u8 {
        self.buffer.as_ref()[field::CONTROL]
    }

    /// True when a SNAP header follows the LLC header.
    pub fn has_snap(&self) -> bool {
        self.dsap() == SAP_SNAP && self.ssap() == SAP_SNAP && self.control() == CONTROL_UI
    }

    /// Length of the LLC header plus SNAP header.
    pub fn header_len(&self) -> usize {
        if self.has_snap() {
            field::SNAP_END
        } else if self.control() & 0x03 == 0x03 {
            field::U_HEADER_END
        } else {
            field::IS_HEADER_END
        }
    }

    /// SNAP organisation code; `None` without SNAP.
    pub fn snap_oui(&self) -> Option<[u8; 3]> {
        self.has_snap()
            .then(|| array(&self.buffer.as_ref()[field::SNAP_OUI]))
    }

    /// SNAP protocol id; `None` without SNAP.
    pub fn snap_protocol(&self) -> Option<u16> {
        self.has_snap()
            .then(|| read_u16(&self.buffer.as_ref()[field::SNAP_PROTOCOL]))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// Bytes after the LLC (and SNAP) header.
    pub fn payload(&self) -> &'a [u8] {
        let data = self.buffer.as_ref();
        data.get(self.header_len()..).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdp_snap_header() {
        let bytes = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00, 0x02, 0xb4];
        let llc = Packet::new_checked(&bytes[..]).expect("SNAP header present");
        assert!(llc.has_snap());
        assert_eq!(llc.snap_oui(), Some(OUI_CISCO));
        assert_eq!(llc.snap_protocol(), Some(CISCO_PROTOCOL_CDP));
        assert_eq!(llc.payload(), &[0x02, 0xb4]);
    }

    #[test]
    fn stp_llc_without_snap() {
        let bytes = [0x42, 0x42, 0x03, 0x00, 0x00];
        let llc = Packet::new_checked(&bytes[..]).expect("LLC header present");
        assert!(!llc.has_snap());
        assert_eq!(llc.header_len(), 3);
        assert_eq!(llc.snap_protocol(), None);
        assert_eq!(llc.payload(), &[0x00, 0x00]);
    }

    #[test]
    fn snap_cut_short_is_truncated() {
        let bytes = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20];
        for len in 0..bytes.len() {
            assert_eq!(
                Packet::new_checked(&bytes[..len]).err(),
                Some(CheckError::Truncated)
            );
        }
    }
}
