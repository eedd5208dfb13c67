//! The progress of a long headless command on stderr, and its cancellation by Ctrl-C.

use crate::ui::text::thousands;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// At most this often is the progress line drawn again.
const EVERY: Duration = Duration::from_millis(100);

/// Progress on stderr (only when it is a terminal: scripts get none) and a stop asked by
/// SIGINT or SIGTERM. From `start`, the first signal asks the work to stop; while the work is
/// not done, a second one ends the process at once. Once it is done (the file being written),
/// a signal only asks, so the writer can remove its temporary file. When dropped, a signal
/// ends the process again, as it did before.
pub struct Progress {
    doing: &'static str,
    on_terminal: bool,
    drawn: Option<Instant>,
    stop: Arc<AtomicBool>,
    /// The handlers that set `stop`.
    asking: Vec<signal_hook::SigId>,
    /// The handlers that end the process on a second signal, until the work is done.
    ending: Vec<signal_hook::SigId>,
}

const SIGNALS: [i32; 2] = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];

impl Progress {
    /// `doing` names the work: "exporting".
    pub fn start(doing: &'static str) -> Result<Progress, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let cannot = |e: std::io::Error| format!("cannot watch for signals: {e}");
        let (mut asking, mut ending) = (Vec::new(), Vec::new());
        for sig in SIGNALS {
            // Registered first, so it sees the flag as it was before this signal.
            ending.push(
                signal_hook::flag::register_conditional_shutdown(sig, 130, stop.clone())
                    .map_err(cannot)?,
            );
            asking.push(signal_hook::flag::register(sig, stop.clone()).map_err(cannot)?);
        }
        Ok(Progress {
            doing,
            on_terminal: std::io::stderr().is_terminal(),
            drawn: None,
            stop,
            asking,
            ending,
        })
    }

    /// Tells `done` of `total`; false once a stop was asked. At `done == total` the work is
    /// being written: from then on a signal only asks.
    pub fn tick(&mut self, done: usize, total: usize) -> bool {
        if done >= total {
            for id in self.ending.drain(..) {
                signal_hook::low_level::unregister(id);
            }
        }
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
        for id in self.asking.drain(..).chain(self.ending.drain(..)) {
            signal_hook::low_level::unregister(id);
        }
        // Unregistering leaves a handler that does nothing; a signal must end the process
        // again, as it did before (with the status a shell gives an interrupted command).
        for sig in SIGNALS {
            let _ = signal_hook::flag::register_conditional_shutdown(
                sig,
                130,
                Arc::new(AtomicBool::new(true)),
            );
        }
        if self.drawn.is_some() {
            // Erase the progress line, so what follows starts on a clean one.
            let _ = std::io::stderr().write_all(b"\r\x1b[2K");
        }
    }
}
