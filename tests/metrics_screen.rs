//! The case metrics overlay as a user sees it: the real drawing code over the demo incident,
//! with marks made at known times, rendered into ratatui's TestBackend and snapshotted.

use casefile::app::App;
use casefile::case_metrics::Origin;
use casefile::model::Timestamp;
use casefile::store::Query;
use casefile::ui::keymap::Keymap;
use casefile::ui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;

fn demo_app(size: (u16, u16)) -> App {
    let keymap = Keymap::load_strict("default", None, 0).unwrap();
    let theme = Theme::load_strict("dark", None).unwrap();
    let mut app = App::new(
        casefile::demo::load(),
        keymap,
        theme,
        Query::default(),
        size,
    );
    while app.busy() {
        app.tick();
    }
    app
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

/// The demo read as if live: a star on the first event at 13:15:00.250, a note on another
/// at 13:20 (the chain fires at 13:09:05.004).
fn marked(size: (u16, u16)) -> App {
    let mut app = demo_app(size);
    let id = |app: &App, pos: u32| app.data.store.id_at(pos).unwrap();
    let (a, b) = (id(&app, 0), id(&app, 100));
    app.marks.toggle_star_at(a, t("2026-11-20T13:15:00.25Z"));
    app.marks
        .set_note_at(b, "looks related #triage", t("2026-11-20T13:20:00Z"));
    app
}

/// The screen with the overlay open, its metrics computed as `S` computes them.
fn render(app: &mut App) -> Buffer {
    app.case_metrics = Some(casefile::ui::case_metrics::for_app(app));
    let app = &*app;
    let mut terminal = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    terminal
        .draw(|f| {
            casefile::ui::draw(f, app);
            casefile::ui::case_metrics::draw(f, app, 0);
        })
        .unwrap();
    terminal.backend().buffer().clone()
}

/// The overlay's cells only, from its top-left corner to its bottom-right one: what lies
/// under it is other screens' business (tests/screens.rs).
fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let row = |y: u16| -> String { (0..area.width).map(|x| buf[(x, y)].symbol()).collect() };
    let (x0, y0) = (0..area.height)
        .find_map(|y| {
            (0..area.width)
                .find(|&x| {
                    buf[(x, y)].symbol() == "┌"
                        && (x + 2..x + 14)
                            .map(|x| buf[(x, y)].symbol())
                            .collect::<String>()
                            == "case metrics"
                })
                .map(|x| (x, y))
        })
        .unwrap_or_else(|| {
            panic!(
                "no overlay on the screen:\n{}",
                (0..area.height).map(row).collect::<Vec<_>>().join("\n")
            )
        });
    let x1 = (x0..area.width)
        .find(|&x| buf[(x, y0)].symbol() == "┐")
        .unwrap();
    let y1 = (y0..area.height)
        .find(|&y| buf[(x0, y)].symbol() == "└")
        .unwrap();
    let mut out = String::new();
    for y in y0..=y1 {
        let line: String = (x0..=x1).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn wide_case_metrics() {
    let mut app = marked((120, 40));
    let m = casefile::ui::case_metrics::for_app(&app);
    // 13:09:05.004185526 − 12:58:20.327894000, and 13:15:00.25 − 13:09:05.004185526.
    assert_eq!(m.time_to_detect_ns, Some(644_676_291_526));
    assert_eq!(m.time_to_triage_ns, Some(355_245_814_474));
    assert_eq!(m.time_to_export_ns, None, "nothing exported yet");
    let screen = text(&render(&mut app));
    assert!(screen.contains("time to detect 10m 44s"), "{screen}");
    insta::assert_snapshot!("wide_case_metrics", screen);
}

#[test]
fn narrow_case_metrics_on_the_demo() {
    let mut app = marked((80, 24));
    // As `casefile demo` runs it: the demo's clock is not the analyst's.
    app.marks.origin = Origin::Demo;
    let screen = text(&render(&mut app));
    assert!(screen.contains("time to triage not known"), "{screen}");
    insta::assert_snapshot!("narrow_case_metrics_demo", screen);
}

/// `S` opens the overlay over the screen, `j` scrolls it, `S` or `Esc` closes it.
#[test]
fn s_opens_and_esc_closes_the_case_metrics() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = marked((80, 24));
    let key = |app: &mut App, code| app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
    let screen = |app: &App| {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal.draw(|f| casefile::ui::draw(f, app)).unwrap();
        let buf = terminal.backend().buffer().clone();
        (0..24)
            .map(|y| (0..80).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    };
    key(&mut app, KeyCode::Char('S'));
    assert!(screen(&app).contains("case metrics"));
    assert!(screen(&app).contains("time to triage 5m 55s"));
    key(&mut app, KeyCode::Char('j'));
    assert!(
        screen(&app).contains("case metrics"),
        "j scrolls, the overlay stays"
    );
    key(&mut app, KeyCode::Esc);
    assert!(!screen(&app).contains("case metrics"));
    key(&mut app, KeyCode::Char('S'));
    key(&mut app, KeyCode::Char('S'));
    assert!(!screen(&app).contains("case metrics"), "S again closes it");
}
