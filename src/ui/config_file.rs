//! Loading the user's TOML files (themes, keymaps) over the presets embedded in the binary, with
//! errors that name the file and line.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem in one file, at one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Where a named file comes from.
#[derive(Debug, Clone)]
pub struct Located {
    /// `themes/dark.toml (built in)` or the user's path.
    pub label: String,
    pub text: String,
}

/// The user's `DIR/KIND/NAME.toml` if it exists, else the embedded preset of that name.
pub fn locate(
    kind: &str,
    name: &str,
    user_dir: Option<&Path>,
    presets: &[(&str, &str)],
) -> Result<Located, String> {
    if let Some(dir) = user_dir {
        let path: PathBuf = dir.join(kind).join(format!("{name}.toml"));
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                return Ok(Located {
                    label: path.display().to_string(),
                    text,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    presets
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| Located {
            label: format!("{kind}/{n}.toml (built in)"),
            text: text.to_string(),
        })
        .ok_or_else(|| {
            let names: Vec<&str> = presets.iter().map(|(n, _)| *n).collect();
            format!("no {kind} named `{name}` (built in: {})", names.join(", "))
        })
}

/// Parses TOML, turning a syntax error into a file-and-line error.
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, FileError> {
    toml::from_str(text).map_err(|e| FileError {
        file: file.to_string(),
        line: e.span().map_or(1, |s| line_at(text, s.start)),
        message: e.message().trim().to_string(),
    })
}

/// 1-based line of a byte offset.
pub fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `key` is defined inside `[section]` (or at top level when `section` is empty).
pub fn line_of(text: &str, section: &str, key: &str) -> usize {
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = s.trim().trim_matches('"').to_string();
            continue;
        }
        if current == section {
            let k = line
                .split('=')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            if k == key {
                return i + 1;
            }
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_keys_and_offsets() {
        let text = "name = \"x\"\n[global]\n\"q\" = \"quit\"\n[timeline]\nj = \"down\"\n";
        assert_eq!(line_of(text, "global", "q"), 3);
        assert_eq!(line_of(text, "timeline", "j"), 5);
        assert_eq!(line_of(text, "", "name"), 1);
        assert_eq!(line_at(text, text.find("[timeline]").unwrap()), 4);
    }
}
