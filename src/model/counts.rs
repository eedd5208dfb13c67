use super::{SourceKind, Timestamp};

/// How many events a server holds per time step, for windows larger than what was loaded:
/// the histogram shows the whole window from these, not just the loaded part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCounts {
    pub source: SourceKind,
    /// Each sample counts the events of `[ts, ts + step)`.
    pub step_ns: i64,
    pub samples: Vec<(Timestamp, u64)>,
}
