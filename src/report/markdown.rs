//! The report as Markdown (GitHub-flavoured: tables), readable in any repository viewer.
//!
//! Every piece of the bundle's text goes through [`text`]: controls made visible
//! (`crate::sanitize`), then every character Markdown or a viewer could act on escaped with a
//! backslash, so no text can make a link, an image, HTML, emphasis, a table cell or a heading,
//! and no URL or address is turned into a link on its own.

use super::facts::{Column, EntityValues, Line, Marked, Table, STARRED};
use super::{Format, Report};
use std::fmt::Write;

/// The report as Markdown.
pub struct Markdown;

/// Untrusted text, safe anywhere in a Markdown line (a paragraph, a list item, a table cell).
pub fn text(s: &str) -> String {
    Markdown::text(s)
}

/// The report of `r` in Markdown.
pub fn render(r: &Report) -> String {
    super::write::<Markdown>(r)
}

impl Format for Markdown {
    fn escape(s: &str, max: usize) -> String {
        let clean = crate::sanitize::line(s);
        let chars: Vec<char> = clean.chars().collect();
        let mut out = String::with_capacity(clean.len() + 16);
        for (i, &c) in chars.iter().enumerate() {
            if i == max {
                out.push('…');
                break;
            }
            let escape = match c {
                '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '<' | '>' | '#' | '!' | '|'
                | '~' | '$' | '&' | '@' | '{' | '}' | '^' => true,
                // `http://…` would become a link on its own (GitHub's autolinks).
                ':' => chars.get(i + 1) == Some(&'/') && chars.get(i + 2) == Some(&'/'),
                // … and so would `www.…`.
                '.' => i >= 3 && chars[i - 3..i].iter().all(|w| w.eq_ignore_ascii_case(&'w')),
                _ => false,
            };
            if escape {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }

    fn start(out: &mut String, title: &str, lead: &str) {
        let _ = write!(out, "# Post-incident report: {title}\n\n{lead}\n\n");
    }

    fn heading(out: &mut String, id: Option<&str>, title: &str) {
        let level = if id.is_some() { "##" } else { "###" };
        let _ = write!(out, "{level} {title}\n\n");
    }

    fn none(out: &mut String, message: &str) {
        let _ = write!(out, "{message}\n\n");
    }

    /// A table, then a blank line.
    fn table(out: &mut String, t: &Table) {
        let head: Vec<&str> = t.head.iter().map(|(h, _)| *h).collect();
        let rule = |(_, c): &(&str, Column)| if *c == Column::Number { "---:" } else { "---" };
        let rule: Vec<&str> = t.head.iter().map(rule).collect();
        let _ = writeln!(out, "| {} |\n|{}|", head.join(" | "), rule.join("|"));
        for row in &t.rows {
            let cells: Vec<String> = row.iter().map(|c| Self::line(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out.push('\n');
    }

    fn summary(out: &mut String, r: &Report) {
        out.push_str("| | |\n|---|---|\n");
        for (k, v) in r.summary() {
            let _ = writeln!(out, "| {k} | {} |", Self::line(&v));
        }
        out.push('\n');
    }

    fn metrics(out: &mut String, r: &Report) {
        out.push_str("| metric | value | measured |\n|---|---|---|\n");
        for (name, _, value, measured) in r.durations() {
            let _ = writeln!(out, "| {name} | {value} | {measured} |");
        }
        out.push('\n');
        for (label, moment) in r.moments() {
            let _ = match moment {
                Some((at, what)) => {
                    writeln!(out, "- **{label}**: {} UTC, {}", text(&at), text(what))
                }
                None => writeln!(out, "- **{label}**: none"),
            };
        }
        let export = r.export_time().map(|at| format!("{} UTC", text(&at)));
        let _ = writeln!(
            out,
            "- **export**: {}\n- **origin of the events**: {}",
            export.as_deref().unwrap_or("not counted"),
            Self::line(&r.origin())
        );
        if !r.metrics.notes.is_empty() {
            out.push_str("\nNotes:\n\n");
        }
        for n in &r.metrics.notes {
            let _ = writeln!(out, "- {}", text(n));
        }
        out.push('\n');
        for (title, rows) in r.counts() {
            Self::table(out, &Table::counts(title, &rows));
        }
    }

    fn entities(out: &mut String, all: &[EntityValues]) {
        out.push_str("The most frequent values, with the events that carry them.\n\n");
        for e in all {
            let shown = e.top.iter().map(|(v, n)| format!("{} ({n})", text(v)));
            let shown: Vec<String> = shown.chain(e.more.clone()).collect();
            let _ = writeln!(out, "- **{}**: {}", e.key, shown.join(" · "));
        }
        out.push('\n');
    }

    fn joined(out: &mut String, bound: &[Line], fires: Option<&Line>) {
        let bound: Vec<String> = bound.iter().map(|b| Self::line(b)).collect();
        let bound = bound.join(", ");
        let bound = if bound.is_empty() { "nothing" } else { &bound };
        let fires = fires.map(|f| Self::line(f)).unwrap_or_default();
        let _ = write!(out, "Joined on {bound}. {fires}\n\n");
    }

    fn marked(out: &mut String, marked: &[Marked]) {
        for (i, m) in marked.iter().enumerate() {
            let mut facts = Vec::new();
            if m.mark.star {
                facts.push(STARRED.to_string());
            }
            if !m.mark.tags.is_empty() {
                let tags = m.mark.tags.iter().map(|t| format!("\\#{}", text(t)));
                facts.push(format!("tags {}", tags.collect::<Vec<_>>().join(" ")));
            }
            facts.push(m.marked.clone());
            let e = m.event;
            let _ = writeln!(
                out,
                "{}. **{}** · {} · {} · {}\\\n   {}",
                i + 1,
                m.time,
                e.source.as_str(),
                e.severity.as_str(),
                text(&e.title),
                facts.join(" · ")
            );
            if !m.mark.note.is_empty() {
                let _ = writeln!(
                    out,
                    "\n   > {}",
                    Self::escape(&m.mark.note, super::MAX_NOTE)
                );
            }
            out.push('\n');
        }
    }

    fn end(out: &mut String, r: &Report) {
        let _ = writeln!(
            out,
            "Verified: intact. Every member matches the SHA-256 in the manifest and every event record its digest, as `casefile verify` checks. {}.\n\nSHA-256 of {}: `{}`",
            r.signature_text(),
            text(&r.name),
            r.sha256
        );
    }
}
