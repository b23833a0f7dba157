//! `novelty`: devices never seen before, addresses that change hands, and device
//! identities (firmware, model, serial) that change.
//!
//! A device on the monitored segment is its MAC. A MAC that carries more than three
//! IPv4 addresses, or addresses from two subnets (IPv4 /24s or IPv6 /64s), is a router
//! leg: its addresses are devices behind a router, known by IP only once they send TCP
//! or UDP, and it never takes part in address conflicts. The score of a new device is
//! how settled the device population was: the Good–Turing estimate over minutes of
//! history, the minutes in which a device arrived counting as "new" (arrivals in the
//! first minutes are the population being discovered and do not count). Conflicts are
//! judged by the address's own history: an address that changed hands before (a DHCP
//! pool) surprises less than one that never did.
//!
//! What is reported is learnt at once (a device is new only once; a conflict pair is
//! reported once): the alert carries it, and repeating it would only add noise.

use crate::assets::{AssetDirectory, Criticality};
use crate::finding::{Category, Finding};
use crate::input::FlowOpen;
use crate::model::{Cx, Model};
use crate::models::evict::make_room;
use crate::stats::Map;
use crate::stats::{surprise, unseen_probability};
use crate::text::{counted, span};
use dissect::{Event, IdentityField};
use records::Timestamp;
use records::{FlowRecord, TransportKind};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wire::MacAddr;

const MINUTE: i64 = 60_000_000;
/// Most MACs remembered.
const MAX_MACS: usize = 4096;
/// Most addresses remembered.
const MAX_IPS: usize = 16_384;
/// Most identity fields remembered.
const MAX_IDENTITIES: usize = 4096;
/// Addresses listed per MAC (enough to tell a host from a router leg).
const MAX_IPS_PER_MAC: usize = 8;
/// More addresses than this behind one MAC make it a router leg.
const GATEWAY_ADDRESSES: usize = 3;
/// Distinct values remembered per identity field.
const MAX_VALUES: usize = 4;
/// Devices arriving within this many minutes of the first input are the population
/// being discovered, not churn.
const DISCOVERY_MINUTES: i64 = 5;
/// An identity value must have been announced this often, and held this long, before
/// its change is news.
const MIN_ANNOUNCEMENTS: u64 = 2;
const MIN_HELD: i64 = 10 * MINUTE;
/// New devices are reported only when the population was settled at least this much
/// (devices arrived in fewer than half of the minutes): in a churning network a new
/// device is ordinary.
const MIN_SCORE: f64 = 0.5;
/// A previous holder of an address seen within this time is still active: two devices
/// claim the address at once.
const STILL_ACTIVE: i64 = 10 * MINUTE;

/// One MAC.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct MacEntry {
    first: i64,
    last: i64,
    /// Addresses seen behind it (first few).
    ips: Vec<IpAddr>,
    /// A router leg.
    gateway: bool,
    /// Times it took a new address after its first.
    ip_changes: u32,
    minutes: u64,
    last_minute: i64,
}

/// One address.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct IpEntry {
    first: i64,
    last: i64,
    /// The (non-router) MAC that holds it.
    mac: Option<MacAddr>,
    /// A second MAC reported as also claiming it.
    alt: Option<MacAddr>,
    /// Times it moved to another MAC.
    moves: u32,
    minutes: u64,
    last_minute: i64,
    /// Sent a TCP/UDP flow or a protocol message, or was seen behind its own MAC.
    #[serde(default)]
    sent: bool,
    /// The MAC it was last seen behind, in `last_minute`: the same sighting again
    /// within the minute changes nothing.
    #[serde(default)]
    via: Option<MacAddr>,
}

/// Values one device announced for one identity field in one protocol.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct IdEntry {
    last: i64,
    /// Distinct values, the current one last.
    values: Vec<String>,
    /// Announcements of the current value.
    #[serde(default)]
    count: u64,
    /// When the current value was first announced.
    #[serde(default)]
    since: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    start: Option<i64>,
    /// Minutes (since `start`) in which a device arrived, after discovery.
    arrival_minutes: u64,
    last_arrival_minute: i64,
    macs: Map<MacAddr, MacEntry>,
    ips: Map<IpAddr, IpEntry>,
    /// Key: `device|field|protocol`.
    identities: Map<String, IdEntry>,
    evicted_macs: u64,
    evicted_ips: u64,
    evicted_identities: u64,
}

/// The novelty model.
#[derive(Debug, Default)]
pub struct Novelty {
    s: State,
}

impl Novelty {
    /// A model with nothing learnt.
    pub fn new() -> Self {
        Self::default()
    }

    fn minute(&mut self, now: i64) -> i64 {
        let start = *self.s.start.get_or_insert(now);
        now.saturating_sub(start).max(0) / MINUTE
    }

    /// Counts a device arrival at `minute`; returns the score of a new device (how
    /// settled the population was before it) and that history in words.
    fn arrival(&mut self, minute: i64, macs_before: usize) -> (f64, String) {
        let minutes = minute.max(0) as u64 + 1;
        let p = unseen_probability(self.s.arrival_minutes, minutes);
        let history = format!(
            "{macs_before} MACs were known and devices had arrived in {} of {minutes} minutes of history (after the first {DISCOVERY_MINUTES})",
            self.s.arrival_minutes
        );
        if minute >= DISCOVERY_MINUTES && minute != self.s.last_arrival_minute {
            self.s.arrival_minutes += 1;
            self.s.last_arrival_minute = minute;
        }
        (surprise(p), history)
    }

    fn touch_mac(&mut self, mac: MacAddr, now: i64, minute: i64) -> bool {
        if let Some(e) = self.s.macs.get_mut(&mac) {
            e.last = e.last.max(now);
            if minute > e.last_minute {
                e.last_minute = minute;
                e.minutes += 1;
            }
            return false;
        }
        self.s.evicted_macs += make_room(&mut self.s.macs, MAX_MACS, |e| e.last);
        self.s.macs.insert(
            mac,
            MacEntry {
                first: now,
                last: now,
                ips: Vec::new(),
                gateway: false,
                ip_changes: 0,
                minutes: 1,
                last_minute: minute,
            },
        );
        true
    }

    /// Adds `ip` to the addresses of `mac`; returns true when it was new to the MAC.
    /// A MAC becoming a router leg releases the addresses bound to it.
    fn bind_ip(&mut self, mac: MacAddr, ip: IpAddr) -> bool {
        let Some(e) = self.s.macs.get_mut(&mac) else {
            return false;
        };
        if e.ips.contains(&ip) {
            return false;
        }
        if e.ips.len() < MAX_IPS_PER_MAC {
            e.ips.push(ip);
        } else if let (true, Some(i)) = (ip.is_ipv4(), e.ips.iter().position(IpAddr::is_ipv6)) {
            // IPv4 addresses tell a router leg; rotating IPv6 addresses give way.
            e.ips.remove(i);
            e.ips.push(ip);
        }
        if !e.gateway && is_router_leg(&e.ips) {
            e.gateway = true;
            let released = e.ips.clone();
            for a in released {
                if let Some(ie) = self.s.ips.get_mut(&a) {
                    if ie.mac == Some(mac) {
                        ie.mac = None;
                    }
                }
            }
        }
        true
    }

    fn new_device(
        cx: &mut Cx<'_>,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        (score, history): (f64, String),
    ) {
        if score < MIN_SCORE {
            return;
        }
        let what = match (ip, mac) {
            (Some(ip), Some(mac)) => format!("{} with MAC {}", cx.assets.label(ip), mac_facts(mac)),
            (None, Some(mac)) => format!("MAC {} (no IP address yet)", mac_facts(mac)),
            (Some(ip), None) => format!(
                "{} behind a router (known by its IP only)",
                cx.assets.label(ip)
            ),
            (None, None) => return,
        };
        let title = match (ip, mac) {
            (Some(ip), _) => format!("New device {ip}"),
            (None, Some(mac)) => format!("New device {mac}"),
            (None, None) => return,
        };
        let explanation = format!(
            "{what} appeared for the first time at {}. Before it, {history}.",
            cx.now
        );
        let key = mac.map_or_else(
            || ip.map(|i| i.to_string()).unwrap_or_default(),
            |m| m.to_string(),
        );
        cx.report(
            Finding::new(
                cx.now,
                Category::NewDevice,
                "novelty",
                score,
                title,
                explanation,
            )
            .between(ip, None, None)
            .src_mac(mac)
            .fuse_key(format!("new:{key}")),
        );
    }

    fn conflict(&mut self, cx: &mut Cx<'_>, ip: IpAddr, mac: MacAddr) {
        let now = cx.now.micros();
        let Some(holder) = self.s.ips.get(&ip).map(|e| e.mac) else {
            return;
        };
        let Some(old) = holder else {
            if let Some(ie) = self.s.ips.get_mut(&ip) {
                ie.mac = Some(mac);
            }
            return;
        };
        let old_last = self.s.macs.get(&old).map_or(i64::MIN, |e| e.last);
        let Some(ie) = self.s.ips.get_mut(&ip) else {
            return;
        };
        if old == mac || ie.alt == Some(mac) {
            return;
        }
        let p = unseen_probability(u64::from(ie.moves), ie.minutes);
        let (moves, minutes) = (ie.moves, ie.minutes);
        ie.moves += 1;
        let active = now.saturating_sub(old_last) <= STILL_ACTIVE;
        if active {
            // Both claim it: keep the holder, remember the claimant so the pair
            // alternating does not report again.
            ie.alt = Some(mac);
        } else {
            ie.mac = Some(mac);
            ie.alt = None;
        }
        if cx.learning {
            return;
        }
        let label = cx.assets.label(ip);
        let (title, situation) = if active {
            (
                format!("Address conflict on {ip}: MAC {mac} claims it"),
                format!(
                    "{label} is held by MAC {old}, last seen {} before, and now MAC {} uses it too (ARP spoofing or a duplicate address).",
                    span(now.saturating_sub(old_last) as f64 / 1e6),
                    mac_facts(mac)
                ),
            )
        } else {
            (
                format!("Address {ip} moved to MAC {mac}"),
                format!(
                    "{label} was held by MAC {old}, silent for {}; now MAC {} uses it.",
                    span(now.saturating_sub(old_last) as f64 / 1e6),
                    mac_facts(mac)
                ),
            )
        };
        let explanation = format!(
            "{situation} In {minutes} minutes of history the address changed MAC {moves} times."
        );
        cx.report(
            Finding::new(
                cx.now,
                Category::NewDevice,
                "novelty",
                surprise(p),
                title,
                explanation,
            )
            .between(Some(ip), None, None)
            .src_mac(Some(mac))
            .fuse_key(format!("conflict:{ip}")),
        );
    }

    fn new_address(&mut self, cx: &mut Cx<'_>, ip: IpAddr, mac: MacAddr) {
        let Some(me) = self.s.macs.get(&mac) else {
            return;
        };
        // Only a host re-addressed within its IPv4 subnet; IPv6 hosts rotate addresses
        // by design, and an address from another subnet made the MAC a router leg.
        let IpAddr::V4(v4) = ip else { return };
        let others: Vec<IpAddr> = me.ips.iter().copied().filter(|a| *a != ip).collect();
        if me.gateway || others.is_empty() {
            return;
        }
        let same_net = others.iter().any(|a| match a {
            IpAddr::V4(o) => o.octets()[..3] == v4.octets()[..3],
            IpAddr::V6(_) => false,
        });
        if !same_net {
            return;
        }
        // Hosts move between addresses (DHCP); an industrial device that does is news.
        let important = others
            .iter()
            .map(|a| cx.assets.criticality(*a))
            .max()
            .is_some_and(|c| c >= Criticality::High);
        let p = unseen_probability(u64::from(me.ip_changes), me.minutes);
        let (changes, minutes) = (me.ip_changes, me.minutes);
        if let Some(me) = self.s.macs.get_mut(&mac) {
            me.ip_changes += 1;
        }
        if cx.learning || !important {
            return;
        }
        let before: Vec<String> = others.iter().map(|a| a.to_string()).collect();
        let explanation = format!(
            "MAC {}, known as {}, now also uses {}. In {minutes} minutes of history this MAC took a new address {changes} times.",
            mac_facts(mac),
            before.join(", "),
            cx.assets.label(ip)
        );
        cx.report(
            Finding::new(
                cx.now,
                Category::NewDevice,
                "novelty",
                surprise(p),
                format!("Known device {mac} took a new address {ip}"),
                explanation,
            )
            .between(Some(ip), None, None)
            .src_mac(Some(mac))
            .fuse_key(format!("readdress:{mac}")),
        );
    }
}

impl Novelty {
    /// `ip` sent a TCP/UDP flow or a protocol message. An address never seen sending
    /// and held by no MAC of its own is a device behind a router, new now. (Routers
    /// answer with ICMP errors from their own leg addresses; those are no devices.)
    fn sent_by(&mut self, cx: &mut Cx<'_>, ip: IpAddr) {
        if ignorable_ip(ip) || crate::assets::is_public(ip) {
            return;
        }
        if let Some(ie) = self.s.ips.get_mut(&ip) {
            if ie.sent {
                return;
            }
            ie.sent = true;
            if ie.mac.is_some() {
                return;
            }
        }
        let now = cx.now.micros();
        let minute = self.minute(now);
        if !self.s.ips.contains_key(&ip) {
            self.s.evicted_ips += make_room(&mut self.s.ips, MAX_IPS, |e| e.last);
            self.s.ips.insert(
                ip,
                IpEntry {
                    first: now,
                    last: now,
                    mac: None,
                    alt: None,
                    moves: 0,
                    minutes: 1,
                    last_minute: minute,
                    sent: true,
                    via: None,
                },
            );
        }
        let judged = self.arrival(minute, self.s.macs.len());
        if !cx.learning {
            Self::new_device(cx, Some(ip), None, judged);
        }
    }
}

/// A MAC carrying more than three IPv4 addresses, IPv4 addresses from two /24s, or
/// global IPv6 addresses from two /64s is a router leg. (IPv6 hosts hold several
/// addresses of one /64 by design: link-local, stable and temporary ones.)
fn is_router_leg(ips: &[IpAddr]) -> bool {
    let mut v4 = 0;
    let mut nets: Vec<u64> = Vec::new();
    let mut nets6: Vec<u64> = Vec::new();
    for a in ips {
        match a {
            IpAddr::V4(x) => {
                v4 += 1;
                let n = u64::from(u32::from(*x) >> 8);
                if !nets.contains(&n) {
                    nets.push(n);
                }
            }
            IpAddr::V6(x) => {
                let n = (u128::from(*x) >> 64) as u64;
                let link_local = x.segments()[0] & 0xffc0 == 0xfe80;
                if !link_local && !nets6.contains(&n) {
                    nets6.push(n);
                }
            }
        }
    }
    v4 > GATEWAY_ADDRESSES || nets.len() > 1 || nets6.len() > 1
}

/// `b8:27:eb:66:66:66 (OUI b8:27:eb)`, saying when the address is not vendor-assigned.
fn mac_facts(mac: MacAddr) -> String {
    let o = mac.0;
    if mac.is_local() {
        format!("{mac} (locally administered, no vendor)")
    } else {
        format!("{mac} (OUI {:02x}:{:02x}:{:02x})", o[0], o[1], o[2])
    }
}

fn field_name(field: IdentityField) -> &'static str {
    match field {
        IdentityField::Vendor => "vendor",
        IdentityField::Product => "product",
        IdentityField::Model => "model",
        IdentityField::Firmware => "firmware",
        IdentityField::Serial => "serial number",
        IdentityField::VendorClass => "DHCP vendor class",
        IdentityField::DhcpClientId => "DHCP client id",
        IdentityField::SshHostKey => "SSH host key",
        IdentityField::TlsCertificate => "TLS certificate",
    }
}

/// Addresses no device holds: unspecified, loopback, group, and IPv4 0/8 and 224/3
/// (multicast and reserved; they appear in malformed or forged packets).
fn ignorable_ip(ip: IpAddr) -> bool {
    let reserved_v4 = match ip {
        IpAddr::V4(v4) => v4.octets()[0] == 0 || v4.octets()[0] >= 224,
        IpAddr::V6(_) => false,
    };
    reserved_v4 || ip.is_unspecified() || ip.is_loopback() || crate::assets::is_group(ip)
}

impl Model for Novelty {
    fn name(&self) -> &'static str {
        "novelty"
    }

    fn on_address(&mut self, cx: &mut Cx<'_>, ip: IpAddr, mac: MacAddr) {
        if mac.is_group() || mac.is_zero() || ignorable_ip(ip) {
            return;
        }
        let now = cx.now.micros();
        let minute = self.minute(now);
        // Fast path: every protocol message is a sighting; one per minute is judged.
        if let Some(ie) = self.s.ips.get_mut(&ip) {
            if ie.last_minute == minute && ie.via == Some(mac) {
                ie.last = ie.last.max(now);
                return;
            }
        }
        let mac_is_new = self.touch_mac(mac, now, minute);
        let ip_is_new = !self.s.ips.contains_key(&ip);
        let new_to_mac = self.bind_ip(mac, ip);
        let gateway = self.s.macs.get(&mac).is_some_and(|e| e.gateway);
        if ip_is_new {
            self.s.evicted_ips += make_room(&mut self.s.ips, MAX_IPS, |e| e.last);
            self.s.ips.insert(
                ip,
                IpEntry {
                    first: now,
                    last: now,
                    mac: (!gateway).then_some(mac),
                    alt: None,
                    moves: 0,
                    minutes: 1,
                    last_minute: minute,
                    sent: !gateway,
                    via: Some(mac),
                },
            );
        } else if let Some(ie) = self.s.ips.get_mut(&ip) {
            ie.sent |= !gateway;
            ie.via = Some(mac);
            ie.last = ie.last.max(now);
            if minute > ie.last_minute {
                ie.last_minute = minute;
                ie.minutes += 1;
            }
        }
        if mac_is_new {
            let judged = self.arrival(minute, self.s.macs.len() - 1);
            // A MAC first seen with a public address is an outside host (or a router
            // carrying one): the external-connection model judges that traffic.
            if !cx.learning && !crate::assets::is_public(ip) {
                Self::new_device(cx, Some(ip), Some(mac), judged);
            }
            return;
        }
        if gateway {
            // Behind a router: a device only once it sends (see `sent_by`).
            return;
        }
        if !ip_is_new {
            self.conflict(cx, ip, mac);
        } else if new_to_mac {
            self.new_address(cx, ip, mac);
        }
    }

    fn on_flow_open(&mut self, cx: &mut Cx<'_>, flow: &FlowOpen) {
        // The first packet came from the client's MAC.
        if let Some(mac) = flow.client_mac {
            self.on_address(cx, flow.client_ip, mac);
        }
        if matches!(flow.transport, TransportKind::Tcp | TransportKind::Udp) {
            self.sent_by(cx, flow.client_ip);
        }
    }

    fn on_flow_end(&mut self, cx: &mut Cx<'_>, flow: &FlowRecord) {
        if flow.packets_to_client == 0 {
            return;
        }
        // The server answered from the MAC the record carries (others come as
        // address sightings of their own).
        if let Some(mac) = flow.dst_mac {
            self.on_address(cx, flow.dst_ip, mac);
        }
        if matches!(flow.transport, TransportKind::Tcp | TransportKind::Udp) {
            self.sent_by(cx, flow.dst_ip);
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, event: &Event) {
        let Some(ip) = event.src_ip else { return };
        // A server answering over a connection older than the learning shows its MAC
        // here first.
        if let Some(mac) = event.src_mac {
            self.on_address(cx, ip, mac);
        }
        self.sent_by(cx, ip);
    }

    fn on_mac(&mut self, cx: &mut Cx<'_>, mac: MacAddr) {
        if mac.is_group() || mac.is_zero() {
            return;
        }
        let now = cx.now.micros();
        let minute = self.minute(now);
        if self.touch_mac(mac, now, minute) {
            let judged = self.arrival(minute, self.s.macs.len() - 1);
            if !cx.learning {
                Self::new_device(cx, None, Some(mac), judged);
            }
        }
    }

    fn on_identity(
        &mut self,
        cx: &mut Cx<'_>,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        field: IdentityField,
        value: &str,
        source: &'static str,
    ) {
        // DHCP vendor classes and host identities (client ids, host keys, certificates)
        // are the bridging model's: a host serves several keys and certificates, so a
        // different one is no change of identity.
        if field == IdentityField::VendorClass
            || field.is_host_identity()
            || ip.is_some_and(ignorable_ip)
            || mac.is_some_and(|m| self.s.macs.get(&m).is_some_and(|e| e.gateway))
        {
            return;
        }
        let device = match (mac, ip) {
            (Some(m), _) => m.to_string(),
            (None, Some(i)) => i.to_string(),
            (None, None) => return,
        };
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        let now = cx.now.micros();
        let key = format!("{device}|{}|{source}", field_name(field));
        let (previous, count, since) = match self.s.identities.get_mut(&key) {
            Some(e) => {
                e.last = now;
                if e.values.last().is_some_and(|v| v == value) {
                    e.count += 1;
                    return;
                }
                let known = e.values.iter().any(|v| v == value);
                let previous = e.values.last().cloned().unwrap_or_default();
                let (count, since, first_change) = (e.count, e.since, e.values.len() == 1);
                if !known {
                    if e.values.len() >= MAX_VALUES {
                        e.values.remove(0);
                    }
                    e.values.push(value.to_string());
                } else if let Some(i) = e.values.iter().position(|v| v == value) {
                    let v = e.values.remove(i);
                    e.values.push(v);
                }
                e.count = 1;
                e.since = now;
                // Only the first change of a value held for a while is news: an
                // address answering with several values (a gateway fronting several
                // devices, several modules) is no device changing.
                if known || !first_change {
                    return;
                }
                (previous, count, since)
            }
            None => {
                self.s.evicted_identities +=
                    make_room(&mut self.s.identities, MAX_IDENTITIES, |e| e.last);
                self.s.identities.insert(
                    key,
                    IdEntry {
                        last: now,
                        values: vec![value.to_string()],
                        count: 1,
                        since: now,
                    },
                );
                return;
            }
        };
        if count < MIN_ANNOUNCEMENTS || now.saturating_sub(since) < MIN_HELD {
            return;
        }
        let who = match (ip, mac) {
            (Some(ip), Some(mac)) => format!("{} (MAC {mac})", cx.assets.label(ip)),
            (Some(ip), None) => cx.assets.label(ip),
            (None, Some(mac)) => format!("MAC {mac}"),
            (None, None) => return,
        };
        let controller = ip.is_some_and(|i| cx.assets.criticality(i) == Criticality::Critical);
        let name = field_name(field);
        let explanation = format!(
            "{who} announced {name} {value:?} over {source} at {}, where it had announced {previous:?} {} since {}.",
            cx.now,
            counted(count, "time"),
            Timestamp(since)
        );
        let finding = if controller && field == IdentityField::Firmware {
            Finding::new(
                cx.now,
                Category::PlcControl,
                "novelty",
                0.95,
                format!("Controller firmware changed: {previous} → {value}"),
                explanation,
            )
            .policy()
        } else {
            Finding::new(
                cx.now,
                Category::NewDevice,
                "novelty",
                0.9,
                format!("Device identity changed: {name} {previous} → {value}"),
                explanation,
            )
        };
        cx.report(
            finding
                .between(ip, None, None)
                .src_mac(mac)
                .protocol(source)
                .fuse_key(format!("identity:{device}:{name}")),
        );
    }

    fn save(&self) -> serde_json::Value {
        serde_json::to_value(&self.s).unwrap_or_default()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        self.s = serde_json::from_value(state).map_err(|e| e.to_string())?;
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        let now = self
            .s
            .macs
            .values()
            .map(|e| e.last)
            .chain(self.s.ips.values().map(|e| e.last))
            .max()
            .unwrap_or(0);
        if ip.is_none() {
            let gateways = self.s.macs.values().filter(|e| e.gateway).count();
            out.push(format!(
                "novelty: {} MACs ({gateways} router legs) and {} addresses known; devices arrived in {} of {} minutes of history",
                self.s.macs.len(),
                self.s.ips.len(),
                self.s.arrival_minutes,
                self.s.start.map_or(0, |s| now.saturating_sub(s).max(0) / MINUTE) + 1
            ));
        }
        let mut ips: Vec<(&IpAddr, &IpEntry)> = self
            .s
            .ips
            .iter()
            .filter(|(a, _)| ip.is_none_or(|i| i == **a))
            .collect();
        ips.sort_by_key(|(a, _)| **a);
        for (a, e) in ips {
            let holder = match e.mac {
                Some(m) => format!("uses MAC {m}"),
                None => "is behind a router".to_string(),
            };
            out.push(format!(
                "novelty: {} {holder}, seen in {} minutes, changed MAC {} times",
                assets.label(*a),
                e.minutes,
                e.moves
            ));
        }
        let mut ids: Vec<(&String, &IdEntry)> = self.s.identities.iter().collect();
        ids.sort_by(|a, b| a.0.cmp(b.0));
        for (key, e) in ids {
            let device = key.split('|').next().unwrap_or_default();
            let about = |i: IpAddr| {
                let mac = self.s.ips.get(&i).and_then(|ie| ie.mac);
                device == i.to_string() || mac.is_some_and(|m| m.to_string() == device)
            };
            if ip.is_some_and(|i| !about(i)) {
                continue;
            }
            out.push(format!(
                "novelty: {} announces {}",
                key.replace('|', " "),
                e.values.join(" then ")
            ));
        }
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        let Some(ip) = ip else {
            self.s = State::default();
            return;
        };
        let mac = self.s.ips.remove(&ip).and_then(|e| e.mac);
        for e in self.s.macs.values_mut() {
            e.ips.retain(|a| *a != ip);
        }
        let ip_text = format!("{ip}|");
        let mac_text = mac.map(|m| format!("{m}|"));
        if let Some(m) = mac {
            if self.s.macs.get(&m).is_some_and(|e| e.ips.is_empty()) {
                self.s.macs.remove(&m);
            }
        }
        self.s.identities.retain(|k, _| {
            !k.starts_with(&ip_text) && mac_text.as_ref().is_none_or(|m| !k.starts_with(m.as_str()))
        });
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("macs", self.s.macs.len() as u64),
            ("ips", self.s.ips.len() as u64),
            ("identities", self.s.identities.len() as u64),
            ("evicted_macs", self.s.evicted_macs),
            ("evicted_ips", self.s.evicted_ips),
            ("evicted_identities", self.s.evicted_identities),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64) -> Timestamp {
        Timestamp(1_795_854_000_000_000 + secs * 1_000_000)
    }

    fn address(m: &mut Novelty, secs: i64, learning: bool, ip: &str, mac: &str) -> Vec<Finding> {
        let assets = AssetDirectory::default();
        let mut out = Vec::new();
        let mut cx = Cx::new(ts(secs), learning, &assets, &mut out);
        m.on_address(&mut cx, ip.parse().unwrap(), mac.parse().unwrap());
        out
    }

    /// Ten minutes of a small plant: two hosts and a router leg carrying four remote
    /// addresses from two subnets.
    fn learnt() -> Novelty {
        let mut m = Novelty::new();
        for s in (0..600).step_by(10) {
            assert!(address(&mut m, s, true, "10.10.1.11", "00:80:f4:01:01:0b").is_empty());
            address(&mut m, s, true, "10.10.1.12", "00:1b:1b:01:01:0c");
            for ip in ["10.10.2.10", "10.10.2.20", "10.10.2.30", "10.10.4.10"] {
                address(&mut m, s, true, ip, "00:1e:7a:00:00:01");
            }
        }
        m
    }

    #[test]
    fn a_new_mac_after_learning_is_a_new_device_scored_by_a_settled_population() {
        let mut m = learnt();
        let f = address(&mut m, 700, false, "10.10.1.66", "b8:27:eb:66:66:66");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].category, Category::NewDevice);
        assert_eq!(f[0].title, "New device 10.10.1.66");
        // No arrival after discovery in minutes 0–11: (0 + 1) / (12 + 1).
        assert!(
            (f[0].score - (1.0 - 1.0 / 13.0)).abs() < 1e-9,
            "{}",
            f[0].score
        );
        assert_eq!(
            f[0].explanation,
            "10.10.1.66 with MAC b8:27:eb:66:66:66 (OUI b8:27:eb) appeared for the first time at \
             2026-11-28T08:31:40.000000Z. Before it, 3 MACs were known and devices had arrived in 0 of 12 minutes of history (after the first 5)."
        );
        assert!(address(&mut m, 710, false, "10.10.1.66", "b8:27:eb:66:66:66").is_empty());
    }

    #[test]
    fn router_legs_carry_addresses_without_conflicts_and_remote_senders_are_devices() {
        let mut m = learnt();
        // A routed host seen behind its own MAC is a new MAC, not an address conflict.
        let f = address(&mut m, 650, false, "10.10.2.10", "00:14:22:01:02:0a");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].title, "New device 10.10.2.10");
        // Behind the router, an address is a device once it sends TCP or UDP.
        assert!(address(&mut m, 700, false, "10.10.3.99", "00:1e:7a:00:00:01").is_empty());
        let assets = AssetDirectory::default();
        let mut out = Vec::new();
        let open = |client: &str, transport| FlowOpen {
            id: 7,
            ts: ts(701),
            transport,
            client_ip: client.parse().unwrap(),
            client_port: 40000,
            client_mac: None,
            server_ip: "10.10.1.11".parse().unwrap(),
            server_port: 502,
            server_mac: None,
            to_group: false,
        };
        let mut cx = Cx::new(ts(701), false, &assets, &mut out);
        m.on_flow_open(&mut cx, &open("10.10.3.98", TransportKind::Icmp));
        m.on_flow_open(&mut cx, &open("203.0.113.50", TransportKind::Tcp));
        assert!(
            out.is_empty(),
            "ICMP errors of routers and public hosts are no devices"
        );
        let mut cx = Cx::new(ts(701), false, &assets, &mut out);
        m.on_flow_open(&mut cx, &open("10.10.3.99", TransportKind::Tcp));
        m.on_flow_open(&mut cx, &open("10.10.3.99", TransportKind::Tcp));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].title, "New device 10.10.3.99");
        assert_eq!(
            out[0].explanation,
            "10.10.3.99 behind a router (known by its IP only) appeared for the first time at \
             2026-11-28T08:31:41.000000Z. Before it, 4 MACs were known and devices had arrived \
             in 1 of 12 minutes of history (after the first 5)."
        );
    }

    #[test]
    fn an_ipv6_host_with_rotating_addresses_is_no_router() {
        let mut m = learnt();
        let mac = "00:0c:29:aa:bb:cc";
        let mut all = address(&mut m, 600, false, "10.10.1.50", mac);
        for (i, ip) in [
            "fe80::1",
            "2001:db8:1::10",
            "2001:db8:1::11",
            "2001:db8:1::12",
        ]
        .iter()
        .enumerate()
        {
            all.extend(address(&mut m, 610 + i as i64, false, ip, mac));
        }
        let titles: Vec<&str> = all.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(titles, vec!["New device 10.10.1.50"]);
        assert!(!m.s.macs[&mac.parse().unwrap()].gateway);
        assert!(is_router_leg(&[
            "2001:db8:1::1".parse().unwrap(),
            "2001:db8:2::1".parse().unwrap()
        ]));
    }

    #[test]
    fn a_second_mac_claiming_an_active_address_is_a_conflict_reported_once() {
        let mut m = learnt();
        address(&mut m, 600, false, "10.10.1.11", "00:80:f4:01:01:0b");
        address(&mut m, 601, false, "10.10.1.99", "00:0c:29:aa:bb:cc");
        let f = address(&mut m, 602, false, "10.10.1.11", "00:0c:29:aa:bb:cc");
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].title,
            "Address conflict on 10.10.1.11: MAC 00:0c:29:aa:bb:cc claims it"
        );
        assert_eq!(
            f[0].explanation,
            "10.10.1.11 is held by MAC 00:80:f4:01:01:0b, last seen 2 s before, and now MAC \
             00:0c:29:aa:bb:cc (OUI 00:0c:29) uses it too (ARP spoofing or a duplicate address). \
             In 11 minutes of history the address changed MAC 0 times."
        );
        assert!(f[0].score > 0.9);
        assert!(address(&mut m, 603, false, "10.10.1.11", "00:80:f4:01:01:0b").is_empty());
        assert!(address(&mut m, 604, false, "10.10.1.11", "00:0c:29:aa:bb:cc").is_empty());
    }

    #[test]
    fn identity_changes_of_a_controller_firmware_are_policy() {
        let mut m = Novelty::new();
        let plc = records::AssetRecord {
            kind: "asset",
            id: "ip:10.10.1.11".into(),
            mac: None,
            ips: ["10.10.1.11".parse().unwrap()].into(),
            vendor: None,
            hostnames: ["plc1".to_string()].into(),
            identity: Default::default(),
            role: records::Role::Plc,
            zone: None,
            purdue_level: None,
            first_seen: Default::default(),
            last_seen: Default::default(),
            protocols_served: Default::default(),
            protocols_used: Default::default(),
            peers: Default::default(),
            is_gateway: false,
        };
        let assets = AssetDirectory::from_assets(&[plc]);
        let mut out = Vec::new();
        let ip = Some("10.10.1.11".parse().unwrap());
        let fw = IdentityField::Firmware;
        let mut cx = Cx::new(ts(0), true, &assets, &mut out);
        m.on_identity(&mut cx, ip, None, fw, "1.0", "modbus");
        m.on_identity(&mut cx, ip, None, fw, "1.0", "modbus");
        let mut cx = Cx::new(ts(660), true, &assets, &mut out);
        m.on_identity(&mut cx, ip, None, fw, "2.1", "modbus");
        assert_eq!(out.len(), 1, "policy: reported while learning");
        assert_eq!(out[0].category, Category::PlcControl);
        assert_eq!(out[0].title, "Controller firmware changed: 1.0 → 2.1");
        assert_eq!(
            out[0].explanation,
            "10.10.1.11 (PLC plc1) announced firmware \"2.1\" over modbus at \
             2026-11-28T08:31:00.000000Z, where it had announced \"1.0\" 2 times since \
             2026-11-28T08:20:00.000000Z."
        );
        let mut cx = Cx::new(ts(1400), false, &assets, &mut out);
        m.on_identity(&mut cx, ip, None, fw, "1.0", "modbus");
        m.on_identity(&mut cx, ip, None, fw, "3.0", "modbus");
        assert_eq!(
            out.len(),
            1,
            "a value seen before, then a second change: no news"
        );
    }

    #[test]
    fn a_controller_taking_a_new_address_is_news_a_host_is_not() {
        let mut m = learnt();
        let plc = records::AssetRecord {
            kind: "asset",
            id: "ip:10.10.1.11".into(),
            mac: None,
            ips: ["10.10.1.11".parse().unwrap()].into(),
            vendor: None,
            hostnames: ["plc1".to_string()].into(),
            identity: Default::default(),
            role: records::Role::Plc,
            zone: None,
            purdue_level: None,
            first_seen: Default::default(),
            last_seen: Default::default(),
            protocols_served: Default::default(),
            protocols_used: Default::default(),
            peers: Default::default(),
            is_gateway: false,
        };
        let assets = AssetDirectory::from_assets(&[plc]);
        let mut out = Vec::new();
        let mut cx = Cx::new(ts(700), false, &assets, &mut out);
        m.on_address(
            &mut cx,
            "10.10.1.120".parse().unwrap(),
            "00:80:f4:01:01:0b".parse().unwrap(),
        );
        m.on_address(
            &mut cx,
            "10.10.1.121".parse().unwrap(),
            "00:1b:1b:01:01:0c".parse().unwrap(),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].title,
            "Known device 00:80:f4:01:01:0b took a new address 10.10.1.120"
        );
        assert_eq!(
            out[0].explanation,
            "MAC 00:80:f4:01:01:0b (OUI 00:80:f4), known as 10.10.1.11, now also uses 10.10.1.120. \
             In 11 minutes of history this MAC took a new address 0 times."
        );
    }

    #[test]
    fn an_address_fronting_several_devices_is_no_identity_change() {
        let mut m = Novelty::new();
        let assets = AssetDirectory::default();
        let mut out = Vec::new();
        let ip = Some("10.10.3.5".parse().unwrap());
        for (i, vendor) in ["A", "B", "A", "C", "B"].iter().enumerate() {
            let mut cx = Cx::new(ts(700 + i as i64), false, &assets, &mut out);
            m.on_identity(&mut cx, ip, None, IdentityField::Vendor, vendor, "bacnet");
        }
        assert!(out.is_empty());
    }

    #[test]
    fn state_survives_save_and_restore_and_forget_drops_an_address() {
        let m = learnt();
        let mut r = Novelty::new();
        r.restore(m.save()).unwrap();
        assert_eq!(r.counters(), m.counters());
        let mut lines = Vec::new();
        r.baseline(
            Some("10.10.1.11".parse().unwrap()),
            &AssetDirectory::default(),
            &mut lines,
        );
        assert_eq!(
            lines,
            vec!["novelty: 10.10.1.11 uses MAC 00:80:f4:01:01:0b, seen in 10 minutes, changed MAC 0 times"]
        );
        r.forget(Some("10.10.1.11".parse().unwrap()));
        let mut f = address(&mut r, 700, false, "10.10.1.11", "00:80:f4:01:01:0b");
        assert_eq!(
            f.pop().map(|f| f.title),
            Some("New device 10.10.1.11".to_string())
        );
    }
}
