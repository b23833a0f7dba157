//! Pattern of life: self-learning models that turn what the sensor saw into findings,
//! and findings into explained, fused alerts.
//!
//! Pure: inputs are the pipeline's values (flow starts and ends, protocol events,
//! address and identity sightings, a clock tick in packet time), outputs are
//! [`Finding`]s and [`Alert`]s. No I/O, no wall clock; state is serialisable so learning
//! survives restarts.
//!
//! Each model ([`models`]) is small, named and explainable: it keeps a bounded baseline
//! per entity, says in plain lines what it has learnt ([`Model::baseline`]) and reports a
//! [`Finding`] with a surprise score and an explanation carrying the numbers behind it.
//! The [`Engine`] runs the models, holds back findings while learning (except policy
//! findings), turns findings into alerts with a severity from score and criticality,
//! and fuses related findings into one incident ([`alert`]).

pub mod alert;
pub mod assets;
pub mod duration;
pub mod engine;
pub mod finding;
pub mod input;
pub mod model;
pub mod models;
pub mod stats;
pub mod text;

pub use alert::{Alert, Severity};
pub use assets::{AssetBrief, AssetDirectory, Criticality, ZoneKind};
pub use duration::parse_duration;
pub use engine::{Engine, EngineConfig};
pub use finding::{Category, Finding};
pub use input::{FlowOpen, IpFrame};
pub use model::{Cx, Model};
