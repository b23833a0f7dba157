//! The built-in models. Each file is one model with one job.

use crate::model::Model;

pub mod exceptions;
pub mod operations;
pub mod points;
pub mod values;

/// Every built-in model, in a fixed order (findings are sorted anyway).
pub fn all() -> Vec<Box<dyn Model>> {
    vec![
        Box::new(operations::Operations::new()),
        Box::new(values::Values::new()),
    ]
}
