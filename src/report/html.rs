//! The report as one self-contained HTML page: styles inline, the plots as inline SVG, no
//! script, no external resource of any kind, and a Content-Security-Policy that forbids them
//! all should any get in. Every piece of the bundle's text goes through [`text`].

use super::svg::{self, Marker};
use super::{created_text, plural, rfc3339_text, time_text, Report};
use crate::case_metrics::duration_text;
use crate::model::Timestamp;
use crate::ui::text::thousands;
use std::fmt::Write;

const MAX_TEXT: usize = 300;
const MAX_NOTE: usize = 4000;

/// Untrusted text, safe in HTML text and in a quoted attribute: controls made visible
/// (`crate::sanitize`), then `& < > " '` as entities.
pub fn text(s: &str) -> String {
    escape(s, MAX_TEXT)
}

fn escape(s: &str, max: usize) -> String {
    let clean = crate::sanitize::line(s);
    let mut out = String::with_capacity(clean.len() + 16);
    for (i, c) in clean.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
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

fn count(n: u64) -> String {
    thousands(n as usize)
}

const STYLE: &str = "
body { background: #1a1b26; color: #c0caf5; font: 15px/1.5 system-ui, sans-serif; margin: 0; }
main { max-width: 1120px; margin: 0 auto; padding: 24px; }
h1 { color: #7aa2f7; font-size: 26px; margin: 0 0 4px; }
h2 { color: #7aa2f7; font-size: 20px; border-bottom: 1px solid #414868; padding-bottom: 4px; margin-top: 32px; }
h3 { color: #bb9af7; font-size: 16px; margin-bottom: 4px; }
p.lead { color: #a9b1d6; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #414868; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #1f2335; color: #7aa2f7; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.t, span.t { font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; font-size: 13px; white-space: nowrap; }
.muted { color: #565f89; }
.ok { color: #9ece6a; font-weight: 600; }
.none { color: #565f89; font-style: italic; }
.tag { color: #e0af68; }
.star { color: #e0af68; }
blockquote { border-left: 3px solid #414868; margin: 4px 0 8px; padding: 0 10px; color: #a9b1d6; }
ol.marks li { margin-bottom: 10px; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
.counts { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
svg { display: block; margin: 8px 0; max-width: 100%; height: auto; }
code { font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; font-size: 13px; color: #9ece6a; word-break: break-all; }
";

pub fn render(r: &Report) -> String {
    let m = &r.manifest;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
<meta name=\"referrer\" content=\"no-referrer\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>Post-incident report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        text(&r.name)
    );
    let _ = writeln!(out, "<h1>Post-incident report: {}</h1>", text(&r.name));
    let _ = writeln!(
        out,
        "<p class=\"lead\">{} events from {}{}, exported {} UTC by {}.</p>",
        count(m.counts.events),
        plural(m.sources.len() as u64, "source"),
        match r.span() {
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
    series(&mut out, r);
    verification(&mut out, r);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn summary(out: &mut String, r: &Report) {
    let m = &r.manifest;
    let _ = writeln!(out, "<h2 id=\"summary\">Summary</h2>");
    if let Some(range) = r.span() {
        let times: Vec<_> = r.events.iter().map(|e| (e.ts, e.source)).collect();
        let mut markers = Vec::new();
        let mut mark = |mo: &Option<crate::case_metrics::Moment>, label: &str, color| {
            if let Some(at) = mo.as_ref().and_then(|mo| mo.time()) {
                markers.push(Marker {
                    at,
                    label: label.to_string(),
                    color,
                });
            }
        };
        mark(&r.metrics.first_signal, "first signal", svg::YELLOW);
        mark(&r.metrics.first_alert, "first alert", svg::RED);
        mark(&r.metrics.first_mark, "first mark", svg::MAGENTA);
        out.push_str(&svg::histogram(&times, range, 120, &markers));
    }
    let _ = writeln!(out, "<table>");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(out, "<tr><th>{k}</th><td>{v}</td></tr>");
    };
    row(
        "Events",
        match r.span() {
            Some((a, b)) => format!(
                "{} from <span class=\"t\">{}</span> to <span class=\"t\">{}</span> UTC",
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
        let pivots: Vec<String> = s
            .pivots
            .iter()
            .map(|p| format!("<code>{}</code>", text(p)))
            .collect();
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
    let _ = writeln!(out, "</table>");
    let _ = writeln!(out, "<h3>Sources and queries</h3>");
    if m.sources.is_empty() {
        let _ = writeln!(out, "<p class=\"none\">No source is recorded.</p>");
        return;
    }
    let _ = writeln!(
        out,
        "<table><tr><th>source</th><th>kind</th><th>events</th><th>series</th><th>queries</th></tr>"
    );
    for s in &m.sources {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td><code>{}</code></td></tr>",
            text(&s.name),
            text(&s.kind),
            count(s.events),
            count(s.series),
            text(&s.query)
        );
    }
    let _ = writeln!(out, "</table>");
}

fn metrics(out: &mut String, r: &Report) {
    let m = &r.metrics;
    let _ = writeln!(out, "<h2 id=\"metrics\">Case metrics</h2>");
    let rows: Vec<(String, Option<f64>, String)> = m
        .durations()
        .into_iter()
        .map(|(name, v, span)| {
            (
                name.to_string(),
                v.map(|ns| ns as f64),
                match v {
                    Some(ns) => format!("{} ({span})", duration_text(ns)),
                    None => format!("not known ({span})"),
                },
            )
        })
        .collect();
    out.push_str(&svg::bars("response times", &rows, svg::BLUE));
    let _ = writeln!(out, "<table>");
    let moment = |label: &str, mo: &Option<crate::case_metrics::Moment>| match mo {
        Some(mo) => format!(
            "<tr><th>{label}</th><td class=\"t\">{} UTC</td><td>{}</td></tr>\n",
            text(&rfc3339_text(&mo.at)),
            text(&mo.what)
        ),
        None => format!("<tr><th>{label}</th><td class=\"none\" colspan=\"2\">none</td></tr>\n"),
    };
    out.push_str(&moment("first signal", &m.first_signal));
    out.push_str(&moment("first alert", &m.first_alert));
    out.push_str(&moment("first mark", &m.first_mark));
    let _ = writeln!(
        out,
        "<tr><th>export</th>{}</tr>",
        match &m.exported_at {
            Some(at) => format!(
                "<td class=\"t\">{} UTC</td><td></td>",
                text(&rfc3339_text(at))
            ),
            None => "<td class=\"none\" colspan=\"2\">not counted</td>".into(),
        }
    );
    let _ = writeln!(
        out,
        "<tr><th>origin</th><td colspan=\"2\">{}; {}</td></tr>\n</table>",
        text(&m.origin),
        plural(m.alerts, "alert")
    );
    if !m.notes.is_empty() {
        let _ = writeln!(out, "<ul class=\"muted\">");
        for n in &m.notes {
            let _ = writeln!(out, "<li>{}</li>", text(n));
        }
        let _ = writeln!(out, "</ul>");
    }
    let category: Vec<(String, Option<f64>, String)> =
        super::in_order(&m.by_category, &super::CATEGORY_ORDER)
            .into_iter()
            .map(|(k, n)| (k.to_string(), Some(n as f64), count(n)))
            .collect();
    out.push_str(&svg::bars(
        "events by security category",
        &category,
        svg::GREEN,
    ));
    let _ = writeln!(out, "<div class=\"counts\">");
    for (title, rows) in [
        (
            "severity",
            super::in_order(&m.by_severity, &super::SEVERITY_ORDER),
        ),
        ("source", super::in_order(&m.by_source, &[])),
    ] {
        let _ = writeln!(out, "<table><tr><th>{title}</th><th>events</th></tr>");
        for (k, n) in rows {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
                text(k),
                count(n)
            );
        }
        let _ = writeln!(out, "</table>");
    }
    let _ = writeln!(out, "</div>");
}

fn entities(out: &mut String, r: &Report) {
    let _ = writeln!(out, "<h2 id=\"entities\">Entities involved</h2>");
    let all = r.entities();
    if all.is_empty() {
        let _ = writeln!(out, "<p class=\"none\">No entities.</p>");
        return;
    }
    let _ = writeln!(
        out,
        "<p class=\"muted\">The most frequent values, with the events that carry them.</p>\n<table>"
    );
    for super::EntityValues {
        key,
        top: values,
        more,
    } in all
    {
        let shown: Vec<String> = values
            .iter()
            .map(|(v, n)| format!("<code>{}</code> {}", text(v), count(*n)))
            .collect();
        let more = if more > 0 {
            format!(" <span class=\"muted\">and {} more</span>", thousands(more))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td>{}{more}</td></tr>",
            key.as_str(),
            shown.join(" · ")
        );
    }
    let _ = writeln!(out, "</table>");
}

fn chains(out: &mut String, r: &Report) {
    let _ = writeln!(out, "<h2 id=\"chains\">Attack chains</h2>");
    if r.chains.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"none\">No chain was found by the rules.</p>"
        );
        return;
    }
    for (i, c) in r.chains.iter().enumerate() {
        let _ = writeln!(out, "<h3>{}. {}</h3>", i + 1, text(&c.rule));
        let bound: Vec<String> = c
            .bound
            .iter()
            .map(|(k, v)| format!("<code>{}={}</code>", text(k), text(v)))
            .collect();
        let fires = r
            .fires_at(c)
            .map(|t| {
                format!(
                    " Fires at <span class=\"t\">{}</span> UTC (its last required step).",
                    time_text(t)
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<p>Joined on {}.{fires}</p>",
            if bound.is_empty() {
                "nothing".into()
            } else {
                bound.join(" ")
            }
        );
        let _ = writeln!(
            out,
            "<table><tr><th>#</th><th>time (UTC)</th><th>source</th><th>step</th><th>event</th></tr>"
        );
        for s in r.steps(c) {
            let _ = writeln!(
                out,
                "<tr><td class=\"n\">{}</td><td class=\"t\">{}</td><td>{}</td><td>{}{}{}</td><td>{}</td></tr>",
                s.number,
                time_text(s.event.ts),
                s.event.source.as_str(),
                text(s.name),
                if s.count > 1 {
                    format!(" (×{})", count(s.count))
                } else {
                    String::new()
                },
                if s.optional {
                    " <span class=\"muted\">(optional)</span>"
                } else {
                    ""
                },
                text(&s.event.title)
            );
        }
        let _ = writeln!(out, "</table>");
    }
}

fn marked(out: &mut String, r: &Report) {
    let _ = writeln!(out, "<h2 id=\"marks\">Marked events</h2>");
    let marked = r.marked();
    if marked.is_empty() {
        let _ = writeln!(out, "<p class=\"none\">No event was marked.</p>");
        return;
    }
    let _ = writeln!(out, "<ol class=\"marks\">");
    for (m, e) in marked {
        let mut facts = Vec::new();
        if m.star {
            facts.push("<span class=\"star\">★ starred</span>".to_string());
        }
        for t in &m.tags {
            facts.push(format!("<span class=\"tag\">#{}</span>", text(t)));
        }
        facts.push(
            match m.marked_at.as_deref().and_then(Timestamp::parse_rfc3339) {
                Some(t) => format!("<span class=\"muted\">marked {} UTC</span>", time_text(t)),
                None => "<span class=\"muted\">marked at a time not recorded</span>".into(),
            },
        );
        let _ = writeln!(
            out,
            "<li><span class=\"t\">{}</span> · {} · {} · {}<br>{}",
            time_text(e.ts),
            e.source.as_str(),
            e.severity.as_str(),
            text(&e.title),
            facts.join(" · ")
        );
        if !m.note.is_empty() {
            let _ = writeln!(
                out,
                "<blockquote>{}</blockquote>",
                escape(&m.note, MAX_NOTE)
            );
        }
        let _ = writeln!(out, "</li>");
    }
    let _ = writeln!(out, "</ol>");
}

/// The bundle's metric series, each a small plot on the events' time range.
fn series(out: &mut String, r: &Report) {
    if r.series.is_empty() {
        return;
    }
    let _ = writeln!(out, "<h2 id=\"series\">Metric series</h2>");
    let range = r.span().unwrap_or_else(|| {
        let times = r
            .series
            .iter()
            .flat_map(|s| s.samples.iter().map(|(t, _)| *t));
        let lo = times.clone().min().unwrap_or_default();
        (lo, times.max().unwrap_or(lo))
    });
    let _ = writeln!(out, "<div class=\"grid\">");
    for s in &r.series {
        out.push_str(&svg::series(s, range, &svg::source_color(s.source)));
    }
    let _ = writeln!(out, "</div>");
}

fn verification(out: &mut String, r: &Report) {
    let _ = writeln!(out, "<h2 id=\"verification\">Verification</h2>");
    let _ = writeln!(
        out,
        "<p><span class=\"ok\">Verified: intact.</span> Every member matches the SHA-256 in the manifest and every event record its digest, as <code>casefile verify</code> checks. {}.</p>",
        text(&r.signature_text())
    );
    let _ = writeln!(
        out,
        "<p>SHA-256 of {}: <code>{}</code></p>",
        text(&r.name),
        r.sha256
    );
}
