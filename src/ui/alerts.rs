use super::popup;
use crate::app::App;
use ratatui::text::{Line, Span};
use ratatui::Frame;

/// The alerts raised so far, the newest first: time of the first and last event, severity,
/// rule, count, what it is grouped by and the event that raised it. A cursor is on one;
/// Enter pivots on its group.
pub fn draw(frame: &mut Frame, app: &App, cursor: usize) {
    let t = &app.theme;
    let area = frame.area();
    let place = popup::place(area, 110, area.height.saturating_sub(2));
    let width = place.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    let list = app.alerts.as_ref().map(|a| a.list()).unwrap_or_default();
    match &app.alerts {
        None => lines.push(Line::styled(
            " alerts run on live sources: a followed file, --falco-listen, Loki, or a replay \
             in time (demo --live, replay --speed)",
            t.get("ui.muted"),
        )),
        Some(_) if list.is_empty() => lines.push(Line::styled(
            " no alert raised yet (rules/alerts.toml)",
            t.get("ui.muted"),
        )),
        Some(_) => {}
    }
    // Only the rows in sight are built (an alert storm can hold thousands).
    let inner = place.height.saturating_sub(2) as usize;
    let first = cursor.saturating_sub(inner.saturating_sub(1));
    for (i, a) in list.iter().enumerate().skip(first).take(inner) {
        let here = i == cursor;
        let group: Vec<String> = a
            .group
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
            .collect();
        let mut spans = vec![
            Span::styled(
                if here { "› " } else { "  " },
                t.get(if here { "ui.cursor" } else { "ui.label" }),
            ),
            Span::styled(
                format!(
                    "{} +{:<4} ",
                    a.first.clock_millis(),
                    crate::model::human_duration(a.last.nanos() - a.first.nanos())
                ),
                t.get("ui.time"),
            ),
            Span::styled(format!("{} ", a.severity.short()), t.severity(a.severity)),
            Span::styled(if a.open { "open  " } else { "ended " }, t.get("ui.label")),
        ];
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        let (text, _) = super::text::untrusted(
            &format!(
                "{} ×{} {} · {}",
                a.rule,
                super::text::thousands(a.count as usize),
                group.join(" "),
                a.title
            ),
            width.saturating_sub(used),
            t.get("ui"),
            t.get("ui.escaped"),
        );
        spans.extend(text);
        lines.push(popup::row(Line::from(spans), here, t));
    }
    let title = match &app.alerts {
        Some(a) => format!(
            " alerts: {} raised, {} open — j/k, Enter pivots on its group, Esc closes ",
            super::text::thousands(a.raised()),
            super::text::thousands(a.open())
        ),
        None => " alerts ".to_string(),
    };
    popup::draw(frame, place, t, &title, lines, 0);
}
