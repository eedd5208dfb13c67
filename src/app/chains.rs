//! The attack chains on screen: what the rules found, and the search finding them again when
//! the data changed. The search runs in slices between two looks at the keyboard; above a size
//! (a setting) it runs only when asked, so a big live load is not searched again on every batch.

use crate::correlate::chains::{Chain, ChainSearch, Rules};
use crate::store::{Query, Store};

/// Up to how many events the chains are found again on their own (`chains_auto_limit`).
pub const DEFAULT_AUTO_LIMIT: usize = 200_000;

/// How many events one slice of the chain search examines.
pub const CHAIN_SLICE: usize = 20_000;

pub struct ChainState {
    pub rules: Rules,
    /// The chains found, at the store size in `found_for`.
    pub found: Vec<Chain>,
    found_for: Option<usize>,
    /// A search running, with the store size it started at.
    search: Option<(usize, ChainSearch)>,
    pub auto_limit: usize,
    /// The user asked (`C`): search even above the limit, once.
    asked: bool,
}

impl Default for ChainState {
    fn default() -> ChainState {
        ChainState::new(Rules::default_rules(), DEFAULT_AUTO_LIMIT)
    }
}

impl ChainState {
    pub fn new(rules: Rules, auto_limit: usize) -> ChainState {
        ChainState {
            rules,
            found: Vec::new(),
            found_for: None,
            search: None,
            auto_limit,
            asked: false,
        }
    }

    /// Chains found elsewhere (a replayed bundle's), for the store as it is: not searched
    /// again while it stays so.
    pub fn restore(&mut self, found: Vec<Chain>, store: &Store) {
        self.found = found;
        self.found_for = Some(store.len());
        self.search = None;
        self.asked = false;
    }

    /// Starts a search when the store changed since the last one: always when `asked`, else
    /// while the store is at most `auto_limit` events.
    pub fn refresh(&mut self, store: &Store, asked: bool) {
        self.asked |= asked;
        let size = store.len();
        let current = self.found_for == Some(size)
            || matches!(&self.search, Some((started, _)) if *started == size);
        if current {
            return;
        }
        if size > self.auto_limit && !self.asked {
            self.search = None;
            return;
        }
        let all = store.select(&Query::default());
        self.search = Some((size, ChainSearch::new(self.rules.clone(), all)));
    }

    /// Late events moved positions: the chains found hold stale ones.
    pub fn positions_moved(&mut self) {
        self.found.clear();
        self.found_for = None;
        self.search = None;
    }

    /// Runs a slice of the search; returns whether the chains changed.
    pub fn step(&mut self, store: &Store, budget: usize) -> bool {
        let Some((size, search)) = &mut self.search else {
            return false;
        };
        if *size != store.len() {
            // Refresh starts it again; positions it holds may be stale.
            self.search = None;
            return false;
        }
        if !search.step(store, budget) {
            return false;
        }
        let size = *size;
        if let Some((_, done)) = self.search.take() {
            self.found = done.into_found();
        }
        self.found_for = Some(size);
        self.asked = false;
        true
    }

    pub fn running(&self) -> bool {
        self.search.is_some()
    }

    /// Percent searched, while a search runs.
    pub fn progress(&self) -> Option<u8> {
        self.search.as_ref().map(|(_, s)| s.progress())
    }

    /// How many events arrived since the chains shown were found (none found: all of them).
    pub fn behind(&self, store: &Store) -> usize {
        store.len().saturating_sub(self.found_for.unwrap_or(0))
    }

    /// Whether the chains shown were found on the store as it is.
    pub fn is_current(&self, store: &Store) -> bool {
        self.found_for == Some(store.len())
    }

    /// The chains as listed: the one holding the selected event first, then the others in
    /// the order found.
    pub fn in_list_order(&self, selected: Option<u32>) -> Vec<&Chain> {
        let first = selected.and_then(|pos| self.holding(pos));
        let mut listed: Vec<&Chain> = self.found.iter().collect();
        listed.sort_by_key(|c| Some(*c) != first);
        listed
    }

    /// Every step's event, in the order the list shows them (what its cursor moves over).
    pub fn steps_in_list_order(&self, selected: Option<u32>) -> Vec<u32> {
        self.in_list_order(selected)
            .iter()
            .flat_map(|c| c.steps.iter().map(|s| s.pos))
            .collect()
    }

    /// The chain an event is a step of, if any.
    pub fn holding(&self, pos: u32) -> Option<&Chain> {
        self.found
            .iter()
            .find(|c| c.steps.iter().any(|s| s.pos == pos))
    }
}
