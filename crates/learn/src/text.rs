//! Numbers and ranges as an analyst writes them.

/// `812300` → `812,300`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A span of seconds in the largest sensible unit: `45 s`, `12 min`, `3.5 h`, `9 days`.
pub fn span(seconds: f64) -> String {
    if seconds < 120.0 {
        format!("{seconds:.0} s")
    } else if seconds < 7200.0 {
        format!("{:.0} min", seconds / 60.0)
    } else if seconds < 172_800.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.0} days", seconds / 86_400.0)
    }
}

/// Bytes in binary units: `1.5 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// An address range: `40001` or `40001–40020`.
pub fn range(start: u64, count: u64) -> String {
    if count <= 1 {
        start.to_string()
    } else {
        format!("{start}–{}", start + count - 1)
    }
}

/// `1 minute`, `2,520 minutes`: a count with its noun, plural by adding `s`.
pub fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", thousands(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(812_300), "812,300");
        assert_eq!(thousands(12), "12");
        assert_eq!(span(45.0), "45 s");
        assert_eq!(span(9.0 * 86_400.0), "9 days");
        assert_eq!(bytes(1536 * 1024), "1.5 MiB");
        assert_eq!(range(40001, 20), "40001–40020");
        assert_eq!(counted(1, "minute"), "1 minute");
        assert_eq!(counted(2520, "request"), "2,520 requests");
    }
}
