use super::keymap::Context;
use super::text;
use crate::app::{Action, App, Pane};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

/// The bottom line: the search being typed, or a notice, or key hints; counts on the right.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let bar = t.get("ui.bar");
    let width = area.width as usize;
    let right = right_side(app);
    let right_w = right.width();
    let room = width.saturating_sub(right_w + 1);
    let mut spans: Vec<Span> = Vec::new();
    if let Some(crate::app::export::ExportState::Asking { path, all }) = &app.export {
        let scope = if *all {
            format!(
                "all {} events loaded",
                text::thousands(app.data.store.len())
            )
        } else {
            format!(
                "the {} events shown",
                text::thousands(app.timeline.events().len())
            )
        };
        let hint = format!(
            "  {scope} (Tab: {}), Enter writes, Esc leaves",
            if *all { "shown" } else { "all" }
        );
        spans.push(Span::styled(" EXPORT TO ", t.get("ui.key")));
        let (q, used) = text::untrusted(
            path,
            room.saturating_sub(12 + hint.chars().count()).max(8),
            bar,
            t.get("ui.escaped").patch(bar),
        );
        spans.extend(q);
        spans.push(Span::styled("▏", t.get("ui.cursor").patch(bar)));
        let left = room.saturating_sub(12 + used + 1);
        spans.push(Span::styled(
            text::fit(&hint, left),
            t.get("ui.muted").patch(bar),
        ));
    } else if let Some(input) = &app.note_input {
        spans.push(Span::styled(" NOTE ", t.get("ui.key")));
        let (q, _) = text::untrusted(
            input,
            room.saturating_sub(10),
            bar,
            t.get("ui.escaped").patch(bar),
        );
        spans.extend(q);
        spans.push(Span::styled("▏", t.get("ui.cursor").patch(bar)));
    } else if let Some(editor) = &app.query_editor {
        spans.push(Span::styled(" LogQL ", t.get("ui.key")));
        let (q, _) = text::untrusted(
            &editor.input,
            room.saturating_sub(10),
            bar,
            t.get("ui.escaped").patch(bar),
        );
        spans.extend(q);
        spans.push(Span::styled("▏", t.get("ui.cursor").patch(bar)));
    } else if app.search.editing || app.search.is_active() {
        let key = if app.search.editing {
            " / "
        } else {
            " search: "
        };
        spans.push(Span::styled(key, t.get("ui.key")));
        let (s, _) = text::untrusted(
            &app.search.input,
            room.saturating_sub(key.len() + 2),
            bar,
            t.get("ui.escaped").patch(bar),
        );
        spans.extend(s);
        if app.search.editing {
            spans.push(Span::styled("▏", t.get("ui.cursor").patch(bar)));
        }
    } else if let Some(n) = app.notice.clone().or_else(|| first_source_error(app)) {
        spans.push(Span::styled(
            format!(
                " {}",
                text::fit(&crate::sanitize::line(&n), room.saturating_sub(1))
            ),
            t.get("ui.notice"),
        ));
    } else {
        spans.extend(hints(app, room));
    }
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    spans.push(Span::styled(
        " ".repeat(width.saturating_sub(used + right_w)),
        bar,
    ));
    spans.push(Span::styled(right, bar));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}

fn right_side(app: &App) -> String {
    let mut parts = Vec::new();
    if let Some(waiting) = &app.frozen {
        let batches = waiting.len();
        let key = app
            .keymap
            .key_for(Context::Timeline, Action::Freeze)
            .unwrap_or_default();
        parts.push(format!("FROZEN, {batches} updates waiting ({key} resumes)"));
    }
    let loading: Vec<(u64, Option<u64>)> =
        app.data.reports.iter().filter_map(|r| r.progress).collect();
    if !loading.is_empty() {
        let done: u64 = loading.iter().map(|(d, _)| d).sum();
        let total: Option<u64> = loading.iter().map(|(_, t)| *t).sum();
        let key = app
            .keymap
            .key_for(Context::Timeline, Action::CancelLoading)
            .map(|k| format!(", {k} stops"))
            .unwrap_or_default();
        match total {
            Some(t) if t > 0 => parts.push(format!("loading {}%{key}", done * 100 / t)),
            _ => parts.push(format!("loading{key}")),
        }
    }
    if let Some(p) = app.search.progress() {
        parts.push(format!("searching {p}%"));
    }
    if let Some(player) = &app.replay {
        parts.push(format!(
            "replay ×{} at {}",
            crate::app::speed_text(player.speed.get()),
            &player.clock.get().clock_millis()[..8]
        ));
    }
    if let Some(p) = app.export.as_ref().and_then(|e| e.progress()) {
        parts.push(format!("exporting {p}% (Esc stops)"));
    }
    let shown = app.timeline.events().len();
    let total = app.data.store.len();
    if shown == total {
        parts.push(text::count_of(total, "event").trim_start().to_string());
    } else {
        parts.push(format!(
            "{} of {}",
            text::thousands(shown),
            text::thousands(total)
        ));
    }
    if let Some(a) = app.alerts.as_ref().filter(|a| a.raised() > 0) {
        parts.push(format!(
            "⚑ {} (A)",
            text::count_of(a.raised(), "alert").trim_start()
        ));
    }
    if app.timeline.shown.len() < shown {
        parts.push(format!(
            "{} rows",
            text::thousands(app.timeline.shown.len())
        ));
    }
    let left_behind: u64 = app.data.reports.iter().filter_map(|r| r.not_loaded).sum();
    if left_behind > 0 {
        parts.push(format!(
            "{} more on the server",
            text::compact_count(left_behind as usize)
        ));
    }
    let skipped = app.data.total_skipped();
    if skipped > 0 {
        parts.push(format!("{} skipped", text::thousands(skipped)));
    }
    let failed = app
        .data
        .reports
        .iter()
        .filter(|r| r.error.is_some())
        .count();
    if failed > 0 {
        parts.push(format!(
            "{failed} source error{}",
            if failed == 1 { "" } else { "s" }
        ));
    }
    format!("{} ", parts.join(" · "))
}

/// `? help  / search  ↵ detail  p pivot  b back  q quit`, from the active keymap, as many as fit.
fn hints(app: &App, room: usize) -> Vec<Span<'static>> {
    let t = &app.theme;
    let ctx = if app.focus == Pane::Detail {
        Context::Detail
    } else {
        Context::Timeline
    };
    let wanted: &[(Action, &str)] = match ctx {
        Context::Detail => &[
            (Action::Help, "help"),
            (Action::Pivot, "pivot"),
            (Action::PivotAdd, "add"),
            (Action::Back, "back"),
            (Action::Close, "close"),
            (Action::Search, "search"),
            (Action::Quit, "quit"),
        ],
        _ => &[
            (Action::Help, "help"),
            (Action::Search, "search"),
            (Action::OpenDetail, "detail"),
            (Action::PivotMenu, "pivot"),
            (Action::Back, "back"),
            (Action::NextPane, "pane"),
            (Action::Quit, "quit"),
        ],
    };
    let mut spans = Vec::new();
    let mut used = 0;
    for (action, label) in wanted {
        let Some(key) = app.keymap.key_for(ctx, *action) else {
            continue;
        };
        let w = key.width() + label.len() + 3;
        if used + w > room {
            break;
        }
        spans.push(Span::styled(format!(" {key}"), t.get("ui.key")));
        spans.push(Span::styled(format!(" {label} "), t.get("ui.bar")));
        used += w;
    }
    spans
}

/// `loki-prod: HTTP 401: no org id`: a failing source stays in view, in the server's words.
fn first_source_error(app: &App) -> Option<String> {
    app.data
        .reports
        .iter()
        .find_map(|r| r.error.as_ref().map(|e| format!("! {}: {e}", r.name)))
}
