//! Fuzzes the c37118 parser entry points and the dissector's UDP, TCP and gap paths.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::c37118::{parser, C37118Dissector};
use dissect::{Direction, Dissector, Emitter, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parser::frame_len(data);
    let _ = parser::parse_frame(data);
    let _ = parser::parse_config(data, |_| {});
    let _ = dissect::c37118::content_matches(data);

    let mut out = Emitter::default();
    let udp = common::ctx(Transport::Udp, 40000, 4713);
    let mut d = C37118Dissector::new();
    d.on_datagram(&udp, Direction::ToServer, data, &mut out);
    d.on_datagram(&udp, Direction::ToClient, data, &mut out);

    // Stream path: split the input in three, play the stream layer's buffer contract.
    let tcp = common::ctx(Transport::Tcp, 40000, 4712);
    let mut d = C37118Dissector::new();
    let a = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let b = (a + data.len()) / 2;
    let mut buf = Vec::new();
    for (i, chunk) in [&data[..a], &data[a..b], &data[b..]].into_iter().enumerate() {
        if i == 2 && a % 2 == 1 {
            d.on_gap(&tcp, Direction::ToServer, 7, &mut out);
        }
        buf.extend_from_slice(chunk);
        let n = d.on_stream(&tcp, Direction::ToServer, &buf, &mut out);
        assert!(n <= buf.len());
        buf.drain(..n);
    }
});
