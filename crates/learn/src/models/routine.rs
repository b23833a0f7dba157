//! When a behaviour seen again and again counts as routine, shared by the air-gap
//! models (remote access, file transfers).
//!
//! Behaviour seen during learning is routine at once. Behaviour first seen after
//! learning keeps alerting until it has recurred [`ROUTINE_COUNT`] times over at least
//! [`ROUTINE_SPAN_MICROS`] (a day): a sustained intrusion inside one day never becomes
//! normal by repetition alone, while a new maintenance habit settles after a day. An
//! operator's accept makes it routine at once.

use records::Timestamp;
use serde::{Deserialize, Serialize};

/// Sightings needed before post-learning behaviour counts as routine.
pub const ROUTINE_COUNT: u64 = 3;
/// Time between the first and last sighting needed as well (24 h).
pub const ROUTINE_SPAN_MICROS: i64 = 86_400 * 1_000_000;

/// How often and when one behaviour was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sightings {
    /// First sighting, µs since the epoch.
    pub first: i64,
    /// Last sighting, µs since the epoch.
    pub last: i64,
    /// Sightings.
    pub count: u64,
    /// Seen while learning, or accepted by the operator.
    pub learnt: bool,
}

impl Sightings {
    /// A first sighting at `now`.
    pub fn new(now: Timestamp, learning: bool) -> Self {
        Self {
            first: now.micros(),
            last: now.micros(),
            count: 1,
            learnt: learning,
        }
    }

    /// Another sighting at `now`.
    pub fn see(&mut self, now: Timestamp, learning: bool) {
        self.first = self.first.min(now.micros());
        self.last = self.last.max(now.micros());
        self.count = self.count.saturating_add(1);
        self.learnt |= learning;
    }

    /// True when it no longer alerts.
    pub fn is_routine(&self) -> bool {
        self.learnt
            || (self.count >= ROUTINE_COUNT && self.last - self.first >= ROUTINE_SPAN_MICROS)
    }
}

/// Time of day of `ts` as `HH:MM:SS UTC`, for explanations.
pub fn clock(ts: Timestamp) -> String {
    let secs = ts.micros().div_euclid(1_000_000).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Makes room in `map` when it holds `cap` entries (before an insert): removes the
/// least recently seen eighth (at least one) in one pass, so a map at its cap costs one
/// scan per `cap / 8` inserts rather than one per insert. Returns how many were removed.
pub fn evict_oldest<K: Ord + Clone, V>(
    map: &mut std::collections::BTreeMap<K, V>,
    cap: usize,
    last: impl Fn(&V) -> i64,
) -> u64 {
    if map.len() < cap || map.is_empty() {
        return 0;
    }
    let n = (map.len() / 8).max(1);
    let mut ages: Vec<i64> = map.values().map(&last).collect();
    let (_, cutoff, _) = ages.select_nth_unstable(n - 1);
    let cutoff = *cutoff;
    let mut removed = 0;
    map.retain(|_, v| {
        if removed < n && last(v) <= cutoff {
            removed += 1;
            false
        } else {
            true
        }
    });
    removed as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_learning_behaviour_settles_only_over_a_day() {
        let hour = 3_600_000_000;
        let mut s = Sightings::new(Timestamp(0), false);
        for h in 1..10 {
            s.see(Timestamp(h * hour), false);
        }
        assert!(!s.is_routine());
        s.see(Timestamp(25 * hour), false);
        assert!(s.is_routine());
        assert!(Sightings::new(Timestamp(0), true).is_routine());
        assert_eq!(clock(Timestamp(1_795_854_985_673_000)), "08:36:25 UTC");
    }
}
