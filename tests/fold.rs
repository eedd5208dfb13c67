//! Noise folding: the demo's brute force is one row and its distinct steps are not folded;
//! messages that differ only in numbers, ports, times, ids and their own entity values fold,
//! messages that differ in words do not; nothing is lost (the counts add up).

use casefile::fold::{FoldKeys, FoldRules, Folded, Summary};
use casefile::load::Loaded;
use casefile::model::{Entities, EntityKey, Event, EventKind, Severity, SourceKind, Timestamp};
use casefile::store::Query;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::Arc;

fn casefile(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(args)
        // No user rules from the machine running the tests.
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("casefile-fold-no-config"),
        )
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn fold_count(row: &Value) -> u64 {
    row["fold"]["count"]
        .as_u64()
        .expect("every row has a fold count")
}

#[test]
fn the_demo_brute_force_is_one_row_and_nothing_is_lost() {
    let events = json_lines(&casefile(&["query", "--demo"]));
    let rows = json_lines(&casefile(&["query", "--demo", "--fold"]));
    assert!(
        rows.len() * 10 < events.len(),
        "{} rows for {} records",
        rows.len(),
        events.len()
    );

    // Every event is in exactly one row: the counts add up, per source.
    let mut unfolded: HashMap<String, u64> = HashMap::new();
    for e in &events {
        *unfolded
            .entry(e["source_name"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let mut folded: HashMap<String, u64> = HashMap::new();
    for r in &rows {
        *folded
            .entry(r["source_name"].as_str().unwrap().to_string())
            .or_default() += fold_count(r);
    }
    assert_eq!(folded, unfolded);

    // The attacker's failed logins: one row from Loki, standing for every sshd line from
    // 203.0.113.45 that is not a step of the chain or a successful login.
    let attacker = |e: &Value| {
        e["source"] == "loki"
            && e["entities"]["ip"]
                .as_array()
                .is_some_and(|ips| ips.iter().any(|ip| ip == "203.0.113.45"))
    };
    let attacker_rows: Vec<&Value> = rows
        .iter()
        .filter(|r| attacker(r) && fold_count(r) > 1)
        .collect();
    assert_eq!(attacker_rows.len(), 1, "{attacker_rows:#?}");
    let brute = attacker_rows[0];
    assert_eq!(brute["fold"]["by"], "signal");
    assert_eq!(brute["fold"]["basis"], "SSH login failures");
    let lines_from_attacker = events.iter().filter(|e| attacker(e)).count() as u64;
    let singles = rows
        .iter()
        .filter(|r| attacker(r) && fold_count(r) == 1)
        .count() as u64;
    assert_eq!(fold_count(brute) + singles, lines_from_attacker);
    assert!(fold_count(brute) > 3_000, "{brute}");
    // The users it tried are listed, as many as there are.
    let users: HashSet<&str> = events
        .iter()
        .filter(|e| attacker(e))
        .flat_map(|e| e["entities"]["user"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        brute["fold"]["varying"]["user"]["distinct"].as_u64(),
        Some(users.len() as u64)
    );
    assert!(brute["fold"]["first"].as_str() < brute["fold"]["last"].as_str());
    let spark: u64 = brute["fold"]["sparkline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(
        spark,
        fold_count(brute),
        "the sparkline counts every event once"
    );

    // `--count` counts the rows.
    let count = casefile(&["query", "--demo", "--fold", "--count"]);
    assert_eq!(count.trim(), rows.len().to_string());
}

#[test]
fn the_demo_chain_steps_stay_rows_of_their_own() {
    let chains: Value =
        serde_json::from_str(&casefile(&["chains", "--demo", "--format", "json"])).unwrap();
    let rows = json_lines(&casefile(&["query", "--demo", "--fold"]));
    let steps: Vec<&Value> = chains
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["steps"].as_array().unwrap())
        .collect();
    assert!(steps.len() >= 7, "{chains:#}");
    for step in steps {
        let ts = step["ts"].as_str().unwrap();
        let title = step["title"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r["ts"] == ts && r["title"] == title)
            .unwrap_or_else(|| panic!("the step {ts} {title} is a row"));
        assert_eq!(
            fold_count(row),
            1,
            "the step {ts} {title} is not folded: {row}"
        );
    }
}

#[test]
fn the_table_says_how_many_and_until_when() {
    let table = casefile(&["query", "--demo", "--fold", "--format", "table"]);
    let brute = table
        .lines()
        .find(|l| l.contains("loki-prod") && l.contains("SSH login failures · user "))
        .expect("the brute force row");
    assert!(brute.contains(" ×3,"), "{brute}");
    assert!(brute.contains(" · until 13:"), "{brute}");
    // A metric series is one row with its number of samples and its range.
    assert!(table
        .lines()
        .any(|l| l.contains(" metric ") && l.contains(" ×361 {")));
}

/// A small deterministic generator: the same dataset on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Log lines whose numbers, ports, times, durations, addresses, ids and users all vary.
fn varied_dataset() -> (Vec<Event>, Vec<&'static str>) {
    let templates: Vec<&'static str> = vec![
        "Failed password for {user} from {ip} port {port} ssh2",
        "Accepted password for {user} from {ip} port {port} ssh2",
        "GET /api/v1/orders/{n} 200 in {ms}ms",
        "GET /api/v1/products/{n} 200 in {ms}ms",
        "request {uuid} finished at {time} after {ms}ms (retries={n})",
        "container {hex} exited with code {n}",
    ];
    let users = ["root", "admin", "oracle", "alice", "bob"];
    let mut rng = Lcg(7);
    let mut events = Vec::new();
    for i in 0..6_000i64 {
        let t = i as usize % templates.len();
        let user = users[rng.next(users.len() as u64) as usize];
        let ip = format!(
            "203.0.113.{}",
            1 + rng.next(3) // three attacking addresses do not split the failures
        );
        let message = templates[t]
            .replace("{user}", user)
            .replace("{ip}", &ip)
            .replace("{port}", &(1024 + rng.next(60_000)).to_string())
            .replace("{n}", &rng.next(100_000).to_string())
            .replace("{ms}", &rng.next(5_000).to_string())
            .replace(
                "{uuid}",
                &format!(
                    "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                    rng.next(1 << 32),
                    rng.next(1 << 16),
                    rng.next(1 << 12),
                    rng.next(1 << 12),
                    rng.next(1 << 40)
                ),
            )
            .replace(
                "{time}",
                &format!(
                    "2026-11-20T12:{:02}:{:02}.{:03}Z",
                    rng.next(60),
                    rng.next(60),
                    rng.next(1000)
                ),
            )
            .replace("{hex}", &format!("{:012x}", rng.next(1 << 48)));
        let mut entities = Entities::new();
        entities.add(EntityKey::Host, "web-1");
        if t < 2 {
            entities.add(EntityKey::User, user);
            entities.add(EntityKey::Ip, &ip);
        }
        events.push(Event {
            ts: Timestamp(1_795_176_000_000_000_000 + i * 1_000_000_000),
            source: SourceKind::Loki,
            source_name: "loki-test".into(),
            kind: EventKind::Log,
            severity: Severity::Info,
            title: message.clone(),
            message: String::new(),
            entities,
            process: None,
            tags: vec![],
            raw: message,
        });
    }
    (events, templates)
}

#[test]
fn numbers_inside_messages_do_not_defeat_folding_and_words_keep_rows_apart() {
    let (events, _) = varied_dataset();
    let mut loaded = Loaded::default();
    loaded.ingest(events);
    let store = &loaded.store;
    // Fold by template alone (no signal, no `by`): what is left to tell lines apart is
    // their words.
    let rules = FoldRules::parse("test", "by = []\n").unwrap();
    let mut keys = FoldKeys::new(Arc::new(rules));
    assert!(keys.step(store, usize::MAX));
    let shown = store.select(&Query::default());
    let folded = Folded::build(&shown, |p| keys.get(store, p), &HashSet::new());
    // Six templates: six rows. `Failed` and `Accepted`, `orders` and `products` stay apart.
    assert_eq!(folded.rows.len(), 6);
    const KINDS: [&str; 6] = [
        "Failed password",
        "Accepted password",
        "GET /api/v1/orders/",
        "GET /api/v1/products/",
        "request ",
        "container ",
    ];
    let kind = |pos: u32| {
        let title = store.get(pos).unwrap().title().to_string();
        KINDS
            .iter()
            .position(|k| title.starts_with(k))
            .unwrap_or_else(|| panic!("{title}"))
    };
    let mut kinds_seen = HashSet::new();
    for &row in &folded.rows {
        let g = folded.folded_at(row).expect("every row is a folded set");
        assert_eq!(g.members.len(), 1_000);
        let k = kind(row);
        assert!(g.members.iter().all(|&m| kind(m) == k), "{}", KINDS[k]);
        assert!(kinds_seen.insert(k), "{} is one row", KINDS[k]);
        // The failed logins list the users and addresses they came with.
        if k == 0 {
            let s = Summary::of(store, g).unwrap();
            let distinct = |key| s.varying.iter().find(|v| v.key == key).map(|v| v.distinct);
            assert_eq!(distinct(EntityKey::User), Some(5));
            assert_eq!(distinct(EntityKey::Ip), Some(3));
            assert_eq!(s.count, 1_000);
            assert_eq!(s.spark.iter().sum::<u32>(), 1_000);
        }
    }
}

#[test]
fn the_by_keys_keep_places_apart() {
    let (events, _) = varied_dataset();
    let mut loaded = Loaded::default();
    loaded.ingest(events);
    let store = &loaded.store;
    // With `by = ["ip"]` the login lines split by their three addresses; the rest (no ip)
    // still fold by template.
    let rules = FoldRules::parse("test", "by = [\"ip\"]\n").unwrap();
    let mut keys = FoldKeys::new(Arc::new(rules));
    keys.step(store, usize::MAX);
    let shown = store.select(&Query::default());
    let folded = Folded::build(&shown, |p| keys.get(store, p), &HashSet::new());
    assert_eq!(folded.rows.len(), 2 * 3 + 4);
    // Unfolding one set shows its events, in time order among the other rows.
    let first = folded.rows[0];
    let key = folded.folded_at(first).unwrap().key;
    let n = folded.folded_at(first).unwrap().members.len();
    let unfolded = Folded::build(&shown, |p| keys.get(store, p), &HashSet::from([key]));
    assert_eq!(unfolded.rows.len(), folded.rows.len() + n - 1);
    assert!(unfolded.rows.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn no_text_an_attacker_writes_moves_detections_under_a_signal() {
    // Three different Falco detections whose command lines end like sshd's noise: each stays
    // under its own rule, never folded into "SSH login failures".
    let dir = std::env::temp_dir().join(format!("casefile-fold-hijack-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("falco.jsonl");
    let line = |t: &str, rule: &str| {
        format!(
            "{{\"time\":\"2026-11-20T12:00:0{t}Z\",\"rule\":\"{rule}\",\"priority\":\"Critical\",\"output\":\"sshd: Invalid user x [preauth] cmdline=sh -c id # [preauth]\",\"hostname\":\"node-1\",\"output_fields\":{{\"proc.cmdline\":\"sh -c id # [preauth]\",\"fd.sip\":\"203.0.113.9\"}}}}\n"
        )
    };
    let text = line("1", "Terminal shell in container")
        + &line("2", "Write below etc")
        + &line("3", "Outbound Connection to C2 Servers");
    std::fs::write(&path, text).unwrap();
    let rows = json_lines(&casefile(&[
        "query",
        "--falco",
        path.to_str().unwrap(),
        "--fold",
    ]));
    assert_eq!(rows.len(), 3, "{rows:#?}");
    for r in &rows {
        assert_eq!(fold_count(r), 1);
        assert_eq!(r["fold"]["by"], "rule", "{r}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
