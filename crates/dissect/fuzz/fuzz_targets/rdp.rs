//! Fuzzes the RDP connection PDU parser and the dissector's stream path.
#![no_main]

#[path = "common.rs"]
mod common;
#[path = "stream_common.rs"]
mod stream_common;

use dissect::rdp::{self, RdpDissector};
use dissect::Transport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rdp::Parse::Complete(_, n)) = rdp::parse(data) {
        assert!(n <= data.len());
    }
    let ctx = common::ctx(Transport::Tcp, 40000, 3389);
    stream_common::drive(&mut RdpDissector::new(), &ctx, data);
});
