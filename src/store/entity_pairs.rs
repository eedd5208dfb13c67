//! Every event's entities, as one list: each event holds a range of it. Keys and values are
//! kept in two vectors, 5 bytes a pair instead of the 8 a padded tuple takes (a million
//! events carry about twelve million pairs).

use super::interner::Sym;
use crate::model::EntityKey;

#[derive(Debug, Default)]
pub(super) struct EntityPairs {
    keys: Vec<EntityKey>,
    syms: Vec<Sym>,
}

impl EntityPairs {
    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(super) fn push(&mut self, key: EntityKey, sym: Sym) {
        super::growth::reserve(&mut self.keys, 1);
        super::growth::reserve(&mut self.syms, 1);
        self.keys.push(key);
        self.syms.push(sym);
    }

    pub(super) fn get(&self, i: usize) -> (EntityKey, Sym) {
        (self.keys[i], self.syms[i])
    }

    pub(super) fn range(
        &self,
        at: usize,
        len: usize,
    ) -> impl Iterator<Item = (EntityKey, Sym)> + '_ {
        self.keys[at..at + len]
            .iter()
            .copied()
            .zip(self.syms[at..at + len].iter().copied())
    }

    /// Orders the pairs from `at` on by key, keeping each key's values in their order.
    pub(super) fn sort_from_by_key(&mut self, at: usize) {
        let mut pairs: Vec<(EntityKey, Sym)> = self.range(at, self.len() - at).collect();
        pairs.sort_by_key(|(k, _)| *k);
        for (i, (k, s)) in pairs.into_iter().enumerate() {
            self.keys[at + i] = k;
            self.syms[at + i] = s;
        }
    }

    pub(super) fn footprint(&self) -> usize {
        self.keys.capacity() * std::mem::size_of::<EntityKey>()
            + self.syms.capacity() * std::mem::size_of::<Sym>()
    }
}
