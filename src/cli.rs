//! The command line (SPEC §2). Scripts and tests depend on it: change with care.

use crate::model::{parse_duration, TimeRange, Timestamp};
use crate::store::{Pivot, Query};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "casefile",
    version,
    about = "Live incident forensics in the terminal: one timeline over Falco, Loki, Elasticsearch and Prometheus",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub filters: FilterArgs,
    #[command(flatten)]
    pub ui: UiArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the built-in demo incident (no network, no set-up).
    Demo {
        #[command(flatten)]
        filters: FilterArgs,
        #[command(flatten)]
        ui: UiArgs,
        /// Config file (default: $XDG_CONFIG_HOME/casefile/config.toml).
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
    },
    /// The same pipeline headless: normalized events to stdout.
    Query(QueryArgs),
}

#[derive(Debug, Args, Clone, Default)]
pub struct SourceArgs {
    /// The built-in demo incident.
    #[arg(long)]
    pub demo: bool,
    /// Falco JSON lines (`json_output: true`) from a file, or `-` for stdin. Repeatable.
    #[arg(long, value_name = "PATH|-")]
    pub falco: Vec<String>,
    /// Config file (default: $XDG_CONFIG_HOME/casefile/config.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

impl SourceArgs {
    pub fn is_empty(&self) -> bool {
        !self.demo && self.falco.is_empty()
    }
}

#[derive(Debug, Args, Clone, Default)]
pub struct FilterArgs {
    /// Only events from this long ago until now (`90s`, `15m`, `2h`, `7d`).
    #[arg(long, value_name = "DURATION", conflicts_with_all = ["from", "to"])]
    pub since: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    pub from: Option<String>,
    /// Only events before this time (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    pub to: Option<String>,
    /// Only events with this entity (`user=mallory`, `container=5f2c1a9b3d4e`, `commit=9f1c2ab`).
    /// Repeatable: all must hold.
    #[arg(long, value_name = "KEY=VALUE")]
    pub pivot: Vec<String>,
    /// Fuzzy search over titles and messages.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
}

impl FilterArgs {
    /// The store query these filters describe, or a message saying which one is wrong.
    pub fn to_query(&self, now: Timestamp) -> Result<Query, String> {
        let pivots = self
            .pivot
            .iter()
            .map(|p| p.parse::<Pivot>())
            .collect::<Result<Vec<_>, _>>()?;
        let window = if let Some(since) = &self.since {
            let ns = parse_duration(since).ok_or_else(|| {
                format!("--since `{since}` is not a duration like 90s, 15m, 2h or 7d")
            })?;
            TimeRange::new(now.saturating_sub_nanos(ns), Timestamp::MAX)
        } else {
            let parse = |flag: &str, v: &Option<String>, default: Timestamp| match v {
                None => Ok(default),
                Some(s) => Timestamp::parse_rfc3339(s).ok_or_else(|| {
                    format!("{flag} `{s}` is not an RFC 3339 time like 2026-11-20T13:00:00Z")
                }),
            };
            let start = parse("--from", &self.from, Timestamp::MIN)?;
            let end = parse("--to", &self.to, Timestamp::MAX)?;
            if end < start {
                return Err("--to is before --from".into());
            }
            TimeRange::new(start, end)
        };
        Ok(Query { pivots, window })
    }
}

#[derive(Debug, Args, Clone, Default)]
pub struct UiArgs {
    /// Theme name (`dark`, `light`, `mono`, or one in the config directory's themes/).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Keymap name (`default`, `vim`, or one in the config directory's keymaps/).
    #[arg(long, value_name = "NAME")]
    pub keymap: Option<String>,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Jsonl)]
    pub format: OutputFormat,
    /// Print only the number of matching records, alone on stdout.
    #[arg(long)]
    pub count: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One normalized event a line, as in SPEC §3.
    Jsonl,
    /// Aligned columns for reading.
    Table,
}

/// Where the user's themes, keymaps and config live: `$XDG_CONFIG_HOME/casefile`, else
/// `~/.config/casefile`.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("casefile"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config").join("casefile"))
}
