//! Case bundles: round trip, byte-identical exports, every change detected and named, hostile
//! bundles refused before anything is decoded, secrets never written, and an interrupted
//! export never leaving a file under the target name.

use casefile::app::marks::Mark;
use casefile::bundle::export::{build, Case};
use casefile::bundle::format::{self, Manifest, PivotHistory, Selection};
use casefile::bundle::open::{self, Opened};
use casefile::bundle::redact::Redactor;
use casefile::bundle::tar_io;
use casefile::correlate::chains::{find, Rules};
use casefile::store::Query;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

const CREATED: i64 = 1_795_000_000;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("casefile-bundle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The demo as a bundle, with two marks and a pivot history, and the chains found.
fn demo_bundle() -> (Vec<u8>, casefile::load::Loaded, Vec<u32>) {
    let loaded = casefile::demo::load();
    let positions = loaded.store.select(&Query::default());
    let chains = find(&loaded.store, &positions, &Rules::default_rules());
    let case = Case {
        store: &loaded.store,
        positions: &positions,
        series: loaded.store.select_series(&Query::default()),
        reports: &loaded.reports,
        selection: Selection::default(),
        history: PivotHistory {
            steps: vec![vec![], vec!["user=mallory".into()]],
            at: 1,
        },
        marks: vec![
            (
                positions[10],
                Mark {
                    star: true,
                    tags: vec!["brute".into()],
                    note: "first look".into(),
                    marked_at: None,
                },
            ),
            (
                positions[4000],
                Mark {
                    star: false,
                    tags: vec![],
                    note: "a note".into(),
                    marked_at: None,
                },
            ),
        ],
        chains: &chains,
        alerts: Vec::new(),
        origin: Default::default(),
    };
    let (bytes, _) = build(&case, CREATED, &Redactor::default(), None, &mut |_, _| true)
        .unwrap()
        .unwrap();
    (bytes, loaded, positions)
}

fn check_bytes(bytes: &[u8], name: &str) -> Result<Opened, tar_io::Refusal> {
    let path = temp(name);
    std::fs::write(&path, bytes).unwrap();
    open::check(&path)
}

#[test]
fn a_bundle_replays_exactly_what_was_exported() {
    let (bytes, loaded, positions) = demo_bundle();
    let path = temp("roundtrip.casefile");
    std::fs::write(&path, &bytes).unwrap();
    let (replayed, opened) = open::load(&path).unwrap();
    assert_eq!(replayed.store.len(), positions.len());
    for (i, pos) in positions.iter().enumerate() {
        let a = loaded.store.get(*pos).unwrap().to_event();
        let b = replayed.store.get(i as u32).unwrap().to_event();
        assert_eq!(a, b, "record {i}");
        assert_eq!(replayed.store.id_at(i as u32), Some(i as u32));
    }
    assert_eq!(replayed.store.series(), loaded.store.series());
    assert_eq!(opened.marks.len(), 2);
    assert_eq!(opened.marks[0].seq, 10);
    assert_eq!(opened.marks[0].note, "first look");
    assert_eq!(opened.manifest.pivot_history.steps[1], ["user=mallory"]);
    assert_eq!(opened.manifest.counts.events, positions.len() as u64);
    // The chains come back with their steps on the same events.
    let chains = find(&loaded.store, &positions, &Rules::default_rules());
    assert_eq!(opened.chains.len(), chains.len());
    for (c, r) in chains.iter().zip(&opened.chains) {
        let steps: Vec<u64> = c.steps.iter().map(|s| s.pos as u64).collect();
        let replayed_steps: Vec<u64> = r.steps.iter().map(|s| s.seq).collect();
        assert_eq!(steps, replayed_steps);
    }
    // The same sources, with their queries.
    let names: Vec<&str> = opened
        .manifest
        .sources
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "falco-prod",
            "loki-prod",
            "es-prod",
            "k8s-audit-prod",
            "wazuh-prod",
            "prom-prod"
        ]
    );
}

#[test]
fn the_same_case_exported_twice_is_byte_identical() {
    let (a, ..) = demo_bundle();
    let (b, ..) = demo_bundle();
    assert!(a == b, "two exports differ");
    // Series that arrived in another order (parallel source tasks) give the same bytes.
    let loaded = casefile::demo::load();
    let positions = loaded.store.select(&Query::default());
    let export = |series: Vec<&casefile::model::Series>| {
        let case = Case {
            store: &loaded.store,
            positions: &positions,
            series,
            reports: &loaded.reports,
            selection: Selection::default(),
            history: PivotHistory::default(),
            marks: Vec::new(),
            chains: &[],
            alerts: Vec::new(),
            origin: Default::default(),
        };
        build(&case, CREATED, &Redactor::default(), None, &mut |_, _| true)
            .unwrap()
            .expect("not stopped")
            .0
    };
    let forward = loaded.store.select_series(&Query::default());
    let mut backward = forward.clone();
    backward.reverse();
    assert!(
        export(forward) == export(backward),
        "series order leaks into the bytes"
    );
    // From the command line too, with SOURCE_DATE_EPOCH pinning the creation time.
    let run = |out: &Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_casefile"))
            .args(["export", "--demo", "--pivot", "pod=api-7d9f-x2k4q", "-o"])
            .arg(out)
            .env("SOURCE_DATE_EPOCH", CREATED.to_string())
            .env("XDG_CONFIG_HOME", temp("noconfig"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out).unwrap()
    };
    let (x, y) = (run(&temp("cli-a.casefile")), run(&temp("cli-b.casefile")));
    assert!(x == y, "two command-line exports differ");
    let opened = open::check(&temp("cli-a.casefile")).unwrap();
    assert_eq!(opened.manifest.created_at, "2026-11-18T11:06:40Z");
    assert_eq!(opened.manifest.selection.pivots, ["pod=api-7d9f-x2k4q"]);
}

#[test]
fn any_changed_byte_is_detected_and_the_member_named() {
    let (bytes, ..) = demo_bundle();
    let layout = tar_io::scan(&mut std::io::Cursor::new(&bytes)).unwrap();
    let member_at = |pos: usize| {
        layout
            .iter()
            .find(|m| (m.offset as usize..(m.offset + m.size) as usize).contains(&pos))
            .map(|m| m.name.clone())
    };
    // A sample of positions across the whole file: 120 spread evenly, and the first and last
    // bytes of each member's data. (Every byte outside member data is tried in tar_io's
    // own test.)
    let mut positions: Vec<usize> = (0..bytes.len()).step_by(bytes.len() / 120).collect();
    for m in &layout {
        if m.size > 0 {
            positions.push(m.offset as usize);
            positions.push((m.offset + m.size - 1) as usize);
        }
    }
    positions.push(bytes.len() - 1);
    let mut named = 0;
    for pos in positions {
        let mut changed = bytes.clone();
        changed[pos] ^= 0x01;
        let refusal = match check_bytes(&changed, "changed.casefile") {
            Ok(_) => panic!("a change at byte {pos} went unnoticed"),
            Err(r) => r,
        };
        if let Some(name) = member_at(pos) {
            let blamed = refusal.member.as_deref().unwrap_or("");
            let fair =
                blamed == name || (name == format::MANIFEST_SUM && blamed == format::MANIFEST);
            assert!(fair, "byte {pos} is in {name}, the refusal says {refusal}");
            named += 1;
        }
    }
    assert!(named > 80, "{named}");
    // From the command line: exit 1, the member named.
    let mut changed = bytes.clone();
    let events = layout.iter().find(|m| m.name == format::EVENTS).unwrap();
    changed[(events.offset + events.size / 2) as usize] ^= 0x40;
    let path = temp("changed-cli.casefile");
    std::fs::write(&path, &changed).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("not intact: events.jsonl.gz"), "{out}");
    std::fs::write(&path, &bytes).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("intact: "));
}

/// The members of a bundle, by name, in order.
fn members(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut cur = std::io::Cursor::new(bytes);
    tar_io::scan(&mut cur)
        .unwrap()
        .iter()
        .map(|m| (m.name.clone(), tar_io::read_member(&mut cur, m).unwrap()))
        .collect()
}

/// A bundle from members, with the manifest's sizes and digests made to match them (what a
/// careful forger would do), so only what the test changed is wrong.
fn assemble(mut parts: Vec<(String, Vec<u8>)>) -> Vec<u8> {
    let mut manifest: Manifest = serde_json::from_slice(&parts[0].1).unwrap();
    for entry in &mut manifest.members {
        if let Some((_, data)) = parts.iter().find(|(n, _)| *n == entry.name) {
            entry.size = data.len() as u64;
            entry.sha256 = format::sha256_hex(data);
        }
    }
    parts[0].1 = serde_json::to_vec_pretty(&manifest).unwrap();
    parts[1].1 = format!("{}  manifest.json\n", format::sha256_hex(&parts[0].1)).into_bytes();
    write_members(&parts, CREATED as u64)
}

/// A tar of these members, as casefile writes one, with this time in every header.
fn write_members(parts: &[(String, Vec<u8>)], mtime: u64) -> Vec<u8> {
    let refs: Vec<(&str, &[u8])> = parts
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let mut out = Vec::new();
    tar_io::write(&mut out, &refs, mtime).unwrap();
    out
}

fn gz(text: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text).unwrap();
    enc.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn removed_reordered_or_edited_records_are_named_even_when_the_digests_are_forged() {
    let (bytes, ..) = demo_bundle();
    let parts = members(&bytes);
    assert!(check_bytes(&assemble(parts.clone()), "reassembled.casefile").is_ok());
    let events = String::from_utf8(gunzip(&parts[2].1)).unwrap();
    let lines: Vec<&str> = events.lines().collect();
    let rebuild = |lines: &[String]| {
        let mut p = parts.clone();
        p[2].1 = gz((lines.join("\n") + "\n").as_bytes());
        assemble(p)
    };
    let owned: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    // An edited record.
    let mut edited = owned.clone();
    edited[1234] = edited[1234].replacen("\"title\":\"", "\"title\":\"innocent ", 1);
    let r = check_bytes(&rebuild(&edited), "edited.casefile").unwrap_err();
    assert_eq!(r.member.as_deref(), Some(format::EVENTS));
    assert!(
        r.reason.contains("record 1234") && r.reason.contains("was changed"),
        "{r}"
    );
    // Two records swapped.
    let mut swapped = owned.clone();
    swapped.swap(2000, 2001);
    let r = check_bytes(&rebuild(&swapped), "swapped.casefile").unwrap_err();
    assert!(
        r.reason.contains("record 2000") && r.reason.contains("sequence number 2001"),
        "{r}"
    );
    // One removed from the middle, and the last one removed.
    let mut removed = owned.clone();
    removed.remove(3000);
    let r = check_bytes(&rebuild(&removed), "removed.casefile").unwrap_err();
    assert!(r.reason.contains("record 3000"), "{r}");
    let mut short = owned.clone();
    short.pop();
    let r = check_bytes(&rebuild(&short), "short.casefile").unwrap_err();
    assert!(r.reason.contains("removed or added at the end"), "{r}");
    // An edit without forging: the member's digest says so, and names the record.
    let mut p = parts.clone();
    p[2].1 = gz((edited.join("\n") + "\n").as_bytes());
    let out = write_members(&p, CREATED as u64);
    let r = check_bytes(&out, "unforged.casefile").unwrap_err();
    assert!(r.reason.contains("record 1234"), "{r}");
}

#[test]
fn deleted_duplicated_and_reordered_members_are_refused() {
    let (bytes, ..) = demo_bundle();
    let parts = members(&bytes);
    let write = |parts: &[(String, Vec<u8>)]| write_members(parts, CREATED as u64);
    let mut deleted = parts.clone();
    deleted.remove(4); // marks.json
    let r = check_bytes(&write(&deleted), "deleted.casefile").unwrap_err();
    assert!(
        r.to_string()
            .contains("chains.json: is out of its place (expected marks.json)"),
        "{r}"
    );
    let mut last_gone = parts.clone();
    last_gone.pop();
    let r = check_bytes(&write(&last_gone), "lastgone.casefile").unwrap_err();
    assert_eq!(r.to_string(), "chains.json: is missing");
    let mut reordered = parts.clone();
    reordered.swap(2, 3);
    let r = check_bytes(&write(&reordered), "reordered.casefile").unwrap_err();
    assert!(
        r.to_string()
            .starts_with("series.jsonl.gz: is out of its place"),
        "{r}"
    );
    let mut duplicated = parts.clone();
    duplicated.push(parts[5].clone());
    let r = check_bytes(&write(&duplicated), "dup.casefile").unwrap_err();
    assert!(r.to_string().contains("chains.json: appears twice"), "{r}");
}

/// A tar written with the tar crate's own builder, as an attacker would.
fn hostile(entries: &[(&str, tar::EntryType, u64, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, kind, size, data) in entries {
        let mut h = tar::Header::new_gnu();
        // Write the name bytes raw: set_path refuses `..`, an attacker's tool does not.
        let raw = h.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(*size);
        h.set_mode(0o644);
        h.set_entry_type(*kind);
        if *kind == tar::EntryType::Symlink {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.extend(std::iter::repeat_n(0u8, (512 - data.len() % 512) % 512));
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

#[test]
fn hostile_bundles_are_refused_before_anything_is_decoded() {
    let regular = tar::EntryType::Regular;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            hostile(&[("../../etc/cron.d/evil", regular, 4, b"boom")]),
            "../../etc/cron.d/evil: is not a member of a case bundle",
        ),
        (
            hostile(&[("/etc/passwd", regular, 4, b"boom")]),
            "/etc/passwd: is not a member of a case bundle",
        ),
        (
            hostile(&[("manifest.json", tar::EntryType::Symlink, 0, b"")]),
            "manifest.json: is a Symlink, not a regular file",
        ),
        (
            hostile(&[("manifest.json", regular, 10_000_000_000, b"")]),
            "manifest.json: declares 10000000000 bytes",
        ),
        (
            hostile(&[("manifest.json", tar::EntryType::Directory, 0, b"")]),
            "manifest.json: is a Directory",
        ),
    ];
    for (bytes, says) in cases {
        let r = check_bytes(&bytes, "hostile.casefile").unwrap_err();
        assert!(r.to_string().starts_with(says), "{r} (expected {says})");
    }
    // A member of 10 GB declared in the right place, after a valid manifest.
    let (bytes, ..) = demo_bundle();
    let parts = members(&bytes);
    let mut big = Vec::new();
    tar_io::write(
        &mut big,
        &[
            (format::MANIFEST, &parts[0].1),
            (format::MANIFEST_SUM, &parts[1].1),
        ],
        CREATED as u64,
    )
    .unwrap();
    big.truncate(big.len() - 1024);
    big.extend_from_slice(&tar_io::header(format::EVENTS, 10_000_000_000, CREATED as u64).unwrap());
    big.extend_from_slice(&[0u8; 1024]);
    let r = check_bytes(&big, "big.casefile").unwrap_err();
    assert!(
        r.to_string()
            .starts_with("events.jsonl.gz: declares 10000000000 bytes"),
        "{r}"
    );
}

#[test]
fn a_compression_bomb_is_refused_even_with_a_matching_manifest() {
    let (bytes, ..) = demo_bundle();
    let mut parts = members(&bytes);
    // 16 MiB of zeros compress to about 16 KiB: far past the expansion bound.
    parts[3].1 = gz(&vec![0u8; 16 << 20]);
    let r = check_bytes(&assemble(parts), "bomb.casefile").unwrap_err();
    assert!(
        r.to_string().starts_with("series.jsonl.gz: expands beyond"),
        "{r}"
    );
    assert!(r.to_string().contains("compression bomb"), "{r}");
}

/// Whether `text` is anywhere in a bundle's bytes: the file as written, or any member,
/// decompressed.
fn written_anywhere(bundle: &[u8], text: &str) -> bool {
    let found = |t: &[u8]| t.windows(text.len()).any(|w| w == text.as_bytes());
    found(bundle)
        || members(bundle).into_iter().any(|(name, data)| {
            if name.ends_with(".gz") {
                found(&gunzip(&data))
            } else {
                found(&data)
            }
        })
}

#[test]
fn no_seeded_secret_reaches_the_written_file() {
    let secrets = [
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12",
        "hvs.CAESIJlU2pBqZ3k8s9aB7cD6eF5gH4",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "hunter2-Sup3rSecret",
        "dXNlcjpwYXNzd29yZA==",
        "p4ssw0rd-in-url",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        "AIzaSyDq3xV9kLm2Np4Qr7St8Uv0Wx1Yz5Ab6Cd",
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
        "sv2021sigXq7Zk3PLmN0aB1cD2eF3gH4iJ5",
        "xoxb-2837465019-Abc123Def456Ghi789",
        "sessionid=8f14e45fceea167a5a36dedd4bea2543",
        "MIIEowIBAAKCAQEA7xv2Hq9seededPrivateKeyBodyLine2wq",
        "t1ck3t-0042-internal",
    ];
    let lines = [
        format!(
            "curl -H 'Authorization: Basic {}' https://api/x",
            secrets[5]
        ),
        format!("mysql -u root --password={} prod", secrets[4]),
        format!(
            "git clone https://deploy:{}@git.example.com/app.git",
            secrets[6]
        ),
        format!("export AWS_ACCESS_KEY_ID={}", secrets[0]),
        format!("aws_secret_access_key={}", secrets[1]),
        format!("vault login {}", secrets[2]),
        format!("GITHUB_TOKEN={} make release", secrets[3]),
        format!(
            "curl -H 'Authorization: Bearer {}' https://api/y",
            secrets[7]
        ),
        format!("gcloud --api-key-file=/dev/null; curl https://maps.googleapis.com/x?key={}", secrets[8]),
        format!(
            "az storage blob list --connection-string 'DefaultEndpointsProtocol=https;AccountName=prod;AccountKey={};EndpointSuffix=core.windows.net'",
            secrets[9]
        ),
        format!("curl 'https://prod.blob.core.windows.net/c/b?sv=2021-06-08&sig={}'", secrets[10]),
        format!("slack-notify --channel ops {}", secrets[11]),
        format!("curl -H 'Cookie: {}' https://app/admin", secrets[12]),
        format!(
            "echo '-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----' > /tmp/k",
            secrets[13]
        ),
        // Only the user's own rule (redact.toml in the config directory) knows this one.
        format!("deploy --ticket TKT:{}", secrets[14]),
    ];
    let mut input = String::new();
    for (i, cmd) in lines.iter().enumerate() {
        let record = serde_json::json!({
            "time": format!("2026-11-20T13:{i:02}:00.000000000Z"),
            "rule": "Suspicious command",
            "priority": "Warning",
            "output": format!("13:{i:02}:00: Warning Suspicious command (cmdline={cmd})"),
            "output_fields": {"proc.cmdline": cmd, "proc.name": "sh", "proc.pid": 100 + i,
                              "container.id": "5f2c1a9b3d4e", "user.name": "root"},
            "tags": ["T1552"]
        });
        input.push_str(&record.to_string());
        input.push('\n');
    }
    let falco = temp("secrets.jsonl");
    std::fs::write(&falco, input).unwrap();
    let out = temp("secrets.casefile");
    let config = temp("redact-config");
    std::fs::create_dir_all(config.join("casefile")).unwrap();
    std::fs::write(
        config.join("casefile/redact.toml"),
        "[[rule]]\nname = \"ticket\"\npattern = '''TKT:(?P<secret>[a-z0-9-]+)'''\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(["export", "--falco"])
        .arg(&falco)
        .arg("-o")
        .arg(&out)
        .env("XDG_CONFIG_HOME", &config)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&out).unwrap();
    for secret in secrets {
        assert!(!written_anywhere(&bytes, secret), "{secret} was written");
    }
    let opened = open::check(&out).unwrap();
    assert_eq!(
        opened.events.len(),
        lines.len(),
        "every seeded command is exported (a skipped one would hide its secret)"
    );
    let total: u64 = opened.manifest.redacted.values().sum();
    assert!(
        total >= secrets.len() as u64,
        "{:?}",
        opened.manifest.redacted
    );
    // Counted by rule, the user's among them; never the values.
    for rule in [
        "gcp-api-key",
        "azure-storage-key",
        "azure-sas-signature",
        "slack-token",
        "cookie",
        "private-key",
        "ticket",
    ] {
        assert!(
            opened.manifest.redacted.get(rule).is_some_and(|n| *n > 0),
            "{rule}: {:?}",
            opened.manifest.redacted
        );
    }
    // The commands are still there, with the secret's place marked.
    assert!(opened
        .events
        .iter()
        .any(|e| e.message.contains("--password=[REDACTED:")));
}

#[test]
fn credentials_of_a_source_never_reach_the_bundle() {
    // A Loki with a password in its URL and a token in the environment; it refuses the
    // connection, and the Falco file beside it is exported (exit 3: a source failed).
    let falco = concat!(env!("CARGO_MANIFEST_DIR"), "/demo-data/falco.jsonl");
    let out = temp("creds.casefile");
    let o = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args([
            "export",
            "--loki",
            "http://alice:Pa55-in-the-url@127.0.0.1:9/",
            "--logql",
            "{job=\"sshd\"}",
            "--falco",
        ])
        .arg(falco)
        .arg("-o")
        .arg(&out)
        .env("XDG_CONFIG_HOME", temp("noconfig"))
        .env("LOKI_BEARER_TOKEN", "tok-from-the-environment-77")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let bytes = std::fs::read(&out).unwrap();
    for secret in ["Pa55-in-the-url", "alice", "tok-from-the-environment-77"] {
        assert!(!written_anywhere(&bytes, secret), "{secret} was written");
    }
    // The source and its query are recorded, without the credentials.
    let opened = open::check(&out).unwrap();
    let loki = opened
        .manifest
        .sources
        .iter()
        .find(|s| s.kind == "loki")
        .expect("the Loki source is recorded");
    assert_eq!(loki.query, "{job=\"sshd\"}");
}

#[test]
fn an_interrupted_export_never_leaves_a_file_under_the_target_name() {
    let dir = temp("atomic");
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("case.casefile");
    // Killed at many moments: loading, building, writing. Each time the target is either
    // absent or a whole bundle that verifies.
    let mut absent = 0;
    for delay_ms in [0u64, 5, 15, 30, 60, 100, 150, 250, 400, 600] {
        let _ = std::fs::remove_file(&target);
        let mut child = Command::new(env!("CARGO_BIN_EXE_casefile"))
            .args(["export", "--demo", "-o"])
            .arg(&target)
            .env("XDG_CONFIG_HOME", temp("noconfig"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        if target.exists() {
            assert!(
                open::check(&target).is_ok(),
                "a partial bundle after {delay_ms} ms"
            );
        } else {
            absent += 1;
        }
    }
    assert!(
        absent > 0,
        "no kill landed before the end: the test proves nothing"
    );
}

fn casefile(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(args)
        .env("XDG_CONFIG_HOME", temp("noconfig"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    (o.status.code().unwrap_or(-1), text)
}

#[test]
fn a_signed_bundle_verifies_with_its_key_and_no_other() {
    let dir = temp("keys");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["mine", "theirs"] {
        let _ = std::fs::remove_file(dir.join(format!("{name}.key")));
        let _ = std::fs::remove_file(dir.join(format!("{name}.pub")));
    }
    let p = |s: &str| dir.join(s).to_str().unwrap().to_string();
    let (code, out) = casefile(&["keygen", &p("mine")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("casefile-ed25519-public "), "{out}");
    assert_eq!(casefile(&["keygen", &p("theirs")]).0, 0);
    // A key pair is never overwritten.
    let (code, out) = casefile(&["keygen", &p("mine")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("exists: not overwritten"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("mine.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the secret key is readable by others: {mode:o}"
        );
    }
    let signed = p("signed.casefile");
    let (code, out) = casefile(&["export", "--demo", "--sign", &p("mine.key"), "-o", &signed]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = casefile(&["verify", &signed, "--pubkey", &p("mine.pub")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("signed by "), "{out}");
    let (code, out) = casefile(&["verify", &signed, "--pubkey", &p("theirs.pub")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("signature.ed25519: signed by") && out.contains("not by the key given"),
        "{out}"
    );
    // Unsigned, when a signature is asked for.
    let unsigned = p("unsigned.casefile");
    assert_eq!(casefile(&["export", "--demo", "-o", &unsigned]).0, 0);
    let (code, out) = casefile(&["verify", &unsigned, "--pubkey", &p("mine.pub")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("it is not signed"), "{out}");
    // A forger who rewrites the manifest and its checksum cannot keep the signature.
    let bytes = std::fs::read(&signed).unwrap();
    let mut parts = members(&bytes);
    let mut manifest: Manifest = serde_json::from_slice(&parts[0].1).unwrap();
    manifest.tool = "casefile 9.9.9".into();
    parts[0].1 = serde_json::to_vec_pretty(&manifest).unwrap();
    parts[1].1 = format!("{}  manifest.json\n", format::sha256_hex(&parts[0].1)).into_bytes();
    let created: u64 = tar_io::scan(&mut std::io::Cursor::new(&bytes)).unwrap()[0].mtime;
    let forged = write_members(&parts, created);
    let r = check_bytes(&forged, "forged.casefile").unwrap_err();
    assert_eq!(r.member.as_deref(), Some(format::SIGNATURE));
    assert!(r.reason.contains("does not verify"), "{r}");
}

#[test]
fn forgeries_found_in_review_are_refused() {
    let (bytes, ..) = demo_bundle();
    let parts = members(&bytes);
    // A manifest that counts 2^64-1 events: refused, no panic, no huge allocation.
    let mut huge = parts.clone();
    let mut manifest: Manifest = serde_json::from_slice(&huge[0].1).unwrap();
    manifest.counts.events = u64::MAX;
    huge[0].1 = serde_json::to_vec_pretty(&manifest).unwrap();
    let r = check_bytes(&assemble(huge), "huge.casefile").unwrap_err();
    assert!(
        r.reason.contains("records where the manifest counts"),
        "{r}"
    );
    // Every header's time rewritten alike (checksums right): the manifest's created_at says no.
    let retimed = write_members(&parts, CREATED as u64 + 3600);
    let r = check_bytes(&retimed, "retimed.casefile").unwrap_err();
    assert!(r.reason.contains("created_at is not the time"), "{r}");
    // A second gzip stream after the event log's: zcat would show it, so it is refused.
    let mut appended = parts.clone();
    let mut extra = appended[2].1.clone();
    extra.extend(gz(b"{\"seq\":6041}\n"));
    appended[2].1 = extra;
    let r = check_bytes(&assemble(appended), "appended.casefile").unwrap_err();
    assert!(r.reason.contains("bytes after its gzip stream"), "{r}");
}

#[test]
fn a_signature_spelled_any_other_way_is_refused() {
    let key = casefile::bundle::sign::generate().unwrap();
    let (bytes, ..) = demo_bundle();
    let mut parts = members(&bytes);
    let sig = casefile::bundle::sign::signature_member(&key, &parts[0].1);
    parts.push((format::SIGNATURE.to_string(), sig.clone()));
    let write = |parts: &[(String, Vec<u8>)]| write_members(parts, CREATED as u64);
    let opened = check_bytes(&write(&parts), "signed.casefile").unwrap();
    assert_eq!(opened.signed_by, Some(key.verifying_key()));
    let text = String::from_utf8(sig).unwrap();
    for variant in [
        text.replacen(' ', "\t", 1),
        text.replace('\n', "\r\n"),
        format!(" {}", text.trim_end()) + "\n",
        text.to_uppercase().replacen("ED25519", "ed25519", 1),
    ] {
        let mut p = parts.clone();
        p.last_mut().unwrap().1 = variant.clone().into_bytes();
        let r = check_bytes(&write(&p), "respelled.casefile").unwrap_err();
        assert!(
            r.to_string().starts_with("signature.ed25519:"),
            "{variant:?}: {r}"
        );
    }
}

/// A Falco file rewritten after it was loaded: its raw records cannot be read back, and an
/// export says so instead of writing a bundle without them.
#[test]
fn an_export_stops_when_a_raw_record_cannot_be_read_back() {
    let path = temp("rewritten.jsonl");
    let line = r#"{"time":"2026-11-20T12:00:01Z","rule":"Terminal shell in container","priority":"Notice","output":"o","output_fields":{"user.name":"u"}}"#;
    std::fs::write(&path, format!("{line}\n")).unwrap();
    let mut loaded = casefile::load::Loaded::default();
    casefile::load::falco_input(
        &mut loaded,
        path.to_str().unwrap(),
        &casefile::sources::EntityTable::falco(),
        None,
    )
    .unwrap();
    let positions = loaded.store.select(&Query::default());
    let case = |loaded: &casefile::load::Loaded| -> Result<Vec<u8>, String> {
        let case = Case {
            store: &loaded.store,
            positions: &positions,
            series: Vec::new(),
            reports: &loaded.reports,
            selection: Selection::default(),
            history: PivotHistory::default(),
            marks: Vec::new(),
            chains: &[],
            alerts: Vec::new(),
            origin: Default::default(),
        };
        build(&case, CREATED, &Redactor::default(), None, &mut |_, _| true)
            .map(|built| built.expect("not stopped").0)
    };
    // Read back intact: the bundle holds the record itself.
    let out = temp("rewritten.casefile");
    std::fs::write(&out, case(&loaded).unwrap()).unwrap();
    let (reloaded, _) = open::load(&out).unwrap();
    assert_eq!(reloaded.store.get(0).unwrap().raw_checked().unwrap(), line);
    // Rewritten in place: the export fails and names the event and the file.
    std::fs::write(&path, format!("{}\n", line.replace("shell", "SHELL"))).unwrap();
    let err = case(&loaded).unwrap_err();
    assert!(
        err.contains("cannot be exported") && err.contains("changed since it was loaded"),
        "{err}"
    );
    let _ = std::fs::remove_file(&path);
}

/// BUNDLE.md's recipe for auditing a bundle without casefile (tar, sha256sum, jq, zcat), run
/// as written on an exported bundle.
#[test]
fn the_bundle_md_recipe_audits_a_bundle_with_standard_tools() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/BUNDLE.md")).unwrap();
    let recipe: String = doc
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("BUNDLE.md's first sh block")
        .to_string();
    let has_jq = Command::new("sh")
        .args(["-c", "command -v jq"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_jq {
        assert!(
            std::env::var_os("CI").is_none(),
            "jq is missing under CI: .ci/run installs it"
        );
        eprintln!("notice: jq is not installed; BUNDLE.md's recipe not run");
        return;
    }
    let dir = temp("recipe");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (code, text) = casefile(&[
        "export",
        "--demo",
        "--pivot",
        "pod=api-7d9f-x2k4q",
        "-o",
        dir.join("CASE.casefile").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    // As a reader runs it: a failing step stops it; `head` ends the last pipeline early, so
    // no pipefail.
    let out = Command::new("bash")
        .args(["-eu", "-c", &recipe])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for member in [
        "manifest.json",
        "events.jsonl.gz",
        "series.jsonl.gz",
        "marks.json",
        "chains.json",
    ] {
        assert!(
            stdout.contains(&format!("{member}: OK")),
            "{member}\n{stdout}"
        );
    }
    // The last step lists events as JSON: their time, source and title.
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 10, "{stdout}");
    assert!(events
        .iter()
        .all(|e| e["ts"].is_u64() && e["title"].is_string()));
    // A changed byte in a member fails the same recipe.
    let mut bytes = std::fs::read(dir.join("CASE.casefile")).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(dir.join("CASE.casefile"), bytes).unwrap();
    let _ = std::fs::remove_dir_all(dir.join("case"));
    let bad = Command::new("bash")
        .args(["-eu", "-c", &recipe])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!bad.status.success(), "the recipe passed a changed bundle");
}

/// A container pivot meets no series label; the export writes the series of the container's
/// pod, as the TUI's strips show them.
#[test]
fn a_container_pivot_exports_its_pod_s_series() {
    let out = temp("container-series.casefile");
    let (code, text) = casefile(&[
        "export",
        "--demo",
        "--pivot",
        "container=5f2c1a9b3d4e",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    let opened = open::check(&out).unwrap();
    assert_eq!(opened.series.len(), 2, "{text}");
    assert!(opened
        .series
        .iter()
        .all(|s| s.labels.get("pod").map(String::as_str) == Some("api-7d9f-x2k4q")));
}
