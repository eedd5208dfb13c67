//! A pivot on a window too big to load is pushed down to the server for the part that stayed
//! there, in the backend's own query language; what cannot be pushed is said to be filtered
//! locally.

use casefile::app::LiveSources;
use casefile::load::{Loaded, SourceReport};
use casefile::model::{SourceKind, TimeRange, Timestamp};
use casefile::sources::runner::RunOptions;
use casefile::sources::spec::{Endpoint, SourceSpec};
use casefile::sources::task::{Cancel, SourceMessage};
use casefile::sources::EntityTables;
use std::time::{Duration, Instant};

mod support;
use support::http_server::{Response, Server};

const EMPTY_STREAMS: &str = r#"{"status":"success","data":{"resultType":"streams","result":[]}}"#;
const SERIES: &str = "/loki/api/v1/series";

/// Waits (off the UI, as a test may) until the source's streams' labels are read.
fn wait_for_streams(live: &LiveSources, index: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !live.streams_known(index) {
        assert!(
            Instant::now() < deadline,
            "the streams' labels were not read"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn truncated_report(name: &str, kind: SourceKind, oldest: Timestamp) -> SourceReport {
    let mut r = SourceReport::new(name, kind, "q");
    r.events = 1_000;
    r.not_loaded = Some(5_000);
    r.oldest_loaded = Some(oldest);
    r
}

#[test]
fn a_pivot_is_pushed_down_for_the_part_of_the_window_left_on_the_server() {
    let server = Server::start(|req| {
        if req.path == "/loki/api/v1/query_range" {
            Response::json(200, EMPTY_STREAMS)
        } else if req.path == SERIES {
            // No stream carries a label that feeds `host` (`host`, `hostname`, `node`).
            Response::json(
                200,
                r#"{"status":"success","data":[{"job":"sshd","service_name":"sshd"}]}"#,
            )
        } else {
            Response::json(
                200,
                r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
            )
        }
    });
    let window = TimeRange::new(
        Timestamp(1_795_000_000_000_000_000),
        Timestamp(1_795_003_600_000_000_000),
    );
    let oldest = Timestamp(1_795_003_000_000_000_000);
    let loki = SourceSpec::Loki {
        endpoint: Endpoint::new(&server.url()),
        query: "{job=\"sshd\"}".into(),
    };
    let prom = SourceSpec::Prometheus {
        endpoint: Endpoint::new("http://127.0.0.1:1"),
        queries: vec!["up".into()],
    };
    let mut data = Loaded::default();
    data.reports
        .push(truncated_report("loki-prod", SourceKind::Loki, oldest));
    data.reports
        .push(truncated_report("prom", SourceKind::Prometheus, oldest));
    let (tx, rx) = std::sync::mpsc::sync_channel(16);
    let options = RunOptions {
        window,
        follow: false,
        budget: 1_000,
    };
    let mut live = LiveSources::new(
        vec![(0, loki), (1, prom)],
        options,
        EntityTables::default(),
        Cancel::default(),
        tx,
    );

    // The Loki source's streams' labels were asked for when it was set up.
    wait_for_streams(&live, 0);
    assert_eq!(
        server.requests_to(SERIES)[0].param("match[]"),
        Some("{job=\"sshd\"}")
    );
    // Two Prometheus labels feed `host` (node, host): no one selector holds that OR.
    let pivots = vec!["host=node-07".parse().unwrap()];
    let said = live.push_down(&pivots, None, &mut data);
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(
        said[0].contains("host=node-07 pushed down to loki-prod"),
        "{said:?}"
    );
    assert!(
        said[1].contains("prom: host=node-07 filtered locally"),
        "{said:?}"
    );
    // A new source reads the older part of the window with the pivot in its query.
    assert_eq!(data.reports.len(), 3);
    assert_eq!(data.reports[2].name, "loki-prod · host=node-07");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(SourceMessage::Finished { source: 2, report }) => {
                assert_eq!(report.error, None);
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("the pushed-down query did not finish: {e}"),
        }
    }
    let pages: Vec<_> = server
        .requests_to("/loki/api/v1/query_range")
        .into_iter()
        .filter(|r| !r.param("query").unwrap_or("").starts_with("sum("))
        .collect();
    assert_eq!(pages.len(), 1);
    assert_eq!(
        pages[0].param("query"),
        Some("{job=\"sshd\"} |= \"node-07\"")
    );
    assert_eq!(
        pages[0].param("start"),
        Some(window.start.0.to_string().as_str())
    );
    assert_eq!(pages[0].param("end"), Some(oldest.0.to_string().as_str()));
    // The same pivot again (back, then forward) asks nothing more.
    assert!(live.push_down(&pivots, None, &mut data).is_empty());
    assert_eq!(data.reports.len(), 3);
    // A search narrows too: it goes down as a case-insensitive subsequence.
    let said = live.push_down(&pivots, Some("xmrig"), &mut data);
    assert!(
        said[0].contains("host=node-07 & search \"xmrig\" pushed down to loki-prod"),
        "{said:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server
        .requests_to("/loki/api/v1/query_range")
        .iter()
        .any(|r| r.param("query") == Some("{job=\"sshd\"} |= \"node-07\" |~ \"(?i)x.*m.*r.*i.*g\""))
    {
        assert!(Instant::now() < deadline, "the search was not pushed down");
        std::thread::sleep(Duration::from_millis(20));
    }
    // What a backend cannot take is named: a category is casefile's own.
    let with_category: Vec<casefile::store::Pivot> = vec![
        "host=node-07".parse().unwrap(),
        "category=net".parse().unwrap(),
    ];
    let said = live.push_down(&with_category, None, &mut data);
    assert!(
        said[0].contains("pushed down to loki-prod for the older part of the window; category=network filtered locally"),
        "{said:?}"
    );

    // Loading older events: the original query, for the part before the oldest loaded; the
    // new task takes over the count of what is left, so nothing is counted twice.
    let before = server.requests_to("/loki/api/v1/query_range").len();
    let said = live.load_older(&mut data);
    assert!(
        said[0].contains("loki-prod: loading older events (5000 were left on the server)"),
        "{said:?}"
    );
    assert_eq!(data.reports[0].not_loaded, None);
    let deadline = Instant::now() + Duration::from_secs(10);
    let older = loop {
        let asked = server.requests_to("/loki/api/v1/query_range");
        if let Some(r) = asked[before..]
            .iter()
            .find(|r| r.param("query") == Some("{job=\"sshd\"}"))
        {
            break r.clone();
        }
        assert!(Instant::now() < deadline, "older events were not asked for");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(older.param("end"), Some(oldest.0.to_string().as_str()));
    assert_eq!(
        older.param("start"),
        Some(window.start.0.to_string().as_str())
    );
}

/// Loki's label endpoints and a streams answer that follows the query asked.
fn loki_with_labels() -> Server {
    Server::start(|req| match req.path.as_str() {
        "/loki/api/v1/labels" => Response::json(
            200,
            r#"{"status":"success","data":["host","job","service_name"]}"#,
        ),
        "/loki/api/v1/label/job/values" => {
            Response::json(200, r#"{"status":"success","data":["audit","sshd"]}"#)
        }
        "/loki/api/v1/query_range" if !req.param("query").unwrap_or("").starts_with("sum(") => {
            // One line that names the query it answers, so a re-run shows.
            let q = req
                .param("query")
                .unwrap_or("")
                .replace('\\', "\\\\")
                .replace('"', "\\\"");
            Response::json(
                200,
                format!(
                    r#"{{"status":"success","data":{{"resultType":"streams","result":[{{"stream":{{"job":"x"}},"values":[["1795000000000000001","answer to {q}"]]}}]}}}}"#
                ),
            )
        }
        _ => Response::json(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        ),
    })
}

#[test]
fn a_loki_query_is_edited_with_completion_and_run_again() {
    use casefile::app::App;
    use casefile::store::Query;
    use casefile::ui::keymap::Keymap;
    use casefile::ui::theme::Theme;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    let server = loki_with_labels();
    let window = TimeRange::new(
        Timestamp(1_794_999_000_000_000_000),
        Timestamp(1_795_001_000_000_000_000),
    );
    let spec = SourceSpec::Loki {
        endpoint: Endpoint::new(&server.url()),
        query: "{job=\"x\"}".into(),
    };
    let (tx, rx) = std::sync::mpsc::sync_channel(64);
    let cancel = Cancel::default();
    let options = RunOptions {
        window,
        follow: false,
        budget: 1_000,
    };
    let mut data = Loaded::default();
    let own = cancel.child();
    let sender = tx.clone();
    data.reports.push(casefile::sources::runner::spawn(
        spec.clone(),
        0,
        options,
        EntityTables::default(),
        own.clone(),
        move |m| sender.send(m).is_ok(),
    ));
    let mut app = App::new(
        data,
        Keymap::load_strict("default", None, 0).unwrap(),
        Theme::load_strict("dark", None).unwrap(),
        Query::default(),
        (120, 30),
    );
    let mut live = LiveSources::new(
        vec![(0, spec)],
        options,
        EntityTables::default(),
        cancel,
        tx,
    );
    live.set_cancel(0, own);
    app.live = Some(live);
    let pump = |app: &mut App, until: &dyn Fn(&App) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !until(app) {
            assert!(Instant::now() < deadline, "timed out");
            if let Ok(m) = rx.recv_timeout(Duration::from_millis(50)) {
                app.on_source(m);
            }
            app.tick();
        }
    };
    let titles = |app: &App| -> Vec<String> {
        app.timeline
            .shown
            .iter()
            .map(|&p| app.data.store.get(p).unwrap().title().to_string())
            .collect()
    };
    pump(&mut app, &|a| !a.timeline.shown.is_empty() && !a.loading());
    assert_eq!(titles(&app), ["answer to {job=\"x\"}"]);

    let key =
        |app: &mut App, code: KeyCode| app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
    key(&mut app, KeyCode::Char(':'));
    assert_eq!(app.query_editor.as_ref().unwrap().input, "{job=\"x\"}");
    // Clear it and type a new selector; Tab completes the label, then its value.
    for _ in 0..9 {
        key(&mut app, KeyCode::Backspace);
    }
    for c in "{j".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Tab);
    pump(&mut app, &|a| {
        a.query_editor.as_ref().unwrap().input == "{job=\""
    });
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Tab);
    pump(&mut app, &|a| {
        a.query_editor.as_ref().unwrap().input == "{job=\"sshd\""
    });
    key(&mut app, KeyCode::Char('}'));
    key(&mut app, KeyCode::Enter);
    assert!(app.query_editor.is_none());
    // The old query's events are gone; the new query's arrive.
    pump(&mut app, &|a| titles(a) == ["answer to {job=\"sshd\"}"]);
    let asked: Vec<String> = server
        .requests_to("/loki/api/v1/query_range")
        .iter()
        .filter_map(|r| r.param("query").map(str::to_string))
        .filter(|q| !q.starts_with("sum("))
        .collect();
    assert_eq!(asked, ["{job=\"x\"}", "{job=\"sshd\"}"]);
}

/// A Loki whose streams carry these label sets (the series API answers after `delay`), and
/// whose `query_range` answers nothing.
fn loki_with_streams(series: &'static str, delay: Duration) -> Server {
    Server::start(move |req| match req.path.as_str() {
        SERIES => {
            std::thread::sleep(delay);
            Response::json(200, series)
        }
        "/loki/api/v1/query_range" => Response::json(200, EMPTY_STREAMS),
        _ => Response::json(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        ),
    })
}

fn one_truncated_loki(
    server: &Server,
) -> (
    LiveSources,
    Loaded,
    std::sync::mpsc::Receiver<SourceMessage>,
) {
    let oldest = Timestamp(1_795_003_000_000_000_000);
    let window = TimeRange::new(
        Timestamp(1_795_000_000_000_000_000),
        Timestamp(1_795_003_600_000_000_000),
    );
    let loki = SourceSpec::Loki {
        endpoint: Endpoint::new(&server.url()),
        query: "{job=\"api\"}".into(),
    };
    let mut data = Loaded::default();
    data.reports
        .push(truncated_report("loki-prod", SourceKind::Loki, oldest));
    let (tx, rx) = std::sync::mpsc::sync_channel(64);
    let options = RunOptions {
        window,
        follow: false,
        budget: 1_000,
    };
    let live = LiveSources::new(
        vec![(0, loki)],
        options,
        EntityTables::default(),
        Cancel::default(),
        tx,
    );
    (live, data, rx)
}

/// The pushed-down queries asked of the server, eventually `n` of them.
fn pages_asked(server: &Server, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let asked: Vec<String> = server
            .requests_to("/loki/api/v1/query_range")
            .iter()
            .filter_map(|r| r.param("query").map(str::to_string))
            .filter(|q| !q.starts_with("sum("))
            .collect();
        if asked.len() >= n {
            return asked;
        }
        assert!(Instant::now() < deadline, "asked only {asked:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn in_the_tui_a_pivot_on_a_stream_label_goes_into_the_selector_or_stays_local() {
    // Every stream carries `pod`: the pivot becomes a matcher (its lines need not name it).
    let server = loki_with_streams(
        r#"{"status":"success","data":[{"job":"api","pod":"api-7d9f-x2k4q"},{"job":"api","pod":"api-7d9f-zz9pl"}]}"#,
        Duration::ZERO,
    );
    let (mut live, mut data, _rx) = one_truncated_loki(&server);
    wait_for_streams(&live, 0);
    let pivots = vec!["pod=api-7d9f-x2k4q".parse().unwrap()];
    let said = live.push_down(&pivots, None, &mut data);
    assert!(
        said[0].contains("pod=api-7d9f-x2k4q pushed down to loki-prod"),
        "{said:?}"
    );
    assert_eq!(
        pages_asked(&server, 1),
        ["{job=\"api\", pod=\"api-7d9f-x2k4q\"}"]
    );

    // Only some streams carry it: local, and the reason is said.
    let server = loki_with_streams(
        r#"{"status":"success","data":[{"job":"api","pod":"api-7d9f-x2k4q"},{"job":"api"}]}"#,
        Duration::ZERO,
    );
    let (mut live, mut data, _rx) = one_truncated_loki(&server);
    wait_for_streams(&live, 0);
    let said = live.push_down(&pivots, None, &mut data);
    assert_eq!(
        said,
        ["loki-prod: pod=api-7d9f-x2k4q filtered locally (5000 events stay on the server; label `pod` is on 1 of 2 streams)"]
    );
    assert_eq!(data.reports.len(), 1, "no task started");
}

#[test]
fn in_the_tui_a_push_down_never_waits_for_the_streams_labels() {
    // The series API takes its time: the push-down does not wait for it (this is the UI
    // thread). The source waits for its streams' labels, and once they come, `retry_due`
    // says to push again: the pod goes into the selector, the pid into a line filter.
    let server = loki_with_streams(
        r#"{"status":"success","data":[{"job":"api","pod":"api-7d9f-x2k4q"}]}"#,
        Duration::from_secs(3),
    );
    let (mut live, mut data, _rx) = one_truncated_loki(&server);
    let pivots = vec![
        "pod=api-7d9f-x2k4q".parse().unwrap(),
        "pid=4242".parse().unwrap(),
    ];
    let started = Instant::now();
    let said = live.push_down(&pivots, None, &mut data);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(!live.streams_known(0));
    assert!(
        said[0].contains("pod=api-7d9f-x2k4q & pid=4242 waits for its streams' labels"),
        "{said:?}"
    );
    assert!(!live.retry_due(), "nothing to retry before the labels come");
    assert!(
        server.requests_to("/loki/api/v1/query_range").is_empty(),
        "nothing asked before the labels come"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !live.retry_due() {
        assert!(Instant::now() < deadline, "the labels never came");
        std::thread::sleep(Duration::from_millis(20));
    }
    let said = live.push_down(&pivots, None, &mut data);
    assert!(
        said[0].contains("pushed down to loki-prod for the older part of the window"),
        "{said:?}"
    );
    assert_eq!(
        pages_asked(&server, 1),
        ["{job=\"api\", pod=\"api-7d9f-x2k4q\"} |= \"4242\""]
    );
    // Done once: the same pivot is not asked for again.
    assert!(live.push_down(&pivots, None, &mut data).is_empty());
    assert!(!live.retry_due());
}
