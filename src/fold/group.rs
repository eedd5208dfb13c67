//! Folding a list of shown events into rows: the first of each set of repeats stands for all
//! of them, unless its set is unfolded.

use super::rules::FoldKey;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for keys that need no hashing of their own: fold keys are already hashes made
/// with a per-process secret, and positions are the store's own numbers. One multiply spreads
/// them over the high bits the table looks at. SipHash on a million keys cost more than the
/// rest of folding.
#[derive(Default)]
pub struct SpreadHasher(u64);

impl Hasher for SpreadHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
}

type Spread = BuildHasherDefault<SpreadHasher>;

/// One set of repeats among the shown events.
#[derive(Debug, Clone)]
pub struct Group {
    pub key: FoldKey,
    /// Store positions, so in time order.
    pub members: Vec<u32>,
    pub unfolded: bool,
}

/// The shown events folded into rows.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    /// The positions shown as rows: each folded set by its first event.
    pub rows: Vec<u32>,
    /// Only sets of more than one event.
    groups: Vec<Group>,
    /// The set a shown position belongs to (sets of more than one).
    group_of: HashMap<u32, u32, Spread>,
}

impl Folded {
    /// Folds `shown` (in time order). `key` gives each position's fold key, or `None` for an
    /// event that is never folded (a chain step, a marked event). Sets whose key is in
    /// `unfolded` show all their events.
    pub fn build(
        shown: &[u32],
        key: impl Fn(u32) -> Option<FoldKey>,
        unfolded: &HashSet<FoldKey>,
    ) -> Folded {
        // First the sizes of the sets (most events of a big store may repeat nothing, and a
        // set of one needs no list), then the lists of the sets of more than one.
        let mut by_key: HashMap<FoldKey, u32, Spread> =
            HashMap::with_capacity_and_hasher(shown.len().min(1 << 16), Spread::default());
        let mut sizes: Vec<(FoldKey, u32)> = Vec::new();
        let mut of: Vec<u32> = Vec::with_capacity(shown.len());
        for &pos in shown {
            let Some(k) = key(pos) else {
                of.push(u32::MAX);
                continue;
            };
            let g = *by_key.entry(k).or_insert_with(|| {
                sizes.push((k, 0));
                sizes.len() as u32 - 1
            });
            sizes[g as usize].1 += 1;
            of.push(g);
        }
        drop(by_key);
        let mut kept = vec![u32::MAX; sizes.len()];
        let mut big: Vec<Group> = Vec::new();
        for (i, &(k, n)) in sizes.iter().enumerate() {
            if n > 1 {
                kept[i] = big.len() as u32;
                big.push(Group {
                    key: k,
                    members: Vec::with_capacity(n as usize),
                    unfolded: unfolded.contains(&k),
                });
            }
        }
        for (&pos, &g) in shown.iter().zip(&of) {
            if let Some(&b) = kept.get(g as usize).filter(|&&b| b != u32::MAX) {
                big[b as usize].members.push(pos);
            }
        }
        let mut rows = Vec::with_capacity(big.len() + shown.len() / 4);
        let mut group_of = HashMap::default();
        for (&pos, g) in shown.iter().zip(of) {
            let Some(&g) = kept.get(g as usize).filter(|&&g| g != u32::MAX) else {
                rows.push(pos);
                continue;
            };
            group_of.insert(pos, g);
            let set = &big[g as usize];
            if set.unfolded || set.members[0] == pos {
                rows.push(pos);
            }
        }
        Folded {
            rows,
            groups: big,
            group_of,
        }
    }

    /// The set a position belongs to, when it is one of several repeats.
    pub fn group(&self, pos: u32) -> Option<&Group> {
        self.group_of
            .get(&pos)
            .and_then(|&g| self.groups.get(g as usize))
    }

    /// The folded set a row stands for: the row is the first of a set that is not unfolded.
    pub fn folded_at(&self, pos: u32) -> Option<&Group> {
        self.group(pos)
            .filter(|g| !g.unfolded && g.members[0] == pos)
    }

    /// The row that shows `pos`: itself, or the first of the folded set it is in.
    pub fn row_of(&self, pos: u32) -> u32 {
        match self.group(pos) {
            Some(g) if !g.unfolded => g.members[0],
            _ => pos,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded_rows(f: &Folded) -> usize {
        f.rows.iter().filter(|&&r| f.folded_at(r).is_some()).count()
    }

    fn keys(pos: u32) -> Option<FoldKey> {
        // 1, 3, 5, 7: key 10; 2 and 6: key 20; 4: alone; 8: never folded.
        match pos {
            8 => None,
            4 => Some(40),
            p if p % 2 == 1 => Some(10),
            _ => Some(20),
        }
    }

    #[test]
    fn repeats_fold_into_their_first_event() {
        let shown: Vec<u32> = (1..=8).collect();
        let f = Folded::build(&shown, keys, &HashSet::new());
        assert_eq!(f.rows, [1, 2, 4, 8]);
        assert_eq!(
            f.folded_at(1).map(|g| g.members.clone()),
            Some(vec![1, 3, 5, 7])
        );
        assert_eq!(f.folded_at(2).map(|g| g.members.len()), Some(2));
        assert!(f.folded_at(4).is_none(), "a set of one is a plain row");
        assert!(f.folded_at(3).is_none(), "3 is not a row");
        assert_eq!(f.row_of(5), 1);
        assert_eq!(f.row_of(8), 8);
        assert_eq!(folded_rows(&f), 2);
    }

    #[test]
    fn an_unfolded_set_shows_every_event() {
        let shown: Vec<u32> = (1..=8).collect();
        let f = Folded::build(&shown, keys, &HashSet::from([10]));
        assert_eq!(f.rows, [1, 2, 3, 4, 5, 7, 8]);
        assert!(f.folded_at(1).is_none());
        assert_eq!(f.group(5).map(|g| g.unfolded), Some(true));
        assert_eq!(f.row_of(5), 5);
    }

    #[test]
    fn only_the_shown_events_are_folded() {
        let f = Folded::build(&[3, 4, 6], keys, &HashSet::new());
        assert_eq!(f.rows, [3, 4, 6], "no key has two shown events");
        assert_eq!(folded_rows(&f), 0);
        let f = Folded::build(&[], keys, &HashSet::new());
        assert!(f.rows.is_empty());
    }
}
