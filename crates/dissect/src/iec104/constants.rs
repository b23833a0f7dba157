//! IEC 60870-5-104 code tables: ASDU type identifications and causes of transmission.

use crate::OpClass;

/// What the dissector knows about one ASDU type identification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeInfo {
    /// Standard mnemonic (`M_ME_NC_1`).
    pub mnemonic: &'static str,
    /// Descriptive snake_case name (`measured_value_short_float`).
    pub name: &'static str,
    /// Size in bytes of one information element including its time tag, when fixed.
    pub element_len: Option<usize>,
    /// How the value(s) of an element are decoded.
    pub value: ValueKind,
    /// Operation class of a message of this type.
    pub op: OpClass,
}

/// How to read the value of an information element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// No value worth reporting.
    None,
    /// Single point: bit 0 of the first byte.
    SinglePoint,
    /// Double point or double/regulating command: bits 0–1 of the first byte.
    DoublePoint,
    /// Step position: signed 7 bits of the first byte.
    StepPosition,
    /// 32-bit bitstring, little-endian.
    Bitstring,
    /// Normalised value: i16 / 32768.
    Normalised,
    /// Scaled value: i16.
    Scaled,
    /// IEEE 754 short float.
    Float,
    /// Binary counter reading: i32.
    Counter,
}

macro_rules! ti {
    ($m:literal, $n:literal, $len:expr, $v:ident, $op:ident) => {
        TypeInfo {
            mnemonic: $m,
            name: $n,
            element_len: $len,
            value: ValueKind::$v,
            op: OpClass::$op,
        }
    };
}

/// The table entry for a type identification, `None` for unassigned codes.
pub fn type_info(type_id: u8) -> Option<TypeInfo> {
    Some(match type_id {
        1 => ti!("M_SP_NA_1", "single_point", Some(1), SinglePoint, Read),
        2 => ti!("M_SP_TA_1", "single_point_cp24", Some(4), SinglePoint, Read),
        3 => ti!("M_DP_NA_1", "double_point", Some(1), DoublePoint, Read),
        4 => ti!("M_DP_TA_1", "double_point_cp24", Some(4), DoublePoint, Read),
        5 => ti!("M_ST_NA_1", "step_position", Some(2), StepPosition, Read),
        6 => ti!(
            "M_ST_TA_1",
            "step_position_cp24",
            Some(5),
            StepPosition,
            Read
        ),
        7 => ti!("M_BO_NA_1", "bitstring32", Some(5), Bitstring, Read),
        8 => ti!("M_BO_TA_1", "bitstring32_cp24", Some(8), Bitstring, Read),
        9 => ti!(
            "M_ME_NA_1",
            "measured_value_normalised",
            Some(3),
            Normalised,
            Read
        ),
        10 => ti!(
            "M_ME_TA_1",
            "measured_value_normalised_cp24",
            Some(6),
            Normalised,
            Read
        ),
        11 => ti!("M_ME_NB_1", "measured_value_scaled", Some(3), Scaled, Read),
        12 => ti!(
            "M_ME_TB_1",
            "measured_value_scaled_cp24",
            Some(6),
            Scaled,
            Read
        ),
        13 => ti!(
            "M_ME_NC_1",
            "measured_value_short_float",
            Some(5),
            Float,
            Read
        ),
        14 => ti!(
            "M_ME_TC_1",
            "measured_value_short_float_cp24",
            Some(8),
            Float,
            Read
        ),
        15 => ti!("M_IT_NA_1", "integrated_totals", Some(5), Counter, Read),
        16 => ti!(
            "M_IT_TA_1",
            "integrated_totals_cp24",
            Some(8),
            Counter,
            Read
        ),
        17 => ti!("M_EP_TA_1", "protection_event_cp24", Some(6), None, Read),
        18 => ti!(
            "M_EP_TB_1",
            "protection_start_events_cp24",
            Some(7),
            None,
            Read
        ),
        19 => ti!(
            "M_EP_TC_1",
            "protection_output_circuit_cp24",
            Some(7),
            None,
            Read
        ),
        20 => ti!(
            "M_PS_NA_1",
            "packed_single_point_with_scd",
            Some(5),
            Bitstring,
            Read
        ),
        21 => ti!(
            "M_ME_ND_1",
            "measured_value_normalised_no_quality",
            Some(2),
            Normalised,
            Read
        ),
        30 => ti!("M_SP_TB_1", "single_point_cp56", Some(8), SinglePoint, Read),
        31 => ti!("M_DP_TB_1", "double_point_cp56", Some(8), DoublePoint, Read),
        32 => ti!(
            "M_ST_TB_1",
            "step_position_cp56",
            Some(9),
            StepPosition,
            Read
        ),
        33 => ti!("M_BO_TB_1", "bitstring32_cp56", Some(12), Bitstring, Read),
        34 => ti!(
            "M_ME_TD_1",
            "measured_value_normalised_cp56",
            Some(10),
            Normalised,
            Read
        ),
        35 => ti!(
            "M_ME_TE_1",
            "measured_value_scaled_cp56",
            Some(10),
            Scaled,
            Read
        ),
        36 => ti!(
            "M_ME_TF_1",
            "measured_value_short_float_cp56",
            Some(12),
            Float,
            Read
        ),
        37 => ti!(
            "M_IT_TB_1",
            "integrated_totals_cp56",
            Some(12),
            Counter,
            Read
        ),
        38 => ti!("M_EP_TD_1", "protection_event_cp56", Some(10), None, Read),
        39 => ti!(
            "M_EP_TE_1",
            "protection_start_events_cp56",
            Some(11),
            None,
            Read
        ),
        40 => ti!(
            "M_EP_TF_1",
            "protection_output_circuit_cp56",
            Some(11),
            None,
            Read
        ),
        45 => ti!("C_SC_NA_1", "single_command", Some(1), SinglePoint, Write),
        46 => ti!("C_DC_NA_1", "double_command", Some(1), DoublePoint, Write),
        47 => ti!(
            "C_RC_NA_1",
            "regulating_step_command",
            Some(1),
            DoublePoint,
            Write
        ),
        48 => ti!(
            "C_SE_NA_1",
            "set_point_normalised",
            Some(3),
            Normalised,
            Write
        ),
        49 => ti!("C_SE_NB_1", "set_point_scaled", Some(3), Scaled, Write),
        50 => ti!("C_SE_NC_1", "set_point_short_float", Some(5), Float, Write),
        51 => ti!(
            "C_BO_NA_1",
            "bitstring32_command",
            Some(4),
            Bitstring,
            Write
        ),
        58 => ti!(
            "C_SC_TA_1",
            "single_command_cp56",
            Some(8),
            SinglePoint,
            Write
        ),
        59 => ti!(
            "C_DC_TA_1",
            "double_command_cp56",
            Some(8),
            DoublePoint,
            Write
        ),
        60 => ti!(
            "C_RC_TA_1",
            "regulating_step_command_cp56",
            Some(8),
            DoublePoint,
            Write
        ),
        61 => ti!(
            "C_SE_TA_1",
            "set_point_normalised_cp56",
            Some(10),
            Normalised,
            Write
        ),
        62 => ti!(
            "C_SE_TB_1",
            "set_point_scaled_cp56",
            Some(10),
            Scaled,
            Write
        ),
        63 => ti!(
            "C_SE_TC_1",
            "set_point_short_float_cp56",
            Some(12),
            Float,
            Write
        ),
        64 => ti!(
            "C_BO_TA_1",
            "bitstring32_command_cp56",
            Some(11),
            Bitstring,
            Write
        ),
        70 => ti!("M_EI_NA_1", "end_of_initialisation", Some(1), None, Other),
        100 => ti!("C_IC_NA_1", "interrogation", Some(1), None, Read),
        101 => ti!("C_CI_NA_1", "counter_interrogation", Some(1), None, Read),
        102 => ti!("C_RD_NA_1", "read", Some(0), None, Read),
        103 => ti!("C_CS_NA_1", "clock_synchronisation", Some(7), None, Control),
        104 => ti!("C_TS_NA_1", "test_command", Some(2), None, Diagnostic),
        105 => ti!("C_RP_NA_1", "reset_process", Some(1), None, Control),
        106 => ti!("C_CD_NA_1", "delay_acquisition", Some(2), None, Diagnostic),
        107 => ti!("C_TS_TA_1", "test_command_cp56", Some(9), None, Diagnostic),
        110 => ti!(
            "P_ME_NA_1",
            "parameter_normalised",
            Some(3),
            Normalised,
            Write
        ),
        111 => ti!("P_ME_NB_1", "parameter_scaled", Some(3), Scaled, Write),
        112 => ti!("P_ME_NC_1", "parameter_short_float", Some(5), Float, Write),
        113 => ti!("P_AC_NA_1", "parameter_activation", Some(1), None, Write),
        120 => ti!("F_FR_NA_1", "file_ready", Some(6), None, Other),
        121 => ti!("F_SR_NA_1", "section_ready", Some(7), None, Other),
        122 => ti!(
            "F_SC_NA_1",
            "call_directory_select_file",
            Some(4),
            None,
            Other
        ),
        123 => ti!("F_LS_NA_1", "last_section", Some(5), None, Other),
        124 => ti!("F_AF_NA_1", "ack_file", Some(4), None, Other),
        // Segments carry a length octet: variable size.
        125 => ti!("F_SG_NA_1", "segment", None, None, Other),
        126 => ti!("F_DR_TA_1", "directory", Some(13), None, Other),
        127 => ti!("F_SC_NB_1", "query_log", Some(16), None, Other),
        _ => return None,
    })
}

/// Name of a cause of transmission (6-bit code).
pub fn cot_name(cot: u8) -> Option<&'static str> {
    Some(match cot {
        1 => "periodic",
        2 => "background_scan",
        3 => "spontaneous",
        4 => "initialised",
        5 => "request",
        6 => "activation",
        7 => "activation_con",
        8 => "deactivation",
        9 => "deactivation_con",
        10 => "activation_termination",
        11 => "return_info_remote",
        12 => "return_info_local",
        13 => "file_transfer",
        20 => "interrogated_station",
        21..=36 => "interrogated_group",
        37 => "requested_counter_general",
        38..=41 => "requested_counter_group",
        44 => "unknown_type_id",
        45 => "unknown_cause",
        46 => "unknown_common_address",
        47 => "unknown_ioa",
        _ => return None,
    })
}

/// True for causes a controlled station sends back about a command (confirmations,
/// terminations and the negative "unknown ..." replies).
pub fn cot_is_reply(cot: u8) -> bool {
    matches!(cot, 7 | 9 | 10 | 44..=47)
}
