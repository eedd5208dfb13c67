//! The box every overlay (keys, chains, alerts, case metrics) is drawn in: bordered, titled,
//! centred near the top, over what lies below it.

use super::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

/// An overlay's place on a screen of `area`: at most `most_w` wide and `h` high, centred,
/// one row below the top.
pub fn place(area: Rect, most_w: u16, h: u16) -> Rect {
    let w = area.width.saturating_sub(4).min(most_w);
    Rect::new((area.width - w) / 2, 1, w, h)
}

/// Draws `lines` in the box at `popup`, scrolled down `scroll` lines at most to their end.
pub fn draw(frame: &mut Frame, popup: Rect, t: &Theme, title: &str, lines: Vec<Line>, scroll: u16) {
    let inner = popup.height.saturating_sub(2);
    let scroll = scroll.min((lines.len() as u16).saturating_sub(inner));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.get("ui.border"))
        .title(Span::styled(title.to_string(), t.get("ui.title")));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((scroll, 0)),
        popup,
    );
}

/// A list's row, in the selection's style when the cursor is on it.
pub fn row<'a>(line: Line<'a>, here: bool, t: &Theme) -> Line<'a> {
    if here {
        line.style(t.get("ui.selection"))
    } else {
        line
    }
}
