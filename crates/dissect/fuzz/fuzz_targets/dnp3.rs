//! Fuzzes the DNP3 parser entry points (link frames, application header, object
//! headers) and the dissector's stream and datagram paths.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::dnp3::parser;
use dissect::dnp3::Dnp3Dissector;
use dissect::{Direction, Dissector, Emitter, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut user = [0u8; parser::MAX_USER_DATA];
    if let Ok(parser::LinkFrame::Complete { header, user_len, consumed }) =
        parser::parse_link_frame(data, &mut user)
    {
        assert_eq!(consumed, header.frame_len());
        assert_eq!(user_len, header.user_len());
    }
    // The bytes as an application fragment, with and without object data.
    if let Ok((_, objects)) = parser::parse_app(data) {
        for with_data in [false, true] {
            for h in parser::ObjectHeaders::new(objects, with_data).flatten() {
                let _ = h.count();
                for (_, obj) in parser::indexed_objects(&h, 5) {
                    let _ = parser::point_value(h.group, h.variation, obj);
                }
            }
        }
    }
    // Wrapped in valid link frames so that transport and application layers are reached.
    let mut framed = Vec::new();
    for chunk in data.chunks(249) {
        let mut seg = vec![0xC0];
        seg.extend_from_slice(chunk);
        framed.extend(parser::encode_link_frame(0x44, 1, 10, &seg));
    }

    let mut out = Emitter::default();
    let udp = common::ctx(Transport::Udp, 40000, 20000);
    let mut d = Dnp3Dissector::new();
    d.on_datagram(&udp, Direction::ToServer, data, &mut out);
    d.on_datagram(&udp, Direction::ToClient, &framed, &mut out);

    let tcp = common::ctx(Transport::Tcp, 40000, 20000);
    let mut d = Dnp3Dissector::new();
    for (dir, bytes) in [(Direction::ToServer, data), (Direction::ToClient, &framed[..])] {
        let a = bytes.first().map_or(0, |&b| usize::from(b)).min(bytes.len());
        let b = (a + bytes.len()) / 2;
        let mut buf = Vec::new();
        for (i, chunk) in [&bytes[..a], &bytes[a..b], &bytes[b..]].into_iter().enumerate() {
            if i == 2 && a % 2 == 1 {
                d.on_gap(&tcp, dir, 7, &mut out);
            }
            buf.extend_from_slice(chunk);
            let n = d.on_stream(&tcp, dir, &buf, &mut out);
            assert!(n <= buf.len());
            buf.drain(..n);
        }
    }
    for e in &out.events {
        assert!(e.values.len() <= dissect::dnp3::MAX_VALUES);
        assert!(e.targets.len() <= dissect::dnp3::MAX_TARGETS);
    }
});
