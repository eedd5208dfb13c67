//! The sliding window of a threshold rule: the times of one group's matching events, kept in
//! order while no alert is open, to tell when more than N of them fall inside `within`.
//! Events may come in any order; each is put in its place.

use super::rules::Threshold;
use crate::model::Timestamp;
use std::collections::VecDeque;

/// Where a threshold was crossed: the first event of the window that crossed it, the newest
/// event held, and how many events were held from that first one on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crossing {
    pub first: Timestamp,
    pub last: Timestamp,
    pub count: u64,
}

/// One group's event times, sorted. Only what can still take part in a crossing is kept:
/// the times from twice the window before the newest on, so a late event up to a window
/// behind still finds its neighbours. While under the threshold, that is at most about twice
/// `more_than` times.
#[derive(Debug, Default, Clone)]
pub struct Window {
    times: VecDeque<Timestamp>,
}

impl Window {
    /// Adds an event's time; returns the crossing when some window of `within` now holds more
    /// than `more_than` events. An event more than twice the window older than the newest
    /// held is too late to count, and is left out.
    pub fn add(&mut self, t: Timestamp, th: Threshold) -> Option<Crossing> {
        let w = th.within_ns.max(1);
        if let Some(&newest) = self.times.back() {
            if t.0 < newest.0.saturating_sub(w.saturating_mul(2)) {
                return None;
            }
        }
        let mut i = self.times.partition_point(|x| *x <= t);
        self.times.insert(i, t);
        let newest = self.times.back().copied().unwrap_or(t);
        let horizon = newest.0.saturating_sub(w.saturating_mul(2));
        while self.times.front().is_some_and(|f| f.0 < horizon) {
            self.times.pop_front();
            i -= 1;
        }
        // Only the windows that end at this event or at one less than `within` after it
        // hold it: a window is (end - within, end].
        let mut lo = 0;
        for j in i..self.times.len() {
            let end = self.times[j];
            if end.0 >= t.0.saturating_add(w) {
                break;
            }
            let start = end.0.saturating_sub(w);
            while lo < j && self.times[lo].0 <= start {
                lo += 1;
            }
            let inside = (j - lo + 1) as u64;
            if inside > th.more_than {
                return Some(Crossing {
                    first: self.times[lo],
                    last: newest,
                    count: (self.times.len() - lo) as u64,
                });
            }
        }
        None
    }

    /// The newest time held.
    pub fn newest(&self) -> Option<Timestamp> {
        self.times.back().copied()
    }

    pub fn clear(&mut self) {
        self.times.clear();
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn th(more_than: u64, secs: i64) -> Threshold {
        Threshold {
            more_than,
            within_ns: secs * S,
        }
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp(1_800_000_000 * S + secs * S)
    }

    #[test]
    fn crosses_only_past_the_threshold_inside_the_window() {
        let mut w = Window::default();
        // A minute apart, no 60s window (its start excluded) holds more than one.
        for s in [0, 60, 120, 170, 180] {
            assert_eq!(w.add(at(s), th(2, 60)), None, "at {s}");
        }
        // 170, 180 and 190 inside (130, 190]: "more than 2 within 60s".
        assert_eq!(
            w.add(at(190), th(2, 60)),
            Some(Crossing {
                first: at(170),
                last: at(190),
                count: 3
            })
        );
    }

    #[test]
    fn a_late_event_is_put_in_its_place() {
        let mut w = Window::default();
        assert_eq!(w.add(at(100), th(2, 60)), None);
        assert_eq!(w.add(at(0), th(2, 60)), None);
        assert_eq!(w.add(at(130), th(2, 60)), None);
        // Arrives last, belongs between 100 and 130: three inside (80, 140].
        assert_eq!(
            w.add(at(90), th(2, 60)),
            Some(Crossing {
                first: at(90),
                last: at(130),
                count: 3
            })
        );
    }

    #[test]
    fn a_late_event_can_complete_a_window_that_ends_after_it() {
        let mut w = Window::default();
        assert_eq!(w.add(at(50), th(2, 100)), None);
        assert_eq!(w.add(at(150), th(2, 100)), None);
        assert_eq!(w.add(at(20), th(2, 100)), None);
        // 30 arrives last: (-50, 50] now holds 20, 30 and 50. The count is every event held
        // from the window's first on.
        let c = w.add(at(30), th(2, 100)).unwrap();
        assert_eq!((c.first, c.last, c.count), (at(20), at(150), 4));
    }

    #[test]
    fn too_late_events_and_old_times_are_dropped() {
        let mut w = Window::default();
        for s in 0..3 {
            w.add(at(s * 50), th(5, 60));
        }
        w.add(at(1_000), th(5, 60));
        // Only what is within twice the window of the newest stays.
        assert_eq!(w.len(), 1);
        assert_eq!(w.add(at(100), th(5, 60)), None);
        assert_eq!(w.len(), 1, "an event far too late is not kept");
        assert_eq!(w.newest(), Some(at(1_000)));
    }
}
