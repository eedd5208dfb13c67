use crate::correlate::correlated::{correlated, Correlated};
use crate::store::Store;

/// The events related to the selected one, prepared when the selection, the data or the
/// window changes.
#[derive(Debug, Clone)]
pub struct CorrelatedState {
    /// Showing the context (same source and stream) instead of the correlated events.
    pub context_mode: bool,
    /// Context: positions around the selected event, and the selected event's index in it.
    pub context: Vec<u32>,
    pub context_at: usize,
    pub items: Vec<Correlated>,
    pub cursor: usize,
    /// ± this much time around the selected event.
    pub window_ns: i64,
    prepared_for: Option<(u32, usize, i64)>,
}

impl Default for CorrelatedState {
    fn default() -> Self {
        CorrelatedState {
            context_mode: false,
            context: Vec::new(),
            context_at: 0,
            items: Vec::new(),
            cursor: 0,
            window_ns: 10 * 60 * 1_000_000_000,
            prepared_for: None,
        }
    }
}

/// At most this many are listed.
const LIMIT: usize = 200;
/// Events of context on each side.
const CONTEXT: usize = 50;

impl CorrelatedState {
    pub fn invalidate(&mut self) {
        self.prepared_for = None;
    }

    pub fn sync(&mut self, store: &Store, selected: Option<u32>) {
        let key = selected.map(|p| (p, store.len(), self.window_ns));
        if key == self.prepared_for {
            return;
        }
        self.prepared_for = key;
        self.cursor = 0;
        self.items = match selected {
            Some(p) => correlated(store, p, self.window_ns, LIMIT),
            None => Vec::new(),
        };
        (self.context, self.context_at) = match selected {
            Some(p) => crate::correlate::context::context(store, p, CONTEXT),
            None => (Vec::new(), 0),
        };
        if self.context_mode {
            self.cursor = self.context_at;
        }
    }

    /// Halves (`wider = false`) or doubles the window, between a second and a day.
    pub fn resize(&mut self, wider: bool) {
        let w = if wider {
            self.window_ns.saturating_mul(2)
        } else {
            self.window_ns / 2
        };
        self.window_ns = w.clamp(1_000_000_000, 86_400 * 1_000_000_000);
    }

    /// Switches between the correlated events and the context.
    pub fn toggle_context(&mut self) {
        self.context_mode = !self.context_mode;
        self.cursor = if self.context_mode {
            self.context_at
        } else {
            0
        };
    }

    fn len(&self) -> usize {
        if self.context_mode {
            self.context.len()
        } else {
            self.items.len()
        }
    }

    pub fn move_cursor(&mut self, delta: isize) {
        if self.len() == 0 {
            return;
        }
        let last = self.len() as isize - 1;
        self.cursor = (self.cursor as isize + delta).clamp(0, last) as usize;
    }

    pub fn chosen(&self) -> Option<u32> {
        if self.context_mode {
            self.context.get(self.cursor).copied()
        } else {
            self.items.get(self.cursor).map(|c| c.pos)
        }
    }
}

/// `10m`, `45s`, `2h`: a window's half-width for the header.
pub fn short_duration(ns: i64) -> String {
    let s = ns / 1_000_000_000;
    if s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}
