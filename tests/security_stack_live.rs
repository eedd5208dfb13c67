//! Alertmanager, Zabbix, Grafana annotations and a wazuh-indexer (issue 8) over HTTP: the real
//! `casefile query` binary against loopback servers that answer with the upstream examples in
//! tests/fixtures (Alertmanager's `/api/v2/alerts` from its issue tracker, Zabbix `event.get`
//! objects, Grafana's documented annotations answer, a wazuh-indexer hit from Wazuh's docs),
//! including the servers' own errors.

use serde_json::{json, Value};
use std::time::Duration;

mod support;
use support::http_server::{fixture, refused_url, run_casefile, Request, Response, Server};

const TIMEOUT: Duration = Duration::from_secs(60);

fn events(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn entity(e: &Value, key: &str) -> Vec<String> {
    e["entities"][key]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn alertmanager_alerts_are_firing_events_with_their_labels() {
    let server = Server::start(|req: &Request| match req.path.as_str() {
        "/api/v2/alerts" => {
            let both: Vec<Value> = [
                "alertmanager/issue2832_api_v2_alerts_response.json",
                "alertmanager/issue2233_api_v2_alerts_response.json",
            ]
            .iter()
            .flat_map(|f| serde_json::from_str::<Vec<Value>>(&fixture(f)).unwrap())
            .collect();
            Response::json(200, serde_json::to_vec(&both).unwrap())
        }
        _ => Response::text(404, "404 page not found\n"),
    });
    let run = run_casefile(
        &[
            "query",
            "--alertmanager",
            &server.url(),
            "--from",
            "2020-01-01T00:00:00Z",
            "--to",
            "2023-01-01T00:00:00Z",
        ],
        &[("ALERTMANAGER_BEARER_TOKEN", "am-secret")],
        TIMEOUT,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let got = events(&run.stdout);
    assert_eq!(got.len(), 2, "{}", run.stdout);
    // In time order: the +03:00 alert of 2020 first, at its UTC instant.
    let test = &got[0];
    assert_eq!(test["ts"], "2020-04-15T13:34:36.500000000Z");
    assert_eq!(test["kind"], "alert_firing");
    assert_eq!(test["severity"], "critical");
    assert_eq!(test["title"], "TEST122: TEST.");
    assert_eq!(entity(test, "host"), ["dev22-web"]);
    let down = &got[1];
    assert_eq!(down["source"], "alertmanager");
    assert_eq!(
        down["title"],
        "InstanceDown: Endpoint randomina.lan:9100 down"
    );
    assert_eq!(
        down["message"],
        "randomina.lan:9100 of job node has been down for more than 10 minutes."
    );
    // `medium` is a team's word for warning; the exporter's port is not part of the host.
    assert_eq!(down["severity"], "warning");
    assert_eq!(entity(down, "host"), ["randomina.lan"]);
    assert_eq!(entity(down, "rule"), ["InstanceDown"]);
    assert_eq!(down["raw"]["fingerprint"], "0593f1c55738ce93");
    let asked = server.requests_to("/api/v2/alerts");
    assert_eq!(asked[0].header("Authorization"), Some("Bearer am-secret"));
    assert!(!run.stdout.contains("am-secret") && !run.stderr.contains("am-secret"));
    // A window that ends before an alert started leaves it out.
    let run = run_casefile(
        &[
            "query",
            "--alertmanager",
            &server.url(),
            "--from",
            "2020-01-01T00:00:00Z",
            "--to",
            "2021-01-01T00:00:00Z",
            "--count",
        ],
        &[],
        TIMEOUT,
    );
    assert_eq!(run.stdout.trim(), "1", "{}", run.stderr);
}

#[test]
fn a_failing_alertmanager_shows_its_words_and_the_rest_keeps_working() {
    let server = Server::start(|_req: &Request| {
        Response::text(500, "failed to get alerts: context deadline exceeded\n")
    });
    let falco =
        support::http_server::fixture_path("falco/website_terminal_shell_in_container.ndjson");
    let run = run_casefile(
        &[
            "query",
            "--alertmanager",
            &server.url(),
            "--falco",
            &falco,
            "--from",
            "2020-01-01T00:00:00Z",
        ],
        &[],
        TIMEOUT,
    );
    // Exit 3: output was written, a source failed.
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert_eq!(events(&run.stdout).len(), 1);
    assert!(
        run.stderr
            .contains("HTTP 500: failed to get alerts: context deadline exceeded"),
        "{}",
        run.stderr
    );
    let run = run_casefile(&["query", "--alertmanager", &refused_url()], &[], TIMEOUT);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("GET /api/v2/alerts"), "{}", run.stderr);
}

/// A Zabbix frontend: `problem.get` and `event.get` answered with the recorded event.get
/// objects, inside the JSON-RPC envelope, with the hosts `selectHosts` asks for.
fn zabbix_server(token: &'static str) -> Server {
    Server::start(move |req: &Request| {
        if req.path != "/zabbix/api_jsonrpc.php" || req.method != "POST" {
            return Response::text(404, "Not Found");
        }
        let call = req.json();
        if req.header("Authorization") != Some(&format!("Bearer {token}")) {
            return Response::json(
                200,
                json!({"jsonrpc": "2.0", "error": {"code": -32602, "message": "Invalid params.", "data": "Not authorized."}, "id": call["id"]}).to_string(),
            );
        }
        let recorded: Value =
            serde_json::from_str(&fixture("zabbix/xsoar_event_get_result_context.json")).unwrap();
        let mut events = recorded["Zabbix.Event"].as_array().unwrap().clone();
        let result = match call["method"].as_str() {
            Some("problem.get") => json!([{"eventid": "12"}]),
            Some("event.get") => {
                if call["params"]["selectHosts"].is_array() {
                    for e in &mut events {
                        e["hosts"] = json!([{"hostid": "10084", "host": "Zabbix server", "name": "zbx-main"}]);
                    }
                }
                Value::Array(events)
            }
            _ => return Response::json(200, json!({"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found."}, "id": 1}).to_string()),
        };
        Response::json(
            200,
            json!({"jsonrpc": "2.0", "result": result, "id": call["id"]}).to_string(),
        )
    })
}

#[test]
fn zabbix_problems_and_recoveries_over_json_rpc() {
    let server = zabbix_server("zbx-token");
    let url = format!("{}/zabbix", server.url());
    let window = [
        "--from",
        "2020-03-27T00:00:00Z",
        "--to",
        "2020-04-01T00:00:00Z",
    ];
    let mut args = vec!["query", "--zabbix", &url];
    args.extend(window);
    let run = run_casefile(&args, &[("ZABBIX_API_TOKEN", "zbx-token")], TIMEOUT);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // The token is sent, never printed.
    assert!(!run.stdout.contains("zbx-token") && !run.stderr.contains("zbx-token"));
    let got = events(&run.stdout);
    let titles: Vec<&str> = got.iter().map(|e| e["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "PROBLEM: Zabbix agent on Zabbix server is unreachable for 5 minutes",
            "PROBLEM: Zabbix task manager processes more than 75% busy",
            "RESOLVED: Zabbix task manager processes more than 75% busy",
        ]
    );
    // `clock` and `ns` (strings) make the time, to the nanosecond.
    assert_eq!(got[0]["ts"], "2020-03-27T15:12:21.248457478Z");
    assert_eq!(got[0]["severity"], "warning");
    assert_eq!(entity(&got[0], "host"), ["Zabbix server", "zbx-main"]);
    // Event 12 is still open; 13 was resolved by 15.
    assert!(got[0]["tags"]
        .as_array()
        .unwrap()
        .contains(&json!("unresolved")));
    assert!(got[1]["message"]
        .as_str()
        .unwrap()
        .ends_with("(resolved by event 15)"));
    assert_eq!(got[2]["severity"], "info");
    // What was asked: the window in seconds, hosts, newest first.
    let calls: Vec<Value> = server.requests().iter().map(|r| r.json()).collect();
    let event_get = calls.iter().find(|c| c["method"] == "event.get").unwrap();
    assert_eq!(event_get["params"]["time_from"], 1_585_267_200);
    assert_eq!(event_get["params"]["time_till"], 1_585_699_200);
    assert_eq!(event_get["jsonrpc"], "2.0");
    // A wrong token: Zabbix's own words.
    let run = run_casefile(&args, &[("ZABBIX_API_TOKEN", "wrong")], TIMEOUT);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr.contains("Invalid params. Not authorized."),
        "{}",
        run.stderr
    );
    // No token at all: said before anything is asked.
    let run = run_casefile(&args, &[], TIMEOUT);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("ZABBIX_API_TOKEN"), "{}", run.stderr);
}

#[test]
fn grafana_annotations_are_events_and_its_errors_are_its_words() {
    let server = Server::start(|req: &Request| {
        if req.header("Authorization") != Some("Bearer glsa_token") {
            return Response::json(401, r#"{"message":"invalid API key","traceID":""}"#);
        }
        match req.path.as_str() {
            "/api/annotations" => {
                Response::json(200, fixture("grafana/docs_find_annotations_response.json"))
            }
            _ => Response::json(404, r#"{"message":"Not found"}"#),
        }
    });
    let window = [
        "--from",
        "2017-10-06T00:00:00Z",
        "--to",
        "2017-10-07T00:00:00Z",
    ];
    let url = server.url();
    let mut args = vec!["query", "--grafana", url.as_str()];
    args.extend(window);
    let run = run_casefile(&args, &[("GRAFANA_TOKEN", "glsa_token")], TIMEOUT);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let got = events(&run.stdout);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["ts"], "2017-10-06T04:45:11.000000000Z");
    assert_eq!(got[1]["ts"], "2017-10-06T05:06:35.000000000Z");
    assert_eq!(got[0]["source"], "grafana");
    assert_eq!(got[0]["title"], "test");
    assert_eq!(got[0]["tags"], json!(["tag1", "tag2"]));
    let asked = &server.requests_to("/api/annotations")[0];
    assert_eq!(asked.param("from"), Some("1507248000000"));
    assert_eq!(asked.param("to"), Some("1507334400000"));
    assert!(!run.stdout.contains("glsa_token") && !run.stderr.contains("glsa_token"));
    let run = run_casefile(&args, &[("GRAFANA_TOKEN", "expired")], TIMEOUT);
    assert_eq!(run.code, Some(3));
    assert!(!run.stderr.contains("expired\""), "{}", run.stderr);
    assert!(
        run.stderr.contains("HTTP 401: invalid API key"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_wazuh_indexer_is_read_through_the_elasticsearch_source_as_wazuh_alerts() {
    let hit: Value = serde_json::from_str(&fixture(
        "wazuh/docs_fim_whodata_ebpf_etc_sshd_config_indexer_hit.json",
    ))
    .unwrap();
    let server = Server::start(move |req: &Request| {
        let path = req.path.as_str();
        if path.ends_with("/_count") {
            return Response::json(
                200,
                r#"{"count":1,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}}"#,
            );
        }
        if path.contains("_pit") || path.contains("point_in_time") {
            return Response::json(
                404,
                r#"{"error":{"root_cause":[],"type":"unsupported","reason":"no PIT here"},"status":404}"#,
            );
        }
        let body = req.json();
        let hits = if body.get("search_after").is_some() {
            json!([])
        } else {
            json!([hit])
        };
        Response::json(
            200,
            json!({"took": 1, "timed_out": false, "hits": {"hits": hits}}).to_string(),
        )
    });
    let run = run_casefile(
        &[
            "query",
            "--es",
            &server.url(),
            "--es-index",
            "wazuh-alerts-4.x-*",
            "--from",
            "2025-04-08T00:00:00Z",
            "--to",
            "2025-04-09T00:00:00Z",
        ],
        &[],
        TIMEOUT,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let got = events(&run.stdout);
    assert_eq!(got.len(), 1, "{}", run.stdout);
    let e = &got[0];
    // Read as a Wazuh alert, though it came from the Elasticsearch source.
    assert_eq!(e["source"], "elasticsearch");
    assert_eq!(
        e["title"],
        "Integrity checksum changed: /etc/ssh/sshd_config"
    );
    assert_eq!(entity(e, "user"), ["root"]);
    assert_eq!(e["process"]["pid"], 66474);
    // Wazuh's indices are timed by `timestamp`: the window and the sort ask for it.
    let search = server
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/_search"))
        .unwrap()
        .json();
    assert!(
        search["query"]["bool"]["filter"][0]["range"]["timestamp"].is_object(),
        "{search}"
    );
    assert!(search["sort"][0]["timestamp"].is_object(), "{search}");
}

#[test]
fn a_followed_alertmanager_is_asked_again_and_only_new_alerts_are_sent() {
    use casefile::load::SourceReport;
    use casefile::model::{SourceKind, TimeRange, Timestamp};
    use casefile::sources::http::HttpClient;
    use casefile::sources::spec::{Endpoint, SourceSpec};
    use casefile::sources::task::{Cancel, SourceMessage};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    let asked = Arc::new(AtomicUsize::new(0));
    let server = {
        let asked = asked.clone();
        Server::start(move |_req: &Request| {
            // The first answer has one alert; from the second on, a new one beside it.
            let n = asked.fetch_add(1, Ordering::SeqCst);
            let mut alerts: Vec<Value> = serde_json::from_str(&fixture(
                "alertmanager/issue2832_api_v2_alerts_response.json",
            ))
            .unwrap();
            if n >= 1 {
                alerts.extend(
                    serde_json::from_str::<Vec<Value>>(&fixture(
                        "alertmanager/issue2233_api_v2_alerts_response.json",
                    ))
                    .unwrap(),
                );
            }
            Response::json(200, serde_json::to_vec(&alerts).unwrap())
        })
    };
    let cancel = Cancel::default();
    let events = Arc::new(Mutex::new(Vec::new()));
    let worker = {
        let (cancel, events, url) = (cancel.clone(), events.clone(), server.url());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let spec = SourceSpec::Alertmanager {
                endpoint: Endpoint::new(&url),
            };
            let client = HttpClient::new(spec.endpoint(), cancel.clone()).unwrap();
            let mut report = SourceReport::new("am", SourceKind::Alertmanager, "");
            let send = |m: SourceMessage| {
                if let SourceMessage::Batch { events: batch, .. } = m {
                    events.lock().unwrap().extend(batch);
                }
                true
            };
            let window = TimeRange::new(
                Timestamp::parse_rfc3339("2020-01-01T00:00:00Z").unwrap(),
                Timestamp::now(),
            );
            runtime.block_on(casefile::sources::present::run(
                &client,
                &spec,
                window,
                1000,
                Some(Duration::from_millis(200)),
                &casefile::sources::EntityTables::default(),
                0,
                &mut report,
                &cancel,
                &send,
            ));
            report
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while asked.load(Ordering::SeqCst) < 4 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    cancel.cancel();
    let report = worker.join().unwrap();
    assert!(asked.load(Ordering::SeqCst) >= 4);
    // Asked four times or more, yet each alert arrived once.
    let titles: Vec<String> = events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.title.clone())
        .collect();
    assert_eq!(
        titles,
        [
            "InstanceDown: Endpoint randomina.lan:9100 down",
            "TEST122: TEST."
        ]
    );
    assert_eq!(report.events, 2);
    assert!(report.live);
}
