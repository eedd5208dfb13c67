use super::Store;
use crate::model::{ServerCounts, SourceKind, TimeRange};

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

    /// Raises each bucket to what the servers count there, for sources that did not load
    /// their whole window: the shape of the window stays true beyond what was loaded.
    pub fn include_server_counts(&mut self, counts: &[ServerCounts]) {
        let n = self.buckets.len();
        let span = (self.range.end.0 as i128 - self.range.start.0 as i128).max(1);
        for c in counts {
            let mut per_bucket = vec![0u64; n];
            for &(ts, count) in &c.samples {
                if !self.range.contains(ts) {
                    continue;
                }
                let i = (((ts.0 as i128 - self.range.start.0 as i128) * n as i128) / span) as usize;
                per_bucket[i.min(n - 1)] += count;
            }
            for (b, server) in self.buckets.iter_mut().zip(per_bucket) {
                let slot = &mut b[c.source.index()];
                *slot = (*slot).max(server.min(u32::MAX as u64) as u32);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    #[test]
    fn server_counts_raise_buckets_beyond_what_was_loaded() {
        let range = TimeRange::new(Timestamp(0), Timestamp(100));
        let loki = |n: u32| {
            let mut b = [0u32; SourceKind::ALL.len()];
            b[SourceKind::Loki.index()] = n;
            b
        };
        let mut h = Histogram {
            range,
            buckets: vec![loki(3), loki(0)],
        };
        h.include_server_counts(&[ServerCounts {
            source: SourceKind::Loki,
            step_ns: 25,
            samples: vec![
                (Timestamp(0), 2),
                (Timestamp(25), 1),
                (Timestamp(50), 40),
                (Timestamp(75), 2),
            ],
        }]);
        // Bucket 0 loaded 3, the server counts 3 too: unchanged. Bucket 1 loaded nothing.
        assert_eq!(h.buckets, vec![loki(3), loki(42)]);
    }
}
