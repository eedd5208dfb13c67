//! Attack chains found by rules (`rules/chains.toml`): ordered steps, each matching events by
//! simple conditions, joined by the entities earlier steps bound, inside a time limit. Nothing
//! here knows the demo: the rules are data.

use crate::model::{parse_duration, EntityKey, Timestamp};
use crate::store::{EventRef, Pivot, Query, Store};
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
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    pub source: Option<String>,
    pub title: Option<String>,
    pub text: Option<String>,
    pub rule: Option<String>,
    pub kind: Option<String>,
}

impl Conditions {
    fn holds(&self, e: &EventRef<'_>) -> bool {
        // The needles are lowercase already (`Rules::parse`).
        let contains = |hay: &str, needle: &str| hay.to_lowercase().contains(needle);
        self.source
            .as_deref()
            .is_none_or(|s| e.source().as_str() == s || e.source().short() == s)
            && self.kind.as_deref().is_none_or(|k| e.kind().as_str() == k)
            && self.title.as_deref().is_none_or(|t| contains(e.title(), t))
            && self
                .text
                .as_deref()
                .is_none_or(|t| contains(e.title(), t) || contains(e.message(), t))
            && self
                .rule
                .as_deref()
                .is_none_or(|r| e.entities().any(|(k, v)| k == EntityKey::Rule && v == r))
    }
}

/// A step's joined and bound keys, parsed.
type StepKeys = (Vec<EntityKey>, Vec<EntityKey>);

/// Rules ready to run: keys parsed, durations read.
#[derive(Debug, Clone)]
pub struct Rules(Vec<(ChainRule, i64, Vec<StepKeys>)>);

impl Rules {
    pub fn parse(label: &str, text: &str) -> Result<Rules, String> {
        let file: RuleFile =
            crate::ui::config_file::parse_toml(label, text).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for mut chain in file.chain {
            for step in &mut chain.step {
                let c = &mut step.conditions;
                for needle in [&mut c.title, &mut c.text].into_iter().flatten() {
                    *needle = needle.to_lowercase();
                }
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
            out.push((chain, within, keys));
        }
        Ok(Rules(out))
    }

    pub fn default_rules() -> Rules {
        Rules::parse("rules/chains.toml (built in)", DEFAULT_RULES).unwrap_or(Rules(Vec::new()))
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

fn first_value(e: &EventRef<'_>, key: EntityKey) -> Option<String> {
    e.entities()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

/// Every chain the rules find among `positions` (in time order). Each start of a chain is
/// tried; the next step is the first matching event after the previous one that carries
/// every joined value, inside the chain's time limit.
pub fn find(store: &Store, positions: &[u32], rules: &Rules) -> Vec<Chain> {
    let mut found = Vec::new();
    for (rule, within, keys) in &rules.0 {
        let first = &rule.step[0];
        let (_, first_bind) = &keys[0];
        // Starts: events of the first step, grouped by the values they bind.
        let mut groups: BTreeMap<Vec<String>, Vec<u32>> = BTreeMap::new();
        for &pos in positions {
            let Some(e) = store.get(pos) else { continue };
            if !first.conditions.holds(&e) {
                continue;
            }
            let Some(values) = first_bind
                .iter()
                .map(|k| first_value(&e, *k))
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            groups.entry(values).or_default().push(pos);
        }
        for (values, members) in groups {
            let need = first.at_least.unwrap_or(1).max(1);
            if members.len() < need {
                continue;
            }
            let start_pos = members[need - 1];
            let Some(start) = store.get(start_pos) else {
                continue;
            };
            let limit = Timestamp(start.ts().0.saturating_add(*within));
            let mut bound: BTreeMap<EntityKey, String> =
                first_bind.iter().copied().zip(values).collect();
            let mut steps = vec![FoundStep {
                name: first.name.clone(),
                pos: start_pos,
                count: members.len(),
            }];
            let mut after = start.ts();
            let mut complete = true;
            for (step, (join, bind)) in rule.step.iter().zip(keys.iter()).skip(1) {
                let pivots: Vec<Pivot> = join
                    .iter()
                    .filter_map(|k| bound.get(k).map(|v| Pivot::new(*k, v.clone())))
                    .collect();
                let query = Query {
                    pivots,
                    window: crate::model::TimeRange::new(after, limit),
                };
                let candidates = store.select(&query);
                let allowed = |p: &u32| positions.binary_search(p).is_ok();
                let hit = candidates.into_iter().filter(allowed).find_map(|p| {
                    let e = store.get(p)?;
                    let fits = step.conditions.holds(&e)
                        && bind.iter().all(|k| first_value(&e, *k).is_some());
                    fits.then_some((p, e))
                });
                let Some((p, e)) = hit else {
                    complete = false;
                    break;
                };
                for k in bind {
                    if let Some(v) = first_value(&e, *k) {
                        bound.insert(*k, v);
                    }
                }
                after = e.ts();
                steps.push(FoundStep {
                    name: step.name.clone(),
                    pos: p,
                    count: 1,
                });
            }
            if complete {
                found.push(Chain {
                    rule: rule.name.clone(),
                    steps,
                    bound,
                });
            }
        }
    }
    found
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
