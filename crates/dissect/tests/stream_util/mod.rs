//! Stream-layer helpers shared by the dissector test files: a flow context, the
//! consumed-bytes delivery contract, and the split-at-every-offset invariant.
#![allow(dead_code)] // each test file uses a different subset

use dissect::{Direction, Dissector, Emitter, Event, FlowContext, Transport};
use std::net::{IpAddr, Ipv4Addr};

pub fn ctx(transport: Transport, server_port: u16) -> FlowContext {
    FlowContext {
        transport,
        vlan: None,
        client_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        client_port: 40000,
        client_mac: None,
        server_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        server_port,
        server_mac: None,
        ts: records::Timestamp(0),
    }
}

/// Plays the stream layer's contract: delivers `chunks` in order, keeping what the
/// dissector did not consume and presenting it again with the next chunk.
pub fn feed(
    d: &mut dyn Dissector,
    ctx: &FlowContext,
    dir: Direction,
    chunks: &[&[u8]],
    out: &mut Emitter,
) {
    let mut buf: Vec<u8> = Vec::new();
    for c in chunks {
        buf.extend_from_slice(c);
        let n = d.on_stream(ctx, dir, &buf, out);
        assert!(n <= buf.len());
        buf.drain(..n);
    }
}

/// Events from `stream` fed whole, split in two at every offset, and byte by byte
/// must all be identical; returns the events of the whole feed.
pub fn assert_split_invariant(
    make: &dyn Fn() -> Box<dyn Dissector>,
    ctx: &FlowContext,
    dir: Direction,
    stream: &[u8],
) -> (Vec<Event>, Emitter) {
    let mut whole = Emitter::default();
    feed(make().as_mut(), ctx, dir, &[stream], &mut whole);
    for cut in 0..=stream.len() {
        let mut out = Emitter::default();
        feed(
            make().as_mut(),
            ctx,
            dir,
            &[&stream[..cut], &stream[cut..]],
            &mut out,
        );
        assert_eq!(out.events, whole.events, "split at {cut}");
        assert_eq!(out.observations, whole.observations, "split at {cut}");
    }
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    let mut out = Emitter::default();
    feed(make().as_mut(), ctx, dir, &bytes, &mut out);
    assert_eq!(out.events, whole.events, "byte by byte");
    let events = whole.events.to_vec();
    (events, whole)
}
