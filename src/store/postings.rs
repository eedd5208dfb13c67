//! The entity index: for every (key, value) pair, the positions of the events that carry it.
//! Found by the value's symbol (a vector index, no hashing), with a pair seen once (a pid, a
//! container id) held inline rather than in its own allocation.

use super::interner::Sym;
use crate::model::EntityKey;

#[derive(Debug, Default)]
pub(super) struct Postings {
    /// By symbol: its first slot, or `u32::MAX`.
    first: Vec<u32>,
    slots: Vec<Slot>,
    /// The lists of the pairs carried by more than one event.
    lists: Vec<Vec<u32>>,
}

#[derive(Debug)]
struct Slot {
    key: EntityKey,
    /// The next slot of the same symbol (under another key), or `u32::MAX`.
    next: u32,
    list: List,
}

/// A slot's positions: 8 bytes in the slot, and a vector elsewhere only when there are two
/// or more (most values of a big incident, pids and container ids, are carried once).
#[derive(Debug, Clone, Copy)]
enum List {
    Empty,
    One(u32),
    /// An index into `lists`.
    Many(u32),
}

impl Postings {
    fn slot(&self, key: EntityKey, sym: Sym) -> Option<usize> {
        let mut at = *self.first.get(sym.index())?;
        while at != u32::MAX {
            let slot = &self.slots[at as usize];
            if slot.key == key {
                return Some(at as usize);
            }
            at = slot.next;
        }
        None
    }

    /// The positions carrying the pair, in the order they were added.
    pub(super) fn get(&self, key: EntityKey, sym: Sym) -> Option<&[u32]> {
        let s = self.slot(key, sym)?;
        Some(match &self.slots[s].list {
            List::Empty => &[],
            List::One(p) => std::slice::from_ref(p),
            List::Many(i) => &self.lists[*i as usize],
        })
    }

    /// Adds a position; true when the pair is new.
    pub(super) fn push(&mut self, key: EntityKey, sym: Sym, pos: u32) -> bool {
        if let Some(s) = self.slot(key, sym) {
            let list = &mut self.slots[s].list;
            match *list {
                List::Empty => *list = List::One(pos),
                List::One(p) => {
                    *list = List::Many(self.lists.len() as u32);
                    super::growth::reserve(&mut self.lists, 1);
                    self.lists.push(vec![p, pos]);
                }
                List::Many(i) => self.lists[i as usize].push(pos),
            }
            return false;
        }
        if self.first.len() <= sym.index() {
            let more = sym.index() + 1 - self.first.len();
            super::growth::reserve(&mut self.first, more);
            self.first.resize(sym.index() + 1, u32::MAX);
        }
        super::growth::reserve(&mut self.slots, 1);
        let next = self.first[sym.index()];
        self.first[sym.index()] = self.slots.len() as u32;
        self.slots.push(Slot {
            key,
            next,
            list: List::One(pos),
        });
        true
    }

    /// Keeps only the positions below `k` (the ones from `k` on are about to move).
    pub(super) fn truncate_from(&mut self, key: EntityKey, sym: Sym, k: u32) {
        let Some(s) = self.slot(key, sym) else {
            return;
        };
        let list = &mut self.slots[s].list;
        match *list {
            List::One(p) if p >= k => *list = List::Empty,
            List::Many(i) => {
                let v = &mut self.lists[i as usize];
                let keep = v.partition_point(|&p| p < k);
                v.truncate(keep);
            }
            _ => {}
        }
    }

    /// Approximate bytes held.
    pub(super) fn footprint(&self) -> usize {
        self.first.capacity() * 4
            + self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.lists.capacity() * std::mem::size_of::<Vec<u32>>()
            + self.lists.iter().map(|v| v.capacity() * 4).sum::<usize>()
    }
}
