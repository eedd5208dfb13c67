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

    let pivots = vec!["user=mallory".parse().unwrap()];
    let said = live.push_down(&pivots, &mut data);
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(
        said[0].contains("user=mallory pushed down to loki-prod"),
        "{said:?}"
    );
    assert!(
        said[1].contains("prom: user=mallory filtered locally"),
        "{said:?}"
    );
    // A new source reads the older part of the window with the pivot in its query.
    assert_eq!(data.reports.len(), 3);
    assert_eq!(data.reports[2].name, "loki-prod · user=mallory");
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
        Some("{job=\"sshd\"} |= \"mallory\"")
    );
    assert_eq!(
        pages[0].param("start"),
        Some(window.start.0.to_string().as_str())
    );
    assert_eq!(pages[0].param("end"), Some(oldest.0.to_string().as_str()));
    // The same pivot again (back, then forward) asks nothing more.
    assert!(live.push_down(&pivots, &mut data).is_empty());
    assert_eq!(data.reports.len(), 3);
}
