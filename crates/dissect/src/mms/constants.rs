//! MMS (ISO 9506) service tables.

use crate::OpClass;

/// Name and class of a confirmed service, by its context tag number.
pub fn confirmed_service(tag: u32) -> Option<(&'static str, OpClass)> {
    use OpClass::*;
    Some(match tag {
        0 => ("status", Diagnostic),
        1 => ("get_name_list", Read),
        2 => ("identify", Identify),
        3 => ("rename", Write),
        4 => ("read", Read),
        5 => ("write", Write),
        6 => ("get_variable_access_attributes", Read),
        7 => ("define_named_variable", Write),
        8 => ("define_scattered_access", Write),
        9 => ("get_scattered_access_attributes", Read),
        10 => ("delete_variable_access", Write),
        11 => ("define_named_variable_list", Write),
        12 => ("get_named_variable_list_attributes", Read),
        13 => ("delete_named_variable_list", Write),
        14 => ("define_named_type", Write),
        15 => ("get_named_type_attributes", Read),
        16 => ("delete_named_type", Write),
        17 => ("input", Read),
        18 => ("output", Write),
        19 => ("take_control", Control),
        20 => ("relinquish_control", Control),
        21 => ("define_semaphore", Write),
        22 => ("delete_semaphore", Write),
        23 => ("report_semaphore_status", Read),
        24 => ("report_pool_semaphore_status", Read),
        25 => ("report_semaphore_entry_status", Read),
        26 => ("initiate_download_sequence", Program),
        27 => ("download_segment", Program),
        28 => ("terminate_download_sequence", Program),
        29 => ("initiate_upload_sequence", Program),
        30 => ("upload_segment", Program),
        31 => ("terminate_upload_sequence", Program),
        32 => ("request_domain_download", Program),
        33 => ("request_domain_upload", Program),
        34 => ("load_domain_content", Program),
        35 => ("store_domain_content", Program),
        36 => ("delete_domain", Program),
        37 => ("get_domain_attributes", Read),
        38 => ("create_program_invocation", Control),
        39 => ("delete_program_invocation", Control),
        40 => ("start", Control),
        41 => ("stop", Control),
        42 => ("resume", Control),
        43 => ("reset", Control),
        44 => ("kill", Control),
        45 => ("get_program_invocation_attributes", Read),
        46 => ("obtain_file", Program),
        47 => ("define_event_condition", Write),
        48 => ("delete_event_condition", Write),
        49 => ("get_event_condition_attributes", Read),
        50 => ("report_event_condition_status", Read),
        51 => ("alter_event_condition_monitoring", Write),
        52 => ("trigger_event", Control),
        53 => ("define_event_action", Write),
        54 => ("delete_event_action", Write),
        55 => ("get_event_action_attributes", Read),
        56 => ("report_event_action_status", Read),
        57 => ("define_event_enrollment", Write),
        58 => ("delete_event_enrollment", Write),
        59 => ("alter_event_enrollment", Write),
        60 => ("report_event_enrollment_status", Read),
        61 => ("get_event_enrollment_attributes", Read),
        62 => ("acknowledge_event_notification", Write),
        63 => ("get_alarm_summary", Read),
        64 => ("get_alarm_enrollment_summary", Read),
        65 => ("read_journal", Read),
        66 => ("write_journal", Write),
        67 => ("initialize_journal", Write),
        68 => ("report_journal_status", Read),
        69 => ("create_journal", Write),
        70 => ("delete_journal", Write),
        71 => ("get_capability_list", Read),
        72 => ("file_open", Read),
        73 => ("file_read", Read),
        74 => ("file_close", Read),
        75 => ("file_rename", Write),
        76 => ("file_delete", Write),
        77 => ("file_directory", Read),
        _ => return None,
    })
}

/// PDU kinds (the MMSpdu choice tag numbers).
pub mod pdu {
    /// confirmed-RequestPDU.
    pub const CONFIRMED_REQUEST: u32 = 0;
    /// confirmed-ResponsePDU.
    pub const CONFIRMED_RESPONSE: u32 = 1;
    /// confirmed-ErrorPDU.
    pub const CONFIRMED_ERROR: u32 = 2;
    /// unconfirmed-PDU.
    pub const UNCONFIRMED: u32 = 3;
    /// rejectPDU.
    pub const REJECT: u32 = 4;
    /// cancel-RequestPDU.
    pub const CANCEL_REQUEST: u32 = 5;
    /// cancel-ResponsePDU.
    pub const CANCEL_RESPONSE: u32 = 6;
    /// cancel-ErrorPDU.
    pub const CANCEL_ERROR: u32 = 7;
    /// initiate-RequestPDU.
    pub const INITIATE_REQUEST: u32 = 8;
    /// initiate-ResponsePDU.
    pub const INITIATE_RESPONSE: u32 = 9;
    /// initiate-ErrorPDU.
    pub const INITIATE_ERROR: u32 = 10;
    /// conclude-RequestPDU.
    pub const CONCLUDE_REQUEST: u32 = 11;
    /// conclude-ResponsePDU.
    pub const CONCLUDE_RESPONSE: u32 = 12;
    /// conclude-ErrorPDU.
    pub const CONCLUDE_ERROR: u32 = 13;
}

/// Name of a non-confirmed PDU kind.
pub fn pdu_name(tag: u32) -> &'static str {
    match tag {
        pdu::CONFIRMED_ERROR => "confirmed_error",
        pdu::REJECT => "reject",
        pdu::CANCEL_REQUEST => "cancel_request",
        pdu::CANCEL_RESPONSE => "cancel_response",
        pdu::CANCEL_ERROR => "cancel_error",
        pdu::INITIATE_REQUEST => "initiate_request",
        pdu::INITIATE_RESPONSE => "initiate_response",
        pdu::INITIATE_ERROR => "initiate_error",
        pdu::CONCLUDE_REQUEST => "conclude_request",
        pdu::CONCLUDE_RESPONSE => "conclude_response",
        pdu::CONCLUDE_ERROR => "conclude_error",
        _ => "unknown_pdu",
    }
}

/// Name of an unconfirmed service.
pub fn unconfirmed_service(tag: u32) -> Option<&'static str> {
    Some(match tag {
        0 => "information_report",
        1 => "unsolicited_status",
        2 => "event_notification",
        _ => return None,
    })
}

/// Name of a service error class (ServiceError.errorClass choice).
pub fn error_class_name(tag: u32) -> &'static str {
    match tag {
        0 => "vmd_state",
        1 => "application_reference",
        2 => "definition",
        3 => "resource",
        4 => "service",
        5 => "service_preempt",
        6 => "time_resolution",
        7 => "access",
        8 => "initiate",
        9 => "conclude",
        10 => "cancel",
        11 => "file",
        _ => "other",
    }
}
