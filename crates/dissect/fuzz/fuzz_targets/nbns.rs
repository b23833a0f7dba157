//! Fuzzes the NBNS parser and dissector.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::nbns::{parser, NbnsDissector};
use dissect::{Direction, Dissector, Emitter, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = parser::parse_message(data) {
        let mut text = String::new();
        for q in msg.questions() {
            q.name.write_text(&mut text);
        }
        for r in msg.records() {
            r.name.write_text(&mut text);
            for _ in r.nb_entries() {}
            for n in r.node_names() {
                n.name.write_text(&mut text);
            }
            let _ = r.unit_id();
        }
        assert_eq!(msg.questions().count(), usize::from(msg.header.qdcount));
    }
    let _ = parser::looks_like_nbns(data);
    let mut out = Emitter::default();
    let c = common::ctx(Transport::Udp, 137, 137);
    NbnsDissector::default().on_datagram(&c, Direction::ToServer, data, &mut out);
});
