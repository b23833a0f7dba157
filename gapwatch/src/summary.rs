//! The human summary printed at the end of a run.

use records::{AssetRecord, FlowRecord, TransportKind};
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::net::IpAddr;

/// Traffic totals per protocol label (`modbus`, or `tcp/502` when no dissector matched).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtocolTotals {
    /// Flows.
    pub flows: u64,
    /// Packets, both directions.
    pub packets: u64,
    /// IP bytes, both directions.
    pub bytes: u64,
}

/// What a flow is counted under: its dissector, else transport and server port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolKey {
    /// A recognised application protocol.
    App(&'static str),
    /// Unrecognised TCP to this server port.
    Tcp(u16),
    /// Unrecognised UDP to this server port.
    Udp(u16),
    /// Another transport.
    Transport(TransportKind),
}

impl ProtocolKey {
    /// The key of a flow record.
    pub fn of(flow: &FlowRecord) -> Self {
        match (flow.app, flow.transport) {
            (Some(app), _) => Self::App(app),
            (None, TransportKind::Tcp) => Self::Tcp(flow.dst_port),
            (None, TransportKind::Udp) => Self::Udp(flow.dst_port),
            (None, other) => Self::Transport(other),
        }
    }
}

impl fmt::Display for ProtocolKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::App(app) => f.write_str(app),
            Self::Tcp(port) => write!(f, "tcp/{port}"),
            Self::Udp(port) => write!(f, "udp/{port}"),
            Self::Transport(TransportKind::Icmp) => f.write_str("icmp"),
            Self::Transport(TransportKind::Icmpv6) => f.write_str("icmpv6"),
            Self::Transport(_) => f.write_str("ip-other"),
        }
    }
}

/// Accumulates per-flow and per-event figures for the summary. Bounded: one entry per
/// application, per transport port and per protocol.
#[derive(Debug, Default)]
pub struct TrafficTally {
    protocols: HashMap<ProtocolKey, ProtocolTotals>,
    /// Events per protocol: a short list (one entry per protocol), searched linearly —
    /// cheaper per event than hashing the name.
    events: Vec<(&'static str, u64)>,
    flows_by_transport: [u64; 5],
}

impl TrafficTally {
    /// Counts one flow record.
    pub fn add(&mut self, flow: &FlowRecord) {
        let totals = self.protocols.entry(ProtocolKey::of(flow)).or_default();
        totals.flows += 1;
        totals.packets += flow.packets_to_server + flow.packets_to_client;
        totals.bytes += flow.bytes_to_server + flow.bytes_to_client;
        self.flows_by_transport[flow.transport as usize] += 1;
    }

    /// Counts one protocol event.
    pub fn add_event(&mut self, event: &dissect::Event) {
        // Protocol names are dissector constants: the address usually decides.
        let same = |p: &str| std::ptr::eq(p, event.protocol) || p == event.protocol;
        match self.events.iter_mut().find(|(p, _)| same(p)) {
            Some((_, n)) => *n += 1,
            None => self.events.push((event.protocol, 1)),
        }
    }

    /// Events per protocol, sorted by protocol.
    pub fn events(&self) -> Vec<(&'static str, u64)> {
        let mut all = self.events.clone();
        all.sort_unstable();
        all
    }

    /// The `n` protocols with the most packets, largest first (ties by key).
    pub fn top_protocols(&self, n: usize) -> Vec<(ProtocolKey, &ProtocolTotals)> {
        let mut all: Vec<_> = self.protocols.iter().map(|(k, v)| (*k, v)).collect();
        all.sort_by(|a, b| b.1.packets.cmp(&a.1.packets).then(a.0.cmp(&b.0)));
        all.truncate(n);
        all
    }

    /// Flows per transport: tcp, udp, icmp, icmpv6, other.
    pub fn flows_by_transport(&self) -> [u64; 5] {
        self.flows_by_transport
    }
}

/// Formats `n` with thousands separators (`1,234,567`).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats a byte count with a binary-free decimal unit (`12.3 MB`).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Everything the end-of-run summary shows.
pub struct Summary<'a> {
    /// Packets read.
    pub packets: u64,
    /// Captured bytes read.
    pub bytes: u64,
    /// Per-flow tallies.
    pub tally: &'a TrafficTally,
    /// Current assets.
    pub assets: &'a [AssetRecord],
    /// Addresses that moved the most bytes, largest first.
    pub top_talkers: &'a [(IpAddr, u64)],
    /// Counter lines (`name`, value) where a bound was hit or data was lost; zeros omitted.
    pub losses: Vec<(&'static str, u64)>,
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.tally.flows_by_transport();
        let flows: u64 = t.iter().sum();
        writeln!(
            f,
            "packets      {}  ({})",
            thousands(self.packets),
            human_bytes(self.bytes)
        )?;
        writeln!(
            f,
            "flows        {}  (tcp {}, udp {}, icmp {}, icmpv6 {}, other {})",
            thousands(flows),
            thousands(t[0]),
            thousands(t[1]),
            thousands(t[2]),
            thousands(t[3]),
            thousands(t[4])
        )?;
        let by_mac = self.assets.iter().filter(|a| a.mac.is_some()).count();
        let gateways = self.assets.iter().filter(|a| a.is_gateway).count();
        writeln!(
            f,
            "assets       {}  ({} by MAC, {} IP-only, {} gateway{})",
            self.assets.len(),
            by_mac,
            self.assets.len() - by_mac,
            gateways,
            if gateways == 1 { "" } else { "s" }
        )?;
        let names: HashMap<IpAddr, &str> = self
            .assets
            .iter()
            .flat_map(|a| {
                let name = a.hostnames.iter().next().map(String::as_str);
                a.ips.iter().filter_map(move |ip| name.map(|n| (*ip, n)))
            })
            .collect();
        writeln!(f, "top talkers")?;
        for (ip, bytes) in self.top_talkers {
            let mut label = ip.to_string();
            if let Some(name) = names.get(ip) {
                let _ = write!(label, " ({name})");
            }
            writeln!(f, "  {label:<40} {:>10}", human_bytes(*bytes))?;
        }
        writeln!(f, "protocols")?;
        for (name, totals) in self.tally.top_protocols(10) {
            writeln!(
                f,
                "  {:<16} {:>8} flows {:>12} packets {:>10}",
                name.to_string(),
                thousands(totals.flows),
                thousands(totals.packets),
                human_bytes(totals.bytes)
            )?;
        }
        let events = self.tally.events();
        if !events.is_empty() {
            let total: u64 = events.iter().map(|(_, n)| n).sum();
            let parts: Vec<String> = events
                .iter()
                .map(|(p, n)| format!("{p} {}", thousands(*n)))
                .collect();
            writeln!(
                f,
                "events       {}  ({})",
                thousands(total),
                parts.join(", ")
            )?;
        }
        if self.losses.is_empty() {
            writeln!(
                f,
                "losses       none (no drops, evictions, gaps or caps hit)"
            )?;
        } else {
            writeln!(f, "losses")?;
            for (name, value) in &self.losses {
                writeln!(f, "  {name:<32} {}", thousands(*value))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(12_345_678), "12.3 MB");
    }
}
