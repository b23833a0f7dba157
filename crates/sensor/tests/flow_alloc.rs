//! The flow stage allocates nothing per packet once warmed up: counted with a global
//! allocator wrapper while known flows exchange in-order, out-of-order and
//! retransmitted segments that the dissector only partly consumes.

mod flow_support;

use dissect::{Direction, Dissector, DissectorFactory, Emitter, FlowContext, Registry};
use flow_support::{t, tcp, udp, Collected, ACK, SYN};
use sensor::flow::{FlowConfig, FlowProcessor};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

thread_local! {
    /// Counting is per thread: the test harness's own threads allocate at will.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static ALLOCS: AtomicU64 = AtomicU64::new(0);

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Consumes whole 4-byte records, keeps nothing.
struct Quads;

impl Dissector for Quads {
    fn name(&self) -> &'static str {
        "quads"
    }
    fn on_stream(&mut self, _: &FlowContext, _: Direction, data: &[u8], _: &mut Emitter) -> usize {
        data.len() / 4 * 4
    }
    fn on_datagram(&mut self, _: &FlowContext, _: Direction, _: &[u8], _: &mut Emitter) {}
}

struct QuadsFactory;

impl DissectorFactory for QuadsFactory {
    fn name(&self) -> &'static str {
        "quads"
    }
    fn probe(&self, _: &FlowContext, _: Direction, _: &[u8]) -> u8 {
        1
    }
    fn create(&self) -> Box<dyn Dissector> {
        Box::new(Quads)
    }
}

const S: &str = "10.0.0.1";
const CLIENTS: [&str; 4] = ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"];

/// One round of traffic on every flow: a 6-byte segment out of order, a 6-byte segment
/// that fills the hole, a retransmission, and a UDP datagram.
fn round(p: &mut FlowProcessor, out: &mut Collected, r: u32, seqs: &mut [u32; 4]) {
    for (i, c) in CLIENTS.iter().enumerate() {
        let ts = t(10.0 + f64::from(r));
        let s = seqs[i];
        p.process(ts, &tcp(c, 40000, S, 502, s + 6, 1, ACK, b"456789"), out);
        p.process(ts, &tcp(c, 40000, S, 502, s, 1, ACK, b"012345"), out);
        p.process(ts, &tcp(c, 40000, S, 502, s, 1, ACK, b"012345"), out);
        p.process(ts, &udp(c, 5000, S, 161, b"get"), out);
        seqs[i] = s + 12;
    }
}

#[test]
fn steady_state_processing_allocates_nothing() {
    let registry = Registry::with(vec![Box::new(QuadsFactory)]);
    let mut p = FlowProcessor::new(FlowConfig::default(), registry);
    let mut out = Collected::default();
    out.records.reserve(16);
    let mut seqs = [1001u32; 4];
    for c in CLIENTS {
        p.process(t(1.0), &tcp(c, 40000, S, 502, 1000, 0, SYN, b""), &mut out);
    }
    for r in 0..3 {
        round(&mut p, &mut out, r, &mut seqs);
    }
    COUNTING.with(|c| c.set(true));
    // The counter works: one deliberate allocation is seen.
    drop(std::hint::black_box(Vec::<u8>::with_capacity(8)));
    assert_eq!(ALLOCS.swap(0, Ordering::SeqCst), 1);
    for r in 3..200 {
        round(&mut p, &mut out, r, &mut seqs);
    }
    COUNTING.with(|c| c.set(false));
    let allocs = ALLOCS.load(Ordering::SeqCst);
    let s = p.stats();
    assert!(s.out_of_order >= 4 * 197 && s.retransmissions >= 4 * 197);
    assert_eq!(allocs, 0, "allocations during {} packets", 4 * 4 * 197);
}
