//! The command line (SPEC §2). Scripts and tests depend on it: change with care.

use crate::model::{parse_duration, TimeRange, Timestamp};
use crate::sources::spec::{Auth, Endpoint, SourceSpec};
use crate::store::{Pivot, Query};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "casefile",
    version,
    about = "Live incident forensics in the terminal: one timeline over Falco, Loki, Elasticsearch, Prometheus, Wazuh, Sysdig, Kubernetes audit, Alertmanager, Zabbix and Grafana",
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
        /// Play the incident through the live view, in its original spacing (see --speed).
        #[arg(long)]
        live: bool,
        /// With --live: how many times faster than it happened (default 60).
        #[arg(long, value_name = "N", requires = "live")]
        speed: Option<f64>,
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
    /// Process trees as text: one process per line, indented by depth, with name and pid.
    Tree(TreeArgs),
    /// Attack chains found by the rules (rules/chains.toml, or chains.toml in the config dir).
    Chains(ChainsArgs),
    /// Live alerts as JSON lines on stdout, one per alert or update, de-duplicated: files are
    /// followed, stdin read to its end, Loki tailed (rules/alerts.toml, alerts.toml in the
    /// config dir, or --rules FILE). Ends on SIGINT or SIGTERM, or when every source has.
    Watch(WatchArgs),
    /// Write a case bundle: the chosen events, series, sources and queries, chains, with a
    /// SHA-256 for every member (BUNDLE.md). Secrets are redacted first.
    Export(ExportArgs),
    /// Check a case bundle: exit 0 when intact, 1 naming the changed member (and record).
    Verify {
        #[arg(value_name = "CASE.casefile")]
        path: PathBuf,
        /// Also require a signature by this key (`NAME.pub` from `casefile keygen`).
        #[arg(long, value_name = "KEY.pub")]
        pubkey: Option<PathBuf>,
    },
    /// Make an ed25519 key pair for signing bundles: NAME.key (yours only) and NAME.pub.
    Keygen {
        #[arg(value_name = "NAME")]
        name: PathBuf,
    },
    /// Print a Grafana Explore or Kibana Discover link for the sources and filters (where
    /// Grafana and Kibana are: `[links]` in the config file).
    Link(LinkArgs),
    /// Open a case bundle in the TUI, with no network: exactly what was exported.
    Replay {
        #[arg(value_name = "CASE.casefile")]
        path: PathBuf,
        /// Play the events in their original spacing, N times faster (`<` and `>` change it).
        #[arg(long, value_name = "N")]
        speed: Option<f64>,
        #[command(flatten)]
        ui: UiArgs,
    },
    /// The post-incident timeline of a case bundle, checked first: summary, metrics,
    /// entities, chains, marked events and the bundle's SHA-256, as Markdown or one
    /// self-contained HTML page.
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(value_name = "CASE.casefile")]
    pub path: PathBuf,
    /// Where to write the report (default: stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// `md` (Markdown, readable in any repository viewer) or `html` (one page, plots inline).
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Md,
    Html,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Where to write the bundle (`CASE.casefile`).
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,
    /// Sign it with this key (`NAME.key` from `casefile keygen`).
    #[arg(long, value_name = "KEY.key")]
    pub sign: Option<PathBuf>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SourceArgs {
    /// The built-in demo incident.
    #[arg(long)]
    pub demo: bool,
    /// A case bundle (`casefile export`), read with no network.
    #[arg(long, value_name = "CASE.casefile")]
    pub bundle: Option<PathBuf>,
    /// Falco JSON lines (`json_output: true`) from a file, or `-` for stdin. Repeatable.
    #[arg(long, value_name = "PATH|-")]
    pub falco: Vec<String>,
    /// Receive Falco http_output / falcosidekick POSTs on this address (`127.0.0.1:2801`).
    #[arg(long = "falco-listen", value_name = "ADDR")]
    pub falco_listen: Option<String>,
    /// Grafana Loki base URL (default: $LOKI_ADDR when --logql is given).
    #[arg(long, value_name = "URL")]
    pub loki: Option<String>,
    /// The LogQL query for --loki.
    #[arg(long, value_name = "QUERY")]
    pub logql: Option<String>,
    /// Elasticsearch or OpenSearch base URL.
    #[arg(long, value_name = "URL")]
    pub es: Option<String>,
    /// Index pattern for --es (`logs-*`).
    #[arg(long = "es-index", value_name = "PATTERN")]
    pub es_index: Option<String>,
    /// Query string (Lucene syntax) for --es.
    #[arg(long = "es-query", value_name = "QUERY")]
    pub es_query: Option<String>,
    /// Prometheus base URL. Repeatable.
    #[arg(long, value_name = "URL")]
    pub prom: Vec<String>,
    /// A PromQL query for --prom. Repeatable.
    #[arg(long, value_name = "QUERY")]
    pub promql: Vec<String>,
    /// Alertmanager base URL: its alerts (`/api/v2/alerts`) as firing-alert events. Repeatable.
    #[arg(long, value_name = "URL")]
    pub alertmanager: Vec<String>,
    /// Zabbix frontend URL: problems and recoveries over JSON-RPC, with $ZABBIX_API_TOKEN.
    #[arg(long, value_name = "URL")]
    pub zabbix: Vec<String>,
    /// Grafana base URL: its annotations as events, with $GRAFANA_TOKEN (a service account).
    #[arg(long, value_name = "URL")]
    pub grafana: Vec<String>,
    /// Wazuh alerts (`alerts.json` lines of a manager), or `-` for stdin. Repeatable.
    #[arg(long, value_name = "PATH|-")]
    pub wazuh: Vec<String>,
    /// `sysdig -j` output (system calls as JSON lines), or `-` for stdin. Repeatable.
    #[arg(long, value_name = "PATH|-")]
    pub sysdig: Vec<String>,
    /// A Kubernetes audit log (`audit.k8s.io/v1` Event lines), or `-` for stdin. Repeatable.
    #[arg(long = "k8s-audit", value_name = "PATH|-")]
    pub k8s_audit: Vec<String>,
    /// Config file (default: $XDG_CONFIG_HOME/casefile/config.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

impl SourceArgs {
    /// The Wazuh, Sysdig and Kubernetes audit files named, in that order.
    pub fn line_files(&self) -> Vec<(crate::file_sources::LineFormat, &str)> {
        use crate::file_sources::LineFormat;
        [
            (LineFormat::Wazuh, &self.wazuh),
            (LineFormat::Sysdig, &self.sysdig),
            (LineFormat::K8sAudit, &self.k8s_audit),
        ]
        .into_iter()
        .flat_map(|(format, paths)| paths.iter().map(move |p| (format, p.as_str())))
        .collect()
    }

    /// How many inputs read stdin (`-`): it can be read only once.
    pub fn stdin_readers(&self) -> usize {
        self.falco
            .iter()
            .map(String::as_str)
            .chain(self.line_files().into_iter().map(|(_, p)| p))
            .filter(|p| *p == "-")
            .count()
    }

    pub fn is_empty(&self) -> bool {
        !self.demo
            && self.bundle.is_none()
            && self.falco.is_empty()
            && self.line_files().is_empty()
            && self.falco_listen.is_none()
            && self.loki.is_none()
            && self.logql.is_none()
            && self.es.is_none()
            && self.prom.is_empty()
            && self.alertmanager.is_empty()
            && self.zabbix.is_empty()
            && self.grafana.is_empty()
    }

    /// The live sources these flags name, with credentials from the environment (Loki's as
    /// logcli names them). `env` is a parameter so tests need not touch the process.
    pub fn live_specs(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<SourceSpec>, String> {
        let mut specs = Vec::new();
        let loki_url = self
            .loki
            .clone()
            .or_else(|| self.logql.as_ref().and(env("LOKI_ADDR")));
        match (loki_url, &self.logql) {
            (Some(url), Some(q)) => {
                let mut endpoint = Endpoint::new(&url);
                endpoint.tenant = env("LOKI_ORG_ID");
                let token = env("LOKI_BEARER_TOKEN").or_else(|| {
                    env("LOKI_BEARER_TOKEN_FILE")
                        .and_then(|f| std::fs::read_to_string(f).ok())
                        .map(|t| t.trim().to_string())
                });
                if let Some(t) = token {
                    endpoint.auth = Auth::Bearer(t);
                } else if let (Some(user), Some(password)) =
                    (env("LOKI_USERNAME"), env("LOKI_PASSWORD"))
                {
                    endpoint.auth = Auth::Basic { user, password };
                }
                endpoint.tls.ca_cert = env("LOKI_CA_CERT_PATH").map(PathBuf::from);
                endpoint.tls.insecure =
                    env("LOKI_TLS_SKIP_VERIFY").is_some_and(|v| v == "true" || v == "1");
                specs.push(SourceSpec::Loki {
                    endpoint,
                    query: q.clone(),
                });
            }
            (Some(_), None) => return Err("--loki needs a query: --logql '{job=\"sshd\"}'".into()),
            (None, Some(_)) => return Err("--logql needs a Loki: --loki URL (or LOKI_ADDR)".into()),
            (None, None) => {}
        }
        match (&self.es, &self.es_index) {
            (Some(url), Some(index)) => {
                let mut endpoint = Endpoint::new(url);
                if let Some(key) = env("ES_API_KEY") {
                    endpoint.auth = Auth::ApiKey(key);
                } else if let (Some(user), Some(password)) =
                    (env("ES_USERNAME"), env("ES_PASSWORD"))
                {
                    endpoint.auth = Auth::Basic { user, password };
                }
                endpoint.tls.ca_cert = env("ES_CA_CERT").map(PathBuf::from);
                specs.push(SourceSpec::Elasticsearch {
                    endpoint,
                    index: index.clone(),
                    query: self.es_query.clone(),
                });
            }
            (Some(_), None) => {
                return Err("--es needs an index pattern: --es-index 'logs-*'".into())
            }
            (None, Some(_)) => return Err("--es-index needs --es URL".into()),
            (None, None) if self.es_query.is_some() => {
                return Err("--es-query needs --es URL --es-index PATTERN".into())
            }
            (None, None) => {}
        }
        if !self.promql.is_empty() && self.prom.is_empty() {
            return Err("--promql needs a Prometheus: --prom URL".into());
        }
        for url in &self.prom {
            let mut endpoint = Endpoint::new(url);
            if let Some(t) = env("PROMETHEUS_BEARER_TOKEN") {
                endpoint.auth = Auth::Bearer(t);
            }
            specs.push(SourceSpec::Prometheus {
                endpoint,
                queries: self.promql.clone(),
            });
        }
        let with_token = |url: &str, var: &str| {
            let mut endpoint = Endpoint::new(url);
            if let Some(t) = env(var) {
                endpoint.auth = Auth::Bearer(t);
            }
            endpoint
        };
        for url in &self.alertmanager {
            let endpoint = with_token(url, "ALERTMANAGER_BEARER_TOKEN");
            specs.push(SourceSpec::Alertmanager { endpoint });
        }
        for url in &self.zabbix {
            let endpoint = with_token(url, "ZABBIX_API_TOKEN");
            if endpoint.auth == Auth::None {
                return Err("--zabbix needs an API token: set ZABBIX_API_TOKEN (Users → API tokens in the Zabbix frontend)".into());
            }
            specs.push(SourceSpec::Zabbix { endpoint });
        }
        for url in &self.grafana {
            let endpoint = with_token(url, "GRAFANA_TOKEN");
            specs.push(SourceSpec::Grafana { endpoint });
        }
        Ok(specs)
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
    /// Start with every event a row of its own (`Z` folds repeated events again).
    #[arg(long)]
    pub no_fold: bool,
}

#[derive(Debug, Args)]
pub struct ChainsArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ChainFormat::Text)]
    pub format: ChainFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChainFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    /// Which link.
    #[arg(value_enum)]
    pub target: LinkTarget,
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub filters: FilterArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LinkTarget {
    /// Grafana Explore: a Loki pane and a Prometheus pane, the same time range.
    Grafana,
    /// Kibana Discover: the pivots as KQL over the ECS fields.
    Kibana,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Alert rules to use instead of the built-in ones (the format of rules/alerts.toml).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TreeArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub filters: FilterArgs,
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
    /// Fold repeated events into one record with a count, first and last time, a sparkline
    /// and the values that vary (rules/fold.toml); each metric series is one record.
    #[arg(long)]
    pub fold: bool,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// clap checks its definitions only when a command is parsed: every subcommand here, so a
    /// clash (a positional named like a flag) fails a test, not a user.
    #[test]
    fn every_command_is_well_formed() {
        Cli::command().debug_assert();
    }
}
