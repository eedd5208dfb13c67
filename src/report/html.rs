//! The report as one self-contained HTML page: styles inline, the plots as inline SVG, no
//! script, no external resource of any kind, and a Content-Security-Policy that forbids them
//! all should any get in. Every piece of the bundle's text goes through [`text`].

use super::facts::{count, Column, EntityValues, Line, Marked, Table, STARRED};
use super::svg::{self, Marker};
use super::{Format, Report};
use std::fmt::Write;

/// The report as HTML.
pub struct Html;

/// Untrusted text, safe in HTML text and in a quoted attribute: controls made visible
/// (`crate::sanitize`), then `& < > " '` as entities.
pub fn text(s: &str) -> String {
    Html::text(s)
}

/// The report of `r` as one HTML page.
pub fn render(r: &Report) -> String {
    super::write::<Html>(r)
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

impl Format for Html {
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

    fn code(s: &str) -> String {
        format!("<code>{s}</code>")
    }

    fn time(s: &str) -> String {
        format!("<span class=\"t\">{s}</span>")
    }

    fn muted(s: &str) -> String {
        format!("<span class=\"muted\">{s}</span>")
    }

    fn start(out: &mut String, title: &str, lead: &str) {
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
<meta name=\"referrer\" content=\"no-referrer\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>Post-incident report: {title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
<h1>Post-incident report: {title}</h1>\n<p class=\"lead\">{lead}</p>\n"
        );
    }

    fn heading(out: &mut String, id: Option<&str>, title: &str) {
        let _ = match id {
            Some(id) => writeln!(out, "<h2 id=\"{id}\">{title}</h2>"),
            None => writeln!(out, "<h3>{title}</h3>"),
        };
    }

    fn none(out: &mut String, message: &str) {
        let _ = writeln!(out, "<p class=\"none\">{message}</p>");
    }

    fn table(out: &mut String, t: &Table) {
        out.push_str("<table><tr>");
        for (h, _) in &t.head {
            let _ = write!(out, "<th>{h}</th>");
        }
        out.push_str("</tr>\n");
        for row in &t.rows {
            out.push_str("<tr>");
            for (cell, (_, column)) in row.iter().zip(&t.head) {
                let class = match column {
                    Column::Text => "",
                    Column::Number => " class=\"n\"",
                    Column::Time => " class=\"t\"",
                };
                let _ = write!(out, "<td{class}>{}</td>", Self::line(cell));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }

    /// The events over time, then the summary's table.
    fn summary(out: &mut String, r: &Report) {
        if let Some(range) = r.span() {
            let times: Vec<_> = r.events.iter().map(|e| (e.ts, e.source)).collect();
            let mut markers = Vec::new();
            let mut mark = |mo: &Option<crate::case_metrics::Moment>, label: &str, color| {
                if let Some(at) = mo.as_ref().and_then(|mo| mo.time()) {
                    let label = label.to_string();
                    markers.push(Marker { at, label, color });
                }
            };
            mark(&r.metrics.first_signal, "first signal", svg::YELLOW);
            mark(&r.metrics.first_alert, "first alert", svg::RED);
            mark(&r.metrics.first_mark, "first mark", svg::MAGENTA);
            out.push_str(&svg::histogram(&times, range, 120, &markers));
        }
        out.push_str("<table>\n");
        for (k, v) in r.summary() {
            let _ = writeln!(out, "<tr><th>{k}</th><td>{}</td></tr>", Self::line(&v));
        }
        out.push_str("</table>\n");
    }

    fn metrics(out: &mut String, r: &Report) {
        let durations = r.durations().into_iter();
        let durations = durations.map(|(name, ns, value, span)| {
            (name, ns.map(|ns| ns as f64), format!("{value} ({span})"))
        });
        let durations: Vec<_> = durations.collect();
        out.push_str(&svg::bars("response times", &durations, svg::BLUE));
        out.push_str("<table>\n");
        let none = |what: &str| format!("<td class=\"none\" colspan=\"2\">{what}</td>");
        let at_cell = |at: &str| format!("<td class=\"t\">{} UTC</td>", text(at));
        for (label, moment) in r.moments() {
            let cells = match moment {
                Some((at, what)) => format!("{}<td>{}</td>", at_cell(&at), text(what)),
                None => none("none"),
            };
            let _ = writeln!(out, "<tr><th>{label}</th>{cells}</tr>");
        }
        let export = match r.export_time() {
            Some(at) => format!("{}<td></td>", at_cell(&at)),
            None => none("not counted"),
        };
        let origin = Self::line(&r.origin());
        let _ = writeln!(
            out,
            "<tr><th>export</th>{export}</tr>\n<tr><th>origin</th><td colspan=\"2\">{origin}</td></tr>\n</table>"
        );
        if !r.metrics.notes.is_empty() {
            out.push_str("<ul class=\"muted\">\n");
            for n in &r.metrics.notes {
                let _ = writeln!(out, "<li>{}</li>", text(n));
            }
            out.push_str("</ul>\n");
        }
        let [(_, category), severity, source] = r.counts();
        let category: Vec<_> = category
            .into_iter()
            .map(|(k, n)| (k, Some(n as f64), count(n)))
            .collect();
        let title = "events by security category";
        out.push_str(&svg::bars(title, &category, svg::GREEN));
        out.push_str("<div class=\"counts\">\n");
        for (title, rows) in [severity, source] {
            Self::table(out, &Table::counts(title, &rows));
        }
        out.push_str("</div>\n");
    }

    fn entities(out: &mut String, all: &[EntityValues]) {
        out.push_str("<p class=\"muted\">The most frequent values, with the events that carry them.</p>\n<table>\n");
        for e in all {
            let code = |(v, n): &(&str, String)| format!("{} {n}", Self::code(&text(v)));
            let shown = e.top.iter().map(code).collect::<Vec<_>>().join(" · ");
            let more = e.more.as_deref().map(|m| format!(" {}", Self::muted(m)));
            let more = more.unwrap_or_default();
            let _ = writeln!(out, "<tr><th>{}</th><td>{shown}{more}</td></tr>", e.key);
        }
        out.push_str("</table>\n");
    }

    fn joined(out: &mut String, bound: &[Line], fires: Option<&Line>) {
        let bound: Vec<String> = bound.iter().map(|b| Self::code(&Self::line(b))).collect();
        let bound = bound.join(" ");
        let bound = if bound.is_empty() { "nothing" } else { &bound };
        let fires = fires.map(|f| format!(" {}", Self::line(f)));
        let fires = fires.unwrap_or_default();
        let _ = writeln!(out, "<p>Joined on {bound}.{fires}</p>");
    }

    fn marked(out: &mut String, marked: &[Marked]) {
        out.push_str("<ol class=\"marks\">\n");
        for m in marked {
            let mut facts = Vec::new();
            if m.mark.star {
                facts.push(format!("<span class=\"star\">{STARRED}</span>"));
            }
            for t in &m.mark.tags {
                facts.push(format!("<span class=\"tag\">#{}</span>", text(t)));
            }
            facts.push(Self::muted(&m.marked));
            let e = m.event;
            let _ = writeln!(
                out,
                "<li>{} · {} · {} · {}<br>{}",
                Self::time(&m.time),
                e.source.as_str(),
                e.severity.as_str(),
                text(&e.title),
                facts.join(" · ")
            );
            if !m.mark.note.is_empty() {
                let note = Self::escape(&m.mark.note, super::MAX_NOTE);
                let _ = writeln!(out, "<blockquote>{note}</blockquote>");
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ol>\n");
    }

    /// The bundle's metric series, each a small plot on the events' time range.
    fn series(out: &mut String, r: &Report) {
        if r.series.is_empty() {
            return;
        }
        Self::heading(out, Some("series"), "Metric series");
        let range = r.span().unwrap_or_else(|| {
            let times = r
                .series
                .iter()
                .flat_map(|s| s.samples.iter().map(|(t, _)| *t));
            let lo = times.clone().min().unwrap_or_default();
            (lo, times.max().unwrap_or(lo))
        });
        out.push_str("<div class=\"grid\">\n");
        for s in &r.series {
            out.push_str(&svg::series(s, range, &svg::source_color(s.source)));
        }
        out.push_str("</div>\n");
    }

    fn end(out: &mut String, r: &Report) {
        let _ = write!(
            out,
            "<p><span class=\"ok\">Verified: intact.</span> Every member matches the SHA-256 in the manifest and every event record its digest, as <code>casefile verify</code> checks. {}.</p>\n<p>SHA-256 of {}: <code>{}</code></p>\n</main>\n</body>\n</html>\n",
            text(&r.signature_text()),
            text(&r.name),
            r.sha256
        );
    }
}
