//! `casefile query`: the pipeline without a terminal.

pub mod case;
mod fold_output;
mod output;
pub mod progress;
mod query;

pub(crate) use output::terminal_safe_json;
pub use output::{event_json_line, metric_json_line, table_row};
pub use query::run;
