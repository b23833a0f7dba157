//! Live capture from a Linux interface: an AF_PACKET socket with a TPACKET_V3 receive
//! ring mapped into this process.
//!
//! This is the only module of the crate with `unsafe` code: system calls, the mapping of
//! the ring, and the reads of the blocks the kernel hands over. Each block states the
//! invariant it relies on.
//!
//! How the ring works: the kernel fills fixed-size blocks with packets and, when a block
//! is full or its retire timeout passes, sets `TP_STATUS_USER` in the block's header. The
//! reader walks the block's packets (each packet is lent to the caller straight out of
//! the ring), then writes `TP_STATUS_KERNEL` to give the block back and moves to the next
//! block in order. While a block is ours the kernel does not write to it; once given
//! back, none of its bytes are read again.
//!
//! Stopping: [`PacketSource::next_packet`] waits in `poll()` in slices of
//! [`LiveConfig::poll_interval`] and returns `Ok(None)` only once the stop flag (see
//! [`LiveSource::stop_handle`]) is set. [`LiveSource::next_packet_timeout`] returns
//! `Ok(None)` when nothing arrived within the given time.

use std::cell::Cell;
use std::ffi::CString;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use records::Timestamp;
use wire::LinkType;

use super::{PacketSource, RawPacket, SourceError, SourceStats, SourceWarning};

/// Offsets in a block descriptor (`struct tpacket_block_desc`, header `tpacket_hdr_v1`).
mod block_field {
    pub const STATUS: usize = 8;
    pub const NUM_PKTS: usize = 12;
    pub const OFFSET_TO_FIRST_PKT: usize = 16;
}

/// Offsets in a packet header (`struct tpacket3_hdr`).
mod packet_field {
    pub const NEXT_OFFSET: usize = 0;
    pub const SEC: usize = 4;
    pub const NSEC: usize = 8;
    pub const SNAPLEN: usize = 12;
    pub const LEN: usize = 16;
    pub const STATUS: usize = 20;
    pub const MAC: usize = 24;
    pub const VLAN_TCI: usize = 32;
    pub const VLAN_TPID: usize = 36;
    /// Size of the header.
    pub const END: usize = 48;
}

/// The 802.1Q tag protocol id, used when the kernel does not say which TPID it removed.
const ETHERTYPE_VLAN: u16 = 0x8100;

/// Settings of a live capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveConfig {
    /// Size of one ring block in bytes: a power of two, at least one page (default
    /// 4 MiB). A packet larger than a block cannot be captured.
    pub block_size: u32,
    /// Number of ring blocks (default 16, so 64 MiB of ring).
    pub block_count: u32,
    /// Frame size the kernel checks the ring geometry with; TPACKET_V3 packs packets of
    /// any size into blocks, so this only has to be a multiple of 16 that divides the
    /// block size (default 2048).
    pub frame_size: u32,
    /// The kernel hands a block over when it is full or this long after its first packet
    /// (default 50 ms): the longest a packet waits before the reader sees it.
    pub block_timeout: Duration,
    /// Put the interface in promiscuous mode while capturing (default true). The kernel
    /// removes the membership when the socket closes.
    pub promiscuous: bool,
    /// How often [`PacketSource::next_packet`] wakes to check the stop flag (default
    /// 100 ms).
    pub poll_interval: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            block_size: 4 * 1024 * 1024,
            block_count: 16,
            frame_size: 2048,
            block_timeout: Duration::from_millis(50),
            promiscuous: true,
            poll_interval: Duration::from_millis(100),
        }
    }
}

/// Counters read from the kernel (reading them resets the kernel's), accumulated.
#[derive(Clone, Copy, Debug, Default)]
struct KernelCounters {
    packets: u64,
    drops: u64,
    freezes: u64,
}

/// Where the lent packet's bytes are.
#[derive(Clone, Copy, Debug)]
enum Data {
    /// In the ring, at this byte offset from its start.
    Ring { at: usize, len: usize },
    /// In `scratch` (a frame whose VLAN tag the kernel removed, with the tag put back).
    Scratch,
}

#[derive(Clone, Copy, Debug)]
struct Current {
    ts: Timestamp,
    orig_len: u32,
    data: Data,
}

/// The mapped receive ring.
struct Ring {
    base: NonNull<u8>,
    len: usize,
    block_size: usize,
    block_count: usize,
}

// SAFETY: the mapping is owned by this value alone (no other Rust value points into it),
// and the kernel side does not depend on which thread reads it, so moving the owner to
// another thread is sound.
unsafe impl Send for Ring {}

impl Ring {
    /// The status word of block `block`.
    fn status(&self, block: usize) -> &AtomicU32 {
        let at = block % self.block_count * self.block_size + block_field::STATUS;
        // SAFETY: `at + 4 <= len` because `block % block_count < block_count` and a block
        // (at least one page) is larger than its descriptor. The address is 4-aligned:
        // blocks start at page multiples and STATUS is 8. The word lives as long as the
        // mapping, which outlives `&self`. The kernel and this reader both access it as a
        // 32-bit word; this side only uses atomic accesses, so the kernel's writes are
        // seen through Acquire loads and our hand-back through a Release store.
        unsafe { AtomicU32::from_ptr(self.base.as_ptr().add(at).cast::<u32>()) }
    }

    /// The bytes of block `block`. Call only while the block is ours (its status has
    /// `TP_STATUS_USER`, observed with an Acquire load, and not yet given back).
    fn block(&self, block: usize) -> &[u8] {
        let at = block % self.block_count * self.block_size;
        // SAFETY: `at + block_size <= len` (see `status`). The caller owns the block: the
        // kernel does not write to a block whose status is TP_STATUS_USER until the
        // reader stores TP_STATUS_KERNEL, which `LiveSource::release_block` does only
        // from `&mut self`, i.e. after every slice returned here has been dropped.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(at), self.block_size) }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` are exactly what mmap returned, unmapped once here; no
        // borrow of the ring can outlive `self`.
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.len);
        }
    }
}

/// Live capture on one Linux interface through an AF_PACKET TPACKET_V3 ring.
///
/// Needs root or CAP_NET_RAW. Frames are delivered as Ethernet; a VLAN tag the kernel
/// took off (hardware VLAN offload) is put back so the frame looks as it did on the wire.
pub struct LiveSource {
    // Field order matters for Drop: unmap the ring before closing the socket.
    ring: Ring,
    fd: OwnedFd,
    iface: String,
    describe: String,
    /// Block being read (counts up; `Ring` takes it modulo the block count).
    block: usize,
    in_block: bool,
    pkts_left: u32,
    /// Offset in the current block of the next packet header.
    next_off: usize,
    current: Option<Current>,
    scratch: Vec<u8>,
    stop: Arc<AtomicBool>,
    poll_interval: Duration,
    packets: u64,
    bytes: u64,
    kernel: Cell<KernelCounters>,
    warnings: Vec<SourceWarning>,
}

impl std::fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSource")
            .field("iface", &self.iface)
            .field("fd", &self.fd.as_raw_fd())
            .field("ring_bytes", &self.ring.len)
            .field("packets", &self.packets)
            .finish_non_exhaustive()
    }
}

fn errno() -> io::Error {
    io::Error::last_os_error()
}

fn is_permission(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES))
}

impl LiveSource {
    /// Opens a capture on `iface` (in the calling thread's network namespace).
    ///
    /// Errors: [`SourceError::NoSuchInterface`], [`SourceError::PermissionDenied`] when
    /// not root / without CAP_NET_RAW, [`SourceError::InvalidConfig`] for a ring geometry
    /// the kernel would refuse, [`SourceError::Live`] for other system call failures.
    pub fn open(iface: &str, config: &LiveConfig) -> Result<Self, SourceError> {
        let no_such = |reason| SourceError::NoSuchInterface {
            name: iface.to_string(),
            reason,
        };
        if iface.is_empty() {
            return Err(no_such(" (empty name)"));
        }
        if iface.len() >= libc::IFNAMSIZ {
            return Err(no_such(" (names are at most 15 bytes)"));
        }
        if iface.contains('/') {
            return Err(no_such(" (names cannot contain '/')"));
        }
        let cname = CString::new(iface).map_err(|_| no_such(" (name contains a NUL byte)"))?;
        // SAFETY: `cname` is a valid NUL-terminated string that outlives the call.
        let ifindex = unsafe { libc::if_nametoindex(cname.as_ptr()) };
        if ifindex == 0 {
            let e = errno();
            return Err(match e.raw_os_error() {
                Some(libc::ENODEV) | Some(libc::ENXIO) | None | Some(0) => no_such(""),
                _ => SourceError::Live {
                    iface: iface.to_string(),
                    op: "look up the interface index",
                    source: e,
                },
            });
        }
        let ifindex =
            libc::c_int::try_from(ifindex).map_err(|_| no_such(" (index out of range)"))?;
        let geometry = Geometry::check(iface, config)?;

        let live_err = |op, source| SourceError::Live {
            iface: iface.to_string(),
            op,
            source,
        };
        // Protocol 0: the socket receives nothing until bound, so no frame from another
        // interface lands in the ring before `bind` below.
        // SAFETY: plain system call with constant arguments.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            let e = errno();
            return Err(if is_permission(&e) {
                SourceError::PermissionDenied {
                    iface: iface.to_string(),
                    op: "opening an AF_PACKET socket",
                    source: e,
                }
            } else {
                live_err("open an AF_PACKET socket", e)
            });
        }
        // SAFETY: `raw` is a freshly created descriptor owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version)
            .map_err(|e| live_err("select TPACKET_V3", e))?;

        let req = libc::tpacket_req3 {
            tp_block_size: geometry.block_size,
            tp_block_nr: geometry.block_count,
            tp_frame_size: geometry.frame_size,
            tp_frame_nr: geometry.frame_count,
            tp_retire_blk_tov: geometry.retire_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req).map_err(|e| {
            if is_permission(&e) {
                SourceError::PermissionDenied {
                    iface: iface.to_string(),
                    op: "setting up the receive ring",
                    source: e,
                }
            } else {
                live_err("set up the receive ring (PACKET_RX_RING)", e)
            }
        })?;

        let len = geometry.block_size as usize * geometry.block_count as usize;
        // SAFETY: maps `len` bytes of the socket's ring, the size the kernel just
        // allocated for it; no existing memory is touched (address chosen by the kernel).
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(live_err("map the receive ring", errno()));
        }
        let Some(base) = NonNull::new(base.cast::<u8>()) else {
            return Err(live_err(
                "map the receive ring",
                io::Error::other("mmap returned a null address"),
            ));
        };
        let ring = Ring {
            base,
            len,
            block_size: geometry.block_size as usize,
            block_count: geometry.block_count as usize,
        };

        // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as libc::c_ushort;
        addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        addr.sll_ifindex = ifindex;
        // SAFETY: `addr` is a valid sockaddr_ll and the length passed is its size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast::<libc::sockaddr>(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            let e = errno();
            return Err(match e.raw_os_error() {
                Some(libc::ENODEV) => no_such(" (it disappeared while opening)"),
                _ if is_permission(&e) => SourceError::PermissionDenied {
                    iface: iface.to_string(),
                    op: "binding to the interface",
                    source: e,
                },
                _ => live_err("bind to the interface", e),
            });
        }

        if config.promiscuous {
            let mreq = libc::packet_mreq {
                mr_ifindex: ifindex,
                mr_type: libc::PACKET_MR_PROMISC as libc::c_ushort,
                mr_alen: 0,
                mr_address: [0; 8],
            };
            setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq)
                .map_err(|e| live_err("enable promiscuous mode", e))?;
        }

        Ok(Self {
            ring,
            fd,
            iface: iface.to_string(),
            describe: format!("interface {iface}"),
            block: 0,
            in_block: false,
            pkts_left: 0,
            next_off: 0,
            current: None,
            scratch: Vec::with_capacity(64 * 1024),
            stop: Arc::new(AtomicBool::new(false)),
            poll_interval: config.poll_interval.max(Duration::from_millis(1)),
            packets: 0,
            bytes: 0,
            kernel: Cell::new(KernelCounters::default()),
            warnings: Vec::new(),
        })
    }

    /// The flag that stops [`PacketSource::next_packet`]: store `true` (from any thread)
    /// and the source returns `Ok(None)` within one poll interval.
    pub fn stop_handle(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Uses `flag` as the stop flag (e.g. one shared by every stage of the program).
    pub fn set_stop_flag(&mut self, flag: Arc<AtomicBool>) {
        self.stop = flag;
    }

    /// The next frame, or `Ok(None)` when none arrived within `timeout` or the stop flag
    /// is set.
    pub fn next_packet_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<RawPacket<'_>>, SourceError> {
        if self.advance(timeout)? {
            Ok(self.current())
        } else {
            Ok(None)
        }
    }

    /// The interface name.
    pub fn interface(&self) -> &str {
        &self.iface
    }

    /// Moves to the next frame, waiting at most `timeout` (zero: only looks whether
    /// the kernel has handed one over). False on timeout or stop.
    pub(super) fn advance(&mut self, timeout: Duration) -> Result<bool, SourceError> {
        self.current = None;
        let deadline = Instant::now() + timeout;
        loop {
            if self.in_block {
                if self.pkts_left > 0 {
                    if self.take_packet() {
                        return Ok(true);
                    }
                    continue;
                }
                self.release_block();
            }
            if self.ring.status(self.block).load(Ordering::Acquire) & libc::TP_STATUS_USER != 0 {
                let b = self.ring.block(self.block);
                self.pkts_left = read_u32(b, block_field::NUM_PKTS);
                self.next_off = read_u32(b, block_field::OFFSET_TO_FIRST_PKT) as usize;
                self.in_block = true;
                continue;
            }
            if self.stop.load(Ordering::Relaxed) {
                return Ok(false);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            let wait_ms = (deadline - now).as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN | libc::POLLERR,
                revents: 0,
            };
            // SAFETY: `pfd` is one valid pollfd, and the count passed is 1.
            let rc = unsafe { libc::poll(&mut pfd, 1, wait_ms) };
            if rc < 0 {
                let e = errno();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(self.error("wait for packets (poll)", e));
            }
            if rc > 0 && pfd.revents & libc::POLLERR != 0 {
                let e = self.socket_error();
                if let Some(e) = e {
                    return Err(self.error("receive (the interface went down or away?)", e));
                }
            }
        }
    }

    /// Reads the packet header at `next_off` of the current block; false when the header
    /// or data would run outside the block (the rest of the block is then skipped).
    fn take_packet(&mut self) -> bool {
        let block_base = self.block % self.ring.block_count * self.ring.block_size;
        let b = self.ring.block(self.block);
        let off = self.next_off;
        let Some(hdr) = off
            .checked_add(packet_field::END)
            .and_then(|end| b.get(off..end))
        else {
            self.pkts_left = 0;
            return false;
        };
        let next = read_u32(hdr, packet_field::NEXT_OFFSET) as usize;
        let sec = read_u32(hdr, packet_field::SEC);
        let nsec = read_u32(hdr, packet_field::NSEC);
        let snaplen = read_u32(hdr, packet_field::SNAPLEN) as usize;
        let wire_len = read_u32(hdr, packet_field::LEN);
        let status = read_u32(hdr, packet_field::STATUS);
        let mac = usize::from(read_u16(hdr, packet_field::MAC));
        let tci = read_u32(hdr, packet_field::VLAN_TCI);
        let tpid = read_u16(hdr, packet_field::VLAN_TPID);
        let start = off + mac;
        let Some(frame) = start.checked_add(snaplen).and_then(|end| b.get(start..end)) else {
            self.pkts_left = 0;
            return false;
        };
        self.pkts_left -= 1;
        if next == 0 {
            // The last packet of a block has no successor; any other would loop forever.
            self.pkts_left = 0;
        }
        self.next_off = off.saturating_add(next);
        let ts = Timestamp::from_parts(i64::from(sec), nsec);
        let data = if status & libc::TP_STATUS_VLAN_VALID != 0 && frame.len() >= 12 {
            // Put back the tag the kernel (or the NIC) removed, after the two MACs.
            let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 && tpid != 0 {
                tpid
            } else {
                ETHERTYPE_VLAN
            };
            self.scratch.clear();
            self.scratch.extend_from_slice(&frame[..12]);
            self.scratch.extend_from_slice(&tpid.to_be_bytes());
            self.scratch.extend_from_slice(&(tci as u16).to_be_bytes());
            self.scratch.extend_from_slice(&frame[12..]);
            Data::Scratch
        } else {
            Data::Ring {
                at: block_base + start,
                len: snaplen,
            }
        };
        let (len, orig_len) = match data {
            Data::Scratch => (self.scratch.len(), wire_len.saturating_add(4)),
            Data::Ring { len, .. } => (len, wire_len),
        };
        self.current = Some(Current {
            ts,
            orig_len: orig_len.max(len as u32),
            data,
        });
        self.packets += 1;
        self.bytes += len as u64;
        true
    }

    /// Gives the current block back to the kernel and moves to the next one.
    fn release_block(&mut self) {
        self.ring
            .status(self.block)
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
        self.in_block = false;
        self.pkts_left = 0;
        self.block = self.block.wrapping_add(1);
    }

    /// Moves to the next frame if the kernel has handed one over, without waiting.
    pub(super) fn advance_now(&mut self) -> Result<bool, SourceError> {
        self.advance(Duration::ZERO)
    }

    /// Capture time of the frame [`advance`](Self::advance) moved to.
    pub(super) fn current_ts(&self) -> Option<Timestamp> {
        self.current.map(|c| c.ts)
    }

    /// The frame [`advance`](Self::advance) moved to.
    pub(super) fn current(&self) -> Option<RawPacket<'_>> {
        let c = self.current?;
        let data = match c.data {
            Data::Scratch => &self.scratch[..],
            Data::Ring { at, len } => {
                let block = at / self.ring.block_size;
                let in_block = at % self.ring.block_size;
                self.ring.block(block).get(in_block..in_block + len)?
            }
        };
        Some(RawPacket {
            ts: c.ts,
            link: LinkType::Ethernet,
            data,
            orig_len: c.orig_len,
            interface: 0,
        })
    }

    /// Pending socket error (SO_ERROR), cleared by reading it.
    fn socket_error(&self) -> Option<io::Error> {
        let mut err: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `err` and `len` are valid for writes and `len` is `err`'s size.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut err as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Some(errno());
        }
        (err != 0).then(|| io::Error::from_raw_os_error(err))
    }

    /// Reads (and so resets) the kernel's counters and adds them to the running totals.
    fn refresh_kernel_counters(&self) -> KernelCounters {
        let mut totals = self.kernel.get();
        let mut st = libc::tpacket_stats_v3 {
            tp_packets: 0,
            tp_drops: 0,
            tp_freeze_q_cnt: 0,
        };
        let mut len = size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `st` and `len` are valid for writes and `len` is `st`'s size.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut st as *mut libc::tpacket_stats_v3).cast(),
                &mut len,
            )
        };
        if rc == 0 {
            // tp_packets counts every frame the socket saw, dropped ones included.
            totals.packets += u64::from(st.tp_packets);
            totals.drops += u64::from(st.tp_drops);
            totals.freezes += u64::from(st.tp_freeze_q_cnt);
            self.kernel.set(totals);
        }
        totals
    }

    fn error(&self, op: &'static str, source: io::Error) -> SourceError {
        SourceError::Live {
            iface: self.iface.clone(),
            op,
            source,
        }
    }
}

impl PacketSource for LiveSource {
    /// Waits for the next frame; `Ok(None)` only once the stop flag is set.
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, SourceError> {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            if self.advance(self.poll_interval)? {
                return Ok(self.current());
            }
        }
    }

    fn stats(&self) -> SourceStats {
        let kernel = self.refresh_kernel_counters();
        SourceStats {
            packets: self.packets,
            bytes: self.bytes,
            kernel_drops: kernel.drops,
            kernel_queue_freezes: kernel.freezes,
            ..SourceStats::default()
        }
    }

    fn warnings(&mut self) -> Vec<SourceWarning> {
        std::mem::take(&mut self.warnings)
    }

    fn describe(&self) -> &str {
        &self.describe
    }

    fn interfaces(&self) -> Vec<(String, SourceStats)> {
        vec![(self.iface.clone(), self.stats())]
    }
}

/// Waits until one of `sources` has frames for the reader (or an error), at most
/// `timeout`.
pub(super) fn wait_any(sources: &[LiveSource], timeout: Duration) -> Result<(), SourceError> {
    let mut fds: Vec<libc::pollfd> = sources
        .iter()
        .map(|s| libc::pollfd {
            fd: s.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        })
        .collect();
    let wait_ms = timeout.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures that outlives the
    // call.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms) };
    if rc < 0 {
        let e = errno();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(());
        }
        let iface = sources.first().map_or("", |s| s.iface.as_str());
        return Err(SourceError::Live {
            iface: iface.to_string(),
            op: "wait for packets (poll)",
            source: e,
        });
    }
    for (source, fd) in sources.iter().zip(&fds) {
        if fd.revents & libc::POLLERR != 0 {
            if let Some(e) = source.socket_error() {
                return Err(source.error("receive (the interface went down or away?)", e));
            }
        }
    }
    Ok(())
}

/// Ring geometry checked against the kernel's rules.
struct Geometry {
    block_size: u32,
    block_count: u32,
    frame_size: u32,
    frame_count: u32,
    retire_ms: u32,
}

impl Geometry {
    fn check(iface: &str, c: &LiveConfig) -> Result<Self, SourceError> {
        let bad = |reason: String| SourceError::InvalidConfig {
            iface: iface.to_string(),
            reason,
        };
        // SAFETY: sysconf has no memory effects.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page = u32::try_from(page).unwrap_or(4096).max(4096);
        if !c.block_size.is_power_of_two() || c.block_size < page {
            return Err(bad(format!(
                "block size {} must be a power of two of at least the page size {page}",
                c.block_size
            )));
        }
        if c.block_count == 0 {
            return Err(bad("block count must be at least 1".into()));
        }
        if u64::from(c.block_size) * u64::from(c.block_count) > 1 << 32 {
            return Err(bad(format!(
                "ring of {} x {} bytes exceeds 4 GiB",
                c.block_count, c.block_size
            )));
        }
        if c.frame_size < libc::TPACKET3_HDRLEN as u32
            || c.frame_size & (libc::TPACKET_ALIGNMENT as u32 - 1) != 0
            || c.frame_size > c.block_size
        {
            return Err(bad(format!(
                "frame size {} must be a multiple of {} between {} and the block size",
                c.frame_size,
                libc::TPACKET_ALIGNMENT,
                libc::TPACKET3_HDRLEN
            )));
        }
        let frames_per_block = c.block_size / c.frame_size;
        let frame_count = frames_per_block
            .checked_mul(c.block_count)
            .ok_or_else(|| bad("too many frames".into()))?;
        let retire_ms = u32::try_from(c.block_timeout.as_millis())
            .unwrap_or(u32::MAX)
            .max(1);
        Ok(Self {
            block_size: c.block_size,
            block_count: c.block_count,
            frame_size: c.frame_size,
            frame_count,
            retire_ms,
        })
    }
}

fn setsockopt<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live T and the length passed is T's size; the kernel
    // only reads it.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(errno())
    }
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    if let Some(src) = b.get(at..at + 4) {
        w.copy_from_slice(src);
    }
    u32::from_ne_bytes(w)
}

fn read_u16(b: &[u8], at: usize) -> u16 {
    let mut w = [0u8; 2];
    if let Some(src) = b.get(at..at + 2) {
        w.copy_from_slice(src);
    }
    u16::from_ne_bytes(w)
}
