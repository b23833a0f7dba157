//! MAC (EUI-48) addresses.

use std::fmt;

/// An EUI-48 MAC address, displayed as `aa:bb:cc:dd:ee:ff`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// Builds an address from the first six bytes of `bytes`; `None` if shorter.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let six: [u8; 6] = bytes.get(..6)?.try_into().ok()?;
        Some(Self(six))
    }

    /// The broadcast address ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: Self = Self([0xff; 6]);

    /// True for group (multicast or broadcast) addresses.
    pub fn is_group(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// True for the all-zero address.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    /// True for locally administered (not vendor-assigned) unicast addresses.
    pub fn is_local(&self) -> bool {
        self.0[0] & 2 == 2
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl std::str::FromStr for MacAddr {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut out {
            let part = parts.next().ok_or("too few octets")?;
            *byte = u8::from_str_radix(part, 16).map_err(|_| "octet is not hex")?;
        }
        if parts.next().is_some() {
            return Err("too many octets");
        }
        Ok(Self(out))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for MacAddr {
    /// Reads the `aa:bb:cc:dd:ee:ff` form written by `Serialize`.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
