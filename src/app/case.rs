//! The case in the TUI: restoring a replayed bundle's marks, pivot history and chains, and
//! gathering what an export from the TUI writes.

use super::App;
use crate::bundle::format::{PivotHistory, Selection};
use crate::bundle::open::Opened;
use crate::correlate::chains::{Chain, FoundStep};
use crate::model::EntityKey;
use crate::store::{Pivot, Query};

impl App {
    /// Puts back what the bundle recorded: marks, pivot history and chains. Events are the
    /// bundle's records in order, so a record's sequence number is its arrival number.
    pub fn restore_case(&mut self, opened: &Opened) {
        for m in &opened.marks {
            self.marks.restore(
                m.seq as u32,
                super::marks::Mark {
                    star: m.star,
                    tags: m.tags.clone(),
                    note: m.note.clone(),
                },
            );
        }
        let store = &self.data.store;
        let chains: Vec<Chain> = opened
            .chains
            .iter()
            .filter_map(|c| {
                let steps = c
                    .steps
                    .iter()
                    .map(|s| {
                        Some(FoundStep {
                            name: s.name.clone(),
                            pos: store.pos_of(s.seq as u32)?,
                            count: s.count as usize,
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                let bound = c
                    .bound
                    .iter()
                    .filter_map(|(k, v)| Some((k.parse::<EntityKey>().ok()?, v.clone())))
                    .collect();
                Some(Chain {
                    rule: c.rule.clone(),
                    steps,
                    bound,
                })
            })
            .collect();
        self.chains.restore(chains, store);
        let h = &opened.manifest.pivot_history;
        let steps: Vec<Vec<Pivot>> = h
            .steps
            .iter()
            .map(|step| step.iter().filter_map(|p| p.parse().ok()).collect())
            .collect();
        if !steps.is_empty() {
            self.history = super::PivotHistory::restore(steps, h.at);
            self.refilter();
        }
    }

    /// What an export from here writes: the events shown (or all loaded), every series the
    /// sources returned, the marks, the chains and the pivot history.
    pub fn case_selection(&self, all: bool) -> (Vec<u32>, Selection, PivotHistory) {
        let positions = if all {
            self.data.store.select(&Query::default())
        } else {
            self.timeline.shown.clone()
        };
        let (steps, at) = self.history.steps();
        let history = PivotHistory {
            steps: steps
                .iter()
                .map(|s| s.iter().map(|p| p.to_string()).collect())
                .collect(),
            at,
        };
        let window = self.window;
        let selection = Selection {
            pivots: if all {
                Vec::new()
            } else {
                self.history
                    .current()
                    .iter()
                    .map(|p| p.to_string())
                    .collect()
            },
            from: (!all && window.start.0 != i64::MIN).then(|| window.start.to_rfc3339()),
            to: (!all && window.end.0 != i64::MAX).then(|| window.end.to_rfc3339()),
            search: (!all && self.search.is_active()).then(|| self.search.input.clone()),
            all,
        };
        (positions, selection, history)
    }
}
