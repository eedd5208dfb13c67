//! How the store's big vectors grow: by an eighth, not by doubling. A million events' rows,
//! pairs and strings would otherwise hold up to twice what they need, and on Linux growing a
//! large allocation moves pages (`mremap`) rather than copying them, so growing more often
//! costs little.

/// Makes room for `extra` more elements.
pub(super) fn reserve<T>(v: &mut Vec<T>, extra: usize) {
    if v.capacity() - v.len() < extra {
        v.reserve_exact(extra.max(v.len() / 8).max(64));
    }
}

/// Makes room for `extra` more bytes.
pub(super) fn reserve_text(s: &mut String, extra: usize) {
    if s.capacity() - s.len() < extra {
        s.reserve_exact(extra.max(s.len() / 8).max(4096));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_big_vector_holds_at_most_an_eighth_more_than_it_needs() {
        let mut v: Vec<u64> = Vec::new();
        for i in 0..1_000_000 {
            super::reserve(&mut v, 1);
            v.push(i);
        }
        assert!(
            v.capacity() <= 1_000_000 + 1_000_000 / 8 + 64,
            "{}",
            v.capacity()
        );
    }
}
