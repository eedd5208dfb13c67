//! Loki's tail websocket, served on loopback from the frames recorded from a real Loki 3.4.6:
//! the connection drops mid-stream, casefile reconnects from the last timestamp it saw, Loki
//! replays from there, and every entry arrives exactly once; dropped entries show as a gap.

mod support;

use casefile::load::SourceReport;
use casefile::model::SourceKind;
use casefile::sources::loki_client;
use casefile::sources::spec::Endpoint;
use casefile::sources::task::{Cancel, SourceMessage};
use casefile::sources::EntityTable;
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

/// The recorded frames, and each entry in them as (ts, line).
fn recorded() -> (Vec<String>, Vec<(i64, String)>) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/loki/tail-frames.jsonl"
    ))
    .unwrap();
    let frames: Vec<String> = text.lines().map(str::to_string).collect();
    let mut entries = Vec::new();
    for f in &frames {
        let v: serde_json::Value = serde_json::from_str(f).unwrap();
        for s in v["streams"].as_array().unwrap() {
            for e in s["values"].as_array().unwrap() {
                entries.push((
                    e[0].as_str().unwrap().parse().unwrap(),
                    e[1].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    (frames, entries)
}

/// The frame's entries at or after `start`, as Loki replays them (None if none are).
fn replay_from(frame: &str, start: i64) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(frame).unwrap();
    let mut any = false;
    for s in v["streams"].as_array_mut().unwrap() {
        let values = s["values"].as_array_mut().unwrap();
        values.retain(|e| e[0].as_str().unwrap().parse::<i64>().unwrap() >= start);
        any |= !values.is_empty();
    }
    any.then(|| v.to_string())
}

/// A websocket upgrade the server saw: its URI and tenant header.
type SeenRequest = (String, Option<String>);

#[test]
#[allow(clippy::result_large_err)] // tungstenite's handshake callback type, not ours
fn tail_reconnects_from_the_last_timestamp_without_duplicates_and_marks_gaps() {
    let (frames, entries) = recorded();
    assert!(
        frames.len() >= 4,
        "the recording has {} frames",
        frames.len()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let requests: Arc<Mutex<Vec<SeenRequest>>> = Arc::default();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let server_frames = frames.clone();
    let seen_requests = requests.clone();
    rt.spawn(async move {
        let mut connection = 0;
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            connection += 1;
            let log = seen_requests.clone();
            let mut start = 0i64;
            let callback = |req: &Request, resp: Response| {
                let uri = req.uri().to_string();
                let tenant = req.headers().get("X-Scope-OrgID").and_then(|v| v.to_str().ok()).map(str::to_string);
                log.lock().unwrap().push((uri, tenant));
                Ok(resp)
            };
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else { continue };
            let (uri, _) = seen_requests.lock().unwrap().last().cloned().unwrap();
            if let Some(s) = uri.split("start=").nth(1) {
                start = s.split('&').next().unwrap().parse().unwrap();
            }
            if connection == 1 {
                // The first connection gets half the frames, then drops without a close frame.
                for f in &server_frames[..server_frames.len() / 2] {
                    ws.send(Message::text(f.clone())).await.unwrap();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                drop(ws);
            } else {
                // Loki replays everything from `start`, so entries at the boundary come again.
                for f in &server_frames {
                    if let Some(r) = replay_from(f, start) {
                        ws.send(Message::text(r)).await.unwrap();
                    }
                }
                let dropped = r#"{"streams":[],"dropped_entries":[{"labels":{"job":"sshd","host":"bastion-1"},"timestamp":"1795329040000000000"},{"labels":{"job":"sshd","host":"bastion-1"},"timestamp":"1795329041000000000"}]}"#;
                ws.send(Message::text(dropped)).await.unwrap();
                // Stay open until the client goes.
                while let Some(Ok(_)) = ws.next().await {}
            }
        }
    });

    let mut endpoint = Endpoint::new(&format!("http://127.0.0.1:{port}"));
    endpoint.tenant = Some("tenant-a".into());
    endpoint.timeout = Duration::from_secs(5);
    let cancel = Cancel::default();
    let received: Arc<Mutex<Vec<casefile::model::Event>>> = Arc::default();
    let sink = received.clone();
    let send = move |m: SourceMessage| {
        if let SourceMessage::Batch { events, .. } = m {
            sink.lock().unwrap().extend(events);
        }
        true
    };
    let stopper = cancel.clone();
    let want = entries.len() + 1;
    let watch = received.clone();
    std::thread::spawn(move || {
        for _ in 0..100 {
            if watch.lock().unwrap().len() >= want {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        stopper.cancel();
    });
    let mut report = SourceReport::new("loki", SourceKind::Loki, "{job=\"sshd\"}");
    let first_ts = entries.iter().map(|e| e.0).min().unwrap();
    rt.block_on(loki_client::tail(
        &endpoint,
        "{job=\"sshd\"}",
        first_ts,
        &EntityTable::loki(),
        0,
        &mut report,
        &cancel,
        &send,
    ));

    let events = received.lock().unwrap().clone();
    let (gaps, lines): (Vec<_>, Vec<_>) = events
        .iter()
        .partition(|e| e.tags.iter().any(|t| t == "gap"));
    let mut got: BTreeMap<(i64, String), usize> = BTreeMap::new();
    for e in &lines {
        *got.entry((e.ts.0, e.message.clone())).or_default() += 1;
    }
    let mut want: BTreeMap<(i64, String), usize> = BTreeMap::new();
    for e in &entries {
        *want.entry(e.clone()).or_default() += 1;
    }
    assert_eq!(got, want, "every recorded entry exactly once");
    assert_eq!(gaps.len(), 1);
    assert!(
        gaps[0].title.contains("dropped 2 entries"),
        "{}",
        gaps[0].title
    );
    assert!(gaps[0]
        .entities
        .contains(casefile::model::EntityKey::Host, "bastion-1"));

    let requests = requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests
        .iter()
        .all(|(_, t)| t.as_deref() == Some("tenant-a")));
    // The reconnect asked for what followed the last entry of the first connection.
    let sent_first: Vec<i64> = frames[..frames.len() / 2]
        .iter()
        .flat_map(|f| {
            let v: serde_json::Value = serde_json::from_str(f).unwrap();
            v["streams"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| {
                    s["values"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e[0].as_str().unwrap().parse::<i64>().unwrap())
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let resume = sent_first.iter().max().unwrap();
    assert!(
        requests[1].0.contains(&format!("start={resume}")),
        "{}",
        requests[1].0
    );
    assert!(
        requests[0]
            .0
            .starts_with("/loki/api/v1/tail?query=%7Bjob%3D%22sshd%22%7D"),
        "{}",
        requests[0].0
    );
}

#[test]
fn a_tail_behind_an_untrusted_certificate_is_refused_and_says_why() {
    use support::tls_server::{self, TestCa};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ca = TestCa::new();
    let ca_file = std::env::temp_dir().join(format!("casefile-tail-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    for (what, served, ca_cert, words) in [
        (
            "self-signed",
            tls_server::self_signed("127.0.0.1"),
            None,
            "UnknownIssuer",
        ),
        (
            "expired",
            ca.leaf("127.0.0.1", true),
            Some(ca_file.clone()),
            "expired",
        ),
    ] {
        let port = tls_server::start(served);
        let mut endpoint = Endpoint::new(&format!("https://127.0.0.1:{port}"));
        endpoint.timeout = Duration::from_secs(5);
        endpoint.tls.ca_cert = ca_cert;
        let cancel = Cancel::default();
        let said: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = said.clone();
        let send = move |m: SourceMessage| {
            log.lock().unwrap().push(format!("{m:?}"));
            true
        };
        let stopper = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(2));
            stopper.cancel();
        });
        let mut report = SourceReport::new("loki", SourceKind::Loki, "{job=\"sshd\"}");
        rt.block_on(loki_client::tail(
            &endpoint,
            "{job=\"sshd\"}",
            0,
            &EntityTable::loki(),
            0,
            &mut report,
            &cancel,
            &send,
        ));
        let all = format!("{:?} {:?}", report.error, said.lock().unwrap());
        assert!(all.contains(words), "{what}: `{words}` not in {all}");
    }
    let _ = std::fs::remove_file(&ca_file);
}
