//! The engine on small stores: windows, de-duplication, re-arming after a quiet period, late
//! events, chains.

use super::*;
use crate::model::{Entities, EntityKey, Event, EventKind, Severity, SourceKind, Timestamp};
use crate::store::{Pivot, Query, Store};

const S: i64 = 1_000_000_000;
const T0: i64 = 1_795_000_000;

fn ev(secs: i64, title: &str, user: &str, severity: Severity) -> Event {
    let mut entities = Entities::new();
    entities.add(EntityKey::User, user);
    entities.add(EntityKey::Host, "bastion-1");
    Event {
        ts: Timestamp((T0 + secs) * S),
        source: SourceKind::Loki,
        source_name: "loki-sshd".into(),
        kind: EventKind::Log,
        severity,
        title: title.into(),
        message: String::new(),
        entities,
        process: None,
        tags: Vec::new(),
        // Distinct raw records: the store keeps each event.
        raw: format!("{secs} {title} {user}"),
    }
}

fn failed(secs: i64, user: &str) -> Event {
    ev(
        secs,
        &format!("sshd: Failed password for {user}"),
        user,
        Severity::Info,
    )
}

const BRUTE: &str = r#"
[[alert]]
name = "brute"
where = { text = "Failed password" }
more_than = 3
within = "60s"
by = ["user"]
"#;

fn engine(rules: &str) -> AlertEngine {
    AlertEngine::new(
        AlertRules::parse("test.toml", rules).unwrap(),
        ChainSet::built_in(),
    )
}

/// Feeds each batch to the store, then the engine; every line, in order.
fn run(engine: &mut AlertEngine, batches: Vec<Vec<Event>>) -> (Store, Vec<AlertUpdate>) {
    let mut store = Store::new();
    let mut out = Vec::new();
    for batch in batches {
        store.ingest(batch);
        out.extend(engine.observe(&store));
    }
    (store, out)
}

fn said(lines: &[AlertUpdate]) -> Vec<(Change, u64)> {
    lines.iter().map(|u| (u.change, u.alert.count)).collect()
}

#[test]
fn a_threshold_raises_once_past_it_and_folds_what_follows() {
    let mut e = engine(BRUTE);
    let batches: Vec<Vec<Event>> = (0..20).map(|i| vec![failed(i, "root")]).collect();
    let (store, lines) = run(&mut e, batches);
    // The 4th event crosses "more than 3"; then an update each time the count doubles.
    assert_eq!(
        said(&lines),
        [
            (Change::Raised, 4),
            (Change::Updated, 8),
            (Change::Updated, 16)
        ]
    );
    let alert = &lines[0].alert;
    assert_eq!(alert.rule, "brute");
    assert_eq!(
        alert.group,
        [("user".to_string(), Some("root".to_string()))]
    );
    assert_eq!(alert.first, Timestamp(T0 * S));
    assert_eq!(alert.last, Timestamp((T0 + 3) * S));
    assert!(alert.id.starts_with(&alert.key) && alert.id.ends_with("-1"));
    // The count not yet told comes out when asked (the watch's end, a pause).
    assert_eq!(said(&e.flush(&store)), [(Change::Updated, 20)]);
    assert!(e.flush(&store).is_empty(), "told once");
    assert_eq!(e.alerts().len(), 1);
    assert_eq!(e.alerts()[0].count, 20);
}

#[test]
fn each_group_counts_alone() {
    let mut e = engine(BRUTE);
    // Interleaved: root and admin each get 4 inside the minute, guest 3.
    let mut batch = Vec::new();
    for i in 0..4 {
        batch.push(failed(i * 10, "root"));
        batch.push(failed(i * 10 + 1, "admin"));
        if i < 3 {
            batch.push(failed(i * 10 + 2, "guest"));
        }
    }
    let (_, lines) = run(&mut e, vec![batch]);
    let users: Vec<&str> = lines
        .iter()
        .map(|u| u.alert.group[0].1.as_deref().unwrap())
        .collect();
    assert_eq!(users, ["root", "admin"]);
    assert_ne!(lines[0].alert.key, lines[1].alert.key);
}

#[test]
fn after_a_quiet_window_a_new_crossing_is_a_new_alert() {
    let mut e = engine(BRUTE);
    let burst = |from: i64| (0..6).map(move |i| failed(from + i, "root"));
    let mut batches: Vec<Vec<Event>> = burst(0).map(|ev| vec![ev]).collect();
    // 60s of quiet (the window) and more: the incident is over.
    batches.extend(burst(200).map(|ev| vec![ev]));
    let (_, lines) = run(&mut e, batches);
    assert_eq!(
        said(&lines),
        [
            (Change::Raised, 4),
            // The first burst's last two events, told when the incident ended.
            (Change::Updated, 6),
            // A new crossing needs more than 3 again.
            (Change::Raised, 4),
        ]
    );
    assert_eq!(lines[0].alert.key, lines[2].alert.key);
    assert!(lines[0].alert.id.ends_with("-1") && lines[2].alert.id.ends_with("-2"));
    assert!(!e.alerts()[0].open && e.alerts()[1].open);
    // Events inside the quiet window stay with the incident.
    let mut e = engine(BRUTE);
    let batches = [0, 1, 2, 3, 50, 100, 150].map(|s| vec![failed(s, "root")]);
    let (_, lines) = run(&mut e, batches.to_vec());
    assert_eq!(said(&lines), [(Change::Raised, 4)]);
    assert_eq!(e.alerts()[0].count, 7);
}

#[test]
fn late_events_are_counted_where_they_belong() {
    // Arrival order 100, 0, 130, 90: the late 90 completes (70, 130].
    let mut e = engine(BRUTE);
    let batches = [100, 0, 130, 90, 110].map(|s| vec![failed(s, "root")]);
    let (_, lines) = run(&mut e, batches.to_vec());
    assert_eq!(said(&lines), [(Change::Raised, 4)]);
    assert_eq!(lines[0].alert.first, Timestamp((T0 + 90) * S));
    assert_eq!(lines[0].alert.last, Timestamp((T0 + 130) * S));
    // A late event joins the open incident (count and first time) and never ends it.
    let mut e = engine(BRUTE);
    let batches = [100, 101, 102, 103, 104, 20, 105].map(|s| vec![failed(s, "root")]);
    let (store, lines) = run(&mut e, batches.to_vec());
    assert_eq!(said(&lines), [(Change::Raised, 4)]);
    let alert = &e.alerts()[0];
    assert_eq!((alert.count, alert.first), (7, Timestamp((T0 + 20) * S)));
    assert!(alert.open);
    assert_eq!(said(&e.flush(&store)), [(Change::Updated, 7)]);
}

#[test]
fn the_lines_do_not_depend_on_how_events_are_batched() {
    let events: Vec<Event> = (0..200)
        .map(|i| {
            failed(
                i * 7 % 1_000 + (i / 50) * 400,
                ["root", "admin"][i as usize % 2],
            )
        })
        .collect();
    let mut sorted = events.clone();
    sorted.sort_by_key(|e| e.ts);
    let mut one = engine(BRUTE);
    let (_, at_once) = run(&mut one, vec![sorted.clone()]);
    let mut many = engine(BRUTE);
    let (_, one_by_one) = run(&mut many, sorted.into_iter().map(|e| vec![e]).collect());
    assert!(!at_once.is_empty());
    assert_eq!(at_once, one_by_one);
}

#[test]
fn without_a_threshold_each_group_raises_once_per_incident() {
    let rules = r#"
[[alert]]
name = "bad"
severity = "error"
by = ["title"]
"#;
    let mut e = engine(rules);
    let batches = vec![
        vec![ev(0, "disk full", "root", Severity::Error)],
        vec![ev(1, "disk full", "root", Severity::Critical)],
        vec![ev(2, "just noise", "root", Severity::Warning)],
        vec![ev(3, "oom", "root", Severity::Critical)],
        vec![ev(4, "disk full", "root", Severity::Error)],
    ];
    let (store, lines) = run(&mut e, batches);
    let raised: Vec<(&str, u64, Severity)> = lines
        .iter()
        .map(|u| (u.alert.title.as_str(), u.alert.count, u.alert.severity))
        .collect();
    // "disk full" once (its second event doubles the count: an update), "oom" once, the
    // warning not at all.
    assert_eq!(
        raised,
        [
            ("disk full", 1, Severity::Error),
            ("disk full", 2, Severity::Critical),
            ("oom", 1, Severity::Critical),
        ]
    );
    assert_eq!(lines[1].change, Change::Updated);
    assert_eq!(said(&e.flush(&store)), [(Change::Updated, 3)]);
}

#[test]
fn quiet_incidents_are_closed_with_their_final_count_as_time_moves_on() {
    let mut e = engine(BRUTE);
    let mut batches: Vec<Vec<Event>> = (0..6).map(|i| vec![failed(i, "root")]).collect();
    // Other users' events move event time on, far past the window and the grace.
    batches.extend((0..30).map(|i| vec![failed(100 + i * 60, &format!("u{i}"))]));
    let (_, lines) = run(&mut e, batches);
    assert_eq!(said(&lines), [(Change::Raised, 4), (Change::Updated, 6)]);
    assert!(!e.alerts()[0].open);
}

#[test]
fn a_long_incident_is_updated_at_most_every_five_minutes() {
    let mut e = engine(BRUTE);
    // 40 minutes at one event every 10 seconds: never quiet, doubling rarely.
    let batches: Vec<Vec<Event>> = (0..240).map(|i| vec![failed(i * 10, "root")]).collect();
    let (_, lines) = run(&mut e, batches);
    assert_eq!(lines[0].change, Change::Raised);
    let updates = lines.len() - 1;
    assert!((4..=10).contains(&updates), "{updates} updates");
    for pair in lines.windows(2) {
        assert!(pair[1].alert.count > pair[0].alert.count);
    }
}

#[test]
fn a_filter_leaves_events_out() {
    let mut e = engine(BRUTE);
    e.set_filter(Some(Query {
        pivots: vec!["user=admin".parse::<Pivot>().unwrap()],
        ..Query::default()
    }));
    let batch: Vec<Event> = (0..10)
        .flat_map(|i| [failed(i, "root"), failed(i, "admin")])
        .collect();
    let (_, lines) = run(&mut e, vec![batch]);
    assert_eq!(said(&lines), [(Change::Raised, 4), (Change::Updated, 8)]);
    assert!(lines
        .iter()
        .all(|u| u.alert.group[0].1.as_deref() == Some("admin")));
}

const CHAINS: &str = r#"
[[chain]]
name = "login then exec"
within = "1h"

[[chain.step]]
name = "login"
where = { text = "Accepted" }
bind = ["user"]

[[chain.step]]
name = "exec"
where = { text = "exec into" }
join = ["user"]
"#;

#[test]
fn a_completed_chain_raises_once() {
    let rules = "[[alert]]\nname = \"chain\"\nchain = \"*\"\nlevel = \"critical\"\n";
    let mut e = AlertEngine::new(
        AlertRules::parse("t", rules).unwrap(),
        ChainSet::parse("chains.toml", CHAINS).unwrap(),
    );
    let batches = vec![
        vec![ev(
            0,
            "Accepted password for mallory",
            "mallory",
            Severity::Info,
        )],
        vec![ev(5, "noise", "mallory", Severity::Info)],
        // The exec completes the chain; it arrives before an older, unrelated login of bob.
        vec![ev(60, "exec into pod", "mallory", Severity::Notice)],
        vec![ev(30, "Accepted password for bob", "bob", Severity::Info)],
        vec![ev(90, "exec into pod", "mallory", Severity::Notice)],
        vec![ev(95, "exec into pod", "alice", Severity::Notice)],
    ];
    let (store, lines) = run(&mut e, batches);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let a = &lines[0].alert;
    assert_eq!(a.chain.as_deref(), Some("login then exec"));
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(a.group, [("user".to_string(), Some("mallory".to_string()))]);
    assert_eq!(
        (a.first, a.last),
        (Timestamp(T0 * S), Timestamp((T0 + 60) * S))
    );
    assert_eq!(a.title, "exec into pod");
    assert!(e.flush(&store).is_empty());
}

#[test]
fn a_chain_step_arriving_late_completes_the_chain() {
    let rules = "[[alert]]\nname = \"chain\"\nchain = \"login then exec\"\n";
    let mut e = AlertEngine::new(
        AlertRules::parse("t", rules).unwrap(),
        ChainSet::parse("chains.toml", CHAINS).unwrap(),
    );
    let batches = vec![
        vec![ev(60, "exec into pod", "mallory", Severity::Notice)],
        vec![ev(
            0,
            "Accepted password for mallory",
            "mallory",
            Severity::Info,
        )],
    ];
    let (_, lines) = run(&mut e, batches);
    assert_eq!(said(&lines), [(Change::Raised, 2)]);
    assert_eq!(lines[0].alert.severity, Severity::Notice);
}

#[test]
fn a_rebuilt_store_is_not_counted_again() {
    let mut e = engine(BRUTE);
    let (store, lines) = run(&mut e, vec![(0..5).map(|i| failed(i, "root")).collect()]);
    assert_eq!(lines.len(), 1);
    let rebuilt = store.without_sources(|_| false);
    e.rebase(&rebuilt);
    assert!(e.observe(&rebuilt).is_empty());
}

#[test]
fn the_demo_raises_what_its_rules_say() {
    let loaded = crate::demo::load();
    let mut e = AlertEngine::new(AlertRules::built_in(), ChainSet::built_in());
    let mut lines = e.observe(&loaded.store);
    lines.extend(e.flush(&loaded.store));
    let raised: Vec<&Alert> = lines
        .iter()
        .filter(|u| u.change == Change::Raised)
        .map(|u| &u.alert)
        .collect();
    // Every key is raised once per incident, every update follows its alert.
    let mut ids: Vec<&str> = raised.iter().map(|a| a.id.as_str()).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n);
    for u in lines.iter().filter(|u| u.change == Change::Updated) {
        assert!(raised.iter().any(|a| a.id == u.alert.id));
    }
    // The chain the chain search finds is raised, once.
    let all = loaded.store.select(&Query::default());
    let chains = crate::correlate::chains::find(
        &loaded.store,
        &all,
        &crate::correlate::chains::Rules::default_rules(),
    );
    let chain_alerts: Vec<&&Alert> = raised.iter().filter(|a| a.chain.is_some()).collect();
    assert_eq!(chain_alerts.len(), chains.len());
    for rule in ["SSH brute force", "Critical event", "Shell in a container"] {
        assert!(raised.iter().any(|a| a.rule == rule), "no {rule} alert");
    }
}
