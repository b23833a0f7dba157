//! Shared helpers for the fuzz targets.

use dissect::{FlowContext, Transport};
use std::net::{IpAddr, Ipv4Addr};

/// A flow context between two fixed addresses.
pub fn ctx(transport: Transport, client_port: u16, server_port: u16) -> FlowContext {
    FlowContext {
        transport,
        vlan: None,
        client_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        client_port,
        client_mac: None,
        server_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        server_port,
        server_mac: None,
        ts: records::Timestamp(0),
    }
}
