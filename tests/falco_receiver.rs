//! The built-in receiver for Falco http_output and falcosidekick webhooks, over real HTTP on
//! loopback: each POSTed record arrives once; bad bodies get a 400 naming the problem.

use casefile::sources::falco_receiver;
use casefile::sources::task::{Cancel, SourceMessage};
use casefile::sources::EntityTable;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

fn fixture(path: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(path),
    )
    .unwrap()
}

/// One HTTP/1.1 request on its own connection; returns status and body.
fn request(addr: SocketAddr, method: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "{method} / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    // A body larger than the limit may be refused before it is all sent.
    let _ = s.write_all(body);
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (
        status,
        text.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    )
}

fn titles(rx: &Receiver<SourceMessage>, want: usize) -> Vec<String> {
    titles_within(rx, want, Duration::from_secs(5))
}

fn titles_within(rx: &Receiver<SourceMessage>, want: usize, wait: Duration) -> Vec<String> {
    let mut out = Vec::new();
    let deadline = Instant::now() + wait;
    while out.len() < want {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(SourceMessage::Batch { events, .. }) => {
                out.extend(events.into_iter().map(|e| e.title))
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    out
}

#[test]
fn falco_and_falcosidekick_posts_become_events_once() {
    let cancel = Cancel::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let (addr, report) = falco_receiver::spawn(
        "127.0.0.1:0",
        0,
        EntityTable::falco(),
        cancel.clone(),
        move |m| tx.send(m).is_ok(),
    )
    .unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    assert!(report.live);

    // Falco http_output sends the json_output record.
    let falco = fixture("falco/website_terminal_shell_in_container.ndjson");
    assert_eq!(request(addr, "POST", falco.trim().as_bytes()).0, 200);
    assert_eq!(titles(&rx, 1), ["Terminal shell in container"]);
    // falcosidekick forwards its payload (pretty-printed, with uuid and no nanoseconds).
    let mut rules = Vec::new();
    for f in [
        "falcosidekick/readme_test_event_payload.json",
        "falcosidekick/client_test_falco_input.json",
    ] {
        let (status, body) = request(addr, "POST", fixture(f).as_bytes());
        assert_eq!(status, 200, "{f}: {body}");
        let v: serde_json::Value = serde_json::from_str(&fixture(f)).unwrap();
        rules.push(v["rule"].as_str().unwrap().to_string());
    }
    assert_eq!(titles(&rx, 2), rules);
    // Several records as JSON lines in one body.
    let lines = fixture("falco/elastic_integrations_falco_eventgen_alerts.ndjson");
    let n = lines.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(request(addr, "POST", lines.as_bytes()).0, 200);
    assert_eq!(titles(&rx, n).len(), n);

    // Bad bodies: the answer names the problem; nothing is ingested.
    let (status, body) = request(addr, "POST", b"{\"rule\": \"no time\"}");
    assert_eq!(status, 400);
    assert!(body.contains("no usable `time`"), "{body}");
    let (status, _) = request(addr, "POST", b"\x1b[2J not json");
    assert_eq!(status, 400);
    assert_eq!(request(addr, "GET", b"").0, 405);
    let (status, _) = request(addr, "POST", &vec![b' '; falco_receiver::MAX_BODY + 1]);
    assert_eq!(status, 413);
    assert!(
        titles_within(&rx, 1, Duration::from_millis(300)).is_empty(),
        "a bad body produced an event"
    );

    // A second listener on the same address is a clear error.
    let err = falco_receiver::spawn(
        &addr.to_string(),
        1,
        EntityTable::falco(),
        Cancel::default(),
        |_| true,
    )
    .unwrap_err();
    assert!(
        err.contains("cannot listen") && err.contains(&addr.to_string()),
        "{err}"
    );

    // Cancelling ends it with a report that counts what came and what was refused.
    cancel.cancel();
    let deadline = Instant::now() + Duration::from_secs(5);
    let report = loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(SourceMessage::Finished { report, .. }) => break report,
            Ok(_) => {}
            Err(e) => panic!("no final report: {e}"),
        }
    };
    assert_eq!(report.events, 3 + n);
    assert_eq!(report.skipped.skipped, 2);
}
