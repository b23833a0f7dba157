//! S7comm and S7comm-plus over TPKT/COTP (ISO-on-TCP) dissector.

use crate::DissectorFactory;

/// The factories this module registers in [`crate::Registry::builtin`].
pub(crate) fn factories() -> Vec<Box<dyn DissectorFactory>> {
    Vec::new()
}
