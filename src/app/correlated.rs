use crate::correlate::correlated::{correlated, Correlated};
use crate::store::Store;

/// The events related to the selected one, prepared when the selection, the data or the
/// window changes.
#[derive(Debug, Clone)]
pub struct CorrelatedState {
    pub items: Vec<Correlated>,
    pub cursor: usize,
    /// ± this much time around the selected event.
    pub window_ns: i64,
    prepared_for: Option<(u32, usize, i64)>,
}

impl Default for CorrelatedState {
    fn default() -> Self {
        CorrelatedState {
            items: Vec::new(),
            cursor: 0,
            window_ns: 10 * 60 * 1_000_000_000,
            prepared_for: None,
        }
    }
}

/// At most this many are listed.
const LIMIT: usize = 200;

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

    pub fn move_cursor(&mut self, delta: isize) {
        if self.items.is_empty() {
            return;
        }
        let last = self.items.len() as isize - 1;
        self.cursor = (self.cursor as isize + delta).clamp(0, last) as usize;
    }

    pub fn chosen(&self) -> Option<u32> {
        self.items.get(self.cursor).map(|c| c.pos)
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
