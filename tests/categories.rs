//! Security-signal categories from the rules file: the demo's events in all seven, upstream
//! Falco alerts the rules were not written against, the filter (`--pivot category=`), the
//! user's own rules file, and chain rules that ask for a category.

use casefile::correlate::chains::{find, Rules};
use casefile::load::Loaded;
use casefile::model::{Category, EntityKey};
use casefile::store::{Pivot, Query, Store};
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

fn categories_of(store: &Store, title_part: &str) -> Vec<String> {
    let pos = (0..store.len() as u32)
        .find(|p| {
            store
                .get(*p)
                .is_some_and(|e| e.title().contains(title_part))
        })
        .unwrap_or_else(|| panic!("no event titled like {title_part}"));
    let e = store.get(pos).unwrap();
    e.entities()
        .filter(|(k, _)| *k == EntityKey::Category)
        .map(|(_, v)| v.to_string())
        .collect()
}

#[test]
fn the_demo_s_steps_fall_in_their_categories() {
    let loaded = casefile::demo::load();
    let store = &loaded.store;
    for (title, category) in [
        ("Failed password for mallory", "authentication"),
        ("Accepted password for mallory", "authentication"),
        ("exec into pod prod/api-7d9f-x2k4q", "authorization"),
        (
            "RBAC change: create clusterrolebindings mallory-admin",
            "authorization",
        ),
        ("authorized_keys", "file_integrity"),
        ("sshd: authentication success", "authentication"),
        ("Terminal shell in container", "runtime"),
        ("Unexpected outbound connection destination", "network"),
        ("Pipeline deploy-api", "cicd"),
        ("secret read: get prod/api-db-credentials", "secrets"),
        ("Read sensitive file untrusted", "secrets"),
        ("Write below etc", "file_integrity"),
    ] {
        let got = categories_of(store, title);
        assert!(got.iter().any(|c| c == category), "{title}: {got:?}");
    }
    // Ordinary traffic is in none.
    assert!(categories_of(store, "GET /v1/products").is_empty());
    assert!(categories_of(store, "connected to postgres").is_empty());
}

#[test]
fn upstream_falco_alerts_get_categories_from_their_tags() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/falco/elastic_integrations_falco_eventgen_alerts.ndjson");
    let mut loaded = Loaded::default();
    casefile::load::falco_input(
        &mut loaded,
        path.to_str().unwrap(),
        &casefile::sources::EntityTables::default().falco,
        None,
    )
    .unwrap();
    let store = &loaded.store;
    assert_eq!(categories_of(store, "Run shell untrusted"), ["runtime"]);
    assert_eq!(
        categories_of(store, "Read sensitive file trusted"),
        ["secrets"]
    );
    assert_eq!(categories_of(store, "System user interactive"), ["runtime"]);
}

#[test]
fn a_chain_rule_can_ask_for_a_category() {
    let loaded = casefile::demo::load();
    let rules = Rules::parse(
        "mine.toml",
        r#"
[[chain]]
name = "login, then secrets read by the same user"
within = "1h"
[[chain.step]]
name = "login"
where = { category = "authentication", text = "accepted" }
bind = ["user"]
[[chain.step]]
name = "secrets"
where = { category = "secrets", kind = "audit" }
join = ["user"]
"#,
    )
    .unwrap();
    let all = loaded.store.select(&Query::default());
    let chains = find(&loaded.store, &all, &rules);
    let mallory: Vec<_> = chains
        .iter()
        .filter(|c| c.bound.get(&EntityKey::User).map(String::as_str) == Some("mallory"))
        .collect();
    assert_eq!(mallory.len(), 1, "{chains:?}");
    let secrets = loaded.store.get(mallory[0].steps[1].pos).unwrap();
    assert!(
        secrets.title().starts_with("secret read"),
        "{}",
        secrets.title()
    );
    // A category the rules file does not know is an error naming the step.
    let err = Rules::parse(
        "mine.toml",
        "[[chain]]\nname = \"x\"\nwithin = \"1h\"\n[[chain.step]]\nname = \"s\"\nwhere = { category = \"auth\" }\n",
    )
    .unwrap_err();
    assert!(err.contains("step `s`: unknown category `auth`"), "{err}");
}

#[test]
fn the_category_filter_is_a_pivot() {
    let loaded = casefile::demo::load();
    let store = &loaded.store;
    for c in Category::ALL {
        let pivot: Pivot = format!("category={}", c.short()).parse().unwrap();
        let hits = store.select(&Query {
            pivots: vec![pivot.clone()],
            ..Query::default()
        });
        assert!(!hits.is_empty(), "{c}");
        for p in &hits {
            let e = store.get(*p).unwrap();
            assert!(
                e.entities()
                    .any(|(k, v)| k == EntityKey::Category && v == c.as_str()),
                "{c}: {}",
                e.title()
            );
        }
        // Left out, none of them remain.
        let out = store.select(&Query {
            pivots: vec![Pivot {
                exclude: true,
                ..pivot
            }],
            ..Query::default()
        });
        assert_eq!(out.len() + hits.len(), store.len(), "{c}");
    }
}

fn casefile(config_home: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(args)
        .env("XDG_CONFIG_HOME", config_home)
        .output()
        .unwrap()
}

fn config_home(name: &str, text: Option<&str>) -> PathBuf {
    support::config_home(name, "categories.toml", text)
}

#[test]
fn query_filters_and_prints_categories_and_the_user_s_file_replaces_the_rules() {
    let home = config_home("categories-builtin", None);
    let lines = casefile(
        &home,
        &[
            "query",
            "--demo",
            "--pivot",
            "category=authn",
            "--format",
            "jsonl",
        ],
    );
    assert!(lines.status.success());
    let lines = String::from_utf8(lines.stdout).unwrap();
    let n = lines.lines().count();
    assert!(n > 1000, "{n}");
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let cats = v["categories"].as_array().unwrap();
        assert!(cats.iter().any(|c| c == "authentication"), "{line}");
        // Categories are kept apart from the SPEC's entities.
        assert!(v["entities"].get("category").is_none(), "{line}");
    }
    let count = casefile(
        &home,
        &[
            "query",
            "--demo",
            "--pivot",
            "category=authentication",
            "--count",
        ],
    );
    assert_eq!(
        String::from_utf8(count.stdout).unwrap().trim(),
        n.to_string()
    );

    // The user's file replaces the built-in rules: only xmrig is network now.
    let home = config_home(
        "categories-user",
        Some("[[category]]\nname = \"network\"\nany = [{ text = \"xmrig\" }]\n"),
    );
    let count = |pivot: &str| {
        let out = casefile(&home, &["query", "--demo", "--pivot", pivot, "--count"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse::<usize>()
            .unwrap()
    };
    let xmrig = casefile(&home, &["query", "--demo", "--search", "xmrig", "--count"]);
    assert!(count("category=network") > 0);
    assert!(
        count("category=network")
            <= String::from_utf8(xmrig.stdout)
                .unwrap()
                .trim()
                .parse::<usize>()
                .unwrap()
    );
    assert_eq!(count("category=authentication"), 0);

    // A broken file is an error naming the file and line.
    let home = config_home(
        "categories-broken",
        Some("[[category]]\nname = \"network\"\nany = [{ txt = \"x\" }]\n"),
    );
    let out = casefile(&home, &["query", "--demo", "--count"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("categories.toml:3"), "{err}");
}
