//! Asset inventory.
