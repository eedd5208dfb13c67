//! casefile: live incident forensics in the terminal.

pub mod alerts;
pub mod app;
pub mod bundle;
pub mod case_links;
pub mod case_metrics;
pub mod cli;
pub mod config;
pub mod config_sources;
pub mod correlate;
pub mod demo;
pub mod file_follow;
pub mod file_sources;
pub mod fold;
pub mod followed;
pub mod fuzzing;
pub mod headless;
pub mod links;
pub mod load;
pub mod model;
pub mod report;
pub mod sanitize;
pub mod sources;
pub mod store;
pub mod ui;
