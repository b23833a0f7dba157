//! Exception bursts: a device that suddenly refuses many requests of a channel that it
//! normally answers (probing of unknown functions or addresses, a failing device).
//!
//! Each channel learns how often its responses are exceptions. After learning, a minute
//! with at least [`MIN_BURST`] exceptions is judged by the Poisson probability of that
//! many exceptions at the learnt rate: its complement is the score. A channel that
//! already gets many exceptions needs a share several times its usual one.

use super::points::{unit_words, ChannelKey};
use crate::finding::{Category, Finding};
use crate::model::Cx;
use crate::text::{span, thousands};
use dissect::{Event, Status};
use serde::{Deserialize, Serialize};

/// Length of a burst window (micros).
const WINDOW_MICROS: i64 = 60 * 1_000_000;
/// Exceptions in one window before it is judged.
pub const MIN_BURST: u32 = 5;
/// Responses learnt before bursts are judged.
const MIN_RESPONSES: u64 = 100;
/// A burst alerts when its score is at least this: a minute is judged many times a
/// day, so only what chance would give less than once in a thousand minutes counts.
const MIN_SCORE: f64 = 0.999;
/// ... and when the window's exception share is this many times the learnt one.
const MIN_RATIO: f64 = 5.0;

/// What a channel's responses taught: totals and the current window.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Answers {
    responses: u64,
    exceptions: u64,
    first_us: i64,
    window_start_us: i64,
    window_responses: u32,
    window_exceptions: u32,
    /// Exception name last seen in the window.
    last_exception: String,
}

/// P(X ≥ k) for X ~ Poisson(λ).
fn poisson_tail(lambda: f64, k: u32) -> f64 {
    let mut term = (-lambda).exp();
    let mut below = 0.0;
    for i in 0..k {
        below += term;
        term *= lambda / f64::from(i + 1);
    }
    (1.0 - below).clamp(0.0, 1.0)
}

impl Answers {
    /// Takes a response of the channel; returns a finding when it completes a burst.
    pub fn on_response(&mut self, cx: &Cx<'_>, key: &ChannelKey, event: &Event) -> Option<Finding> {
        let now = cx.now.micros();
        if self.responses == 0 {
            self.first_us = now;
        }
        if now - self.window_start_us > WINDOW_MICROS {
            self.window_start_us = now;
            self.window_responses = 0;
            self.window_exceptions = 0;
        }
        // The learnt history: everything before this window.
        let learnt = (
            self.responses
                .saturating_sub(u64::from(self.window_responses)),
            self.exceptions
                .saturating_sub(u64::from(self.window_exceptions)),
            self.window_start_us - self.first_us,
        );
        let rate = (learnt.1 as f64 + 1.0) / (learnt.0 as f64 + 2.0);
        self.responses += 1;
        self.window_responses = self.window_responses.saturating_add(1);
        let Status::Exception { name, .. } = &event.status else {
            return None;
        };
        self.exceptions += 1;
        self.window_exceptions = self.window_exceptions.saturating_add(1);
        if self.last_exception != *name {
            self.last_exception = name.to_string();
        }
        if cx.learning || learnt.0 < MIN_RESPONSES || self.window_exceptions != MIN_BURST {
            return None;
        }
        let lambda = rate * f64::from(self.window_responses);
        let score = 1.0 - poisson_tail(lambda, MIN_BURST);
        let share = f64::from(self.window_exceptions) / f64::from(self.window_responses);
        if score < MIN_SCORE || share < MIN_RATIO * rate {
            return None;
        }
        let a = cx.assets;
        let explanation = format!(
            "{}{} answered {} of the last {} {} requests from {} with exceptions within {} \
             (last: {}). In the {} before, it answered {} requests with {} exceptions.",
            a.label(key.server),
            unit_words(&key.protocol, key.unit),
            self.window_exceptions,
            self.window_responses,
            key.protocol,
            a.label(key.client),
            span((now - self.window_start_us) as f64 / 1e6),
            self.last_exception,
            span(learnt.2 as f64 / 1e6),
            thousands(learnt.0),
            thousands(learnt.1),
        );
        let title = format!(
            "{} exception burst: {} refused {} requests from {}",
            key.protocol, key.server, self.window_exceptions, key.client
        );
        Some(
            Finding::new(
                cx.now,
                Category::ProtocolAnomaly,
                "operations",
                score,
                title,
                explanation,
            )
            .between(Some(key.client), Some(key.server), Some(event.src_port))
            .protocol(key.protocol.to_string())
            .fuse_key(format!("exceptions {} {}", key.server, key.protocol)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_used_to_exceptions_needs_a_much_larger_share() {
        let assets = crate::assets::AssetDirectory::default();
        let key = ChannelKey {
            client: "10.0.0.1".parse().unwrap(),
            server: "10.0.0.2".parse().unwrap(),
            protocol: "s7comm".into(),
            unit: None,
        };
        let answer = |secs: i64, exception: bool| {
            let mut e = Event::new("s7comm", dissect::OpClass::Read, 4, "read_var", true);
            e.ts = records::Timestamp(secs * 1_000_000);
            if exception {
                e.status = Status::Exception {
                    code: 5,
                    name: "object_does_not_exist".into(),
                };
            }
            e
        };
        let mut answers = Answers::default();
        let mut out = Vec::new();
        // 300 responses, one in eight an exception.
        for i in 0..300 {
            let e = answer(i * 10, i % 8 == 0);
            let cx = Cx::new(e.ts, true, &assets, &mut out);
            assert!(answers.on_response(&cx, &key, &e).is_none());
        }
        // Five of ten within ten seconds: 4× the usual share, not a burst.
        let mut found = 0;
        for i in 0..10 {
            let e = answer(5000 + i, i % 2 == 0);
            let cx = Cx::new(e.ts, false, &assets, &mut out);
            found += usize::from(answers.on_response(&cx, &key, &e).is_some());
        }
        assert_eq!(found, 0);
    }

    #[test]
    fn poisson_tail_matches_known_values() {
        assert!((poisson_tail(1.0, 1) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        // P(X ≥ 5 | λ = 0.01) ≈ 8.3e-13.
        assert!(poisson_tail(0.01, 5) < 1e-11);
        assert!(poisson_tail(10.0, 5) > 0.97);
    }
}
