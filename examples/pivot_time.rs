//! Times pivots and windows on a loaded store: `cargo run --release --example pivot_time --
//! FALCO.jsonl` (or no argument for the demo). Prints the median of 20 runs of each query.

use casefile::model::{TimeRange, Timestamp};
use casefile::store::{Query, Store};
use std::time::{Duration, Instant};

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn time(store: &Store, label: &str, q: &Query) {
    let mut runs = Vec::new();
    let mut n = 0;
    for _ in 0..20 {
        let t = Instant::now();
        n = store.select(q).len();
        runs.push(t.elapsed());
    }
    println!("{label:<40} {n:>9} events  median {:?}", median(runs));
}

fn main() {
    let loaded = match std::env::args().nth(1) {
        Some(path) => {
            let mut loaded = casefile::load::Loaded::default();
            let t = Instant::now();
            casefile::load::falco_input(
                &mut loaded,
                &path,
                &casefile::sources::EntityTable::falco(),
                None,
            )
            .expect("read");
            println!("loaded {} events in {:?}", loaded.store.len(), t.elapsed());
            loaded
        }
        None => casefile::demo::load(),
    };
    let store = &loaded.store;
    let parts = store.footprint();
    let total: usize = parts.iter().map(|(_, b)| b).sum();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss: Vec<&str> = status
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .collect();
    println!("process memory: {}", rss.join(", "));
    println!("store footprint: {} MB", total >> 20);
    for (part, bytes) in parts {
        println!("  {part:<36} {:>6} MB", bytes >> 20);
    }
    let span = store.time_span().unwrap_or(TimeRange::ALL);
    let mid = Timestamp(span.start.0 / 2 + span.end.0 / 2);
    let hour = TimeRange::new(mid, Timestamp(mid.0 + 3_600 * 1_000_000_000));
    let q = |pivots: &[&str], window: TimeRange| Query {
        pivots: pivots.iter().map(|p| p.parse().unwrap()).collect(),
        window,
    };
    time(store, "all (no pivot)", &q(&[], TimeRange::ALL));
    time(store, "one hour window", &q(&[], hour));
    for p in [
        "user=needle",
        "user=mallory",
        "container=c0ffee000001",
        "container=5f2c1a9b3d4e",
        "commit=9f1c2ab",
        "user=root",
    ] {
        time(store, p, &q(&[p], TimeRange::ALL));
    }
    time(
        store,
        "user=root & namespace=prod",
        &q(&["user=root", "namespace=prod"], TimeRange::ALL),
    );
    time(store, "user=root, one hour", &q(&["user=root"], hour));
    time(store, "user!=root", &q(&["user!=root"], TimeRange::ALL));
    time_search(store, "needle");
    time_search(store, "shadow");
}

/// The TUI's search: slices of `SEARCH_SLICE` events between keystrokes. Prints the time of the
/// first slice (what a user waits for before results start to show) and of the whole search.
fn time_search(store: &Store, text: &str) {
    let all: Vec<u32> = (0..store.len() as u32).collect();
    let mut job = casefile::store::SearchJob::new(text, all);
    let t = Instant::now();
    let mut done = job.step(store, casefile::app::SEARCH_SLICE);
    let first = t.elapsed();
    let found_first = job.results().len();
    let mut slices = 1;
    let mut worst = first;
    while !done {
        let s = Instant::now();
        done = job.step(store, casefile::app::SEARCH_SLICE);
        worst = worst.max(s.elapsed());
        slices += 1;
    }
    println!(
        "search {text:?}: first slice {first:?} ({found_first} found), {slices} slices (worst {worst:?}), all {:?}, {} found",
        t.elapsed(),
        job.results().len()
    );
}
