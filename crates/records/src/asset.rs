//! The `asset` record.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use wire::MacAddr;

/// What a device does in the plant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Programmable logic controller.
    Plc,
    /// Remote terminal unit.
    Rtu,
    /// Intelligent electronic device (substation).
    Ied,
    /// Human-machine interface.
    Hmi,
    /// SCADA server.
    ScadaServer,
    /// Engineering workstation.
    EngineeringWorkstation,
    /// Historian.
    Historian,
    /// IT host.
    ItHost,
    /// Switch, router or other network device.
    Network,
    /// A MAC carrying many IP addresses: a router or gateway.
    Gateway,
    /// Not yet known.
    #[default]
    Unknown,
}

/// Identity learnt from protocol data (not from the MAC vendor prefix).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// Manufacturer.
    pub vendor: Option<String>,
    /// Product name.
    pub product: Option<String>,
    /// Model / order number.
    pub model: Option<String>,
    /// Firmware / software version.
    pub firmware: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// SSH host key the device serves, as OpenSSH shows its fingerprint
    /// (`SHA256:<base64> (<key type>)`); the first seen. Absent from JSON when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_host_key: Option<String>,
    /// SHA-256 of the TLS certificate the device serves (64 lower-case hex digits, of
    /// the leaf certificate's DER); the first seen. Absent from JSON when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_certificate: Option<String>,
    /// Where each field came from: field name (`vendor`, `product`, `model`,
    /// `firmware`, `serial`, `ssh_host_key`, `tls_certificate`) to the protocol and time
    /// of the message that carried it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, IdentitySource>,
}

/// The protocol message an identity field was read from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitySource {
    /// Protocol that carried the field (`modbus`, `s7comm`, `enip` ...).
    pub protocol: String,
    /// Time of the first message that carried the value.
    pub ts: Timestamp,
}

/// One device in the inventory.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AssetRecord {
    /// Always `"asset"`.
    pub kind: &'static str,
    /// Stable id: `mac:<mac>` for devices on the local segment, `ip:<ip>` for addresses
    /// seen only behind a router.
    pub id: String,
    /// MAC address, for local-segment devices.
    pub mac: Option<MacAddr>,
    /// IP addresses seen for this device.
    pub ips: BTreeSet<IpAddr>,
    /// Vendor from the IEEE OUI registry.
    pub vendor: Option<String>,
    /// Names from DHCP, DNS, NetBIOS, LLDP, CDP.
    pub hostnames: BTreeSet<String>,
    /// Identity from protocol data.
    pub identity: Identity,
    /// Role.
    pub role: Role,
    /// Zone name, once zones are configured or proposed.
    pub zone: Option<String>,
    /// Purdue level, once known.
    pub purdue_level: Option<u8>,
    /// First packet from or to this device.
    pub first_seen: Timestamp,
    /// Last packet from or to this device.
    pub last_seen: Timestamp,
    /// Application protocols this device answered as a server.
    pub protocols_served: BTreeSet<String>,
    /// Application protocols this device used as a client.
    pub protocols_used: BTreeSet<String>,
    /// IP addresses this device exchanged traffic with.
    pub peers: BTreeSet<IpAddr>,
    /// True when this MAC carries many IP addresses (router/gateway).
    pub is_gateway: bool,
}

impl AssetRecord {
    /// Folds in what an earlier record of the same device knew: addresses, names,
    /// peers and protocols are united, the time span widened, and fields this record
    /// has not (yet) learnt — vendor, identity, role, zone, Purdue level — taken from
    /// the earlier one. Where both know a value, this (newer) record's value wins.
    pub fn absorb_history(&mut self, older: &AssetRecord) {
        self.ips.extend(older.ips.iter().copied());
        self.hostnames.extend(older.hostnames.iter().cloned());
        self.peers.extend(older.peers.iter().copied());
        self.protocols_served
            .extend(older.protocols_served.iter().cloned());
        self.protocols_used
            .extend(older.protocols_used.iter().cloned());
        self.first_seen = self.first_seen.min(older.first_seen);
        self.last_seen = self.last_seen.max(older.last_seen);
        if self.mac.is_none() {
            self.mac = older.mac;
        }
        if self.vendor.is_none() {
            self.vendor.clone_from(&older.vendor);
        }
        let (id, old) = (&mut self.identity, &older.identity);
        for (name, slot, earlier) in [
            ("vendor", &mut id.vendor, &old.vendor),
            ("product", &mut id.product, &old.product),
            ("model", &mut id.model, &old.model),
            ("firmware", &mut id.firmware, &old.firmware),
            ("serial", &mut id.serial, &old.serial),
            ("ssh_host_key", &mut id.ssh_host_key, &old.ssh_host_key),
            (
                "tls_certificate",
                &mut id.tls_certificate,
                &old.tls_certificate,
            ),
        ] {
            if slot.is_none() && earlier.is_some() {
                slot.clone_from(earlier);
                if let Some(source) = old.sources.get(name) {
                    id.sources.insert(name.to_string(), source.clone());
                }
            }
        }
        if self.role == Role::Unknown {
            self.role = older.role;
        }
        if self.zone.is_none() {
            self.zone.clone_from(&older.zone);
        }
        if self.purdue_level.is_none() {
            self.purdue_level = older.purdue_level;
        }
        self.is_gateway |= older.is_gateway;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, seen: (i64, i64)) -> AssetRecord {
        AssetRecord {
            kind: "asset",
            id: id.to_string(),
            mac: None,
            ips: BTreeSet::new(),
            vendor: None,
            hostnames: BTreeSet::new(),
            identity: Identity::default(),
            role: Role::Unknown,
            zone: None,
            purdue_level: None,
            first_seen: Timestamp(seen.0),
            last_seen: Timestamp(seen.1),
            protocols_served: BTreeSet::new(),
            protocols_used: BTreeSet::new(),
            peers: BTreeSet::new(),
            is_gateway: false,
        }
    }

    #[test]
    fn history_fills_what_the_newer_record_lacks_and_keeps_what_it_knows() {
        let mut older = record("ip:10.0.0.5", (100, 200));
        older.role = Role::Plc;
        older.ips.insert("10.0.0.5".parse().unwrap());
        older.protocols_served.insert("modbus".into());
        older.identity.product = Some("TM221CE16R".into());
        older.identity.firmware = Some("1.0".into());
        for field in ["product", "firmware"] {
            older.identity.sources.insert(
                field.into(),
                IdentitySource {
                    protocol: "modbus".into(),
                    ts: Timestamp(150),
                },
            );
        }
        let mut newer = record("ip:10.0.0.5", (300, 400));
        newer.identity.firmware = Some("2.0".into());
        newer.identity.sources.insert(
            "firmware".into(),
            IdentitySource {
                protocol: "modbus".into(),
                ts: Timestamp(350),
            },
        );
        newer.protocols_served.insert("s7comm".into());
        newer.absorb_history(&older);
        assert_eq!(newer.role, Role::Plc);
        assert_eq!(
            (newer.first_seen, newer.last_seen),
            (Timestamp(100), Timestamp(400))
        );
        assert_eq!(newer.identity.product.as_deref(), Some("TM221CE16R"));
        assert_eq!(newer.identity.firmware.as_deref(), Some("2.0"));
        assert_eq!(newer.identity.sources["firmware"].ts, Timestamp(350));
        assert_eq!(newer.identity.sources["product"].ts, Timestamp(150));
        let served: Vec<&str> = newer.protocols_served.iter().map(String::as_str).collect();
        assert_eq!(served, ["modbus", "s7comm"]);
        assert_eq!(newer.ips.len(), 1);
    }
}
