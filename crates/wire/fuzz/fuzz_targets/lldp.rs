//! Fuzzes `wire::lldp::parse` and the id formatting it feeds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = wire::lldp::parse(data) {
        let _ = (info.chassis_id.to_string(), info.port_id.to_string());
        if let Some(name) = info.system_name {
            let _ = name.to_string();
        }
    }
});
