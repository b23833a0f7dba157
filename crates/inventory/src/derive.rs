//! Assets derived from the raw evidence.

use crate::behaviour::Behaviour;
use crate::evidence::{IdentityKey, Inventory, IpEvidence, MacEvidence};
use crate::vendor::vendor_of;
use dissect::IdentityField;
use records::{AssetRecord, Identity, IdentitySource, Role, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use wire::MacAddr;

/// The /24 (IPv4) or /64 (IPv6) an address lies in: the usual size of one plant segment.
fn subnet_of(ip: IpAddr) -> (bool, u64) {
    match ip {
        IpAddr::V4(v4) => (false, u64::from(u32::from(v4) >> 8)),
        IpAddr::V6(v6) => (true, (u128::from(v6) >> 64) as u64),
    }
}

impl Inventory {
    /// True when `ev` forwards for others: it carries more unclaimed addresses than a host
    /// would, or addresses from more than one subnet (a host's addresses share its
    /// subnet; a router leg carries every subnet routed through it).
    fn is_gateway(&self, ev: &MacEvidence) -> bool {
        let unclaimed = ev.ips.values().filter(|claimed| !**claimed).count();
        if unclaimed > self.config.gateway_min_ips {
            return true;
        }
        let mut subnets = ev.ips.keys().map(|ip| subnet_of(*ip));
        match subnets.next() {
            Some(first) => subnets.any(|s| s != first),
            None => false,
        }
    }

    /// The current inventory, one record per device, sorted by id.
    pub fn assets(&self) -> Vec<AssetRecord> {
        // Which MACs own which addresses: a host owns every address seen behind it; a
        // gateway owns only the addresses it claimed in ARP (the rest are routed).
        let mut owned_by: BTreeMap<IpAddr, Vec<MacAddr>> = BTreeMap::new();
        let mut gateways = BTreeSet::new();
        for (mac, ev) in &self.macs {
            let gateway = self.is_gateway(ev);
            if gateway {
                gateways.insert(*mac);
            }
            for (ip, claimed) in &ev.ips {
                if *claimed || !gateway {
                    owned_by.entry(*ip).or_default().push(*mac);
                }
            }
        }

        let mut out: Vec<AssetRecord> = Vec::with_capacity(self.macs.len());
        for (mac, ev) in &self.macs {
            let is_gateway = gateways.contains(mac);
            let ips: BTreeSet<IpAddr> = ev
                .ips
                .iter()
                .filter(|(_, claimed)| **claimed || !is_gateway)
                .map(|(ip, _)| *ip)
                .collect();
            let mut asset = self.blank(format!("mac:{mac}"), Some(*mac), ev.first, ev.last);
            asset.vendor = vendor_of(*mac).map(str::to_string);
            asset.hostnames.extend(ev.names.iter().cloned());
            asset.is_gateway = is_gateway;
            let behaviour = self.behaviour_of(ips.iter().copied());
            asset.role = if is_gateway {
                Role::Gateway
            } else if ev.network_device {
                Role::Network
            } else {
                behaviour.role().unwrap_or(Role::Unknown)
            };
            self.merge_identity(&mut asset, IdentityKey::Mac(*mac));
            for ip in ips {
                self.merge_ip(&mut asset, ip);
            }
            out.push(asset);
        }
        for (ip, ev) in &self.ips {
            // Addresses behind a router that never sent a packet (scanned or flooded
            // targets that did not answer) are not devices.
            if owned_by.contains_key(ip) || !ev.sent {
                continue;
            }
            let mut asset = self.blank(format!("ip:{ip}"), None, ev.first, ev.last);
            self.merge_ip(&mut asset, *ip);
            asset.role = self.behaviour_of([*ip]).role().unwrap_or(Role::Unknown);
            out.push(asset);
        }
        for asset in &mut out {
            // A device seen only in IT protocols is an IT host.
            let protocols = asset.protocols_served.iter().chain(&asset.protocols_used);
            let (mut any, mut ot) = (false, false);
            for p in protocols {
                any = true;
                ot |= crate::behaviour::is_ot(p);
            }
            if asset.role == Role::Unknown && any && !ot {
                asset.role = Role::ItHost;
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    fn blank(
        &self,
        id: String,
        mac: Option<MacAddr>,
        first: Timestamp,
        last: Timestamp,
    ) -> AssetRecord {
        AssetRecord {
            kind: "asset",
            id,
            mac,
            ips: BTreeSet::new(),
            vendor: None,
            hostnames: BTreeSet::new(),
            identity: Identity::default(),
            role: Role::Unknown,
            zone: None,
            purdue_level: None,
            first_seen: first,
            last_seen: last,
            protocols_served: BTreeSet::new(),
            protocols_used: BTreeSet::new(),
            peers: BTreeSet::new(),
            is_gateway: false,
        }
    }

    /// The combined industrial-protocol behaviour of these addresses.
    fn behaviour_of(&self, ips: impl IntoIterator<Item = IpAddr>) -> Behaviour {
        let mut all = Behaviour::default();
        for ip in ips {
            if let Some(b) = self.behaviour.get(&ip) {
                all.merge(b);
            }
        }
        all
    }

    /// Fills identity fields the device announced (fields already set are kept: MAC
    /// claims are merged first, then each address's).
    fn merge_identity(&self, asset: &mut AssetRecord, key: IdentityKey) {
        let Some(claims) = self.identities.get(&key) else {
            return;
        };
        let id = &mut asset.identity;
        for (field, claim) in claims {
            let slot = match field {
                IdentityField::Vendor => &mut id.vendor,
                IdentityField::Product => &mut id.product,
                IdentityField::Model => &mut id.model,
                IdentityField::Firmware => &mut id.firmware,
                IdentityField::Serial => &mut id.serial,
                IdentityField::SshHostKey => &mut id.ssh_host_key,
                IdentityField::TlsCertificate => &mut id.tls_certificate,
                // A DHCP client's software class and identifier say nothing the record
                // holds (the bridging model compares identifiers across MACs).
                IdentityField::VendorClass | IdentityField::DhcpClientId => continue,
            };
            if slot.is_none() {
                *slot = Some(claim.value.clone());
                id.sources.insert(
                    field.name().to_string(),
                    IdentitySource {
                        protocol: claim.source.to_string(),
                        ts: claim.ts,
                    },
                );
            }
        }
    }

    /// Adds what is known of `ip` to `asset`, widening its first and last sighting.
    fn merge_ip(&self, asset: &mut AssetRecord, ip: IpAddr) {
        asset.ips.insert(ip);
        self.merge_identity(asset, IdentityKey::Ip(ip));
        if let Some(names) = self.ip_names.get(&ip) {
            asset.hostnames.extend(names.iter().cloned());
        }
        let Some(ev): Option<&IpEvidence> = self.ips.get(&ip) else {
            return;
        };
        asset.first_seen = asset.first_seen.min(ev.first);
        asset.last_seen = asset.last_seen.max(ev.last);
        asset.peers.extend(ev.peers.iter().copied());
        asset
            .protocols_served
            .extend(ev.served.iter().map(|p| p.to_string()));
        asset
            .protocols_used
            .extend(ev.used.iter().map(|p| p.to_string()));
    }
}
