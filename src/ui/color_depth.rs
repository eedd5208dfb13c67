//! How many colours the terminal shows. Themes are written in 24-bit colour; a terminal that
//! does not say it has 24-bit colour (`COLORTERM=truecolor` or `24bit`, which SSH does not pass
//! on by default) gets the nearest colours of the xterm 256-colour palette, which every
//! `xterm-256color` terminal shows the same way. Shorter sequences too: `38;5;60` instead of
//! `38;2;86;95;137`, a third fewer bytes for each change of colour on a slow link.

use ratatui::style::{Color, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorDepth {
    TrueColor,
    Palette256,
}

impl ColorDepth {
    /// From `COLORTERM`, as terminals set it.
    pub fn from_colorterm(colorterm: Option<&str>) -> ColorDepth {
        match colorterm.map(str::to_ascii_lowercase).as_deref() {
            Some("truecolor" | "24bit") => ColorDepth::TrueColor,
            _ => ColorDepth::Palette256,
        }
    }

    pub fn from_env() -> ColorDepth {
        Self::from_colorterm(std::env::var("COLORTERM").ok().as_deref())
    }

    /// The style with its colours as this depth shows them.
    pub fn style(self, s: Style) -> Style {
        Style {
            fg: s.fg.map(|c| self.color(c)),
            bg: s.bg.map(|c| self.color(c)),
            underline_color: s.underline_color.map(|c| self.color(c)),
            ..s
        }
    }

    pub fn color(self, c: Color) -> Color {
        match (self, c) {
            (ColorDepth::Palette256, Color::Rgb(r, g, b)) => Color::Indexed(nearest_256(r, g, b)),
            _ => c,
        }
    }
}

/// The levels of each channel in the palette's 6×6×6 cube (indexes 16 to 231).
const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// The nearest colour of the cube or of the grey ramp (232 to 255: 8, 18, … 238).
pub fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    let level = |v: u8| {
        (0..6)
            .min_by_key(|&i| (CUBE[i] as i32 - v as i32).abs())
            .unwrap_or(0)
    };
    let (ri, gi, bi) = (level(r), level(g), level(b));
    let distance = |(x, y, z): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (a as i32 - b as i32).pow(2);
        d(x, r) + d(y, g) + d(z, b)
    };
    let cube = (CUBE[ri], CUBE[gi], CUBE[bi]);
    let average = (r as u32 + g as u32 + b as u32) / 3;
    let grey_i = ((average.saturating_sub(3)) / 10).min(23) as u8;
    let grey_v = 8 + 10 * grey_i;
    if distance((grey_v, grey_v, grey_v)) < distance(cube) {
        232 + grey_i
    } else {
        16 + 36 * ri as u8 + 6 * gi as u8 + bi as u8
    }
}

/// The colour of a palette index of the cube or the grey ramp (the first 16 are the
/// terminal's own and have no fixed colour).
pub fn palette_rgb(i: u8) -> Option<(u8, u8, u8)> {
    match i {
        16..=231 => {
            let n = (i - 16) as usize;
            Some((CUBE[n / 36], CUBE[(n / 6) % 6], CUBE[n % 6]))
        }
        232..=255 => {
            let v = 8 + 10 * (i - 232);
            Some((v, v, v))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_map_to_the_nearest_of_the_palette() {
        assert_eq!(nearest_256(0, 0, 0), 16);
        assert_eq!(nearest_256(255, 255, 255), 231);
        assert_eq!(nearest_256(255, 0, 0), 196);
        assert_eq!(nearest_256(0x5f, 0x87, 0xaf), 67);
        // Greys go to the ramp, which is finer than the cube's diagonal.
        assert_eq!(nearest_256(0x80, 0x80, 0x80), 244);
        assert_eq!(nearest_256(0x12, 0x12, 0x12), 233);
        // The dark theme's muted blue-grey: closer to a cube colour than to a grey.
        assert_eq!(nearest_256(86, 95, 137), 60);
        // Every colour of the cube and the ramp maps back to itself.
        for i in 16..=255u8 {
            let (r, g, b) = palette_rgb(i).unwrap();
            assert_eq!(nearest_256(r, g, b), i, "{i}");
        }
        assert_eq!(palette_rgb(7), None);
    }

    #[test]
    fn the_depth_comes_from_colorterm() {
        assert_eq!(
            ColorDepth::from_colorterm(Some("truecolor")),
            ColorDepth::TrueColor
        );
        assert_eq!(
            ColorDepth::from_colorterm(Some("24BIT")),
            ColorDepth::TrueColor
        );
        assert_eq!(ColorDepth::from_colorterm(None), ColorDepth::Palette256);
        assert_eq!(ColorDepth::from_colorterm(Some("")), ColorDepth::Palette256);
        let s = Style::default().fg(Color::Rgb(255, 0, 0)).bg(Color::Reset);
        assert_eq!(
            ColorDepth::Palette256.style(s),
            Style::default().fg(Color::Indexed(196)).bg(Color::Reset)
        );
        assert_eq!(ColorDepth::TrueColor.style(s), s);
    }
}
