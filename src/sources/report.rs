use std::fmt;

/// How many records of an input were skipped, with the first few as samples, so bad input is
/// reported instead of silently lost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkipReport {
    pub skipped: usize,
    pub samples: Vec<SkipSample>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipSample {
    /// 1-based line number for line-oriented input, or the record's position in a response.
    pub line: usize,
    pub reason: String,
    /// The start of the offending record, sanitized and shortened.
    pub excerpt: String,
}

impl SkipReport {
    pub const MAX_SAMPLES: usize = 5;
    const EXCERPT_CHARS: usize = 80;

    pub fn skip(&mut self, line: usize, reason: impl Into<String>, record: &str) {
        self.skipped += 1;
        if self.samples.len() < Self::MAX_SAMPLES {
            let mut excerpt: String = record.chars().take(Self::EXCERPT_CHARS).collect();
            if record.chars().count() > Self::EXCERPT_CHARS {
                excerpt.push('…');
            }
            self.samples.push(SkipSample {
                line,
                // Reasons quote the record (a bad timestamp, say): untrusted too.
                reason: crate::sanitize::line(&reason.into()).into_owned(),
                excerpt: crate::sanitize::line(&excerpt).into_owned(),
            });
        }
    }

    pub fn merge(&mut self, other: SkipReport) {
        self.skipped += other.skipped;
        for s in other.samples {
            if self.samples.len() < Self::MAX_SAMPLES {
                self.samples.push(s);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.skipped == 0
    }

    /// The samples of a piece read on its own are numbered from its start: from the
    /// input's, with the lines before the piece added.
    pub fn offset_lines(&mut self, lines_before: usize) {
        for s in &mut self.samples {
            s.line += lines_before;
        }
    }
}

impl fmt::Display for SkipSample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.reason, self.excerpt)
    }
}
