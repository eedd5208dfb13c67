//! The terminal loop: one thread reads the terminal and sends its events over a channel; the
//! loop answers them, runs slices of background work (search) between them, and draws at most
//! every 16 ms, only when something changed.

use super::App;
use ratatui::crossterm::event::{self, Event};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const FRAME: Duration = Duration::from_millis(16);

pub fn run(mut app: App) -> std::io::Result<()> {
    // ratatui::init enters raw mode and the alternate screen, and installs a panic hook that
    // restores the terminal before the panic message is printed.
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut app);
    ratatui::restore();
    result
}

fn event_loop(terminal: &mut ratatui::DefaultTerminal, app: &mut App) -> std::io::Result<()> {
    let (tx, rx) = mpsc::channel::<Event>();
    std::thread::spawn(move || {
        while let Ok(ev) = event::read() {
            if tx.send(ev).is_err() {
                break;
            }
        }
    });
    let size = terminal.size()?;
    app.resize((size.width, size.height));
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            terminal.draw(|f| crate::ui::draw(f, app))?;
            last_draw = Instant::now();
            dirty = false;
        }
        let wait = if app.busy() || dirty {
            Duration::ZERO
        } else {
            Duration::from_millis(250)
        };
        let first = match rx.recv_timeout(wait.max(if dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            Duration::ZERO
        })) {
            Ok(ev) => Some(ev),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
        };
        // Answer every waiting event before more background work.
        for ev in first.into_iter().chain(rx.try_iter()) {
            match ev {
                Event::Key(k) => app.handle_key(k),
                Event::Resize(w, h) => app.resize((w, h)),
                _ => {}
            }
            dirty = true;
        }
        if app.quit {
            return Ok(());
        }
        if app.tick() {
            dirty = true;
        }
    }
}
