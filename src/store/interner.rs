use foldhash::HashMap;

/// A handle to an interned string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(u32);

/// Each distinct string stored once: source names, entity values, tags.
#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<Box<str>, Sym>,
    strings: Vec<Box<str>>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&sym) = self.ids.get(s) {
            return sym;
        }
        let sym = Sym(self.strings.len() as u32);
        self.strings.push(s.into());
        self.ids.insert(s.into(), sym);
        sym
    }

    pub fn lookup(&self, s: &str) -> Option<Sym> {
        self.ids.get(s).copied()
    }

    pub fn resolve(&self, sym: Sym) -> &str {
        &self.strings[sym.0 as usize]
    }
}

/// Unique text (titles, messages, raw records) appended to one buffer and addressed by span,
/// so a million events cost a million spans instead of three million allocations.
#[derive(Debug, Default)]
pub struct TextArena {
    buf: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    start: u64,
    len: u32,
}

impl TextArena {
    pub fn push(&mut self, s: &str) -> Span {
        // A single field over 4 GiB is truncated at a char boundary rather than wrapping.
        let mut end = s.len().min(u32::MAX as usize);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let span = Span {
            start: self.buf.len() as u64,
            len: end as u32,
        };
        self.buf.push_str(&s[..end]);
        span
    }

    pub fn get(&self, span: Span) -> &str {
        let start = span.start as usize;
        &self.buf[start..start + span.len as usize]
    }
}
