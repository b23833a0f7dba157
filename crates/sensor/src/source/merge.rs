//! Several capture files read as one, in timestamp order.
#![forbid(unsafe_code)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

use records::Timestamp;

use super::buffer::DEFAULT_BUFFER_SIZE;
use super::{FileSource, PacketSource, RawPacket, SourceError, SourceStats, SourceWarning};

/// Read buffer per file when many files are merged (each grows for a larger record).
const MERGED_BUFFER_SIZE: usize = 256 * 1024;

/// Several capture files delivered as one stream in timestamp order.
///
/// A k-way merge: each file's next packet waits in that file's own buffer (no copy), a
/// heap keyed by (timestamp, file position) picks the earliest, so equal timestamps come
/// in the order the files were given. Within one file, packets keep the file's order
/// even if its timestamps go backwards.
///
/// Every file stays open for the whole run (one descriptor and one read buffer each).
#[derive(Debug)]
pub struct MergedSource {
    files: Vec<FileSource>,
    /// Files with a packet waiting, by (time, position in `files`).
    heap: BinaryHeap<Reverse<(Timestamp, usize)>>,
    /// The file whose packet was lent last; it advances on the next call.
    lent: Option<usize>,
    started: bool,
    describe: String,
    /// Warnings collected from files as they advance, so draining is cheap per packet.
    warnings: Vec<SourceWarning>,
}

impl MergedSource {
    /// Opens every file before reading any packet. When any cannot be opened, returns
    /// the errors of all that failed (each naming its file), in the order given.
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<Self, Vec<SourceError>> {
        let buffer = if paths.len() > 1 {
            MERGED_BUFFER_SIZE
        } else {
            DEFAULT_BUFFER_SIZE
        };
        let mut files = Vec::with_capacity(paths.len());
        let mut errors = Vec::new();
        for path in paths {
            match FileSource::open_with_buffer(path, buffer) {
                Ok(f) => files.push(f),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(Self::new(files))
        } else {
            Err(errors)
        }
    }

    /// Merges already opened files.
    pub fn new(files: Vec<FileSource>) -> Self {
        let describe = match files.as_slice() {
            [one] => one.describe().to_string(),
            many => format!("{} capture files", many.len()),
        };
        Self {
            heap: BinaryHeap::with_capacity(files.len()),
            files,
            lent: None,
            started: false,
            describe,
            warnings: Vec::new(),
        }
    }

    /// The merged files, in the order given.
    pub fn files(&self) -> &[FileSource] {
        &self.files
    }

    fn refill(&mut self, index: usize) {
        if let Some(file) = self.files.get_mut(index) {
            let has_packet = file.advance();
            // Only the file that just advanced can have new warnings.
            self.warnings.append(&mut file.warnings());
            if has_packet {
                if let Some(ts) = file.current_ts() {
                    self.heap.push(Reverse((ts, index)));
                }
            }
        }
    }
}

impl PacketSource for MergedSource {
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, SourceError> {
        if !self.started {
            self.started = true;
            for index in 0..self.files.len() {
                self.refill(index);
            }
        } else if let Some(index) = self.lent.take() {
            self.refill(index);
        }
        let Some(Reverse((_, index))) = self.heap.pop() else {
            return Ok(None);
        };
        self.lent = Some(index);
        Ok(self.files.get(index).and_then(FileSource::current))
    }

    fn stats(&self) -> SourceStats {
        let mut total = SourceStats {
            input_bytes_total: Some(0),
            ..SourceStats::default()
        };
        for file in &self.files {
            total.add(&file.stats());
        }
        total
    }

    fn warnings(&mut self) -> Vec<SourceWarning> {
        std::mem::take(&mut self.warnings)
    }

    fn describe(&self) -> &str {
        &self.describe
    }
}
