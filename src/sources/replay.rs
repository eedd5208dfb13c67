//! Replay in time: events already held (a case bundle, the demo) played through the live view
//! in their original order and spacing, N times faster, as a source task. The speed is shared
//! with the keys, so it can change while it plays; the replay clock is shared with the
//! status line.

use crate::load::SourceReport;
use crate::model::{Event, Series, SourceKind, Timestamp};
use crate::sources::task::{Cancel, SourceMessage};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the player looks at the clock.
const TICK: Duration = Duration::from_millis(25);
pub const MAX_SPEED: f64 = 100_000.0;

/// A multiple of real time, shared by the player and the keys.
#[derive(Debug, Clone)]
pub struct Speed(Arc<AtomicU64>);

impl Speed {
    pub fn new(x: f64) -> Speed {
        Speed(Arc::new(AtomicU64::new(x.clamp(0.0, MAX_SPEED).to_bits())))
    }
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
    pub fn set(&self, x: f64) {
        self.0
            .store(x.clamp(0.0, MAX_SPEED).to_bits(), Ordering::Relaxed)
    }
}

/// Where the replay is: the original time of what is being played now.
#[derive(Debug, Clone, Default)]
pub struct Clock(Arc<AtomicI64>);

impl Clock {
    pub fn get(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::Relaxed))
    }
    fn set(&self, t: i64) {
        self.0.store(t, Ordering::Relaxed)
    }
}

/// What the keys and the status line hold of a replay that is playing.
#[derive(Debug, Clone)]
pub struct Player {
    pub speed: Speed,
    pub clock: Clock,
}

/// Plays `events` (any order) and `series` as source `source`; returns its report.
pub fn spawn(
    source: usize,
    name: &str,
    mut events: Vec<Event>,
    series: Vec<Series>,
    player: Player,
    cancel: Cancel,
    send: impl Fn(SourceMessage) -> bool + Send + 'static,
) -> SourceReport {
    let mut report = SourceReport::new(name, SourceKind::Falco, "replay");
    let total = events.len() as u64;
    report.progress = Some((0, Some(total)));
    let placeholder = report.clone();
    // Newest first, so the next to play is popped from the end.
    events.sort_by_key(|e| std::cmp::Reverse(e.ts));
    let Player { speed, clock } = player;
    std::thread::spawn(move || {
        let mut virt = events.last().map_or(0, |e| e.ts.0);
        clock.set(virt);
        if !series.is_empty() && !send(SourceMessage::Series { source, series }) {
            return;
        }
        let mut done = 0u64;
        let mut last = Instant::now();
        while !events.is_empty() && !cancel.is_cancelled() {
            std::thread::sleep(TICK);
            let now = Instant::now();
            let advance = now.duration_since(last).as_nanos() as f64 * speed.get();
            last = now;
            virt = virt.saturating_add(advance.min(i64::MAX as f64) as i64);
            let mut batch = Vec::new();
            while events.last().is_some_and(|e| e.ts.0 <= virt) {
                batch.extend(events.pop());
            }
            clock.set(virt);
            if batch.is_empty() {
                continue;
            }
            done += batch.len() as u64;
            let sent = send(SourceMessage::Batch {
                source,
                events: batch,
            }) && send(SourceMessage::Progress {
                source,
                done,
                total: Some(total),
            });
            if !sent {
                return;
            }
        }
        report.events = done as usize;
        report.progress = None;
        report.cancelled = !events.is_empty();
        send(SourceMessage::Finished { source, report });
    });
    placeholder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_arrive_in_order_and_spaced_like_the_original() {
        let loaded = crate::demo::load();
        // Two minutes of the demo: at 600× it takes about 0.2 s.
        let first = loaded.store.get(0).unwrap().ts();
        let events: Vec<Event> = (0..loaded.store.len() as u32)
            .filter_map(|p| loaded.store.get(p))
            .filter(|e| e.ts().0 < first.0 + 120_000_000_000)
            .map(|e| e.to_event())
            .collect();
        let n = events.len();
        let (tx, rx) = std::sync::mpsc::channel();
        let speed = Speed::new(600.0);
        let clock = Clock::default();
        let started = Instant::now();
        spawn(
            0,
            "replay",
            events,
            Vec::new(),
            Player {
                speed: speed.clone(),
                clock: clock.clone(),
            },
            Cancel::default(),
            move |m| tx.send(m).is_ok(),
        );
        let mut got: Vec<(Duration, Timestamp)> = Vec::new();
        for msg in rx {
            match msg {
                SourceMessage::Batch { events, .. } => {
                    for e in events {
                        got.push((started.elapsed(), e.ts));
                    }
                }
                SourceMessage::Finished { report, .. } => {
                    assert_eq!(report.events, n);
                    assert!(!report.cancelled);
                    break;
                }
                _ => {}
            }
        }
        assert_eq!(got.len(), n);
        assert!(got.windows(2).all(|w| w[0].1 <= w[1].1), "in time order");
        // Spaced: what happened a minute in arrives about 0.1 s in, not at once.
        let late = got
            .iter()
            .find(|(_, ts)| ts.0 >= first.0 + 60_000_000_000)
            .unwrap();
        assert!(late.0 >= Duration::from_millis(60), "{:?}", late.0);
        let whole = got.last().unwrap().0;
        assert!(whole < Duration::from_secs(3), "{whole:?}");
        assert!(clock.get().0 >= got.last().unwrap().1 .0);
    }

    #[test]
    fn a_paused_replay_sends_nothing_until_it_goes_on() {
        let loaded = crate::demo::load();
        let events: Vec<Event> = (0..50u32)
            .filter_map(|p| loaded.store.get(p))
            .map(|e| e.to_event())
            .collect();
        let first_ts = events[0].ts;
        let (tx, rx) = std::sync::mpsc::channel();
        let speed = Speed::new(0.0);
        let cancel = Cancel::default();
        spawn(
            0,
            "replay",
            events,
            Vec::new(),
            Player {
                speed: speed.clone(),
                clock: Clock::default(),
            },
            cancel.clone(),
            move |m| tx.send(m).is_ok(),
        );
        // The first event is at the replay's start: it plays at once; nothing after it does.
        std::thread::sleep(Duration::from_millis(200));
        let early: Vec<SourceMessage> = rx.try_iter().collect();
        let played: usize = early
            .iter()
            .map(|m| match m {
                SourceMessage::Batch { events, .. } => {
                    events.iter().filter(|e| e.ts != first_ts).count()
                }
                _ => 0,
            })
            .sum();
        assert_eq!(played, 0);
        speed.set(MAX_SPEED);
        let mut total = 0;
        for msg in rx {
            match msg {
                SourceMessage::Batch { events, .. } => total += events.len(),
                SourceMessage::Finished { .. } => break,
                _ => {}
            }
        }
        let first_batch: usize = early
            .iter()
            .map(|m| match m {
                SourceMessage::Batch { events, .. } => events.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(total + first_batch, 50);
    }
}
