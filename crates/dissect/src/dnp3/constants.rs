//! DNP3 code tables: application function codes with their operation classes, internal
//! indication (IIN) bits, link-layer functions and the fixed sizes of object variations.

use crate::OpClass;
use std::borrow::Cow;

/// Application function code of a confirm.
pub const FC_CONFIRM: u8 = 0;
/// Application function code of read.
pub const FC_READ: u8 = 1;
/// Application function code of write.
pub const FC_WRITE: u8 = 2;
/// Application function code of a solicited response.
pub const FC_RESPONSE: u8 = 129;
/// Application function code of an unsolicited response.
pub const FC_UNSOLICITED_RESPONSE: u8 = 130;
/// Application function code of an authentication response.
pub const FC_AUTHENTICATE_RESPONSE: u8 = 131;

/// Name of an application function code, `unknown-<n>` for others.
pub fn function_name(fc: u8) -> Cow<'static, str> {
    let name = match fc {
        0 => "confirm",
        1 => "read",
        2 => "write",
        3 => "select",
        4 => "operate",
        5 => "direct_operate",
        6 => "direct_operate_no_ack",
        7 => "immediate_freeze",
        8 => "immediate_freeze_no_ack",
        9 => "freeze_clear",
        10 => "freeze_clear_no_ack",
        11 => "freeze_at_time",
        12 => "freeze_at_time_no_ack",
        13 => "cold_restart",
        14 => "warm_restart",
        15 => "initialize_data",
        16 => "initialize_application",
        17 => "start_application",
        18 => "stop_application",
        19 => "save_configuration",
        20 => "enable_unsolicited",
        21 => "disable_unsolicited",
        22 => "assign_class",
        23 => "delay_measure",
        24 => "record_current_time",
        25 => "open_file",
        26 => "close_file",
        27 => "delete_file",
        28 => "get_file_info",
        29 => "authenticate_file",
        30 => "abort_file",
        31 => "activate_config",
        32 => "authenticate_request",
        33 => "authenticate_request_no_ack",
        129 => "response",
        130 => "unsolicited_response",
        131 => "authenticate_response",
        n => return Cow::Owned(format!("unknown-{n}")),
    };
    Cow::Borrowed(name)
}

/// True for the function codes an outstation sends (responses).
pub fn is_response_function(fc: u8) -> bool {
    fc >= FC_RESPONSE
}

/// Operation class of a request function.
///
/// Enabling and disabling unsolicited reporting and assigning classes are `control`: they
/// change what the outstation reports on its own, and turning reporting off blinds the
/// operator, which is a change of the device's behaviour rather than a data transfer.
/// Freezes latch counter values, also a state change. File functions and configuration
/// activation move configuration or programs, so they are `program`.
pub fn function_op(fc: u8) -> OpClass {
    match fc {
        1 => OpClass::Read,
        2..=6 => OpClass::Write,
        7..=18 | 20..=22 => OpClass::Control,
        19 | 25..=31 => OpClass::Program,
        32 | 33 | 131 => OpClass::Session,
        // Unsolicited responses report data the outstation was configured to push.
        130 => OpClass::Read,
        _ => OpClass::Other,
    }
}

/// Requests whose object headers are followed by object data (a read or a class
/// assignment names points only).
pub fn request_carries_data(fc: u8) -> bool {
    !matches!(fc, 1 | 7..=10 | 13..=15 | 20..=24)
}

/// Names of the IIN bits set in `iin` (first octet IIN1 in the high byte).
pub fn iin_names(iin: u16) -> Vec<String> {
    const NAMES: [&str; 16] = [
        // IIN2, bit 0 first
        "no_func_code_support",
        "object_unknown",
        "parameter_error",
        "event_buffer_overflow",
        "already_executing",
        "config_corrupt",
        "reserved_2",
        "reserved_1",
        // IIN1, bit 0 first
        "all_stations",
        "class_1_events",
        "class_2_events",
        "class_3_events",
        "need_time",
        "local_control",
        "device_trouble",
        "device_restart",
    ];
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| iin >> i & 1 == 1)
        .map(|(_, n)| (*n).to_string())
        .collect()
}

/// IIN2 bits that say the outstation refused the request.
pub const IIN2_ERRORS: u8 = 0x07;

/// Name of the most severe error bit of IIN2.
pub fn iin2_error_name(iin2: u8) -> &'static str {
    if iin2 & 0x01 != 0 {
        "no_func_code_support"
    } else if iin2 & 0x02 != 0 {
        "object_unknown"
    } else {
        "parameter_error"
    }
}

/// How the objects of one variation are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectSize {
    /// Each object takes this many bytes.
    Fixed(usize),
    /// Objects are packed bits, this many per point (1 or 2).
    Bits(usize),
    /// No data (class objects, requests for all variations).
    Empty,
    /// Size comes from a size prefix or from the objects themselves.
    Variable,
}

/// Layout of the objects of group `g`, variation `v`, as sent in a response or in a
/// request that carries data. `None` for variations gapwatch cannot size.
pub fn object_size(g: u8, v: u8) -> Option<ObjectSize> {
    use ObjectSize::*;
    Some(match (g, v) {
        (0, _) => Variable,
        (_, 0) => Empty,
        (1, 1) | (10, 1) | (80, 1) => Bits(1),
        (3, 1) => Bits(2),
        (1, 2) | (3, 2) | (10, 2) | (11, 1) | (13, 1) | (2, 1) | (4, 1) => Fixed(1),
        (2, 2) | (4, 2) | (11, 2) | (13, 2) => Fixed(7),
        (2, 3) | (4, 3) => Fixed(3),
        (12, 1) | (12, 2) => Fixed(11),
        (12, 3) => Bits(1),
        (20, 1) | (20, 3) | (22, 1) | (22, 3) | (23, 1) | (23, 3) | (21, 1) | (21, 3) => Fixed(5),
        (20, 2) | (20, 4) | (22, 2) | (22, 4) | (23, 2) | (23, 4) | (21, 2) | (21, 4) => Fixed(3),
        (20, 5) | (20, 7) | (21, 9) | (21, 11) => Fixed(4),
        (20, 6) | (20, 8) | (21, 10) | (21, 12) => Fixed(2),
        (21, 5) | (21, 7) | (22, 5) | (22, 7) | (23, 5) | (23, 7) => Fixed(11),
        (21, 6) | (21, 8) | (22, 6) | (22, 8) | (23, 6) | (23, 8) => Fixed(9),
        (30, 1) | (30, 5) | (40, 1) | (40, 3) | (41, 1) | (41, 3) => Fixed(5),
        (30, 2) | (40, 2) | (41, 2) => Fixed(3),
        (30, 3) => Fixed(4),
        (30, 4) => Fixed(2),
        (30, 6) | (40, 4) | (41, 4) => Fixed(9),
        (31, 1) | (31, 7) => Fixed(5),
        (31, 2) => Fixed(3),
        (31, 3) => Fixed(11),
        (31, 4) => Fixed(9),
        (31, 5) => Fixed(4),
        (31, 6) => Fixed(2),
        (31, 8) => Fixed(9),
        (32 | 33 | 42 | 43, 1) | (32 | 33 | 42 | 43, 5) => Fixed(5),
        (32 | 33 | 42 | 43, 2) => Fixed(3),
        (32 | 33 | 42 | 43, 3) | (32 | 33 | 42 | 43, 7) => Fixed(11),
        (32 | 33 | 42 | 43, 4) | (32 | 33 | 42 | 43, 6) => Fixed(9),
        (32 | 33 | 42 | 43, 8) => Fixed(15),
        (34, 1) => Fixed(2),
        (34, 2) | (34, 3) => Fixed(4),
        (50, 1) | (50, 3) | (51, 1) | (51, 2) => Fixed(6),
        (50, 2) => Fixed(10),
        (50, 4) => Fixed(11),
        (52, 1) | (52, 2) => Fixed(2),
        (60, _) => Empty,
        (101, 1) => Fixed(2),
        (101, 2) => Fixed(4),
        (101, 3) => Fixed(8),
        (102, 1) => Fixed(1),
        // Octet strings and virtual terminal events: the variation is the length.
        (110..=113, n) => Fixed(usize::from(n)),
        (70, _) | (90, _) | (120, _) | (121, _) | (122, _) => Variable,
        _ => return None,
    })
}

/// Name of a CROB operation type (low nibble of the control code).
pub fn crob_op_name(code: u8) -> &'static str {
    match (code >> 6, code & 0x0F) {
        (1, _) => "close",
        (2, _) => "trip",
        (_, 0) => "nul",
        (_, 1) => "pulse_on",
        (_, 2) => "pulse_off",
        (_, 3) => "latch_on",
        (_, 4) => "latch_off",
        _ => "unknown",
    }
}

/// The output state a CROB commands: 1 on/close, 0 off/trip, `None` for nul or
/// unknown codes.
pub fn crob_state(code: u8) -> Option<f64> {
    match (code >> 6, code & 0x0F) {
        (1, _) => Some(1.0),
        (2, _) => Some(0.0),
        (_, 1 | 3) => Some(1.0),
        (_, 2 | 4) => Some(0.0),
        _ => None,
    }
}
