//! `bridging`: paths around the zone boundaries — dual-homed hosts, hosts forwarding
//! between zones, new gateways, and routers or cellular modems plugged in inside.
//!
//! Inputs: every IP packet with its source MAC ([`IpFrame`]), ARP claims, announced
//! names, DHCP vendor classes and host identities (DHCP client ids, SSH host keys, TLS
//! certificates). Only packets between internal addresses count: traffic with public
//! addresses is the `external` model's, and the routers carrying it are often silent
//! during learning.
//!
//! - **Dual-homed host**: one MAC holding (claiming in ARP, or sending from) addresses
//!   in two zones, or sending in two VLANs.
//! - **New gateway**: one MAC sending from [`GATEWAY_MIN_IPS`] or more addresses it
//!   never claimed in ARP — it relays others' packets.
//! - **Host forwarding between zones**: the same packet (addresses, IPv4 identification,
//!   length) seen again within [`FORWARD_WINDOW_MICROS`] from another MAC with a lower
//!   TTL — the second MAC routed it — and its ends are in different zones.
//! - **One identity in two zones**: one host identity seen at two MACs whose addresses
//!   lie in different zones — one machine with an interface in each. The identities
//!   ([`IdKind`]): an announced name (DHCP host name, NetBIOS, mDNS); a DHCP client id
//!   (a DUID is one per host, so the same DUID from two MACs is two interfaces of one
//!   host); an SSH server host key; a TLS server certificate (the same certificate at
//!   two addresses is one server, or a certificate copied between hosts — a cloned
//!   vendor image — which is worth showing too). A host key or certificate counts only
//!   at internal addresses, and its zone is the serving address's; a name or client id
//!   is placed by the address it names, else by the addresses its MAC holds. One
//!   mechanism serves all four: [`MAX_IDENTITIES`] tracked (the least recently seen
//!   evicted), [`MAX_MACS_PER_IDENTITY`] MACs each, judged on the tick after a second
//!   MAC appears (and on later ticks while a MAC's zone is unknown), known once seen in
//!   two zones while learning or accepted.
//! - **Router or modem inside**: a DHCP vendor class from [`ROUTER_CLASSES`].
//!
//! While learning, every MAC that relays packets or sends from several addresses becomes
//! a known gateway, identities in several zones and vendor classes seen become known; after
//! learning, the first sighting of each of the above is a finding (category
//! `it_ot_crossing`: each is a path between zones the policy does not know).

use crate::assets::{is_group, is_public, AssetDirectory};
use crate::finding::{Category, Finding};
use crate::input::IpFrame;
use crate::model::{Cx, Model};
use crate::stats::Map;
use dissect::{IdentityField, NameSource};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;
use wire::MacAddr;

/// MACs tracked.
pub const MAX_MACS: usize = 4096;
/// Addresses kept per MAC (sent from, and claimed in ARP, each).
pub const MAX_ADDRS_PER_MAC: usize = 16;
/// VLANs kept per MAC.
pub const MAX_VLANS_PER_MAC: usize = 8;
/// Recent packets kept to recognise a forwarded copy.
pub const MAX_RECENT: usize = 8192;
/// A copy of a packet later than this is not the same packet forwarded.
pub const FORWARD_WINDOW_MICROS: i64 = 1_000_000;
/// Host identities (names, client ids, host keys, certificates) tracked.
pub const MAX_IDENTITIES: usize = 2048;
/// MACs kept per identity.
pub const MAX_MACS_PER_IDENTITY: usize = 4;
/// Addresses a MAC sends from without claiming them before it counts as a gateway. A
/// host sends from its own address (one, claimed or not); a second unclaimed source
/// means it carries another host's packets.
pub const GATEWAY_MIN_IPS: usize = 2;
/// Known gateways, identities and vendor classes remembered (each).
pub const MAX_KNOWN: usize = 4096;

const MODEL: &str = "bridging";

/// DHCP vendor class prefixes (option 60, compared without case) sent by routers,
/// cellular gateways and phones sharing their mobile connection — each a way out of
/// the air gap when it appears inside. Generic client software classes are not here:
/// busybox `udhcp x.y`, `dhcpcd-x.y` and `MSFT 5.0` are sent by ordinary Linux and
/// Windows hosts too.
pub const ROUTER_CLASSES: &[(&str, &str)] = &[
    // Cisco Plug-and-Play: IOS-XE routers, including IR1101/IR829 cellular routers.
    ("ciscopnp", "Cisco Plug-and-Play router"),
    // Android's DHCP client: a phone, often tethering its mobile connection.
    ("android-dhcp", "Android phone or hotspot"),
    ("mikrotik", "MikroTik RouterOS router"),
    ("teltonika", "Teltonika cellular router"),
    ("sierra wireless", "Sierra Wireless cellular gateway"),
    ("digi", "Digi cellular router"),
    ("huawei", "Huawei modem or router"),
    ("zte", "ZTE modem or router"),
    ("fritz!box", "AVM FRITZ!Box router"),
];

/// The router or modem family a DHCP vendor class names, if any.
pub fn router_class(class: &str) -> Option<&'static str> {
    let lower = class.trim().to_ascii_lowercase();
    ROUTER_CLASSES
        .iter()
        .find(|(prefix, _)| lower.starts_with(prefix))
        .map(|(_, what)| *what)
}

/// What one MAC has been seen doing.
#[derive(Debug, Default)]
struct MacState {
    last: i64,
    /// Addresses it claimed as an ARP sender.
    claimed: Vec<IpAddr>,
    /// Internal addresses it sent packets from.
    sources: Vec<IpAddr>,
    /// VLANs it sent tagged packets in.
    vlans: Vec<u16>,
    /// Packets it was seen forwarding between zones after learning.
    forwarded: u64,
    /// Findings already made about it: bits of [`Kind`].
    reported: u8,
}

/// The findings about one MAC, as bits.
#[derive(Clone, Copy)]
enum Kind {
    DualHomed = 1,
    NewGateway = 2,
    Forwarding = 4,
}

/// A packet as first seen, to recognise its forwarded copy.
#[derive(Clone, Copy)]
struct Seen {
    ts: i64,
    mac: MacAddr,
    ttl: u8,
}

type PacketKey = (IpAddr, IpAddr, u16, u32);

/// What names one host wherever it appears.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// An announced host name (DHCP, NetBIOS, mDNS), lower-case, without its domain.
    Name,
    /// A DHCP client identifier ([`IdentityField::DhcpClientId`]).
    DhcpClientId,
    /// An SSH server host key ([`IdentityField::SshHostKey`]).
    SshHostKey,
    /// A TLS server certificate's SHA-256 ([`IdentityField::TlsCertificate`]).
    TlsCertificate,
}

impl IdKind {
    /// The kind an identity field is, if it names a host.
    pub fn of(field: IdentityField) -> Option<Self> {
        match field {
            IdentityField::DhcpClientId => Some(Self::DhcpClientId),
            IdentityField::SshHostKey => Some(Self::SshHostKey),
            IdentityField::TlsCertificate => Some(Self::TlsCertificate),
            _ => None,
        }
    }

    /// Words for it, also the start of its findings' fuse key.
    pub fn label(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::DhcpClientId => "DHCP client id",
            Self::SshHostKey => "SSH host key",
            Self::TlsCertificate => "TLS certificate",
        }
    }

    /// True when the address seen with it is the host's own (a server's), so an
    /// identity at a public address is not one of the plant's hosts. A name's or client
    /// id's address is only a hint: the MAC's own addresses stand in for it.
    fn address_is_own(self) -> bool {
        matches!(self, Self::SshHostKey | Self::TlsCertificate)
    }

    fn protocol(self) -> Option<&'static str> {
        match self {
            Self::Name => None,
            Self::DhcpClientId => Some("dhcp"),
            Self::SshHostKey => Some("ssh"),
            Self::TlsCertificate => Some("tls"),
        }
    }
}

/// One host identity: its kind and value.
type IdKey = (IdKind, String);

/// MACs one identity was seen at.
#[derive(Debug, Default)]
struct IdentityState {
    macs: Vec<(MacAddr, Option<IpAddr>)>,
    last: i64,
    /// Checked again on the next tick (a MAC's zone may be known only later).
    pending: bool,
}

/// What learning and accepted alerts made normal.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Known {
    /// MACs that relay packets (routers, firewalls, layer-3 switches).
    gateways: BTreeSet<MacAddr>,
    /// Identities known in several zones.
    #[serde(default)]
    identities: BTreeSet<IdKey>,
    /// Host names known at several MACs, as saved before identities had kinds: read
    /// into `identities` on restore.
    #[serde(default, skip_serializing)]
    names: BTreeSet<String>,
    /// (MAC, vendor class) pairs seen.
    classes: BTreeSet<(MacAddr, String)>,
}

/// The bridging model.
#[derive(Default)]
pub struct Bridging {
    macs: Map<MacAddr, MacState>,
    recent: Map<PacketKey, Seen>,
    order: VecDeque<(i64, PacketKey)>,
    identities: BTreeMap<IdKey, IdentityState>,
    known: Known,
    macs_evicted: u64,
    recent_dropped: u64,
    identities_evicted: u64,
    forwarded_copies: u64,
}

fn internal(ip: IpAddr) -> bool {
    !ip.is_unspecified() && !ip.is_loopback() && !is_group(ip) && !is_public(ip)
}

fn push_capped(list: &mut Vec<IpAddr>, ip: IpAddr) -> bool {
    if list.contains(&ip) || list.len() >= MAX_ADDRS_PER_MAC {
        return false;
    }
    list.push(ip);
    true
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn list(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(|ip| ip.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Bridging {
    /// The model, knowing nothing.
    pub fn new() -> Self {
        Self::default()
    }

    fn is_gateway(&self, mac: &MacAddr) -> bool {
        self.known.gateways.contains(mac)
    }

    fn learn_gateway(&mut self, mac: MacAddr) {
        if self.known.gateways.len() < MAX_KNOWN {
            self.known.gateways.insert(mac);
        }
    }

    fn mac_mut(&mut self, mac: MacAddr, now: i64) -> &mut MacState {
        if !self.macs.contains_key(&mac) {
            self.macs_evicted += super::evict::make_room(&mut self.macs, MAX_MACS, |s| s.last);
        }
        let state = self.macs.entry(mac).or_default();
        state.last = now;
        state
    }

    /// Zones of a MAC's addresses, in first-seen order, without repeats.
    fn zones_of(state: &MacState, assets: &AssetDirectory) -> Vec<(String, Vec<IpAddr>)> {
        let mut zones: Vec<(String, Vec<IpAddr>)> = Vec::new();
        for ip in state.claimed.iter().chain(&state.sources) {
            let zone = assets.zone(*ip).0;
            match zones.iter_mut().find(|(z, _)| *z == zone) {
                Some((_, ips)) if !ips.contains(ip) => ips.push(*ip),
                Some(_) => {}
                None => zones.push((zone, vec![*ip])),
            }
        }
        zones
    }

    /// After a MAC gained an address: dual-homed or new gateway?
    fn judge_mac(&mut self, cx: &mut Cx<'_>, mac: MacAddr) {
        if self.is_gateway(&mac) {
            return;
        }
        let Some(state) = self.macs.get(&mac) else {
            return;
        };
        let unclaimed: Vec<IpAddr> = state
            .sources
            .iter()
            .filter(|ip| !state.claimed.contains(ip))
            .copied()
            .collect();
        let assets = cx.assets;
        let zones = Self::zones_of(state, assets);
        if cx.learning {
            if unclaimed.len() >= GATEWAY_MIN_IPS || zones.len() >= 2 || state.vlans.len() >= 2 {
                self.learn_gateway(mac);
            }
            return;
        }
        let mut findings = Vec::new();
        if state.vlans.len() >= 2 && state.reported & Kind::DualHomed as u8 == 0 {
            let vlans: Vec<String> = state.vlans.iter().map(|v| v.to_string()).collect();
            let first = state.sources.first().copied();
            findings.push((
                Kind::DualHomed,
                Finding::new(
                    cx.now,
                    Category::ItOtCrossing,
                    MODEL,
                    0.85,
                    format!(
                        "Dual-homed host: MAC {mac} in VLANs {}",
                        vlans.join(" and ")
                    ),
                    format!(
                        "MAC {mac} sent tagged packets in {} VLANs: {}, from {}. One \
                         interface in two VLANs bridges them; it is not a gateway known from \
                         learning.",
                        vlans.len(),
                        vlans.join(", "),
                        list(&state.sources),
                    ),
                )
                .between(first, None, None)
                .fuse_key(format!("dual-homed {mac}")),
            ));
        } else if zones.len() >= 2 && state.reported & Kind::DualHomed as u8 == 0 {
            let held: Vec<String> = zones
                .iter()
                .map(|(zone, ips)| format!("{} in {zone}", list(ips)))
                .collect();
            let first = zones[0].1[0];
            let other = zones[1].1[0];
            findings.push((
                Kind::DualHomed,
                Finding::new(
                    cx.now,
                    Category::ItOtCrossing,
                    MODEL,
                    0.85,
                    format!(
                        "Dual-homed host: MAC {mac} in {} and {}",
                        zones[0].0, zones[1].0
                    ),
                    format!(
                        "MAC {mac} holds addresses in {} zones: {}. It claimed {} in ARP \
                         and sent from {}. One interface in two zones bridges them; it \
                         is not a gateway known from learning.",
                        zones.len(),
                        held.join("; "),
                        if state.claimed.is_empty() {
                            "nothing".to_string()
                        } else {
                            list(&state.claimed)
                        },
                        list(&state.sources),
                    ),
                )
                .between(Some(first), Some(other), None)
                .fuse_key(format!("dual-homed {mac}")),
            ));
        }
        if unclaimed.len() >= GATEWAY_MIN_IPS && state.reported & Kind::NewGateway as u8 == 0 {
            let own = state.claimed.first().copied();
            findings.push((
                Kind::NewGateway,
                Finding::new(
                    cx.now,
                    Category::ItOtCrossing,
                    MODEL,
                    0.8,
                    format!(
                        "New gateway: MAC {mac} carries {} addresses it never claimed",
                        unclaimed.len()
                    ),
                    format!(
                        "MAC {mac}{} sent packets from {} addresses it never claimed in \
                         ARP: {}. A host sends from its own address; a MAC carrying \
                         others' is a router. It did not relay anything while learning.",
                        own.map(|ip| format!(" ({})", assets.label(ip)))
                            .unwrap_or_default(),
                        unclaimed.len(),
                        list(&unclaimed)
                    ),
                )
                .between(own.or(Some(unclaimed[0])), Some(unclaimed[0]), None)
                .fuse_key(format!("new gateway {mac}")),
            ));
        }
        for (kind, finding) in findings {
            if let Some(state) = self.macs.get_mut(&mac) {
                state.reported |= kind as u8;
            }
            cx.report(finding.src_mac(Some(mac)));
        }
    }

    /// The frame's packet seen before from another MAC with a higher TTL: `frame.src_mac`
    /// forwarded it.
    fn forwarded(&mut self, cx: &mut Cx<'_>, frame: &IpFrame, first: Seen) {
        self.forwarded_copies += 1;
        let mac = frame.src_mac;
        if cx.learning {
            self.learn_gateway(mac);
            return;
        }
        if self.is_gateway(&mac) {
            return;
        }
        let assets = cx.assets;
        let (from, _) = assets.zone(frame.src_ip);
        let (to, _) = assets.zone(frame.dst_ip);
        if from == to {
            return;
        }
        let state = self.mac_mut(mac, cx.now.micros());
        state.forwarded += 1;
        if state.reported & Kind::Forwarding as u8 != 0 {
            return;
        }
        state.reported |= Kind::Forwarding as u8;
        let own = state.claimed.first().copied();
        let finding = Finding::new(
            cx.now,
            Category::ItOtCrossing,
            MODEL,
            0.9,
            format!("Host forwarding from {from} to {to}: MAC {mac}"),
            format!(
                "A packet from {} to {} (IPv4 id {}, {} bytes) was sent by MAC {} with TTL \
                 {} and seen again {} µs later from MAC {mac}{} with TTL {}: that MAC \
                 routed it from {from} into {to}. It relayed nothing while learning.",
                assets.label(frame.src_ip),
                assets.label(frame.dst_ip),
                frame.ident,
                frame.len,
                first.mac,
                first.ttl,
                frame.ts.micros() - first.ts,
                own.map(|ip| format!(" ({})", assets.label(ip)))
                    .unwrap_or_default(),
                frame.ttl
            ),
        )
        .between(Some(frame.src_ip), Some(frame.dst_ip), None)
        .src_mac(Some(mac))
        .fuse_key(format!("forwarding {mac}"));
        cx.report(finding);
    }

    fn remember_packet(&mut self, frame: &IpFrame, key: PacketKey) {
        let now = frame.ts.micros();
        while let Some(&(ts, old)) = self.order.front() {
            if now - ts <= FORWARD_WINDOW_MICROS && self.order.len() < MAX_RECENT {
                break;
            }
            if now - ts <= FORWARD_WINDOW_MICROS {
                self.recent_dropped += 1;
            }
            self.order.pop_front();
            if self.recent.get(&old).is_some_and(|s| s.ts == ts) {
                self.recent.remove(&old);
            }
        }
        let seen = Seen {
            ts: now,
            mac: frame.src_mac,
            ttl: frame.ttl,
        };
        self.recent.insert(key, seen);
        self.order.push_back((now, key));
    }

    /// Identities seen at several MACs: judged once their MACs' zones are known.
    fn judge_identities(&mut self, cx: &mut Cx<'_>) {
        let pending: Vec<IdKey> = self
            .identities
            .iter()
            .filter(|(_, s)| s.pending)
            .map(|(k, _)| k.clone())
            .collect();
        for key in pending {
            let Some(macs) = self.identities.get(&key).map(|s| s.macs.clone()) else {
                continue;
            };
            // Zone per MAC: the address seen with the identity, else the MAC's own.
            let mut zones: Vec<(MacAddr, String, IpAddr)> = Vec::new();
            for (mac, ip) in &macs {
                let ip = ip.filter(|ip| internal(*ip)).or_else(|| {
                    self.macs
                        .get(mac)
                        .and_then(|m| m.claimed.first().or(m.sources.first()).copied())
                });
                if let Some(ip) = ip {
                    zones.push((*mac, cx.assets.zone(ip).0, ip));
                }
            }
            let split = zones.iter().find(|(_, z, _)| *z != zones[0].1).cloned();
            let Some(other) = split else {
                // Unresolved zones may resolve on a later tick; a settled identity may not.
                if zones.len() == macs.len() {
                    if let Some(s) = self.identities.get_mut(&key) {
                        s.pending = false;
                    }
                }
                continue;
            };
            if let Some(s) = self.identities.get_mut(&key) {
                s.pending = false;
            }
            if self.known.identities.contains(&key) {
                continue;
            }
            if cx.learning {
                if self.known.identities.len() < MAX_KNOWN {
                    self.known.identities.insert(key);
                }
                continue;
            }
            let first = &zones[0];
            let (title, explanation) = identity_text(&key, &zones, &first.1, &other.1);
            let mut finding = Finding::new(
                cx.now,
                Category::ItOtCrossing,
                MODEL,
                0.8,
                title,
                explanation,
            )
            .between(Some(first.2), Some(other.2), None)
            .src_mac(Some(first.0))
            .fuse_key(format!("{} {}", key.0.label(), key.1));
            if let Some(protocol) = key.0.protocol() {
                finding = finding.protocol(protocol);
            }
            cx.report(finding);
        }
    }

    /// `value` of `kind` seen at `mac` (or the MAC that claimed `ip`) with `ip`.
    fn sighting(
        &mut self,
        cx: &mut Cx<'_>,
        kind: IdKind,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        value: String,
    ) {
        if kind.address_is_own() && ip.is_some_and(|ip| !internal(ip)) {
            return;
        }
        // DHCP names the client's MAC; other sources name an address, whose MAC is
        // the one that claimed it.
        let mac = mac.or_else(|| {
            let ip = ip?;
            self.macs
                .iter()
                .find(|(_, s)| s.claimed.contains(&ip))
                .map(|(m, _)| *m)
        });
        let Some(mac) = mac.filter(|m| !m.is_group()) else {
            return;
        };
        if value.is_empty() {
            return;
        }
        let key = (kind, value);
        let now = cx.now.micros();
        if !self.identities.contains_key(&key) && self.identities.len() >= MAX_IDENTITIES {
            let oldest = self
                .identities
                .iter()
                .min_by_key(|(k, s)| (s.last, (*k).clone()))
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.identities.remove(&oldest);
                self.identities_evicted += 1;
            }
        }
        let state = self.identities.entry(key).or_default();
        state.last = now;
        let count = state.macs.len();
        match state.macs.iter_mut().find(|(m, _)| *m == mac) {
            Some(entry) if entry.1.is_none() => entry.1 = ip,
            Some(_) => {}
            None if count < MAX_MACS_PER_IDENTITY => {
                state.macs.push((mac, ip));
                state.pending = count >= 1;
            }
            None => {}
        }
    }

    fn vendor_class(&mut self, cx: &mut Cx<'_>, ip: Option<IpAddr>, mac: MacAddr, class: &str) {
        let Some(what) = router_class(class) else {
            return;
        };
        let key = (mac, class.to_string());
        if self.known.classes.contains(&key) {
            return;
        }
        if self.known.classes.len() < MAX_KNOWN {
            self.known.classes.insert(key);
        }
        let ip = ip.filter(|ip| internal(*ip));
        let zone = ip.map(|ip| cx.assets.zone(ip).0);
        let finding = Finding::new(
            cx.now,
            Category::ItOtCrossing,
            MODEL,
            0.85,
            format!("Router or modem inside: DHCP vendor class {class:?} ({what})"),
            format!(
                "MAC {mac}{} asked for an address over DHCP with vendor class {class:?}, \
                 as a {what} does. A router or cellular modem inside is a path out of \
                 the air gap that no firewall sees.",
                match (ip, zone) {
                    (Some(ip), Some(zone)) => format!(" (asking for {ip} in {zone})"),
                    _ => String::new(),
                }
            ),
        )
        .between(ip, None, None)
        .src_mac(Some(mac))
        .protocol("dhcp")
        .fuse_key(format!("vendor class {mac}"));
        cx.report(finding);
    }
}

/// Title and explanation of one identity seen at `zones` ((MAC, zone, address) each),
/// which lie in `a` and `b` (and perhaps more).
fn identity_text(
    (kind, value): &IdKey,
    zones: &[(MacAddr, String, IpAddr)],
    a: &str,
    b: &str,
) -> (String, String) {
    let at_macs = || -> String {
        zones
            .iter()
            .map(|(mac, zone, ip)| format!("MAC {mac} with {ip} in {zone}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let servers = || -> String {
        let list: Vec<String> = zones
            .iter()
            .map(|(mac, zone, ip)| format!("{ip} (MAC {mac}, zone {zone})"))
            .collect();
        and_list(&list)
    };
    match kind {
        IdKind::Name => (
            format!("Host {value} in two zones: {a} and {b}"),
            format!(
                "The host name {value} was announced from {} MACs: {}. One machine with \
                 interfaces in {a} and {b} is a bridge between them.",
                zones.len(),
                at_macs()
            ),
        ),
        IdKind::DhcpClientId => (
            format!("DHCP client id in two zones: {a} and {b}"),
            format!(
                "DHCP client id {value} was sent from {} MACs: {}. A client id names one \
                 host: one machine with interfaces in {a} and {b} is a bridge between them.",
                zones.len(),
                at_macs()
            ),
        ),
        IdKind::SshHostKey => (
            format!("SSH host key in two zones: {a} and {b}"),
            format!(
                "SSH host key {value} is served by {}: one host with interfaces in two \
                 zones, a bridge between {a} and {b} (or a host key copied to another \
                 host).",
                servers()
            ),
        ),
        IdKind::TlsCertificate => (
            format!("Same TLS certificate in two zones: {a} and {b}"),
            format!(
                "The same TLS certificate (SHA-256 {value}) is served by {}: one host \
                 with interfaces in two zones, a bridge between {a} and {b}, or a \
                 certificate copied between hosts (a cloned vendor image).",
                servers()
            ),
        ),
    }
}

/// The learnt state, as saved.
#[derive(Serialize, Deserialize)]
struct Saved {
    known: Known,
}

impl Model for Bridging {
    fn name(&self) -> &'static str {
        MODEL
    }

    fn sees_ip_frames(&self) -> bool {
        true
    }

    fn on_ip_frame(&mut self, cx: &mut Cx<'_>, frame: &IpFrame) {
        if !internal(frame.src_ip) || is_public(frame.dst_ip) || frame.src_mac.is_group() {
            return;
        }
        let key = (frame.src_ip, frame.dst_ip, frame.ident, frame.len);
        let earlier = self.recent.get(&key).copied();
        if let Some(first) = earlier.filter(|first| {
            first.mac != frame.src_mac
                && frame.ttl < first.ttl
                && frame.ts.micros() - first.ts <= FORWARD_WINDOW_MICROS
        }) {
            self.forwarded(cx, frame, first);
        }
        // A forwarded copy is the one a further hop would be compared with.
        self.remember_packet(frame, key);
        let now = frame.ts.micros();
        let state = self.mac_mut(frame.src_mac, now);
        let mut new = push_capped(&mut state.sources, frame.src_ip);
        if let Some(vlan) = frame.vlan {
            if !state.vlans.contains(&vlan) && state.vlans.len() < MAX_VLANS_PER_MAC {
                state.vlans.push(vlan);
                new = true;
            }
        }
        if new {
            self.judge_mac(cx, frame.src_mac);
        }
    }

    fn on_arp(&mut self, cx: &mut Cx<'_>, ip: IpAddr, mac: MacAddr) {
        if !internal(ip) || mac.is_group() {
            return;
        }
        let state = self.mac_mut(mac, cx.now.micros());
        if push_capped(&mut state.claimed, ip) {
            self.judge_mac(cx, mac);
        }
    }

    fn on_name(
        &mut self,
        cx: &mut Cx<'_>,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        name: &str,
        _source: NameSource,
    ) {
        let name = name.trim().to_ascii_lowercase();
        let name = name.split('.').next().unwrap_or_default().to_string();
        self.sighting(cx, IdKind::Name, ip, mac, name);
    }

    fn on_identity(
        &mut self,
        cx: &mut Cx<'_>,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        field: IdentityField,
        value: &str,
        _source: &'static str,
    ) {
        if field == IdentityField::VendorClass {
            if let Some(mac) = mac.filter(|m| !m.is_group()) {
                self.vendor_class(cx, ip, mac, value);
            }
        } else if let Some(kind) = IdKind::of(field) {
            self.sighting(cx, kind, ip, mac, value.trim().to_string());
        }
    }

    fn tick(&mut self, cx: &mut Cx<'_>) {
        if self.identities.values().any(|s| s.pending) {
            self.judge_identities(cx);
        }
    }

    fn save(&self) -> serde_json::Value {
        serde_json::to_value(Saved {
            known: Known {
                gateways: self.known.gateways.clone(),
                identities: self.known.identities.clone(),
                names: BTreeSet::new(),
                classes: self.known.classes.clone(),
            },
        })
        .unwrap_or(serde_json::Value::Null)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        if state.is_null() {
            return Ok(());
        }
        let saved: Saved = serde_json::from_value(state).map_err(|e| e.to_string())?;
        self.known = saved.known;
        for name in std::mem::take(&mut self.known.names) {
            if self.known.identities.len() < MAX_KNOWN {
                self.known.identities.insert((IdKind::Name, name));
            }
        }
        Ok(())
    }

    fn baseline(&self, ip: Option<IpAddr>, assets: &AssetDirectory, out: &mut Vec<String>) {
        let holds = |mac: &MacAddr| {
            self.macs.get(mac).is_some_and(|s| {
                ip.is_none_or(|ip| s.claimed.contains(&ip) || s.sources.contains(&ip))
            })
        };
        for mac in &self.known.gateways {
            if ip.is_none() || holds(mac) {
                let addrs = self
                    .macs
                    .get(mac)
                    .map(|s| Self::zones_of(s, assets).len())
                    .unwrap_or(0);
                out.push(format!(
                    "MAC {mac} is a known gateway (relays packets; addresses in {addrs} zone{})",
                    if addrs == 1 { "" } else { "s" }
                ));
            }
        }
        if ip.is_none() {
            for (kind, value) in &self.known.identities {
                let what = match kind {
                    IdKind::Name => "host name",
                    other => other.label(),
                };
                out.push(format!("{what} {value} is known in several zones"));
            }
            for (mac, class) in &self.known.classes {
                out.push(format!(
                    "MAC {mac} sends DHCP vendor class {class:?} (accepted)"
                ));
            }
        }
    }

    fn forget(&mut self, ip: Option<IpAddr>) {
        match ip {
            None => *self = Self::default(),
            Some(ip) => {
                let macs: Vec<MacAddr> = self
                    .macs
                    .iter()
                    .filter(|(_, s)| s.claimed.contains(&ip) || s.sources.contains(&ip))
                    .map(|(m, _)| *m)
                    .collect();
                for mac in macs {
                    self.known.gateways.remove(&mac);
                    self.known.classes.retain(|(m, _)| *m != mac);
                    self.macs.remove(&mac);
                }
            }
        }
    }

    fn accept(&mut self, finding: &Finding) {
        if finding.model != MODEL && finding.model != "operator" {
            return;
        }
        let key = finding.fuse_key.as_str();
        let kinds = [
            IdKind::Name,
            IdKind::DhcpClientId,
            IdKind::SshHostKey,
            IdKind::TlsCertificate,
        ];
        for kind in kinds {
            let value = key
                .strip_prefix(kind.label())
                .and_then(|rest| rest.strip_prefix(' '));
            if let Some(value) = value {
                if self.known.identities.len() < MAX_KNOWN {
                    self.known.identities.insert((kind, value.to_string()));
                }
                return;
            }
        }
        let Some(mac) = finding.src_mac else { return };
        if key.starts_with("vendor class ") {
            // The title quotes the class.
            if let Some(class) = finding
                .title
                .split('"')
                .nth(1)
                .filter(|_| self.known.classes.len() < MAX_KNOWN)
            {
                self.known.classes.insert((mac, class.to_string()));
            }
        } else {
            self.learn_gateway(mac);
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("macs", self.macs.len() as u64),
            ("macs_evicted", self.macs_evicted),
            ("recent_packets", self.recent.len() as u64),
            ("recent_dropped", self.recent_dropped),
            ("identities", self.identities.len() as u64),
            ("identities_evicted", self.identities_evicted),
            ("known_gateways", self.known.gateways.len() as u64),
            ("forwarded_copies", self.forwarded_copies),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::Timestamp;

    const T0: i64 = 1_795_854_985_000_000;
    const HMI: &str = "00:14:22:01:02:0a";
    const ITWS: &str = "00:0f:ea:01:04:0a";
    const RTR_CTL: &str = "00:1e:7a:00:00:01";
    const RTR_IT: &str = "00:1e:7a:00:00:04";
    const LAPTOP: &str = "00:1b:21:77:01:4d";

    fn mac(s: &str) -> MacAddr {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn frame(us: i64, src_mac: &str, src: &str, dst: &str, ident: u16, ttl: u8) -> IpFrame {
        IpFrame {
            ts: Timestamp(T0 + us),
            src_mac: mac(src_mac),
            src_ip: ip(src),
            dst_ip: ip(dst),
            ident,
            len: 60,
            ttl,
            vlan: None,
        }
    }

    /// Runs `f` with a context at `us` (learning when `learning`), returns the findings.
    fn with(
        m: &mut Bridging,
        us: i64,
        learning: bool,
        f: impl FnOnce(&mut Bridging, &mut Cx<'_>),
    ) -> Vec<Finding> {
        with_in(&AssetDirectory::default(), m, us, learning, f)
    }

    /// [`with`] seeing `assets`.
    fn with_in(
        assets: &AssetDirectory,
        m: &mut Bridging,
        us: i64,
        learning: bool,
        f: impl FnOnce(&mut Bridging, &mut Cx<'_>),
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut cx = Cx::new(Timestamp(T0 + us), learning, assets, &mut out);
        f(m, &mut cx);
        out
    }

    /// Assets placed by a zone file: a cell and an office network.
    fn zoned() -> AssetDirectory {
        let text = r#"
[[zone]]
name = "ot-cell-1"
cidrs = ["10.10.1.0/24"]
kind = "ot"
purdue = 1

[[zone]]
name = "it-office"
cidrs = ["192.168.5.0/24"]
kind = "it"
purdue = 4
"#;
        let mut assets = AssetDirectory::default();
        let policy = zones::ZonePolicy::parse(text, "zones.toml").unwrap();
        assets.set_policy(Some(std::sync::Arc::new(policy)));
        assets
    }

    const SSH_KEY: &str = "SHA256:vCSl/5gRIUfYySNBd3G2ySbO6ILYDiqYUdXSNtWC3mw (ssh-ed25519)";
    const CERT: &str = "77801d52b3b1e69987ba79a9205864b5e2c20e29310a94cf1602b85a62ded94e";
    const DUID: &str = "duid 00:01:00:01:2a:2b:2c:2d:00:1b:21:77:01:4d";
    const SRV_CELL: &str = "00:0c:29:5e:10:05";
    const SRV_OFFICE: &str = "00:0c:29:5e:50:05";

    /// `value` of `field` announced by the device at `ip` behind `mac`.
    fn announce(
        m: &mut Bridging,
        cx: &mut Cx<'_>,
        field: IdentityField,
        addr: Option<&str>,
        at: &str,
        value: &str,
    ) {
        m.on_identity(cx, addr.map(ip), Some(mac(at)), field, value, "test");
    }

    #[test]
    fn one_ssh_host_key_served_in_two_zones_is_a_dual_homed_server() {
        let assets = zoned();
        let mut m = learnt();
        let key = IdentityField::SshHostKey;
        let f = with_in(&assets, &mut m, 9_000_000, false, |m, cx| {
            announce(m, cx, key, Some("10.10.1.5"), SRV_CELL, SSH_KEY);
            // Seen again from the same MAC: still one place.
            announce(m, cx, key, Some("10.10.1.5"), SRV_CELL, SSH_KEY);
            m.tick(cx);
            announce(m, cx, key, Some("192.168.5.5"), SRV_OFFICE, SSH_KEY);
            m.tick(cx);
            // Reported once.
            m.tick(cx);
        });
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            f[0].title,
            "SSH host key in two zones: ot-cell-1 and it-office"
        );
        assert_eq!(
            f[0].explanation,
            "SSH host key SHA256:vCSl/5gRIUfYySNBd3G2ySbO6ILYDiqYUdXSNtWC3mw (ssh-ed25519) is \
             served by 10.10.1.5 (MAC 00:0c:29:5e:10:05, zone ot-cell-1) and 192.168.5.5 \
             (MAC 00:0c:29:5e:50:05, zone it-office): one host with interfaces in two zones, \
             a bridge between ot-cell-1 and it-office (or a host key copied to another host)."
        );
        assert_eq!(f[0].category, Category::ItOtCrossing);
        assert_eq!(f[0].src_ip, Some(ip("10.10.1.5")));
        assert_eq!(f[0].dst_ip, Some(ip("192.168.5.5")));
        assert_eq!(f[0].src_mac, Some(mac(SRV_CELL)));
        assert_eq!(f[0].protocol.as_deref(), Some("ssh"));
        assert_eq!(f[0].fuse_key, format!("SSH host key {SSH_KEY}"));
    }

    #[test]
    fn one_host_key_or_certificate_within_a_zone_or_at_public_addresses_is_no_bridge() {
        let assets = zoned();
        let mut m = learnt();
        let f = with_in(&assets, &mut m, 9_000_000, false, |m, cx| {
            for (field, value) in [
                (IdentityField::SshHostKey, SSH_KEY),
                (IdentityField::TlsCertificate, CERT),
            ] {
                // Two servers (or one behind two MACs) in one zone.
                announce(m, cx, field, Some("10.10.1.5"), SRV_CELL, value);
                announce(m, cx, field, Some("10.10.1.6"), SRV_OFFICE, value);
                // A public server seen through a router: not one of the plant's hosts.
                announce(m, cx, field, Some("52.5.123.140"), RTR_IT, value);
            }
            m.tick(cx);
        });
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(m.identities.len(), 2);
        assert!(m
            .identities
            .values()
            .all(|s| s.macs.len() == 2 && !s.pending));
    }

    #[test]
    fn the_same_tls_certificate_in_two_zones_says_same_certificate() {
        let assets = zoned();
        let mut m = learnt();
        let f = with_in(&assets, &mut m, 9_000_000, false, |m, cx| {
            let cert = IdentityField::TlsCertificate;
            announce(m, cx, cert, Some("192.168.5.20"), SRV_OFFICE, CERT);
            announce(m, cx, cert, Some("10.10.1.20"), SRV_CELL, CERT);
            m.tick(cx);
        });
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            f[0].title,
            "Same TLS certificate in two zones: it-office and ot-cell-1"
        );
        assert_eq!(
            f[0].explanation,
            "The same TLS certificate (SHA-256 \
             77801d52b3b1e69987ba79a9205864b5e2c20e29310a94cf1602b85a62ded94e) is served by \
             192.168.5.20 (MAC 00:0c:29:5e:50:05, zone it-office) and 10.10.1.20 (MAC \
             00:0c:29:5e:10:05, zone ot-cell-1): one host with interfaces in two zones, a \
             bridge between it-office and ot-cell-1, or a certificate copied between hosts \
             (a cloned vendor image)."
        );
        assert_eq!(f[0].protocol.as_deref(), Some("tls"));
    }

    #[test]
    fn one_dhcp_duid_from_two_macs_in_two_zones_is_one_host() {
        let mut m = learnt();
        let it_mac = "00:1b:21:77:04:4d";
        let id = IdentityField::DhcpClientId;
        let f = with(&mut m, 9_000_000, false, |m, cx| {
            // The cell-side request names no address: the MAC's ARP claim places it.
            announce(m, cx, id, None, LAPTOP, DUID);
            announce(m, cx, id, Some("10.10.4.108"), it_mac, DUID);
            m.tick(cx);
        });
        assert!(f.is_empty(), "{f:?}");
        let f = with(&mut m, 9_500_000, false, |m, cx| {
            m.on_arp(cx, ip("10.10.1.77"), mac(LAPTOP));
            m.tick(cx);
        });
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            f[0].title,
            "DHCP client id in two zones: 10.10.1.0/24 and 10.10.4.0/24"
        );
        assert_eq!(
            f[0].explanation,
            "DHCP client id duid 00:01:00:01:2a:2b:2c:2d:00:1b:21:77:01:4d was sent from 2 \
             MACs: MAC 00:1b:21:77:01:4d with 10.10.1.77 in 10.10.1.0/24; MAC \
             00:1b:21:77:04:4d with 10.10.4.108 in 10.10.4.0/24. A client id names one host: \
             one machine with interfaces in 10.10.1.0/24 and 10.10.4.0/24 is a bridge between \
             them."
        );
        assert_eq!(f[0].protocol.as_deref(), Some("dhcp"));
    }

    #[test]
    fn identities_in_two_zones_while_learning_or_accepted_are_known() {
        let assets = zoned();
        let key = IdentityField::SshHostKey;
        let both = |m: &mut Bridging, cx: &mut Cx<'_>| {
            announce(m, cx, key, Some("10.10.1.5"), SRV_CELL, SSH_KEY);
            announce(m, cx, key, Some("192.168.5.5"), SRV_OFFICE, SSH_KEY);
            m.tick(cx);
        };
        // Learning: known, and no finding later (also after a save and restore).
        let mut m = Bridging::new();
        assert!(with_in(&assets, &mut m, 0, true, both).is_empty());
        assert!(m
            .known
            .identities
            .contains(&(IdKind::SshHostKey, SSH_KEY.to_string())));
        let mut restored = Bridging::new();
        restored.restore(m.save()).unwrap();
        assert!(with_in(&assets, &mut restored, 9_000_000, false, both).is_empty());
        // After learning: one finding; accepting it makes the key known.
        let mut m = Bridging::new();
        let f = with_in(&assets, &mut m, 9_000_000, false, both);
        assert_eq!(f.len(), 1);
        let mut fresh = Bridging::new();
        fresh.accept(&f[0]);
        assert!(with_in(&assets, &mut fresh, 9_100_000, false, both).is_empty());
        let mut lines = Vec::new();
        fresh.baseline(None, &assets, &mut lines);
        assert_eq!(
            lines,
            vec![format!("SSH host key {SSH_KEY} is known in several zones")]
        );
        // State saved before identities had kinds: its names are known names.
        let mut old = Bridging::new();
        let legacy = serde_json::json!({"known": {
            "gateways": [], "names": ["eng-laptop7"], "classes": []
        }});
        old.restore(legacy).unwrap();
        assert_eq!(
            old.known.identities.iter().collect::<Vec<_>>(),
            vec![&(IdKind::Name, "eng-laptop7".to_string())]
        );
        assert!(old.save()["known"].get("names").is_none());
    }

    #[test]
    fn identities_and_their_macs_stay_within_the_caps() {
        let mut m = Bridging::new();
        let key = IdentityField::SshHostKey;
        with(&mut m, 0, false, |m, cx| {
            for i in 0..(MAX_IDENTITIES + 10) {
                let value = format!("SHA256:{i} (ssh-ed25519)");
                announce(m, cx, key, Some("10.10.1.5"), SRV_CELL, &value);
            }
            for i in 0..10u8 {
                let at = format!("02:00:00:00:00:{i:02x}");
                let ip = format!("10.10.{i}.5");
                announce(m, cx, key, Some(&ip), &at, "SHA256:last (ssh-ed25519)");
            }
        });
        assert_eq!(m.identities.len(), MAX_IDENTITIES);
        assert_eq!(m.identities_evicted, 11);
        let last = &m.identities[&(IdKind::SshHostKey, "SHA256:last (ssh-ed25519)".into())];
        assert_eq!(last.macs.len(), MAX_MACS_PER_IDENTITY);
        // The oldest went first.
        assert!(!m
            .identities
            .contains_key(&(IdKind::SshHostKey, "SHA256:0 (ssh-ed25519)".into())));
    }

    fn feed(m: &mut Bridging, learning: bool, f: IpFrame) -> Vec<Finding> {
        with(m, f.ts.0 - T0, learning, |m, cx| m.on_ip_frame(cx, &f))
    }

    /// Learning: the HMI polls the PLC through the router (seen on both segments), and
    /// the IT workstation reaches the DMZ through it.
    fn learnt() -> Bridging {
        let mut m = Bridging::new();
        with(&mut m, 0, true, |m, cx| {
            m.on_arp(cx, ip("10.10.1.1"), mac(RTR_CTL));
            m.on_arp(cx, ip("10.10.4.1"), mac(RTR_IT));
            m.on_arp(cx, ip("10.10.2.10"), mac(HMI));
        });
        for i in 0..3u16 {
            let us = i64::from(i) * 1_000_000;
            assert!(feed(
                &mut m,
                true,
                frame(us, HMI, "10.10.2.10", "10.10.1.11", i, 64)
            )
            .is_empty());
            assert!(feed(
                &mut m,
                true,
                frame(us + 20, RTR_CTL, "10.10.2.10", "10.10.1.11", i, 63)
            )
            .is_empty());
        }
        m
    }

    #[test]
    fn routers_relaying_while_learning_are_known_gateways() {
        let mut m = learnt();
        assert!(m.known.gateways.contains(&mac(RTR_CTL)));
        assert!(!m.known.gateways.contains(&mac(HMI)));
        // After learning the same router relaying IT traffic is nothing new.
        let f = feed(
            &mut m,
            false,
            frame(9_000_000, ITWS, "10.10.4.10", "10.10.1.11", 77, 64),
        );
        assert!(f.is_empty());
        let f = feed(
            &mut m,
            false,
            frame(9_000_030, RTR_CTL, "10.10.4.10", "10.10.1.11", 77, 63),
        );
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(m.forwarded_copies, 4);
    }

    #[test]
    fn a_host_forwarding_between_zones_is_reported_once_with_the_packet() {
        let mut m = learnt();
        with(&mut m, 8_000_000, false, |m, cx| {
            m.on_arp(cx, ip("10.10.1.77"), mac(LAPTOP));
        });
        let mut found = Vec::new();
        for i in 0..3u16 {
            let us = 9_000_000 + i64::from(i) * 1000;
            found.extend(feed(
                &mut m,
                false,
                frame(us, ITWS, "10.10.4.10", "10.10.1.11", 0xd45c + i, 64),
            ));
            found.extend(feed(
                &mut m,
                false,
                frame(us + 41, LAPTOP, "10.10.4.10", "10.10.1.11", 0xd45c + i, 63),
            ));
        }
        let titles: Vec<&str> = found.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(
            titles,
            vec![
                "Host forwarding from 10.10.4.0/24 to 10.10.1.0/24: MAC 00:1b:21:77:01:4d",
                "Dual-homed host: MAC 00:1b:21:77:01:4d in 10.10.1.0/24 and 10.10.4.0/24",
            ]
        );
        let fwd = &found[0];
        assert_eq!(fwd.category, Category::ItOtCrossing);
        assert_eq!(fwd.src_mac, Some(mac(LAPTOP)));
        assert_eq!(
            fwd.explanation,
            "A packet from 10.10.4.10 to 10.10.1.11 (IPv4 id 54364, 60 bytes) was sent by MAC \
             00:0f:ea:01:04:0a with TTL 64 and seen again 41 µs later from MAC \
             00:1b:21:77:01:4d (10.10.1.77) with TTL 63: that MAC routed it from \
             10.10.4.0/24 into 10.10.1.0/24. It relayed nothing while learning."
        );
        assert_eq!(
            found[1].explanation,
            "MAC 00:1b:21:77:01:4d holds addresses in 2 zones: 10.10.1.77 in 10.10.1.0/24; \
             10.10.4.10 in 10.10.4.0/24. It claimed 10.10.1.77 in ARP and sent from \
             10.10.4.10. One interface in two zones bridges them; it is not a gateway known \
             from learning."
        );
        assert_eq!(m.macs[&mac(LAPTOP)].forwarded, 3);
        // A second unclaimed source: it is a new gateway too.
        let f = feed(
            &mut m,
            false,
            frame(9_500_000, LAPTOP, "10.10.4.2", "10.10.1.11", 5, 63),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].title,
            "New gateway: MAC 00:1b:21:77:01:4d carries 2 addresses it never claimed"
        );
        assert!(
            f[0].explanation.contains("10.10.4.10, 10.10.4.2"),
            "{}",
            f[0].explanation
        );
    }

    #[test]
    fn relaying_within_a_zone_or_to_public_addresses_is_not_a_crossing() {
        let mut m = learnt();
        let frames = [
            frame(9_000_000, ITWS, "10.10.4.10", "10.10.4.20", 9, 64),
            frame(9_000_010, LAPTOP, "10.10.4.10", "10.10.4.20", 9, 63),
            frame(9_000_020, ITWS, "10.10.4.10", "203.0.113.50", 10, 64),
            frame(9_000_030, LAPTOP, "10.10.4.10", "203.0.113.50", 10, 63),
            // Same TTL: a second capture point, not a hop. Late copy: another packet.
            frame(9_100_000, ITWS, "10.10.4.10", "10.10.1.11", 11, 64),
            frame(9_100_010, RTR_IT, "10.10.4.10", "10.10.1.11", 11, 64),
            frame(9_200_000, ITWS, "10.10.4.10", "10.10.1.11", 12, 64),
            frame(11_200_000, RTR_IT, "10.10.4.10", "10.10.1.11", 12, 63),
        ];
        let f: Vec<Finding> = frames
            .into_iter()
            .flat_map(|fr| feed(&mut m, false, fr))
            .collect();
        assert!(
            f.iter().all(|f| !f.title.starts_with("Host forwarding")),
            "{f:?}"
        );
    }

    #[test]
    fn one_name_at_two_macs_in_two_zones_is_a_bridge() {
        let mut m = learnt();
        let it_mac = mac("00:1b:21:77:04:4d");
        let f = with(&mut m, 9_000_000, false, |m, cx| {
            m.on_name(cx, None, Some(mac(LAPTOP)), "eng-laptop7", NameSource::Dhcp);
            m.on_name(
                cx,
                Some(ip("10.10.4.108")),
                Some(it_mac),
                "ENG-LAPTOP7",
                NameSource::Dhcp,
            );
            m.tick(cx);
        });
        // The cell-side MAC has no address yet: undecided, still pending.
        assert!(f.is_empty());
        let f = with(&mut m, 9_500_000, false, |m, cx| {
            m.on_arp(cx, ip("10.10.1.77"), mac(LAPTOP));
            m.tick(cx);
        });
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            f[0].title,
            "Host eng-laptop7 in two zones: 10.10.1.0/24 and 10.10.4.0/24"
        );
        assert_eq!(
            f[0].explanation,
            "The host name eng-laptop7 was announced from 2 MACs: MAC 00:1b:21:77:01:4d with \
             10.10.1.77 in 10.10.1.0/24; MAC 00:1b:21:77:04:4d with 10.10.4.108 in \
             10.10.4.0/24. One machine with interfaces in 10.10.1.0/24 and 10.10.4.0/24 is a \
             bridge between them."
        );
        // Reported once; two MACs in one zone (a new NIC) are not a bridge.
        let f = with(&mut m, 9_600_000, false, |m, cx| {
            m.tick(cx);
            m.on_name(
                cx,
                Some(ip("10.10.2.40")),
                Some(mac(HMI)),
                "ews1",
                NameSource::Dhcp,
            );
            m.on_name(
                cx,
                Some(ip("10.10.2.41")),
                Some(mac(ITWS)),
                "ews1",
                NameSource::Dhcp,
            );
            m.tick(cx);
        });
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn router_and_modem_vendor_classes_alert_generic_clients_do_not() {
        assert_eq!(router_class("ciscopnp"), Some("Cisco Plug-and-Play router"));
        assert_eq!(
            router_class("android-dhcp-13"),
            Some("Android phone or hotspot")
        );
        assert_eq!(router_class("udhcp 1.35.0"), None);
        assert_eq!(router_class("MSFT 5.0"), None);
        assert_eq!(
            router_class("dhcpcd-9.4.1:Linux-6.1.0:x86_64:GenuineIntel"),
            None
        );
        let mut m = learnt();
        let cell = mac("00:1b:0d:99:01:63");
        let vc = IdentityField::VendorClass;
        let f = with(&mut m, 9_000_000, false, |m, cx| {
            m.on_identity(cx, None, Some(mac(ITWS)), vc, "udhcp 1.35.0", "dhcp");
            m.on_identity(
                cx,
                Some(ip("10.10.1.99")),
                Some(cell),
                vc,
                "ciscopnp",
                "dhcp",
            );
            m.on_identity(
                cx,
                Some(ip("10.10.1.99")),
                Some(cell),
                vc,
                "ciscopnp",
                "dhcp",
            );
        });
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].title,
            "Router or modem inside: DHCP vendor class \"ciscopnp\" (Cisco Plug-and-Play router)"
        );
        assert_eq!(
            f[0].explanation,
            "MAC 00:1b:0d:99:01:63 (asking for 10.10.1.99 in 10.10.1.0/24) asked for an \
             address over DHCP with vendor class \"ciscopnp\", as a Cisco Plug-and-Play router \
             does. A router or cellular modem inside is a path out of the air gap that no \
             firewall sees."
        );
        assert_eq!(f[0].src_ip, Some(ip("10.10.1.99")));
        // Seen while learning: known, no alert later.
        let mut m = Bridging::new();
        with(&mut m, 0, true, |m, cx| {
            m.on_identity(cx, None, Some(cell), vc, "ciscopnp", "dhcp");
        });
        let f = with(&mut m, 9_000_000, false, |m, cx| {
            m.on_identity(cx, None, Some(cell), vc, "ciscopnp", "dhcp");
        });
        assert!(f.is_empty());
    }

    #[test]
    fn accepted_alerts_saved_state_and_forget() {
        let mut m = learnt();
        with(&mut m, 8_000_000, false, |m, cx| {
            m.on_arp(cx, ip("10.10.1.77"), mac(LAPTOP))
        });
        feed(
            &mut m,
            false,
            frame(9_000_000, ITWS, "10.10.4.10", "10.10.1.11", 1, 64),
        );
        let f = feed(
            &mut m,
            false,
            frame(9_000_040, LAPTOP, "10.10.4.10", "10.10.1.11", 1, 63),
        );
        assert_eq!(f.len(), 2);
        let mut fresh = Bridging::new();
        fresh.restore(m.save()).unwrap();
        assert_eq!(fresh.known.gateways.len(), 1);
        fresh.accept(&f[0]);
        assert!(fresh.is_gateway(&mac(LAPTOP)));
        let mut lines = Vec::new();
        fresh.baseline(None, &AssetDirectory::default(), &mut lines);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].starts_with("MAC 00:1b:21:77:01:4d is a known gateway"),
            "{lines:?}"
        );
        m.forget(Some(ip("10.10.1.77")));
        assert!(!m.macs.contains_key(&mac(LAPTOP)));
        m.forget(None);
        assert!(m.known.gateways.is_empty());
    }

    #[test]
    fn one_mac_sending_in_two_vlans_is_dual_homed_unless_learnt() {
        let mut m = learnt();
        let tagged = |us, vlan, ident| IpFrame {
            vlan: Some(vlan),
            ..frame(us, LAPTOP, "10.10.1.77", "10.10.1.11", ident, 64)
        };
        assert!(feed(&mut m, false, tagged(9_000_000, 10, 1)).is_empty());
        let f = feed(&mut m, false, tagged(9_100_000, 40, 2));
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].title,
            "Dual-homed host: MAC 00:1b:21:77:01:4d in VLANs 10 and 40"
        );
        assert_eq!(
            f[0].explanation,
            "MAC 00:1b:21:77:01:4d sent tagged packets in 2 VLANs: 10, 40, from 10.10.1.77. \
             One interface in two VLANs bridges them; it is not a gateway known from learning."
        );
        // A router on a trunk, seen while learning, is a known gateway.
        let mut m = Bridging::new();
        let trunk = |us, vlan| IpFrame {
            vlan: Some(vlan),
            ..frame(us, RTR_CTL, "10.10.1.1", "10.10.1.11", 3, 64)
        };
        feed(&mut m, true, trunk(0, 10));
        feed(&mut m, true, trunk(10, 20));
        assert!(m.is_gateway(&mac(RTR_CTL)));
        assert!(feed(&mut m, false, trunk(9_000_000, 30)).is_empty());
    }

    #[test]
    fn recent_packets_stay_within_the_cap() {
        let mut m = Bridging::new();
        for i in 0..(MAX_RECENT as u32 + 100) {
            let f = IpFrame {
                len: 60 + i,
                ..frame(i64::from(i), HMI, "10.10.2.10", "10.10.1.11", 1, 64)
            };
            feed(&mut m, false, f);
        }
        assert_eq!(m.recent.len(), MAX_RECENT);
        assert_eq!(m.recent_dropped, 100);
        assert_eq!(m.order.len(), MAX_RECENT);
    }
}
