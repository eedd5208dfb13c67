//! Attack chains on a live stream, with the chain engine of `correlate::chains` (no second
//! one). That search reads every event it is given for the chains' first steps, so it is not
//! given the store: only the events that meet some step's conditions of some chain can be
//! part of a chain, and those are collected as they arrive. The search runs again over them
//! only when an event that could complete a chain has arrived (one that meets a later step,
//! or one that arrived out of time order), and forgets what is older than the longest chain's
//! time limit behind the newest event.
//!
//! The search gives one chain per set of joined values: the one from the earliest start it
//! holds. So when the same entities make the same chain again and again inside its time
//! limit, which of those repeats become incidents of their own depends on when the search ran
//! (it runs at most once a second on a busy stream); each one found is raised once, and the
//! same chain found again is never raised again.

use super::dedup::LATE_GRACE_NS;
use crate::correlate::chains::{self, Chain, RuleFile, Rules};
use crate::correlate::conditions::Conditions;
use crate::model::{parse_duration, Timestamp};
use crate::store::{EventRef, Store};
use std::time::{Duration, Instant};

/// The chain rules, as the chain search runs them and as conditions per step.
#[derive(Debug, Clone)]
pub struct ChainSet {
    rules: Rules,
    /// Per chain: every step's conditions.
    steps: Vec<Vec<Conditions>>,
    /// The longest time limit of a chain, in nanoseconds.
    longest_ns: i64,
}

impl ChainSet {
    /// Reads a chains.toml; its errors are the chain search's own (file, line, chain, step).
    pub fn parse(label: &str, text: &str) -> Result<ChainSet, String> {
        let rules = Rules::parse(label, text)?;
        let file: RuleFile =
            crate::ui::config_file::parse_toml(label, text).map_err(|e| e.to_string())?;
        let mut steps = Vec::new();
        let mut longest_ns = 0;
        for chain in file.chain {
            longest_ns = longest_ns.max(parse_duration(&chain.within).unwrap_or(0));
            let mut conditions = Vec::new();
            for step in chain.step {
                let mut c = step.conditions;
                c.prepare()?;
                conditions.push(c);
            }
            steps.push(conditions);
        }
        Ok(ChainSet {
            rules,
            steps,
            longest_ns,
        })
    }

    /// No chains: for rules over events alone (the chains are counted elsewhere).
    pub fn none() -> ChainSet {
        ChainSet::parse("no chains", "").unwrap_or_else(|_| ChainSet::built_in())
    }

    /// The built-in rules/chains.toml.
    pub fn built_in() -> ChainSet {
        ChainSet::parse("rules/chains.toml (built in)", chains::DEFAULT_RULES).unwrap_or_else(
            |_| ChainSet {
                rules: Rules::default_rules(),
                steps: Vec::new(),
                longest_ns: 0,
            },
        )
    }
}

/// The events that may be part of a chain, collected as they arrive.
#[derive(Debug)]
pub(super) struct ChainWatch {
    set: ChainSet,
    /// (time, arrival number) of every event meeting some step, in arrival order.
    relevant: Vec<(Timestamp, u32)>,
    newest: Timestamp,
    /// An event arrived that could complete a chain: the search is due.
    due: bool,
    last_run: Option<Instant>,
    /// The search runs at most this often (wall time); a due search waits for the next
    /// call after it, or for [`ChainWatch::search`] with `force`.
    pub every: Duration,
}

impl ChainWatch {
    /// The store was rebuilt with new arrival numbers: what was collected is gone.
    pub fn forget(&mut self) {
        self.relevant.clear();
        self.newest = Timestamp::MIN;
        self.due = false;
    }

    pub fn new(set: ChainSet) -> ChainWatch {
        ChainWatch {
            set,
            relevant: Vec::new(),
            newest: Timestamp::MIN,
            due: false,
            last_run: None,
            every: Duration::ZERO,
        }
    }

    /// Looks at one new event.
    pub fn note(&mut self, e: &EventRef<'_>, id: u32) {
        let mut meets = false;
        let mut later_step = false;
        for steps in &self.set.steps {
            for (i, c) in steps.iter().enumerate() {
                if c.holds(e) {
                    meets = true;
                    later_step |= i > 0;
                }
            }
        }
        if !meets {
            return;
        }
        let t = e.ts();
        // A first step in time order starts chains but completes none; out of order, it may
        // be the start an existing later step was waiting for.
        if later_step || t < self.newest {
            self.due = true;
        }
        self.newest = self.newest.max(t);
        self.relevant.push((t, id));
    }

    /// Forgets events too old to start a chain that could still complete.
    pub fn forget_before(&mut self, watermark: Timestamp) {
        let horizon = watermark
            .0
            .saturating_sub(self.set.longest_ns.saturating_add(LATE_GRACE_NS));
        self.relevant.retain(|(t, _)| t.0 >= horizon);
    }

    /// The chains found, when a search was due (and, unless `force`, not run too recently).
    pub fn search(&mut self, store: &Store, force: bool) -> Option<Vec<Chain>> {
        if !self.due {
            return None;
        }
        if !force && self.last_run.is_some_and(|at| at.elapsed() < self.every) {
            return None;
        }
        let mut positions: Vec<u32> = self
            .relevant
            .iter()
            .filter_map(|(_, id)| store.pos_of(*id))
            .collect();
        positions.sort_unstable();
        positions.dedup();
        self.due = false;
        self.last_run = Some(Instant::now());
        Some(chains::find(store, &positions, &self.set.rules))
    }
}
