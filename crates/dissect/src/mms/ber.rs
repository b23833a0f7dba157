//! A minimal BER reader: identifiers (with multi-byte tag numbers), definite lengths up
//! to four bytes, and iteration over the elements of one level. Nesting is followed only
//! by callers, one explicit level at a time, so depth is bounded by their code paths.

/// Tag class bits of an identifier's first byte.
pub const CONTEXT: u8 = 0x80;
/// Constructed bit.
pub const CONSTRUCTED: u8 = 0x20;

/// One BER element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// First identifier byte (class, constructed bit, low tag bits).
    pub id: u8,
    /// Tag number (multi-byte form decoded).
    pub tag: u32,
    /// Contents.
    pub value: &'a [u8],
}

impl Tlv<'_> {
    /// True for context-specific tags.
    pub fn is_context(&self) -> bool {
        self.id & 0xc0 == CONTEXT
    }
}

/// Reads the element at the start of `data`; returns it and the bytes after it.
pub fn read(data: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&id, mut rest) = data.split_first()?;
    let mut tag = u32::from(id & 0x1f);
    if tag == 0x1f {
        tag = 0;
        // At most 4 continuation bytes: tag numbers beyond 2^28 do not occur in MMS.
        for i in 0.. {
            let (&b, r) = rest.split_first()?;
            rest = r;
            tag = tag << 7 | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
            if i >= 3 {
                return None;
            }
        }
    }
    let (&l, r) = rest.split_first()?;
    rest = r;
    let len = if l & 0x80 == 0 {
        usize::from(l)
    } else {
        let n = usize::from(l & 0x7f);
        // Indefinite lengths (n = 0) and lengths over 4 bytes are not accepted.
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = rest.get(..n)?;
        rest = &rest[n..];
        bytes
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b))
    };
    let value = rest.get(..len)?;
    Some((Tlv { id, tag, value }, &rest[len..]))
}

/// Iterates over the elements of one level; stops at the first malformed one.
pub fn elements(mut data: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    std::iter::from_fn(move || {
        let (t, rest) = read(data)?;
        data = rest;
        Some(t)
    })
}

/// Contents of the first element of this level whose first identifier byte is `id`.
pub fn child(data: &[u8], id: u8) -> Option<&[u8]> {
    elements(data).find(|t| t.id == id).map(|t| t.value)
}

/// Decodes a big-endian two's complement INTEGER of up to 8 bytes.
pub fn integer(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() > 8 {
        return None;
    }
    let neg = v[0] & 0x80 != 0;
    let init: i64 = if neg { -1 } else { 0 };
    Some(v.iter().fold(init, |acc, &b| acc << 8 | i64::from(b)))
}

/// Decodes an unsigned INTEGER of up to 8 bytes (a leading zero byte allowed).
pub fn unsigned(v: &[u8]) -> Option<u64> {
    let v = if v.len() == 9 && v[0] == 0 {
        &v[1..]
    } else {
        v
    };
    if v.is_empty() || v.len() > 8 {
        return None;
    }
    Some(v.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)))
}
