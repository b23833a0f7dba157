//! The records gapwatch emits: `flow`, `asset` (and later `event`, `alert`).
//!
//! Purpose: one definition of every externally visible record, shared by the CLI's
//! `--json` output, the store and the console. Field names and meanings follow the
//! "Records" section of DESIGN.md and are kept stable; fields may be added.
//!
//! Guarantees: serialisation is deterministic (fields in declaration order, sets sorted).
#![forbid(unsafe_code)]

mod asset;
mod flow;
mod timestamp;

pub use asset::{AssetRecord, Identity, IdentitySource, Role};
pub use flow::{FlowRecord, FlowState, TransportKind};
pub use timestamp::Timestamp;
