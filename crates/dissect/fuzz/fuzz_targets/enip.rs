//! Fuzzes the EtherNet/IP and CIP parsers and dissector: datagrams, and streams fed
//! whole and split in two, which must give the same events when nothing was malformed.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::enip::{parser, EnipDissector};
use dissect::{Direction, Dissector, Emitter, Transport};
use libfuzzer_sys::fuzz_target;

fn stream(chunks: &[&[u8]]) -> Emitter {
    let c = common::ctx(Transport::Tcp, 50000, 44818);
    let mut d = EnipDissector::default();
    let mut out = Emitter::default();
    let mut buf = Vec::new();
    for ch in chunks {
        buf.extend_from_slice(ch);
        let used = d.on_stream(&c, Direction::ToServer, &buf, &mut out);
        assert!(used <= buf.len());
        buf.drain(..used);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let mut tag = String::new();
    let _ = parser::parse_path(data, &mut tag);
    if let Ok(m) = parser::parse_cip(data) {
        let _ = m;
    }
    let _ = parser::parse_cpf(data);
    let _ = parser::parse_identity(data);
    let _ = parser::parse_forward_open(data, data.first().is_some_and(|b| b & 1 == 1));
    let _ = parser::parse_unconnected_send(data);
    let _ = parser::multiple_service_parts(data, 8, |_| {});
    let _ = parser::logix_values(0xCA, data, 8, |_, _| {});

    let mut out = Emitter::default();
    let mut d = EnipDissector::default();
    let io = common::ctx(Transport::Udp, 2222, 2222);
    d.on_datagram(&io, Direction::ToServer, data, &mut out);
    let udp = common::ctx(Transport::Udp, 50000, 44818);
    d.on_datagram(&udp, Direction::ToClient, data, &mut out);

    let whole = stream(&[data]);
    if let Some(&cut) = data.first() {
        let cut = usize::from(cut) % (data.len() + 1);
        let split = stream(&[&data[..cut], &data[cut..]]);
        if whole.anomalies.is_empty() && split.anomalies.is_empty() {
            assert_eq!(whole.events, split.events);
        }
    }
});
