//! Folding on screen: which shown events fold into which row, the fold keys computed in slices
//! as events arrive, and the summaries of the rows in view.

use crate::fold::{FoldKey, FoldKeys, FoldRules, Folded, Summary};
use crate::store::Store;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// How many fold keys one slice computes between two looks at the keyboard.
pub const FOLD_SLICE: usize = 50_000;

/// A folded row's summary and the name of its signal, made outside the draw.
#[derive(Debug, Clone)]
struct Made {
    count: usize,
    last: u32,
    summary: Summary,
    signal: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FoldState {
    /// Folding is on (`Z` switches it).
    pub enabled: bool,
    keys: FoldKeys,
    /// The sets the analyst unfolded (`z`), by key: they stay unfolded as events arrive.
    unfolded: HashSet<FoldKey>,
    /// The shown events as folded the last time.
    pub view: Folded,
    /// The summaries of the folded rows seen, by set, with the set's size and last event
    /// when made: a refold (every live batch) makes again only those whose set changed.
    summaries: HashMap<FoldKey, Made>,
}

impl FoldState {
    pub fn new(rules: Arc<FoldRules>, enabled: bool) -> FoldState {
        FoldState {
            enabled,
            keys: FoldKeys::new(rules),
            unfolded: HashSet::new(),
            view: Folded::default(),
            summaries: HashMap::new(),
        }
    }

    /// Whether folding waits for keys still to be computed.
    pub fn pending(&self, store: &Store) -> bool {
        self.enabled && !self.keys.complete(store)
    }

    /// Computes one slice of keys; returns whether every event has its key now.
    pub fn step(&mut self, store: &Store) -> bool {
        self.keys.step(store, FOLD_SLICE)
    }

    /// What `shown` becomes: the rows, each folded set by its first event. `never` says which
    /// positions stay rows of their own (chain steps, marked events). Until every key is
    /// computed (a big store, a slice at a time), the events are shown unfolded.
    pub fn apply(
        &mut self,
        store: &Store,
        shown: Vec<u32>,
        never: impl Fn(u32) -> bool,
    ) -> Vec<u32> {
        if !self.enabled || !self.keys.complete(store) {
            self.view = Folded::default();
            return shown;
        }
        let keys = &self.keys;
        self.view = Folded::build(
            &shown,
            |p| (!never(p)).then(|| keys.get(store, p)).flatten(),
            &self.unfolded,
        );
        self.view.rows.clone()
    }

    /// Makes the summaries of the folded rows among `rows` (the ones in view).
    pub fn summarize(&mut self, store: &Store, rows: &[u32]) {
        for &pos in rows {
            let Some(g) = self.view.folded_at(pos) else {
                continue;
            };
            let (n, last) = (g.members.len(), g.members[g.members.len() - 1]);
            let fresh = self
                .summaries
                .get(&g.key)
                .is_some_and(|m| m.count == n && m.last == last);
            if fresh {
                continue;
            }
            let signal = store
                .get(pos)
                .and_then(|e| match self.keys.rules().basis(&e) {
                    crate::fold::FoldBasis::Signal(name) => Some(name),
                    _ => None,
                });
            if let Some(summary) = Summary::of(store, g) {
                let made = Made {
                    count: n,
                    last,
                    summary,
                    signal,
                };
                self.summaries.insert(g.key, made);
            }
        }
    }

    /// The summary of a folded row (made for the rows in view).
    pub fn summary(&self, pos: u32) -> Option<&Summary> {
        self.made(pos).map(|m| &m.summary)
    }

    fn made(&self, pos: u32) -> Option<&Made> {
        let g = self.view.folded_at(pos)?;
        self.summaries
            .get(&g.key)
            .filter(|m| m.count == g.members.len() && Some(&m.last) == g.members.last())
    }

    /// What the row at `pos` stands for, when it is a folded set.
    pub fn folded_at(&self, pos: u32) -> Option<&crate::fold::Group> {
        self.view.folded_at(pos)
    }

    /// The name of the signal a folded row folds by, when it is one (`SSH login failures`);
    /// found with its summary, for the rows in view.
    pub fn signal_name(&self, pos: u32) -> Option<&str> {
        self.made(pos)?.signal.as_deref()
    }

    /// Whether `pos` is one event of an unfolded set.
    pub fn in_unfolded(&self, pos: u32) -> bool {
        self.view.group(pos).is_some_and(|g| g.unfolded)
    }

    /// Unfolds the set of the event at `pos`, or folds it again; returns how many events the
    /// set has, or `None` when the event repeats nothing.
    /// A marked event or a chain step is a row of its own, but `z` on it still folds back
    /// the unfolded set it would belong to.
    pub fn toggle(&mut self, store: &Store, pos: u32) -> Option<(usize, bool)> {
        let (key, n) = match self.view.group(pos) {
            Some(g) => (g.key, g.members.len()),
            None => {
                let key = self
                    .keys
                    .get(store, pos)
                    .filter(|k| self.unfolded.contains(k))?;
                let n = self
                    .view
                    .rows
                    .iter()
                    .find_map(|&r| self.view.group(r).filter(|g| g.key == key))
                    .map_or(1, |g| g.members.len());
                (key, n)
            }
        };
        let unfolded = if self.unfolded.remove(&key) {
            false
        } else {
            self.unfolded.insert(key);
            true
        };
        Some((n, unfolded))
    }

    /// Unfolds the set that holds `pos`, so that it can be selected.
    pub fn reveal(&mut self, pos: u32) -> bool {
        match self.view.group(pos) {
            Some(g) if !g.unfolded && g.members[0] != pos => {
                self.unfolded.insert(g.key);
                true
            }
            _ => false,
        }
    }

    /// The row that shows `pos` (its set's first event while the set is folded).
    pub fn row_of(&self, pos: u32) -> u32 {
        self.view.row_of(pos)
    }

    /// The store was rebuilt with new arrival numbers: every key is computed again.
    pub fn rebuild(&mut self) {
        self.keys = FoldKeys::new(self.keys.rules_arc());
        self.positions_moved();
    }

    /// Late events moved positions: the folded view holds stale ones (the keys are kept by
    /// arrival number and stay right).
    pub fn positions_moved(&mut self) {
        self.view = Folded::default();
        self.summaries.clear();
    }
}
