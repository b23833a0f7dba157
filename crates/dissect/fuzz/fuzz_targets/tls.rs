//! Fuzzes the TLS hello, certificate and record parsers and the dissector's stream path.
#![no_main]

#[path = "common.rs"]
mod common;
#[path = "stream_common.rs"]
mod stream_common;

use dissect::tls::{parser, TlsDissector};
use dissect::{Direction, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ch) = parser::parse_client_hello(data) {
        let ja4 = parser::ja4(&ch);
        assert!(ja4.starts_with('t') && ja4.len() == 36, "{ja4}");
    }
    let _ = parser::parse_server_hello(data);
    let _ = parser::certificate_names(data);
    let _ = parser::first_certificate(data);
    let _ = parser::split_handshake(data);
    let _ = parser::parse_record_header(data);
    let _ = dissect::tls::looks_like_tls(Direction::ToServer, data);
    let ctx = common::ctx(Transport::Tcp, 40000, 443);
    stream_common::drive(&mut TlsDissector::new(), &ctx, data);
});
