//! What the TUI needs to start source tasks after start-up: the live sources' specs, and how
//! to reach the loop. Used to push a pivot down to a source whose window was too big to load.

use crate::load::{Loaded, SourceReport};
use crate::sources::pushdown;
use crate::sources::runner::{self, RunOptions};
use crate::sources::spec::SourceSpec;
use crate::sources::task::{Cancel, SourceMessage};
use crate::sources::EntityTables;
use crate::store::Pivot;
use std::collections::HashSet;
use std::sync::mpsc::SyncSender;

pub struct LiveSources {
    /// Report index → the spec that produced it.
    pub specs: Vec<(usize, SourceSpec)>,
    pub options: RunOptions,
    pub tables: EntityTables,
    pub cancel: Cancel,
    pub tx: SyncSender<SourceMessage>,
    /// (report index, pivots) already pushed down, so going back and forth does not repeat.
    pushed: HashSet<(usize, Vec<Pivot>)>,
}

impl LiveSources {
    pub fn new(
        specs: Vec<(usize, SourceSpec)>,
        options: RunOptions,
        tables: EntityTables,
        cancel: Cancel,
        tx: SyncSender<SourceMessage>,
    ) -> Self {
        LiveSources {
            specs,
            options,
            tables,
            cancel,
            tx,
            pushed: HashSet::new(),
        }
    }

    /// For each source that left part of its window on the server, asks the server for that
    /// part again with the pivots pushed down. Returns what was done, for the status line.
    pub fn push_down(&mut self, pivots: &[Pivot], data: &mut Loaded) -> Vec<String> {
        let mut said = Vec::new();
        if pivots.is_empty() {
            return said;
        }
        for (index, spec) in self.specs.clone() {
            let Some(report) = data.reports.get(index) else {
                continue;
            };
            let (Some(left), Some(oldest)) =
                (report.not_loaded.filter(|n| *n > 0), report.oldest_loaded)
            else {
                continue;
            };
            if !self.pushed.insert((index, pivots.to_vec())) {
                continue;
            }
            let name = report.name.clone();
            let label = pivots
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(" & ");
            let Some(mut narrowed) = pushdown::narrow(&spec, pivots, &self.tables) else {
                said.push(format!(
                    "{name}: {label} filtered locally ({left} events stay on the server)"
                ));
                continue;
            };
            match &mut narrowed {
                SourceSpec::Loki { endpoint, .. }
                | SourceSpec::Elasticsearch { endpoint, .. }
                | SourceSpec::Prometheus { endpoint, .. } => {
                    endpoint.name = format!("{name} · {label}");
                }
            }
            let options = RunOptions {
                window: crate::model::TimeRange::new(self.options.window.start, oldest),
                follow: false,
                budget: self.options.budget,
            };
            let source = data.reports.len();
            let tx = self.tx.clone();
            let placeholder: SourceReport = runner::spawn(
                narrowed,
                source,
                options,
                self.tables.clone(),
                self.cancel.clone(),
                move |m| tx.send(m).is_ok(),
            );
            data.reports.push(placeholder);
            said.push(format!(
                "{label} pushed down to {name} for the older part of the window"
            ));
        }
        said
    }
}
