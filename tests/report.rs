//! Case metrics and the post-incident report: a case with known times exported to a bundle,
//! its metrics checked against durations worked out by hand, the Markdown report
//! snapshotted, hostile text escaped in both formats, the HTML page self-contained, and (when
//! Debian's chromium is installed) the page rendered in a headless browser.

use casefile::app::marks::Mark;
use casefile::bundle::export::{build, Case};
use casefile::bundle::format::{PivotHistory, Selection};
use casefile::bundle::redact::Redactor;
use casefile::bundle::tar_io;
use casefile::case_metrics::Origin;
use casefile::correlate::chains::{find, Rules};
use casefile::load::{Loaded, SourceReport};
use casefile::model::{Entities, EntityKey, Event, EventKind, Severity, SourceKind, Timestamp};
use casefile::report::{html, markdown, Report};
use casefile::store::Query;
use std::path::PathBuf;
use std::process::Command;

const NS: i64 = 1_000_000_000;

fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("casefile-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn event(
    at: &str,
    source: SourceKind,
    kind: EventKind,
    severity: Severity,
    title: &str,
    entities: &[(EntityKey, &str)],
    tags: &[&str],
) -> Event {
    let mut e = Entities::new();
    for (k, v) in entities {
        e.add(*k, v);
    }
    Event {
        ts: t(at),
        source,
        source_name: format!("{}-prod", source.as_str()),
        kind,
        severity,
        title: title.to_string(),
        message: title.to_string(),
        entities: e,
        process: None,
        tags: tags.iter().map(|s| s.to_string()).collect(),
        raw: serde_json::json!({ "msg": title }).to_string(),
    }
}

/// The case, all on 2026-11-20 (UTC):
/// - 12:00:00.000 an unrelated login (alice);
/// - 12:10:00.000–12:10:04.500 five failed SSH logins for mallory from 203.0.113.45;
/// - 12:12:30.000 mallory logs in; 12:14:00.000 execs into pod api-1; 12:14:10.000 a shell in
///   its container; 12:20:00.000 an outbound connection from it; 12:25:00.000 a CPU spike.
///
/// The built-in chain "SSH brute force, then a miner in a container" starts at the fifth
/// failed login (12:10:04.500, the event that makes the step) and fires at the outbound
/// connection (12:20:00.000), its last required step: the CPU spike is optional.
fn events(title_of_shell: &str) -> Vec<Event> {
    use EntityKey::*;
    use SourceKind::*;
    let mallory = [(User, "mallory"), (Ip, "203.0.113.45"), (Host, "bastion-1")];
    let mut out = vec![event(
        "2026-11-20T12:00:00Z",
        Loki,
        EventKind::Log,
        Severity::Info,
        "sshd: Accepted publickey for alice from 10.0.0.5 port 50000 ssh2",
        &[(User, "alice"), (Ip, "10.0.0.5"), (Host, "bastion-1")],
        &[],
    )];
    for (i, at) in [
        "2026-11-20T12:10:00Z",
        "2026-11-20T12:10:01Z",
        "2026-11-20T12:10:02Z",
        "2026-11-20T12:10:03Z",
        "2026-11-20T12:10:04.5Z",
    ]
    .iter()
    .enumerate()
    {
        out.push(event(
            at,
            Loki,
            EventKind::Log,
            Severity::Warning,
            &format!("sshd: Failed password for mallory from 203.0.113.45 port 6000{i} ssh2"),
            &mallory,
            &[],
        ));
    }
    out.extend([
        event(
            "2026-11-20T12:12:30Z",
            Loki,
            EventKind::Log,
            Severity::Notice,
            "sshd: Accepted password for mallory from 203.0.113.45 port 51514 ssh2",
            &mallory,
            &[],
        ),
        event(
            "2026-11-20T12:14:00Z",
            K8sAudit,
            EventKind::Audit,
            Severity::Info,
            "mallory create pods/exec prod/api-1",
            &[(User, "mallory"), (Pod, "api-1"), (Namespace, "prod")],
            &[],
        ),
        event(
            "2026-11-20T12:14:10Z",
            Falco,
            EventKind::Alert,
            Severity::Critical,
            title_of_shell,
            &[
                (Rule, "Terminal shell in container"),
                (Pod, "api-1"),
                (Namespace, "prod"),
                (Container, "5f2c1a9b3d4e"),
                (User, "root"),
                (Host, "node-07"),
            ],
            &["mitre_execution"],
        ),
        event(
            "2026-11-20T12:20:00Z",
            Falco,
            EventKind::Alert,
            Severity::Warning,
            "Unexpected outbound connection destination",
            &[
                (Rule, "Unexpected outbound connection destination"),
                (Container, "5f2c1a9b3d4e"),
                (Pod, "api-1"),
                (Ip, "185.220.101.4"),
                (Host, "node-07"),
            ],
            &["network"],
        ),
        event(
            "2026-11-20T12:25:00Z",
            Prometheus,
            EventKind::Alert,
            Severity::Warning,
            "CPU spike on pod api-1",
            &[(Pod, "api-1"), (Namespace, "prod"), (Rule, "CPU spike")],
            &["threshold"],
        ),
    ]);
    out
}

/// The marks: on the shell (12:31:15.250) and the fifth failed login (12:35:00), and one on
/// the unrelated login made at 12:05:00, before anything happened.
fn marks(positions: &[u32], note: &str) -> Vec<(u32, Mark)> {
    vec![
        (
            positions[8],
            Mark {
                star: true,
                tags: vec!["execution".into()],
                note: note.into(),
                marked_at: Some(t("2026-11-20T12:31:15.25Z")),
            },
        ),
        (
            positions[5],
            Mark {
                star: false,
                tags: vec!["brute".into()],
                note: "brute force from a Tor exit".into(),
                marked_at: Some(t("2026-11-20T12:35:00Z")),
            },
        ),
        (
            positions[0],
            Mark {
                star: true,
                tags: vec![],
                note: String::new(),
                marked_at: Some(t("2026-11-20T12:05:00Z")),
            },
        ),
    ]
}

/// The export: 2026-11-20T13:00:00Z (as SOURCE_DATE_EPOCH would pin it).
fn exported_secs() -> i64 {
    t("2026-11-20T13:00:00Z").0 / NS
}

/// The case exported to a bundle's bytes.
fn bundle_with(title_of_shell: &str, note: &str) -> Vec<u8> {
    let mut loaded = Loaded::default();
    loaded.reports.push(SourceReport::new(
        "loki-prod",
        SourceKind::Loki,
        "{job=\"sshd\"}",
    ));
    loaded.ingest(events(title_of_shell));
    let positions = loaded.store.select(&Query::default());
    let chains = find(&loaded.store, &positions, &Rules::default_rules());
    assert_eq!(chains.len(), 1, "{chains:?}");
    let case = Case {
        store: &loaded.store,
        positions: &positions,
        series: Vec::new(),
        reports: &loaded.reports,
        selection: Selection::default(),
        history: PivotHistory {
            steps: vec![vec![], vec!["user=mallory".into()]],
            at: 1,
        },
        marks: marks(&positions, note),
        chains: &chains,
        alerts: Vec::new(),
        origin: Origin::Live,
    };
    build(
        &case,
        exported_secs(),
        &Redactor::default(),
        None,
        &mut |_, _| true,
    )
    .unwrap()
    .expect("not stopped")
    .0
}

fn bundle() -> Vec<u8> {
    bundle_with("Terminal shell in container", "shell in the api pod")
}

#[test]
fn metrics_of_a_case_with_known_times() {
    let report = Report::from_bytes("case.casefile", &bundle()).unwrap();
    assert!(report.metrics_recorded, "the export records them");
    let m = report.manifest.metrics.as_ref().unwrap();
    assert_eq!(m.origin, "live");
    // First signal: the fifth failed login. First alert: the outbound connection.
    let signal = m.first_signal.as_ref().unwrap();
    assert_eq!(signal.at, "2026-11-20T12:10:04.500000000Z");
    let alert = m.first_alert.as_ref().unwrap();
    assert_eq!(alert.at, "2026-11-20T12:20:00.000000000Z");
    assert_eq!(alert.what, "SSH brute force, then a miner in a container");
    // 12:20:00.000 − 12:10:04.500 = 9 min 55.5 s.
    assert_eq!(m.time_to_detect_ns, Some(595_500_000_000));
    // The mark made at 12:05 is before the signal and not counted; the first mark after it is
    // 12:31:15.250: 11 min 15.25 s after the alert.
    assert_eq!(
        m.first_mark.as_ref().unwrap().at,
        "2026-11-20T12:31:15.250000000Z"
    );
    assert_eq!(m.time_to_triage_ns, Some(675_250_000_000));
    assert_eq!(m.triage_from.as_deref(), Some("alert"));
    // 13:00:00 − 12:10:04.500 = 49 min 55.5 s.
    assert_eq!(
        m.exported_at.as_deref(),
        Some("2026-11-20T13:00:00.000000000Z")
    );
    assert_eq!(m.time_to_export_ns, Some(2_995_500_000_000));
    assert_eq!(m.alerts, 1);
    let counts = |map: &std::collections::BTreeMap<String, u64>| -> Vec<(String, u64)> {
        map.iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.clone(), *n))
            .collect()
    };
    assert_eq!(
        counts(&m.by_source),
        [
            ("falco".into(), 2),
            ("k8s-audit".into(), 1),
            ("loki".into(), 7),
            ("prometheus".into(), 1)
        ]
    );
    assert_eq!(
        counts(&m.by_severity),
        [
            ("critical".into(), 1),
            ("info".into(), 2),
            ("notice".into(), 1),
            ("warning".into(), 7)
        ]
    );
    assert_eq!(m.by_category.len(), 7, "every category, with its count");
    assert_eq!(m.by_severity.len(), 6, "every severity, with its count");
    assert_eq!(
        m.notes,
        ["1 mark made before the first signal not counted: the analyst's clock is behind the events', or they mark earlier events"]
    );
    // The marks keep their time in marks.json.
    let shell = report.marks.iter().find(|m| m.seq == 8).unwrap();
    assert_eq!(
        shell.marked_at.as_deref(),
        Some("2026-11-20T12:31:15.250000000Z")
    );
}

#[test]
fn the_export_with_metrics_is_still_byte_identical() {
    assert!(bundle() == bundle());
}

#[test]
fn markdown_report() {
    let report = Report::from_bytes("case.casefile", &bundle()).unwrap();
    insta::assert_snapshot!("markdown_report", markdown::render(&report));
}

/// A bundle as casefile wrote it before it kept metrics and the time of marks: it opens,
/// verifies, and the report computes what it can (no time to triage without mark times).
#[test]
fn a_bundle_from_before_metrics_still_opens_and_reports() {
    let bytes = bundle();
    let mut cursor = std::io::Cursor::new(&bytes);
    let layout = tar_io::scan(&mut cursor).unwrap();
    let mut members: Vec<(String, Vec<u8>)> = layout
        .iter()
        .map(|m| (m.name.clone(), tar_io::read_member(&mut cursor, m).unwrap()))
        .collect();
    let sha = casefile::bundle::format::sha256_hex;
    let mut marks: serde_json::Value = serde_json::from_slice(&members[4].1).unwrap();
    for m in marks.as_array_mut().unwrap() {
        m.as_object_mut().unwrap().remove("marked_at");
    }
    members[4].1 = serde_json::to_vec_pretty(&marks).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_slice(&members[0].1).unwrap();
    manifest.as_object_mut().unwrap().remove("metrics");
    manifest["members"][2]["size"] = members[4].1.len().into();
    manifest["members"][2]["sha256"] = sha(&members[4].1).into();
    members[0].1 = serde_json::to_vec_pretty(&manifest).unwrap();
    members[1].1 = format!("{}  manifest.json\n", sha(&members[0].1)).into_bytes();
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let mut old = Vec::new();
    tar_io::write(&mut old, &refs, layout[0].mtime).unwrap();
    let report = Report::from_bytes("old.casefile", &old).unwrap();
    assert!(!report.metrics_recorded);
    let m = &report.metrics;
    assert_eq!(m.time_to_detect_ns, Some(595_500_000_000));
    assert_eq!(m.time_to_triage_ns, None, "no mark times: not known, not 0");
    assert_eq!(m.time_to_export_ns, Some(2_995_500_000_000));
    assert!(m.notes[0].starts_with("computed by the report"));
    assert!(m.notes.iter().any(|n| n.contains("3 marks without")));
    let md = markdown::render(&report);
    assert!(md.contains("| time to triage | not known |"), "{md}");
    assert!(md.contains("marked at a time not recorded"));
}

#[test]
fn hostile_text_is_escaped_in_both_formats() {
    let title = "[x](http://evil) <script>alert(1)</script> ![i](http://evil/p.png) \x1b[2J\x1b]8;;http://evil\x07 | # *b* _u_ `c` www.evil.com";
    let note = "see [here](javascript:alert(1)) <img src=x onerror=alert(1)> \u{202e}gnp.exe";
    let bytes = bundle_with(title, note);
    let report = Report::from_bytes("x<y>.casefile", &bytes).unwrap();
    let md = markdown::render(&report);
    // What Markdown acts on never appears without its backslash.
    let unescaped = |pattern: &str| {
        md.match_indices(pattern)
            .any(|(i, _)| i == 0 || md.as_bytes()[i - 1] != b'\\')
    };
    for bad in [
        "[x](",
        "](http",
        "](javascript",
        "<script",
        "<img",
        "![i]",
        "http://evil",
        "www.evil",
        "\x1b",
        "\u{202e}",
        "\x07",
        "`c`",
        "*b*",
        "_u_",
        "x<y>",
    ] {
        assert!(!unescaped(bad), "markdown holds {bad:?}");
    }
    // And a real GitHub-flavoured renderer, when installed, makes no link, image or HTML of it.
    if let Ok(mut child) = Command::new("cmark-gfm")
        .args(["-e", "table", "-e", "autolink", "-e", "strikethrough"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(md.as_bytes())
            .unwrap();
        let rendered = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
        for bad in [
            "<a ",
            "<img",
            "<script",
            "<em>",
            "<strong>b",
            "<code>c</code>",
            "<del>",
        ] {
            assert!(
                !rendered.contains(bad),
                "cmark-gfm made {bad:?} of it:\n{rendered}"
            );
        }
        assert!(rendered.contains("[x](http://evil) &lt;script&gt;alert(1)&lt;/script&gt;"));
    }
    assert!(md.contains(r"\[x\]\(http\://evil\) \<script\>alert\(1\)\</script\>"));
    // The escapes that made ESC and BEL visible are backslashes too, and kept as such.
    assert!(
        md.contains(r"\\x1b\[2J\\x1b\]8;;http\://evil\\x07 \| \# \*b\* \_u\_ \`c\` www\.evil.com")
    );
    assert!(md.contains(
        r"see \[here\]\(javascript:alert\(1\)\) \<img src=x onerror=alert\(1\)\> \\u\{202e\}gnp.exe"
    ));
    // The table still has its five cells on the shell's row: the `|` did not make a sixth.
    let row = md
        .lines()
        .find(|l| l.starts_with("| 4 |") && l.contains("shell in the container"))
        .unwrap();
    assert_eq!(row.matches(" | ").count(), 4, "{row}");

    let page = html::render(&report);
    for bad in [
        "<script",
        "<img",
        "\x1b",
        "\u{202e}",
        "\x07",
        "x<y>",
        "onerror=alert(1)>",
    ] {
        assert!(!page.contains(bad), "html holds {bad:?}");
    }
    assert!(page.contains("[x](http://evil) &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains(r"\x1b[2J\x1b]8;;http://evil\x07"));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt; \\u{202e}gnp.exe"));
}

#[test]
fn the_html_report_is_one_self_contained_page() {
    let report = Report::from_bytes("case.casefile", &bundle()).unwrap();
    let page = html::render(&report);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">"#));
    let lower = page.to_lowercase();
    for external in [
        "<script", "<link", "<iframe", "<object", "<embed", "<img", "src=", "href=", "url(",
        "@import", "http:", "https:", "//",
    ] {
        assert!(!lower.contains(external), "the page holds {external:?}");
    }
    // The histogram and the metric plots, inline.
    assert!(page.matches("<svg ").count() >= 3);
    assert!(page.contains("events over time, by source"));
    assert!(page.contains("9m 55s (first signal → first alert)"));
    // The same bundle gives the same page.
    assert_eq!(page, html::render(&report));
}

/// The command line: `report` to stdout and to `-o`, in both formats; a changed byte gets
/// no report; a re-export of a bundle keeps its first export as the time to export.
#[test]
fn the_report_command() {
    let path = temp("case.casefile");
    std::fs::write(&path, bundle()).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_casefile"))
            .args(args)
            .env("XDG_CONFIG_HOME", temp("noconfig"))
            .env("SOURCE_DATE_EPOCH", "1795000000")
            .output()
            .unwrap()
    };
    let p = path.to_str().unwrap();
    let out = run(&["report", p]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = Report::from_bytes("case.casefile", &bundle()).unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        markdown::render(&report)
    );
    let html_path = temp("report.html");
    let out = run(&[
        "report",
        p,
        "--format",
        "html",
        "-o",
        html_path.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&html_path).unwrap(),
        html::render(&report)
    );

    let mut changed = bundle();
    let at = changed.len() / 2;
    changed[at] ^= 1;
    let bad = temp("changed.casefile");
    std::fs::write(&bad, changed).unwrap();
    let out = run(&["report", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not intact"));

    let again = temp("again.casefile");
    let out = run(&["export", "--bundle", p, "-o", again.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = Report::open(&again).unwrap().metrics;
    assert_eq!(m.origin, "replay");
    assert_eq!(
        m.exported_at.as_deref(),
        Some("2026-11-20T13:00:00.000000000Z")
    );
    assert_eq!(m.time_to_export_ns, Some(2_995_500_000_000));
    // `casefile export` also runs the alert rules over what it loaded: the critical shell at
    // 12:14:10 raises an alert before the chain completes (12:20), so detection is
    // 12:14:10 − 12:10:04.5 (the chain's evidence, still the first signal) = 4 min 5.5 s.
    assert_eq!(
        m.first_alert.as_ref().map(|a| a.at.as_str()),
        Some("2026-11-20T12:14:10.000000000Z")
    );
    assert_eq!(m.time_to_detect_ns, Some(245_500_000_000));
    // The marks are not carried by `export --bundle`; the demo says its clock is not ours.
    let demo = temp("demo.casefile");
    let out = run(&["export", "--demo", "-o", demo.to_str().unwrap()]);
    assert!(out.status.success());
    let m = Report::open(&demo).unwrap().metrics;
    assert_eq!((m.origin.as_str(), m.time_to_export_ns), ("demo", None));
    assert!(m.time_to_detect_ns.is_some());
}

/// The HTML page in a real browser (Debian's chromium), when one is installed: it renders
/// with no network (the CSP would block any fetch) and gives a screenshot. Passes with a
/// notice where chromium is not installed.
#[test]
fn the_html_report_renders_in_a_headless_browser() {
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        eprintln!(
            "chromium is not installed: the browser check is skipped (apt-get install chromium)"
        );
        return;
    };
    let report = Report::from_bytes("case.casefile", &bundle()).unwrap();
    let page = temp("browser.html");
    std::fs::write(&page, html::render(&report)).unwrap();
    let shot = temp("browser.png");
    let _ = std::fs::remove_file(&shot);
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,2000",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .env("HOME", temp("chromium-home"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    assert!(png.len() > 20_000, "a blank page? {} bytes", png.len());
}

/// A bundle replayed in the TUI: its marks keep the time they were made, the review's new
/// marks are not triage, and the time to export stays the bundle's.
#[test]
fn a_replayed_bundle_keeps_its_mark_times_and_review_marks_are_not_triage() {
    let path = temp("replayed.casefile");
    std::fs::write(&path, bundle()).unwrap();
    let (loaded, opened) = casefile::bundle::open::load(&path).unwrap();
    let mut app = casefile::app::App::new(
        loaded,
        casefile::ui::keymap::Keymap::load_strict("default", None, 0).unwrap(),
        casefile::ui::theme::Theme::load_strict("dark", None).unwrap(),
        Query::default(),
        (120, 40),
    );
    app.restore_case(&opened);
    assert_eq!(
        app.marks.get(8).unwrap().marked_at,
        Some(t("2026-11-20T12:31:15.25Z"))
    );
    assert_eq!(
        app.marks.origin,
        Origin::Replay {
            exported_at: t("2026-11-20T13:00:00Z")
        }
    );
    // Three days later, in the review.
    app.marks.toggle_star_at(7, t("2026-11-23T09:00:00Z"));
    while app.busy() {
        app.tick();
    }
    let m = casefile::ui::case_metrics::for_app(&app);
    assert_eq!(m.time_to_detect_ns, Some(595_500_000_000));
    assert_eq!(m.time_to_triage_ns, Some(675_250_000_000));
    assert_eq!(m.time_to_export_ns, Some(2_995_500_000_000));
    assert!(m
        .notes
        .iter()
        .any(|n| n.starts_with("1 mark made in the review")));
}
