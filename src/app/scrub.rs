//! Scrubbing along the histogram: `,` and `.` move the selection to the previous or next
//! column of the histogram that holds shown events, so a responder (or a review replaying a
//! bundle) can step through the incident's time the way the histogram draws it.

use super::App;
use crate::model::Timestamp;
use crate::ui::histogram::column_of;

impl App {
    pub(super) fn scrub(&mut self, forward: bool) {
        let Some(hist) = &self.cache.histogram else {
            return;
        };
        let (range, width) = (hist.range, hist.buckets.len());
        let store = &self.data.store;
        let ts_at = |i: usize| store.get(self.timeline.shown[i]).map(|e| e.ts());
        let Some(now) = self.timeline.selected_pos().and_then(|p| store.get(p)) else {
            return;
        };
        let Some(col) = column_of(now.ts(), range, width) else {
            return;
        };
        let span = (range.end.0 as i128 - range.start.0 as i128).max(1);
        let start_of =
            |c: usize| Timestamp((range.start.0 as i128 + span * c as i128 / width as i128) as i64);
        let shown = &self.timeline.shown;
        // The first shown event at or after a time.
        let first_from =
            |t: Timestamp| shown.partition_point(|p| store.get(*p).is_some_and(|e| e.ts() < t));
        let target = if forward {
            if col + 1 >= width {
                None
            } else {
                Some(first_from(start_of(col + 1))).filter(|i| *i < shown.len())
            }
        } else {
            // The last event before this column, then the first of its own column.
            first_from(start_of(col)).checked_sub(1).and_then(|before| {
                let c = column_of(ts_at(before)?, range, width)?;
                Some(first_from(start_of(c)))
            })
        };
        match target {
            Some(i) => {
                self.timeline.selected = i;
                self.timeline.follow = false;
                self.timeline.set_anchor(Some(self.timeline.shown[i]));
                self.after_change();
            }
            None => {
                self.notice = Some(
                    if forward {
                        "at the last column of the histogram"
                    } else {
                        "at the first column of the histogram"
                    }
                    .into(),
                )
            }
        }
    }
}
