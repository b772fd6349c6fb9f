//! Small string helpers shared by the normalisation steps.

/// Whitespace as Python's `str.isspace()` sees it: Unicode `White_Space`
/// plus the ASCII information separators U+001C–U+001F.
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` without arguments.
pub(crate) fn py_strip(text: &str) -> &str {
    text.trim_matches(is_py_space)
}

/// Python slice `text[start..end]` on an ASCII string, clamped like Python
/// does instead of panicking.
pub(crate) fn slice(text: &str, start: usize, end: usize) -> &str {
    let end = end.min(text.len());
    let start = start.min(end);
    text.get(start..end).unwrap_or("")
}

/// Python slice `text[start..]`, clamped.
pub(crate) fn tail(text: &str, start: usize) -> &str {
    slice(text, start, text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_like_python() {
        assert_eq!(py_strip(" \t\n a b \u{1f}\u{a0}\u{3000}"), "a b");
        assert_eq!(py_strip("\u{200b}x"), "\u{200b}x");
        assert_eq!(slice("abc", 1, 10), "bc");
        assert_eq!(slice("abc", 5, 2), "");
        assert_eq!(tail("abc", 4), "");
    }
}
