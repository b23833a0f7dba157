//! Packet time.

use serde::{Serialize, Serializer};
use std::fmt;

/// A point in time as microseconds since the Unix epoch (UTC).
///
/// Pipeline time always comes from packet timestamps, so the same capture gives the same
/// output on every run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Builds a timestamp from seconds and a sub-second part in nanoseconds.
    pub fn from_parts(secs: i64, nanos: u32) -> Self {
        Self(
            secs.saturating_mul(1_000_000)
                .saturating_add(i64::from(nanos / 1_000)),
        )
    }

    /// Microseconds since the epoch.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch as a float (for labels and rates).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// This time plus `micros` microseconds (saturating).
    pub fn plus_micros(self, micros: i64) -> Self {
        Self(self.0.saturating_add(micros))
    }

    /// Microseconds from `earlier` to `self` (negative if `earlier` is later).
    pub fn micros_since(self, earlier: Self) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 UTC with microseconds, e.g. `2026-11-28T04:55:01.123456Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        match time::OffsetDateTime::from_unix_timestamp(secs) {
            Ok(t) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                micros
            ),
            // Outside the representable calendar range: fall back to raw seconds.
            Err(_) => write!(f, "{}.{:06}", secs, micros),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_with_micros() {
        let t = Timestamp::from_parts(1_764_305_701, 123_456_789);
        assert_eq!(t.to_string(), "2025-11-28T04:55:01.123456Z");
    }

    #[test]
    fn formats_before_epoch() {
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999999Z");
    }
}
