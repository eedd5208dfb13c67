//! Loki over HTTP: `query_range` paged forward by timestamp until the window is complete.
//!
//! Paging by time has one trap: the next page starts at the last timestamp of this one
//! (`start` is inclusive), so entries sharing that nanosecond come again, and the page limit
//! may have cut them in the middle. The entries at the boundary are remembered (as a multiset,
//! since two identical lines in one nanosecond are two lines) and skipped once each when they
//! come back: none lost, none doubled. Metric queries come back as series in one request.

use super::http::{FetchError, HttpClient};
use super::prometheus_client::step_seconds;
use super::spec::{Auth, Endpoint};
use super::task::Cancel;
use super::task::SourceMessage;
use super::{loki, EntityTable};
use crate::load::SourceReport;
use crate::model::{Event, TimeRange};
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

pub async fn run(
    client: &HttpClient,
    query: &str,
    window: TimeRange,
    table: &EntityTable,
    source: usize,
    report: &mut SourceReport,
    send: &(dyn Fn(SourceMessage) -> bool + Sync),
) {
    let name = client.endpoint().name.clone();
    let span = (window.end.0 - window.start.0).max(1) as u64;
    let mut limit = PAGE_LIMIT;
    let mut cursor = window.start.0;
    // Entries already sent whose timestamp is `cursor`, by raw record, with their count.
    let mut boundary: HashMap<String, usize> = HashMap::new();
    loop {
        let params = [
            ("query", query.to_string()),
            ("start", cursor.to_string()),
            ("end", window.end.0.to_string()),
            ("limit", limit.to_string()),
            ("direction", "forward".to_string()),
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
        report.skipped.merge(parsed.skipped);
        if !parsed.series.is_empty() {
            report.series += parsed.series.len();
            send(SourceMessage::Series {
                source,
                series: parsed.series,
            });
        }
        let received = parsed.events.len();
        let last_ts = parsed.events.iter().map(|e| e.ts.0).max();
        let fresh = drop_repeats(parsed.events, cursor, &mut boundary);
        report.events += fresh.len();
        if !fresh.is_empty() {
            send(SourceMessage::Batch {
                source,
                events: fresh,
            });
        }
        // A short page is the last one.
        let Some(last_ts) = last_ts.filter(|_| received >= limit) else {
            break;
        };
        if last_ts == cursor {
            // More than a page of entries in one nanosecond: paging by time cannot get past
            // them without a gap. Say so rather than loop.
            report.error = Some(format!(
                "more than {limit} entries at one timestamp ({}): some may be missing",
                crate::model::Timestamp(cursor)
            ));
            cursor += 1;
            boundary.clear();
        } else {
            cursor = last_ts;
        }
        send(SourceMessage::Progress {
            source,
            done: (cursor - window.start.0).max(0) as u64,
            total: Some(span),
        });
        if cursor >= window.end.0 {
            break;
        }
    }
}

/// Removes entries already sent at the previous boundary, and remembers this page's boundary
/// (the entries at its last timestamp) for the next.
fn drop_repeats(
    events: Vec<Event>,
    cursor: i64,
    boundary: &mut HashMap<String, usize>,
) -> Vec<Event> {
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        if e.ts.0 == cursor {
            if let Some(n) = boundary.get_mut(&e.raw).filter(|n| **n > 0) {
                *n -= 1;
                continue;
            }
        }
        out.push(e);
    }
    let last = out.iter().map(|e| e.ts.0).max();
    if let Some(last) = last {
        if last != cursor {
            boundary.clear();
        }
        for e in out.iter().filter(|e| e.ts.0 == last) {
            *boundary.entry(e.raw.clone()).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let connected =
            tokio::time::timeout(endpoint.timeout, tokio_tungstenite::connect_async(request)).await;
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
                    let mut fresh = drop_repeats(entries, cursor, &mut boundary);
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
