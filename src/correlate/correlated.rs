//! Correlated events: for one event, the events of other sources that share an entity with it
//! inside a time window, ranked by how many entities they share, then by closeness in time.
//! Answered from the entity index: only the events carrying one of its entities are looked at.

use crate::model::{EntityKey, TimeRange, Timestamp};
use crate::store::{Pivot, Query, Store};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correlated {
    pub pos: u32,
    /// The entities it shares with the event.
    pub shared: Vec<(EntityKey, String)>,
    /// Time from the event (negative: before it).
    pub offset_ns: i64,
}

/// Entities too common to mean anything alone (a namespace holds half the cluster); they count
/// only beside a more telling one.
fn weak(key: EntityKey) -> bool {
    matches!(key, EntityKey::Namespace | EntityKey::Rule)
}

/// Up to `limit` correlated events of `pos`, within ±`window_ns`.
pub fn correlated(store: &Store, pos: u32, window_ns: i64, limit: usize) -> Vec<Correlated> {
    let Some(e) = store.get(pos) else {
        return Vec::new();
    };
    let ts = e.ts();
    let window = TimeRange::new(
        ts.saturating_sub_nanos(window_ns),
        Timestamp(ts.0.saturating_add(window_ns).saturating_add(1)),
    );
    let mut hits: HashMap<u32, Vec<(EntityKey, String)>> = HashMap::new();
    // A category is a kind of event, not a thing two events can share.
    for (key, value) in e.entities().filter(|(k, _)| *k != EntityKey::Category) {
        // A pid or an ip alone joins unrelated hosts; they still add to a match.
        let query = Query {
            pivots: vec![Pivot::new(key, value)],
            window,
        };
        for p in store.select(&query) {
            if p != pos {
                hits.entry(p).or_default().push((key, value.to_string()));
            }
        }
    }
    let mut out: Vec<Correlated> = hits
        .into_iter()
        .filter_map(|(p, shared)| {
            let other = store.get(p)?;
            if other.source() == e.source() {
                return None;
            }
            if shared.iter().all(|(k, _)| weak(*k)) {
                return None;
            }
            Some(Correlated {
                pos: p,
                shared,
                offset_ns: other.ts().0.saturating_sub(ts.0),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.shared
            .len()
            .cmp(&a.shared.len())
            .then(a.offset_ns.unsigned_abs().cmp(&b.offset_ns.unsigned_abs()))
            .then(a.pos.cmp(&b.pos))
    });
    out.truncate(limit);
    out
}
