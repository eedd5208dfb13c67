//! Zabbix over its JSON-RPC API (`api_jsonrpc.php`), with an API token
//! (`Authorization: Bearer`, Zabbix 6.4 and later): the trigger events of the window
//! (`event.get`) as problems and their recoveries, each with its hosts; problems still open
//! (`problem.get`) are tagged `unresolved`.

use super::http::{FetchError, HttpClient};
use super::json_path::{int, text};
use super::mapping::EntityTable;
use super::present::Failed;
use super::{Parsed, SourceError};
use crate::model::{Entities, EntityKey, Event, EventKind, Severity, SourceKind, TimeRange};
use reqwest::Method;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::collections::HashSet;

/// The `result` of a JSON-RPC answer, or the server's error in its own words.
fn result(body: &str) -> Result<Vec<&RawValue>, SourceError> {
    #[derive(serde::Deserialize)]
    struct Answer<'a> {
        #[serde(borrow, default)]
        result: Option<Vec<&'a RawValue>>,
        #[serde(default)]
        error: Option<Value>,
    }
    let answer: Answer = serde_json::from_str(body).map_err(|e| {
        SourceError::Malformed(format!(
            "Zabbix answer is not JSON-RPC ({e}): {}",
            body.chars().take(200).collect::<String>()
        ))
    })?;
    if let Some(err) = answer.error {
        let message = text(&err, "message").unwrap_or_default();
        let data = text(&err, "data").unwrap_or_default();
        return Err(SourceError::Server(
            [message, data]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        ));
    }
    answer
        .result
        .ok_or_else(|| SourceError::Malformed("Zabbix answer without `result`".into()))
}

/// Parses an `event.get` answer. `open` holds the ids of problems not yet resolved.
pub fn parse_events(
    body: &str,
    source_name: &str,
    table: &EntityTable,
    open: &HashSet<String>,
) -> Result<Parsed, SourceError> {
    let mut parsed = Parsed::default();
    for (i, raw) in result(body)?.into_iter().enumerate() {
        match event(raw.get(), source_name, table, open) {
            Ok(e) => parsed.events.push(e),
            Err(reason) => parsed.skipped.skip(i + 1, reason, raw.get()),
        }
    }
    Ok(parsed)
}

/// The event ids in a `problem.get` answer.
pub fn parse_problem_ids(body: &str) -> Result<HashSet<String>, SourceError> {
    Ok(result(body)?
        .into_iter()
        .filter_map(|raw| serde_json::from_str::<Value>(raw.get()).ok())
        .filter_map(|p| text(&p, "eventid"))
        .collect())
}

fn event(
    raw: &str,
    source_name: &str,
    table: &EntityTable,
    open: &HashSet<String>,
) -> Result<Event, String> {
    let doc: Value = serde_json::from_str(raw).map_err(|e| format!("not JSON ({e})"))?;
    let name = text(&doc, "name").ok_or("an event without `name`")?;
    // `clock` is in seconds and `ns` the nanoseconds within it, both sent as strings.
    let secs = int(&doc, "clock").ok_or("no usable `clock`")?;
    let ns = int(&doc, "ns").unwrap_or(0).clamp(0, 999_999_999);
    let ts = secs
        .checked_mul(1_000_000_000)
        .and_then(|t| t.checked_add(ns))
        .map(crate::model::Timestamp)
        .ok_or("`clock` is out of range")?;
    let problem = int(&doc, "value") == Some(1);
    let id = text(&doc, "eventid").unwrap_or_default();
    let mut entities = Entities::new();
    table.apply_json(&[&doc], &mut entities);
    let hosts: Vec<String> = list(&doc, "hosts")
        .flat_map(|h| [text(h, "host"), text(h, "name")])
        .flatten()
        .collect();
    for h in &hosts {
        entities.add(EntityKey::Host, h);
    }
    let mut tags = Vec::new();
    for t in list(&doc, "tags") {
        let (Some(tag), value) = (text(t, "tag"), text(t, "value").unwrap_or_default()) else {
            continue;
        };
        // A tag named like an entity key (`pod`, `namespace`, `container`) is that entity.
        if let Ok(key) = tag.parse::<EntityKey>() {
            entities.add(key, &value);
        }
        tags.push(if value.is_empty() {
            tag
        } else {
            format!("{tag}:{value}")
        });
    }
    let mut message = name.clone();
    if !hosts.is_empty() {
        message.push_str(&format!(" on {}", hosts.join(", ")));
    }
    if problem && open.contains(&id) {
        tags.push("unresolved".into());
        message.push_str(" (still open)");
    } else if let Some(r) = text(&doc, "r_eventid").filter(|r| r != "0") {
        message.push_str(&format!(" (resolved by event {r})"));
    }
    Ok(Event {
        ts,
        source: SourceKind::Zabbix,
        source_name: source_name.to_string(),
        kind: EventKind::Alert,
        severity: if problem {
            severity(int(&doc, "severity").unwrap_or(0))
        } else {
            Severity::Info
        },
        title: format!("{}: {name}", if problem { "PROBLEM" } else { "RESOLVED" }),
        message,
        entities,
        process: None,
        tags,
        raw: raw.to_string(),
    })
}

fn list<'a>(doc: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    doc.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// Zabbix's six trigger severities.
fn severity(level: i64) -> Severity {
    match level {
        5.. => Severity::Critical,
        4 => Severity::Error,
        2..=3 => Severity::Warning,
        1 => Severity::Info,
        _ => Severity::Notice,
    }
}

/// The API's path under the base URL (unless the URL names the endpoint itself).
fn api_path(client: &HttpClient) -> &'static str {
    if client.endpoint().url.ends_with(".php") {
        ""
    } else {
        "/api_jsonrpc.php"
    }
}

async fn call(client: &HttpClient, method: &str, params: Value) -> Result<String, FetchError> {
    let body = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1});
    client
        .json(Method::POST, api_path(client), &[], &body)
        .await
}

/// Reads the window's trigger events, the newest `limit` at most, with the still-open
/// problems marked.
pub async fn fetch(
    client: &HttpClient,
    window: TimeRange,
    limit: usize,
    table: &EntityTable,
) -> Result<Parsed, Failed> {
    let (from, till) = (window.start.0 / 1_000_000_000, window.end.0 / 1_000_000_000);
    let trigger_events = json!({"source": 0, "object": 0, "time_from": from, "time_till": till});
    let mut problems = trigger_events.clone();
    problems["output"] = json!(["eventid"]);
    problems["recent"] = json!(false);
    let open = parse_problem_ids(&call(client, "problem.get", problems).await?)?;
    let mut params = trigger_events;
    params["output"] = json!("extend");
    params["selectHosts"] = json!(["host", "name"]);
    params["selectTags"] = json!("extend");
    params["sortfield"] = json!(["clock", "eventid"]);
    params["sortorder"] = json!("DESC");
    params["limit"] = json!(limit);
    let body = call(client, "event.get", params).await?;
    Ok(parse_events(&body, &client.endpoint().name, table, &open)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rpc_errors_are_the_server_s_words() {
        let body = r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params.","data":"Not authorized."},"id":1}"#;
        let err = parse_events(body, "z", &EntityTable::zabbix(), &HashSet::new()).unwrap_err();
        assert_eq!(
            err,
            SourceError::Server("Invalid params. Not authorized.".into())
        );
        let err = parse_problem_ids("<html>").unwrap_err();
        assert!(err.to_string().contains("not JSON-RPC"), "{err}");
    }

    #[test]
    fn severities_follow_zabbix_s_six_levels() {
        let got: Vec<Severity> = (0..=5).map(severity).collect();
        use Severity::*;
        assert_eq!(got, [Notice, Info, Warning, Warning, Error, Critical]);
    }
}
