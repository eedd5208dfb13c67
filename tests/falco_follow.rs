//! Following a Falco file while it grows, rotates, is truncated and is deleted: every event
//! arrives exactly once, and a half-written line waits for its newline.

use casefile::load;
use casefile::sources::task::{Cancel, SourceMessage};
use casefile::sources::EntityTable;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// A real Falco line with its rule renamed, so each line is recognisable.
fn line(n: usize) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/falco/website_terminal_shell_in_container.ndjson"
    ))
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    v["rule"] = serde_json::json!(format!("rule-{n}"));
    v.to_string()
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.flush().unwrap();
}

/// Collects rule names from batches until `want` distinct ones have arrived (or times out).
fn collect(rx: &Receiver<SourceMessage>, seen: &mut BTreeMap<String, usize>, want: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "only {} of {want} events arrived: {seen:?}",
            seen.len()
        );
        if let Ok(m) = rx.recv_timeout(left) {
            count_titles(m, seen);
        }
    }
}

/// Counts the rule names of a message's events: batches of events, or packed ones (what was in
/// the file at the start is read on every core).
fn count_titles(m: SourceMessage, seen: &mut BTreeMap<String, usize>) {
    let titles: Vec<String> = match m {
        SourceMessage::Batch { events, .. } => events.into_iter().map(|e| e.title).collect(),
        SourceMessage::Packed { batch, .. } => {
            batch.iter().map(|e| e.title().to_string()).collect()
        }
        _ => Vec::new(),
    };
    for t in titles {
        *seen.entry(t).or_default() += 1;
    }
}

#[test]
fn a_followed_file_delivers_every_event_once_across_rotation_truncation_and_deletion() {
    let dir: PathBuf = std::env::temp_dir().join(format!("casefile-follow-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.json");
    append(&path, &format!("{}\n{}\n", line(0), line(1)));

    let cancel = Cancel::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let placeholder = load::spawn_falco_file(
        0,
        path.to_str().unwrap(),
        EntityTable::falco(),
        std::sync::Arc::new(casefile::load::IngestRules::default()),
        cancel.clone(),
        true,
        move |m| tx.send(m).is_ok(),
    )
    .unwrap();
    assert!(placeholder.progress.is_some());
    let mut seen = BTreeMap::new();
    collect(&rx, &mut seen, 2);

    // Growth, with a line written in two halves: it must not be parsed before its newline.
    let l2 = line(2);
    let (a, b) = l2.split_at(l2.len() / 2);
    append(&path, a);
    std::thread::sleep(Duration::from_millis(500));
    append(&path, &format!("{b}\n{}\n", line(3)));
    collect(&rx, &mut seen, 4);

    // Rotation (logrotate's create): the old file is renamed, a new one takes the name. A line
    // written to the old file just before the rename is still read.
    append(&path, &format!("{}\n", line(4)));
    std::fs::rename(&path, dir.join("events.json.1")).unwrap();
    append(&path, &format!("{}\n", line(5)));
    collect(&rx, &mut seen, 6);

    // Truncation (logrotate's copytruncate): the file shrinks and starts again.
    std::fs::write(&path, "").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    append(&path, &format!("{}\n", line(6)));
    collect(&rx, &mut seen, 7);

    // Deletion, then a new file after a while.
    std::fs::remove_file(&path).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    append(&path, &format!("{}\n{}\n", line(7), line(8)));
    collect(&rx, &mut seen, 9);

    // Nothing was delivered twice, and nothing else arrived.
    std::thread::sleep(Duration::from_millis(600));
    while let Ok(m) = rx.try_recv() {
        count_titles(m, &mut seen);
    }
    let expected: BTreeMap<String, usize> = (0..9).map(|n| (format!("rule-{n}"), 1)).collect();
    assert_eq!(seen, expected);

    // Cancelling ends the task with a final report that counts what was read.
    cancel.cancel();
    let deadline = Instant::now() + Duration::from_secs(5);
    let report = loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(SourceMessage::Finished { report, .. }) => break report,
            Ok(_) => {}
            Err(e) => panic!("no final report: {e}"),
        }
    };
    assert_eq!(report.events, 9);
    assert_eq!(report.skipped.skipped, 0);
    assert!(report.cancelled);
    let _ = std::fs::remove_dir_all(&dir);
}
