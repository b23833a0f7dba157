//! The sensor: capture sources, IP defragmentation, the flow table, TCP reassembly and
//! dissector dispatch.
//!
//! Purpose: everything between a captured frame and the observations gapwatch learns
//! from. Packets come from a [`source::PacketSource`] (capture files or a live AF_PACKET
//! ring), are decoded by `wire`, tracked as bidirectional flows, reassembled into byte
//! streams and handed to `dissect`.
//!
//! Guarantees: time comes only from packet timestamps; every table and buffer has a cap,
//! and hitting it increments a counter; no input makes it panic.
//!
//! Caller's duty: feed packets in timestamp order (the file source merges several files
//! in order) and call `flush` at the end so open flows are reported.

pub mod defrag;
pub mod flow;
pub mod reassembly;
pub mod source;
