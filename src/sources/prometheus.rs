//! Prometheus `query_range` / `query` responses: matrices and vectors become metric series.

use super::mapping::EntityTable;
use super::{Parsed, SourceError};
use crate::model::{Entities, Series, SourceKind, Timestamp};
use serde_json::Value;
use std::collections::BTreeMap;

/// Parses a `/api/v1/query_range` or `/api/v1/query` response body. A response with
/// `"status":"error"` gives the server's own `error` text.
pub fn parse_response(
    body: &str,
    source_name: &str,
    query: &str,
    table: &EntityTable,
) -> Result<Parsed, SourceError> {
    let value: Value = serde_json::from_str(body).map_err(|e| {
        SourceError::Malformed(format!(
            "Prometheus response is not JSON ({e}): {}",
            crate::sanitize::line(&body.chars().take(200).collect::<String>())
        ))
    })?;
    if value.get("status").and_then(Value::as_str) != Some("success") {
        let kind = value
            .get("errorType")
            .and_then(Value::as_str)
            .unwrap_or("error");
        let msg = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("response without status \"success\"");
        return Err(SourceError::Server(format!("{kind}: {msg}")));
    }
    let data = value
        .get("data")
        .ok_or_else(|| SourceError::Malformed("no `data`".into()))?;
    let mut parsed = Parsed::default();
    match data.get("resultType").and_then(Value::as_str) {
        Some("matrix") | Some("vector") => {
            let results = data.get("result").and_then(Value::as_array);
            for (i, r) in results.into_iter().flatten().enumerate() {
                match series_from_result(r, SourceKind::Prometheus, source_name, query, table) {
                    Ok(s) => parsed.series.push(s),
                    Err(reason) => parsed.skipped.skip(i + 1, reason, &r.to_string()),
                }
            }
        }
        Some("scalar") | Some("string") => {
            // A single unlabelled sample: one series named after the query.
            if let Some(sample) = data.get("result").and_then(sample) {
                parsed.series.push(Series {
                    source: SourceKind::Prometheus,
                    source_name: source_name.to_string(),
                    query: query.to_string(),
                    labels: BTreeMap::new(),
                    entities: Entities::new(),
                    samples: vec![sample],
                });
            }
        }
        other => {
            return Err(SourceError::Malformed(format!(
                "unsupported resultType {}",
                crate::sanitize::line(&format!("{other:?}"))
            )))
        }
    }
    Ok(parsed)
}

/// One `{"metric":{…},"values":[[t,"v"],…]}` (or `"value":[t,"v"]`) result.
pub fn series_from_result(
    result: &Value,
    source: SourceKind,
    source_name: &str,
    query: &str,
    table: &EntityTable,
) -> Result<Series, String> {
    let labels: BTreeMap<String, String> = result
        .get("metric")
        .and_then(Value::as_object)
        .ok_or("result without `metric`")?
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect();
    let mut samples = Vec::new();
    if let Some(values) = result.get("values").and_then(Value::as_array) {
        for v in values {
            samples.push(sample(v).ok_or_else(|| format!("bad sample {v}"))?);
        }
    } else if let Some(v) = result.get("value") {
        samples.push(sample(v).ok_or_else(|| format!("bad sample {v}"))?);
    } else {
        return Err("result without `values` or `value`".into());
    }
    let mut entities = Entities::new();
    table.apply_pairs(
        labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &mut entities,
    );
    Ok(Series {
        source,
        source_name: source_name.to_string(),
        query: query.to_string(),
        labels,
        entities,
        samples,
    })
}

/// `[1795321440, "0.0558"]`: seconds (integer or float) and the value as a string, which may be
/// `NaN`, `+Inf` or `-Inf`.
fn sample(v: &Value) -> Option<(Timestamp, f64)> {
    let pair = v.as_array()?;
    let secs = pair.first()?.as_f64()?;
    let value: f64 = match pair.get(1)? {
        Value::String(s) => s.parse().ok()?,
        Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    Some((Timestamp::from_secs_f64(secs)?, value))
}
