//! Loki over HTTP: `query_range` paged forward by timestamp until the window is complete.
//!
//! Paging by time has one trap: the next page starts at the last timestamp of this one
//! (`start` is inclusive), so entries sharing that nanosecond come again, and the page limit
//! may have cut them in the middle. The entries at the boundary are remembered (as a multiset,
//! since two identical lines in one nanosecond are two lines) and skipped once each when they
//! come back: none lost, none doubled. Metric queries come back as series in one request.

use super::http::{FetchError, HttpClient};
use super::prometheus_client::step_seconds;
use super::pushdown::{self, LokiStreams};
use super::spec::{Auth, Endpoint};
use super::task::Cancel;
use super::task::SourceMessage;
use super::{loki, EntityTable};
use crate::load::SourceReport;
use crate::model::{Event, ServerCounts, TimeRange};
use std::collections::HashMap;
use std::time::Duration;

/// Loki's default `max_entries_limit_per_query`.
pub const PAGE_LIMIT: usize = 5_000;

/// `max entries limit per query exceeded, limit > max_entries_limit_per_query (10000 > 5000)`
/// → 5000: the server's own limit, to page with instead.
fn server_limit(body: &str) -> Option<usize> {
    if !body.contains("max_entries_limit") {
        return None;
    }
    let inside = body.rsplit_once('(')?.1.split_once(')')?.0;
    inside.split_once('>')?.1.trim().parse().ok()
}

/// How many entries the window holds, asked of Loki itself (`count_over_time`); `None` when
/// it cannot say (a metric query, an old server).
pub async fn count(client: &HttpClient, query: &str, window: TimeRange) -> Option<u64> {
    // Only a log query can be counted; a metric query is one request anyway.
    if !query.trim_start().starts_with('{') {
        return None;
    }
    // count_over_time at t covers (t - range, t]; the window is [start, end). LogQL ranges
    // are whole milliseconds, so the range is rounded up (at most a millisecond early).
    let ms = ((window.end.0 - window.start.0) + 999_999) / 1_000_000;
    let params = [
        (
            "query",
            format!("sum(count_over_time({query} [{}ms]))", ms.max(1)),
        ),
        ("time", (window.end.0 - 1).to_string()),
    ];
    let body = client.get("/loki/api/v1/query", &params).await.ok()?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    let result = v.pointer("/data/result")?.as_array()?;
    match result.first() {
        None => Some(0),
        Some(r) => r
            .pointer("/value/1")?
            .as_str()?
            .parse::<f64>()
            .ok()
            .map(|n| n as u64),
    }
}

/// Label names (`label: None`) or one label's values over the window, for completing a query
/// (`/loki/api/v1/labels`, `/loki/api/v1/label/NAME/values`).
pub async fn labels(
    client: &HttpClient,
    label: Option<&str>,
    window: TimeRange,
) -> Result<Vec<String>, FetchError> {
    let path = match label {
        None => "/loki/api/v1/labels".to_string(),
        Some(l) => format!(
            "/loki/api/v1/label/{}/values",
            l.replace(['/', '?', '#'], "")
        ),
    };
    let params = [
        ("start", window.start.0.to_string()),
        ("end", window.end.0.to_string()),
    ];
    let body = client.get(&path, &params).await?;
    let v: serde_json::Value = serde_json::from_str(&body)
        .map_err(|e| FetchError::Transport(format!("labels: not JSON ({e})")))?;
    // Loki leaves `data` out when there is nothing.
    let mut out: Vec<String> = v
        .get("data")
        .and_then(|d| d.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    Ok(out)
}

/// The labels of the streams a log query's selector picks over the window, from the series
/// API (`/loki/api/v1/series?match[]=SELECTOR`), so that pivots can be pushed down where
/// the entities are (see [`super::pushdown`]).
pub async fn streams(
    client: &HttpClient,
    query: &str,
    window: TimeRange,
) -> Result<LokiStreams, FetchError> {
    let selector = pushdown::stream_selector(query)
        .ok_or_else(|| FetchError::Transport("not a log query: no stream selector".into()))?;
    let params = [
        ("match[]", selector.to_string()),
        ("start", window.start.0.to_string()),
        ("end", window.end.0.to_string()),
    ];
    let body = client.get("/loki/api/v1/series", &params).await?;
    parse_series(&body).map_err(FetchError::Transport)
}

/// `{"status":"success","data":[{"job":"api","pod":"api-7d9f"},…]}`: one object per stream.
/// A label with an empty value is no label (Loki drops them).
pub fn parse_series(body: &str) -> Result<LokiStreams, String> {
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("series: not JSON ({e})"))?;
    if v.get("status").and_then(|s| s.as_str()) != Some("success") {
        let why = v
            .get("error")
            .and_then(|e| e.as_str())
            .unwrap_or("no status \"success\"");
        return Err(format!("series: {}", crate::sanitize::line(why)));
    }
    let streams = match v.get("data") {
        // Loki leaves `data` out when there is nothing.
        None | Some(serde_json::Value::Null) => return Ok(LokiStreams::default()),
        Some(serde_json::Value::Array(a)) => a,
        Some(_) => return Err("series: `data` is not a list of streams".into()),
    };
    let mut sets = Vec::with_capacity(streams.len());
    for s in streams {
        let labels = s
            .as_object()
            .ok_or("series: a stream is not an object of labels")?;
        sets.push(
            labels
                .iter()
                .filter(|(_, v)| v.as_str().is_some_and(|v| !v.is_empty()))
                .map(|(k, _)| k.as_str())
                .collect::<Vec<&str>>(),
        );
    }
    Ok(LokiStreams::from_streams(sets))
}

/// [`streams`] from code that is not async (a headless command before it loads, a
/// background thread of the TUI): on the calling thread, with a runtime of its own. Never
/// call it on the UI thread.
pub fn streams_blocking(
    endpoint: &Endpoint,
    query: &str,
    window: TimeRange,
    cancel: Cancel,
) -> Result<LokiStreams, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start: {e}"))?;
    super::task::catch_panic(|| {
        runtime.block_on(async {
            let client = HttpClient::new(endpoint, cancel)?;
            streams(&client, query, window)
                .await
                .map_err(|e| e.to_string())
        })
    })
    .map_err(|panic| super::task::stopped_by_panic(&panic))?
}

/// Buckets of server-side counts drawn for a window too big to load.
pub const COUNT_BUCKETS: i64 = 240;

/// The window's entries per step, counted by Loki (`count_over_time` as a range query), for
/// the histogram of a window that was not loaded whole.
pub async fn server_counts(
    client: &HttpClient,
    query: &str,
    window: TimeRange,
) -> Option<ServerCounts> {
    let span_ms = ((window.end.0 - window.start.0) / 1_000_000).max(1);
    let step_ms = (span_ms / COUNT_BUCKETS).max(1_000);
    let step_ns = step_ms * 1_000_000;
    // The point at t counts (t - step, t]. The first point is placed so that its bucket
    // starts exactly at the window's start; the grid runs until a bucket reaches past the
    // window's last nanosecond (the last one may count a little beyond the window).
    let params = [
        (
            "query",
            format!("sum(count_over_time({query} [{step_ms}ms]))"),
        ),
        ("start", (window.start.0 - 1 + step_ns).to_string()),
        ("end", (window.end.0 - 1 + step_ns).to_string()),
        ("step", format!("{}.{:03}", step_ms / 1000, step_ms % 1000)),
    ];
    let body = client.get("/loki/api/v1/query_range", &params).await.ok()?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    let mut samples = Vec::new();
    for series in v.pointer("/data/result")?.as_array()? {
        for point in series.get("values")?.as_array()? {
            let t = point.get(0)?.as_f64()?;
            let n: f64 = point.get(1)?.as_str()?.parse().ok()?;
            let ts = crate::model::Timestamp::from_secs_f64(t)?.saturating_sub_nanos(step_ns - 1);
            samples.push((ts, n as u64));
        }
    }
    Some(ServerCounts {
        source: crate::model::SourceKind::Loki,
        step_ns,
        samples,
    })
}

/// Reads the window oldest first, or, when Loki says it holds more than `budget` entries, the
/// newest `budget` (give or take a page) newest first, and says how many were left.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    client: &HttpClient,
    query: &str,
    window: TimeRange,
    budget: usize,
    table: &EntityTable,
    source: usize,
    report: &mut SourceReport,
    send: &(dyn Fn(SourceMessage) -> bool + Sync),
) {
    let name = client.endpoint().name.clone();
    let span = (window.end.0 - window.start.0).max(1) as u64;
    let total = count(client, query, window).await;
    let newest_first = total.is_some_and(|t| t > budget as u64);
    let mut limit = PAGE_LIMIT;
    // The part of the window still to read: [lo, hi).
    let (mut lo, mut hi) = (window.start.0, window.end.0);
    // Entries already sent at the edge timestamp, by raw record, with their count.
    let mut edge: Option<i64> = None;
    let mut boundary: HashMap<String, usize> = HashMap::new();
    loop {
        let params = [
            ("query", query.to_string()),
            ("start", lo.to_string()),
            ("end", hi.to_string()),
            ("limit", limit.to_string()),
            (
                "direction",
                if newest_first { "backward" } else { "forward" }.to_string(),
            ),
            ("step", step_seconds(window).to_string()),
        ];
        let body = match client.get("/loki/api/v1/query_range", &params).await {
            Ok(b) => b,
            Err(FetchError::Status { code: 400, body })
                if server_limit(&body).is_some_and(|l| l < limit) =>
            {
                limit = server_limit(&body).unwrap_or(limit);
                continue;
            }
            Err(FetchError::Cancelled) => {
                report.cancelled = true;
                return;
            }
            Err(e) => {
                report.error = Some(e.to_string());
                return;
            }
        };
        let parsed = match loki::parse_response(&body, &name, query, table) {
            Ok(p) => p,
            Err(e) => {
                report.error = Some(e.to_string());
                return;
            }
        };
        // Every entry the server returned counts towards a full page, malformed or not:
        // otherwise one bad entry would make a full page look like the last one.
        let received = parsed.events.len() + parsed.skipped.skipped;
        report.skipped.merge(parsed.skipped);
        if !parsed.series.is_empty() {
            report.series += parsed.series.len();
            send(SourceMessage::Series {
                source,
                series: parsed.series,
            });
        }
        let page_edge = if newest_first {
            parsed.events.iter().map(|e| e.ts.0).min()
        } else {
            parsed.events.iter().map(|e| e.ts.0).max()
        };
        let fresh = drop_repeats(parsed.events, edge, &mut boundary, newest_first);
        report.events += fresh.len();
        if !fresh.is_empty() {
            send(SourceMessage::Batch {
                source,
                events: fresh,
            });
        }
        // A short page is the last one.
        let Some(page_edge) = page_edge.filter(|_| received >= limit) else {
            break;
        };
        if newest_first && report.events >= budget {
            report.oldest_loaded = Some(crate::model::Timestamp(page_edge));
            break;
        }
        if let Some(stop) = super::runner::over_budget(newest_first, report.events, budget) {
            report.error = Some(stop);
            break;
        }
        // The next page starts at the edge, inclusively, so entries that share its
        // nanosecond are not lost; the ones already sent are skipped next time.
        let (next_lo, next_hi) = if newest_first {
            (lo, page_edge + 1)
        } else {
            (page_edge, hi)
        };
        if (next_lo, next_hi) == (lo, hi) {
            // More than a page of entries in one nanosecond: paging by time cannot get past
            // them without a gap. Say so rather than loop.
            report.error = Some(format!(
                "more than {limit} entries at one timestamp ({}): some may be missing",
                crate::model::Timestamp(page_edge)
            ));
            if newest_first {
                hi = page_edge;
            } else {
                lo = page_edge + 1;
            }
            boundary.clear();
        } else {
            (lo, hi) = (next_lo, next_hi);
        }
        edge = Some(page_edge);
        let done = if newest_first {
            window.end.0 - hi
        } else {
            lo - window.start.0
        };
        send(SourceMessage::Progress {
            source,
            done: done.max(0) as u64,
            total: Some(span),
        });
        if lo >= hi {
            break;
        }
    }
    if newest_first {
        report.not_loaded = total.map(|t| t.saturating_sub(report.events as u64));
        if let Some(counts) = server_counts(client, query, window).await {
            send(SourceMessage::Counts { source, counts });
        }
    }
}

/// Removes entries already sent at the previous page's edge timestamp, and remembers this
/// page's edge entries (its newest when reading forward, its oldest when reading backward).
fn drop_repeats(
    events: Vec<Event>,
    edge: Option<i64>,
    boundary: &mut HashMap<String, usize>,
    newest_first: bool,
) -> Vec<Event> {
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        if Some(e.ts.0) == edge {
            if let Some(n) = boundary.get_mut(&e.raw).filter(|n| **n > 0) {
                *n -= 1;
                continue;
            }
        }
        out.push(e);
    }
    let new_edge = if newest_first {
        out.iter().map(|e| e.ts.0).min()
    } else {
        out.iter().map(|e| e.ts.0).max()
    };
    if let Some(new_edge) = new_edge {
        if Some(new_edge) != edge {
            boundary.clear();
        }
        for e in out.iter().filter(|e| e.ts.0 == new_edge) {
            *boundary.entry(e.raw.clone()).or_default() += 1;
        }
    }
    out
}

/// `http://host/base` → `ws://host/base/loki/api/v1/tail?…`.
fn tail_url(base: &str, query: &str, start_ns: i64) -> Result<reqwest::Url, String> {
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_string()
    };
    let mut url = reqwest::Url::parse(&format!("{ws}/loki/api/v1/tail"))
        .map_err(|e| format!("bad tail URL: {e}"))?;
    url.query_pairs_mut()
        .append_pair("query", query)
        .append_pair("start", &start_ns.to_string())
        .append_pair("limit", "1000");
    Ok(url)
}

/// Follows new entries over the tail websocket from `start_ns`, until cancelled. A dropped
/// connection is reopened from the last timestamp seen, and the entries at that timestamp
/// are not sent twice; entries Loki itself dropped are shown as a gap.
#[allow(clippy::too_many_arguments)]
pub async fn tail(
    endpoint: &Endpoint,
    query: &str,
    start_ns: i64,
    table: &EntityTable,
    source: usize,
    report: &mut SourceReport,
    cancel: &Cancel,
    send: &(dyn Fn(SourceMessage) -> bool + Sync),
) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
    let name = endpoint.name.clone();
    let mut cursor = start_ns;
    let mut boundary: HashMap<String, usize> = HashMap::new();
    let mut backoff = Duration::from_millis(500);
    while !cancel.is_cancelled() {
        let request = tail_url(&endpoint.url, query, cursor).and_then(|url| {
            let mut req = url
                .as_str()
                .into_client_request()
                .map_err(|e| e.to_string())?;
            let headers = req.headers_mut();
            if let Some(t) = &endpoint.tenant {
                headers.insert(
                    "X-Scope-OrgID",
                    t.parse().map_err(|_| "bad tenant".to_string())?,
                );
            }
            let auth = match &endpoint.auth {
                Auth::Bearer(t) => Some(format!("Bearer {t}")),
                Auth::Basic { user, password } => {
                    Some(format!("Basic {}", base64(&format!("{user}:{password}"))))
                }
                _ => None,
            };
            if let Some(a) = auth {
                headers.insert(
                    "Authorization",
                    a.parse().map_err(|_| "bad credentials".to_string())?,
                );
            }
            Ok(req)
        });
        let request = match request {
            Ok(r) => r,
            Err(e) => {
                report.error = Some(format!("tail: {e}"));
                return;
            }
        };
        let connector = match super::ws_tls::connector(&endpoint.tls) {
            Ok(c) => c,
            Err(e) => {
                report.error = Some(format!("tail: {e}"));
                return;
            }
        };
        let connected = tokio::time::timeout(
            endpoint.timeout,
            tokio_tungstenite::connect_async_tls_with_config(request, None, false, connector),
        )
        .await;
        let mut socket = match connected {
            Ok(Ok((socket, _))) => {
                report.error = None;
                backoff = Duration::from_millis(500);
                send(SourceMessage::Live { source });
                socket
            }
            Ok(Err(e)) => {
                report.error = Some(format!("tail: {}", crate::sanitize::line(&e.to_string())));
                send(SourceMessage::Update {
                    source,
                    report: report.clone(),
                });
                wait(backoff, cancel).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
            Err(_) => {
                report.error = Some("tail: timed out connecting".to_string());
                send(SourceMessage::Update {
                    source,
                    report: report.clone(),
                });
                wait(backoff, cancel).await;
                continue;
            }
        };
        loop {
            let next = tokio::time::timeout(Duration::from_millis(200), socket.next()).await;
            if cancel.is_cancelled() {
                let _ = socket.close(None).await;
                return;
            }
            let msg = match next {
                Err(_) => continue,
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    report.error = Some(format!(
                        "tail dropped ({}), reconnecting",
                        crate::sanitize::line(&e.to_string())
                    ));
                    send(SourceMessage::Update {
                        source,
                        report: report.clone(),
                    });
                    break;
                }
                Ok(Some(Ok(m))) => m,
            };
            let text = match msg {
                Message::Text(t) => t.to_string(),
                Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
                Message::Close(_) => break,
                _ => continue,
            };
            match loki::parse_tail_frame(&text, &name, table) {
                Ok(parsed) => {
                    report.skipped.merge(parsed.skipped);
                    // Gap markers are new by nature; entries at the reconnect boundary may repeat.
                    let (gaps, entries): (Vec<Event>, Vec<Event>) = parsed
                        .events
                        .into_iter()
                        .partition(|e| e.tags.iter().any(|t| t == "gap"));
                    let mut fresh = drop_repeats(entries, Some(cursor), &mut boundary, false);
                    if let Some(last) = fresh.iter().map(|e| e.ts.0).max() {
                        cursor = cursor.max(last);
                    }
                    fresh.extend(gaps);
                    report.events += fresh.len();
                    if !fresh.is_empty() {
                        send(SourceMessage::Batch {
                            source,
                            events: fresh,
                        });
                    }
                }
                Err(e) => report.skipped.skip(0, e.to_string(), &text),
            }
        }
        // The connection ended: reopen from the last timestamp seen.
        wait(backoff, cancel).await;
    }
}

async fn wait(d: Duration, cancel: &Cancel) {
    let step = Duration::from_millis(50);
    let mut left = d;
    while !left.is_zero() && !cancel.is_cancelled() {
        let now = left.min(step);
        tokio::time::sleep(now).await;
        left -= now;
    }
}

/// Standard base64, for the Basic authorization header of the websocket request.
fn base64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ns: i64, line: &str) -> Event {
        Event {
            ts: crate::model::Timestamp(ns),
            source: crate::model::SourceKind::Loki,
            source_name: "l".into(),
            kind: crate::model::EventKind::Log,
            severity: crate::model::Severity::Info,
            title: line.into(),
            message: line.into(),
            entities: Default::default(),
            process: None,
            tags: vec![],
            raw: format!("{ns}:{line}"),
        }
    }

    fn titles(v: &[Event]) -> Vec<String> {
        v.iter().map(|e| e.title.clone()).collect()
    }

    #[test]
    fn repeats_at_the_edge_are_dropped_once_each_in_both_directions() {
        // Forward: the page ended with two identical lines and one other at ns 5.
        let mut b = HashMap::new();
        let p1 = drop_repeats(
            vec![entry(4, "a"), entry(5, "x"), entry(5, "x"), entry(5, "y")],
            None,
            &mut b,
            false,
        );
        assert_eq!(p1.len(), 4);
        // The next page starts at 5 and brings them again, plus a third "x" that was cut off.
        let p2 = drop_repeats(
            vec![
                entry(5, "x"),
                entry(5, "x"),
                entry(5, "x"),
                entry(5, "y"),
                entry(6, "z"),
            ],
            Some(5),
            &mut b,
            false,
        );
        assert_eq!(titles(&p2), ["x", "z"]);
        // Backward: the edge is the oldest timestamp.
        let mut b = HashMap::new();
        let q1 = drop_repeats(
            vec![entry(9, "n"), entry(7, "m"), entry(7, "m")],
            None,
            &mut b,
            true,
        );
        assert_eq!(q1.len(), 3);
        let q2 = drop_repeats(
            vec![entry(7, "m"), entry(7, "m"), entry(6, "k")],
            Some(7),
            &mut b,
            true,
        );
        assert_eq!(titles(&q2), ["k"]);
    }

    #[test]
    fn basic_auth_and_tail_urls() {
        assert_eq!(base64("user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64("a"), "YQ==");
        assert_eq!(base64("ab"), "YWI=");
        let url = tail_url("https://loki.example/base", "{job=\"sshd\"}", 42).unwrap();
        assert_eq!(url.as_str(), "wss://loki.example/base/loki/api/v1/tail?query=%7Bjob%3D%22sshd%22%7D&start=42&limit=1000");
    }

    #[test]
    fn the_server_limit_is_read_from_its_message() {
        let real = "max entries limit per query exceeded, limit > max_entries_limit_per_query (10000 > 5000)";
        assert_eq!(server_limit(real), Some(5000));
        assert_eq!(server_limit("parse error at line 1"), None);
    }

    #[test]
    fn the_series_answer_gives_each_label_s_stream_count() {
        // As Loki 3.4.6 answered `match[]={job="sshd"}&match[]={namespace="prod"}`
        // (shared fixtures, real/loki/series.json).
        let recorded = r#"{"status":"success","data":[{"job":"sshd","service_name":"sshd","env":"prod","host":"bastion-2"},{"env":"prod","host":"bastion-1","job":"sshd","service_name":"sshd"},{"job":"prod/api","namespace":"prod","pod":"api-7d9f","service_name":"api","container":"api"},{"container":"envoy","job":"prod/api","namespace":"prod","pod":"api-7d9f","service_name":"envoy"}]}"#;
        let s = parse_series(recorded).unwrap();
        assert_eq!(s.total, 4);
        assert_eq!(
            (s.carrying("job"), s.carrying("host"), s.carrying("pod")),
            (4, 2, 2)
        );
        assert_eq!(s.carrying("user"), 0);
        let empty = parse_series(r#"{"status":"success","data":[]}"#).unwrap();
        assert_eq!(empty, LokiStreams::default());
        // An empty value is no label.
        let s = parse_series(r#"{"status":"success","data":[{"job":"a","pod":""}]}"#).unwrap();
        assert_eq!((s.total, s.carrying("pod")), (1, 0));
        assert!(parse_series(r#"{"status":"error","error":"boom"}"#).is_err());
        assert!(parse_series(r#"{"status":"success","data":{"resultType":"vector"}}"#).is_err());
        assert!(parse_series("404 page not found").is_err());
    }
}
