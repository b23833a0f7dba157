//! ADS code tables: commands, ADS states, error codes.

use crate::OpClass;
use std::borrow::Cow;

/// Name and operation class of an ADS command id.
pub fn command(id: u16) -> (Cow<'static, str>, OpClass) {
    let (name, op) = match id {
        1 => ("read_device_info", OpClass::Identify),
        2 => ("read", OpClass::Read),
        3 => ("write", OpClass::Write),
        4 => ("read_state", OpClass::Read),
        5 => ("write_control", OpClass::Control),
        6 => ("add_device_notification", OpClass::Read),
        7 => ("delete_device_notification", OpClass::Read),
        8 => ("device_notification", OpClass::Read),
        9 => ("read_write", OpClass::Write),
        n => return (format!("unknown-{n}").into(), OpClass::Other),
    };
    (name.into(), op)
}

/// Name of an ADS state (write control, read state).
pub fn ads_state(state: u16) -> Cow<'static, str> {
    const NAMES: [&str; 20] = [
        "invalid",
        "idle",
        "reset",
        "init",
        "start",
        "run",
        "stop",
        "savecfg",
        "loadcfg",
        "powerfailure",
        "powergood",
        "error",
        "shutdown",
        "suspend",
        "resume",
        "config",
        "reconfig",
        "stopping",
        "incompatible",
        "exception",
    ];
    NAMES
        .get(usize::from(state))
        .map_or_else(|| format!("unknown-{state}").into(), |&n| n.into())
}

/// Name of an ADS / AMS error code.
pub fn error_name(code: u32) -> Cow<'static, str> {
    let name = match code {
        0x1 => "internal_error",
        0x6 => "target_port_not_found",
        0x7 => "target_machine_not_found",
        0x8 => "unknown_command_id",
        0x700 => "device_error",
        0x701 => "service_not_supported",
        0x702 => "invalid_index_group",
        0x703 => "invalid_index_offset",
        0x704 => "invalid_access",
        0x705 => "invalid_size",
        0x706 => "invalid_data",
        0x707 => "not_ready",
        0x708 => "busy",
        0x709 => "invalid_context",
        0x70A => "no_memory",
        0x70B => "invalid_parameter",
        0x70C => "not_found",
        0x70D => "syntax_error",
        0x70E => "incompatible",
        0x70F => "already_exists",
        0x710 => "symbol_not_found",
        0x711 => "symbol_version_invalid",
        0x712 => "invalid_state",
        0x713 => "transmission_mode_not_supported",
        0x714 => "notification_handle_invalid",
        0x715 => "client_unknown",
        0x716 => "no_more_handles",
        0x717 => "invalid_watch_size",
        0x718 => "not_initialized",
        0x719 => "timeout",
        0x71A => "no_interface",
        0x71B => "invalid_interface",
        0x71C => "invalid_class_id",
        0x71D => "invalid_object_id",
        0x71E => "pending",
        0x71F => "aborted",
        0x720 => "warning",
        0x721 => "invalid_array_index",
        0x722 => "symbol_not_active",
        0x723 => "access_denied",
        0x740 => "client_error",
        0x745 => "client_timeout",
        0x746 => "client_port_not_open",
        0x748 => "client_no_ams_address",
        _ => return format!("unknown-{code}").into(),
    };
    name.into()
}

/// True for index groups whose read-write calls look up symbols rather than write data.
pub fn is_symbol_lookup(group: u32) -> bool {
    matches!(group, 0xF003 | 0xF009 | 0xF00B..=0xF00F)
}
