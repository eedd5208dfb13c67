use super::{Entities, Severity, Timestamp};
use serde::Serialize;
use std::fmt;

/// Which kind of system an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Falco,
    Loki,
    Elasticsearch,
    Prometheus,
    Wazuh,
    Sysdig,
    Zabbix,
    Alertmanager,
    #[serde(rename = "k8s-audit")]
    K8sAudit,
    Grafana,
}

impl SourceKind {
    pub const ALL: [SourceKind; 10] = [
        SourceKind::Falco,
        SourceKind::Loki,
        SourceKind::Elasticsearch,
        SourceKind::Prometheus,
        SourceKind::Wazuh,
        SourceKind::Sysdig,
        SourceKind::Zabbix,
        SourceKind::Alertmanager,
        SourceKind::K8sAudit,
        SourceKind::Grafana,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Falco => "falco",
            SourceKind::Loki => "loki",
            SourceKind::Elasticsearch => "elasticsearch",
            SourceKind::Prometheus => "prometheus",
            SourceKind::Wazuh => "wazuh",
            SourceKind::Sysdig => "sysdig",
            SourceKind::Zabbix => "zabbix",
            SourceKind::Alertmanager => "alertmanager",
            SourceKind::K8sAudit => "k8s-audit",
            SourceKind::Grafana => "grafana",
        }
    }

    /// Five columns at most, for timeline rows.
    pub fn short(self) -> &'static str {
        match self {
            SourceKind::Falco => "falco",
            SourceKind::Loki => "loki",
            SourceKind::Elasticsearch => "es",
            SourceKind::Prometheus => "prom",
            SourceKind::Wazuh => "wazuh",
            SourceKind::Sysdig => "sysdg",
            SourceKind::Zabbix => "zbx",
            SourceKind::Alertmanager => "am",
            SourceKind::K8sAudit => "k8s",
            SourceKind::Grafana => "graf",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Alert,
    Log,
    Audit,
    Metric,
    AlertFiring,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::Alert,
        EventKind::Log,
        EventKind::Audit,
        EventKind::Metric,
        EventKind::AlertFiring,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Alert => "alert",
            EventKind::Log => "log",
            EventKind::Audit => "audit",
            EventKind::Metric => "metric",
            EventKind::AlertFiring => "alert_firing",
        }
    }
}

/// The process an event is about, when the source says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Process {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ppid: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_name: Option<String>,
    /// A stable identity across PID reuse (ECS `process.entity_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// When the process started (Falco and Sysdig `proc.pid.ts`, ECS `process.start`): with
    /// the pid, it tells a reused PID from the process that had it before. Nanoseconds since
    /// the epoch in JSON; absent in bundles written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_nanos")]
    pub start: Option<Timestamp>,
    /// The parent's stable identity (ECS `process.parent.entity_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_entity_id: Option<String>,
}

/// `Option<Timestamp>` as an optional integer of nanoseconds.
mod opt_nanos {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.0),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Ok(Option::<i64>::deserialize(d)?.map(Timestamp))
    }
}

impl Process {
    pub fn is_empty(&self) -> bool {
        *self == Process::default()
    }
}

/// One normalized event (SPEC §3). `raw` is the native record as JSON text, kept byte for byte.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub ts: Timestamp,
    pub source: SourceKind,
    pub source_name: String,
    pub kind: EventKind,
    pub severity: Severity,
    pub title: String,
    pub message: String,
    pub entities: Entities,
    pub process: Option<Process>,
    pub tags: Vec<String>,
    pub raw: String,
}
