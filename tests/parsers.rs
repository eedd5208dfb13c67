//! The four native parsers on real recorded responses and upstream examples.

use casefile::model::{EntityKey, EventKind, Severity, SourceKind, Timestamp};
use casefile::sources::{elastic, falco, loki, prometheus, sysdig, EntityTable, SourceError};
use std::path::Path;

fn fixture(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn falco_file(path: &str) -> casefile::sources::Parsed {
    let text = fixture(path);
    let (parsed, err) = falco::parse_lines(text.as_bytes(), "falco", &EntityTable::falco());
    assert!(err.is_none());
    parsed
}

#[test]
fn falco_terminal_shell_in_container() {
    let p = falco_file("falco/website_terminal_shell_in_container.ndjson");
    assert_eq!((p.events.len(), p.skipped.skipped), (1, 0));
    let e = &p.events[0];
    assert_eq!(e.ts.to_rfc3339(), "2023-05-25T13:44:05.478445995Z");
    assert_eq!(e.severity, Severity::Critical);
    assert_eq!(e.kind, EventKind::Alert);
    assert_eq!(e.title, "Terminal shell in container");
    assert!(
        e.message.starts_with("A shell was spawned in a container"),
        "{}",
        e.message
    );
    let ents: Vec<_> = e.entities.iter().collect();
    for want in [
        (EntityKey::User, "root"),
        (EntityKey::Container, "ee97d9c4186f"),
        (EntityKey::Pod, "kubecon"),
        (EntityKey::Namespace, "default"),
        (EntityKey::Host, "falco-xczjd"),
        (EntityKey::Image, "docker.io/library/alpine"),
        (EntityKey::Rule, "Terminal shell in container"),
    ] {
        assert!(ents.contains(&want), "{want:?} missing from {ents:?}");
    }
    let proc_ = e.process.as_ref().unwrap();
    assert_eq!(proc_.name.as_deref(), Some("sh"));
    assert_eq!(proc_.parent_name.as_deref(), Some("runc"));
    assert_eq!(e.tags, ["container", "mitre_execution", "shell"]);
    // The raw record is the line, byte for byte.
    assert_eq!(
        e.raw,
        fixture("falco/website_terminal_shell_in_container.ndjson").trim()
    );
}

#[test]
fn falco_event_generator_and_edited_lines_tolerate_types() {
    let p = falco_file("falco/elastic_integrations_falco_eventgen_alerts.ndjson");
    assert_eq!((p.events.len(), p.skipped.skipped), (5, 0));
    assert_eq!(p.events[0].title, "Read sensitive file untrusted");
    assert_eq!(p.events[0].severity, Severity::Warning);
    // Falco's ISO output prefix with +0000 is removed from the message.
    assert!(
        p.events[0].message.starts_with("Sensitive file opened"),
        "{}",
        p.events[0].message
    );
    let edited = falco_file("falco/elastic_integrations_falco_test_edited_fields.ndjson");
    assert_eq!(edited.skipped.skipped, 0);
    assert!(edited
        .events
        .iter()
        .any(|e| e.process.as_ref().and_then(|p| p.pid).is_some()));
    // `container.id: host` means no container.
    let host = falco_file("falco/plugins_collector_readme_read_sensitive_file_untrusted.json");
    assert_eq!(host.events.len(), 1);
    assert_eq!(
        host.events[0].entities.values(EntityKey::Container).count(),
        0
    );
    assert_eq!(
        host.events[0]
            .entities
            .values(EntityKey::User)
            .collect::<Vec<_>>(),
        ["root"]
    );
}

#[test]
fn falco_plugin_alerts_and_metrics_snapshots() {
    let gcp = falco_file("falco/plugins_gcpaudit_readme_alert.json");
    assert_eq!((gcp.events.len(), gcp.skipped.skipped), (1, 0));
    let metrics = fixture("falco/website_metrics_snapshot_base.json");
    let one_line: serde_json::Value = serde_json::from_str(&metrics).unwrap();
    let (p, _) = falco::parse_lines(
        one_line.to_string().as_bytes(),
        "falco",
        &EntityTable::falco(),
    );
    assert_eq!((p.events.len(), p.ignored, p.skipped.skipped), (0, 1, 0));
}

#[test]
fn falcosidekick_payloads() {
    for f in [
        "falcosidekick/readme_test_event_payload.json",
        "falcosidekick/client_test_falco_input.json",
    ] {
        let body = fixture(f);
        let one_line: serde_json::Value = serde_json::from_str(&body).unwrap();
        let (p, _) = falco::parse_lines(
            one_line.to_string().as_bytes(),
            "sidekick",
            &EntityTable::falco(),
        );
        assert_eq!((p.events.len(), p.skipped.skipped), (1, 0), "{f}");
    }
}

#[test]
fn falco_malformed_lines_are_counted_and_sampled() {
    let good = fixture("falco/website_terminal_shell_in_container.ndjson");
    let input = format!(
        "{}\n{{\"truncated\": \n\x1b[2Jgarbage\n{{\"rule\":\"no time\",\"output_fields\":{{}}}}\n\n[1,2]\n{}",
        good.trim(),
        good.trim()
    );
    let (p, _) = falco::parse_lines(input.as_bytes(), "falco", &EntityTable::falco());
    assert_eq!(p.events.len(), 2);
    assert_eq!(p.skipped.skipped, 4);
    let lines: Vec<usize> = p.skipped.samples.iter().map(|s| s.line).collect();
    assert_eq!(lines, [2, 3, 4, 6]);
    // The sample is sanitized: the escape is shown, not kept.
    assert!(
        p.skipped.samples[1].excerpt.starts_with("\\x1b[2J"),
        "{:?}",
        p.skipped.samples[1]
    );
}

#[test]
fn loki_streams_sshd() {
    let p = loki::parse_response(
        &fixture("loki/query_range_streams_forward.json"),
        "loki",
        "{job=\"sshd\"}",
        &EntityTable::loki(),
    )
    .unwrap();
    assert_eq!(p.skipped.skipped, 0);
    assert_eq!(p.events.len(), 20);
    let e = &p.events[0];
    assert_eq!(e.source, SourceKind::Loki);
    assert_eq!(e.ts.0, 1795324982000000000);
    assert_eq!(
        e.title,
        "sshd: Failed password for root from 203.0.113.45 port 62623 ssh2"
    );
    assert_eq!(e.severity, Severity::Warning);
    let ents: Vec<_> = e.entities.iter().collect();
    for want in [
        (EntityKey::User, "root"),
        (EntityKey::Ip, "203.0.113.45"),
        (EntityKey::Host, "bastion-1"),
        (EntityKey::Pid, "58160"),
    ] {
        assert!(ents.contains(&want), "{want:?} missing from {ents:?}");
    }
    // The raw record is a one-entry stream in Loki's own shape.
    let raw: serde_json::Value = serde_json::from_str(&e.raw).unwrap();
    assert_eq!(raw["stream"]["job"], "sshd");
    assert_eq!(raw["values"][0][0], "1795324982000000000");
}

#[test]
fn loki_structured_metadata_plain_and_categorized() {
    for f in [
        "loki/query_range_logfmt_structured_metadata.json",
        "loki/query_range_logfmt_structured_metadata_categorize_labels.json",
    ] {
        let p = loki::parse_response(
            &fixture(f),
            "loki",
            "{job=\"prod/api\"}",
            &EntityTable::loki(),
        )
        .unwrap();
        assert!(!p.events.is_empty(), "{f}");
        assert_eq!(p.skipped.skipped, 0, "{f}: {:?}", p.skipped.samples);
        assert!(
            p.events
                .iter()
                .all(|e| e.entities.contains(EntityKey::Pod, "api-7d9f")),
            "{f}"
        );
        assert!(
            p.events
                .iter()
                .any(|e| e.entities.values(EntityKey::Ip).next().is_some()),
            "{f}: client_ip from metadata"
        );
    }
}

#[test]
fn loki_audit_json_lines_and_matrix() {
    let p = loki::parse_response(
        &fixture("loki/query_range_audit_json_nested.json"),
        "loki",
        "{job=\"audit\"}",
        &EntityTable::loki(),
    )
    .unwrap();
    assert!(!p.events.is_empty());
    assert!(p.events.iter().all(|e| e.kind == EventKind::Audit));
    assert!(p
        .events
        .iter()
        .any(|e| e.entities.contains(EntityKey::User, "deploy")));
    let m = loki::parse_response(
        &fixture("loki/query_range_metric_matrix.json"),
        "loki",
        "sum by (host) (count_over_time({job=\"sshd\"}[1m]))",
        &EntityTable::loki(),
    )
    .unwrap();
    assert!(m.events.is_empty());
    assert!(!m.series.is_empty());
    assert_eq!(
        m.series[0].labels.get("host").map(String::as_str),
        Some("bastion-1")
    );
    assert_eq!(m.series[0].samples[0].1, 19.0);
    let empty = loki::parse_response(
        &fixture("loki/query_range_empty_streams.json"),
        "loki",
        "{}",
        &EntityTable::loki(),
    )
    .unwrap();
    assert!(empty.events.is_empty() && empty.series.is_empty());
}

#[test]
fn loki_error_text_is_not_json() {
    let err = loki::parse_response(
        &fixture("loki/error_parse_logql.txt"),
        "loki",
        "{",
        &EntityTable::loki(),
    )
    .unwrap_err();
    assert!(
        matches!(err, SourceError::Malformed(ref m) if m.contains("parse error at line 1")),
        "{err}"
    );
}

#[test]
fn prometheus_matrices_and_errors() {
    let p = prometheus::parse_response(
        &fixture("prometheus/query_range_matrix.json"),
        "prom",
        "rate(x[5m])",
        &EntityTable::prometheus(),
    )
    .unwrap();
    assert_eq!(p.series.len(), 2);
    let api = p
        .series
        .iter()
        .find(|s| s.labels.get("container").map(String::as_str) == Some("api"))
        .unwrap();
    assert!(api.entities.contains(EntityKey::Pod, "api-7d9f"));
    assert!(api
        .entities
        .values(EntityKey::Image)
        .next()
        .unwrap()
        .contains("@sha256:ba29e5"));
    assert_eq!(api.samples[0].0 .0, 1795321440 * 1_000_000_000);
    assert!((api.samples[0].1 - 0.05588067749999027).abs() < 1e-12);
    let floats = prometheus::parse_response(
        &fixture("prometheus/query_range_matrix_float_times.json"),
        "prom",
        "q",
        &EntityTable::prometheus(),
    )
    .unwrap();
    assert!(floats.series[0].samples[0].0 .0 % 1_000_000_000 == 500_000_000);
    let nan = prometheus::parse_response(
        &fixture("prometheus/query_scalar_nan.json"),
        "prom",
        "scalar(up)",
        &EntityTable::prometheus(),
    )
    .unwrap();
    assert!(nan.series[0].samples[0].1.is_nan());
    let vector = prometheus::parse_response(
        &fixture("prometheus/query_vector.json"),
        "prom",
        "q",
        &EntityTable::prometheus(),
    )
    .unwrap();
    assert!(vector.series.iter().all(|s| s.samples.len() == 1));
    let empty = prometheus::parse_response(
        &fixture("prometheus/query_range_empty.json"),
        "prom",
        "q",
        &EntityTable::prometheus(),
    )
    .unwrap();
    assert!(empty.series.is_empty());
    let err = prometheus::parse_response(
        &fixture("prometheus/error_bad_promql.json"),
        "prom",
        "q",
        &EntityTable::prometheus(),
    )
    .unwrap_err();
    assert_eq!(err, SourceError::Server("bad_data: invalid parameter \"query\": 1:49: parse error: unexpected <by> in aggregation".into()));
}

#[test]
fn elasticsearch_search_and_errors() {
    let p = elastic::parse_response(
        &fixture("elasticsearch/search_response_basic.json"),
        "es",
        &EntityTable::ecs(),
    )
    .unwrap();
    assert_eq!(p.events.len(), 1);
    let e = &p.events[0];
    assert_eq!(e.ts.to_rfc3339(), "2099-11-15T14:12:12.000000000Z");
    assert_eq!(e.title, "GET /search HTTP/1.1 200 1070000");
    assert!(e.entities.contains(EntityKey::Ip, "127.0.0.1"));
    // The raw record is the hit exactly as the server sent it.
    assert!(
        e.raw.starts_with('{') && e.raw.contains("\"_index\": \"my-index-000001\""),
        "{}",
        e.raw
    );
    let os = elastic::parse_response(
        &fixture("elasticsearch/opensearch_search_response_sorted_with_sort_values.json"),
        "os",
        &EntityTable::ecs(),
    )
    .unwrap();
    // Documents without a time field cannot be placed on a timeline: skipped, counted, sampled.
    assert_eq!((os.events.len(), os.skipped.skipped), (0, 10));
    assert_eq!(os.skipped.samples[0].reason, "no usable `@timestamp`");
    let err = elastic::parse_response(
        &fixture("elasticsearch/error_400_illegal_argument_exception.json"),
        "es",
        &EntityTable::ecs(),
    )
    .unwrap_err();
    assert!(
        matches!(err, SourceError::Server(ref m) if m.starts_with("illegal_argument_exception: ")),
        "{err}"
    );
    let busy = elastic::parse_response(
        &fixture("elasticsearch/error_429_es_rejected_execution_exception.json"),
        "es",
        &EntityTable::ecs(),
    )
    .unwrap_err();
    assert!(
        busy.to_string().contains("es_rejected_execution_exception"),
        "{busy}"
    );
}

#[test]
fn prometheus_alerts_and_rules_become_events() {
    let alerts = prometheus::parse_alerts(
        &fixture("prometheus/alerts.json"),
        "prom",
        &EntityTable::prometheus(),
    )
    .unwrap();
    assert_eq!(alerts.events.len(), 3);
    let cpu = alerts
        .events
        .iter()
        .find(|e| e.title.starts_with("ContainerCPUSaturated"))
        .unwrap();
    assert_eq!(cpu.kind, EventKind::AlertFiring);
    assert_eq!(cpu.severity, Severity::Critical);
    assert_eq!(cpu.title, "ContainerCPUSaturated (firing)");
    assert_eq!(
        cpu.message,
        "Container prod/api-7d9f/api is using 1.32 cores"
    );
    assert_eq!(cpu.ts.to_rfc3339(), "2026-11-22T06:25:08.969329325Z");
    assert!(cpu.entities.contains(EntityKey::Pod, "api-7d9f"));
    // /rules carries the same alerts inside their rules.
    let rules = prometheus::parse_alerts(
        &fixture("prometheus/rules.json"),
        "prom",
        &EntityTable::prometheus(),
    )
    .unwrap();
    let mut a: Vec<String> = alerts.events.iter().map(|e| e.title.clone()).collect();
    let mut r: Vec<String> = rules.events.iter().map(|e| e.title.clone()).collect();
    a.sort();
    r.sort();
    assert_eq!(a, r);
    let pending = prometheus::parse_alerts(
        &fixture("prometheus/alerts_pending.json"),
        "prom",
        &EntityTable::prometheus(),
    )
    .unwrap();
    assert!(pending
        .events
        .iter()
        .all(|e| e.title.contains("(pending)") || e.title.contains("(firing)")));
}

#[test]
fn falco_process_start_comes_from_proc_pid_ts() {
    // Elastic's hand-edited line carries `proc.pid.ts` as a string ("23451": nanoseconds since
    // the epoch, an edited value; the field is what counts).
    let edited = falco_file("falco/elastic_integrations_falco_test_edited_fields.ndjson");
    let p = edited.events[2].process.as_ref().unwrap();
    assert_eq!((p.pid, p.ppid), (Some(133567), Some(133568)));
    assert_eq!(p.start, Some(Timestamp(23451)));
    assert_eq!(p.parent_entity_id, None);
    // Lines without the field have no start.
    assert_eq!(edited.events[0].process.as_ref().unwrap().start, None);
    // As a number it reads the same; Falco's `<NA>` or garbage is no start at all.
    let line = fixture("falco/elastic_integrations_falco_test_edited_fields.ndjson")
        .lines()
        .nth(2)
        .unwrap()
        .to_string();
    for (value, want) in [
        (
            "1715606609089890892",
            Some(Timestamp(1_715_606_609_089_890_892)),
        ),
        ("\"<NA>\"", None),
        ("\"soon\"", None),
        ("{\"x\":1}", None),
    ] {
        let text = line.replace("\"23451\"", value);
        let (parsed, _) = falco::parse_lines(text.as_bytes(), "falco", &EntityTable::falco());
        assert_eq!(parsed.events.len(), 1, "{value}");
        assert_eq!(
            parsed.events[0].process.as_ref().unwrap().start,
            want,
            "{value}"
        );
    }
}

#[test]
fn sysdig_process_start_comes_from_proc_pid_ts() {
    // The recorded `sysdig -j -pc` line, with the fields a `-p` format naming `%proc.pid`,
    // `%proc.ppid` and `%proc.pid.ts` adds (sysdig prints numbers as numbers).
    let line = fixture("sysdig/issue1537_sysdig_j_pc.ndjson")
        .lines()
        .next()
        .unwrap()
        .replacen(
            '{',
            "{\"proc.pid\":20945,\"proc.ppid\":20930,\"proc.pid.ts\":1572938941102934521,",
            1,
        );
    let (p, err) = sysdig::parse_lines(line.as_bytes(), "sysdig", &EntityTable::sysdig());
    assert!(err.is_none());
    let proc_ = p.events[0].process.as_ref().unwrap();
    assert_eq!((proc_.pid, proc_.ppid), (Some(20945), Some(20930)));
    assert_eq!(proc_.start, Some(Timestamp(1_572_938_941_102_934_521)));
    // The recorded line itself has no start.
    let text = fixture("sysdig/issue1537_sysdig_j_pc.ndjson");
    let (p, _) = sysdig::parse_lines(text.as_bytes(), "sysdig", &EntityTable::sysdig());
    assert!(p
        .events
        .iter()
        .all(|e| e.process.as_ref().unwrap().start.is_none()));
}

#[test]
fn ecs_process_start_and_parent_entity_id() {
    // An ECS process document as Elastic Defend / Auditbeat write it (field values from the
    // ECS reference: `process.start` is a date, entity ids are opaque keywords).
    let body = r#"{"hits":{"hits":[
      {"_index":"logs-endpoint.events.process-default","_id":"1","_source":{
        "@timestamp":"2024-06-28T12:55:13.217Z",
        "event":{"category":["process"],"type":["start"]},
        "host":{"name":"web-1"},
        "process":{"pid":4242,"name":"ssh","entity_id":"c2c455d9f99375d",
          "start":"2016-05-23T08:05:34.853Z",
          "parent":{"pid":4200,"name":"bash","entity_id":"a8b1d4f3e2c19b7"}}}},
      {"_index":"logs-endpoint.events.process-default","_id":"2","_source":{
        "@timestamp":"2024-06-28T12:55:14.000Z",
        "process":{"pid":4243,"start":"not a date","parent":{"entity_id":""}}}},
      {"_index":"logs-endpoint.events.process-default","_id":"3","_source":{
        "@timestamp":"2024-06-28T12:55:15.000Z",
        "process.pid":4244,"process.start":1463990734853}}
    ]}}"#;
    let p = elastic::parse_response(body, "es", &EntityTable::ecs()).unwrap();
    assert_eq!(p.events.len(), 3);
    let first = p.events[0].process.as_ref().unwrap();
    assert_eq!(first.entity_id.as_deref(), Some("c2c455d9f99375d"));
    assert_eq!(first.parent_entity_id.as_deref(), Some("a8b1d4f3e2c19b7"));
    assert_eq!(
        first.start.map(Timestamp::to_rfc3339).as_deref(),
        Some("2016-05-23T08:05:34.853000000Z")
    );
    // A malformed start is ignored, not a reason to drop the event.
    let second = p.events[1].process.as_ref().unwrap();
    assert_eq!((second.pid, second.start), (Some(4243), None));
    // Epoch milliseconds, as a date field may be stored.
    let third = p.events[2].process.as_ref().unwrap();
    assert_eq!(third.start, first.start);
}
