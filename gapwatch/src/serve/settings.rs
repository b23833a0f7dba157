//! Settings an admin changes in the console that outlive the process: the learning
//! period, kept as `settings.toml` in the state folder (written whole through a
//! temporary file and a rename, so a reader never sees half of it).

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file, in the state folder.
pub(super) const SETTINGS_FILE: &str = "settings.toml";

/// What the file holds.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(super) struct Saved {
    /// Learning period as typed (`15m`, `7d`), checked with the command line's parser.
    pub learning_period: Option<String>,
}

fn path(state: &Path) -> PathBuf {
    state.join(SETTINGS_FILE)
}

/// The saved learning period (microseconds), if one was saved. Errors name the file.
pub(super) fn learning_period(state: &Path) -> Result<Option<i64>> {
    let file = path(state);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    let saved: Saved =
        toml::from_str(&text).with_context(|| format!("reading {}", file.display()))?;
    saved
        .learning_period
        .map(|p| learn::parse_duration(&p))
        .transpose()
        .map_err(|e| anyhow::anyhow!("{}: learning_period: {e}", file.display()))
}

/// Saves the learning period (microseconds).
pub(super) fn save_learning_period(state: &Path, micros: i64) -> std::io::Result<()> {
    let body = format!(
        "# Written by the gapwatch console; `--learn` given at start overrides it.\n\
         learning_period = \"{}\"\n",
        duration_text(micros)
    );
    write_atomically(&path(state), body.as_bytes())
}

/// Microseconds as the duration parser reads them, in the largest unit that divides
/// them (`15m`, `7d`, `1.5s`).
pub(super) fn duration_text(micros: i64) -> String {
    let micros = micros.max(0);
    if micros % 1_000_000 != 0 {
        return format!("{}s", micros as f64 / 1e6);
    }
    let secs = micros / 1_000_000;
    [(604_800, "w"), (86_400, "d"), (3_600, "h"), (60, "m")]
        .iter()
        .find(|(size, _)| secs > 0 && secs % size == 0)
        .map_or_else(
            || format!("{secs}s"),
            |(size, unit)| format!("{}{unit}", secs / size),
        )
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a reader never
/// sees half a file.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_learning_period_is_saved_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(learning_period(dir.path()).unwrap(), None);
        save_learning_period(dir.path(), 900_000_000).unwrap();
        assert_eq!(learning_period(dir.path()).unwrap(), Some(900_000_000));
        assert!(std::fs::read_to_string(dir.path().join(SETTINGS_FILE))
            .unwrap()
            .contains("learning_period = \"15m\"\n"));
        for (micros, text) in [
            (0, "0s"),
            (1_500_000, "1.5s"),
            (90_000_000, "90s"),
            (7 * 86_400_000_000, "1w"),
            (2 * 86_400_000_000, "2d"),
        ] {
            assert_eq!(duration_text(micros), text);
            assert_eq!(learn::parse_duration(text), Ok(micros));
        }
        std::fs::write(dir.path().join(SETTINGS_FILE), "learning_period = \"5y\"\n").unwrap();
        let err = learning_period(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("learning_period: duration \"5y\": unknown unit"),
            "{err}"
        );
    }
}
