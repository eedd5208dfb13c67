//! Process trees from the events' process fields (Falco and Sysdig `proc.*`, ECS `process.*`):
//! one forest per container (or per host for processes outside containers).
//!
//! A process is identified by `process.entity_id` when the source gives one (it survives PID
//! reuse). Otherwise by (scope, pid, start time) when the source says when the process started
//! (Falco and Sysdig `proc.pid.ts`, ECS `process.start`): the same pid with another start is
//! another process, even under the same parent. Without a start time, by (scope, pid, ppid): a
//! PID that comes back with another parent is another process, so a reused PID never grafts a
//! process onto the wrong parent (but one reused under the same parent is taken for the same
//! process).
//!
//! A parent is the process named by `process.parent.entity_id` when that one is known. Else it
//! is the newest process with the parent pid in the scope that started no later than the child
//! (when its start is known; else any seen so far, so no later than the child), and whose
//! entity id, if it has one, is the child's parent entity id. A parent never seen becomes a
//! placeholder node (named from the child's parent name when known, keyed by the parent entity
//! id when given), filled in when its own events come. Input that would make a cycle is cut:
//! the process becomes a root.

use crate::model::{EntityKey, Timestamp};
use crate::store::{ProcessRef, Store};
use std::collections::HashMap;

/// Where processes live: a container, or a host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Container(String),
    Host(String),
}

impl Scope {
    pub fn label(&self) -> String {
        match self {
            Scope::Container(c) => format!("container {c}"),
            Scope::Host(h) => format!("host {h}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProcessNode {
    pub pid: i64,
    pub ppid: Option<i64>,
    pub name: String,
    pub user: Option<String>,
    pub cmdline: Option<String>,
    pub entity_id: Option<String>,
    /// When it started, when a source says.
    pub start: Option<Timestamp>,
    pub first_seen: Timestamp,
    /// Store positions of the events about this process.
    pub events: Vec<u32>,
    /// Inferred from a child: no event of its own.
    pub placeholder: bool,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
}

/// The processes of one scope.
#[derive(Debug, Clone, Default)]
pub struct ProcessForest {
    pub nodes: Vec<ProcessNode>,
}

impl ProcessForest {
    pub fn roots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&i| self.nodes[i].parent.is_none())
    }

    /// The node an event belongs to.
    pub fn node_of(&self, pos: u32) -> Option<usize> {
        self.nodes.iter().position(|n| n.events.contains(&pos))
    }

    /// Depth-first, children in order of appearance: `(node, depth)`.
    pub fn walk(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::with_capacity(self.nodes.len());
        let mut stack: Vec<(usize, usize)> = self.roots().map(|r| (r, 0)).collect();
        stack.reverse();
        while let Some((n, d)) = stack.pop() {
            out.push((n, d));
            for &c in self.nodes[n].children.iter().rev() {
                stack.push((c, d + 1));
            }
        }
        out
    }
}

/// The scope of an event: its container, else its host.
fn scope_of(e: &crate::store::EventRef<'_>) -> Option<Scope> {
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

/// The processes of one scope while they are being found.
#[derive(Default)]
struct ScopeIndex {
    forest: ProcessForest,
    /// pid → node indices, oldest first (generations of a reused PID).
    by_pid: HashMap<i64, Vec<usize>>,
    by_entity: HashMap<String, usize>,
}

impl ScopeIndex {
    fn push(&mut self, node: ProcessNode) -> usize {
        let n = self.forest.nodes.len();
        self.by_pid.entry(node.pid).or_default().push(n);
        if let Some(id) = &node.entity_id {
            self.by_entity.insert(id.clone(), n);
        }
        self.forest.nodes.push(node);
        n
    }

    /// The latest a placeholder's process can have started: no later than any of its
    /// children (their start, else when they were first seen).
    fn latest_start(&self, n: usize) -> Timestamp {
        let nodes = &self.forest.nodes;
        nodes[n]
            .children
            .iter()
            .map(|&c| nodes[c].start.unwrap_or(nodes[c].first_seen))
            .min()
            .unwrap_or(Timestamp::MAX)
    }

    /// The node an event's process is, if one already is.
    fn find(&self, p: &ProcessRef<'_>, pid: i64) -> Option<usize> {
        let nodes = &self.forest.nodes;
        let gens = self.by_pid.get(&pid).map_or(&[][..], Vec::as_slice);
        let start = p.start();
        // A placeholder, or a process whose start is unknown, is this one only if this one
        // had started by then.
        let fits = |n: usize| {
            let latest = if nodes[n].placeholder {
                self.latest_start(n)
            } else {
                nodes[n].first_seen
            };
            start.is_none_or(|s| s <= latest)
        };
        if let Some(id) = p.entity_id() {
            if let Some(&n) = self.by_entity.get(id) {
                return Some(n);
            }
            // A placeholder a child inferred from the pid alone.
            return gens
                .last()
                .copied()
                .filter(|&n| nodes[n].placeholder && nodes[n].entity_id.is_none() && fits(n));
        }
        if let Some(s) = start {
            if let Some(&n) = gens.iter().rev().find(|&&n| nodes[n].start == Some(s)) {
                return Some(n);
            }
        }
        let n = gens.last().copied()?;
        let node = &nodes[n];
        if start.is_some() && node.start.is_some() {
            // Started at another time: the PID was reused.
            return None;
        }
        if node.placeholder {
            return fits(n).then_some(n);
        }
        // The same process unless the parent differs (the PID was reused).
        let same_parent = p.ppid().is_none() || node.ppid.is_none() || node.ppid == p.ppid();
        (same_parent && fits(n)).then_some(n)
    }

    /// The parent of node `child`, made a placeholder if it was never seen.
    fn parent_of(&mut self, child: usize, p: &ProcessRef<'_>, ts: Timestamp) -> Option<usize> {
        let parent_entity = p.parent_entity_id();
        if let Some(&n) = parent_entity.and_then(|id| self.by_entity.get(id)) {
            return Some(n);
        }
        let node = &self.forest.nodes[child];
        let (pid, start) = (node.pid, node.start.unwrap_or(node.first_seen));
        let ppid = node.ppid.filter(|pp| *pp != pid && *pp > 0)?;
        let nodes = &self.forest.nodes;
        let found = self.by_pid.get(&ppid).and_then(|gens| {
            gens.iter().rev().copied().find(|&n| {
                let cand = &nodes[n];
                n != child
                    && cand.start.is_none_or(|s| s <= start)
                    && match (&cand.entity_id, parent_entity) {
                        (Some(have), Some(want)) => have == want,
                        _ => true,
                    }
            })
        });
        if let Some(n) = found {
            // A placeholder learns its entity id from its child.
            if let (None, Some(id)) = (&self.forest.nodes[n].entity_id, parent_entity) {
                self.forest.nodes[n].entity_id = Some(id.to_string());
                self.by_entity.insert(id.to_string(), n);
            }
            return Some(n);
        }
        Some(
            self.push(ProcessNode {
                pid: ppid,
                ppid: None,
                name: p
                    .parent_name()
                    .map_or_else(|| format!("pid {ppid}"), str::to_string),
                user: None,
                cmdline: None,
                entity_id: parent_entity.map(str::to_string),
                start: None,
                first_seen: ts,
                events: Vec::new(),
                placeholder: true,
                parent: None,
                children: Vec::new(),
            }),
        )
    }
}

/// Builds the forests of the given events (positions in time order).
pub fn build(store: &Store, positions: &[u32]) -> Vec<(Scope, ProcessForest)> {
    let mut scopes: HashMap<Scope, ScopeIndex> = HashMap::new();
    for &pos in positions {
        let Some(e) = store.get(pos) else { continue };
        let Some(p) = e.process() else { continue };
        let Some(pid) = p.pid().filter(|pid| *pid >= 0) else {
            continue;
        };
        let Some(scope) = scope_of(&e) else { continue };
        let index = scopes.entry(scope).or_default();
        let user = e
            .entities()
            .find(|(k, _)| *k == EntityKey::User)
            .map(|(_, v)| v.to_string());
        let ts = e.ts();
        let n = match index.find(&p, pid) {
            Some(n) => {
                let node = &mut index.forest.nodes[n];
                if node.placeholder {
                    node.placeholder = false;
                    node.first_seen = ts;
                }
                if let Some(name) = p.name() {
                    node.name = name.to_string();
                }
                node.cmdline = p.cmdline().map(str::to_string).or(node.cmdline.take());
                node.user = user.or(node.user.take());
                node.ppid = node.ppid.or(p.ppid());
                node.start = node.start.or(p.start());
                node.events.push(pos);
                if node.entity_id.is_none() {
                    if let Some(id) = p.entity_id() {
                        node.entity_id = Some(id.to_string());
                        index.by_entity.insert(id.to_string(), n);
                    }
                }
                n
            }
            None => index.push(ProcessNode {
                pid,
                ppid: p.ppid(),
                name: p
                    .name()
                    .map_or_else(|| format!("pid {pid}"), str::to_string),
                user,
                cmdline: p.cmdline().map(str::to_string),
                entity_id: p.entity_id().map(str::to_string),
                start: p.start(),
                first_seen: ts,
                events: vec![pos],
                placeholder: false,
                parent: None,
                children: Vec::new(),
            }),
        };
        // Link to the parent once.
        if index.forest.nodes[n].parent.is_some() {
            continue;
        }
        let Some(parent) = index.parent_of(n, &p, ts) else {
            continue;
        };
        // A link that would close a cycle is not made.
        let nodes = &mut index.forest.nodes;
        let mut up = Some(parent);
        let mut cycle = false;
        while let Some(a) = up {
            if a == n {
                cycle = true;
                break;
            }
            up = nodes[a].parent;
        }
        if !cycle {
            nodes[n].parent = Some(parent);
            nodes[parent].children.push(n);
        }
    }
    let mut out: Vec<(Scope, ProcessForest)> = scopes
        .into_iter()
        .map(|(scope, index)| (scope, index.forest))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The forests as text: a line per scope, then one process per line, two spaces of
/// indentation per level: `name (pid) user: cmdline`. Untrusted text is sanitized.
pub fn render_text(forests: &[(Scope, ProcessForest)]) -> String {
    use crate::sanitize::line;
    let mut out = String::new();
    for (scope, forest) in forests {
        out.push_str(&line(&scope.label()));
        out.push('\n');
        for (n, depth) in forest.walk() {
            let node = &forest.nodes[n];
            out.push_str(&"  ".repeat(depth + 1));
            out.push_str(&format!("{} ({})", line(&node.name), node.pid));
            if let Some(u) = &node.user {
                out.push_str(&format!(" {}", line(u)));
            }
            if let Some(c) = &node.cmdline {
                out.push_str(&format!(": {}", line(c)));
            }
            if node.placeholder {
                out.push_str(" [not seen]");
            }
            out.push('\n');
        }
    }
    out
}
