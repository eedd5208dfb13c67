//! Loki over HTTP (SPEC §5, issue 3): the real `casefile query` binary, and the library's
//! client, against a fake Loki on loopback that answers like the real Loki 3.4.6 recorded in
//! tests/fixtures/loki (same response shape, stats block, headers and error texts).
//!
//! The fake honours `query_range` as Loki does: `start` inclusive, `end` exclusive (both in
//! nanoseconds), `limit` over all streams, `direction` forward (oldest first) or backward
//! (newest first), entries ordered by time then stream. It also answers the count casefile
//! asks first (`sum(count_over_time(QUERY [RANGE]))` at `time`, over `(time - RANGE, time]` as
//! Loki's range aggregations count). Every expectation is computed from the generated data
//! or the fixtures.

use casefile::load::SourceReport;
use casefile::model::{SourceKind, TimeRange, Timestamp};
use casefile::sources::http::HttpClient;
use casefile::sources::loki_client;
use casefile::sources::spec::Endpoint;
use casefile::sources::task::{Cancel, SourceMessage};
use casefile::sources::EntityTable;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;
use support::http_server::{
    base64, fixture, parse_rfc3339, refused_url, rfc3339_nanos, run_casefile, utc_parts, Request,
    Response, Rng, Run, Server,
};

const NS: i64 = 1_000_000_000;
const QUERY: &str = r#"{job="sshd"}"#;
const QUERY_RANGE: &str = "/loki/api/v1/query_range";
const INSTANT_QUERY: &str = "/loki/api/v1/query";
const SERIES: &str = "/loki/api/v1/series";
/// No run of the binary may take longer than this.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);
/// The client's page size before a server says otherwise (SPEC §5: Loki's default
/// `max_entries_limit_per_query`).
const DEFAULT_LIMIT: usize = 5_000;

// ---------------------------------------------------------------------------------------------
// Generated data

#[derive(Debug, Clone)]
struct Entry {
    stream: usize,
    ts: i64,
    line: String,
}

impl Entry {
    /// Whether the line holds every needle (LogQL's `|=`).
    fn passes(&self, needles: &[String]) -> bool {
        needles.iter().all(|n| self.line.contains(n.as_str()))
    }
}

/// Two sshd streams, entries in the order Loki returns them forward: by time, then stream.
struct Dataset {
    streams: Vec<BTreeMap<String, String>>,
    entries: Vec<Entry>,
    /// The query window `[from, to)`.
    from: i64,
    to: i64,
}

impl Dataset {
    fn in_window(&self) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| e.ts >= self.from && e.ts < self.to)
            .collect()
    }

    fn host(&self, stream: usize) -> &str {
        &self.streams[stream]["host"]
    }

    /// Generated lines in the window as a multiset of (host, ns, line).
    fn expected(&self) -> BTreeMap<(String, i64, String), usize> {
        let mut m = BTreeMap::new();
        for e in self.in_window() {
            *m.entry((self.host(e.stream).to_string(), e.ts, e.line.clone()))
                .or_default() += 1;
        }
        m
    }
}

fn stream_labels(host: &str) -> BTreeMap<String, String> {
    // The label set of the recorded sshd streams (query_range_streams_forward.json).
    [
        ("detected_level", "unknown"),
        ("env", "prod"),
        ("host", host),
        ("job", "sshd"),
        ("service_name", "sshd"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// An sshd line as the recorded ones are written: `Nov 22 05:23:02 bastion-1 sshd[58160]: …`.
fn sshd_line(rng: &mut Rng, host: &str, ts: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let users = [
        "root", "ubuntu", "git", "postgres", "deploy", "admin", "oracle", "test",
    ];
    let ips = ["203.0.113.45", "198.51.100.7", "192.0.2.19"];
    let (_, mo, d, h, mi, s, _) = utc_parts(ts);
    let user = *rng.pick(&users);
    let ip = *rng.pick(&ips);
    let port = rng.range(30_000, 65_000);
    let message = match rng.range(0, 9) {
        0..=4 => format!("Failed password for {user} from {ip} port {port} ssh2"),
        5 | 6 => format!("Failed password for invalid user {user} from {ip} port {port} ssh2"),
        7 => format!("Connection closed by authenticating user {user} {ip} port {port} [preauth]"),
        8 => format!("Disconnected from invalid user {user} {ip} port {port} [preauth]"),
        _ => format!("Accepted password for {user} from {ip} port {port} ssh2"),
    };
    format!(
        "{} {d:2} {h:02}:{mi:02}:{s:02} {host} sshd[{}]: {message}",
        MONTHS[(mo - 1) as usize],
        rng.range(30_000, 60_000)
    )
}

/// A group of entries sharing one nanosecond, placed so that the page cut falls after its
/// first `before` entries: (stream, line index into the group's distinct lines).
struct Shape {
    members: Vec<(usize, usize)>,
    before: usize,
}

/// The page-boundary groups, used in turn:
/// - a cut between two byte-identical lines of stream 0 (`X | X`), other entries both sides;
/// - a group that ends exactly at the cut, with an identical pair in stream 1;
/// - a cut after the group's first entry, with an identical pair after the cut;
/// - four identical lines in stream 0 cut in the middle (`P P | P P`).
fn shapes() -> Vec<Shape> {
    vec![
        Shape {
            members: vec![
                (0, 0),
                (0, 1),
                (0, 2),
                (0, 3),
                (0, 4),
                (0, 4),
                (1, 5),
                (1, 6),
                (1, 7),
                (1, 8),
            ],
            before: 5,
        },
        Shape {
            members: vec![(0, 0), (1, 1), (1, 1)],
            before: 3,
        },
        Shape {
            members: vec![(0, 0), (1, 1), (1, 2), (1, 3), (1, 3), (1, 4), (1, 5)],
            before: 1,
        },
        Shape {
            members: vec![(0, 0), (0, 0), (0, 0), (0, 0), (1, 1)],
            before: 2,
        },
    ]
}

/// `n` entries in the window (plus a few before it and at or after its end), with many
/// entries sharing a nanosecond, and with the groups of `shapes()` placed across the cuts
/// that forward paging with `limit` makes.
fn generate(n: usize, limit: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let streams = vec![stream_labels("bastion-1"), stream_labels("bastion-2")];
    let hosts = ["bastion-1", "bastion-2"];
    let from = parse_rfc3339("2026-11-22T05:23:00Z").unwrap();
    let mut entries = Vec::new();
    // Before the window: never asked for, never shown.
    for k in (1..=3).rev() {
        let ts = from - k * NS + 17;
        let line = sshd_line(&mut rng, hosts[0], ts);
        entries.push(Entry {
            stream: 0,
            ts,
            line,
        });
    }
    let shapes = shapes();
    let mut shape_no = 0;
    let mut next_cut = limit;
    let mut i = 0;
    // The first group is exactly at `from` (inclusive).
    let mut ts = from;
    while i < n {
        let shape = &shapes[shape_no % shapes.len()];
        let planned = next_cut - shape.before;
        if i == planned && i + shape.members.len() <= n {
            let lines: Vec<String> = (0..=shape.members.iter().map(|m| m.1).max().unwrap())
                .map(|k| {
                    let stream = shape.members.iter().find(|m| m.1 == k).unwrap().0;
                    sshd_line(&mut rng, hosts[stream], ts)
                })
                .collect();
            for &(stream, l) in &shape.members {
                entries.push(Entry {
                    stream,
                    ts,
                    line: lines[l].clone(),
                });
            }
            i += shape.members.len();
            // The next page starts at this group's first entry.
            next_cut = planned + limit;
            shape_no += 1;
        } else {
            let room = if planned > i { planned - i } else { n - i };
            let size = if rng.chance(65) {
                1
            } else {
                rng.range(2, 4) as usize
            };
            let size = size.min(room).min(n - i);
            let mut members: Vec<usize> = (0..size).map(|_| rng.range(0, 1) as usize).collect();
            members.sort();
            for stream in members {
                let line = sshd_line(&mut rng, hosts[stream], ts);
                entries.push(Entry { stream, ts, line });
            }
            i += size;
        }
        ts += rng.range(1_000_000, 180_000_000) as i64 + rng.range(1, 999) as i64;
    }
    let last = entries.last().unwrap().ts;
    let to = last + 1_000_000;
    // At the window's end (exclusive) and after it.
    for (k, ts) in [to, to, to + NS].into_iter().enumerate() {
        let stream = k % 2;
        let line = sshd_line(&mut rng, hosts[stream], ts);
        entries.push(Entry { stream, ts, line });
    }
    Dataset {
        streams,
        entries,
        from,
        to,
    }
}

/// Forward paging by time as Loki allows it: each page starts at the previous page's last
/// timestamp (inclusive), and a page shorter than the limit is the last. Returns each page's
/// `start` and how many entries the server returns for it.
fn pages(data: &Dataset, limit: usize) -> Vec<(i64, usize)> {
    let window = data.in_window();
    let mut out = Vec::new();
    let mut start = data.from;
    loop {
        let page: Vec<&&Entry> = window
            .iter()
            .filter(|e| e.ts >= start)
            .take(limit)
            .collect();
        out.push((start, page.len()));
        if page.len() < limit {
            return out;
        }
        let last = page.last().unwrap().ts;
        assert!(
            last > start,
            "more than a page of entries at {start}: paging by time cannot pass"
        );
        start = last;
    }
}

/// The page cuts must really split groups of one nanosecond, identical lines included;
/// otherwise the paging tests would prove nothing.
fn check_boundaries_are_hard(data: &Dataset, limit: usize) {
    let window = data.in_window();
    let mut split_groups = 0;
    let mut groups_ending_at_cut = 0;
    let mut split_identical = 0;
    for (start, count) in pages(data, limit) {
        if count < limit {
            continue;
        }
        let page: Vec<&&Entry> = window
            .iter()
            .filter(|e| e.ts >= start)
            .take(limit)
            .collect();
        let t = page.last().unwrap().ts;
        let in_page: Vec<&&&Entry> = page.iter().filter(|e| e.ts == t).collect();
        let all: Vec<&&Entry> = window.iter().filter(|e| e.ts == t).collect();
        if in_page.len() < all.len() {
            split_groups += 1;
            let last = in_page.last().unwrap();
            let next = all[in_page.len()];
            if last.stream == next.stream && last.line == next.line {
                split_identical += 1;
            }
        } else if all.len() > 1 {
            groups_ending_at_cut += 1;
        }
    }
    assert!(
        split_groups >= 2 && groups_ending_at_cut >= 1 && split_identical >= 1,
        "the generated data must put shared nanoseconds on the page cuts \
         (split {split_groups}, ending at a cut {groups_ending_at_cut}, identical pair split {split_identical})"
    );
    let shared = window.windows(2).filter(|w| w[0].ts == w[1].ts).count();
    assert!(
        shared > window.len() / 10,
        "many lines share a nanosecond ({shared})"
    );
}

// ---------------------------------------------------------------------------------------------
// The fake Loki

struct FakeLoki {
    data: Arc<Dataset>,
    /// `max_entries_limit_per_query`: a larger `limit` is answered with Loki's 400.
    max_limit: Option<usize>,
    query: String,
}

impl FakeLoki {
    /// The needles of a query that is this fake's selector followed by line filters
    /// (`{job="sshd"} |= "mallory"`, as casefile pushes a pivot down), or `None`.
    fn line_filters(&self, query: &str) -> Option<Vec<String>> {
        let mut rest = query.trim().strip_prefix(self.query.as_str())?.trim_start();
        let mut needles = Vec::new();
        while !rest.is_empty() {
            let quoted = rest.strip_prefix("|= \"")?;
            let mut needle = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                match chars.next()? {
                    (_, '\\') => needle.push(chars.next()?.1),
                    (i, '"') => break i,
                    (_, c) => needle.push(c),
                }
            };
            needles.push(needle);
            rest = quoted[end + 1..].trim_start();
        }
        Some(needles)
    }

    fn answer(&self, req: &Request) -> Response {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", QUERY_RANGE) => self.range(req),
            ("GET", INSTANT_QUERY) => self.instant(req),
            ("GET", SERIES) => self.series(req),
            _ => not_found(),
        }
    }

    /// The series API for this fake's selector: its streams' label sets, as Loki answers
    /// (`{"status":"success","data":[{…},…]}`, one object per stream).
    fn series(&self, req: &Request) -> Response {
        if req.param("match[]") != Some(self.query.as_str()) {
            return Response::text(
                400,
                format!("fake Loki: unexpected match[] {:?}", req.param("match[]")),
            );
        }
        series_response(&self.data.streams)
    }

    /// `query_range` over log streams: `[start, end)`, at most `limit` entries over all
    /// streams, the oldest first (`forward`) or the newest first (`backward`).
    /// `sum(count_over_time(SELECTOR [Nms]))` as a range query: the matrix of counts over
    /// `(t - range, t]` at each step, as Loki answers it.
    fn count_range(&self, req: &Request, q: &str) -> Response {
        let parsed = q
            .strip_prefix("sum(count_over_time(")
            .and_then(|r| r.strip_suffix("))"))
            .and_then(|r| r.rsplit_once(" ["))
            .and_then(|(sel, r)| {
                Some((sel, r.strip_suffix("ms]")?.parse::<i64>().ok()? * 1_000_000))
            });
        let num = |name: &str| req.param(name).and_then(|v| v.parse::<i64>().ok());
        let step = req
            .param("step")
            .and_then(|s| s.parse::<f64>().ok())
            .map(|s| (s * 1e9).round() as i64);
        let (Some((selector, range)), Some(start), Some(end), Some(step)) =
            (parsed, num("start"), num("end"), step)
        else {
            return Response::text(400, format!("fake Loki: cannot serve {q:?} as a range"));
        };
        let Some(needles) = self.line_filters(selector).filter(|_| step > 0) else {
            return Response::text(400, format!("fake Loki: unexpected {q:?}"));
        };
        let mut values = Vec::new();
        let mut t = start;
        while t <= end {
            let n = self
                .data
                .entries
                .iter()
                .filter(|e| e.ts > t - range && e.ts <= t && e.passes(&needles))
                .count();
            if n > 0 {
                values.push(json!([t as f64 / 1e9, n.to_string()]));
            }
            t += step;
        }
        let body = json!({"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {}, "values": values}]}});
        Response::recorded(
            &fixture("loki/query_range_metric_matrix.headers"),
            body.to_string(),
        )
    }

    fn range(&self, req: &Request) -> Response {
        if let Some(q) = req
            .param("query")
            .filter(|q| q.starts_with("sum(count_over_time("))
        {
            return self.count_range(req, q);
        }
        let Some(needles) = self.line_filters(req.param("query").unwrap_or_default()) else {
            return Response::text(
                400,
                format!("fake Loki: unexpected query {:?}", req.param("query")),
            );
        };
        let backward = match req.param("direction") {
            Some("forward") => false,
            Some("backward") | None => true,
            Some(other) => {
                // Loki's own words, for the direction asked.
                let text = fixture("loki/error_bad_direction.txt").replace("sideways", other);
                return Response::recorded(&fixture("loki/error_bad_direction.headers"), text);
            }
        };
        let num = |name: &str| req.param(name).and_then(|v| v.parse::<i64>().ok());
        let (Some(start), Some(end), Some(limit)) = (num("start"), num("end"), num("limit")) else {
            return Response::text(400, "fake Loki: start, end and limit are nanoseconds here");
        };
        if let Some(max) = self.max_limit.filter(|&m| limit as usize > m) {
            return max_entries_error(limit as usize, max);
        }
        let entries = &self.data.entries;
        let first = entries.partition_point(|e| e.ts < start);
        let last = entries.partition_point(|e| e.ts < end).max(first);
        let in_range = entries[first..last].iter().filter(|e| e.passes(&needles));
        let limit = limit as usize;
        let page: Vec<&Entry> = if backward {
            in_range.rev().take(limit).collect()
        } else {
            in_range.take(limit).collect()
        };
        streams_response(&self.data.streams, &page)
    }

    /// The count casefile may ask first: `sum(count_over_time(SELECTOR [RANGE]))` at `time`,
    /// over `(time - RANGE, time]` as Loki's range aggregations count.
    fn instant(&self, req: &Request) -> Response {
        let q = req.param("query").unwrap_or_default();
        let inner = q
            .strip_prefix("sum(count_over_time(")
            .and_then(|r| r.strip_suffix("))"))
            .and_then(|r| r.rsplit_once(" ["))
            .and_then(|(sel, range)| {
                // LogQL ranges in whole milliseconds (`[313960ms]`) or seconds (`[1s]`).
                let ns = match range.strip_suffix("ms]") {
                    Some(ms) => ms.parse::<i64>().ok()? * 1_000_000,
                    None => range.strip_suffix("s]")?.parse::<i64>().ok()? * NS,
                };
                Some((sel, ns))
            });
        let (Some((selector, range_ns)), Some(time)) =
            (inner, req.param("time").and_then(|t| t.parse::<i64>().ok()))
        else {
            return Response::text(
                400,
                format!("fake Loki: only counts are served here, not {q:?}"),
            );
        };
        let Some(needles) = self.line_filters(selector) else {
            return Response::text(400, format!("fake Loki: unexpected selector {selector:?}"));
        };
        let n = self
            .data
            .entries
            .iter()
            .filter(|e| e.ts > time - range_ns && e.ts <= time && e.passes(&needles))
            .count();
        count_response(time, n)
    }
}

/// An instant vector with one unlabelled sample, shaped like query_instant_vector.json (an
/// empty result, as Loki gives, when nothing matched).
fn count_response(time_ns: i64, n: usize) -> Response {
    let headers = fixture("loki/query_instant_vector.headers");
    if n == 0 {
        return Response::recorded(&headers, fixture("loki/query_instant_vector_empty.json"));
    }
    let mut v: Value = serde_json::from_str(&fixture("loki/query_instant_vector.json")).unwrap();
    let t = if time_ns % NS == 0 {
        json!(time_ns / NS)
    } else {
        json!(time_ns as f64 / 1e9)
    };
    v["data"]["result"] = json!([{"metric": {}, "value": [t, n.to_string()]}]);
    Response::recorded(&headers, v.to_string())
}

fn not_found() -> Response {
    Response::recorded(
        &fixture("loki/error_not_found.headers"),
        fixture("loki/error_not_found.txt"),
    )
}

/// Loki's own 400 for a `limit` above `max_entries_limit_per_query`, with its numbers.
fn max_entries_error(asked: usize, max: usize) -> Response {
    let recorded = fixture("loki/error_max_entries_limit.txt");
    assert!(recorded.contains("(10000 > 5000)"), "{recorded}");
    Response::recorded(
        &fixture("loki/error_max_entries_limit.headers"),
        recorded.replace("(10000 > 5000)", &format!("({asked} > {max})")),
    )
}

fn recorded_stats() -> Value {
    let v: Value = serde_json::from_str(&fixture("loki/query_range_streams_forward.json")).unwrap();
    v["data"]["stats"].clone()
}

/// A `query_range` streams answer shaped like query_range_streams_forward.json.
fn streams_response(streams: &[BTreeMap<String, String>], page: &[&Entry]) -> Response {
    let mut result = Vec::new();
    for (s, labels) in streams.iter().enumerate() {
        let values: Vec<Value> = page
            .iter()
            .filter(|e| e.stream == s)
            .map(|e| json!([e.ts.to_string(), e.line]))
            .collect();
        if !values.is_empty() {
            result.push(json!({"stream": labels, "values": values}));
        }
    }
    let mut stats = recorded_stats();
    stats["summary"]["totalEntriesReturned"] = json!(page.len());
    stats["ingester"]["totalLinesSent"] = json!(page.len());
    let body = json!({
        "status": "success",
        "data": {"resultType": "streams", "result": result, "stats": stats}
    });
    Response::recorded(
        &fixture("loki/query_range_streams_forward.headers"),
        body.to_string(),
    )
}

/// A series answer shaped like the recorded one (real/loki/series.json in the shared
/// fixtures): the label set of each stream.
fn series_response(streams: &[BTreeMap<String, String>]) -> Response {
    Response::json(
        200,
        json!({"status": "success", "data": streams}).to_string(),
    )
}

fn start_fake(data: Arc<Dataset>, max_limit: Option<usize>) -> Server {
    let fake = FakeLoki {
        data,
        max_limit,
        query: QUERY.to_string(),
    };
    Server::start(move |req| fake.answer(req))
}

// ---------------------------------------------------------------------------------------------
// Running casefile against it

fn query_args<'a>(url: &'a str, from: &'a str, to: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "query", "--loki", url, "--logql", QUERY, "--from", from, "--to", to,
    ];
    args.extend_from_slice(extra);
    args
}

/// The lines of a jsonl run as a multiset of (host, ns, line), checking each line's shape.
fn received(run: &Run) -> BTreeMap<(String, i64, String), usize> {
    let mut m = BTreeMap::new();
    for line in run.stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["source"], "loki", "{line}");
        assert_eq!(v["kind"], "log", "{line}");
        let raw = &v["raw"];
        let entry = &raw["values"][0];
        let ns: i64 = entry[0].as_str().unwrap().parse().unwrap();
        let text = entry[1].as_str().unwrap().to_string();
        assert_eq!(v["ts"], rfc3339_nanos(ns), "{line}");
        assert_eq!(v["message"], text, "{line}");
        let host = raw["stream"]["host"].as_str().unwrap().to_string();
        *m.entry((host, ns, text)).or_default() += 1;
    }
    m
}

/// Equality of two multisets, naming the first differences instead of dumping both.
fn assert_same_multiset(
    expected: &BTreeMap<(String, i64, String), usize>,
    got: &BTreeMap<(String, i64, String), usize>,
) {
    let total = |m: &BTreeMap<_, usize>| m.values().sum::<usize>();
    let mut diffs = Vec::new();
    for (k, n) in expected {
        let g = got.get(k).copied().unwrap_or(0);
        if g != *n {
            diffs.push(format!("expected {n}, got {g}: {k:?}"));
        }
    }
    for (k, g) in got {
        if !expected.contains_key(k) {
            diffs.push(format!("expected 0, got {g}: {k:?}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} lines expected, {} received; {} differences, first: {:#?}",
        total(expected),
        total(got),
        diffs.len(),
        &diffs[..diffs.len().min(8)]
    );
}

fn error_line<'a>(run: &'a Run, server: &str) -> &'a str {
    let prefix = format!("casefile: {server}: ");
    run.stderr
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no `{prefix}…` line on stderr:\n{}", run.stderr))
}

fn assert_source_failed(run: &Run, server: &str, words: &str) {
    assert_eq!(
        run.code,
        Some(3),
        "a failed source exits 3; stderr:\n{}",
        run.stderr
    );
    let line = error_line(run, server);
    assert!(
        line.contains(words),
        "the server's own words `{words}` are missing from: {line}"
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Paging to completion

#[test]
fn paging_20000_lines_delivers_each_exactly_once_across_shared_nanosecond_boundaries() {
    let data = Arc::new(generate(20_000, DEFAULT_LIMIT, 0x10c1));
    check_boundaries_are_hard(&data, DEFAULT_LIMIT);
    let expected = data.expected();
    assert_eq!(expected.values().sum::<usize>(), 20_000);
    let server = start_fake(data.clone(), None);
    let (from, to) = (rfc3339_nanos(data.from), rfc3339_nanos(data.to));
    let url = server.url();

    let run = run_casefile(&query_args(&url, &from, &to, &[]), &[], RUN_TIMEOUT);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.trim().is_empty(),
        "no diagnostics expected:\n{}",
        run.stderr
    );
    assert_same_multiset(&expected, &received(&run));

    // The requests are exactly the pages forward paging at 5000 needs, each starting at the
    // previous page's last timestamp.
    let plan = pages(&data, DEFAULT_LIMIT);
    let requests = server.requests_to(QUERY_RANGE);
    let starts: Vec<i64> = requests
        .iter()
        .map(|r| r.param("start").unwrap().parse().unwrap())
        .collect();
    let planned: Vec<i64> = plan.iter().map(|p| p.0).collect();
    assert_eq!(
        starts,
        planned,
        "{} requests for {} pages",
        requests.len(),
        plan.len()
    );
    for r in &requests {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", QUERY_RANGE));
        assert_eq!(r.param("query"), Some(QUERY));
        assert_eq!(r.param("limit"), Some(DEFAULT_LIMIT.to_string().as_str()));
        assert_eq!(r.param("direction"), Some("forward"));
        assert_eq!(r.param("end"), Some(data.to.to_string().as_str()));
        assert_eq!(r.header("X-Scope-OrgID"), None, "no tenant was configured");
        assert_eq!(
            r.header("Authorization"),
            None,
            "no credentials were configured"
        );
    }
    // Anything else asked is a count of the same window (`sum(count_over_time(…))`).
    for r in server.requests().iter().filter(|r| r.path != QUERY_RANGE) {
        assert_eq!(r.path, INSTANT_QUERY, "unexpected request {}", r.target);
        let q = r.param("query").unwrap_or_default();
        assert!(q.contains(QUERY) && q.contains("count_over_time"), "{q}");
        // At the last nanosecond of the window: the count covers (time - range, time].
        assert_eq!(r.param("time"), Some((data.to - 1).to_string().as_str()));
    }
    assert!(server.handler_panics().is_empty());

    // --count agrees.
    let count = run_casefile(
        &query_args(&url, &from, &to, &["--count"]),
        &[],
        RUN_TIMEOUT,
    );
    assert_eq!(count.code, Some(0), "stderr:\n{}", count.stderr);
    assert_eq!(
        count.stdout,
        format!("{}\n", expected.values().sum::<usize>())
    );
}

// ---------------------------------------------------------------------------------------------
// 2. The server's own limit

#[test]
fn a_lower_max_entries_limit_is_read_from_the_400_and_paging_continues_with_it() {
    const SERVER_MAX: usize = 1_000;
    let data = Arc::new(generate(4_200, SERVER_MAX, 0x10c2));
    check_boundaries_are_hard(&data, SERVER_MAX);
    let server = start_fake(data.clone(), Some(SERVER_MAX));
    let (from, to) = (rfc3339_nanos(data.from), rfc3339_nanos(data.to));
    let run = run_casefile(
        &query_args(&server.url(), &from, &to, &[]),
        &[],
        RUN_TIMEOUT,
    );
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_same_multiset(&data.expected(), &received(&run));

    let requests = server.requests_to(QUERY_RANGE);
    let limits: Vec<&str> = requests.iter().map(|r| r.param("limit").unwrap()).collect();
    let plan = pages(&data, SERVER_MAX);
    // One refused request at the default limit, then the pages at the server's limit.
    let mut expected_limits = vec![DEFAULT_LIMIT.to_string()];
    expected_limits.extend(plan.iter().map(|_| SERVER_MAX.to_string()));
    assert_eq!(limits, expected_limits);
    let starts: Vec<i64> = requests[1..]
        .iter()
        .map(|r| r.param("start").unwrap().parse().unwrap())
        .collect();
    assert_eq!(starts, plan.iter().map(|p| p.0).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------------------------
// 3. Metric queries

#[test]
fn a_metric_query_becomes_one_metric_line_per_sample_of_the_recorded_matrix() {
    // The request that recorded the fixture (tests/fixtures/PROVENANCE.md).
    const METRIC_QUERY: &str = r#"sum by (host) (count_over_time({job="sshd"} |= "Failed" [1m]))"#;
    let (from_s, to_s) = (1_795_324_680_i64, 1_795_326_180_i64);
    let body = fixture("loki/query_range_metric_matrix.json");
    let headers = fixture("loki/query_range_metric_matrix.headers");
    let server = Server::start(move |req| {
        if req.path != QUERY_RANGE || req.param("query") != Some(METRIC_QUERY) {
            return not_found();
        }
        Response::recorded(&headers, body.clone())
    });
    let recorded: Value =
        serde_json::from_str(&fixture("loki/query_range_metric_matrix.json")).unwrap();
    // Expected lines: every sample of every series inside the window.
    let mut expected = Vec::new();
    for series in recorded["data"]["result"].as_array().unwrap() {
        for sample in series["values"].as_array().unwrap() {
            let t = sample[0].as_i64().unwrap();
            if (from_s..to_s).contains(&t) {
                let value: f64 = sample[1].as_str().unwrap().parse().unwrap();
                expected.push((rfc3339_nanos(t * NS), series["metric"].clone(), value));
            }
        }
    }
    assert!(!expected.is_empty());
    let (from, to) = (rfc3339_nanos(from_s * NS), rfc3339_nanos(to_s * NS));
    let args = |extra: &[&'static str]| {
        let mut a: Vec<String> = [
            "query",
            "--loki",
            &server.url(),
            "--logql",
            METRIC_QUERY,
            "--from",
            &from,
            "--to",
            &to,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let a = args(&[]);
    let run = run_casefile(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
        RUN_TIMEOUT,
    );
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let mut got = Vec::new();
    for line in run.stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["kind"], "metric", "only samples are expected: {line}");
        assert_eq!(v["source"], "loki", "{line}");
        got.push((
            v["ts"].as_str().unwrap().to_string(),
            v["metric"].clone(),
            v["value"].as_f64().unwrap(),
        ));
    }
    assert_eq!(got, expected);
    // One request with a step that keeps the series under 11,000 points.
    let requests = server.requests_to(QUERY_RANGE);
    assert_eq!(requests.len(), 1, "a matrix is answered in one request");
    let step: i64 = requests[0]
        .param("step")
        .expect("a step")
        .parse()
        .expect("step in seconds");
    assert!(step >= 1 && (to_s - from_s) / step < 11_000, "step {step}");

    let a = args(&["--count"]);
    let count = run_casefile(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
        RUN_TIMEOUT,
    );
    assert_eq!(
        count.stdout,
        format!("{}\n", expected.len()),
        "stderr:\n{}",
        count.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Errors in the server's own words

/// A window around the recorded streams fixture, and its line count.
fn recorded_streams() -> (String, String, usize, String, String) {
    let body = fixture("loki/query_range_streams_forward.json");
    let v: Value = serde_json::from_str(&body).unwrap();
    let mut ts: Vec<i64> = Vec::new();
    for s in v["data"]["result"].as_array().unwrap() {
        for e in s["values"].as_array().unwrap() {
            ts.push(e[0].as_str().unwrap().parse().unwrap());
        }
    }
    let from = rfc3339_nanos(ts.iter().min().unwrap() - NS);
    let to = rfc3339_nanos(ts.iter().max().unwrap() + NS);
    (
        from,
        to,
        ts.len(),
        body,
        fixture("loki/query_range_streams_forward.headers"),
    )
}

/// The recorded lines as a data set, so counts can be answered for them.
fn recorded_dataset() -> Dataset {
    let (from, to, _, body, _) = recorded_streams();
    let v: Value = serde_json::from_str(&body).unwrap();
    let mut streams = Vec::new();
    let mut entries = Vec::new();
    for (k, s) in v["data"]["result"].as_array().unwrap().iter().enumerate() {
        let labels = s["stream"].as_object().unwrap();
        streams.push(
            labels
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect(),
        );
        for e in s["values"].as_array().unwrap() {
            entries.push(Entry {
                stream: k,
                ts: e[0].as_str().unwrap().parse().unwrap(),
                line: e[1].as_str().unwrap().to_string(),
            });
        }
    }
    entries.sort_by_key(|e| (e.ts, e.stream));
    Dataset {
        streams,
        entries,
        from: parse_rfc3339(&from).unwrap(),
        to: parse_rfc3339(&to).unwrap(),
    }
}

/// A Loki that answers `query_range` with the recorded page, byte for byte, and counts with
/// the number of recorded lines.
fn recorded_loki() -> impl Fn(&Request) -> Response + Send + Sync + 'static {
    let (.., body, headers) = recorded_streams();
    let fake = FakeLoki {
        data: Arc::new(recorded_dataset()),
        max_limit: None,
        query: QUERY.to_string(),
    };
    move |req| {
        if req.path == QUERY_RANGE && req.param("query") == Some(QUERY) {
            Response::recorded(&headers, body.clone())
        } else {
            fake.answer(req)
        }
    }
}

fn run_against(server: &Server, env: &[(&str, &str)]) -> Run {
    let (from, to, ..) = recorded_streams();
    run_casefile(
        &query_args(&server.url(), &from, &to, &[]),
        env,
        RUN_TIMEOUT,
    )
}

#[test]
fn a_400_shows_lokis_parse_error_text() {
    let text = fixture("loki/error_parse_logql.txt");
    let headers = fixture("loki/error_parse_logql.headers");
    let body = text.clone();
    let server = Server::start(move |_| Response::recorded(&headers, body.clone()));
    let run = run_against(&server, &[]);
    assert_source_failed(&run, &server.host_port(), text.trim());
    assert!(run.stdout.is_empty(), "no events: {}", run.stdout);
    assert_eq!(
        server.requests_to(QUERY_RANGE).len(),
        1,
        "a 400 is not retried"
    );
}

#[test]
fn a_401_shows_no_org_id() {
    let text = fixture("loki/auth_error_no_org_id_query_range.txt");
    let headers = fixture("loki/auth_error_no_org_id_query_range.headers");
    let body = text.clone();
    let server = Server::start(move |_| Response::recorded(&headers, body.clone()));
    let run = run_against(&server, &[]);
    assert_source_failed(&run, &server.host_port(), text.trim());
    assert!(run.stdout.is_empty());
}

#[test]
fn a_500_shows_its_body() {
    // Synthesized: a querier failure as Loki words them (text/plain).
    let text = "rpc error: code = Code(500) desc = failed to load chunk 'fake/5f2c1a9b3d4e': context deadline exceeded";
    let server = Server::start(move |_| Response::text(500, text));
    let run = run_against(&server, &[]);
    assert_source_failed(&run, &server.host_port(), text);
    assert!(run.stdout.is_empty());
}

#[test]
fn a_status_with_no_body_is_named_by_its_code_and_reason() {
    for (status, words) in [(503, "503 Service Unavailable"), (403, "403 Forbidden")] {
        let server = Server::start(move |_| Response::text(status, ""));
        let run = run_against(&server, &[]);
        assert_source_failed(&run, &server.host_port(), words);
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn a_404_shows_page_not_found() {
    let text = fixture("loki/error_not_found.txt");
    let server = Server::start(|_| not_found());
    let run = run_against(&server, &[]);
    assert_source_failed(&run, &server.host_port(), text.trim());
}

#[test]
fn a_429_with_retry_after_is_waited_out_and_everything_arrives() {
    let (.., lines, _, _) = recorded_streams();
    let busy = Arc::new(Mutex::new(2));
    let loki = recorded_loki();
    let server = Server::start(move |req| {
        let mut left = busy.lock().unwrap();
        if req.path == QUERY_RANGE && *left > 0 {
            *left -= 1;
            // Synthesized: the query frontend's answer when its queue is full.
            return Response::text(429, "too many outstanding requests").header("Retry-After", "1");
        }
        loki(req)
    });
    let run = run_against(&server, &[]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), lines);
    let requests = server.requests_to(QUERY_RANGE);
    assert_eq!(requests.len(), 3);
    for pair in requests.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= Duration::from_millis(950),
            "Retry-After: 1 not honoured: {gap:?}"
        );
    }
    assert_eq!(
        requests[0].target, requests[2].target,
        "the retry asks the same"
    );
}

#[test]
fn connection_refused_is_a_clear_failure_within_seconds() {
    let url = refused_url();
    let name = url.trim_start_matches("http://").to_string();
    let (from, to, ..) = recorded_streams();
    let run = run_casefile(&query_args(&url, &from, &to, &[]), &[], RUN_TIMEOUT);
    assert_eq!(run.code, Some(3), "stderr:\n{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
    let line = error_line(&run, &name);
    assert!(line.to_lowercase().contains("connection refused"), "{line}");
    assert!(run.stdout.is_empty());
}

#[test]
fn a_name_that_does_not_resolve_is_a_clear_failure_within_seconds() {
    // `.invalid` never resolves (RFC 2606), with or without a resolver.
    let url = "http://casefile-test.invalid:3100".to_string();
    let (from, to, ..) = recorded_streams();
    let run = run_casefile(&query_args(&url, &from, &to, &[]), &[], RUN_TIMEOUT);
    assert_eq!(run.code, Some(3), "stderr:\n{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(15),
        "took {:?}",
        run.elapsed
    );
    let line = error_line(&run, "casefile-test.invalid:3100");
    assert!(line.to_lowercase().contains("dns"), "{line}");
    assert!(run.stdout.is_empty());
}

#[test]
fn a_body_cut_short_is_a_failure_not_a_hang() {
    let (.., body, _) = recorded_streams();
    let server = Server::start(move |_| Response::Truncated {
        status: 200,
        headers: vec![(
            "Content-Type".into(),
            "application/json; charset=UTF-8".into(),
        )],
        body: body.as_bytes()[..body.len() / 2].to_vec(),
        content_length: body.len(),
    });
    let run = run_against(&server, &[]);
    assert_eq!(run.code, Some(3), "stderr:\n{}", run.stderr);
    let line = error_line(&run, &server.host_port());
    assert!(
        line.contains(QUERY_RANGE),
        "the message names the request: {line}"
    );
    assert!(run.stdout.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 5. Tenant and credentials

#[test]
fn tenant_and_bearer_token_are_sent_and_the_token_is_never_printed() {
    let (.., lines, _, _) = recorded_streams();
    let server = Server::start(recorded_loki());
    let env = [("LOKI_ORG_ID", "tenant-a"), ("LOKI_BEARER_TOKEN", "s3cret")];
    let run = run_against(&server, &env);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), lines);
    for r in server.requests() {
        assert_eq!(r.header_values("X-Scope-OrgID"), vec!["tenant-a"]);
        assert_eq!(r.header_values("Authorization"), vec!["Bearer s3cret"]);
    }
    assert!(!run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"));

    // Refused: the server's words are shown, the token is not.
    let text = fixture("loki/auth_error_no_org_id_query_range.txt");
    let headers = fixture("loki/auth_error_no_org_id_query_range.headers");
    let body = text.clone();
    let denying = Server::start(move |_| Response::recorded(&headers, body.clone()));
    let run = run_against(&denying, &[("LOKI_BEARER_TOKEN", "s3cret")]);
    assert_source_failed(&run, &denying.host_port(), text.trim());
    assert_eq!(
        denying.requests()[0].header("Authorization"),
        Some("Bearer s3cret")
    );
    assert!(
        !run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"),
        "{}",
        run.stderr
    );
}

#[test]
fn basic_credentials_from_the_environment_or_the_url_are_sent_and_never_printed() {
    assert_eq!(
        base64(b"Aladdin:open sesame"),
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    ); // RFC 7617
    let text = fixture("loki/auth_error_no_org_id_query_range.txt");
    let headers = fixture("loki/auth_error_no_org_id_query_range.headers");
    let body = text.clone();
    let server = Server::start(move |_| Response::recorded(&headers, body.clone()));
    let env = [
        ("LOKI_USERNAME", "responder"),
        ("LOKI_PASSWORD", "pa55-w0rd-env"),
    ];
    let run = run_against(&server, &env);
    assert_source_failed(&run, &server.host_port(), text.trim());
    let expected = format!("Basic {}", base64(b"responder:pa55-w0rd-env"));
    assert_eq!(
        server.requests()[0].header("Authorization"),
        Some(expected.as_str())
    );
    assert!(!run.stderr.contains("pa55-w0rd-env") && !run.stdout.contains("pa55-w0rd-env"));

    // In the URL (`http://user:password@host`): moved into the header, shown nowhere.
    let url = format!("http://alice:pa55-w0rd-url@{}", server.host_port());
    let (from, to, ..) = recorded_streams();
    let run = run_casefile(&query_args(&url, &from, &to, &[]), &[], RUN_TIMEOUT);
    assert_source_failed(&run, &server.host_port(), text.trim());
    let last = server.requests().pop().unwrap();
    let expected = format!("Basic {}", base64(b"alice:pa55-w0rd-url"));
    assert_eq!(last.header("Authorization"), Some(expected.as_str()));
    assert!(
        !run.stderr.contains("pa55-w0rd-url") && !run.stdout.contains("pa55-w0rd-url"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// 6. The library's client: timeouts and cancel

struct LibRun {
    report: SourceReport,
    messages: Vec<SourceMessage>,
    elapsed: Duration,
}

/// `loki_client::run` in a current-thread runtime on its own thread, as the runner does; the
/// test fails (instead of hanging) when it has not ended after `deadline`.
fn run_library(
    url: &str,
    timeout: Duration,
    cancel: Cancel,
    window: TimeRange,
    deadline: Duration,
) -> LibRun {
    let budget = casefile::sources::runner::DEFAULT_BUDGET;
    run_library_with_budget(url, timeout, cancel, window, budget, deadline)
}

fn run_library_with_budget(
    url: &str,
    timeout: Duration,
    cancel: Cancel,
    window: TimeRange,
    budget: usize,
    deadline: Duration,
) -> LibRun {
    let mut endpoint = Endpoint::new(url);
    endpoint.timeout = timeout;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let client = HttpClient::new(&endpoint, cancel).expect("client");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut report = SourceReport::new(&endpoint.name, SourceKind::Loki, QUERY);
        let messages = Mutex::new(Vec::new());
        let send = |m: SourceMessage| {
            messages.lock().unwrap().push(m);
            true
        };
        let start = Instant::now();
        runtime.block_on(loki_client::run(
            &client,
            QUERY,
            window,
            budget,
            &EntityTable::loki(),
            0,
            &mut report,
            &send,
        ));
        let elapsed = start.elapsed();
        let _ = tx.send(LibRun {
            report,
            messages: messages.into_inner().unwrap(),
            elapsed,
        });
    });
    rx.recv_timeout(deadline)
        .unwrap_or_else(|_| panic!("loki_client::run did not end within {deadline:?}"))
}

fn small_window() -> TimeRange {
    let from = parse_rfc3339("2026-11-22T05:23:00Z").unwrap();
    TimeRange::new(Timestamp(from), Timestamp(from + 60 * NS))
}

#[test]
fn a_server_that_never_answers_times_out() {
    for (what, response) in [
        ("no answer at all", Response::Stall),
        (
            "headers, then no body",
            Response::HeadersThenStall {
                status: 200,
                headers: vec![(
                    "Content-Type".into(),
                    "application/json; charset=UTF-8".into(),
                )],
                content_length: 4096,
            },
        ),
    ] {
        let server = Server::start(move |_| response.clone());
        let run = run_library(
            &server.url(),
            Duration::from_secs(1),
            Cancel::default(),
            small_window(),
            Duration::from_secs(10),
        );
        assert!(
            run.elapsed < Duration::from_secs(5),
            "{what}: took {:?}",
            run.elapsed
        );
        let error = run.report.error.clone().unwrap_or_default();
        assert!(
            error.to_lowercase().contains("timed out") || error.to_lowercase().contains("timeout"),
            "{what}: the error should say it timed out: {error:?}"
        );
        assert!(!run.report.cancelled);
        assert_eq!(run.report.events, 0);
        assert_eq!(
            server.requests_to(QUERY_RANGE).len(),
            1,
            "{what}: a timeout is not retried here"
        );
        assert!(run
            .messages
            .iter()
            .all(|m| !matches!(m, SourceMessage::Batch { .. })));
    }
}

#[test]
fn cancel_during_a_429_back_off_ends_the_run_promptly() {
    let loki = recorded_loki();
    let server = Server::start(move |req| {
        if req.path != QUERY_RANGE {
            return loki(req);
        }
        Response::text(429, "too many outstanding requests").header("Retry-After", "30")
    });
    let cancel = Cancel::default();
    let canceller = cancel.clone();
    let requests = Arc::new(server);
    let watching = requests.clone();
    let cancelled_at = Arc::new(Mutex::new(None::<Instant>));
    let mark = cancelled_at.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(5);
        while watching.requests_to(QUERY_RANGE).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if !watching.requests_to(QUERY_RANGE).is_empty() {
            std::thread::sleep(Duration::from_millis(300));
            *mark.lock().unwrap() = Some(Instant::now());
            canceller.cancel();
        }
    });
    let start = Instant::now();
    let run = run_library(
        &requests.url(),
        Duration::from_secs(5),
        cancel,
        small_window(),
        Duration::from_secs(15),
    );
    let ended = Instant::now();
    let cancelled_at = cancelled_at
        .lock()
        .unwrap()
        .expect("the request arrived and cancel was called");
    let after_cancel = ended.saturating_duration_since(cancelled_at);
    assert!(run.report.cancelled, "report: {:?}", run.report);
    assert!(
        after_cancel < Duration::from_secs(1),
        "ended {after_cancel:?} after the cancel"
    );
    assert!(
        ended.duration_since(start) < Duration::from_secs(3),
        "took {:?}",
        ended.duration_since(start)
    );
    assert_eq!(
        requests.requests_to(QUERY_RANGE).len(),
        1,
        "no retry after the cancel"
    );
    assert_eq!(run.report.events, 0);
}

// ---------------------------------------------------------------------------------------------
// The fake itself

#[test]
fn the_fake_loki_pages_like_loki() {
    // Small hand-made data: three entries at one nanosecond across two streams.
    let data = Arc::new(Dataset {
        streams: vec![stream_labels("bastion-1"), stream_labels("bastion-2")],
        entries: vec![
            Entry {
                stream: 0,
                ts: 10,
                line: "a".into(),
            },
            Entry {
                stream: 0,
                ts: 20,
                line: "b".into(),
            },
            Entry {
                stream: 1,
                ts: 20,
                line: "c".into(),
            },
            Entry {
                stream: 0,
                ts: 30,
                line: "d".into(),
            },
        ],
        from: 10,
        to: 30,
    });
    let fake = FakeLoki {
        data,
        max_limit: Some(2),
        query: QUERY.into(),
    };
    let get = |path: &str, params: &[(&str, String)]| {
        let req = Request {
            method: "GET".into(),
            target: String::new(),
            path: path.into(),
            query: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            headers: Vec::new(),
            body: Vec::new(),
            at: Instant::now(),
            connection: 0,
        };
        match fake.answer(&req) {
            Response::Full { status, body, .. } => (status, String::from_utf8(body).unwrap()),
            other => panic!("{other:?}"),
        }
    };
    let page = |start: i64, limit: usize, direction: &str| {
        get(
            QUERY_RANGE,
            &[
                ("query", QUERY.into()),
                ("start", start.to_string()),
                ("end", "30".into()),
                ("limit", limit.to_string()),
                ("direction", direction.into()),
            ],
        )
    };
    let ask = |start: i64, limit: usize| page(start, limit, "forward");
    let (status, body) = ask(10, 5);
    assert_eq!(status, 400);
    assert!(body.ends_with("(5 > 2)"), "{body}");
    let (status, body) = ask(20, 2);
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    let result = v["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 2);
    assert_eq!(result[0]["values"], json!([["20", "b"]]));
    assert_eq!(result[1]["values"], json!([["20", "c"]]));
    assert_eq!(v["data"]["stats"]["summary"]["totalEntriesReturned"], 2);
    let (_, body) = ask(21, 2);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["result"], json!([]), "end is exclusive");
    // Backward: the newest first.
    let (_, body) = page(0, 2, "backward");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["result"][0]["values"], json!([["20", "b"]]));
    assert_eq!(v["data"]["result"][1]["values"], json!([["20", "c"]]));
    // Counts over (time - N s, time].
    let count = |time: i64| {
        let (status, body) = get(
            INSTANT_QUERY,
            &[
                ("query", format!("sum(count_over_time({QUERY} [1s]))")),
                ("time", time.to_string()),
            ],
        );
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap_or("0")
            .to_string()
    };
    assert_eq!(
        (count(30), count(29), count(9)),
        ("4".into(), "3".into(), "0".into())
    );
    // Paging simulation over the hand-made data: the second page starts again at 20.
    assert_eq!(pages(&fake.data, 3), vec![(10, 3), (20, 2)]);
}

#[test]
fn cancel_while_the_server_is_slow_ends_the_run_promptly() {
    // Counts are answered; the page itself never comes.
    let loki = recorded_loki();
    let server = Arc::new(Server::start(move |req| {
        if req.path == QUERY_RANGE {
            return Response::Stall;
        }
        loki(req)
    }));
    let cancel = Cancel::default();
    let canceller = cancel.clone();
    let watching = server.clone();
    let cancelled_at = Arc::new(Mutex::new(None::<Instant>));
    let mark = cancelled_at.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(5);
        while watching.requests_to(QUERY_RANGE).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(300));
        *mark.lock().unwrap() = Some(Instant::now());
        canceller.cancel();
    });
    // The default timeout, as `casefile query` and the TUI use it.
    let timeout = Endpoint::new("http://127.0.0.1").timeout;
    assert!(
        timeout >= Duration::from_secs(10),
        "the default timeout is long: {timeout:?}"
    );
    let run = run_library(
        &server.url(),
        timeout,
        cancel,
        small_window(),
        Duration::from_secs(8),
    );
    let ended = Instant::now();
    let cancelled_at = cancelled_at.lock().unwrap().expect("cancel was called");
    assert!(run.report.cancelled, "report: {:?}", run.report);
    assert!(
        ended.duration_since(cancelled_at) < Duration::from_secs(2),
        "ended {:?} after the cancel",
        ended.duration_since(cancelled_at)
    );
}

// ---------------------------------------------------------------------------------------------
// Over the budget: the newest first

/// The data set mirrored in time inside its window, so that paging backward meets the same
/// page-boundary groups that paging forward meets in the original.
fn mirrored(data: Dataset) -> Dataset {
    let (from, to) = (data.from, data.to);
    let last = data.in_window().iter().map(|e| e.ts).max().unwrap();
    let mut entries: Vec<(i64, usize, usize, Entry)> = data
        .entries
        .into_iter()
        .enumerate()
        .map(|(seq, mut e)| {
            if e.ts >= from && e.ts < to {
                e.ts = from + (last - e.ts);
            }
            (e.ts, e.stream, seq, e)
        })
        .collect();
    entries.sort_by_key(|(ts, stream, seq, _)| (*ts, *stream, *seq));
    Dataset {
        streams: data.streams,
        entries: entries.into_iter().map(|t| t.3).collect(),
        from,
        to,
    }
}

/// Backward paging as Loki allows it: the newest `limit` entries of `[from, end)`, then the
/// same again with `end` one past the oldest timestamp read, until `budget` distinct entries
/// were read or a page is short. Returns each page's `end` and the entries it returns.
fn pages_backward(data: &Dataset, limit: usize, budget: usize) -> Vec<(i64, Vec<&Entry>)> {
    let window = data.in_window();
    let mut exists: BTreeMap<(usize, i64, &str), usize> = BTreeMap::new();
    for e in &window {
        *exists.entry((e.stream, e.ts, e.line.as_str())).or_default() += 1;
    }
    let mut read: BTreeMap<(usize, i64, &str), usize> = BTreeMap::new();
    let mut out = Vec::new();
    let mut end = data.to;
    loop {
        let page: Vec<&Entry> = window
            .iter()
            .rev()
            .filter(|e| e.ts < end)
            .take(limit)
            .copied()
            .collect();
        // An entry read again at the edge is the same entry: count it once.
        let mut this_page: BTreeMap<(usize, i64, &str), usize> = BTreeMap::new();
        for e in &page {
            *this_page
                .entry((e.stream, e.ts, e.line.as_str()))
                .or_default() += 1;
        }
        for (k, n) in this_page {
            let r = read.entry(k).or_default();
            *r = (*r).max(n).min(exists[&k]);
        }
        let edge = page.iter().map(|e| e.ts).min();
        out.push((end, page));
        let full = out.last().unwrap().1.len() == limit;
        match edge {
            Some(edge) if full && read.values().sum::<usize>() < budget => end = edge + 1,
            _ => return out,
        }
    }
}

#[test]
fn over_budget_the_newest_lines_are_read_newest_first_each_once() {
    let data = Arc::new(mirrored(generate(20_000, DEFAULT_LIMIT, 0x10c3)));
    let budget = 12_000;
    let plan = pages_backward(&data, DEFAULT_LIMIT, budget);
    // The backward cuts split groups that share a nanosecond, identical lines included.
    let window = data.in_window();
    let mut split_identical = 0;
    for (_, page) in plan.iter().filter(|(_, p)| p.len() == DEFAULT_LIMIT) {
        let edge = page.last().unwrap();
        let at_edge_in_page = page.iter().filter(|e| e.ts == edge.ts).count();
        let at_edge: Vec<&&Entry> = window.iter().rev().filter(|e| e.ts == edge.ts).collect();
        if at_edge_in_page < at_edge.len() {
            let next = at_edge[at_edge_in_page];
            if next.stream == edge.stream && next.line == edge.line {
                split_identical += 1;
            }
        }
    }
    assert!(
        split_identical >= 1,
        "the data must split identical lines on a backward cut"
    );

    let server = start_fake(data.clone(), None);
    let range = TimeRange::new(Timestamp(data.from), Timestamp(data.to));
    let run = run_library_with_budget(
        &server.url(),
        Duration::from_secs(30),
        Cancel::default(),
        range,
        budget,
        Duration::from_secs(20),
    );
    assert_eq!(run.report.error, None);
    let mut got: BTreeMap<(String, i64, String), usize> = BTreeMap::new();
    for m in &run.messages {
        if let SourceMessage::Batch { events, .. } = m {
            for e in events {
                let raw: Value = serde_json::from_str(&e.raw).unwrap();
                let entry = &raw["values"][0];
                let key = (
                    raw["stream"]["host"].as_str().unwrap().to_string(),
                    entry[0].as_str().unwrap().parse::<i64>().unwrap(),
                    entry[1].as_str().unwrap().to_string(),
                );
                *got.entry(key).or_default() += 1;
            }
        }
    }
    let loaded: usize = got.values().sum();
    assert_eq!(run.report.events, loaded);
    assert!(
        loaded >= budget && loaded < budget + DEFAULT_LIMIT,
        "{loaded} loaded for a budget of {budget}"
    );
    // Each line at most once, and every line newer than the oldest loaded nanosecond loaded.
    let expected = data.expected();
    let oldest = got.keys().map(|k| k.1).min().unwrap();
    for (k, n) in &expected {
        let g = got.get(k).copied().unwrap_or(0);
        assert!(g <= *n, "loaded {g} times, exists {n} times: {k:?}");
        if k.1 > oldest {
            assert_eq!(g, *n, "missing above the oldest loaded time: {k:?}");
        }
    }
    assert!(
        got.keys().all(|k| expected.contains_key(k)),
        "only lines of the window"
    );
    // The whole window's shape comes from a count_over_time range query: every line of the
    // window is counted, loaded or not.
    let counts: Vec<_> = run
        .messages
        .iter()
        .filter_map(|m| match m {
            SourceMessage::Counts { counts, .. } => Some(counts.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(counts.len(), 1, "one histogram of the window");
    let counted: u64 = counts[0].samples.iter().map(|(_, n)| n).sum();
    let in_window = expected.values().sum::<usize>() as u64;
    // Nothing of the window is missed; only the last step may reach past the window's end.
    let step = counts[0].step_ns;
    let just_after = data
        .entries
        .iter()
        .filter(|e| e.ts >= data.to && e.ts < data.to + step)
        .count() as u64;
    assert!(
        counted >= in_window && counted <= in_window + just_after,
        "counted {counted}, the window holds {in_window} (+{just_after} within a step after it)"
    );
    // The other requests are the backward pages.
    let requests: Vec<Request> = server
        .requests_to(QUERY_RANGE)
        .into_iter()
        .filter(|r| r.param("query") == Some(QUERY))
        .collect();
    let ends: Vec<i64> = requests
        .iter()
        .map(|r| r.param("end").unwrap().parse().unwrap())
        .collect();
    assert_eq!(ends, plan.iter().map(|p| p.0).collect::<Vec<_>>());
    for r in &requests {
        assert_eq!(r.param("direction"), Some("backward"));
        assert_eq!(r.param("start"), Some(data.from.to_string().as_str()));
    }
}

#[test]
fn over_budget_the_lines_not_loaded_are_counted_exactly() {
    // A window that does not last a whole number of seconds, with lines exactly at its start
    // (inside) and exactly at its end (outside).
    let data = Arc::new(generate(6_000, DEFAULT_LIMIT, 0x10c4));
    assert!((data.to - data.from) % NS != 0);
    assert!(
        data.entries.iter().any(|e| e.ts == data.from)
            && data.entries.iter().any(|e| e.ts == data.to)
    );
    let server = start_fake(data.clone(), None);
    let range = TimeRange::new(Timestamp(data.from), Timestamp(data.to));
    let budget = 2_000;
    let run = run_library_with_budget(
        &server.url(),
        Duration::from_secs(30),
        Cancel::default(),
        range,
        budget,
        Duration::from_secs(20),
    );
    assert_eq!(run.report.error, None);
    let in_window = data.in_window().len() as u64;
    assert_eq!(
        run.report.not_loaded,
        Some(in_window - run.report.events as u64),
        "{in_window} lines in the window, {} loaded; counts asked: {:?}",
        run.report.events,
        server
            .requests_to(INSTANT_QUERY)
            .iter()
            .map(|r| r.target.clone())
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_headless_pivot_is_pushed_down_as_a_line_filter_and_still_filtered_here() {
    let server = Server::start(recorded_loki());
    let (from, to, ..) = recorded_streams();
    let all = run_casefile(
        &query_args(&server.url(), &from, &to, &[]),
        &[],
        RUN_TIMEOUT,
    );
    assert_eq!(all.code, Some(0), "{}", all.stderr);
    let key = |line: &str| {
        let v: Value = serde_json::from_str(line).unwrap();
        (v["ts"].to_string(), v["message"].to_string())
    };
    let is_ubuntu = |line: &&str| {
        let v: Value = serde_json::from_str(line).unwrap();
        v["entities"]["user"]
            .as_array()
            .is_some_and(|u| u.iter().any(|u| u == "ubuntu"))
    };
    let expected: Vec<_> = all.stdout.lines().filter(is_ubuntu).map(key).collect();
    assert!(!expected.is_empty() && expected.len() < all.stdout.lines().count());

    let pivot = run_casefile(
        &query_args(&server.url(), &from, &to, &["--pivot", "user=ubuntu"]),
        &[],
        RUN_TIMEOUT,
    );
    assert_eq!(pivot.code, Some(0), "{}", pivot.stderr);
    let got: Vec<_> = pivot.stdout.lines().map(key).collect();
    assert_eq!(got, expected);
    // The server was asked for the pivot, and the run says so.
    let narrowed = r#"{job="sshd"} |= "ubuntu""#;
    assert!(
        server
            .requests_to(QUERY_RANGE)
            .iter()
            .any(|r| r.param("query") == Some(narrowed)),
        "{}",
        pivot.stderr
    );
    assert!(
        pivot.stderr.contains(&format!("pushed down: {narrowed}")),
        "{}",
        pivot.stderr
    );
    // The line filter was chosen because no stream carries a label feeding `user`: the
    // series API was asked for the query's selector over the window first (by the run with
    // the pivot only: without one there is nothing to decide).
    let series = server.requests_to(SERIES);
    assert_eq!(series.len(), 1, "{}", pivot.stderr);
    assert_eq!(series[0].param("match[]"), Some(QUERY));
    assert_eq!(
        series[0].param("start"),
        Some(parse_rfc3339(&from).unwrap().to_string().as_str())
    );
}

// ---------------------------------------------------------------------------------------------
// Pivots on stream labels: the series API decides where a pivot goes

const API: &str = r#"{job="api"}"#;
const POD: &str = "api-7d9f-x2k4q";
/// 2026-11-22T05:40:00Z.
const API_T0: i64 = 1_795_326_000 * NS;

/// A Loki whose streams are given with their entries. `query_range` and the counts honour
/// what casefile sends: equality matchers in the selector and `|=` line filters; anything
/// else is a 400. The series API lists the streams' label sets, or fails with a 500.
struct LabelledLoki {
    streams: Vec<BTreeMap<String, String>>,
    entries: Vec<Entry>,
    series_fails: bool,
}

/// A selector's `name="value"` matchers.
type Matchers = Vec<(String, String)>;

/// `{a="x", b="y"} |= "n"` → the selector's matchers and the line filters' needles.
fn parse_logql(q: &str) -> Option<(Matchers, Vec<String>)> {
    fn string(rest: &str) -> Option<(String, &str)> {
        let mut out = String::new();
        let mut chars = rest.strip_prefix('"')?.char_indices();
        loop {
            match chars.next()? {
                (_, '\\') => out.push(chars.next()?.1),
                (i, '"') => return Some((out, &rest[i + 2..])),
                (_, c) => out.push(c),
            }
        }
    }
    let mut rest = q.trim().strip_prefix('{')?;
    let mut matchers = Vec::new();
    loop {
        let (name, after) = rest.split_once('=')?;
        let (value, after) = string(after)?;
        matchers.push((name.trim().to_string(), value));
        let after = after.trim_start();
        if let Some(after) = after.strip_prefix('}') {
            rest = after;
            break;
        }
        rest = after.strip_prefix(',')?.trim_start();
    }
    let mut needles = Vec::new();
    rest = rest.trim_start();
    while !rest.is_empty() {
        let (needle, after) = string(rest.strip_prefix("|= ")?)?;
        needles.push(needle);
        rest = after.trim_start();
    }
    Some((matchers, needles))
}

impl LabelledLoki {
    /// The entries a query selects, in time order.
    fn selected(&self, q: &str) -> Option<Vec<&Entry>> {
        let (matchers, needles) = parse_logql(q)?;
        Some(
            self.entries
                .iter()
                .filter(|e| {
                    let labels = &self.streams[e.stream];
                    matchers
                        .iter()
                        .all(|(k, v)| labels.get(k).is_some_and(|l| l == v))
                        && e.passes(&needles)
                })
                .collect(),
        )
    }

    fn answer(&self, req: &Request) -> Response {
        let q = req.param("query").unwrap_or_default();
        match req.path.as_str() {
            SERIES if self.series_fails => Response::text(500, "internal server error\n"),
            SERIES if req.param("match[]") == Some(API) && req.param("start").is_some() => {
                series_response(&self.streams)
            }
            QUERY_RANGE => {
                let Some(selected) = self.selected(q) else {
                    return Response::text(400, format!("fake Loki: unexpected query {q:?}"));
                };
                let num = |name: &str| req.param(name).and_then(|v| v.parse::<i64>().ok());
                let (Some(start), Some(end)) = (num("start"), num("end")) else {
                    return Response::text(400, "fake Loki: start and end are nanoseconds");
                };
                let page: Vec<&Entry> = selected
                    .into_iter()
                    .filter(|e| e.ts >= start && e.ts < end)
                    .collect();
                streams_response(&self.streams, &page)
            }
            INSTANT_QUERY => {
                // sum(count_over_time(QUERY [Nms])) at `time`.
                let counted = q
                    .strip_prefix("sum(count_over_time(")
                    .and_then(|r| r.strip_suffix("ms]))"))
                    .and_then(|r| r.rsplit_once(" ["))
                    .and_then(|(sel, ms)| Some((self.selected(sel)?, ms.parse::<i64>().ok()?)));
                let time = req.param("time").and_then(|t| t.parse::<i64>().ok());
                let (Some((selected, ms)), Some(time)) = (counted, time) else {
                    return Response::text(400, format!("fake Loki: unexpected count {q:?}"));
                };
                let range = ms * 1_000_000;
                let n = selected
                    .iter()
                    .filter(|e| e.ts > time - range && e.ts <= time)
                    .count();
                count_response(time, n)
            }
            _ => not_found(),
        }
    }
}

/// The other pod of the api.
const OTHER_POD: &str = "api-7d9f-zz9pl";

/// Where a stream of the api has a pod: as its label (its lines never name it, as real
/// application logs), or named in its lines (logfmt `pod=…`, as a proxy's access log).
#[derive(Clone, Copy)]
enum PodIn {
    Label(&'static str),
    Line(&'static str),
}

/// Two streams of the api, five lines each.
fn labelled_data(pods: [PodIn; 2], series_fails: bool) -> LabelledLoki {
    let mut streams = Vec::new();
    let mut entries = Vec::new();
    for (s, pod) in pods.iter().enumerate() {
        let mut labels: BTreeMap<String, String> = [("job", "api"), ("namespace", "prod")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let PodIn::Label(pod) = pod {
            labels.insert("pod".into(), pod.to_string());
        }
        streams.push(labels);
        for i in 0..5 {
            let line = match pod {
                PodIn::Label(_) => format!("level=info msg=\"GET /orders/{i} 200\""),
                PodIn::Line(pod) => format!("level=info pod={pod} msg=\"GET /orders/{i} 200\""),
            };
            entries.push(Entry {
                stream: s,
                ts: API_T0 + (i * 2 + s as i64) * NS,
                line,
            });
        }
    }
    entries.sort_by_key(|e| (e.ts, e.stream));
    LabelledLoki {
        streams,
        entries,
        series_fails,
    }
}

fn labelled_loki(pods: [PodIn; 2], series_fails: bool) -> Server {
    let fake = labelled_data(pods, series_fails);
    Server::start(move |req| fake.answer(req))
}

fn api_query(server: &Server, pivot: Option<&str>) -> Run {
    let (from, to) = (rfc3339_nanos(API_T0 - NS), rfc3339_nanos(API_T0 + 60 * NS));
    let url = server.url();
    let mut args = vec![
        "query", "--loki", &url, "--logql", API, "--from", &from, "--to", &to, "--format", "jsonl",
    ];
    if let Some(p) = pivot {
        args.extend(["--pivot", p]);
    }
    run_casefile(&args, &[], RUN_TIMEOUT)
}

/// (ts, message) of each line of a jsonl run, and whether it carries the pod.
fn api_events(run: &Run) -> Vec<(String, String, bool)> {
    run.stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let has_pod = v["entities"]["pod"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p == POD));
            (v["ts"].to_string(), v["message"].to_string(), has_pod)
        })
        .collect()
}

/// Each run with the pivot returns what the run without it returns for the pod: the
/// push-down saved work or none, and changed nothing.
fn check_pivot_keeps_every_event(server: &Server, expected_len: usize) -> Run {
    let all = api_query(server, None);
    assert_eq!(all.code, Some(0), "{}", all.stderr);
    let expected: Vec<_> = api_events(&all).into_iter().filter(|e| e.2).collect();
    assert_eq!(expected.len(), expected_len, "{}", all.stdout);
    let pivot = api_query(server, Some(&format!("pod={POD}")));
    assert_eq!(pivot.code, Some(0), "{}", pivot.stderr);
    assert_eq!(api_events(&pivot), expected, "{}", pivot.stderr);
    pivot
}

fn ranges_asked(server: &Server) -> Vec<String> {
    server
        .requests_to(QUERY_RANGE)
        .iter()
        .filter_map(|r| r.param("query").map(str::to_string))
        .filter(|q| !q.starts_with("sum("))
        .collect()
}

#[test]
fn a_pivot_on_a_label_every_stream_carries_goes_into_the_selector() {
    let fake = labelled_data([PodIn::Label(POD), PodIn::Label(OTHER_POD)], false);
    // A line filter would find nothing: the lines never name their pod.
    let line_filter = format!("{API} |= \"{POD}\"");
    assert_eq!(fake.selected(&line_filter).map(|v| v.len()), Some(0));
    assert_eq!(fake.selected(API).map(|v| v.len()), Some(10));
    let server = Server::start(move |req| fake.answer(req));
    let pivot = check_pivot_keeps_every_event(&server, 5);
    let narrowed = format!("{{job=\"api\", pod=\"{POD}\"}}");
    assert!(
        pivot.stderr.contains(&format!("pushed down: {narrowed}")),
        "{}",
        pivot.stderr
    );
    assert_eq!(ranges_asked(&server), [API.to_string(), narrowed]);
    let series = server.requests_to(SERIES);
    assert_eq!(series.len(), 1, "asked once, for the run with the pivot");
    assert_eq!(series[0].param("match[]"), Some(API));
}

#[test]
fn a_pivot_no_stream_carries_as_a_label_is_a_line_filter() {
    let server = labelled_loki([PodIn::Line(POD), PodIn::Line(OTHER_POD)], false);
    let pivot = check_pivot_keeps_every_event(&server, 5);
    let narrowed = format!("{API} |= \"{POD}\"");
    assert!(
        pivot.stderr.contains(&format!("pushed down: {narrowed}")),
        "{}",
        pivot.stderr
    );
    assert_eq!(ranges_asked(&server), [API.to_string(), narrowed]);
}

#[test]
fn a_pivot_some_streams_carry_as_a_label_is_filtered_here() {
    // The first stream has the pod as a label, the second names it in its lines: neither a
    // matcher nor a line filter keeps both.
    let server = labelled_loki([PodIn::Label(POD), PodIn::Line(POD)], false);
    let pivot = check_pivot_keeps_every_event(&server, 10);
    assert!(
        pivot.stderr.contains(&format!(
            "nothing pushed down: pod={POD} filtered here: label `pod` is on 1 of 2 streams"
        )),
        "{}",
        pivot.stderr
    );
    assert_eq!(ranges_asked(&server), [API, API]);
}

#[test]
fn when_the_series_api_fails_a_label_fed_pivot_is_filtered_here() {
    let server = labelled_loki([PodIn::Label(POD), PodIn::Label(OTHER_POD)], true);
    let pivot = check_pivot_keeps_every_event(&server, 5);
    assert!(
        pivot.stderr.contains(&format!(
            "nothing pushed down: pod={POD} filtered here: stream labels unknown (HTTP 500"
        )),
        "{}",
        pivot.stderr
    );
    // The source itself did not fail: the whole window was read and filtered here.
    assert_eq!(ranges_asked(&server), [API, API]);
    assert_eq!(server.requests_to(SERIES).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// TLS failures: certificates made in the test, served on loopback

#[test]
fn tls_failures_name_the_certificate_problem_and_a_trusted_certificate_gets_through() {
    let (from, to, ..) = recorded_streams();
    support::tls_server::check_client("LOKI_CA_CERT_PATH", |url, env| {
        run_casefile(&query_args(url, &from, &to, &[]), env, RUN_TIMEOUT)
    });
}
