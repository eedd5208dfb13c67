//! Sources as tasks: each runs off the UI thread and sends what it finds as messages, with a
//! cancel token it checks between records. Nothing here touches the terminal.

use crate::load::SourceReport;
use crate::model::{Event, Series, ServerCounts};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a source task tells the loop.
#[derive(Debug)]
pub enum SourceMessage {
    /// Events, in any order; the store merges them.
    Batch { source: usize, events: Vec<Event> },
    /// Events packed by a parser (a big file read on every core).
    Packed {
        source: usize,
        batch: crate::store::PackedBatch,
    },
    /// Event counts per time step from the server, for a window bigger than the budget.
    Counts { source: usize, counts: ServerCounts },
    /// Metric series (Prometheus, Loki metric queries).
    Series { source: usize, series: Vec<Series> },
    /// Caught up with what existed: from now on the source follows new data as it comes.
    Live { source: usize },
    /// How far the task has got, for the progress shown in the pivot bar.
    Progress {
        source: usize,
        done: u64,
        total: Option<u64>,
    },
    /// The source's report as it stands (counts, skipped records), while it keeps running.
    Update { source: usize, report: SourceReport },
    /// Label names (`label: None`) or one label's values, for completing a Loki query.
    Labels {
        source: usize,
        label: Option<String>,
        values: Vec<String>,
    },
    /// The task has ended (completed, failed or cancelled); its final report.
    Finished { source: usize, report: SourceReport },
}

/// A source's error after its task panicked (the panic's message, sanitized).
pub fn stopped_by_panic(panic: &str) -> String {
    format!(
        "internal error, this source stopped: {}",
        crate::sanitize::line(panic)
    )
}

/// Runs a task's body, turning a panic into its message: a bug in one source must end that
/// source with an error, not the program (and never print over the screen).
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string())
    })
}

/// Shared by the loop and its tasks: set once, and every task stops at its next record. A
/// child is cancelled with its parent, or on its own (one source re-run, the others going on).
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    own: Arc<AtomicBool>,
    ancestors: Vec<Arc<AtomicBool>>,
}

impl Cancel {
    pub fn cancel(&self) {
        self.own.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.own.load(Ordering::Relaxed) || self.ancestors.iter().any(|a| a.load(Ordering::Relaxed))
    }

    /// A token that this one cancels too.
    pub fn child(&self) -> Cancel {
        let mut ancestors = self.ancestors.clone();
        ancestors.push(self.own.clone());
        Cancel {
            own: Arc::default(),
            ancestors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_stops_with_its_parent_but_not_the_other_way() {
        let parent = Cancel::default();
        let (a, b) = (parent.child(), parent.child());
        a.cancel();
        assert!(a.is_cancelled() && !b.is_cancelled() && !parent.is_cancelled());
        let grandchild = b.child();
        parent.cancel();
        assert!(b.is_cancelled() && grandchild.is_cancelled());
    }
}
