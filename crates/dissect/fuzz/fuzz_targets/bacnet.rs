//! Fuzzes the BACnet/IP parsers and dissector.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::bacnet::{parser, BacnetDissector};
use dissect::{Direction, Dissector, Emitter, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parser::looks_like_bacnet(data);
    let _ = parser::parse_npdu(data);
    if let Ok(a) = parser::parse_apdu(data) {
        let _ = a.type_code();
    }
    for t in parser::Tags::new(data) {
        let _ = (t.number(), t.unsigned(), t.object_id(), t.text());
    }
    let c = common::ctx(Transport::Udp, 47808, 47808);
    let mut d = BacnetDissector::default();
    let mut out = Emitter::default();
    d.on_datagram(&c, Direction::ToServer, data, &mut out);
    d.on_datagram(&c, Direction::ToClient, data, &mut out);
    // The same APDU behind a valid BVLC and NPDU header reaches the service decoders.
    let mut m = vec![0x81, 0x0A, 0, 0, 0x01, 0x04];
    m.extend_from_slice(data);
    let n = (m.len() as u16).to_be_bytes();
    m[2] = n[0];
    m[3] = n[1];
    d.on_datagram(&c, Direction::ToServer, &m, &mut out);
    d.on_datagram(&c, Direction::ToClient, &m, &mut out);
});
