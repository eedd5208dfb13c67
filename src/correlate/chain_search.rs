//! The chain search as a job that runs in slices: a scan of every event for the first steps
//! of the rules (the linear part), then each start followed through the indexes. The TUI runs
//! a slice between two looks at the keyboard, as it does the fuzzy search; `chains::find` runs
//! it to the end at once.

use super::chains::{first_value, Chain, FoundStep, ReadyRule, Rules};
use crate::model::{EntityKey, TimeRange, Timestamp};
use crate::store::{Pivot, Query, Store};
use std::collections::BTreeMap;

/// What following one start costs, counted in scanned events: a few indexed selects.
const FOLLOW_COST: usize = 64;

/// The events of a rule's first step, grouped by the values they bind.
type Starts = BTreeMap<Vec<String>, Vec<u32>>;

/// One start to follow: the rule's index, the values its first step bound, its events.
type Start = (usize, Vec<String>, Vec<u32>);

pub struct ChainSearch {
    rules: Rules,
    positions: Vec<u32>,
    scanned: usize,
    /// Per rule, the starts found so far.
    starts: Vec<Starts>,
    /// After the scan: every start to follow (rule, bound values, events), in rule order.
    to_follow: Option<Vec<Start>>,
    followed: usize,
    found: Vec<Chain>,
}

impl ChainSearch {
    /// A search of `positions` (in time order, as `Store::select` gives them).
    pub fn new(rules: Rules, positions: Vec<u32>) -> ChainSearch {
        let starts = vec![Starts::new(); rules.0.len()];
        ChainSearch {
            rules,
            positions,
            scanned: 0,
            starts,
            to_follow: None,
            followed: 0,
            found: Vec::new(),
        }
    }

    /// Works for about `budget` events' worth; returns whether the search is done.
    pub fn step(&mut self, store: &Store, budget: usize) -> bool {
        let mut spent = 0usize;
        while self.scanned < self.positions.len() && spent < budget {
            self.scan(store, self.positions[self.scanned]);
            self.scanned += 1;
            spent += 1;
        }
        if self.scanned < self.positions.len() {
            return false;
        }
        let to_follow = self.to_follow.get_or_insert_with(|| {
            std::mem::take(&mut self.starts)
                .into_iter()
                .enumerate()
                .flat_map(|(rule, starts)| {
                    starts
                        .into_iter()
                        .map(move |(values, events)| (rule, values, events))
                })
                .collect()
        });
        while self.followed < to_follow.len() && spent < budget {
            let (rule, values, events) = &to_follow[self.followed];
            let ready = &self.rules.0[*rule];
            if let Some(chain) = follow(store, &self.positions, ready, values, events) {
                self.found.push(chain);
            }
            self.followed += 1;
            spent = spent.saturating_add(FOLLOW_COST);
        }
        self.followed == to_follow.len()
    }

    /// Percent done: the scan is most of the work.
    pub fn progress(&self) -> u8 {
        let total = self.positions.len().max(1);
        let scan = self.scanned * 90 / total;
        let follow = match &self.to_follow {
            Some(all) if !all.is_empty() => self.followed * 10 / all.len(),
            Some(_) => 10,
            None => 0,
        };
        (scan + follow).min(100) as u8
    }

    /// The events searched, counted.
    pub fn searched(&self) -> usize {
        self.positions.len()
    }

    pub fn into_found(self) -> Vec<Chain> {
        self.found
    }

    /// Files the event under every rule whose first step it matches.
    fn scan(&mut self, store: &Store, pos: u32) {
        let Some(e) = store.get(pos) else { return };
        for (ready, starts) in self.rules.0.iter().zip(self.starts.iter_mut()) {
            let first = &ready.rule.step[0];
            if !first.conditions.holds(&e) {
                continue;
            }
            let values = ready.keys[0]
                .1
                .iter()
                .map(|k| first_value(&e, *k))
                .collect::<Option<Vec<_>>>();
            if let Some(values) = values {
                starts.entry(values).or_default().push(pos);
            }
        }
    }
}

/// Follows one start through the later steps: each is the first matching event after the
/// previous one that carries every joined value, inside the rule's time limit.
fn follow(
    store: &Store,
    positions: &[u32],
    ready: &ReadyRule,
    values: &[String],
    members: &[u32],
) -> Option<Chain> {
    let first = &ready.rule.step[0];
    let need = first.at_least.unwrap_or(1).max(1);
    let start_pos = *members.get(need - 1)?;
    let start = store.get(start_pos)?;
    let limit = Timestamp(start.ts().0.saturating_add(ready.within));
    let mut bound: BTreeMap<EntityKey, String> = ready.keys[0]
        .1
        .iter()
        .copied()
        .zip(values.iter().cloned())
        .collect();
    let mut steps = vec![FoundStep {
        name: first.name.clone(),
        pos: start_pos,
        count: members.len(),
    }];
    let mut after = start.ts();
    for (step, (join, bind)) in ready.rule.step.iter().zip(ready.keys.iter()).skip(1) {
        let pivots: Vec<Pivot> = join
            .iter()
            .filter_map(|k| bound.get(k).map(|v| Pivot::new(*k, v.clone())))
            .collect();
        let query = Query {
            pivots,
            window: TimeRange::new(after, limit),
        };
        let hit = store
            .select(&query)
            .into_iter()
            .filter(|p| positions.binary_search(p).is_ok())
            .find_map(|p| {
                let e = store.get(p)?;
                let fits =
                    step.conditions.holds(&e) && bind.iter().all(|k| first_value(&e, *k).is_some());
                fits.then_some((p, e))
            });
        let Some((p, e)) = hit else {
            if step.optional {
                continue;
            }
            return None;
        };
        for k in bind {
            if let Some(v) = first_value(&e, *k) {
                bound.insert(*k, v);
            }
        }
        after = e.ts();
        steps.push(FoundStep {
            name: step.name.clone(),
            pos: p,
            count: 1,
        });
    }
    Some(Chain {
        rule: ready.rule.name.clone(),
        steps,
        bound,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::chains::find;

    #[test]
    fn slices_find_what_one_run_finds() {
        let loaded = crate::demo::load();
        let all = loaded.store.select(&Query::default());
        let rules = Rules::default_rules();
        let at_once = find(&loaded.store, &all, &rules);
        assert!(!at_once.is_empty());
        let mut search = ChainSearch::new(rules, all);
        let mut slices = 1;
        while !search.step(&loaded.store, 500) {
            slices += 1;
            assert!(search.progress() < 100);
        }
        assert!(slices > 10, "{slices} slices");
        assert_eq!(search.into_found(), at_once);
    }
}
