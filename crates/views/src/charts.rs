//! Charts as inline SVG, drawn with `plotters` (SVG backend only: no fonts or system
//! libraries; the browser renders the text).
//!
//! Each helper returns a `<figure class="v-chart">` with the title as its caption and
//! the SVG inside; axis descriptions name the units. Values that are not finite are
//! left out; an empty or failed chart says so in words instead of drawing.

use maud::{html, Markup, PreEscaped};
use plotters::prelude::*;
use records::Timestamp;

/// Chart size in SVG pixels (the CSS scales it to the column width).
const WIDTH: u32 = 640;
const HEIGHT: u32 = 260;
/// Largest magnitude charted: beyond it axis arithmetic loses meaning.
const MAX_VALUE: f64 = 1e15;
/// Bars drawn at most; the rest are summed into "other".
pub const MAX_BARS: usize = 12;

const INK: RGBColor = RGBColor(0x2f, 0x3b, 0x4a);
const SERIES: RGBColor = RGBColor(0x2b, 0x6c, 0xb0);
const GRID: RGBColor = RGBColor(0xe6, 0xe9, 0xed);

fn figure(title: &str, svg: Result<String, String>) -> Markup {
    html! {
        figure.v-chart {
            figcaption { (title) }
            @match svg {
                Ok(svg) => (PreEscaped(svg)),
                Err(why) => p.v-empty { (why) },
            }
        }
    }
}

/// Runs a plotters drawing into an SVG string.
fn draw(
    height: u32,
    f: impl FnOnce(&DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), String>,
) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        f(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}

fn nice_max(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 {
        v * 1.1
    } else {
        1.0
    }
}

/// Short number for axis labels: `950`, `12k`, `3.4M`.
fn short(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 10.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Hourly values over time (e.g. flows per hour): one bar per hour, time on the x
/// axis. `points` are (start of hour, value).
pub fn time_series(title: &str, y_desc: &str, points: &[(Timestamp, f64)]) -> Markup {
    let hour = store::HOUR_MICROS;
    let points: Vec<(i64, f64)> = points
        .iter()
        .filter(|(_, v)| v.is_finite() && *v >= 0.0)
        .map(|(t, v)| (t.micros(), v.min(MAX_VALUE)))
        .collect();
    if points.is_empty() {
        return figure(title, Err("No activity recorded.".into()));
    }
    let x0 = points.iter().map(|p| p.0).min().unwrap_or(0);
    let last = points.iter().map(|p| p.0).max().unwrap_or(0);
    // At least six hours wide, so a short capture still reads as a time axis.
    let x1 = last.saturating_add(hour).max(x0.saturating_add(6 * hour));
    let ymax = nice_max(points.iter().map(|p| p.1).fold(0.0, f64::max));
    let svg = draw(HEIGHT, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, 0f64..ymax)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .label_style(("sans-serif", 13).into_font().color(&INK))
            .axis_desc_style(("sans-serif", 13).into_font().color(&INK))
            .axis_style(INK)
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|x| {
                let t = Timestamp(*x).to_string();
                // `MM-DD HH:MM` from RFC 3339.
                match (t.get(5..10), t.get(11..16)) {
                    (Some(d), Some(h)) => format!("{d} {h}"),
                    _ => t,
                }
            })
            .y_label_formatter(&|y| short(*y))
            .x_desc("hour (UTC)")
            .y_desc(y_desc)
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(points.iter().map(|(t, v)| {
                Rectangle::new(
                    [
                        (*t + hour / 20, 0.0),
                        (t.saturating_add(hour - hour / 20), *v),
                    ],
                    SERIES.filled(),
                )
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    });
    figure(title, svg)
}

/// Horizontal bars, largest first (at most [`MAX_BARS`]; the rest summed as `other`).
pub fn bars(title: &str, x_desc: &str, items: &[(String, f64)]) -> Markup {
    let mut items: Vec<(String, f64)> = items
        .iter()
        .filter(|(_, v)| v.is_finite() && *v >= 0.0)
        .map(|(l, v)| (l.clone(), v.min(MAX_VALUE)))
        .collect();
    if items.is_empty() {
        return figure(title, Err("Nothing to show yet.".into()));
    }
    items.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if items.len() > MAX_BARS {
        let rest: f64 = items[MAX_BARS - 1..].iter().map(|i| i.1).sum();
        items.truncate(MAX_BARS - 1);
        items.push(("other".into(), rest));
    }
    let n = items.len();
    let xmax = nice_max(items.iter().map(|i| i.1).fold(0.0, f64::max));
    let height = (60 + 26 * n as u32).max(120);
    let labels: Vec<String> = items
        .iter()
        .map(|(l, _)| {
            let mut l = l.clone();
            if l.chars().count() > 34 {
                l = l.chars().take(33).collect::<String>() + "…";
            }
            l
        })
        .collect();
    let svg = draw(height, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(220)
            .build_cartesian_2d(0f64..xmax, (0..n).into_segmented())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .label_style(("sans-serif", 13).into_font().color(&INK))
            .axis_desc_style(("sans-serif", 13).into_font().color(&INK))
            .axis_style(INK)
            .y_labels(n)
            .y_label_formatter(&|y| match y {
                // Segment i (from the bottom) holds bar n - 1 - i.
                SegmentValue::CenterOf(i) if *i < n => {
                    labels.get(n - 1 - *i).cloned().unwrap_or_default()
                }
                _ => String::new(),
            })
            .x_label_formatter(&|x| short(*x))
            .x_desc(x_desc)
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(items.iter().enumerate().map(|(i, (_, v))| {
                // The largest bar at the top: index 0 is drawn in the top segment.
                let seg = n - 1 - i;
                Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(seg)),
                        (*v, SegmentValue::Exact(seg + 1)),
                    ],
                    SERIES.filled(),
                )
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    });
    figure(title, svg)
}

/// A histogram of `values` in `bins` equal bins between their minimum and maximum.
pub fn histogram(title: &str, x_desc: &str, values: &[f64], bins: usize) -> Markup {
    let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return figure(title, Err("No values yet.".into()));
    }
    let bins = bins.clamp(1, 100);
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if lo.abs() > MAX_VALUE || hi.abs() > MAX_VALUE {
        return figure(title, Err("Values out of range.".into()));
    }
    if hi - lo < 1e-9 * lo.abs().max(1e-9) {
        hi = lo + lo.abs().max(1e-3) * 0.01;
    }
    let width = (hi - lo) / bins as f64;
    // Enough decimals that six labels across the range differ.
    let decimals = (-((hi - lo) / 6.0).log10()).ceil().clamp(0.0, 6.0) as usize;
    let mut counts = vec![0u64; bins];
    for v in &values {
        let i = (((v - lo) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let ymax = nice_max(counts.iter().copied().max().unwrap_or(0) as f64);
    let svg = draw(HEIGHT - 40, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(lo..hi, 0f64..ymax)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .label_style(("sans-serif", 13).into_font().color(&INK))
            .axis_desc_style(("sans-serif", 13).into_font().color(&INK))
            .axis_style(INK)
            .x_labels(6)
            .y_labels(4)
            .x_label_formatter(&|x| format!("{x:.decimals$}"))
            .y_label_formatter(&|y| short(*y))
            .x_desc(x_desc)
            .y_desc("count")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, c)| {
                let x0 = lo + width * i as f64;
                Rectangle::new([(x0, 0.0), (x0 + width * 0.92, *c as f64)], SERIES.filled())
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    });
    figure(title, svg)
}

/// `250 ms`, `1.00 s`, `60 s`.
pub fn seconds(s: f64) -> String {
    if s < 0.1 {
        format!("{:.0} ms", s * 1e3)
    } else if s < 2.0 {
        format!("{s:.2} s")
    } else if s < 20.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_render_svg_with_axis_labels_and_survive_odd_input() {
        let t = |h: i64| Timestamp(1_764_316_800_000_000 + h * store::HOUR_MICROS);
        let ts = time_series("Activity", "flows per hour", &[(t(0), 3.0), (t(1), 7.0)]);
        let s = ts.into_string();
        assert!(s.contains("<svg"), "{s}");
        assert!(s.contains("flows per hour"));
        assert!(s.contains("hour (UTC)"));
        let b = bars(
            "Mix",
            "bytes",
            &[("modbus <x>".into(), 5.0), ("s7comm".into(), 2.0)],
        )
        .into_string();
        assert!(b.contains("modbus &lt;x&gt;"), "{b}");
        assert!(!b.contains("<x>"));
        let h = histogram("Cycle", "interval", &[1.0, 1.0, 1.01, 0.99], 10).into_string();
        assert!(h.contains("<svg") && h.contains("interval"));
        // Degenerate and hostile input draws or says why, never panics.
        for m in [
            time_series("x", "y", &[]),
            time_series("x", "y", &[(t(0), f64::NAN), (t(0), 1.0)]),
            bars("x", "y", &[("a".into(), f64::INFINITY)]),
            bars("x", "y", &[("a".into(), 0.0)]),
            histogram("x", "y", &[5.0], 0),
            histogram("x", "y", &[f64::MAX, -f64::MAX], 3),
        ] {
            assert!(m.into_string().contains("v-chart"));
        }
    }
}
