//! Big-endian field readers and writers shared by the header views.
//!
//! Every caller passes a sub-slice taken with a `field::` range whose bounds the view's
//! checked constructor has already validated, so the fixed-size conversions below only
//! see slices of exactly the right length.

/// Reads a big-endian `u16` from a two-byte field.
#[inline]
pub(crate) fn read_u16(field: &[u8]) -> u16 {
    match field {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        // Unreachable for validated views; a zero keeps the no-panic promise regardless.
        _ => 0,
    }
}

/// Reads a big-endian `u32` from a four-byte field.
#[inline]
pub(crate) fn read_u32(field: &[u8]) -> u32 {
    match field {
        [a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]),
        _ => 0,
    }
}

/// Writes a big-endian `u16` into a two-byte field.
#[inline]
pub(crate) fn write_u16(field: &mut [u8], value: u16) {
    field[..2].copy_from_slice(&value.to_be_bytes());
}

/// Writes a big-endian `u32` into a four-byte field.
#[inline]
pub(crate) fn write_u32(field: &mut [u8], value: u32) {
    field[..4].copy_from_slice(&value.to_be_bytes());
}

/// Copies a fixed-size array out of a field of exactly that size.
#[inline]
pub(crate) fn array<const N: usize>(field: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = field.len().min(N);
    out[..n].copy_from_slice(&field[..n]);
    out
}

/// The Internet checksum (RFC 1071) of `data`, folded, starting from the partial `sum`.
pub(crate) fn checksum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for pair in &mut chunks {
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([pair[0], pair[1]])));
    }
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u32::from(*last) << 8);
    }
    sum
}

/// Folds a partial checksum sum into the final one's-complement 16-bit value.
pub(crate) fn checksum_finish(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
