use super::text;
use crate::app::{App, Pane};
use crate::model::{Category, EntityKey};
use crate::store::EventRef;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Column widths: `13:04:05.123 falco CRIT `, then `authn ` when there is room for it.
const PREFIX: usize = 12 + 1 + 5 + 1 + 4 + 1;
const CATEGORY: usize = 5 + 1;
/// Below this width the event text needs the room more; the detail pane lists categories.
const CATEGORY_FROM: usize = 72;

/// The merged timeline: one row per event, only the visible rows are built.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let width = area.width as usize;
    let mut lines = Vec::with_capacity(area.height as usize);
    let focused = app.focus == Pane::Timeline && app.overlay.is_none();
    let header_style = if focused {
        t.get("ui.title")
    } else {
        t.get("ui.label")
    };
    let position = if app.timeline.shown.is_empty() {
        String::new()
    } else {
        format!(
            "{}/{}",
            text::thousands(app.timeline.selected + 1),
            text::thousands(app.timeline.shown.len())
        )
    };
    let with_category = width >= CATEGORY_FROM;
    let head = format!(
        "{:<w$}",
        if with_category {
            "TIME         SOURCE SEV  CAT   EVENT"
        } else {
            "TIME         SOURCE SEV  EVENT"
        },
        w = width.saturating_sub(position.len() + 1)
    );
    lines.push(Line::from(vec![
        Span::styled(
            text::fit(&head, width.saturating_sub(position.len() + 1)),
            header_style,
        ),
        Span::styled(format!("{position} "), t.get("ui.label")),
    ]));
    let rows = area.height.saturating_sub(1) as usize;
    if app.timeline.shown.is_empty() {
        let why = if app.search.running() {
            "searching…"
        } else if app.search.is_active() {
            "no event matches the search (Esc in the search line clears it)"
        } else {
            "no events for this pivot and window (b goes back)"
        };
        lines.push(Line::styled(format!(" {why}"), t.get("ui.muted")));
    }
    let end = (app.timeline.offset + rows).min(app.timeline.shown.len());
    let mut chain_steps: Vec<u32> = app
        .selected_chain()
        .map(|c| c.steps.iter().map(|s| s.pos).collect())
        .unwrap_or_default();
    chain_steps.sort_unstable();
    for i in app.timeline.offset..end {
        let Some(e) = app.data.store.get(app.timeline.shown[i]) else {
            continue;
        };
        let selected = i == app.timeline.selected;
        let mark = app
            .data
            .store
            .id_at(app.timeline.shown[i])
            .and_then(|id| app.marks.get(id));
        let pos = app.timeline.shown[i];
        let in_chain = chain_steps.binary_search(&pos).is_ok();
        let mut line = match app.fold.folded_at(pos) {
            Some(group) => {
                let count = group.members.len();
                folded_row(app, &e, pos, count, width, selected, focused)
            }
            None => row(app, &e, pos, width, selected, focused, mark),
        };
        if in_chain {
            let at = if with_category { 4 } else { 3 };
            line.spans
                .insert(at, Span::styled("◆ ", app.theme.get("ui.cursor")));
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// A row standing for a set of repeated events: `×3,813 ▂▅█▇▅▃▂▁ SSH login failures · user
/// support, oracle +14 · →13:04:07`, at the first event's time and the most severe one's level.
fn folded_row(
    app: &App,
    e: &EventRef,
    pos: u32,
    count: usize,
    width: usize,
    selected: bool,
    focused: bool,
) -> Line<'static> {
    let t = &app.theme;
    let base = row_base(app, selected, focused);
    let summary = app.fold.summary(pos);
    let severity = summary.map_or(e.severity(), |s| s.severity);
    let (mut spans, mut room) = columns(app, e, severity, width, base);
    let badge = format!("×{} ", text::thousands(count));
    let cells = if width >= 100 { 8 } else { 4 };
    let spark = summary
        .map(|s| format!("{} ", s.sparkline(cells)))
        .unwrap_or_default();
    let mut label = app
        .fold
        .signal_name(pos)
        .map_or_else(|| summary_text(e), str::to_string);
    if let Some(s) = summary {
        if let Some(v) = s.varying_text(2) {
            label.push_str(" · ");
            label.push_str(&v);
        }
        label.push_str(&format!(" · →{}", s.last.clock_millis()));
    }
    for (part, style) in [(badge, "ui.title"), (spark, "ui.label")] {
        let part = text::fit(&part, room);
        room = room.saturating_sub(unicode_width::UnicodeWidthStr::width(part.as_str()));
        spans.push(Span::styled(part, t.get(style).patch(base)));
    }
    body(app, spans, &label, room, selected, base)
}

fn row_base(app: &App, selected: bool, focused: bool) -> Style {
    let t = &app.theme;
    if selected {
        if focused {
            t.get("ui.selection")
        } else {
            t.get("ui.selection").patch(t.get("ui.muted"))
        }
    } else {
        Style::default()
    }
}

/// The time, source, severity and (when there is room) category columns, and the room left.
fn columns(
    app: &App,
    e: &EventRef,
    severity: crate::model::Severity,
    width: usize,
    base: Style,
) -> (Vec<Span<'static>>, usize) {
    let t = &app.theme;
    let mut spans = vec![
        Span::styled(
            format!("{} ", e.ts().clock_millis()),
            t.get("ui.time").patch(base),
        ),
        Span::styled(
            format!("{:<5} ", e.source().short()),
            t.source(e.source()).patch(base),
        ),
        Span::styled(
            format!("{} ", severity.short()),
            t.severity(severity).patch(base),
        ),
    ];
    let mut room = width.saturating_sub(PREFIX);
    if width >= CATEGORY_FROM {
        spans.push(Span::styled(
            format!("{:<5} ", category_cell(e)),
            t.get("ui.label").patch(base),
        ));
        room = room.saturating_sub(CATEGORY);
    }
    (spans, room)
}

/// The row's untrusted text in the room left, padded when selected so the bar spans the row.
fn body(
    app: &App,
    mut spans: Vec<Span<'static>>,
    summary: &str,
    room: usize,
    selected: bool,
    base: Style,
) -> Line<'static> {
    let t = &app.theme;
    let (body, used) = text::untrusted(summary, room, t.get("ui").patch(base), t.get("ui.escaped"));
    spans.extend(body);
    if selected && used < room {
        spans.push(Span::styled(" ".repeat(room - used), base));
    }
    Line::from(spans)
}

fn row(
    app: &App,
    e: &EventRef,
    pos: u32,
    width: usize,
    selected: bool,
    focused: bool,
    mark: Option<&crate::app::marks::Mark>,
) -> Line<'static> {
    let base = row_base(app, selected, focused);
    let (spans, room) = columns(app, e, e.severity(), width, base);
    // A step of the selected event's attack chain shows ◆; a starred event ★, an annotated
    // one ✎, and an event of an unfolded set ┆, before its summary.
    let unfolded = if app.fold.in_unfolded(pos) {
        "┆ "
    } else {
        ""
    };
    let summary = match mark {
        Some(m) if m.star => format!("{unfolded}★ {}", summary_text(e)),
        Some(_) => format!("{unfolded}✎ {}", summary_text(e)),
        None => format!("{unfolded}{}", summary_text(e)),
    };
    body(app, spans, &summary, room, selected, base)
}

/// The event's first security-signal category by its short name; `+` when it has more
/// (the detail pane lists them all).
fn category_cell(e: &EventRef) -> String {
    let mut all: Vec<Category> = e
        .entities()
        .filter(|(k, _)| *k == EntityKey::Category)
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    all.sort_unstable();
    match all.as_slice() {
        [] => String::new(),
        [one] => one.short().to_string(),
        [first, ..] => {
            let mut cell: String = first.short().chars().take(4).collect();
            cell.push('+');
            cell
        }
    }
}

/// The title, then the message when it says more than the title. A title taken from the
/// message itself (`sshd: Failed password…`, a JSON line's `msg`) is enough on its own.
fn summary_text(e: &EventRef) -> String {
    let title = e.title();
    let message = e.message();
    let message = message.as_ref();
    let core = title.split_once(": ").map_or(title, |(_, rest)| rest);
    if message.is_empty() || message.contains(core) || title.contains(message) {
        title.to_string()
    } else {
        format!("{title} · {message}")
    }
}
