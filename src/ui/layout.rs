//! Where each part of the screen goes. The same functions serve drawing and the key handling
//! that needs to know a page's height.

use ratatui::layout::Rect;

/// At this width and above, the timeline and the detail sit side by side; below, they are tabs.
pub const WIDE: u16 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub pivot_bar: Rect,
    pub histogram: Rect,
    /// The tab line at narrow widths.
    pub tabs: Option<Rect>,
    pub timeline: Option<Rect>,
    pub detail: Option<Rect>,
    pub metrics: Rect,
    pub status: Rect,
}

pub fn is_wide(size: (u16, u16)) -> bool {
    size.0 >= WIDE
}

fn histogram_height(h: u16) -> u16 {
    if h >= 30 {
        3
    } else {
        1
    }
}

/// Rows of metric strips that fit: up to three on a tall screen, one on a short one.
pub fn metric_rows(h: u16, series: usize) -> u16 {
    let max = if h >= 30 { 3 } else { 1 };
    (series as u16).min(max)
}

/// Splits the screen. `detail_focused` picks the tab at narrow widths.
pub fn areas(size: (u16, u16), series: usize, detail_focused: bool) -> Areas {
    let (w, h) = size;
    let line = |y: u16, height: u16| Rect::new(0, y.min(h), w, height.min(h.saturating_sub(y)));
    let hist_h = histogram_height(h);
    let metrics_h = metric_rows(h, series);
    let pivot_bar = line(0, 1);
    let histogram = line(1, hist_h);
    let status = line(h.saturating_sub(1), 1);
    let metrics = line(h.saturating_sub(1 + metrics_h), metrics_h);
    let main_top = 1 + hist_h;
    let main_h = h.saturating_sub(main_top + 1 + metrics_h);
    if is_wide(size) {
        let left = w / 2;
        Areas {
            pivot_bar,
            histogram,
            tabs: None,
            timeline: Some(Rect::new(0, main_top, left, main_h)),
            detail: Some(Rect::new(left, main_top, w - left, main_h)),
            metrics,
            status,
        }
    } else {
        let tabs = line(main_top, 1);
        let pane = Rect::new(0, main_top + 1, w, main_h.saturating_sub(1));
        Areas {
            pivot_bar,
            histogram,
            tabs: Some(tabs),
            timeline: (!detail_focused).then_some(pane),
            detail: detail_focused.then_some(pane),
            metrics,
            status,
        }
    }
}

/// Visible event rows in the timeline (its first row is the column header).
pub fn timeline_rows(size: (u16, u16)) -> usize {
    let a = areas(size, 3, false);
    a.timeline
        .map_or(0, |r| r.height.saturating_sub(1) as usize)
}

/// Columns of the shared time axis (histogram and metric strips).
pub fn axis_width(size: (u16, u16)) -> usize {
    size.0.saturating_sub(metric_label_width(size) as u16) as usize
}

/// The metric strips' label column, which the histogram leaves blank so both share one axis.
pub fn metric_label_width(size: (u16, u16)) -> usize {
    if is_wide(size) {
        34
    } else {
        22
    }
}
