use super::text;
use crate::app::correlated::short_duration;
use crate::app::{App, Pane};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Events of other sources that share an entity with the selected one, nearby in time:
/// most shared entities first, then closest.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, bordered: bool) {
    let t = &app.theme;
    let focused = app.focus == Pane::Correlated && app.overlay.is_none();
    let inner = super::pane_frame(frame, area, app, bordered);
    let width = inner.width as usize;
    let c = &app.correlated;
    if c.context_mode {
        return draw_context(frame, inner, app, focused);
    }
    let head = format!(
        " CORRELATED  ±{}  {} of other sources sharing an entity",
        short_duration(c.window_ns),
        text::count_of(c.items.len(), "event").trim_start()
    );
    let mut lines = vec![Line::styled(
        text::fit(&head, width),
        if focused {
            t.get("ui.title")
        } else {
            t.get("ui.label")
        },
    )];
    if c.items.is_empty() {
        lines.push(Line::styled(
            " nothing nearby shares an entity with this event",
            t.get("ui.muted"),
        ));
    }
    let rows = inner.height.saturating_sub(1) as usize;
    let offset = c.cursor.saturating_sub(rows.saturating_sub(1));
    for (i, item) in c.items.iter().enumerate().skip(offset).take(rows) {
        let Some(e) = app.data.store.get(item.pos) else {
            continue;
        };
        let selected = focused && i == c.cursor;
        let base = if selected {
            t.get("ui.selection")
        } else {
            t.get("ui")
        };
        let secs = item.offset_ns / 1_000_000_000;
        let offset_text = format!(
            "{}{:02}:{:02} ",
            if secs < 0 { '-' } else { '+' },
            secs.abs() / 60,
            secs.abs() % 60
        );
        let shared: Vec<&str> = item.shared.iter().map(|(k, _)| k.as_str()).collect();
        let mut spans = vec![
            Span::styled(offset_text, t.get("ui.time").patch(base)),
            Span::styled(
                format!("{:<5} ", e.source().short()),
                t.source(e.source()).patch(base),
            ),
            Span::styled(
                format!("{} ", e.severity().short()),
                t.severity(e.severity()).patch(base),
            ),
            Span::styled(
                format!("[{}] ", shared.join(" ")),
                t.get("ui.label").patch(base),
            ),
        ];
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        let (title, _) = text::untrusted(
            e.title(),
            width.saturating_sub(used),
            base,
            t.get("ui.escaped"),
        );
        spans.extend(title);
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The events around the selected one from its source and stream, the selected one marked.
fn draw_context(frame: &mut Frame, inner: Rect, app: &App, focused: bool) {
    let t = &app.theme;
    let c = &app.correlated;
    let width = inner.width as usize;
    let head = " CONTEXT  the same source and stream, before and after (c: correlated)";
    let mut lines = vec![Line::styled(
        text::fit(head, width),
        if focused {
            t.get("ui.title")
        } else {
            t.get("ui.label")
        },
    )];
    let rows = inner.height.saturating_sub(1) as usize;
    // Keep the cursor in view, centred when it can be.
    let offset = c
        .cursor
        .saturating_sub(rows / 2)
        .min(c.context.len().saturating_sub(rows));
    for (i, &pos) in c.context.iter().enumerate().skip(offset).take(rows) {
        let Some(e) = app.data.store.get(pos) else {
            continue;
        };
        let style = if focused && i == c.cursor {
            t.get("ui.selection")
        } else if i == c.context_at {
            t.get("ui.cursor")
        } else {
            t.get("ui")
        };
        let pointer = if i == c.context_at { "›" } else { " " };
        let mut spans = vec![
            Span::styled(pointer, t.get("ui.cursor")),
            Span::styled(
                format!("{} ", e.ts().clock_millis()),
                t.get("ui.time").patch(style),
            ),
            Span::styled(
                format!("{} ", e.severity().short()),
                t.severity(e.severity()).patch(style),
            ),
        ];
        let (body, _) = text::untrusted(
            e.title(),
            width.saturating_sub(18),
            style,
            t.get("ui.escaped"),
        );
        spans.extend(body);
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
