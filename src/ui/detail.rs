use super::text;
use crate::app::{App, Pane};
use crate::sanitize;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// The selected event: normalized fields, entities (each one a pivot), and the raw record.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, bordered: bool) {
    let t = &app.theme;
    let focused = app.focus == Pane::Detail && app.overlay.is_none();
    let inner = super::pane_frame(frame, area, app, bordered);
    let width = inner.width as usize;
    let Some(e) = app.detail.pos.and_then(|p| app.data.store.get(p)) else {
        frame.render_widget(
            Paragraph::new(Line::styled(" no event selected", t.get("ui.muted"))),
            inner,
        );
        return;
    };
    let label = t.get("ui.label");
    let esc = t.get("ui.escaped");
    let field = |name: &str, value: &str| -> Line<'static> {
        let mut spans = vec![Span::styled(format!(" {name:<9}"), label)];
        let (v, _) = text::untrusted(value, width.saturating_sub(10), t.get("ui"), esc);
        spans.extend(v);
        Line::from(spans)
    };
    // Every row is one `Line` (cut or wrapped here), so scrolling can count rows exactly.
    let mut lines = vec![text::clip(
        vec![
            Span::styled(
                if focused { " DETAIL" } else { " detail" },
                if focused { t.get("ui.title") } else { label },
            ),
            Span::styled(format!("  {}", e.ts().to_rfc3339()), t.get("ui.time")),
        ],
        width,
    )];
    lines.push(text::clip(
        vec![
            Span::styled(" source   ", label),
            Span::styled(e.source().as_str().to_string(), t.source(e.source())),
            Span::raw(format!(
                " ({})  ",
                text::fit(&sanitize::line(e.source_name()), 24)
            )),
            Span::styled("kind ", label),
            Span::raw(format!("{}  ", e.kind().as_str())),
            Span::styled("severity ", label),
            Span::styled(e.severity().as_str().to_string(), t.severity(e.severity())),
        ],
        width,
    ));
    lines.push(field("title", e.title()));
    // A folded row: what it stands for, then the first event's detail.
    if let Some(s) = app
        .detail
        .pos
        .filter(|&p| app.fold.folded_at(p).is_some())
        .and_then(|p| app.fold.summary(p))
    {
        lines.push(field(
            "folded",
            &format!(
                "{} events {} → {} ({}) · z unfolds",
                text::thousands(s.count),
                s.first.clock_millis(),
                s.last.clock_millis(),
                crate::model::human_duration(s.last.nanos() - s.first.nanos())
            ),
        ));
        for v in &s.varying {
            let more = v.distinct - v.values.len();
            let mut list = v.values.join(", ");
            if more > 0 {
                list.push_str(&format!(" +{more}"));
            }
            lines.push(field(
                v.key.as_str(),
                &format!("{} values: {list}", text::thousands(v.distinct)),
            ));
        }
    }
    // The analyst's own marks (typed here, but shown sanitized like everything else).
    if let Some(m) = app
        .detail
        .pos
        .and_then(|p| app.data.store.id_at(p))
        .and_then(|id| app.marks.get(id))
    {
        let mut text = String::new();
        if m.star {
            text.push_str("★ ");
        }
        for tag in &m.tags {
            text.push_str(&format!("#{tag} "));
        }
        text.push_str(&m.note);
        lines.push(field("mark", text.trim()));
    }
    if let Some(p) = e.process() {
        let mut s = String::new();
        if let Some(n) = p.name() {
            s.push_str(n);
        }
        if let Some(pid) = p.pid() {
            s.push_str(&format!(" pid {pid}"));
        }
        if let Some(ppid) = p.ppid() {
            s.push_str(&format!(" ppid {ppid}"));
        }
        if let Some(parent) = p.parent_name() {
            s.push_str(&format!(" parent {parent}"));
        }
        lines.push(field("process", s.trim()));
        if let Some(cmd) = p.cmdline() {
            lines.push(field("cmdline", cmd));
        }
    }
    lines.push(text::clip(
        vec![Span::styled(
            if focused {
                " ENTITIES  Enter pivots · + adds to the pivot"
            } else {
                " entities"
            },
            if focused { t.get("ui.title") } else { label },
        )],
        width,
    ));
    let mut cursor_line = None;
    if app.detail.entities.is_empty() {
        lines.push(Line::styled("   (none)", t.get("ui.muted")));
    }
    for (i, (key, value, count)) in app.detail.entities.iter().enumerate() {
        let chosen = focused && i == app.detail.cursor;
        if chosen {
            cursor_line = Some(lines.len() as u16);
        }
        let marker = if chosen { " › " } else { "   " };
        let row_style = if chosen {
            t.get("ui.selection")
        } else {
            t.get("ui")
        };
        let mut spans = vec![
            Span::styled(marker.to_string(), t.get("ui.cursor")),
            Span::styled(format!("{:<10}", key.as_str()), label.patch(row_style)),
        ];
        let count_text = format!(" {}", text::count_of(*count, "event"));
        let (v, _) = text::untrusted(
            value,
            width.saturating_sub(13 + count_text.len()),
            row_style,
            esc,
        );
        spans.extend(v);
        spans.push(Span::styled(count_text, t.get("ui.muted")));
        lines.push(Line::from(spans));
    }
    // The message wraps: it is the part people read. Its own line breaks (a Wazuh file
    // change, a stack trace) start new rows, under the first.
    let message = e.message();
    if !message.is_empty() && message != e.title() {
        let parts = message.trim_end_matches(['\n', '\r']).split('\n');
        for (i, part) in parts.enumerate() {
            let prefix = if i == 0 {
                Span::styled(" message  ", label)
            } else {
                Span::raw(" ".repeat(" message  ".len()))
            };
            lines.extend(text::wrap_untrusted(
                vec![prefix],
                part.strip_suffix('\r').unwrap_or(part),
                width,
                t.get("ui"),
                esc,
            ));
        }
    }
    let tags: Vec<&str> = e.tags().collect();
    if !tags.is_empty() {
        lines.push(field("tags", &tags.join(" ")));
    }
    lines.push(Line::styled(" raw record", label));
    // A frame draws at most this many rows of a raw record: a multi-megabyte record is cut,
    // with a pointer to where the whole of it can be read.
    const MAX_ROWS: usize = 4_000;
    for raw_line in app.detail.raw_pretty.lines() {
        if lines.len() >= MAX_ROWS {
            lines.push(Line::styled(
                " … the record goes on; `casefile query --format jsonl` prints it whole",
                t.get("ui.muted"),
            ));
            break;
        }
        // Never wrap more of a line than the rows left can show.
        let room = (MAX_ROWS - lines.len()) * width.max(1);
        let cut = match raw_line.char_indices().nth(room) {
            Some((i, _)) => &raw_line[..i],
            None => raw_line,
        };
        let mut rows = text::wrap_untrusted(vec![Span::raw(" ")], cut, width, t.get("ui"), esc);
        rows.truncate(MAX_ROWS.saturating_sub(lines.len()).max(1));
        lines.extend(rows);
    }
    let total = lines.len().min(u16::MAX as usize) as u16;
    let mut scroll = app.detail.scroll.min(total.saturating_sub(inner.height));
    // Keep the chosen entity on screen.
    if let Some(c) = cursor_line {
        if c < scroll {
            scroll = c;
        } else if c >= scroll + inner.height {
            scroll = c + 1 - inner.height;
        }
    }
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}
