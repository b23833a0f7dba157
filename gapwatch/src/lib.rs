//! The gapwatch binary's library half: command-line parsing, the pipeline that wires the
//! crates together, and the human and JSON outputs. `main.rs` only calls [`cli::main`].

pub mod airgap;
pub mod bench;
pub mod cli;
pub mod eval;
pub mod event_log;
pub mod evidence;
pub mod learning;
pub mod output;
pub mod pipeline;
pub mod serve;
pub mod state_cmd;
pub mod summary;
pub mod user_cmd;
