//! The whole-period air-gap verdict the console shows, kept fresh.
//!
//! The verdict rests on the stored alerts, so it goes stale when the sensor commits
//! alerts: the sensor counts those commits (a generation), and a verdict built for an
//! older generation is rebuilt. A rebuild that was cheap last time runs on the request
//! that finds the verdict stale, so a new crossing shows on the very next view; one that
//! was expensive (a large store) runs in the background while requests get the last
//! verdict, marked with its "as of" time and as being updated. A background thread also
//! rebuilds soon after each commit, and at least every [`MAX_AGE`] (triage in the
//! console changes which alerts count without a sensor commit).

use console::Airgap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest a verdict is served without a rebuild, whatever the generation.
pub(super) const MAX_AGE: Duration = Duration::from_secs(60);

/// A rebuild that took at most this long runs on the request that needs it.
pub(super) const INLINE_BUDGET: Duration = Duration::from_millis(300);

/// The last verdict and what it was built from.
#[derive(Default)]
struct Slot {
    report: Option<Airgap>,
    /// The sensor's alert-commit generation the report reflects.
    generation: u64,
    /// Set when something besides alerts changed (the zone file).
    dirty: bool,
    built: Option<Instant>,
    /// How long the last rebuild took.
    cost: Duration,
    building: bool,
    /// The generation and time of the last failed rebuild: the background thread does
    /// not retry it before [`MAX_AGE`] (one message a minute, not five a second).
    failed: Option<(u64, Instant)>,
}

impl Slot {
    fn is_fresh(&self, generation: u64) -> bool {
        self.report.is_some()
            && !self.dirty
            && self.generation == generation
            && self.built.is_some_and(|at| at.elapsed() < MAX_AGE)
    }
}

/// The cache; one rebuild at a time.
pub(super) struct VerdictCache {
    slot: Mutex<Slot>,
    /// Signalled when a rebuild ends.
    done: Condvar,
    inline_budget: Duration,
}

impl VerdictCache {
    /// An empty cache whose rebuilds run on the request when the last one took at most
    /// `inline_budget`.
    pub(super) fn new(inline_budget: Duration) -> Self {
        Self {
            slot: Mutex::new(Slot::default()),
            done: Condvar::new(),
            inline_budget,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the verdict stale (the zone policy changed).
    pub(super) fn invalidate(&self) {
        self.lock().dirty = true;
    }

    /// The verdict for alert generation `generation`: the cached one when fresh;
    /// otherwise rebuilt here when that is cheap, else the last one marked as updating
    /// (the background thread rebuilds it). Only the first request waits for a build
    /// that is already running.
    pub(super) fn get(
        &self,
        generation: u64,
        build: impl FnOnce() -> Result<Airgap, String>,
    ) -> Result<Airgap, String> {
        let mut slot = self.lock();
        if slot.is_fresh(generation) {
            return slot.report.clone().ok_or_else(not_built);
        }
        if slot.building || slot.report.is_some() && slot.cost > self.inline_budget {
            if slot.report.is_none() {
                while slot.building {
                    slot = self.done.wait(slot).unwrap_or_else(|e| e.into_inner());
                }
                if slot.report.is_some() {
                    return slot.report.clone().ok_or_else(not_built);
                }
                drop(slot);
                return self.rebuild(generation, build);
            }
            let mut stale = slot.report.clone().ok_or_else(not_built)?;
            stale.updating = true;
            return Ok(stale);
        }
        drop(slot);
        self.rebuild(generation, build)
    }

    /// Rebuilds when the verdict is stale and no rebuild runs (the background thread's
    /// step). True when it rebuilt.
    pub(super) fn refresh_if_stale(
        &self,
        generation: u64,
        build: impl FnOnce() -> Result<Airgap, String>,
    ) -> bool {
        {
            let slot = self.lock();
            let failed_lately = slot
                .failed
                .is_some_and(|(g, at)| g == generation && at.elapsed() < MAX_AGE);
            if slot.building || failed_lately || slot.is_fresh(generation) {
                return false;
            }
        }
        self.rebuild(generation, build).is_ok()
    }

    /// Builds the verdict for `generation` and keeps it; concurrent callers see the
    /// previous one meanwhile.
    fn rebuild(
        &self,
        generation: u64,
        build: impl FnOnce() -> Result<Airgap, String>,
    ) -> Result<Airgap, String> {
        {
            let mut slot = self.lock();
            slot.building = true;
            slot.dirty = false;
        }
        let started = Instant::now();
        let result = build();
        let mut slot = self.lock();
        slot.building = false;
        slot.cost = started.elapsed();
        match &result {
            Ok(report) => {
                slot.report = Some(report.clone());
                slot.generation = generation;
                slot.built = Some(started);
                slot.failed = None;
            }
            Err(_) => slot.failed = Some((generation, started)),
        }
        self.done.notify_all();
        result
    }
}

fn not_built() -> String {
    "the report could not be built".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(text: &str) -> Airgap {
        Airgap {
            summary: text.to_string(),
            ..Airgap::default()
        }
    }

    #[test]
    fn a_new_generation_is_rebuilt_on_the_next_request_when_cheap() {
        let cache = VerdictCache::new(Duration::from_secs(3600));
        let first = cache.get(0, || Ok(verdict("held"))).unwrap();
        assert_eq!(first.summary, "held");
        // Same generation: served from the cache (the builder is not called).
        let again = cache.get(0, || Err("must not build".into())).unwrap();
        assert_eq!(again.summary, "held");
        let next = cache.get(1, || Ok(verdict("breached"))).unwrap();
        assert_eq!((next.summary.as_str(), next.updating), ("breached", false));
        cache.invalidate();
        let after_zones = cache.get(1, || Ok(verdict("held again"))).unwrap();
        assert_eq!(after_zones.summary, "held again");
    }

    #[test]
    fn an_expensive_rebuild_leaves_the_request_with_the_last_verdict_marked_updating() {
        let cache = VerdictCache::new(Duration::ZERO);
        cache
            .get(0, || {
                std::thread::sleep(Duration::from_millis(2));
                Ok(verdict("held"))
            })
            .unwrap();
        let stale = cache.get(1, || Err("must not build".into())).unwrap();
        assert_eq!((stale.summary.as_str(), stale.updating), ("held", true));
        assert!(cache.refresh_if_stale(1, || Ok(verdict("breached"))));
        assert!(!cache.refresh_if_stale(1, || Ok(verdict("not again"))));
        let fresh = cache.get(1, || Err("must not build".into())).unwrap();
        assert_eq!(
            (fresh.summary.as_str(), fresh.updating),
            ("breached", false)
        );
    }

    #[test]
    fn a_failed_build_is_reported_and_retried_in_the_background_for_new_alerts() {
        let cache = VerdictCache::new(Duration::from_secs(3600));
        cache.get(0, || Ok(verdict("held"))).unwrap();
        assert_eq!(cache.get(1, || Err("locked".into())).unwrap_err(), "locked");
        // The background thread does not retry the same generation at once ...
        assert!(!cache.refresh_if_stale(1, || Ok(verdict("breached"))));
        // ... but does for the next one.
        assert!(cache.refresh_if_stale(2, || Ok(verdict("breached"))));
        assert_eq!(
            cache.get(2, || Err("x".into())).unwrap().summary,
            "breached"
        );
    }
}
