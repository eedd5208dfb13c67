//! Pivots pushed down into each backend's own query language, so the cluster does the
//! filtering (SPEC §4). What a backend cannot express is filtered locally, and the caller
//! says so.
//!
//! - Loki: casefile takes entities from stream labels and structured metadata as well as
//!   from the line, so where a pivot goes depends on the labels of the streams the query
//!   selects ([`LokiStreams`], from the series API):
//!   - no selected stream carries a label that feeds the pivot's key: a line filter
//!     (`|= "mallory"`), a superset of the pivot (the value may appear elsewhere in the line),
//!     so the local filter still applies;
//!   - every selected stream carries the one label that feeds it: a matcher in the stream
//!     selector (`{job="api", pod="api-7d9f"}`), for the keys matched by equality;
//!   - otherwise (some streams carry it, several labels feed it, the key is not matched by
//!     equality, or the streams are unknown): filtered locally, and the reason said.
//!
//!   Without a server to ask ([`narrow`], for links) a pivot is taken to be in the line.
//!
//!   Two cases the series API cannot see: a value only in an entry's structured metadata
//!   (not a stream label) is missed by a line filter, and an entry of a stream labelled
//!   `pod="a"` whose own fields name `pod=b` is missed by the matcher `pod="b"`.
//! - Elasticsearch: a `query_string` clause over the ECS fields the entity table maps to the
//!   key, exact for most keys, a prefix for container ids and commits.
//! - Prometheus: a label matcher in every vector selector of every query, for keys that one
//!   label feeds (`pod`, `namespace`, …) and match exactly. A key two labels feed (`host`:
//!   `node` or `host`) would need an OR no selector can hold, and prefix and digest matches
//!   (`container`, `image`, `commit`) are not label equality: those are filtered locally.
//! - A `category` pivot is never pushed down: categories are assigned by casefile's rules.

use super::promql::{self, Matcher};
use super::spec::SourceSpec;
use super::EntityTables;
use crate::model::EntityKey;
use crate::store::Pivot;
use std::collections::BTreeMap;

/// The labels of the streams a Loki log query selects, as the series API lists them: how
/// many streams there are, and how many of them carry each label name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LokiStreams {
    pub total: usize,
    pub labels: BTreeMap<String, usize>,
}

impl LokiStreams {
    /// From each stream's label names.
    pub fn from_streams<'a, S, I>(streams: S) -> Self
    where
        S: IntoIterator<Item = I>,
        I: IntoIterator<Item = &'a str>,
    {
        let mut out = LokiStreams::default();
        for names in streams {
            out.total += 1;
            let mut names: Vec<&str> = names.into_iter().collect();
            names.sort_unstable();
            names.dedup();
            for name in names {
                *out.labels.entry(name.to_string()).or_default() += 1;
            }
        }
        out
    }

    /// How many of the streams carry `label`.
    pub fn carrying(&self, label: &str) -> usize {
        self.labels.get(label).copied().unwrap_or(0)
    }
}

/// What is known of the streams a Loki spec selects, when it is narrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streams<'a> {
    /// No server was asked (a link, built offline): every pivot is taken to be in the line.
    NotAsked,
    /// The series API's answer.
    Known(&'a LokiStreams),
    /// The series API could not be asked or did not answer, and why: a pivot that a stream
    /// label could carry stays local.
    Unknown(&'a str),
}

impl<'a> From<&'a Result<LokiStreams, String>> for Streams<'a> {
    fn from(r: &'a Result<LokiStreams, String>) -> Self {
        match r {
            Ok(s) => Streams::Known(s),
            Err(why) => Streams::Unknown(why),
        }
    }
}

/// What narrowing needs besides the spec, the pivots and the search.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub tables: &'a EntityTables,
    /// For a Loki spec, its streams' labels; the other backends ignore it.
    pub streams: Streams<'a>,
}

impl<'a> Context<'a> {
    pub fn new(tables: &'a EntityTables, streams: Streams<'a>) -> Self {
        Context { tables, streams }
    }

    /// No server asked about its streams (see [`Streams::NotAsked`]).
    pub fn offline(tables: &'a EntityTables) -> Self {
        Context::new(tables, Streams::NotAsked)
    }
}

/// [`narrow_with`] without asking the server anything: a Loki pivot becomes a line filter
/// whatever its streams carry. For links, which are built offline; what reads a server
/// for casefile itself uses [`narrow_with`] and the streams' labels.
pub fn narrow(
    spec: &SourceSpec,
    pivots: &[Pivot],
    search: Option<&str>,
    tables: &EntityTables,
) -> Option<SourceSpec> {
    narrow_with(spec, pivots, search, &Context::offline(tables))
}

/// The spec narrowed by the pivots and the search, or `None` when this backend cannot take
/// them. The search is casefile's fuzzy search; what the server gets is a superset of it (a
/// case-insensitive subsequence for Loki, every word as a substring of `message` for
/// Elasticsearch), and the local search still decides.
pub fn narrow_with(
    spec: &SourceSpec,
    pivots: &[Pivot],
    search: Option<&str>,
    ctx: &Context,
) -> Option<SourceSpec> {
    let tables = ctx.tables;
    let search = search.map(str::trim).filter(|s| !s.is_empty());
    let pivots: Vec<Pivot> = pivots
        .iter()
        .filter(|p| pushable(spec, p, ctx))
        .cloned()
        .collect();
    let pivots = pivots.as_slice();
    if pivots.is_empty() && search.is_none() {
        return None;
    }
    match spec {
        SourceSpec::Loki { endpoint, query } => {
            // Only log queries take line filters.
            if !query.trim_start().starts_with('{') {
                return None;
            }
            let mut matchers = Vec::new();
            let mut filters = String::new();
            for p in pivots {
                match loki_place(p, ctx) {
                    Place::Selector(label) => {
                        matchers.push(format!("{label}=\"{}\"", promql::escape(p.value.trim())))
                    }
                    Place::Line => {
                        filters.push_str(&format!(" |= \"{}\"", promql::escape(&line_value(p))))
                    }
                    Place::Local(_) => {}
                }
            }
            let mut narrowed = add_to_selector(query, &matchers)?;
            narrowed.push_str(&filters);
            if let Some(text) = search {
                let subsequence: Vec<String> = text
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .map(regex_escape)
                    .collect();
                narrowed.push_str(&format!(
                    " |~ \"(?i){}\"",
                    promql::escape(&subsequence.join(".*"))
                ));
            }
            Some(SourceSpec::Loki {
                endpoint: endpoint.clone(),
                query: narrowed,
            })
        }
        SourceSpec::Elasticsearch {
            endpoint,
            index,
            query,
        } => {
            let mut clauses: Vec<String> = query.iter().map(|q| format!("({q})")).collect();
            for p in pivots {
                let fields = es_fields(p.key, tables, index);
                let value = p.value.trim();
                let prefix = matches!(p.key, EntityKey::Container | EntityKey::Commit);
                let terms: Vec<String> = fields
                    .iter()
                    .map(|f| {
                        if prefix {
                            format!("{f}:{}*", lucene_escape(&short_form(p)))
                        } else {
                            format!(
                                "{f}:\"{}\"",
                                value.replace('\\', "\\\\").replace('"', "\\\"")
                            )
                        }
                    })
                    .collect();
                let clause = format!("({})", terms.join(" OR "));
                clauses.push(if p.exclude {
                    format!("NOT {clause}")
                } else {
                    clause
                });
            }
            if let Some(text) = search {
                // Wazuh alerts keep their text in `full_log` and their title in the rule.
                let text_fields: &[&str] = if holds_wazuh(index) {
                    &[
                        "message",
                        "full_log",
                        "rule.description",
                        "syscheck.path",
                        "data.title",
                    ]
                } else {
                    &["message"]
                };
                let words: Vec<String> = text
                    .split_whitespace()
                    .map(|w| {
                        let w = lucene_escape(&w.to_lowercase());
                        let any: Vec<String> =
                            text_fields.iter().map(|f| format!("{f}:*{w}*")).collect();
                        if any.len() == 1 {
                            any.join("")
                        } else {
                            format!("({})", any.join(" OR "))
                        }
                    })
                    .collect();
                clauses.push(format!("({})", words.join(" AND ")));
            }
            Some(SourceSpec::Elasticsearch {
                endpoint: endpoint.clone(),
                index: index.clone(),
                query: Some(clauses.join(" AND ")),
            })
        }
        SourceSpec::Prometheus { endpoint, queries } => {
            let matchers: Vec<Matcher> = pivots
                .iter()
                .filter_map(|p| prometheus_matcher(p, tables))
                .collect();
            if matchers.is_empty() {
                return None;
            }
            let queries = queries
                .iter()
                .map(|q| promql::add_matchers(q, &matchers))
                .collect::<Result<Vec<String>, String>>()
                .ok()?;
            Some(SourceSpec::Prometheus {
                endpoint: endpoint.clone(),
                queries,
            })
        }
        // Their APIs take no entity filter casefile could use: filtered locally.
        SourceSpec::Alertmanager { .. }
        | SourceSpec::Zabbix { .. }
        | SourceSpec::Grafana { .. } => None,
    }
}

/// The pivots [`narrow_with`] leaves out, filtered locally only; the UI names them.
pub fn kept_local<'a>(spec: &SourceSpec, pivots: &'a [Pivot], ctx: &Context) -> Vec<&'a Pivot> {
    pivots.iter().filter(|p| !pushable(spec, p, ctx)).collect()
}

/// Why pivots a backend could otherwise take are kept local (for Loki: what its streams'
/// labels say), for the caller's message; `None` when there is nothing more to say than
/// that they are.
pub fn why_local(spec: &SourceSpec, pivots: &[Pivot], ctx: &Context) -> Option<String> {
    // A metric query takes no pivot at all: nothing to say about its streams.
    let SourceSpec::Loki { query, .. } = spec else {
        return None;
    };
    selector_span(query)?;
    let reasons: Vec<(&Pivot, String)> = pivots
        .iter()
        .filter(|p| !category_or_digest(p))
        .filter_map(|p| match loki_place(p, ctx) {
            Place::Local(Some(why)) => Some((p, why)),
            _ => None,
        })
        .collect();
    let first = &reasons.first()?.1;
    if reasons.iter().all(|(_, why)| why == first) {
        return Some(first.clone());
    }
    let each: Vec<String> = reasons
        .iter()
        .map(|(p, why)| format!("{p}: {why}"))
        .collect();
    Some(each.join("; "))
}

/// Whether narrowing this spec depends on its streams' labels: a Loki log query, and a
/// pivot a stream label could carry. Only then is the series API worth asking.
pub fn needs_streams(spec: &SourceSpec, pivots: &[Pivot], tables: &EntityTables) -> bool {
    match spec {
        SourceSpec::Loki { query, .. } => {
            selector_span(query).is_some()
                && pivots.iter().any(|p| {
                    !p.exclude && !category_or_digest(p) && !loki_labels(p, tables).is_empty()
                })
        }
        _ => false,
    }
}

/// What a headless command tells stderr about one source, for what [`narrow_with`] gave:
/// the query pushed down, and the pivots filtered here and why; or that nothing was pushed
/// down. `None` with no pivot or search.
pub fn headless_note(
    spec: &SourceSpec,
    narrowed: Option<&SourceSpec>,
    pivots: &[Pivot],
    search: Option<&str>,
    ctx: &Context,
) -> Option<String> {
    let local: Vec<String> = kept_local(spec, pivots, ctx)
        .iter()
        .map(|p| p.to_string())
        .collect();
    let why = why_local(spec, pivots, ctx)
        .map(|w| format!(": {w}"))
        .unwrap_or_default();
    let name = &spec.endpoint().name;
    match narrowed {
        Some(n) if local.is_empty() => Some(format!("{name}: pushed down: {}", n.describe())),
        Some(n) => Some(format!(
            "{name}: pushed down: {} ({} filtered here{why})",
            n.describe(),
            local.join(" & ")
        )),
        None if pivots.is_empty() && search.is_none_or(|s| s.trim().is_empty()) => None,
        None => {
            let mut all: Vec<String> = pivots.iter().map(|p| p.to_string()).collect();
            all.extend(search.map(|s| format!("search \"{s}\"")));
            Some(format!(
                "{name}: nothing pushed down: {} filtered here{why}",
                all.join(" & ")
            ))
        }
    }
}

/// Whether this backend's query language can say this pivot.
/// - A category is casefile's own (rules over what the sources return): no server has it.
/// - An image digest given as a container hash is matched locally.
/// - Loki: see [`loki_place`].
/// - Elasticsearch: only keys the entity table maps to fields.
/// - Prometheus: see [`prometheus_matcher`].
fn pushable(spec: &SourceSpec, p: &Pivot, ctx: &Context) -> bool {
    if category_or_digest(p) {
        return false;
    }
    let tables = ctx.tables;
    match spec {
        SourceSpec::Loki { .. } => !matches!(loki_place(p, ctx), Place::Local(_)),
        SourceSpec::Elasticsearch { index, .. } => !es_fields(p.key, tables, index).is_empty(),
        SourceSpec::Prometheus { .. } => prometheus_matcher(p, tables).is_some(),
        SourceSpec::Alertmanager { .. }
        | SourceSpec::Zabbix { .. }
        | SourceSpec::Grafana { .. } => false,
    }
}

/// A category is casefile's own, and an image digest given as a container hash is matched
/// by casefile: no backend takes them.
fn category_or_digest(p: &Pivot) -> bool {
    p.key == EntityKey::Category || (p.key == EntityKey::Container && p.value.contains("sha256:"))
}

/// Where a Loki pivot goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// A line filter: no stream label can carry the pivot's value.
    Line,
    /// A matcher on this label in the stream selector: every selected stream carries it, and
    /// it is the only label that feeds the key.
    Selector(String),
    /// Filtered locally, and why (`None`: a left-out entity, which a line filter would get
    /// wrong by dropping lines that merely mention the value).
    Local(Option<String>),
}

/// Where a Loki pivot goes, from the labels of the streams the query selects (see the
/// module's documentation). Its value may come from the line or from a label, so:
/// - no stream carries a label feeding its key: only the line can hold it, a line filter;
/// - every stream carries the one label feeding it, and the key is matched by equality: a
///   label matcher in the selector;
/// - anything else (some streams carry it, several labels feed it, the streams unknown):
///   local, since neither a line filter nor a matcher keeps every event it matches.
fn loki_place(p: &Pivot, ctx: &Context) -> Place {
    if p.exclude {
        return Place::Local(None);
    }
    let feeding = loki_labels(p, ctx.tables);
    if feeding.is_empty() {
        return Place::Line;
    }
    let streams = match ctx.streams {
        Streams::NotAsked => return Place::Line,
        Streams::Unknown(why) => {
            return Place::Local(Some(format!("stream labels unknown ({why})")))
        }
        Streams::Known(s) => s,
    };
    let carried: Vec<(&str, usize)> = feeding
        .iter()
        .map(|label| (*label, streams.carrying(label)))
        .filter(|(_, n)| *n > 0)
        .collect();
    match carried.as_slice() {
        [] => Place::Line,
        [(label, n)] if *n < streams.total => Place::Local(Some(format!(
            "label `{label}` is on {n} of {} streams",
            streams.total
        ))),
        [(label, _)] if equality_key(p.key) && promql::is_label_name(label) => {
            Place::Selector(label.to_string())
        }
        [(label, _)] => Place::Local(Some(format!(
            "label `{label}` is not matched by equality for {}=",
            p.key
        ))),
        several => {
            let names: Vec<String> = several.iter().map(|(l, _)| format!("`{l}`")).collect();
            Place::Local(Some(format!(
                "labels {} all feed {}",
                names.join(", "),
                p.key
            )))
        }
    }
}

/// The Loki label names (per the entity table) whose values this pivot may match: those of
/// its key, and of the image for a container hash that may be a digest.
fn loki_labels<'a>(p: &Pivot, tables: &'a EntityTables) -> Vec<&'a str> {
    let keys: Vec<EntityKey> = p
        .candidate_keys()
        .iter()
        .copied()
        .filter(|k| *k == p.key || p.scans(*k))
        .collect();
    let mut labels: Vec<&str> = tables
        .loki
        .rows()
        .filter(|(_, k)| keys.contains(k))
        .map(|(label, _)| label)
        .collect();
    labels.sort_unstable();
    labels.dedup();
    labels
}

/// Keys a pivot matches by plain equality of the value as the entity holds it (trimmed),
/// which a label matcher says exactly. Container ids (short forms), images (digests,
/// repositories), commits (prefixes) and pids (normalized numbers) are not.
fn equality_key(key: EntityKey) -> bool {
    use EntityKey::*;
    matches!(key, User | Pod | Namespace | Host | Ip | Rule)
}

/// The stream selector `{…}` a log query starts with (for the series API), or `None` for a
/// metric query or a selector that does not close.
pub fn stream_selector(query: &str) -> Option<&str> {
    let (start, end) = selector_span(query)?;
    Some(&query[start..=end])
}

/// Byte offsets of the `{` and the `}` of the selector a log query starts with. Braces
/// inside string literals (`"…"` with escapes, `` `…` `` raw) are not the selector's.
fn selector_span(query: &str) -> Option<(usize, usize)> {
    let start = query.len() - query.trim_start().len();
    let bytes = query.as_bytes();
    if bytes.get(start) != Some(&b'{') {
        return None;
    }
    let mut quote: Option<u8> = None;
    let mut i = start + 1;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == b'\\' && q != b'`' => {
                i += 2;
                continue;
            }
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'`' | b'\'' => quote = Some(b),
                b'}' => return Some((start, i)),
                b'{' => return None,
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// The query with the matchers added to its stream selector, before its closing brace.
fn add_to_selector(query: &str, matchers: &[String]) -> Option<String> {
    if matchers.is_empty() {
        return Some(query.to_string());
    }
    let (_, end) = selector_span(query)?;
    let head = query[..end].trim_end();
    let sep = if head.ends_with('{') {
        ""
    } else if head.ends_with(',') {
        " "
    } else {
        ", "
    };
    Some(format!(
        "{head}{sep}{}{}",
        matchers.join(", "),
        &query[end..]
    ))
}

/// The fields a pivot on `key` asks for: the ECS ones, and for a wazuh-indexer's `wazuh-*`
/// indices the Wazuh ones too (its alerts are not ECS; a mix of indices gets both, so the
/// server's answer is never narrower than the pivot).
fn es_fields<'a>(key: EntityKey, tables: &'a EntityTables, index: &str) -> Vec<&'a str> {
    let wazuh = holds_wazuh(index).then_some(&tables.wazuh);
    let mut fields: Vec<&str> = std::iter::once(&tables.elasticsearch)
        .chain(wazuh)
        .flat_map(|t| t.rows())
        .filter(|(_, k)| *k == key)
        .map(|(f, _)| f)
        .collect();
    fields.dedup();
    fields
}

fn holds_wazuh(index: &str) -> bool {
    index.split(',').any(|i| i.trim().starts_with("wazuh-"))
}

/// The PromQL matcher for a pivot, when one label feeds its key and equality is its rule.
fn prometheus_matcher(p: &Pivot, tables: &EntityTables) -> Option<Matcher> {
    use EntityKey::*;
    if !matches!(p.key, User | Pod | Namespace | Host | Ip | Pid | Rule) {
        return None;
    }
    let labels: Vec<&str> = tables
        .prometheus
        .rows()
        .filter(|(_, k)| *k == p.key)
        .map(|(label, _)| label)
        .collect();
    let [label] = labels.as_slice() else {
        return None;
    };
    promql::is_label_name(label).then(|| Matcher {
        label: label.to_string(),
        value: p.value.trim().to_string(),
        exclude: p.exclude,
    })
}

/// The text a matching line must contain: container ids in their 12-character form (a
/// prefix of the full id too), everything else as given.
fn line_value(p: &Pivot) -> String {
    match p.key {
        EntityKey::Container | EntityKey::Commit => short_form(p),
        _ => p.value.trim().to_string(),
    }
}

fn short_form(p: &Pivot) -> String {
    let v = p.value.trim().to_ascii_lowercase();
    match p.key {
        EntityKey::Container => crate::model::entity::short_container_id(&v),
        EntityKey::Commit => v.chars().take(7).collect(),
        _ => v,
    }
}

/// One character as a literal in an RE2 regular expression.
fn regex_escape(c: char) -> String {
    if "\\.+*?()|[]{}^$".contains(c) {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

/// A Lucene query_string term, every reserved character escaped.
fn lucene_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "+-=&|><!(){}[]^\"~*?:\\/ ".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::spec::Endpoint;

    /// Quotes not preceded by an odd run of backslashes: the string literals' own delimiters.
    fn unescaped_quotes(s: &str) -> usize {
        let (mut n, mut backslashes) = (0, 0);
        for c in s.chars() {
            match c {
                '\\' => backslashes += 1,
                '"' if backslashes % 2 == 0 => {
                    n += 1;
                    backslashes = 0;
                }
                _ => backslashes = 0,
            }
        }
        n
    }

    #[test]
    fn a_wazuh_indexer_is_asked_for_wazuh_s_fields_too() {
        let tables = EntityTables::default();
        let spec = |index: &str| SourceSpec::Elasticsearch {
            endpoint: Endpoint::new("http://es:9200"),
            index: index.into(),
            query: None,
        };
        let pivots = [Pivot::new(EntityKey::User, "mallory")];
        let asked = |index: &str, search: Option<&str>| match narrow(
            &spec(index),
            &pivots,
            search,
            &tables,
        ) {
            Some(SourceSpec::Elasticsearch { query: Some(q), .. }) => q,
            other => panic!("{other:?}"),
        };
        let wazuh = asked("wazuh-alerts-4.x-*", Some("authorized_keys"));
        for field in [
            "user.name:\"mallory\"",
            "data.dstuser:\"mallory\"",
            "syscheck.audit.user.name:\"mallory\"",
            "full_log:*authorized_keys*",
        ] {
            assert!(wazuh.contains(field), "{field} in {wazuh}");
        }
        // An ECS index is asked for ECS fields only.
        let ecs = asked("logs-*", Some("authorized_keys"));
        assert!(
            !ecs.contains("data.dstuser") && !ecs.contains("full_log"),
            "{ecs}"
        );
        assert!(ecs.contains("message:*authorized_keys*"), "{ecs}");
    }

    #[test]
    fn hostile_values_cannot_change_a_query_s_meaning() {
        let tables = EntityTables::default();
        let hostile = "x\"} or {job=~\".+\\";
        let loki = SourceSpec::Loki {
            endpoint: Endpoint::new("http://l"),
            query: "{job=\"sshd\"}".into(),
        };
        let es = SourceSpec::Elasticsearch {
            endpoint: Endpoint::new("http://e"),
            index: "i".into(),
            query: None,
        };
        let prom = SourceSpec::Prometheus {
            endpoint: Endpoint::new("http://p"),
            queries: vec!["rate(x{job=\"a\"}[5m])".into()],
        };
        let mut prom_pushed = 0;
        for key in crate::model::EntityKey::ALL {
            if matches!(key, EntityKey::Container | EntityKey::Commit) {
                continue; // hex only: a hostile value is not a container id or a commit
            }
            let pivot = Pivot::new(key, hostile);
            if let Some(SourceSpec::Loki { query, .. }) =
                narrow(&loki, std::slice::from_ref(&pivot), None, &tables)
            {
                // The selector is untouched and the value stays inside one string literal.
                assert!(query.starts_with("{job=\"sshd\"} |= \""), "{key}: {query}");
                assert_eq!(unescaped_quotes(&query), 4, "{key}: {query}");
            }
            if let Some(SourceSpec::Elasticsearch { query: Some(q), .. }) =
                narrow(&es, std::slice::from_ref(&pivot), None, &tables)
            {
                assert_eq!(unescaped_quotes(&q) % 2, 0, "{key}: {q}");
                assert!(q.starts_with('(') && q.ends_with(')'), "{key}: {q}");
            }
            if let Some(SourceSpec::Prometheus { queries, .. }) =
                narrow(&prom, std::slice::from_ref(&pivot), None, &tables)
            {
                // One selector still, its matchers and the range untouched around the value.
                let q = &queries[0];
                assert!(q.starts_with("rate(x{job=\"a\","), "{key}: {q}");
                assert!(q.ends_with("\"}[5m])"), "{key}: {q}");
                assert_eq!(unescaped_quotes(q), 4, "{key}: {q}");
                prom_pushed += 1;
            }
        }
        assert!(prom_pushed >= 4, "{prom_pushed} keys pushed to Prometheus");
        // A search with regex and quote characters stays one literal too.
        if let Some(SourceSpec::Loki { query, .. }) = narrow(&loki, &[], Some(hostile), &tables) {
            assert_eq!(unescaped_quotes(&query), 4, "{query}");
        }
    }

    #[test]
    fn loki_gets_line_filters_and_elasticsearch_field_clauses() {
        let tables = EntityTables::default();
        let user: Pivot = "user=mal\"lory".parse().unwrap();
        let container: Pivot =
            "container=5F2C1A9B3D4E64C7F708FDF0010FD26B7643FA86509ADC32FB9A6F3C325BC1CF"
                .parse()
                .unwrap();
        let loki = SourceSpec::Loki {
            endpoint: Endpoint::new("http://l"),
            query: "{job=\"sshd\"}".into(),
        };
        match narrow(&loki, &[user.clone(), container.clone()], None, &tables).unwrap() {
            SourceSpec::Loki { query, .. } => {
                assert_eq!(
                    query,
                    "{job=\"sshd\"} |= \"mal\\\"lory\" |= \"5f2c1a9b3d4e\""
                )
            }
            other => panic!("{other:?}"),
        }
        let metric = SourceSpec::Loki {
            endpoint: Endpoint::new("http://l"),
            query: "sum(rate({job=\"x\"}[1m]))".into(),
        };
        assert!(narrow(&metric, std::slice::from_ref(&user), None, &tables).is_none());
        let es = SourceSpec::Elasticsearch {
            endpoint: Endpoint::new("http://e"),
            index: "logs-*".into(),
            query: Some("event.kind:alert".into()),
        };
        match narrow(&es, &[user, container], None, &tables).unwrap() {
            SourceSpec::Elasticsearch { query: Some(q), .. } => {
                assert!(q.starts_with("(event.kind:alert) AND (user.name:\"mal\\\"lory\" OR user.target.name:\"mal\\\"lory\")"), "{q}");
                assert!(q.ends_with("(container.id:5f2c1a9b3d4e*)"), "{q}");
            }
            other => panic!("{other:?}"),
        }
        // A search becomes a case-insensitive subsequence for Loki, substrings for ES.
        match narrow(&loki, &[], Some("xm.rig"), &tables).unwrap() {
            SourceSpec::Loki { query, .. } => {
                assert_eq!(query, "{job=\"sshd\"} |~ \"(?i)x.*m.*\\\\..*r.*i.*g\"")
            }
            other => panic!("{other:?}"),
        }
        match narrow(&es, &[], Some("Drop exec"), &tables).unwrap() {
            SourceSpec::Elasticsearch { query: Some(q), .. } => assert_eq!(
                q,
                "(event.kind:alert) AND (message:*drop* AND message:*exec*)"
            ),
            other => panic!("{other:?}"),
        }
        // Left out: exact field clauses for ES, local filtering for Loki.
        let out: Pivot = "user!=eve".parse().unwrap();
        match narrow(&es, std::slice::from_ref(&out), None, &tables).unwrap() {
            SourceSpec::Elasticsearch { query: Some(q), .. } => {
                assert_eq!(
                    q,
                    "(event.kind:alert) AND NOT (user.name:\"eve\" OR user.target.name:\"eve\")"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(narrow(&loki, std::slice::from_ref(&out), None, &tables).is_none());
        assert_eq!(
            kept_local(
                &loki,
                std::slice::from_ref(&out),
                &Context::offline(&tables)
            ),
            [&out]
        );
        // An image digest as a container hash stays local; the user still goes down.
        let digest: Pivot =
            "container=sha256:ba29e532250e1f4dbd880e46a6595760ee6b732525b265dba1e98b0eb614d28e"
                .parse()
                .unwrap();
        let mallory: Pivot = "user=mallory".parse().unwrap();
        let both = [digest.clone(), mallory];
        match narrow(&loki, &both, None, &tables).unwrap() {
            SourceSpec::Loki { query, .. } => assert_eq!(query, "{job=\"sshd\"} |= \"mallory\""),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            kept_local(&es, &both, &Context::offline(&tables)),
            [&digest]
        );
    }

    #[test]
    fn prometheus_gets_label_matchers_for_keys_one_label_feeds() {
        let tables = EntityTables::default();
        let prom = SourceSpec::Prometheus {
            endpoint: Endpoint::new("http://p"),
            queries: vec![
                r#"rate(container_cpu_usage_seconds_total{namespace="prod"}[5m])"#.into(),
                "sum by (pod) (up)".into(),
            ],
        };
        let pivots: Vec<Pivot> = ["pod=api-7d9f", "user!=eve", "rule=HighCPU"]
            .iter()
            .map(|p| p.parse().unwrap())
            .collect();
        match narrow(&prom, &pivots, None, &tables).unwrap() {
            SourceSpec::Prometheus { queries, .. } => assert_eq!(
                queries,
                [
                    r#"rate(container_cpu_usage_seconds_total{namespace="prod",pod="api-7d9f",user!="eve",alertname="HighCPU"}[5m])"#,
                    r#"sum by (pod) (up{pod="api-7d9f",user!="eve",alertname="HighCPU"})"#,
                ]
            ),
            other => panic!("{other:?}"),
        }
        // Two labels feed `host`; `container` matches by prefix and digest; a search has no
        // series text to match: all filtered locally.
        for local in [
            "host=node-07",
            "container=5f2c1a9b3d4e",
            "commit=9f1c2ab",
            "category=net",
        ] {
            let p: Pivot = local.parse().unwrap();
            assert!(narrow(&prom, &[p], None, &tables).is_none(), "{local}");
        }
        assert!(narrow(&prom, &[], Some("xmrig"), &tables).is_none());
        // A query the scanner cannot follow is run as written.
        let broken = SourceSpec::Prometheus {
            endpoint: Endpoint::new("http://p"),
            queries: vec!["up{a=\"b".into()],
        };
        assert!(narrow(&broken, &pivots, None, &tables).is_none());
    }

    #[test]
    fn categories_stay_local_and_the_other_pivots_still_go_down() {
        let tables = EntityTables::default();
        let category: Pivot = "category=authn".parse().unwrap();
        let user: Pivot = "user=mallory".parse().unwrap();
        let loki = SourceSpec::Loki {
            endpoint: Endpoint::new("http://l"),
            query: "{job=\"sshd\"}".into(),
        };
        let es = SourceSpec::Elasticsearch {
            endpoint: Endpoint::new("http://e"),
            index: "logs-*".into(),
            query: None,
        };
        for spec in [&loki, &es] {
            assert!(narrow(spec, std::slice::from_ref(&category), None, &tables).is_none());
            assert_eq!(
                narrow(spec, &[category.clone(), user.clone()], None, &tables),
                narrow(spec, std::slice::from_ref(&user), None, &tables)
            );
        }
        match narrow(&loki, &[category, user], None, &tables).unwrap() {
            SourceSpec::Loki { query, .. } => assert_eq!(query, "{job=\"sshd\"} |= \"mallory\""),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_headless_run_says_what_went_down_and_what_stays_here() {
        let tables = EntityTables::default();
        let loki = SourceSpec::Loki {
            endpoint: Endpoint::new("http://l"),
            query: "{job=\"sshd\"}".into(),
        };
        let note = |pivots: &[&str], search: Option<&str>| {
            let pivots: Vec<Pivot> = pivots.iter().map(|p| p.parse().unwrap()).collect();
            let narrowed = narrow(&loki, &pivots, search, &tables);
            headless_note(
                &loki,
                narrowed.as_ref(),
                &pivots,
                search,
                &Context::offline(&tables),
            )
        };
        assert_eq!(note(&[], None), None);
        assert_eq!(note(&[], Some("  ")), None);
        assert_eq!(
            note(&["user=mallory"], None).unwrap(),
            "l: pushed down: {job=\"sshd\"} |= \"mallory\""
        );
        assert_eq!(
            note(&["user=mallory", "category=authn"], None).unwrap(),
            "l: pushed down: {job=\"sshd\"} |= \"mallory\" (category=authentication filtered here)"
        );
        // Nothing a Loki line filter can say: every pivot is filtered here, and that is said.
        assert_eq!(
            note(&["user!=mallory", "category=authn"], None).unwrap(),
            "l: nothing pushed down: user!=mallory & category=authentication filtered here"
        );
    }

    fn api_loki() -> SourceSpec {
        SourceSpec::Loki {
            endpoint: Endpoint::new("http://l"),
            query: "{job=\"api\"}".into(),
        }
    }

    /// Streams with these label names.
    fn streams(sets: &[&[&str]]) -> LokiStreams {
        LokiStreams::from_streams(sets.iter().map(|s| s.iter().copied()))
    }

    fn narrowed_query(spec: &SourceSpec, pivots: &[Pivot], ctx: &Context) -> Option<String> {
        match narrow_with(spec, pivots, None, ctx)? {
            SourceSpec::Loki { query, .. } => Some(query),
            other => panic!("{other:?}"),
        }
    }

    /// `{a="x", b=~"y"}` as (name, operator, unescaped value), or `None` when it is not one
    /// well-formed selector and nothing else.
    fn parse_selector(s: &str) -> Option<Vec<(String, String, String)>> {
        let mut chars = s.strip_prefix('{')?.chars().peekable();
        let mut out = Vec::new();
        let skip = |chars: &mut std::iter::Peekable<std::str::Chars>| {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        };
        loop {
            skip(&mut chars);
            if chars.peek() == Some(&'}') {
                chars.next();
                return chars.next().is_none().then_some(out);
            }
            let mut name = String::new();
            while let Some(&c) = chars
                .peek()
                .filter(|c| c.is_ascii_alphanumeric() || **c == '_')
            {
                name.push(c);
                chars.next();
            }
            skip(&mut chars);
            let mut op = String::new();
            while let Some(&c) = chars.peek().filter(|c| "=!~".contains(**c)) {
                op.push(c);
                chars.next();
            }
            if name.is_empty() || !["=", "!=", "=~", "!~"].contains(&op.as_str()) {
                return None;
            }
            skip(&mut chars);
            if chars.next()? != '"' {
                return None;
            }
            let mut value = String::new();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(match chars.next()? {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        c => c,
                    }),
                    c => value.push(c),
                }
            }
            out.push((name, op, value));
            skip(&mut chars);
            match chars.peek()? {
                ',' => {
                    chars.next();
                }
                '}' => {}
                _ => return None,
            }
        }
    }

    #[test]
    fn a_loki_pivot_goes_where_the_selected_streams_carry_its_entity() {
        let tables = EntityTables::default();
        let loki = api_loki();
        let pod: Pivot = "pod=api-7d9f-x2k4q".parse().unwrap();
        let one = std::slice::from_ref(&pod);
        // No stream carries a label feeding `pod`: only the line can hold it.
        let none = streams(&[&["job", "service_name"], &["job", "env"]]);
        let ctx = Context::new(&tables, Streams::Known(&none));
        assert_eq!(
            narrowed_query(&loki, one, &ctx).unwrap(),
            "{job=\"api\"} |= \"api-7d9f-x2k4q\""
        );
        assert!(kept_local(&loki, one, &ctx).is_empty());
        // Every stream carries `pod`: a matcher in the selector, and no line filter (the
        // line may never name its pod).
        let all = streams(&[&["job", "pod"], &["job", "pod", "container"]]);
        let ctx = Context::new(&tables, Streams::Known(&all));
        assert_eq!(
            narrowed_query(&loki, one, &ctx).unwrap(),
            "{job=\"api\", pod=\"api-7d9f-x2k4q\"}"
        );
        assert_eq!(
            headless_note(
                &loki,
                narrow_with(&loki, one, None, &ctx).as_ref(),
                one,
                None,
                &ctx
            )
            .unwrap(),
            "l: pushed down: {job=\"api\", pod=\"api-7d9f-x2k4q\"}"
        );
        // The matcher joins the selector, line filters and the search follow it.
        let user: Pivot = "user=mallory".parse().unwrap();
        match narrow_with(&loki, &[pod.clone(), user.clone()], Some("ab"), &ctx).unwrap() {
            SourceSpec::Loki { query, .. } => assert_eq!(
                query,
                "{job=\"api\", pod=\"api-7d9f-x2k4q\"} |= \"mallory\" |~ \"(?i)a.*b\""
            ),
            other => panic!("{other:?}"),
        }
        // Some streams carry it, some not: neither keeps every event, so it stays local.
        let mixed = streams(&[&["job", "pod"], &["job"], &["job"]]);
        let ctx = Context::new(&tables, Streams::Known(&mixed));
        assert_eq!(narrowed_query(&loki, one, &ctx), None);
        assert_eq!(kept_local(&loki, one, &ctx), [&pod]);
        assert_eq!(
            headless_note(&loki, None, one, None, &ctx).unwrap(),
            "l: nothing pushed down: pod=api-7d9f-x2k4q filtered here: label `pod` is on 1 of 3 streams"
        );
        // The other pivots still go down, and the note says which stayed and why.
        let both = [pod.clone(), user.clone()];
        let narrowed = narrow_with(&loki, &both, None, &ctx);
        assert_eq!(
            headless_note(&loki, narrowed.as_ref(), &both, None, &ctx).unwrap(),
            "l: pushed down: {job=\"api\"} |= \"mallory\" (pod=api-7d9f-x2k4q filtered here: label `pod` is on 1 of 3 streams)"
        );
        // A selector with a matcher of its own already, or spaces, or none at all.
        let ctx = Context::new(&tables, Streams::Known(&all));
        for (query, want) in [
            (
                "{ job=\"api\" , env=~\"p.*\" } | json",
                "{ job=\"api\" , env=~\"p.*\", pod=\"api-7d9f-x2k4q\"} | json",
            ),
            ("{job=\"a}\"}", "{job=\"a}\", pod=\"api-7d9f-x2k4q\"}"),
        ] {
            let spec = SourceSpec::Loki {
                endpoint: Endpoint::new("http://l"),
                query: query.into(),
            };
            assert_eq!(narrowed_query(&spec, one, &ctx).unwrap(), want);
        }
    }

    #[test]
    fn several_labels_feeding_a_key_or_unknown_streams_keep_a_loki_pivot_local() {
        let tables = EntityTables::default();
        let loki = api_loki();
        let host: Pivot = "host=node-07".parse().unwrap();
        let one = std::slice::from_ref(&host);
        // `host` and `node` both feed host: no one matcher says "either".
        let two = streams(&[&["job", "host", "node"], &["job", "host", "node"]]);
        let ctx = Context::new(&tables, Streams::Known(&two));
        assert_eq!(narrowed_query(&loki, one, &ctx), None);
        assert_eq!(
            why_local(&loki, one, &ctx).unwrap(),
            "labels `host`, `node` all feed host"
        );
        // One of them on every stream is enough for a matcher.
        let node = streams(&[&["job", "node"], &["job", "node"]]);
        let ctx = Context::new(&tables, Streams::Known(&node));
        assert_eq!(
            narrowed_query(&loki, one, &ctx).unwrap(),
            "{job=\"api\", node=\"node-07\"}"
        );
        // Keys not matched by equality stay local when a label carries them.
        let container: Pivot = "container=5f2c1a9b3d4e".parse().unwrap();
        let ids = streams(&[&["job", "container_id"]]);
        let ctx = Context::new(&tables, Streams::Known(&ids));
        assert_eq!(
            narrowed_query(&loki, std::slice::from_ref(&container), &ctx),
            None
        );
        // Unknown streams: every pivot a label could carry stays local, the reason said; a
        // pid (no Loki label feeds it) and the search still go down.
        let ctx = Context::new(&tables, Streams::Unknown("HTTP 500"));
        assert_eq!(narrowed_query(&loki, one, &ctx), None);
        let pid: Pivot = "pid=4242".parse().unwrap();
        let pivots = [host.clone(), pid];
        let narrowed = narrow_with(&loki, &pivots, Some("x"), &ctx);
        assert_eq!(
            headless_note(&loki, narrowed.as_ref(), &pivots, Some("x"), &ctx).unwrap(),
            "l: pushed down: {job=\"api\"} |= \"4242\" |~ \"(?i)x\" (host=node-07 filtered here: stream labels unknown (HTTP 500))"
        );
        // Left out: local whatever the streams carry.
        let out: Pivot = "host!=node-07".parse().unwrap();
        assert_eq!(
            narrowed_query(&loki, std::slice::from_ref(&out), &ctx),
            None
        );
        assert!(needs_streams(&loki, one, &tables));
        assert!(!needs_streams(&loki, std::slice::from_ref(&out), &tables));
        assert!(!needs_streams(&loki, &["pid=1".parse().unwrap()], &tables));
        let metric = SourceSpec::Loki {
            endpoint: Endpoint::new("http://l"),
            query: "sum(rate({job=\"x\"}[1m]))".into(),
        };
        assert!(!needs_streams(&metric, one, &tables));
    }

    #[test]
    fn a_hostile_value_in_a_selector_matcher_stays_one_string() {
        let tables = EntityTables::default();
        let all = streams(&[&["job", "pod"]]);
        let ctx = Context::new(&tables, Streams::Known(&all));
        let loki = SourceSpec::Loki {
            endpoint: Endpoint::new("http://l"),
            query: "{job=\"api\", env=~\"p\\\\d\"} |= \"x\"".into(),
        };
        let original = parse_selector(stream_selector(&api_query(&loki)).unwrap()).unwrap();
        for hostile in ["x\"} or {job=~\".+\\", "a}\\\"}\n{b=\"c", "\\", "}\""] {
            let pivot = Pivot::new(EntityKey::Pod, hostile);
            let query = narrowed_query(&loki, std::slice::from_ref(&pivot), &ctx).unwrap();
            let selector = stream_selector(&query).unwrap();
            // What follows the selector is the original pipeline, untouched.
            assert_eq!(&query[selector.len()..], " |= \"x\"", "{query}");
            let mut want = original.clone();
            want.push(("pod".into(), "=".into(), hostile.to_string()));
            assert_eq!(parse_selector(selector), Some(want), "{query}");
        }
    }

    fn api_query(spec: &SourceSpec) -> String {
        match spec {
            SourceSpec::Loki { query, .. } => query.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_stream_selector_is_the_braces_a_log_query_starts_with() {
        assert_eq!(
            stream_selector("  {job=\"a\"} |= \"}\""),
            Some("{job=\"a\"}")
        );
        assert_eq!(
            stream_selector("{a=\"}\\\"\", b=`}\\`} | json"),
            Some("{a=\"}\\\"\", b=`}\\`}")
        );
        assert_eq!(stream_selector("sum(rate({job=\"a\"}[1m]))"), None);
        assert_eq!(stream_selector("{job=\"a"), None);
        assert_eq!(
            LokiStreams::from_streams([vec!["job", "pod", "pod"], vec!["job"]]),
            LokiStreams {
                total: 2,
                labels: [("job".to_string(), 2), ("pod".to_string(), 1)]
                    .into_iter()
                    .collect()
            }
        );
    }
}
