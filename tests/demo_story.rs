//! The built-in demo incident, read through the library: it is large, loads cleanly, and its
//! story (demo-data/README.md) is connected across the four sources and happens in causal order.
//!
//! Steps are found by their content (titles, messages, entities), never by position, so a
//! regenerated or re-sorted demo still has to tell the same story.

use casefile::load::Loaded;
use casefile::model::{EntityKey, EventKind, Series, SourceKind, TimeRange, Timestamp};
use casefile::store::{EventRef, Pivot, Query, Store};
use std::collections::BTreeSet;
use std::sync::OnceLock;

mod support;
use support::*;

fn demo() -> &'static Loaded {
    static DEMO: OnceLock<Loaded> = OnceLock::new();
    DEMO.get_or_init(casefile::demo::load)
}

fn store() -> &'static Store {
    &demo().store
}

fn all_events(store: &Store) -> impl Iterator<Item = EventRef<'_>> {
    (0..store.len() as u32).map(move |p| store.get(p).expect("position inside the store"))
}

fn has(e: &EventRef<'_>, key: EntityKey, value: &str) -> bool {
    e.entities().any(|(k, v)| k == key && v == value)
}

fn pivot(s: &str) -> Pivot {
    s.parse()
        .unwrap_or_else(|e| panic!("pivot {s} does not parse: {e}"))
}

fn query(pivots: &[&str]) -> Query {
    Query {
        pivots: pivots.iter().map(|p| pivot(p)).collect(),
        window: TimeRange::ALL,
    }
}

fn sources_of<'a>(events: impl Iterator<Item = EventRef<'a>>) -> BTreeSet<SourceKind> {
    events.map(|e| e.source()).collect()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap_or_else(|| panic!("{s} is not RFC 3339"))
}

fn label<'a>(s: &'a Series, name: &str) -> Option<&'a str> {
    s.labels.get(name).map(String::as_str)
}

#[test]
fn demo_is_large_and_loads_without_skips_or_errors() {
    let loaded = demo();
    let store = &loaded.store;
    assert!(
        store.len() >= 3_000,
        "the demo has only {} events",
        store.len()
    );
    assert_eq!(loaded.total_skipped(), 0, "skipped records in the demo");
    for r in &loaded.reports {
        assert_eq!(r.error, None, "source {} ({}) failed", r.name, r.query);
        assert_eq!(r.skipped.skipped, 0, "source {} skipped records", r.name);
        assert!(
            r.skipped.samples.is_empty(),
            "source {} has skip samples: {:?}",
            r.name,
            r.skipped.samples
        );
        assert!(
            r.events + r.series > 0,
            "source {} ({}) contributed nothing",
            r.name,
            r.query
        );
    }
    // The demo's sources are all there, and the reports add up to what the store holds.
    let kinds: BTreeSet<SourceKind> = loaded.reports.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            SourceKind::Falco,
            SourceKind::Loki,
            SourceKind::Elasticsearch,
            SourceKind::Prometheus,
            SourceKind::Wazuh,
            SourceKind::K8sAudit,
        ]
        .into_iter()
        .collect()
    );
    let reported_events: usize = loaded.reports.iter().map(|r| r.events + r.derived).sum();
    let reported_series: usize = loaded.reports.iter().map(|r| r.series).sum();
    assert_eq!(reported_events, store.len());
    assert_eq!(reported_series, store.series().len());
    let counts = store.counts_by_source();
    for kind in [
        SourceKind::Falco,
        SourceKind::Loki,
        SourceKind::Elasticsearch,
    ] {
        let reported: usize = loaded
            .reports
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.events)
            .sum();
        assert!(reported > 0, "no {kind} events");
        assert_eq!(counts[kind.index()], reported, "{kind} events");
    }
    assert!(store
        .series()
        .iter()
        .all(|s| s.source == SourceKind::Prometheus && !s.samples.is_empty()));

    // README: "Every record falls inside the window 12:30:00–14:00:00" on 2026-11-20.
    let lo = ts("2026-11-20T12:30:00Z");
    let hi = ts("2026-11-20T14:00:00Z");
    for e in all_events(store) {
        assert!(
            e.ts() >= lo && e.ts() <= hi,
            "{} at {} is outside the demo window",
            e.title(),
            e.ts()
        );
    }
    for s in store.series() {
        for (t, _) in &s.samples {
            assert!(*t >= lo && *t <= hi, "{} sample at {t}", s.display_name());
        }
    }
    // The store is in time order.
    let times: Vec<Timestamp> = all_events(store).map(|e| e.ts()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn mallory_connects_sshd_logins_in_loki_with_the_kubernetes_audit_log_and_wazuh() {
    let store = store();
    let carriers: Vec<EventRef<'_>> = all_events(store)
        .filter(|e| has(e, EntityKey::User, USER))
        .collect();
    let loki: Vec<_> = carriers
        .iter()
        .filter(|e| e.source() == SourceKind::Loki)
        .collect();
    let es: Vec<_> = carriers
        .iter()
        .filter(|e| e.source() == SourceKind::K8sAudit)
        .collect();
    assert!(!loki.is_empty(), "no Loki event carries user={USER}");
    assert!(!es.is_empty(), "no audit event carries user={USER}");
    // Wazuh on the bastion saw the login and the SSH key added after it (who-data).
    let wazuh: Vec<_> = carriers
        .iter()
        .filter(|e| e.source() == SourceKind::Wazuh)
        .collect();
    assert!(wazuh
        .iter()
        .any(|e| e.title() == "Integrity checksum changed: /home/mallory/.ssh/authorized_keys"));
    assert!(wazuh
        .iter()
        .any(|e| e.message().contains("Accepted password for mallory")));
    // The Loki ones are sshd lines; the audit ones are the API server's records.
    for e in &loki {
        assert!(e.message().contains("sshd"), "{}", e.message());
        assert!(e.message().contains(USER), "{}", e.message());
    }
    assert!(loki
        .iter()
        .any(|e| e.message().contains("Accepted password for mallory")));
    for e in &es {
        assert_eq!(e.kind(), EventKind::Audit, "{}", e.title());
        assert!(
            e.raw().contains("\"apiVersion\":\"audit.k8s.io/v1\""),
            "not an audit record: {}",
            e.raw()
        );
    }
    assert!(es
        .iter()
        .any(|e| e.message().contains("pods/exec") && e.message().contains(POD)));
    // The pivot answers exactly what a scan finds.
    let picked: Vec<u32> = store.select(&query(&["user=mallory"]));
    let scanned: Vec<u32> = (0..store.len() as u32)
        .filter(|&p| has(&store.get(p).unwrap(), EntityKey::User, USER))
        .collect();
    assert_eq!(picked, scanned);
}

#[test]
fn container_links_falco_and_elasticsearch_in_short_and_long_form() {
    let store = store();
    let carriers: Vec<EventRef<'_>> = all_events(store)
        .filter(|e| has(e, EntityKey::Container, CONTAINER_SHORT))
        .collect();
    let falco = carriers
        .iter()
        .filter(|e| e.source() == SourceKind::Falco)
        .count();
    // README: "10 Falco events in container C in total".
    assert_eq!(falco, 10, "Falco events in container {CONTAINER_SHORT}");
    let es: Vec<_> = carriers
        .iter()
        .filter(|e| e.source() == SourceKind::Elasticsearch)
        .collect();
    assert!(!es.is_empty(), "no Elasticsearch event in container C");
    // Elasticsearch carries the full 64-hex id; it was linked through the short form.
    assert!(
        es.iter().any(|e| e.raw().contains(CONTAINER_FULL)),
        "no Elasticsearch record has the full container id"
    );
    assert_eq!(
        sources_of(carriers.iter().copied()),
        [SourceKind::Falco, SourceKind::Elasticsearch]
            .into_iter()
            .collect()
    );
    // Both forms of the id select the same events, and those are the carriers.
    let short = store.select(&query(&[&format!("container={CONTAINER_SHORT}")]));
    let full = store.select(&query(&[&format!("container={CONTAINER_FULL}")]));
    assert_eq!(short, full);
    assert_eq!(short.len(), carriers.len());
}

#[test]
fn image_digest_links_falco_elasticsearch_and_a_prometheus_series() {
    let store = store();
    let carries_digest = |e: &EventRef<'_>| {
        e.entities()
            .any(|(k, v)| k == EntityKey::Image && v.ends_with(DIGEST))
    };
    let sources = sources_of(all_events(store).filter(|e| carries_digest(e)));
    assert!(sources.contains(&SourceKind::Falco), "{sources:?}");
    assert!(sources.contains(&SourceKind::Elasticsearch), "{sources:?}");
    let series: Vec<&Series> = store
        .series()
        .iter()
        .filter(|s| label(s, "image").is_some_and(|i| i.ends_with(DIGEST)))
        .collect();
    assert!(
        !series.is_empty(),
        "no Prometheus series has image {DIGEST}"
    );
    // Those series run in the pods of the new build only.
    for s in &series {
        let pod = label(s, "pod").unwrap_or_default();
        assert!(pod == POD || pod == HEALTHY_POD, "{}", s.display_name());
    }
    // A `container=` pivot with the digest reaches the same series and events.
    let q = query(&[&format!("container={DIGEST}")]);
    let selected = store.select_series(&q);
    assert_eq!(selected.len(), series.len());
    let picked = store.select(&q);
    assert!(!picked.is_empty());
    for &p in &picked {
        let e = store.get(p).unwrap();
        assert!(carries_digest(&e), "{} has no image {DIGEST}", e.title());
    }
    assert_eq!(
        picked.len(),
        all_events(store).filter(|e| carries_digest(e)).count()
    );
}

#[test]
fn compromised_pod_appears_in_all_four_sources() {
    let store = store();
    let sources = sources_of(all_events(store).filter(|e| has(e, EntityKey::Pod, POD)));
    for kind in [
        SourceKind::Falco,
        SourceKind::Loki,
        SourceKind::Elasticsearch,
    ] {
        assert!(sources.contains(&kind), "no {kind} event for pod {POD}");
    }
    let series: Vec<&Series> = store
        .series()
        .iter()
        .filter(|s| s.entities.contains(EntityKey::Pod, POD))
        .collect();
    assert!(
        series.iter().any(|s| s.source == SourceKind::Prometheus),
        "no Prometheus series for pod {POD}"
    );
    // Both the CPU and the egress series exist for it.
    assert!(series.iter().any(|s| s.query.contains("cpu")));
    assert!(series.iter().any(|s| s.query.contains("transmit")));
    assert_eq!(
        store.select_series(&query(&["pod=api-7d9f-x2k4q"])).len(),
        2
    );
}

#[test]
fn commit_links_loki_and_elasticsearch() {
    let store = store();
    let carries_commit = |e: &EventRef<'_>| {
        e.entities()
            .any(|(k, v)| k == EntityKey::Commit && v.starts_with(COMMIT_TAG))
    };
    let loki: Vec<EventRef<'_>> = all_events(store)
        .filter(|e| e.source() == SourceKind::Loki && carries_commit(e))
        .collect();
    let es: Vec<EventRef<'_>> = all_events(store)
        .filter(|e| e.source() == SourceKind::Elasticsearch && carries_commit(e))
        .collect();
    assert!(
        !loki.is_empty(),
        "no Loki event carries commit {COMMIT_TAG}"
    );
    assert!(!es.is_empty(), "no ES event carries commit {COMMIT_TAG}");
    // Loki has the full SHA from the stream label; the CI/CD record in ES names it too.
    assert!(loki.iter().any(|e| has(e, EntityKey::Commit, COMMIT_FULL)));
    assert!(es.iter().any(|e| has(e, EntityKey::Commit, COMMIT_FULL)));
    // The previous build's commit is a different entity.
    assert!(!loki.iter().any(|e| has(
        e,
        EntityKey::Commit,
        "bf25a437878efcb04cc9073b2dcb64504d5b9493"
    )));
}

/// The earliest event matching `pred`; fails naming `what` when there is none.
fn first<'a>(store: &'a Store, what: &str, pred: impl Fn(&EventRef<'a>) -> bool) -> EventRef<'a> {
    all_events(store)
        .filter(|e| pred(e))
        .min_by_key(|e| e.ts())
        .unwrap_or_else(|| panic!("the demo has no event for: {what}"))
}

fn in_c(e: &EventRef<'_>) -> bool {
    e.source() == SourceKind::Falco && has(e, EntityKey::Container, CONTAINER_SHORT)
}

#[test]
fn attack_steps_happen_in_causal_order() {
    let store = store();
    let deploy = first(store, "the deploy of 9f1c2ab with the gate skipped", |e| {
        e.source() == SourceKind::Elasticsearch
            && e.message().contains("Deployed ghcr.io/acme/api:9f1c2ab")
            && e.raw().contains("skipped")
    });
    let failed: Vec<Timestamp> = all_events(store)
        .filter(|e| {
            e.source() == SourceKind::Loki
                && e.message().contains("Failed password")
                && e.message().contains(ATTACKER_IP)
        })
        .map(|e| e.ts())
        .collect();
    assert!(
        failed.len() >= 2_000,
        "only {} failed passwords",
        failed.len()
    );
    let accepted_all: Vec<EventRef<'_>> = all_events(store)
        .filter(|e| {
            e.source() == SourceKind::Loki
                && e.message()
                    .contains(&format!("Accepted password for {USER} from {ATTACKER_IP}"))
        })
        .collect();
    assert_eq!(accepted_all.len(), 1, "one successful password login");
    let accepted = accepted_all[0];
    let list_pods = first(store, "mallory lists pods", |e| {
        e.source() == SourceKind::K8sAudit
            && has(e, EntityKey::User, USER)
            && e.message().contains("list pods")
    });
    let exec = first(store, "mallory execs into the pod", |e| {
        e.source() == SourceKind::K8sAudit
            && has(e, EntityKey::User, USER)
            && e.message().contains("pods/exec")
            && e.message().contains(POD)
    });
    let shell = first(store, "the terminal shell in container C", |e| {
        in_c(e) && e.title() == "Terminal shell in container"
    });
    let shadow = first(store, "/etc/shadow read in container C", |e| {
        in_c(e) && e.message().contains("/etc/shadow")
    });
    let binding = first(store, "the cluster-admin binding", |e| {
        e.source() == SourceKind::K8sAudit
            && has(e, EntityKey::User, USER)
            && e.message().contains("clusterrolebindings")
            && e.title().contains("cluster-admin")
    });
    let download = first(store, "curl downloads the miner", |e| {
        in_c(e)
            && e.process()
                .and_then(|p| p.cmdline())
                .is_some_and(|c| c.contains("curl") && c.contains("xmrig"))
    });
    let miner = first(store, "the miner is executed", |e| {
        in_c(e)
            && e.title() == "Drop and execute new binary in container"
            && e.message().contains("xmrig")
    });
    let c2 = first(store, "the miner connects to its pool", |e| {
        in_c(e) && e.title() == "Outbound Connection to C2 Servers" && has(e, EntityKey::Ip, C2_IP)
    });

    let brute_start = *failed.iter().min().unwrap();
    let before_login = failed.iter().filter(|&&t| t < accepted.ts()).count();
    assert!(
        before_login >= 2_000,
        "only {before_login} failed passwords before the login"
    );
    let chain = [
        ("deploy", deploy.ts()),
        ("brute force starts", brute_start),
        ("accepted login", accepted.ts()),
        ("list pods", list_pods.ts()),
        ("pods/exec", exec.ts()),
        ("shell", shell.ts()),
        ("/etc/shadow", shadow.ts()),
        ("cluster-admin binding", binding.ts()),
        ("download", download.ts()),
        ("miner exec", miner.ts()),
        ("C2 connection", c2.ts()),
    ];
    for w in chain.windows(2) {
        assert!(
            w[0].1 < w[1].1,
            "{} ({}) is not before {} ({})",
            w[0].0,
            w[0].1,
            w[1].0,
            w[1].1
        );
    }
    // The processes form one tree: cat, curl and xmrig are children of the shell.
    let shell_pid = shell.process().and_then(|p| p.pid()).expect("shell pid");
    for (what, e) in [("cat", shadow), ("curl", download), ("xmrig", miner)] {
        let p = e
            .process()
            .unwrap_or_else(|| panic!("{what} has no process"));
        assert_eq!(
            p.ppid(),
            Some(shell_pid),
            "{what} is not a child of the shell"
        );
        assert_eq!(p.name(), Some(what));
    }
    // The C2 connection is made by the miner's own process.
    assert_eq!(
        c2.process().and_then(|p| p.pid()),
        miner.process().and_then(|p| p.pid())
    );
}

/// Mean of the samples in `[from, to)`.
fn mean(s: &Series, from: Timestamp, to: Timestamp) -> f64 {
    let v: Vec<f64> = s
        .samples
        .iter()
        .filter(|(t, _)| *t >= from && *t < to)
        .map(|(_, v)| *v)
        .collect();
    assert!(
        !v.is_empty(),
        "{} has no samples in [{from}, {to})",
        s.display_name()
    );
    v.iter().sum::<f64>() / v.len() as f64
}

fn cpu_series<'a>(store: &'a Store, pod: &str) -> &'a Series {
    let found: Vec<&Series> = store
        .series()
        .iter()
        .filter(|s| s.query.contains("container_cpu_usage_seconds_total"))
        .filter(|s| label(s, "pod") == Some(pod))
        .collect();
    assert_eq!(found.len(), 1, "CPU series of {pod}");
    found[0]
}

#[test]
fn cpu_of_the_compromised_pod_rises_after_the_miner_starts() {
    let store = store();
    let miner = first(store, "the miner is executed", |e| {
        in_c(e) && e.title() == "Drop and execute new binary in container"
    })
    .ts();
    let settled = Timestamp(miner.0 + 5 * 60 * 1_000_000_000); // a 5m rate needs 5m to catch up
    let end = Timestamp::MAX;

    let cpu = cpu_series(store, POD);
    let before = mean(cpu, Timestamp::MIN, miner);
    let after = mean(cpu, settled, end);
    assert!(
        after > 4.0 * before,
        "CPU of {POD}: {before:.3} cores before the miner, {after:.3} after"
    );
    // README: "from about 0.2 to about 1.9 cores".
    assert!((0.1..0.4).contains(&before), "before = {before}");
    assert!((1.5..2.5).contains(&after), "after = {after}");

    // The twin pod with the same image stays healthy, so the rise is the miner, not the build.
    let healthy = cpu_series(store, HEALTHY_POD);
    let h_before = mean(healthy, Timestamp::MIN, miner);
    let h_after = mean(healthy, settled, end);
    assert!(
        h_after < 1.5 * h_before,
        "{HEALTHY_POD}: {h_before:.3} → {h_after:.3}"
    );
}

#[test]
fn every_sshd_line_naming_mallory_or_the_attacker_ip_carries_them_as_entities() {
    let store = store();
    let mut missing_user = Vec::new();
    let mut missing_ip = Vec::new();
    for e in all_events(store).filter(|e| e.source() == SourceKind::Loki) {
        let m = e.message();
        if !m.contains(" sshd[") {
            continue;
        }
        // In the sshd data, mallory is only ever named as the user of a login attempt.
        if m.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == USER)
            && !has(&e, EntityKey::User, USER)
        {
            missing_user.push(m.to_string());
        }
        if m.contains(ATTACKER_IP) && !has(&e, EntityKey::Ip, ATTACKER_IP) {
            missing_ip.push(m.to_string());
        }
    }
    assert!(
        missing_user.is_empty() && missing_ip.is_empty(),
        "{} sshd lines name {USER} without a user entity, e.g. {:?}; {} name {ATTACKER_IP} without an ip entity, e.g. {:?}",
        missing_user.len(),
        missing_user.iter().take(3).collect::<Vec<_>>(),
        missing_ip.len(),
        missing_ip.iter().take(3).collect::<Vec<_>>()
    );
}
