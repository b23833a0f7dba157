//! Modbus/TCP (and vendor program functions such as Schneider UMAS) dissector.

use crate::DissectorFactory;

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    Vec::new()
}
