//! Fuzzes the MMS envelope, BER reader, ISO session/presentation unwrapping and the MMS
//! state machine.
#![no_main]

#[path = "common.rs"]
mod common;

use dissect::mms::{ber, parse_pdu, session, MmsState};
use dissect::{Direction, Emitter, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_pdu(data);
    for t in ber::elements(data).take(64) {
        let _ = ber::integer(t.value);
        let _ = ber::unsigned(t.value);
    }
    let _ = session::looks_like_spdu(data);
    let _ = session::unwrap(data);
    let ctx = common::ctx(Transport::Tcp, 40000, 102);
    let mut out = Emitter::default();
    let mut st = MmsState::default();
    st.on_pdu(&ctx, Direction::ToServer, data, &mut out);
    st.on_pdu(&ctx, Direction::ToClient, data, &mut out);
    st.on_tsdu(&ctx, Direction::ToServer, data, &mut out);
    // As presentation data of a session data transfer.
    let mut tsdu = vec![0x01, 0x00, 0x01, 0x00];
    tsdu.extend_from_slice(data);
    st.on_tsdu(&ctx, Direction::ToClient, &tsdu, &mut out);
});
