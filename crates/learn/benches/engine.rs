//! Learning engine throughput: every model on a stream of polled process values, and on
//! flows to public addresses (policy findings fused into alerts).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dissect::{Event, OpClass};
use learn::{Engine, EngineConfig, FlowOpen};
use records::{FlowRecord, FlowState, Timestamp, TransportKind};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

/// Start of the synthetic traffic (packet time, micros).
const T0: i64 = 1_795_854_000_000_000;
/// Polling pairs (HMI, PLC).
const PAIRS: u32 = 200;
/// Polls per pair.
const POLLS: u32 = 50;
/// Registers per response.
const REGISTERS: u64 = 10;

fn ip(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// Modbus read requests and responses with [`REGISTERS`] values each: each pair polls
/// once a second.
fn polls() -> Vec<Event> {
    let mut out = Vec::with_capacity((PAIRS * POLLS * 2) as usize);
    for poll in 0..POLLS {
        for pair in 0..PAIRS {
            let hmi = ip(10, 10, 2, (pair % 250) as u8 + 1);
            let plc = ip(10, 10, 1 + (pair / 250) as u8, (pair % 250) as u8 + 1);
            let ts = Timestamp(T0 + i64::from(poll) * 1_000_000 + i64::from(pair) * 1_000);
            let mut req = Event::new("modbus", OpClass::Read, 3, "read_holding_registers", false);
            req.ts = ts;
            req.src_ip = Some(hmi);
            req.dst_ip = Some(plc);
            req.src_port = 40_000;
            req.dst_port = 502;
            req.unit = Some(1);
            req.target("holding_register", 0, REGISTERS as u32);
            let mut resp = Event::new("modbus", OpClass::Read, 3, "read_holding_registers", true);
            resp.ts = ts.plus_micros(500);
            resp.src_ip = Some(plc);
            resp.dst_ip = Some(hmi);
            resp.src_port = 502;
            resp.dst_port = 40_000;
            resp.unit = Some(1);
            resp.target("holding_register", 0, REGISTERS as u32);
            for r in 0..REGISTERS {
                resp.value("holding_register", r, (100 + poll % 7 + r as u32) as f64);
            }
            out.push(req);
            out.push(resp);
        }
    }
    out
}

/// Flows from inside hosts to public addresses, each opened and ended.
fn external_flows() -> Vec<(FlowOpen, FlowRecord)> {
    (0..2_000u64)
        .map(|i| {
            let client = ip(10, 10, 3, (i % 100) as u8 + 1);
            let server = ip(203, 0, 113, (i % 20) as u8 + 1);
            let ts = Timestamp(T0 + i as i64 * 100_000);
            let open = FlowOpen {
                id: i,
                ts,
                transport: TransportKind::Tcp,
                client_ip: client,
                client_port: 40_000,
                client_mac: None,
                server_ip: server,
                server_port: 443,
                server_mac: None,
                to_group: false,
            };
            let end = FlowRecord {
                kind: "flow",
                id: i,
                ts_start: ts,
                ts_end: ts.plus_micros(50_000),
                transport: TransportKind::Tcp,
                vlan: None,
                src_ip: client,
                src_port: 40_000,
                dst_ip: server,
                dst_port: 443,
                src_mac: None,
                dst_mac: None,
                packets_to_server: 5,
                packets_to_client: 4,
                bytes_to_server: 600,
                bytes_to_client: 4_000,
                app: Some("tls"),
                state: FlowState::Closed,
                gap_bytes: 0,
            };
            (open, end)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    let events = polls();
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("polled_values", |b| {
        b.iter_batched(
            || Engine::new(EngineConfig::default()),
            |mut engine| {
                for event in &events {
                    engine.on_event(event);
                }
                black_box(engine.close_all().len())
            },
            BatchSize::LargeInput,
        )
    });
    let flows = external_flows();
    group.throughput(Throughput::Elements(flows.len() as u64));
    group.bench_function("external_flows", |b| {
        b.iter_batched(
            || Engine::new(EngineConfig::default()),
            |mut engine| {
                for (open, end) in &flows {
                    engine.on_flow_open(open);
                    engine.on_flow_end(end);
                }
                black_box(engine.close_all().len())
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
