use serde::ser::{Serialize, SerializeMap, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// The keys a responder pivots on (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityKey {
    User,
    Container,
    Image,
    Commit,
    Pod,
    Namespace,
    Host,
    Ip,
    Pid,
    Rule,
    /// A security-signal category (`model::Category`), assigned by rules.
    Category,
}

impl EntityKey {
    pub const ALL: [EntityKey; 11] = [
        EntityKey::User,
        EntityKey::Container,
        EntityKey::Image,
        EntityKey::Commit,
        EntityKey::Pod,
        EntityKey::Namespace,
        EntityKey::Host,
        EntityKey::Ip,
        EntityKey::Pid,
        EntityKey::Rule,
        EntityKey::Category,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKey::User => "user",
            EntityKey::Container => "container",
            EntityKey::Image => "image",
            EntityKey::Commit => "commit",
            EntityKey::Pod => "pod",
            EntityKey::Namespace => "namespace",
            EntityKey::Host => "host",
            EntityKey::Ip => "ip",
            EntityKey::Pid => "pid",
            EntityKey::Rule => "rule",
            EntityKey::Category => "category",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for EntityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntityKey::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let keys: Vec<&str> = EntityKey::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown entity key `{s}` (expected one of {})",
                    keys.join(", ")
                )
            })
    }
}

/// The entities of one event: `(key, value)` pairs, sorted and without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entities(Vec<(EntityKey, String)>);

impl Entities {
    pub fn new() -> Self {
        Entities(Vec::new())
    }

    /// Adds a value after normalizing it for its key; empty values and Falco's `<NA>` are dropped.
    pub fn add(&mut self, key: EntityKey, value: &str) {
        if let Some(v) = normalize(key, value) {
            let pair = (key, v.into_owned());
            if let Err(at) = self.0.binary_search(&pair) {
                self.0.insert(at, pair);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (EntityKey, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }

    pub fn values(&self, key: EntityKey) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, key: EntityKey, value: &str) -> bool {
        self.values(key).any(|v| v == value)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(EntityKey, String)> for Entities {
    fn from_iter<T: IntoIterator<Item = (EntityKey, String)>>(iter: T) -> Self {
        let mut e = Entities::new();
        for (k, v) in iter {
            e.add(k, &v);
        }
        e
    }
}

/// `{"user":["mallory"],"container":["5f2c1a9b3d4e"]}` as in SPEC §3.
impl Serialize for Entities {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for key in EntityKey::ALL {
            let values: Vec<&str> = self.values(key).collect();
            if !values.is_empty() {
                map.serialize_entry(key.as_str(), &values)?;
            }
        }
        map.end()
    }
}

pub fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A Git SHA as carried by CI systems and image tags: 7 to 40 hex digits.
pub fn looks_like_commit(s: &str) -> bool {
    (7..=40).contains(&s.len()) && is_hex(s)
}

/// The `sha256:…` digest inside an image reference (`repo@sha256:…`) or a bare digest.
pub fn image_digest(image: &str) -> Option<&str> {
    let at = image.find("sha256:")?;
    let digest = &image[at..];
    is_hex(&digest[7..]).then_some(digest)
}

/// The repository part of an image reference: `ghcr.io/acme/api@sha256:…` → `ghcr.io/acme/api`.
pub fn image_repository(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    // A tag's colon comes after the last slash; a registry port's colon comes before it.
    match (without_digest.rfind(':'), without_digest.rfind('/')) {
        (Some(colon), Some(slash)) if colon > slash => &without_digest[..colon],
        (Some(colon), None) => &without_digest[..colon],
        _ => without_digest,
    }
}

/// A container id in the form every source agrees on: the 12-character short id, lowercase.
/// Docker, containerd and CRI-O print 64 hex digits; Falco and `docker ps` print the first 12.
pub fn short_container_id(id: &str) -> String {
    let id = strip_runtime_prefix(id.trim());
    if id.len() == 64 && is_hex(id) {
        id[..12].to_ascii_lowercase()
    } else if is_hex(id) {
        id.to_ascii_lowercase()
    } else {
        id.to_string()
    }
}

fn strip_runtime_prefix(id: &str) -> &str {
    id.strip_prefix("docker://")
        .or_else(|| id.strip_prefix("containerd://"))
        .or_else(|| id.strip_prefix("cri-o://"))
        .unwrap_or(id)
}

/// A value as stored for its key, borrowed when it needs no change; `None` when the value
/// means "no entity" (empty, Falco's `<NA>`, a host process's container id `host`).
pub fn normalize(key: EntityKey, value: &str) -> Option<Cow<'_, str>> {
    let v = value.trim();
    if v.is_empty() || v == "<NA>" || v == "N/A" {
        return None;
    }
    Some(match key {
        EntityKey::Container => {
            // Falco reports processes outside any container as container.id "host".
            if v == "host" {
                return None;
            }
            let id = strip_runtime_prefix(v);
            if id.len() == 64 && is_hex(id) {
                lower(&id[..12])
            } else if is_hex(id) {
                lower(id)
            } else {
                Cow::Borrowed(id)
            }
        }
        EntityKey::Commit => {
            if !looks_like_commit(v) {
                return None;
            }
            lower(v)
        }
        EntityKey::Category => Cow::Borrowed(v.parse::<super::Category>().ok()?.as_str()),
        EntityKey::Pid => {
            let pid: i64 = v.parse().ok()?;
            if pid < 0 {
                return None;
            }
            // Already in its canonical form (no sign, no leading zeros): kept as it is.
            let canonical =
                v.bytes().all(|b| b.is_ascii_digit()) && (v == "0" || !v.starts_with('0'));
            if canonical {
                Cow::Borrowed(v)
            } else {
                Cow::Owned(pid.to_string())
            }
        }
        _ => Cow::Borrowed(v),
    })
}

/// `v` in lowercase, borrowed when it already is.
fn lower(v: &str) -> Cow<'_, str> {
    if v.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(v.to_ascii_lowercase())
    } else {
        Cow::Borrowed(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ids_share_the_short_form() {
        let full = "5f2c1a9b3d4e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b";
        assert_eq!(short_container_id(full), "5f2c1a9b3d4e");
        assert_eq!(short_container_id("5F2C1A9B3D4E"), "5f2c1a9b3d4e");
        assert_eq!(
            short_container_id(&format!("containerd://{full}")),
            "5f2c1a9b3d4e"
        );
        let mut e = Entities::new();
        e.add(EntityKey::Container, full);
        e.add(EntityKey::Container, "5f2c1a9b3d4e");
        e.add(EntityKey::Container, "host");
        assert_eq!(
            e.values(EntityKey::Container).collect::<Vec<_>>(),
            ["5f2c1a9b3d4e"]
        );
    }

    #[test]
    fn placeholders_and_non_commits_are_dropped() {
        let mut e = Entities::new();
        e.add(EntityKey::User, "<NA>");
        e.add(EntityKey::User, "  ");
        e.add(EntityKey::Commit, "main");
        e.add(EntityKey::Commit, "9F1C2AB");
        e.add(EntityKey::Pid, "-1");
        assert_eq!(
            e.iter().collect::<Vec<_>>(),
            [(EntityKey::Commit, "9f1c2ab")]
        );
    }

    #[test]
    fn pids_are_kept_in_one_form() {
        let mut e = Entities::new();
        for pid in ["0", "4021", "+77", "0042", "007"] {
            e.add(EntityKey::Pid, pid);
        }
        assert_eq!(
            e.values(EntityKey::Pid).collect::<Vec<_>>(),
            ["0", "4021", "42", "7", "77"]
        );
    }

    #[test]
    fn image_parts() {
        let img = "ghcr.io:443/acme/api:v2@sha256:ba29e532250e1f4dbd880e46a6595760ee6b732525b265dba1e98b0eb614d28e";
        assert_eq!(image_repository(img), "ghcr.io:443/acme/api");
        assert!(image_digest(img).unwrap().starts_with("sha256:ba29"));
        assert_eq!(image_repository("alpine:3.19"), "alpine");
        assert_eq!(image_digest("alpine:3.19"), None);
    }

    #[test]
    fn serializes_as_a_map_of_lists() {
        let mut e = Entities::new();
        e.add(EntityKey::User, "mallory");
        e.add(EntityKey::Ip, "185.220.101.4");
        e.add(EntityKey::Ip, "10.0.0.1");
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"user":["mallory"],"ip":["10.0.0.1","185.220.101.4"]}"#
        );
    }
}
