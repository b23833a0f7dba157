//! Decode + flows + reassembly (+ dissectors) on the frames of a real capture: the
//! sensor's per-packet cost. The capture is the lab's smoke capture (4,115 frames of
//! Modbus, S7, IEC 104, DNP3, EtherNet/IP, OPC UA, BACnet, DNS, DHCP, HTTP, TLS, SSH, FTP),
//! held in memory so file reading is not measured.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dissect::Registry;
use records::Timestamp;
use sensor::flow::{FlowConfig, FlowOutput, FlowProcessor};
use sensor::source::{FileSource, PacketSource};
use std::path::Path;
use wire::LinkType;

struct Discard;

impl FlowOutput for Discard {
    fn flow_record(&mut self, record: records::FlowRecord) {
        std::hint::black_box(record);
    }
}

fn frames() -> Vec<(Timestamp, LinkType, Vec<u8>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lab/captures/smoke.pcap");
    let mut source = FileSource::open(&path).expect("the lab smoke capture is committed");
    let mut out = Vec::new();
    while let Ok(Some(p)) = source.next_packet() {
        out.push((p.ts, p.link, p.data.to_vec()));
    }
    out
}

fn run(frames: &[(Timestamp, LinkType, Vec<u8>)], mut flows: FlowProcessor) {
    let mut out = Discard;
    for (ts, link, data) in frames {
        let decoded = wire::decode(*link, data);
        flows.process(*ts, &decoded, &mut out);
    }
    flows.flush(&mut out);
}

fn bench(c: &mut Criterion) {
    let frames = frames();
    let mut group = c.benchmark_group("sensor");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("decode_flows_reassembly", |b| {
        b.iter_batched(
            || FlowProcessor::new(FlowConfig::default(), Registry::with(Vec::new())),
            |flows| run(&frames, flows),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("decode_flows_reassembly_dissectors", |b| {
        b.iter_batched(
            || FlowProcessor::new(FlowConfig::default(), Registry::builtin()),
            |flows| run(&frames, flows),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
