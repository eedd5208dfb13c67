//! `casefile export` and `casefile verify`, headless.

use crate::bundle::export::{self, Case};
use crate::bundle::format::{PivotHistory, Selection};
use crate::bundle::open;
use crate::bundle::redact::Redactor;
use crate::case_metrics::Origin;
use crate::cli::ExportArgs;
use crate::correlate::chains::{self, Rules};
use crate::load::Loaded;
use crate::store::Query;
use std::path::Path;

/// Exports the chosen events (`positions`) from what was loaded, as `args` say; returns a
/// summary line, or `None` when Ctrl-C stopped it (and nothing was written).
pub fn export_bundle(
    loaded: &Loaded,
    query: &Query,
    positions: &[u32],
    args: &ExportArgs,
    rules: &Rules,
    redactor: &Redactor,
) -> Result<Option<String>, String> {
    let (filters, path) = (&args.filters, args.output.as_path());
    let signer = args
        .sign
        .as_deref()
        .map(crate::bundle::sign::read_secret)
        .transpose()?;
    let found = chains::find(&loaded.store, positions, rules);
    let pivots: Vec<String> = query.pivots.iter().map(|p| p.to_string()).collect();
    let case = Case {
        store: &loaded.store,
        positions,
        series: loaded.store.series_of_view(query, positions),
        reports: &loaded.reports,
        selection: Selection::of(query, filters.search.clone()),
        history: PivotHistory {
            steps: vec![pivots],
            at: 0,
        },
        marks: Vec::new(),
        chains: &found,
        // The alert rules over the events loaded, in event time, as `watch` would raise them.
        alerts: crate::case_metrics::alerts::first_raised(
            &loaded.store,
            query,
            crate::alerts::AlertRules::load(crate::cli::config_dir().as_deref())?,
        )
        .into_iter()
        .collect(),
        origin: origin(&args.sources)?,
    };
    let mut progress = super::progress::Progress::start("exporting")?;
    let written = export::export(&case, path, redactor, signer, &mut |done, all| {
        progress.tick(done, all)
    })?;
    Ok(written.map(|w| summary(path, w.bytes, &w.manifest)))
}

/// Where the exported events come from, for the case metrics: the demo, a bundle (its first
/// export is the response's), or the sources, live.
fn origin(sources: &crate::cli::SourceArgs) -> Result<Origin, String> {
    Ok(if sources.demo {
        Origin::Demo
    } else if let Some(path) = &sources.bundle {
        let manifest = open::manifest_of(path).map_err(|r| format!("{}: {r}", path.display()))?;
        Origin::of_bundle(&manifest)
    } else {
        Origin::Live
    })
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

/// Checks a bundle: `Ok(summary)` when intact (and signed by `pubkey`, when one is given),
/// `Err(what is wrong)` otherwise.
pub fn verify(path: &Path, pubkey: Option<&Path>) -> Result<String, String> {
    let wanted = pubkey.map(crate::bundle::sign::read_public).transpose()?;
    let shown = crate::sanitize::line(&path.display().to_string()).to_string();
    match open::verify(path) {
        Ok(opened) => {
            use crate::bundle::sign::key_text;
            let signature = match (&opened.signed_by, &wanted) {
                (Some(by), Some(w)) if by == w => format!("signed by {}", key_text(by)),
                (Some(by), Some(_)) => {
                    return Err(format!(
                    "{shown}: not intact: signature.ed25519: signed by {}, not by the key given",
                    key_text(by)
                ))
                }
                (None, Some(_)) => return Err(format!("{shown}: not intact: it is not signed")),
                (Some(by), None) => format!(
                    "signature holds for key {} (give --pubkey to check whose it is)",
                    key_text(by)
                ),
                (None, None) => "not signed".to_string(),
            };
            let sha = std::fs::read(path)
                .map(|b| crate::bundle::format::sha256_hex(&b))
                .unwrap_or_default();
            Ok(format!(
                "intact: {}\n  created {} by {}\n  {signature}\n  sha256 {sha}",
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
