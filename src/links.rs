//! Shareable deep links for the current pivot and time window: a Grafana Explore split view
//! (Loki beside Prometheus) and a Kibana Discover search.
//!
//! The LogQL and PromQL are not built here: they come already narrowed from
//! [`crate::sources::pushdown::narrow`]. The KQL of the Discover link is built here, over the
//! ECS fields of [`EntityTables::elasticsearch`] that the Elasticsearch pushdown also uses.
//! Credentials in a base URL (`https://user:pass@…`) never reach a link.

use crate::model::entity::{is_hex, short_container_id};
use crate::model::{EntityKey, TimeRange, Timestamp};
use crate::sources::EntityTables;
use crate::store::Pivot;
use chrono::{DateTime, Utc};
use reqwest::Url;
use serde_json::{json, Map, Value};

const NS_PER_MS: i64 = 1_000_000;
const HOUR_MS: i64 = 3_600_000;
/// What Kibana's `encodeUriQuery` leaves unencoded besides letters, digits and `-_.~`: the
/// rest of `encodeURIComponent`'s set, plus `@ : $ , ;`.
const KIBANA_KEEP: &[u8] = b"!*'():@$,;";

/// What a Grafana Explore link shows.
pub struct ExploreTarget<'a> {
    /// Grafana's root URL, with its sub-path if it has one (`https://ops.example/grafana/`).
    pub grafana_url: &'a str,
    pub loki_uid: Option<&'a str>,
    /// The narrowed LogQL (`SourceSpec::Loki { query, .. }` from `pushdown::narrow`).
    pub logql: Option<&'a str>,
    pub prometheus_uid: Option<&'a str>,
    /// The narrowed PromQL (`SourceSpec::Prometheus { queries, .. }`), one per refId A, B, …:
    /// a slice, as a Prometheus source holds several queries. Empty: no Prometheus pane.
    pub promql: &'a [String],
    /// `orgId`; 1 when not given.
    pub org_id: Option<u32>,
}

/// `<grafana>/explore?schemaVersion=1&panes=<JSON>&orgId=N`, Grafana 10/11's Explore URL
/// (`ExploreURLV1`, public/app/features/explore/hooks/useStateSync/migrators/v1.ts). `panes`
/// maps a pane id (3 characters of `[0-9a-z]`, not all digits, or Grafana renames it) to
/// `{"datasource": UID, "queries": [{"refId", "expr", "datasource": {"type", "uid"}}],
/// "range": {"from", "to"}}`, the range as strings of epoch milliseconds (as `toURLRange`
/// writes them; the end rounded up), `now` for an open end and `now-1h` for an open start
/// (the hour before the end when the end is closed).
///
/// The Loki pane (`lok`, left) is there when `logql` is, the Prometheus pane (`prm`, right)
/// when `promql` is. A query without its datasource uid is an error, and so is no pane at all.
pub fn grafana_explore(target: &ExploreTarget, window: TimeRange) -> Result<String, String> {
    let (from, to) = window_ms(window)?;
    let from = from.map_or_else(|| "now-1h".into(), |ms| ms.to_string());
    let to = to.map_or_else(|| "now".into(), |ms| ms.to_string());
    let logql: Vec<&str> = target.logql.and_then(nonblank).into_iter().collect();
    let promql: Vec<&str> = target.promql.iter().filter_map(|q| nonblank(q)).collect();
    let mut panes = Map::new();
    for (id, kind, uid, exprs) in [
        ("lok", "loki", target.loki_uid, logql),
        ("prm", "prometheus", target.prometheus_uid, promql),
    ] {
        if exprs.is_empty() {
            continue;
        }
        let uid = uid.and_then(nonblank);
        let uid = uid.ok_or_else(|| format!("a {kind} query but no Grafana uid for {kind}"))?;
        let ds = json!({ "type": kind, "uid": uid });
        let mut queries = Vec::new();
        for (i, expr) in exprs.into_iter().enumerate() {
            let mut q = json!({ "refId": ref_id(i), "expr": expr, "datasource": ds });
            q["editorMode"] = "code".into();
            queries.push(q);
        }
        let range = json!({ "from": from, "to": to });
        let pane = json!({ "datasource": uid, "queries": queries, "range": range });
        panes.insert(id.into(), pane);
    }
    if panes.is_empty() {
        return Err("no Loki or Prometheus query to show in Grafana".into());
    }
    let panes = percent_encode(&Value::Object(panes).to_string(), b"");
    let org = target.org_id.unwrap_or(1);
    let mut url = base_url(target.grafana_url, "explore")?;
    url.set_query(Some(&format!("schemaVersion=1&panes={panes}&orgId={org}")));
    Ok(url.into())
}

/// Where a Kibana Discover link points.
pub struct DiscoverTarget<'a> {
    /// Kibana's root URL, with its base path and space if any (`https://ops.example/s/secops`).
    pub kibana_url: &'a str,
    /// The data view's id (not its name or index pattern).
    pub data_view: &'a str,
}

/// A Discover link, its KQL, and the pivots KQL could not say (for the UI to name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverLink {
    pub url: String,
    pub kql: String,
    pub left_out: Vec<Pivot>,
}

/// `<kibana>/app/discover#/?_g=(time:(from:'<ISO>',to:'<ISO>'))&_a=(index:'<id>',query:
/// (language:kuery,query:'<KQL>'))`: rison in the hash, URL-encoded as Kibana does.
///
/// The data view goes in `_a.index`, the form every Kibana 8.x reads: Discover's locator
/// writes `index` up to 8.14, and from 8.15 (elastic/kibana#182321) `cleanupUrlState` turns a
/// legacy `index` into `dataSource:(dataViewId:'<id>',type:dataView)`, which 8.14 and older
/// do not read. The KQL is [`kql`] ANDed with the search, each word of it a substring of
/// `message` (`message:*word*`, lowercased) as in the Elasticsearch pushdown.
pub fn kibana_discover(
    target: &DiscoverTarget,
    pivots: &[Pivot],
    search: Option<&str>,
    window: TimeRange,
    tables: &EntityTables,
) -> Result<DiscoverLink, String> {
    let data_view = nonblank(target.data_view).ok_or("no Kibana data view id")?;
    let (mut query, left_out) = kql(pivots, tables);
    for word in search.unwrap_or("").split_whitespace() {
        let and = if query.is_empty() { "" } else { " and " };
        let word = kql_escape(&word.to_lowercase(), SPECIAL);
        query.push_str(&format!("{and}message:*{word}*"));
    }
    let iso = |ms: Option<i64>, open: &str| match ms {
        None => Ok(rison_str(open)),
        Some(ms) => DateTime::<Utc>::from_timestamp_millis(ms)
            .map(|t| rison_str(&t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()))
            .ok_or_else(|| format!("{ms} ms is out of Kibana's time range")),
    };
    let (from, to) = window_ms(window)?;
    let time = rison_obj(&[("from", iso(from, "now-1h")?), ("to", iso(to, "now")?)]);
    let q = rison_obj(&[
        ("language", rison_str("kuery")),
        ("query", rison_str(&query)),
    ]);
    let g = rison_obj(&[("time", time)]);
    let a = rison_obj(&[("index", rison_str(data_view)), ("query", q)]);
    let (g, a) = (
        percent_encode(&g, KIBANA_KEEP),
        percent_encode(&a, KIBANA_KEEP),
    );
    let mut url = base_url(target.kibana_url, "app/discover")?;
    url.set_fragment(Some(&format!("/?_g={g}&_a={a}")));
    let url = url.into();
    Ok(DiscoverLink {
        url,
        kql: query,
        left_out,
    })
}

/// KQL for the pivots, and the pivots it cannot say. Each pivot is a clause over the ECS
/// fields that feed its key (ORed in parentheses when several), the clauses ANDed, a left-out
/// pivot as `not (…)`. Values are quoted (`\` and `"` escaped, tabs and line ends as `\t \r
/// \n`, as Kibana's `escapeQuotedString`), digits alone unquoted so numeric fields take them.
/// As in the pushdown, container ids and commits are prefixes (`container.id:5f2c1a9b3d4e*`).
/// Not expressible: `category` (casefile's own), keys with no ECS field, an image digest given
/// as a container, and a commit of fewer than 7 hex digits (which matches nothing anyway).
pub fn kql(pivots: &[Pivot], tables: &EntityTables) -> (String, Vec<Pivot>) {
    let (mut clauses, mut left_out) = (Vec::new(), Vec::new());
    for p in pivots {
        match pivot_terms(p, tables) {
            None => left_out.push(p.clone()),
            Some(terms) if p.exclude => clauses.push(format!("not ({})", terms.join(" or "))),
            Some(terms) if terms.len() == 1 => clauses.extend(terms),
            Some(terms) => clauses.push(format!("({})", terms.join(" or "))),
        }
    }
    (clauses.join(" and "), left_out)
}

/// `field:value` for every ECS field of the pivot's key, or `None` (see [`kql`]).
fn pivot_terms(p: &Pivot, tables: &EntityTables) -> Option<Vec<String>> {
    let value = p.value.trim();
    let value = match p.key {
        _ if value.is_empty() => return None,
        EntityKey::Category => return None,
        EntityKey::Container if value.contains("sha256:") => return None,
        EntityKey::Container => match short_container_id(value) {
            short if is_hex(&short) => format!("{short}*"),
            short => format!("\"{}\"", kql_escape(&short, "\\\"")),
        },
        EntityKey::Commit => {
            let v = value.to_ascii_lowercase();
            if v.len() < 7 || !is_hex(&v) {
                return None;
            }
            format!("{}*", &v[..7])
        }
        _ if value.bytes().all(|b| b.is_ascii_digit()) => value.to_string(),
        _ => format!("\"{}\"", kql_escape(value, "\\\"")),
    };
    let fields = tables.elasticsearch.rows().filter(|(_, k)| *k == p.key);
    let terms: Vec<String> = fields
        .map(|(f, _)| format!("{}:{value}", kql_escape(f, SPECIAL)))
        .collect();
    (!terms.is_empty()).then_some(terms)
}

/// KQL's special characters in an unquoted literal (a field name, a search word).
const SPECIAL: &str = "\\():<>\"*{}";

/// `s` with the characters of `special` backslash-escaped, and tabs and line ends as `\t \r \n`.
fn kql_escape(s: &str, special: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if special.contains(c) => out.extend(['\\', c]),
            c => out.push(c),
        }
    }
    out
}

/// The window in epoch milliseconds, `None` for an open end (`now`; `now-1h` for the start).
/// The end is rounded up so the last event stays inside; an open start before a closed end is
/// an hour before that end. An empty or inverted window is an error.
fn window_ms(w: TimeRange) -> Result<(Option<i64>, Option<i64>), String> {
    let (open_start, open_end) = (w.start == Timestamp::MIN, w.end == Timestamp::MAX);
    if !open_start && !open_end && w.start >= w.end {
        return Err(format!(
            "the time window is empty: {} to {}",
            w.start, w.end
        ));
    }
    let ns = w.end.nanos();
    let end = (!open_end).then(|| ns.div_euclid(NS_PER_MS) + i64::from(ns % NS_PER_MS != 0));
    let start = match open_start {
        false => Some(w.start.nanos().div_euclid(NS_PER_MS)),
        true => end.map(|e| e - HOUR_MS),
    };
    Ok((start, end))
}

/// `base` (http or https, any sub-path kept) with `path` appended, without its query,
/// fragment or credentials.
fn base_url(base: &str, path: &str) -> Result<Url, String> {
    let mut url = Url::parse(base.trim()).map_err(|e| format!("bad base URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "base URL scheme `{}` is not http or https",
            url.scheme()
        ));
    }
    let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
    url.set_path(&joined);
    url.set_query(None);
    url.set_fragment(None);
    // These fail only for URLs that cannot hold credentials, so have none to remove.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url)
}

/// Every UTF-8 byte but ASCII letters, digits, `-_.~` and `keep` as `%XX` (so a space is
/// `%20` and `+` is `%2B`: no reader can take one for the other).
fn percent_encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `s` trimmed, unless that leaves nothing.
fn nonblank(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

/// Grafana's refIds: A … Z, AA, AB, …
fn ref_id(i: usize) -> String {
    let (mut n, mut id) = (i + 1, String::new());
    while n > 0 {
        n -= 1;
        id.insert(0, char::from(b'A' + (n % 26) as u8));
        n /= 26;
    }
    id
}

/// A rison object `(k:v,…)` of values already encoded.
fn rison_obj(fields: &[(&str, String)]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", rison_str(k)))
        .collect();
    format!("({})", fields.join(","))
}

/// A rison string: bare when it is a plain identifier (a letter or `_`, then letters, digits
/// and `_-.`, a subset of rison's ids), else quoted with `'` and `!` escaped as `!'` and `!!`.
fn rison_str(s: &str) -> String {
    let id_start = |b: &u8| b.is_ascii_alphabetic() || *b == b'_';
    let id = |b: u8| b.is_ascii_alphanumeric() || b"_-.".contains(&b);
    if s.bytes().next().as_ref().is_some_and(id_start) && s.bytes().all(id) {
        return s.to_string();
    }
    format!("'{}'", s.replace('!', "!!").replace('\'', "!'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::iter::Peekable;
    use std::str::Chars;

    /// 2023-11-14T22:13:20.123Z to 22:19:20.456Z.
    const WINDOW: TimeRange = TimeRange {
        start: Timestamp(1_700_000_000_123_000_000),
        end: Timestamp(1_700_000_360_456_000_000),
    };

    /// The query (or Kibana's hash query) of a link, percent-decoded.
    fn params(query: &str) -> HashMap<String, String> {
        let url = Url::parse(&format!("http://x/?{query}")).unwrap();
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn panes(link: &str) -> Value {
        let p = params(Url::parse(link).unwrap().query().unwrap());
        assert_eq!(p["schemaVersion"], "1");
        serde_json::from_str(&p["panes"]).unwrap()
    }

    fn assert_clean(link: &str) {
        assert!(
            !link.chars().any(|c| c.is_control() || c == ' ' || c == '"'),
            "{link}"
        );
    }

    fn explore<'a>(base: &'a str, promql: &'a [String]) -> ExploreTarget<'a> {
        let (loki_uid, prometheus_uid) = (Some("loki-uid"), Some("prom-uid"));
        ExploreTarget {
            grafana_url: base,
            loki_uid,
            logql: None,
            prometheus_uid,
            promql,
            org_id: None,
        }
    }

    #[test]
    fn grafana_link_decodes_to_two_panes() {
        let logql = r#"{namespace="prod", pod="api-}x"} |= "say \"hi\"" |= "a&b=c+d #1 100%""#;
        let promql = [
            r#"sum(rate(http_requests_total{pod!="x y"}[5m]))"#.into(),
            "up".into(),
        ];
        let base = explore("https://g.example", &promql);
        let target = ExploreTarget {
            logql: Some(logql),
            org_id: Some(2),
            ..base
        };
        let link = grafana_explore(&target, WINDOW).unwrap();
        assert_clean(&link);
        assert!(link.starts_with("https://g.example/explore?schemaVersion=1&panes=%7B"));
        assert!(link.ends_with("&orgId=2"), "{link}");
        let range = json!({ "from": "1700000000123", "to": "1700000360456" });
        let (loki, prom) = (
            json!({"type": "loki", "uid": "loki-uid"}),
            json!({"type": "prometheus", "uid": "prom-uid"}),
        );
        let query = |id: &str, expr: &str, ds: &Value| -> Value {
            json!({ "refId": id, "expr": expr, "datasource": ds, "editorMode": "code" })
        };
        let want = json!({
            "lok": { "datasource": "loki-uid", "range": range,
                     "queries": [query("A", logql, &loki)] },
            "prm": { "datasource": "prom-uid", "range": range,
                     "queries": [query("A", &promql[0], &prom), query("B", "up", &prom)] },
        });
        assert_eq!(panes(&link), want);
    }

    #[test]
    fn grafana_link_under_a_sub_path_with_open_ends_and_errors() {
        let promql = ["up".to_string()];
        for base in [
            "https://g.example/grafana/",
            "https://u:pw@g.example/grafana?x=1#y",
        ] {
            let link = grafana_explore(&explore(base, &promql), TimeRange::ALL).unwrap();
            let want = "https://g.example/grafana/explore?schemaVersion=1&panes=%7B%22prm%22";
            assert!(
                link.starts_with(want) && link.ends_with("&orgId=1"),
                "{link}"
            );
            let range = json!({ "from": "now-1h", "to": "now" });
            assert_eq!(panes(&link)["prm"]["range"], range);
        }
        // An open start is the hour before a closed end, which is rounded up to the millisecond.
        let window = TimeRange::new(Timestamp::MIN, Timestamp(1_700_000_000_000_000_001));
        let link = grafana_explore(&explore("http://g:3000", &promql), window).unwrap();
        let range = json!({ "from": "1699996400001", "to": "1700000000001" });
        assert_eq!(panes(&link)["prm"]["range"], range);

        let err = grafana_explore(&explore("https://g", &[]), WINDOW).unwrap_err();
        assert!(err.contains("no Loki or Prometheus"), "{err}");
        let no_uid = ExploreTarget {
            logql: Some("{a=\"b\"}"),
            loki_uid: None,
            ..explore("https://g", &[])
        };
        assert!(grafana_explore(&no_uid, WINDOW).is_err());
        for base in ["not a url", "ftp://g"] {
            assert!(grafana_explore(&explore(base, &promql), WINDOW).is_err());
        }
        let inverted = TimeRange::new(WINDOW.end, WINDOW.start);
        assert!(grafana_explore(&explore("https://g", &promql), inverted).is_err());
    }

    #[test]
    fn kql_ors_fields_excludes_and_reports_what_it_cannot_say() {
        let full = "5f2c1a9b3d4e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b";
        let category: Pivot = "category=authentication".parse().unwrap();
        let image = Pivot::new(EntityKey::Image, "ghcr.io/acme/api:v1");
        let pivots = vec![
            Pivot::new(EntityKey::User, r#"o'brien "x""#),
            "host!=web-1".parse().unwrap(),
            category.clone(),
            Pivot::new(EntityKey::Pid, "1234"),
            Pivot::new(EntityKey::Container, full),
            "commit=9F1C2AB4E8".parse().unwrap(),
            image.clone(),
        ];
        let (query, left_out) = kql(&pivots, &EntityTables::default());
        let want = [
            r#"(user.name:"o'brien \"x\"" or user.target.name:"o'brien \"x\"")"#,
            r#"not (host.name:"web-1" or host.hostname:"web-1")"#,
            "process.pid:1234",
            "container.id:5f2c1a9b3d4e*",
            "(labels.commit:9f1c2ab* or labels.git_commit:9f1c2ab* or labels.git_sha:9f1c2ab*)",
        ];
        assert_eq!(query, want.join(" and "));
        assert_eq!(left_out, vec![category, image]);
    }

    /// A rison object of strings flattened to `path.to.key => value`: enough to read a link.
    fn rison(text: &str) -> HashMap<String, String> {
        fn value(it: &mut Peekable<Chars>, path: String, out: &mut HashMap<String, String>) {
            let mut s = String::new();
            if it.next_if_eq(&'(').is_some() {
                loop {
                    let key: String = std::iter::from_fn(|| it.next_if(|c| *c != ':')).collect();
                    assert_eq!(it.next(), Some(':'));
                    value(it, format!("{path}{key}."), out);
                    if it.next() == Some(')') {
                        return;
                    }
                }
            } else if it.next_if_eq(&'\'').is_some() {
                while let Some(c) = it.next().filter(|c| *c != '\'') {
                    s.push(if c == '!' {
                        it.next().filter(|c| "!'".contains(*c)).unwrap()
                    } else {
                        c
                    });
                }
            } else {
                s.extend(std::iter::from_fn(|| {
                    it.next_if(|c| !"(),:'!".contains(*c))
                }));
            }
            out.insert(path.trim_end_matches('.').to_string(), s);
        }
        let (mut it, mut out) = (text.chars().peekable(), HashMap::new());
        value(&mut it, String::new(), &mut out);
        assert_eq!(it.next(), None, "{text}");
        out
    }

    /// The `_g` and `_a` of a Discover link, decoded.
    fn discover_state(link: &str) -> (Url, HashMap<String, String>, HashMap<String, String>) {
        let url = Url::parse(link).unwrap();
        let p = params(url.fragment().unwrap().strip_prefix("/?").unwrap());
        let (g, a) = (rison(&p["_g"]), rison(&p["_a"]));
        (url, g, a)
    }

    /// The value of the first `field:"…"` in a KQL query, unescaped.
    fn kql_value(query: &str, field: &str) -> String {
        let start = query.find(&format!("{field}:\"")).unwrap() + field.len() + 2;
        let (mut chars, mut out) = (query[start..].chars(), String::new());
        loop {
            match chars.next().unwrap() {
                '"' => return out,
                '\\' => out.push(match chars.next().unwrap() {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    c => c,
                }),
                c => out.push(c),
            }
        }
    }

    #[test]
    fn discover_link_round_trips_values_through_rison() {
        let nasty = "o'brien! \"quoted\" (x) a+b&c=d #1 100%\n\u{7}end";
        let pivots = [
            Pivot::new(EntityKey::User, nasty),
            "category=authn".parse().unwrap(),
        ];
        let base = "https://k.example/kibana/s/secops/";
        let target = DiscoverTarget {
            kibana_url: base,
            data_view: "logs-*",
        };
        let tables = EntityTables::default();
        let link = kibana_discover(&target, &pivots, None, WINDOW, &tables).unwrap();
        assert_clean(&link.url);
        assert!(
            link.url.contains("query:'(user.name:%22o!'brien!!%20"),
            "{}",
            link.url
        );
        assert_eq!(link.left_out, vec![pivots[1].clone()]);
        let (url, g, a) = discover_state(&link.url);
        assert_eq!(url.path(), "/kibana/s/secops/app/discover");
        assert_eq!(g["time.from"], "2023-11-14T22:13:20.123Z");
        assert_eq!(g["time.to"], "2023-11-14T22:19:20.456Z");
        assert_eq!(
            (a["index"].as_str(), a["query.language"].as_str()),
            ("logs-*", "kuery")
        );
        assert_eq!(a["query.query"], link.kql);
        assert_eq!(kql_value(&link.kql, "user.name"), nasty);
        assert_eq!(kql_value(&link.kql, "user.target.name"), nasty);
    }

    #[test]
    fn discover_link_with_search_exclusion_and_open_window() {
        let tables = EntityTables::default();
        let pivots = ["user!=mallory".parse().unwrap()];
        let target = DiscoverTarget {
            kibana_url: "http://kibana:5601",
            data_view: "8ac9a6e0-b880",
        };
        let search = Some(" Failed  PASS(word ");
        let link = kibana_discover(&target, &pivots, search, TimeRange::ALL, &tables).unwrap();
        let (_, g, a) = discover_state(&link.url);
        assert_eq!(
            (g["time.from"].as_str(), g["time.to"].as_str()),
            ("now-1h", "now")
        );
        assert!(link
            .url
            .contains("_g=(time:(from:now-1h,to:now))&_a=(index:'8ac9a6e0-b880',"));
        let user = r#"not (user.name:"mallory" or user.target.name:"mallory")"#;
        let want = format!(r"{user} and message:*failed* and message:*pass\(word*");
        assert_eq!(a["query.query"], want);
        let no_view = DiscoverTarget {
            data_view: " ",
            ..target
        };
        assert!(kibana_discover(&no_view, &pivots, None, WINDOW, &tables).is_err());
    }
}
