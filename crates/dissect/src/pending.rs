//! Requests awaiting their response within one flow, for protocols that pair a
//! response with its request by an id: bounded, the oldest dropped first.

use std::collections::VecDeque;

/// Up to `CAP` requests awaiting a response, in the order they were sent.
#[derive(Debug)]
pub(crate) struct PendingRequests<T, const CAP: usize> {
    queue: VecDeque<T>,
    overflowed: bool,
}

impl<T, const CAP: usize> Default for PendingRequests<T, CAP> {
    fn default() -> Self {
        Self {
            queue: VecDeque::new(),
            overflowed: false,
        }
    }
}

impl<T, const CAP: usize> PendingRequests<T, CAP> {
    /// Remembers a request, dropping the oldest when `CAP` are already waiting. Returns
    /// true the first time that happens in the flow, so the caller reports it once (a
    /// one-sided capture would otherwise repeat the report forever).
    pub(crate) fn push(&mut self, request: T) -> bool {
        let mut first_overflow = false;
        if self.queue.len() >= CAP {
            self.queue.pop_front();
            first_overflow = !self.overflowed;
            self.overflowed = true;
        }
        self.queue.push_back(request);
        first_overflow
    }

    /// Removes and returns the oldest request the response answers.
    pub(crate) fn take(&mut self, answers: impl FnMut(&T) -> bool) -> Option<T> {
        let at = self.queue.iter().position(answers)?;
        self.queue.remove(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_by_id_and_drops_the_oldest_beyond_the_cap_reporting_once() {
        let mut p: PendingRequests<u32, 3> = PendingRequests::default();
        assert!(!p.push(1) && !p.push(2) && !p.push(3));
        assert!(p.push(4), "the first overflow is reported");
        assert!(!p.push(5), "later ones are not");
        assert_eq!(p.take(|&id| id == 1), None, "dropped");
        assert_eq!(p.take(|&id| id == 4), Some(4));
        assert_eq!(p.take(|&id| id >= 3), Some(3), "oldest match first");
        assert_eq!(p.take(|&id| id == 4), None, "taken once");
    }
}
