//! Fuzzes the OPC UA binary parsers and dissector: streams fed whole and split in two,
//! which must give the same events when nothing was malformed.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::opcua::{parser, OpcuaDissector};
use dissect::{Direction, Dissector, Emitter, Transport};
use libfuzzer_sys::fuzz_target;

fn stream(chunks: &[&[u8]]) -> Emitter {
    let c = common::ctx(Transport::Tcp, 50000, 4840);
    let mut d = OpcuaDissector::default();
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
    let _ = parser::looks_like_opcua(data);
    let mut r = parser::Reader::new(data);
    let mut text = String::new();
    let _ = r.node_id(true, Some(&mut text));
    let _ = r.variant(0);
    let _ = r.data_value(0);
    let _ = r.request_header();
    let _ = r.response_header();
    let _ = r.application_description();
    let _ = parser::parse_secure(parser::MessageType::Open, data);

    // A body behind a well-formed MSG header on a channel with policy None.
    let mut m = b"MSGF".to_vec();
    m.extend_from_slice(&((data.len() + 24) as u32).to_le_bytes());
    m.extend_from_slice(&[0; 16]);
    m.extend_from_slice(data);
    let _ = stream(&[&m]);

    let whole = stream(&[data]);
    if let Some(&cut) = data.first() {
        let cut = usize::from(cut) % (data.len() + 1);
        let split = stream(&[&data[..cut], &data[cut..]]);
        if whole.anomalies.is_empty() && split.anomalies.is_empty() {
            assert_eq!(whole.events, split.events);
        }
    }
});
