//! The `asset` record.

use crate::Timestamp;
use serde::Serialize;
use std::collections::BTreeSet;
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
