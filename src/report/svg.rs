//! The report's plots as inline SVG: the event histogram coloured by source (the dark theme's
//! colours, as in the TUI), the case metrics as bars, and each metric series as a line. Plain
//! SVG elements only: no script, no link, no external font or image. Text from the bundle is
//! escaped with [`super::html::text`].

use super::html::text;
use crate::model::{Series, SourceKind, Timestamp};
use std::fmt::Write;

pub const BG: &str = "#1a1b26";
pub const FG: &str = "#c0caf5";
pub const MUTED: &str = "#565f89";
pub const DIM: &str = "#414868";
pub const BLUE: &str = "#7aa2f7";
pub const GREEN: &str = "#9ece6a";
pub const YELLOW: &str = "#e0af68";
pub const RED: &str = "#f7768e";
pub const MAGENTA: &str = "#bb9af7";

/// A source's colour in the dark theme (`themes/dark.toml`), as `#rrggbb`.
pub fn source_color(kind: SourceKind) -> String {
    use ratatui::style::Color;
    let theme = crate::ui::theme::Theme::load_strict("dark", None).ok();
    match theme.and_then(|t| t.source(kind).fg) {
        Some(Color::Rgb(r, g, b)) => format!("#{r:02x}{g:02x}{b:02x}"),
        _ => FG.to_string(),
    }
}

/// `x` in `[a, b]` mapped to `[0, width]`.
fn scale(x: i64, a: i64, b: i64, width: f64) -> f64 {
    let span = (b as i128 - a as i128).max(1) as f64;
    ((x as i128 - a as i128) as f64 / span * width).clamp(0.0, width)
}

fn open(out: &mut String, w: u32, h: u32, label: &str) {
    let _ = writeln!(
        out,
        r#"<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12">"#,
        text(label)
    );
    let _ = writeln!(out, r#"<rect width="{w}" height="{h}" fill="{BG}"/>"#);
}

/// A time on an axis: `13:04` (and the date under the first label).
fn axis_label(t: Timestamp) -> String {
    t.clock_minutes()
}

/// A vertical line at a moment of the response, labelled.
pub struct Marker {
    pub at: Timestamp,
    pub label: String,
    pub color: &'static str,
}

/// The events over time in `buckets` columns, stacked by source, with the moments of the
/// response marked where they fall inside the range.
pub fn histogram(
    times: &[(Timestamp, SourceKind)],
    range: (Timestamp, Timestamp),
    buckets: usize,
    markers: &[Marker],
) -> String {
    // A band above the columns for the markers' labels, one row each.
    let band = 14.0 * markers.len() as f64;
    let (w, h) = (1100u32, 214 + band as u32);
    let (left, top, plot_w, plot_h) = (50.0, 38.0 + band, 1030.0, 140.0);
    let n = buckets.max(1);
    let mut counts = vec![[0u32; SourceKind::ALL.len()]; n];
    let (a, b) = (range.0 .0, range.1 .0);
    for (t, s) in times {
        let i = if b > a {
            (((t.0 as i128 - a as i128) * n as i128) / (b as i128 - a as i128 + 1)) as usize
        } else {
            0
        };
        counts[i.min(n - 1)][s.index()] += 1;
    }
    let max = counts
        .iter()
        .map(|c| c.iter().sum::<u32>())
        .max()
        .unwrap_or(0)
        .max(1);
    let colors = SourceKind::ALL.map(source_color);
    let mut out = String::new();
    open(&mut out, w, h, "events over time, by source");
    let _ = writeln!(
        out,
        r#"<text x="{left}" y="16" fill="{FG}" font-weight="bold">events over time, by source</text><text x="{}" y="16" fill="{MUTED}" text-anchor="end">highest column: {max}</text>"#,
        left + plot_w
    );
    let bar_w = plot_w / n as f64;
    for (i, c) in counts.iter().enumerate() {
        let mut y = top + plot_h;
        for kind in SourceKind::ALL {
            let k = c[kind.index()];
            if k == 0 {
                continue;
            }
            // Square root: a quiet source next to a loud one stays visible.
            let total = c.iter().sum::<u32>() as f64;
            let col_h = (total / max as f64).sqrt() * plot_h;
            let part = col_h * k as f64 / total;
            y -= part;
            let _ = writeln!(
                out,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"/>"#,
                left + i as f64 * bar_w,
                y,
                (bar_w - 1.0).max(0.5),
                part,
                colors[kind.index()]
            );
        }
    }
    let _ = writeln!(
        out,
        r#"<line x1="{left}" y1="{0}" x2="{1}" y2="{0}" stroke="{DIM}"/>"#,
        top + plot_h,
        left + plot_w
    );
    for i in 0..=4 {
        let x = left + plot_w * i as f64 / 4.0;
        let t = Timestamp(a + ((b as i128 - a as i128) * i / 4) as i64);
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = writeln!(
            out,
            r#"<text x="{x:.1}" y="{:.1}" fill="{MUTED}" text-anchor="{anchor}">{}</text>"#,
            top + plot_h + 16.0,
            axis_label(t)
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{left}" y="{:.1}" fill="{MUTED}">{} UTC</text>"#,
        top + plot_h + 32.0,
        range.0.date()
    );
    for (i, m) in markers.iter().enumerate() {
        if m.at < range.0 || m.at > range.1 {
            continue;
        }
        let x = left + scale(m.at.0, a, b, plot_w);
        let y = 36.0 + 14.0 * i as f64;
        // The label on the side with room, its line from the label down through the columns.
        let (tx, anchor) = if x > left + plot_w * 0.8 {
            (x - 4.0, "end")
        } else {
            (x + 4.0, "start")
        };
        let _ = writeln!(
            out,
            r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{}" stroke-dasharray="3 3"/><text x="{tx:.1}" y="{y:.1}" fill="{}" font-size="11" text-anchor="{anchor}">{} {}</text>"#,
            y - 10.0,
            top + plot_h,
            m.color,
            m.color,
            text(&m.label),
            m.at.clock_millis()
        );
    }
    // The legend: the sources present.
    let mut x = left + 290.0;
    for kind in SourceKind::ALL {
        if !counts.iter().any(|c| c[kind.index()] > 0) {
            continue;
        }
        let _ = writeln!(
            out,
            r#"<rect x="{x:.1}" y="7" width="10" height="10" fill="{}"/><text x="{:.1}" y="16" fill="{FG}">{}</text>"#,
            colors[kind.index()],
            x + 14.0,
            kind.as_str()
        );
        x += 24.0 + 7.5 * kind.as_str().len() as f64;
    }
    out.push_str("</svg>\n");
    out
}

/// Horizontal bars, one per `(label, value, text)`, scaled to the largest value; a row with
/// no value has no bar and says so in its text.
pub fn bars(title: &str, rows: &[(&str, Option<f64>, String)], color: &str) -> String {
    let row_h = 24.0;
    let (w, h) = (1100u32, (36.0 + row_h * rows.len() as f64) as u32 + 6);
    let (label_w, plot_w) = (170.0, 560.0);
    let max = rows
        .iter()
        .filter_map(|r| r.1)
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut out = String::new();
    open(&mut out, w, h, title);
    let _ = writeln!(
        out,
        r#"<text x="10" y="18" fill="{FG}" font-weight="bold">{}</text>"#,
        text(title)
    );
    for (i, (label, value, shown)) in rows.iter().enumerate() {
        let y = 32.0 + row_h * i as f64;
        let _ = writeln!(
            out,
            r#"<text x="10" y="{:.1}" fill="{FG}">{}</text>"#,
            y + 15.0,
            text(label)
        );
        let bar = value.map_or(0.0, |v| {
            (v.max(0.0) / max * plot_w).max(if v > 0.0 { 2.0 } else { 0.0 })
        });
        if bar > 0.0 {
            let _ = writeln!(
                out,
                r#"<rect x="{label_w}" y="{:.1}" width="{bar:.1}" height="16" fill="{color}"/>"#,
                y + 3.0
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" fill="{}">{}</text>"#,
            label_w + bar + 8.0,
            y + 15.0,
            if value.is_some() { FG } else { MUTED },
            text(shown)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// One metric series as a line over the case's time range; breaks where a value is not
/// finite (Prometheus's NaN and ±Inf).
pub fn series(s: &Series, range: (Timestamp, Timestamp), color: &str) -> String {
    let (w, h) = (540u32, 130u32);
    let (left, top, plot_w, plot_h) = (8.0, 34.0, 524.0, 70.0);
    let finite = s.samples.iter().map(|(_, v)| *v).filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let mut out = String::new();
    let name = s.display_name();
    open(&mut out, w, h, &name);
    // The labels that say whose series it is first; the whole name in the tooltip.
    let mut title: Vec<String> = [
        "pod",
        "container",
        "namespace",
        "instance",
        "job",
        "host",
        "node",
    ]
    .iter()
    .filter_map(|k| Some(format!("{k}={}", s.labels.get(*k)?)))
    .collect();
    if let Some(metric) = s.labels.get("__name__") {
        title.insert(0, metric.clone());
    }
    let title = if title.is_empty() {
        name.clone()
    } else {
        title.join(" · ")
    };
    let _ = writeln!(
        out,
        r#"<title>{}</title><text x="{left}" y="14" fill="{FG}">{}</text><text x="{left}" y="28" fill="{MUTED}" font-size="11">{}</text>"#,
        text(&name),
        text(&cut(&title, 70)),
        text(&cut(&format!("{} · {}", s.source_name, s.query), 80))
    );
    let _ = writeln!(
        out,
        r#"<line x1="{left}" y1="{0}" x2="{1}" y2="{0}" stroke="{DIM}"/>"#,
        top + plot_h,
        left + plot_w
    );
    if lo.is_finite() {
        let span = if hi > lo { hi - lo } else { 1.0 };
        let (a, b) = (range.0 .0, range.1 .0);
        let mut run: Vec<String> = Vec::new();
        let mut runs: Vec<Vec<String>> = Vec::new();
        for (t, v) in &s.samples {
            if !v.is_finite() || *t < range.0 || *t > range.1 {
                if !run.is_empty() {
                    runs.push(std::mem::take(&mut run));
                }
                continue;
            }
            let x = left + scale(t.0, a, b, plot_w);
            let y = top + plot_h - (v - lo) / span * plot_h;
            run.push(format!("{x:.1},{y:.1}"));
        }
        if !run.is_empty() {
            runs.push(run);
        }
        for r in runs {
            let _ = writeln!(
                out,
                r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="1.5"/>"#,
                r.join(" ")
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{left}" y="{:.1}" fill="{MUTED}" font-size="11">min {} · max {} · {} samples</text>"#,
            top + plot_h + 16.0,
            number(lo),
            number(hi),
            s.samples.len()
        );
    } else {
        let _ = writeln!(
            out,
            r#"<text x="{left}" y="{:.1}" fill="{MUTED}">no finite value</text>"#,
            top + plot_h / 2.0
        );
    }
    out.push_str("</svg>\n");
    out
}

/// A value for a label: 4 significant digits.
fn number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 9) as usize;
    format!("{v:.digits$}")
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}
