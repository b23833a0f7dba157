//! Borrowed text and small fixed-capacity address lists for the LLDP and CDP parsers.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// Bytes a device sent as text, borrowed from the frame. Devices do not always send
/// UTF-8, so the raw bytes are kept and [`Text::as_str`] says whether they are valid.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Text<'a>(pub &'a [u8]);

impl<'a> Text<'a> {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The text as `&str` when it is valid UTF-8, without trailing NUL padding.
    pub fn as_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.trimmed()).ok()
    }

    /// The bytes without trailing NULs (some devices pad fixed-size fields).
    fn trimmed(&self) -> &'a [u8] {
        let end = self.0.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        &self.0[..end]
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Text<'_> {
    /// Writes the text, replacing invalid UTF-8 sequences with U+FFFD (no allocation).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.trimmed().utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

/// Most addresses kept per list; further ones are counted in [`AddrList::dropped`].
pub const ADDR_LIST_CAPACITY: usize = 4;

/// Up to [`ADDR_LIST_CAPACITY`] IP addresses, without allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrList {
    addrs: [IpAddr; ADDR_LIST_CAPACITY],
    len: u8,
    dropped: u16,
}

impl Default for AddrList {
    fn default() -> Self {
        Self {
            addrs: [IpAddr::V4(Ipv4Addr::UNSPECIFIED); ADDR_LIST_CAPACITY],
            len: 0,
            dropped: 0,
        }
    }
}

impl AddrList {
    /// Adds an address, or counts it as dropped when the list is full.
    pub fn push(&mut self, addr: IpAddr) {
        match self.addrs.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = addr;
                self.len += 1;
            }
            None => self.dropped = self.dropped.saturating_add(1),
        }
    }

    /// The addresses kept, in the order seen.
    pub fn as_slice(&self) -> &[IpAddr] {
        &self.addrs[..usize::from(self.len)]
    }

    /// Iterates over the addresses kept.
    pub fn iter(&self) -> impl Iterator<Item = &IpAddr> {
        self.as_slice().iter()
    }

    /// Number of addresses kept.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when no address was kept.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Addresses seen beyond the capacity.
    pub fn dropped(&self) -> u16 {
        self.dropped
    }
}

impl fmt::Debug for AddrList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_valid_invalid_and_padded() {
        assert_eq!(Text(b"plc-01\0\0").as_str(), Some("plc-01"));
        assert_eq!(Text(b"a\xffb").as_str(), None);
        assert_eq!(Text(b"a\xffb").to_string(), "a\u{fffd}b");
    }

    #[test]
    fn addr_list_caps_and_counts() {
        let mut list = AddrList::default();
        for i in 0..6u8 {
            list.push(IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)));
        }
        assert_eq!(list.len(), ADDR_LIST_CAPACITY);
        assert_eq!(list.dropped(), 2);
        assert_eq!(list.as_slice()[3], IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3)));
    }
}
