//! Zone files from any bytes: parsing returns a policy or an error, never panics; a
//! policy that parses writes back to text that parses to the same policy.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(policy) = zones::ZonePolicy::parse(text, "fuzz.toml") {
        let text = policy.to_toml();
        let again =
            zones::ZonePolicy::parse(&text, "again.toml").expect("a policy's own text parses");
        assert_eq!(again.to_toml(), text);
        let _ = policy.place("10.10.1.5".parse().unwrap(), Some(10));
    }
});
