//! Fuzzes the BACnet/IP parsers and dissector, and segmented-message reassembly with
//! the input read as a series of segments.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::bacnet::{parser, BacnetDissector};
use dissect::{Direction, Dissector, Emitter, FlowContext, Transport};
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
    segments(&c, data);
});

/// Reads `data` as segments `[flags, invoke id, sequence, time step, length, data...]`
/// and sends each in a well-formed segmented APDU (flags: bit 0 more follows, bit 1
/// confirmed request rather than complex ACK, bit 2 direction, bit 3 an Abort instead,
/// bits 4-7 the service), then ends the flow.
fn segments(c: &FlowContext, data: &[u8]) {
    let mut d = BacnetDissector::default();
    let mut out = Emitter::default();
    let mut ctx = *c;
    let mut rest = data;
    while let [flags, invoke, seq, step, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (body, r) = tail.split_at(n);
        rest = r;
        // Up to 64 s per step, so idle timeouts are reached.
        ctx.ts = ctx.ts.plus_micros(i64::from(*step) * 250_000);
        let more = if flags & 1 != 0 { 0x04 } else { 0 };
        let service = flags >> 4;
        let apdu: Vec<u8> = if flags & 8 != 0 {
            vec![0x70, *invoke, 0]
        } else if flags & 2 != 0 {
            vec![0x0A | more, 0x05, *invoke, *seq, 4, service]
        } else {
            vec![0x38 | more, *invoke, *seq, 4, service]
        };
        let mut m = vec![0x81, 0x0A, 0, 0, 0x01, 0x00];
        m.extend_from_slice(&apdu);
        m.extend_from_slice(body);
        let l = (m.len() as u16).to_be_bytes();
        m[2] = l[0];
        m[3] = l[1];
        let dir = if flags & 4 != 0 {
            Direction::ToClient
        } else {
            Direction::ToServer
        };
        d.on_datagram(&ctx, dir, &m, &mut out);
    }
    d.on_end(&ctx, &mut out);
}
