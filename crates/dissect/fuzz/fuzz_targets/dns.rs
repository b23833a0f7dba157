//! Fuzzes the DNS parser entry points and the dissector's UDP and TCP paths.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::dns::parser;
use dissect::dns::{DnsDissector, Flavor};
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
            let _ = parser::reverse_name_ip(&r.name);
        }
        // Validated messages yield exactly what the header announces.
        assert_eq!(msg.questions().count(), usize::from(msg.header.qdcount));
        let records = usize::from(msg.header.ancount)
            + usize::from(msg.header.nscount)
            + usize::from(msg.header.arcount);
        assert_eq!(msg.records().count(), records);
    }
    let _ = parser::parse_tcp_frame(data);
    let _ = parser::plausible_header(data);

    let mut out = Emitter::default();
    let udp = common::ctx(Transport::Udp, 40000, 53);
    DnsDissector::new(Flavor::Mdns).on_datagram(&udp, Direction::ToClient, data, &mut out);

    // Stream path: split the input in three, play the stream layer's buffer contract.
    let tcp = common::ctx(Transport::Tcp, 40000, 53);
    let mut d = DnsDissector::new(Flavor::Dns);
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
