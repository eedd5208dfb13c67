use super::output::{event_json_line, metric_json_line, metric_title, table_row};
use crate::cli::{OutputFormat, QueryArgs};
use crate::load::Loaded;
use crate::model::Timestamp;
use crate::store::Query;
use crate::store::SearchJob;
use std::io::{BufWriter, Write};

/// Runs `casefile query`. Records go to stdout; diagnostics to stderr. Returns the exit code.
/// Runs `casefile query` on loaded sources with an already checked query. Returns whether a
/// source failed (its message is already on stderr), for the exit status.
pub fn run(args: &QueryArgs, query: &Query, loaded: &Loaded) -> Result<bool, String> {
    for report in &loaded.reports {
        for line in report.diagnostics() {
            eprintln!("{line}");
        }
    }
    let query = query.clone();
    let store = &loaded.store;
    let mut positions = store.select(&query);
    if let Some(text) = args.filters.search.as_deref().filter(|t| !t.is_empty()) {
        positions = SearchJob::new(text, positions).run_to_end(store);
    }
    // Metric samples in the window, unless a search (over titles and messages) is given.
    let mut samples = Vec::new();
    if args.filters.search.is_none() {
        for series in store.select_series(&query) {
            for &(ts, v) in &series.samples {
                if query.window.contains(ts) {
                    samples.push((ts, series, v));
                }
            }
        }
        samples.sort_by_key(|(ts, _, _)| *ts);
    }

    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let fold_rules = if args.fold {
        Some(std::sync::Arc::new(crate::fold::FoldRules::load(
            crate::cli::config_dir().as_deref(),
        )?))
    } else {
        None
    };
    let written = if let Some(rules) = fold_rules {
        if args.count {
            let mut series: Vec<*const crate::model::Series> =
                samples.iter().map(|(_, s, _)| *s as *const _).collect();
            series.sort_unstable();
            series.dedup();
            let series = series.len();
            let n = super::fold_output::count(store, rules, &positions, series);
            writeln!(out, "{n}")
        } else {
            super::fold_output::write(&mut out, args.format, loaded, rules, &positions, &samples)
        }
    } else if args.count {
        writeln!(out, "{}", positions.len() + samples.len())
    } else {
        write_records(&mut out, args.format, loaded, &positions, &samples)
    };
    let failed = loaded.reports.iter().any(|r| r.error.is_some());
    match written.and_then(|_| out.flush()) {
        Ok(()) => Ok(failed),
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(failed),
        Err(e) => Err(format!("cannot write to stdout: {e}")),
    }
}

fn write_records(
    out: &mut impl Write,
    format: OutputFormat,
    loaded: &Loaded,
    positions: &[u32],
    samples: &[(Timestamp, &crate::model::Series, f64)],
) -> std::io::Result<()> {
    let store = &loaded.store;
    // Merge events and samples by time; events first on ties.
    let mut s = 0;
    for &pos in positions {
        let Some(e) = store.get(pos) else { continue };
        while s < samples.len() && samples[s].0 < e.ts() {
            write_sample(out, format, &samples[s])?;
            s += 1;
        }
        match format {
            OutputFormat::Jsonl => writeln!(out, "{}", event_json_line(&e))?,
            OutputFormat::Table => writeln!(
                out,
                "{}",
                table_row(
                    e.ts(),
                    e.source_name(),
                    e.severity().as_str(),
                    e.title(),
                    120
                )
            )?,
        }
    }
    for sample in &samples[s..] {
        write_sample(out, format, sample)?;
    }
    Ok(())
}

fn write_sample(
    out: &mut impl Write,
    format: OutputFormat,
    (ts, series, v): &(Timestamp, &crate::model::Series, f64),
) -> std::io::Result<()> {
    match format {
        OutputFormat::Jsonl => writeln!(out, "{}", metric_json_line(series, *ts, *v)),
        OutputFormat::Table => writeln!(
            out,
            "{}",
            table_row(
                *ts,
                &series.source_name,
                "metric",
                &metric_title(&series.display_name(), *v, 120),
                120
            )
        ),
    }
}
