//! Which native field feeds which entity: one table per source (SPEC §4).
//!
//! The tables are data, so a user's config can extend or replace a row without code changes.
//! Fields that need more than a copy (an image reference assembled from repository and digest,
//! a user named inside an sshd line) are handled by the source's own parser after the table.

use super::json_path;
use crate::model::{Entities, EntityKey};
use serde_json::Value;

/// An ordered list of `(native field, entity key)` rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTable {
    rows: Vec<(String, EntityKey)>,
}

impl EntityTable {
    fn from_rows(rows: &[(&str, EntityKey)]) -> Self {
        EntityTable {
            rows: rows.iter().map(|(f, k)| (f.to_string(), *k)).collect(),
        }
    }

    /// Falco `json_output` records: top-level keys and `output_fields` (looked up in that order).
    pub fn falco() -> Self {
        use EntityKey::*;
        Self::from_rows(&[
            ("user.name", User),
            ("user.loginname", User),
            ("ka.user.name", User),
            ("container.id", Container),
            ("k8s.pod.name", Pod),
            ("ka.target.pod.name", Pod),
            ("k8s.ns.name", Namespace),
            ("ka.target.namespace", Namespace),
            ("hostname", Host),
            ("fd.sip", Ip),
            ("fd.cip", Ip),
            ("fd.rip", Ip),
            ("proc.pid", Pid),
            ("rule", Rule),
        ])
    }

    /// Loki stream labels, structured metadata, and fields of JSON or logfmt lines.
    pub fn loki() -> Self {
        use EntityKey::*;
        Self::from_rows(&[
            ("user", User),
            ("username", User),
            ("user_username", User),
            ("container_id", Container),
            ("image", Image),
            ("commit", Commit),
            ("git_commit", Commit),
            ("git_sha", Commit),
            ("pod", Pod),
            ("k8s_pod_name", Pod),
            ("namespace", Namespace),
            ("k8s_namespace_name", Namespace),
            ("host", Host),
            ("hostname", Host),
            ("node", Host),
            ("client_ip", Ip),
            ("src_ip", Ip),
            ("source_ip", Ip),
            ("rule", Rule),
        ])
    }

    /// Elasticsearch / OpenSearch documents in the Elastic Common Schema.
    pub fn ecs() -> Self {
        use EntityKey::*;
        Self::from_rows(&[
            ("user.name", User),
            ("user.target.name", User),
            ("container.id", Container),
            ("labels.commit", Commit),
            ("labels.git_commit", Commit),
            ("labels.git_sha", Commit),
            ("kubernetes.pod.name", Pod),
            ("kubernetes.namespace", Namespace),
            ("orchestrator.namespace", Namespace),
            ("host.name", Host),
            ("host.hostname", Host),
            ("source.ip", Ip),
            ("destination.ip", Ip),
            ("client.ip", Ip),
            ("process.pid", Pid),
            ("rule.name", Rule),
        ])
    }

    /// Prometheus series labels.
    pub fn prometheus() -> Self {
        use EntityKey::*;
        Self::from_rows(&[
            ("pod", Pod),
            ("namespace", Namespace),
            ("image", Image),
            ("node", Host),
            ("host", Host),
            ("commit", Commit),
            ("user", User),
            ("alertname", Rule),
        ])
    }

    /// Wazuh alerts (`alerts.json` lines, or `_source` of a wazuh-indexer hit). The who-data
    /// user of a file change is the person who changed it; `agent.ip` is left out (every
    /// alert of an agent carries it, so it would join them all).
    pub fn wazuh() -> Self {
        use EntityKey::*;
        Self::from_rows(&[
            ("data.dstuser", User),
            ("data.srcuser", User),
            ("data.win.eventdata.targetUserName", User),
            ("syscheck.audit.user.name", User),
            ("syscheck.audit.login_user.name", User),
            ("data.docker.id", Container),
            ("data.kubernetes.pod", Pod),
            ("data.kubernetes.namespace", Namespace),
            ("agent.name", Host),
            ("predecoder.hostname", Host),
            ("data.srcip", Ip),
            ("data.dstip", Ip),
            ("syscheck.audit.process.id", Pid),
            ("rule.id", Rule),
            ("rule.description", Rule),
        ])
    }

    /// Sysdig `-j` event lines (the chisel field names, as Falco's).
    pub fn sysdig() -> Self {
        use EntityKey::*;
        Self::from_rows(&[
            ("user.name", User),
            ("container.id", Container),
            ("container.image", Image),
            ("k8s.pod.name", Pod),
            ("k8s.ns.name", Namespace),
            ("evt.hostname", Host),
            ("fd.sip", Ip),
            ("fd.cip", Ip),
            ("proc.pid", Pid),
        ])
    }

    /// Kubernetes audit events (`audit.k8s.io/v1` Event). Pods, images and service accounts'
    /// namespaces are read by the parser (they depend on the resource).
    pub fn k8s_audit() -> Self {
        use EntityKey::*;
        Self::from_rows(&[
            ("user.username", User),
            ("impersonatedUser.username", User),
            ("sourceIPs", Ip),
            ("objectRef.namespace", Namespace),
        ])
    }

    /// Zabbix problems and events (`problem.get`, `event.get` with `selectHosts`).
    pub fn zabbix() -> Self {
        use EntityKey::*;
        Self::from_rows(&[("hosts.host", Host), ("hosts.name", Host), ("name", Rule)])
    }

    /// Alertmanager alerts (`/api/v2/alerts`): their labels.
    pub fn alertmanager() -> Self {
        use EntityKey::*;
        Self::from_rows(&[
            ("labels.alertname", Rule),
            ("labels.pod", Pod),
            ("labels.namespace", Namespace),
            ("labels.container_id", Container),
            ("labels.image", Image),
            ("labels.node", Host),
            ("labels.host", Host),
            ("labels.commit", Commit),
            ("labels.user", User),
        ])
    }

    /// Grafana annotations (`/api/annotations`): who made them, and their tags.
    pub fn grafana() -> Self {
        use EntityKey::*;
        Self::from_rows(&[("login", User), ("userName", User)])
    }

    /// Adds a row, or moves an existing field to another key (config overrides).
    pub fn set(&mut self, field: &str, key: EntityKey) {
        self.rows.retain(|(f, _)| f != field);
        self.rows.push((field.to_string(), key));
    }

    pub fn rows(&self) -> impl Iterator<Item = (&str, EntityKey)> {
        self.rows.iter().map(|(f, k)| (f.as_str(), *k))
    }

    /// Applies the table to every object given, in order (e.g. the record, then its fields).
    pub fn apply_json(&self, objects: &[&Value], out: &mut Entities) {
        for (field, key) in self.rows() {
            for obj in objects {
                for v in json_path::texts(obj, field) {
                    out.add(key, &v);
                }
            }
        }
    }

    /// Applies the table through a lookup function (for records not held as JSON trees).
    pub fn apply_fn<'a>(
        &self,
        get: impl Fn(&str) -> Option<std::borrow::Cow<'a, str>>,
        out: &mut Entities,
    ) {
        self.apply_with(get, |key, v| out.add(key, v));
    }

    /// Like [`EntityTable::apply_fn`], handing each entity to `add`.
    pub fn apply_with<'a>(
        &self,
        get: impl Fn(&str) -> Option<std::borrow::Cow<'a, str>>,
        mut add: impl FnMut(crate::model::EntityKey, &str),
    ) {
        for (field, key) in self.rows() {
            if let Some(v) = get(field) {
                add(key, &v);
            }
        }
    }

    /// Applies the table to flat key/value pairs (labels, logfmt fields).
    pub fn apply_pairs<'a>(
        &self,
        pairs: impl Iterator<Item = (&'a str, &'a str)>,
        out: &mut Entities,
    ) {
        let pairs: Vec<(&str, &str)> = pairs.collect();
        for (field, key) in self.rows() {
            for (k, v) in &pairs {
                if *k == field {
                    out.add(key, v);
                }
            }
        }
    }
}

/// One table per source, as the parsers use them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTables {
    pub falco: EntityTable,
    pub loki: EntityTable,
    pub elasticsearch: EntityTable,
    pub prometheus: EntityTable,
    pub wazuh: EntityTable,
    pub sysdig: EntityTable,
    pub k8s_audit: EntityTable,
    pub zabbix: EntityTable,
    pub alertmanager: EntityTable,
    pub grafana: EntityTable,
}

impl Default for EntityTables {
    fn default() -> Self {
        EntityTables {
            falco: EntityTable::falco(),
            loki: EntityTable::loki(),
            elasticsearch: EntityTable::ecs(),
            prometheus: EntityTable::prometheus(),
            wazuh: EntityTable::wazuh(),
            sysdig: EntityTable::sysdig(),
            k8s_audit: EntityTable::k8s_audit(),
            zabbix: EntityTable::zabbix(),
            alertmanager: EntityTable::alertmanager(),
            grafana: EntityTable::grafana(),
        }
    }
}

impl EntityTables {
    pub fn by_source_mut(&mut self, source: &str) -> Option<&mut EntityTable> {
        match source {
            "falco" => Some(&mut self.falco),
            "loki" => Some(&mut self.loki),
            "elasticsearch" | "es" => Some(&mut self.elasticsearch),
            "prometheus" | "prom" => Some(&mut self.prometheus),
            "wazuh" => Some(&mut self.wazuh),
            "sysdig" => Some(&mut self.sysdig),
            "k8s-audit" | "k8s_audit" => Some(&mut self.k8s_audit),
            "zabbix" => Some(&mut self.zabbix),
            "alertmanager" => Some(&mut self.alertmanager),
            "grafana" => Some(&mut self.grafana),
            _ => None,
        }
    }
}
