//! Threshold crossings of metric series as events: the demo's built-in crossings, and the
//! user's own thresholds file replacing them.

use std::path::PathBuf;
use std::process::Command;

mod support;

fn config_home(name: &str, text: Option<&str>) -> PathBuf {
    support::config_home(name, "thresholds.toml", text)
}

/// The threshold events of `casefile query --demo`, as (title, rule, ts).
fn crossings(home: &PathBuf) -> Vec<(String, String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(["query", "--demo", "--format", "jsonl"])
        .env("XDG_CONFIG_HOME", home)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| {
            v["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "threshold"))
        })
        .map(|v| {
            assert_eq!(v["kind"], "alert");
            assert_eq!(v["source"], "prometheus");
            (
                v["title"].as_str().unwrap().to_string(),
                v["entities"]["rule"][0].as_str().unwrap().to_string(),
                v["ts"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_demo_s_miner_pod_crosses_the_built_in_thresholds_and_no_other_pod_does() {
    let got = crossings(&config_home("thresholds-builtin", None));
    assert_eq!(
        got,
        [
            (
                "CPU spike on pod api-7d9f-x2k4q".to_string(),
                "CPU spike".to_string(),
                "2026-11-20T13:11:00.000000000Z".to_string()
            ),
            (
                "Egress spike on pod api-7d9f-x2k4q".to_string(),
                "Egress spike".to_string(),
                "2026-11-20T13:11:00.000000000Z".to_string()
            ),
        ]
    );
}

#[test]
fn the_user_s_thresholds_replace_the_built_in_ones() {
    // Above 0.3 of a core: the checkout pod is always there (never a crossing), the miner's
    // pod crosses once; no egress rule any more.
    let home = config_home(
        "thresholds-user",
        Some("[[threshold]]\nname = \"hot\"\nseries = \"cpu\"\nabove = 0.3\nfor = \"5m\"\n"),
    );
    let got = crossings(&home);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "hot on pod api-7d9f-x2k4q");
    // A broken file stops a headless run with its line.
    let home = config_home(
        "thresholds-broken",
        Some("[[threshold]]\nname = \"hot\"\nseries = \"cpu\"\nabove = 0.3\nfor = \"later\"\n"),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(["query", "--demo", "--count"])
        .env("XDG_CONFIG_HOME", &home)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("thresholds.toml: threshold `hot`: for `later`"),
        "{err}"
    );
}
