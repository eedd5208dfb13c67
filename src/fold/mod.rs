//! Noise folding: repeated events (same source; same signal, rule or message template; same
//! place) shown as one row with a count, the first and last time and a sparkline.

mod group;
mod keys;
mod rules;
mod summary;
pub mod template;

pub use group::{Folded, Group};
pub use keys::FoldKeys;
pub use rules::{FoldBasis, FoldKey, FoldRules, DEFAULT_RULES};
pub use summary::{Summary, Varying, SPARK_CELLS};
