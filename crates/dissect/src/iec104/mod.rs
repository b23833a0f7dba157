//! IEC 60870-5-104 dissector.

use crate::DissectorFactory;

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    Vec::new()
}
