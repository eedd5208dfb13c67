//! Frames drawn with the bytes the terminal needs and no more. When a band of rows moved up or
//! down whole (the timeline scrolling under the cursor), the terminal is told to scroll that
//! band itself (a scrolling region, DECSTBM, with SU or SD: VT100, understood by every terminal
//! and by tmux and screen), and only what is new is written. Otherwise ratatui's diff sees every
//! row of the list change and writes them all again: about 12 KB a step at 200x50, which on a
//! slow SSH link is what makes scrolling lag.
//!
//! The scroll is decided by comparing what is on the screen with the new frame, cell by cell,
//! so it needs no knowledge of the panes: whatever moved whole is scrolled, and ratatui's diff
//! then writes the cells that still differ from the scrolled screen (the pane beside the band,
//! the new row, the cursor's highlight).

use ratatui::backend::{Backend, ClearType};
use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};
use ratatui::{Frame, Terminal};
use std::ops::Range;
use unicode_width::UnicodeWidthStr;

/// The shifts tried: a step or a few (keys repeated within one frame).
const MAX_SHIFT: i32 = 3;
/// The cells at the start of a row that say which row it is (a timeline's time and source).
const START: usize = 24;
/// Cells a scroll must save to be worth its escape sequence (about 15 bytes).
const MIN_SAVING: usize = 64;
/// Spaces to write at the end of a row from which one erase (a move and EL, about 11 bytes)
/// is used instead.
const ERASE_FROM: usize = 12;

/// What the terminal shows, as last drawn.
#[derive(Default)]
pub struct Screen {
    shown: Option<Buffer>,
}

/// A band of rows to scroll: `by` rows up (content moves toward the top) when positive, down
/// when negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scroll {
    pub rows: Range<u16>,
    pub by: i32,
}

impl Screen {
    /// What the terminal shows is no longer known (it was resized, or cleared): the next frame
    /// is drawn without a scroll.
    pub fn forget(&mut self) {
        self.shown = None;
    }

    /// Draws a frame, scrolling a band of the terminal first when that saves bytes, and
    /// clearing the blank ends of rows with one erase each rather than with spaces.
    pub fn draw<B: Backend>(
        &mut self,
        terminal: &mut Terminal<B>,
        render: impl FnOnce(&mut Frame),
    ) -> Result<(), B::Error> {
        terminal.autoresize()?;
        render(&mut terminal.get_frame());
        let area = terminal.current_buffer_mut().area;
        let shown = match self.shown.take().filter(|s| s.area == area) {
            Some(shown) => shown,
            // Nothing known on the screen (the first frame, a resize): cleared, then drawn.
            // (Not `Terminal::clear`: it asks the terminal where its cursor is and waits for
            // the answer, which the key reader would take.)
            None => {
                terminal.backend_mut().clear_region(ClearType::All)?;
                Buffer::empty(area)
            }
        };
        let new = terminal.current_buffer_mut();
        let before = match best_scroll(&shown, new) {
            Some(scroll) => {
                // The terminal moves the band; the frame is then diffed against the screen as
                // it is after the move.
                let amount = scroll.by.unsigned_abs() as u16;
                if scroll.by > 0 {
                    terminal
                        .backend_mut()
                        .scroll_region_up(scroll.rows.clone(), amount)?;
                } else {
                    terminal
                        .backend_mut()
                        .scroll_region_down(scroll.rows.clone(), amount)?;
                }
                shifted(shown, &scroll)
            }
            None => shown,
        };
        // The frame is taken out of ratatui's slot, not copied.
        let new = std::mem::take(terminal.current_buffer_mut());
        let mut updates = before.diff(&new);
        // Rows whose blank end has enough cells to write to be worth one erase instead.
        let mut erase = blank_ends(&new);
        let mut in_end = vec![0usize; erase.len()];
        for (x, y, _) in &updates {
            if erase[*y as usize].is_some_and(|from| *x >= from) {
                in_end[*y as usize] += 1;
            }
        }
        for (y, e) in erase.iter_mut().enumerate() {
            if in_end[y] < ERASE_FROM {
                *e = None;
            }
        }
        updates.retain(|(x, y, _)| erase[*y as usize].is_none_or(|from| *x < from));
        let backend = terminal.backend_mut();
        backend.draw(updates.into_iter())?;
        for (y, from) in erase.iter().enumerate() {
            if let Some(from) = from {
                backend.set_cursor_position((*from, y as u16))?;
                backend.clear_region(ClearType::UntilNewLine)?;
            }
        }
        backend.flush()?;
        // Through the terminal, which then shows the cursor again when it is dropped.
        terminal.hide_cursor()?;
        // The old screen goes into the frame's slot (it has the right size, and `swap_buffers`
        // resets it before it is drawn into again): no buffer is allocated or copied a frame.
        *terminal.current_buffer_mut() = before;
        terminal.swap_buffers();
        self.shown = Some(new);
        Ok(())
    }
}

/// Where each row's blank end starts, when it has one that can be erased (EL): the cells from
/// there on are plain spaces on the default background, and the cell before is not the first
/// half of a wide character.
fn blank_ends(buf: &Buffer) -> Vec<Option<u16>> {
    let width = buf.area.width as usize;
    (0..buf.area.height as usize)
        .map(|y| {
            let row = &buf.content[y * width..(y + 1) * width];
            let blank = row.iter().rev().take_while(|c| is_blank(c)).count();
            let from = width - blank;
            let after_narrow = from == 0 || row[from - 1].symbol().width() <= 1;
            (blank > 0 && after_narrow).then_some(from as u16)
        })
        .collect()
}

fn is_blank(c: &Cell) -> bool {
    c.symbol() == " "
        && c.bg == Color::Reset
        && !c
            .modifier
            .intersects(Modifier::REVERSED | Modifier::UNDERLINED | Modifier::CROSSED_OUT)
}

/// How many cells of row `y` of `new` differ from row `from` of `old` (the non-blank ones when
/// `from` is `None` or off the screen: a row the scroll leaves blank).
fn row_cost(old: &Buffer, new: &Buffer, y: usize, from: Option<i64>) -> usize {
    let width = new.area.width as usize;
    let new_row = &new.content[y * width..(y + 1) * width];
    match from {
        None => new_row.iter().filter(|c| **c != Cell::EMPTY).count(),
        Some(f) if f < 0 || f >= new.area.height as i64 => row_cost(old, new, y, None),
        Some(f) => {
            let f = f as usize;
            let old_row = &old.content[f * width..(f + 1) * width];
            new_row.iter().zip(old_row).filter(|(a, b)| a != b).count()
        }
    }
}

/// The band and shift that leave the fewest cells to write, when one saves enough.
pub fn best_scroll(old: &Buffer, new: &Buffer) -> Option<Scroll> {
    let height = new.area.height as usize;
    if old.area != new.area || height < 3 {
        return None;
    }
    let still: Vec<usize> = (0..height)
        .map(|y| row_cost(old, new, y, Some(y as i64)))
        .collect();
    if still.iter().sum::<usize>() < MIN_SAVING {
        return None;
    }
    let mut best: Option<(usize, Scroll)> = None;
    for by in likely_shifts(old, new) {
        // The band where moving saves the most, each row counted as if its source were in the
        // band (the largest run of gains, Kadane's way) ...
        let gain: Vec<i64> = (0..height)
            .map(|y| {
                let moved = row_cost(old, new, y, Some(y as i64 + by as i64));
                still[y] as i64 - moved as i64
            })
            .collect();
        let Some(rows) = best_run(&gain) else {
            continue;
        };
        // ... then its real cost, with the rows the scroll leaves blank, for that band and for
        // it grown by up to the shift on the side where rows come in.
        let n = by.unsigned_abs() as usize;
        for extra in 0..=n {
            let rows = if by > 0 {
                rows.start..(rows.end + extra).min(height)
            } else {
                rows.start.saturating_sub(extra)..rows.end
            };
            if rows.len() <= n {
                continue;
            }
            let scroll = Scroll {
                rows: rows.start as u16..rows.end as u16,
                by,
            };
            let before: usize = still[rows.clone()].iter().sum();
            let after: usize = rows
                .map(|y| row_cost(old, new, y, source_row(&scroll, y)))
                .sum();
            let saving = before.saturating_sub(after);
            if saving >= MIN_SAVING && best.as_ref().is_none_or(|(s, _)| saving > *s) {
                best = Some((saving, scroll));
            }
        }
    }
    best.map(|(_, s)| s)
}

/// The shifts worth costing, most likely first: those under which some rows' starts (a list's
/// left columns: time, source) line up with the screen's, a few rows at least. Costing every
/// shift cell by cell would take a millisecond a frame.
fn likely_shifts(old: &Buffer, new: &Buffer) -> Vec<i32> {
    let width = new.area.width as usize;
    let height = new.area.height as usize;
    let start = |b: &Buffer, y: usize| -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        for c in &b.content[y * width..y * width + width.min(START)] {
            c.hash(&mut h);
        }
        h.finish()
    };
    let old_starts: Vec<u64> = (0..height).map(|y| start(old, y)).collect();
    let new_starts: Vec<u64> = (0..height).map(|y| start(new, y)).collect();
    let mut shifts: Vec<(usize, i32)> = (-MAX_SHIFT..=MAX_SHIFT)
        .filter(|b| *b != 0)
        .map(|by| {
            let lined_up = (0..height)
                .filter(|&y| {
                    let from = y as i64 + by as i64;
                    (0..height as i64).contains(&from)
                        && new_starts[y] == old_starts[from as usize]
                        && new_starts[y] != old_starts[y]
                })
                .count();
            (lined_up, by)
        })
        .filter(|(n, _)| *n >= 3)
        .collect();
    shifts.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    shifts.into_iter().take(2).map(|(_, by)| by).collect()
}

/// The run of rows with the largest positive sum of gains.
fn best_run(gain: &[i64]) -> Option<Range<usize>> {
    let (mut best, mut best_sum) = (None, 0i64);
    let (mut start, mut sum) = (0, 0i64);
    for (y, g) in gain.iter().enumerate() {
        if sum <= 0 {
            start = y;
            sum = 0;
        }
        sum += g;
        if sum > best_sum {
            best_sum = sum;
            best = Some(start..y + 1);
        }
    }
    best
}

/// Where row `y` of the band comes from after the scroll; `None` for a row left blank.
fn source_row(scroll: &Scroll, y: usize) -> Option<i64> {
    let from = y as i64 + scroll.by as i64;
    let band = scroll.rows.start as i64..scroll.rows.end as i64;
    band.contains(&from).then_some(from)
}

/// The screen as the terminal shows it after scrolling `scroll`: the band's rows moved whole,
/// the rows uncovered blank (the attributes are reset after every frame, so they are cleared to
/// the default background).
pub fn shifted(mut screen: Buffer, scroll: &Scroll) -> Buffer {
    let width = screen.area.width as usize;
    let (top, bottom) = (scroll.rows.start as usize, scroll.rows.end as usize);
    let moved = scroll.by.unsigned_abs() as usize * width;
    let band = &mut screen.content[top * width..bottom * width];
    if scroll.by > 0 {
        band.rotate_left(moved);
        let len = band.len();
        band[len - moved..].fill(Cell::EMPTY);
    } else {
        band.rotate_right(moved);
        band[..moved].fill(Cell::EMPTY);
    }
    screen
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::layout::Rect;
    use ratatui::text::Line;
    use ratatui::widgets::Paragraph;

    /// A list of numbered rows starting at `first`, with a pane beside it showing `detail`.
    fn frame(f: &mut Frame, first: usize, detail: &str) {
        let area = f.area();
        let list = Rect {
            width: area.width - 20,
            ..area
        };
        let pane = Rect {
            x: list.width,
            width: 20,
            ..area
        };
        // Rows unlike one another, as events are: in place, a moved row differs in most cells.
        let words = [
            "execve",
            "connect",
            "open /etc/shadow",
            "sshd: Failed",
            "kubectl exec",
        ];
        let lines: Vec<Line> = (first..first + area.height as usize)
            .map(|i| {
                let h = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                Line::from(format!(
                    "{h:016x} {} pid={}",
                    words[i % words.len()],
                    h % 99_991
                ))
            })
            .collect();
        f.render_widget(Paragraph::new(lines), list);
        f.render_widget(Paragraph::new(format!("│ {detail}")), pane);
    }

    /// Cells handed to the backend by each draw.
    struct Counting {
        inner: TestBackend,
        cells: usize,
    }

    impl Backend for Counting {
        type Error = <TestBackend as Backend>::Error;
        fn draw<'a, I: Iterator<Item = (u16, u16, &'a Cell)>>(
            &mut self,
            content: I,
        ) -> Result<(), Self::Error> {
            let cells: Vec<_> = content.collect();
            self.cells += cells.len();
            self.inner.draw(cells.into_iter())
        }
        fn hide_cursor(&mut self) -> Result<(), Self::Error> {
            self.inner.hide_cursor()
        }
        fn show_cursor(&mut self) -> Result<(), Self::Error> {
            self.inner.show_cursor()
        }
        fn get_cursor_position(&mut self) -> Result<ratatui::layout::Position, Self::Error> {
            self.inner.get_cursor_position()
        }
        fn set_cursor_position<P: Into<ratatui::layout::Position>>(
            &mut self,
            p: P,
        ) -> Result<(), Self::Error> {
            self.inner.set_cursor_position(p)
        }
        fn clear(&mut self) -> Result<(), Self::Error> {
            self.inner.clear()
        }
        fn clear_region(&mut self, kind: ratatui::backend::ClearType) -> Result<(), Self::Error> {
            self.inner.clear_region(kind)
        }
        fn size(&self) -> Result<ratatui::layout::Size, Self::Error> {
            self.inner.size()
        }
        fn window_size(&mut self) -> Result<ratatui::backend::WindowSize, Self::Error> {
            self.inner.window_size()
        }
        fn flush(&mut self) -> Result<(), Self::Error> {
            self.inner.flush()
        }
        fn scroll_region_up(&mut self, r: Range<u16>, n: u16) -> Result<(), Self::Error> {
            self.inner.scroll_region_up(r, n)
        }
        fn scroll_region_down(&mut self, r: Range<u16>, n: u16) -> Result<(), Self::Error> {
            self.inner.scroll_region_down(r, n)
        }
    }

    fn terminal() -> Terminal<Counting> {
        Terminal::new(Counting {
            inner: TestBackend::new(80, 24),
            cells: 0,
        })
        .unwrap()
    }

    /// What a plain ratatui draw of the same frame shows.
    fn expected(first: usize, detail: &str) -> Buffer {
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| frame(f, first, detail)).unwrap();
        t.backend().buffer().clone()
    }

    #[test]
    fn a_list_moving_a_row_is_scrolled_by_the_terminal_and_the_screen_is_exact() {
        let mut t = terminal();
        let mut screen = Screen::default();
        screen.draw(&mut t, |f| frame(f, 0, "event 0")).unwrap();
        let first = t.backend().cells;
        // Down one, down three, up two: each time the screen is what a full draw shows.
        for (step, first_row) in [1usize, 4, 2].into_iter().enumerate() {
            let before = t.backend().cells;
            let detail = format!("event {first_row}");
            screen
                .draw(&mut t, |f| frame(f, first_row, &detail))
                .unwrap();
            assert_eq!(
                *t.backend().inner.buffer(),
                expected(first_row, &detail),
                "step {step}"
            );
            let written = t.backend().cells - before;
            assert!(
                written < first / 4,
                "step {step}: {written} cells written, a full screen is {first}"
            );
        }
    }

    #[test]
    fn a_frame_that_did_not_move_is_not_scrolled() {
        let mut t = terminal();
        let mut screen = Screen::default();
        screen.draw(&mut t, |f| frame(f, 0, "event 0")).unwrap();
        let old = t.backend().inner.buffer().clone();
        let new = expected(0, "event 1");
        assert_eq!(best_scroll(&old, &new), None);
    }

    #[test]
    fn whatever_the_next_frame_the_screen_is_exact() {
        let mut t = terminal();
        let mut screen = Screen::default();
        screen.draw(&mut t, |f| frame(f, 0, "event 0")).unwrap();
        // A frame of nearly blank rows: scrolling rows away may save cells; either way the
        // screen must end up as the frame.
        let sparse = |f: &mut Frame| f.render_widget(Paragraph::new("x\n".repeat(24)), f.area());
        screen.draw(&mut t, sparse).unwrap();
        let mut plain = Terminal::new(TestBackend::new(80, 24)).unwrap();
        plain.draw(sparse).unwrap();
        assert_eq!(t.backend().inner.buffer(), plain.backend().buffer());
        screen.draw(&mut t, |f| frame(f, 7, "event 7")).unwrap();
        assert_eq!(*t.backend().inner.buffer(), expected(7, "event 7"));
    }

    #[test]
    fn the_band_is_the_rows_that_moved() {
        let old = expected(10, "a");
        let new = expected(11, "b");
        assert_eq!(best_scroll(&old, &new), Some(Scroll { rows: 0..24, by: 1 }));
        let new = expected(8, "b");
        assert_eq!(best_scroll(&old, &new).map(|s| s.by), Some(-2));
    }

    #[test]
    fn after_forgetting_the_screen_the_whole_frame_is_drawn() {
        let mut t = terminal();
        let mut screen = Screen::default();
        screen.draw(&mut t, |f| frame(f, 0, "a")).unwrap();
        screen.forget();
        screen.draw(&mut t, |f| frame(f, 1, "b")).unwrap();
        assert_eq!(*t.backend().inner.buffer(), expected(1, "b"));
    }
}
