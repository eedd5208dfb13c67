//! The case metrics overlay: time to detect, triage and export with the moments they run
//! between, why a value is not known, and the events by category, severity and source. The
//! metrics are those an export would record (`crate::case_metrics`), over every event loaded,
//! the chains found and the marks made; the time to export is recorded by the export itself
//! (in the bundle's manifest).

use crate::app::App;
use crate::case_metrics::{alerts, duration_text, CaseMetrics, EventTally, Inputs, Moment};
use crate::model::{Category, Severity, SourceKind};
use crate::ui::text::{thousands, untrusted};
use ratatui::text::{Line, Span};
use ratatui::Frame;

/// The metrics of what the TUI holds.
pub fn for_app(app: &App) -> CaseMetrics {
    let store = &app.data.store;
    let optional = alerts::OptionalSteps::current();
    CaseMetrics::compute(&Inputs {
        events: EventTally::of_store(store),
        alerts: app
            .chains
            .found
            .iter()
            .filter_map(|c| alerts::from_chain(store, c, optional))
            .chain(app.alerts.as_ref().and_then(|a| a.first().cloned()))
            .collect(),
        marks: app.marks.iter().map(|(_, m)| m.marked_at).collect(),
        exported_at: None,
        origin: app.marks.origin,
    })
}

/// The overlay's lines for `width` columns.
pub fn lines(app: &App, m: &CaseMetrics, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut lines = Vec::new();
    for (name, value, span) in m.durations() {
        let (shown, style) = match value {
            Some(ns) => (duration_text(ns), t.get("ui.cursor")),
            None if name == "time to export" && m.exported_at.is_none() => {
                ("at export".to_string(), t.get("ui.muted"))
            }
            None => ("not known".to_string(), t.get("ui.muted")),
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {name:<15}"), t.get("ui.label")),
            Span::styled(format!("{shown:<13}"), style),
            Span::styled(span, t.get("ui.muted")),
        ]));
    }
    lines.push(Line::raw(""));
    let moment = |label: &str, mo: &Option<Moment>| -> Line<'static> {
        let mut spans = vec![Span::styled(format!(" {label:<13}"), t.get("ui.label"))];
        match mo.as_ref().and_then(|mo| Some((mo.time()?, mo))) {
            Some((at, mo)) => {
                spans.push(Span::styled(
                    format!("{} {}  ", at.date(), at.clock_millis()),
                    t.get("ui.time"),
                ));
                let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
                let (what, _) = untrusted(
                    &mo.what,
                    width.saturating_sub(used),
                    t.get("ui"),
                    t.get("ui.escaped"),
                );
                spans.extend(what);
            }
            None => spans.push(Span::styled("none", t.get("ui.muted"))),
        }
        Line::from(spans)
    };
    lines.push(moment("first signal", &m.first_signal));
    lines.push(moment("first alert", &m.first_alert));
    lines.push(moment("first mark", &m.first_mark));
    let export = m.exported_at.as_ref().map(|at| Moment {
        at: at.clone(),
        what: "the bundle's first export".into(),
    });
    lines.push(match export {
        Some(_) => moment("export", &export),
        None => Line::from(vec![
            Span::styled(format!(" {:<13}", "export"), t.get("ui.label")),
            Span::styled(
                "recorded in the bundle's metrics when it is exported (e)",
                t.get("ui.muted"),
            ),
        ]),
    });
    if !m.notes.is_empty() {
        lines.push(Line::raw(""));
        for note in &m.notes {
            lines.extend(crate::ui::text::wrap_untrusted(
                vec![Span::styled(" · ", t.get("ui.muted"))],
                note,
                width,
                t.get("ui.muted"),
                t.get("ui.escaped"),
            ));
        }
    }
    lines.push(Line::raw(""));
    let count_line = |label: &str, items: Vec<(String, u64, ratatui::style::Style)>| {
        // Two spaces between the counts when they fit, one when the screen is narrow.
        let wide: usize = items
            .iter()
            .map(|(name, n, _)| name.chars().count() + thousands(*n as usize).len() + 3)
            .sum();
        let gap = if 12 + wide <= width { "  " } else { " " };
        let mut spans = vec![Span::styled(format!(" {label:<11}"), t.get("ui.label"))];
        for (name, n, style) in items {
            spans.push(Span::styled(format!("{name} "), style));
            spans.push(Span::styled(
                format!("{}{gap}", thousands(n as usize)),
                t.get("ui"),
            ));
        }
        crate::ui::text::clip(spans, width)
    };
    let get =
        |map: &std::collections::BTreeMap<String, u64>, k: &str| map.get(k).copied().unwrap_or(0);
    lines.push(count_line(
        "categories",
        Category::ALL
            .iter()
            .map(|c| {
                (
                    c.short().to_string(),
                    get(&m.by_category, c.as_str()),
                    t.get("ui.label"),
                )
            })
            .collect(),
    ));
    lines.push(count_line(
        "severity",
        Severity::ALL
            .iter()
            .map(|s| {
                (
                    s.short().trim().to_lowercase(),
                    get(&m.by_severity, s.as_str()),
                    t.severity(*s),
                )
            })
            .collect(),
    ));
    lines.push(count_line(
        "sources",
        SourceKind::ALL
            .iter()
            .filter(|k| m.by_source.contains_key(k.as_str()))
            .map(|k| {
                (
                    k.short().to_string(),
                    get(&m.by_source, k.as_str()),
                    t.source(*k),
                )
            })
            .collect(),
    ));
    lines.push(Line::styled(
        format!(
            " {} alerts (chains found) · {} marks · events from {}",
            m.alerts,
            app.marks.len(),
            m.origin
        ),
        t.get("ui.muted"),
    ));
    lines
}

/// Draws the overlay, scrolled down `scroll` lines at most to its end.
pub fn draw(frame: &mut Frame, app: &App, scroll: u16) {
    let t = &app.theme;
    let area = frame.area();
    // Computed when the overlay opened (`S`), never while drawing.
    let Some(metrics) = &app.case_metrics else {
        return;
    };
    let inner_w = area.width.saturating_sub(4).min(96).saturating_sub(2) as usize;
    let lines = lines(app, metrics, inner_w);
    let h = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let place = super::popup::place(area, 96, h);
    let title = " case metrics — time to detect, triage, export · Esc closes ";
    super::popup::draw(frame, place, t, title, lines, scroll);
}
