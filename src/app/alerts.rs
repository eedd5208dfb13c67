//! Live alerts in the TUI: the alert rules run over what arrives, a raised alert is told on the
//! status line (and by the terminal bell, when asked for) without moving the selection or the
//! focus, and `A` lists them.

use crate::alerts::{Alert, AlertEngine, Change};
use crate::store::{Pivot, Store};

#[derive(Debug)]
pub struct AlertState {
    engine: AlertEngine,
    /// Ring the terminal bell when an alert is raised (`bell = true` in the config).
    bell: bool,
    /// A bell to ring between frames.
    ring: bool,
    /// Alerts raised so far.
    raised: usize,
    /// The alert that fired first in event time, for the case metrics.
    first: Option<crate::case_metrics::alerts::Alert>,
}

impl AlertState {
    pub fn new(engine: AlertEngine, bell: bool) -> AlertState {
        AlertState {
            engine,
            bell,
            ring: false,
            raised: 0,
            first: None,
        }
    }

    /// Runs the rules over the events that arrived; returns what the status line says when
    /// an alert was raised (updates of alerts already raised are only counted in the list).
    pub fn observe(&mut self, store: &Store) -> Option<String> {
        let updates = self.engine.observe(store);
        for a in crate::case_metrics::alerts::from_raised(&updates) {
            if self.first.as_ref().is_none_or(|f| a.at < f.at) {
                self.first = Some(a);
            }
        }
        let raised: Vec<_> = updates
            .iter()
            .filter(|u| u.change == Change::Raised)
            .collect();
        let newest = raised.last()?;
        self.raised += raised.len();
        self.ring |= self.bell;
        let mut text = newest.summary();
        if raised.len() > 1 {
            text.push_str(&format!(" (+{} more)", raised.len() - 1));
        }
        text.push_str(" · A lists alerts");
        Some(text)
    }

    /// The store was rebuilt (a query edited and run again): arrival numbers start over, and
    /// the events still held are not raised again.
    pub fn rebase(&mut self, store: &Store) {
        self.engine.rebase(store);
    }

    /// Whether to ring the bell now (once per batch of raised alerts).
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.ring)
    }

    /// The alert that fired first (in event time), for the case metrics.
    pub fn first(&self) -> Option<&crate::case_metrics::alerts::Alert> {
        self.first.as_ref()
    }

    pub fn raised(&self) -> usize {
        self.raised
    }

    pub fn open(&self) -> usize {
        self.engine.open_count()
    }

    /// The alerts, the newest first.
    pub fn list(&self) -> Vec<&Alert> {
        let mut all = self.engine.alerts();
        all.reverse();
        all
    }
}

/// The pivots that show an alert's events: its group's values that are entities (`ip`,
/// `host`, `container`…); `title` and `source` groups have none.
pub fn pivots_of(alert: &Alert) -> Vec<Pivot> {
    alert
        .group
        .iter()
        .filter_map(|(k, v)| {
            let key = k.parse().ok()?;
            Some(Pivot::new(key, v.as_deref()?))
        })
        .collect()
}
