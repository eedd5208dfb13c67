use crate::correlate::process_tree::{self, ProcessForest, Scope};
use crate::model::{EntityKey, TimeRange};
use crate::store::{Pivot, Query, Store};
use std::collections::HashSet;

use super::pane_pivot::PivotTarget;

/// The process tree of the selected event's container (or host), prepared when the
/// selection or the data changes, so drawing only reads it.
#[derive(Debug, Clone, Default)]
pub struct TreeState {
    pub scope: Option<Scope>,
    pub forest: ProcessForest,
    /// Rows shown: `(node, depth)`, collapsed subtrees left out.
    pub rows: Vec<(usize, usize)>,
    /// Nodes whose children are hidden.
    pub collapsed: HashSet<usize>,
    /// The row the tree cursor is on.
    pub cursor: usize,
    /// The node of the selected event, highlighted.
    pub selected_node: Option<usize>,
    /// The scope the forest was built for, and the store size then.
    built: Option<(Option<Scope>, usize)>,
}

fn scope_of(store: &Store, pos: u32) -> Option<Scope> {
    let e = store.get(pos)?;
    let mut host = None;
    for (k, v) in e.entities() {
        match k {
            EntityKey::Container => return Some(Scope::Container(v.to_string())),
            EntityKey::Host if host.is_none() => host = Some(v.to_string()),
            _ => {}
        }
    }
    host.map(Scope::Host)
}

impl TreeState {
    /// Forgets the built forest (store positions moved).
    pub fn invalidate(&mut self) {
        self.built = None;
    }

    /// Prepares the tree for the selected event: the forest is built again only when the
    /// scope or the data changed; moving within a container only moves the highlight.
    pub fn sync(&mut self, store: &Store, selected: Option<u32>) {
        let scope = selected.and_then(|p| scope_of(store, p));
        let key = (scope.clone(), store.len());
        if self.built.as_ref() != Some(&key) {
            if scope != self.scope {
                self.collapsed.clear();
                self.cursor = 0;
            }
            self.built = Some(key);
            self.scope = scope.clone();
            self.forest = ProcessForest::default();
            if let Some(scope) = &scope {
                let pivot = match scope {
                    Scope::Container(c) => Pivot::new(EntityKey::Container, c.clone()),
                    Scope::Host(h) => Pivot::new(EntityKey::Host, h.clone()),
                };
                let positions = store.select(&Query {
                    pivots: vec![pivot],
                    window: TimeRange::ALL,
                });
                if let Some((_, forest)) = process_tree::build(store, &positions)
                    .into_iter()
                    .find(|(s, _)| s == scope)
                {
                    self.forest = forest;
                }
            }
            self.relayout();
        }
        let node = selected.and_then(|p| self.forest.node_of(p));
        if node != self.selected_node {
            self.selected_node = node;
            // The cursor goes to the selected event's process.
            if let Some(row) = node.and_then(|n| self.rows.iter().position(|(r, _)| *r == n)) {
                self.cursor = row;
            }
        }
    }

    fn relayout(&mut self) {
        self.rows.clear();
        let mut hidden_below: Option<usize> = None;
        for (n, depth) in self.forest.walk() {
            if let Some(d) = hidden_below {
                if depth > d {
                    continue;
                }
                hidden_below = None;
            }
            self.rows.push((n, depth));
            if self.collapsed.contains(&n) {
                hidden_below = Some(depth);
            }
        }
        self.cursor = self.cursor.min(self.rows.len().saturating_sub(1));
    }

    pub fn move_cursor(&mut self, delta: isize) {
        if self.rows.is_empty() {
            return;
        }
        let last = self.rows.len() as isize - 1;
        self.cursor = (self.cursor as isize + delta).clamp(0, last) as usize;
    }

    /// Hides or shows the children of the node under the cursor.
    pub fn toggle(&mut self) {
        if let Some(&(n, _)) = self.rows.get(self.cursor) {
            if !self.collapsed.remove(&n) {
                self.collapsed.insert(n);
            }
            self.relayout();
        }
    }

    /// What the node under the cursor pivots on: its pid, within its scope.
    pub fn target(&self) -> Option<PivotTarget> {
        let &(n, _) = self.rows.get(self.cursor)?;
        let scope = match self.scope.as_ref()? {
            Scope::Container(c) => Pivot::new(EntityKey::Container, c.clone()),
            Scope::Host(h) => Pivot::new(EntityKey::Host, h.clone()),
        };
        let pid = self.forest.nodes[n].pid;
        // A pivot names a pid, not a process: when the pid was reused here, it shows them all.
        let names: Vec<&str> = self
            .forest
            .nodes
            .iter()
            .filter(|m| m.pid == pid && !m.placeholder)
            .map(|m| m.name.as_str())
            .collect();
        let note = (names.len() > 1).then(|| {
            format!(
                "pid {pid} was {} processes here ({}): the pivot takes the events of each",
                names.len(),
                names.join(", ")
            )
        });
        Some(PivotTarget {
            within: vec![scope],
            subject: vec![Pivot::new(EntityKey::Pid, pid.to_string())],
            note,
        })
    }
}
