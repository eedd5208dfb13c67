//! Every stored event's fold key, computed once by arrival number and extended as events
//! arrive: a live stream adds only its new events' keys, and a refold is a table lookup.

use super::rules::{FoldKey, FoldRules};
use crate::store::Store;
use std::sync::Arc;

/// Below this many keys to compute, one thread is quicker than starting more.
const PARALLEL_FROM: usize = 8_192;

#[derive(Debug, Clone)]
pub struct FoldKeys {
    rules: Arc<FoldRules>,
    /// By arrival number.
    by_id: Vec<FoldKey>,
    threads: usize,
}

impl FoldKeys {
    pub fn new(rules: Arc<FoldRules>) -> FoldKeys {
        FoldKeys {
            rules,
            by_id: Vec::new(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
        }
    }

    pub fn rules(&self) -> &FoldRules {
        &self.rules
    }

    pub fn rules_arc(&self) -> Arc<FoldRules> {
        self.rules.clone()
    }

    /// Whether every stored event has its key.
    pub fn complete(&self, store: &Store) -> bool {
        self.by_id.len() >= store.len()
    }

    /// Computes up to `budget` more keys, split across the cores; returns whether every
    /// stored event has its key now.
    pub fn step(&mut self, store: &Store, budget: usize) -> bool {
        let from = self.by_id.len();
        let to = (from + budget).min(store.len());
        let rules = &*self.rules;
        let compute = |ids: std::ops::Range<usize>| -> Vec<FoldKey> {
            let mut scratch = String::new();
            ids.map(|id| {
                store
                    .pos_of(id as u32)
                    .and_then(|pos| store.get(pos))
                    .map_or(1, |e| rules.key(&e, &mut scratch))
            })
            .collect()
        };
        if self.threads < 2 || to - from < PARALLEL_FROM {
            let keys = compute(from..to);
            self.by_id.extend(keys);
        } else {
            let per = (to - from).div_ceil(self.threads);
            let parts: Vec<Vec<FoldKey>> = std::thread::scope(|scope| {
                let running: Vec<_> = (from..to)
                    .step_by(per)
                    .map(|start| {
                        let compute = &compute;
                        scope.spawn(move || compute(start..(start + per).min(to)))
                    })
                    .collect();
                running
                    .into_iter()
                    .map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            });
            for part in parts {
                self.by_id.extend(part);
            }
        }
        self.complete(store)
    }

    /// The key of the event at a store position, once computed.
    pub fn get(&self, store: &Store, pos: u32) -> Option<FoldKey> {
        let id = store.id_at(pos)?;
        self.by_id.get(id as usize).copied()
    }
}
