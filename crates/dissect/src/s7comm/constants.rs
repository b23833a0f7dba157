//! S7comm and S7comm-plus code tables.

use crate::OpClass;

/// ROSCTR: job request.
pub const ROSCTR_JOB: u8 = 1;
/// ROSCTR: acknowledgement without data.
pub const ROSCTR_ACK: u8 = 2;
/// ROSCTR: acknowledgement with data.
pub const ROSCTR_ACK_DATA: u8 = 3;
/// ROSCTR: user data (extended functions).
pub const ROSCTR_USERDATA: u8 = 7;

/// Job function: CPU services.
pub const FN_CPU_SERVICES: u8 = 0x00;
/// Job function: setup communication.
pub const FN_SETUP: u8 = 0xf0;
/// Job function: read variable.
pub const FN_READ_VAR: u8 = 0x04;
/// Job function: write variable.
pub const FN_WRITE_VAR: u8 = 0x05;
/// Job function: request download.
pub const FN_REQUEST_DOWNLOAD: u8 = 0x1a;
/// Job function: download block.
pub const FN_DOWNLOAD_BLOCK: u8 = 0x1b;
/// Job function: download ended.
pub const FN_DOWNLOAD_ENDED: u8 = 0x1c;
/// Job function: start upload.
pub const FN_START_UPLOAD: u8 = 0x1d;
/// Job function: upload.
pub const FN_UPLOAD: u8 = 0x1e;
/// Job function: end upload.
pub const FN_END_UPLOAD: u8 = 0x1f;
/// Job function: PI service (program invocation).
pub const FN_PI_SERVICE: u8 = 0x28;
/// Job function: PLC stop.
pub const FN_PLC_STOP: u8 = 0x29;

/// Name and operation class of a job function.
pub fn job_function(code: u8) -> Option<(&'static str, OpClass)> {
    Some(match code {
        FN_CPU_SERVICES => ("cpu_services", OpClass::Other),
        FN_SETUP => ("setup_communication", OpClass::Session),
        FN_READ_VAR => ("read_var", OpClass::Read),
        FN_WRITE_VAR => ("write_var", OpClass::Write),
        FN_REQUEST_DOWNLOAD => ("request_download", OpClass::Program),
        FN_DOWNLOAD_BLOCK => ("download_block", OpClass::Program),
        FN_DOWNLOAD_ENDED => ("download_ended", OpClass::Program),
        FN_START_UPLOAD => ("start_upload", OpClass::Program),
        FN_UPLOAD => ("upload", OpClass::Program),
        FN_END_UPLOAD => ("end_upload", OpClass::Program),
        FN_PI_SERVICE => ("pi_service", OpClass::Control),
        FN_PLC_STOP => ("plc_stop", OpClass::Control),
        _ => return None,
    })
}

/// Event name and class of a PI service, by its service name (and, for `P_PROGRAM`, the
/// parameter text, which distinguishes a cold start).
pub fn pi_service(name: &[u8], param: &[u8]) -> (&'static str, OpClass) {
    match name {
        b"P_PROGRAM" => {
            if param.first() == Some(&b'C') {
                ("plc_cold_start", OpClass::Control)
            } else {
                ("plc_hot_start", OpClass::Control)
            }
        }
        b"_INSE" => ("insert_block", OpClass::Program),
        b"_DELE" => ("delete_block", OpClass::Program),
        b"_GARB" => ("compress_memory", OpClass::Program),
        b"_MODU" => ("copy_ram_to_rom", OpClass::Program),
        b"_EXEC" => ("execute", OpClass::Control),
        b"_SCAN" => ("scan", OpClass::Control),
        b"_CPRES" => ("cpu_reset", OpClass::Control),
        b"_MSTOP" | b"P_STOP" => ("plc_stop", OpClass::Control),
        _ => ("pi_service", OpClass::Control),
    }
}

/// Target space of a memory area (data blocks are `db<N>`, handled by the caller).
pub fn area_space(area: u8) -> Option<&'static str> {
    Some(match area {
        0x03 => "system_info",
        0x05 => "system_flags",
        0x06 => "analog_inputs",
        0x07 => "analog_outputs",
        0x1c => "counters",
        0x1d => "timers",
        0x1e => "iec_counters",
        0x1f => "iec_timers",
        0x80 => "peripherals",
        0x81 => "inputs",
        0x82 => "outputs",
        0x83 => "flags",
        0x86 => "local",
        0x87 => "previous_local",
        _ => return None,
    })
}

/// Area code of data blocks.
pub const AREA_DB: u8 = 0x84;
/// Area code of instance data blocks.
pub const AREA_DI: u8 = 0x85;

/// Name of an item transport size (S7ANY syntax).
pub fn transport_size_name(ts: u8) -> Option<&'static str> {
    Some(match ts {
        0x01 => "bit",
        0x02 => "byte",
        0x03 => "char",
        0x04 => "word",
        0x05 => "int",
        0x06 => "dword",
        0x07 => "dint",
        0x08 => "real",
        0x09 => "date",
        0x0a => "tod",
        0x0b => "time",
        0x0c => "s5time",
        0x0f => "date_and_time",
        0x1c => "counter",
        0x1d => "timer",
        0x1e => "iec_timer",
        0x1f => "iec_counter",
        0x20 => "hs_counter",
        _ => return None,
    })
}

/// Bytes of one element of an item transport size.
pub fn transport_size_bytes(ts: u8) -> usize {
    match ts {
        0x01..=0x03 => 1,
        0x04 | 0x05 | 0x09 | 0x0c | 0x1c | 0x1d => 2,
        0x06..=0x08 | 0x0a | 0x0b | 0x1e | 0x1f | 0x20 => 4,
        0x0f => 8,
        _ => 1,
    }
}

/// Name of a header error class.
pub fn error_class_name(class: u8) -> &'static str {
    match class {
        0x00 => "no_error",
        0x81 => "application_relationship",
        0x82 => "object_definition",
        0x83 => "no_resources",
        0x84 => "service_processing",
        0x85 => "supplies",
        0x87 => "access_error",
        _ => "unknown_error_class",
    }
}

/// Name of a data item return code.
pub fn item_return_name(code: u8) -> &'static str {
    match code {
        0xff => "success",
        0x01 => "hardware_fault",
        0x03 => "access_denied",
        0x05 => "address_out_of_range",
        0x06 => "type_not_supported",
        0x07 => "type_inconsistent",
        0x0a => "object_does_not_exist",
        _ => "unknown_return_code",
    }
}

/// Name of a userdata parameter error code.
pub fn userdata_error_name(code: u16) -> &'static str {
    match code {
        0x8104 => "context_not_supported",
        0xd401 => "invalid_szl_id",
        0xd402 => "invalid_szl_index",
        0xd406 => "information_unavailable",
        0xd201 => "block_protected",
        0xd209 => "block_not_found",
        0xd241 => "protection_level_insufficient",
        0xd602 => "wrong_password",
        0xd604 => "password_already_set",
        0xd605 => "no_password",
        _ => "unknown_error",
    }
}

/// Userdata function group: CPU functions (SZL, alarms).
pub const GROUP_CPU: u8 = 4;
/// Userdata function group: security (password).
pub const GROUP_SECURITY: u8 = 5;

/// Name and class of a userdata function (group, subfunction).
pub fn userdata_function(group: u8, sub: u8) -> (&'static str, OpClass) {
    use OpClass::*;
    match (group, sub) {
        (0, _) => ("mode_transition", Diagnostic),
        (1, 0x01) => ("request_diag_data", Diagnostic),
        (1, 0x02) => ("vartab", Diagnostic),
        (1, 0x0c) => ("erase", Program),
        (1, 0x0e) => ("read_diag_data", Diagnostic),
        (1, 0x0f) => ("remove_diag_data", Diagnostic),
        (1, 0x10) => ("forces", Diagnostic),
        (1, 0x13) => ("request_diag_data2", Diagnostic),
        (1, _) => ("programmer_command", Diagnostic),
        (2, 0x01) => ("cyclic_memory", Read),
        (2, 0x04) => ("cyclic_unsubscribe", Read),
        (2, 0x05) => ("cyclic_changed_data", Read),
        (2, _) => ("cyclic_data", Read),
        (3, 0x01) => ("list_blocks", Read),
        (3, 0x02) => ("list_blocks_of_type", Read),
        (3, 0x03) => ("get_block_info", Read),
        (3, _) => ("block_function", Read),
        (4, 0x01) => ("read_szl", Diagnostic),
        (4, 0x02) => ("message_service", Diagnostic),
        (4, 0x03) => ("diagnostic_message", Diagnostic),
        (4, 0x05) => ("alarm8_indication", Diagnostic),
        (4, 0x06) => ("notify_indication", Diagnostic),
        (4, 0x07) => ("alarm8_lock", Diagnostic),
        (4, 0x08) => ("alarm8_unlock", Diagnostic),
        (4, 0x09) => ("scan_indication", Diagnostic),
        (4, 0x0b) => ("alarm_ack", Diagnostic),
        (4, 0x0c) => ("alarm_ack_indication", Diagnostic),
        (4, 0x0d) => ("alarm_lock_indication", Diagnostic),
        (4, 0x0e) => ("alarm_unlock_indication", Diagnostic),
        (4, 0x11) => ("alarm_sq_indication", Diagnostic),
        (4, 0x12) => ("alarm_s_indication", Diagnostic),
        (4, 0x13) => ("alarm_query", Diagnostic),
        (4, 0x16) => ("notify8_indication", Diagnostic),
        (4, _) => ("cpu_function", Diagnostic),
        (5, 0x01) => ("plc_password", Session),
        (5, 0x02) => ("clean_session", Session),
        (5, _) => ("security", Session),
        (6, _) => ("pbc", Other),
        (7, 0x01) => ("read_clock", Read),
        (7, 0x02) => ("set_clock", Write),
        (7, 0x03) => ("read_clock_following", Read),
        (7, 0x04) => ("set_clock2", Write),
        (7, _) => ("time_function", Other),
        (0x0f, _) => ("nc_programming", Program),
        _ => ("userdata", Other),
    }
}

/// Offset added to userdata (group << 8 | subfunction) to form an event function code,
/// keeping it apart from job function codes.
pub const USERDATA_FUNCTION_BASE: u32 = 0x1_0000;

/// Name of a block type by its two-character code in file names (`08` → `OB`).
pub fn block_type(code: [u8; 2]) -> Option<&'static str> {
    Some(match &code {
        b"08" => "OB",
        b"0A" => "DB",
        b"0B" => "SDB",
        b"0C" => "FC",
        b"0D" => "SFC",
        b"0E" => "FB",
        b"0F" => "SFB",
        _ => return None,
    })
}

/// S7comm-plus function name and class.
pub fn plus_function(code: u16) -> Option<(&'static str, OpClass)> {
    use OpClass::*;
    Some(match code {
        0x04bb => ("explore", Read),
        0x04ca => ("create_object", Session),
        0x04d4 => ("delete_object", Session),
        0x04f2 => ("set_variable", Write),
        0x04fc => ("get_variable", Read),
        0x0506 => ("add_link", Other),
        0x051a => ("remove_link", Other),
        0x0524 => ("get_link", Read),
        0x0542 => ("set_multi_variables", Write),
        0x054c => ("get_multi_variables", Read),
        0x0556 => ("begin_sequence", Program),
        0x0560 => ("end_sequence", Program),
        0x056b => ("invoke", Control),
        0x057c => ("set_var_substreamed", Write),
        0x0586 => ("get_var_substreamed", Read),
        0x0590 => ("get_variables_address", Read),
        0x059a => ("abort", Session),
        0x05a9 => ("error", Other),
        0x05b3 => ("init_ssl", Session),
        _ => return None,
    })
}

/// Name of a CPU mode announced by a mode-transition push.
pub fn cpu_mode_name(mode: u8) -> &'static str {
    match mode {
        0x00 => "stop",
        0x01 => "warm_restart",
        0x02 => "run",
        0x03 => "hot_restart",
        0x04 => "hold",
        0x06 => "cold_restart",
        0x09 => "run_redundant",
        0x0b => "link_up",
        0x0c => "update",
        _ => "unknown",
    }
}
