//! Layer-2 industrial protocols carried directly in Ethernet frames: Profinet (DCP,
//! alarms, cyclic real-time data), IEC 61850 GOOSE and Sampled Values.
//!
//! These frames have no IP addresses and no flows: [`dissect_frame`] is called once per
//! frame by the pipeline and builds events itself (MACs, VLAN and time from the frame).
//! Cyclic traffic (Profinet RT data, GOOSE retransmissions, Sampled Values) runs at
//! millisecond cycles, so it is counted, never turned into one event per frame: GOOSE
//! yields an event when a publisher is first seen and when its state number changes.
//!
//! State (GOOSE publishers' last state/sequence numbers, counters) lives in an
//! [`L2State`]; [`dissect_frame`] uses one per thread, since its signature carries none.

pub mod goose;
pub mod profinet;

use crate::{Emitter, Event, IdentityField, Observation};
use records::Timestamp;
use std::cell::RefCell;
use wire::MacAddr;

/// EtherType of Profinet real-time frames.
pub const ETHERTYPE_PROFINET: u16 = 0x8892;
/// EtherType of IEC 61850 GOOSE.
pub const ETHERTYPE_GOOSE: u16 = 0x88B8;
/// EtherType of IEC 61850 GSE management.
pub const ETHERTYPE_GSE_MGMT: u16 = 0x88B9;
/// EtherType of IEC 61850-9-2 Sampled Values.
pub const ETHERTYPE_SV: u16 = 0x88BA;

/// One Ethernet frame whose EtherType is not IP, ARP, LLDP or CDP.
#[derive(Clone, Copy, Debug)]
pub struct L2Frame<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// EtherType after VLAN tags.
    pub ethertype: u16,
    /// Source MAC.
    pub src_mac: MacAddr,
    /// Destination MAC.
    pub dst_mac: MacAddr,
    /// Innermost VLAN id.
    pub vlan: Option<u16>,
    /// Bytes after the EtherType.
    pub payload: &'a [u8],
}

impl L2Frame<'_> {
    /// An event sent by this frame's source to its destination, stamped with its time.
    pub(crate) fn event(&self, mut event: Event, out: &mut Emitter) -> usize {
        event.ts = self.ts;
        event.src_mac = Some(self.src_mac);
        event.dst_mac = Some(self.dst_mac);
        event.vlan = self.vlan;
        out.events.push(event);
        out.events.len() - 1
    }

    /// Records an identity field the frame's source announced about itself.
    pub(crate) fn identity(
        &self,
        field: IdentityField,
        value: &str,
        source: &'static str,
        out: &mut Emitter,
    ) {
        let value = value.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if !value.is_empty() {
            out.observations.push(Observation::Identity {
                ip: None,
                mac: Some(self.src_mac),
                field,
                value: value.to_string(),
                source,
            });
        }
    }
}

/// Frames counted without events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L2Counters {
    /// Profinet cyclic real-time data frames (RT class 1–3, frame ids 0x0100–0xFBFF).
    pub profinet_cyclic: u64,
    /// Profinet DCP frames.
    pub profinet_dcp: u64,
    /// Profinet alarm frames.
    pub profinet_alarm: u64,
    /// Other Profinet frames (PTCP time sync, fragments, reserved ids).
    pub profinet_other: u64,
    /// GOOSE frames, all.
    pub goose: u64,
    /// GOOSE retransmissions (same state number as the publisher's previous frame).
    pub goose_retransmissions: u64,
    /// GOOSE frames repeating the publisher's previous state and sequence numbers.
    pub goose_duplicates: u64,
    /// Sampled Values frames.
    pub sampled_values: u64,
    /// GSE management frames.
    pub gse_management: u64,
}

/// Layer-2 dissection state of one capture: GOOSE publishers and frame counters.
#[derive(Debug, Default)]
pub struct L2State {
    /// Frames counted without events.
    pub counters: L2Counters,
    goose: goose::Publishers,
}

impl L2State {
    /// Dissects one frame; events and observations go to `out`.
    pub fn dissect(&mut self, frame: &L2Frame<'_>, out: &mut Emitter) {
        match frame.ethertype {
            ETHERTYPE_PROFINET => profinet::dissect(frame, &mut self.counters, out),
            ETHERTYPE_GOOSE => {
                self.counters.goose += 1;
                self.goose.dissect(frame, &mut self.counters, out);
            }
            ETHERTYPE_SV => self.counters.sampled_values += 1,
            ETHERTYPE_GSE_MGMT => self.counters.gse_management += 1,
            _ => {}
        }
    }
}

thread_local! {
    static STATE: RefCell<L2State> = RefCell::new(L2State::default());
}

/// Dissects one layer-2 frame; events and observations go to `out`. Uses this thread's
/// [`L2State`]: a capture is processed by one thread.
pub fn dissect_frame(frame: &L2Frame<'_>, out: &mut Emitter) {
    // The cheap exit first: most frames that reach here are of no interest.
    if !matches!(
        frame.ethertype,
        ETHERTYPE_PROFINET | ETHERTYPE_GOOSE | ETHERTYPE_SV | ETHERTYPE_GSE_MGMT
    ) {
        return;
    }
    STATE.with(|s| {
        if let Ok(mut state) = s.try_borrow_mut() {
            state.dissect(frame, out);
        }
    });
}

/// This thread's layer-2 counters (what [`dissect_frame`] counted without events).
pub fn counters() -> L2Counters {
    STATE.with(|s| s.try_borrow().map(|s| s.counters).unwrap_or_default())
}
