//! Live capture from several interfaces at once (a SPAN deployment with two mirror
//! ports), read as one stream.
//!
//! One thread, no copies: each interface has its own AF_PACKET ring ([`LiveSource`]),
//! and the reader looks at every ring in turn without waiting. Of the interfaces that
//! have a frame ready, the earliest one (capture time) is lent to the caller straight
//! out of its ring, tagged with the interface's position ([`RawPacket::interface`]).
//! When no ring has a frame, one `poll()` waits on all their sockets.
//!
//! Bounds: each ring is bounded (see [`LiveConfig`]); when the reader falls behind,
//! the kernel drops frames for the interface whose ring is full and counts them per
//! interface ([`PacketSource::interfaces`]). Order: frames are merged in time order
//! among those the kernel has handed over; a frame still in a block the kernel has not
//! yet retired (at most [`LiveConfig::block_timeout`]) can come after a later frame
//! from another interface.
//!
//! Idle links: with [`MultiLiveSource::set_idle_end`], `next_packet` also returns
//! `Ok(None)` after that long without a frame, so the caller can do its periodic work
//! (publish counters, take commands) and call again; [`MultiLiveSource::is_stopped`]
//! tells the two ends apart.
//!
//! Stopping: once the stop flag is set, frames the kernel has already handed over are
//! still delivered (at most [`DRAIN_MAX`], so a flood cannot keep the source going),
//! then [`PacketSource::next_packet`] returns `Ok(None)`.
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::live::wait_any;
use super::SourceWarning;
use super::{LiveConfig, LiveSource, PacketSource, RawPacket, SourceError, SourceStats};

/// The most interfaces one source reads (the tag is one byte; more mirror ports than
/// this belong on more sensors).
pub const MAX_INTERFACES: usize = 16;

/// The most frames delivered after the stop flag is set.
pub const DRAIN_MAX: u32 = 65_536;

/// Several live interfaces read as one source.
#[derive(Debug)]
pub struct MultiLiveSource {
    sources: Vec<LiveSource>,
    /// Interfaces whose current frame is ready and not yet delivered.
    ready: Vec<bool>,
    stop: Arc<AtomicBool>,
    poll_interval: Duration,
    describe: String,
    /// Frames still to deliver once stopping.
    drain_left: u32,
    /// End `next_packet` after this long without a frame.
    idle_end: Option<Duration>,
}

impl MultiLiveSource {
    /// Opens a capture on every interface of `ifaces` (in the calling thread's network
    /// namespace), each with its own ring of `config`.
    ///
    /// Errors: the first interface that cannot be opened (see [`LiveSource::open`]);
    /// [`SourceError::InvalidConfig`] for no interface, more than [`MAX_INTERFACES`],
    /// or one named twice.
    pub fn open<S: AsRef<str>>(ifaces: &[S], config: &LiveConfig) -> Result<Self, SourceError> {
        let names: Vec<&str> = ifaces.iter().map(AsRef::as_ref).collect();
        let bad = |reason: String| SourceError::InvalidConfig {
            iface: names.join(","),
            reason,
        };
        if names.is_empty() {
            return Err(bad("no interface given".into()));
        }
        if names.len() > MAX_INTERFACES {
            return Err(bad(format!(
                "{} interfaces given, at most {MAX_INTERFACES} are read at once",
                names.len()
            )));
        }
        if let Some(twice) = names
            .iter()
            .enumerate()
            .find(|(i, n)| names[..*i].contains(n))
        {
            return Err(bad(format!("interface {} is named twice", twice.1)));
        }
        let sources = names
            .iter()
            .map(|name| LiveSource::open(name, config))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            ready: vec![false; sources.len()],
            sources,
            stop: Arc::new(AtomicBool::new(false)),
            poll_interval: config.poll_interval.max(Duration::from_millis(1)),
            describe: format!("interfaces {}", names.join(", ")),
            drain_left: DRAIN_MAX,
            idle_end: None,
        })
    }

    /// Uses `flag` as the stop flag: store `true` (from any thread) and the source
    /// ends once it has delivered what the kernel already handed over.
    pub fn set_stop_flag(&mut self, flag: Arc<AtomicBool>) {
        for source in &mut self.sources {
            source.set_stop_flag(flag.clone());
        }
        self.stop = flag;
    }

    /// Makes [`PacketSource::next_packet`] return `Ok(None)` also after `idle` without
    /// a frame (`None`: only when stopped, the default).
    pub fn set_idle_end(&mut self, idle: Option<Duration>) {
        self.idle_end = idle;
    }

    /// True once the stop flag is set.
    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The interface names, in tag order.
    pub fn interface_names(&self) -> Vec<&str> {
        self.sources.iter().map(LiveSource::interface).collect()
    }

    /// Moves every interface without a waiting frame to its next one, if the kernel
    /// has handed one over; returns the interface whose frame is earliest.
    fn earliest_ready(&mut self) -> Result<Option<usize>, SourceError> {
        let mut best: Option<(records::Timestamp, usize)> = None;
        for (i, source) in self.sources.iter_mut().enumerate() {
            if !self.ready[i] {
                self.ready[i] = source.advance_now()?;
            }
            if self.ready[i] {
                if let Some(ts) = source.current_ts() {
                    if best.is_none_or(|(b, _)| ts < b) {
                        best = Some((ts, i));
                    }
                }
            }
        }
        Ok(best.map(|(_, i)| i))
    }
}

impl PacketSource for MultiLiveSource {
    /// Waits for the next frame on any interface; `Ok(None)` only once the stop flag is
    /// set and the frames already handed over are delivered.
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, SourceError> {
        let deadline = self.idle_end.map(|idle| Instant::now() + idle);
        loop {
            let stopping = self.stop.load(Ordering::Relaxed);
            if stopping {
                if self.drain_left == 0 {
                    return Ok(None);
                }
                self.drain_left -= 1;
            }
            if let Some(i) = self.earliest_ready()? {
                self.ready[i] = false;
                let tag = i as u8;
                return Ok(self.sources[i].current().map(|p| RawPacket {
                    interface: tag,
                    ..p
                }));
            }
            if stopping {
                return Ok(None);
            }
            let mut wait = self.poll_interval;
            if let Some(deadline) = deadline {
                let now = Instant::now();
                if now >= deadline {
                    return Ok(None);
                }
                wait = wait.min(deadline - now);
            }
            wait_any(&self.sources, wait)?;
        }
    }

    fn stats(&self) -> SourceStats {
        let mut total = SourceStats::default();
        for source in &self.sources {
            total.add(&source.stats());
        }
        total
    }

    fn warnings(&mut self) -> Vec<SourceWarning> {
        self.sources
            .iter_mut()
            .flat_map(PacketSource::warnings)
            .collect()
    }

    fn describe(&self) -> &str {
        &self.describe
    }

    fn interfaces(&self) -> Vec<(String, SourceStats)> {
        self.sources
            .iter()
            .map(|s| (s.interface().to_string(), s.stats()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_interface_lists_are_refused_with_the_reason() {
        let config = LiveConfig::default();
        let none: [&str; 0] = [];
        let err = MultiLiveSource::open(&none, &config).unwrap_err();
        assert!(err.to_string().contains("no interface given"), "{err}");
        let err = MultiLiveSource::open(&["lo", "lo"], &config).unwrap_err();
        assert!(
            err.to_string().contains("interface lo is named twice"),
            "{err}"
        );
        let many: Vec<String> = (0..17).map(|i| format!("gw{i}")).collect();
        let err = MultiLiveSource::open(&many, &config).unwrap_err();
        assert!(err.to_string().contains("17 interfaces given"), "{err}");
        let err = MultiLiveSource::open(&["lo", "gw-no-such-if"], &config).unwrap_err();
        assert!(
            matches!(err, SourceError::NoSuchInterface { ref name, .. } if name == "gw-no-such-if")
                || matches!(err, SourceError::PermissionDenied { .. }),
            "{err}"
        );
    }
}
