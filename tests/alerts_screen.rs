//! Live alerts in the TUI: raised on the status line as events arrive, never moving the
//! selection or the focus; the bell between frames when asked for; `A` lists them and Enter
//! pivots on an alert's group.

use casefile::alerts::{AlertEngine, AlertRules, ChainSet};
use casefile::app::alerts::AlertState;
use casefile::app::{App, Pane};
use casefile::load::{Loaded, SourceReport};
use casefile::model::{Entities, EntityKey, Event, EventKind, Severity, SourceKind, Timestamp};
use casefile::sources::task::SourceMessage;
use casefile::store::Query;
use casefile::ui::keymap::Keymap;
use casefile::ui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::time::Duration;

fn failed_login(secs: i64, user: &str) -> Event {
    let mut entities = Entities::new();
    entities.add(EntityKey::User, user);
    entities.add(EntityKey::Ip, "203.0.113.45");
    entities.add(EntityKey::Host, "bastion-1");
    let text = format!(
        "sshd: Failed password for {user} from 203.0.113.45 port {} ssh2",
        40_000 + secs
    );
    Event {
        ts: Timestamp(1_795_176_000_000_000_000 + secs * 1_000_000_000),
        source: SourceKind::Loki,
        source_name: "loki-test".into(),
        kind: EventKind::Log,
        severity: Severity::Warning,
        title: text.clone(),
        message: text.clone(),
        entities,
        process: None,
        tags: vec![],
        raw: text,
    }
}

fn live_app(bell: bool) -> App {
    let mut loaded = Loaded::default();
    let mut report = SourceReport::new("loki-test", SourceKind::Loki, "{job=\"sshd\"}");
    report.progress = Some((0, None));
    loaded.reports.push(report);
    let mut app = App::new(
        loaded,
        Keymap::load_strict("default", None, 0).unwrap(),
        Theme::load_strict("dark", None).unwrap(),
        Query::default(),
        (100, 30),
    );
    let engine = AlertEngine::new(AlertRules::built_in(), ChainSet::built_in());
    app.alerts = Some(AlertState::new(engine, bell));
    app
}

fn send(app: &mut App, events: Vec<Event>) {
    app.on_source(SourceMessage::Batch { source: 0, events });
    std::thread::sleep(Duration::from_millis(160));
    while app.busy() {
        app.tick();
    }
}

fn key(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn screen(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    t.draw(|f| casefile::ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..buf.area.height)
        .map(|y| {
            let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            row.trim_end().to_string() + "\n"
        })
        .collect()
}

#[test]
fn a_brute_force_raises_one_alert_on_the_status_line_without_moving_the_selection() {
    let mut app = live_app(true);
    // Twenty failed logins: at the threshold, not over it.
    send(&mut app, (0..20).map(|i| failed_login(i, "root")).collect());
    assert!(app.notice.is_none(), "{:?}", app.notice);
    assert!(!app.alerts.as_mut().unwrap().take_bell());
    // The user looks at the first event, in the detail pane.
    key(&mut app, KeyCode::Char('g'));
    key(&mut app, KeyCode::Tab);
    let chosen = app.timeline.selected_pos();
    assert_eq!(app.focus, Pane::Detail);
    // The 21st, from another account: over the threshold, for the same address and host.
    send(&mut app, vec![failed_login(20, "admin")]);
    let told = app.notice.clone().expect("the alert is told");
    assert!(told.contains("SSH brute force"), "{told}");
    assert!(told.contains("A lists alerts"), "{told}");
    assert_eq!(app.focus, Pane::Detail, "the focus stays");
    assert_eq!(app.timeline.selected_pos(), chosen, "the selection stays");
    assert!(
        app.alerts.as_mut().unwrap().take_bell(),
        "the bell rings once"
    );
    assert!(!app.alerts.as_mut().unwrap().take_bell());
    let s = screen(&app);
    assert!(s.contains("⚑ 1 alert (A)"), "{s}");
    // More of the same incident: an update, not a new alert, and no bell.
    app.notice = None;
    send(
        &mut app,
        (21..60).map(|i| failed_login(i, "oracle")).collect(),
    );
    assert!(app.notice.is_none(), "{:?}", app.notice);
    assert!(!app.alerts.as_mut().unwrap().take_bell());
    assert_eq!(app.alerts.as_ref().unwrap().raised(), 1);
    // The case metrics count it: it fired at the 21st login, 20 s after the first.
    let m = casefile::ui::case_metrics::for_app(&app);
    assert_eq!(
        m.first_alert.as_ref().map(|a| a.at.as_str()),
        Some("2026-11-20T12:00:20.000000000Z")
    );
    assert_eq!(m.time_to_detect_ns, Some(20_000_000_000));

    // A lists it with its count; Enter pivots on its group.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('A'));
    let list = screen(&app);
    insta::assert_snapshot!("alerts_list", list);
    assert!(
        list.contains("SSH brute force ×60 ip=203.0.113.45 host=bastion-1"),
        "{list}"
    );
    key(&mut app, KeyCode::Enter);
    let top = screen(&app).lines().next().unwrap().to_string();
    assert!(
        top.contains("ip=203.0.113.45") && top.contains("host=bastion-1"),
        "{top}"
    );
}

#[test]
fn without_the_bell_setting_nothing_rings() {
    let mut app = live_app(false);
    send(&mut app, (0..30).map(|i| failed_login(i, "root")).collect());
    assert!(app.notice.is_some());
    assert!(!app.alerts.as_mut().unwrap().take_bell());
}

#[test]
fn what_is_loaded_once_has_no_alerts_and_a_says_why() {
    let mut app = App::new(
        casefile::demo::load(),
        Keymap::load_strict("default", None, 0).unwrap(),
        Theme::load_strict("dark", None).unwrap(),
        Query::default(),
        (100, 30),
    );
    key(&mut app, KeyCode::Char('A'));
    assert!(screen(&app).contains("alerts run on live sources"));
}
