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

pub fn run(mut app: App, sources: Receiver<SourceMessage>) -> std::io::Result<()> {
    // ratatui::init enters raw mode and the alternate screen, and installs a panic hook that
    // restores the terminal before the panic message is printed.
    let mut terminal = ratatui::init();
    quiet_panics_off_the_ui_thread();
    let result = event_loop(&mut terminal, &mut app, sources);
    ratatui::restore();
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    sources: Receiver<SourceMessage>,
) -> std::io::Result<()> {
    let (keys_tx, keys) = mpsc::channel::<Event>();
    std::thread::spawn(move || {
        while let Ok(ev) = event::read() {
            if keys_tx.send(ev).is_err() {
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
            Ok(ev) => dirty |= handle_term(app, ev, &mut screen),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
        }
        for ev in keys.try_iter() {
            dirty |= handle_term(app, ev, &mut screen);
        }
        if app.quit {
            return Ok(());
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
            for ev in keys.try_iter() {
                dirty |= handle_term(app, ev, &mut screen);
            }
        }
        if app.quit {
            return Ok(());
        }
        if app.tick() {
            dirty = true;
        }
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
