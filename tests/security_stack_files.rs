//! Wazuh, Sysdig and Kubernetes audit files (issue 8) on upstream examples: what each record
//! becomes, which fields feed which entity, and the real binary reading them, stdin included.

use casefile::model::{EntityKey, Event, EventKind, Severity, SourceKind};
use casefile::sources::{k8s_audit, sysdig, wazuh, EntityTable, Parsed};
use std::time::Duration;

mod support;
use support::http_server::{fixture, run_casefile};

fn entities(e: &Event, key: EntityKey) -> Vec<&str> {
    e.entities.values(key).collect()
}

fn wazuh_file(path: &str) -> Parsed {
    let text = fixture(path);
    let (parsed, err) = wazuh::parse_lines(text.as_bytes(), "wazuh", &EntityTable::wazuh());
    assert!(err.is_none());
    parsed
}

/// A pretty-printed fixture as the single line a log holds.
fn one_line(path: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&fixture(path)).unwrap();
    v.to_string()
}

#[test]
fn wazuh_sshd_authentication_failures() {
    let p = wazuh_file("wazuh/dashboard_plugins_sample_alerts_sshd.ndjson");
    assert_eq!((p.events.len(), p.skipped.skipped), (3, 0));
    let e = &p.events[0];
    assert_eq!(e.source, SourceKind::Wazuh);
    assert_eq!(e.kind, EventKind::Alert);
    assert_eq!(e.ts.to_rfc3339(), "2020-04-17T00:17:53.159000000Z");
    assert_eq!(e.severity, Severity::Warning);
    assert_eq!(e.title, "sshd: authentication failed.");
    assert!(e
        .message
        .contains("Failed password for root from 49.88.112.73"));
    assert_eq!(entities(e, EntityKey::User), ["root"]);
    assert_eq!(entities(e, EntityKey::Ip), ["49.88.112.73"]);
    assert_eq!(entities(e, EntityKey::Host), ["Debian", "ip-10-0-1-50"]);
    assert_eq!(
        entities(e, EntityKey::Rule),
        ["5716", "sshd: authentication failed."]
    );
    assert!(e.tags.contains(&"authentication_failed".to_string()));
    // The invalid user of 5710 is the source user; level 10 is high.
    assert_eq!(entities(&p.events[1], EntityKey::User), ["admin"]);
    assert_eq!(p.events[2].severity, Severity::Error);
    assert_eq!(
        e.raw,
        fixture("wazuh/dashboard_plugins_sample_alerts_sshd.ndjson")
            .lines()
            .next()
            .unwrap()
            .trim()
    );
}

#[test]
fn wazuh_mitre_ids_and_tactics_become_tags_and_offsets_are_honoured() {
    let p = wazuh_file("wazuh/issue_pr19720_alert_5760_sshd_auth_failed_mitre.json");
    let e = &p.events[0];
    // 20:34:17.385-0300 is 23:34:17.385 UTC.
    assert_eq!(e.ts.to_rfc3339(), "2023-10-09T23:34:17.385000000Z");
    for tag in [
        "T1110.001",
        "T1021.004",
        "mitre_credential_access",
        "mitre_lateral_movement",
    ] {
        assert!(e.tags.iter().any(|t| t == tag), "{tag} in {:?}", e.tags);
    }
    assert_eq!(entities(e, EntityKey::User), ["nico"]);
    // An active-response envelope carries the same alert: it reads the same.
    let envelope = wazuh_file("wazuh/issue_pr19720_active_response_envelope_5760.json");
    let mut again = envelope.events[0].clone();
    again.raw = e.raw.clone();
    assert_eq!(&again, e);
}

#[test]
fn wazuh_file_integrity_with_who_data_from_an_indexer_hit() {
    let line = one_line("wazuh/docs_fim_whodata_ebpf_etc_sshd_config_indexer_hit.json");
    let (p, _) = wazuh::parse_lines(line.as_bytes(), "wazuh", &EntityTable::wazuh());
    assert_eq!(p.skipped.skipped, 0, "{:?}", p.skipped);
    let e = &p.events[0];
    assert_eq!(e.title, "Integrity checksum changed: /etc/ssh/sshd_config");
    assert_eq!(e.ts.to_rfc3339(), "2025-04-08T11:31:57.620000000Z");
    // The who-data user changed the file; bash (66474) under sudo did it.
    assert_eq!(entities(e, EntityKey::User), ["root"]);
    assert_eq!(entities(e, EntityKey::Pid), ["66474"]);
    let proc = e.process.as_ref().unwrap();
    assert_eq!(
        (
            proc.pid,
            proc.ppid,
            proc.name.as_deref(),
            proc.parent_name.as_deref()
        ),
        (Some(66474), Some(66473), Some("bash"), Some("sudo"))
    );
    // Hashes before and after are in the message, as Wazuh wrote them.
    assert!(e.message.contains("Old sha256sum was: '3be5039e"));
    assert!(e.message.contains("New sha256sum is : 'ee89357a"));
    assert!(e.tags.iter().any(|t| t == "T1565.001"));
    assert!(e.tags.iter().any(|t| t == "syscheck"));
}

#[test]
fn wazuh_rootcheck_names_its_finding_and_alerts_log_text_is_refused_with_a_hint() {
    let p = wazuh_file("wazuh/issues_rootcheck_alerts.ndjson");
    assert_eq!(p.events.len(), 2);
    assert_eq!(
        p.events[0].title,
        "Host-based anomaly detection event (rootcheck): Trojaned version of file detected."
    );
    assert!(p.events[1].message.contains("'/bin/kill'"));
    let text = wazuh_file("wazuh/docs_rootcheck_alerts_log.txt");
    assert!(text.events.is_empty());
    assert_eq!(text.skipped.skipped, 16);
    assert!(
        text.skipped.samples[0]
            .reason
            .contains("alerts.json, not alerts.log"),
        "{}",
        text.skipped.samples[0].reason
    );
}

#[test]
fn sysdig_json_lines_feed_the_timeline_and_the_process_tree() {
    let text = fixture("sysdig/issue1537_sysdig_j_pc.ndjson");
    let (p, err) = sysdig::parse_lines(text.as_bytes(), "sysdig", &EntityTable::sysdig());
    assert!(err.is_none());
    assert_eq!((p.events.len(), p.skipped.skipped), (3, 0));
    let e = &p.events[1];
    assert_eq!(e.source, SourceKind::Sysdig);
    assert_eq!(e.ts.to_rfc3339(), "2019-11-05T07:31:07.422951087Z");
    assert_eq!(e.title, "bash ioctl");
    assert_eq!(
        e.message,
        "> ioctl fd=255(<f>/dev/pts/0) request=5410 argument=7FFEC05B208C"
    );
    assert_eq!(entities(e, EntityKey::Container), ["4a5765001b52"]);
    assert_eq!(entities(e, EntityKey::Pid), ["21185"]);
    assert_eq!(e.process.as_ref().unwrap().name.as_deref(), Some("bash"));
    // Nanoseconds kept: the two ioctl halves are 1,434 ns apart, as evt.latency says.
    assert_eq!(p.events[2].ts.0 - e.ts.0, 1434);
    // The text output is refused line by line, with the flag that gives JSON.
    let text = fixture("sysdig/wiki_user_guide_default_text_output.txt");
    let (p, _) = sysdig::parse_lines(text.as_bytes(), "sysdig", &EntityTable::sysdig());
    assert_eq!((p.events.len(), p.skipped.skipped), (0, 14));
    assert!(p.skipped.samples[0]
        .reason
        .ends_with("run sysdig with -j for JSON"));
}

fn audit_file(paths: &[&str]) -> Parsed {
    let text: String = paths
        .iter()
        .map(|p| fixture(&format!("k8s-audit/{p}")))
        .collect();
    let (parsed, err) = k8s_audit::parse_lines(text.as_bytes(), "k8s", &EntityTable::k8s_audit());
    assert!(err.is_none());
    parsed
}

#[test]
fn kubernetes_audit_names_execs_rbac_changes_secrets_and_privileged_pods() {
    let p = audit_file(&[
        "falco_trace_exec_pod.json",
        "falco_trace_attach_cluster_admin_role.json",
        "falco_trace_create_secret.json",
        "falco_trace_create_nginx_pod_privileged.json",
        "falco_trace_attach_pod.json",
        "elastic_integrations_audit_v1_metadata.ndjson",
    ]);
    assert_eq!(
        (p.events.len(), p.skipped.skipped),
        (7, 0),
        "{:?}",
        p.skipped
    );
    let titles: Vec<(&str, Severity)> = p
        .events
        .iter()
        .map(|e| (e.title.as_str(), e.severity))
        .collect();
    assert_eq!(
        titles,
        [
            ("exec into pod default/nginx-deployment-7998647bdf-phvq7: bash", Severity::Warning),
            ("RBAC change: create clusterrolebindings some-reader-binding (roleRef ClusterRole cluster-admin)", Severity::Error),
            ("secret create: default/example-secret", Severity::Notice),
            ("privileged pod created: default/nginx-deployment-5cdcc99dbf-rgw6z", Severity::Error),
            ("attach to pod default/nginx-deployment-7998647bdf-phvq7", Severity::Warning),
            ("get pods default/my-pod", Severity::Info),
            ("get leases kube-system/elastic-agent-cluster-test", Severity::Info),
        ]
    );
    let exec = &p.events[0];
    assert_eq!(exec.kind, EventKind::Audit);
    // The v1beta1-era record has only `timestamp` to the second; the received time is finer.
    assert_eq!(exec.ts.to_rfc3339(), "2018-10-26T13:38:34.867116000Z");
    assert_eq!(
        exec.message,
        "minikube-user create pods/exec default/nginx-deployment-7998647bdf-phvq7 -> 101 from 192.168.99.1"
    );
    assert_eq!(entities(exec, EntityKey::User), ["minikube-user"]);
    assert_eq!(
        entities(exec, EntityKey::Pod),
        ["nginx-deployment-7998647bdf-phvq7"]
    );
    assert_eq!(entities(exec, EntityKey::Namespace), ["default"]);
    assert_eq!(entities(exec, EntityKey::Ip), ["192.168.99.1"]);
    // The binding's subject is a user involved, beside the one who made it.
    assert_eq!(
        entities(&p.events[1], EntityKey::User),
        ["minikube", "minikube-user"]
    );
    // A pod's generated name comes from the response; its image from the request.
    let pod = &p.events[3];
    assert_eq!(
        entities(pod, EntityKey::Pod),
        ["nginx-deployment-5cdcc99dbf-rgw6z"]
    );
    assert_eq!(entities(pod, EntityKey::Image), ["nginx"]);
    assert_eq!(
        entities(pod, EntityKey::User),
        ["system:serviceaccount:kube-system:replicaset-controller"]
    );
    // Why it was allowed stays in the raw record: in the message, a binding named in every
    // allowed request would read as an RBAC change to the category rules.
    assert_eq!(
        p.events[6].message,
        "system:serviceaccount:kube-system:elastic-agent get leases kube-system/elastic-agent-cluster-test -> 200 from 67.43.156.1"
    );
}

#[test]
fn kubernetes_audit_denied_requests_and_other_kinds() {
    let denied = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"x","stage":"ResponseComplete","requestURI":"/api/v1/secrets","verb":"list","user":{"username":"mallory"},"sourceIPs":["10.0.8.21"],"objectRef":{"resource":"secrets","apiVersion":"v1"},"responseStatus":{"code":403},"requestReceivedTimestamp":"2026-11-20T13:07:41.903Z","annotations":{"authorization.k8s.io/decision":"forbid"}}
{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}
{"kind":"Event","user":{"username":"x"}}
"#;
    let (p, _) = k8s_audit::parse_lines(denied.as_bytes(), "k8s", &EntityTable::k8s_audit());
    assert_eq!(p.events.len(), 1);
    let e = &p.events[0];
    assert_eq!(e.title, "secret read: list (all namespaces) (denied)");
    assert_eq!(e.severity, Severity::Notice);
    assert!(e.tags.iter().any(|t| t == "denied"));
    let reasons: Vec<&str> = p
        .skipped
        .samples
        .iter()
        .map(|s| s.reason.as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "not an audit event: `kind` is not Event",
            "not an audit event: no `verb`"
        ]
    );
}

#[test]
fn the_binary_reads_each_file_and_reports_what_it_skipped() {
    let dir = std::env::temp_dir().join(format!("casefile-stack-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wazuh = dir.join("alerts.json");
    let mut alerts = fixture("wazuh/dashboard_plugins_sample_alerts_sshd.ndjson");
    alerts.push_str("{\"truncated\n");
    std::fs::write(&wazuh, alerts).unwrap();
    let audit = dir.join("audit.log");
    std::fs::write(&audit, fixture("k8s-audit/falco_trace_exec_pod.json")).unwrap();
    let sysdig = support::http_server::fixture_path("sysdig/issue1537_sysdig_j_pc.ndjson");
    let run = run_casefile(
        &[
            "query",
            "--wazuh",
            wazuh.to_str().unwrap(),
            "--k8s-audit",
            audit.to_str().unwrap(),
            "--sysdig",
            &sysdig,
            "--format",
            "jsonl",
        ],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let sources: Vec<String> = run
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["source"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let count = |s: &str| sources.iter().filter(|x| *x == s).count();
    assert_eq!(
        (count("wazuh"), count("k8s-audit"), count("sysdig")),
        (3, 1, 3)
    );
    assert!(
        run.stderr.contains("skipped 1 malformed record"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("line 4: not JSON"), "{}", run.stderr);
    // Pivots reach the new sources' entities.
    let run = run_casefile(
        &[
            "query",
            "--wazuh",
            wazuh.to_str().unwrap(),
            "--pivot",
            "ip=49.88.112.76",
            "--count",
        ],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(run.stdout.trim(), "1", "{}", run.stderr);
    // Two inputs cannot both be stdin.
    let run = run_casefile(
        &["query", "--wazuh", "-", "--falco", "-"],
        &[],
        Duration::from_secs(30),
    );
    assert_ne!(run.code, Some(0));
    assert!(
        run.stderr.contains("stdin (`-`) can be read only once"),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sysdig_from_stdin_as_a_capture_is_piped() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args([
            "query",
            "--sysdig",
            "-",
            "--pivot",
            "container=78f3b86e006f",
        ])
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("casefile-live-test-no-config"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = fixture("sysdig/issue1537_sysdig_j_pc.ndjson");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(lines[0]["source_name"], "sysdig:stdin");
    assert_eq!(lines[0]["title"], "bash procexit");
    assert_eq!(lines[0]["process"]["pid"], 20945);
    // The raw record is the line, byte for byte.
    assert_eq!(
        lines[0]["raw"],
        serde_json::from_str::<serde_json::Value>(input.lines().next().unwrap()).unwrap()
    );
}

/// An audit line for user `who` at second `s` of 2026-11-20T13:00.
fn audit_line(who: &str, s: u32) -> String {
    format!(
        "{{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"verb\":\"get\",\"user\":{{\"username\":\"{who}\"}},\"objectRef\":{{\"resource\":\"pods\",\"namespace\":\"prod\",\"name\":\"p\"}},\"requestReceivedTimestamp\":\"2026-11-20T13:00:{s:02}Z\"}}\n"
    )
}

#[test]
fn a_followed_audit_log_gives_each_line_once_across_partial_writes_rotation_truncation_and_deletion(
) {
    use casefile::file_sources::LineFormat;
    use casefile::load::SourceReport;
    use casefile::sources::task::{Cancel, SourceMessage};
    use std::io::Write;
    use std::sync::mpsc;

    let dir = std::env::temp_dir().join(format!("casefile-follow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.log");
    std::fs::write(
        &path,
        format!("{}{}", audit_line("a", 1), audit_line("b", 2)),
    )
    .unwrap();
    let (tx, rx) = mpsc::channel::<SourceMessage>();
    let cancel = Cancel::default();
    let worker = {
        let (path, cancel) = (path.clone(), cancel.clone());
        std::thread::spawn(move || {
            let mut report = SourceReport::new("k8s-audit:test", SourceKind::K8sAudit, "test");
            let send = move |m| tx.send(m).is_ok();
            casefile::file_follow::follow(
                &path,
                LineFormat::K8sAudit,
                &casefile::sources::EntityTables::default(),
                0,
                &cancel,
                &mut report,
                &send,
            );
            report
        })
    };
    let mut users: Vec<String> = Vec::new();
    let mut collect_until = |want: usize| {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while users.len() < want && std::time::Instant::now() < deadline {
            if let Ok(SourceMessage::Batch { events, .. }) =
                rx.recv_timeout(Duration::from_millis(100))
            {
                users.extend(events.iter().map(|e| {
                    e.entities
                        .values(EntityKey::User)
                        .next()
                        .unwrap()
                        .to_string()
                }));
            }
        }
        users.clone()
    };
    assert_eq!(collect_until(2), ["a", "b"]);
    // A line written in two halves is read once, when complete.
    let line = audit_line("c", 3);
    let (first, second) = line.split_at(40);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(first.as_bytes()).unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(600));
    f.write_all(second.as_bytes()).unwrap();
    f.write_all(b"{not json\n").unwrap();
    drop(f);
    assert_eq!(collect_until(3), ["a", "b", "c"]);
    // Rotation: the old file's last line, then the new file from its start.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(audit_line("d", 4).as_bytes()).unwrap();
    drop(f);
    std::fs::rename(&path, dir.join("audit.log.1")).unwrap();
    std::fs::write(&path, audit_line("e", 5)).unwrap();
    assert_eq!(collect_until(5), ["a", "b", "c", "d", "e"]);
    // Truncated in place and written again: read from the start.
    std::thread::sleep(Duration::from_millis(600));
    std::fs::write(&path, audit_line("f", 6)).unwrap();
    assert_eq!(collect_until(6), ["a", "b", "c", "d", "e", "f"]);
    // Deleted, then written again: waited for, then read from its start.
    std::fs::remove_file(&path).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    std::fs::write(&path, audit_line("g", 7)).unwrap();
    assert_eq!(collect_until(7), ["a", "b", "c", "d", "e", "f", "g"]);
    cancel.cancel();
    let report = worker.join().unwrap();
    assert_eq!(report.events, 7);
    assert_eq!(report.skipped.skipped, 1);
    // The bad line is named by its number in the file.
    assert_eq!(report.skipped.samples[0].line, 4);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_big_file_is_read_in_pieces_on_every_core_in_order_with_its_line_numbers() {
    use casefile::file_sources::{read_into, LineFormat};
    use casefile::load::Loaded;
    use casefile::store::{Pivot, Query};
    let dir = std::env::temp_dir().join(format!("casefile-pieces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.log");
    // 40,000 lines over three pieces; bad lines in the second and the third.
    let mut text = String::new();
    for i in 0..40_000u32 {
        match i {
            19_999 | 35_000 => text.push_str("{not json\n"),
            _ => text.push_str(&audit_line(
                if i % 4 == 0 { "mallory" } else { "bob" },
                i % 60,
            )),
        }
    }
    std::fs::write(&path, text).unwrap();
    let tables = casefile::sources::EntityTables::default();
    let mut all = Loaded::default();
    read_into(
        &mut all,
        LineFormat::K8sAudit,
        path.to_str().unwrap(),
        &tables,
        None,
    )
    .unwrap();
    let report = &all.reports[0];
    assert_eq!((report.events, report.skipped.skipped), (39_998, 2));
    let lines: Vec<usize> = report.skipped.samples.iter().map(|s| s.line).collect();
    assert_eq!(lines, [20_000, 35_001]);
    assert_eq!(all.store.len(), 39_998);
    // With a query, only its answer is stored; everything is still read and counted.
    let query = Query {
        pivots: vec![Pivot::new(EntityKey::User, "mallory")],
        ..Query::default()
    };
    let mut some = Loaded::default();
    read_into(
        &mut some,
        LineFormat::K8sAudit,
        path.to_str().unwrap(),
        &tables,
        Some(&query),
    )
    .unwrap();
    assert_eq!(some.reports[0].events, 39_998);
    assert_eq!(some.store.len(), all.store.select(&query).len());
    // Every fourth line is mallory's, but for the bad line 35,001.
    assert_eq!(some.store.len(), 9_999);
    std::fs::remove_dir_all(&dir).ok();
}
