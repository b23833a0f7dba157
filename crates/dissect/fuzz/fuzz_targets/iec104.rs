//! Fuzzes the IEC 60870-5-104 APCI and ASDU parsers and the dissector's stream path.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::iec104::parser::{parse_frame, Asdu, Frame};
use dissect::iec104::Iec104Dissector;
use dissect::{Direction, Dissector, Emitter, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Frame::Complete { consumed, .. }) = parse_frame(data) {
        assert!(consumed <= data.len() && consumed >= 6);
    }
    if let Ok(a) = Asdu::parse(data) {
        let kind = a.info.map(|i| i.value);
        let n = a.objects().count();
        // Validated ASDUs of known size hold exactly the objects they announce.
        if a.info.and_then(|i| i.element_len).is_some() {
            assert_eq!(n, usize::from(a.count));
        }
        for o in a.objects() {
            if let Some(k) = kind {
                let _ = o.value(k);
            }
        }
        let _ = a.first_ioa();
    }
    let ctx = common::ctx(Transport::Tcp, 40000, 2404);
    let mut d = Iec104Dissector::new();
    let mut out = Emitter::default();
    let a = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let b = (a + data.len()) / 2;
    let mut buf = Vec::new();
    for (i, chunk) in [&data[..a], &data[a..b], &data[b..]].into_iter().enumerate() {
        if i == 2 && a % 2 == 1 {
            d.on_gap(&ctx, Direction::ToServer, 7, &mut out);
        }
        buf.extend_from_slice(chunk);
        let n = d.on_stream(&ctx, Direction::ToServer, &buf, &mut out);
        assert!(n <= buf.len());
        buf.drain(..n);
    }
});
