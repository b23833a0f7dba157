//! Fuzzes the SMB/NetBIOS/NTLMSSP parsers and the dissector's stream path.
#![no_main]

#[path = "common.rs"]
mod common;
#[path = "stream_common.rs"]
mod stream_common;

use dissect::smb::{parser, SmbDissector};
use dissect::Transport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parser::netbios_header(data);
    let _ = parser::session_request_names(data);
    let _ = parser::smb2_header(data);
    let _ = parser::negotiate_request_dialects(data);
    let _ = parser::negotiate_response_dialect(data);
    let _ = parser::session_setup_blob(data, false);
    let _ = parser::session_setup_blob(data, true);
    let _ = parser::tree_connect_path(data);
    let _ = parser::create_request(data);
    let _ = parser::ntlmssp(data);
    let _ = parser::smb1_header(data);
    let _ = parser::smb1_dialects(data);
    let _ = dissect::smb::looks_like_smb(data);
    let ctx = common::ctx(Transport::Tcp, 40000, 445);
    // Frame the input as NetBIOS messages so the SMB parsers behind the framing are
    // reached, and also feed it raw.
    let mut framed = vec![0, 0];
    framed.extend_from_slice(&(data.len().min(0xffff) as u16).to_be_bytes());
    framed.extend_from_slice(&data[..data.len().min(0xffff)]);
    stream_common::drive(&mut SmbDissector::new(), &ctx, &framed);
    stream_common::drive(&mut SmbDissector::new(), &ctx, data);
});
