//! Keymaps as files: `keymaps/*.toml` embedded, user files merged key by key over them,
//! sequences such as `g g` resolved through a pending state.

use super::config_file::{self, FileError};
use crate::app::action::Action;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

pub const PRESETS: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("vim", include_str!("../../keymaps/vim.toml")),
];

/// Where a key applies. `Global` keys work everywhere except while typing a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Context {
    Global,
    Timeline,
    Detail,
    Search,
    Help,
    Query,
    Tree,
    Correlated,
    Note,
    Chains,
    Export,
}

impl Context {
    pub const ALL: [Context; 11] = [
        Context::Global,
        Context::Timeline,
        Context::Detail,
        Context::Search,
        Context::Tree,
        Context::Correlated,
        Context::Help,
        Context::Chains,
        Context::Query,
        Context::Note,
        Context::Export,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Timeline => "timeline",
            Context::Detail => "detail",
            Context::Search => "search",
            Context::Help => "help",
            Context::Query => "query",
            Context::Tree => "tree",
            Context::Correlated => "correlated",
            Context::Note => "note",
            Context::Chains => "chains",
            Context::Export => "export",
        }
    }
}

/// One key press, normalized so that `G` is `G` whether or not the terminal reports Shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPress {
    code: KeyCodeOrd,
    mods: u8,
}

/// `KeyCode` is not `Ord`; this is the subset keymaps can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyCodeOrd {
    Char(char),
    F(u8),
    Named(&'static str),
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pgup", KeyCode::PageUp),
    ("pgdown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
];

const CTRL: u8 = 1;
const ALT: u8 = 2;

impl KeyPress {
    pub fn from_event(ev: &KeyEvent) -> Option<KeyPress> {
        let mut mods = 0;
        if ev.modifiers.contains(KeyModifiers::CONTROL) {
            mods |= CTRL;
        }
        if ev.modifiers.contains(KeyModifiers::ALT) {
            mods |= ALT;
        }
        let code = match ev.code {
            KeyCode::Char(c) => KeyCodeOrd::Char(if mods & CTRL != 0 {
                c.to_ascii_lowercase()
            } else {
                c
            }),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            other => KeyCodeOrd::Named(NAMED.iter().find(|(_, k)| *k == other)?.0),
        };
        Some(KeyPress { code, mods })
    }

    fn parse(s: &str) -> Result<KeyPress, String> {
        let mut mods = 0;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                mods |= CTRL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                mods |= ALT;
                rest = r;
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCodeOrd::Char(if mods & CTRL != 0 {
                c.to_ascii_lowercase()
            } else {
                c
            }),
            _ if rest == "space" => KeyCodeOrd::Char(' '),
            _ if rest.starts_with('f') && rest[1..].parse::<u8>().is_ok() => {
                KeyCodeOrd::F(rest[1..].parse().unwrap_or(1))
            }
            _ => KeyCodeOrd::Named(
                NAMED
                    .iter()
                    .find(|(n, _)| *n == rest)
                    .ok_or_else(|| format!("unknown key `{s}`"))?
                    .0,
            ),
        };
        Ok(KeyPress { code, mods })
    }
}

impl fmt::Display for KeyPress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods & CTRL != 0 {
            f.write_str("ctrl-")?;
        }
        if self.mods & ALT != 0 {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "f{n}"),
            KeyCodeOrd::Named(n) => f.write_str(n),
        }
    }
}

pub type KeySeq = Vec<KeyPress>;

fn parse_seq(s: &str) -> Result<KeySeq, String> {
    if s == " " {
        return Ok(vec![KeyPress::parse("space")?]);
    }
    let seq: Vec<KeyPress> = s
        .split_whitespace()
        .map(KeyPress::parse)
        .collect::<Result<_, _>>()?;
    if seq.is_empty() {
        return Err("empty key".into());
    }
    Ok(seq)
}

pub fn seq_label(seq: &[KeyPress]) -> String {
    seq.iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeymapFile {
    name: Option<String>,
    inherits: Option<String>,
    #[serde(default)]
    global: BTreeMap<String, String>,
    #[serde(default)]
    timeline: BTreeMap<String, String>,
    #[serde(default)]
    detail: BTreeMap<String, String>,
    #[serde(default)]
    search: BTreeMap<String, String>,
    #[serde(default)]
    help: BTreeMap<String, String>,
    #[serde(default)]
    chains: BTreeMap<String, String>,
    #[serde(default)]
    export: BTreeMap<String, String>,
    #[serde(default)]
    query: BTreeMap<String, String>,
    #[serde(default)]
    tree: BTreeMap<String, String>,
    #[serde(default)]
    correlated: BTreeMap<String, String>,
    #[serde(default)]
    note: BTreeMap<String, String>,
}

/// The active bindings, in a stable order for the help screen.
#[derive(Debug, Clone)]
pub struct Keymap {
    pub name: String,
    bindings: BTreeMap<(Context, KeySeq), Action>,
}

/// The outcome of a key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Action(Action),
    /// The keys so far start a longer binding (`g` of `g g`).
    Pending,
    Unbound,
}

impl Keymap {
    /// Loads a keymap by name: the user's file if there is one, else the preset. A broken file
    /// gives a warning and the built-in `default` keymap, never a dead program.
    pub fn load(name: &str, user_dir: Option<&Path>) -> (Keymap, Vec<String>) {
        match Self::load_strict(name, user_dir, 0) {
            Ok(k) => (k, Vec::new()),
            Err(e) => {
                let fallback = Self::load_strict("default", None, 0).unwrap_or_else(|_| Keymap {
                    name: "default".into(),
                    bindings: BTreeMap::new(),
                });
                (fallback, vec![format!("{e}; using the default keymap")])
            }
        }
    }

    pub fn load_strict(
        name: &str,
        user_dir: Option<&Path>,
        depth: usize,
    ) -> Result<Keymap, String> {
        if depth > 8 {
            return Err(format!("keymap `{name}`: `inherits` goes round in a loop"));
        }
        let located = config_file::locate("keymaps", name, user_dir, PRESETS)?;
        Self::from_text(&located.label, &located.text, name, user_dir, depth)
    }

    pub fn from_text(
        label: &str,
        text: &str,
        name: &str,
        user_dir: Option<&Path>,
        depth: usize,
    ) -> Result<Keymap, String> {
        let file: KeymapFile = config_file::parse_toml(label, text).map_err(|e| e.to_string())?;
        let mut keymap = match &file.inherits {
            // A user file may inherit the built-in keymap of its own name.
            Some(parent) => {
                let dir = if parent == name { None } else { user_dir };
                Self::load_strict(parent, dir, depth + 1)?
            }
            None => Keymap {
                name: name.to_string(),
                bindings: BTreeMap::new(),
            },
        };
        keymap.name = file.name.clone().unwrap_or_else(|| name.to_string());
        let sections = [
            (Context::Global, &file.global),
            (Context::Timeline, &file.timeline),
            (Context::Detail, &file.detail),
            (Context::Search, &file.search),
            (Context::Help, &file.help),
            (Context::Chains, &file.chains),
            (Context::Export, &file.export),
            (Context::Query, &file.query),
            (Context::Tree, &file.tree),
            (Context::Correlated, &file.correlated),
            (Context::Note, &file.note),
        ];
        for (ctx, table) in sections {
            for (key, action) in table {
                let err = |message: String| FileError {
                    file: label.to_string(),
                    line: config_file::line_of(text, ctx.name(), key),
                    message,
                };
                let seq = parse_seq(key).map_err(|m| err(m).to_string())?;
                if action == "none" {
                    keymap.bindings.remove(&(ctx, seq));
                    continue;
                }
                let action = Action::from_name(action).ok_or_else(|| {
                    err(format!("unknown action `{action}` for key `{key}` (see `?` in casefile for the list)")).to_string()
                })?;
                keymap.bindings.insert((ctx, seq), action);
            }
        }
        Ok(keymap)
    }

    /// Looks a key sequence up in a context, then in `global` (except while typing a search).
    pub fn lookup(&self, ctx: Context, seq: &[KeyPress]) -> Lookup {
        let contexts: &[Context] = match ctx {
            Context::Search => &[Context::Search],
            Context::Query => &[Context::Query],
            Context::Note => &[Context::Note],
            Context::Export => &[Context::Export],
            Context::Global => &[Context::Global],
            other => &[other, Context::Global],
        };
        for &c in contexts {
            if let Some(a) = self.bindings.get(&(c, seq.to_vec())) {
                return Lookup::Action(*a);
            }
        }
        for &c in contexts {
            let longer = self
                .bindings
                .keys()
                .any(|(bc, s)| *bc == c && s.len() > seq.len() && s.starts_with(seq));
            if longer {
                return Lookup::Pending;
            }
        }
        Lookup::Unbound
    }

    /// The first key bound to an action in a context (or globally), for hints.
    pub fn key_for(&self, ctx: Context, action: Action) -> Option<String> {
        [ctx, Context::Global].iter().find_map(|c| {
            self.bindings
                .iter()
                .filter(|((bc, _), a)| bc == c && **a == action)
                .map(|((_, s), _)| seq_label(s))
                .min_by_key(|l| (l.len(), l.clone()))
        })
    }

    /// All bindings of a context: `(keys, action)`, grouped by action in registry order.
    pub fn bindings(&self, ctx: Context) -> Vec<(String, Action)> {
        let mut by_action: Vec<(Action, Vec<String>)> = Vec::new();
        for ((c, seq), a) in &self.bindings {
            if *c != ctx {
                continue;
            }
            match by_action.iter_mut().find(|(x, _)| x == a) {
                Some((_, keys)) => keys.push(seq_label(seq)),
                None => by_action.push((*a, vec![seq_label(seq)])),
            }
        }
        let order = |a: &Action| {
            crate::app::action::REGISTRY
                .iter()
                .position(|(x, _, _)| x == a)
        };
        by_action.sort_by_key(|(a, _)| order(a));
        by_action
            .into_iter()
            .map(|(a, keys)| (keys.join(", "), a))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventKind;

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyPress {
        let mut ev = KeyEvent::new(code, mods);
        ev.kind = KeyEventKind::Press;
        KeyPress::from_event(&ev).unwrap()
    }

    #[test]
    fn every_preset_loads() {
        for (name, _) in PRESETS {
            let k = Keymap::load_strict(name, None, 0).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                k.lookup(
                    Context::Timeline,
                    &[press(KeyCode::Char('q'), KeyModifiers::NONE)]
                ),
                Lookup::Action(Action::Quit)
            );
        }
    }

    #[test]
    fn vim_sequences_and_inheritance() {
        let k = Keymap::load_strict("vim", None, 0).unwrap();
        let g = press(KeyCode::Char('g'), KeyModifiers::NONE);
        assert_eq!(k.lookup(Context::Timeline, &[g]), Lookup::Pending);
        assert_eq!(
            k.lookup(Context::Timeline, &[g, g]),
            Lookup::Action(Action::Top)
        );
        // Shift reported or not, `G` is `G`.
        let big_g = press(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(
            k.lookup(Context::Timeline, &[big_g]),
            Lookup::Action(Action::Bottom)
        );
        // Inherited from default.
        let enter = press(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(
            k.lookup(Context::Timeline, &[enter]),
            Lookup::Action(Action::OpenDetail)
        );
        let ctrl_d = press(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(
            k.lookup(Context::Timeline, &[ctrl_d]),
            Lookup::Action(Action::HalfPageDown)
        );
        // Search input never sees global letters.
        let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(k.lookup(Context::Search, &[q]), Lookup::Unbound);
    }

    #[test]
    fn broken_user_files_name_file_and_line_and_fall_back() {
        let dir = std::env::temp_dir().join(format!("casefile-keymap-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("keymaps")).unwrap();
        std::fs::write(
            dir.join("keymaps/mine.toml"),
            "inherits = \"default\"\n[timeline]\n\"z\" = \"explode\"\n",
        )
        .unwrap();
        std::fs::write(dir.join("keymaps/syntax.toml"), "[timeline\n").unwrap();
        std::fs::write(
            dir.join("keymaps/ok.toml"),
            "inherits = \"default\"\n[timeline]\n\"z\" = \"quit\"\n\"q\" = \"none\"\n",
        )
        .unwrap();
        let err = Keymap::load_strict("mine", Some(&dir), 0).unwrap_err();
        assert!(
            err.contains("mine.toml:3: unknown action `explode`"),
            "{err}"
        );
        let err = Keymap::load_strict("syntax", Some(&dir), 0).unwrap_err();
        assert!(err.contains("syntax.toml:1:"), "{err}");
        let (fallback, warnings) = Keymap::load("mine", Some(&dir));
        assert_eq!(fallback.name, "default");
        assert_eq!(warnings.len(), 1);
        let ok = Keymap::load_strict("ok", Some(&dir), 0).unwrap();
        let z = press(KeyCode::Char('z'), KeyModifiers::NONE);
        let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(
            ok.lookup(Context::Timeline, &[z]),
            Lookup::Action(Action::Quit)
        );
        // Unbound in timeline, but still bound globally by the default keymap.
        assert_eq!(
            ok.lookup(Context::Timeline, &[q]),
            Lookup::Action(Action::Quit)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
