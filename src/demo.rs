//! The built-in demo incident: native-format files from `demo-data/`, compiled into the binary and
//! read through the same parsers a live source uses.

use crate::load::{Loaded, SourceReport};
use crate::model::SourceKind;
use crate::sources::{elastic, falco, k8s_audit, loki, prometheus, wazuh, EntityTables, Parsed};

const FALCO: &str = include_str!("../demo-data/falco.jsonl");
const LOKI_SSHD: &str = include_str!("../demo-data/loki-sshd.json");
const LOKI_API: &str = include_str!("../demo-data/loki-api.json");
const ELASTIC: &str = include_str!("../demo-data/elasticsearch.json");
const K8S_AUDIT: &str = include_str!("../demo-data/k8s-audit.jsonl");
const WAZUH: &str = include_str!("../demo-data/wazuh-alerts.json");
const PROM_CPU: &str = include_str!("../demo-data/prometheus-cpu.json");
const PROM_EGRESS: &str = include_str!("../demo-data/prometheus-egress.json");
const QUERIES: &str = include_str!("../demo-data/queries.json");

/// The query recorded for a demo file in `queries.json`.
fn query_of(file: &str) -> String {
    serde_json::from_str::<serde_json::Value>(QUERIES)
        .ok()
        .and_then(|q| q.get(file)?.get("query")?.as_str().map(str::to_string))
        .unwrap_or_else(|| file.to_string())
}

/// Loads every demo file into a store. The files ship with the binary, so a failure here is a
/// bug in the shipped data; it is reported like any source error rather than panicking.
pub fn load() -> Loaded {
    load_with(&EntityTables::default())
}

/// Loads the demo with the given entity tables (the user's config may extend them).
pub fn load_with(tables: &EntityTables) -> Loaded {
    let mut loaded = Loaded::default();
    load_into(&mut loaded, tables);
    loaded
}

/// Loads the demo into `loaded`, classified by its classifier.
pub fn load_into(loaded: &mut Loaded, tables: &EntityTables) {
    let (falco_parsed, _) = falco::parse_lines(FALCO.as_bytes(), "falco-prod", &tables.falco);
    loaded.add(
        SourceReport::new("falco-prod", SourceKind::Falco, "demo-data/falco.jsonl"),
        falco_parsed,
    );
    for (file, body) in [("loki-sshd.json", LOKI_SSHD), ("loki-api.json", LOKI_API)] {
        let q = query_of(file);
        let result = loki::parse_response(body, "loki-prod", &q, &tables.loki);
        add_result(
            loaded,
            SourceReport::new("loki-prod", SourceKind::Loki, &q),
            result,
        );
    }
    let q = query_of("elasticsearch.json");
    let result = elastic::parse_response(ELASTIC, "es-prod", &tables.elasticsearch);
    add_result(
        loaded,
        SourceReport::new("es-prod", SourceKind::Elasticsearch, &q),
        result,
    );
    let (audit, _) =
        k8s_audit::parse_lines(K8S_AUDIT.as_bytes(), "k8s-audit-prod", &tables.k8s_audit);
    loaded.add(
        SourceReport::new(
            "k8s-audit-prod",
            SourceKind::K8sAudit,
            &query_of("k8s-audit.jsonl"),
        ),
        audit,
    );
    let (alerts, _) = wazuh::parse_lines(WAZUH.as_bytes(), "wazuh-prod", &tables.wazuh);
    loaded.add(
        SourceReport::new(
            "wazuh-prod",
            SourceKind::Wazuh,
            &query_of("wazuh-alerts.json"),
        ),
        alerts,
    );
    for (file, body) in [
        ("prometheus-cpu.json", PROM_CPU),
        ("prometheus-egress.json", PROM_EGRESS),
    ] {
        let q = query_of(file);
        let result = prometheus::parse_response(body, "prom-prod", &q, &tables.prometheus);
        add_result(
            loaded,
            SourceReport::new("prom-prod", SourceKind::Prometheus, &q),
            result,
        );
    }
}

fn add_result(
    loaded: &mut Loaded,
    mut report: SourceReport,
    result: Result<Parsed, crate::sources::SourceError>,
) {
    match result {
        Ok(parsed) => loaded.add(report, parsed),
        Err(e) => {
            report.error = Some(e.to_string());
            loaded.add(report, Parsed::default());
        }
    }
}
