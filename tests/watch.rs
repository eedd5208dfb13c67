//! `casefile watch`, the real binary: a Falco file that grows while it runs, stdin, the demo,
//! broken rules. Each alert comes exactly once, later events fold into few updates, a
//! threshold alert comes only once the threshold is crossed, and hostile text comes out
//! escaped. What the demo raises is worked out here from the rules and `casefile query`'s
//! output, not copied from the watch's.

use casefile::alerts::{AlertRules, Watch};
use casefile::model::Timestamp;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_casefile");
/// 2026-11-21T10:00:00Z
const BASE_SECS: i64 = 1_795_255_200;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("casefile-watch-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("config")).unwrap();
    dir
}

/// A real Falco line (tests/fixtures) with its rule, time, container and user set.
fn falco(rule: &str, secs: i64, container: &str, user: &str) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/falco/website_terminal_shell_in_container.ndjson"
    ))
    .unwrap();
    let mut v: Value = serde_json::from_str(text.trim()).unwrap();
    v["rule"] = json!(rule);
    v["time"] = json!(Timestamp((BASE_SECS + secs) * 1_000_000_000).to_rfc3339());
    v["output_fields"]["container.id"] = json!(container);
    v["output_fields"]["user.name"] = json!(user);
    v.to_string()
}

fn append(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    f.flush().unwrap();
}

const RULES: &str = r#"
[[alert]]
name = "shell"
where = { rule = "Terminal shell in container" }
by = ["container"]

[[alert]]
name = "secrets read"
where = { rule = "Read sensitive file untrusted" }
more_than = 5
within = "1m"
by = ["container"]

[[alert]]
name = "hostile"
where = { text = "evil" }
by = ["user"]
"#;

/// The watch, its stdout read line by line on a thread; killed if the test fails first.
struct Watcher {
    child: Child,
    lines: Receiver<Vec<u8>>,
    got: Vec<Value>,
    raw: Vec<u8>,
}

impl Watcher {
    fn start(dir: &Path, args: &[&str], stdin: Stdio) -> Watcher {
        let mut child = Command::new(BIN)
            .arg("watch")
            .args(args)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("HOME", dir)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Watcher {
            child,
            lines,
            got: Vec::new(),
            raw: Vec::new(),
        }
    }

    fn take(&mut self, line: Vec<u8>) {
        let v: Value = serde_json::from_slice(&line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&line)));
        self.raw.extend(line);
        self.got.push(v);
    }

    /// Reads lines until one satisfies `want` (panics after 20 s).
    fn wait_for(&mut self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.got.iter().find(|v| want(v)) {
            return v.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.take(line);
                    let last = self.got.last().unwrap();
                    if want(last) {
                        return last.clone();
                    }
                }
                Err(_) => panic!("no line for {what}; got {:#?}", self.got),
            }
        }
    }

    /// Lines that have arrived, without waiting.
    fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.take(line);
        }
    }

    /// Waits for the process to end by itself; its exit code, with every line read.
    fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "the watch did not end");
            std::thread::sleep(Duration::from_millis(50));
        };
        // The reader thread ends with the pipe.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.take(line);
        }
        status.code().expect("ended by itself, not by a signal")
    }

    fn stderr(&mut self) -> String {
        let mut s = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            std::io::Read::read_to_string(&mut e, &mut s).unwrap();
        }
        s
    }

    fn terminate(&mut self) {
        // SAFETY: kill(2) on the child this test started, by its id.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is(v: &Value, kind: &str, rule: &str) -> bool {
    v["type"] == kind && v["rule"] == rule
}

fn group_of(v: &Value, key: &str) -> String {
    v["group"][key].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_growing_falco_file_raises_each_alert_once_and_folds_what_follows() {
    let dir = temp_dir("grow");
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, RULES).unwrap();
    let events = dir.join("events.json");
    append(
        &events,
        &[falco(
            "Terminal shell in container",
            0,
            "aaaaaaaaaaaa",
            "root",
        )],
    );
    let mut w = Watcher::start(
        &dir,
        &[
            "--falco",
            events.to_str().unwrap(),
            "--rules",
            rules.to_str().unwrap(),
        ],
        Stdio::null(),
    );
    // What the file held at the start.
    let shell = w.wait_for("the first shell", |v| is(v, "alert", "shell"));
    assert_eq!(group_of(&shell, "container"), "aaaaaaaaaaaa");
    assert_eq!(shell["count"], 1);

    // Five reads: the threshold is "more than 5", so no alert. A shell in another container
    // after them says when the watch has read them.
    let read = |s: i64| falco("Read sensitive file untrusted", s, "bbbbbbbbbbbb", "www");
    let mut lines: Vec<String> = (1..=5).map(read).collect();
    lines.push(falco(
        "Terminal shell in container",
        5,
        "cccccccccccc",
        "root",
    ));
    append(&events, &lines);
    w.wait_for("the second shell", |v| {
        is(v, "alert", "shell") && group_of(v, "container") == "cccccccccccc"
    });
    w.drain();
    assert!(
        !w.got.iter().any(|v| v["rule"] == "secrets read"),
        "raised before the threshold was crossed: {:#?}",
        w.got
    );

    // The sixth crosses it.
    append(&events, &[read(6)]);
    let crossed = w.wait_for("the crossing", |v| is(v, "alert", "secrets read"));
    assert_eq!(crossed["count"], 6);
    assert_eq!(group_of(&crossed, "container"), "bbbbbbbbbbbb");
    assert_eq!(
        crossed["first"],
        Timestamp((BASE_SECS + 1) * 1_000_000_000).to_rfc3339()
    );

    // The same incidents go on: 30 more reads and 9 more shells in the first container, in
    // several writes, then a line with hostile text.
    for part in 0..3 {
        let from = 7 + part * 10;
        let mut lines: Vec<String> = (from..from + 10).map(read).collect();
        lines.extend(
            (from..from + 3)
                .map(|s| falco("Terminal shell in container", s, "aaaaaaaaaaaa", "root")),
        );
        append(&events, &lines);
        std::thread::sleep(Duration::from_millis(300));
    }
    let hostile_title = "evil \u{1b}]0;pwned\u{7}\u{1b}[2J \u{202e}rule\u{9b}31m";
    let hostile_user = "eve\u{1b}[31m";
    append(
        &events,
        &[falco(hostile_title, 40, "dddddddddddd", hostile_user)],
    );
    let hostile = w.wait_for("the hostile line", |v| is(v, "alert", "hostile"));
    assert_eq!(hostile["title"], hostile_title);
    assert_eq!(group_of(&hostile, "user"), hostile_user);
    assert_eq!(hostile["entities"]["user"][0], hostile_user);

    // SIGTERM ends it, with the counts not yet told.
    w.terminate();
    assert_eq!(w.wait_exit(), 0);
    let stderr = w.stderr();

    // Nothing a terminal would act on reached stdout.
    for bad in [0x1b_u8, 0x07] {
        assert!(!w.raw.contains(&bad), "byte {bad:#x} in the output");
    }
    let text = String::from_utf8(w.raw.clone()).unwrap();
    assert!(!text.contains('\u{202e}') && !text.contains('\u{9b}'));
    assert!(text.contains(r"\u001b]0;pwned\u0007") && text.contains(r"\u202e"));

    // Each alert exactly once.
    let alerts: Vec<(String, String)> = w
        .got
        .iter()
        .filter(|v| v["type"] == "alert")
        .map(|v| {
            (
                v["rule"].as_str().unwrap().to_string(),
                v["key"].to_string(),
            )
        })
        .collect();
    let distinct: BTreeSet<&(String, String)> = alerts.iter().collect();
    assert_eq!(alerts.len(), 4, "{:#?}\n{stderr}", w.got);
    assert_eq!(distinct.len(), 4);
    // Updates are folded: fewer lines than events (one each time the count doubles, and the
    // final count; a pause of 5 s in the stream may tell a count once more), counts only
    // growing, the last one the whole count.
    for (rule, container, events_after_alert, total, at_most) in [
        ("secrets read", "bbbbbbbbbbbb", 30, 36, 5),
        ("shell", "aaaaaaaaaaaa", 9, 10, 6),
    ] {
        let lines: Vec<&Value> = w
            .got
            .iter()
            .filter(|v| v["rule"] == rule && group_of(v, "container") == container)
            .collect();
        let updates = &lines[1..];
        assert!(
            !updates.is_empty() && updates.len() < events_after_alert && updates.len() <= at_most,
            "{rule}: {} updates for {events_after_alert} events",
            updates.len()
        );
        assert!(updates.iter().all(|u| u["type"] == "update"));
        assert!(updates.iter().all(|u| u["id"] == lines[0]["id"]));
        let counts: Vec<u64> = lines.iter().map(|v| v["count"].as_u64().unwrap()).collect();
        assert!(counts.windows(2).all(|c| c[1] > c[0]), "{rule}: {counts:?}");
        assert_eq!(*counts.last().unwrap(), total, "{rule}: {counts:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stdin_is_watched_as_it_comes_and_its_end_ends_the_watch() {
    let dir = temp_dir("stdin");
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, RULES).unwrap();
    let mut w = Watcher::start(
        &dir,
        &["--falco", "-", "--rules", rules.to_str().unwrap()],
        Stdio::piped(),
    );
    let mut stdin = w.child.stdin.take().unwrap();
    writeln!(
        stdin,
        "{}",
        falco("Terminal shell in container", 0, "aaaaaaaaaaaa", "root")
    )
    .unwrap();
    stdin.flush().unwrap();
    // Raised while stdin is still open.
    w.wait_for("the shell", |v| is(v, "alert", "shell"));
    for s in 1..4 {
        writeln!(
            stdin,
            "{}",
            falco("Terminal shell in container", s, "aaaaaaaaaaaa", "root")
        )
        .unwrap();
    }
    writeln!(stdin, "not json").unwrap();
    drop(stdin);
    assert_eq!(w.wait_exit(), 0);
    let alerts = w.got.iter().filter(|v| v["type"] == "alert").count();
    assert_eq!(alerts, 1, "{:#?}", w.got);
    assert_eq!(w.got.last().unwrap()["count"], 4);
    let stderr = w.stderr();
    assert!(stderr.contains("skipped 1 malformed record"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn broken_rules_are_named_with_their_line() {
    let dir = temp_dir("broken");
    let rules = dir.join("alerts.toml");
    std::fs::write(
        &rules,
        "[[alert]]\nname = \"x\"\nwhere = { text = \"a\" }\nmore_than = 3\nwithin = \"soon\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["watch", "--demo", "--rules", rules.to_str().unwrap()])
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:5: alert `x`: within `soon`", rules.display())),
        "{stderr}"
    );
    // The user's alerts.toml in the config directory is read the same way.
    std::fs::create_dir_all(dir.join("config/casefile")).unwrap();
    std::fs::rename(&rules, dir.join("config/casefile/alerts.toml")).unwrap();
    let out = Command::new(BIN)
        .args(["watch", "--demo"])
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("alerts.toml:5: alert `x`"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_source_is_exit_3_with_the_other_alerts_written() {
    let dir = temp_dir("failing");
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(BIN)
        .args(["watch", "--demo", "--loki"])
        .arg(format!("http://127.0.0.1:{port}"))
        .args(["--logql", "{job=\"sshd\"}"])
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().any(|l| l.contains("\"type\":\"alert\"")));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("127.0.0.1:{port}")));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// The demo: what its rules should raise, worked out from `casefile query`'s events.

fn run_json_lines(args: &[&str], home: &Path) -> Vec<Value> {
    run_stdout(args, home)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run_stdout(args: &[&str], home: &Path) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env("XDG_CONFIG_HOME", home)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn contains_folded(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The conditions of a rule, read on a `query` JSON line.
fn meets(c: &casefile::correlate::conditions::Conditions, e: &Value) -> bool {
    let title = e["title"].as_str().unwrap_or_default();
    let message = e["message"].as_str().unwrap_or_default();
    c.source.as_deref().is_none_or(|s| e["source"] == s)
        && c.kind.as_deref().is_none_or(|k| e["kind"] == k)
        && c.title.as_deref().is_none_or(|t| contains_folded(title, t))
        && c.text
            .as_deref()
            .is_none_or(|t| contains_folded(title, t) || contains_folded(message, t))
        && c.rule
            .as_deref()
            .is_none_or(|r| strs(&e["entities"]["rule"]).contains(&r))
        && c.tag
            .as_deref()
            .is_none_or(|t| strs(&e["tags"]).iter().any(|x| x.eq_ignore_ascii_case(t)))
        && c.category
            .as_deref()
            .is_none_or(|k| strs(&e["categories"]).contains(&k))
}

const SEVERITIES: [&str; 6] = ["critical", "error", "warning", "notice", "info", "debug"];

fn rank(severity: &str) -> usize {
    SEVERITIES.iter().position(|s| *s == severity).unwrap()
}

fn nanos(ts: &Value) -> i64 {
    Timestamp::parse_rfc3339(ts.as_str().unwrap()).unwrap().0
}

/// Incidents per (rule, group), by the rules' documented meaning: a threshold is crossed when
/// more than N events fall in (t - within, t]; an incident ends when its group is quiet for
/// longer than `quiet`, and the next crossing (or event) is a new one.
fn expected_incidents(events: &[Value]) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for rule in AlertRules::built_in().rules {
        let Watch::Events {
            conditions,
            min_severity,
            threshold,
            by,
        } = &rule.watch
        else {
            continue;
        };
        let mut groups: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for e in events {
            if e["kind"] == "metric" || !meets(conditions, e) {
                continue;
            }
            if min_severity
                .is_some_and(|m| rank(e["severity"].as_str().unwrap()) > rank(m.as_str()))
            {
                continue;
            }
            let group: BTreeMap<&str, Value> = by
                .iter()
                .map(|k| {
                    let v = match k.as_str() {
                        "title" => e["title"].clone(),
                        "source" => e["source_name"].clone(),
                        key => e["entities"][key][0].clone(),
                    };
                    (k.as_str(), v)
                })
                .collect();
            groups
                .entry(serde_json::to_string(&group).unwrap())
                .or_default()
                .push(nanos(&e["ts"]));
        }
        for (group, mut times) in groups {
            times.sort_unstable();
            let mut incidents = 0;
            let mut open_last: Option<i64> = None;
            let mut window: Vec<i64> = Vec::new();
            for t in times {
                if let Some(last) = open_last {
                    if t <= last + rule.quiet_ns {
                        open_last = Some(t);
                        continue;
                    }
                    open_last = None;
                    window.clear();
                }
                window.push(t);
                let crossed = match threshold {
                    None => true,
                    Some(th) => {
                        window.iter().filter(|&&x| x > t - th.within_ns).count() as u64
                            > th.more_than
                    }
                };
                if crossed {
                    incidents += 1;
                    open_last = Some(t);
                    window.clear();
                }
            }
            if incidents > 0 {
                out.insert((rule.name.clone(), group), incidents);
            }
        }
    }
    out
}

#[test]
fn the_demo_raises_what_its_rules_say_and_ends() {
    let dir = temp_dir("demo");
    let home = dir.join("config");
    let lines = run_json_lines(&["watch", "--demo"], &home);
    let events = run_json_lines(&["query", "--demo"], &home);
    let chains: Value = serde_json::from_str(&run_stdout(
        &["chains", "--demo", "--format", "json"],
        &home,
    ))
    .unwrap();

    // Event rules: as many alerts per group as the rules make incidents.
    let mut raised: BTreeMap<(String, String), usize> = BTreeMap::new();
    for v in lines
        .iter()
        .filter(|v| v["type"] == "alert" && v.get("chain").is_none())
    {
        let group: BTreeMap<String, Value> = v["group"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let key = (
            v["rule"].as_str().unwrap().to_string(),
            serde_json::to_string(&group).unwrap(),
        );
        *raised.entry(key).or_default() += 1;
    }
    let expected = expected_incidents(&events);
    assert!(!expected.is_empty());
    assert_eq!(raised, expected);

    // Chain rules: one alert per chain the chain search finds, with what it joined on.
    let chains = chains.as_array().unwrap();
    let chain_alerts: BTreeSet<(String, String)> = lines
        .iter()
        .filter(|v| v["type"] == "alert" && v.get("chain").is_some())
        .map(|v| (v["chain"].to_string(), v["group"].to_string()))
        .collect();
    let found: BTreeSet<(String, String)> = chains
        .iter()
        .map(|c| (c["rule"].to_string(), c["joined_on"].to_string()))
        .collect();
    assert!(!found.is_empty());
    assert_eq!(chain_alerts, found);

    // Threshold alerts are raised at the crossing: one more event than the threshold.
    for rule in AlertRules::built_in().rules {
        if let Watch::Events {
            threshold: Some(th),
            ..
        } = rule.watch
        {
            for v in lines.iter().filter(|v| is(v, "alert", &rule.name)) {
                assert_eq!(v["count"].as_u64(), Some(th.more_than + 1), "{v}");
            }
        }
    }
    // Every update follows its alert, with a larger count; ids are raised once.
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for v in &lines {
        let id = v["id"].as_str().unwrap();
        let count = v["count"].as_u64().unwrap();
        match v["type"].as_str().unwrap() {
            "alert" => assert!(counts.insert(id, count).is_none(), "{id} raised twice"),
            "update" => {
                let before = counts
                    .insert(id, count)
                    .expect("an update before its alert");
                assert!(count > before, "{v}");
            }
            other => panic!("type {other}"),
        }
        assert!(nanos(&v["first"]) <= nanos(&v["last"]));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
