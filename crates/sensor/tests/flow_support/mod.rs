//! Helpers shared by the flow and reassembly tests: hand-built packets, a recording
//! flow output, a recording dissector and a small deterministic RNG.
#![allow(dead_code)]

use dissect::{Direction, Dissector, DissectorFactory, Emitter, FlowContext, Registry};
use records::{FlowRecord, Timestamp};
use sensor::flow::{FlowOutput, FlowStart};
use sensor::reassembly::StreamSink;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use wire::{
    Decoded, Fragment, IcmpInfo, IpInfo, LinkInfo, MacAddr, Network, TcpFlags, TcpInfo, Transport,
    UdpInfo, VlanTags,
};

pub const SYN: u16 = TcpFlags::SYN;
pub const ACK: u16 = TcpFlags::ACK;
pub const FIN: u16 = TcpFlags::FIN;
pub const RST: u16 = TcpFlags::RST;
pub const PSH: u16 = TcpFlags::PSH;

/// Seconds to a timestamp.
pub fn t(secs: f64) -> Timestamp {
    Timestamp((secs * 1e6).round() as i64)
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

/// A MAC derived from the last octet of an IPv4 address, so tests can predict it.
pub fn mac_of(addr: IpAddr) -> MacAddr {
    let last = match addr {
        IpAddr::V4(a) => a.octets()[3],
        IpAddr::V6(a) => a.octets()[15],
    };
    MacAddr([0x02, 0, 0, 0, 0, last])
}

fn link(src: IpAddr, dst: IpAddr, vlan: Option<u16>) -> Option<LinkInfo> {
    Some(LinkInfo {
        src_mac: Some(mac_of(src)),
        dst_mac: Some(mac_of(dst)),
        ethertype: if src.is_ipv4() { 0x0800 } else { 0x86dd },
        vlans: match vlan {
            Some(v) => VlanTags {
                ids: [v, 0],
                count: 1,
            },
            None => VlanTags::default(),
        },
    })
}

fn network<'a>(info: IpInfo<'a>) -> Network<'a> {
    if info.src.is_ipv4() {
        Network::Ipv4(info)
    } else {
        Network::Ipv6(info)
    }
}

fn ip_info<'a>(src: &str, dst: &str, protocol: u8, l4_len: usize, payload: &'a [u8]) -> IpInfo<'a> {
    let src = ip(src);
    let dst = ip(dst);
    let hdr = if src.is_ipv4() { 20 } else { 40 };
    IpInfo {
        src,
        dst,
        protocol,
        ttl: 64,
        ident: 0,
        total_len: (hdr + l4_len) as u32,
        fragment: None,
        payload,
    }
}

/// A TCP packet (20-byte TCP header assumed for byte counts).
#[allow(clippy::too_many_arguments)]
pub fn tcp<'a>(
    src: &str,
    sport: u16,
    dst: &str,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u16,
    payload: &'a [u8],
) -> Decoded<'a> {
    tcp_vlan(None, src, sport, dst, dport, seq, ack, flags, payload)
}

/// A TCP packet on a VLAN.
#[allow(clippy::too_many_arguments)]
pub fn tcp_vlan<'a>(
    vlan: Option<u16>,
    src: &str,
    sport: u16,
    dst: &str,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u16,
    payload: &'a [u8],
) -> Decoded<'a> {
    let info = ip_info(src, dst, 6, 20 + payload.len(), &[]);
    Decoded {
        link: link(info.src, info.dst, vlan),
        network: network(info),
        transport: Transport::Tcp(TcpInfo {
            src_port: sport,
            dst_port: dport,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: 65535,
            payload,
            payload_len: payload.len() as u32,
        }),
        truncated: false,
        error: None,
    }
}

/// A UDP packet.
pub fn udp<'a>(src: &str, sport: u16, dst: &str, dport: u16, payload: &'a [u8]) -> Decoded<'a> {
    let info = ip_info(src, dst, 17, 8 + payload.len(), &[]);
    Decoded {
        link: link(info.src, info.dst, None),
        network: network(info),
        transport: Transport::Udp(UdpInfo {
            src_port: sport,
            dst_port: dport,
            payload,
        }),
        truncated: false,
        error: None,
    }
}

/// An ICMP (IPv4) packet of this type.
pub fn icmp<'a>(src: &str, dst: &str, icmp_type: u8) -> Decoded<'a> {
    let info = ip_info(src, dst, 1, 8, &[]);
    Decoded {
        link: link(info.src, info.dst, None),
        network: network(info),
        transport: Transport::Icmp(IcmpInfo {
            icmp_type,
            code: 0,
            payload: &[],
        }),
        truncated: false,
        error: None,
    }
}

/// An IP fragment (no transport decoded, as `wire` reports fragments).
pub fn fragment<'a>(
    src: &str,
    dst: &str,
    protocol: u8,
    id: u32,
    offset: u32,
    more: bool,
    payload: &'a [u8],
) -> IpInfo<'a> {
    let mut info = ip_info(src, dst, protocol, payload.len(), payload);
    info.fragment = Some(Fragment { id, offset, more });
    info
}

/// Everything a `FlowProcessor` produced.
#[derive(Default)]
pub struct Collected {
    pub records: Vec<FlowRecord>,
    pub starts: Vec<FlowStart>,
    pub apps: Vec<FlowStart>,
    pub anomalies: Vec<(u64, &'static str, String)>,
    pub macs_seen: Vec<(IpAddr, MacAddr)>,
}

impl FlowOutput for Collected {
    fn flow_record(&mut self, record: FlowRecord) {
        self.records.push(record);
    }
    fn flow_started(&mut self, start: &FlowStart) {
        self.starts.push(*start);
    }
    fn app_identified(&mut self, start: &FlowStart) {
        self.apps.push(*start);
    }
    fn mac_seen(&mut self, _ts: Timestamp, ip: IpAddr, mac: MacAddr) {
        self.macs_seen.push((ip, mac));
    }
    fn dissected(
        &mut self,
        flow_id: u64,
        app: &'static str,
        _ctx: &FlowContext,
        out: &mut Emitter,
    ) {
        for (_, reason) in out.anomalies.drain(..) {
            self.anomalies.push((flow_id, app, reason));
        }
    }
}

/// What a recording dissector saw, per direction (0: to server, 1: to client).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Bytes consumed, in order.
    pub consumed: [Vec<u8>; 2],
    /// Every `on_stream` input, in order.
    pub presented: Vec<(usize, Vec<u8>)>,
    /// Gaps as (direction, consumed offset at the gap, length).
    pub gaps: Vec<(usize, usize, u64)>,
    /// UDP datagrams.
    pub datagrams: Vec<(usize, Vec<u8>)>,
    /// Times the flow ended.
    pub ends: usize,
}

fn di(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

/// A dissector that consumes whole `chunk`-byte records and logs everything.
pub struct Recorder {
    log: Arc<Mutex<Seen>>,
    chunk: usize,
}

impl Dissector for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn on_stream(
        &mut self,
        _: &FlowContext,
        dir: Direction,
        data: &[u8],
        out: &mut Emitter,
    ) -> usize {
        let mut log = self.log.lock().expect("test lock");
        let n = data.len() / self.chunk * self.chunk;
        log.presented.push((di(dir), data.to_vec()));
        log.consumed[di(dir)].extend_from_slice(&data[..n]);
        if data.starts_with(b"BAD") {
            out.anomaly("recorder", "bad record");
        }
        n
    }
    fn on_datagram(&mut self, _: &FlowContext, dir: Direction, data: &[u8], _: &mut Emitter) {
        self.log
            .lock()
            .expect("test lock")
            .datagrams
            .push((di(dir), data.to_vec()));
    }
    fn on_gap(&mut self, _: &FlowContext, dir: Direction, len: u64, _: &mut Emitter) {
        let mut log = self.log.lock().expect("test lock");
        let at = log.consumed[di(dir)].len();
        log.gaps.push((di(dir), at, len));
    }
    /// Reports, as an anomaly, a datagram starting with `HOLD` it still holds.
    fn on_end(&mut self, _: &FlowContext, out: &mut Emitter) {
        let mut log = self.log.lock().expect("test lock");
        log.ends += 1;
        if log.datagrams.iter().any(|(_, d)| d.starts_with(b"HOLD")) {
            out.anomaly("recorder", "held at the end");
        }
    }
}

/// Creates recorders for flows whose server port is `port`, or whose first payload
/// starts with `magic` (in the given direction only, when `only_dir` is set).
pub struct RecorderFactory {
    pub log: Arc<Mutex<Seen>>,
    pub chunk: usize,
    pub port: Option<u16>,
    pub magic: Option<&'static [u8]>,
}

impl DissectorFactory for RecorderFactory {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn probe(&self, ctx: &FlowContext, _dir: Direction, first: &[u8]) -> u8 {
        let port = self.port == Some(ctx.server_port);
        let content = self.magic.is_some_and(|m| first.starts_with(m));
        u8::from(port) + 2 * u8::from(content)
    }
    fn create(&self) -> Box<dyn Dissector> {
        Box::new(Recorder {
            log: self.log.clone(),
            chunk: self.chunk,
        })
    }
}

/// A registry with one recorder matching server port `port`, and its log.
pub fn recorder_registry(port: u16, chunk: usize) -> (Registry, Arc<Mutex<Seen>>) {
    let log = Arc::new(Mutex::new(Seen::default()));
    let f = RecorderFactory {
        log: log.clone(),
        chunk,
        port: Some(port),
        magic: None,
    };
    (Registry::with(vec![Box::new(f)]), log)
}

/// A stream sink that consumes `chunk`-byte records and logs gaps, for stream tests.
#[derive(Debug, Default)]
pub struct VecSink {
    pub chunk: usize,
    pub data: Vec<u8>,
    pub presented: Vec<Vec<u8>>,
    /// (offset in `data` where the gap happened, length).
    pub gaps: Vec<(usize, u64)>,
}

impl VecSink {
    pub fn new(chunk: usize) -> Self {
        Self {
            chunk,
            ..Self::default()
        }
    }
}

impl StreamSink for VecSink {
    fn on_data(&mut self, data: &[u8]) -> usize {
        self.presented.push(data.to_vec());
        let n = data.len() / self.chunk.max(1) * self.chunk.max(1);
        self.data.extend_from_slice(&data[..n]);
        n
    }
    fn on_gap(&mut self, len: u64) {
        self.gaps.push((self.data.len(), len));
    }
}

/// xorshift64*: a tiny deterministic RNG for property-style tests.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform-ish in [lo, hi].
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
}
