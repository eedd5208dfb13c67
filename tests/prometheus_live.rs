//! casefile against a real Prometheus (Debian's `prometheus` package): the incident recorded in
//! tests/fixtures/prometheus/input is backfilled with `promtool tsdb create-blocks-from
//! openmetrics`, shifted so that it ends two minutes ago, and the server is started on a free
//! loopback port. Without the binaries the test prints a notice and passes, so `cargo test`
//! works with only Rust; under CI (`CI=true`) a missing binary is a failure.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn input(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/prometheus/input")
        .join(name)
}

fn find_binary(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Stops the server however the test ends.
struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }
}

fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((
        status,
        text.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    ))
}

/// The incident timeline, in the recording's own seconds.
fn timeline() -> BTreeMap<String, i64> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(input("timeline.json")).unwrap()).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| v.as_i64().map(|n| (k.clone(), n)))
        .collect()
}

/// Rewrites every sample's timestamp by `shift` seconds.
fn shifted_openmetrics(shift: i64) -> String {
    let text = std::fs::read_to_string(input("incident.om")).unwrap();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with('#') {
            out.push_str(line);
        } else {
            let (head, ts) = line.rsplit_once(' ').unwrap();
            let ts: i64 = ts.parse().unwrap();
            out.push_str(&format!("{head} {}", ts + shift));
        }
        out.push('\n');
    }
    out
}

fn start(shift: i64) -> Server {
    let dir = std::env::temp_dir().join(format!("casefile-prom-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("incident.om"), shifted_openmetrics(shift)).unwrap();
    let promtool = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(dir.join("incident.om"))
        .arg(dir.join("data"))
        .output()
        .expect("run promtool");
    assert!(
        promtool.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&promtool.stderr)
    );
    // Rules evaluated every second, so alerts appear without a long wait.
    let rules = std::fs::read_to_string(input("incident-rules.yml"))
        .unwrap()
        .replace("interval: 15s", "interval: 1s");
    std::fs::write(dir.join("rules.yml"), rules).unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 15s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs: []\n",
            dir.join("rules.yml").display()
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--storage.tsdb.retention.time=100y")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start prometheus");
    let server = Server { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(port, "/-/ready").map(|(s, _)| s) != Some(200) {
        assert!(
            Instant::now() < deadline,
            "prometheus not ready in 30 s:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn casefile(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .arg("query")
        .args(args)
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("casefile-prom-noconfig"),
        )
        .output()
        .expect("run casefile");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn lines(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn ts_secs(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v["ts"].as_str().unwrap())
        .unwrap()
        .timestamp()
}

/// The label sets of a metric in the OpenMetrics input that carry `label="value"`.
fn series_in_input(metric: &str, label: &str) -> BTreeSet<String> {
    std::fs::read_to_string(input("incident.om"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")) && l.contains(label))
        .map(|l| l.split('}').next().unwrap().to_string())
        .collect()
}

#[test]
fn casefile_reads_a_real_prometheus() {
    if find_binary("prometheus").is_none() || find_binary("promtool").is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(!ci, "CI=true but the prometheus and promtool binaries are missing: .ci/run must install Debian's prometheus package");
        eprintln!("NOTICE: prometheus/promtool not installed; the real-Prometheus test did not run (apt-get install prometheus)");
        return;
    }
    let t = timeline();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let shift = now - 120 - t["T_END"];
    let server = start(shift);
    let url = server.url();
    let (from, to) = (t["T_START"] + shift, t["T_END"] + shift);

    // 1. A range query over the incident: every series, on the chosen step, with the spike.
    let q = r#"rate(container_cpu_usage_seconds_total{namespace="prod"}[5m])"#;
    let run = casefile(&[
        "--prom",
        &url,
        "--promql",
        q,
        "--from",
        &rfc3339(from),
        "--to",
        &rfc3339(to),
    ]);
    assert_eq!(
        run.code,
        0,
        "stderr: {}\nserver log:\n{}",
        run.stderr,
        server.log()
    );
    let (samples, crossings): (Vec<_>, Vec<_>) =
        lines(&run).into_iter().partition(|v| v["kind"] == "metric");
    assert!(samples.iter().all(|v| v["query"] == q));
    let pods: BTreeSet<&str> = samples
        .iter()
        .map(|v| v["metric"]["pod"].as_str().unwrap())
        .collect();
    assert_eq!(
        pods.len(),
        series_in_input("container_cpu_usage_seconds_total", "namespace=\"prod\"").len()
    );
    let api: Vec<(i64, f64)> = samples
        .iter()
        .filter(|v| v["metric"]["pod"] == "api-7d9f")
        .map(|v| (ts_secs(v), v["value"].as_f64().unwrap()))
        .collect();
    let spike = t["CPU_SPIKE"] + shift;
    let mean = |f: &dyn Fn(i64) -> bool| {
        let v: Vec<f64> = api
            .iter()
            .filter(|(ts, _)| f(*ts))
            .map(|(_, v)| *v)
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let before = mean(&|ts| ts < spike - 600);
    let after = mean(&|ts| ts > spike + 600);
    assert!(
        before < 0.5 && after > 1.5,
        "api CPU before {before:.2}, after {after:.2}"
    );
    // The spike crossed the built-in CPU threshold once, for that pod only, within the
    // five minutes the rate() needs to follow it.
    assert_eq!(crossings.len(), 1, "{crossings:?}");
    let crossing = &crossings[0];
    assert_eq!(crossing["kind"], "alert");
    assert_eq!(crossing["source"], "prometheus");
    assert_eq!(crossing["title"], "CPU spike on pod api-7d9f");
    assert_eq!(crossing["tags"][0], "threshold");
    let at = ts_secs(crossing);
    assert!(
        (spike..=spike + 300).contains(&at),
        "crossed at {at}, spike at {spike}"
    );
    // A two-hour window fits in 11,000 points at one second.
    assert!(api.windows(2).all(|w| w[1].0 - w[0].0 == 1), "1 s step");
    assert!(api.iter().all(|(ts, _)| (from..=to).contains(ts)));
    // Entities come from the labels: the pod pivot finds the series.
    let pivot = casefile(&[
        "--prom",
        &url,
        "--promql",
        q,
        "--from",
        &rfc3339(from),
        "--to",
        &rfc3339(to),
        "--pivot",
        "pod=api-7d9f",
        "--count",
    ]);
    // Its samples, and its one threshold crossing.
    assert_eq!(pivot.stdout.trim(), (api.len() + 1).to_string());
    // The pivot went down to the server as a label matcher.
    let narrowed =
        r#"rate(container_cpu_usage_seconds_total{namespace="prod",pod="api-7d9f"}[5m])"#;
    assert!(
        pivot.stderr.contains(&format!("pushed down: {narrowed}")),
        "{}",
        pivot.stderr
    );

    // 2. A window far wider than 11,000 seconds: the step grows so Prometheus accepts it.
    let wide_from = now - 90 * 86_400;
    let run = casefile(&[
        "--prom",
        &url,
        "--promql",
        q,
        "--from",
        &rfc3339(wide_from),
        "--to",
        &rfc3339(now),
    ]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let wide = lines(&run);
    // The finest whole-second step with at most 11,000 points: ⌊secs / step⌋ + 1 ≤ 11,000.
    let step = (1..).find(|s| (now - wide_from) / s < 11_000).unwrap();
    let api_wide: Vec<i64> = wide
        .iter()
        .filter(|v| v["metric"]["pod"] == "api-7d9f")
        .map(ts_secs)
        .collect();
    assert!(
        api_wide.len() > 1,
        "samples over the wide window: {}",
        api_wide.len()
    );
    assert!(
        api_wide.windows(2).all(|w| w[1] - w[0] == step),
        "step {step}"
    );

    // 3. Alerts: the brute-force rule fires on the backfilled data and becomes a timeline event.
    let deadline = Instant::now() + Duration::from_secs(30);
    let alerts = loop {
        let run = casefile(&["--prom", &url, "--since", "3h"]);
        let found: Vec<Value> = lines(&run)
            .into_iter()
            .filter(|v| v["kind"] == "alert_firing")
            .collect();
        if found.iter().any(|v| {
            v["title"]
                .as_str()
                .unwrap_or("")
                .starts_with("SSHBruteForce")
        }) {
            assert_eq!(run.code, 0, "stderr: {}", run.stderr);
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "no SSHBruteForce alert in 30 s; last stderr: {}\n{}",
            run.stderr,
            server.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let brute = alerts
        .iter()
        .find(|v| v["title"].as_str().unwrap().starts_with("SSHBruteForce"))
        .unwrap();
    assert_eq!(brute["severity"], "critical");
    assert_eq!(brute["entities"]["host"], serde_json::json!(["bastion-1"]));
    assert_eq!(
        brute["entities"]["rule"],
        serde_json::json!(["SSHBruteForce"])
    );
    // The same alert is in /alerts and /rules; it is listed once.
    let titles: Vec<&str> = alerts
        .iter()
        .map(|v| v["title"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = titles.iter().copied().collect();
    assert_eq!(titles.len(), unique.len(), "{titles:?}");

    // 4. The server's own error, and the exit status that says a source failed.
    let run = casefile(&["--prom", &url, "--promql", "rate(foo[5m]", "--since", "1h"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("bad_data") && run.stderr.contains("parse error"),
        "{}",
        run.stderr
    );
}
