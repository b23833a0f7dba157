//! The asset inventory: which devices exist, their addresses, names, vendors and peers.
//!
//! Purpose: turn what the sensor sees (flow starts and ends, ARP, layer-2 frames,
//! dissector observations) into one record per device. A device on the monitored segment
//! is identified by its MAC; an address seen only behind a router (its frames carry the
//! router's MAC) becomes an IP-only asset. A MAC that carries many source addresses is a
//! gateway.
//!
//! Guarantees: evidence is kept raw (per MAC, per IP) and assets are derived from it on
//! demand, so a late ARP reply or gateway decision re-shapes earlier assets correctly.
//! Memory is bounded by [`InventoryConfig`] caps; [`InventoryStats`] counts every time a
//! cap is hit. No wall clock: all times come from packets.
//!
//! Caller's duty: feed evidence in packet-time order; call [`Inventory::assets`] to get the
//! current records.
#![forbid(unsafe_code)]

mod behaviour;
mod derive;
mod evidence;
mod vendor;

pub use evidence::{Inventory, InventoryConfig, InventoryStats};
pub use vendor::vendor_of;
