//! Loki over HTTP: `query_range` paged forward by timestamp until the window is complete.
//!
//! Paging by time has one trap: the next page starts at the last timestamp of this one
//! (`start` is inclusive), so entries sharing that nanosecond come again, and the page limit
//! may have cut them in the middle. The entries at the boundary are remembered (as a multiset,
//! since two identical lines in one nanosecond are two lines) and skipped once each when they
//! come back: none lost, none doubled. Metric queries come back as series in one request.

use super::http::{FetchError, HttpClient};
use super::prometheus_client::step_seconds;
use super::task::SourceMessage;
use super::{loki, EntityTable};
use crate::load::SourceReport;
use crate::model::{Event, TimeRange};
use std::collections::HashMap;

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
    fn the_server_limit_is_read_from_its_message() {
        let real = "max entries limit per query exceeded, limit > max_entries_limit_per_query (10000 > 5000)";
        assert_eq!(server_limit(real), Some(5000));
        assert_eq!(server_limit("parse error at line 1"), None);
    }
}
