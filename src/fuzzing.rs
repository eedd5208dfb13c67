//! Entry points for fuzzing: each hands arbitrary bytes to one parser of outside input, the way
//! casefile receives them, and checks what must hold whatever the bytes (no panic, and what
//! comes out is safe to show). The `cargo fuzz` targets in `fuzz/` call these, and
//! `tests/fuzz_corpus.rs` replays the committed corpus through them in `cargo test`.

use crate::sources::{EntityTable, Parsed};

/// A fuzz target's entry point.
pub type Target = fn(&[u8]);

/// Every fuzz target, by name, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/` have
/// them.
pub const TARGETS: &[(&str, Target)] = &[
    ("falco_lines", falco_lines),
    ("loki_response", loki_response),
    ("loki_tail_frame", loki_tail_frame),
    ("es_response", es_response),
    ("prometheus_response", prometheus_response),
    ("prometheus_alerts", prometheus_alerts),
    ("config", config),
    ("theme", theme),
    ("keymap", keymap),
    ("chain_rules", chain_rules),
    ("bundle_import", bundle_import),
    ("wazuh_lines", wazuh_lines),
    ("sysdig_lines", sysdig_lines),
    ("k8s_audit_lines", k8s_audit_lines),
    ("alertmanager_alerts", alertmanager_alerts),
    ("zabbix_response", zabbix_response),
    ("grafana_annotations", grafana_annotations),
];

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// What a parser returned must be safe to put on a terminal once sanitized, like everything
/// shown: nothing a terminal would interpret (controls, bidi, zero-width) survives
/// [`crate::sanitize::line`].
fn check_parsed(parsed: &Parsed) {
    for e in &parsed.events {
        for s in [&e.title, &e.message, &e.source_name] {
            assert_clean(&crate::sanitize::line(s));
        }
        for (_, v) in e.entities.iter() {
            assert_clean(&crate::sanitize::line(v));
        }
    }
    for s in &parsed.skipped.samples {
        assert_clean(&crate::sanitize::line(&s.to_string()));
    }
}

fn assert_clean(s: &str) {
    assert!(
        !s.chars().any(crate::sanitize::needs_escape),
        "a character a terminal would interpret survived sanitizing: {s:?}"
    );
}

/// Falco JSON lines, as a file or stdin gives them (any bytes, any line lengths).
pub fn falco_lines(data: &[u8]) {
    let (parsed, _) = crate::sources::falco::parse_lines(data, "falco", &EntityTable::falco());
    check_parsed(&parsed);
}

pub fn loki_response(data: &[u8]) {
    let table = EntityTable::loki();
    if let Ok(parsed) = crate::sources::loki::parse_response(&text(data), "loki", "{}", &table) {
        check_parsed(&parsed);
    }
}

pub fn loki_tail_frame(data: &[u8]) {
    let table = EntityTable::loki();
    if let Ok(parsed) = crate::sources::loki::parse_tail_frame(&text(data), "loki", &table) {
        check_parsed(&parsed);
    }
}

pub fn es_response(data: &[u8]) {
    let table = crate::sources::EntityTables::default().elasticsearch;
    if let Ok(parsed) = crate::sources::elastic::parse_response(&text(data), "es", &table) {
        check_parsed(&parsed);
    }
}

pub fn prometheus_response(data: &[u8]) {
    let table = EntityTable::prometheus();
    let query = "up";
    if let Ok(parsed) =
        crate::sources::prometheus::parse_response(&text(data), "prom", query, &table)
    {
        check_parsed(&parsed);
    }
}

pub fn prometheus_alerts(data: &[u8]) {
    let table = EntityTable::prometheus();
    if let Ok(parsed) = crate::sources::prometheus::parse_alerts(&text(data), "prom", &table) {
        check_parsed(&parsed);
    }
}

/// The config file, with its sources resolved (no environment: secrets come out missing).
pub fn config(data: &[u8]) {
    if let Ok(config) = crate::config::Config::from_text("config.toml", text(data).into_owned()) {
        let _ = config.source_specs(&|_| None);
    }
}

pub fn theme(data: &[u8]) {
    let _ = crate::ui::theme::Theme::from_text("theme.toml", &text(data), "fuzz");
}

pub fn keymap(data: &[u8]) {
    let _ = crate::ui::keymap::Keymap::from_text("keymap.toml", &text(data), "fuzz", None, 0);
}

pub fn chain_rules(data: &[u8]) {
    let _ = crate::correlate::chains::Rules::parse("chains.toml", &text(data));
    let _ = crate::correlate::categories::Classifier::parse("categories.toml", &text(data));
}

/// A case bundle from anyone: refused or opened, never a panic, never an allocation the
/// declared sizes ask for before they are checked against the file.
pub fn bundle_import(data: &[u8]) {
    let mut cursor = std::io::Cursor::new(data);
    let _ = crate::bundle::open::check_from(&mut cursor, data.len() as u64);
}

/// Wazuh `alerts.json` lines (also index hits and active-response envelopes, one a line).
pub fn wazuh_lines(data: &[u8]) {
    let (parsed, _) = crate::sources::wazuh::parse_lines(data, "wazuh", &EntityTable::wazuh());
    check_parsed(&parsed);
}

/// `sysdig -j` output.
pub fn sysdig_lines(data: &[u8]) {
    let (parsed, _) = crate::sources::sysdig::parse_lines(data, "sysdig", &EntityTable::sysdig());
    check_parsed(&parsed);
}

/// A Kubernetes audit log.
pub fn k8s_audit_lines(data: &[u8]) {
    let table = EntityTable::k8s_audit();
    let (parsed, _) = crate::sources::k8s_audit::parse_lines(data, "k8s", &table);
    check_parsed(&parsed);
}

pub fn alertmanager_alerts(data: &[u8]) {
    let table = EntityTable::alertmanager();
    if let Ok(parsed) = crate::sources::alertmanager::parse_alerts(
        &text(data),
        "am",
        &table,
        crate::model::TimeRange::ALL,
    ) {
        check_parsed(&parsed);
    }
}

/// A Zabbix JSON-RPC answer, as `problem.get` and as `event.get`.
pub fn zabbix_response(data: &[u8]) {
    let body = text(data);
    let open = crate::sources::zabbix::parse_problem_ids(&body).unwrap_or_default();
    let table = EntityTable::zabbix();
    if let Ok(parsed) = crate::sources::zabbix::parse_events(&body, "zabbix", &table, &open) {
        check_parsed(&parsed);
    }
}

pub fn grafana_annotations(data: &[u8]) {
    let table = EntityTable::grafana();
    if let Ok(parsed) = crate::sources::grafana::parse_annotations(&text(data), "grafana", &table) {
        check_parsed(&parsed);
    }
}
