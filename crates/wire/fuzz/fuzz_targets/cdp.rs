//! Fuzzes `wire::cdp::parse`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = wire::cdp::parse(data) {
        if let Some(id) = info.device_id {
            let _ = id.to_string();
        }
    }
});
