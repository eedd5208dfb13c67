//! casefile: live incident forensics in the terminal.

pub mod model;
pub mod sanitize;
pub mod sources;
pub mod store;
