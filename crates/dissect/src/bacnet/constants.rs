//! Code tables of BACnet: BVLC functions, network-layer messages, services, object
//! types, properties, error classes and codes, reject and abort reasons, vendors.

use crate::OpClass;

/// Name of a BVLC function.
pub fn bvlc_function_name(f: u8) -> Option<&'static str> {
    Some(match f {
        0x00 => "bvlc_result",
        0x01 => "write_broadcast_distribution_table",
        0x02 => "read_broadcast_distribution_table",
        0x03 => "read_broadcast_distribution_table_ack",
        0x04 => "forwarded_npdu",
        0x05 => "register_foreign_device",
        0x06 => "read_foreign_device_table",
        0x07 => "read_foreign_device_table_ack",
        0x08 => "delete_foreign_device_table_entry",
        0x09 => "distribute_broadcast_to_network",
        0x0A => "original_unicast_npdu",
        0x0B => "original_broadcast_npdu",
        0x0C => "secure_bvll",
        _ => return None,
    })
}

/// Name of a network-layer message type.
pub fn network_message_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0x00 => "who_is_router_to_network",
        0x01 => "i_am_router_to_network",
        0x02 => "i_could_be_router_to_network",
        0x03 => "reject_message_to_network",
        0x04 => "router_busy_to_network",
        0x05 => "router_available_to_network",
        0x06 => "initialize_routing_table",
        0x07 => "initialize_routing_table_ack",
        0x08 => "establish_connection_to_network",
        0x09 => "disconnect_connection_to_network",
        0x0A => "challenge_request",
        0x0B => "security_payload",
        0x0C => "security_response",
        0x0D => "request_key_update",
        0x0E => "update_key_set",
        0x0F => "update_distribution_key",
        0x10 => "request_master_key",
        0x11 => "set_master_key",
        0x12 => "what_is_network_number",
        0x13 => "network_number_is",
        _ => return None,
    })
}

/// Confirmed service: readProperty.
pub const SVC_READ_PROPERTY: u8 = 12;
/// Confirmed service: readPropertyMultiple.
pub const SVC_READ_PROPERTY_MULTIPLE: u8 = 14;
/// Confirmed service: writeProperty.
pub const SVC_WRITE_PROPERTY: u8 = 15;
/// Confirmed service: writePropertyMultiple.
pub const SVC_WRITE_PROPERTY_MULTIPLE: u8 = 16;

/// Name and operation class of a confirmed service.
pub fn confirmed_service(s: u8) -> Option<(&'static str, OpClass)> {
    Some(match s {
        0 => ("acknowledge_alarm", OpClass::Other),
        1 => ("confirmed_cov_notification", OpClass::Read),
        2 => ("confirmed_event_notification", OpClass::Other),
        3 => ("get_alarm_summary", OpClass::Read),
        4 => ("get_enrollment_summary", OpClass::Read),
        5 => ("subscribe_cov", OpClass::Other),
        6 => ("atomic_read_file", OpClass::Program),
        7 => ("atomic_write_file", OpClass::Program),
        8 => ("add_list_element", OpClass::Write),
        9 => ("remove_list_element", OpClass::Write),
        10 => ("create_object", OpClass::Write),
        11 => ("delete_object", OpClass::Write),
        12 => ("read_property", OpClass::Read),
        13 => ("read_property_conditional", OpClass::Read),
        14 => ("read_property_multiple", OpClass::Read),
        15 => ("write_property", OpClass::Write),
        16 => ("write_property_multiple", OpClass::Write),
        17 => ("device_communication_control", OpClass::Control),
        18 => ("confirmed_private_transfer", OpClass::Other),
        19 => ("confirmed_text_message", OpClass::Other),
        20 => ("reinitialize_device", OpClass::Control),
        21 => ("vt_open", OpClass::Session),
        22 => ("vt_close", OpClass::Session),
        23 => ("vt_data", OpClass::Other),
        24 => ("authenticate", OpClass::Session),
        25 => ("request_key", OpClass::Session),
        26 => ("read_range", OpClass::Read),
        27 => ("life_safety_operation", OpClass::Control),
        28 => ("subscribe_cov_property", OpClass::Other),
        29 => ("get_event_information", OpClass::Read),
        30 => ("subscribe_cov_property_multiple", OpClass::Other),
        31 => ("confirmed_cov_notification_multiple", OpClass::Read),
        32 => ("confirmed_audit_notification", OpClass::Other),
        33 => ("audit_log_query", OpClass::Read),
        _ => return None,
    })
}

/// Name and operation class of an unconfirmed service.
pub fn unconfirmed_service(s: u8) -> Option<(&'static str, OpClass)> {
    Some(match s {
        0 => ("i_am", OpClass::Identify),
        1 => ("i_have", OpClass::Identify),
        2 => ("unconfirmed_cov_notification", OpClass::Read),
        3 => ("unconfirmed_event_notification", OpClass::Other),
        4 => ("unconfirmed_private_transfer", OpClass::Other),
        5 => ("unconfirmed_text_message", OpClass::Other),
        6 => ("time_synchronization", OpClass::Control),
        7 => ("who_has", OpClass::Identify),
        8 => ("who_is", OpClass::Identify),
        9 => ("utc_time_synchronization", OpClass::Control),
        10 => ("write_group", OpClass::Write),
        11 => ("unconfirmed_cov_notification_multiple", OpClass::Read),
        12 => ("unconfirmed_audit_notification", OpClass::Other),
        13 => ("who_am_i", OpClass::Identify),
        14 => ("you_are", OpClass::Identify),
        _ => return None,
    })
}

/// Name of an object type.
pub fn object_type_name(t: u16) -> Option<&'static str> {
    const NAMES: [&str; 65] = [
        "analog_input",
        "analog_output",
        "analog_value",
        "binary_input",
        "binary_output",
        "binary_value",
        "calendar",
        "command",
        "device",
        "event_enrollment",
        "file",
        "group",
        "loop",
        "multi_state_input",
        "multi_state_output",
        "notification_class",
        "program",
        "schedule",
        "averaging",
        "multi_state_value",
        "trend_log",
        "life_safety_point",
        "life_safety_zone",
        "accumulator",
        "pulse_converter",
        "event_log",
        "global_group",
        "trend_log_multiple",
        "load_control",
        "structured_view",
        "access_door",
        "timer",
        "access_credential",
        "access_point",
        "access_rights",
        "access_user",
        "access_zone",
        "credential_data_input",
        "network_security",
        "bitstring_value",
        "characterstring_value",
        "date_pattern_value",
        "date_value",
        "datetime_pattern_value",
        "datetime_value",
        "integer_value",
        "large_analog_value",
        "octetstring_value",
        "positive_integer_value",
        "time_pattern_value",
        "time_value",
        "notification_forwarder",
        "alert_enrollment",
        "channel",
        "lighting_output",
        "binary_lighting_output",
        "network_port",
        "elevator_group",
        "escalator",
        "lift",
        "staging",
        "audit_log",
        "audit_reporter",
        "color",
        "color_temperature",
    ];
    NAMES.get(usize::from(t)).copied()
}

/// Name of the common property identifiers.
pub fn property_name(p: u32) -> Option<&'static str> {
    Some(match p {
        0 => "acked_transitions",
        4 => "active_text",
        8 => "all",
        10 => "apdu_segment_timeout",
        11 => "apdu_timeout",
        12 => "application_software_version",
        17 => "notification_class",
        22 => "cov_increment",
        25 => "deadband",
        28 => "description",
        30 => "device_address_binding",
        35 => "event_enable",
        36 => "event_state",
        44 => "firmware_revision",
        45 => "high_limit",
        46 => "inactive_text",
        52 => "limit_enable",
        56 => "local_date",
        57 => "local_time",
        59 => "low_limit",
        62 => "max_apdu_length_accepted",
        65 => "max_present_value",
        69 => "min_present_value",
        70 => "model_name",
        72 => "notify_type",
        73 => "number_of_apdu_retries",
        74 => "number_of_states",
        75 => "object_identifier",
        76 => "object_list",
        77 => "object_name",
        79 => "object_type",
        80 => "optional",
        81 => "out_of_service",
        84 => "polarity",
        85 => "present_value",
        87 => "priority_array",
        96 => "protocol_object_types_supported",
        97 => "protocol_services_supported",
        98 => "protocol_version",
        103 => "reliability",
        104 => "relinquish_default",
        105 => "required",
        106 => "resolution",
        107 => "segmentation_supported",
        110 => "state_text",
        111 => "status_flags",
        112 => "system_status",
        113 => "time_delay",
        117 => "units",
        120 => "vendor_identifier",
        121 => "vendor_name",
        130 => "event_time_stamps",
        139 => "protocol_revision",
        155 => "database_revision",
        168 => "profile_name",
        371 => "property_list",
        _ => return None,
    })
}

/// Name of an error class.
pub fn error_class_name(c: u32) -> Option<&'static str> {
    Some(match c {
        0 => "device",
        1 => "object",
        2 => "property",
        3 => "resources",
        4 => "security",
        5 => "services",
        6 => "vt",
        7 => "communication",
        _ => return None,
    })
}

/// Name of the common error codes.
pub fn error_code_name(c: u32) -> Option<&'static str> {
    Some(match c {
        0 => "other",
        2 => "configuration_in_progress",
        3 => "device_busy",
        4 => "dynamic_creation_not_supported",
        5 => "file_access_denied",
        7 => "inconsistent_parameters",
        8 => "inconsistent_selection_criterion",
        9 => "invalid_data_type",
        10 => "invalid_file_access_method",
        11 => "invalid_file_start_position",
        13 => "invalid_parameter_data_type",
        14 => "invalid_timestamp",
        16 => "missing_required_parameter",
        17 => "no_objects_of_specified_type",
        18 => "no_space_for_object",
        19 => "no_space_to_add_list_element",
        20 => "no_space_to_write_property",
        21 => "no_vt_sessions_available",
        22 => "property_is_not_a_list",
        23 => "object_deletion_not_permitted",
        24 => "object_identifier_already_exists",
        25 => "operational_problem",
        26 => "password_failure",
        27 => "read_access_denied",
        29 => "service_request_denied",
        30 => "timeout",
        31 => "unknown_object",
        32 => "unknown_property",
        34 => "unknown_vt_class",
        35 => "unknown_vt_session",
        36 => "unsupported_object_type",
        37 => "value_out_of_range",
        38 => "vt_session_already_closed",
        39 => "vt_session_termination_failure",
        40 => "write_access_denied",
        41 => "character_set_not_supported",
        42 => "invalid_array_index",
        44 => "not_cov_property",
        45 => "optional_functionality_not_supported",
        46 => "invalid_configuration_data",
        47 => "datatype_not_supported",
        48 => "duplicate_name",
        49 => "duplicate_object_id",
        50 => "property_is_not_an_array",
        _ => return None,
    })
}

/// Name of a reject reason.
pub fn reject_reason_name(r: u8) -> Option<&'static str> {
    Some(match r {
        0 => "other",
        1 => "buffer_overflow",
        2 => "inconsistent_parameters",
        3 => "invalid_parameter_data_type",
        4 => "invalid_tag",
        5 => "missing_required_parameter",
        6 => "parameter_out_of_range",
        7 => "too_many_arguments",
        8 => "undefined_enumeration",
        9 => "unrecognized_service",
        _ => return None,
    })
}

/// Name of an abort reason.
pub fn abort_reason_name(r: u8) -> Option<&'static str> {
    Some(match r {
        0 => "other",
        1 => "buffer_overflow",
        2 => "invalid_apdu_in_this_state",
        3 => "preempted_by_higher_priority_task",
        4 => "segmentation_not_supported",
        5 => "security_error",
        6 => "insufficient_security",
        7 => "window_size_out_of_range",
        8 => "application_exceeded_reply_time",
        9 => "out_of_resources",
        10 => "tsm_timeout",
        11 => "apdu_too_long",
        _ => return None,
    })
}

/// Name of a reinitializeDevice state.
pub fn reinit_state_name(s: u32) -> Option<&'static str> {
    Some(match s {
        0 => "coldstart",
        1 => "warmstart",
        2 => "start_backup",
        3 => "end_backup",
        4 => "start_restore",
        5 => "end_restore",
        6 => "abort_restore",
        7 => "activate_changes",
        _ => return None,
    })
}

/// Name of a segmentation-supported value.
pub fn segmentation_name(s: u32) -> Option<&'static str> {
    Some(match s {
        0 => "both",
        1 => "transmit",
        2 => "receive",
        3 => "none",
        _ => return None,
    })
}

/// Vendor name of the common BACnet vendor ids (ASHRAE registry); `None` for the rest.
pub fn vendor_name(id: u32) -> Option<&'static str> {
    Some(match id {
        2 => "The Trane Company",
        5 => "Johnson Controls",
        7 | 9 | 22 => "Siemens Schweiz AG",
        8 => "Delta Controls",
        10 => "Schneider Electric",
        14 => "Cimetrics Technology",
        16 => "Carrier",
        17 => "Honeywell",
        18 => "Alerton / Honeywell",
        24 => "Automated Logic Corporation",
        28 => "KMC Controls",
        35 => "Reliable Controls",
        36 => "Tridium",
        160 => "Rockwell Automation",
        222 => "WAGO",
        226 => "Phoenix Contact",
        245 => "Contemporary Control Systems",
        260 => "BACnet Stack at SourceForge",
        313 => "Siemens Industry",
        332 | 364 => "Distech Controls",
        415 => "Beckhoff Automation",
        _ => return None,
    })
}
