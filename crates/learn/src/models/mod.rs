//! The built-in models. Each file is one model with one job.

pub mod dns_external;
pub mod external;
pub mod file_transfer;
pub mod names;
pub mod remote_access;
pub mod routine;

use crate::model::Model;

pub mod exceptions;
pub mod operations;
pub mod points;
pub mod values;
pub mod beaconing;
pub mod timing;
pub mod volume;

/// Every built-in model, in a fixed order (findings are sorted anyway).
pub fn all() -> Vec<Box<dyn Model>> {
    vec![
        Box::new(operations::Operations::new()),
        Box::new(values::Values::new()),
        Box::new(external::External::new()),
        Box::new(dns_external::DnsExternal::new()),
        Box::new(remote_access::RemoteAccess::new()),
        Box::new(file_transfer::FileTransfer::new()),
        Box::new(timing::Timing::new()),
        Box::new(beaconing::Beaconing::new()),
        Box::new(volume::Volume::new()),
    ]
}
