//! The out-of-order buffer of one stream direction.

/// Bytes waiting ahead of a hole. Index `i` of `data` holds stream offset `base + i`;
/// `ranges` lists the offsets actually received (sorted, disjoint, not touching).
/// Invariant kept by the stream: `base` equals the stream's next expected offset.
#[derive(Debug, Default)]
pub(crate) struct OooBuf {
    base: u64,
    data: Vec<u8>,
    ranges: Vec<(u64, u64)>,
}

impl OooBuf {
    /// Empties the buffer and moves its start to `base`, keeping capacity.
    pub(crate) fn reset(&mut self, base: u64) {
        self.base = base;
        self.data.clear();
        self.ranges.clear();
    }

    /// Heap bytes held (data and range list capacity).
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.data.capacity() + self.ranges.capacity() * std::mem::size_of::<(u64, u64)>()
    }

    /// Bytes spanned from `base` to the end of the furthest range.
    pub(crate) fn span(&self) -> usize {
        self.data.len()
    }

    /// True when nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Number of separate waiting ranges.
    pub(crate) fn range_count(&self) -> usize {
        self.ranges.len()
    }

    /// Start offset of the first waiting range.
    pub(crate) fn first_start(&self) -> Option<u64> {
        self.ranges.first().map(|r| r.0)
    }

    /// Bytes ready at `base` (the first range, when it starts there).
    pub(crate) fn ready(&self) -> &[u8] {
        match self.ranges.first() {
            Some(&(s, e)) if s == self.base => {
                let n = usize::try_from(e - s).unwrap_or(usize::MAX);
                self.data.get(..n).unwrap_or(&self.data)
            }
            _ => &[],
        }
    }

    /// Stores `bytes` at stream offset `off` (>= base) where nothing was received yet.
    /// Returns (overlapped earlier bytes, overlapped bytes differed).
    pub(crate) fn write(&mut self, off: u64, bytes: &[u8]) -> (bool, bool) {
        let end = off + bytes.len() as u64;
        let rel_end = (end - self.base) as usize;
        if self.data.len() < rel_end {
            self.data.resize(rel_end, 0);
        }
        let (mut overlap, mut conflict) = (false, false);
        let mut cursor = off;
        for &(rs, re) in &self.ranges {
            if re <= cursor {
                continue;
            }
            if rs >= end {
                break;
            }
            if rs > cursor {
                let at = (cursor - self.base) as usize;
                let src = &bytes[(cursor - off) as usize..(rs - off) as usize];
                self.data[at..at + src.len()].copy_from_slice(src);
            }
            let (os, oe) = (rs.max(cursor), re.min(end));
            overlap = true;
            let kept = &self.data[(os - self.base) as usize..(oe - self.base) as usize];
            conflict |= kept != &bytes[(os - off) as usize..(oe - off) as usize];
            cursor = oe;
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            self.copy_in(cursor, &bytes[(cursor - off) as usize..]);
        }
        self.insert_range(off, end);
        (overlap, conflict)
    }

    /// Drops `n` bytes from the front (delivered or skipped), moving `base` on.
    pub(crate) fn advance(&mut self, n: u64) {
        let k = usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        self.data.drain(..k);
        self.base += n;
        let base = self.base;
        let dead = self.ranges.partition_point(|&(_, e)| e <= base);
        self.ranges.drain(..dead);
        if let Some(first) = self.ranges.first_mut() {
            first.0 = first.0.max(base);
        }
        if self.ranges.is_empty() {
            self.data.clear();
        }
    }

    fn copy_in(&mut self, off: u64, bytes: &[u8]) {
        let at = (off - self.base) as usize;
        self.data[at..at + bytes.len()].copy_from_slice(bytes);
    }

    fn insert_range(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let first = self.ranges.partition_point(|&(_, e)| e < start);
        let mut last = first;
        let (mut s, mut e) = (start, end);
        while last < self.ranges.len() && self.ranges[last].0 <= e {
            s = s.min(self.ranges[last].0);
            e = e.max(self.ranges[last].1);
            last += 1;
        }
        if first == last {
            self.ranges.insert(first, (s, e));
        } else {
            self.ranges[first] = (s, e);
            self.ranges.drain(first + 1..last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_copy_wins_and_conflicts_are_seen() {
        let mut b = OooBuf::default();
        b.reset(100);
        assert_eq!(b.write(104, b"efgh"), (false, false));
        assert_eq!(b.write(102, b"cdXY"), (true, true));
        assert_eq!(b.write(100, b"ab"), (false, false));
        assert_eq!(b.ready(), b"abcdefgh");
        b.advance(8);
        assert!(b.is_empty());
        assert_eq!(b.span(), 0);
    }

    #[test]
    fn advance_past_a_hole_trims_ranges() {
        let mut b = OooBuf::default();
        b.reset(0);
        b.write(5, b"56789");
        assert_eq!(b.ready(), b"");
        b.advance(7);
        assert_eq!(b.first_start(), Some(7));
        assert_eq!(b.ready(), b"789");
    }
}
