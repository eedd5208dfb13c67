use super::*;

fn event(ts_secs: i64, source: SourceKind, entities: &[(EntityKey, &str)], title: &str) -> Event {
    Event {
        ts: Timestamp(ts_secs * 1_000_000_000),
        source,
        source_name: source.as_str().to_string(),
        kind: EventKind::Log,
        severity: Severity::Info,
        title: title.to_string(),
        message: format!("message of {title}"),
        entities: entities.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        process: None,
        tags: vec!["t1".into()],
        raw: format!("{{\"t\":{ts_secs}}}"),
    }
}

/// A deterministic pseudo-random mix of events, to compare the index with a plain scan.
fn mixed_events(n: usize) -> Vec<Event> {
    let users = ["alice", "bob", "mallory"];
    let pods = ["api-1", "api-2", "db-0", "web-9"];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| {
            let r = next();
            let src = SourceKind::ALL[(r % 3) as usize];
            let user = users[((r >> 8) % 3) as usize];
            let pod = pods[((r >> 16) % 4) as usize];
            let ts = ((r >> 24) % 10_000) as i64;
            event(
                ts,
                src,
                &[(EntityKey::User, user), (EntityKey::Pod, pod)],
                &format!("e{i}"),
            )
        })
        .collect()
}

fn brute_force(store: &Store, q: &Query) -> Vec<u32> {
    (0..store.len() as u32)
        .filter(|&p| {
            let e = store.get(p).unwrap();
            q.window.contains(e.ts())
                && q.pivots
                    .iter()
                    .all(|pv| e.entities().any(|(k, v)| pv.accepts(k, v)) != pv.exclude)
        })
        .collect()
}

#[test]
fn index_answers_like_a_full_scan() {
    let mut store = Store::new();
    // Several out-of-order batches force re-sorts; the answers must not change.
    for chunk in mixed_events(3000).chunks(700) {
        store.ingest(chunk.to_vec());
    }
    assert_eq!(store.len(), 3000);
    assert!((1..store.len() as u32)
        .all(|p| store.get(p - 1).unwrap().ts() <= store.get(p).unwrap().ts()));
    let w = TimeRange::new(
        Timestamp(2_000 * 1_000_000_000),
        Timestamp(7_500 * 1_000_000_000),
    );
    let queries = [
        Query {
            pivots: vec!["user=mallory".parse().unwrap()],
            window: TimeRange::ALL,
        },
        Query {
            pivots: vec![
                "user=mallory".parse().unwrap(),
                "pod=api-2".parse().unwrap(),
            ],
            window: w,
        },
        Query {
            pivots: vec![],
            window: w,
        },
        Query {
            pivots: vec!["pod=nope".parse().unwrap()],
            window: TimeRange::ALL,
        },
        Query {
            pivots: vec!["user!=mallory".parse().unwrap()],
            window: w,
        },
        Query {
            pivots: vec!["pod=api-2".parse().unwrap(), "user!=bob".parse().unwrap()],
            window: TimeRange::ALL,
        },
    ];
    for q in &queries {
        let got = store.select(q);
        let want = brute_force(&store, q);
        assert_eq!(got, want, "{q:?}");
    }
    assert!(!store.select(&queries[1]).is_empty());
    assert!(store.select(&queries[3]).is_empty());
}

#[test]
fn container_pivot_matches_short_full_and_digest() {
    let full = "5f2c1a9b3d4e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b";
    let digest = "sha256:ba29e532250e1f4dbd880e46a6595760ee6b732525b265dba1e98b0eb614d28e";
    let image = format!("ghcr.io/acme/api@{digest}");
    let mut store = Store::new();
    store.ingest(vec![
        event(
            1,
            SourceKind::Falco,
            &[(EntityKey::Container, "5f2c1a9b3d4e")],
            "falco",
        ),
        event(
            2,
            SourceKind::Elasticsearch,
            &[(EntityKey::Container, full)],
            "es",
        ),
        event(
            3,
            SourceKind::Prometheus,
            &[(EntityKey::Image, &image)],
            "prom",
        ),
        event(
            4,
            SourceKind::Falco,
            &[(EntityKey::Container, "ee97d9c4186f")],
            "other",
        ),
    ]);
    let count = |p: &str| {
        store
            .select(&Query {
                pivots: vec![p.parse().unwrap()],
                window: TimeRange::ALL,
            })
            .len()
    };
    assert_eq!(count("container=5f2c1a9b3d4e"), 2);
    assert_eq!(count(&format!("container={full}")), 2);
    assert_eq!(count(&format!("container={digest}")), 1);
    assert_eq!(count("image=ghcr.io/acme/api"), 1);
    assert_eq!(count("container=ee97d9c4186f"), 1);
}

#[test]
fn commit_pivot_is_a_prefix_match() {
    let mut store = Store::new();
    store.ingest(vec![
        event(
            1,
            SourceKind::Loki,
            &[(
                EntityKey::Commit,
                "9f1c2ab4e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3",
            )],
            "a",
        ),
        event(
            2,
            SourceKind::Elasticsearch,
            &[(EntityKey::Commit, "9f1c2ab4e8d7")],
            "b",
        ),
        event(
            3,
            SourceKind::Elasticsearch,
            &[(EntityKey::Commit, "1234567abc")],
            "c",
        ),
    ]);
    let q = Query {
        pivots: vec!["commit=9f1c2ab".parse().unwrap()],
        window: TimeRange::ALL,
    };
    assert_eq!(store.select(&q), vec![0, 1]);
}

#[test]
fn events_round_trip_through_the_store() {
    let mut store = Store::new();
    let e = event(
        5,
        SourceKind::Loki,
        &[
            (EntityKey::User, "mallory"),
            (EntityKey::Ip, "203.0.113.45"),
        ],
        "login",
    );
    store.ingest(vec![e.clone()]);
    assert_eq!(store.get(0).unwrap().to_event(), e);
    assert_eq!(store.entity_count(EntityKey::User, "mallory"), 1);
    assert_eq!(
        store.values(EntityKey::Ip).collect::<Vec<_>>(),
        ["203.0.113.45"]
    );
}

#[test]
fn search_runs_in_slices_and_keeps_time_order() {
    let mut store = Store::new();
    store.ingest(mixed_events(500));
    let all: Vec<u32> = (0..500).collect();
    let mut job = SearchJob::new("e4", all.clone());
    let mut steps = 0;
    while !job.step(&store, 50) {
        steps += 1;
    }
    assert!(steps >= 9, "the search must yield between slices");
    let results = job.results().to_vec();
    assert!(results.windows(2).all(|w| w[0] < w[1]));
    assert!(results
        .iter()
        .all(|&p| store.get(p).unwrap().title().contains('e')));
    assert_eq!(results, SearchJob::new("e4", all).run_to_end(&store));
    assert!(results.len() > 1 && results.len() < 500);
}

#[test]
fn a_search_split_across_cores_finds_what_one_thread_finds_in_the_same_order() {
    // Enough events for sealed message blocks and for steps that are split.
    let mut store = Store::new();
    store.ingest(mixed_events(20_000));
    let all: Vec<u32> = (0..20_000).collect();
    for query in ["e4", "message of e19"] {
        let mut one_thread = SearchJob::new(query, all.clone());
        while !one_thread.step(&store, 1_000) {}
        let split = SearchJob::new(query, all.clone()).run_to_end(&store);
        assert_eq!(split, one_thread.results(), "{query}");
        assert!(split.windows(2).all(|w| w[0] < w[1]));
        assert!(
            split.len() > 10 && split.len() < 20_000,
            "{query}: {}",
            split.len()
        );
    }
}

#[test]
fn merging_many_small_unordered_batches_keeps_the_index_exact() {
    let events = mixed_events(1200);
    let mut store = Store::new();
    for chunk in events.chunks(7) {
        store.ingest(chunk.to_vec());
    }
    assert!((1..store.len() as u32)
        .all(|p| store.get(p - 1).unwrap().ts() <= store.get(p).unwrap().ts()));
    let users: Vec<&str> = store.values(EntityKey::User).collect();
    let mut unique = users.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(users.len(), unique.len(), "each value listed once");
    for user in unique {
        let want = events
            .iter()
            .filter(|e| e.entities.contains(EntityKey::User, user))
            .count();
        assert_eq!(store.entity_count(EntityKey::User, user), want, "{user}");
        let q = Query {
            pivots: vec![Pivot::new(EntityKey::User, user)],
            window: TimeRange::ALL,
        };
        assert_eq!(store.select(&q), brute_force(&store, &q));
    }
    // The per-source counts are kept as rows arrive; they agree with a count of the input.
    for kind in SourceKind::ALL {
        let want = events.iter().filter(|e| e.source == kind).count();
        assert_eq!(store.counts_by_source()[kind.index()], want, "{kind:?}");
    }
}

#[test]
fn a_view_no_series_meets_borrows_its_pods_series_when_they_are_few() {
    let mut store = Store::new();
    let mut events = vec![
        event(
            1,
            SourceKind::Falco,
            &[(EntityKey::Container, "c1"), (EntityKey::Pod, "api-1")],
            "a",
        ),
        event(
            2,
            SourceKind::Falco,
            &[(EntityKey::Container, "c2"), (EntityKey::Pod, "api-2")],
            "b",
        ),
    ];
    // root runs in eight pods: too many for its view to be about one place.
    for i in 0..8 {
        let pod = format!("pod-{i}");
        events.push(event(
            10 + i,
            SourceKind::Falco,
            &[(EntityKey::User, "root"), (EntityKey::Pod, pod.as_str())],
            "c",
        ));
    }
    store.ingest(events);
    let series = |pod: &str| Series {
        source: SourceKind::Prometheus,
        source_name: "prom".into(),
        query: "cpu".into(),
        labels: Default::default(),
        entities: [(EntityKey::Pod, pod.to_string())].into_iter().collect(),
        samples: vec![(Timestamp(1), 1.0)],
    };
    store.add_series(["api-1", "api-2", "pod-3"].map(series));
    let view = |pivot: &str| -> Vec<String> {
        let q = Query {
            pivots: vec![pivot.parse().unwrap()],
            window: TimeRange::ALL,
        };
        let shown = store.select(&q);
        let mut pods: Vec<String> = store
            .series_of_view(&q, &shown)
            .iter()
            .flat_map(|s| s.entities.values(EntityKey::Pod).map(str::to_string))
            .collect();
        pods.sort();
        pods
    };
    // A pod pivot meets its series directly.
    assert_eq!(view("pod=api-2"), ["api-2"]);
    // A container pivot: no series has a container, so the container's pod lends its own.
    assert_eq!(view("container=c1"), ["api-1"]);
    // A user in eight pods: no strip rather than eight pods' worth.
    assert!(view("user=root").is_empty());
    // Leaving something out keeps the series that meet it.
    assert_eq!(view("container!=c1"), ["api-1", "api-2", "pod-3"]);
}

#[test]
fn raw_records_with_no_file_come_back_exactly_across_compressed_blocks() {
    // Unordered batches, so positions and arrival numbers differ; enough records to seal
    // many blocks, and one big record that seals a block on its own.
    // The title names each event, so each stored row is checked against its own record.
    let mut events = mixed_events(2000);
    for (i, e) in events.iter_mut().enumerate() {
        e.title = format!("event {i}");
        e.raw = format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 97));
    }
    events[1500].raw = "é".repeat(200_000);
    // Past the 16 MiB a message is cut at: a raw record is kept whole.
    events[1700].raw = "r".repeat(17 << 20);
    let mut store = Store::new();
    for chunk in events.chunks(333).rev() {
        store.ingest(chunk.to_vec());
    }
    assert_eq!(store.len(), events.len());
    for p in 0..store.len() as u32 {
        let e = store.get(p).unwrap();
        let i: usize = e.title().strip_prefix("event ").unwrap().parse().unwrap();
        assert!(
            e.raw() == events[i].raw,
            "row {p} holds another event's record"
        );
    }
}
