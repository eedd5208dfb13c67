//! The report as Markdown (GitHub-flavoured: tables), readable in any repository viewer.
//!
//! Every piece of the bundle's text goes through [`text`]: controls made visible
//! (`crate::sanitize`), then every character Markdown or a viewer could act on escaped with a
//! backslash, so no text can make a link, an image, HTML, emphasis, a table cell or a heading,
//! and no URL or address is turned into a link on its own.

use super::{created_text, plural, rfc3339_text, time_text, Report};
use crate::case_metrics::duration_text;
use crate::model::Timestamp;
use crate::ui::text::thousands;
use std::fmt::Write;

/// The longest piece of the bundle's text shown (a title can be a whole log line).
const MAX_TEXT: usize = 300;
/// Notes are the analyst's own: longer.
const MAX_NOTE: usize = 4000;

/// Untrusted text, safe anywhere in a Markdown line (a paragraph, a list item, a table cell).
pub fn text(s: &str) -> String {
    escape(s, MAX_TEXT)
}

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
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '<' | '>' | '#' | '!' | '|' | '~'
            | '$' | '&' | '@' | '{' | '}' | '^' => true,
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

fn duration_cell(ns: Option<i64>) -> String {
    ns.map_or_else(|| "not known".to_string(), duration_text)
}

fn count(n: u64) -> String {
    thousands(n as usize)
}

pub fn render(r: &Report) -> String {
    let m = &r.manifest;
    let mut out = String::new();
    let _ = writeln!(out, "# Post-incident report: {}\n", text(&r.name));
    let span = r.span();
    let _ = writeln!(
        out,
        "{} events from {}{}, exported {} UTC by {}.\n",
        count(m.counts.events),
        plural(m.sources.len() as u64, "source"),
        match span {
            Some((a, b)) => format!(
                ", {} – {} UTC ({})",
                time_text(a),
                time_text(b),
                duration_text(b.0.saturating_sub(a.0))
            ),
            None => String::new(),
        },
        text(&created_text(&m.created_at)),
        text(&m.tool)
    );
    summary(&mut out, r);
    metrics(&mut out, r);
    entities(&mut out, r);
    chains(&mut out, r);
    marked(&mut out, r);
    verification(&mut out, r);
    out
}

fn summary(out: &mut String, r: &Report) {
    let m = &r.manifest;
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(out, "| {k} | {v} |");
    };
    row(
        "Events",
        match r.span() {
            Some((a, b)) => format!(
                "{} from {} to {} UTC",
                count(m.counts.events),
                time_text(a),
                time_text(b)
            ),
            None => "none".into(),
        },
    );
    let by_source: Vec<String> = m
        .counts
        .by_source
        .iter()
        .map(|(k, n)| format!("{} {}", text(k), count(*n)))
        .collect();
    if !by_source.is_empty() {
        row("By source", by_source.join(" · "));
    }
    row("Attack chains", count(m.counts.chains));
    row("Marked events", count(m.counts.marks));
    row(
        "Metric series",
        format!(
            "{} ({} samples)",
            count(m.counts.series),
            count(m.counts.samples)
        ),
    );
    let s = &m.selection;
    let mut chosen = Vec::new();
    if s.all {
        chosen.push("every event loaded".to_string());
    }
    if !s.pivots.is_empty() {
        let pivots: Vec<String> = s.pivots.iter().map(|p| text(p)).collect();
        chosen.push(format!("pivot {}", pivots.join(" and ")));
    }
    if let Some(from) = &s.from {
        chosen.push(format!("from {} UTC", text(&rfc3339_text(from))));
    }
    if let Some(to) = &s.to {
        chosen.push(format!("to {} UTC", text(&rfc3339_text(to))));
    }
    if let Some(search) = &s.search {
        chosen.push(format!("search “{}”", text(search)));
    }
    row(
        "Selection",
        if chosen.is_empty() {
            "no filter".into()
        } else {
            chosen.join(", ")
        },
    );
    let redacted: u64 = m.redacted.values().sum();
    let rules: Vec<String> = m
        .redacted
        .iter()
        .map(|(k, n)| format!("{} {}", text(k), count(*n)))
        .collect();
    row(
        "Secrets redacted",
        if rules.is_empty() {
            "0".into()
        } else {
            format!("{} ({})", count(redacted), rules.join(", "))
        },
    );
    row(
        "Exported",
        format!(
            "{} UTC by {}",
            text(&created_text(&m.created_at)),
            text(&m.tool)
        ),
    );
    let _ = writeln!(out, "\n### Sources and queries\n");
    if m.sources.is_empty() {
        let _ = writeln!(out, "No source is recorded.\n");
        return;
    }
    let _ = writeln!(
        out,
        "| source | kind | events | series | queries |\n|---|---|---:|---:|---|"
    );
    for s in &m.sources {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            text(&s.name),
            text(&s.kind),
            count(s.events),
            count(s.series),
            text(&s.query)
        );
    }
    out.push('\n');
}

fn metrics(out: &mut String, r: &Report) {
    let m = &r.metrics;
    let _ = writeln!(out, "## Case metrics\n");
    let _ = writeln!(out, "| metric | value | measured |\n|---|---|---|");
    for (name, value, span) in m.durations() {
        let _ = writeln!(out, "| {name} | {} | {span} |", duration_cell(value));
    }
    out.push('\n');
    let moment = |label: &str, mo: &Option<crate::case_metrics::Moment>| match mo {
        Some(mo) => format!(
            "- **{label}**: {} UTC, {}\n",
            text(&rfc3339_text(&mo.at)),
            text(&mo.what)
        ),
        None => format!("- **{label}**: none\n"),
    };
    out.push_str(&moment("first signal", &m.first_signal));
    out.push_str(&moment("first alert", &m.first_alert));
    out.push_str(&moment("first mark", &m.first_mark));
    let _ = writeln!(
        out,
        "- **export**: {}",
        match &m.exported_at {
            Some(at) => format!("{} UTC", text(&rfc3339_text(at))),
            None => "not counted".into(),
        }
    );
    let _ = writeln!(
        out,
        "- **origin of the events**: {}; {}",
        text(&m.origin),
        plural(m.alerts, "alert")
    );
    if !m.notes.is_empty() || !r.metrics_recorded {
        let _ = writeln!(out, "\nNotes:\n");
        for n in &m.notes {
            let _ = writeln!(out, "- {}", text(n));
        }
    }
    out.push('\n');
    let table = |out: &mut String, title: &str, rows: Vec<(&str, u64)>| {
        let _ = writeln!(out, "| {title} | events |\n|---|---:|");
        for (k, n) in rows {
            let _ = writeln!(out, "| {} | {} |", text(k), count(n));
        }
        out.push('\n');
    };
    table(
        out,
        "category",
        super::in_order(&m.by_category, &super::CATEGORY_ORDER),
    );
    table(
        out,
        "severity",
        super::in_order(&m.by_severity, &super::SEVERITY_ORDER),
    );
    table(out, "source", super::in_order(&m.by_source, &[]));
}

fn entities(out: &mut String, r: &Report) {
    let _ = writeln!(out, "## Entities involved\n");
    let all = r.entities();
    if all.is_empty() {
        let _ = writeln!(out, "No entities.\n");
        return;
    }
    let _ = writeln!(
        out,
        "The most frequent values, with the events that carry them.\n"
    );
    for super::EntityValues {
        key,
        top: values,
        more,
    } in all
    {
        let shown: Vec<String> = values
            .iter()
            .map(|(v, n)| format!("{} ({})", text(v), count(*n)))
            .collect();
        let more = if more > 0 {
            format!(" · and {} more", thousands(more))
        } else {
            String::new()
        };
        let _ = writeln!(out, "- **{}**: {}{more}", key.as_str(), shown.join(" · "));
    }
    out.push('\n');
}

fn chains(out: &mut String, r: &Report) {
    let _ = writeln!(out, "## Attack chains\n");
    if r.chains.is_empty() {
        let _ = writeln!(out, "No chain was found by the rules.\n");
        return;
    }
    for (i, c) in r.chains.iter().enumerate() {
        let _ = writeln!(out, "### {}. {}\n", i + 1, text(&c.rule));
        let bound: Vec<String> = c
            .bound
            .iter()
            .map(|(k, v)| format!("{}={}", text(k), text(v)))
            .collect();
        let fires = r
            .fires_at(c)
            .map(|t| format!("Fires at {} UTC (its last required step).", time_text(t)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "Joined on {}. {fires}\n",
            if bound.is_empty() {
                "nothing".into()
            } else {
                bound.join(", ")
            }
        );
        let _ = writeln!(
            out,
            "| # | time (UTC) | source | step | event |\n|---:|---|---|---|---|"
        );
        for s in r.steps(c) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}{}{} | {} |",
                s.number,
                time_text(s.event.ts),
                s.event.source.as_str(),
                text(s.name),
                if s.count > 1 {
                    format!(" (×{})", count(s.count))
                } else {
                    String::new()
                },
                if s.optional { " (optional)" } else { "" },
                text(&s.event.title)
            );
        }
        out.push('\n');
    }
}

fn marked(out: &mut String, r: &Report) {
    let _ = writeln!(out, "## Marked events\n");
    let marked = r.marked();
    if marked.is_empty() {
        let _ = writeln!(out, "No event was marked.\n");
        return;
    }
    for (i, (m, e)) in marked.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. **{}** · {} · {} · {}\\",
            i + 1,
            time_text(e.ts),
            e.source.as_str(),
            e.severity.as_str(),
            text(&e.title)
        );
        let mut facts = Vec::new();
        if m.star {
            facts.push("★ starred".to_string());
        }
        if !m.tags.is_empty() {
            let tags: Vec<String> = m.tags.iter().map(|t| format!("\\#{}", text(t))).collect();
            facts.push(format!("tags {}", tags.join(" ")));
        }
        facts.push(
            match m.marked_at.as_deref().and_then(Timestamp::parse_rfc3339) {
                Some(t) => format!("marked {} UTC", time_text(t)),
                None => "marked at a time not recorded".into(),
            },
        );
        let _ = writeln!(out, "   {}", facts.join(" · "));
        if !m.note.is_empty() {
            let _ = writeln!(out, "\n   > {}", escape(&m.note, MAX_NOTE));
        }
        out.push('\n');
    }
}

fn verification(out: &mut String, r: &Report) {
    let _ = writeln!(out, "## Verification\n");
    let _ = writeln!(
        out,
        "Verified: intact. Every member matches the SHA-256 in the manifest and every event record its digest, as `casefile verify` checks. {}.\n",
        r.signature_text()
    );
    let _ = writeln!(out, "SHA-256 of {}: `{}`", text(&r.name), r.sha256);
}
