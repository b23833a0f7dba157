//! Durations on the command line: a number with a unit (`90s`, `10m`, `7d`).

/// Parses `90s`, `10m`, `2h`, `7d`, `1w` (and a bare number of seconds) into
/// microseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| {
        format!("duration {text:?}: expected a number with a unit (90s, 10m, 2h, 7d)")
    })?;
    let seconds = match unit {
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 604_800.0,
        other => {
            return Err(format!(
                "duration {text:?}: unknown unit {other:?} (use s, m, h, d or w)"
            ))
        }
    };
    let micros = value * seconds * 1e6;
    if !micros.is_finite() || !(0.0..=1e17).contains(&micros) {
        return Err(format!("duration {text:?}: out of range"));
    }
    Ok(micros as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("90s"), Ok(90_000_000));
        assert_eq!(parse_duration("10m"), Ok(600_000_000));
        assert_eq!(parse_duration("7d"), Ok(604_800_000_000));
        assert_eq!(parse_duration("1.5h"), Ok(5_400_000_000));
        assert_eq!(parse_duration("30"), Ok(30_000_000));
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        assert!(parse_duration("ten")
            .unwrap_err()
            .contains("expected a number"));
        assert!(parse_duration("5y").unwrap_err().contains("unknown unit"));
    }
}
