//! Attack chains found by rules (`rules/chains.toml`): ordered steps, each matching events by
//! simple conditions, joined by the entities earlier steps bound, inside a time limit. Nothing
//! here knows the demo: the rules are data.

pub use super::chain_search::ChainSearch;
use super::conditions::Conditions;
use crate::model::{parse_duration, EntityKey};
use crate::store::{EventRef, Store};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const DEFAULT_RULES: &str = include_str!("../../rules/chains.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default)]
    pub chain: Vec<ChainRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainRule {
    pub name: String,
    pub within: String,
    pub step: Vec<StepRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRule {
    pub name: String,
    #[serde(rename = "where")]
    pub conditions: Conditions,
    #[serde(default)]
    pub at_least: Option<usize>,
    #[serde(default)]
    pub join: Vec<String>,
    #[serde(default)]
    pub bind: Vec<String>,
    /// The chain stands without this step; when an event makes it, it is part of the chain.
    #[serde(default)]
    pub optional: bool,
}

/// A step's joined and bound keys, parsed.
type StepKeys = (Vec<EntityKey>, Vec<EntityKey>);

/// One chain rule ready to run: its time limit read and its step keys parsed.
#[derive(Debug, Clone)]
pub(super) struct ReadyRule {
    pub rule: ChainRule,
    /// The time limit, in nanoseconds.
    pub within: i64,
    pub keys: Vec<StepKeys>,
}

/// Rules ready to run.
#[derive(Debug, Clone)]
pub struct Rules(pub(super) Vec<ReadyRule>);

impl Rules {
    pub fn parse(label: &str, text: &str) -> Result<Rules, String> {
        let file: RuleFile =
            crate::ui::config_file::parse_toml(label, text).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for mut chain in file.chain {
            for step in &mut chain.step {
                step.conditions.prepare().map_err(|e| {
                    format!("{label}: chain `{}`, step `{}`: {e}", chain.name, step.name)
                })?;
            }
            let within = parse_duration(&chain.within).ok_or_else(|| {
                format!(
                    "{label}: chain `{}`: within `{}` is not a duration",
                    chain.name, chain.within
                )
            })?;
            let mut keys = Vec::new();
            for step in &chain.step {
                let parse = |names: &[String]| -> Result<Vec<EntityKey>, String> {
                    names
                        .iter()
                        .map(|n| n.parse::<EntityKey>())
                        .collect::<Result<_, _>>()
                        .map_err(|e| {
                            format!("{label}: chain `{}`, step `{}`: {e}", chain.name, step.name)
                        })
                };
                keys.push((parse(&step.join)?, parse(&step.bind)?));
            }
            if chain.step.is_empty() {
                return Err(format!("{label}: chain `{}` has no steps", chain.name));
            }
            out.push(ReadyRule {
                rule: chain,
                within,
                keys,
            });
        }
        Ok(Rules(out))
    }

    pub fn default_rules() -> Rules {
        Rules::parse("rules/chains.toml (built in)", DEFAULT_RULES).unwrap_or(Rules(Vec::new()))
    }

    /// The user's `chains.toml` in the config directory, which replaces the built-in rules.
    pub fn user_or_default() -> Result<Rules, String> {
        let Some(path) = crate::cli::config_dir().map(|d| d.join("chains.toml")) else {
            return Ok(Rules::default_rules());
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Rules::parse(&path.display().to_string(), &text),
            Err(_) => Ok(Rules::default_rules()),
        }
    }
}

/// One step of a found chain: the event that made it (the last of a group for `at_least`),
/// and how many events the step took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundStep {
    pub name: String,
    pub pos: u32,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub rule: String,
    pub steps: Vec<FoundStep>,
    /// What the steps were joined on.
    pub bound: BTreeMap<EntityKey, String>,
}

pub(super) fn first_value(e: &EventRef<'_>, key: EntityKey) -> Option<String> {
    e.entities()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

/// Every chain the rules find among `positions` (in time order), at once. The TUI runs the
/// same search in slices ([`ChainSearch`]) so keys are answered while it runs.
pub fn find(store: &Store, positions: &[u32], rules: &Rules) -> Vec<Chain> {
    let mut search = ChainSearch::new(rules.clone(), positions.to_vec());
    while !search.step(store, usize::MAX) {}
    search.into_found()
}

/// Chains as text: the rule, then each step in order with its event's time, source and title.
pub fn render_text(store: &Store, chains: &[Chain]) -> String {
    use crate::sanitize::line;
    let mut out = String::new();
    for c in chains {
        out.push_str(&format!("chain: {}\n", line(&c.rule)));
        let joined: Vec<String> = c
            .bound
            .iter()
            .map(|(k, v)| format!("{k}={}", line(v)))
            .collect();
        out.push_str(&format!("  joined on: {}\n", joined.join(" ")));
        for (i, s) in c.steps.iter().enumerate() {
            let Some(e) = store.get(s.pos) else { continue };
            let count = if s.count > 1 {
                format!(" ({} events)", s.count)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {}. {}{count}\n     {}  {}  {}\n",
                i + 1,
                line(&s.name),
                e.ts().to_rfc3339(),
                e.source().as_str(),
                line(e.title())
            ));
        }
    }
    out
}

/// Chains as JSON: `[{"rule", "joined_on", "steps": [{"step", "ts", "source", "title", "events"}]}]`.
pub fn to_json(store: &Store, chains: &[Chain]) -> serde_json::Value {
    serde_json::Value::Array(
        chains
            .iter()
            .map(|c| {
                let steps: Vec<serde_json::Value> = c
                    .steps
                    .iter()
                    .filter_map(|s| {
                        let e = store.get(s.pos)?;
                        Some(serde_json::json!({
                            "step": s.name,
                            "ts": e.ts().to_rfc3339(),
                            "source": e.source().as_str(),
                            "title": e.title(),
                            "events": s.count,
                        }))
                    })
                    .collect();
                let joined: BTreeMap<&str, &str> = c
                    .bound
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                serde_json::json!({"rule": c.rule, "joined_on": joined, "steps": steps})
            })
            .collect(),
    )
}
