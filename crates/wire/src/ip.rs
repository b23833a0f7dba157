//! IP protocol numbers (shared by IPv4's protocol field and IPv6's next header).

use std::fmt;

/// IP protocol numbers gapwatch names; any other value is kept as `Unknown(n)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// IPv6 hop-by-hop options (0).
    HopByHop,
    /// ICMP (1).
    Icmp,
    /// IGMP (2).
    Igmp,
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// IPv6 encapsulated in IP (41).
    Ipv6,
    /// IPv6 routing header (43).
    Ipv6Route,
    /// IPv6 fragment header (44).
    Ipv6Frag,
    /// GRE (47).
    Gre,
    /// ESP (50).
    Esp,
    /// Authentication header (51).
    Ah,
    /// ICMPv6 (58).
    Icmpv6,
    /// IPv6 no next header (59).
    Ipv6NoNxt,
    /// IPv6 destination options (60).
    Ipv6Opts,
    /// OSPF (89).
    Ospf,
    /// PIM (103).
    Pim,
    /// VRRP (112).
    Vrrp,
    /// SCTP (132).
    Sctp,
    /// Any other value.
    Unknown(u8),
}

/// Number and name of every known protocol, in one place for both conversions.
const TABLE: [(u8, Protocol, &str); 18] = [
    (0, Protocol::HopByHop, "hopopt"),
    (1, Protocol::Icmp, "icmp"),
    (2, Protocol::Igmp, "igmp"),
    (6, Protocol::Tcp, "tcp"),
    (17, Protocol::Udp, "udp"),
    (41, Protocol::Ipv6, "ipv6"),
    (43, Protocol::Ipv6Route, "ipv6-route"),
    (44, Protocol::Ipv6Frag, "ipv6-frag"),
    (47, Protocol::Gre, "gre"),
    (50, Protocol::Esp, "esp"),
    (51, Protocol::Ah, "ah"),
    (58, Protocol::Icmpv6, "icmpv6"),
    (59, Protocol::Ipv6NoNxt, "ipv6-nonxt"),
    (60, Protocol::Ipv6Opts, "ipv6-opts"),
    (89, Protocol::Ospf, "ospf"),
    (103, Protocol::Pim, "pim"),
    (112, Protocol::Vrrp, "vrrp"),
    (132, Protocol::Sctp, "sctp"),
];

impl From<u8> for Protocol {
    fn from(value: u8) -> Self {
        TABLE
            .iter()
            .find(|(n, _, _)| *n == value)
            .map_or(Self::Unknown(value), |(_, p, _)| *p)
    }
}

impl From<Protocol> for u8 {
    fn from(value: Protocol) -> Self {
        match value {
            Protocol::Unknown(n) => n,
            known => TABLE
                .iter()
                .find(|(_, p, _)| *p == known)
                .map_or(0, |(n, _, _)| *n),
        }
    }
}

impl fmt::Display for Protocol {
    /// Lower-case IANA keyword, or `unknown-<n>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match TABLE.iter().find(|(_, p, _)| p == self) {
            Some((_, _, name)) => f.write_str(name),
            None => write!(f, "unknown-{}", u8::from(*self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossless_both_ways() {
        for n in 0..=255u8 {
            assert_eq!(u8::from(Protocol::from(n)), n);
        }
    }

    #[test]
    fn display_names_and_unknown() {
        assert_eq!(Protocol::from(6).to_string(), "tcp");
        assert_eq!(Protocol::from(58).to_string(), "icmpv6");
        assert_eq!(Protocol::from(253).to_string(), "unknown-253");
    }
}
