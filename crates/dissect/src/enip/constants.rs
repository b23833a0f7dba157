//! Code tables of EtherNet/IP and CIP: encapsulation commands, CIP services, general
//! statuses, vendors and device types.

use crate::OpClass;

/// Encapsulation command: no operation.
pub const CMD_NOP: u16 = 0x0000;
/// Encapsulation command: list services.
pub const CMD_LIST_SERVICES: u16 = 0x0004;
/// Encapsulation command: list identity.
pub const CMD_LIST_IDENTITY: u16 = 0x0063;
/// Encapsulation command: list interfaces.
pub const CMD_LIST_INTERFACES: u16 = 0x0064;
/// Encapsulation command: register session.
pub const CMD_REGISTER_SESSION: u16 = 0x0065;
/// Encapsulation command: unregister session.
pub const CMD_UNREGISTER_SESSION: u16 = 0x0066;
/// Encapsulation command: unconnected (request/reply) data.
pub const CMD_SEND_RR_DATA: u16 = 0x006F;
/// Encapsulation command: connected data.
pub const CMD_SEND_UNIT_DATA: u16 = 0x0070;
/// Encapsulation command: indicate status.
pub const CMD_INDICATE_STATUS: u16 = 0x0072;
/// Encapsulation command: cancel.
pub const CMD_CANCEL: u16 = 0x0073;

/// Name and operation class of an encapsulation command; `None` for unknown codes.
pub fn command_info(cmd: u16) -> Option<(&'static str, OpClass)> {
    Some(match cmd {
        CMD_NOP => ("nop", OpClass::Session),
        CMD_LIST_SERVICES => ("list_services", OpClass::Identify),
        CMD_LIST_IDENTITY => ("list_identity", OpClass::Identify),
        CMD_LIST_INTERFACES => ("list_interfaces", OpClass::Identify),
        CMD_REGISTER_SESSION => ("register_session", OpClass::Session),
        CMD_UNREGISTER_SESSION => ("unregister_session", OpClass::Session),
        CMD_SEND_RR_DATA => ("send_rr_data", OpClass::Other),
        CMD_SEND_UNIT_DATA => ("send_unit_data", OpClass::Other),
        CMD_INDICATE_STATUS => ("indicate_status", OpClass::Other),
        CMD_CANCEL => ("cancel", OpClass::Other),
        _ => return None,
    })
}

/// Name of a non-zero encapsulation status.
pub fn encap_status_name(status: u32) -> &'static str {
    match status {
        0x0001 => "invalid_command",
        0x0002 => "insufficient_memory",
        0x0003 => "incorrect_data",
        0x0064 => "invalid_session_handle",
        0x0065 => "invalid_length",
        0x0069 => "unsupported_protocol_version",
        _ => "unknown",
    }
}

/// CPF item: null address.
pub const ITEM_NULL: u16 = 0x0000;
/// CPF item: ListIdentity response.
pub const ITEM_LIST_IDENTITY: u16 = 0x000C;
/// CPF item: connected address (connection id).
pub const ITEM_CONNECTED_ADDRESS: u16 = 0x00A1;
/// CPF item: connected data.
pub const ITEM_CONNECTED_DATA: u16 = 0x00B1;
/// CPF item: unconnected data.
pub const ITEM_UNCONNECTED_DATA: u16 = 0x00B2;
/// CPF item: sequenced address (connection id and sequence number).
pub const ITEM_SEQUENCED_ADDRESS: u16 = 0x8002;

/// CIP class of the Identity object.
pub const CLASS_IDENTITY: u32 = 0x01;
/// CIP class of the Connection Manager object.
pub const CLASS_CONNECTION_MANAGER: u32 = 0x06;

/// CIP service: Multiple Service Packet.
pub const SVC_MULTIPLE: u8 = 0x0A;
/// Connection Manager service: Forward Close.
pub const SVC_FORWARD_CLOSE: u8 = 0x4E;
/// Connection Manager service: Unconnected Send.
pub const SVC_UNCONNECTED_SEND: u8 = 0x52;
/// Connection Manager service: Forward Open.
pub const SVC_FORWARD_OPEN: u8 = 0x54;
/// Connection Manager service: Large Forward Open.
pub const SVC_LARGE_FORWARD_OPEN: u8 = 0x5B;
/// Logix service: Read Tag.
pub const SVC_READ_TAG: u8 = 0x4C;
/// Logix service: Write Tag.
pub const SVC_WRITE_TAG: u8 = 0x4D;
/// Logix service: Read Tag Fragmented.
pub const SVC_READ_TAG_FRAGMENTED: u8 = 0x52;
/// Logix service: Write Tag Fragmented.
pub const SVC_WRITE_TAG_FRAGMENTED: u8 = 0x53;

/// Classes holding controller logic (Logix Program, Routine and Task objects): changes
/// to them are program changes.
const PROGRAM_CLASSES: [u32; 3] = [0x68, 0x69, 0x70];

/// Name and operation class of a CIP service. Codes 0x4B–0x63 are object specific, so
/// the class (when the path names one) decides between the Connection Manager's meaning
/// and the Logix controller's tag services.
pub fn service_info(service: u8, class: Option<u32>) -> Option<(&'static str, OpClass)> {
    let cm = class == Some(CLASS_CONNECTION_MANAGER);
    let program = class.is_some_and(|c| PROGRAM_CLASSES.contains(&c));
    let changes = if program {
        OpClass::Program
    } else {
        OpClass::Write
    };
    Some(match service {
        0x01 => ("get_attributes_all", OpClass::Read),
        0x02 => ("set_attributes_all", changes),
        0x03 => ("get_attribute_list", OpClass::Read),
        0x04 => ("set_attribute_list", changes),
        0x05 => ("reset", OpClass::Control),
        0x06 => ("start", OpClass::Control),
        0x07 => ("stop", OpClass::Control),
        0x08 => ("create", changes),
        0x09 => ("delete", changes),
        SVC_MULTIPLE => ("multiple_service_packet", OpClass::Other),
        0x0D => ("apply_attributes", changes),
        0x0E => ("get_attribute_single", OpClass::Read),
        0x10 => ("set_attribute_single", changes),
        0x11 => ("find_next_object_instance", OpClass::Read),
        0x14 => ("error_response", OpClass::Other),
        0x15 => ("restore", changes),
        0x16 => ("save", OpClass::Other),
        0x17 => ("nop", OpClass::Other),
        0x18 => ("get_member", OpClass::Read),
        0x19 => ("set_member", changes),
        0x1A => ("insert_member", changes),
        0x1B => ("remove_member", changes),
        0x1C => ("group_sync", OpClass::Other),
        SVC_FORWARD_CLOSE if cm => ("forward_close", OpClass::Session),
        SVC_UNCONNECTED_SEND if cm => ("unconnected_send", OpClass::Other),
        SVC_FORWARD_OPEN if cm => ("forward_open", OpClass::Session),
        0x56 if cm => ("get_connection_data", OpClass::Read),
        0x57 if cm => ("search_connection_data", OpClass::Read),
        0x5A if cm => ("get_connection_owner", OpClass::Read),
        SVC_LARGE_FORWARD_OPEN if cm => ("large_forward_open", OpClass::Session),
        0x4B => ("execute_pccc", OpClass::Other),
        SVC_READ_TAG => ("read_tag", OpClass::Read),
        SVC_WRITE_TAG => ("write_tag", changes),
        0x4E => ("read_modify_write_tag", changes),
        SVC_READ_TAG_FRAGMENTED => ("read_tag_fragmented", OpClass::Read),
        SVC_WRITE_TAG_FRAGMENTED => ("write_tag_fragmented", changes),
        SVC_FORWARD_OPEN => ("forward_open", OpClass::Session),
        0x55 => ("get_instance_attribute_list", OpClass::Read),
        SVC_LARGE_FORWARD_OPEN => ("large_forward_open", OpClass::Session),
        _ => return None,
    })
}

/// Name of a non-zero CIP general status.
pub fn general_status_name(status: u8) -> &'static str {
    match status {
        0x01 => "connection_failure",
        0x02 => "resource_unavailable",
        0x03 => "invalid_parameter_value",
        0x04 => "path_segment_error",
        0x05 => "path_destination_unknown",
        0x06 => "partial_transfer",
        0x07 => "connection_lost",
        0x08 => "service_not_supported",
        0x09 => "invalid_attribute_value",
        0x0A => "attribute_list_error",
        0x0B => "already_in_requested_mode",
        0x0C => "object_state_conflict",
        0x0D => "object_already_exists",
        0x0E => "attribute_not_settable",
        0x0F => "privilege_violation",
        0x10 => "device_state_conflict",
        0x11 => "reply_data_too_large",
        0x12 => "fragmentation_of_a_primitive_value",
        0x13 => "not_enough_data",
        0x14 => "attribute_not_supported",
        0x15 => "too_much_data",
        0x16 => "object_does_not_exist",
        0x17 => "service_fragmentation_sequence_not_in_progress",
        0x18 => "no_stored_attribute_data",
        0x19 => "store_operation_failure",
        0x1A => "routing_failure_request_too_large",
        0x1B => "routing_failure_response_too_large",
        0x1C => "missing_attribute_list_entry",
        0x1D => "invalid_attribute_value_list",
        0x1E => "embedded_service_error",
        0x1F => "vendor_specific_error",
        0x20 => "invalid_parameter",
        0x21 => "write_once_value_already_written",
        0x22 => "invalid_reply_received",
        0x25 => "key_failure_in_path",
        0x26 => "path_size_invalid",
        0x27 => "unexpected_attribute_in_list",
        0x28 => "invalid_member_id",
        0x29 => "member_not_settable",
        _ => "unknown",
    }
}

/// Vendor name of the common CIP vendor ids (ODVA registry); `None` for the rest.
pub fn vendor_name(id: u16) -> Option<&'static str> {
    Some(match id {
        1 => "Rockwell Automation/Allen-Bradley",
        3 => "Honeywell",
        5 => "Rockwell Automation/Reliance Electric",
        7 => "SMC Corporation",
        8 => "Molex",
        12 => "Banner Engineering",
        26 => "Festo",
        40 => "WAGO",
        44 => "Yaskawa Electric America",
        47 => "Omron",
        57 => "Pepperl+Fuchs",
        68 => "Eaton Electrical",
        82 => "Mitsubishi Electric Automation",
        90 => "HMS Industrial Networks",
        97 => "Danfoss",
        108 => "Beckhoff Automation",
        145 => "Siemens Energy & Automation",
        161 => "Mitsubishi Electric",
        176 => "Red Lion Controls",
        243 => "Schneider Automation",
        256 => "Turck",
        283 => "Hilscher",
        326 => "GE Fanuc Automation",
        367 => "Keyence",
        562 => "Phoenix Contact",
        796 => "Siemens Energy & Automation",
        939 => "Cisco Systems",
        991 => "Moxa",
        _ => return None,
    })
}

/// Name of a CIP device type (Identity object attribute 2).
pub fn device_type_name(t: u16) -> Option<&'static str> {
    Some(match t {
        0x00 => "generic_device",
        0x02 => "ac_drive",
        0x03 => "motor_overload",
        0x04 => "limit_switch",
        0x05 => "inductive_proximity_switch",
        0x06 => "photoelectric_sensor",
        0x07 => "general_purpose_discrete_io",
        0x09 => "resolver",
        0x0C => "communications_adapter",
        0x0E => "programmable_logic_controller",
        0x10 => "position_controller",
        0x13 => "dc_drive",
        0x15 => "contactor",
        0x16 => "motor_starter",
        0x17 => "soft_start",
        0x18 => "human_machine_interface",
        0x1A => "mass_flow_controller",
        0x1B => "pneumatic_valve",
        0x1C => "vacuum_pressure_gauge",
        0x22 => "encoder",
        0x23 => "safety_discrete_io",
        0x2B => "generic_device_keyable",
        0x2C => "managed_ethernet_switch",
        0x32 => "safety_analog_io",
        0xC8 => "embedded_component",
        _ => return None,
    })
}
