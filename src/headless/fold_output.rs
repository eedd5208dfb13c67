//! `casefile query --fold`: one record per set of repeated events (and per metric series),
//! with the count, the first and last time, a sparkline and the values that vary.

use super::output::{event_json_line, json_line_with, metric_json_line, table_row};
use crate::app::chains::DEFAULT_AUTO_LIMIT;
use crate::cli::OutputFormat;
use crate::correlate::chains::{self, Rules};
use crate::fold::{FoldBasis, FoldKeys, FoldRules, Folded, Summary, SPARK_CELLS};
use crate::load::Loaded;
use crate::model::{Series, Timestamp};
use crate::store::Store;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::sync::Arc;

/// What `"fold"` says in a JSON line.
#[derive(Serialize)]
struct FoldField<'a> {
    count: usize,
    first: String,
    last: String,
    /// `signal`, `rule`, `template` or `series`.
    by: &'static str,
    /// The signal's name, the rule, the message template or the series.
    basis: &'a str,
    sparkline: [u32; SPARK_CELLS],
    varying: BTreeMap<&'static str, VaryingField<'a>>,
}

#[derive(Serialize)]
struct VaryingField<'a> {
    distinct: usize,
    /// The first values seen (up to 20).
    values: &'a [String],
}

/// One metric series' samples in the window.
struct SeriesRow<'a> {
    series: &'a Series,
    samples: Vec<(Timestamp, f64)>,
}

/// The folded records, merged by time: how many.
pub fn count(store: &Store, rules: Arc<FoldRules>, positions: &[u32], series: usize) -> usize {
    fold(store, rules, positions).0.rows.len() + series
}

/// Folds the events; the steps of the attack chains found among them stay rows of their own.
/// As in the TUI, chains are searched on their own up to [`DEFAULT_AUTO_LIMIT`] events (the
/// search takes longer than the rest); above, stderr says so.
fn fold(store: &Store, rules: Arc<FoldRules>, positions: &[u32]) -> (Folded, FoldKeys) {
    let steps: HashSet<u32> = if positions.len() <= DEFAULT_AUTO_LIMIT {
        Rules::user_or_default()
            .map(|rules| chains::find(store, positions, &rules))
            .unwrap_or_default()
            .iter()
            .flat_map(|c| c.steps.iter().map(|s| s.pos))
            .collect()
    } else {
        eprintln!(
            "casefile: more than {} events: attack chains were not searched, so their steps \
             may be folded (`casefile chains` finds them)",
            crate::ui::text::thousands(DEFAULT_AUTO_LIMIT)
        );
        HashSet::new()
    };
    let mut keys = FoldKeys::new(rules);
    keys.step(store, usize::MAX);
    let key = |p| (!steps.contains(&p)).then(|| keys.get(store, p)).flatten();
    let folded = Folded::build(positions, key, &HashSet::new());
    (folded, keys)
}

/// Writes the folded records.
pub fn write(
    out: &mut impl Write,
    format: OutputFormat,
    loaded: &Loaded,
    rules: Arc<FoldRules>,
    positions: &[u32],
    samples: &[(Timestamp, &Series, f64)],
) -> std::io::Result<()> {
    let store = &loaded.store;
    let (folded, keys) = fold(store, rules, positions);
    let mut series: Vec<SeriesRow> = Vec::new();
    for &(ts, s, v) in samples {
        match series.iter_mut().find(|r| std::ptr::eq(r.series, s)) {
            Some(r) => r.samples.push((ts, v)),
            None => series.push(SeriesRow {
                series: s,
                samples: vec![(ts, v)],
            }),
        }
    }
    series.sort_by_key(|r| r.samples[0].0);
    let mut next_series = series.iter().peekable();
    for &pos in &folded.rows {
        let Some(e) = store.get(pos) else { continue };
        while let Some(r) = next_series.next_if(|r| r.samples[0].0 < e.ts()) {
            write_series(out, format, r)?;
        }
        let members = match folded.folded_at(pos) {
            Some(g) => g.members.as_slice(),
            None => std::slice::from_ref(&pos),
        };
        let Some(summary) = Summary::of_members(store, members) else {
            continue;
        };
        let basis = keys.rules().basis(&e);
        match format {
            OutputFormat::Jsonl => {
                let (by, name) = match &basis {
                    FoldBasis::Signal(n) => ("signal", n.as_str()),
                    FoldBasis::Rule(r) => ("rule", r.as_str()),
                    FoldBasis::Template(t) => ("template", t.as_str()),
                };
                let field = fold_field(&summary, by, name);
                writeln!(
                    out,
                    "{}",
                    json_line_with(event_json_line(&e), "fold", &field)
                )?;
            }
            OutputFormat::Table => {
                let title = match (&basis, summary.count) {
                    (_, 1) => e.title().to_string(),
                    (FoldBasis::Signal(name), _) => name.clone(),
                    _ => e.title().to_string(),
                };
                writeln!(
                    out,
                    "{}",
                    table_row(
                        e.ts(),
                        e.source_name(),
                        summary.severity.as_str(),
                        &folded_title(&summary, &title),
                        120
                    )
                )?;
            }
        }
    }
    for r in next_series {
        write_series(out, format, r)?;
    }
    Ok(())
}

/// `×3,817 SSH login failures · user root, admin +12 · until 13:03:55.123`; a single event's
/// title alone.
pub fn folded_title(s: &Summary, title: &str) -> String {
    if s.count == 1 {
        return title.to_string();
    }
    let mut text = format!("×{} {title}", crate::ui::text::thousands(s.count));
    if let Some(v) = s.varying_text(3) {
        text.push_str(" · ");
        text.push_str(&v);
    }
    text.push_str(&format!(" · until {}", until(s.first, s.last)));
    text
}

/// The last time: on the clock when it is the first time's day, else in full.
fn until(first: Timestamp, last: Timestamp) -> String {
    if first.date() == last.date() {
        last.clock_millis()
    } else {
        last.to_rfc3339()
    }
}

fn fold_field<'a>(s: &'a Summary, by: &'static str, basis: &'a str) -> FoldField<'a> {
    FoldField {
        count: s.count,
        first: s.first.to_rfc3339(),
        last: s.last.to_rfc3339(),
        by,
        basis,
        sparkline: s.spark,
        varying: s
            .varying
            .iter()
            .map(|v| {
                (
                    v.key.as_str(),
                    VaryingField {
                        distinct: v.distinct,
                        values: &v.values,
                    },
                )
            })
            .collect(),
    }
}

fn write_series(out: &mut impl Write, format: OutputFormat, r: &SeriesRow) -> std::io::Result<()> {
    let (first, value) = r.samples[0];
    let last = r.samples[r.samples.len() - 1].0;
    let name = r.series.display_name();
    match format {
        OutputFormat::Jsonl => {
            let mut spark = [0u32; SPARK_CELLS];
            let span = (last.nanos() - first.nanos()).max(1) as i128;
            for (ts, _) in &r.samples {
                let at = (ts.nanos() - first.nanos()) as i128 * SPARK_CELLS as i128 / span;
                spark[(at.max(0) as usize).min(SPARK_CELLS - 1)] += 1;
            }
            let field = FoldField {
                count: r.samples.len(),
                first: first.to_rfc3339(),
                last: last.to_rfc3339(),
                by: "series",
                basis: &name,
                sparkline: spark,
                varying: BTreeMap::new(),
            };
            let line = metric_json_line(r.series, first, value);
            writeln!(out, "{}", json_line_with(line, "fold", &field))
        }
        OutputFormat::Table => {
            let (lo, hi) = r
                .samples
                .iter()
                .map(|(_, v)| *v)
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
            let range = if lo <= hi {
                format!(" = {lo}..{hi}")
            } else {
                String::new()
            };
            let title = format!(
                "×{} {}{range} · until {}",
                crate::ui::text::thousands(r.samples.len()),
                crate::ui::text::fit(&crate::sanitize::line(&name), 80),
                until(first, last)
            );
            writeln!(
                out,
                "{}",
                table_row(first, &r.series.source_name, "metric", &title, 120)
            )
        }
    }
}
