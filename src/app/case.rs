//! The case in the TUI: restoring a replayed bundle's marks, pivot history and chains, and
//! gathering what an export from the TUI writes.

use super::App;
use crate::bundle::format::{PivotHistory, Selection};
use crate::bundle::open::Opened;
use crate::correlate::chains::{Chain, FoundStep};
use crate::model::EntityKey;
use crate::store::{Pivot, Query};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
                    marked_at: m
                        .marked_at
                        .as_deref()
                        .and_then(crate::model::Timestamp::parse_rfc3339),
                },
            );
        }
        // Marks made from now on are the review's, long after the events.
        self.marks.origin = crate::case_metrics::Origin::of_bundle(&opened.manifest);
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

    /// Starts the export asked for: the events shown (or all loaded), the series that fit,
    /// every mark, the chains found and the pivot history.
    pub(super) fn start_export(&mut self) {
        let Some(super::export::ExportState::Asking { path, all }) = &self.export else {
            return;
        };
        let (path, all) = (path.clone(), *all);
        let (positions, selection, history) = self.case_selection(all);
        let query = if all { Query::default() } else { self.query() };
        let store = &self.data.store;
        let marks: Vec<(u32, super::marks::Mark)> = self
            .marks
            .iter()
            .filter_map(|(id, m)| Some((store.pos_of(id)?, m.clone())))
            .collect();
        let case = crate::bundle::export::Case {
            store,
            positions: &positions,
            series: store.series_of_view(&query, &positions),
            reports: &self.data.reports,
            selection,
            history,
            marks,
            chains: &self.chains.found,
            alerts: self
                .alerts
                .as_ref()
                .and_then(|a| a.first().cloned())
                .into_iter()
                .collect(),
            origin: self.marks.origin,
        };
        match super::export::start(&path, &case, &self.redactor, self.signer.clone()) {
            Ok(state) => self.export = Some(state),
            Err(e) => self.notice = Some(e),
        }
    }

    /// Typing the export's file name.
    pub(super) fn edit_export_path(&mut self, ev: KeyEvent) {
        let Some(super::export::ExportState::Asking { path, .. }) = &mut self.export else {
            return;
        };
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match ev.code {
            KeyCode::Char('u') if ctrl => path.clear(),
            KeyCode::Char(c) if !ctrl => path.push(c),
            KeyCode::Backspace => {
                path.pop();
            }
            _ => {}
        }
    }

    /// What an export from here writes: the events shown (or all loaded), every series the
    /// sources returned, the marks, the chains and the pivot history.
    pub fn case_selection(&self, all: bool) -> (Vec<u32>, Selection, PivotHistory) {
        let positions = if all {
            self.data.store.select(&Query::default())
        } else {
            self.timeline.events().to_vec()
        };
        let (steps, at) = self.history.steps();
        let history = PivotHistory {
            steps: steps
                .iter()
                .map(|s| s.iter().map(|p| p.to_string()).collect())
                .collect(),
            at,
        };
        let selection = if all {
            Selection::everything()
        } else {
            let search = self.search.is_active().then(|| self.search.input.clone());
            Selection::of(&self.query(), search)
        };
        (positions, selection, history)
    }
}
