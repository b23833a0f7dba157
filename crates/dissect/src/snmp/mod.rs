//! SNMP dissector.

use crate::DissectorFactory;

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    Vec::new()
}
