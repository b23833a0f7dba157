//! Packet time.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
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

impl std::str::FromStr for Timestamp {
    type Err = String;

    /// Parses RFC 3339 (`2026-11-28T04:55:01.123456Z`, any offset) or a number of
    /// seconds since the epoch (`1764305701.123456`).
    fn from_str(text: &str) -> Result<Self, String> {
        if let Ok(secs) = text.parse::<f64>() {
            if secs.is_finite() && secs.abs() < 1e13 {
                return Ok(Self((secs * 1e6).round() as i64));
            }
        }
        let parsed =
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| format!("time {text:?}: not RFC 3339 nor epoch seconds ({e})"))?;
        let micros = parsed.unix_timestamp_nanos() / 1_000;
        i64::try_from(micros)
            .map(Self)
            .map_err(|_| format!("time {text:?}: out of range"))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    /// Reads what `Serialize` writes (RFC 3339), or epoch seconds as a number.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form<'a> {
            Text(std::borrow::Cow<'a, str>),
            Seconds(f64),
        }
        match Form::deserialize(deserializer)? {
            Form::Text(text) => text.parse().map_err(serde::de::Error::custom),
            Form::Seconds(secs) => Ok(Self((secs * 1e6).round() as i64)),
        }
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
    fn parses_what_it_formats() {
        let t = Timestamp::from_parts(1_764_305_701, 123_456_000);
        assert_eq!(t.to_string().parse::<Timestamp>(), Ok(t));
        assert_eq!("1764305701.123456".parse::<Timestamp>(), Ok(t));
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        assert!("yesterday"
            .parse::<Timestamp>()
            .unwrap_err()
            .contains("RFC 3339"));
    }

    #[test]
    fn formats_before_epoch() {
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999999Z");
    }
}
