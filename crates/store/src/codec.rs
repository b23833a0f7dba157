//! Column encodings: record fields to SQLite values and back.
//!
//! Enums are stored as the same snake_case words the JSON records use; the unit tests
//! below hold the two in step.

use records::{FlowState, Role, TransportKind};
use std::collections::BTreeSet;
use std::sync::Mutex;

/// SQLite integers are signed 64-bit. Counters above `i64::MAX` (never reached by real
/// traffic) are stored as `i64::MAX` rather than wrapping to a negative number.
pub(crate) fn u64_to_sql(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn transport_to_str(t: TransportKind) -> &'static str {
    match t {
        TransportKind::Tcp => "tcp",
        TransportKind::Udp => "udp",
        TransportKind::Icmp => "icmp",
        TransportKind::Icmpv6 => "icmpv6",
        TransportKind::Other => "other",
    }
}

pub(crate) fn transport_from_str(s: &str) -> Option<TransportKind> {
    Some(match s {
        "tcp" => TransportKind::Tcp,
        "udp" => TransportKind::Udp,
        "icmp" => TransportKind::Icmp,
        "icmpv6" => TransportKind::Icmpv6,
        "other" => TransportKind::Other,
        _ => return None,
    })
}

pub(crate) fn state_to_str(s: FlowState) -> &'static str {
    match s {
        FlowState::SynSent => "syn_sent",
        FlowState::Established => "established",
        FlowState::Midstream => "midstream",
        FlowState::Closed => "closed",
        FlowState::Reset => "reset",
        FlowState::Active => "active",
        FlowState::Evicted => "evicted",
    }
}

pub(crate) fn state_from_str(s: &str) -> Option<FlowState> {
    Some(match s {
        "syn_sent" => FlowState::SynSent,
        "established" => FlowState::Established,
        "midstream" => FlowState::Midstream,
        "closed" => FlowState::Closed,
        "reset" => FlowState::Reset,
        "active" => FlowState::Active,
        "evicted" => FlowState::Evicted,
        _ => return None,
    })
}

pub(crate) fn role_to_str(r: Role) -> &'static str {
    match r {
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

pub(crate) fn role_from_str(s: &str) -> Option<Role> {
    Some(match s {
        "plc" => Role::Plc,
        "rtu" => Role::Rtu,
        "ied" => Role::Ied,
        "hmi" => Role::Hmi,
        "scada_server" => Role::ScadaServer,
        "engineering_workstation" => Role::EngineeringWorkstation,
        "historian" => Role::Historian,
        "it_host" => Role::ItHost,
        "network" => Role::Network,
        "gateway" => Role::Gateway,
        "unknown" => Role::Unknown,
        _ => return None,
    })
}

/// Longest application name accepted back from the database.
const MAX_APP_NAME: usize = 64;
/// Most distinct application names kept for the life of the process.
const MAX_APP_NAMES: usize = 1024;

/// Distinct application (dissector) names read back from the database.
static APP_NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// Turns a stored application name back into the `&'static str` that `FlowRecord::app`
/// holds. Dissector names are a small fixed set, so each distinct name is leaked once and
/// reused; the caps keep a damaged or hostile database from growing this without bound.
pub(crate) fn intern_app(name: &str) -> Result<&'static str, String> {
    if name.len() > MAX_APP_NAME {
        return Err(format!("name longer than {MAX_APP_NAME} bytes"));
    }
    // A poisoned lock still holds a valid set: every insert is a single call.
    let mut names = APP_NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = names.get(name) {
        return Ok(found);
    }
    if names.len() >= MAX_APP_NAMES {
        return Err(format!(
            "more than {MAX_APP_NAMES} distinct application names"
        ));
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    Ok(leaked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_word<T: serde::Serialize>(v: T) -> String {
        match serde_json::to_value(v) {
            Ok(serde_json::Value::String(s)) => s,
            other => panic!("enum did not serialise to a string: {other:?}"),
        }
    }

    #[test]
    fn transport_words_match_json_records() {
        for t in [
            TransportKind::Tcp,
            TransportKind::Udp,
            TransportKind::Icmp,
            TransportKind::Icmpv6,
            TransportKind::Other,
        ] {
            assert_eq!(transport_to_str(t), json_word(t));
            assert_eq!(transport_from_str(transport_to_str(t)), Some(t));
        }
        assert_eq!(transport_from_str("sctp"), None);
    }

    #[test]
    fn state_words_match_json_records() {
        for s in [
            FlowState::SynSent,
            FlowState::Established,
            FlowState::Midstream,
            FlowState::Closed,
            FlowState::Reset,
            FlowState::Active,
            FlowState::Evicted,
        ] {
            assert_eq!(state_to_str(s), json_word(s));
            assert_eq!(state_from_str(state_to_str(s)), Some(s));
        }
        assert_eq!(state_from_str("half_open"), None);
    }

    #[test]
    fn role_words_match_json_records() {
        for r in [
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
        ] {
            assert_eq!(role_to_str(r), json_word(r));
            assert_eq!(role_from_str(role_to_str(r)), Some(r));
        }
        assert_eq!(role_from_str("PLC"), None);
    }

    #[test]
    fn interned_names_are_shared_and_capped_in_length() {
        let a = intern_app("modbus").unwrap();
        let b = intern_app(&String::from("modbus")).unwrap();
        assert!(std::ptr::eq(a, b));
        assert!(intern_app(&"x".repeat(MAX_APP_NAME + 1)).is_err());
    }

    #[test]
    fn huge_counters_saturate() {
        assert_eq!(u64_to_sql(u64::MAX), i64::MAX);
        assert_eq!(u64_to_sql(7), 7);
    }
}
