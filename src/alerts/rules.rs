//! Alert rules (`rules/alerts.toml`, the user's `alerts.toml`, or `watch --rules FILE`): which
//! events raise an alert, counted how, grouped by what; or which attack chains do.

use crate::correlate::conditions::Conditions;
use crate::model::{parse_duration, EntityKey, Severity};
use crate::ui::config_file::{line_at, parse_toml};
use serde::Deserialize;

pub const DEFAULT_RULES: &str = include_str!("../../rules/alerts.toml");

/// How long an incident without a threshold (or a chain's) stays open without a new event.
pub const DEFAULT_QUIET_NS: i64 = 15 * 60 * 1_000_000_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertFile {
    #[serde(default)]
    alert: Vec<RuleEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    name: String,
    #[serde(rename = "where")]
    conditions: Option<Conditions>,
    severity: Option<String>,
    level: Option<String>,
    more_than: Option<u64>,
    within: Option<String>,
    by: Option<Vec<String>>,
    quiet: Option<String>,
    chain: Option<String>,
}

/// What an event is grouped by: an entity key, its title, or its source's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKey {
    Entity(EntityKey),
    Title,
    Source,
}

impl GroupKey {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKey::Entity(k) => k.as_str(),
            GroupKey::Title => "title",
            GroupKey::Source => "source",
        }
    }

    fn parse(name: &str) -> Result<GroupKey, String> {
        match name {
            "title" => Ok(GroupKey::Title),
            "source" => Ok(GroupKey::Source),
            _ => name
                .parse::<EntityKey>()
                .map(GroupKey::Entity)
                .map_err(|e| format!("{e}, or `title` or `source`")),
        }
    }
}

/// More than `more_than` events inside any `within_ns` of event time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub more_than: u64,
    pub within_ns: i64,
}

/// What a rule watches.
#[derive(Debug, Clone)]
pub enum Watch {
    /// Events meeting the conditions, at least this severe (when given).
    Events {
        conditions: Conditions,
        min_severity: Option<Severity>,
        threshold: Option<Threshold>,
        by: Vec<GroupKey>,
    },
    /// Attack chains: every one (`None`, written `"*"`) or the one of this name.
    Chain(Option<String>),
}

/// One rule, read and checked.
#[derive(Debug, Clone)]
pub struct AlertRule {
    pub name: String,
    pub watch: Watch,
    /// The alert's own severity; else the most severe event it counts.
    pub level: Option<Severity>,
    /// How long the group must stay quiet for its incident to end.
    pub quiet_ns: i64,
}

impl AlertRule {
    /// Whether the rule watches this chain.
    pub fn watches_chain(&self, chain: &str) -> bool {
        matches!(&self.watch, Watch::Chain(None))
            || matches!(&self.watch, Watch::Chain(Some(name)) if name == chain)
    }
}

/// The rules, in file order.
#[derive(Debug, Clone, Default)]
pub struct AlertRules {
    pub rules: Vec<AlertRule>,
    /// Where they were read from, for messages.
    pub label: String,
}

impl AlertRules {
    /// The built-in rules.
    pub fn built_in() -> AlertRules {
        AlertRules::parse("rules/alerts.toml (built in)", DEFAULT_RULES).unwrap_or_default()
    }

    /// The rules of `dir/alerts.toml` when there is one, else the built-in ones.
    pub fn load(dir: Option<&std::path::Path>) -> Result<AlertRules, String> {
        match dir.map(|d| d.join("alerts.toml")).filter(|p| p.exists()) {
            Some(path) => AlertRules::read(&path),
            None => Ok(AlertRules::built_in()),
        }
    }

    /// The rules of one file.
    pub fn read(path: &std::path::Path) -> Result<AlertRules, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        AlertRules::parse(&path.display().to_string(), &text)
    }

    /// Reads rules; an error names the file, the line and the rule.
    pub fn parse(label: &str, text: &str) -> Result<AlertRules, String> {
        let file: AlertFile = parse_toml(label, text).map_err(|e| e.to_string())?;
        let mut rules: Vec<AlertRule> = Vec::new();
        for (index, entry) in file.alert.into_iter().enumerate() {
            let at = |field: &str, what: String| {
                format!(
                    "{label}:{}: alert `{}`: {what}",
                    field_line(text, index, field),
                    entry.name
                )
            };
            if entry.name.trim().is_empty() {
                return Err(at("name", "the name is empty".into()));
            }
            if rules.iter().any(|r| r.name == entry.name) {
                return Err(at("name", "another rule has this name".into()));
            }
            let duration = |field: &str, value: &Option<String>| -> Result<Option<i64>, String> {
                match value {
                    None => Ok(None),
                    Some(v) => match parse_duration(v) {
                        Some(ns) if ns > 0 => Ok(Some(ns)),
                        _ => Err(at(
                            field,
                            format!("{field} `{v}` is not a duration like 90s, 5m or 1h"),
                        )),
                    },
                }
            };
            let severity = |field: &str, value: &Option<String>| {
                match value {
                None => Ok(None),
                Some(s) => Severity::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .map(Some)
                    .ok_or_else(|| {
                        at(
                            field,
                            format!("unknown {field} `{s}` (expected one of critical, error, warning, notice, info, debug)"),
                        )
                    }),
            }
            };
            let level = severity("level", &entry.level)?;
            let within = duration("within", &entry.within)?;
            let quiet = duration("quiet", &entry.quiet)?;
            let watch = match &entry.chain {
                Some(chain) => {
                    let extra = [
                        ("where", entry.conditions.is_some()),
                        ("severity", entry.severity.is_some()),
                        ("more_than", entry.more_than.is_some()),
                        ("within", entry.within.is_some()),
                        ("by", entry.by.is_some()),
                    ];
                    if let Some((field, _)) = extra.iter().find(|(_, given)| *given) {
                        return Err(at(
                            field,
                            format!("a chain alert takes no `{field}` (the chain rule says what it matches)"),
                        ));
                    }
                    let chain = chain.trim();
                    if chain.is_empty() {
                        return Err(at("chain", "give a chain's name, or \"*\" for all".into()));
                    }
                    Watch::Chain((chain != "*").then(|| chain.to_string()))
                }
                None => {
                    if entry.conditions.is_none() && entry.severity.is_none() {
                        return Err(at(
                            "name",
                            "give `where`, `severity` or `chain`: a rule on every event is not an alert".into(),
                        ));
                    }
                    let mut conditions = entry.conditions.clone().unwrap_or_default();
                    conditions
                        .prepare()
                        .map_err(|e| at("where", format!("where: {e}")))?;
                    let min_severity = severity("severity", &entry.severity)?;
                    let threshold = match (entry.more_than, within) {
                        (None, None) => None,
                        (Some(more_than), Some(within_ns)) => Some(Threshold {
                            more_than,
                            within_ns,
                        }),
                        (Some(_), None) => {
                            return Err(at(
                                "more_than",
                                "`more_than` needs `within` (the window it counts over)".into(),
                            ))
                        }
                        (None, Some(_)) => {
                            return Err(at(
                                "within",
                                "`within` needs `more_than` (how many events in the window)".into(),
                            ))
                        }
                    };
                    let by = entry
                        .by
                        .iter()
                        .flatten()
                        .map(|n| GroupKey::parse(n).map_err(|e| at("by", format!("by: {e}"))))
                        .collect::<Result<Vec<_>, _>>()?;
                    Watch::Events {
                        conditions,
                        min_severity,
                        threshold,
                        by,
                    }
                }
            };
            rules.push(AlertRule {
                quiet_ns: quiet.or(within).unwrap_or(DEFAULT_QUIET_NS),
                name: entry.name,
                watch,
                level,
            });
        }
        Ok(AlertRules {
            rules,
            label: label.to_string(),
        })
    }

    /// Whether any rule watches chains (the chain search runs only then).
    pub fn watches_chains(&self) -> bool {
        self.rules
            .iter()
            .any(|r| matches!(r.watch, Watch::Chain(_)))
    }
}

/// The line of `field` in the `index`-th `[[alert]]` table, else the line of its header, else 1.
fn field_line(text: &str, index: usize, field: &str) -> usize {
    let mut seen = None;
    let mut header = 1;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim();
        if line == "[[alert]]" {
            seen = Some(seen.map_or(0, |n| n + 1));
            if seen == Some(index) {
                header = line_at(text, offset);
            }
        } else if line.starts_with('[') && seen == Some(index) {
            // A `[alert.where]` table belongs to the same rule; any other ends it.
            if !line.starts_with("[alert.") {
                break;
            }
        } else if seen == Some(index) {
            let key = line
                .split('=')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            if key == field {
                return line_at(text, offset);
            }
        }
        offset += raw.len();
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_rules_read() {
        let rules = AlertRules::parse("rules/alerts.toml", DEFAULT_RULES).unwrap();
        assert!(rules.rules.len() >= 4);
        assert!(rules.watches_chains());
        let brute = &rules.rules[0];
        match &brute.watch {
            Watch::Events { threshold, by, .. } => {
                assert_eq!(
                    *threshold,
                    Some(Threshold {
                        more_than: 20,
                        within_ns: 300_000_000_000
                    })
                );
                assert_eq!(
                    by,
                    &[
                        GroupKey::Entity(EntityKey::Ip),
                        GroupKey::Entity(EntityKey::Host)
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        // Quiet defaults to the window.
        assert_eq!(brute.quiet_ns, 300_000_000_000);
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_rule() {
        let text = "[[alert]]\nname = \"a\"\nwhere = { text = \"x\" }\n\n[[alert]]\nname = \"b\"\nwhere = { text = \"y\" }\nmore_than = 3\nwithin = \"five minutes\"\n";
        let err = AlertRules::parse("my.toml", text).unwrap_err();
        assert_eq!(
            err,
            "my.toml:9: alert `b`: within `five minutes` is not a duration like 90s, 5m or 1h"
        );
        for (text, says) in [
            (
                "[[alert]]\nname = \"a\"\nwhere = { source = \"splunk\" }\n",
                "my.toml:3: alert `a`: where: unknown source `splunk`",
            ),
            (
                "[[alert]]\nname = \"a\"\nseverity = \"loud\"\n",
                "my.toml:3: alert `a`: unknown severity `loud`",
            ),
            (
                "[[alert]]\nname = \"a\"\nwhere = { text = \"x\" }\nmore_than = 3\n",
                "my.toml:4: alert `a`: `more_than` needs `within`",
            ),
            (
                "[[alert]]\nname = \"a\"\nwhere = { text = \"x\" }\nby = [\"usr\"]\n",
                "my.toml:4: alert `a`: by: unknown",
            ),
            (
                "[[alert]]\nname = \"a\"\nchain = \"*\"\nby = [\"user\"]\n",
                "my.toml:4: alert `a`: a chain alert takes no `by`",
            ),
            (
                "[[alert]]\nname = \"a\"\n",
                "my.toml:2: alert `a`: give `where`, `severity` or `chain`",
            ),
            (
                "[[alert]]\nname = \"a\"\nseverity = \"error\"\n[[alert]]\nname = \"a\"\nseverity = \"error\"\n",
                "my.toml:5: alert `a`: another rule has this name",
            ),
            // Syntax and unknown fields: the TOML reader's own line.
            (
                "[[alert]]\nname = \"a\"\nseverity = \"error\"\nthreshold = 3\n",
                "my.toml:4: unknown field `threshold`",
            ),
        ] {
            let err = AlertRules::parse("my.toml", text).unwrap_err();
            assert!(err.starts_with(says), "{err}\n  should start with\n{says}");
        }
    }

    #[test]
    fn chains_by_name_or_all() {
        let rules = AlertRules::parse(
            "t",
            "[[alert]]\nname = \"all\"\nchain = \"*\"\n[[alert]]\nname = \"one\"\nchain = \"X\"\nquiet = \"1h\"\n",
        )
        .unwrap();
        assert!(rules.rules[0].watches_chain("anything"));
        assert!(rules.rules[1].watches_chain("X") && !rules.rules[1].watches_chain("Y"));
        assert_eq!(rules.rules[0].quiet_ns, DEFAULT_QUIET_NS);
        assert_eq!(rules.rules[1].quiet_ns, 3_600_000_000_000);
    }
}
