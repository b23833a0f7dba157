//! Capture reading for the integration tests and benchmarks: pcap and pcapng, plain or
//! gzip-compressed, chosen by the file's magic number.

#![allow(dead_code)]

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use wire::LinkType;

/// `../shared/pcaps` relative to the workspace root, if present.
pub fn pcaps_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps");
    dir.is_dir().then_some(dir)
}

/// Opens `path`, transparently gunzipping `.gz` files.
fn open(path: &Path) -> Box<dyn Read> {
    let file = BufReader::new(File::open(path).unwrap_or_else(|e| panic!("{path:?}: {e}")));
    if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(file)
    }
}

/// Calls `f` with the link type and bytes of every frame in a pcap or pcapng file.
pub fn for_each_frame(path: &Path, mut f: impl FnMut(LinkType, &[u8])) {
    let mut magic = [0u8; 4];
    open(path)
        .read_exact(&mut magic)
        .unwrap_or_else(|e| panic!("{path:?}: {e}"));
    // The pcapng section header block type reads the same in both byte orders.
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        let mut reader = PcapNgReader::new(open(path)).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        // Interface link types of the current section, by interface id.
        let mut interfaces: Vec<LinkType> = Vec::new();
        let link_of = |interfaces: &[LinkType], id: usize| {
            interfaces
                .get(id)
                .copied()
                .unwrap_or(LinkType::Unknown(u32::MAX))
        };
        while let Some(block) = reader.next_block() {
            let block = block.unwrap_or_else(|e| panic!("{path:?}: {e}"));
            match block {
                Block::SectionHeader(_) => interfaces.clear(),
                Block::InterfaceDescription(idb) => {
                    interfaces.push(LinkType::from_linktype(u32::from(idb.linktype)));
                }
                Block::EnhancedPacket(epb) => {
                    f(link_of(&interfaces, epb.interface_id as usize), &epb.data);
                }
                Block::SimplePacket(spb) => f(link_of(&interfaces, 0), &spb.data),
                Block::Packet(pb) => {
                    f(link_of(&interfaces, usize::from(pb.interface_id)), &pb.data)
                }
                _ => {}
            }
        }
    } else {
        let mut reader = PcapReader::new(open(path)).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let linktype = LinkType::from_linktype(u32::from(reader.header().datalink));
        while let Some(packet) = reader.next_packet() {
            let packet = packet.unwrap_or_else(|e| panic!("{path:?}: {e}"));
            f(linktype, &packet.data);
        }
    }
}

/// Frame counts by layer, in the same terms as tshark display filters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Link type of the first frame.
    pub link: Option<LinkType>,
    /// Frames read.
    pub frames: u32,
    /// `ip`
    pub ipv4: u32,
    /// `ipv6`
    pub ipv6: u32,
    /// `tcp`
    pub tcp: u32,
    /// `udp`
    pub udp: u32,
    /// `arp`
    pub arp: u32,
    /// `lldp`
    pub lldp: u32,
    /// `cdp`
    pub cdp: u32,
    /// `vlan`
    pub vlan: u32,
}

/// Decodes every frame of a capture and counts layers; also returns the number of frames
/// flagged truncated and those with a decode error.
pub fn count(path: &Path) -> (Counts, u32, u32) {
    let mut c = Counts::default();
    let (mut truncated, mut errors) = (0, 0);
    for_each_frame(path, |link, frame| {
        let d = wire::decode(link, frame);
        c.link.get_or_insert(link);
        c.frames += 1;
        truncated += u32::from(d.truncated);
        errors += u32::from(d.error.is_some());
        match d.network {
            wire::Network::Ipv4(_) => c.ipv4 += 1,
            wire::Network::Ipv6(_) => c.ipv6 += 1,
            wire::Network::Arp(_) => c.arp += 1,
            wire::Network::Lldp(_) => c.lldp += 1,
            wire::Network::Cdp(_) => c.cdp += 1,
            _ => {}
        }
        match d.transport {
            wire::Transport::Tcp(_) => c.tcp += 1,
            wire::Transport::Udp(_) => c.udp += 1,
            _ => {}
        }
        if d.link.is_some_and(|l| l.vlans.count > 0) {
            c.vlan += 1;
        }
    });
    (c, truncated, errors)
}
