//! The user's config file: `$XDG_CONFIG_HOME/casefile/config.toml`, or `--config PATH`.
//!
//! ```toml
//! theme = "light"
//! keymap = "vim"
//! chains_auto_limit = 200000
//! sign_key = "/home/me/.config/casefile/me.key"
//!
//! # Which native field feeds which entity, on top of the built-in tables (SPEC §4).
//! [entities.falco]
//! "k8s.pod.label.owner" = "user"
//! [entities.loki]
//! trace_user = "user"
//!
//! # Grafana Explore and Kibana Discover links for the pivot and window (`y`, `Y`).
//! [links]
//! grafana = "https://grafana.example"
//! grafana_loki_uid = "P8E80F9AEF21F6940"
//! grafana_prometheus_uid = "PBFA97CFB590B2093"
//! kibana = "https://kibana.example"
//! kibana_data_view = "logs-*"
//! ```
//!
//! Precedence, lowest first: built-in defaults < this file < command-line flags.

use crate::config_sources::SourceConfig;
use crate::model::EntityKey;
use crate::sources::mapping::EntityTables;
use crate::sources::spec::SourceSpec;
use crate::ui::config_file::{self, FileError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub theme: Option<String>,
    pub keymap: Option<String>,
    /// Events one live source loads at most before it reads the newest first and stops.
    pub budget: Option<usize>,
    /// Up to how many events the TUI finds the attack chains again on its own whenever data
    /// arrives; above it, only when `C` is pressed.
    pub chains_auto_limit: Option<usize>,
    /// Whether the TUI starts with repeated events folded (default: yes).
    pub fold: Option<bool>,
    /// Ring the terminal bell when a live alert is raised (default: no).
    pub bell: Option<bool>,
    /// A key from `casefile keygen`: bundles exported from the TUI (`e`) are signed with it.
    pub sign_key: Option<PathBuf>,
    #[serde(default)]
    entities: BTreeMap<String, BTreeMap<String, String>>,
    /// Named sources, used when the command line names none.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Where Grafana and Kibana are, for the links `y` and `Y` copy.
    #[serde(default)]
    pub links: crate::case_links::LinkSettings,
    /// The file this came from, for messages.
    #[serde(skip)]
    pub path: Option<PathBuf>,
    #[serde(skip)]
    text: String,
}

impl Config {
    /// Reads the config. An explicit `--config` that cannot be read is an error; a missing
    /// default file is simply no config.
    pub fn load(explicit: Option<&Path>, config_dir: Option<&Path>) -> Result<Config, String> {
        let (path, required) = match (explicit, config_dir) {
            (Some(p), _) => (p.to_path_buf(), true),
            (None, Some(dir)) => (dir.join("config.toml"), false),
            (None, None) => return Ok(Config::default()),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default())
            }
            Err(e) => return Err(format!("cannot read config {}: {e}", path.display())),
        };
        let label = path.display().to_string();
        let mut config = Config::from_text(&label, text)?;
        config.path = Some(path);
        Ok(config)
    }

    /// The config in a file's text (`label` names it in errors), its entity mappings checked.
    pub fn from_text(label: &str, text: String) -> Result<Config, String> {
        let mut config: Config =
            config_file::parse_toml(label, &text).map_err(|e| e.to_string())?;
        config.text = text;
        // Errors in the entity rows name the file too.
        config.path = Some(label.into());
        config.entity_tables()?;
        Ok(config)
    }

    /// The named sources as specs. Errors name the file, the `[[sources]]` entry's line and
    /// the problem; secrets come from the environment (or files) they point to.
    pub fn source_specs(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<SourceSpec>, String> {
        let label = self
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let headers: Vec<usize> = self
            .text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim() == "[[sources]]")
            .map(|(i, _)| i + 1)
            .collect();
        self.sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.to_spec(env).map_err(|message| {
                    FileError {
                        file: label.clone(),
                        line: headers.get(i).copied().unwrap_or(1),
                        message: format!("source `{}`: {message}", s.name),
                    }
                    .to_string()
                })
            })
            .collect()
    }

    /// The built-in entity tables with this file's rows applied.
    pub fn entity_tables(&self) -> Result<EntityTables, String> {
        let mut tables = EntityTables::default();
        let label = self
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        for (source, rows) in &self.entities {
            let section = format!("entities.{source}");
            let table = tables.by_source_mut(source).ok_or_else(|| {
                FileError {
                    file: label.clone(),
                    line: self
                        .text
                        .lines()
                        .position(|l| l.trim().trim_matches(['[', ']']).trim_matches('"') == section)
                        .map_or(1, |i| i + 1),
                    message: format!("unknown source `[entities.{source}]` (falco, loki, elasticsearch, prometheus, wazuh, sysdig, k8s-audit, zabbix, alertmanager, grafana)"),
                }
                .to_string()
            })?;
            for (field, key) in rows {
                let key: EntityKey = key.parse().map_err(|m: String| {
                    FileError {
                        file: label.clone(),
                        line: config_file::line_of(&self.text, &section, field),
                        message: m,
                    }
                    .to_string()
                })?;
                table.set(field, key);
            }
        }
        Ok(tables)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_settings_and_entity_rows_with_line_errors() {
        let dir = std::env::temp_dir().join(format!("casefile-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(
            &good,
            "theme = \"light\"\nchains_auto_limit = 5000\n[entities.falco]\n\"k8s.pod.label.owner\" = \"user\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&good), None).unwrap();
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert_eq!(c.chains_auto_limit, Some(5000));
        let tables = c.entity_tables().unwrap();
        assert!(tables
            .falco
            .rows()
            .any(|(f, k)| f == "k8s.pod.label.owner" && k == EntityKey::User));
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[entities.loki]\nfoo = \"user\"\nbar = \"colour\"\n").unwrap();
        let err = Config::load(Some(&bad), None).unwrap_err();
        assert!(
            err.contains("bad.toml:3: unknown entity key `colour`"),
            "{err}"
        );
        let typo = dir.join("typo.toml");
        std::fs::write(&typo, "theem = \"dark\"\n").unwrap();
        assert!(Config::load(Some(&typo), None)
            .unwrap_err()
            .contains("typo.toml:1:"));
        assert!(Config::load(Some(&dir.join("missing.toml")), None).is_err());
        assert!(Config::load(None, Some(&dir.join("nowhere")))
            .unwrap()
            .theme
            .is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
