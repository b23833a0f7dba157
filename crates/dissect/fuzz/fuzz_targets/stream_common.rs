//! Stream driver shared by the IT-protocol fuzz targets: plays the sensor's buffer
//! contract over three cuts of the input, with a gap before the last when asked.

use dissect::{Direction, Dissector, Emitter, FlowContext};

/// Feeds `data` to `d` in both directions (even bytes of the first input byte pick the
/// direction), in three segments, with a gap before the last one when the first byte is
/// odd.
pub fn drive(d: &mut dyn Dissector, ctx: &FlowContext, data: &[u8]) {
    let mut out = Emitter::default();
    let a = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let b = (a + data.len()) / 2;
    let mut bufs: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for (i, chunk) in [&data[..a], &data[a..b], &data[b..]].into_iter().enumerate() {
        let dir = if chunk.first().is_some_and(|c| c & 1 == 1) {
            Direction::ToClient
        } else {
            Direction::ToServer
        };
        let k = usize::from(dir == Direction::ToClient);
        if i == 2 && a % 2 == 1 {
            d.on_gap(ctx, dir, 7, &mut out);
            bufs[k].clear();
        }
        bufs[k].extend_from_slice(chunk);
        let n = d.on_stream(ctx, dir, &bufs[k], &mut out);
        assert!(n <= bufs[k].len());
        bufs[k].drain(..n);
    }
}
