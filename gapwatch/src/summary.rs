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

/// Accumulates per-flow figures for the summary.
#[derive(Debug, Default)]
pub struct TrafficTally {
    bytes_by_ip: HashMap<IpAddr, u64>,
    protocols: HashMap<String, ProtocolTotals>,
    flows_by_transport: [u64; 5],
}

/// The label a flow is counted under: its dissector, else transport and server port.
pub fn protocol_label(flow: &FlowRecord) -> String {
    match (flow.app, flow.transport) {
        (Some(app), _) => app.to_string(),
        (None, TransportKind::Tcp) => format!("tcp/{}", flow.dst_port),
        (None, TransportKind::Udp) => format!("udp/{}", flow.dst_port),
        (None, TransportKind::Icmp) => "icmp".to_string(),
        (None, TransportKind::Icmpv6) => "icmpv6".to_string(),
        (None, TransportKind::Other) => "ip-other".to_string(),
    }
}

impl TrafficTally {
    /// Counts one flow record.
    pub fn add(&mut self, flow: &FlowRecord) {
        let bytes = flow.bytes_to_server + flow.bytes_to_client;
        *self.bytes_by_ip.entry(flow.src_ip).or_default() += bytes;
        *self.bytes_by_ip.entry(flow.dst_ip).or_default() += bytes;
        let totals = self.protocols.entry(protocol_label(flow)).or_default();
        totals.flows += 1;
        totals.packets += flow.packets_to_server + flow.packets_to_client;
        totals.bytes += bytes;
        self.flows_by_transport[flow.transport as usize] += 1;
    }

    /// The `n` addresses with the most bytes, largest first (ties by address).
    pub fn top_talkers(&self, n: usize) -> Vec<(IpAddr, u64)> {
        let mut all: Vec<_> = self.bytes_by_ip.iter().map(|(ip, b)| (*ip, *b)).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(n);
        all
    }

    /// The `n` protocols with the most packets, largest first (ties by name).
    pub fn top_protocols(&self, n: usize) -> Vec<(&str, &ProtocolTotals)> {
        let mut all: Vec<_> = self
            .protocols
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        all.sort_by(|a, b| b.1.packets.cmp(&a.1.packets).then(a.0.cmp(b.0)));
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
