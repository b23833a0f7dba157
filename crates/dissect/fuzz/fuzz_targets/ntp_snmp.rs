//! Fuzzes the NTP and SNMP datagram parsers and dissectors.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::ntp::{self, NtpDissector};
use dissect::snmp::{parser, SnmpDissector};
use dissect::{Direction, Dissector, Emitter, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ntp::parse(data);
    if data.len() >= 8 {
        let mut t = [0u8; 8];
        t.copy_from_slice(&data[..8]);
        let _ = ntp::ntp_time_text(u64::from_be_bytes(t));
    }
    let _ = parser::parse_message(data);
    let _ = parser::oid_text(data);
    let _ = parser::integer(data);
    let mut out = Emitter::default();
    let udp = common::ctx(Transport::Udp, 40000, 161);
    let mut s = SnmpDissector::new();
    s.on_datagram(&udp, Direction::ToServer, data, &mut out);
    s.on_datagram(&udp, Direction::ToClient, data, &mut out);
    NtpDissector::new().on_datagram(&udp, Direction::ToServer, data, &mut out);
});
