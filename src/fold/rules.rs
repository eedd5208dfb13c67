//! Which events are repeats of each other (`rules/fold.toml`): a fold key for every event,
//! from its source, its signal, rule or message template, and its `by` entity values.

use super::template::template_into;
use crate::correlate::conditions::Conditions;
use crate::model::EntityKey;
use crate::store::EventRef;
use aho_corasick::AhoCorasick;
use serde::Deserialize;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};

pub const DEFAULT_RULES: &str = include_str!("../../rules/fold.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FoldFile {
    by: Vec<String>,
    #[serde(default)]
    signal: Vec<SignalRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignalRule {
    name: String,
    by: Option<Vec<String>>,
    any: Vec<Conditions>,
}

#[derive(Debug, Clone)]
struct Signal {
    name: String,
    by: Vec<EntityKey>,
    any: Vec<Conditions>,
    /// The alternatives' ASCII `text` and `title` needles, found in one pass each (this runs
    /// for every event); each pattern's alternative.
    text: Needles,
    title: Needles,
}

/// One matcher over some alternatives' needles (ASCII case ignored).
#[derive(Debug, Clone, Default)]
struct Needles {
    matcher: Option<AhoCorasick>,
    /// By pattern: the alternative it belongs to.
    alternative: Vec<usize>,
}

impl Needles {
    fn build(label: &str, needles: Vec<(usize, &str)>) -> Result<Needles, String> {
        if needles.is_empty() {
            return Ok(Needles::default());
        }
        let matcher = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(needles.iter().map(|(_, n)| n))
            .map_err(|e| format!("{label}: {e}"))?;
        Ok(Needles {
            matcher: Some(matcher),
            alternative: needles.into_iter().map(|(i, _)| i).collect(),
        })
    }

    /// Marks the alternatives whose needle is in `hay`.
    fn mark(&self, hay: &str, hit: &mut [bool]) {
        if let Some(m) = &self.matcher {
            for found in m.find_overlapping_iter(hay) {
                hit[self.alternative[found.pattern().as_usize()]] = true;
            }
        }
    }
}

impl Signal {
    fn new(
        label: &str,
        name: String,
        by: Vec<EntityKey>,
        any: Vec<Conditions>,
    ) -> Result<Signal, String> {
        fn ascii(n: &Option<String>) -> Option<&str> {
            n.as_deref().filter(|n| n.is_ascii() && !n.is_empty())
        }
        let text = any
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, ascii(&c.text)?)))
            .collect();
        let title = any
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, ascii(&c.title)?)))
            .collect();
        Ok(Signal {
            text: Needles::build(label, text)?,
            title: Needles::build(label, title)?,
            name,
            by,
            any,
        })
    }

    fn matches(&self, e: &EventRef, message: &str) -> bool {
        let n = self.any.len();
        let mut in_text = vec![false; n];
        let mut in_title = vec![false; n];
        self.text.mark(e.title(), &mut in_text);
        self.text.mark(message, &mut in_text);
        self.title.mark(e.title(), &mut in_title);
        self.any.iter().enumerate().any(|(i, c)| {
            let ascii = |n: &Option<String>| n.as_deref().is_some_and(str::is_ascii);
            let text_ok = match &c.text {
                None => true,
                Some(_) if ascii(&c.text) => in_text[i],
                Some(_) => c.holds(e),
            };
            let title_ok = match &c.title {
                None => true,
                Some(_) if ascii(&c.title) => in_title[i],
                Some(_) => c.holds(e),
            };
            text_ok && title_ok && c.holds_apart_from_text(e)
        })
    }
}

/// What folds an event with others: read from `rules/fold.toml` or the user's copy.
#[derive(Debug, Clone)]
pub struct FoldRules {
    by: Vec<EntityKey>,
    signals: Vec<Signal>,
    /// Keys are hashed with a per-process secret: the text is the attacker's, and a crafted
    /// message must not be able to fold itself into another set of events to hide there.
    seed: RandomState,
}

/// An event's fold key: equal keys are repeats. Never 0.
pub type FoldKey = u64;

/// What an event folds by, for showing it: the signal's name, or the rule, or the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoldBasis {
    Signal(String),
    Rule(String),
    Template(String),
}

impl Default for FoldRules {
    /// The built-in rules.
    fn default() -> FoldRules {
        FoldRules::parse("rules/fold.toml (built in)", DEFAULT_RULES).unwrap_or(FoldRules {
            by: Vec::new(),
            signals: Vec::new(),
            seed: RandomState::new(),
        })
    }
}

fn keys(label: &str, what: &str, names: &[String]) -> Result<Vec<EntityKey>, String> {
    names
        .iter()
        .map(|n| {
            n.parse::<EntityKey>()
                .map_err(|e| format!("{label}: {what}: `by`: {e}"))
        })
        .collect()
}

impl FoldRules {
    pub fn parse(label: &str, text: &str) -> Result<FoldRules, String> {
        let file: FoldFile =
            crate::ui::config_file::parse_toml(label, text).map_err(|e| e.to_string())?;
        let by = keys(label, "the default", &file.by)?;
        let mut signals = Vec::new();
        for rule in file.signal {
            let what = format!("signal `{}`", rule.name);
            let mut any = rule.any;
            if any.is_empty() {
                return Err(format!("{label}: {what}: `any` is empty"));
            }
            for (i, c) in any.iter_mut().enumerate() {
                c.prepare()
                    .map_err(|e| format!("{label}: {what}, condition {}: {e}", i + 1))?;
            }
            let by = match &rule.by {
                Some(names) => keys(label, &what, names)?,
                None => by.clone(),
            };
            signals.push(Signal::new(label, rule.name, by, any)?);
        }
        Ok(FoldRules {
            by,
            signals,
            seed: RandomState::new(),
        })
    }

    /// The rules in `dir/fold.toml` when there is one, else the built-in ones.
    pub fn load(dir: Option<&std::path::Path>) -> Result<FoldRules, String> {
        let Some(path) = dir.map(|d| d.join("fold.toml")).filter(|p| p.exists()) else {
            return Ok(FoldRules::default());
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        FoldRules::parse(&path.display().to_string(), &text)
    }

    fn signal(&self, e: &EventRef, message: &str) -> Option<&Signal> {
        self.signals.iter().find(|s| s.matches(e, message))
    }

    /// The event's fold key. `scratch` is reused between calls to spare an allocation.
    pub fn key(&self, e: &EventRef, scratch: &mut String) -> FoldKey {
        let mut h = self.seed.build_hasher();
        e.source_name().hash(&mut h);
        e.kind().as_str().hash(&mut h);
        // A rule (written by the detection, not by the attacker) comes first: no text in an
        // event can move it under a signal.
        let by = if let Some(rule) = rule_of(e) {
            (1u8, rule).hash(&mut h);
            &self.by
        } else {
            let message = e.message();
            match self.signal(e, &message) {
                Some(s) => {
                    (0u8, &s.name).hash(&mut h);
                    &s.by
                }
                None => {
                    scratch.clear();
                    template_of(e, &message, scratch);
                    (2u8, scratch.as_str()).hash(&mut h);
                    &self.by
                }
            }
        };
        let mut values: Vec<(EntityKey, &str)> =
            e.entities().filter(|(k, _)| by.contains(k)).collect();
        values.sort_unstable();
        values.hash(&mut h);
        h.finish().max(1)
    }

    /// What the event folds by (for the folded row and `query --fold`).
    pub fn basis(&self, e: &EventRef) -> FoldBasis {
        if let Some(rule) = rule_of(e) {
            return FoldBasis::Rule(rule.to_string());
        }
        let message = e.message();
        if let Some(s) = self.signal(e, &message) {
            return FoldBasis::Signal(s.name.clone());
        }
        let mut t = String::new();
        template_of(e, &message, &mut t);
        FoldBasis::Template(t)
    }
}

/// The rule an event carries (its first: a Wazuh alert carries its id and description).
fn rule_of<'a>(e: &EventRef<'a>) -> Option<&'a str> {
    e.entities()
        .find(|(k, _)| *k == EntityKey::Rule)
        .map(|(_, v)| v)
}

/// The title and message, templated with the event's own entity values taken out.
fn template_of(e: &EventRef, message: &str, out: &mut String) {
    let values: Vec<&str> = e
        .entities()
        .filter(|(k, _)| *k != EntityKey::Category)
        .map(|(_, v)| v)
        .collect();
    template_into(e.title(), &values, out);
    if !message.is_empty() && message != e.title() {
        out.push('\n');
        template_into(message, &values, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_rules_read() {
        let r = FoldRules::default();
        assert_eq!(
            r.by,
            [
                EntityKey::Host,
                EntityKey::Container,
                EntityKey::Pod,
                EntityKey::Ip
            ]
        );
        assert_eq!(r.signals.len(), 1);
        assert_eq!(r.signals[0].by, [EntityKey::Host, EntityKey::Ip]);
    }

    #[test]
    fn mistakes_are_named() {
        let e = FoldRules::parse("f.toml", "by = [\"hostname\"]\n").unwrap_err();
        assert!(e.contains("f.toml") && e.contains("hostname"), "{e}");
        let e = FoldRules::parse(
            "f.toml",
            "by = []\n[[signal]]\nname = \"x\"\nany = [{ source = \"splunk\" }]\n",
        )
        .unwrap_err();
        assert!(
            e.contains("signal `x`, condition 1") && e.contains("splunk"),
            "{e}"
        );
        let e = FoldRules::parse("f.toml", "by = []\n[[signal]]\nname = \"x\"\nany = []\n")
            .unwrap_err();
        assert!(e.contains("`any` is empty"), "{e}");
        let e = FoldRules::parse("f.toml", "by = []\nfold = 1\n").unwrap_err();
        assert!(e.contains("f.toml"), "{e}");
    }
}
