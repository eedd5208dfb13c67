//! `cargo bench`: the load and the questions a responder asks, on generated Falco events
//! (`examples/support/falco_gen.rs`, the same data `scripts/bench-vs-peers` uses).
//!
//! - parse: records into packed batches on one thread;
//! - ingest: packed batches into the store;
//! - load: a file's lines through every stage, on every core;
//! - pivot and window: questions on 100,000 stored events;
//! - search: the fuzzy search over their titles and messages;
//! - render: one frame of the TUI at 200x50 after a step down the timeline.

use casefile::app::App;
use casefile::correlate::categories::Classifier;
use casefile::load::Loaded;
use casefile::model::{TimeRange, Timestamp};
use casefile::sources::falco::pack_record;
use casefile::sources::falco_chunks::{self, ReadAs};
use casefile::sources::EntityTable;
use casefile::store::{PackedBatch, Query, SearchJob, Store};
use casefile::ui::keymap::Keymap;
use casefile::ui::theme::Theme;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::hint::black_box;

#[path = "../examples/support/falco_gen.rs"]
mod falco_gen;

const STORED: u64 = 100_000;

fn text(n: u64) -> String {
    let mut s = String::new();
    for line in falco_gen::lines(n) {
        s.push_str(&line);
        s.push('\n');
    }
    s
}

fn pack(text: &str, table: &EntityTable, classifier: &Classifier) -> PackedBatch {
    let mut batch = PackedBatch::new("falco", None);
    for line in text.lines() {
        if pack_record(line, None, table, &mut batch).is_ok() {
            batch.classify_last(|e| classifier.categories(e));
        }
    }
    batch
}

fn load(text: &str) -> Loaded {
    let mut loaded = Loaded::default();
    let rules = loaded.rules.clone();
    let how = ReadAs {
        source_name: "falco",
        table: &EntityTable::falco(),
        classifier: &rules.categories,
        raw_file: None,
        keep: None,
    };
    falco_chunks::read_chunked(text.as_bytes(), &how, falco_chunks::workers(), |b| {
        loaded.ingest_packed(&b);
    });
    loaded
}

fn parse_and_ingest(c: &mut Criterion) {
    let table = EntityTable::falco();
    let classifier = Classifier::default();
    let small = text(10_000);
    let mut group = c.benchmark_group("load");
    group.throughput(Throughput::Bytes(small.len() as u64));
    group.sample_size(20);
    group.bench_function("parse 10k records (one thread)", |b| {
        b.iter(|| pack(black_box(&small), &table, &classifier))
    });
    group.bench_function("ingest 10k packed records", |b| {
        b.iter_batched(
            || pack(&small, &table, &classifier),
            |batch| {
                let mut store = Store::new();
                store.ingest_packed(&batch, |_| Vec::new());
                store
            },
            BatchSize::LargeInput,
        )
    });
    let big = text(STORED);
    group.throughput(Throughput::Bytes(big.len() as u64));
    group.sample_size(10);
    group.bench_function("load 100k records (every core)", |b| {
        b.iter(|| load(black_box(&big)))
    });
    group.finish();
}

fn questions(c: &mut Criterion) {
    let loaded = load(&text(STORED));
    let store = &loaded.store;
    let span = store.time_span().unwrap_or(TimeRange::ALL);
    let mid = Timestamp(span.start.0 / 2 + span.end.0 / 2);
    let hour = TimeRange::new(mid, Timestamp(mid.0 + 3_600 * 1_000_000_000));
    let query = |pivots: &[&str], window: TimeRange| Query {
        pivots: pivots.iter().map(|p| p.parse().expect("pivot")).collect(),
        window,
    };
    let mut group = c.benchmark_group("pivot (100k events)");
    for pivots in [
        &["user=needle"][..],
        &["container=c0ffee000001"],
        &["commit=9f1c2ab"],
        &["user=root"],
        &["user=root", "namespace=prod"],
        &["user!=root"],
    ] {
        let q = query(pivots, TimeRange::ALL);
        group.bench_function(pivots.join(" & "), |b| {
            b.iter(|| store.select(black_box(&q)))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("window (100k events)");
    let q = query(&[], hour);
    group.bench_function("one hour", |b| b.iter(|| store.select(black_box(&q))));
    let q = query(&["user=root"], hour);
    group.bench_function("one hour & user=root", |b| {
        b.iter(|| store.select(black_box(&q)))
    });
    group.finish();
    let mut group = c.benchmark_group("search (100k events)");
    group.sample_size(10);
    let all: Vec<u32> = (0..store.len() as u32).collect();
    for text in ["needle", "shadow"] {
        group.bench_function(text, |b| {
            b.iter(|| SearchJob::new(text, all.clone()).run_to_end(store))
        });
    }
    group.finish();
}

fn render(c: &mut Criterion) {
    let keymap = Keymap::load_strict("default", None, 0).expect("default keymap");
    let theme = Theme::load_strict("dark", None).expect("dark theme");
    let mut app = App::new(
        load(&text(STORED)),
        keymap,
        theme,
        Query::default(),
        (200, 50),
    );
    while app.busy() {
        app.tick();
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
    let mut screen = casefile::ui::scroll_region::Screen::default();
    let mut group = c.benchmark_group("render (100k events, 200x50)");
    group.bench_function("a step down and its frame", |b| {
        b.iter(|| {
            app.handle_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
            while app.busy() {
                app.tick();
            }
            screen
                .draw(&mut terminal, |f| casefile::ui::draw(f, &app))
                .expect("frame");
        })
    });
    group.finish();
}

criterion_group!(benches, parse_and_ingest, questions, render);
criterion_main!(benches);
