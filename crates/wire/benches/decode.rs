//! Decoding throughput on a mix of frames typical of an OT segment, and (when the shared
//! captures are present) on every frame of a real capture.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wire::build::{CdpBuilder, FrameBuilder, LldpBuilder};
use wire::{decode, LinkType, MacAddr, TcpFlags};

#[path = "../tests/common/mod.rs"]
mod common;

const PLC: MacAddr = MacAddr([0x00, 0x1b, 0x1b, 0x00, 0x00, 0x01]);
const HMI: MacAddr = MacAddr([0x00, 0x0e, 0x8c, 0x00, 0x00, 0x02]);

/// Modbus polling dominates, with some UDP, VLAN-tagged, IPv6, ARP, LLDP and CDP frames.
fn synthetic_mix() -> Vec<(LinkType, Vec<u8>)> {
    let mut frames = Vec::new();
    let request = b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x0a";
    let response = [0u8; 29];
    for i in 0..40u32 {
        let b = FrameBuilder::new()
            .eth(HMI, PLC)
            .ipv4([10, 0, 0, 20], [10, 0, 0, 10])
            .tcp(49152, 502, i, i, TcpFlags::ACK | TcpFlags::PSH, request);
        frames.push((b.link_type(), b.build()));
        let b = FrameBuilder::new()
            .eth(PLC, HMI)
            .ipv4([10, 0, 0, 10], [10, 0, 0, 20])
            .tcp(502, 49152, i, i, TcpFlags::ACK | TcpFlags::PSH, &response);
        frames.push((b.link_type(), b.build()));
    }
    for i in 0..10u16 {
        let b = FrameBuilder::new()
            .eth(HMI, PLC)
            .vlan(100 + i)
            .ipv4([10, 1, 0, 20], [10, 1, 0, 10])
            .udp(20000, 20000, &[0u8; 64]);
        frames.push((b.link_type(), b.build()));
        let b = FrameBuilder::new()
            .eth(HMI, PLC)
            .ipv6(
                [0xfe80, 0, 0, 0, 0, 0, 0, 1],
                [0xff02, 0, 0, 0, 0, 0, 0, 0x16],
            )
            .ipv6_extension(0)
            .icmp(143, 0, &[0u8; 24]);
        frames.push((b.link_type(), b.build()));
    }
    let b = FrameBuilder::new()
        .eth(HMI, MacAddr::BROADCAST)
        .arp(1, HMI, [10, 0, 0, 20], MacAddr::default(), [10, 0, 0, 10])
        .min_len(60);
    frames.push((b.link_type(), b.build()));
    let lldp = LldpBuilder::new()
        .chassis_mac(PLC)
        .port_name("port-001")
        .ttl(20)
        .build();
    let b = FrameBuilder::new().eth(PLC, HMI).ethertype(0x88cc, &lldp);
    frames.push((b.link_type(), b.build()));
    let cdp = CdpBuilder::new()
        .device_id("sw-1")
        .platform("cisco")
        .build();
    let b = FrameBuilder::new().eth(HMI, PLC).cdp(&cdp);
    frames.push((b.link_type(), b.build()));
    frames
}

fn bench_decode(c: &mut Criterion) {
    let mix = synthetic_mix();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(mix.len() as u64));
    group.bench_function("synthetic_mix", |b| {
        b.iter(|| {
            for (link, frame) in &mix {
                black_box(decode(*link, black_box(frame)));
            }
        })
    });
    let real = common::pcaps_dir().map(|dir| dir.join("emreekin-ics-pcaps/COTP/cotp.pcap"));
    match real.as_deref().filter(|p| Path::exists(p)) {
        Some(path) => {
            let mut frames = Vec::new();
            common::for_each_frame(path, |link, frame| frames.push((link, frame.to_vec())));
            group.throughput(Throughput::Elements(frames.len() as u64));
            group.bench_function("cotp_pcap", |b| {
                b.iter(|| {
                    for (link, frame) in &frames {
                        black_box(decode(*link, black_box(frame)));
                    }
                })
            });
        }
        None => eprintln!("skipping the real-capture benchmark: ../shared/pcaps is missing"),
    }
    group.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
