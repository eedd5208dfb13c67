use super::popup;
use crate::app::App;
use ratatui::text::{Line, Span};
use ratatui::Frame;

/// The attack chains the rules find: each with its steps in order (time, source, title); the
/// chain holding the selected event first and marked. A cursor is on one step; the list
/// scrolls to keep it in sight.
pub fn draw(frame: &mut Frame, app: &App, cursor: usize) {
    let t = &app.theme;
    let area = frame.area();
    let h = area.height.saturating_sub(2);
    let place = popup::place(area, 110, h);
    let width = place.width.saturating_sub(2) as usize;
    let selected = app.selected_chain();
    let store = &app.data.store;
    let mut lines = Vec::new();
    if let Some(percent) = app.chains.progress() {
        lines.push(Line::styled(
            format!(
                " finding chains in {} events… {percent}%",
                super::text::thousands(store.len())
            ),
            t.get("ui.muted"),
        ));
    } else if !app.chains.is_current(store) {
        lines.push(Line::styled(
            format!(
                " {} events are not searched yet: close and press C to search them",
                super::text::thousands(app.chains.behind(store))
            ),
            t.get("ui.muted"),
        ));
    } else if app.chains.found.is_empty() {
        lines.push(Line::styled(
            " no chain found by the rules",
            t.get("ui.muted"),
        ));
    }
    let mut step_index = 0;
    let mut cursor_line = 0;
    for chain in app.chains.in_list_order(app.timeline.selected_pos()) {
        let mark = if Some(chain) == selected {
            "◆ "
        } else {
            "  "
        };
        let (name, _) = super::text::untrusted(
            &format!("{mark}{}", chain.rule),
            width,
            t.get("ui.title"),
            t.get("ui.escaped"),
        );
        lines.push(Line::from(name));
        for (i, step) in chain.steps.iter().enumerate() {
            let here = step_index == cursor;
            step_index += 1;
            let Some(e) = store.get(step.pos) else {
                continue;
            };
            let count = if step.count > 1 {
                format!(" ×{}", step.count)
            } else {
                String::new()
            };
            if here {
                cursor_line = lines.len();
            }
            let mut spans = vec![
                Span::styled(
                    format!("{}{}. ", if here { "› " } else { "  " }, i + 1),
                    t.get(if here { "ui.cursor" } else { "ui.label" }),
                ),
                Span::styled(format!("{} ", e.ts().clock_millis()), t.get("ui.time")),
                Span::styled(format!("{:<5} ", e.source().short()), t.source(e.source())),
            ];
            let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
            let (title, _) = super::text::untrusted(
                &format!("{}{count}: {}", step.name, e.title()),
                width.saturating_sub(used),
                t.get("ui"),
                t.get("ui.escaped"),
            );
            spans.extend(title);
            lines.push(popup::row(Line::from(spans), here, t));
        }
        lines.push(Line::raw(""));
    }
    let inner = h.saturating_sub(2) as usize;
    let max_scroll = lines.len().saturating_sub(inner);
    // The chain's name above the cursor stays in sight when it fits.
    let scroll = cursor_line
        .saturating_sub(inner.saturating_sub(2))
        .min(max_scroll) as u16;
    let title = " attack chains (rules/chains.toml) — j/k step, Enter selects it, Esc closes ";
    popup::draw(frame, place, t, title, lines, scroll);
}
