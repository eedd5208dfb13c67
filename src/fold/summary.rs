//! What a folded row says about its events: how many, from when to when, how they spread over
//! that time (a sparkline), and which values vary between them (the users a brute force tried).

use super::group::Group;
use crate::model::{EntityKey, Severity, Timestamp};
use crate::store::Store;
use std::collections::HashSet;

/// Cells of a folded row's sparkline.
pub const SPARK_CELLS: usize = 8;
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// The keys whose varying values a folded row lists, the first that varies first.
const VARYING: [EntityKey; 8] = [
    EntityKey::User,
    EntityKey::Ip,
    EntityKey::Host,
    EntityKey::Pod,
    EntityKey::Container,
    EntityKey::Image,
    EntityKey::Namespace,
    EntityKey::Commit,
];
/// Distinct values are counted over at most this many events of a set.
const EXAMINED: usize = 200_000;
/// Values a summary keeps per key, for showing.
const KEPT: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub first: Timestamp,
    pub last: Timestamp,
    /// The most severe of the events.
    pub severity: Severity,
    /// Events per equal slice of first..=last.
    pub spark: [u32; SPARK_CELLS],
    /// Each key whose value varies between the events: the first values seen (up to 20,
    /// in order of first appearance) and how many distinct values there are.
    pub varying: Vec<Varying>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Varying {
    pub key: EntityKey,
    pub values: Vec<String>,
    pub distinct: usize,
    /// Only the first [`EXAMINED`] events were looked at: `distinct` is at least this.
    pub at_least: bool,
}

impl Summary {
    pub fn of(store: &Store, group: &Group) -> Option<Summary> {
        Summary::of_members(store, &group.members)
    }

    /// The summary of events at these store positions (in time order).
    pub fn of_members(store: &Store, members: &[u32]) -> Option<Summary> {
        let first = store.get(*members.first()?)?.ts();
        let last = store.get(*members.last()?)?.ts();
        let span = (last.nanos() - first.nanos()).max(1) as i128;
        let mut spark = [0u32; SPARK_CELLS];
        let mut severity = Severity::Debug;
        let mut seen: Vec<HashSet<&str>> = vec![HashSet::new(); VARYING.len()];
        let mut order: Vec<Vec<&str>> = vec![Vec::new(); VARYING.len()];
        // A key varies when some event's values differ from the first event's (an event with
        // a source and a destination ip has two, and that alone is no variation).
        let mut first_values: Vec<Vec<&str>> = vec![Vec::new(); VARYING.len()];
        let mut varies = [false; VARYING.len()];
        let mut values: Vec<Vec<&str>> = vec![Vec::new(); VARYING.len()];
        for (i, &pos) in members.iter().enumerate() {
            let Some(e) = store.get(pos) else { continue };
            let at = (e.ts().nanos() - first.nanos()) as i128 * SPARK_CELLS as i128 / span;
            spark[(at.max(0) as usize).min(SPARK_CELLS - 1)] += 1;
            severity = severity.min(e.severity());
            if i >= EXAMINED {
                continue;
            }
            values.iter_mut().for_each(Vec::clear);
            for (k, v) in e.entities() {
                if let Some(slot) = VARYING.iter().position(|&key| key == k) {
                    values[slot].push(v);
                    if seen[slot].insert(v) && order[slot].len() < KEPT {
                        order[slot].push(v);
                    }
                }
            }
            for (slot, vals) in values.iter_mut().enumerate() {
                vals.sort_unstable();
                if i == 0 {
                    first_values[slot] = vals.clone();
                } else if *vals != first_values[slot] {
                    varies[slot] = true;
                }
            }
        }
        let at_least = members.len() > EXAMINED;
        let varying = VARYING
            .iter()
            .zip(seen.iter().zip(order))
            .zip(varies)
            .filter(|(_, varies)| *varies)
            .map(|(v, _)| v)
            .map(|(&key, (seen, order))| Varying {
                key,
                values: order.into_iter().map(str::to_string).collect(),
                distinct: seen.len(),
                at_least,
            })
            .collect();
        Some(Summary {
            count: members.len(),
            first,
            last,
            severity,
            spark,
            varying,
        })
    }

    /// `▁▂▅█▇▅▂▁`: the events over the set's own time span, in `cells` cells (8, or 4 where
    /// room is short).
    pub fn sparkline(&self, cells: usize) -> String {
        let per = (SPARK_CELLS / cells.clamp(1, SPARK_CELLS)).max(1);
        let spark: Vec<u32> = self.spark.chunks(per).map(|c| c.iter().sum()).collect();
        let max = spark.iter().copied().max().unwrap_or(0).max(1);
        spark
            .iter()
            .map(|&n| {
                if n == 0 {
                    ' '
                } else {
                    LEVELS[((n as usize * LEVELS.len()).div_ceil(max as usize) - 1)
                        .min(LEVELS.len() - 1)]
                }
            })
            .collect()
    }

    /// `user root, admin +12`: the first key that varies, its first values and how many more.
    pub fn varying_text(&self, shown: usize) -> Option<String> {
        let v = self.varying.first()?;
        let listed: Vec<&str> = v.values.iter().take(shown).map(String::as_str).collect();
        let more = v.distinct - listed.len();
        let mut text = format!("{} {}", v.key.as_str(), listed.join(", "));
        if more > 0 {
            let plus = if v.at_least { "≥" } else { "" };
            text.push_str(&format!(" +{plus}{more}"));
        }
        Some(text)
    }
}
