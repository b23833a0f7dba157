//! Code tables of OPC UA binary: message types, service encoding ids, status codes.

use crate::OpClass;

/// Name and operation class of a service, by the numeric id (namespace 0) of its
/// request's binary encoding. Responses use the request's id plus 3.
pub fn service_info(request_id: u32) -> Option<(&'static str, OpClass)> {
    use OpClass::*;
    Some(match request_id {
        422 => ("find_servers", Identify),
        12208 => ("find_servers_on_network", Identify),
        428 => ("get_endpoints", Identify),
        437 => ("register_server", Identify),
        12211 => ("register_server2", Identify),
        446 => ("open_secure_channel", Session),
        452 => ("close_secure_channel", Session),
        461 => ("create_session", Session),
        467 => ("activate_session", Session),
        473 => ("close_session", Session),
        479 => ("cancel", Session),
        488 => ("add_nodes", Write),
        494 => ("add_references", Write),
        500 => ("delete_nodes", Write),
        506 => ("delete_references", Write),
        527 => ("browse", Read),
        533 => ("browse_next", Read),
        554 => ("translate_browse_paths_to_node_ids", Read),
        560 => ("register_nodes", Read),
        566 => ("unregister_nodes", Read),
        615 => ("query_first", Read),
        621 => ("query_next", Read),
        631 => ("read", Read),
        664 => ("history_read", Read),
        673 => ("write", Write),
        700 => ("history_update", Write),
        712 => ("call", Control),
        751 => ("create_monitored_items", Other),
        763 => ("modify_monitored_items", Other),
        769 => ("set_monitoring_mode", Other),
        775 => ("set_triggering", Other),
        781 => ("delete_monitored_items", Other),
        787 => ("create_subscription", Other),
        793 => ("modify_subscription", Other),
        799 => ("set_publishing_mode", Other),
        826 => ("publish", Read),
        832 => ("republish", Read),
        841 => ("transfer_subscriptions", Other),
        847 => ("delete_subscriptions", Other),
        _ => return None,
    })
}

/// Encoding id of ServiceFault.
pub const SERVICE_FAULT: u32 = 397;

/// A known request id for `id`: `(request_id, is_response)`. Response ids are the
/// request's plus 3 (the binary encodings are numbered request, XML, binary ...).
pub fn classify(id: u32) -> Option<(u32, bool)> {
    if service_info(id).is_some() {
        Some((id, false))
    } else if id >= 3 && service_info(id - 3).is_some() {
        Some((id - 3, true))
    } else {
        None
    }
}

/// Name of the common status codes (upper 16 bits significant); others are named by
/// severity and value.
pub fn status_name(code: u32) -> Option<&'static str> {
    Some(match code & 0xFFFF_0000 {
        0x8001_0000 => "bad_unexpected_error",
        0x8002_0000 => "bad_internal_error",
        0x8003_0000 => "bad_out_of_memory",
        0x8004_0000 => "bad_resource_unavailable",
        0x8005_0000 => "bad_communication_error",
        0x8006_0000 => "bad_encoding_error",
        0x8007_0000 => "bad_decoding_error",
        0x8008_0000 => "bad_encoding_limits_exceeded",
        0x800A_0000 => "bad_timeout",
        0x800B_0000 => "bad_service_unsupported",
        0x800C_0000 => "bad_shutdown",
        0x800D_0000 => "bad_server_not_connected",
        0x800E_0000 => "bad_server_halted",
        0x800F_0000 => "bad_nothing_to_do",
        0x8010_0000 => "bad_too_many_operations",
        0x8011_0000 => "bad_data_type_id_unknown",
        0x8012_0000 => "bad_certificate_invalid",
        0x8013_0000 => "bad_security_checks_failed",
        0x801F_0000 => "bad_user_access_denied",
        0x8020_0000 => "bad_identity_token_invalid",
        0x8021_0000 => "bad_identity_token_rejected",
        0x8022_0000 => "bad_secure_channel_id_invalid",
        0x8023_0000 => "bad_invalid_timestamp",
        0x8024_0000 => "bad_nonce_invalid",
        0x8025_0000 => "bad_session_id_invalid",
        0x8026_0000 => "bad_session_closed",
        0x8027_0000 => "bad_session_not_activated",
        0x8028_0000 => "bad_subscription_id_invalid",
        0x802A_0000 => "bad_request_header_invalid",
        0x8033_0000 => "bad_node_id_invalid",
        0x8034_0000 => "bad_node_id_unknown",
        0x8035_0000 => "bad_attribute_id_invalid",
        0x803A_0000 => "bad_not_readable",
        0x803B_0000 => "bad_not_writable",
        0x8074_0000 => "bad_type_mismatch",
        _ => return None,
    })
}
