//! The real `casefile` binary, headless: `casefile query` output, filters, Falco input from files
//! and stdin, diagnostics, errors and hostile text (SPEC §2, §3, §4, §7).
//!
//! Expected numbers come from the library (`casefile::demo::load()`) or from the complete jsonl
//! dump of the demo, never from constants copied out of the output.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

mod support;
use support::*;

const SOURCES: [&str; 6] = [
    "falco",
    "loki",
    "elasticsearch",
    "prometheus",
    "k8s-audit",
    "wazuh",
];
const EVENT_KINDS: [&str; 4] = ["alert", "log", "audit", "alert_firing"];
const SEVERITIES: [&str; 6] = ["critical", "error", "warning", "notice", "info", "debug"];
const PIVOT_KEYS: [&str; 10] = [
    "user",
    "container",
    "image",
    "commit",
    "pod",
    "namespace",
    "host",
    "ip",
    "pid",
    "rule",
];

// ---------------------------------------------------------------------------------------------
// Running the binary

#[derive(Clone)]
struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn out(&self) -> &str {
        std::str::from_utf8(&self.stdout).expect("stdout is UTF-8")
    }
    fn lines(&self) -> Vec<&str> {
        self.out().lines().collect()
    }
    fn ok(&self, args: &[&str]) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "casefile {args:?} failed; stderr:\n{}",
            self.stderr
        );
        self
    }
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(args)
        // No user configuration may change what the tests see.
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("casefile-cli-test-no-config"),
        )
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn run(args: &[&str]) -> Run {
    let out = command(args)
        .stdin(Stdio::null())
        .output()
        .expect("run casefile");
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run_with_stdin(args: &[&str], input: &[u8]) -> Run {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn casefile");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // The binary may exit early on an error; a broken pipe is then expected.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for casefile");
    writer.join().expect("stdin writer");
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `casefile query --demo EXTRA…`, which must succeed. Several tests ask for the same filters,
/// so each distinct command runs once per test binary.
fn query(extra: &[&str]) -> Run {
    static SEEN: OnceLock<Mutex<HashMap<Vec<String>, Run>>> = OnceLock::new();
    let key: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let seen = SEEN.get_or_init(Default::default);
    if let Some(r) = seen.lock().unwrap().get(&key) {
        return r.clone();
    }
    let mut args = vec!["query", "--demo"];
    args.extend_from_slice(extra);
    let r = run(&args);
    r.ok(&args);
    seen.lock().unwrap().insert(key, r.clone());
    r
}

/// `--count` of the demo with these filters: stdout must be the number alone.
fn count(filters: &[&str]) -> usize {
    let mut args = filters.to_vec();
    args.push("--count");
    let r = query(&args);
    let out = r.out();
    assert!(
        out.ends_with('\n') && out.lines().count() == 1,
        "--count printed more than a number: {out:?}"
    );
    out.trim()
        .parse()
        .unwrap_or_else(|e| panic!("--count printed {out:?}: {e}"))
}

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// A temporary path unique to this test process and name.
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("casefile-cli-{}-{name}", std::process::id()))
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let path = temp_path(name);
        std::fs::write(&path, bytes).expect("write temp file");
        TempFile(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("UTF-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn fixture_lines(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/falco")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The complete demo dump, shared by the tests that compare a filtered output with it.

struct Dump {
    lines: Vec<String>,
    values: Vec<Value>,
}

fn dump() -> &'static Dump {
    static DUMP: OnceLock<Dump> = OnceLock::new();
    DUMP.get_or_init(|| {
        let r = query(&[]);
        let lines: Vec<String> = r.lines().into_iter().map(str::to_string).collect();
        let values = lines.iter().map(|l| parse(l)).collect();
        Dump { lines, values }
    })
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn entity<'a>(line: &'a Value, key: &str) -> Vec<&'a str> {
    strs(&line["entities"][key])
}

fn is_metric(line: &Value) -> bool {
    line["kind"] == "metric"
}

/// `2026-11-20T13:04:05.123456789Z`: UTC, nine fraction digits, `Z`.
fn is_rfc3339_nanos_utc(ts: &str) -> bool {
    let b = ts.as_bytes();
    let digit = |i: usize| b[i].is_ascii_digit();
    b.len() == 30
        && (0..4).all(digit)
        && b[4] == b'-'
        && (5..7).all(digit)
        && b[7] == b'-'
        && (8..10).all(digit)
        && b[10] == b'T'
        && (11..13).all(digit)
        && b[13] == b':'
        && (14..16).all(digit)
        && b[16] == b':'
        && (17..19).all(digit)
        && b[19] == b'.'
        && (20..29).all(digit)
        && b[29] == b'Z'
        && casefile::model::Timestamp::parse_rfc3339(ts).is_some()
}

fn check_event_line(v: &Value, line: &str) {
    for field in [
        "ts",
        "source",
        "source_name",
        "kind",
        "severity",
        "title",
        "message",
    ] {
        assert!(v[field].is_string(), "`{field}` is not a string in {line}");
    }
    assert!(
        SOURCES.contains(&v["source"].as_str().unwrap()),
        "source in {line}"
    );
    assert!(
        EVENT_KINDS.contains(&v["kind"].as_str().unwrap()),
        "kind in {line}"
    );
    assert!(
        SEVERITIES.contains(&v["severity"].as_str().unwrap()),
        "severity in {line}"
    );
    assert!(
        !v["source_name"].as_str().unwrap().is_empty(),
        "empty source_name in {line}"
    );
    let entities = v["entities"]
        .as_object()
        .unwrap_or_else(|| panic!("`entities` is not an object in {line}"));
    for (key, values) in entities {
        assert!(PIVOT_KEYS.contains(&key.as_str()), "entity key {key}");
        let values = values
            .as_array()
            .unwrap_or_else(|| panic!("entity {key} is not a list in {line}"));
        assert!(!values.is_empty(), "entity {key} has no values in {line}");
        assert!(
            values
                .iter()
                .all(|x| x.as_str().is_some_and(|s| !s.is_empty())),
            "entity {key} in {line}"
        );
    }
    let tags = v["tags"]
        .as_array()
        .unwrap_or_else(|| panic!("`tags` is not a list in {line}"));
    assert!(tags.iter().all(Value::is_string), "tags in {line}");
    assert!(
        !v["raw"].is_null() && v.get("raw").is_some(),
        "no raw in {line}"
    );
    if let Some(p) = v.get("process") {
        assert!(p.is_object(), "`process` is not an object in {line}");
        for f in ["pid", "ppid"] {
            assert!(p.get(f).is_none_or(Value::is_i64), "process.{f} in {line}");
        }
    }
}

fn check_metric_line(v: &Value, line: &str) {
    assert_eq!(v["source"], "prometheus", "{line}");
    assert!(v["source_name"].is_string(), "{line}");
    let labels = v["metric"]
        .as_object()
        .unwrap_or_else(|| panic!("`metric` is not an object in {line}"));
    assert!(!labels.is_empty(), "no labels in {line}");
    assert!(labels.values().all(Value::is_string), "{line}");
    let value = &v["value"];
    assert!(
        value.is_number() || ["NaN", "+Inf", "-Inf"].contains(&value.as_str().unwrap_or("")),
        "`value` in {line}"
    );
}

// ---------------------------------------------------------------------------------------------
// query --demo

#[test]
fn demo_jsonl_is_valid_ordered_and_matches_the_library() {
    let d = dump();
    assert!(!d.lines.is_empty());
    let mut last = "";
    let mut seen: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for (line, v) in d.lines.iter().zip(&d.values) {
        assert!(v.is_object(), "not an object: {line}");
        let ts = v["ts"]
            .as_str()
            .unwrap_or_else(|| panic!("no ts in {line}"));
        assert!(is_rfc3339_nanos_utc(ts), "ts {ts:?} in {line}");
        // Same fixed-width format, so text order is time order.
        assert!(ts >= last, "{ts} comes after {last}");
        last = ts;
        if is_metric(v) {
            check_metric_line(v, line);
        } else {
            check_event_line(v, line);
        }
        *seen
            .entry((v["source"].as_str().unwrap().to_string(), is_metric(v)))
            .or_default() += 1;
    }

    let loaded = casefile::demo::load();
    let mut expected: BTreeMap<(String, bool), usize> = BTreeMap::new();
    let counts = loaded.store.counts_by_source();
    for kind in casefile::model::SourceKind::ALL {
        if counts[kind.index()] > 0 {
            expected.insert((kind.as_str().to_string(), false), counts[kind.index()]);
        }
    }
    for s in loaded.store.series() {
        *expected
            .entry((s.source.as_str().to_string(), true))
            .or_default() += s.samples.len();
    }
    // Six sources, and the events derived from Prometheus series (threshold crossings).
    assert_eq!(expected.len(), 7, "the demo lost a source: {expected:?}");
    assert_eq!(seen, expected, "records per (source, is_metric)");
}

#[test]
fn demo_raw_records_agree_with_the_normalized_fields() {
    let d = dump();
    let mut falco = 0;
    let mut loki = 0;
    for (line, v) in d.lines.iter().zip(&d.values) {
        match v["source"].as_str() {
            // A Falco event's title is its rule; the raw record is the native alert.
            Some("falco") if !is_metric(v) => {
                assert_eq!(v["raw"]["rule"], v["title"], "{line}");
                let raw_time = v["raw"]["time"].as_str().expect("Falco raw time");
                assert_eq!(
                    casefile::model::Timestamp::parse_rfc3339(raw_time),
                    casefile::model::Timestamp::parse_rfc3339(v["ts"].as_str().unwrap()),
                    "{line}"
                );
                falco += 1;
            }
            // A Loki event keeps its stream and the `[ns, line]` pair; ts has all nine digits.
            Some("loki") => {
                let pair = &v["raw"]["values"][0];
                assert_eq!(pair[1], v["message"], "{line}");
                let ns: i64 = pair[0].as_str().unwrap().parse().unwrap();
                let ts =
                    casefile::model::Timestamp::parse_rfc3339(v["ts"].as_str().unwrap()).unwrap();
                assert_eq!(ts.nanos(), ns, "{line}");
                loki += 1;
            }
            _ => {}
        }
    }
    assert!(falco > 0 && loki > 0);
}

/// A filter of `casefile query`, and what a matching jsonl record must look like.
struct Case {
    filters: Vec<String>,
    matches: Box<dyn Fn(&Value) -> bool>,
}

fn pivot_case(pivots: &[String], matches: impl Fn(&Value) -> bool + 'static) -> Case {
    Case {
        filters: pivots
            .iter()
            .flat_map(|p| ["--pivot".to_string(), p.clone()])
            .collect(),
        matches: Box::new(matches),
    }
}

fn has_entity(v: &Value, key: &str, value: &str) -> bool {
    entity(v, key).contains(&value)
}

fn carries_digest(v: &Value) -> bool {
    entity(v, "image").iter().any(|i| i.ends_with(DIGEST))
}

/// Runs the case as jsonl and as `--count`, and checks the output is exactly the records of the
/// full dump that match, in the same order. Returns the output lines.
fn check_case(case: &Case) -> Vec<String> {
    let filters: Vec<&str> = case.filters.iter().map(String::as_str).collect();
    let r = query(&filters);
    let got: Vec<String> = r.lines().into_iter().map(str::to_string).collect();
    let n = count(&filters);
    assert_eq!(
        n,
        got.len(),
        "--count disagrees with the jsonl lines for {filters:?}"
    );
    assert!(n > 0, "{filters:?} found nothing");
    for line in &got {
        assert!(
            (case.matches)(&parse(line)),
            "{filters:?} returned a record that does not match: {line}"
        );
    }
    let d = dump();
    let expected: Vec<&String> = d
        .lines
        .iter()
        .zip(&d.values)
        .filter(|(_, v)| (case.matches)(v))
        .map(|(l, _)| l)
        .collect();
    assert_eq!(
        got.len(),
        expected.len(),
        "{filters:?} missed or added records"
    );
    assert!(
        got.iter().zip(&expected).all(|(a, b)| a == *b),
        "{filters:?}: output differs from the matching records of the full dump"
    );
    got
}

#[test]
fn count_equals_jsonl_lines_and_pivots_return_exactly_the_carriers() {
    // container= (short, full, digest) and commit= have their own tests below.
    let cases = vec![
        pivot_case(&["user=mallory".into()], |v| {
            has_entity(v, "user", "mallory")
        }),
        pivot_case(&[format!("pod={POD}")], |v| has_entity(v, "pod", POD)),
        pivot_case(&["user=mallory".into(), format!("pod={POD}")], |v| {
            has_entity(v, "user", "mallory") && has_entity(v, "pod", POD)
        }),
        Case {
            filters: [
                "--from",
                "2026-11-20T13:00:00Z",
                "--to",
                "2026-11-20T13:10:00Z",
            ]
            .map(String::from)
            .to_vec(),
            // Half-open: 13:00:00 is in, 13:10:00 is out.
            matches: Box::new(|v| {
                let ts = v["ts"].as_str().unwrap();
                ("2026-11-20T13:00:00.000000000Z".."2026-11-20T13:10:00.000000000Z").contains(&ts)
            }),
        },
        Case {
            filters: ["--search", "xmrig"].map(String::from).to_vec(),
            // In the demo, the miner is named only in the Falco events about it.
            matches: Box::new(|v| {
                !is_metric(v)
                    && (v["title"].as_str().unwrap().contains("xmrig")
                        || v["message"].as_str().unwrap().contains("xmrig"))
            }),
        },
    ];
    for case in &cases {
        check_case(case);
    }
}

#[test]
fn container_pivot_accepts_the_short_id_the_full_id_and_the_image_digest() {
    let short = check_case(&pivot_case(
        &[format!("container={CONTAINER_SHORT}")],
        |v| has_entity(v, "container", CONTAINER_SHORT),
    ));
    let full = check_case(&pivot_case(&[format!("container={CONTAINER_FULL}")], |v| {
        has_entity(v, "container", CONTAINER_SHORT)
    }));
    assert_eq!(
        count(&["--pivot", &format!("container={CONTAINER_FULL}")]),
        short.len()
    );
    assert_eq!(short, full, "the 12- and 64-character ids differ");
    let sources: BTreeSet<String> = short
        .iter()
        .map(|l| parse(l)["source"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sources, ["elasticsearch", "falco"].map(String::from).into());
    // The digest reaches the container's events and the Prometheus series of the image.
    let by_digest = check_case(&pivot_case(
        &[format!("container={DIGEST}")],
        carries_digest,
    ));
    let values: Vec<Value> = by_digest.iter().map(|l| parse(l)).collect();
    assert!(
        values.iter().any(is_metric),
        "no metric sample for {DIGEST}"
    );
    for line in &short {
        assert!(by_digest.contains(line), "{line} not found by digest");
    }
}

#[test]
fn commit_pivot_is_a_prefix_match_and_the_full_sha_finds_its_events() {
    let prefix = check_case(&pivot_case(&[format!("commit={COMMIT_TAG}")], |v| {
        entity(v, "commit")
            .iter()
            .any(|c| c.starts_with(COMMIT_TAG))
    }));
    let full_args = ["--pivot".to_string(), format!("commit={COMMIT_FULL}")];
    let full_args: Vec<&str> = full_args.iter().map(String::as_str).collect();
    let full = query(&full_args);
    let full_lines = full.lines();
    assert_eq!(count(&full_args), full_lines.len());
    assert!(!full_lines.is_empty());
    let mut sources = BTreeSet::new();
    for line in &full_lines {
        let v = parse(line);
        // Either the full SHA, or a 7+ character tag that is a prefix of it.
        assert!(
            entity(&v, "commit")
                .iter()
                .any(|c| c.len() >= 7 && COMMIT_FULL.starts_with(*c)),
            "commit={COMMIT_FULL} returned {line}"
        );
        assert!(
            prefix.iter().any(|p| p == line),
            "not in the prefix result: {line}"
        );
        sources.insert(v["source"].as_str().unwrap().to_string());
    }
    assert!(
        sources.contains("loki") && sources.contains("elasticsearch"),
        "{sources:?}"
    );
    // A prefix that is not 7 hex digits is not a commit.
    let short = run(&["query", "--demo", "--pivot", "commit=9f1c2a", "--count"]);
    if short.code == Some(0) {
        assert_eq!(short.out().trim(), "0");
    }
}

/// Lines as a multiset.
fn multiset(lines: &[String]) -> BTreeMap<&str, usize> {
    let mut m = BTreeMap::new();
    for l in lines {
        *m.entry(l.as_str()).or_default() += 1;
    }
    m
}

#[test]
fn two_pivots_give_the_intersection_of_each_alone() {
    let pairs = [
        ("user=mallory".to_string(), format!("pod={POD}")),
        (format!("container={DIGEST}"), "host=node-07".to_string()),
        ("user=mallory".to_string(), "ip=10.0.8.21".to_string()),
    ];
    for (i, (a, b)) in pairs.iter().enumerate() {
        let only_a = query(&["--pivot", a]);
        let only_b = query(&["--pivot", b]);
        let both = query(&["--pivot", a, "--pivot", b]);
        let to_vec =
            |r: &Run| -> Vec<String> { r.lines().into_iter().map(str::to_string).collect() };
        let (la, lb, lab) = (to_vec(&only_a), to_vec(&only_b), to_vec(&both));
        let (ma, mb) = (multiset(&la), multiset(&lb));
        let mut inter: BTreeMap<&str, usize> = BTreeMap::new();
        for (line, n) in &ma {
            if let Some(m) = mb.get(line) {
                inter.insert(line, (*n).min(*m));
            }
        }
        assert_eq!(multiset(&lab), inter, "{a} AND {b}");
        assert!(!lab.is_empty(), "{a} AND {b} is empty");
        assert!(
            lab.len() < la.len() || lab.len() < lb.len(),
            "{a} AND {b} narrowed nothing"
        );
        if i == 0 {
            // The same pivots in the other order give the same records.
            let swapped = query(&["--pivot", b, "--pivot", a]);
            assert_eq!(to_vec(&swapped), lab);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// --format table

/// Char offsets where the source, severity and title columns start.
fn column_starts(row: &str) -> (usize, usize, usize) {
    let chars: Vec<char> = row.chars().collect();
    let mut starts = Vec::new();
    let mut i = 0;
    while starts.len() < 4 && i < chars.len() {
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        starts.push(i);
        while i < chars.len() && chars[i] != ' ' {
            i += 1;
        }
    }
    assert_eq!(starts.len(), 4, "row has fewer than four columns: {row:?}");
    (starts[1], starts[2], starts[3])
}

fn is_terminal_active(c: char) -> bool {
    (c.is_control() && c != '\n')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

#[test]
fn table_rows_are_aligned_clean_and_follow_the_jsonl_records() {
    let filters = ["--pivot", "pod=api-7d9f-x2k4q"];
    let table = query(&["--pivot", "pod=api-7d9f-x2k4q", "--format", "table"]);
    let rows = table.lines();
    let jsonl = query(&filters);
    let records = jsonl.lines();
    assert_eq!(rows.len(), count(&filters));
    assert_eq!(rows.len(), records.len());
    let kinds: BTreeSet<bool> = records.iter().map(|l| is_metric(&parse(l))).collect();
    assert_eq!(kinds.len(), 2, "the case must mix events and samples");

    let first = column_starts(rows[0]);
    assert!(first.0 > 0 && first.0 < first.1 && first.1 < first.2);
    for (row, record) in rows.iter().zip(&records) {
        assert!(
            !row.chars().any(is_terminal_active),
            "control character in {row:?}"
        );
        assert_eq!(column_starts(row), first, "misaligned row {row:?}");
        let v = parse(record);
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[0], v["ts"].as_str().unwrap(), "{row}");
        assert_eq!(cols[1], v["source_name"].as_str().unwrap(), "{row}");
        let severity = if is_metric(&v) {
            "metric"
        } else {
            v["severity"].as_str().unwrap()
        };
        assert_eq!(cols[2], severity, "{row}");
        if !is_metric(&v) {
            let title = v["title"].as_str().unwrap();
            let shown: String = row.chars().skip(first.2).collect();
            assert!(
                shown == title
                    || (shown.ends_with('…') && title.starts_with(shown.trim_end_matches('…'))),
                "title {title:?} shown as {shown:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Falco from a file and from stdin

/// A mix of real Falco lines and malformed ones. Returns the bytes, the valid records and the
/// 1-based line numbers of the malformed ones.
fn falco_mix() -> (Vec<u8>, Vec<Value>, Vec<usize>) {
    let eventgen = fixture_lines("elastic_integrations_falco_eventgen_alerts.ndjson");
    let shell = fixture_lines("website_terminal_shell_in_container.ndjson");
    let edited = fixture_lines("elastic_integrations_falco_test_edited_fields.ndjson");
    let mut no_time = parse(&eventgen[2]);
    no_time.as_object_mut().unwrap().remove("time");
    let fields = no_time["output_fields"].as_object_mut().unwrap();
    fields.retain(|k, _| !k.starts_with("evt.time") && k != "evt.rawtime");
    no_time.as_object_mut().unwrap().remove("@timestamp");
    let no_time = serde_json::to_string(&no_time).unwrap();
    assert!(no_time.contains("\"rule\""));

    let mut bytes = Vec::new();
    bytes.extend_from_slice(eventgen[0].as_bytes()); // 1: valid
    bytes.push(b'\n');
    bytes.extend_from_slice(&eventgen[1].as_bytes()[..70]); // 2: truncated JSON
    bytes.push(b'\n');
    bytes.push(b'\n'); // 3: empty
    bytes.extend_from_slice(b"\x00\xff\xfe\x1b[31mgarbage\x89PNG\r\x1a\x07"); // 4: binary
    bytes.push(b'\n');
    bytes.extend_from_slice(shell[0].as_bytes()); // 5: valid, CRLF
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(no_time.as_bytes()); // 6: no time
    bytes.push(b'\n');
    bytes.extend_from_slice(eventgen[3].as_bytes()); // 7: valid
    bytes.push(b'\n');
    bytes.extend_from_slice(edited[0].as_bytes()); // 8: valid, no final newline
    let valid = [&eventgen[0], &shell[0], &eventgen[3], &edited[0]]
        .into_iter()
        .map(|l| parse(l))
        .collect();
    (bytes, valid, vec![2, 4, 6])
}

fn check_falco_mix(r: &Run, args: &[&str], valid: &[Value], bad_lines: &[usize]) {
    r.ok(args);
    let lines = r.lines();
    assert_eq!(
        lines.len(),
        valid.len(),
        "stdout:\n{}\nstderr:\n{}",
        r.out(),
        r.stderr
    );
    let mut raws: Vec<String> = Vec::new();
    let mut last = String::new();
    for line in &lines {
        let v = parse(line);
        check_event_line(&v, line);
        assert_eq!(v["source"], "falco");
        assert_eq!(v["raw"]["rule"], v["title"]);
        let ts = v["ts"].as_str().unwrap().to_string();
        assert!(ts >= last, "out of order: {ts} after {last}");
        last = ts;
        raws.push(v["raw"].to_string());
    }
    let mut expected: Vec<String> = valid.iter().map(Value::to_string).collect();
    raws.sort();
    expected.sort();
    assert_eq!(raws, expected, "stdout is not exactly the valid records");
    assert!(!r.out().contains("skipped") && !r.out().contains("casefile:"));

    let n = bad_lines.len();
    assert!(
        r.stderr.contains(&format!("skipped {n} malformed")),
        "stderr does not say {n} were skipped:\n{}",
        r.stderr
    );
    for no in 1..=8 {
        let named = r.stderr.contains(&format!("line {no}:"));
        assert_eq!(
            named,
            bad_lines.contains(&no),
            "line {no} in stderr:\n{}",
            r.stderr
        );
    }
    // The samples show the start of each bad record.
    let sample = |no: usize| {
        r.stderr
            .lines()
            .find(|l| l.contains(&format!("line {no}:")))
            .unwrap()
            .to_string()
    };
    assert!(sample(2).contains("\"hostname\""), "{}", sample(2));
    assert!(sample(4).contains("garbage"), "{}", sample(4));
    assert!(sample(6).contains("Read sensitive file untrusted") || sample(6).contains("hostname"));
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\u{7}'),
        "raw control bytes on stderr: {:?}",
        r.stderr
    );
}

#[test]
fn falco_file_with_malformed_lines_keeps_the_valid_events_and_reports_the_rest() {
    let (bytes, valid, bad) = falco_mix();
    let file = TempFile::new("mix.ndjson", &bytes);
    let args = ["query", "--falco", file.path()];
    let r = run(&args);
    check_falco_mix(&r, &args, &valid, &bad);
    assert!(r.stderr.contains(file.path()), "{}", r.stderr);
    let c = run(&["query", "--falco", file.path(), "--count"]);
    c.ok(&args);
    assert_eq!(c.out(), format!("{}\n", valid.len()));
}

#[test]
fn falco_from_stdin_behaves_like_the_file() {
    let (bytes, valid, bad) = falco_mix();
    let args = ["query", "--falco", "-"];
    let r = run_with_stdin(&args, &bytes);
    check_falco_mix(&r, &args, &valid, &bad);
    let c = run_with_stdin(&["query", "--falco", "-", "--count"], &bytes);
    c.ok(&args);
    assert_eq!(c.out(), format!("{}\n", valid.len()));
    // The demo and stdin together: both are there.
    let both = run_with_stdin(&["query", "--demo", "--falco", "-", "--count"], &bytes);
    both.ok(&args);
    let demo_total = dump().lines.len();
    assert_eq!(both.out().trim(), (demo_total + valid.len()).to_string());
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn a_missing_file_is_an_error_naming_the_path_and_the_os_reason() {
    let missing = temp_path("does-not-exist/events.ndjson");
    let missing = missing.to_str().unwrap();
    for args in [
        vec!["query", "--falco", missing],
        vec!["query", "--demo", "--falco", missing],
        vec!["query", "--falco", missing, "--count"],
    ] {
        let r = run(&args);
        assert_ne!(r.code, Some(0), "{args:?} succeeded");
        assert!(r.code.is_some(), "{args:?} was killed by a signal");
        assert!(r.stdout.is_empty(), "{args:?} wrote to stdout: {}", r.out());
        assert!(r.stderr.contains(missing), "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("No such file or directory"),
            "{args:?}: no OS reason in {}",
            r.stderr
        );
    }
}

#[test]
fn an_unreadable_file_is_an_error_with_the_os_reason() {
    use std::os::unix::fs::PermissionsExt;
    let file = TempFile::new("unreadable.ndjson", b"{}\n");
    std::fs::set_permissions(&file.0, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&file.0).is_ok() {
        // Running as root: permissions do not stop reading, so there is nothing to test.
        eprintln!("skipped: the test user can read a mode-000 file");
        return;
    }
    let r = run(&["query", "--falco", file.path()]);
    assert_ne!(r.code, Some(0));
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains(file.path()), "{}", r.stderr);
    assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
}

#[test]
fn a_directory_is_a_clear_error() {
    let dir = temp_path("a-directory");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.to_str().unwrap();
    let r = run(&["query", "--falco", path]);
    let _ = std::fs::remove_dir(&dir);
    assert_ne!(r.code, Some(0), "reading a directory succeeded");
    assert!(r.stdout.is_empty(), "{}", r.out());
    assert!(r.stderr.contains(path), "{}", r.stderr);
    assert!(
        r.stderr.to_lowercase().contains("directory"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn bad_arguments_fail_and_name_the_bad_value() {
    let cases: [(&[&str], &[&str]); 7] = [
        (&["--pivot", "colour=red"], &["colour"]),
        (&["--pivot", "user"], &["`user`", "KEY=VALUE"]),
        (&["--pivot", "user="], &["user="]),
        (&["--since", "2x"], &["2x"]),
        (&["--from", "yesterday"], &["yesterday"]),
        (&["--to", "13:00"], &["13:00"]),
        (&["--format", "xml"], &["xml"]),
    ];
    // A small real input keeps this fast; the demo takes the same path through the filters.
    let input = TempFile::new(
        "bad-args.ndjson",
        fixture_lines("website_terminal_shell_in_container.ndjson")[0].as_bytes(),
    );
    let good = run(&["query", "--falco", input.path(), "--count"]);
    assert_eq!(good.out(), "1\n", "{}", good.stderr);
    for (extra, named) in cases {
        let mut args = vec!["query", "--falco", input.path()];
        args.extend_from_slice(extra);
        let r = run(&args);
        assert_ne!(r.code, Some(0), "{args:?} succeeded");
        assert!(r.code.is_some(), "{args:?} was killed by a signal");
        assert!(r.stdout.is_empty(), "{args:?} wrote: {}", r.out());
        for n in named {
            assert!(r.stderr.contains(n), "{args:?}: {n:?} not in {}", r.stderr);
        }
    }
    let backwards = run(&[
        "query",
        "--falco",
        input.path(),
        "--from",
        "2026-11-20T14:00:00Z",
        "--to",
        "2026-11-20T13:00:00Z",
    ]);
    assert_ne!(backwards.code, Some(0));
    assert!(backwards.stdout.is_empty());
    assert!(backwards.stderr.contains("--to"), "{}", backwards.stderr);
}

#[test]
fn no_arguments_exit_2_with_a_hint_to_try_the_demo() {
    let r = run(&[]);
    assert_eq!(r.code, Some(2), "stderr: {}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.out());
    assert!(r.stderr.contains("casefile demo"), "{}", r.stderr);
    let q = run(&["query"]);
    assert_ne!(q.code, Some(0));
    assert!(q.stdout.is_empty());
    assert!(q.stderr.contains("--demo"), "{}", q.stderr);
}

// ---------------------------------------------------------------------------------------------
// Hostile text (SPEC §7)

const HOSTILE_RULE: &str = "Evil \u{1b}[2J rule\r\u{9b}1m \u{202e}gpj.exe";
const HOSTILE_OUTPUT_TAIL: &str = "evil \u{1b}[2J out\rFAKE \u{9b}31m x\u{202e}y";

/// Two Falco lines: one with the hostile characters as JSON escapes, one with C1 and U+202E as
/// raw UTF-8 bytes (JSON allows those unescaped).
fn hostile_lines() -> Vec<String> {
    let escaped = serde_json::json!({
        "hostname": "node-1",
        "output": format!("13:44:05.478445995: Critical {HOSTILE_OUTPUT_TAIL}"),
        "priority": "Critical",
        "rule": HOSTILE_RULE,
        "source": "syscall",
        "tags": ["t\u{1b}]0;title\u{7}"],
        "time": "2023-05-25T13:44:05.478445995Z",
        "output_fields": {
            "container.id": "ee97d9c4186f",
            "proc.cmdline": "sh -c \u{1b}[2J\rok",
            "proc.name": "sh",
            "user.name": "mal\u{202e}lory"
        }
    });
    // serde_json escapes C0 controls but writes U+009B and U+202E as they are.
    let escaped = serde_json::to_string(&escaped).unwrap();
    assert!(escaped.contains("\\u001b") && escaped.contains("\\r"));
    let raw_bytes = concat!(
        r#"{"hostname":"n","output":"raw c1 "#,
        "\u{9b}",
        r#" and bidi "#,
        "\u{202e}",
        r#" here","priority":"Warning","rule":"Raw "#,
        "\u{9b}\u{202e}",
        r#" rule","source":"syscall","time":"2023-05-25T13:44:06Z","output_fields":{}}"#
    )
    .to_string();
    assert!(raw_bytes.as_bytes().windows(2).any(|w| w == [0xc2, 0x9b]));
    vec![escaped, raw_bytes]
}

fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn hostile_text_is_escaped_in_jsonl_and_round_trips_exactly() {
    let lines = hostile_lines();
    let file = TempFile::new("hostile.ndjson", (lines.join("\n") + "\n").as_bytes());
    let args = ["query", "--falco", file.path()];
    let r = run(&args);
    r.ok(&args);
    assert!(!r.stdout.contains(&0x1b), "raw ESC on stdout");
    assert!(!r.stdout.contains(&0x07), "raw BEL on stdout");
    assert!(!r.stdout.contains(&b'\r'), "raw CR on stdout");
    assert!(
        !contains_bytes(&r.stdout, &[0xc2, 0x9b]),
        "raw C1 CSI on stdout"
    );
    assert!(
        !contains_bytes(&r.stdout, "\u{202e}".as_bytes()),
        "raw U+202E on stdout"
    );
    let out = r.lines();
    assert_eq!(out.len(), 2, "{}", r.stderr);
    let first = parse(out[0]);
    let second = parse(out[1]);
    // Parsing gives back the original strings exactly.
    assert_eq!(first["title"], HOSTILE_RULE);
    assert_eq!(first["message"], HOSTILE_OUTPUT_TAIL);
    assert_eq!(entity(&first, "user"), ["mal\u{202e}lory"]);
    assert_eq!(first["process"]["cmdline"], "sh -c \u{1b}[2J\rok");
    assert_eq!(strs(&first["tags"]), ["t\u{1b}]0;title\u{7}"]);
    assert_eq!(second["title"], "Raw \u{9b}\u{202e} rule");
    assert_eq!(second["message"], "raw c1 \u{9b} and bidi \u{202e} here");
    // The raw record is the original.
    assert_eq!(first["raw"], parse(&lines[0]));
    assert_eq!(second["raw"], parse(&lines[1]));
}

#[test]
fn hostile_text_is_shown_as_visible_escapes_in_the_table() {
    let lines = hostile_lines();
    let file = TempFile::new("hostile-table.ndjson", (lines.join("\n") + "\n").as_bytes());
    let args = ["query", "--falco", file.path(), "--format", "table"];
    let r = run(&args);
    r.ok(&args);
    let text = r.out();
    assert!(
        !text.chars().any(is_terminal_active),
        "active characters in the table: {text:?}"
    );
    assert_eq!(text.lines().count(), 2, "{text:?}");
    for visible in ["\\x1b[2J", "\\r", "\\x9b", "202e"] {
        assert!(text.contains(visible), "{visible} not shown in {text:?}");
    }
    let rows: Vec<&str> = text.lines().collect();
    assert!(
        rows[0].contains("Evil \\x1b[2J rule\\r\\x9b1m "),
        "{}",
        rows[0]
    );
}

// ---------------------------------------------------------------------------------------------
// Known bugs, kept as failing tests to run with `cargo test -- --ignored` once they are fixed.

#[test]
fn full_commit_sha_also_finds_events_that_carry_the_short_tag() {
    // SPEC §4: responders paste whichever form they have. The Falco events of container C carry
    // `container.image.tag` = 9f1c2ab; they belong to commit 9f1c2ab4e8d7…, yet only the
    // 7-character pivot finds them.
    check_case(&pivot_case(&[format!("commit={COMMIT_FULL}")], |v| {
        entity(v, "commit")
            .iter()
            .any(|c| c.len() >= 7 && (COMMIT_FULL.starts_with(c) || c.starts_with(COMMIT_FULL)))
    }));
    assert_eq!(
        count(&["--pivot", &format!("commit={COMMIT_FULL}")]),
        count(&["--pivot", &format!("commit={COMMIT_TAG}")])
    );
}

#[test]
fn table_columns_stay_aligned_with_long_source_names() {
    let (bytes, _, _) = falco_mix();
    let file = TempFile::new("a-rather-long-file-name-for-alignment.ndjson", &bytes);
    let args = [
        "query",
        "--demo",
        "--falco",
        file.path(),
        "--to",
        "2026-11-20T12:30:01Z",
        "--format",
        "table",
    ];
    let r = run(&args);
    r.ok(&args);
    let rows = r.lines();
    let sources: BTreeSet<&str> = rows
        .iter()
        .map(|row| row.split_whitespace().nth(1).unwrap())
        .collect();
    assert!(sources.len() >= 2, "{sources:?}");
    let first = column_starts(rows[0]);
    for row in &rows {
        assert_eq!(column_starts(row), first, "misaligned row {row:?}");
    }
}

#[test]
fn table_metric_rows_show_the_sample_value() {
    let filters = [
        "--pivot",
        "pod=api-7d9f-x2k4q",
        "--to",
        "2026-11-20T12:50:00Z",
    ];
    let table = query(&[&filters[..], &["--format", "table"]].concat());
    let jsonl = query(&filters);
    for (row, record) in table.lines().iter().zip(jsonl.lines()) {
        let v = parse(record);
        if is_metric(&v) {
            // serde_json's default float parser may be off in the last digit, so compare values.
            let value = v["value"].as_f64().unwrap();
            let shown: f64 = row
                .rsplit(" = ")
                .next()
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| panic!("no value at the end of {row:?}"));
            assert!(
                (shown - value).abs() <= value.abs() * 1e-12,
                "value {value} not shown in {row:?}"
            );
        }
    }
}

#[test]
fn bad_filters_are_reported_before_reading_stdin() {
    let mut child = command(&["query", "--falco", "-", "--since", "2x"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn casefile");
    // stdin stays open, as with `tail -f events.json | casefile query --falco -`.
    let stdin = child.stdin.take();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    drop(stdin);
    let status = status.expect("`--since 2x` was not reported while stdin was open");
    assert!(!status.success());
}

// ---------------------------------------------------------------------------------------------
// Malformed and hostile input shapes (issue 7)

#[test]
fn odd_shapes_of_input_are_skipped_counted_and_sampled_never_a_crash() {
    let good = r#"{"time":"2026-11-20T12:00:01Z","rule":"Terminal shell in container","priority":"Notice","output":"ok","output_fields":{"user.name":"alice"}}"#;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let lines: Vec<String> = vec![
        good.to_string(),
        // 2: nested far deeper than any record
        deep,
        // 3: the same key twice
        r#"{"time":"2026-11-20T12:00:02Z","rule":"a","rule":"b","output":"dup"}"#.to_string(),
        // 4: year 1 and 5: year 9999, beyond the nanosecond clock (1677 to 2262): skipped
        r#"{"time":"0001-01-01T00:00:00Z","rule":"Year one","output":"x"}"#.to_string(),
        r#"{"time":"9999-12-31T23:59:59Z","rule":"Year 9999","output":"x"}"#.to_string(),
        // 6: a time that is no time
        r#"{"time":"yesterday-ish","rule":"Bad time","output":"x"}"#.to_string(),
        // 7: wrong types everywhere
        r#"{"time":12,"rule":["x"],"priority":{},"output":null,"output_fields":"no"}"#.to_string(),
        // 8: nulls
        r#"{"time":null,"rule":null,"output":null}"#.to_string(),
        // 9: JSON that is not an object
        "\"just a string\"".to_string(),
        // 10: truncated
        r#"{"time":"2026-11-20T12:00:03Z","rule":"cut"#.to_string(),
        // 11: the epoch and 12: the 23rd century: far, but kept at their times
        r#"{"time":"1970-01-01T00:00:00Z","rule":"Ancient","output":"x"}"#.to_string(),
        r#"{"time":"2200-01-01T00:00:00Z","rule":"Future","output":"x"}"#.to_string(),
    ];
    let mut bytes = lines.join("\n").into_bytes();
    bytes.push(b'\n');
    let file = TempFile::new("odd.ndjson", &bytes);
    let args = ["query", "--falco", file.path()];
    let r = run(&args);
    r.ok(&args);
    let titles: Vec<String> = r
        .lines()
        .iter()
        .map(|l| parse(l)["title"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        titles,
        ["Ancient", "Terminal shell in container", "Future"],
        "{}",
        r.stderr
    );
    // Every skip is counted; the first five are sampled with their line numbers.
    for bad in [2, 3, 4, 5, 6] {
        assert!(
            r.stderr.contains(&format!("line {bad}:")),
            "line {bad} is not reported:\n{}",
            r.stderr
        );
    }
    assert!(r.stderr.contains("skipped 9 malformed"), "{}", r.stderr);
    // The 200 KB line's sample is cut, not echoed whole.
    let longest = r.stderr.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 1_000, "a sample line of {longest} bytes");
}

#[test]
fn a_binary_file_given_as_falco_input_is_reported_not_loaded() {
    // A megabyte of noise with a few newlines in it, like an executable passed by mistake.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let bytes: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    let lines = bytes.iter().filter(|b| **b == b'\n').count();
    let file = TempFile::new("noise.bin", &bytes);
    let args = ["query", "--falco", file.path(), "--count"];
    let r = run(&args);
    r.ok(&args);
    assert_eq!(r.out(), "0\n");
    assert!(
        r.stderr.contains("malformed"),
        "the noise is not reported:\n{}",
        r.stderr
    );
    assert!(lines > 1_000, "the noise has lines to skip");
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.chars().any(|c| c.is_control() && c != '\n'),
        "raw control characters reached stderr"
    );
}
