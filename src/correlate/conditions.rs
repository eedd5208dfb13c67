//! Conditions on one event, as rule files write them (`where = { … }` in chains.toml and
//! categories.toml). Every given field must hold. Text needles ignore case; they are
//! lowercased once, when the rules are read.

use crate::model::{Category, EntityKey, Event, EventKind, SourceKind};
use crate::store::EventRef;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// The source kind (`falco`, `loki`, `elasticsearch` or `es`, `prometheus` or `prom`).
    pub source: Option<String>,
    /// The title contains this.
    pub title: Option<String>,
    /// The title or the message contains this.
    pub text: Option<String>,
    /// The event carries this rule (exactly).
    pub rule: Option<String>,
    /// alert, log, audit, metric, alert_firing.
    pub kind: Option<String>,
    /// The event carries this tag (any case).
    pub tag: Option<String>,
    /// The event belongs to this security-signal category.
    pub category: Option<String>,
}

/// What conditions look at, on a stored event or on one about to be stored.
pub trait Facts {
    fn source(&self) -> SourceKind;
    fn kind(&self) -> EventKind;
    fn title(&self) -> &str;
    /// Borrowed where the text is at hand; decompressed for a stored event's message.
    fn message(&self) -> std::borrow::Cow<'_, str>;
    fn has_entity(&self, key: EntityKey, value: &str) -> bool;
    fn has_tag(&self, tag: &str) -> bool;
}

impl Facts for EventRef<'_> {
    fn source(&self) -> SourceKind {
        EventRef::source(self)
    }
    fn kind(&self) -> EventKind {
        EventRef::kind(self)
    }
    fn title(&self) -> &str {
        EventRef::title(self)
    }
    fn message(&self) -> std::borrow::Cow<'_, str> {
        EventRef::message(self)
    }
    fn has_entity(&self, key: EntityKey, value: &str) -> bool {
        self.entities().any(|(k, v)| k == key && v == value)
    }
    fn has_tag(&self, tag: &str) -> bool {
        self.tags().any(|t| t.eq_ignore_ascii_case(tag))
    }
}

impl Facts for Event {
    fn source(&self) -> SourceKind {
        self.source
    }
    fn kind(&self) -> EventKind {
        self.kind
    }
    fn title(&self) -> &str {
        &self.title
    }
    fn message(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.message)
    }
    fn has_entity(&self, key: EntityKey, value: &str) -> bool {
        self.entities.contains(key, value)
    }
    fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
    }
}

const KINDS: [EventKind; 5] = EventKind::ALL;

impl Conditions {
    /// Checks the values and makes them canonical: needles lowercase, a source by its full
    /// name, a category by its full name. The error says which field is wrong and why.
    pub fn prepare(&mut self) -> Result<(), String> {
        for needle in [&mut self.title, &mut self.text].into_iter().flatten() {
            *needle = needle.to_lowercase();
        }
        if let Some(s) = &mut self.source {
            let kind = SourceKind::ALL
                .into_iter()
                .find(|k| k.as_str() == s.as_str() || k.short() == s.as_str())
                .ok_or_else(|| {
                    let names: Vec<&str> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
                    format!(
                        "unknown source `{s}` (expected one of {})",
                        names.join(", ")
                    )
                })?;
            *s = kind.as_str().to_string();
        }
        if let Some(k) = &self.kind {
            if !KINDS.iter().any(|kind| kind.as_str() == k) {
                let names: Vec<&str> = KINDS.iter().map(|k| k.as_str()).collect();
                return Err(format!(
                    "unknown kind `{k}` (expected one of {})",
                    names.join(", ")
                ));
            }
        }
        if let Some(c) = &mut self.category {
            *c = c.parse::<Category>()?.as_str().to_string();
        }
        Ok(())
    }

    /// Whether the event meets every condition.
    pub fn holds(&self, e: &impl Facts) -> bool {
        self.holds_apart_from_text(e)
            && self
                .title
                .as_deref()
                .is_none_or(|t| contains_folded(e.title(), t))
            && self
                .text
                .as_deref()
                .is_none_or(|t| contains_folded(e.title(), t) || contains_folded(&e.message(), t))
    }

    /// Every condition but `title` and `text`, for a caller that matched those already.
    pub fn holds_apart_from_text(&self, e: &impl Facts) -> bool {
        self.source
            .as_deref()
            .is_none_or(|s| e.source().as_str() == s)
            && self.kind.as_deref().is_none_or(|k| e.kind().as_str() == k)
            && self
                .rule
                .as_deref()
                .is_none_or(|r| e.has_entity(EntityKey::Rule, r))
            && self.tag.as_deref().is_none_or(|t| e.has_tag(t))
            && self
                .category
                .as_deref()
                .is_none_or(|c| e.has_entity(EntityKey::Category, c))
    }
}

/// Whether `hay` contains `needle` (already lowercase), ignoring case. This runs for every
/// event of the store, so an ASCII needle is compared byte by byte with no allocation; only a
/// non-ASCII needle lowercases the haystack.
pub fn contains_folded(hay: &str, needle: &str) -> bool {
    if !needle.is_ascii() {
        return hay.to_lowercase().contains(needle);
    }
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_folded_contains() {
        assert!(contains_folded(
            "sshd: FAILED Password for root",
            "failed password"
        ));
        assert!(contains_folded("anything", ""));
        assert!(!contains_folded("Failed passwor", "failed password"));
        assert!(!contains_folded("", "x"));
        // A non-ASCII needle lowercases the haystack.
        assert!(contains_folded("Échec de connexion", "échec"));
        assert!(!contains_folded("Echec", "échec"));
        // Multi-byte haystack around an ASCII needle.
        assert!(contains_folded("→ Accepted ←", "accepted"));
    }

    #[test]
    fn values_are_checked_and_made_canonical() {
        let mut c = Conditions {
            source: Some("es".into()),
            text: Some("Failed Password".into()),
            category: Some("AUTHN".into()),
            ..Conditions::default()
        };
        c.prepare().unwrap();
        assert_eq!(c.source.as_deref(), Some("elasticsearch"));
        assert_eq!(c.text.as_deref(), Some("failed password"));
        assert_eq!(c.category.as_deref(), Some("authentication"));
        for (bad, says) in [
            (
                Conditions {
                    source: Some("splunk".into()),
                    ..Conditions::default()
                },
                "unknown source `splunk`",
            ),
            (
                Conditions {
                    kind: Some("alerts".into()),
                    ..Conditions::default()
                },
                "unknown kind `alerts`",
            ),
            (
                Conditions {
                    category: Some("auth".into()),
                    ..Conditions::default()
                },
                "unknown category `auth`",
            ),
        ] {
            let mut bad = bad;
            let err = bad.prepare().unwrap_err();
            assert!(err.contains(says), "{err}");
        }
    }
}
