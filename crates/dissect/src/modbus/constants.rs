//! Modbus code tables: public function codes, exception codes, diagnostic sub-functions,
//! device identification objects and Schneider UMAS sub-functions, with the operation
//! class each one belongs to.

use crate::OpClass;
use std::borrow::Cow;

/// Function code of read coils.
pub const FC_READ_COILS: u8 = 1;
/// Function code of read discrete inputs.
pub const FC_READ_DISCRETE_INPUTS: u8 = 2;
/// Function code of read holding registers.
pub const FC_READ_HOLDING_REGISTERS: u8 = 3;
/// Function code of read input registers.
pub const FC_READ_INPUT_REGISTERS: u8 = 4;
/// Function code of write single coil.
pub const FC_WRITE_SINGLE_COIL: u8 = 5;
/// Function code of write single register.
pub const FC_WRITE_SINGLE_REGISTER: u8 = 6;
/// Function code of read exception status (serial line only).
pub const FC_READ_EXCEPTION_STATUS: u8 = 7;
/// Function code of diagnostics (serial line only).
pub const FC_DIAGNOSTICS: u8 = 8;
/// Function code of get comm event counter.
pub const FC_GET_COMM_EVENT_COUNTER: u8 = 11;
/// Function code of get comm event log.
pub const FC_GET_COMM_EVENT_LOG: u8 = 12;
/// Function code of write multiple coils.
pub const FC_WRITE_MULTIPLE_COILS: u8 = 15;
/// Function code of write multiple registers.
pub const FC_WRITE_MULTIPLE_REGISTERS: u8 = 16;
/// Function code of report server id.
pub const FC_REPORT_SERVER_ID: u8 = 17;
/// Function code of read file record.
pub const FC_READ_FILE_RECORD: u8 = 20;
/// Function code of write file record.
pub const FC_WRITE_FILE_RECORD: u8 = 21;
/// Function code of mask write register.
pub const FC_MASK_WRITE_REGISTER: u8 = 22;
/// Function code of read/write multiple registers.
pub const FC_READ_WRITE_MULTIPLE_REGISTERS: u8 = 23;
/// Function code of read FIFO queue.
pub const FC_READ_FIFO_QUEUE: u8 = 24;
/// Function code of encapsulated interface transport (MEI).
pub const FC_ENCAPSULATED_INTERFACE: u8 = 43;
/// Schneider Electric UMAS (Unity) program management, carried in Modbus function 90.
pub const FC_UMAS: u8 = 90;

/// MEI type of read device identification (function 43).
pub const MEI_READ_DEVICE_ID: u8 = 14;
/// MEI type of CANopen general reference (function 43).
pub const MEI_CANOPEN: u8 = 13;

/// Exception bit of a response function code.
pub const EXCEPTION_BIT: u8 = 0x80;

/// Name of a function code, `unknown-<n>` for codes not in the table.
pub fn function_name(fc: u8) -> Cow<'static, str> {
    let name = match fc {
        1 => "read_coils",
        2 => "read_discrete_inputs",
        3 => "read_holding_registers",
        4 => "read_input_registers",
        5 => "write_single_coil",
        6 => "write_single_register",
        7 => "read_exception_status",
        8 => "diagnostics",
        9 => "program_484",
        10 => "poll_484",
        11 => "get_comm_event_counter",
        12 => "get_comm_event_log",
        13 => "program_584_984",
        14 => "poll_584_984",
        15 => "write_multiple_coils",
        16 => "write_multiple_registers",
        17 => "report_server_id",
        18 => "program_884_u84",
        19 => "reset_comm_link_884_u84",
        20 => "read_file_record",
        21 => "write_file_record",
        22 => "mask_write_register",
        23 => "read_write_multiple_registers",
        24 => "read_fifo_queue",
        40 => "program_concept",
        43 => "encapsulated_interface_transport",
        90 => "umas",
        125 => "firmware_replacement",
        126 => "program_584_984_2",
        127 => "report_local_address",
        n => return Cow::Owned(format!("unknown-{n}")),
    };
    Cow::Borrowed(name)
}

/// True for function codes in the table of [`function_name`].
pub fn is_known_function(fc: u8) -> bool {
    matches!(fc, 1..=24 | 40 | 43 | 90 | 125..=127)
}

/// Operation class of a function code. Function 8 and 43 depend on their sub-codes and
/// function 90 on its UMAS code: see [`diagnostic_op`], [`mei_op`] and [`umas_op`].
pub fn function_op(fc: u8) -> OpClass {
    match fc {
        1..=4 | 24 | 20 => OpClass::Read,
        5 | 6 | 15 | 16 | 21..=23 => OpClass::Write,
        7 | 8 | 11 | 12 => OpClass::Diagnostic,
        17 | 127 => OpClass::Identify,
        43 => OpClass::Identify,
        // Modicon programming functions move ladder logic or firmware.
        9 | 10 | 13 | 14 | 18 | 40 | 90 | 125 | 126 => OpClass::Program,
        19 => OpClass::Control,
        _ => OpClass::Other,
    }
}

/// Name of an exception code.
pub fn exception_name(code: u8) -> Cow<'static, str> {
    let name = match code {
        1 => "illegal_function",
        2 => "illegal_data_address",
        3 => "illegal_data_value",
        4 => "server_device_failure",
        5 => "acknowledge",
        6 => "server_device_busy",
        7 => "negative_acknowledge",
        8 => "memory_parity_error",
        10 => "gateway_path_unavailable",
        11 => "gateway_target_device_failed_to_respond",
        n => return Cow::Owned(format!("unknown-{n}")),
    };
    Cow::Borrowed(name)
}

/// Name of a diagnostics (function 8) sub-function.
pub fn diagnostic_name(sub: u16) -> Cow<'static, str> {
    let name = match sub {
        0 => "return_query_data",
        1 => "restart_communications_option",
        2 => "return_diagnostic_register",
        3 => "change_ascii_input_delimiter",
        4 => "force_listen_only_mode",
        10 => "clear_counters_and_diagnostic_register",
        11 => "return_bus_message_count",
        12 => "return_bus_communication_error_count",
        13 => "return_bus_exception_error_count",
        14 => "return_server_message_count",
        15 => "return_server_no_response_count",
        16 => "return_server_nak_count",
        17 => "return_server_busy_count",
        18 => "return_bus_character_overrun_count",
        20 => "clear_overrun_counter_and_flag",
        n => return Cow::Owned(format!("unknown-{n}")),
    };
    Cow::Borrowed(name)
}

/// Operation class of a diagnostics sub-function: restarting communications and forcing
/// listen-only mode take a device off the bus, so they are control, not diagnostics.
pub fn diagnostic_op(sub: u16) -> OpClass {
    match sub {
        1 | 4 => OpClass::Control,
        _ => OpClass::Diagnostic,
    }
}

/// Operation class of a function 43 request by its MEI type.
pub fn mei_op(mei_type: u8) -> OpClass {
    match mei_type {
        MEI_READ_DEVICE_ID => OpClass::Identify,
        _ => OpClass::Other,
    }
}

/// Name of a read-device-identification object id.
pub fn device_id_object_name(id: u8) -> Cow<'static, str> {
    let name = match id {
        0 => "vendor_name",
        1 => "product_code",
        2 => "major_minor_revision",
        3 => "vendor_url",
        4 => "product_name",
        5 => "model_name",
        6 => "user_application_name",
        n => return Cow::Owned(format!("object-{n}")),
    };
    Cow::Borrowed(name)
}

/// UMAS status code of a successful response.
pub const UMAS_OK: u8 = 0xFE;
/// UMAS status code of a refused request.
pub const UMAS_ERROR: u8 = 0xFD;

/// Name of a UMAS sub-function code.
pub fn umas_name(code: u8) -> Cow<'static, str> {
    let name = match code {
        0x01 => "umas_init_comm",
        0x02 => "umas_read_id",
        0x03 => "umas_read_project_info",
        0x04 => "umas_read_plc_info",
        0x06 => "umas_read_card_info",
        0x0A => "umas_repeat",
        0x10 => "umas_take_plc_reservation",
        0x11 => "umas_release_plc_reservation",
        0x12 => "umas_keep_alive",
        0x20 => "umas_read_memory_block",
        0x22 => "umas_read_variables",
        0x23 => "umas_write_variables",
        0x24 => "umas_read_coils_registers",
        0x25 => "umas_write_coils_registers",
        0x26 => "umas_enable_disable_data_dictionary",
        0x30 => "umas_initialize_upload",
        0x31 => "umas_upload_block",
        0x32 => "umas_end_strategy_upload",
        0x33 => "umas_initialize_download",
        0x34 => "umas_download_block",
        0x35 => "umas_end_strategy_download",
        0x36 => "umas_read_block",
        0x37 => "umas_write_block",
        0x38 => "umas_read_write_block",
        0x39 => "umas_read_ethernet_master_data",
        0x40 => "umas_start_plc",
        0x41 => "umas_stop_plc",
        0x50 => "umas_monitor_plc",
        0x58 => "umas_check_plc",
        0x70 => "umas_read_io_object",
        0x71 => "umas_write_io_object",
        0x73 => "umas_get_status_module",
        n => return Cow::Owned(format!("umas_unknown-{n}")),
    };
    Cow::Borrowed(name)
}

/// Operation class of a UMAS sub-function: starting and stopping the PLC is control,
/// everything else on this engineering channel is program management.
pub fn umas_op(code: u8) -> OpClass {
    match code {
        0x40 | 0x41 => OpClass::Control,
        _ => OpClass::Program,
    }
}
