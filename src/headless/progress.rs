//! The progress of a long headless command on stderr, and its cancellation by Ctrl-C.

use crate::ui::text::thousands;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// At most this often is the progress line drawn again.
const EVERY: Duration = Duration::from_millis(100);

/// Progress on stderr (only when it is a terminal: scripts get none) and a stop asked by
/// SIGINT or SIGTERM. From `start` until it is dropped, the first signal asks the work to stop
/// and a second one ends the process at once.
pub struct Progress {
    doing: &'static str,
    on_terminal: bool,
    drawn: Option<Instant>,
    stop: Arc<AtomicBool>,
    handlers: Vec<signal_hook::SigId>,
}

impl Progress {
    /// `doing` names the work: "exporting".
    pub fn start(doing: &'static str) -> Result<Progress, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut handlers = Vec::new();
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            handlers.push(
                signal_hook::flag::register_conditional_shutdown(sig, 130, stop.clone())
                    .map_err(|e| format!("cannot watch for signals: {e}"))?,
            );
            handlers.push(
                signal_hook::flag::register(sig, stop.clone())
                    .map_err(|e| format!("cannot watch for signals: {e}"))?,
            );
        }
        Ok(Progress {
            doing,
            on_terminal: std::io::stderr().is_terminal(),
            drawn: None,
            stop,
            handlers,
        })
    }

    /// Tells `done` of `total`; false once a stop was asked.
    pub fn tick(&mut self, done: usize, total: usize) -> bool {
        if self.on_terminal && self.drawn.is_none_or(|t| t.elapsed() >= EVERY) {
            self.drawn = Some(Instant::now());
            let share = done.saturating_mul(100) / total.max(1);
            let line = format!(
                "\rcasefile: {} {} of {} events ({share}%), Ctrl-C stops",
                self.doing,
                thousands(done),
                thousands(total)
            );
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(line.as_bytes()).and_then(|()| err.flush());
        }
        !self.stopped()
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        for id in self.handlers.drain(..) {
            signal_hook::low_level::unregister(id);
        }
        if self.drawn.is_some() {
            // Erase the progress line, so what follows starts on a clean one.
            let _ = std::io::stderr().write_all(b"\r\x1b[2K");
        }
    }
}
