//! The air-gap report as one HTML page: inline style, no scripts, no external resources,
//! laid out to print, worded for a plant manager.

use super::{AirgapReport, Boundary, Verdict, Violation};
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;\
margin:2rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.45}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}\
.muted{color:#555}.banner{padding:1rem;border-radius:.4rem;font-size:1.2rem;font-weight:600;margin:1rem 0}\
.held{background:#e3f4e1;border-left:.5rem solid #2e7d32}\
.violated{background:#fde7e7;border-left:.5rem solid #c62828}\
.not_observed{background:#eee;border-left:.5rem solid #777}\
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.92rem}\
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#f3f3f3}code{font-size:.85rem;word-break:break-all}\
.tag{font-weight:600}.tag.held{color:#2e7d32;background:none;border:0}\
.tag.violated{color:#c62828;background:none;border:0}.tag.not_observed{color:#555;background:none;border:0}\
@media print{body{margin:0;max-width:none}.banner{border:1px solid #999}h2{break-after:avoid}tr{break-inside:avoid}}";

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Held => "held",
        Verdict::Violated => "violated",
        Verdict::NotObserved => "not_observed",
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Held => "Held",
        Verdict::Violated => "Crossed",
        Verdict::NotObserved => "Not observed",
    }
}

/// What a category means, in plain words.
fn category_text(category: learn::Category) -> &'static str {
    use learn::Category as C;
    match category {
        C::ExternalConnection => "traffic to or from an address outside the plant",
        C::DnsExternal => "a look-up of an internet name",
        C::ItOtCrossing => "traffic between zones that is not allowed",
        C::RemoteAccess => "a remote-access tool (remote desktop, remote support)",
        C::FileTransfer => "a program or script copied into the control network",
        C::LateralMovement => "remote administration into the control network from a new place",
        C::Beaconing => "regular call-outs to a rare destination",
        C::Exfiltration => "an unusually large transfer out",
        _ => "other activity",
    }
}

/// Renders the page.
pub(super) fn render(r: &AirgapReport) -> String {
    let mut o = String::with_capacity(16 * 1024);
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    o.push_str("<title>gapwatch air-gap report</title><style>");
    o.push_str(STYLE);
    o.push_str("</style></head><body>\n<h1>Air-gap report</h1>\n");
    let period = match (r.from, r.to) {
        (Some(f), Some(t)) => format!("from {f} to {t}"),
        (Some(f), None) => format!("from {f} on"),
        (None, Some(t)) => format!("up to {t}"),
        (None, None) => "everything recorded".to_string(),
    };
    let zones = if r.zones_from == "policy" {
        "zones from the plant's zone file"
    } else {
        "zones proposed from the devices seen (no zone file given)"
    };
    let _ = writeln!(
        o,
        "<p class=\"muted\">Period: {}. Boundaries: {}.</p>",
        esc(&period),
        esc(zones)
    );
    let crossed = r
        .boundaries
        .iter()
        .filter(|b| b.verdict == Verdict::Violated)
        .count();
    let headline = match r.verdict {
        Verdict::Held => {
            "The air gap held: nothing crossed a boundary while gapwatch was watching.".to_string()
        }
        Verdict::Violated => format!(
            "The air gap was crossed: {crossed} boundar{} had traffic that should not be there.",
            if crossed == 1 { "y" } else { "ies" }
        ),
        Verdict::NotObserved => "No verdict: nothing was captured in this period.".to_string(),
    };
    let _ = writeln!(
        o,
        "<div class=\"banner {}\">{}</div>",
        verdict_class(r.verdict),
        esc(&headline)
    );

    o.push_str("<h2>What was watched</h2>\n");
    let _ = writeln!(o, "<p>{}</p>", esc(&r.coverage.statement));
    if !r.coverage.gaps.is_empty() {
        o.push_str("<table><tr><th>Not watched from</th><th>to</th><th>length</th></tr>\n");
        for g in &r.coverage.gaps {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                g.from,
                g.to,
                esc(&super::duration_text(g.secs))
            );
        }
        if r.coverage.gaps_not_listed > 0 {
            let _ = writeln!(
                o,
                "<tr><td colspan=\"3\">and {} more gaps</td></tr>",
                r.coverage.gaps_not_listed
            );
        }
        o.push_str("</table>\n");
    }
    if r.expected_alerts > 0 {
        let _ = writeln!(
            o,
            "<p class=\"muted\">{} alert(s) marked expected by an operator are not counted as crossings.</p>",
            r.expected_alerts
        );
    }

    o.push_str("<h2>Boundaries</h2>\n<table><tr><th>Boundary</th><th>Verdict</th><th>What was seen</th></tr>\n");
    for b in &r.boundaries {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"tag {}\">{}</td><td>{}</td></tr>",
            esc(&b.name),
            verdict_class(b.verdict),
            verdict_word(b.verdict),
            esc(&b.statement)
        );
    }
    o.push_str("</table>\n");
    for b in r
        .boundaries
        .iter()
        .filter(|b| b.verdict == Verdict::Violated)
    {
        boundary_section(&mut o, b);
    }

    o.push_str("<h2>Evidence and how to check this report</h2>\n");
    if r.evidence.is_empty() {
        o.push_str("<p>This report cites no evidence files.</p>\n");
    } else {
        o.push_str(
            "<p>Each crossing above is backed by a packet capture in the state folder. \
The fingerprint (SHA-256) of every capture is listed; the chain value links each one to the one \
before, so changing, removing or reordering any capture changes the final value.</p>\n",
        );
        o.push_str(
            "<table><tr><th>Alert</th><th>Capture</th><th>SHA-256</th><th>Chain</th></tr>\n",
        );
        for e in &r.evidence {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                e.alert,
                esc(&e.pcap),
                esc(e.sha256.as_deref().unwrap_or("missing")),
                esc(&e.chain)
            );
        }
        o.push_str("</table>\n");
    }
    let _ = writeln!(
        o,
        "<p>Chain head: <code>{}</code></p>\n<p class=\"muted\">Chain: start from 32 zero bytes; for each capture in order, \
SHA-256 of (previous value, the capture's SHA-256 or 32 zero bytes when missing, the alert number as 8 bytes big-endian).</p>",
        esc(&r.chain_head)
    );
    o.push_str("</body></html>\n");
    o
}

fn boundary_section(o: &mut String, b: &Boundary) {
    let _ = writeln!(o, "<h2>Crossings: {}</h2>", esc(&b.name));
    o.push_str("<table><tr><th>What</th><th>From</th><th>To</th><th>Protocol</th><th>First seen</th><th>Last seen</th><th>Times / volume</th><th>Evidence</th></tr>\n");
    for v in &b.violations {
        violation_row(o, v);
    }
    o.push_str("</table>\n");
}

/// `3 times, 2 flows, 14 packets, 1.2 kB`.
fn volume(v: &Violation) -> String {
    let times = if v.count == 1 {
        "once".to_string()
    } else {
        format!("{} times", v.count)
    };
    if v.flows == 0 {
        return times;
    }
    let bytes = v.bytes as f64;
    let size = if bytes >= 1e9 {
        format!("{:.1} GB", bytes / 1e9)
    } else if bytes >= 1e6 {
        format!("{:.1} MB", bytes / 1e6)
    } else if bytes >= 1e3 {
        format!("{:.1} kB", bytes / 1e3)
    } else {
        format!("{} bytes", v.bytes)
    };
    format!(
        "{times}, {} flow(s), {} packets, {size}",
        v.flows, v.packets
    )
}

fn violation_row(o: &mut String, v: &Violation) {
    let hosts: Vec<String> = v.hosts.iter().map(ToString::to_string).collect();
    let evidence = if v.evidence.is_empty() {
        "none kept".to_string()
    } else {
        v.evidence
            .iter()
            .map(|p| format!("<code>{}</code>", esc(p)))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let _ = writeln!(
        o,
        "<tr><td><b>{}</b> ({}, {})<br>{}<br><span class=\"muted\">alerts {}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        esc(category_text(v.category)),
        esc(v.category.name()),
        esc(v.severity.name()),
        esc(&v.title),
        esc(&v.alerts.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
        esc(&v.source.map_or("unknown".to_string(), |ip| ip.to_string())),
        esc(&hosts.join(", ")),
        esc(v.protocol.as_deref().unwrap_or("unknown")),
        v.first,
        v.last,
        esc(&volume(v)),
        evidence
    );
}
