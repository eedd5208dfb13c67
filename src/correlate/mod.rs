//! The investigation over the store: process trees, correlation, chains. Pure functions; no
//! I/O, no terminal.

pub mod categories;
pub mod chain_search;
pub mod chains;
pub mod conditions;
pub mod context;
pub mod correlated;
pub mod process_tree;
pub mod thresholds;
