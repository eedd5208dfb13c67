//! Drawing. Every function here reads the app's state and writes to the frame; none of them
//! mutates state or does I/O.

mod alerts;
pub mod case_metrics;
pub mod chains;
pub mod clipboard;
pub mod color_depth;
pub mod config_file;
mod correlated;
mod detail;
mod help;
pub mod histogram;
pub mod keymap;
pub mod layout;
mod metrics;
mod pivot_bar;
mod popup;
pub mod scroll_region;
mod status;
pub mod svg;
pub mod text;
pub mod theme;
mod timeline;
mod tree;

use crate::app::{App, Overlay, Pane};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw(frame: &mut Frame, app: &App) {
    let size = (frame.area().width, frame.area().height);
    let areas = layout::areas(size, app.cache.metrics.len(), app.focus != Pane::Timeline);
    pivot_bar::draw(frame, areas.pivot_bar, app);
    histogram::draw(frame, areas.histogram, app);
    if let Some(tabs) = areas.tabs {
        draw_tabs(frame, tabs, app);
    }
    if let Some(area) = areas.timeline {
        timeline::draw(frame, area, app);
    }
    if let Some(area) = areas.detail {
        // The right-hand pane (or the tab) shows the focused pane, else the last one chosen.
        let showing = if app.focus == Pane::Timeline {
            app.right
        } else {
            app.focus
        };
        if showing == Pane::Tree {
            tree::draw(frame, area, app, areas.tabs.is_none());
        } else if showing == Pane::Correlated {
            correlated::draw(frame, area, app, areas.tabs.is_none());
        } else {
            detail::draw(frame, area, app, areas.tabs.is_none());
        }
    }
    metrics::draw(frame, areas.metrics, app);
    status::draw(frame, areas.status, app);
    if let Some(editor) = app
        .query_editor
        .as_ref()
        .filter(|e| !e.candidates.is_empty())
    {
        // Completion candidates on the row above the query line.
        let y = areas.status.y.saturating_sub(1);
        let row = ratatui::layout::Rect::new(0, y, areas.status.width, 1);
        let list = format!(" Tab: {}", editor.candidates.join("  "));
        let (spans, _) = text::untrusted(
            &list,
            row.width as usize,
            app.theme.get("ui.bar"),
            app.theme.get("ui.escaped"),
        );
        frame.render_widget(ratatui::widgets::Clear, row);
        frame.render_widget(
            Paragraph::new(Line::from(spans)).style(app.theme.get("ui.bar")),
            row,
        );
    }
    if let Some(Overlay::Chains { cursor }) = app.overlay {
        chains::draw(frame, app, cursor);
    }
    if let Some(Overlay::Alerts { cursor }) = app.overlay {
        alerts::draw(frame, app, cursor);
    }
    if let Some(Overlay::CaseMetrics { scroll }) = app.overlay {
        case_metrics::draw(frame, app, scroll);
    }
    if let Some(Overlay::Help { scroll }) = app.overlay {
        help::draw(frame, app, scroll);
    }
}

/// The frame of a right-hand pane: a left border beside the timeline, none as a tab.
/// Returns the area inside it.
fn pane_frame(
    frame: &mut Frame,
    area: ratatui::layout::Rect,
    app: &App,
    bordered: bool,
) -> ratatui::layout::Rect {
    let block = if bordered {
        ratatui::widgets::Block::default()
            .borders(ratatui::widgets::Borders::LEFT)
            .border_style(app.theme.get("ui.border"))
    } else {
        ratatui::widgets::Block::default()
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// ` Timeline (5,210) │ Detail ` at narrow widths, where the panes are tabs.
fn draw_tabs(frame: &mut Frame, area: ratatui::layout::Rect, app: &App) {
    let t = &app.theme;
    let style_for = |pane: Pane| {
        if app.focus == pane {
            t.get("ui.tab.active")
        } else {
            t.get("ui.tab")
        }
    };
    let key = app
        .keymap
        .key_for(
            crate::ui::keymap::Context::Timeline,
            crate::app::Action::NextPane,
        )
        .unwrap_or_default();
    let line = Line::from(vec![
        Span::raw(" "),
        Span::styled(
            format!(
                "Timeline ({})",
                text::thousands(app.timeline.events().len())
            ),
            style_for(Pane::Timeline),
        ),
        Span::styled(" │ ", t.get("ui.border")),
        Span::styled("Detail", style_for(Pane::Detail)),
        Span::styled(" │ ", t.get("ui.border")),
        Span::styled("Tree", style_for(Pane::Tree)),
        Span::styled(" │ ", t.get("ui.border")),
        Span::styled("Related", style_for(Pane::Correlated)),
        Span::styled(format!("   {key} switches"), t.get("ui.muted")),
    ]);
    frame.render_widget(Paragraph::new(line).style(Style::default()), area);
}
