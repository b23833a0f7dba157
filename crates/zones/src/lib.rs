//! Zones of a plant network: a TOML policy file naming zones by CIDR and VLAN, each with
//! a kind (OT, DMZ, IT, external) and a Purdue level, and the crossings allowed between
//! them; and a proposed starting file from the devices gapwatch has observed.
//!
//! The file format is documented in this crate's `README.md`. [`ZonePolicy::parse`] and
//! [`ZonePolicy::load`] check it and report every problem at once, each naming the file,
//! the line and the zone or rule. [`suggest`] writes a starting file from asset records.
#![forbid(unsafe_code)]

mod addr;
mod file;
mod policy;
mod prefix;
mod suggest;

pub use addr::is_public;
pub use file::{Problem, ZoneFileError, MAX_PURDUE};
pub use policy::{AllowRule, Placement, Zone, ZoneKind, ZonePolicy};
pub use prefix::{Cidr, PrefixMap};
pub use suggest::{suggest, suggest_policy};

/// Name of the place of public addresses outside every zone.
pub const EXTERNAL: &str = "external";
/// Name of the place of private addresses outside every zone.
pub const UNZONED: &str = "unzoned";
/// Reserved for the outside in reports (`inside ↔ outside`).
pub const OUTSIDE: &str = "outside";
