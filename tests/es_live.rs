//! Elasticsearch and OpenSearch over HTTP (SPEC §5, issue 3): the real `casefile query` binary
//! against a fake cluster on loopback that answers with the upstream example payloads in
//! tests/fixtures/elasticsearch (PIT open/close, OpenSearch PIT create/delete, error envelopes,
//! a partial shard failure) and pages generated ECS documents the way a cluster does.
//!
//! The fake honours the search body the way Elasticsearch does: `size`, the `@timestamp` range
//! (`gte`/`lt`, also for `_count`), the sort on `@timestamp` then a tiebreaker (both `asc` or both `desc`) (`_shard_doc` only inside a point in
//! time, else `_doc`), `search_after` (strictly after), `pit.id` (only the newest id returned is
//! accepted), `track_total_hits: false` (no `hits.total`), and the sort's `format` (a formatted
//! date in `sort` when asked for, epoch milliseconds otherwise). Expectations are computed from
//! the generated documents and the fixtures.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod support;
use support::http_server::{
    base64, fixture, parse_rfc3339, refused_url, rfc3339_millis, rfc3339_nanos, run_casefile,
    Request, Response, Rng, Run, Server,
};

const INDEX: &str = "logs-*";
const ES_QUERY: &str = "event.dataset:system.auth";
const PAGE: usize = 1_000;
const RUN_TIMEOUT: Duration = Duration::from_secs(30);
const MS: i64 = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Generated documents

#[derive(Debug, Clone)]
struct Doc {
    id: String,
    index: String,
    ts_ms: i64,
    /// Position in generation order (also `_doc` in the fake's single-shard `_doc` order).
    seq: u64,
    source: Value,
}

impl Doc {
    /// Elasticsearch's `_shard_doc`: shard index in the high 32 bits, Lucene doc id below.
    fn shard_doc(&self) -> u64 {
        ((self.seq % 2) << 32) | (self.seq / 2)
    }
}

struct Docs {
    docs: Vec<Doc>,
    from_ns: i64,
    to_ns: i64,
}

impl Docs {
    fn in_window(&self) -> Vec<&Doc> {
        self.docs
            .iter()
            .filter(|d| d.ts_ms * MS >= self.from_ns && d.ts_ms * MS < self.to_ns)
            .collect()
    }
}

fn ecs_doc(rng: &mut Rng, ts_ms: i64, seq: u64) -> Doc {
    let users = ["root", "ubuntu", "deploy", "postgres", "mallory"];
    let user = *rng.pick(&users);
    let host = *rng.pick(&["bastion-1", "bastion-2"]);
    let port = rng.range(30_000, 65_000);
    let pid = rng.range(30_000, 60_000);
    let (outcome, message) = if rng.chance(85) {
        (
            "failure",
            format!("Failed password for {user} from 203.0.113.45 port {port} ssh2"),
        )
    } else {
        (
            "success",
            format!("Accepted password for {user} from 203.0.113.45 port {port} ssh2"),
        )
    };
    let day = &rfc3339_millis(ts_ms)[..10].replace('-', ".");
    Doc {
        id: format!("doc-{seq:05}-{:08x}", rng.next_u64() as u32),
        index: format!(".ds-logs-system.auth-default-{day}-000001"),
        ts_ms,
        seq,
        source: json!({
            "@timestamp": rfc3339_millis(ts_ms),
            "event": {"kind": "event", "category": ["authentication"], "action": "ssh_login",
                      "outcome": outcome, "dataset": "system.auth"},
            "host": {"name": host},
            "user": {"name": user},
            "source": {"ip": "203.0.113.45", "port": port},
            "process": {"name": "sshd", "pid": pid},
            "message": message,
            "ecs": {"version": "8.11.0"}
        }),
    }
}

/// `n` documents in the window (plus some before it and at its end), many sharing a
/// millisecond, with such groups straddling every page cut.
fn generate(n: usize, seed: u64) -> Docs {
    let mut rng = Rng::new(seed);
    let from_ms = parse_rfc3339("2026-11-22T05:23:00Z").unwrap() / MS;
    let mut docs = Vec::new();
    let mut seq = 0u64;
    for k in (1..=3).rev() {
        docs.push(ecs_doc(&mut rng, from_ms - k * 1000, seq));
        seq += 1;
    }
    let mut ts = from_ms;
    let mut i = 0;
    while i < n {
        // A group of 7 sharing one millisecond across each page cut, 3 before and 4 after.
        let next_cut = (i / PAGE + 1) * PAGE;
        let size = if next_cut - i == 3 && next_cut + 4 <= n {
            7
        } else if rng.chance(70) {
            1
        } else {
            (rng.range(2, 4) as usize).min(next_cut - i).min(n - i)
        };
        for _ in 0..size {
            docs.push(ecs_doc(&mut rng, ts, seq));
            seq += 1;
        }
        i += size;
        ts += rng.range(1, 400) as i64;
    }
    let to_ms = ts + 5;
    // At the window's end (exclusive) and after.
    for t in [to_ms, to_ms, to_ms + 1000] {
        docs.push(ecs_doc(&mut rng, t, seq));
        seq += 1;
    }
    Docs {
        docs,
        from_ns: from_ms * MS,
        to_ns: to_ms * MS,
    }
}

// ---------------------------------------------------------------------------------------------
// The fake cluster

#[derive(Debug, Clone, Copy, PartialEq)]
enum Flavor {
    /// `POST /INDEX/_pit` → `{"id"}`, `DELETE /_pit`.
    Elasticsearch,
    /// `POST /INDEX/_pit` answers this status; `POST /INDEX/_search/point_in_time` →
    /// `{"pit_id"}`, `DELETE /_search/point_in_time`.
    OpenSearch { es_pit_status: u16 },
    /// Both PIT APIs answer the 403 of a role without the privilege.
    NoPit,
}

#[derive(Default)]
struct State {
    /// The newest PIT id handed out, while open.
    pit: Option<String>,
    searches: usize,
    /// Each search answer, in order.
    answers: Vec<Value>,
}

struct FakeCluster {
    docs: Arc<Docs>,
    flavor: Flavor,
    state: Mutex<State>,
}

fn json_response(status: u16, body: impl Into<Vec<u8>>) -> Response {
    Response::json(status, body)
}

/// An Elasticsearch error envelope (synthesized, in the shape of the fixtures' envelopes).
fn es_error(status: u16, kind: &str, reason: &str) -> Response {
    json_response(
        status,
        json!({"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
               "status": status})
        .to_string(),
    )
}

/// What Elasticsearch and OpenSearch answer for a path no handler serves (synthesized).
fn no_handler(status: u16, req: &Request) -> Response {
    json_response(
        status,
        json!({"error": format!("no handler found for uri [{}] and method [{}]", req.target, req.method),
               "status": status})
        .to_string(),
    )
}

/// The `@timestamp` range of a query's bool filter, `[gte, lt)` in nanoseconds.
fn time_range(query: &Value) -> (i64, i64) {
    let (mut gte, mut lt) = (i64::MIN, i64::MAX);
    for f in query["bool"]["filter"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        if let Some(r) = f["range"].get("@timestamp") {
            let t = |k: &str| r[k].as_str().and_then(parse_rfc3339);
            gte = t("gte").unwrap_or(gte);
            lt = t("lt").unwrap_or(lt);
        }
    }
    (gte, lt)
}

fn recorded(name: &str) -> Value {
    serde_json::from_str(&fixture(&format!("elasticsearch/{name}"))).unwrap()
}

impl FakeCluster {
    fn new(docs: Arc<Docs>, flavor: Flavor) -> FakeCluster {
        FakeCluster {
            docs,
            flavor,
            state: Mutex::new(State::default()),
        }
    }

    fn answer(&self, req: &Request) -> Response {
        let index_pit = format!("/{INDEX}/_pit");
        let index_os_pit = format!("/{INDEX}/_search/point_in_time");
        let index_search = format!("/{INDEX}/_search");
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", p) if p == index_pit => match self.flavor {
                Flavor::Elasticsearch => {
                    if req.param("keep_alive").is_none() {
                        return es_error(
                            400,
                            "action_request_validation_exception",
                            "Validation Failed: 1: [keep_alive] is not specified;",
                        );
                    }
                    let body = fixture("elasticsearch/pit_open_response.json");
                    self.state.lock().unwrap().pit = Some(
                        recorded("pit_open_response.json")["id"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                    );
                    json_response(200, body)
                }
                Flavor::OpenSearch { es_pit_status } => no_handler(es_pit_status, req),
                Flavor::NoPit => json_response(
                    403,
                    fixture("elasticsearch/opensearch_error_403_security_exception_ccs.json"),
                ),
            },
            ("POST", p) if p == index_os_pit => match self.flavor {
                Flavor::OpenSearch { .. } => {
                    if req.param("keep_alive").is_none() {
                        return es_error(
                            400,
                            "action_request_validation_exception",
                            "Validation Failed: 1: keep alive not specified;",
                        );
                    }
                    let body = fixture("elasticsearch/opensearch_pit_create_response.json");
                    self.state.lock().unwrap().pit = Some(
                        recorded("opensearch_pit_create_response.json")["pit_id"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                    );
                    json_response(200, body)
                }
                Flavor::NoPit => json_response(
                    403,
                    fixture("elasticsearch/opensearch_error_403_security_exception_ccs.json"),
                ),
                Flavor::Elasticsearch => no_handler(405, req),
            },
            ("POST" | "GET", "/_search") => self.search(req, true),
            ("POST" | "GET", p) if p == index_search => self.search(req, false),
            ("POST" | "GET", p) if p == format!("/{INDEX}/_count") => {
                let (gte, lt) = time_range(&req.json()["query"]);
                let n = self
                    .docs
                    .docs
                    .iter()
                    .filter(|d| d.ts_ms * MS >= gte && d.ts_ms * MS < lt)
                    .count();
                let mut answer = recorded("count_response.json");
                answer["count"] = json!(n);
                json_response(200, answer.to_string())
            }
            ("DELETE", "/_pit") if self.flavor == Flavor::Elasticsearch => {
                let mut state = self.state.lock().unwrap();
                let id = req.json()["id"].as_str().map(str::to_string);
                if id.is_none() || id != state.pit {
                    return es_error(
                        404,
                        "search_context_missing_exception",
                        "No search context found for id",
                    );
                }
                state.pit = None;
                json_response(200, fixture("elasticsearch/pit_close_response.json"))
            }
            ("DELETE", "/_search/point_in_time")
                if matches!(self.flavor, Flavor::OpenSearch { .. }) =>
            {
                let mut state = self.state.lock().unwrap();
                let ids = req.json()["pit_id"].clone();
                if ids != json!([state.pit.clone()]) {
                    return es_error(404, "illegal_argument_exception", "pit_id not found");
                }
                state.pit = None;
                json_response(
                    200,
                    fixture("elasticsearch/opensearch_pit_delete_response.json"),
                )
            }
            _ => no_handler(400, req),
        }
    }

    /// `size: 0` with a `date_histogram` on `@timestamp`: buckets of `fixed_interval` over the
    /// documents in the asked range, shaped as Elasticsearch answers.
    fn date_histogram(&self, body: &Value, aggs: &Value) -> Response {
        let (gte, lt) = time_range(&body["query"]);
        let interval = aggs["t"]["date_histogram"]["fixed_interval"]
            .as_str()
            .unwrap_or("");
        let Some(step_ms) = interval
            .strip_suffix("ms")
            .and_then(|n| n.parse::<i64>().ok())
        else {
            return es_error(
                400,
                "illegal_argument_exception",
                "fake: fixed_interval in ms only",
            );
        };
        let mut buckets: std::collections::BTreeMap<i64, u64> = Default::default();
        for d in self
            .docs
            .docs
            .iter()
            .filter(|d| d.ts_ms * MS >= gte && d.ts_ms * MS < lt)
        {
            *buckets
                .entry(d.ts_ms.div_euclid(step_ms) * step_ms)
                .or_default() += 1;
        }
        let buckets: Vec<Value> = buckets
            .into_iter()
            .map(|(key, n)| json!({"key": key, "doc_count": n}))
            .collect();
        let mut answer = recorded("search_response_basic.json");
        answer["hits"]["hits"] = json!([]);
        answer["aggregations"] = json!({"t": {"buckets": buckets}});
        json_response(200, answer.to_string())
    }

    fn search(&self, req: &Request, with_pit: bool) -> Response {
        let body = req.json();
        if let Some(aggs) = body.get("aggs") {
            return self.date_histogram(&body, aggs);
        }
        let mut state = self.state.lock().unwrap();
        if with_pit {
            let id = body["pit"]["id"].as_str();
            if id.is_none() || id != state.pit.as_deref() {
                return es_error(
                    404,
                    "search_context_missing_exception",
                    &format!("No search context found for id [{id:?}]"),
                );
            }
        } else if body.get("pit").is_some() {
            return es_error(
                400,
                "action_request_validation_exception",
                "[indices] cannot be used with point in time",
            );
        }
        // Sort: @timestamp asc, then a tiebreaker.
        let sort = body["sort"].as_array().cloned().unwrap_or_default();
        let ts_sort = &sort
            .first()
            .map(|s| s["@timestamp"].clone())
            .unwrap_or(Value::Null);
        let order = ts_sort["order"].as_str().unwrap_or_default().to_string();
        let same_order = sort
            .get(1)
            .and_then(Value::as_object)
            .and_then(|o| o.values().next())
            == Some(&json!(order));
        if ts_sort.is_null()
            || !(order == "asc" || order == "desc")
            || sort.len() != 2
            || !same_order
        {
            return es_error(
                400,
                "illegal_argument_exception",
                "fake: sort must be [@timestamp ORDER, tiebreaker ORDER]",
            );
        }
        let descending = order == "desc";
        let formatted = ts_sort.get("format").is_some();
        let tiebreaker = sort[1]
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .unwrap_or_default();
        let key = |d: &Doc| match tiebreaker.as_str() {
            "_shard_doc" => d.shard_doc(),
            _ => d.seq,
        };
        match tiebreaker.as_str() {
            "_shard_doc" if !with_pit => {
                return es_error(
                    400,
                    "illegal_argument_exception",
                    "[_shard_doc] sort field cannot be used without [point in time]",
                );
            }
            "_shard_doc" | "_doc" => {}
            _ => {
                return es_error(
                    400,
                    "illegal_argument_exception",
                    "fake: unknown tiebreaker",
                )
            }
        }
        let (gte, lt) = time_range(&body["query"]);
        let after = match body.get("search_after") {
            None => None,
            Some(a) => {
                let ts = match &a[0] {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => parse_rfc3339(s).map(|ns| ns / MS),
                    _ => None,
                };
                match (ts, a[1].as_u64()) {
                    (Some(ts), Some(tb)) if a.as_array().map(Vec::len) == Some(2) => Some((ts, tb)),
                    _ => {
                        return es_error(
                            400,
                            "illegal_argument_exception",
                            &format!("fake: bad search_after {a}"),
                        )
                    }
                }
            }
        };
        let size = body["size"].as_u64().unwrap_or(10) as usize;
        let mut hits: Vec<&Doc> = self
            .docs
            .docs
            .iter()
            .filter(|d| d.ts_ms * MS >= gte && d.ts_ms * MS < lt)
            .filter(|d| {
                after.is_none_or(|a| {
                    if descending {
                        (d.ts_ms, key(d)) < a
                    } else {
                        (d.ts_ms, key(d)) > a
                    }
                })
            })
            .collect();
        hits.sort_by_key(|d| (d.ts_ms, key(d)));
        if descending {
            hits.reverse();
        }
        hits.truncate(size);
        let hits: Vec<Value> = hits
            .iter()
            .map(|d| {
                let ts = if formatted { json!(rfc3339_millis(d.ts_ms)) } else { json!(d.ts_ms) };
                json!({"_index": d.index, "_id": d.id, "_score": null, "_source": d.source, "sort": [ts, key(d)]})
            })
            .collect();
        // The envelope of search_response_basic.json; `pit_id` as in the PIT docs' response.
        let mut answer = recorded("search_response_basic.json");
        answer["timed_out"] = json!(false);
        answer["hits"]["max_score"] = Value::Null;
        answer["hits"]["total"] = json!({"value": hits.len(), "relation": "eq"});
        if body["track_total_hits"] == json!(false) {
            answer["hits"].as_object_mut().unwrap().remove("total");
        }
        answer["hits"]["hits"] = Value::Array(hits);
        state.searches += 1;
        if with_pit {
            // Elasticsearch may hand out a new id with each answer; the newest must be used.
            let id = match self.flavor {
                Flavor::Elasticsearch => {
                    let base = recorded("pit_open_response.json")["id"]
                        .as_str()
                        .unwrap()
                        .trim_end_matches('=')
                        .to_string();
                    format!("{base}{}A=", state.searches)
                }
                _ => state.pit.clone().unwrap(),
            };
            let mut with_id = json!({"pit_id": id});
            for (k, v) in answer.as_object().unwrap() {
                with_id[k] = v.clone();
            }
            answer = with_id;
            state.pit = Some(id);
        }
        state.answers.push(answer.clone());
        json_response(200, answer.to_string())
    }
}

fn start(docs: Arc<Docs>, flavor: Flavor) -> (Server, Arc<FakeCluster>) {
    let fake = Arc::new(FakeCluster::new(docs, flavor));
    let f = fake.clone();
    (Server::start(move |req| f.answer(req)), fake)
}

// ---------------------------------------------------------------------------------------------
// Running casefile

fn run_es(url: &str, docs: &Docs, env: &[(&str, &str)]) -> Run {
    let (from, to) = (rfc3339_nanos(docs.from_ns), rfc3339_nanos(docs.to_ns));
    let args = [
        "query",
        "--es",
        url,
        "--es-index",
        INDEX,
        "--es-query",
        ES_QUERY,
        "--from",
        &from,
        "--to",
        &to,
    ];
    run_casefile(&args, env, RUN_TIMEOUT)
}

/// The `_id`s on stdout (from each line's raw hit), checking each line against its document.
fn received_ids(run: &Run, docs: &Docs) -> BTreeMap<String, usize> {
    let by_id: BTreeMap<&str, &Doc> = docs.docs.iter().map(|d| (d.id.as_str(), d)).collect();
    let mut m = BTreeMap::new();
    for line in run.stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["source"], "elasticsearch", "{line}");
        let id = v["raw"]["_id"]
            .as_str()
            .unwrap_or_else(|| panic!("raw hit without _id: {line}"));
        let doc = by_id
            .get(id)
            .unwrap_or_else(|| panic!("unknown document {id}"));
        assert_eq!(v["ts"], rfc3339_nanos(doc.ts_ms * MS), "{line}");
        assert_eq!(v["message"], doc.source["message"], "{line}");
        *m.entry(id.to_string()).or_default() += 1;
    }
    m
}

fn assert_each_once(run: &Run, docs: &Docs) {
    let got = received_ids(run, docs);
    let expected: Vec<&str> = docs.in_window().iter().map(|d| d.id.as_str()).collect();
    let missing: Vec<&&str> = expected
        .iter()
        .filter(|id| !got.contains_key(**id))
        .collect();
    let doubled: Vec<(&String, &usize)> = got.iter().filter(|(_, n)| **n > 1).collect();
    let extra: Vec<&String> = got
        .keys()
        .filter(|id| !expected.contains(&id.as_str()))
        .collect();
    assert!(
        missing.is_empty() && doubled.is_empty() && extra.is_empty(),
        "{} expected, {} lines: {} missing (first {:?}), {} doubled (first {:?}), {} outside the window (first {:?})",
        expected.len(),
        run.stdout.lines().count(),
        missing.len(),
        missing.first(),
        doubled.len(),
        doubled.first(),
        extra.len(),
        extra.first()
    );
}

/// How many pages `search_after` needs: full pages, then one shorter (maybe empty) page.
fn pages_needed(n: usize) -> usize {
    n / PAGE + 1
}

/// Every request but counts (`_count`), which casefile may send before paging.
fn paging_requests(server: &Server) -> Vec<Request> {
    server
        .requests()
        .into_iter()
        .filter(|r| !r.path.ends_with("/_count"))
        .collect()
}

/// The paging searches (not the date_histogram asked for the shape of a big window).
fn searches(server: &Server) -> Vec<Request> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/_search") && r.json().get("aggs").is_none())
        .collect()
}

/// Each search asks for the window and query given, and carries the previous answer's last
/// `sort` as `search_after` (none on the first).
fn check_search_chain(searches: &[Request], answers: &[Value], docs: &Docs) {
    assert_eq!(searches.len(), answers.len());
    for (k, s) in searches.iter().enumerate() {
        let body = s.json();
        assert_eq!(body["size"], json!(PAGE), "page size");
        let filters = body["query"]["bool"]["filter"]
            .as_array()
            .expect("bool filter")
            .clone();
        let range = filters
            .iter()
            .find_map(|f| f["range"].get("@timestamp"))
            .expect("a range on @timestamp");
        assert_eq!(
            range["gte"].as_str().and_then(parse_rfc3339),
            Some(docs.from_ns),
            "{range}"
        );
        assert_eq!(
            range["lt"].as_str().and_then(parse_rfc3339),
            Some(docs.to_ns),
            "{range}"
        );
        assert!(
            filters
                .iter()
                .any(|f| f["query_string"]["query"] == ES_QUERY),
            "--es-query is pushed to the cluster: {body}"
        );
        if k == 0 {
            assert!(body.get("search_after").is_none(), "first page: {body}");
        } else {
            let last = answers[k - 1]["hits"]["hits"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()["sort"]
                .clone();
            assert_eq!(
                body["search_after"], last,
                "page {k} continues after the previous page's last hit"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Elasticsearch: point in time and search_after

#[test]
fn elasticsearch_pit_paging_delivers_each_document_once_and_closes_the_newest_pit() {
    let docs = Arc::new(generate(2_500, 0xe5));
    let (server, fake) = start(docs.clone(), Flavor::Elasticsearch);
    let run = run_es(&server.url(), &docs, &[]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.trim().is_empty(),
        "no diagnostics expected:\n{}",
        run.stderr
    );
    assert_each_once(&run, &docs);

    // casefile may first ask how many documents the window holds; then it pages.
    for c in server.requests_to(&format!("/{INDEX}/_count")) {
        assert_eq!(
            time_range(&c.json()["query"]),
            (docs.from_ns, docs.to_ns),
            "{}",
            c.text()
        );
    }
    let requests = paging_requests(&server);
    let opened = &requests[0];
    assert_eq!(
        (opened.method.as_str(), opened.path.as_str()),
        ("POST", "/logs-*/_pit")
    );
    assert_eq!(opened.param("keep_alive"), Some("2m"));
    let state = fake.state.lock().unwrap();
    let searches = searches(&server);
    assert_eq!(searches.len(), pages_needed(docs.in_window().len()));
    assert_eq!(searches.len(), 3);
    check_search_chain(&searches, &state.answers, &docs);
    let open_id = recorded("pit_open_response.json")["id"].clone();
    for (k, s) in searches.iter().enumerate() {
        assert_eq!(
            (s.method.as_str(), s.path.as_str()),
            ("POST", "/_search"),
            "with a PIT the index is not in the path"
        );
        let body = s.json();
        let expected_id = if k == 0 {
            open_id.clone()
        } else {
            state.answers[k - 1]["pit_id"].clone()
        };
        assert_eq!(
            body["pit"]["id"], expected_id,
            "page {k} uses the newest PIT id"
        );
        assert_eq!(
            body["sort"][1],
            json!({"_shard_doc": "asc"}),
            "PIT tiebreaker"
        );
    }
    let close = requests.last().unwrap();
    assert_eq!(
        (close.method.as_str(), close.path.as_str()),
        ("DELETE", "/_pit")
    );
    assert_eq!(
        close.json(),
        json!({"id": state.answers.last().unwrap()["pit_id"]})
    );
    assert!(state.pit.is_none(), "the PIT was closed");
    assert_eq!(requests.len(), 1 + searches.len() + 1);
    for r in &requests {
        assert_eq!(
            r.header("Authorization"),
            None,
            "no credentials were configured"
        );
    }
    assert!(server.handler_panics().is_empty());
}

// ---------------------------------------------------------------------------------------------
// 2. OpenSearch's point in time

#[test]
fn opensearch_point_in_time_is_found_used_and_deleted() {
    let docs = Arc::new(generate(1_200, 0x05));
    for es_pit_status in [404, 400] {
        let (server, fake) = start(docs.clone(), Flavor::OpenSearch { es_pit_status });
        let run = run_es(&server.url(), &docs, &[]);
        assert_eq!(
            run.code,
            Some(0),
            "POST /_pit → {es_pit_status}; stderr:\n{}",
            run.stderr
        );
        assert_each_once(&run, &docs);
        let requests = paging_requests(&server);
        let paths: Vec<(&str, &str)> = requests
            .iter()
            .map(|r| (r.method.as_str(), r.path.as_str()))
            .collect();
        let searches = searches(&server);
        let mut expected = vec![
            ("POST", "/logs-*/_pit"),
            ("POST", "/logs-*/_search/point_in_time"),
        ];
        expected.extend(std::iter::repeat_n(
            ("POST", "/_search"),
            pages_needed(docs.in_window().len()),
        ));
        expected.push(("DELETE", "/_search/point_in_time"));
        assert_eq!(paths, expected, "POST /_pit → {es_pit_status}");
        assert_eq!(requests[1].param("keep_alive"), Some("2m"));
        let pit_id = recorded("opensearch_pit_create_response.json")["pit_id"].clone();
        for s in &searches {
            assert_eq!(s.json()["pit"]["id"], pit_id);
        }
        let state = fake.state.lock().unwrap();
        check_search_chain(&searches, &state.answers, &docs);
        assert_eq!(requests.last().unwrap().json(), json!({"pit_id": [pit_id]}));
        assert!(state.pit.is_none(), "the PIT was deleted");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. No point in time allowed

#[test]
fn without_pit_privileges_paging_falls_back_to_search_after_on_the_index() {
    let docs = Arc::new(generate(1_500, 0x403));
    let (server, fake) = start(docs.clone(), Flavor::NoPit);
    let run = run_es(&server.url(), &docs, &[]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_each_once(&run, &docs);
    let requests = paging_requests(&server);
    let searches = searches(&server);
    assert_eq!(searches.len(), pages_needed(docs.in_window().len()));
    for s in &searches {
        assert_eq!(
            (s.method.as_str(), s.path.as_str()),
            ("POST", "/logs-*/_search")
        );
        assert!(s.json().get("pit").is_none());
    }
    check_search_chain(&searches, &fake.state.lock().unwrap().answers, &docs);
    assert!(
        requests.iter().all(|r| r.method != "DELETE"),
        "nothing to close"
    );
    assert_eq!(
        requests.len(),
        2 + searches.len(),
        "two refused PIT attempts, then the pages"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Errors

fn envelope_words(name: &str) -> String {
    let v = recorded(name);
    let cause = &v["error"]["root_cause"][0];
    format!(
        "{}: {}",
        cause["type"].as_str().unwrap(),
        cause["reason"].as_str().unwrap()
    )
}

fn assert_source_failed(run: &Run, server: &Server, words: &str) {
    assert_eq!(
        run.code,
        Some(3),
        "a failed source exits 3; stderr:\n{}",
        run.stderr
    );
    let prefix = format!("casefile: {}: ", server.host_port());
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no `{prefix}…` line on stderr:\n{}", run.stderr));
    assert!(line.contains(words), "`{words}` is missing from: {line}");
}

#[test]
fn a_400_shows_the_root_cause_and_the_pit_is_still_closed() {
    let docs = Arc::new(generate(300, 0x400));
    let fake = Arc::new(FakeCluster::new(docs.clone(), Flavor::Elasticsearch));
    let f = fake.clone();
    let server = Server::start(move |req| {
        if req.path == "/_search" {
            return json_response(
                400,
                fixture("elasticsearch/error_400_illegal_argument_exception.json"),
            );
        }
        f.answer(req)
    });
    let run = run_es(&server.url(), &docs, &[]);
    assert_source_failed(
        &run,
        &server,
        &envelope_words("error_400_illegal_argument_exception.json"),
    );
    assert!(run.stdout.is_empty());
    let last = server.requests().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("DELETE", "/_pit"),
        "the PIT is closed after a failure"
    );
    assert!(fake.state.lock().unwrap().pit.is_none());
}

#[test]
fn a_401_shows_the_security_exception() {
    let docs = Arc::new(generate(10, 0x401));
    let capture = fixture("elasticsearch/error_401_security_exception_es7_capture.http.txt");
    let www = capture
        .lines()
        .find_map(|l| {
            l.trim_start_matches("< ")
                .strip_prefix("WWW-Authenticate: ")
        })
        .expect("the capture's WWW-Authenticate")
        .to_string();
    let server = Server::start(move |_| {
        json_response(
            401,
            fixture("elasticsearch/error_401_security_exception_es7_capture.json"),
        )
        .header("WWW-Authenticate", &www)
    });
    let run = run_es(&server.url(), &docs, &[]);
    assert_source_failed(
        &run,
        &server,
        &envelope_words("error_401_security_exception_es7_capture.json"),
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn a_429_rejection_with_retry_after_is_waited_out() {
    let docs = Arc::new(generate(300, 0x429));
    let fake = Arc::new(FakeCluster::new(docs.clone(), Flavor::Elasticsearch));
    let f = fake.clone();
    let rejected = Arc::new(Mutex::new(false));
    let server = Server::start(move |req| {
        let mut r = rejected.lock().unwrap();
        if req.path == "/_search" && !*r {
            *r = true;
            return json_response(
                429,
                fixture("elasticsearch/error_429_es_rejected_execution_exception.json"),
            )
            .header("Retry-After", "1");
        }
        f.answer(req)
    });
    let run = run_es(&server.url(), &docs, &[]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_each_once(&run, &docs);
    let searches = searches(&server);
    assert_eq!(searches.len(), 2, "one rejected, one retried");
    assert_eq!(
        searches[0].body, searches[1].body,
        "the retry asks the same"
    );
    let gap = searches[1].at.duration_since(searches[0].at);
    assert!(
        gap >= Duration::from_millis(950),
        "Retry-After: 1 not honoured: {gap:?}"
    );
}

#[test]
fn a_partial_shard_failure_keeps_the_events_and_says_which_shard_failed() {
    let docs = Arc::new(generate(40, 0x5a));
    let fake = Arc::new(FakeCluster::new(docs.clone(), Flavor::Elasticsearch));
    let f = fake.clone();
    let partial =
        recorded("opensearch_search_response_partial_shard_failure_query_shard_exception.json");
    let shards = partial["_shards"].clone();
    assert_eq!(shards["failed"], 1);
    let server = Server::start(move |req| {
        let answer = f.answer(req);
        match (&answer, req.path.as_str()) {
            (
                Response::Full {
                    status: 200, body, ..
                },
                "/_search",
            ) => {
                let mut v: Value = serde_json::from_slice(body).unwrap();
                v["_shards"] = shards.clone();
                json_response(200, v.to_string())
            }
            _ => answer,
        }
    });
    let run = run_es(&server.url(), &docs, &[]);
    assert_each_once(&run, &docs);
    let reason = &partial["_shards"]["failures"][0]["reason"];
    let words = format!(
        "{}: {}",
        reason["type"].as_str().unwrap(),
        reason["reason"].as_str().unwrap()
    );
    assert_source_failed(&run, &server, "partial results");
    assert_source_failed(&run, &server, &words);
}

#[test]
fn connection_refused_is_a_clear_failure_within_seconds() {
    let docs = generate(1, 1);
    let url = refused_url();
    let run = run_es(&url, &docs, &[]);
    assert_eq!(run.code, Some(3), "stderr:\n{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
    let name = url.trim_start_matches("http://");
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with(&format!("casefile: {name}: ")))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(line.to_lowercase().contains("connection refused"), "{line}");
}

// ---------------------------------------------------------------------------------------------
// 5. Credentials

/// The example API key of Elasticsearch's docs (base64 of `id:api_key`).
const API_KEY: &str = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";

#[test]
fn api_key_is_sent_on_every_request_and_never_printed() {
    let docs = Arc::new(generate(1_100, 0xa9));
    let (server, _fake) = start(docs.clone(), Flavor::Elasticsearch);
    let run = run_es(&server.url(), &docs, &[("ES_API_KEY", API_KEY)]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_each_once(&run, &docs);
    let requests = server.requests();
    assert!(requests.len() >= 4, "open, two pages, close");
    for r in &requests {
        assert_eq!(
            r.header_values("Authorization"),
            vec![format!("ApiKey {API_KEY}")],
            "{} {}",
            r.method,
            r.path
        );
    }
    // Refused with the key: the server's words, never the key.
    let server = Server::start(|_| {
        json_response(
            401,
            fixture("elasticsearch/error_401_security_exception_es7_capture.json"),
        )
    });
    let run = run_es(&server.url(), &docs, &[("ES_API_KEY", API_KEY)]);
    assert_source_failed(&run, &server, "security_exception");
    assert!(
        !run.stdout.contains(API_KEY) && !run.stderr.contains(API_KEY),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("dWkybHAyYXhUTm1zeWFrdzl0dk5udw"));
}

#[test]
fn basic_credentials_are_sent_and_never_printed() {
    let docs = Arc::new(generate(50, 0xba));
    let (server, _fake) = start(docs.clone(), Flavor::Elasticsearch);
    let env = [
        ("ES_USERNAME", "forensics"),
        ("ES_PASSWORD", "Tr0ub4dor-es"),
    ];
    let run = run_es(&server.url(), &docs, &env);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_each_once(&run, &docs);
    let expected = format!("Basic {}", base64(b"forensics:Tr0ub4dor-es"));
    for r in server.requests() {
        assert_eq!(
            r.header_values("Authorization"),
            vec![expected.as_str()],
            "{} {}",
            r.method,
            r.path
        );
    }
    let server = Server::start(|_| {
        json_response(
            401,
            fixture("elasticsearch/error_401_security_exception_es7_capture.json"),
        )
    });
    let run = run_es(&server.url(), &docs, &env);
    assert_source_failed(&run, &server, "security_exception");
    for secret in ["Tr0ub4dor-es", &base64(b"forensics:Tr0ub4dor-es")] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{}",
            run.stderr
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The fake itself

#[test]
fn the_fake_cluster_pages_strictly_after_and_rejects_stale_pit_ids() {
    let docs = Arc::new(generate(12, 7));
    let fake = FakeCluster::new(docs.clone(), Flavor::Elasticsearch);
    let req = |method: &str, path: &str, body: Value| Request {
        method: method.into(),
        target: path.into(),
        path: path.into(),
        query: vec![("keep_alive".into(), "2m".into())],
        headers: Vec::new(),
        body: body.to_string().into_bytes(),
        at: std::time::Instant::now(),
        connection: 0,
    };
    let body_of = |r: Response| match r {
        Response::Full { status, body, .. } => {
            (status, serde_json::from_slice::<Value>(&body).unwrap())
        }
        other => panic!("{other:?}"),
    };
    let (status, open) = body_of(fake.answer(&req("POST", "/logs-*/_pit", json!({}))));
    assert_eq!(status, 200);
    let id = open["id"].clone();
    let search = |id: &Value, after: Option<Value>| {
        let mut b = json!({"size": 5, "pit": {"id": id}, "track_total_hits": false,
            "sort": [{"@timestamp": {"order": "asc", "format": "strict_date_optional_time_nanos"}}, {"_shard_doc": "asc"}],
            "query": {"bool": {"filter": [{"range": {"@timestamp": {"gte": rfc3339_nanos(docs.from_ns), "lt": rfc3339_nanos(docs.to_ns)}}}]}}});
        if let Some(a) = after {
            b["search_after"] = a;
        }
        body_of(fake.answer(&req("POST", "/_search", b)))
    };
    let (status, first) = search(&id, None);
    assert_eq!(status, 200);
    assert!(first["hits"].get("total").is_none());
    let hits = first["hits"]["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 5);
    assert!(
        hits[0]["sort"][0].is_string(),
        "formatted sort value when a format is asked"
    );
    let (status, _) = search(&id, None);
    assert_eq!(
        status, 404,
        "the first id is stale once a newer one was handed out"
    );
    let newest = first["pit_id"].clone();
    let (_, second) = search(&newest, Some(hits[4]["sort"].clone()));
    let ids: Vec<&str> = second["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["_id"].as_str().unwrap())
        .collect();
    let mut window = docs.in_window();
    window.sort_by_key(|d| (d.ts_ms, d.shard_doc()));
    let expected: Vec<&str> = window[5..10].iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids, expected,
        "the next five, strictly after, in sort order"
    );
}

// ---------------------------------------------------------------------------------------------
// Cancel (the library's client)

/// `elastic_client::run` in a current-thread runtime on its own thread, with a deadline.
fn run_library(
    url: &str,
    docs: &Docs,
    budget: usize,
    cancel: casefile::sources::task::Cancel,
) -> (
    casefile::load::SourceReport,
    Vec<casefile::model::Event>,
    Vec<casefile::model::ServerCounts>,
) {
    use casefile::load::SourceReport;
    use casefile::model::{SourceKind, TimeRange, Timestamp};
    use casefile::sources::elastic_client;
    use casefile::sources::http::HttpClient;
    use casefile::sources::spec::Endpoint;
    use casefile::sources::task::SourceMessage;
    let endpoint = Endpoint::new(url);
    let window = TimeRange::new(Timestamp(docs.from_ns), Timestamp(docs.to_ns));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let client = HttpClient::new(&endpoint, cancel).expect("client");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut report = SourceReport::new(&endpoint.name, SourceKind::Elasticsearch, INDEX);
        let events = Mutex::new(Vec::new());
        let counts = Mutex::new(Vec::new());
        let send = |m: SourceMessage| {
            match m {
                SourceMessage::Batch { events: batch, .. } => events.lock().unwrap().extend(batch),
                SourceMessage::Counts { counts: c, .. } => counts.lock().unwrap().push(c),
                _ => {}
            }
            true
        };
        runtime.block_on(elastic_client::run(
            &client,
            INDEX,
            Some(ES_QUERY),
            window,
            budget,
            &casefile::sources::EntityTables::default(),
            0,
            &mut report,
            &send,
        ));
        let _ = tx.send((
            report,
            events.into_inner().unwrap(),
            counts.into_inner().unwrap(),
        ));
    });
    rx.recv_timeout(Duration::from_secs(15))
        .expect("elastic_client::run ends within seconds")
}

#[test]
fn over_budget_the_newest_documents_are_read_newest_first_and_the_rest_is_counted() {
    let docs = Arc::new(generate(2_500, 0xb0d));
    let (server, fake) = start(docs.clone(), Flavor::Elasticsearch);
    let budget = 1_500;
    let (report, events, counts) = run_library(&server.url(), &docs, budget, Default::default());
    assert_eq!(report.error, None);
    // Pages of 1000, newest first, until the budget is reached.
    let total = docs.in_window().len();
    let loaded = budget.div_ceil(PAGE) * PAGE;
    assert_eq!(report.events, loaded);
    assert_eq!(report.not_loaded, Some((total - loaded) as u64));
    // Exactly the newest `loaded` documents in the cluster's order, each once.
    let mut order = docs.in_window();
    order.sort_by_key(|d| std::cmp::Reverse((d.ts_ms, d.shard_doc())));
    let mut expected: Vec<String> = order[..loaded].iter().map(|d| d.id.clone()).collect();
    let mut got: Vec<String> = events
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.raw).unwrap()["_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    let searches = searches(&server);
    for s in &searches {
        let body = s.json();
        assert_eq!(body["sort"][0]["@timestamp"]["order"], "desc");
        assert_eq!(body["sort"][1], json!({"_shard_doc": "desc"}));
    }
    let state = fake.state.lock().unwrap();
    for (k, s) in searches.iter().enumerate().skip(1) {
        let last = state.answers[k - 1]["hits"]["hits"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["sort"]
            .clone();
        assert_eq!(s.json()["search_after"], last);
    }
    assert!(state.pit.is_none(), "the PIT was closed");
    // The whole window's shape comes from the cluster's date_histogram: every document of
    // the window is counted, loaded or not.
    assert_eq!(counts.len(), 1);
    let counted: u64 = counts[0].samples.iter().map(|(_, n)| n).sum();
    assert_eq!(counted, total as u64);
    let agg = server
        .requests()
        .into_iter()
        .find(|r| r.json().get("aggs").is_some())
        .expect("a date_histogram request");
    assert_eq!(agg.json()["size"], 0);
    let interval = agg.json()["aggs"]["t"]["date_histogram"]["fixed_interval"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(interval, format!("{}ms", counts[0].step_ns / 1_000_000));
}

#[test]
fn a_cancelled_run_still_closes_its_point_in_time() {
    use casefile::sources::task::Cancel;
    use std::time::Instant;
    let docs = Arc::new(generate(300, 0xca));
    let fake = Arc::new(FakeCluster::new(docs.clone(), Flavor::Elasticsearch));
    let f = fake.clone();
    // The cluster is busy: every search is rejected with a long Retry-After.
    let server = Arc::new(Server::start(move |req| {
        if req.path == "/_search" {
            return json_response(
                429,
                fixture("elasticsearch/error_429_es_rejected_execution_exception.json"),
            )
            .header("Retry-After", "30");
        }
        f.answer(req)
    }));
    let cancel = Cancel::default();
    let canceller = cancel.clone();
    let watching = server.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(5);
        while watching.requests_to("/_search").is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(300));
        canceller.cancel();
    });
    let started = Instant::now();
    let (report, _, _) = run_library(&server.url(), &docs, 1_000_000, cancel);
    assert!(report.cancelled, "{report:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the cancel is prompt"
    );
    let closes: Vec<Request> = server
        .requests_to("/_pit")
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(
        closes.len(),
        1,
        "the point in time is closed after a cancel"
    );
    assert!(fake.state.lock().unwrap().pit.is_none());
}

#[test]
fn tls_failures_name_the_certificate_problem_and_a_trusted_certificate_gets_through() {
    let docs = generate(10, 0x715);
    support::tls_server::check_client("ES_CA_CERT", |url, env| run_es(url, &docs, env));
}
