//! Line framing and numeric replies shared by the text protocols (FTP, SMTP).
//!
//! [`LineFramer`] holds the per-direction framing state both protocols need: skipping
//! the rest of a line cut by a capture gap or over the length cap, and realigning on the
//! first bytes after a gap that already start a whole line.

/// Result of [`next_line`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line without its CR LF, and the bytes it took.
    Complete(&'a [u8], usize),
    /// No line end yet.
    Incomplete,
    /// No line end within the cap.
    TooLong,
}

/// The first line of `b`, ended by LF (an optional CR before it is dropped).
pub fn next_line(b: &[u8], cap: usize) -> Line<'_> {
    let window = &b[..b.len().min(cap)];
    match window.iter().position(|&c| c == b'\n') {
        Some(nl) => {
            let line = &b[..nl];
            Line::Complete(line.strip_suffix(b"\r").unwrap_or(line), nl + 1)
        }
        None if b.len() >= cap => Line::TooLong,
        None => Line::Incomplete,
    }
}

/// A reply line `NNN text` / `NNN-text`: (code, last line of the reply, text).
pub fn reply_line(line: &[u8]) -> Option<(u16, bool, &[u8])> {
    let [a, b, c, rest @ ..] = line else {
        return None;
    };
    if !(b'1'..=b'5').contains(a) || !b.is_ascii_digit() || !c.is_ascii_digit() {
        return None;
    }
    let code = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
    match rest {
        [] => Some((code, true, &[])),
        [b' ', text @ ..] => Some((code, true, text)),
        [b'-', text @ ..] => Some((code, false, text)),
        _ => None,
    }
}

/// A command line split into upper-cased verb (at most 8 letters) and argument.
pub fn command_line(line: &[u8]) -> Option<([u8; 8], usize, &[u8])> {
    let verb_len = line.iter().position(|&c| c == b' ').unwrap_or(line.len());
    if verb_len == 0 || verb_len > 8 || !line[..verb_len].iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let mut verb = [0u8; 8];
    for (d, s) in verb.iter_mut().zip(&line[..verb_len]) {
        *d = s.to_ascii_uppercase();
    }
    let arg = line.get(verb_len + 1..).unwrap_or(&[]);
    Some((verb, verb_len, arg))
}

/// Text of bytes, lossily decoded and capped.
pub fn text(b: &[u8], cap: usize) -> String {
    String::from_utf8_lossy(&b[..b.len().min(cap)])
        .trim()
        .to_string()
}

/// After a gap: whether `b` starts a whole line already (a reply code, or a command
/// verb), so the line in progress need not be skipped. `None` until enough bytes are
/// present to tell.
pub fn starts_line(reply: bool, b: &[u8]) -> Option<bool> {
    if reply {
        let head = b.get(..4)?;
        return Some(head[..3].iter().all(u8::is_ascii_digit) && matches!(head[3], b' ' | b'-'));
    }
    let verb_len = b.iter().take(9).position(|c| !c.is_ascii_alphabetic());
    match verb_len {
        Some(n) => Some((3..=8).contains(&n) && matches!(b[n], b' ' | b'\r' | b'\n')),
        None if b.len() >= 9 => Some(false),
        None => None,
    }
}

/// What [`LineFramer::next`] found at the start of one direction's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framed<'a> {
    /// A whole line (without its CR LF) and the bytes it took.
    Line(&'a [u8], usize),
    /// The rest of a line cut by a gap or over the cap, dropped: the bytes it took.
    Skipped(usize),
    /// More bytes are needed.
    NeedMore,
    /// No line end within the cap: the caller drops all it has. `first`: the first time
    /// for this line (report it once).
    TooLong {
        /// The first report for this line.
        first: bool,
    },
}

/// Line framing of both directions of a text protocol (index 0: to server, 1: to client).
#[derive(Clone, Debug, Default)]
pub struct LineFramer {
    /// Skip to the next line end (after an over-long line or a gap).
    skip_line: [bool; 2],
    /// A gap came before the pending skip: the next bytes may start a line.
    after_gap: [bool; 2],
}

impl LineFramer {
    /// The next line of direction `i` in `rest` (`reply`: the direction carries numeric
    /// replies), with lines longer than `cap` refused.
    pub fn next<'a>(&mut self, i: usize, reply: bool, rest: &'a [u8], cap: usize) -> Framed<'a> {
        if self.after_gap[i] {
            match starts_line(reply, rest) {
                Some(starts) => {
                    self.after_gap[i] = false;
                    if starts {
                        self.skip_line[i] = false;
                    }
                }
                None => return Framed::NeedMore,
            }
        }
        match next_line(rest, cap) {
            Line::Complete(_, n) if std::mem::take(&mut self.skip_line[i]) => Framed::Skipped(n),
            Line::Complete(line, n) => Framed::Line(line, n),
            Line::Incomplete => Framed::NeedMore,
            Line::TooLong => {
                let first = !self.skip_line[i];
                self.skip_line[i] = true;
                Framed::TooLong { first }
            }
        }
    }

    /// Bytes of direction `i` were lost: the line in progress is dropped, and the next
    /// bytes that start a whole line (or the next line end) realign the framing.
    pub fn gap(&mut self, i: usize) {
        self.after_gap[i] = true;
        self.skip_line[i] = true;
    }
}
