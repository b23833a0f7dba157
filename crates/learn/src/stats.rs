//! Small statistics the models share.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::BuildHasher;

/// Fixed keys for the models' hash maps: iteration order depends only on the data, so
/// the same input gives the same output on every run.
static HASH_KEYS: ahash::RandomState = ahash::RandomState::with_seeds(
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
);

/// The models' map hasher: aHash (fast on the small fixed-size keys the models use)
/// with fixed keys.
#[derive(Clone, Copy, Debug, Default)]
pub struct FastHash;

impl BuildHasher for FastHash {
    type Hasher = ahash::AHasher;

    fn build_hasher(&self) -> ahash::AHasher {
        HASH_KEYS.build_hasher()
    }
}

/// A hash map with [`FastHash`].
pub type Map<K, V> = HashMap<K, V, FastHash>;

/// Running mean and variance (Welford), with a count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Welford {
    /// Observations.
    pub n: u64,
    /// Mean.
    pub mean: f64,
    m2: f64,
}

impl Welford {
    /// Adds an observation.
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Sample standard deviation (0 with fewer than two observations).
    pub fn std(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).sqrt()
        }
    }
}

/// Good–Turing estimate of the probability that the next observation is something
/// never seen before: items seen exactly once over all observations. A device that
/// talked to the same two peers a million times gets ~0; a chatty host gets a lot.
/// `singletons` and `total` count observations of distinct items; with no history the
/// estimate is 1 (anything is new).
pub fn unseen_probability(singletons: u64, total: u64) -> f64 {
    if total == 0 {
        1.0
    } else {
        // Add-one keeps a settled history from claiming absolute certainty.
        ((singletons as f64 + 1.0) / (total as f64 + 1.0)).min(1.0)
    }
}

/// Surprise score of an event whose probability was `p`: 1 − p, so an unseen item in a
/// settled history scores near 1 and in a churning one near 0.
pub fn surprise(p: f64) -> f64 {
    (1.0 - p).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welford_matches_textbook_values() {
        let mut w = Welford::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            w.add(x);
        }
        assert_eq!(w.mean, 5.0);
        assert!((w.std() - 2.138).abs() < 1e-3);
    }

    #[test]
    fn good_turing_is_small_for_settled_histories() {
        assert_eq!(unseen_probability(0, 0), 1.0);
        assert!(unseen_probability(0, 100_000) < 1e-4);
        assert!(unseen_probability(40, 100) > 0.4);
    }
}
