//! Fuzzes the Modbus parser entry points and the dissector's stream and datagram paths.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::modbus::parser;
use dissect::modbus::ModbusDissector;
use dissect::{Direction, Dissector, Emitter, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parser::Frame::Complete { pdu, consumed, .. }) = parser::parse_frame(data) {
        assert!(consumed <= data.len() && !pdu.is_empty());
    }
    let _ = parser::parse_request(data);
    if let Ok(parser::Response::DeviceIdentification { objects, .. }) = parser::parse_response(data) {
        for o in objects {
            let _ = o.value.len();
        }
    }
    let _ = parser::plausible_header(data);
    let _ = dissect::modbus::content_matches(data, true);

    let mut out = Emitter::default();
    let udp = common::ctx(Transport::Udp, 40000, 502);
    ModbusDissector::new().on_datagram(&udp, Direction::ToServer, data, &mut out);

    // Stream path, both directions sharing one dissector (pairing), split in three, with a
    // gap when the first byte is odd: play the stream layer's buffer contract.
    let tcp = common::ctx(Transport::Tcp, 40000, 502);
    let mut d = ModbusDissector::new();
    let a = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let b = (a + data.len()) / 2;
    let mut bufs = [Vec::new(), Vec::new()];
    for (i, chunk) in [&data[..a], &data[a..b], &data[b..]].into_iter().enumerate() {
        let (dir, k) = if i == 1 { (Direction::ToClient, 1) } else { (Direction::ToServer, 0) };
        if i == 2 && a % 2 == 1 {
            d.on_gap(&tcp, dir, 7, &mut out);
        }
        bufs[k].extend_from_slice(chunk);
        let n = d.on_stream(&tcp, dir, &bufs[k], &mut out);
        assert!(n <= bufs[k].len());
        bufs[k].drain(..n);
        // Responses parsed from the same bytes exercise pairing.
        let n = d.on_stream(&tcp, Direction::ToClient, chunk, &mut out);
        assert!(n <= chunk.len());
    }
    for e in &out.events {
        assert!(e.values.len() <= dissect::modbus::MAX_VALUES);
    }
});
