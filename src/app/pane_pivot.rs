//! Pivots from whichever pane has the focus: the entity chosen in the detail, the process under
//! the tree's cursor, or the entities a related event shares with the selected one. `p` (or
//! `Enter`) shows only their events, `+` adds them to the pivot (AND), `-` leaves them out.
//! A related event's entities are pivoted on together (AND); leaving them out leaves out the
//! rarest of them only, since leaving out each would hide every event with any of them.

use super::{App, Pane};
use crate::store::Pivot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PivotMode {
    /// Only these events: a new pivot.
    Only,
    /// The current pivot AND these.
    Add,
    /// The current pivot without these.
    Exclude,
}

/// What a pane offers to pivot on. `subject` is what is pivoted on or left out; `within`
/// stays a positive pivot either way. A process is its pid within its container (or host), so
/// leaving a process out keeps its container and drops only its pid there.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PivotTarget {
    pub within: Vec<Pivot>,
    pub subject: Vec<Pivot>,
    /// What the pivot cannot say, for the status line.
    pub note: Option<String>,
}

impl PivotTarget {
    pub fn one(pivot: Pivot) -> PivotTarget {
        PivotTarget {
            subject: vec![pivot],
            ..PivotTarget::default()
        }
    }
}

/// The pivot list after applying `target` to `current` in `mode`. A pivot replaces its
/// opposite (leaving out what was pivoted on, or pivoting on what was left out), and none is
/// listed twice.
pub fn apply(current: &[Pivot], target: &PivotTarget, mode: PivotMode) -> Vec<Pivot> {
    let mut out = match mode {
        PivotMode::Only => Vec::new(),
        PivotMode::Add | PivotMode::Exclude => current.to_vec(),
    };
    let subject = target.subject.iter().map(|p| Pivot {
        exclude: mode == PivotMode::Exclude,
        ..p.clone()
    });
    for p in target.within.iter().cloned().chain(subject) {
        out.retain(|q| !(q.key == p.key && q.value == p.value && q.exclude != p.exclude));
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

impl App {
    /// What the focused pane offers to pivot on in `mode`, or why it offers nothing.
    fn pivot_target(&self, mode: PivotMode) -> Result<PivotTarget, &'static str> {
        match self.focus {
            Pane::Tree => self.tree.target().ok_or("no process here to pivot on"),
            Pane::Correlated if self.correlated.context_mode => Err(
                "the context shares no entity to pivot on: Enter selects the event, then pivot from its detail",
            ),
            Pane::Correlated => {
                let item = self
                    .correlated
                    .items
                    .get(self.correlated.cursor)
                    .ok_or("no related event here to pivot on")?;
                let shared = item.shared.iter().map(|(k, v)| Pivot::new(*k, v.clone()));
                let subject = if mode == PivotMode::Exclude {
                    let store = &self.data.store;
                    shared
                        .min_by_key(|p| store.entity_count(p.key, &p.value))
                        .into_iter()
                        .collect()
                } else {
                    shared.collect()
                };
                Ok(PivotTarget {
                    subject,
                    ..PivotTarget::default()
                })
            }
            Pane::Timeline | Pane::Detail => self
                .detail
                .chosen()
                .map(|(k, v)| PivotTarget::one(Pivot::new(k, v)))
                .ok_or("choose an entity in the detail pane first"),
        }
    }

    /// `p`, `+` or `-` in the focused pane.
    pub(super) fn pivot_from_pane(&mut self, mode: PivotMode) {
        match self.pivot_target(mode) {
            Ok(target) => {
                let pivots = apply(self.history.current(), &target, mode);
                self.history.push(pivots);
                self.focus = Pane::Timeline;
                self.pivot_changed();
                if let Some(note) = target.note {
                    self.notice = Some(note);
                }
            }
            Err(why) => self.notice = Some(why.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EntityKey;

    fn p(key: EntityKey, v: &str) -> Pivot {
        Pivot::new(key, v)
    }

    fn not(key: EntityKey, v: &str) -> Pivot {
        Pivot {
            exclude: true,
            ..p(key, v)
        }
    }

    #[test]
    fn only_replaces_add_joins_and_exclude_leaves_out() {
        let current = vec![p(EntityKey::Namespace, "prod")];
        let user = PivotTarget::one(p(EntityKey::User, "mallory"));
        assert_eq!(
            apply(&current, &user, PivotMode::Only),
            vec![p(EntityKey::User, "mallory")]
        );
        assert_eq!(
            apply(&current, &user, PivotMode::Add),
            vec![
                p(EntityKey::Namespace, "prod"),
                p(EntityKey::User, "mallory")
            ]
        );
        assert_eq!(
            apply(&current, &user, PivotMode::Exclude),
            vec![
                p(EntityKey::Namespace, "prod"),
                not(EntityKey::User, "mallory")
            ]
        );
    }

    #[test]
    fn a_process_left_out_keeps_its_container() {
        let process = PivotTarget {
            within: vec![p(EntityKey::Container, "5f2c1a9b3d4e")],
            subject: vec![p(EntityKey::Pid, "4242")],
            note: None,
        };
        let current = vec![p(EntityKey::User, "mallory")];
        assert_eq!(
            apply(&current, &process, PivotMode::Exclude),
            vec![
                p(EntityKey::User, "mallory"),
                p(EntityKey::Container, "5f2c1a9b3d4e"),
                not(EntityKey::Pid, "4242"),
            ]
        );
        // Already in that container: the container is not listed twice.
        let inside = vec![p(EntityKey::Container, "5f2c1a9b3d4e")];
        assert_eq!(
            apply(&inside, &process, PivotMode::Add),
            vec![
                p(EntityKey::Container, "5f2c1a9b3d4e"),
                p(EntityKey::Pid, "4242")
            ]
        );
    }

    #[test]
    fn a_pivot_replaces_its_opposite() {
        let user = PivotTarget::one(p(EntityKey::User, "mallory"));
        let pivoted = vec![p(EntityKey::User, "mallory"), p(EntityKey::Host, "web-1")];
        assert_eq!(
            apply(&pivoted, &user, PivotMode::Exclude),
            vec![p(EntityKey::Host, "web-1"), not(EntityKey::User, "mallory")]
        );
        let left_out = vec![not(EntityKey::User, "mallory")];
        assert_eq!(
            apply(&left_out, &user, PivotMode::Add),
            vec![p(EntityKey::User, "mallory")]
        );
    }
}
