//! Process trees from the events' process fields (Falco `proc.*`, ECS `process.*`, …): one
//! forest per container (or per host for processes outside containers).
//!
//! A process is identified by `process.entity_id` when the source gives one (it survives PID
//! reuse). Otherwise by (scope, pid, ppid): a PID that comes back with another parent is
//! another process, so a reused PID never grafts a process onto the wrong parent. A parent
//! is the newest process with that pid seen in the scope no later than the child; a parent
//! never seen becomes a placeholder node (named from the child's parent name when known).
//! Input that would make a cycle is cut: the process becomes a root.

use crate::model::{EntityKey, Timestamp};
use crate::store::Store;
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

/// Builds the forests of the given events (positions in time order).
pub fn build(store: &Store, positions: &[u32]) -> Vec<(Scope, ProcessForest)> {
    let mut forests: HashMap<Scope, ProcessForest> = HashMap::new();
    // Per scope: pid → node indices, oldest first (generations of a reused PID).
    let mut by_pid: HashMap<Scope, HashMap<i64, Vec<usize>>> = HashMap::new();
    let mut by_entity: HashMap<Scope, HashMap<String, usize>> = HashMap::new();
    for &pos in positions {
        let Some(e) = store.get(pos) else { continue };
        let Some(p) = e.process() else { continue };
        let Some(pid) = p.pid().filter(|pid| *pid >= 0) else {
            continue;
        };
        let Some(scope) = scope_of(&e) else { continue };
        let forest = forests.entry(scope.clone()).or_default();
        let pids = by_pid.entry(scope.clone()).or_default();
        let entities = by_entity.entry(scope.clone()).or_default();
        let user = e
            .entities()
            .find(|(k, _)| *k == EntityKey::User)
            .map(|(_, v)| v.to_string());
        // Which node is this process?
        let existing = match p.entity_id() {
            Some(id) => entities.get(id).copied(),
            None => pids
                .get(&pid)
                .and_then(|gens| gens.last().copied())
                .filter(|&n| {
                    let node = &forest.nodes[n];
                    // The same process unless the parent differs (the PID was reused).
                    node.placeholder
                        || p.ppid().is_none()
                        || node.ppid.is_none()
                        || node.ppid == p.ppid()
                }),
        };
        let index = match existing {
            Some(n) => {
                let node = &mut forest.nodes[n];
                if node.placeholder {
                    node.placeholder = false;
                    node.first_seen = e.ts();
                }
                if let Some(name) = p.name() {
                    node.name = name.to_string();
                }
                node.cmdline = p.cmdline().map(str::to_string).or(node.cmdline.take());
                node.user = user.or(node.user.take());
                node.ppid = node.ppid.or(p.ppid());
                node.events.push(pos);
                n
            }
            None => {
                forest.nodes.push(ProcessNode {
                    pid,
                    ppid: p.ppid(),
                    name: p
                        .name()
                        .map_or_else(|| format!("pid {pid}"), str::to_string),
                    user,
                    cmdline: p.cmdline().map(str::to_string),
                    entity_id: p.entity_id().map(str::to_string),
                    first_seen: e.ts(),
                    events: vec![pos],
                    placeholder: false,
                    parent: None,
                    children: Vec::new(),
                });
                let n = forest.nodes.len() - 1;
                pids.entry(pid).or_default().push(n);
                if let Some(id) = p.entity_id() {
                    entities.insert(id.to_string(), n);
                }
                n
            }
        };
        // Link to the parent once.
        if forest.nodes[index].parent.is_some() {
            continue;
        }
        let Some(ppid) = forest.nodes[index].ppid.filter(|pp| *pp != pid && *pp > 0) else {
            continue;
        };
        let parent = match pids.get(&ppid).and_then(|gens| gens.last().copied()) {
            Some(n) => n,
            None => {
                forest.nodes.push(ProcessNode {
                    pid: ppid,
                    ppid: None,
                    name: p
                        .parent_name()
                        .map_or_else(|| format!("pid {ppid}"), str::to_string),
                    user: None,
                    cmdline: None,
                    entity_id: None,
                    first_seen: e.ts(),
                    events: Vec::new(),
                    placeholder: true,
                    parent: None,
                    children: Vec::new(),
                });
                let n = forest.nodes.len() - 1;
                pids.entry(ppid).or_default().push(n);
                n
            }
        };
        // A link that would close a cycle is not made.
        let mut up = Some(parent);
        let mut cycle = false;
        while let Some(a) = up {
            if a == index {
                cycle = true;
                break;
            }
            up = forest.nodes[a].parent;
        }
        if !cycle {
            forest.nodes[index].parent = Some(parent);
            forest.nodes[parent].children.push(index);
        }
    }
    let mut out: Vec<(Scope, ProcessForest)> = forests.into_iter().collect();
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
