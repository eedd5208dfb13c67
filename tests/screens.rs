//! The screen as a user sees it: the real drawing code rendered into ratatui's TestBackend at
//! 120x40 and 80x24, snapshotted, with colour checked where colour carries meaning. The same
//! renderings become the SVG screenshots in `screenshots/`.

use casefile::app::App;
use casefile::store::Query;
use casefile::ui::keymap::Keymap;
use casefile::ui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;

fn demo_app(size: (u16, u16), theme: &str) -> App {
    let keymap = Keymap::load_strict("default", None, 0).unwrap();
    let theme = Theme::load_strict(theme, None).unwrap();
    App::new(
        casefile::demo::load(),
        keymap,
        theme,
        Query::default(),
        size,
    )
}

fn keys(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\t' => KeyCode::Tab,
            '\x1b' => KeyCode::Esc,
            c => KeyCode::Char(c),
        };
        app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
        // A fast typist: each letter of a search restarts it, and only the last one runs
        // to the end (as in the terminal, where the search runs between draws).
        if app.search.editing && matches!(code, KeyCode::Char(_)) {
            continue;
        }
        while app.busy() {
            app.tick();
        }
    }
}

/// Lets the background work finish (the chains found, whose steps folding keeps apart).
fn settle(app: &mut App) {
    while app.busy() {
        app.tick();
    }
}

fn render(app: &App) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    terminal.draw(|f| casefile::ui::draw(f, app)).unwrap();
    terminal.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Writes the SVG screenshot when asked (`UPDATE_SCREENSHOTS=1`), else checks the committed one
/// is the current rendering, so the README never shows a stale screen.
fn screenshot(name: &str, buf: &Buffer) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("screenshots")
        .join(format!("{name}.svg"));
    let svg = casefile::ui::svg::render(buf);
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        std::fs::write(&path, &svg).unwrap();
    } else {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == svg,
            "{} is stale: run UPDATE_SCREENSHOTS=1 cargo test --test screens",
            path.display()
        );
    }
}

fn row_of(buf: &Buffer, needle: &str) -> Option<u16> {
    text(buf)
        .lines()
        .position(|l| l.contains(needle))
        .map(|y| y as u16)
}

#[test]
fn wide_demo_timeline_with_detail() {
    let app = demo_app((120, 40), "dark");
    let buf = render(&app);
    insta::assert_snapshot!("wide_start", text(&buf));
    screenshot("demo-120x40", &buf);
}

#[test]
fn wide_search_then_pivot_on_the_miner_container() {
    let mut app = demo_app((120, 40), "dark");
    keys(&mut app, "/xmrig\n");
    let buf = render(&app);
    insta::assert_snapshot!("wide_search_xmrig", text(&buf));
    // The critical row is drawn in the theme's critical colour.
    let y = row_of(&buf, "Drop and execute new binary").expect("the miner's exec is listed");
    let sev_x = text(&buf)
        .lines()
        .nth(y as usize)
        .unwrap()
        .find("CRIT")
        .unwrap() as u16;
    assert_eq!(buf[(sev_x, y)].fg, Color::Rgb(0xf7, 0x76, 0x8e));
    // Select it, open the detail, move to the container entity and pivot on it.
    let down = text(&buf)
        .lines()
        .position(|l| l.contains("Drop and execute"))
        .unwrap()
        - row_of(&buf, "TIME ").unwrap() as usize
        - 1;
    keys(&mut app, &"j".repeat(down));
    keys(&mut app, "\t");
    let container_at = app
        .detail
        .entities
        .iter()
        .position(|(k, _, _)| k.as_str() == "container")
        .unwrap();
    keys(&mut app, &"j".repeat(container_at));
    keys(&mut app, "\n");
    let buf = render(&app);
    insta::assert_snapshot!("wide_pivot_container", text(&buf));
    screenshot("demo-pivot-120x40", &buf);
    assert!(text(&buf)
        .lines()
        .next()
        .unwrap()
        .contains("pivot: all › container=5f2c1a9b3d4e"));
    // No series carries a container id: the strips are the container's pod's, CPU and egress.
    let strips: Vec<u16> = (0..buf.area.height)
        .filter(|&y| {
            let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            line.starts_with(" api-7d9f-x2k4q ")
        })
        .collect();
    assert_eq!(strips.len(), 2, "{}", text(&buf));
    assert!(app
        .cache
        .metrics
        .iter()
        .all(|m| m.label.contains("api-7d9f-x2k4q")));
    // The cursor: one reversed cell per strip, in the histogram's column of the selected event.
    let reversed = |y: u16| -> Vec<u16> {
        (0..buf.area.width)
            .filter(|&x| buf[(x, y)].modifier.contains(Modifier::REVERSED))
            .collect()
    };
    // The histogram's last row is just above the timeline's header.
    let hist_row = row_of(&buf, "TIME ").expect("the timeline's header") - 1;
    let column = reversed(hist_row);
    assert_eq!(column.len(), 1, "one cursor column in the histogram");
    for y in strips {
        assert_eq!(reversed(y), column, "the strip's cursor is the histogram's");
    }
}

#[test]
fn narrow_80x24_tabs_detail_and_help() {
    let mut app = demo_app((80, 24), "dark");
    let buf = render(&app);
    insta::assert_snapshot!("narrow_start", text(&buf));
    screenshot("demo-80x24", &buf);
    keys(&mut app, "\n");
    insta::assert_snapshot!("narrow_detail", text(&render(&app)));
    keys(&mut app, "?");
    insta::assert_snapshot!("narrow_help", text(&render(&app)));
}

#[test]
fn monochrome_theme_draws_no_colour() {
    let app = demo_app((120, 40), "mono");
    let buf = render(&app);
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            assert!(
                matches!(c.fg, Color::Reset) && matches!(c.bg, Color::Reset),
                "colour at {x},{y}"
            );
        }
    }
    // Same content as the dark theme: only styles differ.
    assert_eq!(text(&buf), text(&render(&demo_app((120, 40), "dark"))));
}

#[test]
fn process_tree_pane_marks_the_selected_process_and_pivots_from_a_node() {
    let mut app = demo_app((120, 40), "dark");
    keys(&mut app, "/xmrig\n");
    // The miner's exec is the second match; Tab twice puts the tree on the right.
    keys(&mut app, "j\t\t");
    let buf = render(&app);
    insta::assert_snapshot!("wide_process_tree", text(&buf));
    screenshot("demo-tree-120x40", &buf);
    let screen = text(&buf);
    let marked = screen
        .lines()
        .find(|l| l.contains('›'))
        .expect("a marked process");
    assert!(marked.contains("xmrig (4300)"), "{marked}");
    // Collapse bash: its children disappear; expand again.
    keys(&mut app, "kkk ");
    assert!(!text(&render(&app)).contains("cat (4251)"));
    keys(&mut app, " ");
    assert!(text(&render(&app)).contains("cat (4251)"));
    // Enter on the cursor's process pivots on its container and pid.
    keys(&mut app, "\n");
    let top = text(&render(&app)).lines().next().unwrap().to_string();
    assert!(top.contains("container=5f2c1a9b3d4e & pid=4242"), "{top}");
}

#[test]
fn correlated_pane_lists_other_sources_sharing_an_entity() {
    let mut app = demo_app((120, 40), "dark");
    keys(&mut app, "/xmrig\n");
    keys(&mut app, "j\t\t\t");
    // A wider window (]) reaches the container start 27 minutes before the miner.
    keys(&mut app, "]]");
    let buf = render(&app);
    insta::assert_snapshot!("wide_correlated", text(&buf));
    let screen = text(&buf);
    assert!(screen.contains("CORRELATED  ±40m"), "{screen}");
    let first = screen
        .lines()
        .find(|l| {
            l.contains("│-00:") || l.contains("│+00:") || l.contains("│-") || l.contains("│+")
        })
        .unwrap();
    assert!(
        first.contains("es") && first.contains("container"),
        "{first}"
    );
    // Enter selects it in the timeline, if shown: here the search hides it, which is said.
    keys(&mut app, "\n");
    assert!(app
        .notice
        .as_deref()
        .unwrap_or("")
        .contains("outside the current pivot or search"));
}

#[test]
fn marks_star_annotate_and_filter() {
    let mut app = demo_app((120, 40), "dark");
    keys(&mut app, "/xmrig\nj");
    keys(&mut app, "m");
    keys(&mut app, "nminer starts here #execution\n");
    let buf = render(&app);
    insta::assert_snapshot!("wide_marked", text(&buf));
    let screen = text(&buf);
    assert!(screen.contains("★ Drop and execute new binary"), "{screen}");
    assert!(
        screen.contains("mark     ★ #execution miner starts here"),
        "{screen}"
    );
    // Only the marked events: one, out of the whole incident once the search is cleared.
    keys(&mut app, "/\x1bM");
    assert_eq!(app.timeline.shown.len(), 1);
    keys(&mut app, "M");
    assert!(app.timeline.events().len() > 1000);
}

#[test]
fn context_shows_the_same_stream_around_the_event() {
    let mut app = demo_app((120, 40), "dark");
    // The accepted login of mallory, in the sshd stream of bastion-1.
    keys(&mut app, "/Accepted password for mallory\n");
    keys(&mut app, "\t\t\tc");
    let buf = render(&app);
    insta::assert_snapshot!("wide_context", text(&buf));
    let screen = text(&buf);
    assert!(screen.contains("CONTEXT"), "{screen}");
    let marked = screen
        .lines()
        .find(|l| l.contains("│›"))
        .expect("the event itself is marked");
    assert!(marked.contains("Accepted password for mallory"), "{marked}");
    // Before it, the brute force from the same address on the same host.
    assert!(screen.contains("Failed password for"), "{screen}");
}

#[test]
fn the_chain_of_the_selected_event_is_marked_and_listed() {
    let mut app = demo_app((120, 40), "dark");
    // mallory's login is a step of the intrusion chain the rules find.
    keys(&mut app, "/Accepted password for mallory\n");
    let screen = text(&render(&app));
    // The timeline's half of the screen: the login row carries the chain mark.
    let login = screen
        .lines()
        .filter_map(|l| l.split('│').next())
        .find(|l| l.contains("sshd: Accepted"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(login.contains("◆ "), "{login}");
    keys(&mut app, "C");
    let buf = render(&app);
    insta::assert_snapshot!("wide_chains", text(&buf));
    let screen = text(&buf);
    assert!(
        screen.contains("◆ SSH brute force, then a miner in a container"),
        "{screen}"
    );
    assert!(
        screen.contains("5. ") && screen.contains("outbound connection from the container"),
        "{screen}"
    );
    keys(&mut app, "\x1b");
    assert!(app.overlay.is_none());
}

#[test]
fn above_the_size_limit_chains_are_found_only_when_asked_and_in_slices() {
    let mut app = demo_app((120, 40), "dark");
    // The demo's events (6,047) are over this limit: nothing is searched on its own.
    app.set_chain_rules(casefile::correlate::chains::Rules::default_rules(), 1_000);
    keys(&mut app, "/Accepted password for mallory\n");
    assert!(!app.chains.running());
    assert!(app.selected_chain().is_none());
    let login = |screen: &str| {
        screen
            .lines()
            .filter_map(|l| l.split('│').next())
            .find(|l| l.contains("sshd: Accepted"))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("{screen}"))
    };
    assert!(!login(&text(&render(&app))).contains('◆'));
    // Asked: the search runs a slice at a time, its progress on screen meanwhile.
    app.handle_key(KeyEvent::new(KeyCode::Char('C'), KeyModifiers::NONE));
    assert!(app.chains.running());
    let screen = text(&render(&app));
    let finding = format!(
        "finding chains in {} events… 0%",
        casefile::ui::text::thousands(app.data.store.len())
    );
    assert!(screen.contains(&finding), "{screen}");
    assert!(app.chains.found.is_empty());
    while app.busy() {
        app.tick();
    }
    let screen = text(&render(&app));
    assert!(
        screen.contains("◆ SSH brute force, then a miner in a container"),
        "{screen}"
    );
    keys(&mut app, "\x1b");
    assert!(login(&text(&render(&app))).contains("◆ "));
}

#[test]
fn t_steps_the_category_filter_and_the_column_shows_it() {
    let mut app = demo_app((80, 24), "dark");
    keys(&mut app, "t");
    let screen = text(&render(&app));
    assert!(screen.contains("› category=authentication"), "{screen}");
    assert!(screen.contains("SEV  CAT   EVENT"), "{screen}");
    // Every row shown is an authentication event: its column says so.
    let rows: Vec<&str> = screen
        .lines()
        .filter(|l| l.len() > 30 && l.as_bytes()[2] == b':' && l.as_bytes()[5] == b':')
        .collect();
    assert!(rows.len() > 10, "{screen}");
    for row in rows {
        let cell = row.get(24..29).unwrap_or("");
        assert!(cell == "authn" || cell == "auth+", "{row}");
    }
    keys(&mut app, "t");
    let screen = text(&render(&app));
    assert!(screen.contains("› category=authoriz"), "{screen}");
    assert_eq!(
        app.history.current(),
        ["category=authorization"
            .parse::<casefile::store::Pivot>()
            .unwrap()]
    );
    keys(&mut app, "b");
    assert!(text(&render(&app)).contains("› category=authentication"));
}

#[test]
fn enter_on_a_step_of_the_chains_list_selects_its_event() {
    let mut app = demo_app((120, 40), "dark");
    keys(&mut app, "C");
    // The cursor starts on the first step; six down is the intrusion's seventh, the spike.
    keys(&mut app, "jjjjjj");
    let screen = text(&render(&app));
    let cursor = screen
        .lines()
        .find(|l| l.contains("› 7. "))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(
        cursor.contains("CPU spike on pod api-7d9f-x2k4q"),
        "{cursor}"
    );
    keys(&mut app, "\n");
    assert!(app.overlay.is_none());
    let pos = app.timeline.selected_pos().unwrap();
    let e = app.data.store.get(pos).unwrap();
    assert_eq!(e.title(), "CPU spike on pod api-7d9f-x2k4q");
    // Its chain is the selected one now: its rows carry the mark.
    assert!(app.selected_chain().is_some());
    // A step the search hides cannot be selected: the list stays, and says why.
    keys(&mut app, "/xmrig\nC\n");
    assert!(app.overlay.is_some());
    assert!(
        app.notice
            .as_deref()
            .unwrap_or("")
            .contains("outside the current pivot or search"),
        "{:?}",
        app.notice
    );
}

#[test]
fn e_exports_the_case_with_its_marks_and_esc_stops_it() {
    let dir = std::env::temp_dir().join(format!("casefile-tui-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("mine.casefile");
    let _ = std::fs::remove_file(&target);
    let mut app = demo_app((120, 40), "dark");
    // A pivot and a star: the export takes the events shown, the mark and the history.
    keys(&mut app, "/xmrig\nm");
    app.handle_key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE));
    let screen = text(&render(&app));
    assert!(screen.contains(" EXPORT TO case-"), "{screen}");
    assert!(screen.contains("the 8 events shown (Tab: all)"), "{screen}");
    // Cancelled once it started: nothing is written.
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in target.to_str().unwrap().chars() {
        app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(app.busy());
    app.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert_eq!(
        app.notice.as_deref(),
        Some("export cancelled; nothing was written")
    );
    while app.busy() {
        app.tick();
    }
    assert!(!target.exists());
    // Again, to the end.
    app.handle_key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE));
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in target.to_str().unwrap().chars() {
        app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let screen = text(&render(&app));
    assert!(screen.contains("exporting 0% (Esc stops)"), "{screen}");
    while app.busy() {
        app.tick();
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let notice = app.notice.clone().unwrap_or_default();
    assert!(
        notice.starts_with("wrote ") && notice.contains(": 8 events"),
        "{notice}"
    );
    let opened = casefile::bundle::open::check(&target).unwrap();
    assert_eq!(opened.manifest.counts.events, 8);
    assert_eq!(opened.marks.len(), 1);
    assert!(opened.marks[0].star);
    assert_eq!(opened.manifest.selection.search.as_deref(), Some("xmrig"));
    // Tab: every event loaded.
    let all = dir.join("all.casefile");
    app.handle_key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE));
    app.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in all.to_str().unwrap().chars() {
        app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    while app.busy() {
        app.tick();
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let opened = casefile::bundle::open::check(&all).unwrap();
    assert_eq!(opened.manifest.counts.events, app.data.store.len() as u64);
    assert!(opened.manifest.selection.all);
    assert_eq!(opened.chains.len(), app.chains.found.len());
}

#[test]
fn a_replayed_bundle_shows_the_marks_pivots_and_chains_it_was_exported_with() {
    let dir = std::env::temp_dir().join(format!("casefile-tui-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("case.casefile");
    let mut app = demo_app((120, 40), "dark");
    keys(&mut app, "/Accepted password for mallory\nm");
    keys(&mut app, "nfirst success #initial-access\n");
    // A pivot from the detail, so the history has two steps.
    keys(&mut app, "\tp");
    assert_eq!(app.history.path().len(), 2, "{:?}", app.history.path());
    app.handle_key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE));
    app.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in path.to_str().unwrap().chars() {
        app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    while app.busy() {
        app.tick();
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let (loaded, opened) = casefile::bundle::open::load(&path).unwrap();
    let keymap = Keymap::load_strict("default", None, 0).unwrap();
    let theme = Theme::load_strict("dark", None).unwrap();
    let mut replay = App::new(loaded, keymap, theme, Query::default(), (120, 40));
    replay.restore_case(&opened);
    keys(&mut replay, "/Accepted password for mallory\n");
    let screen = text(&render(&replay));
    assert!(
        screen.contains("◆ ★ sshd: Accepted password for mall"),
        "{screen}"
    );
    assert!(
        screen.contains("mark     ★ #initial-access first success"),
        "{screen}"
    );
    // The chain is the exported one, and its rows are marked.
    assert_eq!(replay.chains.found.len(), app.chains.found.len());
    assert!(screen.contains("◆ "), "{screen}");
    // The pivot history is the responder's: the same path and pivot, and `b` goes back.
    assert_eq!(replay.history.path(), app.history.path());
    assert_eq!(replay.history.current(), app.history.current());
    assert!(text(&render(&replay))
        .lines()
        .next()
        .unwrap()
        .contains(&app.history.path()[1]));
    keys(&mut replay, "b");
    assert!(replay.history.current().is_empty());
}

#[test]
fn comma_and_dot_scrub_the_selection_along_the_histogram() {
    let mut app = demo_app((120, 40), "dark");
    let ts = |app: &App| {
        let pos = app.timeline.selected_pos().unwrap();
        app.data.store.get(pos).unwrap().ts()
    };
    let start = ts(&app);
    keys(&mut app, ".");
    let one = ts(&app);
    assert!(one > start);
    let hist = app.cache.histogram.as_ref().unwrap();
    let width = hist.buckets.len() as i64;
    let column = (hist.range.end.0 - hist.range.start.0) / width;
    // One column on: at most about one column's time later (the next column with events).
    assert!(
        one.0 - start.0 <= 2 * column,
        "{} ns for a {} ns column",
        one.0 - start.0,
        column
    );
    keys(&mut app, "....");
    let five = ts(&app);
    assert!(five > one);
    // Back again lands on the first event of the column it left.
    keys(&mut app, ",,,,");
    assert_eq!(ts(&app), one);
    keys(&mut app, ",");
    assert_eq!(ts(&app), start);
    keys(&mut app, ",");
    assert_eq!(
        app.notice.as_deref(),
        Some("at the first column of the histogram")
    );
}

#[test]
fn e_signs_with_the_configured_key() {
    let dir = std::env::temp_dir().join(format!("casefile-tui-sign-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("signed.casefile");
    let _ = std::fs::remove_file(&target);
    let key = casefile::bundle::sign::generate().unwrap();
    let mut app = demo_app((120, 40), "dark");
    app.signer = Some(key.clone());
    app.handle_key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE));
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in target.to_str().unwrap().chars() {
        app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    while app.busy() {
        app.tick();
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let opened = casefile::bundle::open::check(&target).unwrap();
    assert_eq!(opened.signed_by, Some(key.verifying_key()));
}

#[test]
fn a_wazuh_file_change_shows_its_message_line_by_line() {
    let mut app = demo_app((120, 40), "dark");
    keys(&mut app, "/authorized_keys\n\n");
    let screen = text(&render(&app));
    // Each line of Wazuh's full_log starts a row under the first, lined up with it.
    let rows: Vec<&str> = screen.lines().filter_map(|l| l.split('│').nth(1)).collect();
    let start = rows
        .iter()
        .position(|r| r.starts_with(" message  File '/home/mallory/.ssh/authorized_keys' modifie"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(
        rows[start + 2].starts_with("          Mode: whodata"),
        "{screen}"
    );
    assert!(
        rows[start + 3].starts_with("          Changed attributes: size,mtime,md5,sha1,sha256"),
        "{screen}"
    );
    assert!(!screen.contains("\\nMode"), "{screen}");
}

#[test]
fn repeated_events_fold_into_one_row_and_z_unfolds_them() {
    let mut app = demo_app((80, 24), "dark");
    settle(&mut app);
    let events = app.timeline.events().len();
    let rows = app.timeline.shown.len();
    assert!(rows * 10 < events, "{rows} rows for {events} events");
    // Select the brute force: the folded row of the attacker's failed logins.
    let brute = app
        .timeline
        .shown
        .iter()
        .position(|&p| {
            app.fold
                .folded_at(p)
                .is_some_and(|g| g.members.len() > 3_000)
                && app
                    .data
                    .store
                    .get(p)
                    .is_some_and(|e| e.title().starts_with("sshd:"))
        })
        .expect("one row stands for the brute force");
    keys(&mut app, &"j".repeat(brute));
    let buf = render(&app);
    insta::assert_snapshot!("narrow_folded_brute_force", text(&buf));
    screenshot("demo-folded-80x24", &buf);
    let screen = text(&buf);
    let row = screen
        .lines()
        .find(|l| l.contains("SSH login failures"))
        .expect("the row names its signal");
    assert!(row.contains("×3,"), "{row}");
    assert!(
        screen.contains(&format!("6,047 events · {rows} rows")),
        "{screen}"
    );
    // Its detail says what it stands for.
    keys(&mut app, "\n");
    let detail = text(&render(&app));
    assert!(detail.contains(" events 12:58:"), "{detail}");
    assert!(detail.contains("z unfolds"), "{detail}");
    keys(&mut app, "\x1b");
    // z unfolds it: every failed login is a row, and the selection stays on the first.
    let n = app
        .fold
        .folded_at(app.timeline.shown[brute])
        .unwrap()
        .members
        .len();
    let chosen = app.timeline.selected_pos();
    keys(&mut app, "z");
    assert_eq!(app.timeline.shown.len(), rows + n - 1);
    assert_eq!(app.timeline.selected_pos(), chosen);
    let unfolded = text(&render(&app));
    assert!(unfolded.contains("┆ sshd: "), "{unfolded}");
    // From one of its events, z folds them again, onto the folded row.
    keys(&mut app, "jjj");
    keys(&mut app, "z");
    assert_eq!(app.timeline.shown.len(), rows);
    assert_eq!(app.timeline.selected_pos(), chosen);
    // Z shows every event; Z again folds.
    keys(&mut app, "Z");
    assert_eq!(app.timeline.shown.len(), events);
    keys(&mut app, "Z");
    assert_eq!(app.timeline.shown.len(), rows);
}

#[test]
fn a_starred_event_is_never_folded_away() {
    let mut app = demo_app((120, 40), "dark");
    settle(&mut app);
    let rows = app.timeline.shown.len();
    // Unfold the brute force, star one of its later events, fold again: it stays a row.
    let brute = app
        .timeline
        .shown
        .iter()
        .position(|&p| {
            app.fold
                .folded_at(p)
                .is_some_and(|g| g.members.len() > 3_000)
        })
        .unwrap();
    keys(&mut app, &"j".repeat(brute));
    keys(&mut app, "zjjjjm");
    let starred = app.timeline.selected_pos();
    keys(&mut app, "z");
    assert_eq!(app.timeline.shown.len(), rows + 1);
    assert!(app.timeline.shown.iter().any(|&p| Some(p) == starred));
    assert!(text(&render(&app)).contains("★ "));
}

/// The current pivot, each as the top bar writes it.
fn pivot_texts(app: &App) -> Vec<String> {
    app.history
        .current()
        .iter()
        .map(|p| p.to_string())
        .collect()
}

/// The events the timeline shows against what the store selects for the current pivot.
fn shown_is_the_pivot(app: &App) -> usize {
    let query = Query {
        pivots: app.history.current().to_vec(),
        ..Query::default()
    };
    let mut want = app.data.store.select(&query);
    want.sort_unstable();
    let mut shown = app.timeline.events().to_vec();
    shown.sort_unstable();
    assert_eq!(shown, want, "the timeline shows exactly the pivot's events");
    shown.len()
}

#[test]
fn the_tree_and_related_panes_pivot_add_and_leave_out() {
    let mut app = demo_app((120, 40), "dark");
    // The miner's exec, then the search cleared: the pivot alone decides what is shown.
    keys(&mut app, "/xmrig\nj/\x1b");
    assert!(app.search.input.is_empty());
    let all = app.timeline.events().len();
    keys(&mut app, "\t\t");
    let top = |app: &App| text(&render(app)).lines().next().unwrap().to_string();

    // `-` on the miner's process leaves it out of its container.
    keys(&mut app, "-");
    let pivots = pivot_texts(&app);
    assert_eq!(pivots.len(), 2, "{pivots:?}");
    assert!(
        pivots[0].starts_with("container=5f2c1a9b3d4e"),
        "{pivots:?}"
    );
    assert_eq!(pivots[1], "pid!=4300");
    assert!(top(&app).contains("pid!=4300"), "{}", top(&app));
    let without_miner = shown_is_the_pivot(&app);
    assert!(without_miner > 0 && without_miner < all);

    // Back, then `+` on the same process: the container AND its pid.
    keys(&mut app, "b\t\t+");
    let pivots = pivot_texts(&app);
    assert_eq!(pivots[1], "pid=4300", "{pivots:?}");
    let miner = shown_is_the_pivot(&app);
    assert!(miner > 0);
    keys(&mut app, "b");
    let container = shown_is_the_pivot(&app);
    assert_eq!(container, all, "back at the start");

    // The related pane pivots on what a related event shares with the selected one.
    keys(&mut app, "\t\t\t");
    let item = app.correlated.items[0].clone();
    keys(&mut app, "p");
    let want: Vec<String> = item
        .shared
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let got = pivot_texts(&app);
    assert_eq!(got, want);
    shown_is_the_pivot(&app);
    assert!(
        app.timeline.events().contains(&item.pos),
        "the related event is among the pivot's events"
    );
    // `-` there leaves out the rarest of them (each alone would hide the whole pod).
    keys(&mut app, "x\t\t\t-");
    let got = pivot_texts(&app);
    let store = &app.data.store;
    let rarest = item
        .shared
        .iter()
        .min_by_key(|(k, v)| store.entity_count(*k, v))
        .unwrap();
    assert_eq!(got, [format!("{}!={}", rarest.0, rarest.1)]);
    assert!(item.shared.len() > 1, "the case where the choice matters");
    assert!(!app.timeline.events().contains(&item.pos));
    shown_is_the_pivot(&app);
}

/// The histogram is kept between frames and rebuilt only when what it counts changes: after
/// each of these steps it counts exactly the events shown, never a stale set.
#[test]
fn the_histogram_follows_every_change_of_the_events_shown() {
    let mut app = demo_app((120, 40), "dark");
    let counted = |app: &App| -> usize {
        let h = app.cache.histogram.as_ref().expect("a histogram");
        h.buckets
            .iter()
            .map(|b| casefile::store::Histogram::total(b) as usize)
            .sum()
    };
    let mut seen = Vec::new();
    for step in [
        "", "jjj", "p", "\n", "b", "/xmrig\n", "x", "Z", "Z", "mM", "M", "t",
    ] {
        keys(&mut app, step);
        settle(&mut app);
        let shown = app.timeline.events().len();
        assert_eq!(counted(&app), shown, "after {step:?}");
        seen.push(shown);
    }
    seen.dedup();
    assert!(
        seen.len() >= 5,
        "the steps changed what was shown: {seen:?}"
    );
}
