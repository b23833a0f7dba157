//! Helpers shared by the IT-protocol dissector tests: a fixed flow context and a small
//! stream driver that plays the sensor's contract (unconsumed bytes are presented again
//! in front of the next segment).
#![allow(dead_code)] // each test file uses a different subset

use dissect::{Direction, Dissector, Emitter, Event, FlowContext, Transport};
use std::net::{IpAddr, Ipv4Addr};

/// A flow from 10.0.0.2:`client_port` to 10.0.0.1:`server_port`.
pub fn ctx(transport: Transport, client_port: u16, server_port: u16) -> FlowContext {
    FlowContext {
        transport,
        vlan: None,
        client_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        client_port,
        client_mac: None,
        server_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        server_port,
        server_mac: None,
        ts: records::Timestamp(0),
    }
}

/// Feeds segments (direction, bytes) to `d` the way the sensor does and returns all
/// it emitted.
pub fn feed(
    d: &mut dyn Dissector,
    ctx: &FlowContext,
    segments: &[(Direction, Vec<u8>)],
) -> Emitter {
    let mut out = Emitter::default();
    let mut bufs: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for (dir, seg) in segments {
        let i = usize::from(*dir == Direction::ToClient);
        bufs[i].extend_from_slice(seg);
        loop {
            let n = d.on_stream(ctx, *dir, &bufs[i], &mut out);
            assert!(n <= bufs[i].len(), "consumed more than offered");
            bufs[i].drain(..n);
            if n == 0 || bufs[i].is_empty() {
                break;
            }
        }
    }
    out
}

/// A script as one segment per message.
pub fn whole(script: &[(Direction, &[u8])]) -> Vec<(Direction, Vec<u8>)> {
    script.iter().map(|(d, b)| (*d, b.to_vec())).collect()
}

/// The script with message `k` split at `at`.
pub fn split_one(script: &[(Direction, &[u8])], k: usize, at: usize) -> Vec<(Direction, Vec<u8>)> {
    let mut v = Vec::new();
    for (i, (d, b)) in script.iter().enumerate() {
        if i == k {
            v.push((*d, b[..at].to_vec()));
            v.push((*d, b[at..].to_vec()));
        } else {
            v.push((*d, b.to_vec()));
        }
    }
    v
}

/// The script one byte per segment.
pub fn bytewise(script: &[(Direction, &[u8])]) -> Vec<(Direction, Vec<u8>)> {
    script
        .iter()
        .flat_map(|(d, b)| b.iter().map(move |&c| (*d, vec![c])))
        .collect()
}

/// Asserts that the script gives the same events, observations and anomalies fed
/// whole, with each message split at every byte offset, and byte by byte; returns the
/// events of the whole run.
pub fn assert_split_invariant(
    make: &dyn Fn() -> Box<dyn Dissector>,
    ctx: &FlowContext,
    script: &[(Direction, &[u8])],
) -> Emitter {
    let reference = feed(make().as_mut(), ctx, &whole(script));
    for k in 0..script.len() {
        for at in 1..script[k].1.len() {
            let got = feed(make().as_mut(), ctx, &split_one(script, k, at));
            assert_eq!(got.events, reference.events, "message {k} split at {at}");
            assert_eq!(
                got.observations, reference.observations,
                "message {k} split at {at}"
            );
            assert_eq!(
                got.anomalies, reference.anomalies,
                "message {k} split at {at}"
            );
        }
    }
    let got = feed(make().as_mut(), ctx, &bytewise(script));
    assert_eq!(got.events, reference.events, "byte by byte");
    assert_eq!(got.anomalies, reference.anomalies, "byte by byte");
    reference
}

/// The value of attribute `name`.
pub fn attr<'a>(e: &'a Event, name: &str) -> Option<&'a dissect::Attr> {
    e.attrs.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
}

/// Text attribute `name`, or panics naming it.
pub fn text<'a>(e: &'a Event, name: &str) -> &'a str {
    match attr(e, name).and_then(dissect::Attr::as_text) {
        Some(s) => s,
        None => panic!("attribute {name}: {:?} in {e:?}", attr(e, name)),
    }
}

/// All events as JSON text, to check what never appears in output.
pub fn json(out: &Emitter) -> String {
    out.events
        .iter()
        .map(|e| serde_json::to_string(e).expect("events serialise"))
        .collect::<Vec<_>>()
        .join("\n")
}
