//! Live alerts: rules (`rules/alerts.toml`) say which events, or which completed attack
//! chains, raise an alert; the engine looks at events as they arrive and raises each incident
//! once, with folded updates; `casefile watch` prints them as JSON lines. The TUI uses the
//! same engine: `AlertEngine::observe` after each ingest, `AlertUpdate::summary` for the
//! status line, `AlertEngine::alerts` for the list.

mod alert;
mod chain_watch;
pub mod dedup;
mod engine;
mod rules;
pub mod stdin_stream;
pub mod watch;
mod window;

pub use alert::{Alert, AlertUpdate, Change};
pub use chain_watch::ChainSet;
pub use engine::AlertEngine;
pub use rules::{AlertRule, AlertRules, GroupKey, Threshold, Watch, DEFAULT_RULES};
pub use window::{Crossing, Window};

#[cfg(test)]
mod tests;
