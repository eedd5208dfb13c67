//! Untrusted text made safe for a terminal (SPEC §7, CWE-150).
//!
//! Everything a source returns may have been written by the attacker. Before it is drawn or
//! printed, every character that a terminal would interpret instead of showing — C0 and C1
//! controls (so ESC and with it every CSI, OSC and DCS sequence), DEL, bidirectional overrides and
//! isolates, invisible zero-width and tag characters — is replaced by a visible escape such as `\x1b`
//! or `\u{202e}`. The raw record in the store keeps the original bytes.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether a character must not reach the terminal as itself.
pub fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        // Bidirectional formatting: embeddings, overrides, isolates, marks.
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200e}' | '\u{200f}' | '\u{061c}'
        // Invisible characters that hide or join text.
        | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}'
        | '\u{ad}' | '\u{180e}'
        // Interlinear annotations and object replacement can reorder what is shown.
        | '\u{fff9}'..='\u{fffb}'
        // Line and paragraph separators break rows like a newline.
        | '\u{2028}' | '\u{2029}'
        // Tag characters: invisible, they carry hidden ASCII ("ASCII smuggling").
        | '\u{e0000}'..='\u{e007f}')
}

fn push_escape(out: &mut String, c: char) {
    let _ = match c {
        '\n' => write!(out, "\\n"),
        '\r' => write!(out, "\\r"),
        '\t' => write!(out, "\\t"),
        c if (c as u32) < 0x100 => write!(out, "\\x{:02x}", c as u32),
        c => write!(out, "\\u{{{:x}}}", c as u32),
    };
}

/// One line of untrusted text, safe to draw: every control, including newline and tab, is shown
/// as an escape, so a value can never break out of its row or column.
pub fn line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Multi-line untrusted text (a pretty-printed raw record): newlines are kept as line breaks,
/// everything else is escaped as in [`line`].
pub fn block(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c != '\n' && needs_escape(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Bytes of unknown encoding (a line read from a file or a socket): invalid UTF-8 becomes U+FFFD,
/// then the result is sanitized as one line.
pub fn bytes_line(b: &[u8]) -> String {
    line(&String::from_utf8_lossy(b)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_made_visible() {
        assert_eq!(line("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(line("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");
        assert_eq!(
            line("\x1b]52;c;ZXZpbA==\x1b\\"),
            "\\x1b]52;c;ZXZpbA==\\x1b\\"
        );
        assert_eq!(line("\u{9b}31m"), "\\x9b31m");
        assert_eq!(line("x\u{7f}"), "x\\x7f");
    }

    #[test]
    fn rows_cannot_be_broken_or_reordered() {
        assert_eq!(line("ok\rFAKE\nrow\tcol"), "ok\\rFAKE\\nrow\\tcol");
        assert_eq!(line("user\u{202e}gpj.exe"), "user\\u{202e}gpj.exe");
        assert_eq!(line("a\u{2066}b\u{2069}"), "a\\u{2066}b\\u{2069}");
        assert_eq!(line("ad\u{200b}min"), "ad\\u{200b}min");
        assert_eq!(line("\u{feff}x"), "\\u{feff}x");
    }

    #[test]
    fn ordinary_text_is_borrowed_untouched() {
        let s = "Accepted password for mallory from 203.0.113.45 — ünïcode 日本";
        assert!(matches!(line(s), Cow::Borrowed(_)));
        assert!(matches!(block("{\n  \"a\": 1\n}"), Cow::Borrowed(_)));
    }

    #[test]
    fn block_keeps_newlines_only() {
        assert_eq!(block("a\nb\x1b[1mc\r"), "a\nb\\x1b[1mc\\r");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(bytes_line(b"ok\xff\x1b"), "ok\u{fffd}\\x1b");
    }
}
