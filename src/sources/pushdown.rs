//! Pivots pushed down into each backend's own query language, so the cluster does the
//! filtering (SPEC §4). What a backend cannot express is filtered locally, and the caller
//! says so.
//!
//! - Loki: a line filter per pivot (`|= "mallory"`). A line filter is a superset of the
//!   pivot (the value may appear elsewhere in the line), so the local filter still applies;
//!   it keeps every matching entry, whichever label or field carries the entity.
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

/// The spec narrowed by the pivots and the search, or `None` when this backend cannot take
/// them. The search is casefile's fuzzy search; what the server gets is a superset of it (a
/// case-insensitive subsequence for Loki, every word as a substring of `message` for
/// Elasticsearch), and the local search still decides.
pub fn narrow(
    spec: &SourceSpec,
    pivots: &[Pivot],
    search: Option<&str>,
    tables: &EntityTables,
) -> Option<SourceSpec> {
    let search = search.map(str::trim).filter(|s| !s.is_empty());
    let pivots: Vec<Pivot> = pivots
        .iter()
        .filter(|p| pushable(spec, p, tables))
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
            let mut narrowed = query.clone();
            for p in pivots {
                narrowed.push_str(&format!(" |= \"{}\"", logql_escape(&line_value(p))));
            }
            if let Some(text) = search {
                let subsequence: Vec<String> = text
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .map(regex_escape)
                    .collect();
                narrowed.push_str(&format!(
                    " |~ \"(?i){}\"",
                    logql_escape(&subsequence.join(".*"))
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

/// The pivots a backend cannot take, filtered locally only; the UI names them.
pub fn kept_local<'a>(
    spec: &SourceSpec,
    pivots: &'a [Pivot],
    tables: &EntityTables,
) -> Vec<&'a Pivot> {
    pivots
        .iter()
        .filter(|p| !pushable(spec, p, tables))
        .collect()
}

/// What a headless command tells stderr about one source: the query pushed down, and the
/// pivots filtered here; or that nothing was pushed down. `None` with no pivot or search.
pub fn headless_note(
    spec: &SourceSpec,
    narrowed: Option<&SourceSpec>,
    pivots: &[Pivot],
    search: Option<&str>,
    tables: &EntityTables,
) -> Option<String> {
    let local: Vec<String> = kept_local(spec, pivots, tables)
        .iter()
        .map(|p| p.to_string())
        .collect();
    let name = &spec.endpoint().name;
    match narrowed {
        Some(n) if local.is_empty() => Some(format!("{name}: pushed down: {}", n.describe())),
        Some(n) => Some(format!(
            "{name}: pushed down: {} ({} filtered here)",
            n.describe(),
            local.join(" & ")
        )),
        None if pivots.is_empty() && search.is_none_or(|s| s.trim().is_empty()) => None,
        None => {
            let mut all: Vec<String> = pivots.iter().map(|p| p.to_string()).collect();
            all.extend(search.map(|s| format!("search \"{s}\"")));
            Some(format!(
                "{name}: nothing pushed down: {} filtered here",
                all.join(" & ")
            ))
        }
    }
}

/// Whether this backend's query language can say this pivot.
/// - A category is casefile's own (rules over what the sources return): no server has it.
/// - An image digest given as a container hash is matched locally.
/// - Loki: a left-out entity is not pushed down; a line filter would also drop lines that
///   merely mention the value.
/// - Elasticsearch: only keys the entity table maps to fields.
/// - Prometheus: see [`prometheus_matcher`].
fn pushable(spec: &SourceSpec, p: &Pivot, tables: &EntityTables) -> bool {
    if p.key == EntityKey::Category
        || (p.key == EntityKey::Container && p.value.contains("sha256:"))
    {
        return false;
    }
    match spec {
        SourceSpec::Loki { .. } => !p.exclude,
        SourceSpec::Elasticsearch { index, .. } => !es_fields(p.key, tables, index).is_empty(),
        SourceSpec::Prometheus { .. } => prometheus_matcher(p, tables).is_some(),
        SourceSpec::Alertmanager { .. }
        | SourceSpec::Zabbix { .. }
        | SourceSpec::Grafana { .. } => false,
    }
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

/// A LogQL string literal's content.
fn logql_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
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
            kept_local(&loki, std::slice::from_ref(&out), &tables),
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
        assert_eq!(kept_local(&es, &both, &tables), [&digest]);
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
            headless_note(&loki, narrowed.as_ref(), &pivots, search, &tables)
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
}
