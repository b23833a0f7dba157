//! CIDR prefixes: parsing (strict: no host bits), containment, and a longest-prefix
//! matcher over the few dozen prefixes a zone file holds.

use std::fmt;
use std::net::IpAddr;

/// An IPv4 or IPv6 network: an address with its host bits clear and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    addr: IpAddr,
    len: u8,
}

impl Cidr {
    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// The /24 (IPv4) or /64 (IPv6) network holding `ip`.
    pub fn subnet_of(ip: IpAddr) -> Self {
        let len = if ip.is_ipv4() { 24 } else { 64 };
        let bits = width(ip);
        Self {
            addr: from_bits(ip, to_bits(ip) & mask(len, bits)),
            len,
        }
    }

    /// True when `ip` (of the same family) lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        let m = mask(self.len, width(ip));
        to_bits(ip) & m == to_bits(self.addr)
    }

    /// True when one of the two networks contains the other.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains(other.addr) || other.contains(self.addr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl serde::Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    /// Parses `10.10.1.0/24` or `fd00:1::/64`; a bare address is a single host. Host bits
    /// must be clear, so a mistyped network is refused rather than silently widened.
    fn from_str(text: &str) -> Result<Self, String> {
        let (addr_text, len_text) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text
            .trim()
            .parse()
            .map_err(|_| format!("{addr_text:?} is not an IP address"))?;
        let bits = width(addr);
        let len = match len_text {
            Some(l) => l
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|n| u32::from(*n) <= bits)
                .ok_or_else(|| format!("prefix length {l:?} is not a number in 0..={bits}"))?,
            // Width is 32 or 128, both fit a u8.
            None => bits as u8,
        };
        let network = to_bits(addr) & mask(len, bits);
        if network != to_bits(addr) {
            let fixed = Cidr {
                addr: from_bits(addr, network),
                len,
            };
            return Err(format!("host bits are set (the network is {fixed})"));
        }
        Ok(Cidr { addr, len })
    }
}

/// Longest-prefix match from networks to values.
#[derive(Clone, Debug)]
pub struct PrefixMap<T> {
    /// Longest prefixes first, so the first hit is the most specific.
    entries: Vec<(Cidr, T)>,
}

impl<T> Default for PrefixMap<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<T> PrefixMap<T> {
    /// Adds a network; a network already present keeps its first value.
    pub fn insert(&mut self, cidr: Cidr, value: T) {
        if self.entries.iter().any(|(c, _)| *c == cidr) {
            return;
        }
        let at = self
            .entries
            .iter()
            .position(|(c, _)| c.len < cidr.len)
            .unwrap_or(self.entries.len());
        self.entries.insert(at, (cidr, value));
    }

    /// The value of the most specific network holding `ip`.
    pub fn lookup(&self, ip: IpAddr) -> Option<&T> {
        self.entries
            .iter()
            .find(|(c, _)| c.contains(ip))
            .map(|(_, v)| v)
    }
}

fn width(ip: IpAddr) -> u32 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

fn to_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn from_bits(like: IpAddr, bits: u128) -> IpAddr {
    match like {
        // Only the low 32 bits are ever set for an IPv4 value.
        IpAddr::V4(_) => IpAddr::V4((bits as u32).into()),
        IpAddr::V6(_) => IpAddr::V6(bits.into()),
    }
}

/// The network mask of a `len`-bit prefix in a `bits`-wide address, as low bits.
fn mask(len: u8, bits: u32) -> u128 {
    let all = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    let host = bits - u32::from(len).min(bits);
    if host == 128 {
        0
    } else {
        all & !((1u128 << host) - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_networks_and_refuses_host_bits_and_bad_lengths() {
        assert_eq!(cidr("10.10.1.0/24").to_string(), "10.10.1.0/24");
        assert_eq!(cidr("10.10.1.7").to_string(), "10.10.1.7/32");
        assert_eq!(cidr("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert_eq!(cidr("fd00:1::/64").to_string(), "fd00:1::/64");
        assert_eq!(cidr("::/0").prefix_len(), 0);
        assert_eq!(
            "10.10.1.5/24".parse::<Cidr>(),
            Err("host bits are set (the network is 10.10.1.0/24)".to_string())
        );
        assert_eq!(
            "10.10.1.0/33".parse::<Cidr>(),
            Err("prefix length \"33\" is not a number in 0..=32".to_string())
        );
        assert_eq!(
            "10.10.1/24".parse::<Cidr>(),
            Err("\"10.10.1\" is not an IP address".to_string())
        );
        assert!("fd00::/129".parse::<Cidr>().is_err());
    }

    #[test]
    fn containment_and_overlap_respect_family_and_length() {
        let net = cidr("10.10.0.0/16");
        assert!(net.contains(ip("10.10.255.1")));
        assert!(!net.contains(ip("10.11.0.1")));
        assert!(!net.contains(ip("::ffff:10.10.0.1")));
        assert!(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(cidr("::/0").contains(ip("2001:db8::1")));
        assert!(net.overlaps(&cidr("10.10.4.0/24")));
        assert!(!net.overlaps(&cidr("10.20.0.0/16")));
        assert_eq!(Cidr::subnet_of(ip("10.10.4.77")), cidr("10.10.4.0/24"));
        assert_eq!(
            Cidr::subnet_of(ip("fd00:1:2:3:4::9")),
            cidr("fd00:1:2:3::/64")
        );
    }

    #[test]
    fn the_most_specific_prefix_wins() {
        let mut map = PrefixMap::default();
        map.insert(cidr("10.10.0.0/16"), "site");
        map.insert(cidr("10.10.1.0/24"), "cell");
        map.insert(cidr("10.10.1.9/32"), "plc");
        map.insert(cidr("10.10.1.0/24"), "ignored duplicate");
        assert_eq!(map.lookup(ip("10.10.1.9")), Some(&"plc"));
        assert_eq!(map.lookup(ip("10.10.1.8")), Some(&"cell"));
        assert_eq!(map.lookup(ip("10.10.7.8")), Some(&"site"));
        assert_eq!(map.lookup(ip("10.11.0.1")), None);
    }
}
