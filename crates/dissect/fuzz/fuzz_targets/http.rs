//! Fuzzes the HTTP head and chunk parsers and the dissector's stream path.
#![no_main]

#[path = "common.rs"]
mod common;
#[path = "stream_common.rs"]
mod stream_common;

use dissect::http::{parser, HttpDissector};
use dissect::Transport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parser::HeadParse::Complete { consumed, .. }) = parser::parse_head(data) {
        assert!(consumed <= data.len());
    }
    let _ = parser::parse_chunk_size(data);
    let _ = parser::looks_like_http(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parser::uri_basename(s);
        let _ = parser::disposition_filename(s);
    }
    let ctx = common::ctx(Transport::Tcp, 40000, 80);
    stream_common::drive(&mut HttpDissector::new(), &ctx, data);
});
