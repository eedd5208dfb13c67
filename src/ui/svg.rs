//! A rendered screen as SVG, for the README's screenshots: the real buffer the TUI draws,
//! cell by cell, with its colours.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use std::fmt::Write;

const CELL_W: f32 = 8.4;
const CELL_H: f32 = 17.0;
const FG: &str = "#c0caf5";
const BG: &str = "#1a1b26";

fn css(c: Color, default: &str) -> String {
    match c {
        Color::Reset => default.to_string(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Black => "#15161e".into(),
        Color::Red | Color::LightRed => "#f7768e".into(),
        Color::Green | Color::LightGreen => "#9ece6a".into(),
        Color::Yellow | Color::LightYellow => "#e0af68".into(),
        Color::Blue | Color::LightBlue => "#7aa2f7".into(),
        Color::Magenta | Color::LightMagenta => "#bb9af7".into(),
        Color::Cyan | Color::LightCyan => "#7dcfff".into(),
        Color::Gray | Color::White => "#c0caf5".into(),
        Color::DarkGray => "#565f89".into(),
        Color::Indexed(i) => match super::color_depth::palette_rgb(i) {
            Some((r, g, b)) => format!("#{r:02x}{g:02x}{b:02x}"),
            None => default.to_string(),
        },
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The buffer as a standalone SVG document.
pub fn render(buf: &Buffer) -> String {
    let area = buf.area;
    let (w, h) = (area.width as f32 * CELL_W, area.height as f32 * CELL_H);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="{BG}"/>"#);
    for y in 0..area.height {
        // Backgrounds first, in runs.
        let mut x = 0;
        while x < area.width {
            let cell = &buf[(x, y)];
            let reversed = cell.modifier.contains(Modifier::REVERSED);
            let bg = if reversed {
                css(cell.fg, FG)
            } else {
                css(cell.bg, BG)
            };
            let start = x;
            while x < area.width {
                let c = &buf[(x, y)];
                let r = c.modifier.contains(Modifier::REVERSED);
                let b = if r { css(c.fg, FG) } else { css(c.bg, BG) };
                if b != bg {
                    break;
                }
                x += 1;
            }
            if bg != BG {
                let _ = writeln!(
                    out,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{CELL_H}" fill="{bg}"/>"#,
                    start as f32 * CELL_W,
                    y as f32 * CELL_H,
                    (x - start) as f32 * CELL_W
                );
            }
        }
        for x in 0..area.width {
            let cell = &buf[(x, y)];
            let sym = cell.symbol();
            if sym.trim().is_empty() {
                continue;
            }
            let reversed = cell.modifier.contains(Modifier::REVERSED);
            let fg = if reversed {
                css(cell.bg, BG)
            } else {
                css(cell.fg, FG)
            };
            let weight = if cell.modifier.contains(Modifier::BOLD) {
                r#" font-weight="bold""#
            } else {
                ""
            };
            let deco = if cell.modifier.contains(Modifier::UNDERLINED) {
                r#" text-decoration="underline""#
            } else {
                ""
            };
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" fill="{fg}"{weight}{deco}>{}</text>"#,
                x as f32 * CELL_W,
                y as f32 * CELL_H + CELL_H * 0.78,
                escape(sym)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}
