//! Omron FINS code tables: command codes, memory area codes, end codes.

use crate::OpClass;
use std::borrow::Cow;

/// Name and operation class of a FINS command code (MRC << 8 | SRC).
pub fn command(code: u16) -> (Cow<'static, str>, OpClass) {
    use OpClass::*;
    let (name, op): (&'static str, OpClass) = match code {
        0x0101 => ("memory_area_read", Read),
        0x0102 => ("memory_area_write", Write),
        0x0103 => ("memory_area_fill", Write),
        0x0104 => ("multiple_memory_area_read", Read),
        0x0105 => ("memory_area_transfer", Write),
        0x0201 => ("parameter_area_read", Read),
        0x0202 => ("parameter_area_write", Write),
        0x0203 => ("parameter_area_clear", Write),
        0x0220 => ("data_link_table_read", Read),
        0x0221 => ("data_link_table_write", Write),
        0x0304 => ("program_area_protect", Program),
        0x0305 => ("program_area_protect_clear", Program),
        0x0306 => ("program_area_read", Program),
        0x0307 => ("program_area_write", Program),
        0x0308 => ("program_area_clear", Program),
        0x0401 => ("run", Control),
        0x0402 => ("stop", Control),
        0x0403 => ("reset", Control),
        0x0501 => ("controller_data_read", Identify),
        0x0502 => ("connection_data_read", Identify),
        0x0601 => ("controller_status_read", Diagnostic),
        0x0602 => ("network_status_read", Diagnostic),
        0x0603 => ("data_link_status_read", Diagnostic),
        0x0620 => ("cycle_time_read", Diagnostic),
        0x0701 => ("clock_read", Read),
        0x0702 => ("clock_write", Write),
        0x0801 => ("loopback_test", Diagnostic),
        0x0802 => ("broadcast_test_results_read", Diagnostic),
        0x0803 => ("broadcast_test_data_send", Diagnostic),
        0x0920 => ("message_read", Diagnostic),
        0x0C01 => ("access_right_acquire", Session),
        0x0C02 => ("access_right_forced_acquire", Session),
        0x0C03 => ("access_right_release", Session),
        0x2101 => ("error_clear", Diagnostic),
        0x2102 => ("error_log_read", Diagnostic),
        0x2103 => ("error_log_clear", Diagnostic),
        0x2140 => ("fins_write_access_log_read", Diagnostic),
        0x2141 => ("fins_write_access_log_clear", Diagnostic),
        0x2201 => ("file_name_read", Read),
        0x2202 => ("single_file_read", Read),
        0x2203 => ("single_file_write", Write),
        0x2204 => ("file_memory_format", Write),
        0x2205 => ("file_delete", Write),
        0x2206 => ("volume_label_create_delete", Write),
        0x2207 => ("file_copy", Write),
        0x2208 => ("file_name_change", Write),
        0x2209 => ("file_data_check", Read),
        0x220A => ("memory_area_file_transfer", Write),
        0x220B => ("parameter_area_file_transfer", Write),
        0x220C => ("program_area_file_transfer", Program),
        0x220F => ("file_memory_index_read", Read),
        0x2210 => ("file_memory_read", Read),
        0x2211 => ("file_memory_write", Write),
        0x2215 => ("create_delete_directory", Write),
        0x2301 => ("forced_set_reset", Write),
        0x2302 => ("forced_set_reset_cancel", Write),
        0x230A => ("multiple_forced_status_read", Read),
        0x2601 => ("name_set", Write),
        0x2602 => ("name_delete", Write),
        0x2603 => ("name_read", Read),
        _ => return (format!("unknown-{code}").into(), Other),
    };
    (name.into(), op)
}

/// True for command codes in [`command`]'s table.
pub fn is_known_command(code: u16) -> bool {
    command(code).1 != OpClass::Other
}

/// Target space name of a memory area code, and whether it addresses bits.
pub fn area(code: u8) -> (Cow<'static, str>, bool) {
    let (name, bit): (&'static str, bool) = match code {
        0x30 => ("cio", true),
        0x31 => ("wr", true),
        0x32 => ("hr", true),
        0x33 => ("ar", true),
        0x02 => ("dm", true),
        0x09 => ("tim_cnt_flag", true),
        0x06 => ("task_flag", true),
        0x07 => ("clock_pulse_flag", true),
        0xB0 => ("cio", false),
        0xB1 => ("wr", false),
        0xB2 => ("hr", false),
        0xB3 => ("ar", false),
        0x82 => ("dm", false),
        0x89 => ("tim_cnt_pv", false),
        0x98 => ("em_current", false),
        0x9C => ("index_register", false),
        0xBC => ("data_register", false),
        0x80 => ("cio_lr_hr_ar", false),
        0x81 => ("tim_cnt_pv_cv", false),
        0x20..=0x2C => return (format!("em{}_bit", code - 0x20).into(), true),
        0xA0..=0xAC => return (format!("em{}", code - 0xA0).into(), false),
        0xE0..=0xF8 => return (format!("em{}", code - 0xE0 + 13).into(), false),
        _ => return (format!("area{code:#04x}").into(), false),
    };
    let name = if bit {
        format!("{name}_bit").into()
    } else {
        name.into()
    };
    (name, bit)
}

/// Name of a FINS end code's main code (MRES with the relay bit masked).
pub fn end_code_name(main: u8) -> Cow<'static, str> {
    match main {
        0x00 => "normal_completion".into(),
        0x01 => "local_node_error".into(),
        0x02 => "destination_node_error".into(),
        0x03 => "controller_error".into(),
        0x04 => "service_unsupported".into(),
        0x05 => "routing_table_error".into(),
        0x10 => "command_format_error".into(),
        0x11 => "parameter_error".into(),
        0x20 => "read_not_possible".into(),
        0x21 => "write_not_possible".into(),
        0x22 => "not_executable_in_current_mode".into(),
        0x23 => "no_such_device".into(),
        0x24 => "cannot_start_stop".into(),
        0x25 => "unit_error".into(),
        0x26 => "command_error".into(),
        0x30 => "access_right_error".into(),
        0x40 => "abort".into(),
        n => format!("unknown-{n}").into(),
    }
}
