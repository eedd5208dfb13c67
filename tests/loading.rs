//! Sources that load in the background: the view follows batches as they arrive, keeps the
//! chosen event when late events move the others, shows progress, and stops on request.

use casefile::app::App;
use casefile::load::{self, Loaded, SourceReport};
use casefile::model::{Entities, EntityKey, Event, EventKind, Severity, SourceKind, Timestamp};
use casefile::sources::task::{Cancel, SourceMessage};
use casefile::sources::EntityTable;
use casefile::store::Query;
use casefile::ui::keymap::Keymap;
use casefile::ui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::time::Duration;

fn event(secs: i64, title: &str) -> Event {
    let mut entities = Entities::new();
    entities.add(EntityKey::User, "mallory");
    Event {
        ts: Timestamp(1_795_176_000_000_000_000 + secs * 1_000_000_000),
        source: SourceKind::Falco,
        source_name: "falco:test".into(),
        kind: EventKind::Alert,
        severity: Severity::Warning,
        title: title.into(),
        message: String::new(),
        entities,
        process: None,
        tags: vec![],
        raw: "{}".into(),
    }
}

fn empty_app() -> App {
    let mut loaded = Loaded::default();
    let mut report = SourceReport::new("falco:test", SourceKind::Falco, "test");
    report.progress = Some((0, Some(1000)));
    loaded.reports.push(report);
    let mut app = App::new(
        loaded,
        Keymap::load_strict("default", None, 0).unwrap(),
        Theme::load_strict("dark", None).unwrap(),
        Query::default(),
        (120, 30),
    );
    // The events here (`e0`, `e1`…) are repeats of one template, which folding would show
    // as one row; these tests follow single events as they load.
    app.fold.enabled = false;
    app
}

fn screen(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    t.draw(|f| casefile::ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                + "\n"
        })
        .collect()
}

fn settle(app: &mut App) {
    std::thread::sleep(Duration::from_millis(160));
    while app.busy() {
        app.tick();
    }
}

#[test]
fn the_view_follows_batches_and_shows_progress() {
    let mut app = empty_app();
    assert!(app.loading());
    app.on_source(SourceMessage::Batch {
        source: 0,
        events: (0..10).map(|i| event(i, &format!("e{i}"))).collect(),
    });
    app.on_source(SourceMessage::Progress {
        source: 0,
        done: 500,
        total: Some(1000),
    });
    settle(&mut app);
    let s = screen(&app);
    assert!(s.contains("1/10"), "{s}");
    assert!(s.contains("loading 50%, esc stops"), "{s}");
    assert!(s.contains("falco 10 50%"), "{s}");
    let mut done = SourceReport::new("falco:test", SourceKind::Falco, "test");
    done.events = 10;
    app.on_source(SourceMessage::Finished {
        source: 0,
        report: done,
    });
    assert!(!app.loading());
    let s = screen(&app);
    assert!(!s.contains("loading"), "{s}");
}

#[test]
fn the_chosen_event_stays_chosen_when_late_events_move_it() {
    let mut app = empty_app();
    app.on_source(SourceMessage::Batch {
        source: 0,
        events: (10..20).map(|i| event(i, &format!("e{i}"))).collect(),
    });
    settle(&mut app);
    for _ in 0..3 {
        app.handle_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    }
    let chosen = |app: &App| {
        app.data
            .store
            .get(app.timeline.selected_pos().unwrap())
            .unwrap()
            .title()
            .to_string()
    };
    assert_eq!(chosen(&app), "e13");
    // Older events arrive: every position shifts by five.
    app.on_source(SourceMessage::Batch {
        source: 0,
        events: (0..5).map(|i| event(i, &format!("late{i}"))).collect(),
    });
    settle(&mut app);
    assert_eq!(chosen(&app), "e13");
    assert_eq!(app.timeline.shown.len(), 15);
    assert_eq!(app.detail.pos, app.timeline.selected_pos());
    let s = screen(&app);
    assert!(s.contains("title    e13"), "{s}");
}

#[test]
fn a_cancelled_file_keeps_what_was_read_and_reports_no_false_errors() {
    let dir = std::env::temp_dir().join(format!("casefile-loading-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.jsonl");
    let line = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/falco/website_terminal_shell_in_container.ndjson"
    ))
    .unwrap();
    std::fs::write(&path, format!("{}\n", line.trim())).unwrap();
    // Cancelled before it starts: it must end at once, cancelled, with nothing skipped.
    let cancel = Cancel::default();
    cancel.cancel();
    let (tx, rx) = std::sync::mpsc::sync_channel(4);
    let placeholder = load::spawn_falco_file(
        0,
        path.to_str().unwrap(),
        EntityTable::falco(),
        std::sync::Arc::new(casefile::load::IngestRules::default()),
        cancel,
        false,
        move |m| tx.send(m).is_ok(),
    )
    .unwrap();
    assert!(placeholder.progress.is_some());
    let last = rx.iter().last().expect("a final report");
    match last {
        SourceMessage::Finished { report, .. } => {
            assert!(report.cancelled);
            assert_eq!(report.skipped.skipped, 0);
            assert!(report.error.is_none(), "{:?}", report.error);
            assert!(report.progress.is_none());
        }
        other => panic!("expected Finished, got {other:?}"),
    }
    // Not cancelled: every event arrives.
    let (tx, rx) = std::sync::mpsc::sync_channel(4);
    load::spawn_falco_file(
        0,
        path.to_str().unwrap(),
        EntityTable::falco(),
        std::sync::Arc::new(casefile::load::IngestRules::default()),
        Cancel::default(),
        false,
        move |m| tx.send(m).is_ok(),
    )
    .unwrap();
    let events: usize = rx
        .iter()
        .map(|m| match m {
            SourceMessage::Batch { events, .. } => events.len(),
            SourceMessage::Packed { batch, .. } => batch.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(events, 1);
    // A missing file is an error before any thread starts.
    let err = load::spawn_falco_file(
        0,
        dir.join("nope").to_str().unwrap(),
        EntityTable::falco(),
        std::sync::Arc::new(casefile::load::IngestRules::default()),
        Cancel::default(),
        false,
        |_| true,
    )
    .unwrap_err();
    assert!(
        err.contains("nope") && err.contains("No such file"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn freezing_holds_the_view_and_loses_nothing() {
    let mut app = empty_app();
    app.on_source(SourceMessage::Batch {
        source: 0,
        events: (0..3).map(|i| event(i, &format!("e{i}"))).collect(),
    });
    settle(&mut app);
    app.handle_key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::NONE));
    assert!(app.frozen.is_some());
    app.on_source(SourceMessage::Batch {
        source: 0,
        events: (3..8).map(|i| event(i, &format!("e{i}"))).collect(),
    });
    settle(&mut app);
    assert_eq!(app.timeline.shown.len(), 3, "the view holds still");
    let s = screen(&app);
    assert!(s.contains("FROZEN, 1 updates waiting (f resumes)"), "{s}");
    app.handle_key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::NONE));
    settle(&mut app);
    assert_eq!(app.timeline.shown.len(), 8, "nothing was lost");
    assert!(app.frozen.is_none());
}

#[test]
fn a_failing_source_stays_visible_in_the_server_words() {
    let mut app = empty_app();
    let mut failed = SourceReport::new("loki-prod", SourceKind::Loki, "{job=\"sshd\"}");
    failed.error = Some("HTTP 401: no org id".into());
    app.on_source(SourceMessage::Finished {
        source: 0,
        report: failed,
    });
    // The notice goes with the next key; the error stays.
    app.handle_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    let s = screen(&app);
    assert!(s.contains("! loki-prod: HTTP 401: no org id"), "{s}");
    assert!(s.contains("1 source error"), "{s}");
}

#[test]
fn a_source_without_tls_verification_is_flagged() {
    let mut app = empty_app();
    let mut report = SourceReport::new("loki-lab", SourceKind::Loki, "{job=\"x\"}");
    report.insecure = true;
    app.on_source(SourceMessage::Finished { source: 0, report });
    let s = screen(&app);
    assert!(s.lines().next().unwrap().contains("INSECURE TLS"), "{s}");
}

#[test]
fn events_read_twice_by_overlapping_tasks_are_held_once() {
    let mut data = Loaded::default();
    let mut first = SourceReport::new("loki", SourceKind::Loki, "q");
    first.events = 1;
    data.reports.push(first);
    let mut pushed = SourceReport::new("loki · user=mallory", SourceKind::Loki, "q |= \"mallory\"");
    pushed.overlaps = true;
    data.reports.push(pushed);
    data.apply(SourceMessage::Batch {
        source: 0,
        events: vec![event(1, "a"), event(2, "b")],
    });
    // The pushed-down task reads one event again and one new one; its report keeps the flag.
    data.apply(SourceMessage::Batch {
        source: 1,
        events: vec![event(2, "b"), event(3, "c")],
    });
    let done = SourceReport::new("loki · user=mallory", SourceKind::Loki, "q");
    data.apply(SourceMessage::Finished {
        source: 1,
        report: done,
    });
    data.apply(SourceMessage::Batch {
        source: 1,
        events: vec![event(1, "a")],
    });
    assert_eq!(data.store.len(), 3);
    assert!(data.reports[1].overlaps);
    // A source that does not overlap is taken as it comes (two equal lines are two lines).
    data.apply(SourceMessage::Batch {
        source: 0,
        events: vec![event(3, "c")],
    });
    assert_eq!(data.store.len(), 4);
}

#[test]
fn raw_records_are_read_back_from_their_file_and_a_rewritten_file_says_so() {
    let dir = std::env::temp_dir().join(format!("casefile-raw-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("falco.jsonl");
    let line = |n: u32| {
        format!(
            r#"{{"time":"2026-11-20T12:00:0{n}Z","rule":"rule-{n}","priority":"Notice","output":"out {n}","output_fields":{{"user.name":"u{n}"}}}}"#
        )
    };
    std::fs::write(&path, format!("{}\n  {}\n", line(1), line(2))).unwrap();
    let mut loaded = Loaded::default();
    load::falco_input(
        &mut loaded,
        path.to_str().unwrap(),
        &EntityTable::falco(),
        None,
    )
    .unwrap();
    assert_eq!(loaded.store.len(), 2);
    for (pos, n) in [(0, 1), (1, 2)] {
        let e = loaded.store.get(pos).unwrap();
        assert_eq!(e.raw_checked().unwrap(), line(n));
        assert_eq!(e.to_event().raw, line(n));
    }
    // Rewritten in place (same length, other bytes): never another record in its place.
    let rewritten = format!("{}\n  {}\n", line(1), line(2)).replace("rule-2", "rule-9");
    std::fs::write(&path, rewritten).unwrap();
    let e = loaded.store.get(1).unwrap();
    let err = e.raw_checked().unwrap_err();
    assert!(err.contains("changed since it was loaded"), "{err}");
    assert!(
        e.raw().starts_with("(raw record unavailable:"),
        "{}",
        e.raw()
    );
    // The untouched record is still read back.
    assert_eq!(loaded.store.get(0).unwrap().raw_checked().unwrap(), line(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn repeats_arriving_live_add_to_their_folded_row() {
    let mut app = empty_app();
    app.fold.enabled = true;
    app.on_source(SourceMessage::Batch {
        source: 0,
        events: (0..10).map(|i| event(i, &format!("e{i}"))).collect(),
    });
    settle(&mut app);
    // `e0` … `e9` are one template: one row standing for ten events.
    assert_eq!(app.timeline.shown.len(), 1);
    let row = app.timeline.shown[0];
    assert_eq!(app.fold.summary(row).map(|s| s.count), Some(10));
    app.on_source(SourceMessage::Batch {
        source: 0,
        events: (10..15).map(|i| event(i, &format!("e{i}"))).collect(),
    });
    settle(&mut app);
    assert_eq!(app.timeline.shown, vec![row], "still the one row");
    assert_eq!(app.timeline.events().len(), 15);
    assert_eq!(app.fold.summary(row).map(|s| s.count), Some(15));
    assert!(screen(&app).contains("×15 "), "{}", screen(&app));
}
