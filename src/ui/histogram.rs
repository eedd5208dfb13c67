use crate::app::App;
use crate::store::Histogram;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

const LEVELS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Events over time, coloured by the source with the most events in each column, on the same
/// axis as the metric strips; the selected event's column is marked. Heights are square-root
/// scaled so that a handful of events still shows beside a brute force of thousands.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(hist) = &app.cache.histogram else {
        return;
    };
    let t = &app.theme;
    let label_w = super::layout::metric_label_width((frame.area().width, frame.area().height));
    let rows = area.height as usize;
    let max = (hist.max_total().max(1) as f64).sqrt();
    let cursor = selected_column(app, hist);
    let mut lines = Vec::with_capacity(rows);
    for row in 0..rows {
        // Row 0 is the top; each row holds 8 levels.
        let floor = (rows - 1 - row) * 8;
        let mut spans = Vec::with_capacity(hist.buckets.len() + 1);
        let label = match row {
            0 => super::text::count_of(app.timeline.events().len(), "event"),
            _ => String::new(),
        };
        spans.push(Span::styled(
            format!("{:<w$}", super::text::fit(&label, label_w), w = label_w),
            t.get("ui.label"),
        ));
        for (i, b) in hist.buckets.iter().enumerate() {
            let total = Histogram::total(b);
            let eighths = if total == 0 {
                0
            } else {
                (((total as f64).sqrt() / max) * (rows * 8) as f64)
                    .ceil()
                    .max(1.0) as usize
            };
            let level = eighths.saturating_sub(floor).min(8);
            let mut style = Histogram::dominant(b).map_or(t.get("ui.muted"), |s| t.source(s));
            let mut c = LEVELS[level];
            if Some(i) == cursor {
                style = style
                    .patch(t.get("ui.cursor"))
                    .add_modifier(Modifier::REVERSED);
                if c == ' ' {
                    c = '│';
                }
            }
            spans.push(Span::styled(c.to_string(), style));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// The column of the selected event on the shared axis.
pub fn selected_column(app: &App, hist: &Histogram) -> Option<usize> {
    let ts = app
        .timeline
        .selected_pos()
        .and_then(|p| app.data.store.get(p))?
        .ts();
    column_of(ts, hist.range, hist.buckets.len())
}

pub fn column_of(
    ts: crate::model::Timestamp,
    range: crate::model::TimeRange,
    width: usize,
) -> Option<usize> {
    if !range.contains(ts) || width == 0 {
        return None;
    }
    let span = (range.end.0 as i128 - range.start.0 as i128).max(1);
    Some((((ts.0 as i128 - range.start.0 as i128) * width as i128 / span) as usize).min(width - 1))
}
