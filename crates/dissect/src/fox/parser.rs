//! Niagara Fox messages: a text header line `fox <type> <num> <reply-to> <channel>
//! <command>` followed by a `{ ... }` block of `key=type:value` lines, ended by `;;\n`.

/// Longest message accepted.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Most key/value pairs read from one message.
pub const MAX_PAIRS: usize = 128;

/// Why a Fox message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FoxError {
    /// The message does not start with `fox `.
    NoMagic,
    /// The header line has fewer than six words.
    ShortHeader,
    /// No terminator within [`MAX_MESSAGE`] bytes.
    TooLong,
}

impl std::fmt::Display for FoxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoMagic => f.write_str("message does not start with \"fox \""),
            Self::ShortHeader => f.write_str("fox header line has fewer than six words"),
            Self::TooLong => write!(f, "no message terminator within {MAX_MESSAGE} bytes"),
        }
    }
}

impl std::error::Error for FoxError {}

/// Length of the message at the front of `data` (terminator included), `Ok(None)` when
/// more bytes are needed.
pub fn message_len(data: &[u8]) -> Result<Option<usize>, FoxError> {
    let magic = b"fox ";
    if !magic.starts_with(&data[..data.len().min(4)]) {
        return Err(FoxError::NoMagic);
    }
    let window = &data[..data.len().min(MAX_MESSAGE)];
    match window.windows(3).position(|w| w == b";;\n") {
        Some(p) => Ok(Some(p + 3)),
        None if data.len() >= MAX_MESSAGE => Err(FoxError::TooLong),
        None => Ok(None),
    }
}

/// A parsed message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// Message type letter (`a`, `r`, `e` ...).
    pub kind: &'a str,
    /// Message number.
    pub num: i64,
    /// Number of the message this replies to (-1 for none).
    pub reply_to: i64,
    /// Channel (`fox`, ...).
    pub channel: &'a str,
    /// Command (`hello`, `login` ...).
    pub command: &'a str,
}

/// Parses the header line and iterates over the `key=type:value` pairs of a message.
pub fn parse_message(
    msg: &[u8],
) -> Result<(Header<'_>, impl Iterator<Item = (&str, &str)>), FoxError> {
    let text = std::str::from_utf8(msg).unwrap_or_else(|e| {
        // Keep the valid prefix: header and pairs are ASCII.
        std::str::from_utf8(&msg[..e.valid_up_to()]).unwrap_or("")
    });
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let mut w = first.split_ascii_whitespace();
    if w.next() != Some("fox") {
        return Err(FoxError::NoMagic);
    }
    let (Some(kind), Some(num), Some(reply), Some(channel), Some(command)) =
        (w.next(), w.next(), w.next(), w.next(), w.next())
    else {
        return Err(FoxError::ShortHeader);
    };
    let header = Header {
        kind,
        num: num.parse().unwrap_or(-1),
        reply_to: reply.parse().unwrap_or(-1),
        channel,
        command,
    };
    let pairs = lines
        .filter_map(|l| {
            let (k, v) = l.trim().split_once('=')?;
            // Values are typed: `s:text`, `i:number`, `b:true` ...
            let v = v.split_once(':').map_or(v, |(_, v)| v);
            Some((k, v))
        })
        .take(MAX_PAIRS);
    Ok((header, pairs))
}
