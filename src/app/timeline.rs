/// Which events the timeline shows and which one is selected. Positions are store positions, so
/// they are in time order.
#[derive(Debug, Clone, Default)]
pub struct TimelineState {
    /// The rows shown: the pivot and window result, narrowed by the search when there is one,
    /// with each set of repeated events folded into its first one.
    pub shown: Vec<u32>,
    /// The events the rows stand for, when folding made fewer rows than events.
    events: Option<Vec<u32>>,
    pub selected: usize,
    pub offset: usize,
    /// The event the user chose, kept while the shown list is rebuilt (a search streaming in,
    /// a pivot), so the selection returns to it as soon as it is shown again.
    anchor: Option<u32>,
    /// The selection is on the newest event and stays there as new events arrive (live).
    pub follow: bool,
    /// Counts the changes to the rows or the events they stand for, so what is derived from
    /// them (the histogram) is rebuilt only when they change, not when the selection moves.
    generation: u64,
}

impl TimelineState {
    /// The chosen event's position (see `anchor`).
    pub fn anchor(&self) -> Option<u32> {
        self.anchor.or(self.selected_pos())
    }

    /// Moves the anchor after the store moved events (late events merged in).
    pub fn set_anchor(&mut self, pos: Option<u32>) {
        self.anchor = pos;
    }

    /// Every event the rows stand for (the folded ones too), in time order.
    pub fn events(&self) -> &[u32] {
        self.events.as_deref().unwrap_or(&self.shown)
    }

    /// Sets the events the rows stand for; `None` when every event is a row.
    pub fn set_events(&mut self, events: Option<Vec<u32>>) {
        self.events = events;
        self.generation += 1;
    }

    /// See `generation`.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn selected_pos(&self) -> Option<u32> {
        self.shown.get(self.selected).copied()
    }

    /// Replaces the shown events, keeping the same event selected when it is still shown, else
    /// the one nearest in time.
    pub fn replace(&mut self, shown: Vec<u32>) {
        self.replace_showing(shown, |p| p);
    }

    /// Replaces the shown rows, selecting the row that shows the chosen event (`row_of`: the
    /// first of its folded set). The chosen event stays chosen, so the selection returns to
    /// it when its set is unfolded or it is a row again.
    pub fn replace_showing(&mut self, shown: Vec<u32>, row_of: impl Fn(u32) -> u32) {
        let keep = self.anchor.or(self.selected_pos()).map(row_of);
        self.shown = shown;
        self.generation += 1;
        if self.follow {
            self.bottom();
            return;
        }
        self.selected = match keep {
            Some(pos) => self
                .shown
                .partition_point(|&p| p < pos)
                .min(self.shown.len().saturating_sub(1)),
            None => 0,
        };
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.shown.is_empty() {
            return;
        }
        let last = self.shown.len() - 1;
        self.selected = (self.selected as isize + delta).clamp(0, last as isize) as usize;
        self.anchor = self.selected_pos();
        self.follow = self.selected == last && delta > 0;
    }

    pub fn top(&mut self) {
        self.selected = 0;
        self.anchor = self.selected_pos();
        self.follow = false;
    }

    /// The newest event, and keep following the newest as more arrive.
    pub fn bottom(&mut self) {
        self.selected = self.shown.len().saturating_sub(1);
        self.anchor = self.selected_pos();
        self.follow = true;
    }

    /// Scrolls just enough to keep the selection inside `rows` visible rows.
    pub fn scroll_to_selection(&mut self, rows: usize) {
        let rows = rows.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + rows {
            self.offset = self.selected + 1 - rows;
        }
        let max_offset = self.shown.len().saturating_sub(rows);
        self.offset = self.offset.min(max_offset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_survives_a_narrower_view() {
        let mut t = TimelineState::default();
        t.replace(vec![1, 5, 9, 12, 20]);
        t.selected = 3; // position 12
        t.replace(vec![5, 12, 30]);
        assert_eq!(t.selected_pos(), Some(12));
        t.replace(vec![2, 3, 40]);
        assert_eq!(t.selected_pos(), Some(40), "nearest later event");
        t.replace(vec![]);
        assert_eq!(t.selected_pos(), None);
    }

    #[test]
    fn the_chosen_event_comes_back_when_a_rebuild_passes_through_empty() {
        let mut t = TimelineState::default();
        t.replace(vec![1, 5, 9]);
        t.move_by(1);
        t.replace(vec![]);
        t.replace(vec![1]);
        assert_eq!(t.selected_pos(), Some(1));
        t.replace(vec![1, 5, 9]);
        assert_eq!(t.selected_pos(), Some(5));
    }

    #[test]
    fn a_folded_event_selects_its_row_and_stays_chosen() {
        let mut t = TimelineState::default();
        t.replace(vec![1, 5, 9, 12]);
        t.move_by(2); // 9
                      // 9 folds into the row of 5: the row is selected, 9 is still the chosen event.
        t.replace_showing(vec![1, 5, 12], |p| if p == 9 { 5 } else { p });
        assert_eq!(t.selected_pos(), Some(5));
        assert_eq!(t.anchor(), Some(9));
        // Unfolded again: back on 9.
        t.replace(vec![1, 5, 9, 12]);
        assert_eq!(t.selected_pos(), Some(9));
    }

    #[test]
    fn at_the_bottom_the_selection_follows_new_events() {
        let mut t = TimelineState::default();
        t.replace(vec![1, 2, 3]);
        t.bottom();
        t.replace(vec![1, 2, 3, 4, 5]);
        assert_eq!(t.selected_pos(), Some(5));
        t.move_by(-1);
        t.replace(vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(t.selected_pos(), Some(4), "moving up stops following");
        t.move_by(10);
        t.replace(vec![1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(t.selected_pos(), Some(7), "reaching the end again follows");
    }

    #[test]
    fn scrolling_keeps_the_selection_visible() {
        let mut t = TimelineState::default();
        t.replace((0..100).collect());
        t.move_by(30);
        t.scroll_to_selection(10);
        assert_eq!((t.selected, t.offset), (30, 21));
        t.move_by(-25);
        t.scroll_to_selection(10);
        assert_eq!(t.offset, 5);
        t.move_by(-1000);
        assert_eq!(t.selected, 0);
    }
}
