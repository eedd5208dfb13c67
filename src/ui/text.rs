//! Untrusted text into styled spans: safe runs in the given style, the escapes that replaced
//! hidden characters in the "escaped" style so a responder sees that something was there, and
//! everything cut to a display width so columns never shift.

use crate::sanitize::needs_escape;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Builds spans for `text` within `max_width` columns, ending in `…` when cut. Returns the
/// spans and the width used.
pub fn untrusted(
    text: &str,
    max_width: usize,
    style: Style,
    escaped: Style,
) -> (Vec<Span<'static>>, usize) {
    let shown_width = |c: char| {
        if needs_escape(c) {
            crate::sanitize::line(c.encode_utf8(&mut [0; 4])).len()
        } else {
            c.width().unwrap_or(0)
        }
    };
    let total: usize = text.chars().map(shown_width).sum();
    // When it does not fit, one column is kept for the ellipsis.
    let budget = if total <= max_width {
        max_width
    } else {
        max_width.saturating_sub(1)
    };
    let mut spans = Vec::new();
    let mut run = String::new();
    let mut used = 0usize;
    for c in text.chars() {
        let w = shown_width(c);
        if used + w > budget {
            break;
        }
        used += w;
        if needs_escape(c) {
            if !run.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut run), style));
            }
            spans.push(Span::styled(
                crate::sanitize::line(c.encode_utf8(&mut [0; 4])).into_owned(),
                escaped,
            ));
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, style));
    }
    if total > max_width && max_width > 0 {
        spans.push(Span::styled("…", style));
        used += 1;
    }
    (spans, used)
}

/// The display units of untrusted text: each character as it is, or the visible escape that
/// replaces it. Wrapping never splits a unit, so `\u{202e}` is never cut in two.
fn units(text: &str) -> impl Iterator<Item = (String, usize, bool)> + '_ {
    text.chars().map(|c| {
        if needs_escape(c) {
            let esc = crate::sanitize::line(c.encode_utf8(&mut [0; 4])).into_owned();
            let w = esc.len();
            (esc, w, true)
        } else {
            (c.to_string(), c.width().unwrap_or(0), false)
        }
    })
}

/// Untrusted text wrapped to `width` columns: the first line starts with `prefix`, the next
/// ones are indented to line up under it. Each visible row is one `Line`, so callers can count
/// rows exactly (for scrolling).
pub fn wrap_untrusted(
    prefix: Vec<Span<'static>>,
    text: &str,
    width: usize,
    style: Style,
    escaped: Style,
) -> Vec<Line<'static>> {
    let indent: usize = prefix.iter().map(|s| s.content.width()).sum();
    let room = width.saturating_sub(indent).max(1);
    let mut lines = Vec::new();
    let mut spans = prefix;
    let mut run = String::new();
    let mut used = 0;
    for (unit, w, is_escape) in units(text) {
        if used + w > room && used > 0 {
            if !run.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut run), style));
            }
            lines.push(Line::from(std::mem::take(&mut spans)));
            spans.push(Span::raw(" ".repeat(indent)));
            used = 0;
        }
        if is_escape {
            if !run.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut run), style));
            }
            spans.push(Span::styled(unit, escaped));
        } else {
            run.push_str(&unit);
        }
        used += w;
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, style));
    }
    lines.push(Line::from(spans));
    lines
}

/// Spans of our own (already safe) text cut to a width, ending in `…` when cut.
pub fn clip(spans: Vec<Span<'static>>, width: usize) -> Line<'static> {
    let total: usize = spans.iter().map(|s| s.content.width()).sum();
    if total <= width {
        return Line::from(spans);
    }
    let mut out = Vec::new();
    let mut room = width.saturating_sub(1);
    let mut last_style = Style::default();
    for s in spans {
        let w = s.content.width();
        last_style = s.style;
        if w <= room {
            room -= w;
            out.push(s);
        } else {
            let cut: String = fit(&s.content, room + 1);
            out.push(Span::styled(cut, s.style));
            return Line::from(out);
        }
    }
    out.push(Span::styled("…", last_style));
    Line::from(out)
}

/// Trusted text (our own labels) cut to a width.
pub fn fit(text: &str, max_width: usize) -> String {
    if text.width() <= max_width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max_width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `1,234` / `12.3k` / `1.2M` for counts in tight places.
pub fn compact_count(n: usize) -> String {
    match n {
        0..=9_999 => thousands(n),
        10_000..=999_999 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// ` 1 event`, ` 5,210 events`.
pub fn count_of(n: usize, noun: &str) -> String {
    format!(" {} {noun}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// `5,210`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Modifier;

    fn text_of(spans: &[Span]) -> String {
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn escapes_are_styled_and_widths_hold() {
        let esc = Style::default().add_modifier(Modifier::REVERSED);
        let (spans, used) = untrusted("a\x1b[2Jb", 20, Style::default(), esc);
        assert_eq!(text_of(&spans), "a\\x1b[2Jb");
        assert_eq!(spans[1].style, esc);
        assert_eq!(used, 9);
        let (spans, used) = untrusted("日本語のログ行です", 7, Style::default(), esc);
        assert_eq!(text_of(&spans), "日本語…");
        assert_eq!(used, 7);
        let (spans, _) = untrusted("short", 5, Style::default(), esc);
        assert_eq!(text_of(&spans), "short");
    }

    #[test]
    fn wrapping_never_splits_an_escape() {
        let lines = wrap_untrusted(
            vec![Span::raw("ab ")],
            "xyz\u{202e}q",
            8,
            Style::default(),
            Style::default(),
        );
        let rows: Vec<String> = lines.iter().map(|l| text_of(&l.spans)).collect();
        assert_eq!(rows, ["ab xyz", "   \\u{202e}", "   q"]);
        assert!(rows
            .iter()
            .all(|r| r.width() <= 8 || r.trim() == "\\u{202e}"));
    }

    #[test]
    fn clipping_our_own_spans() {
        let line = clip(vec![Span::raw("source "), Span::raw("falco (x)")], 10);
        assert_eq!(text_of(&line.spans), "source fa…");
        assert_eq!(text_of(&clip(vec![Span::raw("short")], 10).spans), "short");
    }

    #[test]
    fn counts() {
        assert_eq!(thousands(5210), "5,210");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(compact_count(12_345), "12.3k");
        assert_eq!(fit("abcdef", 4), "abc…");
    }
}
