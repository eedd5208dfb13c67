use crate::app::App;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Metric strips: the series that fit the pivot, on the histogram's time axis, with the cursor
/// at the selected event's time.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let size = (frame.area().width, frame.area().height);
    let label_w = super::layout::metric_label_width(size);
    let cursor = app
        .cache
        .histogram
        .as_ref()
        .and_then(|h| super::histogram::selected_column(app, h));
    let mut lines = Vec::new();
    for strip in app.cache.metrics.iter().take(area.height as usize) {
        let peak = format_value(strip.max);
        let name_w = label_w.saturating_sub(peak.len() + 3);
        let (mut spans, used) =
            super::text::untrusted(&strip.label, name_w, t.get("ui.label"), t.get("ui.escaped"));
        spans.insert(0, Span::styled(" ", t.get("ui.label")));
        spans.push(Span::styled(
            format!(
                "{:>w$} ",
                format!("↑{peak}"),
                w = label_w.saturating_sub(used + 2)
            ),
            t.get("ui.muted"),
        ));
        for (i, v) in strip.columns.iter().enumerate() {
            let c = match v {
                Some(v) if strip.max > 0.0 => {
                    LEVELS[((v / strip.max) * 7.0).round().clamp(0.0, 7.0) as usize]
                }
                Some(_) => LEVELS[0],
                None => ' ',
            };
            let style = if Some(i) == cursor {
                t.get("metric.cursor").add_modifier(Modifier::REVERSED)
            } else {
                t.get("metric")
            };
            spans.push(Span::styled(c.to_string(), style));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// `1.9`, `6.1M`, `42k`: short enough for a label column.
fn format_value(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
