//! Times one frame of the TUI at 200x50, the way the terminal loop draws it: the real drawing
//! code into ratatui's TestBackend (no terminal I/O), after one step down the timeline.
//!
//! `cargo run --release --example frame_time -- [FALCO.jsonl]` (no argument: the demo)
//!
//! Prints the median and the worst of 200 steps: the key's handling (the view following the
//! selection) and the frame drawn after it; and how many cells the last step changed. Then a
//! pivot as a user makes it: `p` in the detail on the selected event's first entity, until the
//! work it starts is done and the next frame is drawn, and `b` back the same way (median of 5).

use casefile::app::App;
use casefile::store::Query;
use casefile::ui::keymap::Keymap;
use casefile::ui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::time::{Duration, Instant};

fn main() {
    let loaded = match std::env::args().nth(1) {
        Some(path) => {
            let mut loaded = casefile::load::Loaded::default();
            casefile::load::falco_input(
                &mut loaded,
                &path,
                &casefile::sources::EntityTables::default().falco,
                None,
            )
            .expect("read the Falco file");
            loaded
        }
        None => casefile::demo::load(),
    };
    let events = loaded.store.len();
    let keymap = Keymap::load_strict("default", None, 0).expect("default keymap");
    let theme = Theme::load_strict("dark", None).expect("dark theme");
    let mut app = App::new(loaded, keymap, theme, Query::default(), (200, 50));
    while app.busy() {
        app.tick();
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
    // As the terminal loop draws: a scrolled band is moved by the terminal, not written.
    let mut screen = casefile::ui::scroll_region::Screen::default();
    screen
        .draw(&mut terminal, |f| casefile::ui::draw(f, &app))
        .expect("first frame");
    let mut times: Vec<Duration> = Vec::new();
    let mut keys: Vec<Duration> = Vec::new();
    let mut changed = 0;
    for _ in 0..200 {
        let t = Instant::now();
        app.handle_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
        while app.busy() {
            app.tick();
        }
        keys.push(t.elapsed());
        let before = terminal.backend().buffer().clone();
        let t = Instant::now();
        screen
            .draw(&mut terminal, |f| casefile::ui::draw(f, &app))
            .expect("frame");
        times.push(t.elapsed());
        let after = terminal.backend().buffer();
        changed = before
            .content()
            .iter()
            .zip(after.content())
            .filter(|(a, b)| a != b)
            .count();
    }
    times.sort();
    keys.sort();
    println!(
        "{events} events, 200x50: the key `j` {:?} (worst {:?}); the frame after it {:?} (worst {:?}); the last step changed {changed} of 10000 cells",
        keys[keys.len() / 2],
        keys[keys.len() - 1],
        times[times.len() / 2],
        times[times.len() - 1]
    );

    let mut key_to_frame = |app: &mut App, c: char| {
        let t = Instant::now();
        app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        while app.busy() {
            app.tick();
        }
        screen
            .draw(&mut terminal, |f| casefile::ui::draw(f, app))
            .expect("frame");
        t.elapsed()
    };
    let (mut pivots, mut backs) = (Vec::new(), Vec::new());
    let mut label = String::new();
    for _ in 0..5 {
        app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        pivots.push(key_to_frame(&mut app, 'p'));
        label = app
            .history
            .current()
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(" & ");
        backs.push(key_to_frame(&mut app, 'b'));
    }
    pivots.sort();
    backs.sort();
    println!(
        "pivot `{label}` from the detail, key to frame: {:?} (worst {:?}); `b` back to all {:?} (worst {:?})",
        pivots[2], pivots[4], backs[2], backs[4]
    );
}
