use super::text;
use crate::app::{App, Pane};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// The process tree of the selected event's container or host; the selected event's process
/// is marked, the cursor row highlighted when the pane has the keys.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, bordered: bool) {
    let t = &app.theme;
    let focused = app.focus == Pane::Tree && app.overlay.is_none();
    let inner = super::pane_frame(frame, area, app, bordered);
    let width = inner.width as usize;
    let tree = &app.tree;
    let title = match &tree.scope {
        Some(scope) => format!(" PROCESS TREE  {}", scope.label()),
        None => " PROCESS TREE".to_string(),
    };
    let (head, _) = text::untrusted(
        &title,
        width,
        if focused {
            t.get("ui.title")
        } else {
            t.get("ui.label")
        },
        t.get("ui.escaped"),
    );
    let mut lines = vec![Line::from(head)];
    if tree.rows.is_empty() {
        lines.push(Line::styled(
            " no process information for the selected event",
            t.get("ui.muted"),
        ));
    }
    let rows = inner.height.saturating_sub(1) as usize;
    // Keep the cursor in view.
    let offset = tree.cursor.saturating_sub(rows.saturating_sub(1));
    for (i, &(n, depth)) in tree.rows.iter().enumerate().skip(offset).take(rows) {
        let node = &tree.forest.nodes[n];
        let is_selected_event = Some(n) == tree.selected_node;
        let style = if focused && i == tree.cursor {
            t.get("ui.selection")
        } else if is_selected_event {
            t.get("ui.cursor")
        } else {
            t.get("ui")
        };
        let marker = if tree.collapsed.contains(&n) {
            "▸ "
        } else if node.children.is_empty() {
            "  "
        } else {
            "▾ "
        };
        let mut label = format!("{}{marker}{} ({})", "  ".repeat(depth), node.name, node.pid);
        if let Some(u) = &node.user {
            label.push_str(&format!(" {u}"));
        }
        if let Some(c) = &node.cmdline {
            label.push_str(&format!(": {c}"));
        }
        if node.placeholder {
            label.push_str(" [not seen]");
        }
        let pointer = if is_selected_event { "›" } else { " " };
        let mut spans = vec![Span::styled(pointer, t.get("ui.cursor"))];
        let (body, used) =
            text::untrusted(&label, width.saturating_sub(1), style, t.get("ui.escaped"));
        spans.extend(body);
        if focused && i == tree.cursor && used + 1 < width {
            spans.push(Span::styled(" ".repeat(width - used - 1), style));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
