//! Fuzzes the TPKT/COTP, S7comm and S7comm-plus parsers and the ISO-on-TCP dissector.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::s7comm::{parser, tpkt, IsoTransportDissector};
use dissect::{Direction, Dissector, Emitter, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tpkt::Frame::Complete { consumed, .. }) = tpkt::parse_frame(data) {
        assert!(consumed <= data.len());
    }
    let _ = tpkt::parse_tpdu(data);
    if let Ok(pdu) = parser::parse_pdu(data) {
        if let Ok(items) = parser::var_items(pdu.param) {
            let n = items.clone().count();
            for d in parser::data_items(pdu.data, n) {
                let _ = d;
            }
        }
        let _ = parser::parse_userdata(pdu.param, pdu.data);
        let _ = parser::parse_pi_service(pdu.param);
        let _ = parser::parse_plc_stop(pdu.param);
        let _ = parser::block_file_name(pdu.param).map(parser::parse_block_name);
        for _ in parser::pi_blocks(pdu.param) {}
    }
    let _ = parser::parse_plus(data);

    // Stream path: raw bytes, and the same bytes as the payload of a data TPDU (S7, S7+
    // or session content), split in three with a gap when the first byte is odd.
    let ctx = common::ctx(Transport::Tcp, 40000, 102);
    let mut out = Emitter::default();
    for wrap in [false, true] {
        let mut stream = Vec::new();
        if wrap {
            let len = (7 + data.len()).min(0xffff);
            stream.extend_from_slice(&[3, 0, (len >> 8) as u8, len as u8, 2, 0xf0, 0x80]);
            stream.extend_from_slice(&data[..len - 7]);
        } else {
            stream.extend_from_slice(data);
        }
        let mut d = IsoTransportDissector::new();
        let a = data.first().map_or(0, |&b| usize::from(b)).min(stream.len());
        let b = (a + stream.len()) / 2;
        let mut buf = Vec::new();
        for (i, chunk) in [&stream[..a], &stream[a..b], &stream[b..]].into_iter().enumerate() {
            if i == 2 && a % 2 == 1 {
                d.on_gap(&ctx, Direction::ToClient, 3, &mut out);
            }
            buf.extend_from_slice(chunk);
            let dir = if i == 1 { Direction::ToClient } else { Direction::ToServer };
            let n = d.on_stream(&ctx, dir, &buf, &mut out);
            assert!(n <= buf.len());
            buf.drain(..n);
        }
    }
});
