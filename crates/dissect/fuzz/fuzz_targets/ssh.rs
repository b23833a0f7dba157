//! Fuzzes the SSH banner, packet, KEXINIT and key exchange reply parsers and the
//! dissector's stream path (which reads the server's host key).
#![no_main]

#[path = "common.rs"]
mod common;
#[path = "stream_common.rs"]
mod stream_common;

use dissect::ssh::{self, SshDissector};
use dissect::{Direction, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ssh::parse_banner(data);
    let _ = ssh::parse_packet(data);
    if let Some(k) = ssh::parse_kexinit(data) {
        assert_eq!(ssh::hassh(&k, Direction::ToServer).len(), 32);
    }
    if let Some(key) = ssh::parse_kex_reply(data) {
        // `SHA256:` and 43 base64 digits.
        assert_eq!(key.fingerprint().len(), 50);
        assert!(!key.key_type.is_empty());
    }
    let ctx = common::ctx(Transport::Tcp, 40000, 22);
    stream_common::drive(&mut SshDissector::new(), &ctx, data);
});
