//! `casefile query`: the pipeline without a terminal.

pub mod case;
mod output;
mod query;

pub use output::{event_json_line, metric_json_line, table_row};
pub use query::run;
