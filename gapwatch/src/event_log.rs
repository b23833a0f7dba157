//! Folds protocol events into event log lines for the store: messages of one kind
//! (sender, receiver, protocol, function, direction, status, unit) within one minute of
//! packet time become one line with a count and the union of the points addressed.

use dissect::{Event, OpClass, Status};
use records::Timestamp;
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use store::EventLine;

/// A minute of packet time, in microseconds.
const MINUTE_MICROS: i64 = 60_000_000;
/// A minute's lines are written once packet time is this far past its end (events of
/// different flows arrive slightly out of order).
const GRACE_MICROS: i64 = 5_000_000;
/// Most lines open at once; messages of a new kind beyond it are counted, not logged.
const MAX_OPEN_LINES: usize = 100_000;
/// Most address spaces listed per line.
const MAX_SPACES: usize = 4;

/// What makes two messages the same line.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct LineKey {
    minute: i64,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    protocol: &'static str,
    function: u32,
    is_response: bool,
    /// `None`: no status; `Some(None)`: ok; `Some(Some(code))`: exception.
    status: Option<Option<u32>>,
    unit: Option<u32>,
}

/// A line being counted.
struct OpenLine {
    ts_first: Timestamp,
    ts_last: Timestamp,
    count: u64,
    op: OpClass,
    function_name: Cow<'static, str>,
    exception_name: Option<Cow<'static, str>>,
    /// Address space, lowest and highest point addressed.
    spaces: Vec<(Cow<'static, str>, u64, u64)>,
}

/// The event log being built; see the module documentation.
#[derive(Default)]
pub struct EventLog {
    open: HashMap<LineKey, OpenLine, ahash::RandomState>,
    /// Messages not logged because [`MAX_OPEN_LINES`] was reached.
    dropped: u64,
    /// Minutes before this one have been taken.
    taken_before: i64,
}

impl EventLog {
    /// Counts one message.
    pub fn add(&mut self, event: &Event) {
        let key = LineKey {
            minute: event.ts.micros().div_euclid(MINUTE_MICROS),
            src: event.src_ip,
            dst: event.dst_ip,
            protocol: event.protocol,
            function: event.function,
            is_response: event.is_response,
            status: match &event.status {
                Status::None => None,
                Status::Ok => Some(None),
                Status::Exception { code, .. } => Some(Some(*code)),
            },
            unit: event.unit,
        };
        let full = self.open.len() >= MAX_OPEN_LINES;
        let line = match self.open.get_mut(&key) {
            Some(line) => line,
            None if full => {
                self.dropped += 1;
                return;
            }
            None => self.open.entry(key).or_insert_with(|| OpenLine {
                ts_first: event.ts,
                ts_last: event.ts,
                count: 0,
                op: event.op,
                function_name: event.function_name.clone(),
                exception_name: match &event.status {
                    Status::Exception { name, .. } => Some(name.clone()),
                    _ => None,
                },
                spaces: Vec::new(),
            }),
        };
        line.count += 1;
        line.ts_first = line.ts_first.min(event.ts);
        line.ts_last = line.ts_last.max(event.ts);
        for target in &event.targets {
            let last = target
                .start
                .saturating_add(u64::from(target.count.max(1)) - 1);
            let known = line.spaces.len();
            match line.spaces.iter_mut().find(|(s, ..)| *s == target.space) {
                Some((_, lo, hi)) => {
                    *lo = (*lo).min(target.start);
                    *hi = (*hi).max(last);
                }
                None if known < MAX_SPACES => {
                    line.spaces.push((target.space.clone(), target.start, last));
                }
                None => {}
            }
        }
    }

    /// Lines of minutes that ended before `now` (less a grace period), removed.
    pub fn take_due(&mut self, now: Timestamp) -> Vec<EventLine> {
        let open_minute = (now.micros() - GRACE_MICROS).div_euclid(MINUTE_MICROS);
        let mut due = Vec::new();
        if open_minute <= self.taken_before {
            return due;
        }
        self.taken_before = open_minute;
        self.open.retain(|key, line| {
            if key.minute < open_minute {
                due.push(finish(key, line));
                false
            } else {
                true
            }
        });
        sort(&mut due);
        due
    }

    /// Every line, removed (the end of a run).
    pub fn take_all(&mut self) -> Vec<EventLine> {
        let mut all: Vec<EventLine> = self.open.drain().map(|(k, l)| finish(&k, &l)).collect();
        sort(&mut all);
        all
    }

    /// Messages not logged because the log's bound was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Lines in time order, so the log's ids follow time.
fn sort(lines: &mut [EventLine]) {
    let key = |l: &EventLine| {
        (
            l.ts_first,
            l.src_ip,
            l.dst_ip,
            l.protocol.clone(),
            l.function,
            l.is_response,
            l.unit,
            l.status.clone(),
        )
    };
    lines.sort_by_cached_key(key);
}

fn finish(key: &LineKey, line: &OpenLine) -> EventLine {
    let status = match (key.status, &line.exception_name) {
        (None, _) => "none".to_string(),
        (Some(None), _) => "ok".to_string(),
        (Some(Some(_)), Some(name)) => format!("exception:{name}"),
        (Some(Some(code)), None) => format!("exception:{code}"),
    };
    let targets = line
        .spaces
        .iter()
        .map(|(space, lo, hi)| {
            if lo == hi {
                format!("{space} {lo}")
            } else {
                format!("{space} {lo}-{hi}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    EventLine {
        ts_first: line.ts_first,
        ts_last: line.ts_last,
        src_ip: key.src,
        dst_ip: key.dst,
        protocol: key.protocol.to_string(),
        op: line.op.name().to_string(),
        function: key.function,
        function_name: line.function_name.to_string(),
        is_response: key.is_response,
        status,
        unit: key.unit,
        targets,
        count: line.count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dissect::Target;

    fn poll(ts_secs: i64, start: u64) -> Event {
        let mut e = Event::new("modbus", OpClass::Read, 3, "read_holding_registers", false);
        e.ts = Timestamp(ts_secs * 1_000_000);
        e.src_ip = Some("10.0.0.20".parse().unwrap());
        e.dst_ip = Some("10.0.0.5".parse().unwrap());
        e.unit = Some(1);
        e.targets.push(Target {
            space: Cow::Borrowed("holding_register"),
            start,
            count: 10,
        });
        e
    }

    #[test]
    fn a_minute_of_polls_is_one_line_with_the_points_it_covered() {
        let mut log = EventLog::default();
        for s in 0..60 {
            log.add(&poll(120 + s, if s % 2 == 0 { 0 } else { 10 }));
        }
        log.add(&poll(180, 0));
        // The minute is not over until the grace period has passed.
        assert!(log.take_due(Timestamp(184 * 1_000_000)).is_empty());
        let due = log.take_due(Timestamp(186 * 1_000_000));
        assert_eq!(due.len(), 1);
        let line = &due[0];
        assert_eq!(line.count, 60);
        assert_eq!(line.targets, "holding_register 0-19");
        assert_eq!(line.ts_first, Timestamp(120 * 1_000_000));
        assert_eq!(line.ts_last, Timestamp(179 * 1_000_000));
        assert_eq!((line.op.as_str(), line.status.as_str()), ("read", "none"));
        let rest = log.take_all();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].count, 1);
    }

    #[test]
    fn exceptions_are_lines_of_their_own() {
        let mut log = EventLog::default();
        let mut answer = poll(10, 0);
        answer.is_response = true;
        answer.status = Status::Ok;
        log.add(&answer);
        answer.status = Status::Exception {
            code: 2,
            name: Cow::Borrowed("illegal_data_address"),
        };
        log.add(&answer);
        let statuses: Vec<String> = log.take_all().into_iter().map(|l| l.status).collect();
        assert_eq!(statuses, ["exception:illegal_data_address", "ok"]);
    }
}
