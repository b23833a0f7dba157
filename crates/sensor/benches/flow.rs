//! Flow stage throughput on synthetic TCP traffic with many concurrent flows: flow
//! table, TCP reassembly and dispatch to a dissector that consumes whole records.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dissect::{Direction, Dissector, DissectorFactory, Emitter, FlowContext, Registry};
use records::{FlowRecord, Timestamp};
use sensor::flow::{FlowConfig, FlowOutput, FlowProcessor};
use sensor::reassembly::{Reassembler, ReassemblyConfig, StreamSink, TcpStream};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use wire::{Decoded, IpInfo, LinkInfo, MacAddr, Network, TcpFlags, TcpInfo, Transport, VlanTags};

/// Consumes whole 12-byte records (a Modbus request's size).
struct Records;

impl Dissector for Records {
    fn name(&self) -> &'static str {
        "records"
    }
    fn on_stream(&mut self, _: &FlowContext, _: Direction, d: &[u8], _: &mut Emitter) -> usize {
        d.len() / 12 * 12
    }
    fn on_datagram(&mut self, _: &FlowContext, _: Direction, _: &[u8], _: &mut Emitter) {}
}

struct RecordsFactory;

impl DissectorFactory for RecordsFactory {
    fn name(&self) -> &'static str {
        "records"
    }
    fn probe(&self, ctx: &FlowContext, _: Direction, _: &[u8]) -> u8 {
        u8::from(ctx.server_port == 502)
    }
    fn create(&self) -> Box<dyn Dissector> {
        Box::new(Records)
    }
}

#[derive(Default)]
struct Count(u64);

impl FlowOutput for Count {
    fn flow_record(&mut self, r: FlowRecord) {
        self.0 += r.packets_to_server + r.packets_to_client;
    }
}

static REQUEST: [u8; 12] = [0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10];
static RESPONSE: [u8; 29] = [0; 29];

#[allow(clippy::too_many_arguments)]
fn packet(
    src: Ipv4Addr,
    sport: u16,
    dst: Ipv4Addr,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u16,
    payload: &'static [u8],
) -> Decoded<'static> {
    let mac = |a: Ipv4Addr| {
        MacAddr([
            2,
            0,
            a.octets()[0],
            a.octets()[1],
            a.octets()[2],
            a.octets()[3],
        ])
    };
    Decoded {
        link: Some(LinkInfo {
            src_mac: Some(mac(src)),
            dst_mac: Some(mac(dst)),
            ethertype: 0x0800,
            vlans: VlanTags::default(),
        }),
        network: Network::Ipv4(IpInfo {
            src: IpAddr::V4(src),
            dst: IpAddr::V4(dst),
            protocol: 6,
            ttl: 64,
            ident: 0,
            total_len: 40 + payload.len() as u32,
            fragment: None,
            payload: &[],
        }),
        transport: Transport::Tcp(TcpInfo {
            src_port: sport,
            dst_port: dport,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: 8192,
            payload,
            payload_len: payload.len() as u32,
        }),
        truncated: false,
        error: None,
    }
}

/// `flows` Modbus-like connections, interleaved: handshake, `rounds` request/response
/// pairs each, FIN both ways. Returns (time, packet) in time order.
fn traffic(flows: u32, rounds: u32) -> Vec<(Timestamp, Decoded<'static>)> {
    const ACK: u16 = TcpFlags::ACK;
    let server = Ipv4Addr::new(10, 0, 0, 1);
    let mut v = Vec::new();
    let mut ts = 1_700_000_000_000_000i64;
    let mut tick = || {
        ts += 10;
        Timestamp(ts)
    };
    let client = |i: u32| Ipv4Addr::from(0x0a01_0000 + i);
    let port = |i: u32| 1024 + (i % 60000) as u16;
    for i in 0..flows {
        let (c, p) = (client(i), port(i));
        v.push((
            tick(),
            packet(c, p, server, 502, 100, 0, TcpFlags::SYN, &[]),
        ));
        v.push((
            tick(),
            packet(server, 502, c, p, 500, 101, TcpFlags::SYN | ACK, &[]),
        ));
        v.push((tick(), packet(c, p, server, 502, 101, 501, ACK, &[])));
    }
    for r in 0..rounds {
        for i in 0..flows {
            let (c, p) = (client(i), port(i));
            let cs = 101 + r * 12;
            let ss = 501 + r * 29;
            v.push((tick(), packet(c, p, server, 502, cs, ss, ACK, &REQUEST)));
            v.push((
                tick(),
                packet(server, 502, c, p, ss, cs + 12, ACK, &RESPONSE),
            ));
        }
    }
    for i in 0..flows {
        let (c, p) = (client(i), port(i));
        let cs = 101 + rounds * 12;
        let ss = 501 + rounds * 29;
        v.push((
            tick(),
            packet(c, p, server, 502, cs, ss, TcpFlags::FIN | ACK, &[]),
        ));
        v.push((
            tick(),
            packet(server, 502, c, p, ss, cs + 1, TcpFlags::FIN | ACK, &[]),
        ));
    }
    v
}

fn flow_table(c: &mut Criterion) {
    let mut g = c.benchmark_group("flow");
    g.sample_size(10);
    for flows in [1_000u32, 50_000] {
        let pkts = traffic(flows, 20);
        g.throughput(Throughput::Elements(pkts.len() as u64));
        g.bench_function(format!("tcp_{flows}_flows_{}_packets", pkts.len()), |b| {
            b.iter_batched(
                || {
                    let cfg = FlowConfig {
                        initial_capacity: flows as usize,
                        ..FlowConfig::default()
                    };
                    FlowProcessor::new(cfg, Registry::with(vec![Box::new(RecordsFactory)]))
                },
                |mut p| {
                    let mut out = Count::default();
                    for (ts, pkt) in &pkts {
                        p.process(*ts, pkt, &mut out);
                    }
                    p.flush(&mut out);
                    assert_eq!(out.0, pkts.len() as u64);
                    black_box(out.0)
                },
                BatchSize::LargeInput,
            );
        });
    }
    g.finish();
}

struct Sink(u64);

impl StreamSink for Sink {
    fn on_data(&mut self, data: &[u8]) -> usize {
        self.0 += data.len() as u64;
        data.len()
    }
    fn on_gap(&mut self, _: u64) {}
}

fn reassembly(c: &mut Criterion) {
    let mut g = c.benchmark_group("reassembly");
    g.sample_size(10);
    let data = vec![7u8; 1460];
    let n = 10_000u32;
    g.throughput(Throughput::Elements(u64::from(n)));
    for (name, swap) in [("in_order_1460", false), ("pairwise_swapped_1460", true)] {
        g.bench_function(name, |b| {
            let mut r = Reassembler::new(ReassemblyConfig::default());
            b.iter(|| {
                let mut s = TcpStream::default();
                let mut sink = Sink(0);
                s.segment(&mut r, 0, TcpFlags(TcpFlags::SYN), &[], 0, &mut sink);
                for i in 0..n {
                    let j = if swap { i ^ 1 } else { i };
                    let seq = 1 + j * 1460;
                    s.segment(&mut r, seq, TcpFlags(TcpFlags::ACK), &data, 1460, &mut sink);
                }
                s.finish(&mut r, &mut sink);
                black_box(sink.0)
            });
        });
    }
    g.finish();
}

criterion_group!(benches, flow_table, reassembly);
criterion_main!(benches);
