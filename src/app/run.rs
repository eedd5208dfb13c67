//! The terminal loop. A thread reads the terminal into its own unbounded channel, so keys never
//! queue behind data; source tasks send into a small bounded channel, so a fast reader waits
//! for the store instead of filling memory. The loop answers keys first, ingests source
//! messages for at most one frame, runs slices of background work (search), and draws at most
//! every 16 ms, only when something changed.

use super::App;
use crate::sources::task::SourceMessage;
use crate::ui::scroll_region::Screen;
use ratatui::crossterm::event::{self, Event};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

const FRAME: Duration = Duration::from_millis(16);
/// How long the loop sleeps on the keyboard while a source may still send.
const SOURCE_POLL: Duration = Duration::from_millis(8);
/// How long it sleeps when nothing else can happen.
const IDLE: Duration = Duration::from_millis(250);

/// The channel source tasks send to.
pub fn source_channel() -> (SyncSender<SourceMessage>, Receiver<SourceMessage>) {
    mpsc::sync_channel(4)
}

/// How the TUI ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The user quit.
    Quit,
    /// This signal asked it to end (SIGTERM, SIGHUP, SIGINT, SIGQUIT); the terminal was
    /// restored all the same.
    Signal(i32),
}

/// What wakes the loop: the terminal, or a signal.
enum Input {
    Term(Event),
    Signal(i32),
}

const ENDING_SIGNALS: [i32; 4] = [
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGQUIT,
];

pub fn run(mut app: App, sources: Receiver<SourceMessage>) -> std::io::Result<Ended> {
    let (input_tx, input) = mpsc::channel::<Input>();
    // Signals are caught before the terminal changes, so none can end the program with the
    // terminal still raw: each becomes an input that ends the loop like `q` does.
    let mut signals = signal_hook::iterator::Signals::new(ENDING_SIGNALS)?;
    let signals_handle = signals.handle();
    let signal_tx = input_tx.clone();
    std::thread::spawn(move || {
        for sig in signals.forever() {
            if signal_tx.send(Input::Signal(sig)).is_err() {
                break;
            }
        }
    });
    // ratatui::init enters raw mode and the alternate screen, and installs a panic hook that
    // restores the terminal before the panic message is printed.
    let mut terminal = ratatui::init();
    quiet_panics_off_the_ui_thread();
    let result = event_loop(&mut terminal, &mut app, sources, input_tx, input);
    // After a hang-up the terminal is gone and restoring it fails: that is no error to report
    // (nor to print, to a terminal that is not there).
    let restored = ratatui::try_restore();
    // What was copied is handed to a clipboard manager, if there is one.
    crate::ui::clipboard::release();
    signals_handle.close();
    let ended = result?;
    if ended == Ended::Quit {
        restored?;
    }
    Ok(ended)
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    sources: Receiver<SourceMessage>,
    input_tx: mpsc::Sender<Input>,
    keys: Receiver<Input>,
) -> std::io::Result<Ended> {
    std::thread::spawn(move || {
        while let Ok(ev) = event::read() {
            if input_tx.send(Input::Term(ev)).is_err() {
                break;
            }
        }
    });
    let size = terminal.size()?;
    app.resize((size.width, size.height));
    let mut sources_open = true;
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut screen = Screen::default();
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            screen.draw(terminal, |f| crate::ui::draw(f, app))?;
            panic_for_tests();
            last_draw = Instant::now();
            dirty = false;
        }
        // Wait for a key only as long as nothing else needs the loop.
        let wait = if app.busy() || dirty {
            FRAME
                .saturating_sub(last_draw.elapsed())
                .min(if app.busy() { Duration::ZERO } else { FRAME })
        } else if sources_open {
            SOURCE_POLL
        } else {
            IDLE
        };
        match keys.recv_timeout(wait) {
            Ok(Input::Signal(sig)) => return Ok(Ended::Signal(sig)),
            Ok(Input::Term(ev)) => dirty |= handle_term(app, ev, &mut screen),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(Ended::Quit),
        }
        for input in keys.try_iter() {
            match input {
                Input::Signal(sig) => return Ok(Ended::Signal(sig)),
                Input::Term(ev) => dirty |= handle_term(app, ev, &mut screen),
            }
        }
        if app.quit {
            return Ok(Ended::Quit);
        }
        if app.alerts.as_mut().is_some_and(|a| a.take_bell()) {
            // Between frames, as the clipboard's sequence: BEL alone, which every terminal
            // takes as the bell.
            use std::io::Write;
            let _ = terminal.backend_mut().write_all(b"\x07");
            let _ = terminal.backend_mut().flush();
        }
        if let Some(text) = app.clipboard_request.take() {
            // Between frames, so an OSC 52 sequence never lands inside one.
            let outcome = crate::ui::clipboard::copy(&text, terminal.backend_mut());
            app.copied(outcome);
            dirty = true;
        }
        // Source messages for at most a frame, looking at the keyboard between them.
        let started = Instant::now();
        while sources_open && started.elapsed() < FRAME {
            match sources.try_recv() {
                Ok(msg) => {
                    app.on_source(msg);
                    dirty = true;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => sources_open = false,
            }
            for input in keys.try_iter() {
                match input {
                    Input::Signal(sig) => return Ok(Ended::Signal(sig)),
                    Input::Term(ev) => dirty |= handle_term(app, ev, &mut screen),
                }
            }
        }
        if app.quit {
            return Ok(Ended::Quit);
        }
        if app.tick() {
            dirty = true;
        }
    }
}

/// In debug builds only (the ones `cargo test` runs), `CASEFILE_TEST_PANIC` makes the UI
/// thread panic after a frame, so a test can check the terminal is restored on a panic.
fn panic_for_tests() {
    #[cfg(debug_assertions)]
    if std::env::var_os("CASEFILE_TEST_PANIC").is_some() {
        panic!("CASEFILE_TEST_PANIC: a panic on the UI thread, on purpose");
    }
}

/// Returns whether the screen needs drawing.
fn handle_term(app: &mut App, ev: Event, screen: &mut Screen) -> bool {
    match ev {
        Event::Key(k) => app.handle_key(k),
        Event::Resize(w, h) => {
            // The terminal may have reflowed what it showed.
            screen.forget();
            app.resize((w, h))
        }
        _ => return false,
    }
    true
}

/// ratatui's hook restores the terminal on any panic, whichever thread. A source task's panic
/// is caught and reported as that source's error, so it must neither restore the terminal
/// under a running UI nor print over the screen; only a panic of the UI thread does both.
fn quiet_panics_off_the_ui_thread() {
    let ui_thread = std::thread::current().id();
    let restore_and_report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui_thread {
            restore_and_report(info);
        }
    }));
}
