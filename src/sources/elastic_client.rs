//! Elasticsearch and OpenSearch over HTTP: a point in time, `search_after` on the time field
//! with a tiebreaker until the window is done, then the point in time closed.
//!
//! Elasticsearch opens a PIT at `POST /INDEX/_pit`; OpenSearch at
//! `POST /INDEX/_search/point_in_time`. Which one answers is found out: the Elasticsearch
//! path is tried first. When neither is allowed (a read-only role without the privilege),
//! paging falls back to plain `search_after` on the index, which is exact for data that is
//! not being written in the window.

use super::elastic;
use super::http::{FetchError, HttpClient};
use super::task::SourceMessage;
use crate::load::SourceReport;
use crate::model::TimeRange;
#[cfg(test)]
use crate::model::Timestamp;
use reqwest::Method;
use serde_json::{json, Value};

/// Hits per page.
pub const PAGE_SIZE: usize = 1_000;
const KEEP_ALIVE: &str = "2m";

/// Which point-in-time API the cluster speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pit {
    Elasticsearch,
    OpenSearch,
    /// Not allowed or not available: plain `search_after`.
    None,
}

/// Paging state read from one response.
#[derive(Debug, Default, PartialEq)]
pub struct Page {
    pub hits: usize,
    pub last_sort: Option<Value>,
    pub pit_id: Option<String>,
    /// `_shards.failed` with the first reason, when some shards did not answer.
    pub shard_failures: Option<String>,
}

pub fn page_info(body: &str) -> Page {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return Page::default();
    };
    let hits = v.pointer("/hits/hits").and_then(Value::as_array);
    let failed = v
        .pointer("/_shards/failed")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Page {
        hits: hits.map_or(0, Vec::len),
        last_sort: hits
            .and_then(|h| h.last())
            .and_then(|h| h.get("sort"))
            .cloned(),
        pit_id: v.get("pit_id").and_then(Value::as_str).map(str::to_string),
        shard_failures: (failed > 0).then(|| {
            let reason = v
                .pointer("/_shards/failures/0/reason")
                .map(elastic::error_reason)
                .unwrap_or_default();
            format!("{failed} shard(s) failed: {reason}")
        }),
    }
}

/// The server's own words from an error answer (`type: reason` of the root cause).
fn server_message(e: FetchError) -> String {
    match e {
        FetchError::Status { code, body } => match serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("error").cloned())
        {
            Some(err) => format!(
                "HTTP {code}: {}",
                crate::sanitize::line(&elastic::error_reason(&err))
            ),
            None => FetchError::Status { code, body }.to_string(),
        },
        other => other.to_string(),
    }
}

/// The search body for one page.
/// The filter of every request: the window, and the user's query string.
fn filter(window: TimeRange, query: Option<&str>, time_field: &str) -> Value {
    let mut filter = vec![json!({"range": {time_field: {
        "gte": window.start.to_rfc3339(),
        "lt": window.end.to_rfc3339(),
        "format": "strict_date_optional_time_nanos"
    }}})];
    if let Some(q) = query {
        filter.push(json!({"query_string": {"query": q}}));
    }
    json!({"bool": {"filter": filter}})
}

/// How many documents the window holds (`_count`); `None` when the cluster will not say.
pub async fn count(
    client: &HttpClient,
    index: &str,
    window: TimeRange,
    query: Option<&str>,
) -> Option<u64> {
    let body = json!({"query": filter(window, query, time_field(index))});
    let text = client
        .json(Method::POST, &format!("/{index}/_count"), &[], &body)
        .await
        .ok()?;
    serde_json::from_str::<Value>(&text)
        .ok()?
        .get("count")?
        .as_u64()
}

/// The window's documents per step, counted by the cluster (`date_histogram`), for the
/// histogram of a window that was not loaded whole.
pub async fn server_counts(
    client: &HttpClient,
    index: &str,
    window: TimeRange,
    query: Option<&str>,
) -> Option<crate::model::ServerCounts> {
    let span_ms = ((window.end.0 - window.start.0) / 1_000_000).max(1);
    let step_ms = (span_ms / super::loki_client::COUNT_BUCKETS).max(1_000);
    let body = json!({
        "size": 0,
        "query": filter(window, query, time_field(index)),
        "aggs": {"t": {"date_histogram": {"field": time_field(index), "fixed_interval": format!("{step_ms}ms")}}}
    });
    let text = client
        .json(Method::POST, &format!("/{index}/_search"), &[], &body)
        .await
        .ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let samples = v
        .pointer("/aggregations/t/buckets")?
        .as_array()?
        .iter()
        .filter_map(|b| {
            Some((
                crate::model::Timestamp::from_millis(b.get("key")?.as_i64()?)?,
                b.get("doc_count")?.as_u64()?,
            ))
        })
        .collect();
    Some(crate::model::ServerCounts {
        source: crate::model::SourceKind::Elasticsearch,
        step_ns: step_ms * 1_000_000,
        samples,
    })
}

/// The field documents are timed by: `@timestamp` (ECS), or `timestamp` in a wazuh-indexer's
/// `wazuh-*` indices, which is the field Wazuh's own index template and dashboards use.
pub fn time_field(index: &str) -> &'static str {
    if index.split(',').all(|i| i.trim().starts_with("wazuh-")) {
        "timestamp"
    } else {
        "@timestamp"
    }
}

pub fn search_body(
    time_field: &str,
    window: TimeRange,
    query: Option<&str>,
    pit: Option<(&str, Pit)>,
    after: Option<&Value>,
    newest_first: bool,
) -> Value {
    let order = if newest_first { "desc" } else { "asc" };
    // `_shard_doc` is the cheap, exact tiebreaker inside an Elasticsearch PIT; elsewhere `_doc`.
    let tiebreaker = match pit {
        Some((_, Pit::Elasticsearch)) => json!({"_shard_doc": order}),
        _ => json!({"_doc": order}),
    };
    let mut body = json!({
        "size": PAGE_SIZE,
        "query": filter(window, query, time_field),
        "sort": [{time_field: {"order": order, "format": "strict_date_optional_time_nanos"}}, tiebreaker],
        "track_total_hits": false
    });
    if let Some((id, _)) = pit {
        body["pit"] = json!({"id": id, "keep_alive": KEEP_ALIVE});
    }
    if let Some(a) = after {
        body["search_after"] = a.clone();
    }
    body
}

async fn open_pit(client: &HttpClient, index: &str) -> Result<(String, Pit), FetchError> {
    let params = [("keep_alive", KEEP_ALIVE.to_string())];
    let es = client
        .json(Method::POST, &format!("/{index}/_pit"), &params, &json!({}))
        .await;
    match es {
        Ok(body) => {
            let id = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.get("id")?.as_str().map(str::to_string));
            return id
                .map(|id| (id, Pit::Elasticsearch))
                .ok_or(FetchError::Status { code: 200, body });
        }
        Err(FetchError::Cancelled) => return Err(FetchError::Cancelled),
        Err(FetchError::Transport(t)) => return Err(FetchError::Transport(t)),
        Err(_) => {}
    }
    let body = client
        .json(
            Method::POST,
            &format!("/{index}/_search/point_in_time"),
            &params,
            &json!({}),
        )
        .await?;
    let id = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v.get("pit_id")?.as_str().map(str::to_string));
    id.map(|id| (id, Pit::OpenSearch))
        .ok_or(FetchError::Status { code: 200, body })
}

async fn close_pit(client: &HttpClient, id: &str, pit: Pit) {
    let _ = match pit {
        Pit::Elasticsearch => {
            client
                .json(Method::DELETE, "/_pit", &[], &json!({"id": id}))
                .await
        }
        Pit::OpenSearch => {
            client
                .json(
                    Method::DELETE,
                    "/_search/point_in_time",
                    &[],
                    &json!({"pit_id": [id]}),
                )
                .await
        }
        Pit::None => return,
    };
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    client: &HttpClient,
    index: &str,
    query: Option<&str>,
    window: TimeRange,
    budget: usize,
    tables: &super::EntityTables,
    source: usize,
    report: &mut SourceReport,
    send: &(dyn Fn(SourceMessage) -> bool + Sync),
) {
    let name = client.endpoint().name.clone();
    // A window larger than the budget is read newest first, up to the budget.
    let total = count(client, index, window, query).await;
    let newest_first = total.is_some_and(|t| t > budget as u64);
    let mut pit = match open_pit(client, index).await {
        Ok((id, kind)) => Some((id, kind)),
        Err(FetchError::Cancelled) => {
            report.cancelled = true;
            return;
        }
        Err(FetchError::Transport(t)) => {
            report.error = Some(t);
            return;
        }
        // Not allowed, or an old cluster: page without a point in time.
        Err(_) => None,
    };
    let mut after: Option<Value> = None;
    let mut oldest: Option<crate::model::Timestamp> = None;
    let mut warnings = Vec::new();
    let span = (window.end.0 - window.start.0).max(1) as u64;
    loop {
        let body = search_body(
            time_field(index),
            window,
            query,
            pit.as_ref().map(|(id, k)| (id.as_str(), *k)),
            after.as_ref(),
            newest_first,
        );
        let path = if pit.is_some() {
            "/_search".to_string()
        } else {
            format!("/{index}/_search")
        };
        let text = match client.json(Method::POST, &path, &[], &body).await {
            Ok(t) => t,
            Err(FetchError::Cancelled) => {
                report.cancelled = true;
                break;
            }
            Err(e) => {
                report.error = Some(server_message(e));
                break;
            }
        };
        let page = page_info(&text);
        match elastic::parse_documents(&text, &name, &tables.elasticsearch, &tables.wazuh) {
            Ok(parsed) => {
                report.skipped.merge(parsed.skipped);
                // Progress runs from the end when reading newest first.
                let edge = if newest_first {
                    parsed.events.iter().map(|e| e.ts).min()
                } else {
                    parsed.events.iter().map(|e| e.ts).max()
                };
                if let Some(edge) = edge {
                    let done = if newest_first {
                        window.end.0.saturating_sub(edge.0)
                    } else {
                        edge.0.saturating_sub(window.start.0)
                    };
                    send(SourceMessage::Progress {
                        source,
                        done: done.max(0) as u64,
                        total: Some(span),
                    });
                }
                report.events += parsed.events.len();
                oldest = oldest
                    .into_iter()
                    .chain(parsed.events.iter().map(|e| e.ts))
                    .min();
                if !parsed.events.is_empty() {
                    send(SourceMessage::Batch {
                        source,
                        events: parsed.events,
                    });
                }
            }
            Err(e) => {
                report.error = Some(e.to_string());
                break;
            }
        }
        if let Some(w) = page.shard_failures {
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
        if let (Some(new_id), Some((id, _))) = (page.pit_id, pit.as_mut()) {
            *id = new_id;
        }
        if newest_first && report.events >= budget {
            report.oldest_loaded = oldest;
            break;
        }
        if let Some(stop) = super::runner::over_budget(newest_first, report.events, budget) {
            report.error = Some(stop);
            break;
        }
        match page.last_sort {
            Some(sort) if page.hits >= PAGE_SIZE => after = Some(sort),
            _ => break,
        }
    }
    // Closed even after a cancel: an open PIT holds resources on the cluster.
    if let Some((id, kind)) = &pit {
        let closer = client.detached();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            close_pit(&closer, id, *kind),
        )
        .await;
    }
    if newest_first {
        report.not_loaded = total.map(|t| t.saturating_sub(report.events as u64));
        if let Some(counts) = server_counts(client, index, window, query).await {
            send(SourceMessage::Counts { source, counts });
        }
    }
    if !warnings.is_empty() && report.error.is_none() {
        report.error = Some(format!("partial results: {}", warnings.join("; ")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_info_reads_sort_pit_and_shard_failures() {
        let body = r#"{"pit_id":"abc==","_shards":{"total":2,"failed":1,"failures":[{"reason":{"type":"query_shard_exception","reason":"bad"}}]},
            "hits":{"hits":[{"_source":{},"sort":["2021-05-20T05:30:04.832Z",4294967298]}]}}"#;
        let p = page_info(body);
        assert_eq!(p.hits, 1);
        assert_eq!(p.pit_id.as_deref(), Some("abc=="));
        assert_eq!(
            p.last_sort,
            Some(json!(["2021-05-20T05:30:04.832Z", 4294967298u64]))
        );
        assert_eq!(
            p.shard_failures.as_deref(),
            Some("1 shard(s) failed: query_shard_exception: bad")
        );
    }

    #[test]
    fn bodies_carry_window_query_pit_and_cursor() {
        let w = TimeRange::new(Timestamp(0), Timestamp(1_000_000_000));
        let b = search_body(
            "@timestamp",
            w,
            Some("user.name:mallory"),
            Some(("pit1", Pit::Elasticsearch)),
            Some(&json!([5, 7])),
            false,
        );
        assert_eq!(b["pit"]["id"], "pit1");
        assert_eq!(b["sort"][1], json!({"_shard_doc": "asc"}));
        assert_eq!(b["search_after"], json!([5, 7]));
        assert_eq!(
            b["query"]["bool"]["filter"][1]["query_string"]["query"],
            "user.name:mallory"
        );
        assert_eq!(
            b["query"]["bool"]["filter"][0]["range"]["@timestamp"]["lt"],
            "1970-01-01T00:00:01.000000000Z"
        );
        let plain = search_body("@timestamp", w, None, None, None, true);
        assert!(plain.get("pit").is_none() && plain.get("search_after").is_none());
        assert_eq!(plain["sort"][1], json!({"_doc": "desc"}));
        assert_eq!(plain["sort"][0]["@timestamp"]["order"], "desc");
    }
}
