//! Machine output: JSON Lines records on stdout.

use serde::Serialize;
use std::io::{self, BufWriter, Write};

/// Writes one JSON object per line. A closed pipe (`gapwatch analyze --json | head`) stops
/// output quietly instead of failing the run.
pub struct RecordWriter {
    out: Option<BufWriter<Box<dyn Write + Send>>>,
}

impl RecordWriter {
    /// A writer to `out`, or one that discards everything when `out` is `None`.
    pub fn new(out: Option<Box<dyn Write + Send>>) -> Self {
        Self {
            out: out.map(|w| BufWriter::with_capacity(1 << 16, w)),
        }
    }

    /// A writer to standard output.
    pub fn stdout() -> Self {
        Self::new(Some(Box::new(io::stdout())))
    }

    /// True when records are being written.
    pub fn is_enabled(&self) -> bool {
        self.out.is_some()
    }

    /// Writes one record.
    pub fn write<T: Serialize>(&mut self, record: &T) -> io::Result<()> {
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        let result = serde_json::to_writer(&mut *out, record)
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n"));
        self.settle(result)
    }

    /// Flushes buffered records.
    pub fn flush(&mut self) -> io::Result<()> {
        let result = match self.out.as_mut() {
            Some(out) => out.flush(),
            None => Ok(()),
        };
        self.settle(result)
    }

    fn settle(&mut self, result: io::Result<()>) -> io::Result<()> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                // The reader went away: nothing more to say to it, and not an error.
                self.out = None;
                Ok(())
            }
            other => other,
        }
    }
}
