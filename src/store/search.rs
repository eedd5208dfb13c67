use super::Store;
use fuzzy_matcher::skim::SkimMatcherV2;
use fuzzy_matcher::FuzzyMatcher;

/// Below this many candidates, a step is searched on the calling thread alone.
const PARALLEL_FROM: usize = 4_096;

/// A fuzzy search over titles and messages that runs in slices, so the loop can answer keys
/// between slices on a million events. Results stay in time order.
pub struct SearchJob {
    pub query: String,
    candidates: Vec<u32>,
    next: usize,
    results: Vec<u32>,
    matcher: SkimMatcherV2,
    /// Threads a step is split across (asked once: it reads cgroup files on Linux).
    threads: usize,
}

impl SearchJob {
    pub fn new(query: impl Into<String>, candidates: Vec<u32>) -> Self {
        SearchJob {
            query: query.into(),
            candidates,
            next: 0,
            results: Vec::new(),
            // The matcher's score matrix is pattern × text; a cap keeps one huge log line
            // from taking seconds and hundreds of megabytes.
            matcher: SkimMatcherV2::default().smart_case().element_limit(1 << 18),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
        }
    }

    /// Examines up to `budget` more candidates, split across the cores; returns whether the
    /// search is complete.
    pub fn step(&mut self, store: &Store, budget: usize) -> bool {
        let end = (self.next + budget).min(self.candidates.len());
        let slice = &self.candidates[self.next..end];
        let threads = self.threads;
        if threads < 2 || slice.len() < PARALLEL_FROM {
            let hits: Vec<u32> = self.hits(store, slice);
            self.results.extend(hits);
        } else {
            let this = &*self;
            let parts: Vec<Vec<u32>> = std::thread::scope(|scope| {
                let running: Vec<_> = slice
                    .chunks(slice.len().div_ceil(threads))
                    .map(|part| scope.spawn(move || this.hits(store, part)))
                    .collect();
                running
                    .into_iter()
                    .map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            });
            // Parts are in order, so the results stay in time order.
            self.results.extend(parts.into_iter().flatten());
        }
        self.next = end;
        self.is_done()
    }

    /// The candidates among `positions` whose title or message matches, in their order.
    fn hits(&self, store: &Store, positions: &[u32]) -> Vec<u32> {
        positions
            .iter()
            .copied()
            .filter(|&pos| {
                store
                    .get(pos)
                    .is_some_and(|e| self.matches(e.title()) || self.matches(&e.message()))
            })
            .collect()
    }

    /// A fuzzy match whose letters lie close together. Unbounded fuzzy matching finds almost
    /// any short query somewhere in a long log line (`xmrig` in "…eXec … Mount … ReadIng"),
    /// which is noise to a responder; a match must span at most two columns per query letter.
    fn matches(&self, text: &str) -> bool {
        // The first 4 KiB of a message is what a responder reads; a multi-megabyte line is
        // searched there, not everywhere.
        let mut end = text.len().min(4096);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let text = &text[..end];
        let span = 2 * self.query.chars().count();
        if !may_match_within(text, &self.query, span) {
            return false;
        }
        let Some((_, idx)) = self.matcher.fuzzy_indices(text, &self.query) else {
            return false;
        };
        match (idx.first(), idx.last()) {
            (Some(a), Some(b)) => b - a <= span,
            _ => true,
        }
    }

    /// More candidates after the ones already given (events appended to the view): the search
    /// goes on instead of starting again.
    pub fn extend(&mut self, more: &[u32]) {
        self.candidates.extend_from_slice(more);
    }

    pub fn run_to_end(mut self, store: &Store) -> Vec<u32> {
        while !self.step(store, 65_536) {}
        self.results
    }

    pub fn is_done(&self) -> bool {
        self.next >= self.candidates.len()
    }

    pub fn results(&self) -> &[u32] {
        &self.results
    }

    /// Progress as (examined, total).
    pub fn progress(&self) -> (usize, usize) {
        (self.next, self.candidates.len())
    }
}

/// A quick test that rules out most texts before the fuzzy matcher's score matrix is built:
/// whether the query's letters occur in order within `span + 1` consecutive characters (which
/// any match the search keeps must do). Case-insensitive unless the query has an uppercase
/// letter, as the matcher's smart case is. Texts or queries beyond ASCII are left to the
/// matcher (`true`), so this never rules out a match the matcher would keep.
fn may_match_within(text: &str, query: &str, span: usize) -> bool {
    if !text.is_ascii() || !query.is_ascii() || query.is_empty() {
        return true;
    }
    let (text, query) = (text.as_bytes(), query.as_bytes());
    let exact = query.iter().any(u8::is_ascii_uppercase);
    let same = |a: u8, b: u8| {
        if exact {
            a == b
        } else {
            a.eq_ignore_ascii_case(&b)
        }
    };
    for start in 0..text.len() {
        if !same(text[start], query[0]) {
            continue;
        }
        let last = (start + span).min(text.len() - 1);
        let mut q = 1;
        for &c in &text[start + 1..=last] {
            if q == query.len() {
                break;
            }
            if same(c, query[q]) {
                q += 1;
            }
        }
        if q == query.len() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::may_match_within;

    #[test]
    fn the_quick_test_keeps_every_close_match_and_drops_far_ones() {
        assert!(may_match_within("cat /etc/shadow", "shadow", 12));
        assert!(may_match_within("cat /etc/SHADOW", "shadow", 12));
        assert!(!may_match_within("cat /etc/shadow", "Shadow", 12));
        assert!(may_match_within("xmrig -o pool", "xmrg", 8));
        // The letters are there, in order, but spread over a whole line.
        assert!(!may_match_within(
            "eXec in Mount then ReadIng a file",
            "xmrig",
            10
        ));
        assert!(!may_match_within("", "a", 2));
        assert!(may_match_within("ünïcode", "x", 2), "left to the matcher");
    }
}
