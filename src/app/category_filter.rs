//! The category filter: one key steps the pivot through the security-signal categories the
//! loaded events have, then back to none. It is a pivot like any other (`category=network`),
//! so back and forward, the pivot bar and push-down treat it the same.

use crate::model::{Category, EntityKey, TimeRange};
use crate::store::{Pivot, Query, Store};

/// The pivots with the category after the current one (in `Category::ALL` order, skipping
/// those no event of the other pivots and the window has); after the last, without one.
pub fn next(current: &[Pivot], window: TimeRange, store: &Store) -> Vec<Pivot> {
    let is_category = |p: &Pivot| p.key == EntityKey::Category && !p.exclude;
    let now: Option<Category> = current
        .iter()
        .find(|p| is_category(p))
        .and_then(|p| p.value.parse().ok());
    let after = now.map_or(0, |c| c as usize + 1);
    let others: Vec<Pivot> = current
        .iter()
        .filter(|p| !is_category(p))
        .cloned()
        .collect();
    let with = |c: Category| {
        let mut pivots = others.clone();
        pivots.push(Pivot::new(EntityKey::Category, c.as_str()));
        pivots
    };
    Category::ALL
        .into_iter()
        .skip(after)
        .filter(|c| store.entity_count(EntityKey::Category, c.as_str()) > 0)
        .map(with)
        .find(|pivots| {
            !store
                .select(&Query {
                    pivots: pivots.clone(),
                    window,
                })
                .is_empty()
        })
        .unwrap_or(others)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycle(store: &Store, start: Vec<Pivot>) -> Vec<String> {
        let mut pivots = start.clone();
        let mut seen = Vec::new();
        for _ in 0..Category::ALL.len() + 1 {
            pivots = next(&pivots, TimeRange::ALL, store);
            assert_eq!(pivots[..start.len()], start[..], "other pivots stay");
            match pivots.get(start.len()) {
                Some(p) => seen.push(p.value.clone()),
                None => break,
            }
        }
        assert_eq!(pivots, start, "after the last, back to none");
        seen
    }

    #[test]
    fn steps_through_the_categories_present_then_back_to_none() {
        let loaded = crate::demo::load();
        // The demo has events of all seven.
        let all: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(cycle(&loaded.store, Vec::new()), all);
        // Under a pivot, only the categories it has: mallory logs in, execs into a pod and
        // reads secrets; no CI/CD pipeline is hers.
        let user = vec![Pivot::new(EntityKey::User, "mallory")];
        let seen = cycle(&loaded.store, user.clone());
        for c in ["authentication", "authorization", "secrets"] {
            assert!(seen.iter().any(|s| s == c), "{c} in {seen:?}");
        }
        assert!(!seen.iter().any(|s| s == "cicd"), "{seen:?}");
        for c in Category::ALL {
            let mut pivots = user.clone();
            pivots.push(Pivot::new(EntityKey::Category, c.as_str()));
            let has = !loaded
                .store
                .select(&Query {
                    pivots,
                    window: TimeRange::ALL,
                })
                .is_empty();
            assert_eq!(has, seen.iter().any(|s| s == c.as_str()), "{c}");
        }
    }
}
