//! Raw evidence about devices, gathered from the sensor's outputs.

use crate::behaviour::{Behaviour, SentKey};
use dissect::{Event, IdentityField, NameSource, Observation};
use records::{FlowRecord, Timestamp};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Hash maps keyed by addresses an attacker can choose: a keyed, DoS-resistant hasher that
/// is much faster than SipHash. Nothing depends on their iteration order.
type AddrMap<K, V> = HashMap<K, V, ahash::RandomState>;
use std::net::IpAddr;
use wire::{ArpInfo, MacAddr};

/// Caps and thresholds of the inventory.
#[derive(Clone, Debug)]
pub struct InventoryConfig {
    /// A MAC with more than this many source addresses that it never claimed in ARP is a
    /// gateway; those addresses become IP-only assets.
    pub gateway_min_ips: usize,
    /// Most MACs tracked; further MACs are counted and ignored.
    pub max_macs: usize,
    /// Most IP addresses tracked.
    pub max_ips: usize,
    /// Most addresses remembered per MAC.
    pub max_ips_per_mac: usize,
    /// Most peers remembered per IP address.
    pub max_peers_per_ip: usize,
    /// Most names remembered per MAC or IP address.
    pub max_names: usize,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        Self {
            gateway_min_ips: 3,
            max_macs: 65_536,
            max_ips: 262_144,
            max_ips_per_mac: 4_096,
            max_peers_per_ip: 1_024,
            max_names: 16,
        }
    }
}

/// How often a cap was hit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InventoryStats {
    /// MACs not tracked because `max_macs` was reached.
    pub macs_dropped: u64,
    /// Addresses not tracked because `max_ips` was reached.
    pub ips_dropped: u64,
    /// Address-to-MAC bindings not kept because `max_ips_per_mac` was reached.
    pub mac_ips_dropped: u64,
    /// Peers not kept because `max_peers_per_ip` was reached.
    pub peers_dropped: u64,
    /// Names not kept because `max_names` was reached.
    pub names_dropped: u64,
}

/// Whom an identity claim is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum IdentityKey {
    /// The device at this address.
    Ip(IpAddr),
    /// The device with this MAC.
    Mac(MacAddr),
}

/// One identity field's value, with the protocol and time it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IdentityClaim {
    pub value: String,
    pub source: &'static str,
    pub ts: Timestamp,
}

/// What was seen of one MAC.
#[derive(Clone, Debug)]
pub(crate) struct MacEvidence {
    pub first: Timestamp,
    pub last: Timestamp,
    /// Addresses sent from (or to) this MAC, with `true` when the MAC claimed the
    /// address itself in ARP (sender of a request or reply).
    pub ips: BTreeMap<IpAddr, bool>,
    pub names: BTreeSet<String>,
    /// Announced itself as a network device (LLDP/CDP).
    pub network_device: bool,
}

/// What was seen of one IP address.
#[derive(Clone, Debug)]
pub(crate) struct IpEvidence {
    pub first: Timestamp,
    pub last: Timestamp,
    pub peers: BTreeSet<IpAddr>,
    pub served: BTreeSet<&'static str>,
    pub used: BTreeSet<&'static str>,
    /// IP bytes of the flows this address took part in.
    pub bytes: u64,
    /// The address sent at least one packet (it started a flow or answered one). An
    /// address that was only ever sent to, through a router, may not exist at all (a scan).
    pub sent: bool,
}

/// The asset inventory. Feed it evidence; read assets with [`Inventory::assets`].
#[derive(Debug, Default)]
pub struct Inventory {
    pub(crate) config: InventoryConfig,
    pub(crate) macs: AddrMap<MacAddr, MacEvidence>,
    pub(crate) ips: AddrMap<IpAddr, IpEvidence>,
    /// Names given to addresses (DNS answers, NetBIOS). Kept apart from `ips` because
    /// naming an address is not evidence that a device at that address is active.
    pub(crate) ip_names: AddrMap<IpAddr, BTreeSet<String>>,
    /// Industrial-protocol behaviour per address (bounded like `ips`).
    pub(crate) behaviour: AddrMap<IpAddr, Behaviour>,
    /// Identity fields devices announced, by address and by MAC (the latest wins).
    pub(crate) identities: AddrMap<IdentityKey, BTreeMap<IdentityField, IdentityClaim>>,
    pub(crate) stats: InventoryStats,
    /// Events recently taken into `behaviour`, by [`SentKey::slot`]: the steady stream
    /// of identical polls on many flows skips the map.
    recent_events: Vec<Option<SentKey>>,
}

/// Slots of `Inventory::recent_events`, as a power of two.
const RECENT_EVENT_BITS: u32 = 10;

/// True for addresses that can belong to one device (not unspecified, multicast or
/// limited broadcast).
pub(crate) fn is_device_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast()),
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_multicast()),
    }
}

fn is_device_mac(mac: MacAddr) -> bool {
    !(mac.is_group() || mac.is_zero())
}

impl Inventory {
    /// An empty inventory.
    pub fn new(config: InventoryConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// The `n` addresses that moved the most IP bytes, largest first (ties by address).
    pub fn top_talkers(&self, n: usize) -> Vec<(IpAddr, u64)> {
        let mut all: Vec<(IpAddr, u64)> = self.ips.iter().map(|(ip, ev)| (*ip, ev.bytes)).collect();
        all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(n);
        all
    }

    /// Counters of caps hit.
    pub fn stats(&self) -> &InventoryStats {
        &self.stats
    }

    fn touch_mac(&mut self, ts: Timestamp, mac: MacAddr) -> Option<&mut MacEvidence> {
        if !is_device_mac(mac) {
            return None;
        }
        if self.macs.len() >= self.config.max_macs && !self.macs.contains_key(&mac) {
            self.stats.macs_dropped += 1;
            return None;
        }
        let ev = self.macs.entry(mac).or_insert_with(|| MacEvidence {
            first: ts,
            last: ts,
            ips: BTreeMap::new(),
            names: BTreeSet::new(),
            network_device: false,
        });
        ev.first = ev.first.min(ts);
        ev.last = ev.last.max(ts);
        Some(ev)
    }

    fn touch_ip(&mut self, ts: Timestamp, ip: IpAddr) -> Option<&mut IpEvidence> {
        if !is_device_address(ip) {
            return None;
        }
        if self.ips.len() >= self.config.max_ips && !self.ips.contains_key(&ip) {
            self.stats.ips_dropped += 1;
            return None;
        }
        let ev = self.ips.entry(ip).or_insert_with(|| IpEvidence {
            first: ts,
            last: ts,
            peers: BTreeSet::new(),
            served: BTreeSet::new(),
            used: BTreeSet::new(),
            bytes: 0,
            sent: false,
        });
        ev.first = ev.first.min(ts);
        ev.last = ev.last.max(ts);
        Some(ev)
    }

    /// Binds `ip` to `mac` (`claimed`: the MAC announced the address itself in ARP).
    fn bind(&mut self, ts: Timestamp, mac: MacAddr, ip: IpAddr, claimed: bool) {
        if !is_device_address(ip) {
            self.touch_mac(ts, mac);
            return;
        }
        let cap = self.config.max_ips_per_mac;
        let Some(ev) = self.touch_mac(ts, mac) else {
            return;
        };
        let known = ev.ips.len();
        match ev.ips.entry(ip) {
            std::collections::btree_map::Entry::Occupied(mut e) => *e.get_mut() |= claimed,
            std::collections::btree_map::Entry::Vacant(e) if known < cap => {
                e.insert(claimed);
            }
            std::collections::btree_map::Entry::Vacant(_) => self.stats.mac_ips_dropped += 1,
        }
    }

    /// A flow started: both ends exist, at these addresses behind these MACs.
    pub fn on_flow_start(
        &mut self,
        ts: Timestamp,
        client: (IpAddr, Option<MacAddr>),
        server: (IpAddr, Option<MacAddr>),
    ) {
        for (ip, mac) in [client, server] {
            // A frame to a group MAC goes to a broadcast or multicast address (e.g. a
            // subnet broadcast like 10.1.2.255), which is no device.
            if mac.is_some_and(|m| m.is_group()) {
                continue;
            }
            if let Some(mac) = mac {
                self.bind(ts, mac, ip, false);
            }
            self.touch_ip(ts, ip);
        }
        if let Some(ev) = self.ips.get_mut(&client.0) {
            ev.sent = true;
        }
    }

    /// `ip` sent from `mac` (another MAC than the one its flow started with: a flow seen
    /// on two monitored segments, or a failover).
    pub fn on_mac_seen(&mut self, ts: Timestamp, ip: IpAddr, mac: MacAddr) {
        if mac.is_group() {
            return;
        }
        self.bind(ts, mac, ip, false);
        if let Some(ev) = self.touch_ip(ts, ip) {
            ev.sent = true;
        }
    }

    /// A flow ended (or was reported): last-seen times, peers and protocols.
    pub fn on_flow_end(&mut self, flow: &FlowRecord) {
        let max_peers = self.config.max_peers_per_ip;
        for mac in [flow.src_mac, flow.dst_mac].into_iter().flatten() {
            self.touch_mac(flow.ts_end, mac);
        }
        let answered = flow.packets_to_client > 0;
        let mut peers_dropped = 0;
        // Broadcast and multicast destinations (group MACs) are no devices and no peers.
        let group = |mac: Option<MacAddr>| mac.is_some_and(|m| m.is_group());
        let sides = [
            (
                flow.src_ip,
                flow.dst_ip,
                true,
                group(flow.src_mac),
                group(flow.dst_mac),
            ),
            (
                flow.dst_ip,
                flow.src_ip,
                false,
                group(flow.dst_mac),
                group(flow.src_mac),
            ),
        ];
        for (ip, peer, is_client, own_group, peer_group) in sides {
            if own_group {
                continue;
            }
            let Some(ev) = self.touch_ip(flow.ts_end, ip) else {
                continue;
            };
            ev.bytes += flow.bytes_to_server + flow.bytes_to_client;
            ev.sent |= is_client || answered;
            if !peer_group && is_device_address(peer) && !ev.peers.contains(&peer) {
                if ev.peers.len() < max_peers {
                    ev.peers.insert(peer);
                } else {
                    peers_dropped += 1;
                }
            }
            if let Some(app) = flow.app {
                // A server is only credited with a protocol it actually answered.
                if is_client {
                    ev.used.insert(app);
                } else if answered {
                    ev.served.insert(app);
                }
            }
        }
        self.stats.peers_dropped += peers_dropped;
    }

    /// An ARP packet: its sender claims its address.
    pub fn on_arp(&mut self, ts: Timestamp, arp: &ArpInfo) {
        let sender_ip = IpAddr::V4(arp.sender_ip);
        // Gratuitous/probe ARP uses 0.0.0.0 as sender: the MAC exists, no address claimed.
        self.bind(ts, arp.sender_mac, sender_ip, true);
    }

    /// A non-IP frame (Profinet, GOOSE, LLDP ...) from `src`.
    pub fn on_l2_frame(&mut self, ts: Timestamp, src: MacAddr) {
        self.touch_mac(ts, src);
    }

    /// A device announced itself in LLDP or CDP.
    pub fn on_network_announcement(
        &mut self,
        ts: Timestamp,
        src: MacAddr,
        name: Option<&str>,
        addresses: &[IpAddr],
        source: NameSource,
    ) {
        if let Some(ev) = self.touch_mac(ts, src) {
            ev.network_device = true;
        }
        if let Some(name) = name {
            self.on_observation(
                ts,
                &Observation::Hostname {
                    ip: None,
                    mac: Some(src),
                    name: name.to_string(),
                    source,
                },
            );
        }
        for &ip in addresses {
            self.bind(ts, src, ip, true);
        }
    }

    /// A protocol event: what its sender did, for role inference. `sender_is_server`:
    /// the sender is the flow's responder (for layer-2 events, whether it answered).
    pub fn on_event(&mut self, event: &Event, sender_is_server: bool) {
        let Some(sender) = event.src_ip else {
            return;
        };
        let key = SentKey::new(sender, event, sender_is_server);
        let slot = key.slot(RECENT_EVENT_BITS);
        if self.recent_events.get(slot) == Some(&Some(key)) {
            // Taken before into an entry that is never removed: nothing would change.
            return;
        }
        if self.behaviour.len() >= self.config.max_ips && !self.behaviour.contains_key(&sender) {
            self.stats.ips_dropped += 1;
            return;
        }
        self.behaviour
            .entry(sender)
            .or_default()
            .sent(event, sender_is_server);
        if self.recent_events.is_empty() {
            self.recent_events = vec![None; 1 << RECENT_EVENT_BITS];
        }
        self.recent_events[slot] = Some(key);
    }

    /// A dissector's observation.
    pub fn on_observation(&mut self, ts: Timestamp, obs: &Observation) {
        match obs {
            Observation::Hostname { ip, mac, name, .. } => {
                let max = self.config.max_names;
                let mut dropped = 0;
                if let Some(mac) = mac {
                    if let Some(ip) = ip {
                        self.bind(ts, *mac, *ip, true);
                    }
                    if let Some(ev) = self.touch_mac(ts, *mac) {
                        dropped += insert_capped(&mut ev.names, name, max);
                    }
                } else if let Some(ip) = ip.filter(|ip| is_device_address(*ip)) {
                    if let Some(names) = self.ip_names.get_mut(&ip) {
                        dropped += insert_capped(names, name, max);
                    } else if self.ip_names.len() < self.config.max_ips {
                        self.ip_names.insert(ip, BTreeSet::from([name.clone()]));
                    } else {
                        dropped += 1;
                    }
                }
                self.stats.names_dropped += dropped;
            }
            Observation::Identity {
                ip,
                mac,
                field,
                value,
                source,
            } => {
                // A host key or certificate belongs to the serving address: the frame
                // that carried it may come from the router in front of the server.
                let key = match (mac, ip) {
                    (_, Some(ip)) if field.is_host_identity() => IdentityKey::Ip(*ip),
                    (Some(mac), _) if !mac.is_group() => IdentityKey::Mac(*mac),
                    (_, Some(ip)) => IdentityKey::Ip(*ip),
                    _ => return,
                };
                if !self.identities.contains_key(&key)
                    && self.identities.len() >= self.config.max_macs
                {
                    self.stats.names_dropped += 1;
                    return;
                }
                let claim = IdentityClaim {
                    value: value.clone(),
                    source,
                    ts,
                };
                let claims = self.identities.entry(key).or_default();
                if field.is_host_identity() {
                    // A host serves several keys (one per type): keep the first.
                    claims.entry(*field).or_insert(claim);
                } else {
                    claims.insert(*field, claim);
                }
            }
        }
    }
}

fn insert_capped(set: &mut BTreeSet<String>, name: &str, cap: usize) -> u64 {
    if set.contains(name) {
        0
    } else if set.len() < cap {
        set.insert(name.to_string());
        0
    } else {
        1
    }
}
