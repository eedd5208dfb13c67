use super::keymap::Context;
use super::popup;
use crate::app::App;
use ratatui::text::{Line, Span};
use ratatui::Frame;

/// The active keymap, generated from the keymap itself, so it can never disagree with it.
pub fn draw(frame: &mut Frame, app: &App, scroll: u16) {
    let t = &app.theme;
    let area = frame.area();
    let place = popup::place(area, 84, area.height.saturating_sub(2));
    let mut lines = Vec::new();
    for ctx in Context::ALL {
        let bindings = app.keymap.bindings(ctx);
        if bindings.is_empty() {
            continue;
        }
        let title = match ctx {
            Context::Global => "Everywhere",
            Context::Timeline => "Timeline",
            Context::Detail => "Detail",
            Context::Search => "Search line (other keys type)",
            Context::Query => "Query line (other keys type)",
            Context::Tree => "Process tree",
            Context::Correlated => "Correlated events",
            Context::Note => "Note line (other keys type)",
            Context::Help => "This help",
            Context::Chains => "Attack chains list",
            Context::Export => "Export line (other keys type)",
        };
        lines.push(Line::styled(title, t.get("ui.title")));
        let doc_room = (place.width as usize).saturating_sub(2 + 2 + 18 + 16);
        for (keys, action) in bindings {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<18}"), t.get("ui.cursor")),
                Span::styled(format!("{:<16}", action.name()), t.get("ui.label")),
                Span::raw(super::text::fit(action.doc(), doc_room)),
            ]));
        }
        lines.push(Line::raw(""));
    }
    let dir = crate::cli::config_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|| "~/.config/casefile".into());
    lines.push(Line::styled(
        format!(
            "keymap `{}` · theme `{}` · your own: {dir}/keymaps, {dir}/themes",
            app.keymap.name, app.theme.name
        ),
        t.get("ui.muted"),
    ));
    popup::draw(frame, place, t, " keys — Esc closes ", lines, scroll);
}
