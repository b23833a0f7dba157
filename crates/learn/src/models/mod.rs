//! The built-in models. Each file is one model with one job.

use crate::model::Model;

pub mod beaconing;
pub mod timing;
pub mod volume;

/// Every built-in model, in a fixed order (findings are sorted anyway).
pub fn all() -> Vec<Box<dyn Model>> {
    vec![
        Box::new(timing::Timing::new()),
        Box::new(beaconing::Beaconing::new()),
        Box::new(volume::Volume::new()),
    ]
}
