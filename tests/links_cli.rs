//! `casefile link grafana|kibana` (issue 8): the links for a pivot and window, printed by the
//! real binary and decoded back: the queries are the sources' own, narrowed by the pivots.

use serde_json::Value;
use std::time::Duration;

mod support;
use support::http_server::{decode, run_casefile};

fn config(name: &str, text: &str) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("casefile-links-{name}-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

const LINKS: &str = "[links]\ngrafana = \"https://grafana.example/g/\"\ngrafana_org_id = 3\ngrafana_loki_uid = \"loki-uid\"\ngrafana_prometheus_uid = \"prom-uid\"\nkibana = \"https://kibana.example/s/secops\"\nkibana_data_view = \"logs-*\"\n";

#[test]
fn a_grafana_explore_link_carries_the_demo_s_queries_narrowed_by_the_pivot() {
    let cfg = config("grafana", LINKS);
    let run = run_casefile(
        &[
            "link",
            "grafana",
            "--demo",
            "--config",
            cfg.to_str().unwrap(),
            "--pivot",
            "pod=api-7d9f-x2k4q",
        ],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let link = run.stdout.trim();
    let (base, query) = link.split_once('?').unwrap();
    assert_eq!(base, "https://grafana.example/g/explore");
    let params: Vec<(&str, &str)> = query.split('&').filter_map(|p| p.split_once('=')).collect();
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| *v)
            .unwrap()
    };
    assert_eq!(get("schemaVersion"), "1");
    assert_eq!(get("orgId"), "3");
    let panes: Value = serde_json::from_str(&decode(get("panes"), true)).unwrap();
    let loki = &panes["lok"];
    assert_eq!(loki["datasource"], "loki-uid");
    assert_eq!(
        loki["queries"][0]["expr"],
        "{job=\"sshd\"} |= \"api-7d9f-x2k4q\""
    );
    let prom = &panes["prm"]["queries"];
    assert_eq!(
        prom[0]["expr"],
        "rate(container_cpu_usage_seconds_total{namespace=\"prod\",pod=\"api-7d9f-x2k4q\"}[5m])"
    );
    // The demo's own span: 12:30 to 14:00 on 2026-11-20, in epoch milliseconds.
    let from: i64 = loki["range"]["from"].as_str().unwrap().parse().unwrap();
    let to: i64 = loki["range"]["to"].as_str().unwrap().parse().unwrap();
    assert_eq!(from, 1_795_177_800_000);
    assert!((1_795_183_200_000..1_795_183_200_010).contains(&to), "{to}");
    std::fs::remove_file(cfg).ok();
}

#[test]
fn a_kibana_discover_link_says_what_it_could_not_carry() {
    let cfg = config("kibana", LINKS);
    let run = run_casefile(
        &[
            "link",
            "kibana",
            "--demo",
            "--config",
            cfg.to_str().unwrap(),
            "--pivot",
            "user=mallory",
            "--pivot",
            "category=network",
            "--from",
            "2026-11-20T13:00:00Z",
            "--to",
            "2026-11-20T13:30:00Z",
        ],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let link = decode(run.stdout.trim(), false);
    assert!(link.starts_with("https://kibana.example/s/secops/app/discover#/?_g=(time:(from:'2026-11-20T13:00:00.000Z',to:'2026-11-20T13:30:00.000Z'))"), "{link}");
    assert!(link.contains("query:(language:kuery,query:'(user.name:\"mallory\" or user.target.name:\"mallory\")')"), "{link}");
    assert!(
        run.stderr
            .contains("not in the link (no ECS field): category=network"),
        "{}",
        run.stderr
    );
    // No [links]: what to set, and exit 1.
    let empty = config("empty", "");
    let run = run_casefile(
        &[
            "link",
            "grafana",
            "--demo",
            "--config",
            empty.to_str().unwrap(),
        ],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("no Grafana to link to: set `grafana`"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(cfg).ok();
    std::fs::remove_file(empty).ok();
}
