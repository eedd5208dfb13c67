//! Security-signal categories assigned to events by rules (`rules/categories.toml`), as they
//! are loaded. Every text needle of every rule is found in one pass over an event's title and
//! one over its message (Aho-Corasick, ASCII case ignored), so classifying costs about the
//! same however many rules there are.

use super::conditions::{Conditions, Facts};
use crate::model::{Category, EntityKey, Event};
use aho_corasick::AhoCorasick;
use serde::Deserialize;

pub const DEFAULT_RULES: &str = include_str!("../../rules/categories.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    #[serde(default)]
    category: Vec<CategoryRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryRule {
    name: String,
    any: Vec<Conditions>,
}

/// One set of conditions that puts an event in a category.
#[derive(Debug)]
struct Alternative {
    category: Category,
    conditions: Conditions,
    /// The matcher's pattern numbers of the `title` and `text` needles, when the matcher
    /// answers them (ASCII needles); else `conditions.holds` checks them itself.
    title: Option<usize>,
    text: Option<usize>,
    matched: bool,
}

#[derive(Debug)]
pub struct Classifier {
    alternatives: Vec<Alternative>,
    matcher: Option<AhoCorasick>,
    needles: usize,
}

impl Default for Classifier {
    /// The built-in rules.
    fn default() -> Classifier {
        Classifier::parse("rules/categories.toml (built in)", DEFAULT_RULES)
            .unwrap_or_else(|_| Classifier::none())
    }
}

impl Classifier {
    /// No rules: no event gets a category.
    pub fn none() -> Classifier {
        Classifier {
            alternatives: Vec::new(),
            matcher: None,
            needles: 0,
        }
    }

    pub fn parse(label: &str, text: &str) -> Result<Classifier, String> {
        let file: CategoryFile =
            crate::ui::config_file::parse_toml(label, text).map_err(|e| e.to_string())?;
        let mut alternatives = Vec::new();
        let mut needles: Vec<String> = Vec::new();
        let mut needle_id = |needle: &Option<String>| -> Option<usize> {
            let n = needle.as_ref().filter(|n| n.is_ascii() && !n.is_empty())?;
            Some(match needles.iter().position(|have| have == n) {
                Some(i) => i,
                None => {
                    needles.push(n.clone());
                    needles.len() - 1
                }
            })
        };
        for rule in file.category {
            let category: Category = rule
                .name
                .parse()
                .map_err(|e| format!("{label}: category `{}`: {e}", rule.name))?;
            for (i, mut conditions) in rule.any.into_iter().enumerate() {
                conditions.prepare().map_err(|e| {
                    format!(
                        "{label}: category `{}`, condition {}: {e}",
                        rule.name,
                        i + 1
                    )
                })?;
                let title = needle_id(&conditions.title);
                let text = needle_id(&conditions.text);
                let matched = conditions.title.is_some() == title.is_some()
                    && conditions.text.is_some() == text.is_some();
                alternatives.push(Alternative {
                    category,
                    conditions,
                    title,
                    text,
                    matched,
                });
            }
        }
        let matcher = if needles.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&needles)
                    .map_err(|e| format!("{label}: {e}"))?,
            )
        };
        Ok(Classifier {
            alternatives,
            matcher,
            needles: needles.len(),
        })
    }

    /// The categories of one event, in their fixed order.
    pub fn categories(&self, e: &impl Facts) -> Vec<Category> {
        let mut in_title = vec![false; self.needles];
        let mut in_message = vec![false; self.needles];
        if let Some(m) = &self.matcher {
            for hit in m.find_overlapping_iter(e.title()) {
                in_title[hit.pattern().as_usize()] = true;
            }
            for hit in m.find_overlapping_iter(e.message().as_ref()) {
                in_message[hit.pattern().as_usize()] = true;
            }
        }
        let mut found = [false; Category::ALL.len()];
        for alt in &self.alternatives {
            let slot = &mut found[alt.category as usize];
            if *slot {
                continue;
            }
            *slot = if alt.matched {
                alt.title.is_none_or(|i| in_title[i])
                    && alt.text.is_none_or(|i| in_title[i] || in_message[i])
                    && alt.conditions.holds_apart_from_text(e)
            } else {
                alt.conditions.holds(e)
            };
        }
        Category::ALL
            .into_iter()
            .filter(|c| found[*c as usize])
            .collect()
    }

    /// Adds the event's categories to its entities.
    pub fn classify(&self, e: &mut Event) {
        for c in self.categories(e) {
            e.entities.add(EntityKey::Category, c.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventKind, Severity, SourceKind, Timestamp};

    fn event(source: SourceKind, title: &str, message: &str, tags: &[&str]) -> Event {
        Event {
            ts: Timestamp(0),
            source,
            source_name: "test".into(),
            kind: EventKind::Log,
            severity: Severity::Info,
            title: title.into(),
            message: message.into(),
            entities: Default::default(),
            process: None,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            raw: "{}".into(),
        }
    }

    #[test]
    fn rules_put_events_in_categories() {
        let c = Classifier::default();
        let login = event(SourceKind::Loki, "sshd: FAILED PASSWORD for root", "", &[]);
        assert_eq!(c.categories(&login), vec![Category::Authentication]);
        let shell = event(
            SourceKind::Falco,
            "Redirect STDOUT/STDIN to Network Connection in Container",
            "",
            &["mitre_execution", "network", "process"],
        );
        assert_eq!(
            c.categories(&shell),
            vec![Category::Runtime, Category::Network]
        );
        // The same tag from another source is not the Falco-only runtime rule.
        let other = event(SourceKind::Loki, "GET /v1/orders 200", "process ok", &[]);
        assert!(c.categories(&other).is_empty());
    }

    #[test]
    fn needles_in_the_message_count_for_text_but_not_for_title() {
        let rules = r#"
[[category]]
name = "secrets"
any = [{ title = "vault" }]
[[category]]
name = "network"
any = [{ text = "egress" }, { text = "Überweisung" }]
"#;
        let c = Classifier::parse("t.toml", rules).unwrap();
        let e = event(SourceKind::Loki, "request", "vault EGRESS denied", &[]);
        assert_eq!(c.categories(&e), vec![Category::Network]);
        // A non-ASCII needle is checked without the matcher, case folded all the same.
        let e = event(SourceKind::Loki, "ÜBERWEISUNG failed", "", &[]);
        assert_eq!(c.categories(&e), vec![Category::Network]);
    }

    #[test]
    fn a_broken_rule_is_named_with_its_line() {
        let err =
            Classifier::parse("c.toml", "[[category]]\nname = \"auth\"\nany = []\n").unwrap_err();
        assert!(
            err.contains("c.toml: category `auth`: unknown category"),
            "{err}"
        );
        let err = Classifier::parse(
            "c.toml",
            "[[category]]\nname = \"network\"\nany = [{ source = \"splunk\" }]\n",
        )
        .unwrap_err();
        assert!(
            err.contains("condition 1: unknown source `splunk`"),
            "{err}"
        );
        let err = Classifier::parse("c.toml", "[[category]]\nname = \"network\"\nanyy = []\n")
            .unwrap_err();
        assert!(err.starts_with("c.toml:3"), "{err}");
    }
}
