//! Small text helpers shared by the pages.

use records::{Role, Timestamp};

/// `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `512 B`, `1.5 kB`, `12.3 MB` (decimal units).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `2026-11-28 08:07:36` (UTC, to the second): readable in tables.
pub fn time(ts: Timestamp) -> String {
    let full = ts.to_string();
    // RFC 3339 with microseconds: `2026-11-28T08:07:36.123456Z`.
    match (full.get(..10), full.get(11..19)) {
        (Some(date), Some(clock)) => format!("{date} {clock}"),
        _ => full,
    }
}

/// The record's word for a role (`plc`, `scada_server` ...), as in JSON and the CSV.
pub fn role_word(role: Role) -> &'static str {
    match role {
        Role::Plc => "plc",
        Role::Rtu => "rtu",
        Role::Ied => "ied",
        Role::Hmi => "hmi",
        Role::ScadaServer => "scada_server",
        Role::EngineeringWorkstation => "engineering_workstation",
        Role::Historian => "historian",
        Role::ItHost => "it_host",
        Role::Network => "network",
        Role::Gateway => "gateway",
        Role::Unknown => "unknown",
    }
}

/// Every role, in the order filters list them.
pub const ROLES: [Role; 11] = [
    Role::Plc,
    Role::Rtu,
    Role::Ied,
    Role::Hmi,
    Role::ScadaServer,
    Role::EngineeringWorkstation,
    Role::Historian,
    Role::ItHost,
    Role::Network,
    Role::Gateway,
    Role::Unknown,
];

/// A human label for a role (`PLC`, `SCADA server`, `unknown`).
pub fn role_label(role: Role) -> &'static str {
    learn::assets::role_label(role).unwrap_or("unknown")
}

/// The href of an asset's page. Ids are `mac:..` or `ip:..`: only `:` `.` and hex
/// digits, which need no escaping in a path, but anything else is percent-encoded.
pub fn asset_href(id: &str) -> String {
    let mut out = String::from("/assets/");
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'-' | b'_') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500), "1.5 kB");
        assert_eq!(bytes(u64::MAX), "18446.7 PB");
        assert_eq!(
            time(Timestamp(1_795_853_371_912_614)),
            "2026-11-28 08:09:31"
        );
        assert_eq!(
            asset_href("mac:00:80:f4:01:01:0b"),
            "/assets/mac:00:80:f4:01:01:0b"
        );
        assert_eq!(asset_href("a b/c"), "/assets/a%20b%2Fc");
    }
}
