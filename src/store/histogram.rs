use super::Store;
use crate::model::{SourceKind, TimeRange};

/// Event counts over equal time buckets, split by source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    pub range: TimeRange,
    pub buckets: Vec<[u32; SourceKind::ALL.len()]>,
}

impl Histogram {
    /// Counts the selected positions over `range` cut into `n` buckets.
    pub fn build(store: &Store, positions: &[u32], range: TimeRange, n: usize) -> Histogram {
        let mut buckets = vec![[0u32; SourceKind::ALL.len()]; n.max(1)];
        let span = (range.end.0 as i128 - range.start.0 as i128).max(1);
        for &pos in positions {
            let Some(e) = store.get(pos) else { continue };
            let ts = e.ts();
            if !range.contains(ts) {
                continue;
            }
            let offset = ts.0 as i128 - range.start.0 as i128;
            let i = ((offset * buckets.len() as i128) / span) as usize;
            let i = i.min(buckets.len() - 1);
            buckets[i][e.source().index()] += 1;
        }
        Histogram { range, buckets }
    }

    pub fn total(bucket: &[u32; SourceKind::ALL.len()]) -> u32 {
        bucket.iter().sum()
    }

    pub fn max_total(&self) -> u32 {
        self.buckets.iter().map(Self::total).max().unwrap_or(0)
    }

    /// The source with the most events in a bucket, to colour it.
    pub fn dominant(bucket: &[u32; SourceKind::ALL.len()]) -> Option<SourceKind> {
        let (i, &n) = bucket.iter().enumerate().max_by_key(|(_, n)| **n)?;
        (n > 0).then(|| SourceKind::ALL[i])
    }
}
