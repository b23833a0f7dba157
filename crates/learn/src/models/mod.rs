//! The built-in models. Each file is one model with one job; `evict`, `names`, `points`
//! and `routine` are helpers some of them share.

use crate::model::Model;

pub mod activity;
pub mod beaconing;
pub mod bridging;
pub mod connections;
pub mod dns_external;
pub mod evict;
pub mod exceptions;
pub mod external;
pub mod file_transfer;
pub mod names;
pub mod novelty;
pub mod operations;
pub mod points;
pub mod remote_access;
pub mod routine;
pub mod scan;
pub mod timing;
pub mod values;
pub mod volume;
pub mod zone_policy;

/// Every built-in model, in a fixed order (findings are sorted anyway).
pub fn all() -> Vec<Box<dyn Model>> {
    vec![
        Box::new(novelty::Novelty::new()),
        Box::new(connections::Connections::new()),
        Box::new(scan::Scan::new()),
        Box::new(operations::Operations::new()),
        Box::new(values::Values::new()),
        Box::new(timing::Timing::new()),
        Box::new(activity::Activity::new()),
        Box::new(volume::Volume::new()),
        Box::new(beaconing::Beaconing::new()),
        Box::new(external::External::new()),
        Box::new(dns_external::DnsExternal::new()),
        Box::new(remote_access::RemoteAccess::new()),
        Box::new(file_transfer::FileTransfer::new()),
        Box::new(zone_policy::ZonePolicyModel::new()),
        Box::new(bridging::Bridging::new()),
    ]
}
