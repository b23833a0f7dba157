//! Hands reassembled bytes and datagrams to the flow's dissector, choosing it first.

use super::processor::FlowOutput;
use crate::reassembly::StreamSink;
use dissect::{Direction, Dissector, Emitter, FlowContext, Registry};

/// The dissector of one flow and how its selection went.
#[derive(Default)]
pub(crate) struct AppSlot {
    pub(crate) dissector: Option<Box<dyn Dissector>>,
    pub(crate) name: Option<&'static str>,
    /// Selection was tried with the first payload of this direction (index 0: to server).
    probed: [bool; 2],
    /// `FlowOutput::app_identified` was called.
    pub(crate) announced: bool,
}

impl std::fmt::Debug for AppSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSlot")
            .field("name", &self.name)
            .field("probed", &self.probed)
            .finish()
    }
}

/// Delivery of one direction of one flow; lives for one packet.
pub(crate) struct Dispatch<'a, O> {
    pub(crate) app: &'a mut AppSlot,
    pub(crate) registry: &'a Registry,
    pub(crate) emitter: &'a mut Emitter,
    pub(crate) ctx: &'a FlowContext,
    pub(crate) dir: Direction,
    pub(crate) out: &'a mut O,
    pub(crate) flow_id: u64,
    pub(crate) selected: &'a mut u64,
}

impl<O: FlowOutput> Dispatch<'_, O> {
    /// Chooses the dissector from the first payload of each direction until one
    /// matches: once per direction, so a flow is probed at most twice.
    fn ready(&mut self, first_payload: &[u8]) -> bool {
        if self.app.dissector.is_some() {
            return true;
        }
        let d = dir_index(self.dir);
        if self.app.probed[d] {
            return false;
        }
        self.app.probed[d] = true;
        match self.registry.select(self.ctx, self.dir, first_payload) {
            Some(dissector) => {
                self.app.name = Some(dissector.name());
                self.app.dissector = Some(dissector);
                *self.selected += 1;
                true
            }
            None => false,
        }
    }

    /// One UDP datagram.
    pub(crate) fn datagram(&mut self, data: &[u8]) {
        if !self.ready(data) {
            return;
        }
        if let Some(d) = self.app.dissector.as_mut() {
            d.on_datagram(self.ctx, self.dir, data, self.emitter);
        }
        self.drain();
    }

    /// The flow ended: the dissector reports what it still holds.
    pub(crate) fn end(&mut self) {
        if let Some(d) = self.app.dissector.as_mut() {
            d.on_end(self.ctx, self.emitter);
            self.drain();
        }
    }

    fn drain(&mut self) {
        if self.emitter.is_empty() {
            return;
        }
        let app = self.app.name.unwrap_or("unknown");
        self.out
            .dissected(self.flow_id, app, self.ctx, self.emitter);
        // What the output left is discarded; event slots are kept for the next events.
        self.emitter.observations.clear();
        self.emitter.anomalies.clear();
        self.emitter.recycle_events();
    }
}

impl<O: FlowOutput> StreamSink for Dispatch<'_, O> {
    fn on_data(&mut self, data: &[u8]) -> usize {
        if !self.ready(data) {
            // No dissector for this flow: the bytes are read and dropped.
            return data.len();
        }
        let n = match self.app.dissector.as_mut() {
            Some(d) => d.on_stream(self.ctx, self.dir, data, self.emitter),
            None => data.len(),
        };
        self.drain();
        n
    }

    fn on_gap(&mut self, len: u64) {
        if let Some(d) = self.app.dissector.as_mut() {
            d.on_gap(self.ctx, self.dir, len, self.emitter);
            self.drain();
        }
    }
}

/// Index of a direction in per-direction arrays: 0 to server, 1 to client.
pub(crate) fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}
