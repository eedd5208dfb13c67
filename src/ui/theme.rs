//! Themes as files: `themes/*.toml` embedded, user files in the config directory, `inherits`,
//! a `[palette]`, and scope fallback (`severity.critical` → `severity` → `ui`).

use super::config_file::{self, FileError};
use crate::model::{Severity, SourceKind};
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

pub const PRESETS: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    inherits: Option<String>,
    #[serde(default)]
    palette: HashMap<String, String>,
    #[serde(default)]
    styles: HashMap<String, StyleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Theme {
    pub name: String,
    styles: HashMap<String, Style>,
}

/// A theme before its colours are resolved: inherited style specs are resolved against the
/// child's palette, so a light theme can inherit every style of the dark one and change only
/// colours.
#[derive(Default)]
struct Draft {
    name: String,
    palette: HashMap<String, String>,
    /// scope → (spec, file, line) for error messages.
    specs: HashMap<String, (StyleSpec, String, usize)>,
}

impl Theme {
    /// Loads a theme by name (user file first, then presets). A broken file gives a warning
    /// and the built-in `fallback` theme.
    pub fn load(name: &str, user_dir: Option<&Path>, fallback: &str) -> (Theme, Vec<String>) {
        match Self::load_strict(name, user_dir) {
            Ok(t) => (t, Vec::new()),
            Err(e) => {
                let t = Self::load_strict(fallback, None).unwrap_or_default();
                (t, vec![format!("{e}; using the {fallback} theme")])
            }
        }
    }

    pub fn load_strict(name: &str, user_dir: Option<&Path>) -> Result<Theme, String> {
        Self::resolved(Self::draft(name, user_dir, 0)?)
    }

    /// A theme from the text of a file (`label` names it in errors); `inherits` finds only
    /// the built-in themes.
    pub fn from_text(label: &str, text: &str, name: &str) -> Result<Theme, String> {
        Self::resolved(Self::draft_from(label, text, name, None, 0)?)
    }

    fn resolved(draft: Draft) -> Result<Theme, String> {
        let mut styles = HashMap::new();
        for (scope, (spec, file, line)) in &draft.specs {
            let style = resolve(&draft.palette, spec).map_err(|message| {
                FileError {
                    file: file.clone(),
                    line: *line,
                    message,
                }
                .to_string()
            })?;
            styles.insert(scope.clone(), style);
        }
        Ok(Theme {
            name: draft.name,
            styles,
        })
    }

    fn draft(name: &str, user_dir: Option<&Path>, depth: usize) -> Result<Draft, String> {
        if depth > 8 {
            return Err(format!("theme `{name}`: `inherits` goes round in a loop"));
        }
        let located = config_file::locate("themes", name, user_dir, PRESETS)?;
        Self::draft_from(&located.label, &located.text, name, user_dir, depth)
    }

    fn draft_from(
        label: &str,
        text: &str,
        name: &str,
        user_dir: Option<&Path>,
        depth: usize,
    ) -> Result<Draft, String> {
        let file: ThemeFile = config_file::parse_toml(label, text).map_err(|e| e.to_string())?;
        let mut draft = match &file.inherits {
            // A user file may inherit the built-in theme of its own name.
            Some(parent) => {
                let dir = if parent == name { None } else { user_dir };
                Self::draft(parent, dir, depth + 1)?
            }
            None => Draft::default(),
        };
        draft.name = file.name.unwrap_or_else(|| name.to_string());
        draft.palette.extend(file.palette);
        for (scope, spec) in file.styles {
            let line = config_file::line_of(text, "styles", &scope);
            draft.specs.insert(scope, (spec, label.to_string(), line));
        }
        Ok(draft)
    }

    /// The style of a scope, falling back to its parents and finally to `ui`.
    /// The theme with its colours as a terminal of this depth shows them.
    pub fn for_depth(mut self, depth: super::color_depth::ColorDepth) -> Theme {
        for style in self.styles.values_mut() {
            *style = depth.style(*style);
        }
        self
    }

    pub fn get(&self, scope: &str) -> Style {
        let mut s = scope;
        loop {
            if let Some(style) = self.styles.get(s) {
                return *style;
            }
            match s.rfind('.') {
                Some(i) => s = &s[..i],
                None => return self.styles.get("ui").copied().unwrap_or_default(),
            }
        }
    }

    pub fn source(&self, source: SourceKind) -> Style {
        self.get(&format!("source.{}", source.as_str()))
    }

    pub fn severity(&self, severity: Severity) -> Style {
        self.get(&format!("severity.{}", severity.as_str()))
    }
}

fn resolve(palette: &HashMap<String, String>, spec: &StyleSpec) -> Result<Style, String> {
    let color = |s: &str| {
        let value = palette.get(s).map(String::as_str).unwrap_or(s);
        parse_color(value).ok_or_else(|| {
            format!("unknown colour `{s}` (use #rrggbb, a colour name, or a [palette] entry)")
        })
    };
    let mut style = Style::default();
    if let Some(fg) = &spec.fg {
        style = style.fg(color(fg)?);
    }
    if let Some(bg) = &spec.bg {
        style = style.bg(color(bg)?);
    }
    for m in &spec.modifiers {
        let modifier = parse_modifier(m).ok_or_else(|| format!("unknown modifier `{m}`"))?;
        style = style.add_modifier(modifier);
    }
    Ok(style)
}

fn parse_modifier(s: &str) -> Option<Modifier> {
    Some(match s {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" => Modifier::UNDERLINED,
        "reversed" => Modifier::REVERSED,
        "crossed_out" => Modifier::CROSSED_OUT,
        "slow_blink" => Modifier::SLOW_BLINK,
        _ => return None,
    })
}

fn parse_color(s: &str) -> Option<Color> {
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() == 6 {
            let n = u32::from_str_radix(hex, 16).ok()?;
            return Some(Color::Rgb((n >> 16) as u8, (n >> 8) as u8, n as u8));
        }
        return None;
    }
    Some(match s.to_ascii_lowercase().as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_loads_and_falls_back_by_scope() {
        for (name, _) in PRESETS {
            let t = Theme::load_strict(name, None).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&t.name, name);
        }
        let dark = Theme::load_strict("dark", None).unwrap();
        assert_eq!(
            dark.get("severity.critical").fg,
            Some(Color::Rgb(0xf7, 0x76, 0x8e))
        );
        // No `ui.selection.extra`: falls back to `ui.selection`.
        assert_eq!(dark.get("ui.selection.extra"), dark.get("ui.selection"));
        assert_eq!(dark.get("nothing.here"), dark.get("ui"));
        // The light theme inherits the styles and swaps the palette.
        let light = Theme::load_strict("light", None).unwrap();
        assert_eq!(
            light.get("severity.critical").fg,
            Some(Color::Rgb(0xcf, 0x22, 0x2e))
        );
        assert!(light
            .get("severity.critical")
            .add_modifier
            .contains(Modifier::BOLD));
        // Monochrome has no colour anywhere.
        let mono = Theme::load_strict("mono", None).unwrap();
        for scope in [
            "ui",
            "ui.selection",
            "source.falco",
            "severity.critical",
            "metric",
        ] {
            assert_eq!(mono.get(scope).fg, None, "{scope}");
            assert_eq!(mono.get(scope).bg, None, "{scope}");
        }
    }

    #[test]
    fn broken_user_themes_name_file_and_line() {
        let dir = std::env::temp_dir().join(format!("casefile-theme-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("themes")).unwrap();
        std::fs::write(
            dir.join("themes/bad.toml"),
            "inherits = \"dark\"\n[styles]\n\"ui\" = { fg = \"chartreuse-ish\" }\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("themes/typo.toml"),
            "[styles]\n\"ui\" = { fgg = \"red\" }\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("themes/mine.toml"),
            "inherits = \"dark\"\n[palette]\nred = \"#010203\"\n",
        )
        .unwrap();
        let err = Theme::load_strict("bad", Some(&dir)).unwrap_err();
        assert!(
            err.contains("bad.toml:3: unknown colour `chartreuse-ish`"),
            "{err}"
        );
        let err = Theme::load_strict("typo", Some(&dir)).unwrap_err();
        assert!(err.contains("typo.toml:2:") && err.contains("fgg"), "{err}");
        let (t, warnings) = Theme::load("bad", Some(&dir), "dark");
        assert_eq!((t.name.as_str(), warnings.len()), ("dark", 1));
        let mine = Theme::load_strict("mine", Some(&dir)).unwrap();
        assert_eq!(mine.get("severity.critical").fg, Some(Color::Rgb(1, 2, 3)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
