//! The built-in models. Each file is one model with one job.

use crate::model::Model;

pub mod connections;
pub mod evict;
pub mod novelty;
pub mod scan;

/// Every built-in model, in a fixed order (findings are sorted anyway).
pub fn all() -> Vec<Box<dyn Model>> {
    vec![
        Box::new(connections::Connections::new()),
        Box::new(novelty::Novelty::new()),
        Box::new(scan::Scan::new()),
    ]
}
