use super::text;
use crate::app::App;
use crate::model::SourceKind;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

/// ` pivot: all › user=mallory │ 2026-11-20 12:30–14:00 UTC │ ● falco 812 ● loki 3.4k …`
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let bar = t.get("ui.bar");
    let width = area.width as usize;
    let mut spans = vec![Span::styled(" pivot: ", bar)];
    let path = app.history.path().join(" › ");
    let mut used = 8;
    let (path_spans, w) = text::untrusted(
        &path,
        width.saturating_sub(used).min(width * 2 / 3),
        t.get("ui.pivot"),
        t.get("ui.escaped").patch(bar),
    );
    spans.extend(path_spans);
    used += w;

    let mut right: Vec<Span> = Vec::new();
    let range = app
        .axis
        .map(|a| a.label())
        .unwrap_or_else(|| "no events".into());
    right.push(Span::styled(format!(" │ {range} │"), bar));
    let counts = app.data.store.counts_by_source();
    for kind in SourceKind::ALL {
        let reports: Vec<_> = app
            .data
            .reports
            .iter()
            .filter(|r| r.kind == kind && !r.retired)
            .collect();
        if reports.is_empty() {
            continue;
        }
        let failed = reports.iter().any(|r| r.error.is_some());
        let loading = reports.iter().find_map(|r| r.progress);
        let live = reports.iter().any(|r| r.live);
        let left_behind: u64 = reports.iter().filter_map(|r| r.not_loaded).sum();
        let what = if live && loading.is_none() {
            format!("{} live", text::compact_count(counts[kind.index()]))
        } else if let Some((done, total)) = loading {
            match total {
                Some(t) if t > 0 => format!(
                    "{} {}%",
                    text::compact_count(counts[kind.index()]),
                    done * 100 / t
                ),
                _ => format!("{} …", text::compact_count(counts[kind.index()])),
            }
        } else if left_behind > 0 {
            let loaded = counts[kind.index()];
            format!(
                "{} of {}",
                text::compact_count(loaded),
                text::compact_count(loaded + left_behind as usize)
            )
        } else if kind == SourceKind::Prometheus {
            let series: usize = reports.iter().map(|r| r.series).sum();
            format!("{series} series")
        } else {
            text::compact_count(counts[kind.index()])
        };
        right.push(Span::styled(
            " ●",
            if failed {
                t.get("ui.notice")
            } else {
                t.source(kind).patch(bar)
            },
        ));
        right.push(Span::styled(format!(" {} {what}", kind.short()), bar));
        if failed {
            right.push(Span::styled(" !", t.get("ui.notice")));
        }
        if reports.iter().any(|r| r.insecure) {
            right.push(Span::styled(" INSECURE TLS", t.get("ui.notice")));
        }
    }
    right.push(Span::styled(" ", bar));
    let right_w: usize = right.iter().map(|s| s.content.width()).sum();
    if used + right_w <= width {
        spans.push(Span::styled(" ".repeat(width - used - right_w), bar));
        spans.extend(right);
    } else {
        // Not enough room: keep the path, then as much of the rest as fits.
        let mut room = width.saturating_sub(used);
        for s in right {
            let w = s.content.width();
            if w > room {
                spans.push(Span::styled(text::fit(&s.content, room), s.style));
                break;
            }
            room -= w;
            spans.push(s);
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}
