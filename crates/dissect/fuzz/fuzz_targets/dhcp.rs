//! Fuzzes the DHCP and DHCPv6 parsers and dissectors.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::dhcp::{v4, v6, DhcpDissector, Dhcpv6Dissector};
use dissect::{Direction, Dissector, Emitter, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = v4::parse(data) {
        let _ = msg.client_mac();
        for _ in v4::OptionIter::new(msg.raw_options) {}
        if let Some(f) = msg.options.client_fqdn {
            let _ = f.write_text(&mut String::new());
        }
    }
    if let Ok(msg) = v6::parse(data) {
        let _ = msg.options.client_id.and_then(v6::duid_mac);
    }
    let mut out = Emitter::default();
    let c = common::ctx(Transport::Udp, 68, 67);
    DhcpDissector::default().on_datagram(&c, Direction::ToServer, data, &mut out);
    let c = common::ctx(Transport::Udp, 546, 547);
    Dhcpv6Dissector::default().on_datagram(&c, Direction::ToServer, data, &mut out);
    // The content probe must accept any input too.
    let _ = v4::looks_like_dhcp(data);
});
