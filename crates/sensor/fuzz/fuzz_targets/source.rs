//! Any bytes as a capture file (plain or gzip): opening either fails with an error or
//! yields packets within their caps, and reading always ends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sensor::source::{FileSource, PacketSource, MAX_CAPTURED_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(mut src) = FileSource::from_reader("fuzz-input", std::io::Cursor::new(data.to_vec()))
    else {
        return;
    };
    let mut packets = 0usize;
    while let Ok(Some(p)) = src.next_packet() {
        assert!(p.data.len() <= MAX_CAPTURED_LEN as usize);
        assert!(p.data.len() as u64 <= u64::from(p.orig_len));
        packets += 1;
        // Every record takes at least a record header, so packets cannot outnumber bytes
        // (gzip can expand, hence the factor).
        assert!(packets <= data.len().saturating_mul(1100) + 1);
    }
    let _ = src.warnings();
    let _ = src.stats();
});
