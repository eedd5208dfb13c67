//! Alerts for the case metrics. Today they are the attack chains found: a chain fires when its
//! last required step happens (an optional step, like a CPU spike a responder may not have
//! loaded, never holds it back), and its earliest evidence is its earliest step. Live alert
//! rules can be given as [`Alert`]s the same way.

use crate::correlate::chains::{Chain, RuleFile, DEFAULT_RULES};
use crate::model::Timestamp;
use crate::store::Store;
use std::collections::{BTreeMap, BTreeSet};

/// An alert: when it fired, the time of the earliest evidence it holds, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub at: Timestamp,
    pub first_evidence: Timestamp,
    pub name: String,
}

/// Which steps of which chain rules are optional, by rule and step name. Found chains and
/// the bundle's `chains.json` carry only names, so this is how a chain's required steps are
/// known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionalSteps(BTreeMap<String, BTreeSet<String>>);

impl OptionalSteps {
    /// From a chain rules file's text; `None` when it does not read.
    pub fn from_text(text: &str) -> Option<OptionalSteps> {
        let file: RuleFile = toml::from_str(text).ok()?;
        Some(OptionalSteps(
            file.chain
                .into_iter()
                .map(|c| {
                    let optional = c
                        .step
                        .into_iter()
                        .filter(|s| s.optional)
                        .map(|s| s.name)
                        .collect();
                    (c.name, optional)
                })
                .collect(),
        ))
    }

    /// The built-in rules (`rules/chains.toml`).
    pub fn built_in() -> OptionalSteps {
        OptionalSteps::from_text(DEFAULT_RULES).unwrap_or_default()
    }

    /// The rules in use: the user's `chains.toml` in the config directory when it reads (as
    /// the chains are found with it), else the built-in ones. Read once per process.
    pub fn current() -> &'static OptionalSteps {
        static CURRENT: std::sync::OnceLock<OptionalSteps> = std::sync::OnceLock::new();
        CURRENT.get_or_init(|| {
            crate::cli::config_dir()
                .and_then(|d| std::fs::read_to_string(d.join("chains.toml")).ok())
                .and_then(|text| OptionalSteps::from_text(&text))
                .unwrap_or_else(OptionalSteps::built_in)
        })
    }

    pub fn is_optional(&self, rule: &str, step: &str) -> bool {
        self.0.get(rule).is_some_and(|s| s.contains(step))
    }
}

/// A chain as an alert, from its steps' names and event times: it fires at its last required
/// step (the last step, when the rule is not known) and its evidence starts at its earliest.
pub fn from_steps<'a>(
    rule: &str,
    steps: impl IntoIterator<Item = (&'a str, Timestamp)>,
    optional: &OptionalSteps,
) -> Option<Alert> {
    let steps: Vec<(&str, Timestamp)> = steps.into_iter().collect();
    let first_evidence = steps.iter().map(|(_, t)| *t).min()?;
    let required = steps
        .iter()
        .filter(|(name, _)| !optional.is_optional(rule, name))
        .map(|(_, t)| *t)
        .max();
    // Every step optional (a rule changed since): the chain stands at its last step.
    let at = required.or_else(|| steps.iter().map(|(_, t)| *t).max())?;
    Some(Alert {
        at,
        first_evidence,
        name: rule.to_string(),
    })
}

/// A chain found in a store as an alert.
pub fn from_chain(store: &Store, chain: &Chain, optional: &OptionalSteps) -> Option<Alert> {
    let steps: Option<Vec<(&str, Timestamp)>> = chain
        .steps
        .iter()
        .map(|s| Some((s.name.as_str(), store.get(s.pos)?.ts())))
        .collect();
    from_steps(&chain.rule, steps?, optional)
}

/// The alerts that alert rules raised (`rules/alerts.toml`): each fires at the event that
/// raised it (the incident's latest event then) and its evidence starts at the incident's
/// first event. Updates of alerts already raised are not new alerts.
pub fn from_raised(updates: &[crate::alerts::AlertUpdate]) -> Vec<Alert> {
    updates
        .iter()
        .filter(|u| u.change == crate::alerts::Change::Raised)
        .map(|u| Alert {
            at: u.alert.last,
            first_evidence: u.alert.first,
            name: u.alert.rule.clone(),
        })
        .collect()
}

/// The first of the alerts the rules raise over the events of `store` that `query` picks (its
/// window and pivots), in event time: what a headless export counts (the chains are counted
/// on their own).
pub fn first_raised(
    store: &Store,
    query: &crate::store::Query,
    rules: crate::alerts::AlertRules,
) -> Option<Alert> {
    let mut engine = crate::alerts::AlertEngine::new(rules, crate::alerts::ChainSet::none());
    engine.set_filter(Some(query.clone()));
    let mut updates = engine.observe(store);
    updates.extend(engine.flush(store));
    from_raised(&updates).into_iter().min_by_key(|a| a.at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_fires_at_its_last_required_step() {
        let optional = OptionalSteps::built_in();
        let rule = "SSH brute force, then a miner in a container";
        assert!(optional.is_optional(rule, "CPU or egress spike of the pod"));
        assert!(!optional.is_optional(rule, "shell in the container"));
        let steps = [
            ("failed SSH logins", Timestamp(100)),
            ("successful SSH login", Timestamp(200)),
            ("outbound connection from the container", Timestamp(300)),
            ("CPU or egress spike of the pod", Timestamp(400)),
        ];
        let a = from_steps(rule, steps, &optional).unwrap();
        assert_eq!((a.first_evidence, a.at), (Timestamp(100), Timestamp(300)));
        // A rule not known: its last step.
        let b = from_steps("another rule", steps, &optional).unwrap();
        assert_eq!(b.at, Timestamp(400));
        assert_eq!(from_steps(rule, [], &optional), None);
    }
}
