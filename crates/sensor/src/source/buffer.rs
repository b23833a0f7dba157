//! The byte window a file source parses records from.
//!
//! Records are parsed straight out of one reused buffer and lent to the caller, so a
//! packet costs no allocation and no copy beyond the read itself. The buffer grows only
//! when a single record is larger than it (bounded by the callers' record caps).
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use super::SourceError;

/// Default size of a file source's record buffer.
pub(crate) const DEFAULT_BUFFER_SIZE: usize = 1024 * 1024;

/// Buffer between the file and the gzip decoder (compressed bytes).
const GZIP_READ_BUFFER: usize = 256 * 1024;

/// A reader that counts the bytes it returned (file bytes, before decompression).
pub(crate) struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// A reader whose first bytes were already read (to look for the gzip magic) and are
/// given back first, so no seek is needed and pipes work too.
struct Peeked {
    head: [u8; 2],
    head_len: usize,
    pos: usize,
    inner: Box<dyn Read + Send>,
}

impl Read for Peeked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.head_len {
            let n = (self.head_len - self.pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// Plain or gzip-compressed content.
enum Content {
    Plain(CountingReader<Peeked>),
    Gzip(Box<MultiGzDecoder<BufReader<CountingReader<Peeked>>>>),
}

impl Content {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(r) => r.read(buf),
            Self::Gzip(r) => r.read(buf),
        }
    }

    fn file_bytes_read(&self) -> u64 {
        match self {
            Self::Plain(r) => r.count,
            Self::Gzip(r) => r.get_ref().get_ref().count,
        }
    }
}

/// A window over a file's (decompressed) content: `buf[start..end]` holds the bytes from
/// content offset `offset()` on.
pub(crate) struct Input {
    content: Content,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Content offset of `buf[0]`.
    base: u64,
    eof: bool,
    compressed: bool,
    total: Option<u64>,
}

impl Input {
    /// Opens `path`, recognising gzip by its magic bytes (1f 8b), not by its name.
    pub(crate) fn open(path: &Path, buffer_size: usize) -> Result<Self, SourceError> {
        let open_err = |source| SourceError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        if meta.is_dir() {
            return Err(open_err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            )));
        }
        // Pipes and character devices have no size.
        let total = meta.is_file().then_some(meta.len());
        Self::from_reader(Box::new(file), total, buffer_size).map_err(|source| SourceError::Read {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Wraps any reader, recognising gzip by its magic bytes.
    pub(crate) fn from_reader(
        mut inner: Box<dyn Read + Send>,
        total: Option<u64>,
        buffer_size: usize,
    ) -> io::Result<Self> {
        let mut head = [0u8; 2];
        let head_len = read_full(&mut inner, &mut head)?;
        let compressed = head_len == 2 && head == [0x1f, 0x8b];
        let counting = CountingReader {
            inner: Peeked {
                head,
                head_len,
                pos: 0,
                inner,
            },
            count: 0,
        };
        let content = if compressed {
            Content::Gzip(Box::new(MultiGzDecoder::new(BufReader::with_capacity(
                GZIP_READ_BUFFER,
                counting,
            ))))
        } else {
            Content::Plain(counting)
        };
        Ok(Self {
            content,
            buf: vec![0; buffer_size.max(64 * 1024)],
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            compressed,
            total,
        })
    }

    /// The bytes buffered from `offset()` on.
    pub(crate) fn available(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Content offset of the first available byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Index in the buffer of the first available byte (for lending slices).
    pub(crate) fn start_index(&self) -> usize {
        self.start
    }

    /// The whole buffer (callers slice it with indexes from `start_index`).
    pub(crate) fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Drops `n` available bytes.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// The content was gzip-compressed.
    pub(crate) fn compressed(&self) -> bool {
        self.compressed
    }

    /// File bytes read so far (compressed bytes for gzip files).
    pub(crate) fn file_bytes_read(&self) -> u64 {
        self.content.file_bytes_read()
    }

    /// File size, when known.
    pub(crate) fn file_size(&self) -> Option<u64> {
        self.total
    }

    /// Reads until at least `need` bytes are available or the content ends. Returns the
    /// number available (less than `need` only at the end of the content).
    pub(crate) fn fill(&mut self, need: usize) -> io::Result<usize> {
        while self.end - self.start < need && !self.eof {
            if self.buf.len() - self.start < need || self.end == self.buf.len() {
                // Move the partial record to the front so the read has room behind it.
                self.buf.copy_within(self.start..self.end, 0);
                self.base += self.start as u64;
                self.end -= self.start;
                self.start = 0;
                if self.buf.len() < need {
                    // One record larger than the buffer; callers cap `need`.
                    self.buf.resize(need.next_power_of_two(), 0);
                }
            }
            match self.content.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start)
    }
}

/// Reads until `buf` is full or the reader ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
