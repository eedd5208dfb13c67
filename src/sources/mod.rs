//! Native formats → normalized events. Sources never touch the terminal.

pub mod alertmanager;
pub mod elastic;
pub mod elastic_client;
pub mod falco;
pub mod falco_chunks;
pub mod falco_follow;
pub mod falco_receiver;
mod falco_record;
pub mod grafana;
pub mod http;
pub mod json_lines;
pub mod json_path;
pub mod k8s_audit;
pub mod line_fields;
pub mod loki;
pub mod loki_client;
pub mod mapping;
pub mod present;
pub mod prometheus;
pub mod prometheus_client;
pub mod promql;
pub mod pushdown;
pub mod replay;
mod report;
pub mod runner;
pub mod spec;
pub mod sysdig;
pub mod task;
pub mod wazuh;
mod ws_tls;
pub mod zabbix;

pub use mapping::{EntityTable, EntityTables};
pub use report::{SkipReport, SkipSample};

use crate::model::{Event, Series};
use std::fmt;

/// What one input gave: events, metric series, and what had to be skipped.
#[derive(Debug, Default)]
pub struct Parsed {
    pub events: Vec<Event>,
    pub series: Vec<Series>,
    pub skipped: SkipReport,
    /// Records that were well-formed but are not events (Falco's internal metrics snapshots).
    pub ignored: usize,
}

/// Why a whole response could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// The server answered with an error; this is its own message.
    Server(String),
    /// The response was not in the expected format.
    Malformed(String),
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::Server(m) => write!(f, "server error: {}", crate::sanitize::line(m)),
            SourceError::Malformed(m) => {
                write!(f, "malformed response: {}", crate::sanitize::line(m))
            }
        }
    }
}

impl std::error::Error for SourceError {}
