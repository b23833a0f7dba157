//! Interned names: address spaces and other texts built from message fields at run time
//! (`class2/instance1`, `db23`, `g30v1`, `tag:Setpoint`) are stored once for the process,
//! so events carry them as `Cow::Borrowed` and copying one into a target, a value or a
//! pending request allocates nothing.
//!
//! Bounded: at most [`MAX_NAMES`] names of at most [`MAX_NAME_LEN`] bytes are ever kept.
//! Past that, texts are returned owned (correct, only slower) and
//! [`interned_overflow`] counts them.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

/// Most names kept for the process.
pub const MAX_NAMES: usize = 16_384;
/// Longest name kept; longer texts are never interned.
pub const MAX_NAME_LEN: usize = 96;

static NAMES: LazyLock<Mutex<HashSet<&'static str, ahash::RandomState>>> =
    LazyLock::new(|| Mutex::new(HashSet::with_hasher(ahash::RandomState::new())));
static OVERFLOW: AtomicU64 = AtomicU64::new(0);

/// `text` as a shared process-wide name when it fits the interner's bounds, else owned.
pub fn intern(text: &str) -> Cow<'static, str> {
    if text.len() > MAX_NAME_LEN {
        OVERFLOW.fetch_add(1, Ordering::Relaxed);
        return Cow::Owned(text.to_string());
    }
    // A poisoned lock only means another thread panicked mid-insert; the set is intact.
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&name) = names.get(text) {
        return Cow::Borrowed(name);
    }
    if names.len() >= MAX_NAMES {
        OVERFLOW.fetch_add(1, Ordering::Relaxed);
        return Cow::Owned(text.to_string());
    }
    let name: &'static str = Box::leak(text.to_string().into_boxed_str());
    names.insert(name);
    Cow::Borrowed(name)
}

/// Formats `args` (on the stack: no allocation for names that fit) and interns the result.
pub fn intern_args(args: fmt::Arguments<'_>) -> Cow<'static, str> {
    let mut buf = StackText {
        bytes: [0; MAX_NAME_LEN],
        len: 0,
    };
    if buf.write_fmt(args).is_err() {
        // Longer than any interned name.
        return intern(&fmt::format(args));
    }
    // Only whole `str`s were copied in, so the bytes are UTF-8.
    match std::str::from_utf8(&buf.bytes[..buf.len]) {
        Ok(text) => intern(text),
        Err(_) => intern(&fmt::format(args)),
    }
}

/// A text of at most [`MAX_NAME_LEN`] bytes on the stack.
struct StackText {
    bytes: [u8; MAX_NAME_LEN],
    len: usize,
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Texts returned owned because they were too long or the interner was full.
pub fn interned_overflow() -> u64 {
    OVERFLOW.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_name() {
        let a = intern("class2/instance1");
        let b = intern(&String::from("class2/instance1"));
        let (Cow::Borrowed(a), Cow::Borrowed(b)) = (a, b) else {
            panic!("short names are interned");
        };
        assert_eq!(a, "class2/instance1");
        assert!(std::ptr::eq(a, b));
    }

    #[test]
    fn long_texts_stay_owned() {
        let long = "x".repeat(MAX_NAME_LEN + 1);
        let before = interned_overflow();
        assert!(matches!(intern(&long), Cow::Owned(s) if s == long));
        assert!(interned_overflow() > before);
    }

    #[test]
    fn formatted_names_are_interned() {
        let name = intern_args(format_args!("g{}v{}", 30, 1));
        assert_eq!(name, "g30v1");
        assert!(matches!(name, Cow::Borrowed(_)));
        let long = intern_args(format_args!("{}", "y".repeat(MAX_NAME_LEN + 5)));
        assert_eq!(long.len(), MAX_NAME_LEN + 5);
    }
}
