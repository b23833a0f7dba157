//! HTTP/1.x message heads and chunked-body framing: pure functions over bytes.
//!
//! Only the head (start line and header fields) is parsed; bodies are framed (length,
//! chunked, until close) by the caller and skipped without being buffered.

/// Longest head (start line and header fields) accepted; longer ones are an anomaly.
pub const MAX_HEAD: usize = 16 * 1024;
/// Most header fields read from one head; further ones are counted but ignored.
pub const MAX_HEADERS: usize = 100;
/// Longest chunk-size line accepted (size, extensions, CRLF).
pub const MAX_CHUNK_LINE: usize = 1024;

/// Why bytes are not an HTTP/1.x message head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    /// No end of head within [`MAX_HEAD`] bytes.
    HeadTooLong,
    /// The first line is neither a request line nor a status line.
    BadStartLine,
    /// A header line without a colon, or with a malformed name.
    BadHeader,
    /// More than [`MAX_HEADERS`] header fields.
    TooManyHeaders,
    /// Content-Length is not a decimal number, or two differ.
    BadContentLength,
    /// A chunk-size line is not hexadecimal or too long.
    BadChunkSize,
}

impl HttpError {
    /// Short reason used in anomalies.
    pub fn reason(self) -> &'static str {
        match self {
            Self::HeadTooLong => "message head longer than the cap",
            Self::BadStartLine => "malformed request or status line",
            Self::BadHeader => "malformed header line",
            Self::TooManyHeaders => "more header fields than the cap",
            Self::BadContentLength => "malformed or conflicting Content-Length",
            Self::BadChunkSize => "malformed chunk size line",
        }
    }
}

/// First line of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `METHOD URI HTTP/1.x`.
    Request {
        /// Method token.
        method: &'a str,
        /// Request target, as sent.
        uri: &'a str,
        /// Minor version (0 or 1).
        minor: u8,
    },
    /// `HTTP/1.x CODE REASON`.
    Status {
        /// Minor version.
        minor: u8,
        /// Status code (100–999).
        code: u16,
        /// Reason phrase.
        reason: &'a str,
    },
}

/// The fields of a head that gapwatch reports or needs for framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head<'a> {
    /// Request or status line.
    pub start: StartLine<'a>,
    /// `Host`.
    pub host: Option<&'a str>,
    /// `User-Agent`.
    pub user_agent: Option<&'a str>,
    /// `Server`.
    pub server: Option<&'a str>,
    /// `Content-Type`.
    pub content_type: Option<&'a str>,
    /// `Content-Length`, when present and valid.
    pub content_length: Option<u64>,
    /// `Transfer-Encoding` ends with `chunked`.
    pub chunked: bool,
    /// File name from `Content-Disposition: ...; filename=...`.
    pub disposition_filename: Option<&'a str>,
    /// `Upgrade` header present.
    pub upgrade: bool,
    /// Number of header fields.
    pub header_count: usize,
}

/// Result of [`parse_head`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadParse<'a> {
    /// A whole head; `consumed` bytes include leading empty lines and the blank line.
    Complete {
        /// The head.
        head: Head<'a>,
        /// Bytes it took.
        consumed: usize,
    },
    /// The end of the head has not arrived yet.
    Incomplete,
}

const METHODS: &[&str] = &[
    "GET",
    "POST",
    "PUT",
    "HEAD",
    "DELETE",
    "OPTIONS",
    "CONNECT",
    "TRACE",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "SEARCH",
    "REPORT",
    "NOTIFY",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "M-SEARCH",
    "MERGE",
    "CHECKOUT",
    "MKACTIVITY",
];

/// True when `b` begins with a known method followed by a space.
pub fn starts_with_method(b: &[u8]) -> bool {
    METHODS
        .iter()
        .any(|m| b.len() > m.len() && b.starts_with(m.as_bytes()) && b[m.len()] == b' ')
}

/// True when `b` begins with `HTTP/1.x ` and three digits (as far as present).
pub fn starts_with_status(b: &[u8]) -> bool {
    let Some(rest) = b.strip_prefix(b"HTTP/1.") else {
        return false;
    };
    match rest {
        [] => true,
        [v, tail @ ..] => {
            matches!(v, b'0' | b'1')
                && match tail {
                    [] => true,
                    [b' ', digits @ ..] => digits.iter().take(3).all(u8::is_ascii_digit),
                    _ => false,
                }
        }
    }
}

/// Strict content check for a flow's first payload: a request line of a known method
/// ending in `HTTP/1.0` or `HTTP/1.1`, or a status line.
pub fn looks_like_http(b: &[u8]) -> bool {
    if starts_with_status(b) {
        return b.len() >= 12;
    }
    if !starts_with_method(b) {
        return false;
    }
    match find_line_end(b, MAX_HEAD) {
        Some((line_len, _)) => parse_start_line(&b[..line_len]).is_ok(),
        // The first line is still arriving: the method and a plausible target suffice.
        None => b.len() >= 16 && b.iter().filter(|&&c| c == b' ').count() >= 1,
    }
}

/// Position of the first `\n` within `limit` bytes: (line length without CR/LF, length
/// with them).
fn find_line_end(b: &[u8], limit: usize) -> Option<(usize, usize)> {
    let window = &b[..b.len().min(limit)];
    let nl = window.iter().position(|&c| c == b'\n')?;
    let len = if nl > 0 && window[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    Some((len, nl + 1))
}

fn minor_of(v: &str) -> Option<u8> {
    match v {
        "HTTP/1.0" => Some(0),
        "HTTP/1.1" => Some(1),
        _ => None,
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// Parses a request or status line (without its line end).
pub fn parse_start_line(line: &[u8]) -> Result<StartLine<'_>, HttpError> {
    let line = std::str::from_utf8(line).map_err(|_| HttpError::BadStartLine)?;
    if line.starts_with("HTTP/") {
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        let code = parts.next().unwrap_or("");
        let reason = parts.next().unwrap_or("");
        let minor = minor_of(version).ok_or(HttpError::BadStartLine)?;
        if code.len() != 3 || !code.bytes().all(|c| c.is_ascii_digit()) {
            return Err(HttpError::BadStartLine);
        }
        let code: u16 = code.parse().map_err(|_| HttpError::BadStartLine)?;
        if code < 100 {
            return Err(HttpError::BadStartLine);
        }
        return Ok(StartLine::Status {
            minor,
            code,
            reason,
        });
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::BadStartLine);
    };
    let minor = minor_of(version).ok_or(HttpError::BadStartLine)?;
    if !is_token(method) || uri.is_empty() || uri.bytes().any(|c| c.is_ascii_control()) {
        return Err(HttpError::BadStartLine);
    }
    Ok(StartLine::Request { method, uri, minor })
}

/// Parses a message head at the start of `b` (leading empty lines are skipped, as
/// RFC 9112 section 2.2 allows).
pub fn parse_head(b: &[u8]) -> Result<HeadParse<'_>, HttpError> {
    let mut pos = 0;
    while pos < b.len() && (b[pos] == b'\r' || b[pos] == b'\n') && pos < 8 {
        pos += 1;
    }
    let Some((len, total)) = find_line_end(&b[pos..], MAX_HEAD) else {
        return if b.len() - pos >= MAX_HEAD {
            Err(HttpError::HeadTooLong)
        } else {
            // A start line that cannot become valid is reported now, not after 16 KiB.
            let partial = &b[pos..];
            if !partial.is_empty()
                && !starts_with_status(partial)
                && !partial
                    .iter()
                    .take(20)
                    .take_while(|&&c| c != b' ')
                    .all(|&c| c.is_ascii_graphic())
            {
                Err(HttpError::BadStartLine)
            } else {
                Ok(HeadParse::Incomplete)
            }
        };
    };
    let start = parse_start_line(&b[pos..pos + len])?;
    pos += total;
    let mut head = Head {
        start,
        host: None,
        user_agent: None,
        server: None,
        content_type: None,
        content_length: None,
        chunked: false,
        disposition_filename: None,
        upgrade: false,
        header_count: 0,
    };
    loop {
        if pos >= MAX_HEAD {
            return Err(HttpError::HeadTooLong);
        }
        let Some((len, total)) = find_line_end(&b[pos..], MAX_HEAD - pos) else {
            return if b.len() >= MAX_HEAD {
                Err(HttpError::HeadTooLong)
            } else {
                Ok(HeadParse::Incomplete)
            };
        };
        let line = &b[pos..pos + len];
        pos += total;
        if line.is_empty() {
            return Ok(HeadParse::Complete {
                head,
                consumed: pos,
            });
        }
        head.header_count += 1;
        if head.header_count > MAX_HEADERS {
            return Err(HttpError::TooManyHeaders);
        }
        // Obsolete line folding (leading white space) continues the previous value; it
        // never carries a field gapwatch reads, so it is skipped.
        if line[0] == b' ' || line[0] == b'\t' {
            continue;
        }
        let colon = line
            .iter()
            .position(|&c| c == b':')
            .ok_or(HttpError::BadHeader)?;
        let name = std::str::from_utf8(&line[..colon]).map_err(|_| HttpError::BadHeader)?;
        if !is_token(name) {
            return Err(HttpError::BadHeader);
        }
        // Values with bytes that are not UTF-8 are ignored rather than failing the head.
        let Ok(value) = std::str::from_utf8(&line[colon + 1..]) else {
            continue;
        };
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        apply_header(&mut head, name, value)?;
    }
}

fn apply_header<'a>(head: &mut Head<'a>, name: &str, value: &'a str) -> Result<(), HttpError> {
    if name.eq_ignore_ascii_case("host") {
        head.host = Some(value);
    } else if name.eq_ignore_ascii_case("user-agent") {
        head.user_agent = Some(value);
    } else if name.eq_ignore_ascii_case("server") {
        head.server = Some(value);
    } else if name.eq_ignore_ascii_case("content-type") {
        head.content_type = Some(value);
    } else if name.eq_ignore_ascii_case("content-length") {
        if value.is_empty() || value.len() > 19 || !value.bytes().all(|c| c.is_ascii_digit()) {
            return Err(HttpError::BadContentLength);
        }
        let n: u64 = value.parse().map_err(|_| HttpError::BadContentLength)?;
        // Two different lengths are a request-smuggling pattern, not a typo to pick from.
        if head.content_length.is_some_and(|old| old != n) {
            return Err(HttpError::BadContentLength);
        }
        head.content_length = Some(n);
    } else if name.eq_ignore_ascii_case("transfer-encoding") {
        head.chunked = value
            .rsplit(',')
            .next()
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
    } else if name.eq_ignore_ascii_case("content-disposition") {
        head.disposition_filename = disposition_filename(value);
    } else if name.eq_ignore_ascii_case("upgrade") {
        head.upgrade = true;
    }
    Ok(())
}

/// The `filename` parameter of a Content-Disposition value (quotes removed).
pub fn disposition_filename(value: &str) -> Option<&str> {
    for param in value.split(';').skip(1) {
        let param = param.trim();
        let Some((k, v)) = param.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("filename") {
            let v = v.trim().trim_matches('"');
            if !v.is_empty() {
                return Some(v);
            }
        }
    }
    None
}

/// The last path segment of a request target, without query or fragment; `None` for
/// directories and empty paths.
pub fn uri_basename(uri: &str) -> Option<&str> {
    let path = uri.split(['?', '#']).next().unwrap_or("");
    // Absolute-form targets (proxies): drop scheme and authority.
    let path = match path.find("://") {
        Some(i) => {
            let after = &path[i + 3..];
            after.find('/').map_or("", |j| &after[j..])
        }
        None => path,
    };
    // Asterisk-form and authority-form targets name no file.
    if !path.starts_with('/') {
        return None;
    }
    let base = path.rsplit('/').next().unwrap_or("");
    (!base.is_empty() && base != "." && base != "..").then_some(base)
}

/// Result of [`parse_chunk_size`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkSize {
    /// The size line: chunk size and bytes of the line.
    Complete {
        /// Chunk data length.
        size: u64,
        /// Bytes of the size line, CRLF included.
        consumed: usize,
    },
    /// The line has not ended yet.
    Incomplete,
}

/// Parses a chunk-size line (`1a;ext=1\r\n`).
pub fn parse_chunk_size(b: &[u8]) -> Result<ChunkSize, HttpError> {
    let Some((len, total)) = find_line_end(b, MAX_CHUNK_LINE) else {
        return if b.len() >= MAX_CHUNK_LINE {
            Err(HttpError::BadChunkSize)
        } else {
            Ok(ChunkSize::Incomplete)
        };
    };
    let line = &b[..len];
    let digits_end = line
        .iter()
        .position(|c| !c.is_ascii_hexdigit())
        .unwrap_or(line.len());
    if digits_end == 0 || digits_end > 15 {
        return Err(HttpError::BadChunkSize);
    }
    let rest = &line[digits_end..];
    if !rest.is_empty() && !matches!(rest[0], b';' | b' ' | b'\t') {
        return Err(HttpError::BadChunkSize);
    }
    let mut size = 0u64;
    for &c in &line[..digits_end] {
        let d = char::from(c).to_digit(16).ok_or(HttpError::BadChunkSize)?;
        size = size * 16 + u64::from(d);
    }
    Ok(ChunkSize::Complete {
        size,
        consumed: total,
    })
}

/// Length of the line at the start of `b` including its end (`None` until it ends).
pub fn line_length(b: &[u8], limit: usize) -> Option<(usize, usize)> {
    find_line_end(b, limit)
}
