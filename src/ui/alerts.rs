use crate::app::App;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

/// The alerts raised so far, the newest first: time of the first and last event, severity,
/// rule, count, what it is grouped by and the event that raised it. A cursor is on one;
/// Enter pivots on its group.
pub fn draw(frame: &mut Frame, app: &App, cursor: usize) {
    let t = &app.theme;
    let area = frame.area();
    let w = area.width.saturating_sub(4).min(110);
    let h = area.height.saturating_sub(2);
    let popup = Rect::new((area.width - w) / 2, 1, w, h);
    let width = w.saturating_sub(2) as usize;
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
    let inner = h.saturating_sub(2) as usize;
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
        let line = Line::from(spans);
        lines.push(if here {
            line.style(t.get("ui.selection"))
        } else {
            line
        });
    }
    let title = match &app.alerts {
        Some(a) => format!(
            " alerts: {} raised, {} open — j/k, Enter pivots on its group, Esc closes ",
            super::text::thousands(a.raised()),
            super::text::thousands(a.open())
        ),
        None => " alerts ".to_string(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.get("ui.border"))
        .title(Span::styled(title, t.get("ui.title")));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
