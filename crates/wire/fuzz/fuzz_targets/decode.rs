//! Fuzzes `wire::decode` on every link type (chosen by the first input byte), then the
//! LLDP/CDP parsers and `decode_transport` on whatever the decoder found.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::{decode, decode_transport, LinkType, Network};

const LINK_TYPES: [u32; 10] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let link = LinkType::from_linktype(LINK_TYPES[usize::from(selector) % LINK_TYPES.len()]);
    let d = decode(link, frame);
    match d.network {
        Network::Lldp(bytes) => {
            if let Ok(info) = wire::lldp::parse(bytes) {
                let _ = (info.chassis_id.to_string(), info.port_id.to_string());
            }
        }
        Network::Cdp(bytes) => {
            let _ = wire::cdp::parse(bytes);
        }
        _ => {}
    }
    if let Some(ip) = d.ip() {
        let stated = ip.payload.len() as u32;
        let _ = decode_transport(
            ip.protocol,
            matches!(d.network, Network::Ipv6(_)),
            ip.payload,
            stated,
        );
    }
});
