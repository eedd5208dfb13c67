//! Attack chains from the rules file: the demo's chain found by the rules (no demo knowledge
//! in the code), a second dataset the rules were not written against, the time limit, and
//! the headless command.

use casefile::correlate::chains::{find, Rules};
use casefile::model::{Entities, EntityKey, Event, EventKind, Severity, SourceKind, Timestamp};
use casefile::store::{Query, Store};

const T0: i64 = 1_790_000_000;

fn ev(
    secs: i64,
    source: SourceKind,
    kind: EventKind,
    title: &str,
    entities: &[(EntityKey, &str)],
) -> Event {
    Event {
        ts: Timestamp((T0 + secs) * 1_000_000_000),
        source,
        source_name: source.as_str().into(),
        kind,
        severity: Severity::Notice,
        title: title.into(),
        message: String::new(),
        entities: entities
            .iter()
            .map(|(k, v)| (*k, v.to_string()))
            .collect::<Entities>(),
        process: None,
        tags: vec![],
        raw: "{}".into(),
    }
}

/// A different intrusion: other names, other addresses, other pod, other timing.
fn second_dataset(outbound_after_secs: i64) -> Vec<Event> {
    use EntityKey::*;
    use EventKind::*;
    use SourceKind::*;
    let mut v = Vec::new();
    for i in 0..7 {
        v.push(ev(
            i * 3,
            Loki,
            Log,
            "sshd: Failed password for eve from 198.51.100.7 port 4000 ssh2",
            &[(User, "eve"), (Ip, "198.51.100.7"), (Host, "jump-2")],
        ));
    }
    // A decoy: failures of another user, never followed by a login.
    for i in 0..9 {
        v.push(ev(
            i * 2,
            Loki,
            Log,
            "sshd: Failed password for root from 192.0.2.9 port 1 ssh2",
            &[(User, "root"), (Ip, "192.0.2.9"), (Host, "jump-2")],
        ));
    }
    v.push(ev(
        60,
        Loki,
        Log,
        "sshd: Accepted publickey for eve from 198.51.100.7 port 4001 ssh2",
        &[(User, "eve"), (Ip, "198.51.100.7"), (Host, "jump-2")],
    ));
    v.push(ev(
        300,
        Elasticsearch,
        Audit,
        "eve create pods/exec web/web-5c9-abcde -> 101",
        &[(User, "eve"), (Pod, "web-5c9-abcde"), (Namespace, "web")],
    ));
    v.push(ev(
        320,
        Falco,
        Alert,
        "Terminal shell in container",
        &[
            (Rule, "Terminal shell in container"),
            (Pod, "web-5c9-abcde"),
            (Container, "abcdef123456"),
            (User, "www-data"),
        ],
    ));
    v.push(ev(
        320 + outbound_after_secs,
        Falco,
        Alert,
        "Outbound connection to C2 servers",
        &[(Container, "abcdef123456"), (Ip, "203.0.113.200")],
    ));
    v
}

fn chains_of(events: Vec<Event>) -> (Store, Vec<casefile::correlate::chains::Chain>) {
    let mut store = Store::new();
    store.ingest(events);
    let all = store.select(&Query::default());
    let found = find(&store, &all, &Rules::default_rules());
    (store, found)
}

#[test]
fn the_demo_chain_is_found_by_the_rules() {
    let loaded = casefile::demo::load();
    let all = loaded.store.select(&Query::default());
    let chains = find(&loaded.store, &all, &Rules::default_rules());
    let ssh = chains
        .iter()
        .filter(|c| c.rule.starts_with("SSH brute force"))
        .collect::<Vec<_>>();
    assert_eq!(ssh.len(), 1, "exactly one intrusion chain");
    let c = ssh[0];
    assert_eq!(
        c.bound.get(&EntityKey::User).map(String::as_str),
        Some("mallory")
    );
    assert_eq!(
        c.bound.get(&EntityKey::Ip).map(String::as_str),
        Some("203.0.113.45")
    );
    // Five steps, and the two optional ones: the SSH key Wazuh saw mallory add on the
    // bastion, and the pod's CPU spike, a threshold crossing of a Prometheus series.
    assert_eq!(c.steps.len(), 7);
    let titles: Vec<String> = c
        .steps
        .iter()
        .map(|s| loaded.store.get(s.pos).unwrap().title().to_string())
        .collect();
    assert!(
        titles[0].contains("Failed password for mallory"),
        "{titles:?}"
    );
    assert!(
        titles[1].contains("Accepted password for mallory"),
        "{titles:?}"
    );
    assert_eq!(
        titles[2],
        "Integrity checksum changed: /home/mallory/.ssh/authorized_keys"
    );
    assert_eq!(titles[3], "exec into pod prod/api-7d9f-x2k4q: bash");
    assert_eq!(titles[4], "Terminal shell in container");
    assert!(titles[5].to_lowercase().contains("outbound"), "{titles:?}");
    assert_eq!(titles[6], "CPU spike on pod api-7d9f-x2k4q");
    // Steps in time order, and from five sources.
    let times: Vec<Timestamp> = c
        .steps
        .iter()
        .map(|s| loaded.store.get(s.pos).unwrap().ts())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    let sources: std::collections::BTreeSet<_> = c
        .steps
        .iter()
        .map(|s| loaded.store.get(s.pos).unwrap().source())
        .collect();
    assert_eq!(sources.len(), 5);
    assert!(c.steps[0].count >= 5);
}

#[test]
fn a_dataset_the_rules_were_not_written_against() {
    let (store, chains) = chains_of(second_dataset(600));
    let ssh: Vec<_> = chains
        .iter()
        .filter(|c| c.rule.starts_with("SSH brute force"))
        .collect();
    assert_eq!(ssh.len(), 1, "{chains:?}");
    let c = ssh[0];
    assert_eq!(
        c.bound.get(&EntityKey::User).map(String::as_str),
        Some("eve")
    );
    assert_eq!(
        c.bound.get(&EntityKey::Container).map(String::as_str),
        Some("abcdef123456")
    );
    assert_eq!(c.steps[0].count, 7);
    assert_eq!(
        store.get(c.steps[4].pos).unwrap().title(),
        "Outbound connection to C2 servers"
    );
    // No metrics here: the optional spike step is left out, and the chain stands.
    assert_eq!(c.steps.len(), 5);
    // The decoy's failures alone make no chain.
    assert!(chains
        .iter()
        .all(|c| c.bound.get(&EntityKey::User).map(String::as_str) != Some("root")));
}

#[test]
fn a_step_too_late_breaks_the_chain() {
    // The rule allows 3 hours from the first step; the outbound connection comes 4 hours on.
    let (_, chains) = chains_of(second_dataset(4 * 3_600));
    assert!(
        chains
            .iter()
            .all(|c| !c.rule.starts_with("SSH brute force")),
        "{chains:?}"
    );
}

#[test]
fn broken_rules_say_where() {
    let err = Rules::parse("mine.toml", "[[chain]]\nname = \"x\"\nwithin = \"1h\"\n[[chain.step]]\nname = \"a\"\nwhere = { text = \"x\" }\nbind = [\"colour\"]\n").unwrap_err();
    assert!(
        err.contains("mine.toml") && err.contains("unknown entity key `colour`"),
        "{err}"
    );
    let err = Rules::parse(
        "mine.toml",
        "[[chain]]\nname = \"x\"\nwithin = \"soon\"\nstep = []\n",
    )
    .unwrap_err();
    assert!(err.contains("within `soon`"), "{err}");
    let err = Rules::parse("mine.toml", "[[chain]]\nnme = \"x\"\n").unwrap_err();
    assert!(err.contains("mine.toml:2"), "{err}");
}

#[test]
fn casefile_chains_prints_text_and_json() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_casefile"))
            .args(args)
            .env(
                "XDG_CONFIG_HOME",
                std::env::temp_dir().join("casefile-chains-noconfig"),
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = run(&["chains", "--demo"]);
    assert!(
        text.starts_with("chain: SSH brute force, then a miner in a container\n"),
        "{text}"
    );
    assert!(
        text.contains("  6. outbound connection from the container\n"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&run(&["chains", "--demo", "--format", "json"])).unwrap();
    let first = &json[0];
    assert_eq!(first["steps"].as_array().unwrap().len(), 7);
    assert_eq!(first["steps"][2]["source"], "wazuh");
    assert_eq!(first["steps"][3]["source"], "k8s-audit");
    assert_eq!(first["steps"][6]["source"], "prometheus");
    assert_eq!(first["joined_on"]["user"], "mallory");
    // A pivot that leaves the login out leaves no intrusion chain.
    let none = run(&["chains", "--demo", "--pivot", "user!=mallory"]);
    assert!(!none.contains("SSH brute force"), "{none}");
}
