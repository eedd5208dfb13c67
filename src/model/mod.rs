//! The normalized event model (SPEC §3) and its entities (SPEC §4). No I/O lives here.

pub mod category;
pub mod counts;
pub mod entity;
mod event;
mod series;
mod severity;
mod time;

pub use category::Category;
pub use counts::ServerCounts;
pub use entity::{Entities, EntityKey};
pub use event::{Event, EventKind, Process, SourceKind};
pub use series::Series;
pub use severity::Severity;
pub use time::{human_duration, parse_duration, TimeRange, Timestamp};
