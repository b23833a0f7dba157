//! Fuzzes the layer-2 parsers (Profinet DCP and blocks, GOOSE and its data walk) and
//! the stateful frame dissector on the EtherTypes it handles.
#![no_main]

use dissect::l2::{goose, profinet, L2Frame, L2State};
use dissect::Emitter;
use libfuzzer_sys::fuzz_target;
use wire::MacAddr;

fuzz_target!(|data: &[u8]| {
    if let Ok(dcp) = profinet::parse_dcp(data) {
        for _ in profinet::blocks(dcp.data, true) {}
        for _ in profinet::blocks(dcp.data, false) {}
    }
    if let Ok(g) = goose::parse(data) {
        let _ = goose::walk_data(g.all_data, |_, _| {});
    }
    let _ = goose::walk_data(data, |_, _| {});

    // The first byte picks an EtherType and a source; the rest is the frame, played
    // several times so that GOOSE state tracking sees repeats.
    let Some((&sel, payload)) = data.split_first() else { return };
    let ethertype = [0x8892, 0x88B8, 0x88BA, 0x88B9][usize::from(sel & 3)];
    let mut state = L2State::default();
    let mut out = Emitter::default();
    for i in 0..3u8 {
        let frame = L2Frame {
            ts: records::Timestamp(i64::from(i)),
            ethertype,
            src_mac: MacAddr([0, 1, 2, 3, 4, sel >> 4]),
            dst_mac: MacAddr([1, 0x0c, 0xcd, 1, 0, 1]),
            vlan: None,
            payload,
        };
        state.dissect(&frame, &mut out);
    }
});
