use crate::model::entity::{image_digest, image_repository, is_hex, short_container_id};
use crate::model::{Entities, EntityKey};
use std::fmt;
use std::str::FromStr;

/// `KEY=VALUE`: one condition of a pivot. Several are ANDed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pivot {
    pub key: EntityKey,
    pub value: String,
    /// A filter-out (`user!=mallory`): events with this entity are left out.
    pub exclude: bool,
}

impl Pivot {
    pub fn new(key: EntityKey, value: impl Into<String>) -> Self {
        Pivot {
            key,
            value: value.into(),
            exclude: false,
        }
    }

    /// The entity keys whose values can satisfy this pivot. A "container hash" may be a
    /// container id or an image digest, so `container=` also looks at images.
    pub fn candidate_keys(&self) -> &'static [EntityKey] {
        match self.key {
            EntityKey::Container => &[EntityKey::Container, EntityKey::Image],
            EntityKey::User => &[EntityKey::User],
            EntityKey::Image => &[EntityKey::Image],
            EntityKey::Commit => &[EntityKey::Commit],
            EntityKey::Pod => &[EntityKey::Pod],
            EntityKey::Namespace => &[EntityKey::Namespace],
            EntityKey::Host => &[EntityKey::Host],
            EntityKey::Ip => &[EntityKey::Ip],
            EntityKey::Pid => &[EntityKey::Pid],
            EntityKey::Rule => &[EntityKey::Rule],
            EntityKey::Category => &[EntityKey::Category],
        }
    }

    /// The one value of `key` this pivot can match, when there is one: the index is then
    /// probed directly instead of scanning the key's values (a million container ids).
    pub fn exact_value(&self, key: EntityKey) -> Option<String> {
        let wanted = self.value.trim();
        match (self.key, key) {
            (EntityKey::Container, EntityKey::Container) => Some(short_container_id(wanted)),
            (a, b) if a == b && self.is_exact() => Some(wanted.to_string()),
            _ => None,
        }
    }

    /// Whether the values of `key` must be scanned (prefixes, digests, repositories).
    pub fn scans(&self, key: EntityKey) -> bool {
        match (self.key, key) {
            (EntityKey::Container, EntityKey::Image) => wanted_digest(self.value.trim()).is_some(),
            (EntityKey::Image, EntityKey::Image) | (EntityKey::Commit, EntityKey::Commit) => true,
            _ => false,
        }
    }

    /// Whether exact equality is the whole rule, so the index can be probed directly.
    pub fn is_exact(&self) -> bool {
        !matches!(
            self.key,
            EntityKey::Container | EntityKey::Image | EntityKey::Commit
        )
    }

    /// Whether an entity `(key, value)` of an event satisfies this pivot (SPEC §4):
    /// - `container=` matches a 64-hex id, its 12-character short form, or an image digest;
    /// - `commit=` is a prefix match on 7 to 40 hex digits, case-insensitive;
    /// - `image=` matches the full reference, its digest, or its repository.
    pub fn accepts(&self, key: EntityKey, value: &str) -> bool {
        let wanted = self.value.trim();
        match (self.key, key) {
            (EntityKey::Container, EntityKey::Container) => {
                let short = short_container_id(wanted);
                !short.is_empty() && value == short
            }
            (EntityKey::Container, EntityKey::Image) => match wanted_digest(wanted) {
                Some(d) => image_digest(value).is_some_and(|have| have.eq_ignore_ascii_case(&d)),
                None => false,
            },
            (EntityKey::Image, EntityKey::Image) => {
                value == wanted
                    || wanted_digest(wanted).is_some_and(|d| {
                        image_digest(value).is_some_and(|have| have.eq_ignore_ascii_case(&d))
                    })
                    || image_repository(value) == wanted
            }
            // Either side may be the short form: `9f1c2ab` finds the full SHA, and a pasted
            // full SHA finds events that only carry its 7-character tag.
            (EntityKey::Commit, EntityKey::Commit) => {
                let wanted = wanted.to_ascii_lowercase();
                wanted.len() >= 7
                    && is_hex(&wanted)
                    && (value.starts_with(&wanted)
                        || (value.len() >= 7 && wanted.starts_with(value)))
            }
            (a, b) if a == b => value == wanted,
            _ => false,
        }
    }

    /// Whether a whole set of entities satisfies this pivot.
    pub fn matches(&self, entities: &Entities) -> bool {
        entities.iter().any(|(k, v)| self.accepts(k, v))
    }
}

/// `sha256:<64 hex>` from `sha256:…`, `…@sha256:…` or a bare 64-hex string.
fn wanted_digest(s: &str) -> Option<String> {
    if let Some(d) = image_digest(s) {
        return Some(d.to_ascii_lowercase());
    }
    (s.len() == 64 && is_hex(s)).then(|| format!("sha256:{}", s.to_ascii_lowercase()))
}

impl FromStr for Pivot {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (key, value) = s
            .split_once('=')
            .ok_or_else(|| format!("pivot `{s}` is not KEY=VALUE (or KEY!=VALUE to leave out)"))?;
        let (key, exclude) = match key.strip_suffix('!') {
            Some(k) => (k, true),
            None => (key, false),
        };
        let key: EntityKey = key.trim().parse()?;
        let mut value = value.trim();
        if value.is_empty() {
            return Err(format!("pivot `{s}` has an empty value"));
        }
        // A category by its full or short name; anything else is a typo worth saying.
        if key == EntityKey::Category {
            value = value.parse::<crate::model::Category>()?.as_str();
        }
        Ok(Pivot {
            exclude,
            ..Pivot::new(key, value)
        })
    }
}

impl fmt::Display for Pivot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = if self.exclude { "!=" } else { "=" };
        write!(f, "{}{op}{}", self.key, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "5f2c1a9b3d4e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b";
    const DIGEST: &str = "sha256:ba29e532250e1f4dbd880e46a6595760ee6b732525b265dba1e98b0eb614d28e";

    #[test]
    fn categories_by_full_or_short_name() {
        let p: Pivot = "category=AUTHN".parse().unwrap();
        assert_eq!(p.value, "authentication");
        assert!(p.accepts(EntityKey::Category, "authentication"));
        assert!(!p.accepts(EntityKey::Category, "authorization"));
        let err = "category=auth".parse::<Pivot>().unwrap_err();
        assert!(err.contains("unknown category `auth`"), "{err}");
    }

    #[test]
    fn container_hash_in_any_form() {
        for given in [FULL, "5f2c1a9b3d4e", "5F2C1A9B3D4E"] {
            let p: Pivot = format!("container={given}").parse().unwrap();
            assert!(p.accepts(EntityKey::Container, "5f2c1a9b3d4e"), "{given}");
            assert!(!p.accepts(EntityKey::Container, "ee97d9c4186f"));
        }
        let image = format!("ghcr.io/acme/api@{DIGEST}");
        let by_digest: Pivot = format!("container={DIGEST}").parse().unwrap();
        assert!(by_digest.accepts(EntityKey::Image, &image));
        let bare: Pivot = format!("container={}", &DIGEST[7..]).parse().unwrap();
        assert!(bare.accepts(EntityKey::Image, &image));
        assert!(!by_digest.accepts(EntityKey::Image, "ghcr.io/acme/api:v1"));
    }

    #[test]
    fn commit_prefix_and_image_forms() {
        let p: Pivot = "commit=9F1C2AB".parse().unwrap();
        assert!(p.accepts(
            EntityKey::Commit,
            "9f1c2ab4e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3"
        ));
        assert!(!p.accepts(EntityKey::Commit, "0f1c2ab4e8d7"));
        let full: Pivot = "commit=9f1c2ab4e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3"
            .parse()
            .unwrap();
        assert!(full.accepts(EntityKey::Commit, "9f1c2ab"));
        assert!(!full.accepts(EntityKey::Commit, "9f1c2ac"));
        let short: Pivot = "commit=9f1c2a".parse().unwrap();
        assert!(!short.accepts(EntityKey::Commit, "9f1c2ab4e8d7"));
        let image = format!("ghcr.io/acme/api@{DIGEST}");
        for given in [image.as_str(), DIGEST, "ghcr.io/acme/api"] {
            let p = Pivot::new(EntityKey::Image, given);
            assert!(p.accepts(EntityKey::Image, &image), "{given}");
        }
    }

    #[test]
    fn parse_errors_are_clear() {
        assert!("user".parse::<Pivot>().unwrap_err().contains("KEY=VALUE"));
        assert!("colour=red"
            .parse::<Pivot>()
            .unwrap_err()
            .contains("unknown entity key"));
        assert!("user=".parse::<Pivot>().is_err());
        assert_eq!(
            "user = mallory".parse::<Pivot>().unwrap().to_string(),
            "user=mallory"
        );
        let out: Pivot = "user!=mallory".parse().unwrap();
        assert!(out.exclude);
        assert_eq!(out.to_string(), "user!=mallory");
    }
}
