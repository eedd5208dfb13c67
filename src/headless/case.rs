//! `casefile export` and `casefile verify`, headless.

use crate::bundle::export::{self, Case};
use crate::bundle::format::{PivotHistory, Selection};
use crate::bundle::open;
use crate::bundle::redact::Redactor;
use crate::cli::FilterArgs;
use crate::correlate::chains::{self, Rules};
use crate::load::Loaded;
use crate::store::{Query, SearchJob};
use std::path::Path;

/// Exports what the filters choose from what was loaded; prints a summary line.
pub fn export_bundle(
    loaded: &Loaded,
    query: &Query,
    filters: &FilterArgs,
    rules: &Rules,
    redactor: &Redactor,
    path: &Path,
) -> Result<String, String> {
    let mut positions = loaded.store.select(query);
    if let Some(text) = filters.search.as_deref().filter(|t| !t.is_empty()) {
        positions = SearchJob::new(text, positions).run_to_end(&loaded.store);
    }
    let found = chains::find(&loaded.store, &positions, rules);
    let pivots: Vec<String> = query.pivots.iter().map(|p| p.to_string()).collect();
    let window = query.window;
    let case = Case {
        store: &loaded.store,
        positions: &positions,
        series: loaded.store.select_series(query),
        reports: &loaded.reports,
        selection: Selection {
            pivots: pivots.clone(),
            from: (window.start.0 != i64::MIN).then(|| window.start.to_rfc3339()),
            to: (window.end.0 != i64::MAX).then(|| window.end.to_rfc3339()),
            search: filters.search.clone(),
            all: false,
        },
        history: PivotHistory {
            steps: vec![pivots],
            at: 0,
        },
        marks: Vec::new(),
        chains: &found,
    };
    let written = export::export(&case, path, redactor, &mut |_| true)?;
    Ok(summary(path, written.bytes, &written.manifest))
}

fn summary(path: &Path, bytes: u64, m: &crate::bundle::format::Manifest) -> String {
    let redacted: u64 = m.redacted.values().sum();
    format!(
        "{}: {} events, {} series, {} marks, {} chains, {} secrets redacted, {} bytes",
        crate::sanitize::line(&path.display().to_string()),
        m.counts.events,
        m.counts.series,
        m.counts.marks,
        m.counts.chains,
        redacted,
        bytes
    )
}

/// Checks a bundle: `Ok(summary)` when intact, `Err(what is wrong)` otherwise.
pub fn verify(path: &Path) -> Result<String, String> {
    match open::check(path) {
        Ok(opened) => {
            let sha = std::fs::read(path)
                .map(|b| crate::bundle::format::sha256_hex(&b))
                .unwrap_or_default();
            Ok(format!(
                "intact: {}\n  created {} by {}\n  sha256 {sha}",
                summary(path, opened.bytes, &opened.manifest),
                crate::sanitize::line(&opened.manifest.created_at),
                crate::sanitize::line(&opened.manifest.tool),
            ))
        }
        Err(refusal) => Err(format!(
            "{}: not intact: {refusal}",
            crate::sanitize::line(&path.display().to_string())
        )),
    }
}
