//! The bidirectional flow key and its symmetric shard function.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Identifies a bidirectional flow: VLAN, IP protocol and the two endpoints, stored in
/// a canonical order (lower (address, port) first) so both directions give equal keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowKey {
    /// Innermost VLAN id, if tagged.
    pub vlan: Option<u16>,
    /// IP protocol number.
    pub protocol: u8,
    /// The lower endpoint's address.
    pub lo_ip: IpAddr,
    /// The lower endpoint's port (0 for protocols without ports).
    pub lo_port: u16,
    /// The higher endpoint's address.
    pub hi_ip: IpAddr,
    /// The higher endpoint's port.
    pub hi_port: u16,
}

impl FlowKey {
    /// The key of a packet from `src:sport` to `dst:dport`, and whether the sender is
    /// the key's lower endpoint.
    pub fn new(
        vlan: Option<u16>,
        protocol: u8,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
    ) -> (Self, bool) {
        let src_is_lo = (src, sport) <= (dst, dport);
        let ((lo_ip, lo_port), (hi_ip, hi_port)) = if src_is_lo {
            ((src, sport), (dst, dport))
        } else {
            ((dst, dport), (src, sport))
        };
        (
            Self {
                vlan,
                protocol,
                lo_ip,
                lo_port,
                hi_ip,
                hi_port,
            },
            src_is_lo,
        )
    }
}

impl Hash for FlowKey {
    /// Three words instead of one write per field: the flow table hashes a key per packet.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let vlan = self.vlan.map_or(0, |v| u64::from(v) | 1 << 16);
        state.write_u64(
            vlan << 40
                | u64::from(self.protocol) << 32
                | u64::from(self.lo_port) << 16
                | u64::from(self.hi_port),
        );
        state.write_u128(ip_bits(self.lo_ip));
        state.write_u128(ip_bits(self.hi_ip));
    }
}

/// An address as one number; IPv4 and IPv6 stay apart (IPv4 sets a bit above 32).
fn ip_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) | 1 << 32,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The worker (of `n`) that owns flows with this key. Both directions of a flow map to
/// the same worker because the key is canonical; the hash is fixed (FNV-1a), so the
/// assignment is the same on every run and every machine. `n == 0` is treated as 1.
pub fn shard_of(key: &FlowKey, n: usize) -> usize {
    let mut h = Fnv1a::default();
    key.hash(&mut h);
    (h.finish() % n.max(1) as u64) as usize
}

/// FNV-1a: small, stable across runs and Rust versions (unlike `DefaultHasher`).
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        // Final avalanche so the low bits used by `%` depend on every input byte.
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_give_the_same_key_and_shard() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let (k1, lo1) = FlowKey::new(Some(5), 6, a, 40000, b, 502);
        let (k2, lo2) = FlowKey::new(Some(5), 6, b, 502, a, 40000);
        assert_eq!(k1, k2);
        assert_ne!(lo1, lo2);
        for n in 1..9 {
            assert_eq!(shard_of(&k1, n), shard_of(&k2, n));
        }
    }
}
