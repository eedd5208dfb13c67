use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// A handle to an interned string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(u32);

impl Sym {
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }

    /// "No string", for optional fields held as symbols.
    pub const NONE: Sym = Sym(u32::MAX);
}

/// Each distinct string stored once, in one buffer: source names, titles, entity values, tags,
/// process names and command lines. The hash seed is random per process: the strings are
/// attacker-written, so crafted collisions must not be possible.
#[derive(Debug, Default)]
pub struct Interner {
    hasher: RandomState,
    table: HashTable<Sym>,
    /// Where each symbol's string ends in `buf`; it starts where the one before ends (8 bytes
    /// a symbol: a big incident has millions of distinct pids and container ids).
    ends: Vec<u64>,
    buf: String,
}

fn text_of<'a>(buf: &'a str, ends: &[u64], sym: Sym) -> &'a str {
    let i = sym.0 as usize;
    let Some(&end) = ends.get(i) else {
        return "";
    };
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &buf[start as usize..end as usize]
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> Sym {
        let hash = self.hasher.hash_one(s);
        let (buf, ends) = (&self.buf, &self.ends);
        if let Some(&sym) = self.table.find(hash, |sym| text_of(buf, ends, *sym) == s) {
            return sym;
        }
        let sym = Sym(self.ends.len() as u32);
        super::growth::reserve_text(&mut self.buf, s.len());
        self.buf.push_str(s);
        super::growth::reserve(&mut self.ends, 1);
        self.ends.push(self.buf.len() as u64);
        let (hasher, buf, ends) = (&self.hasher, &self.buf, &self.ends);
        self.table
            .insert_unique(hash, sym, |sym| hasher.hash_one(text_of(buf, ends, *sym)));
        sym
    }

    pub fn lookup(&self, s: &str) -> Option<Sym> {
        let hash = self.hasher.hash_one(s);
        self.table
            .find(hash, |sym| self.resolve(*sym) == s)
            .copied()
    }

    /// The string of a symbol; "" for [`Sym::NONE`].
    pub fn resolve(&self, sym: Sym) -> &str {
        text_of(&self.buf, &self.ends, sym)
    }

    /// The string of a symbol, `None` for [`Sym::NONE`].
    pub fn resolve_opt(&self, sym: Sym) -> Option<&str> {
        (sym != Sym::NONE).then(|| self.resolve(sym))
    }

    /// Approximate bytes held.
    pub fn footprint(&self) -> usize {
        self.buf.capacity()
            + self.ends.capacity() * 8
            + self.table.capacity() * (std::mem::size_of::<Sym>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_strings_are_found_again_and_none_resolves_to_nothing() {
        let mut strings = Interner::default();
        let root = strings.intern("root");
        assert_eq!(strings.intern("root"), root);
        assert_ne!(strings.intern("alice"), root);
        assert_eq!(strings.lookup("root"), Some(root));
        assert_eq!(strings.lookup("mallory"), None);
        assert_eq!(strings.resolve(root), "root");
        assert_eq!(strings.resolve_opt(Sym::NONE), None);
    }
}
